/*
 * store_ledger: the incoming email log, which is also the ingest ledger —
 * one row per (mailbox, Graph id, attempt).  A row's state says what is
 * left to do: stored / action_failed (the processed-mail action), failed
 * (the intake itself failed: try again at next_try_at), done.
 */
#ifndef POSTDESK_STORE_LEDGER_H
#define POSTDESK_STORE_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "mail_enums.h"

/* A ledger row as the scanner needs it. */
struct ledger_row {
	uint64_t              id;
	unsigned              attempt;
	unsigned              failures; /* failed intakes of this attempt */
	enum incoming_state   state;
	enum incoming_outcome outcome;
	int                   due; /* a failed row whose next try has come */
	char error[1001];          /* the last failure: 250 characters */
};

struct new_ledger {
	uint64_t              mailbox_id;
	const char           *graph_id;
	unsigned              attempt;
	const char           *message_id;
	const char           *from;
	const char           *from_name;
	const char           *to;
	const char           *cc;
	const char           *subject;
	const char           *received; /* ISO 8601 or "" */
	size_t                size;
	unsigned char         sha256[32];
	const char           *source;
	enum incoming_outcome outcome;
	const char           *automatic; /* reason or NULL */
	uint64_t              rule_id;
	uint64_t              ticket_id;
	const char           *trace;
	/* only for outcome failed / quarantined (else stored, 0, NULL): */
	enum incoming_state state; /* failed; stored when quarantined */
	unsigned            failures;
	const char         *error;
	long                retry_in; /* seconds until the next try */
};

/* A quarantined message an admin asked to try again. */
struct ledger_retry {
	uint64_t id;
	char    *graph_id;
	char     floor[21]; /* its receivedDateTime less ten minutes, or "" */
};

int store_ledger_add(struct db *, const struct new_ledger *, uint64_t *id,
    struct err *);
int store_ledger_fail(struct db *, const struct new_ledger *, uint64_t *id,
    struct err *);
int store_ledger_delete(struct db *, uint64_t id, struct err *);
int store_ledger_note(struct db *, uint64_t id, const char *line, struct err *);
int store_ledger_latest(struct db *, uint64_t mailbox, const char *graph_id,
    struct ledger_row *, int *found, struct err *);
int store_ledger_set_state(struct db *, uint64_t id, enum incoming_state,
    struct err *);
int store_ledger_left_inbox(struct db *, uint64_t id, struct err *);
int store_ledger_unfinished(struct db *, uint64_t mailbox, uint64_t **ids,
    size_t *n, struct err *);
int store_ledger_retries(struct db *, uint64_t mailbox,
    struct ledger_retry **out, size_t *n, struct err *);
void store_ledger_retries_free(struct ledger_retry *, size_t n);
int  store_ledger_retry_clear(struct db *, uint64_t id, struct err *);
int  store_ledger_retry_request(struct db *, uint64_t id, struct err *);

#endif
