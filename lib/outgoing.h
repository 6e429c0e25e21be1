/*
 * outgoing: the outgoing queue as the API shows and acts on it — the list
 * and Retry of failed mail.  Replies are queued by lib/outbox.c
 * (outbox_reply()); the scanner sends.  Status names: lib/mail_enums.c.
 */
#ifndef POSTDESK_OUTGOING_H
#define POSTDESK_OUTGOING_H

#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "paging.h"
#include "store_outbox.h"

#define OUTGOING_LIMIT_DEFAULT 50
#define OUTGOING_LIMIT_MAX     200

int outgoing_list(struct db *, const struct outbox_filter *, struct buf *,
    struct err *);
int outgoing_retry(struct db *, uint64_t id, struct err *);

#endif
