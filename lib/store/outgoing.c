/*
 * outgoing: a row is claimed ("sending", attempts + 1) and committed
 * before Graph is asked to send it; a row left "sending" is one whose
 * outcome is unknown, and is looked for in Sent Items before any retry
 * (docs/sending.md, "A crash mid-send").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/limits.h"
#include "store/store.h"
#include "store/outgoing.h"
#include "base/xmalloc.h"

static const char SQL_REPLY_CTX[] =
    "SELECT COALESCE(t.mailbox_id, 0), t.subject, u.email, "
    "COALESCE(NULLIF(m.shared_address, ''), m.account, ''), "
    "COALESCE(m.status = 'connected', 0) FROM ticket t JOIN end_user u ON "
    "u.id = t.end_user_id LEFT JOIN mailbox m ON m.id = t.mailbox_id "
    "WHERE t.id = ?";
static const char SQL_REPLY_IDS[] =
    "SELECT internet_message_id, kind = 'email_in' FROM ticket_action WHERE "
    "ticket_id = ? "
    "AND internet_message_id IS NOT NULL ORDER BY id DESC LIMIT 10";
static const char SQL_ADD[] =
    "INSERT INTO outgoing_email (mailbox_id, ticket_id, kind, "
    "incoming_email_id, agent_id, to_addrs, cc_addrs, subject, body_text, "
    "body_html, message_id, in_reply_to, references_ids, status, "
    "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
static const char SQL_ATT[] =
    "INSERT INTO outgoing_attachment (outgoing_email_id, name, "
    "content_type, content) VALUES (?, ?, ?, ?)";
static const char SQL_DUE[] =
    "SELECT id, COALESCE(ticket_id, 0), kind, status, attempts, to_addrs, "
    "COALESCE(cc_addrs, ''), subject, body_text, COALESCE(body_html, ''), "
    "message_id, COALESCE(in_reply_to, ''), COALESCE(references_ids, '') "
    "FROM outgoing_email WHERE mailbox_id = ? AND status IN ('queued', "
    "'sending') AND next_attempt_at <= UTC_TIMESTAMP() ORDER BY id LIMIT ?";
static const char SQL_ATTS[] =
    "SELECT name, content_type, content FROM outgoing_attachment "
    "WHERE outgoing_email_id = ? ORDER BY id";
static const char SQL_CLAIM[] =
    "UPDATE outgoing_email SET status = 'sending', attempts = attempts + 1, "
    "next_attempt_at = UTC_TIMESTAMP() + INTERVAL 2 MINUTE WHERE id = ? "
    "AND status IN ('queued', 'sending')";
static const char SQL_SENT[] =
    "UPDATE outgoing_email SET status = 'sent', sent_at = UTC_TIMESTAMP(), "
    "last_error = NULL, last_error_guidance = NULL WHERE id = ?";
static const char SQL_LATER[] =
    "UPDATE outgoing_email SET status = ?, next_attempt_at = "
    "UTC_TIMESTAMP() + INTERVAL ? SECOND, last_error = LEFT(?, 1000) "
    "WHERE id = ?";
static const char SQL_FAIL[] =
    "UPDATE outgoing_email SET status = 'failed', last_error = LEFT(?, "
    "1000), last_error_guidance = LEFT(?, 1000) WHERE id = ?";
static const char SQL_RELEASE[] =
    "UPDATE outgoing_email SET status = 'queued', next_attempt_at = "
    "UTC_TIMESTAMP() WHERE mailbox_id = ? AND status = 'held'";
static const char SQL_HOLD[] =
    "UPDATE outgoing_email SET status = 'held', last_error = 'The mailbox "
    "needs reauthorization; this mail is held until it is reconnected.' "
    "WHERE mailbox_id = ? AND status = 'queued'";
/* The filters of the list and of its total (outgoing_filter_params()). */
#define OUTGOING_WHERE                                                         \
	"WHERE (? = 0 OR o.mailbox_id = ?) AND (? = 0 OR o.ticket_id = ?) "    \
	"AND (? = '' OR o.status = ?) "
#define OUTGOING_FILTER_NPARAMS 6
/* Columns: enum outgoing_list_col (store/outgoing.h). */
static const char SQL_LIST[] =
    "SELECT o.id, o.mailbox_id, COALESCE(o.ticket_id, 0), o.kind, "
    "o.to_addrs, COALESCE(o.cc_addrs, ''), o.subject, o.status, o.attempts, "
    "DATE_FORMAT(o.next_attempt_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "COALESCE(o.last_error, ''), COALESCE(o.last_error_guidance, ''), "
    "DATE_FORMAT(o.created_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "COALESCE(DATE_FORMAT(o.sent_at, '%Y-%m-%dT%H:%i:%sZ'), ''), "
    "o.message_id, m.name FROM outgoing_email o "
    "LEFT JOIN mailbox m ON m.id = o.mailbox_id " OUTGOING_WHERE
    "AND (? = 0 OR o.id < ?) ORDER BY o.id DESC LIMIT ?";
static const char SQL_LIST_COUNT[] =
    "SELECT COUNT(*) FROM outgoing_email o " OUTGOING_WHERE;
static const char SQL_RETRY[] =
    "UPDATE outgoing_email SET status = 'queued', next_attempt_at = "
    "UTC_TIMESTAMP(), last_error = NULL, last_error_guidance = NULL "
    "WHERE id = ? AND status = 'failed'";
static const char SQL_ACK_COUNT[] =
    "SELECT COUNT(*) FROM outgoing_email WHERE kind = 'ack' AND "
    "created_at > UTC_TIMESTAMP() - INTERVAL 1 HOUR AND to_addrs = ?";

static struct db_param
opt_id(uint64_t id)
{
	return id ? db_int((long long)id) : db_null();
}

static struct db_param
opt_str(const char *s)
{
	return s && s[0] ? db_str(s) : db_null();
}

/*
 * The ticket's mailbox, subject, end user, and the message ids to thread
 * under (In-Reply-To: the newest incoming mail; References: up to ten,
 * oldest first).  E_NOTFOUND for an unknown ticket.
 */
int
store_outgoing_reply_ctx(struct db *db, uint64_t ticket, struct reply_ctx *c,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)ticket) };
	struct db_res   r;
	int             rc = -1;

	memset(c, 0, sizeof *c);
	if (db_query(db, SQL_REPLY_CTX, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0)
		err_set(err, E_NOTFOUND, "No ticket with id %llu.",
		    (unsigned long long)ticket);
	else if (store_row_copy(c->subject, sizeof c->subject, &r, 0, 1, err) ==
	        0 &&
	    store_row_copy(c->end_user, sizeof c->end_user, &r, 0, 2, err) ==
	        0 &&
	    store_row_copy(c->from, sizeof c->from, &r, 0, 3, err) == 0) {
		c->mailbox_id = (uint64_t)db_res_int(&r, 0, 0);
		c->connected = db_res_int(&r, 0, 4) != 0;
		rc = 0;
	}
	db_res_free(&r);
	if (rc == -1 || db_query(db, SQL_REPLY_IDS, p, 1, &r, err) == -1)
		return -1;
	for (size_t i = r.nrows; i-- > 0;) {
		const char *id = db_res_str(&r, i, 0);

		if (strlen(c->references) + strlen(id) + 2 <
		    sizeof c->references)
			snprintf(c->references + strlen(c->references),
			    sizeof c->references - strlen(c->references),
			    "%s%s", c->references[0] ? " " : "", id);
		if (db_res_int(&r, i, 1) != 0) /* an incoming mail's */
			snprintf(c->in_reply_to, sizeof c->in_reply_to, "%s",
			    id);
	}
	db_res_free(&r);
	return 0;
}

int
store_outgoing_add(struct db *db, const struct new_outgoing *o, uint64_t *id,
    struct err *err)
{
	struct db_param     p[] = { db_int((long long)o->mailbox_id),
		    opt_id(o->ticket_id), db_str(outgoing_kind_name(o->kind)),
		    opt_id(o->incoming_email_id), opt_id(o->agent_id),
		    db_str(o->to), opt_str(o->cc), db_str(o->subject),
		    db_str(o->text), opt_str(o->html), db_str(o->message_id),
		    opt_str(o->in_reply_to), opt_str(o->references),
		    db_str(outgoing_status_name(o->status)) };
	struct db_exec_info info;

	if (db_exec(db, SQL_ADD, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	*id = info.insert_id;
	return 0;
}

int
store_outgoing_attachment(struct db *db, uint64_t id, const char *name,
    const char *type, const void *data, size_t len, struct err *err)
{
	struct db_param p[] = { db_int((long long)id), db_str(name),
		db_str(type), db_blob(data, len) };

	return db_exec(db, SQL_ATT, p, 4, NULL, err);
}

static char *
cell(const struct db_res *r, size_t row, size_t col)
{
	const char *s = db_res_str(r, row, col);

	return xstrdup(s ? s : "");
}

/*
 * Queued rows, and "sending" rows whose outcome is to be checked: the
 * first SENDING_BATCH of them.
 */
int
store_outgoing_due(struct db *db, uint64_t mailbox, struct outgoing **out,
    size_t *n, struct err *err)
{
	struct db_param p[] = { db_int((long long)mailbox),
		db_int(SENDING_BATCH) };
	struct db_res   r;
	int             rc = 0;

	*out = NULL;
	*n = 0;
	if (db_query(db, SQL_DUE, p, DB_NPARAMS(p), &r, err) == -1)
		return -1;
	*out = xcalloc(r.nrows, sizeof **out);
	for (size_t i = 0; rc == 0 && i < r.nrows; i++) {
		struct outgoing *o = &(*out)[i];

		o->id = (uint64_t)db_res_int(&r, i, 0);
		o->ticket_id = (uint64_t)db_res_int(&r, i, 1);
		o->attempts = (unsigned)db_res_int(&r, i, 4);
		if (outgoing_kind_parse(db_res_str(&r, i, 2), &o->kind) == -1 ||
		    outgoing_status_parse(db_res_str(&r, i, 3), &o->status) ==
		        -1) {
			err_set(err, E_DB,
			    "unknown outgoing email kind or status");
			rc = -1;
		}
		o->to = cell(&r, i, 5);
		o->cc = cell(&r, i, 6);
		o->subject = cell(&r, i, 7);
		o->text = cell(&r, i, 8);
		o->html = cell(&r, i, 9);
		o->message_id = cell(&r, i, 10);
		o->in_reply_to = cell(&r, i, 11);
		o->references = cell(&r, i, 12);
		*n = i + 1;
	}
	db_res_free(&r);
	return rc ? -1 : 0;
}

void
store_outgoing_free(struct outgoing *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].to);
		free(o[i].cc);
		free(o[i].subject);
		free(o[i].text);
		free(o[i].html);
		free(o[i].message_id);
		free(o[i].in_reply_to);
		free(o[i].references);
	}
	free(o);
}

/* Attachments of outgoing id into res: name, content_type, content. */
int
store_outgoing_attachments(struct db *db, uint64_t id, struct db_res *res,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_query(db, SQL_ATTS, p, 1, res, err);
}

/* Mark id "sending" before it goes out; *won 0 if someone else has it. */
int
store_outgoing_claim(struct db *db, uint64_t id, int *won, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_CLAIM, p, 1, &info, err) == -1)
		return -1;
	*won = info.affected == 1;
	return 0;
}

int
store_outgoing_sent(struct db *db, uint64_t id, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_exec(db, SQL_SENT, p, 1, NULL, err);
}

/* Try again in seconds, as status (queued, or sending: look first). */
int
store_outgoing_later(struct db *db, uint64_t id, enum outgoing_status status,
    long seconds, const char *error, struct err *err)
{
	struct db_param p[] = { db_str(outgoing_status_name(status)),
		db_int(seconds), db_str(error), db_int((long long)id) };

	return db_exec(db, SQL_LATER, p, 4, NULL, err);
}

int
store_outgoing_fail(struct db *db, uint64_t id, const char *error,
    const char *guidance, struct err *err)
{
	struct db_param p[] = { db_str(error), db_str(guidance),
		db_int((long long)id) };

	return db_exec(db, SQL_FAIL, p, 3, NULL, err);
}

/* Held mail of a (re)connected mailbox goes back in the queue. */
int
store_outgoing_release(struct db *db, uint64_t mailbox, struct err *err)
{
	struct db_param p[] = { db_int((long long)mailbox) };

	return db_exec(db, SQL_RELEASE, p, 1, NULL, err);
}

/* A mailbox that needs reauthorisation holds its queue. */
int
store_outgoing_hold(struct db *db, uint64_t mailbox, struct err *err)
{
	struct db_param p[] = { db_int((long long)mailbox) };

	return db_exec(db, SQL_HOLD, p, 1, NULL, err);
}

/* The parameters of OUTGOING_WHERE for f. */
static void
outgoing_filter_params(const struct outgoing_filter *f,
    struct db_param                                  p[OUTGOING_FILTER_NPARAMS])
{
	p[0] = db_int((long long)f->mailbox);
	p[1] = db_int((long long)f->mailbox);
	p[2] = db_int((long long)f->ticket);
	p[3] = db_int((long long)f->ticket);
	p[4] = db_str(f->status);
	p[5] = db_str(f->status);
}

/*
 * Outgoing mail, newest first, into res: id, mailbox_id, ticket_id, kind,
 * to, cc, subject, status, attempts, next_attempt_at, last_error,
 * guidance, created_at, sent_at, message_id.
 */
int
store_outgoing_list(struct db *db, const struct outgoing_filter *f,
    struct db_res *res, struct err *err)
{
	struct db_param p[OUTGOING_FILTER_NPARAMS + 3];

	outgoing_filter_params(f, p);
	p[OUTGOING_FILTER_NPARAMS] = db_int((long long)f->before);
	p[OUTGOING_FILTER_NPARAMS + 1] = db_int((long long)f->before);
	p[OUTGOING_FILTER_NPARAMS + 2] = db_int(f->limit);
	return db_query(db, SQL_LIST, p, DB_NPARAMS(p), res, err);
}

/* How many outgoing mails f's filters select, whatever its cursor. */
int
store_outgoing_count(struct db *db, const struct outgoing_filter *f,
    long long *n, struct err *err)
{
	struct db_param p[OUTGOING_FILTER_NPARAMS];

	outgoing_filter_params(f, p);
	return store_row_count(db, SQL_LIST_COUNT, p, DB_NPARAMS(p), n, err);
}

/* Queue failed mail id again; *changed 0 if it was not failed. */
int
store_outgoing_retry(struct db *db, uint64_t id, int *changed, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_RETRY, p, 1, &info, err) == -1)
		return -1;
	*changed = info.affected == 1;
	return 0;
}

/* Acknowledgements sent (or queued) to address in the last hour. */
int
store_outgoing_ack_count(struct db *db, const char *to, long long *n,
    struct err *err)
{
	struct db_param p[] = { db_str(to) };
	struct db_res   r;

	if (db_query(db, SQL_ACK_COUNT, p, 1, &r, err) == -1)
		return -1;
	*n = db_res_int(&r, 0, 0);
	db_res_free(&r);
	return 0;
}

/*
 * Every mailbox's outgoing mail by status, for GET /api/metrics: read from
 * the outgoing_due key (mailbox_id, status, next_attempt_at) alone.
 */
static const char SQL_COUNTS[] =
    "SELECT mailbox_id, status, COUNT(*) FROM outgoing_email "
    "GROUP BY mailbox_id, status";

static int
status_of(const char *s)
{
	enum outgoing_status st;

	return outgoing_status_parse(s, &st) == 0 ? (int)st : -1;
}

int
store_outgoing_counts(struct db *db, struct mail_count **c, size_t *n,
    struct err *err)
{
	return store_row_counts(db, SQL_COUNTS, status_of, c, n, err);
}
