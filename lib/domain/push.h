/*
 * push: Graph change notifications for licensed mailboxes (docs/push.md).
 * The scanner keeps each mailbox's subscription (push_visit), the API's
 * /api/graph/notify and /api/graph/lifecycle take Graph's POSTs
 * (push_receive), and a mailbox whose subscription is healthy is polled
 * only every push_poll_interval seconds (push_poll_seconds).
 */
#ifndef POSTDESK_PUSH_H
#define POSTDESK_PUSH_H

#include <stdint.h>

#include "adapt/app.h"
#include "adapt/jsonx.h"
#include "model/mailbox_types.h"
#include "domain/mailbox_graph.h"
#include "store/mailbox_scan.h"

/* Asked for on create and renew: 6 days (Graph allows 10,070 minutes). */
#define PUSH_LIFETIME_S (6L * 24 * 3600)
/* Renewed once it is this old: daily. */
#define PUSH_RENEW_AFTER_S (24L * 3600)
/* A failed create is tried again after this. */
#define PUSH_RETRY_S 600

const char *push_unavailable(const struct config *, const char *shared);
void        push_visit(struct mbx *, const struct scan_target *);
long        push_poll_seconds(struct app *, uint64_t mailbox_id);
void push_disconnect(struct app *, uint64_t mailbox_id, const char *cloud,
    const char *shared);

void push_write(struct jw *, const struct mailbox *, const struct config *);

struct push_tally {
	long accepted;
	long refused;
};

int push_receive(struct app *, json_t *body, int lifecycle, struct push_tally *,
    struct err *);

#endif
