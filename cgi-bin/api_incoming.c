/*
 * api_incoming: /api/incoming-emails — Configuration > Email > Incoming
 * Email Log: every mail the scanner saw, what became of it and why, and
 * Reprocess, which runs a logged mail through the current rules again
 * without needing it in the mailbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "intake.h"
#include "msg.h"
#include "rules.h"
#include "store_scan.h"
#include "store_ticket.h"
#include "store_view.h"
#include "valid.h"
#include "view.h"

#define Q_MAX 200

static const char *const PARAMS[] = { "mailbox", "outcome", "q", "since",
	"until", "cursor", "limit", "attention" };
#define NPARAMS (sizeof PARAMS / sizeof PARAMS[0])

struct incoming_query {
	char *v[NPARAMS];
	char  since[21];
	char  until[21];
};

static void
query_cleanup(struct incoming_query *q)
{
	for (size_t i = 0; i < NPARAMS; i++)
		free(q->v[i]);
}

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Fill f from the query string; returns NULL or what is wrong. */
static const char *
parse_filter(struct call *c, struct incoming_query *q,
    struct incoming_filter *f)
{
	const char *mailbox, *since, *until, *cursor;

	for (size_t i = 0; i < NPARAMS; i++)
		q->v[i] = req_query(c->req, PARAMS[i]);
	mailbox = nonempty(q->v[0]);
	f->outcome = nonempty(q->v[1]);
	f->q = nonempty(q->v[2]);
	since = nonempty(q->v[3]);
	until = nonempty(q->v[4]);
	cursor = nonempty(q->v[5]);
	if (mailbox != NULL && !valid_id(mailbox, &f->mailbox_id))
		return "mailbox must be a mailbox id.";
	if (f->outcome != NULL && !view_outcome_valid(f->outcome))
		return "outcome must be ticket_created, ticket_updated, "
		       "ignored_by_rule, suppressed_loop, rejected, error, "
		       "failed "
		       "or quarantined.";
	if (f->q != NULL && !view_text_ok(f->q, Q_MAX))
		return "q must be UTF-8 text of at most 200 bytes.";
	if (since != NULL && view_time_parse(since, 0, q->since) == -1)
		return "since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.";
	if (until != NULL && view_time_parse(until, 1, q->until) == -1)
		return "until must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.";
	f->since = since ? q->since : NULL;
	f->until = until ? q->until : NULL;
	if (cursor != NULL && !valid_id(cursor, &f->after_id))
		return "cursor is not valid: use next_cursor of the previous "
		       "page.";
	if (view_limit_parse(q->v[6], &f->limit) == -1)
		return "limit must be 1 to 200.";
	if (nonempty(q->v[7]) != NULL && strcmp(q->v[7], "true") != 0 &&
	    strcmp(q->v[7], "false") != 0)
		return "attention must be true or false.";
	f->attention =
	    nonempty(q->v[7]) != NULL && strcmp(q->v[7], "true") == 0;
	return NULL;
}

/*
 * GET /api/incoming-emails?mailbox=&outcome=&attention=&q=&since=&until=
 * &cursor=&limit=
 */
int
api_incoming_list(struct call *c)
{
	struct incoming_query  q = { 0 };
	struct incoming_filter f = { 0 };
	struct db_res          r;
	struct err             err;
	const char            *bad = parse_filter(c, &q, &f);
	json_t                *items, *next = json_null();
	size_t                 n;

	if (bad != NULL) {
		query_cleanup(&q);
		return web_problem(c, 400, bad, NULL);
	}
	if (store_view_incoming(c->app->db, &f, &r, &err) == -1) {
		query_cleanup(&q);
		return web_error(c, &err);
	}
	query_cleanup(&q);
	n = r.nrows > (size_t)f.limit ? (size_t)f.limit : r.nrows;
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, view_incoming(&r, i, 0));
	if (r.nrows > n)
		next = json_string(db_res_str(&r, n - 1, VI_ID));
	db_res_free(&r);
	return web_json(c, 200,
	    json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

static int
answer(struct call *c, int status, uint64_t id)
{
	struct db_res r;
	struct err    err;
	json_t       *o;

	if (store_view_incoming_one(c->app->db, id, &r, &err) == -1)
		return web_error(c, &err);
	o = view_incoming(&r, 0, 1);
	db_res_free(&r);
	return web_json(c, status, o);
}

/* GET /api/incoming-emails/{id} */
int
api_incoming_get(struct call *c)
{
	uint64_t id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	return answer(c, 200, id);
}

/* What intake needs besides the message: rules and own addresses. */
struct reprocess {
	struct rule *rules;
	size_t       nrules;
	char       **own;
	size_t       nown;
};

static void
reprocess_cleanup(struct reprocess *rp)
{
	for (size_t i = 0; i < rp->nown; i++)
		free(rp->own[i]);
	free(rp->own);
	rules_free(rp->rules, rp->nrules);
}

/*
 * Run the logged mail in row r through intake again as the next attempt.
 * The new row keeps the mailbox action where the previous one left it: a
 * mail already moved is done; one still waiting is finished by the
 * scanner as before.
 */
static int
run_again(struct call *c, const struct db_res *r, json_t *src,
    struct intake_result *res, struct err *err)
{
	struct reprocess  rp = { 0 };
	struct ledger_row last;
	struct msg        m;
	struct intake_ctx cx = { 0 };
	struct intake_in  in = { 0 };
	uint64_t          mailbox = (uint64_t)db_res_int(r, 0, VI_MAILBOX_ID);
	int               found, rc = -1;

	if (msg_parse(src, &m, err) == -1)
		goto out;
	if (store_ledger_latest(c->app->db, mailbox,
	        db_res_str(r, 0, VI_GRAPH_ID), &last, &found, err) == -1 ||
	    rules_load(c->app->db, &rp.rules, &rp.nrules, err) == -1 ||
	    store_scan_own_addresses(c->app->db, &rp.own, &rp.nown, err) == -1)
		goto out;
	cx.db = c->app->db;
	cx.mailbox_id = mailbox;
	cx.mailbox_address = db_res_str(r, 0, VI_MAILBOX_ADDRESS);
	cx.rules = rp.rules;
	cx.nrules = rp.nrules;
	cx.own = rp.own;
	cx.nown = rp.nown;
	in.source = src;
	in.msg = &m;
	in.attempt = found ? last.attempt + 1 : 1;
	in.again = "reprocessed from the incoming email log";
	in.left_out = "not fetched again (reprocessed from the incoming "
	              "email log; the first attempt's ticket has them)";
	if (intake_message(&cx, &in, res, err) == -1)
		goto out;
	if (found && last.state == INCOMING_DONE &&
	    store_ledger_set_state(c->app->db, res->ledger_id, INCOMING_DONE,
	        err) == -1)
		goto out;
	rc = 0;
out:
	msg_cleanup(&m);
	reprocess_cleanup(&rp);
	return rc;
}

/* POST /api/incoming-emails/{id}/reprocess: 201 with the new ledger row. */
int
api_incoming_reprocess(struct call *c)
{
	struct intake_result res;
	struct db_res        r;
	struct err           err;
	json_t              *src;
	char                 loc[64];
	uint64_t             id;
	int                  rc;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (store_view_incoming_one(c->app->db, id, &r, &err) == -1)
		return web_error(c, &err);
	if (db_res_str(&r, 0, VI_MAILBOX_NAME) == NULL) {
		db_res_free(&r);
		return web_problem(c, 409,
		    "The mailbox this email came from was deleted.", NULL);
	}
	if (strcmp(db_res_str(&r, 0, VI_OUTCOME), "failed") == 0 ||
	    strcmp(db_res_str(&r, 0, VI_OUTCOME), "quarantined") == 0) {
		db_res_free(&r);
		return web_problem(c, 409,
		    "This mail was never taken in: use Retry, which takes it "
		    "in "
		    "again from the mailbox.",
		    NULL);
	}
	src = json_loadb(db_res_str(&r, 0, VI_SOURCE),
	    db_res_len(&r, 0, VI_SOURCE), JSON_ALLOW_NUL, NULL);
	if (src == NULL || !json_is_object(src)) {
		json_decref(src);
		db_res_free(&r);
		return web_problem(c, 409,
		    "The stored message is not a Graph message object.", NULL);
	}
	rc = run_again(c, &r, src, &res, &err);
	json_decref(src);
	db_res_free(&r);
	if (rc == -1)
		return web_error(c, &err);
	web_audit(c, "incoming_email.reprocess", "incoming_email", id,
	    json_pack("{s:I, s:s}", "new_id", (json_int_t)res.ledger_id,
	        "outcome", incoming_outcome_name(res.outcome)));
	snprintf(loc, sizeof loc, "/api/incoming-emails/%llu",
	    (unsigned long long)res.ledger_id);
	resp_header(c->req, "Location", loc);
	return answer(c, 201, res.ledger_id);
}

/*
 * POST /api/incoming-emails/{id}/retry: 202 with the row.  The next scan
 * brings a quarantined mail back to the Inbox and takes it in again, or
 * tries a failed one at once.
 */
int
api_incoming_retry(struct call *c)
{
	struct err err;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (store_ledger_retry_request(c->app->db, id, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "incoming_email.retry", "incoming_email", id, NULL);
	return answer(c, 202, id);
}
