/*
 * api_tickets: /api/tickets — the agents' ticket list, a ticket with its
 * conversation, status changes, and attachment downloads.  Attachments
 * are the senders' bytes: they are served so that no browser renders them
 * as part of postdesk (download only, sandboxed, never sniffed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "jsonx.h"
#include "store_view.h"
#include "valid.h"
#include "view.h"

#define Q_MAX 200

struct ticket_query {
	char *status;
	char *mailbox;
	char *q;
	char *cursor;
	char *limit;
};

static void
query_cleanup(struct ticket_query *q)
{
	free(q->status);
	free(q->mailbox);
	free(q->q);
	free(q->cursor);
	free(q->limit);
}

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Fill f from the query string; returns NULL or what is wrong. */
static const char *
parse_filter(struct call *c, struct ticket_query *q, struct ticket_filter *f)
{
	q->status = req_query(c->req, "status");
	q->mailbox = req_query(c->req, "mailbox");
	q->q = req_query(c->req, "q");
	q->cursor = req_query(c->req, "cursor");
	q->limit = req_query(c->req, "limit");
	f->status = nonempty(q->status);
	f->q = nonempty(q->q);
	if (f->status != NULL && !view_status_valid(f->status))
		return "status must be new, open, pending, resolved or closed.";
	if (nonempty(q->mailbox) && !valid_id(q->mailbox, &f->mailbox_id))
		return "mailbox must be a mailbox id.";
	if (f->q != NULL && !view_text_ok(f->q, Q_MAX))
		return "q must be UTF-8 text of at most 200 bytes.";
	if (nonempty(q->cursor) &&
	    view_ticket_cursor_parse(q->cursor, &f->after_unix, &f->after_id) ==
	        -1)
		return "cursor is not valid: use next_cursor of the previous "
		       "page.";
	if (view_limit_parse(q->limit, &f->limit) == -1)
		return "limit must be 1 to 200.";
	return NULL;
}

/* GET /api/tickets?status=&mailbox=&q=&cursor=&limit= */
int
api_ticket_list(struct call *c)
{
	struct ticket_query  q = { 0 };
	struct ticket_filter f = { 0 };
	struct db_res        r;
	struct err           err;
	const char          *bad = parse_filter(c, &q, &f);
	json_t              *items, *next = json_null();
	size_t               n;

	if (bad != NULL) {
		query_cleanup(&q);
		return web_problem(c, 400, bad, NULL);
	}
	if (store_view_tickets(c->app->db, &f, &r, &err) == -1) {
		query_cleanup(&q);
		return web_error(c, &err);
	}
	query_cleanup(&q);
	n = r.nrows > (size_t)f.limit ? (size_t)f.limit : r.nrows;
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, view_ticket(&r, i));
	if (r.nrows > n) {
		char cur[48];

		view_ticket_cursor(&r, n - 1, cur, sizeof cur);
		next = json_string(cur);
	}
	db_res_free(&r);
	return web_json(c, 200,
	    json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

/* Ticket id with the newest page of its conversation. */
static int
answer(struct call *c, uint64_t id)
{
	struct action_page pg = { id, 0, VIEW_ACTIONS_DEFAULT };
	struct action_rows rows;
	struct db_res      t;
	struct err         err;
	json_t            *o;

	if (store_view_ticket(c->app->db, id, &t, &err) == -1)
		return web_error(c, &err);
	if (store_view_action_page(c->app->db, &pg, &rows, &err) == -1) {
		db_res_free(&t);
		return web_error(c, &err);
	}
	o = view_ticket(&t, 0);
	json_object_set_new(o, "actions", view_conversation(&rows, id));
	json_object_set_new(o, "actions_next_cursor",
	    view_actions_cursor(&rows));
	db_res_free(&t);
	store_action_rows_free(&rows);
	return web_json(c, 200, o);
}

/* GET /api/tickets/{id} */
int
api_ticket_get(struct call *c)
{
	uint64_t id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	return answer(c, id);
}

/* ?cursor=&limit= of the messages route into pg; NULL or what is wrong. */
static const char *
parse_page(struct call *c, struct action_page *pg)
{
	char       *cur = req_query(c->req, "cursor");
	char       *lim = req_query(c->req, "limit");
	const char *bad = NULL;
	uint64_t    n;

	pg->limit = VIEW_ACTIONS_DEFAULT;
	if (nonempty(cur) && !valid_id(cur, &pg->before))
		bad = "cursor is not valid: use next_cursor of the previous "
		      "page.";
	else if (nonempty(lim) && (!valid_id(lim, &n) || n > VIEW_ACTIONS_MAX))
		bad = "limit must be 1 to 100.";
	else if (nonempty(lim))
		pg->limit = (long)n;
	free(cur);
	free(lim);
	return bad;
}

/* GET /api/tickets/{id}/messages?cursor=&limit=: older pages. */
int
api_ticket_messages(struct call *c)
{
	struct action_page pg = { 0 };
	struct action_rows rows;
	struct db_res      t;
	struct err         err;
	const char        *bad;
	json_t            *items;

	if (web_id(c, 0, &pg.ticket) == -1)
		return -1;
	if ((bad = parse_page(c, &pg)) != NULL)
		return web_problem(c, 400, bad, NULL);
	if (store_view_ticket(c->app->db, pg.ticket, &t, &err) == -1)
		return web_error(c, &err);
	db_res_free(&t);
	if (store_view_action_page(c->app->db, &pg, &rows, &err) == -1)
		return web_error(c, &err);
	items = json_pack("{s:o, s:o}", "items",
	    view_conversation(&rows, pg.ticket), "next_cursor",
	    view_actions_cursor(&rows));
	store_action_rows_free(&rows);
	return web_json(c, 200, items);
}

/* GET /api/tickets/{id}/messages/{aid}/body: the whole body, as text. */
int
api_ticket_message_body(struct call *c)
{
	struct db_res r;
	struct err    err;
	uint64_t      id, aid;
	const char   *b;

	if (web_id(c, 0, &id) == -1 || web_id(c, 1, &aid) == -1)
		return -1;
	if (store_view_action_body(c->app->db, id, aid, &r, &err) == -1)
		return web_error(c, &err);
	b = db_res_str(&r, 0, 0);
	resp_header(c->req, "X-Content-Type-Options", "nosniff");
	resp_header(c->req, "Content-Security-Policy", "sandbox");
	resp_send(c->req, 200, "text/plain; charset=utf-8", b ? b : "",
	    b ? db_res_len(&r, 0, 0) : 0);
	db_res_free(&r);
	return 0;
}

/* The new status of a PATCH body, or NULL with errors filled. */
static const char *
patch_status(json_t *in, json_t *errors)
{
	static const char *const allowed[] = { "status", NULL };
	json_t                  *v = json_object_get(in, "status");

	jsonx_unknown_fields(in, allowed, errors);
	if (v == NULL)
		jsonx_field_error(errors, "status", "Required.");
	else if (!json_is_string(v) || !view_status_valid(json_string_value(v)))
		jsonx_field_error(errors, "status",
		    "Must be new, open, pending, resolved or closed.");
	if (json_array_size(errors) > 0)
		return NULL;
	return json_string_value(v);
}

/* PATCH /api/tickets/{id} {"status": "..."} */
int
api_ticket_update(struct call *c)
{
	struct err  err;
	json_t     *in, *errors;
	const char *status;
	char        old[16];
	uint64_t    id, agent;

	if (web_id(c, 0, &id) == -1 || web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	status = patch_status(in, errors);
	if (status == NULL) {
		json_decref(in);
		return web_problem(c, 422,
		    "Some fields need attention; see errors.",
		    json_pack("{s:o}", "errors", errors));
	}
	json_decref(errors);
	agent = c->who.kind == WHO_SESSION ? c->who.id : 0;
	if (store_view_set_status(c->app->db, id, status, agent, old, &err) ==
	    -1) {
		json_decref(in);
		return web_error(c, &err);
	}
	web_audit(c, "ticket.update", "ticket", id,
	    json_pack("{s:{s:s, s:s}}", "status", "from", old, "to", status));
	json_decref(in);
	return answer(c, id);
}

/* Image types a browser may show inline without risk; else a download. */
static const char *
safe_type(const char *type)
{
	static const char *const images[] = { "image/png", "image/jpeg",
		"image/gif", NULL };

	for (size_t i = 0; images[i] != NULL; i++)
		if (strcasecmp(type, images[i]) == 0)
			return images[i];
	return "application/octet-stream";
}

/* Content-Disposition with the name as RFC 8187 UTF-8 percent-encoding. */
static void
disposition(struct buf *b, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";

	buf_puts(b, "attachment; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p)) {
			buf_putc(b, (char)*p);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		}
	}
}

/* GET /api/tickets/{id}/attachments/{aid}: the bytes, as a download. */
int
api_ticket_attachment(struct call *c)
{
	struct db_res r;
	struct err    err;
	struct buf    cd;
	uint64_t      id, aid;
	const char   *name;

	if (web_id(c, 0, &id) == -1 || web_id(c, 1, &aid) == -1)
		return -1;
	if (store_view_attachment(c->app->db, id, aid, &r, &err) == -1)
		return web_error(c, &err);
	name = db_res_str(&r, 0, VAT_NAME);
	buf_init(&cd, 128);
	disposition(&cd, name && name[0] ? name : "attachment");
	resp_header(c->req, "Content-Disposition", cd.data);
	resp_header(c->req, "X-Content-Type-Options", "nosniff");
	resp_header(c->req, "Content-Security-Policy", "sandbox");
	resp_send(c->req, 200, safe_type(db_res_str(&r, 0, VAT_TYPE)),
	    db_res_str(&r, 0, VAT_CONTENT), db_res_len(&r, 0, VAT_CONTENT));
	buf_cleanup(&cd);
	db_res_free(&r);
	return 0;
}
