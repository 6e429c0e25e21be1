/*
 * incoming: the incoming email log as the API shows and acts on it — the
 * list, one mail, Reprocess (the stored mail through intake again, as the
 * next attempt) and Retry (the scanner takes a failed or quarantined mail
 * in again).  Answers are JSON written into a buf (lib/domain/view.c); the
 * outcome and state names are lib/model/mail_states.c's.
 */
#ifndef POSTDESK_INCOMING_H
#define POSTDESK_INCOMING_H

#include <stdint.h>

#include "base/buf.h"
#include "adapt/db.h"
#include "base/err.h"
#include "model/mail_states.h"
#include "domain/paging.h"
#include "store/incoming.h"
#include "store/ticket_view.h"

/* A reprocessed mail's new row. */
struct incoming_again {
	uint64_t              id;
	enum incoming_outcome outcome;
};

int incoming_list(struct db *, const struct incoming_filter *, struct buf *,
    struct err *);
int incoming_show(struct db *, uint64_t id, struct buf *, struct err *);
int incoming_reprocess(struct db *, uint64_t id, struct incoming_again *,
    struct err *);
int incoming_retry(struct db *, uint64_t id, struct err *);

#endif
