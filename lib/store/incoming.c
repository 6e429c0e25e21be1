/*
 * incoming: the SQL of the incoming email log.  Every function runs
 * inside the caller's transaction when there is one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/incoming.h"
#include "base/xmalloc.h"

/*
 * latest: no later attempt of the same message (sql/0003_scan.sql's
 * unique key incoming_graph), so Retry can apply to it.
 */
/* clang-format off */
#define INCOMING_COLS                                                          \
	"e.id, e.mailbox_id, m.name, e.graph_id, e.attempt, "                  \
	"e.internet_message_id, e.from_addr, e.from_name, e.subject, "         \
	STORE_ISO("e.received_at") ", " STORE_ISO("e.created_at") ", e.size, e.outcome, "  \
	"e.automatic, e.rule_id, r.name, e.ticket_id, e.state, e.ack, "        \
	"e.failures, e.error, " STORE_ISO("e.next_try_at") ", e.retry_requested, "   \
	STORE_LATEST_ATTEMPT ", o.id, o.status"
/* clang-format on */
/*
 * The acknowledgement is read from the outgoing queue (o), so the log
 * follows it from queued to sent or failed; e.ack keeps why none was sent.
 */
#define INCOMING_FROM                                                          \
	" FROM incoming_email e LEFT JOIN mailbox m "                          \
	"ON m.id = e.mailbox_id LEFT JOIN email_rule r ON r.id = e.rule_id "   \
	"LEFT JOIN outgoing_email o ON o.incoming_email_id = e.id "            \
	"AND o.kind = 'ack' "

/* The filters of the list and of its total (incoming_filter_params()
 * binds them; the list's cursor and limit follow). */
#define INCOMING_WHERE                                                         \
	"WHERE (? = 0 OR e.mailbox_id = ?) AND (? IS NULL OR e.outcome = ?) "  \
	"AND (? = 0 OR " STORE_NEEDS_ATTENTION ") "                            \
	"AND (? IS NULL OR e.subject LIKE ? OR e.from_addr LIKE ? "            \
	"OR CONVERT(e.internet_message_id USING utf8mb4) LIKE ?) "             \
	"AND (? IS NULL OR e.created_at >= STR_TO_DATE(?, "                    \
	"'%Y-%m-%dT%H:%i:%sZ')) "                                              \
	"AND (? IS NULL OR e.created_at < STR_TO_DATE(?, "                     \
	"'%Y-%m-%dT%H:%i:%sZ') + INTERVAL 1 SECOND) "
#define INCOMING_FILTER_NPARAMS 13

static const char                         SQL_INCOMING[] =
    "SELECT " INCOMING_COLS INCOMING_FROM INCOMING_WHERE
    "AND (? = 0 OR e.id < ?) ORDER BY e.id DESC LIMIT ?";
/* No join: every filter is on incoming_email's own columns. */
static const char SQL_INCOMING_COUNT[] =
    "SELECT COUNT(*) FROM incoming_email e " INCOMING_WHERE;
static const char SQL_INCOMING_ONE[] =
    "SELECT " INCOMING_COLS ", e.to_addrs, e.cc_addrs, e.trace, "
    "LOWER(HEX(e.sha256)), e.source, "
    "LOWER(COALESCE(NULLIF(m.shared_address, ''), m.account, '')), "
    "m.automatic_mail = 'log_only'" INCOMING_FROM "WHERE e.id = ?";

#define INCOMING_COLUMNS                                                       \
	"mailbox_id, graph_id, attempt, internet_message_id, from_addr, "      \
	"from_name, to_addrs, cc_addrs, subject, received_at, created_at, "    \
	"size, sha256, source, outcome, automatic, rule_id, ticket_id, "       \
	"trace, state, failures, error, next_try_at"
#define INCOMING_VALUES                                                        \
	"?, ?, ?, ?, ?, ?, ?, ?, ?, "                                          \
	"STR_TO_DATE(NULLIF(?, ''), '%Y-%m-%dT%H:%i:%sZ'), "                   \
	"UTC_TIMESTAMP(3), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "                     \
	"?, IF(? IS NULL, NULL, UTC_TIMESTAMP() + INTERVAL ? SECOND)"

static const char SQL_ADD[] = "INSERT INTO incoming_email (" INCOMING_COLUMNS
                              ") VALUES (" INCOMING_VALUES ")";
/*
 * A failed intake of an attempt already failed before updates that row:
 * one row per attempt, whose trace keeps every failure.
 */
static const char SQL_FAIL[] =
    "INSERT INTO incoming_email (" INCOMING_COLUMNS ") VALUES (" INCOMING_VALUES
    ") ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), "
    "outcome = VALUES(outcome), state = VALUES(state), "
    "failures = VALUES(failures), error = VALUES(error), "
    "next_try_at = VALUES(next_try_at), retry_requested = 0, "
    "trace = CONCAT(trace, '\n', VALUES(trace))";
static const char SQL_DELETE[] = "DELETE FROM incoming_email WHERE id = ?";
static const char SQL_NOTE[] =
    "UPDATE incoming_email SET trace = CONCAT(trace, '\n', ?) WHERE id = ?";
static const char SQL_LATEST[] =
    "SELECT id, attempt, state, outcome, failures, next_try_at IS NULL OR "
    "next_try_at <= UTC_TIMESTAMP(), LEFT(COALESCE(error, ''), 250) "
    "FROM incoming_email WHERE mailbox_id = ? AND graph_id = ? "
    "ORDER BY attempt DESC LIMIT 1";
static const char SQL_STATE[] =
    "UPDATE incoming_email SET state = ? WHERE id = ?";
static const char SQL_LEFT_INBOX[] =
    "UPDATE incoming_email SET trace = IF(state = 'failed', CONCAT(trace, "
    "'\nthe message left the Inbox before it could be taken in'), trace), "
    "state = 'done' WHERE id = ?";
static const char SQL_UNFINISHED[] =
    "SELECT id FROM incoming_email WHERE mailbox_id = ? AND state <> 'done' "
    "ORDER BY id LIMIT 1000";
static const char SQL_RETRIES[] =
    "SELECT id, graph_id, COALESCE(DATE_FORMAT(received_at - INTERVAL 10 "
    "MINUTE, '%Y-%m-%dT%H:%i:%sZ'), '') FROM incoming_email WHERE "
    "mailbox_id = ? AND retry_requested = 1 AND outcome = 'quarantined' "
    "AND state = 'done' ORDER BY id LIMIT 20";
static const char SQL_RETRY_CLEAR[] =
    "UPDATE incoming_email SET retry_requested = 0 WHERE id = ?";
static const char SQL_RETRYABLE[] =
    "SELECT e.outcome, (SELECT COUNT(*) FROM incoming_email n WHERE "
    "n.mailbox_id = e.mailbox_id AND n.graph_id = e.graph_id AND "
    "n.attempt > e.attempt), e.state FROM incoming_email e WHERE e.id = ?";
static const char SQL_RETRY_REQUEST[] =
    "UPDATE incoming_email SET retry_requested = (outcome = 'quarantined'), "
    "next_try_at = IF(outcome = 'failed', UTC_TIMESTAMP(), next_try_at) "
    "WHERE id = ?";

static struct db_param
opt_id(uint64_t id)
{
	return id ? db_int((long long)id) : db_null();
}

static int
write_row(struct db *db, const char *sql, const struct new_incoming *l,
    uint64_t *id, struct err *err)
{
	int timed = l->outcome == OUTCOME_FAILED && l->retry_in >= 0;
	struct db_param     p[] = { db_int((long long)l->mailbox_id),
		    db_str(l->graph_id), db_int(l->attempt),
                l->message_id && l->message_id[0] ? db_str(l->message_id)
		                                      : db_null(),
		    db_str(l->from), db_str(l->from_name), db_str(l->to),
		    db_str(l->cc), db_str(l->subject), db_str(l->received),
		    db_int((long long)l->size), db_blob(l->sha256, 32),
		    db_str(l->source), db_str(incoming_outcome_name(l->outcome)),
		    db_str(l->automatic), opt_id(l->rule_id), opt_id(l->ticket_id),
		    db_str(l->trace), db_str(incoming_state_name(l->state)),
		    db_int(l->failures), db_str(l->error),
                timed ? db_int(l->retry_in) : db_null(),
		    db_int(timed ? l->retry_in : 0) };
	struct db_exec_info info;

	if (db_exec(db, sql, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	*id = info.insert_id;
	return 0;
}

/* Insert a incoming_email row; *id is its id. */
int
store_incoming_add(struct db *db, const struct new_incoming *l, uint64_t *id,
    struct err *err)
{
	return write_row(db, SQL_ADD, l, id, err);
}

/*
 * Record a failed (or quarantined) intake of l's attempt: insert its row,
 * or update the row of an earlier failure of the same attempt.
 */
int
store_incoming_fail(struct db *db, const struct new_incoming *l, uint64_t *id,
    struct err *err)
{
	return write_row(db, SQL_FAIL, l, id, err);
}

/* Remove a failed row that a successful intake replaces. */
int
store_incoming_delete(struct db *db, uint64_t id, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_exec(db, SQL_DELETE, p, 1, NULL, err);
}

/* Append a line to a incoming_email row's decision trace. */
int
store_incoming_note(struct db *db, uint64_t id, const char *line,
    struct err *err)
{
	struct db_param p[] = { db_str(line), db_int((long long)id) };

	return db_exec(db, SQL_NOTE, p, 2, NULL, err);
}

/* The newest incoming_email row for a Graph id in a mailbox; *found 0 if none.
 */
int
store_incoming_latest(struct db *db, uint64_t mailbox, const char *graph_id,
    struct incoming_row *row, int *found, struct err *err)
{
	struct db_param p[] = { db_int((long long)mailbox), db_str(graph_id) };
	struct db_res   r;
	int             rc = 0;

	memset(row, 0, sizeof *row);
	if (db_query(db, SQL_LATEST, p, 2, &r, err) == -1)
		return -1;
	*found = r.nrows > 0;
	if (*found) {
		row->id = (uint64_t)db_res_int(&r, 0, 0);
		row->attempt = (unsigned)db_res_int(&r, 0, 1);
		row->failures = (unsigned)db_res_int(&r, 0, 4);
		row->due = db_res_int(&r, 0, 5) != 0;
		if (incoming_state_parse(db_res_str(&r, 0, 2), &row->state) ==
		        -1 ||
		    incoming_outcome_parse(db_res_str(&r, 0, 3),
		        &row->outcome) == -1) {
			err_set(err, E_DB, "unknown incoming email state");
			rc = -1;
		} else if (store_row_copy(row->error, sizeof row->error, &r, 0,
		               6, err) == -1) {
			rc = -1;
		}
	}
	db_res_free(&r);
	return rc;
}

int
store_incoming_set_state(struct db *db, uint64_t id, enum incoming_state state,
    struct err *err)
{
	struct db_param p[] = { db_str(incoming_state_name(state)),
		db_int((long long)id) };

	return db_exec(db, SQL_STATE, p, 2, NULL, err);
}

/*
 * Row id's message is no longer in the Inbox: the row is done (a failed
 * one says that its mail left before it could be taken in).
 */
int
store_incoming_left_inbox(struct db *db, uint64_t id, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_exec(db, SQL_LEFT_INBOX, p, 1, NULL, err);
}

/* Ids of a mailbox's rows not yet done, oldest first (caller frees *ids). */
int
store_incoming_unfinished(struct db *db, uint64_t mailbox, uint64_t **ids,
    size_t *n, struct err *err)
{
	struct db_param p[] = { db_int((long long)mailbox) };
	struct db_res   r;

	*ids = NULL;
	*n = 0;
	if (db_query(db, SQL_UNFINISHED, p, 1, &r, err) == -1)
		return -1;
	*ids = xcalloc(r.nrows, sizeof **ids);
	for (size_t i = 0; i < r.nrows; i++)
		(*ids)[i] = (uint64_t)db_res_int(&r, i, 0);
	*n = r.nrows;
	db_res_free(&r);
	return 0;
}

/*
 * Quarantined messages of a mailbox that an admin asked to try again, in
 * *out (free with store_incoming_retries_free()).
 */
int
store_incoming_retries(struct db *db, uint64_t mailbox,
    struct incoming_retry_row **out, size_t *n, struct err *err)
{
	struct db_param p[] = { db_int((long long)mailbox) };
	struct db_res   r;

	*out = NULL;
	*n = 0;
	if (db_query(db, SQL_RETRIES, p, 1, &r, err) == -1)
		return -1;
	*out = xcalloc(r.nrows, sizeof **out);
	for (size_t i = 0; i < r.nrows; i++) {
		(*out)[i].id = (uint64_t)db_res_int(&r, i, 0);
		(*out)[i].graph_id = xstrdup(db_res_str(&r, i, 1));
		snprintf((*out)[i].floor, sizeof(*out)[i].floor, "%s",
		    db_res_str(&r, i, 2));
	}
	*n = r.nrows;
	db_res_free(&r);
	return 0;
}

void
store_incoming_retries_free(struct incoming_retry_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].graph_id);
	free(r);
}

int
store_incoming_retry_clear(struct db *db, uint64_t id, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_exec(db, SQL_RETRY_CLEAR, p, 1, NULL, err);
}

/*
 * An admin's Retry of row id: a quarantined message is brought back to
 * the Inbox by the next scan, a failed one is tried at the next scan.
 * Fails with E_NOTFOUND (no such row) or E_CONFLICT (the row is not the
 * latest attempt of a failed or quarantined message).
 */
int
store_incoming_retry_request(struct db *db, uint64_t id, struct err *err)
{
	struct db_param       p[] = { db_int((long long)id) };
	struct db_res         r;
	enum incoming_outcome outcome = OUTCOME_ERROR;
	enum incoming_state   state = INCOMING_STORED;
	int                   ok, gone;

	if (db_query(db, SQL_RETRYABLE, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0) {
		db_res_free(&r);
		err_set(err, E_NOTFOUND, "no such incoming email");
		return -1;
	}
	incoming_outcome_parse(db_res_str(&r, 0, 0), &outcome);
	incoming_state_parse(db_res_str(&r, 0, 2), &state);
	ok = db_res_int(&r, 0, 1) == 0 &&
	    (outcome == OUTCOME_FAILED || outcome == OUTCOME_QUARANTINED);
	gone = outcome == OUTCOME_FAILED && state == INCOMING_DONE;
	db_res_free(&r);
	if (!ok || gone) {
		err_set(err, E_CONFLICT, "%s",
		    gone ? "this mail left the Inbox before it could be taken "
		           "in: there is nothing to retry"
		         : "only the latest attempt of a failed or quarantined "
		           "mail can be retried");
		return -1;
	}
	return db_exec(db, SQL_RETRY_REQUEST, p, 1, NULL, err);
}

static const char SQL_INCOMING_SOURCE[] =
    "SELECT source FROM incoming_email WHERE id = ?";
/* Columns: enum incoming_recent_col (store/store.h). */
static const char SQL_INCOMING_RECENT[] =
    "SELECT id, mailbox_id, "
    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "DATE_FORMAT(received_at, '%Y-%m-%dT%H:%i:%sZ'), subject, from_addr, "
    "outcome, rule_id, "
    "(SELECT m.name FROM mailbox m WHERE m.id = incoming_email.mailbox_id) "
    "FROM incoming_email ORDER BY id DESC LIMIT ?";

/*
 * The newest limit incoming_email rows into res, columns: id, mailbox_id,
 * created_at, received_at, subject, from_addr, outcome, rule_id and the
 * mailbox's name (enum incoming_recent_col; the sources one by one with
 * store_incoming_source(): they can be large).
 */
int
store_incoming_recent(struct db *db, long limit, struct db_res *res,
    struct err *err)
{
	struct db_param p[] = { db_int(limit) };

	return db_query(db, SQL_INCOMING_RECENT, p, 1, res, err);
}

/*
 * Append the Graph JSON stored for incoming_email id to src.  E_NOTFOUND
 * if the row is gone.
 */
int
store_incoming_source(struct db *db, uint64_t id, struct buf *src,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   res;
	int             rc = 0;

	if (db_query(db, SQL_INCOMING_SOURCE, p, 1, &res, err) == -1)
		return -1;
	if (res.nrows == 0) {
		err_set(err, E_NOTFOUND, "No incoming email with id %llu.",
		    (unsigned long long)id);
		rc = -1;
	} else {
		buf_append(src, db_res_str(&res, 0, 0), db_res_len(&res, 0, 0));
	}
	db_res_free(&res);
	return rc;
}

static const char SQL_INCOMING_ACK[] =
    "UPDATE incoming_email SET ack = LEFT(?, 200) WHERE id = ?";

/* Record on the incoming email what became of its acknowledgement. */
int
store_incoming_ack(struct db *db, uint64_t incoming_id, const char *ack,
    struct err *err)
{
	struct db_param p[] = { db_str(ack), db_int((long long)incoming_id) };

	return db_exec(db, SQL_INCOMING_ACK, p, 2, NULL, err);
}

/* The parameters of INCOMING_WHERE for f (like: store_row_like(f->q)). */
static void
incoming_filter_params(const struct incoming_filter *f, const char *like,
    struct db_param p[INCOMING_FILTER_NPARAMS])
{
	long long mb = (long long)f->mailbox_id;
	size_t    i = 0;

	p[i++] = db_int(mb);
	p[i++] = db_int(mb);
	p[i++] = db_str(f->outcome);
	p[i++] = db_str(f->outcome);
	p[i++] = db_int(f->attention);
	for (int k = 0; k < 4; k++)
		p[i++] = db_str(like);
	p[i++] = db_str(f->since);
	p[i++] = db_str(f->since);
	p[i++] = db_str(f->until);
	p[i] = db_str(f->until);
}

/*
 * Ledger rows matching f, newest first, at most f->limit + 1 rows into
 * res; columns as enum view_incoming_col up to VI_LIST_NCOLS.
 */
int
store_incoming_list(struct db *db, const struct incoming_filter *f,
    struct db_res *res, struct err *err)
{
	char           *like = store_row_like(f->q);
	long long       after = (long long)f->after_id;
	struct db_param p[INCOMING_FILTER_NPARAMS + 3];
	int             rc;

	incoming_filter_params(f, like, p);
	p[INCOMING_FILTER_NPARAMS] = db_int(after);
	p[INCOMING_FILTER_NPARAMS + 1] = db_int(after);
	p[INCOMING_FILTER_NPARAMS + 2] = db_int(f->limit + 1);
	rc = db_query(db, SQL_INCOMING, p, DB_NPARAMS(p), res, err);
	free(like);
	return rc;
}

/*
 * How many ledger rows f's filters select, whatever its cursor: a mailbox
 * or a time range reads that part of the incoming_graph or
 * incoming_created key (sql/0003_scan.sql); a search (q) reads every row
 * of the rest.
 */
int
store_incoming_count(struct db *db, const struct incoming_filter *f,
    long long *n, struct err *err)
{
	char           *like = store_row_like(f->q);
	struct db_param p[INCOMING_FILTER_NPARAMS];
	int             rc;

	incoming_filter_params(f, like, p);
	rc = store_row_count(db, SQL_INCOMING_COUNT, p, DB_NPARAMS(p), n, err);
	free(like);
	return rc;
}

/* Ledger row id with every column of view_incoming_col; E_NOTFOUND. */
int
store_incoming_get(struct db *db, uint64_t id, struct db_res *res,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return store_row_one(db_query(db, SQL_INCOMING_ONE, p, 1, res, err),
	    res, "incoming email", id, err);
}

/*
 * Every mailbox's mails by outcome, for GET /api/metrics: read from the
 * incoming_attention key (mailbox_id, outcome) alone, one pass over the
 * key's entries — no row is read (docs/metrics.md has its cost).
 */
static const char SQL_COUNTS[] =
    "SELECT mailbox_id, outcome, COUNT(*) FROM incoming_email "
    "GROUP BY mailbox_id, outcome";

static int
outcome_of(const char *s)
{
	enum incoming_outcome o;

	return incoming_outcome_parse(s, &o) == 0 ? (int)o : -1;
}

int
store_incoming_counts(struct db *db, struct mail_count **c, size_t *n,
    struct err *err)
{
	return store_row_counts(db, SQL_COUNTS, outcome_of, c, n, err);
}
