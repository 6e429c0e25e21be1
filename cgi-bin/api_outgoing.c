/*
 * api_outgoing: agent replies (POST /api/tickets/{id}/reply) and the
 * outgoing queue (GET /api/outgoing-emails, POST …/{id}/retry).  The API
 * only queues; the scanner sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "microsoft/guidance.h"
#include "adapt/jsonx.h"
#include "domain/sending.h"
#include "domain/outgoing.h"
#include "base/valid.h"
#include "base/xmalloc.h"

/* What Graph takes in one sendMail (about 4 MB) once MIME and base64. */
#define REPLY_ATTACH_MAX (2u << 20)
#define REPLY_BODY_MAX   (REPLY_ATTACH_MAX / 3 * 4 + WEB_BODY_MAX)
#define REPLY_MAX_ATT    10

struct reply_in {
	const char      *body;
	struct buf       cc;
	struct reply_att att[REPLY_MAX_ATT];
	unsigned char   *raw[REPLY_MAX_ATT];
	size_t           natt;
};

static void
reply_in_cleanup(struct reply_in *in)
{
	buf_cleanup(&in->cc);
	for (size_t i = 0; i < in->natt; i++)
		free(in->raw[i]);
}

static void
parse_cc(json_t *cc, struct reply_in *in, json_t *errors)
{
	size_t  i;
	json_t *v;

	if (cc == NULL || json_is_null(cc))
		return;
	if (!json_is_array(cc) || json_array_size(cc) > 20) {
		jsonx_field_error(errors, "cc",
		    "Give up to 20 addresses as a list.");
		return;
	}
	json_array_foreach (cc, i, v) {
		const char *a = json_string_value(v);

		if (a == NULL || !valid_email(a)) {
			jsonx_field_error(errors, "cc",
			    "\"%.100s\" is not an email address.",
			    a ? a : "(not a string)");
			return;
		}
		buf_printf(&in->cc, "%s%s", in->cc.len ? ", " : "", a);
	}
}

static void
parse_attachments(json_t *arr, struct reply_in *in, json_t *errors)
{
	static const char *const fields[] = { "name", "content_type",
		"content_base64", NULL };
	size_t                   i, total = 0;
	json_t                  *a;

	if (arr == NULL || json_is_null(arr))
		return;
	if (!json_is_array(arr) || json_array_size(arr) > REPLY_MAX_ATT) {
		jsonx_field_error(errors, "attachments",
		    "Give up to %d attachments as a list.", REPLY_MAX_ATT);
		return;
	}
	json_array_foreach (arr, i, a) {
		const char *name = jsonx_str(a, "name");
		const char *type = jsonx_str(a, "content_type");
		const char *b64 = jsonx_str(a, "content_base64");
		size_t      len = 0, max;

		if (!json_is_object(a) ||
		    jsonx_unknown_fields(a, fields, errors) > 0 ||
		    name == NULL || name[0] == '\0' || strlen(name) > 255 ||
		    type == NULL || strchr(type, '/') == NULL ||
		    strlen(type) > 255 || b64 == NULL) {
			jsonx_field_error(errors, "attachments",
			    "Each attachment needs name, content_type (e.g. "
			    "application/pdf) and content_base64.");
			return;
		}
		max = strlen(b64) / 4 * 3 + 3;
		in->raw[in->natt] = xmalloc(max);
		if (sodium_base642bin(in->raw[in->natt], max, b64, strlen(b64),
		        NULL, &len, NULL,
		        sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(in->raw[in->natt]);
			jsonx_field_error(errors, "attachments",
			    "%.100s: content_base64 is not base64.", name);
			return;
		}
		total += len;
		in->att[in->natt].name = name;
		in->att[in->natt].content_type = type;
		in->att[in->natt].data = in->raw[in->natt];
		in->att[in->natt].len = len;
		in->natt++;
	}
	if (total > REPLY_ATTACH_MAX)
		jsonx_field_error(errors, "attachments",
		    "Attachments may add up to 2 MiB per reply (Microsoft "
		    "Graph takes about 4 MB per message once encoded).");
}

static int
parse_reply(json_t *obj, struct reply_in *in, json_t *errors)
{
	static const char *const fields[] = { "body", "cc", "attachments",
		NULL };

	memset(in, 0, sizeof *in);
	buf_init(&in->cc, 64);
	jsonx_unknown_fields(obj, fields, errors);
	in->body = jsonx_str(obj, "body");
	if (in->body == NULL || in->body[strspn(in->body, " \t\r\n")] == '\0' ||
	    strlen(in->body) > 100000)
		jsonx_field_error(errors, "body",
		    "Write the reply (up to 100,000 characters).");
	parse_cc(json_object_get(obj, "cc"), in, errors);
	parse_attachments(json_object_get(obj, "attachments"), in, errors);
	return json_array_size(errors) > 0 ? -1 : 0;
}

/* {"id", "ticket_id"?, "status": "queued"}: mail id is in the queue. */
static int
queued(struct call *c, int status, uint64_t id, uint64_t ticket)
{
	struct buf b;
	struct jw  w;

	buf_init(&b, 128);
	jw_init(&w, &b);
	jw_open(&w, '{');
	jw_key(&w, "id");
	jw_int(&w, (long long)id);
	if (ticket != 0) {
		jw_key(&w, "ticket_id");
		jw_int(&w, (long long)ticket);
	}
	jw_key(&w, "status");
	jw_str(&w, outgoing_status_name(OUTGOING_QUEUED));
	jw_close(&w, '}');
	web_json_text(c, status, &b);
	buf_cleanup(&b);
	return 0;
}

/* POST /api/tickets/{id}/reply {"body", "cc"?, "attachments"?} */
int
api_ticket_reply(struct call *c)
{
	struct reply_in in;
	struct err      err;
	json_t         *obj, *errors = json_array();
	uint64_t        ticket, id;
	char            loc[64];
	int             rc;

	if (web_id(c, 0, &ticket) == -1 ||
	    web_body_cap(c, REPLY_BODY_MAX, &obj) == -1) {
		json_decref(errors);
		return -1;
	}
	if (parse_reply(obj, &in, errors) == -1) {
		reply_in_cleanup(&in);
		json_decref(obj);
		return web_invalid(c, "The reply needs attention.", errors);
	}
	json_decref(errors);
	rc = sending_reply(c->app->db, ticket,
	    c->who.kind == WHO_SESSION ? c->who.id : 0, in.body, in.cc.data,
	    in.att, in.natt, &id, &err);
	reply_in_cleanup(&in);
	json_decref(obj);
	if (rc == -1)
		return web_error(c, &err);
	web_audit(c, "ticket.reply", "ticket", ticket,
	    json_pack("{s:I}", "outgoing_email_id", (json_int_t)id));
	snprintf(loc, sizeof loc, "/api/outgoing-emails?ticket=%llu",
	    (unsigned long long)ticket);
	resp_header(c->req, "Location", loc);
	return queued(c, 202, id, ticket);
}

static int
query_id(struct call *c, const char *name, uint64_t *out)
{
	char *v = req_query(c->req, name);
	int   ok = v == NULL || valid_id(v, out);

	free(v);
	return ok ? 0 : -1;
}

/* GET /api/outgoing-emails?mailbox=&ticket=&status=&cursor=&limit= */
int
api_outgoing_list(struct call *c)
{
	struct outgoing_filter f = { .status = "" };
	struct page_key        after;
	struct buf             b;
	struct err             err;
	enum outgoing_status   st;
	char                  *status = req_query(c->req, "status");
	char                  *cursor = req_query(c->req, "cursor");
	char                  *limit = req_query(c->req, "limit");
	int                    bad;

	bad = (status != NULL && outgoing_status_parse(status, &st) == -1) ||
	    query_id(c, "mailbox", &f.mailbox) == -1 ||
	    query_id(c, "ticket", &f.ticket) == -1 ||
	    page_cursor_parse(cursor, &after) == -1 || after.at != 0 ||
	    page_limit_parse(limit, OUTGOING_LIMIT_DEFAULT, OUTGOING_LIMIT_MAX,
	        &f.limit) == -1;
	f.status = status != NULL && !bad ? outgoing_status_name(st) : "";
	free(cursor);
	free(limit);
	free(status);
	if (bad)
		return web_problem(c, 400,
		    "Filters: mailbox and ticket are ids, cursor the "
		    "next_cursor of the previous page, limit 1 to 200, status "
		    "one of queued, sending, sent, failed, held.",
		    NULL);
	f.before = after.id;
	buf_init(&b, 16384);
	return web_reply(c, 200, outgoing_list(c->app->db, &f, &b, &err), &b,
	    &err);
}

/* POST /api/outgoing-emails/{id}/retry: failed mail back in the queue. */
int
api_outgoing_retry(struct call *c)
{
	struct err err;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (outgoing_retry(c->app->db, id, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "outgoing_email.retry", "outgoing_email", id, NULL);
	return queued(c, 200, id, 0);
}
