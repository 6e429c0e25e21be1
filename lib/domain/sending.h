/*
 * sending: acknowledgements and agent replies — deciding, queueing, and
 * sending them through the mailbox exactly once, threaded.
 */
#ifndef POSTDESK_OUTBOX_H
#define POSTDESK_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/db.h"
#include "domain/mailbox_graph.h"
#include "mail/msg.h"

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
	uint64_t    incoming_id;
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

struct sending_stats {
	long sent;
	long failed;
	long retried;
};

void sending_message_id(char *out, size_t size, const char *from);
int  sending_ack(struct db *, uint64_t mailbox, const struct ack_settings *,
     const struct msg *, const struct ack_facts *, struct err *);
int  sending_reply(struct db *, uint64_t ticket, uint64_t agent_id,
     const char *body, const char *cc, const struct reply_att *, size_t natt,
     uint64_t *id, struct err *);
int  sending_run(struct mbx *, const char *from, const char *from_name,
     struct sending_stats *, struct err *);

#endif
