/*
 * ticket_view: read queries for the tickets API and the incoming email
 * log.  Optional filters are static SQL of the form "(? IS NULL OR col =
 * ?)": the value is bound twice, nothing is ever printed into SQL.  Paging
 * is by keyset ("rows after the last one shown"), so a page never skips
 * or repeats a row when new ones arrive meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/ticket.h"
#include "store/ticket_view.h"
#include "base/xmalloc.h"

/* The columns of a ticket row (enum view_ticket_col), list and detail. */
/* clang-format off */
#define TICKET_COLS                                                            \
	"t.id, t.subject, t.status, t.priority, t.category, t.mailbox_id, "    \
	"m.name, u.id, u.email, u.name, " STORE_ISO("t.created_at") ", "        \
	STORE_ISO("t.updated_at") ", UNIX_TIMESTAMP(t.updated_at), "           \
	"(SELECT COUNT(*) FROM ticket_action a WHERE a.ticket_id = t.id "      \
	"AND a.kind IN ('email_in', 'email_out')), t.assignee_id, "            \
	"g.username, g.display_name, t.automatic"
#define TICKET_FROM                                                            \
	" FROM ticket t JOIN end_user u ON u.id = t.end_user_id "              \
	"LEFT JOIN mailbox m ON m.id = t.mailbox_id "                          \
	"LEFT JOIN agent g ON g.id = t.assignee_id "

/* The filters of a list and of its total: ticket_filter_params() binds
 * them, the list's cursor and limit follow. */
#define TICKET_WHERE                                                           \
	"WHERE (? IS NULL OR t.status = ?) AND (? = 0 OR t.mailbox_id = ?) "   \
	"AND (? IS NULL OR t.subject LIKE ? "                                  \
	"OR CONVERT(u.email USING utf8mb4) LIKE ?) "                           \
	"AND (? = 0 OR (? = 1 AND t.assignee_id IS NULL) OR t.assignee_id = ?) " \
	"AND (? < 0 OR t.automatic = ?) "
#define TICKET_FILTER_NPARAMS 12
/* clang-format on */

static const char                     SQL_TICKETS[] =
    "SELECT " TICKET_COLS TICKET_FROM TICKET_WHERE
    "AND (? = 0 OR t.updated_at < FROM_UNIXTIME(?) "
    "OR (t.updated_at = FROM_UNIXTIME(?) AND t.id < ?)) "
    "ORDER BY t.updated_at DESC, t.id DESC LIMIT ?";
static const char SQL_TICKET_COUNT[] =
    "SELECT COUNT(*) FROM ticket t JOIN end_user u ON u.id = "
    "t.end_user_id " TICKET_WHERE;
static const char         SQL_TICKET[] =
    "SELECT " TICKET_COLS TICKET_FROM "WHERE t.id = ?";
/* Newest first from before (0: the newest), with each body's size. */
static const char SQL_ACTION_SIZES[] =
    "SELECT id, COALESCE(LENGTH(body), 0) FROM ticket_action "
    "WHERE ticket_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?";
/* The chosen page, oldest first; bodies cut in bytes (domain/view.c mends the
 * cut to a character boundary), addresses cut in characters.  An email_in
 * says whether its mail was automatic, an email_out what became of its
 * outgoing_email row (the same Message-ID), any action its agent. */
/* clang-format off */
static const char SQL_ACTIONS[] =
    "SELECT a.id, a.kind, a.from_addr, LEFT(a.to_addrs, ?), "
    "LEFT(a.cc_addrs, ?), a.subject, LEFT(CAST(a.body AS BINARY), ?), "
    "a.internet_message_id, " STORE_ISO("a.created_at") ", "
    "a.incoming_email_id, a.agent_id, COALESCE(LENGTH(a.body), 0), "
    "e.automatic IS NOT NULL, g.username, g.display_name, o.id, o.status, "
    "o.last_error, o.kind FROM ticket_action a "
    "LEFT JOIN incoming_email e ON e.id = a.incoming_email_id "
    "LEFT JOIN agent g ON g.id = a.agent_id "
    "LEFT JOIN outgoing_email o ON a.kind = 'email_out' "
    "AND o.message_id = a.internet_message_id "
    "WHERE a.ticket_id = ? AND a.id BETWEEN ? AND ? ORDER BY a.id";
/* clang-format on */
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

/* The parameters of TICKET_WHERE for f (like: store_row_like(f->q)). */
static void
ticket_filter_params(const struct ticket_filter *f, const char *like,
    struct db_param p[TICKET_FILTER_NPARAMS])
{
	long long mb = (long long)f->mailbox_id;

	p[0] = db_str(f->status);
	p[1] = db_str(f->status);
	p[2] = db_int(mb);
	p[3] = db_int(mb);
	p[4] = db_str(like);
	p[5] = db_str(like);
	p[6] = db_str(like);
	p[7] = db_int(f->assigned);
	p[8] = db_int(f->assigned);
	p[9] = db_int(
	    f->assigned == TICKET_ASSIGNED_AGENT ? (long long)f->assignee : 0);
	p[10] = db_int(f->automatic);
	p[11] = db_int(f->automatic);
}

/*
 * Tickets matching f, newest updated first, at most f->limit + 1 rows (the
 * extra one says there is a next page) into res (caller frees with
 * db_res_free()); columns as enum view_ticket_col.
 */
int
store_ticket_list(struct db *db, const struct ticket_filter *f,
    struct db_res *res, struct err *err)
{
	char           *like = store_row_like(f->q);
	long long       after = (long long)f->after_id;
	struct db_param p[TICKET_FILTER_NPARAMS + 5];
	int             rc;

	ticket_filter_params(f, like, p);
	p[TICKET_FILTER_NPARAMS] = db_int(after);
	p[TICKET_FILTER_NPARAMS + 1] = db_int(f->after_unix);
	p[TICKET_FILTER_NPARAMS + 2] = db_int(f->after_unix);
	p[TICKET_FILTER_NPARAMS + 3] = db_int(after);
	p[TICKET_FILTER_NPARAMS + 4] = db_int(f->limit + 1);
	rc = db_query(db, SQL_TICKETS, p, DB_NPARAMS(p), res, err);
	free(like);
	return rc;
}

/* How many tickets f's filters select, whatever its cursor and limit. */
int
store_ticket_count(struct db *db, const struct ticket_filter *f, long long *n,
    struct err *err)
{
	char           *like = store_row_like(f->q);
	struct db_param p[TICKET_FILTER_NPARAMS];
	int             rc;

	ticket_filter_params(f, like, p);
	rc = store_row_count(db, SQL_TICKET_COUNT, p, DB_NPARAMS(p), n, err);
	free(like);
	return rc;
}

/* Ticket id with its end user into res (one row); E_NOTFOUND if none. */
int
store_ticket_get(struct db *db, uint64_t id, struct db_res *res,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return store_row_one(db_query(db, SQL_TICKET, p, 1, res, err), res,
	    "ticket", id, err);
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
 * next page, 0 when there is none.  Free with store_ticket_actions_free().
 */
int
store_ticket_actions(struct db *db, const struct action_page *pg,
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

/* Action id of ticket alone, as a page (E_NOTFOUND if there is none). */
int
store_ticket_action_one(struct db *db, uint64_t ticket, uint64_t id,
    struct action_rows *out, struct err *err)
{
	struct action_page pg = { .ticket = ticket, .limit = 1 };

	memset(out, 0, sizeof *out);
	if (page_fetch(db, &pg, id, id, out, err) == -1)
		return -1;
	if (out->actions.nrows == 0) {
		store_ticket_actions_free(out);
		err_set(err, E_NOTFOUND, "No such message.");
		return -1;
	}
	return 0;
}

void
store_ticket_actions_free(struct action_rows *r)
{
	db_res_free(&r->actions);
	db_res_free(&r->files);
}

/* The whole body of action id of ticket (one row); E_NOTFOUND if none. */
int
store_ticket_action_body(struct db *db, uint64_t ticket, uint64_t id,
    struct db_res *res, struct err *err)
{
	struct db_param p[] = { db_int((long long)ticket),
		db_int((long long)id) };

	return store_row_one(db_query(db, SQL_ACTION_BODY, p, 2, res, err), res,
	    "message", id, err);
}

/*
 * Attachment id with its content (column VAT_CONTENT) if it belongs to
 * ticket; E_NOTFOUND otherwise.
 */
int
store_ticket_attachment(struct db *db, uint64_t ticket, uint64_t id,
    struct db_res *res, struct err *err)
{
	struct db_param p[] = { db_int((long long)ticket),
		db_int((long long)id) };

	return store_row_one(db_query(db, SQL_ATTACHMENT, p, 2, res, err), res,
	    "attachment", id, err);
}

static const char SQL_LOCK[] =
    "SELECT status, priority, category, COALESCE(assignee_id, 0) "
    "FROM ticket WHERE id = ? FOR UPDATE";
static const char SQL_SET_STATUS[] =
    "UPDATE ticket SET status = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?";
static const char SQL_SET_PRIORITY[] = "UPDATE ticket SET priority = ?, "
                                       "updated_at = UTC_TIMESTAMP() WHERE "
                                       "id = ?";
static const char SQL_SET_CATEGORY[] = "UPDATE ticket SET category = ?, "
                                       "updated_at = UTC_TIMESTAMP() WHERE "
                                       "id = ?";
static const char SQL_SET_ASSIGNEE[] = "UPDATE ticket SET assignee_id = ?, "
                                       "updated_at = UTC_TIMESTAMP() WHERE "
                                       "id = ?";
static const char SQL_AGENT_NAME[] =
    "SELECT display_name, username FROM agent WHERE id = ?";
static const char SQL_TOUCH[] =
    "UPDATE ticket SET updated_at = UTC_TIMESTAMP() WHERE id = ?";

/* Set one column (sql) to v (NULL: SQL NULL) and add the action saying so. */
static int
change(struct db *db, uint64_t id, const char *sql, struct db_param v,
    const char *kind, uint64_t agent, const char *note, struct err *err)
{
	struct db_param   q[] = { v, db_int((long long)id) };
	struct new_action a = { 0 };

	if (db_exec(db, sql, q, 2, NULL, err) == -1)
		return -1;
	a.ticket_id = id;
	a.kind = kind;
	a.agent_id = agent;
	a.body = note;
	return store_ticket_action_add(db, &a, NULL, err);
}

static int
read_before(struct db *db, uint64_t id, struct ticket_before *b,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   r;
	int             rc;

	memset(b, 0, sizeof *b);
	if (store_row_one(db_query(db, SQL_LOCK, p, 1, &r, err), &r, "ticket",
	        id, err) == -1)
		return -1;
	b->has_category = db_res_str(&r, 0, 2) != NULL;
	rc = store_row_copy(b->status, sizeof b->status, &r, 0, 0, err);
	if (rc == 0)
		rc = store_row_copy(b->priority, sizeof b->priority, &r, 0, 1,
		    err);
	if (rc == 0 && b->has_category)
		rc = store_row_copy(b->category, sizeof b->category, &r, 0, 2,
		    err);
	b->assignee = (uint64_t)db_res_int(&r, 0, 3);
	db_res_free(&r);
	return rc;
}

/* "Name (username)" of agent id into out; E_NOTFOUND if there is none. */
static int
agent_label(struct db *db, uint64_t id, char *out, size_t size, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   r;

	if (store_row_one(db_query(db, SQL_AGENT_NAME, p, 1, &r, err), &r,
	        "agent", id, err) == -1)
		return -1;
	snprintf(out, size, "%s (%s)", db_res_str(&r, 0, 0),
	    db_res_str(&r, 0, 1));
	db_res_free(&r);
	return 0;
}

static int
change_assignee(struct db *db, uint64_t id, const struct ticket_change *c,
    uint64_t agent, const struct ticket_before *b, struct err *err)
{
	char was[520] = "", now[520] = "", note[1100];

	if (b->assignee == c->assignee)
		return 0;
	if ((b->assignee != 0 &&
	        agent_label(db, b->assignee, was, sizeof was, err) == -1) ||
	    (c->assignee != 0 &&
	        agent_label(db, c->assignee, now, sizeof now, err) == -1))
		return -1;
	if (c->assignee == 0)
		snprintf(note, sizeof note, "Unassigned (was %s).", was);
	else if (b->assignee == 0)
		snprintf(note, sizeof note, "Assigned to %s.", now);
	else
		snprintf(note, sizeof note, "Assigned to %s (was %s).", now,
		    was);
	return change(db, id, SQL_SET_ASSIGNEE,
	    c->assignee ? db_int((long long)c->assignee) : db_null(),
	    "assignment", agent, note, err);
}

static int
update(struct db *db, uint64_t id, const struct ticket_change *c,
    uint64_t agent, struct ticket_before *b, struct err *err)
{
	char note[600];

	if (read_before(db, id, b, err) == -1)
		return -1;
	if (c->status != NULL && strcmp(c->status, b->status) != 0) {
		snprintf(note, sizeof note, "Status changed from %s to %s.",
		    b->status, c->status);
		if (change(db, id, SQL_SET_STATUS, db_str(c->status), "status",
		        agent, note, err) == -1)
			return -1;
	}
	if (c->priority != NULL && strcmp(c->priority, b->priority) != 0) {
		snprintf(note, sizeof note, "Priority changed from %s to %s.",
		    b->priority, c->priority);
		if (change(db, id, SQL_SET_PRIORITY, db_str(c->priority),
		        "priority", agent, note, err) == -1)
			return -1;
	}
	if (c->set_category &&
	    (c->category == NULL ? b->has_category
	                         : !b->has_category ||
	                strcmp(c->category, b->category) != 0)) {
		snprintf(note, sizeof note, "Category changed from %s to %s.",
		    b->has_category ? b->category : "(none)",
		    c->category ? c->category : "(none)");
		if (change(db, id, SQL_SET_CATEGORY, db_str(c->category),
		        "category", agent, note, err) == -1)
			return -1;
	}
	return c->set_assignee ? change_assignee(db, id, c, agent, b, err) : 0;
}

/*
 * Change the fields c gives of ticket id, each change recorded as an
 * action (kind status, priority, category or assignment) by agent (0: not
 * an agent), in one transaction.  *before receives what the ticket held;
 * a field given with the value it has changes nothing.  E_NOTFOUND if
 * there is no such ticket (or no such assignee).
 */
struct update_args {
	uint64_t                    id, agent;
	const struct ticket_change *c;
	struct ticket_before       *before;
};

static int
update_txn(struct db *db, void *arg, struct err *err)
{
	struct update_args *a = arg;

	return update(db, a->id, a->c, a->agent, a->before, err);
}

/*
 * SQL_LOCK's FOR UPDATE serialises writers on one server only; on Galera a
 * writer on another node is caught by certification instead (every change
 * writes the ticket row), and db_txn() runs the loser again, which then
 * reads the winner's values.  Not safe to redo after an unknown COMMIT
 * outcome: the second run would see its own change and report no change.
 */
int
store_ticket_update(struct db *db, uint64_t id, const struct ticket_change *c,
    uint64_t agent, struct ticket_before *before, struct err *err)
{
	struct update_args a = { id, agent, c, before };

	return db_txn(db, update_txn, &a, 0, err);
}

struct note_args {
	const struct new_action *a;
	uint64_t                *id;
};

static int
note_txn(struct db *db, void *arg, struct err *err)
{
	struct note_args *n = arg;
	struct db_param   p[] = { db_int((long long)n->a->ticket_id) };
	struct db_res     r;

	if (store_row_one(db_query(db, SQL_LOCK, p, 1, &r, err), &r, "ticket",
	        n->a->ticket_id, err) == -1)
		return -1;
	db_res_free(&r);
	if (db_exec(db, SQL_TOUCH, p, 1, NULL, err) == -1)
		return -1;
	return store_ticket_action_add(db, n->a, n->id, err);
}

/*
 * Add an internal note by agent (0: an API key) to ticket; *id is its id.
 * Retried on conflicts (the touch writes the ticket row, so a concurrent
 * change on another Galera node fails certification); not after an unknown
 * COMMIT outcome, which would add the note twice.
 */
int
store_ticket_note(struct db *db, uint64_t ticket, uint64_t agent,
    const char *body, uint64_t *id, struct err *err)
{
	struct new_action a = { .ticket_id = ticket,
		.kind = "note",
		.agent_id = agent,
		.body = body };
	struct note_args  n = { &a, id };

	return db_txn(db, note_txn, &n, 0, err);
}
