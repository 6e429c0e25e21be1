/*
 * intake: what becomes of one message — loop check, rules, threading —
 * and the one transaction that records it: the incoming_email row, the end
 * user, the ticket created or updated, the action, attachments, participants.
 */
#ifndef POSTDESK_INTAKE_H
#define POSTDESK_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mail/attach.h"
#include "adapt/db.h"
#include "mail/msg.h"
#include "domain/sending.h"
#include "domain/rules.h"
#include "store/incoming.h"

/*
 * What every intake of a pass needs, loaded once: the enabled rules in
 * running order, and the addresses of every mailbox that reads mail
 * (loop detection, and who is not a participant).
 */
struct intake_setup {
	struct rule *rules;
	size_t       nrules;
	char       **own;
	size_t       nown;
};

struct intake_ctx {
	struct db         *db;
	uint64_t           mailbox_id;
	const char        *mailbox_address; /* this mailbox's own address */
	const struct rule *rules;
	size_t             nrules;
	char *const       *own; /* every connected mailbox's address */
	size_t             nown;
	const struct ack_settings *ack; /* NULL: no acknowledgements */
	int automatic_log_only; /* automatic mail makes no ticket (sql/0013) */
};

struct intake_in {
	json_t                  *source; /* the Graph JSON as received */
	const struct msg        *msg;
	unsigned                 attempt;
	const char              *again; /* why attempt > 1; NULL: put back */
	const struct attachment *att;   /* to stream in, from ax */
	size_t                   natt;
	const struct attach_ctx *ax;
	const char              *left_out; /* attachments not kept, or "" */
	uint64_t                 replaces; /* failed row this one replaces */
	int lenient; /* the last try: leave out what cannot be read */
};

/* Why one message's intake failed, to record on its own row. */
struct intake_failure {
	const char *graph_id;
	unsigned    attempt;
	const char *again;    /* why this attempt, or NULL */
	unsigned    failures; /* including this one */
	int         quarantine;
	const char *error;
	long        retry_in; /* seconds, when not quarantined */
};

struct intake_result {
	enum incoming_outcome outcome;
	uint64_t              ticket_id;
	uint64_t              incoming_id;
};

int  intake_setup_load(struct db *, struct intake_setup *, struct err *);
void intake_setup_free(struct intake_setup *);
int  intake_message(const struct intake_ctx *, const struct intake_in *,
     struct intake_result *, struct err *);
int  intake_attachment(const struct intake_ctx *, const struct intake_in *,
     uint64_t action_id, uint64_t incoming_id, const struct attachment *,
     struct err *);
int intake_failed(const struct intake_ctx *, json_t *source, const struct msg *,
    const struct intake_failure *, uint64_t         *incoming_id, struct err *);

#endif
