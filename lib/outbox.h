/*
 * outbox: acknowledgements and agent replies — deciding, queueing, and
 * sending them through the mailbox exactly once, threaded.
 */
#ifndef POSTDESK_OUTBOX_H
#define POSTDESK_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "mbx.h"
#include "msg.h"

/* A mailbox's acknowledgement settings, as intake needs them. */
struct ack_settings {
	int         enabled;
	const char *subject; /* template: {ticket} {subject} */
	const char *body;    /* template, or NULL for the default */
	long        per_hour;
	const char *from; /* the mailbox's own address */
	int         connected;
};

/* Why intake might not acknowledge: filled by intake's decision. */
struct ack_facts {
	uint64_t    ledger_id;
	uint64_t    ticket_id;
	const char *ticket_subject;
	const char *automatic;   /* reason, or NULL */
	uint64_t    no_ack_rule; /* rule that said don't acknowledge, or 0 */
};

struct reply_att {
	const char *name;
	const char *content_type;
	const void *data;
	size_t      len;
};

struct outbox_stats {
	long sent;
	long failed;
	long retried;
};

void outbox_message_id(char *out, size_t size, const char *from);
int  outbox_ack(struct db *, uint64_t mailbox, const struct ack_settings *,
     const struct msg *, const struct ack_facts *, struct err *);
int  outbox_reply(struct db *, uint64_t ticket, uint64_t agent_id,
     const char *body, const char *cc, const struct reply_att *, size_t natt,
     uint64_t *id, struct err *);
int  outbox_send(struct mbx *, const char *from, const char *from_name,
     struct outbox_stats *, struct err *);

#endif
