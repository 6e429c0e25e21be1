/*
 * ticket: end users, tickets, their participants, actions and
 * attachments.
 */
#ifndef POSTDESK_STORE_TICKET_H
#define POSTDESK_STORE_TICKET_H

#include <stdint.h>

#include "base/buf.h"
#include "adapt/db.h"
#include "base/err.h"

struct new_ticket {
	uint64_t    mailbox_id;
	uint64_t    end_user_id;
	const char *subject;
	const char *priority; /* NULL: normal */
	const char *category; /* NULL: none */
	const char *conversation_id;
	int         automatic; /* opened by automatic mail */
};

struct new_action {
	uint64_t    ticket_id;
	const char *kind; /* email_in email_out note */
	uint64_t    incoming_email_id;
	uint64_t    agent_id;
	const char *from;
	const char *to;
	const char *cc;
	const char *subject;
	const char *body;
	const char *message_id;
};

struct new_attachment {
	uint64_t    action_id;
	const char *name;
	const char *content_type;
	const char *content_id;
	int         is_inline;
};

int store_ticket_end_user(struct db *, const char *email, const char *name,
    uint64_t *id, struct err *);
int store_ticket_create(struct db *, const struct new_ticket *, uint64_t *id,
    struct err *);
int store_ticket_touch(struct db *, uint64_t id, struct err *);
int store_ticket_exists(struct db *, uint64_t id, int *exists, struct err *);
int store_ticket_by_message_id(struct db *, const char *message_id,
    uint64_t *ticket, struct err *);
int store_ticket_by_conversation(struct db *, const char *conversation_id,
    uint64_t *ticket, struct err *);
int store_ticket_participant_add(struct db *, uint64_t ticket,
    const char *email, struct err *);
int store_ticket_participant_is(struct db *, uint64_t ticket, const char *email,
    int *yes, struct err *);
int store_ticket_action_add(struct db *, const struct new_action *,
    uint64_t *id, struct err *);
struct db_stream *store_ticket_attachment_open(struct db *,
    const struct new_attachment *, struct err *);
int store_ticket_attachment_close(struct db *, struct db_stream *, int keep,
    uint64_t *id, struct err *);
int store_ticket_attachment_retype(struct db *, uint64_t id, const char *name,
    const char *content_type, struct err *);

#endif
