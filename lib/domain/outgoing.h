/*
 * outgoing: the outgoing queue as the API shows and acts on it — the list
 * and Retry of failed mail.  Replies are queued by lib/domain/sending.c
 * (sending_reply()); the scanner sends.  Status names: lib/model/mail_states.c.
 */
#ifndef POSTDESK_OUTGOING_H
#define POSTDESK_OUTGOING_H

#include <stdint.h>

#include "base/buf.h"
#include "adapt/db.h"
#include "base/err.h"
#include "domain/paging.h"
#include "store/outgoing.h"

#define OUTGOING_LIMIT_DEFAULT 50
#define OUTGOING_LIMIT_MAX     200

int outgoing_list(struct db *, const struct outgoing_filter *, struct buf *,
    struct err *);
int outgoing_retry(struct db *, uint64_t id, struct err *);

#endif
