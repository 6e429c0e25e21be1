/*
 * store_ticket: end users, tickets, their participants, actions and
 * attachments; and the incoming email log (the ingest ledger).
 */
#ifndef POSTDESK_STORE_TICKET_H
#define POSTDESK_STORE_TICKET_H

#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "err.h"

struct new_ticket {
	uint64_t    mailbox_id;
	uint64_t    end_user_id;
	const char *subject;
	const char *priority; /* NULL: normal */
	const char *category; /* NULL: none */
	const char *conversation_id;
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

/* A ledger row as the scanner needs it. */
struct ledger_row {
	uint64_t id;
	unsigned attempt;
	char     state[16]; /* stored done action_failed */
};

struct new_ledger {
	uint64_t      mailbox_id;
	const char   *graph_id;
	unsigned      attempt;
	const char   *message_id;
	const char   *from;
	const char   *from_name;
	const char   *to;
	const char   *cc;
	const char   *subject;
	const char   *received; /* ISO 8601 or "" */
	size_t        size;
	unsigned char sha256[32];
	const char   *source;
	const char   *outcome;
	const char   *automatic; /* reason or NULL */
	uint64_t      rule_id;
	uint64_t      ticket_id;
	const char   *trace;
};

int store_end_user(struct db *, const char *email, const char *name,
    uint64_t *id, struct err *);
int store_ticket_create(struct db *, const struct new_ticket *, uint64_t *id,
    struct err *);
int store_ticket_touch(struct db *, uint64_t id, struct err *);
int store_ticket_exists(struct db *, uint64_t id, int *exists, struct err *);
int store_ticket_by_message_id(struct db *, const char *message_id,
    uint64_t *ticket, struct err *);
int store_ticket_by_conversation(struct db *, const char *conversation_id,
    uint64_t *ticket, struct err *);
int store_participant_add(struct db *, uint64_t ticket, const char *email,
    struct err *);
int store_participant_is(struct db *, uint64_t ticket, const char *email,
    int *yes, struct err *);
int store_action_add(struct db *, const struct new_action *, uint64_t *id,
    struct err *);
struct db_stream *store_attachment_open(struct db *,
    const struct new_attachment *, struct err *);
int store_attachment_close(struct db *, struct db_stream *, int keep,
    struct err *);
int store_ledger_note(struct db *, uint64_t id, const char *line, struct err *);
int store_ledger_latest(struct db *, uint64_t mailbox, const char *graph_id,
    struct ledger_row *, int *found, struct err *);
int store_ledger_add(struct db *, const struct new_ledger *, uint64_t *id,
    struct err *);
int store_ledger_set_state(struct db *, uint64_t id, const char *state,
    struct err *);
int store_ledger_unfinished(struct db *, uint64_t mailbox, uint64_t **ids,
    size_t *n, struct err *);

#endif
