/*
 * api_tickets: /api/tickets — the agents' ticket list, a ticket with its
 * conversation, changes (status, priority, category, assignee), internal
 * notes, attachment downloads, and the agents one may assign.  Attachments
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
	char *assigned;
	char *automatic;
};

static void
query_cleanup(struct ticket_query *q)
{
	free(q->status);
	free(q->mailbox);
	free(q->q);
	free(q->cursor);
	free(q->limit);
	free(q->assigned);
	free(q->automatic);
}

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* ?assigned=me|none|<agent id>&automatic=true|false; NULL or what is wrong. */
static const char *
parse_work(struct call *c, struct ticket_query *q, struct ticket_filter *f)
{
	const char *a = nonempty(q->assigned), *m = nonempty(q->automatic);

	f->automatic = -1;
	if (m != NULL && strcmp(m, "true") != 0 && strcmp(m, "false") != 0)
		return "automatic must be true or false.";
	if (m != NULL)
		f->automatic = strcmp(m, "true") == 0;
	if (a == NULL)
		return NULL;
	f->assigned = TICKET_ASSIGNED_AGENT;
	if (strcmp(a, "none") == 0)
		f->assigned = TICKET_ASSIGNED_NONE;
	else if (strcmp(a, "me") == 0 && c->who.kind == WHO_SESSION)
		f->assignee = c->who.id;
	else if (strcmp(a, "me") == 0)
		return "assigned=me needs a signed-in agent: an API key is "
		       "nobody's.";
	else if (!valid_id(a, &f->assignee))
		return "assigned must be me, none or an agent id.";
	return NULL;
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
	q->assigned = req_query(c->req, "assigned");
	q->automatic = req_query(c->req, "automatic");
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
	return parse_work(c, q, f);
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

/* Characters (not bytes) of UTF-8 text s. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void
patch_category(json_t *v, struct ticket_change *ch, json_t *errors)
{
	const char *s = json_string_value(v);

	ch->set_category = 1;
	if (json_is_null(v) || (s != NULL && s[0] == '\0'))
		return;
	if (s == NULL || chars(s) > TICKET_CATEGORY_MAX || jsonx_has_control(s))
		jsonx_field_error(errors, "category",
		    "Must be text of at most 100 characters, or null.");
	else
		ch->category = s;
}

/* The assignee of a PATCH body: an active agent's id, or null. */
static void
patch_assignee(struct call *c, json_t *v, struct ticket_change *ch,
    json_t *errors)
{
	struct err err;
	int        yes = 0;

	ch->set_assignee = 1;
	if (json_is_null(v))
		return;
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		jsonx_field_error(errors, "assignee_id",
		    "Must be an agent's id, or null to unassign.");
		return;
	}
	ch->assignee = (uint64_t)json_integer_value(v);
	if (ticket_agent_active(c->app->db, ch->assignee, &yes, &err) == -1 ||
	    !yes)
		jsonx_field_error(errors, "assignee_id",
		    "There is no active agent with this id.");
}

/* The changes of a PATCH body into ch; -1 with errors filled. */
static int
patch_fields(struct call *c, json_t *in, struct ticket_change *ch,
    json_t *errors)
{
	static const char *const allowed[] = { "status", "priority", "category",
		"assignee_id", NULL };
	json_t                  *v;
	enum ticket_status       st;
	enum ticket_priority     pr;

	jsonx_unknown_fields(in, allowed, errors);
	if ((v = json_object_get(in, "status")) != NULL) {
		if (ticket_status_parse(json_string_value(v), &st) == -1)
			jsonx_field_error(errors, "status",
			    "Must be new, open, pending, resolved or closed.");
		else
			ch->status = ticket_status_names[st];
	}
	if ((v = json_object_get(in, "priority")) != NULL) {
		if (ticket_priority_parse(json_string_value(v), &pr) == -1)
			jsonx_field_error(errors, "priority",
			    "Must be low, normal, high or urgent.");
		else
			ch->priority = ticket_priority_names[pr];
	}
	if ((v = json_object_get(in, "category")) != NULL)
		patch_category(v, ch, errors);
	if ((v = json_object_get(in, "assignee_id")) != NULL)
		patch_assignee(c, v, ch, errors);
	if (json_object_size(in) == 0)
		jsonx_field_error(errors, "status",
		    "Give at least one of status, priority, category and "
		    "assignee_id.");
	return json_array_size(errors) > 0 ? -1 : 0;
}

static json_t *
from_to(const char *from, const char *to)
{
	return json_pack("{s:s?, s:s?}", "from", from, "to", to);
}

static json_t *
id_or_null(uint64_t id)
{
	return id ? json_integer((json_int_t)id) : json_null();
}

/* The audit detail: {field: {from, to}} of each field that changed. */
static json_t *
changes(const struct ticket_change *ch, const struct ticket_before *b)
{
	json_t *d = json_object();

	if (ch->status && strcmp(ch->status, b->status) != 0)
		json_object_set_new(d, "status",
		    from_to(b->status, ch->status));
	if (ch->priority && strcmp(ch->priority, b->priority) != 0)
		json_object_set_new(d, "priority",
		    from_to(b->priority, ch->priority));
	if (ch->set_category &&
	    (ch->category
	            ? !b->has_category || strcmp(ch->category, b->category) != 0
	            : b->has_category))
		json_object_set_new(d, "category",
		    from_to(b->has_category ? b->category : NULL,
		        ch->category));
	if (ch->set_assignee && ch->assignee != b->assignee)
		json_object_set_new(d, "assignee_id",
		    json_pack("{s:o, s:o}", "from", id_or_null(b->assignee),
		        "to", id_or_null(ch->assignee)));
	return d;
}

static uint64_t
agent_of(const struct call *c)
{
	return c->who.kind == WHO_SESSION ? c->who.id : 0;
}

/* PATCH /api/tickets/{id} {status?, priority?, category?, assignee_id?} */
int
api_ticket_update(struct call *c)
{
	struct ticket_change ch = { 0 };
	struct ticket_before before;
	struct err           err;
	json_t              *in, *errors, *detail;
	uint64_t             id;
	int                  rc;

	if (web_id(c, 0, &id) == -1 || web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	if (patch_fields(c, in, &ch, errors) == -1) {
		json_decref(in);
		return web_invalid(c, "Some fields need attention; see errors.",
		    errors);
	}
	json_decref(errors);
	rc = ticket_update(c->app->db, id, &ch, agent_of(c), &before, &err);
	if (rc == -1) {
		json_decref(in);
		return web_error(c, &err);
	}
	detail = changes(&ch, &before);
	json_decref(in);
	if (json_object_size(detail) > 0)
		web_audit(c, "ticket.update", "ticket", id, detail);
	else
		json_decref(detail);
	return answer(c, id);
}

#define NOTE_BODY_MAX (1024 * 1024)

/* POST /api/tickets/{id}/notes {"body"}: 201 the note action. */
int
api_ticket_note(struct call *c)
{
	static const char *const allowed[] = { "body", NULL };
	struct buf               b;
	struct err               err;
	json_t                  *in, *errors;
	const char              *body;
	uint64_t                 id;
	int                      rc;

	if (web_id(c, 0, &id) == -1 ||
	    web_body_cap(c, NOTE_BODY_MAX, &in) == -1)
		return -1;
	errors = json_array();
	jsonx_unknown_fields(in, allowed, errors);
	body = json_string_value(json_object_get(in, "body"));
	if (body == NULL || body[0] == '\0' || chars(body) > TICKET_NOTE_MAX)
		jsonx_field_error(errors, "body",
		    "Must be text of 1 to 100,000 characters.");
	if (json_array_size(errors) > 0) {
		json_decref(in);
		return web_invalid(c, "The note needs attention.", errors);
	}
	json_decref(errors);
	buf_init(&b, 1024);
	rc = ticket_note(c->app->db, id, agent_of(c), body, &b, &err);
	json_decref(in);
	if (rc == 0)
		web_audit(c, "ticket.note", "ticket", id, NULL);
	return web_reply(c, 201, rc, &b, &err);
}

/* GET /api/agents: the active agents, to assign tickets to. */
int
api_agent_list(struct call *c)
{
	struct buf b;
	struct err err;

	buf_init(&b, 1024);
	return web_reply(c, 200, ticket_agents(c->app->db, &b, &err), &b, &err);
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
