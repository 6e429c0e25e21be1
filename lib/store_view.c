/*
 * store_view: read queries for the tickets API and the incoming email
 * log.  Optional filters are static SQL of the form "(? IS NULL OR col =
 * ?)": the value is bound twice, nothing is ever printed into SQL.  Paging
 * is by keyset ("rows after the last one shown"), so a page never skips
 * or repeats a row when new ones arrive meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_ticket.h"
#include "store_view.h"
#include "xmalloc.h"

#define ISO(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

static const char SQL_TICKETS[] =
    "SELECT t.id, t.subject, t.status, t.priority, t.category, "
    "t.mailbox_id, m.name, u.id, u.email, u.name, " ISO(
        "t.created_at") ", " ISO("t.updated_at") ", "
                                                 "UNIX_TIMESTAMP(t.updated_at),"
                                                 " "
                                                 "(SELECT COUNT(*) FROM "
                                                 "ticket_action a WHERE "
                                                 "a.ticket_id = t.id AND "
                                                 "a.kind <> 'status') "
                                                 "FROM ticket t JOIN end_user "
                                                 "u ON u.id = "
                                                 "t.end_user_id "
                                                 "LEFT JOIN mailbox m ON m.id "
                                                 "= t.mailbox_id "
                                                 "WHERE (? IS NULL OR t.status "
                                                 "= ?) "
                                                 "AND (? = 0 OR t.mailbox_id = "
                                                 "?) "
                                                 "AND (? IS NULL OR t.subject "
                                                 "LIKE ? "
                                                 "OR CONVERT(u.email USING "
                                                 "utf8mb4) LIKE ?) "
                                                 "AND (? = 0 OR t.updated_at < "
                                                 "FROM_UNIXTIME(?) "
                                                 "OR (t.updated_at = "
                                                 "FROM_UNIXTIME(?) AND t.id < "
                                                 "?)) "
                                                 "ORDER BY t.updated_at DESC, "
                                                 "t.id DESC LIMIT ?";
static const char SQL_TICKET[] =
    "SELECT t.id, t.subject, t.status, t.priority, t.category, "
    "t.mailbox_id, m.name, u.id, u.email, u.name, " ISO(
        "t.created_at") ", " ISO("t.updated_at") ", "
                                                 "UNIX_TIMESTAMP(t.updated_at),"
                                                 " "
                                                 "(SELECT COUNT(*) FROM "
                                                 "ticket_action a WHERE "
                                                 "a.ticket_id = t.id AND "
                                                 "a.kind <> 'status') "
                                                 "FROM ticket t JOIN end_user "
                                                 "u ON u.id = "
                                                 "t.end_user_id "
                                                 "LEFT JOIN mailbox m ON m.id "
                                                 "= t.mailbox_id "
                                                 "WHERE t.id = ?";
/* Newest first from before (0: the newest), with each body's size. */
static const char SQL_ACTION_SIZES[] =
    "SELECT id, COALESCE(LENGTH(body), 0) FROM ticket_action "
    "WHERE ticket_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?";
/* The chosen page, oldest first; bodies cut in bytes (view.c mends the
 * cut to a character boundary), addresses cut in characters. */
static const char SQL_ACTIONS[] =
    "SELECT id, kind, from_addr, LEFT(to_addrs, ?), LEFT(cc_addrs, ?), "
    "subject, LEFT(CAST(body AS BINARY), ?), "
    "internet_message_id, " ISO(
        "created_at") ", incoming_email_id, "
                      "agent_id, COALESCE(LENGTH(body), 0) FROM ticket_action "
                      "WHERE ticket_id = ? AND id BETWEEN ? AND ? ORDER BY id";
static const char SQL_ACTION_BODY[] =
    "SELECT body FROM ticket_action WHERE ticket_id = ? AND id = ?";
static const char SQL_ATTACHMENTS[] =
    "SELECT a.id, a.ticket_action_id, a.name, a.content_type, a.size, "
    "a.content_id, a.is_inline FROM attachment a JOIN ticket_action t "
    "ON t.id = a.ticket_action_id WHERE t.ticket_id = ? "
    "AND a.ticket_action_id BETWEEN ? AND ? ORDER BY a.id";
static const char SQL_ATTACHMENT[] =
    "SELECT a.id, a.ticket_action_id, a.name, a.content_type, a.size, "
    "a.content_id, a.is_inline, a.content FROM attachment a "
    "JOIN ticket_action t ON t.id = a.ticket_action_id "
    "WHERE t.ticket_id = ? AND a.id = ?";
static const char SQL_STATUS_LOCK[] =
    "SELECT status FROM ticket WHERE id = ? FOR UPDATE";
static const char SQL_STATUS_SET[] =
    "UPDATE ticket SET status = ?, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ?";

/*
 * latest: no later attempt of the same message (sql/0003_scan.sql's
 * unique key incoming_graph), so Retry can apply to it.
 */
/* clang-format off */
#define INCOMING_COLS                                                          \
	"e.id, e.mailbox_id, m.name, e.graph_id, e.attempt, "                  \
	"e.internet_message_id, e.from_addr, e.from_name, e.subject, "         \
	ISO("e.received_at") ", " ISO("e.created_at") ", e.size, e.outcome, "  \
	"e.automatic, e.rule_id, r.name, e.ticket_id, e.state, e.ack, "        \
	"e.failures, e.error, " ISO("e.next_try_at") ", e.retry_requested, "   \
	STORE_LATEST_ATTEMPT
/* clang-format on */
#define INCOMING_FROM                                                          \
	" FROM incoming_email e LEFT JOIN mailbox m "                          \
	"ON m.id = e.mailbox_id LEFT JOIN email_rule r ON r.id = e.rule_id "

static const char           SQL_INCOMING[] =
    "SELECT " INCOMING_COLS INCOMING_FROM
    "WHERE (? = 0 OR e.mailbox_id = ?) AND (? IS NULL OR e.outcome = ?) "
    "AND (? = 0 OR " STORE_NEEDS_ATTENTION ") "
    "AND (? IS NULL OR e.subject LIKE ? OR e.from_addr LIKE ? "
    "OR CONVERT(e.internet_message_id USING utf8mb4) LIKE ?) "
    "AND (? IS NULL OR e.created_at >= STR_TO_DATE(?, "
    "'%Y-%m-%dT%H:%i:%sZ')) "
    "AND (? IS NULL OR e.created_at < STR_TO_DATE(?, "
    "'%Y-%m-%dT%H:%i:%sZ') + INTERVAL 1 SECOND) "
    "AND (? = 0 OR e.id < ?) ORDER BY e.id DESC LIMIT ?";
static const char SQL_INCOMING_ONE[] =
    "SELECT " INCOMING_COLS ", e.to_addrs, e.cc_addrs, e.trace, "
    "LOWER(HEX(e.sha256)), e.source, "
    "LOWER(COALESCE(NULLIF(m.shared_address, ''), m.account, ''))" INCOMING_FROM
    "WHERE e.id = ?";

/* "%q%" with LIKE's wildcards in q escaped; caller frees.  NULL for NULL. */
static char *
like_pattern(const char *q)
{
	struct buf b;

	if (q == NULL)
		return NULL;
	buf_init(&b, strlen(q) + 3);
	buf_putc(&b, '%');
	for (; *q; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *q);
	}
	buf_putc(&b, '%');
	return b.data;
}

static int
one_row(int rc, struct db_res *res, const char *what, uint64_t id,
    struct err *err)
{
	if (rc == -1)
		return -1;
	if (res->nrows == 0) {
		db_res_free(res);
		err_set(err, E_NOTFOUND, "No %s with id %llu.", what,
		    (unsigned long long)id);
		return -1;
	}
	return 0;
}

/*
 * Tickets matching f, newest updated first, at most f->limit + 1 rows (the
 * extra one says there is a next page) into res (caller frees with
 * db_res_free()); columns as enum view_ticket_col.
 */
int
store_view_tickets(struct db *db, const struct ticket_filter *f,
    struct db_res *res, struct err *err)
{
	char           *like = like_pattern(f->q);
	long long       mb = (long long)f->mailbox_id;
	long long       after = (long long)f->after_id;
	struct db_param p[] = { db_str(f->status), db_str(f->status),
		db_int(mb), db_int(mb), db_str(like), db_str(like),
		db_str(like), db_int(after), db_int(f->after_unix),
		db_int(f->after_unix), db_int(after), db_int(f->limit + 1) };
	int             rc;

	rc = db_query(db, SQL_TICKETS, p, DB_NPARAMS(p), res, err);
	free(like);
	return rc;
}

/* Ticket id with its end user into res (one row); E_NOTFOUND if none. */
int
store_view_ticket(struct db *db, uint64_t id, struct db_res *res,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return one_row(db_query(db, SQL_TICKET, p, 1, res, err), res, "ticket",
	    id, err);
}

/* Ids and body sizes (cut at VIEW_BODY_MAX) of a page's candidates. */
struct sizes {
	uint64_t id[VIEW_ACTIONS_MAX + 1];
	size_t   len[VIEW_ACTIONS_MAX + 1];
	size_t   n, total;
};

/* Append up to want more candidates older than the last one (or before). */
static int
sizes_more(struct db *db, const struct action_page *pg, size_t want,
    struct sizes *s, int *end, struct err *err)
{
	long long       from = (long long)(s->n ? s->id[s->n - 1] : pg->before);
	struct db_param p[] = { db_int((long long)pg->ticket), db_int(from),
		db_int(from), db_int((long long)want) };
	struct db_res   r;

	if (db_query(db, SQL_ACTION_SIZES, p, DB_NPARAMS(p), &r, err) == -1)
		return -1;
	*end = r.nrows < want;
	for (size_t i = 0; i < r.nrows; i++, s->n++) {
		size_t len = (size_t)db_res_int(&r, i, 1);

		s->id[s->n] = (uint64_t)db_res_int(&r, i, 0);
		s->len[s->n] = len < VIEW_BODY_MAX ? len : VIEW_BODY_MAX;
		s->total += s->len[s->n];
	}
	db_res_free(&r);
	return 0;
}

/*
 * Candidates newest first until there are limit + 1, their bodies pass
 * VIEW_PAGE_BYTES, or the ticket ends: in growing batches, so that a
 * page of big bodies reads few of them (LENGTH() reads the whole body).
 */
static int
sizes_get(struct db *db, const struct action_page *pg, struct sizes *s,
    struct err *err)
{
	size_t cap = (size_t)pg->limit + 1, batch = 8;
	int    end = 0;

	memset(s, 0, sizeof *s);
	while (!end && s->n < cap && s->total <= VIEW_PAGE_BYTES) {
		if (batch > cap - s->n)
			batch = cap - s->n;
		if (sizes_more(db, pg, batch, s, &end, err) == -1)
			return -1;
		batch *= 2;
	}
	return 0;
}

/*
 * How many candidates one page takes: at most limit, and no more than
 * VIEW_PAGE_BYTES of (cut) bodies, but always one.
 */
static size_t
page_rows(const struct sizes *s, long limit)
{
	size_t n = 0, total = 0;

	while (n < s->n && n < (size_t)limit) {
		if (n > 0 && total + s->len[n] > VIEW_PAGE_BYTES)
			break;
		total += s->len[n];
		n++;
	}
	return n;
}

static int
page_fetch(struct db *db, const struct action_page *pg, uint64_t oldest,
    uint64_t newest, struct action_rows *out, struct err *err)
{
	long long       t = (long long)pg->ticket;
	struct db_param a[] = { db_int(VIEW_ADDRS_MAX), db_int(VIEW_ADDRS_MAX),
		db_int(VIEW_BODY_MAX), db_int(t), db_int((long long)oldest),
		db_int((long long)newest) };
	struct db_param f[] = { db_int(t), db_int((long long)oldest),
		db_int((long long)newest) };

	if (db_query(db, SQL_ACTIONS, a, DB_NPARAMS(a), &out->actions, err) ==
	    -1)
		return -1;
	if (db_query(db, SQL_ATTACHMENTS, f, DB_NPARAMS(f), &out->files, err) ==
	    -1) {
		db_res_free(&out->actions);
		return -1;
	}
	return 0;
}

/*
 * One page of ticket pg->ticket's actions: the newest ones older than
 * pg->before (0: the newest), at most pg->limit and VIEW_PAGE_BYTES of
 * bodies, into out (oldest first, columns as view_action_col; and their
 * attachments' metadata).  out->older is the id to pass as before for the
 * next page, 0 when there is none.  Free with store_action_rows_free().
 */
int
store_view_action_page(struct db *db, const struct action_page *pg,
    struct action_rows *out, struct err *err)
{
	struct sizes s;
	size_t       n;
	uint64_t     oldest = 0, newest = 0;

	memset(out, 0, sizeof *out);
	if (sizes_get(db, pg, &s, err) == -1)
		return -1;
	n = page_rows(&s, pg->limit);
	if (n > 0) {
		newest = s.id[0];
		oldest = s.id[n - 1];
	}
	if (s.n > n)
		out->older = oldest;
	return page_fetch(db, pg, oldest, newest, out, err);
}

void
store_action_rows_free(struct action_rows *r)
{
	db_res_free(&r->actions);
	db_res_free(&r->files);
}

/* The whole body of action id of ticket (one row); E_NOTFOUND if none. */
int
store_view_action_body(struct db *db, uint64_t ticket, uint64_t id,
    struct db_res *res, struct err *err)
{
	struct db_param p[] = { db_int((long long)ticket),
		db_int((long long)id) };

	return one_row(db_query(db, SQL_ACTION_BODY, p, 2, res, err), res,
	    "message", id, err);
}

/*
 * Attachment id with its content (column VAT_CONTENT) if it belongs to
 * ticket; E_NOTFOUND otherwise.
 */
int
store_view_attachment(struct db *db, uint64_t ticket, uint64_t id,
    struct db_res *res, struct err *err)
{
	struct db_param p[] = { db_int((long long)ticket),
		db_int((long long)id) };

	return one_row(db_query(db, SQL_ATTACHMENT, p, 2, res, err), res,
	    "attachment", id, err);
}

static int
set_status(struct db *db, uint64_t id, const char *status, uint64_t agent,
    char old[16], struct err *err)
{
	struct db_param   p[] = { db_int((long long)id) };
	struct db_param   q[] = { db_str(status), db_int((long long)id) };
	struct new_action a = { 0 };
	struct db_res     r;
	char              note[80];

	if (one_row(db_query(db, SQL_STATUS_LOCK, p, 1, &r, err), &r, "ticket",
	        id, err) == -1)
		return -1;
	if (store_copy(old, 16, &r, 0, 0, err) == -1) {
		db_res_free(&r);
		return -1;
	}
	db_res_free(&r);
	if (strcmp(old, status) == 0)
		return 0;
	if (db_exec(db, SQL_STATUS_SET, q, 2, NULL, err) == -1)
		return -1;
	snprintf(note, sizeof note, "Status changed from %s to %s.", old,
	    status);
	a.ticket_id = id;
	a.kind = "status";
	a.agent_id = agent;
	a.body = note;
	return store_action_add(db, &a, NULL, err);
}

/*
 * Set ticket id's status (a valid enum value) and record the change as a
 * "status" action by agent (0: not an agent), in one transaction.  *old
 * receives the previous status; nothing changes when it is the same.
 * E_NOTFOUND if there is no such ticket.
 */
int
store_view_set_status(struct db *db, uint64_t id, const char *status,
    uint64_t agent, char old[16], struct err *err)
{
	if (db_begin(db, err) == -1)
		return -1;
	if (set_status(db, id, status, agent, old, err) == -1 ||
	    db_commit(db, err) == -1) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

/*
 * Ledger rows matching f, newest first, at most f->limit + 1 rows into
 * res; columns as enum view_incoming_col up to VI_LIST_NCOLS.
 */
int
store_view_incoming(struct db *db, const struct incoming_filter *f,
    struct db_res *res, struct err *err)
{
	char           *like = like_pattern(f->q);
	long long       mb = (long long)f->mailbox_id;
	long long       after = (long long)f->after_id;
	struct db_param p[] = { db_int(mb), db_int(mb), db_str(f->outcome),
		db_str(f->outcome), db_int(f->attention), db_str(like),
		db_str(like), db_str(like), db_str(like), db_str(f->since),
		db_str(f->since), db_str(f->until), db_str(f->until),
		db_int(after), db_int(after), db_int(f->limit + 1) };
	int             rc;

	rc = db_query(db, SQL_INCOMING, p, DB_NPARAMS(p), res, err);
	free(like);
	return rc;
}

/* Ledger row id with every column of view_incoming_col; E_NOTFOUND. */
int
store_view_incoming_one(struct db *db, uint64_t id, struct db_res *res,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return one_row(db_query(db, SQL_INCOMING_ONE, p, 1, res, err), res,
	    "incoming email", id, err);
}
