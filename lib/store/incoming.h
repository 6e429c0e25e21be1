/*
 * incoming: the incoming email log, which is also the incoming email log —
 * one row per (mailbox, Graph id, attempt).  A row's state says what is
 * left to do: stored / action_failed (the processed-mail action), failed
 * (the intake itself failed: try again at next_try_at), done.
 */
#ifndef POSTDESK_STORE_INCOMING_H
#define POSTDESK_STORE_INCOMING_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/db.h"
#include "base/err.h"
#include "model/mail_states.h"

struct mail_count;

/* A incoming_email row as the scanner needs it. */
struct incoming_row {
	uint64_t              id;
	unsigned              attempt;
	unsigned              failures; /* failed intakes of this attempt */
	enum incoming_state   state;
	enum incoming_outcome outcome;
	int                   due; /* a failed row whose next try has come */
	char error[1001];          /* the last failure: 250 characters */
};

struct new_incoming {
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
struct incoming_retry_row {
	uint64_t id;
	char    *graph_id;
	char     floor[21]; /* its receivedDateTime less ten minutes, or "" */
};

int  store_incoming_add(struct db *, const struct new_incoming *, uint64_t *id,
     struct err *);
int  store_incoming_fail(struct db *, const struct new_incoming *, uint64_t *id,
     struct err *);
int  store_incoming_delete(struct db *, uint64_t id, struct err *);
int  store_incoming_note(struct db *, uint64_t id, const char *line,
     struct err *);
int  store_incoming_latest(struct db *, uint64_t mailbox, const char *graph_id,
     struct incoming_row *, int *found, struct err *);
int  store_incoming_set_state(struct db *, uint64_t id, enum incoming_state,
     struct err *);
int  store_incoming_left_inbox(struct db *, uint64_t id, struct err *);
int  store_incoming_unfinished(struct db *, uint64_t mailbox, uint64_t **ids,
     size_t *n, struct err *);
int  store_incoming_retries(struct db *, uint64_t mailbox,
     struct incoming_retry_row **out, size_t *n, struct err *);
void store_incoming_retries_free(struct incoming_retry_row *, size_t n);
int  store_incoming_retry_clear(struct db *, uint64_t id, struct err *);
int  store_incoming_retry_request(struct db *, uint64_t id, struct err *);

/* Columns of an incoming_email row (list; detail adds the last five). */
enum view_incoming_col {
	VI_ID,
	VI_MAILBOX_ID,
	VI_MAILBOX_NAME,
	VI_GRAPH_ID,
	VI_ATTEMPT,
	VI_MSGID,
	VI_FROM,
	VI_FROM_NAME,
	VI_SUBJECT,
	VI_RECEIVED,
	VI_CREATED,
	VI_SIZE,
	VI_OUTCOME,
	VI_AUTOMATIC,
	VI_RULE_ID,
	VI_RULE_NAME,
	VI_TICKET_ID,
	VI_STATE,
	VI_ACK,
	VI_FAILURES,
	VI_ERROR,
	VI_NEXT_TRY,
	VI_RETRY,
	VI_LATEST,
	VI_ACK_ID,     /* the acknowledgement's outgoing_email row, or NULL */
	VI_ACK_STATUS, /* and its status */
	VI_LIST_NCOLS,
	VI_TO = VI_LIST_NCOLS,
	VI_CC,
	VI_TRACE,
	VI_SHA256,
	VI_SOURCE,
	VI_MAILBOX_ADDRESS,
	VI_LOG_ONLY, /* the mailbox only logs automatic mail */
	VI_NCOLS
};

/* Filters of GET /api/incoming-emails; NULL / 0 means "any". */
struct incoming_filter {
	uint64_t    mailbox_id;
	const char *outcome;
	int         attention; /* failed or quarantined, latest, no Retry */
	const char *q;         /* subject, sender or message id contains */
	const char *since;     /* "YYYY-MM-DDTHH:MM:SSZ", created_at >= */
	const char *until;     /* "YYYY-MM-DDTHH:MM:SSZ", created_at <= */
	uint64_t    after_id;
	long        limit;
};

int store_incoming_list(struct db *, const struct incoming_filter *,
    struct db_res *, struct err *);
int store_incoming_count(struct db *, const struct incoming_filter *,
    long long *n, struct err *);
int store_incoming_get(struct db *, uint64_t id, struct db_res *, struct err *);

int store_incoming_recent(struct db *, long limit, struct db_res *,
    struct err *);

int store_incoming_source(struct db *, uint64_t id, struct buf *src,
    struct err *);

int store_incoming_ack(struct db *, uint64_t incoming_id, const char *ack,
    struct err *);

int store_incoming_counts(struct db *, struct mail_count **, size_t *n,
    struct err *);

#endif
