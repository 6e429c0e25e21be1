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
#include "adapt/jsonx.h"
#include "domain/paging.h"
#include "domain/ticket.h"
#include "base/valid.h"
#include "domain/view.h"

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
	enum ticket_status st;
	struct page_key    after;

	q->status = req_query(c->req, "status");
	q->mailbox = req_query(c->req, "mailbox");
	q->q = req_query(c->req, "q");
	q->cursor = req_query(c->req, "cursor");
	q->limit = req_query(c->req, "limit");
	f->q = nonempty(q->q);
	if (nonempty(q->status) && ticket_status_parse(q->status, &st) == -1)
		return "status must be new, open, pending, resolved or closed.";
	f->status = nonempty(q->status) ? ticket_status_names[st] : NULL;
	if (nonempty(q->mailbox) && !valid_id(q->mailbox, &f->mailbox_id))
		return "mailbox must be a mailbox id.";
	if (f->q != NULL && !view_text_ok(f->q, Q_MAX))
		return "q must be UTF-8 text of at most 200 bytes.";
	if (page_cursor_parse(q->cursor, &after) == -1)
		return "cursor is not valid: use next_cursor of the previous "
		       "page.";
	f->after_unix = after.at;
	f->after_id = after.id;
	if (page_limit_parse(q->limit, VIEW_LIMIT_DEFAULT, VIEW_LIMIT_MAX,
	        &f->limit) == -1)
		return "limit must be 1 to 200.";
	return NULL;
}

/* GET /api/tickets?status=&mailbox=&q=&cursor=&limit= */
int
api_ticket_list(struct call *c)
{
	struct ticket_query  q = { 0 };
	struct ticket_filter f = { 0 };
	struct buf           b;
	struct err           err;
	const char          *bad = parse_filter(c, &q, &f);
	int                  rc;

	if (bad != NULL) {
		query_cleanup(&q);
		return web_problem(c, 400, bad, NULL);
	}
	buf_init(&b, 16384);
	rc = ticket_list(c->app->db, &f, &b, &err);
	query_cleanup(&q);
	return web_reply(c, 200, rc, &b, &err);
}

/* Ticket id with the newest page of its conversation. */
static int
answer(struct call *c, uint64_t id)
{
	struct buf b;
	struct err err;

	buf_init(&b, 16384);
	return web_reply(c, 200, ticket_show(c->app->db, id, &b, &err), &b,
	    &err);
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
	char           *cur = req_query(c->req, "cursor");
	char           *lim = req_query(c->req, "limit");
	const char     *bad = NULL;
	struct page_key k;

	if (page_cursor_parse(cur, &k) == -1 || k.at != 0)
		bad = "cursor is not valid: use next_cursor of the previous "
		      "page.";
	else if (page_limit_parse(lim, VIEW_ACTIONS_DEFAULT, VIEW_ACTIONS_MAX,
	             &pg->limit) == -1)
		bad = "limit must be 1 to 100.";
	pg->before = k.id;
	free(cur);
	free(lim);
	return bad;
}

/* GET /api/tickets/{id}/messages?cursor=&limit=: older pages. */
int
api_ticket_messages(struct call *c)
{
	struct action_page pg = { 0 };
	struct buf         b;
	struct err         err;
	const char        *bad;

	if (web_id(c, 0, &pg.ticket) == -1)
		return -1;
	if ((bad = parse_page(c, &pg)) != NULL)
		return web_problem(c, 400, bad, NULL);
	buf_init(&b, 16384);
	return web_reply(c, 200, ticket_messages(c->app->db, &pg, &b, &err), &b,
	    &err);
}

/* GET /api/tickets/{id}/messages/{aid}/body: the whole body, as text. */
int
api_ticket_message_body(struct call *c)
{
	struct ticket_file f;
	struct err         err;
	uint64_t           id, aid;

	if (web_id(c, 0, &id) == -1 || web_id(c, 1, &aid) == -1)
		return -1;
	if (ticket_body(c->app->db, id, aid, &f, &err) == -1)
		return web_error(c, &err);
	resp_header(c->req, "X-Content-Type-Options", "nosniff");
	resp_header(c->req, "Content-Security-Policy", "sandbox");
	resp_send(c->req, 200, f.type, f.data, f.len);
	ticket_file_free(&f);
	return 0;
}

/* The new status of a PATCH body; -1 with errors filled. */
static int
patch_status(json_t *in, enum ticket_status *st, json_t *errors)
{
	static const char *const allowed[] = { "status", NULL };
	json_t                  *v = json_object_get(in, "status");

	jsonx_unknown_fields(in, allowed, errors);
	if (v == NULL)
		jsonx_field_error(errors, "status", "Required.");
	else if (ticket_status_parse(json_string_value(v), st) == -1)
		jsonx_field_error(errors, "status",
		    "Must be new, open, pending, resolved or closed.");
	return json_array_size(errors) > 0 ? -1 : 0;
}

/* PATCH /api/tickets/{id} {"status": "..."} */
int
api_ticket_update(struct call *c)
{
	struct err         err;
	json_t            *in, *errors;
	enum ticket_status st;
	char               old[16];
	uint64_t           id, agent;
	int                rc;

	if (web_id(c, 0, &id) == -1 || web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	rc = patch_status(in, &st, errors);
	json_decref(in);
	if (rc == -1)
		return web_invalid(c, "Some fields need attention; see errors.",
		    errors);
	json_decref(errors);
	agent = c->who.kind == WHO_SESSION ? c->who.id : 0;
	if (ticket_set_status(c->app->db, id, st, agent, old, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "ticket.update", "ticket", id,
	    json_pack("{s:{s:s, s:s}}", "status", "from", old, "to",
	        ticket_status_names[st]));
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
	struct ticket_file f;
	struct err         err;
	struct buf         cd;
	uint64_t           id, aid;

	if (web_id(c, 0, &id) == -1 || web_id(c, 1, &aid) == -1)
		return -1;
	if (ticket_attachment(c->app->db, id, aid, &f, &err) == -1)
		return web_error(c, &err);
	buf_init(&cd, 128);
	disposition(&cd, f.name && f.name[0] ? f.name : "attachment");
	resp_header(c->req, "Content-Disposition", cd.data);
	resp_header(c->req, "X-Content-Type-Options", "nosniff");
	resp_header(c->req, "Content-Security-Policy", "sandbox");
	resp_send(c->req, 200, safe_type(f.type), f.data, f.len);
	buf_cleanup(&cd);
	ticket_file_free(&f);
	return 0;
}
