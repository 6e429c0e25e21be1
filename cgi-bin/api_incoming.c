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
#include "domain/incoming.h"
#include "base/valid.h"
#include "domain/view.h"

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
	const char           *mailbox, *since, *until;
	enum incoming_outcome o;
	struct page_key       after;

	for (size_t i = 0; i < NPARAMS; i++)
		q->v[i] = req_query(c->req, PARAMS[i]);
	mailbox = nonempty(q->v[0]);
	f->q = nonempty(q->v[2]);
	since = nonempty(q->v[3]);
	until = nonempty(q->v[4]);
	if (mailbox != NULL && !valid_id(mailbox, &f->mailbox_id))
		return "mailbox must be a mailbox id.";
	if (nonempty(q->v[1]) && incoming_outcome_parse(q->v[1], &o) == -1)
		return "outcome must be ticket_created, ticket_updated, "
		       "ignored_by_rule, suppressed_loop, rejected, error, "
		       "failed, quarantined or logged_automatic.";
	f->outcome = nonempty(q->v[1]) ? incoming_outcome_name(o) : NULL;
	if (f->q != NULL && !view_text_ok(f->q, Q_MAX))
		return "q must be UTF-8 text of at most 200 bytes.";
	if (since != NULL && view_time_parse(since, 0, q->since) == -1)
		return "since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.";
	if (until != NULL && view_time_parse(until, 1, q->until) == -1)
		return "until must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.";
	f->since = since ? q->since : NULL;
	f->until = until ? q->until : NULL;
	if (page_cursor_parse(q->v[5], &after) == -1 || after.at != 0)
		return "cursor is not valid: use next_cursor of the previous "
		       "page.";
	f->after_id = after.id;
	if (page_limit_parse(q->v[6], VIEW_LIMIT_DEFAULT, VIEW_LIMIT_MAX,
	        &f->limit) == -1)
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
	struct buf             b;
	struct err             err;
	const char            *bad = parse_filter(c, &q, &f);
	int                    rc;

	if (bad != NULL) {
		query_cleanup(&q);
		return web_problem(c, 400, bad, NULL);
	}
	buf_init(&b, 16384);
	rc = incoming_list(c->app->db, &f, &b, &err);
	query_cleanup(&q);
	return web_reply(c, 200, rc, &b, &err);
}

static int
answer(struct call *c, int status, uint64_t id)
{
	struct buf b;
	struct err err;

	buf_init(&b, 4096);
	return web_reply(c, status, incoming_show(c->app->db, id, &b, &err), &b,
	    &err);
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

/* POST /api/incoming-emails/{id}/reprocess: 201 with the new log row. */
int
api_incoming_reprocess(struct call *c)
{
	struct incoming_again again;
	struct err            err;
	char                  loc[64];
	uint64_t              id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (incoming_reprocess(c->app->db, id, &again, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "incoming_email.reprocess", "incoming_email", id,
	    json_pack("{s:I, s:s}", "new_id", (json_int_t)again.id, "outcome",
	        incoming_outcome_name(again.outcome)));
	snprintf(loc, sizeof loc, "/api/incoming-emails/%llu",
	    (unsigned long long)again.id);
	resp_header(c->req, "Location", loc);
	return answer(c, 201, again.id);
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
	if (incoming_retry(c->app->db, id, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "incoming_email.retry", "incoming_email", id, NULL);
	return answer(c, 202, id);
}
