/*
 * view: rows to JSON.  Columns that may be NULL become JSON null; text
 * that is not valid UTF-8 (it should never be: msg.c cleans mail on the
 * way in) becomes null rather than breaking the whole answer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_view.h"
#include "utf8.h"
#include "valid.h"
#include "view.h"

static const char *const STATUSES[] = { "new", "open", "pending", "resolved",
	"closed", NULL };
static const char *const OUTCOMES[] = { "ticket_created", "ticket_updated",
	"ignored_by_rule", "suppressed_loop", "rejected", "error", "failed",
	"quarantined", NULL };

static int
one_of(const char *s, const char *const *list)
{
	for (size_t i = 0; s != NULL && list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* True if s is a ticket status. */
int
view_status_valid(const char *s)
{
	return one_of(s, STATUSES);
}

/* True if s is an incoming email outcome. */
int
view_outcome_valid(const char *s)
{
	return one_of(s, OUTCOMES);
}

static json_t *
str(const struct db_res *r, size_t row, size_t col)
{
	const char *s = db_res_str(r, row, col);
	json_t     *v;

	if (s == NULL)
		return json_null();
	v = json_stringn(s, db_res_len(r, row, col));
	return v ? v : json_null();
}

static json_t *
num(const struct db_res *r, size_t row, size_t col)
{
	if (db_res_str(r, row, col) == NULL)
		return json_null();
	return json_integer((json_int_t)db_res_int(r, row, col));
}

static json_t *
id_name(const struct db_res *r, size_t row, size_t id_col, size_t name_col)
{
	if (db_res_str(r, row, id_col) == NULL)
		return json_null();
	return json_pack("{s:o, s:o}", "id", num(r, row, id_col), "name",
	    str(r, row, name_col));
}

/* A ticket row (store_view_tickets/_ticket) as the API shows it. */
json_t *
view_ticket(const struct db_res *r, size_t i)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}, "
	                 "s:o, s:o, s:o}",
	    "id", num(r, i, VT_ID), "subject", str(r, i, VT_SUBJECT), "status",
	    str(r, i, VT_STATUS), "priority", str(r, i, VT_PRIORITY),
	    "category", str(r, i, VT_CATEGORY), "mailbox",
	    id_name(r, i, VT_MAILBOX_ID, VT_MAILBOX_NAME), "end_user", "id",
	    num(r, i, VT_USER_ID), "email", str(r, i, VT_USER_EMAIL), "name",
	    str(r, i, VT_USER_NAME), "created_at", str(r, i, VT_CREATED),
	    "updated_at", str(r, i, VT_UPDATED), "message_count",
	    num(r, i, VT_MESSAGES));
}

static json_t *
attachment(const struct db_res *r, size_t i, uint64_t ticket)
{
	char url[96];

	snprintf(url, sizeof url, "/api/tickets/%llu/attachments/%lld",
	    (unsigned long long)ticket, db_res_int(r, i, VAT_ID));
	return json_pack("{s:o, s:o, s:o, s:o, s:b, s:o, s:s}", "id",
	    num(r, i, VAT_ID), "name", str(r, i, VAT_NAME), "content_type",
	    str(r, i, VAT_TYPE), "size", num(r, i, VAT_SIZE), "inline",
	    db_res_int(r, i, VAT_INLINE) != 0, "content_id",
	    str(r, i, VAT_CONTENT_ID), "url", url);
}

/* The body as stored, cut at VIEW_BODY_MAX bytes on a character. */
static json_t *
body(const struct db_res *a, size_t i, uint64_t ticket, json_t *o)
{
	const char *s = db_res_str(a, i, VA_BODY);
	long long   size = db_res_int(a, i, VA_BODY_SIZE);
	size_t      len = s ? db_res_len(a, i, VA_BODY) : 0;
	int         cut = size > (long long)len;
	json_t     *v = NULL;
	char        url[96];

	if (s != NULL)
		v = json_stringn(s, utf8_cut(s, len, VIEW_BODY_MAX));
	json_object_set_new(o, "body", v ? v : json_null());
	json_object_set_new(o, "body_size", json_integer(size));
	json_object_set_new(o, "body_truncated", json_boolean(cut));
	snprintf(url, sizeof url, "/api/tickets/%llu/messages/%lld/body",
	    (unsigned long long)ticket, db_res_int(a, i, VA_ID));
	json_object_set_new(o, "body_url",
	    cut ? json_string(url) : json_null());
	return o;
}

static json_t *
action(const struct db_res *a, size_t i, const struct db_res *att,
    uint64_t ticket)
{
	long long id = db_res_int(a, i, VA_ID);
	json_t   *files = json_array();

	for (size_t j = 0; j < att->nrows; j++)
		if (db_res_int(att, j, VAT_ACTION_ID) == id)
			json_array_append_new(files,
			    attachment(att, j, ticket));
	return body(a, i, ticket,
	    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	              "s:o}",
	        "id", num(a, i, VA_ID), "kind", str(a, i, VA_KIND), "from",
	        str(a, i, VA_FROM), "to", str(a, i, VA_TO), "cc",
	        str(a, i, VA_CC), "subject", str(a, i, VA_SUBJECT),
	        "message_id", str(a, i, VA_MSGID), "created_at",
	        str(a, i, VA_CREATED), "incoming_email_id",
	        num(a, i, VA_INCOMING_ID), "agent_id", num(a, i, VA_AGENT_ID),
	        "attachments", files));
}

/*
 * A page of the conversation of ticket (store_view_action_page()): its
 * actions oldest first, each with the metadata of its attachments and a
 * body of at most VIEW_BODY_MAX bytes (body_truncated, body_url).
 */
json_t *
view_conversation(const struct action_rows *r, uint64_t ticket)
{
	json_t *list = json_array();

	for (size_t i = 0; i < r->actions.nrows; i++)
		json_array_append_new(list,
		    action(&r->actions, i, &r->files, ticket));
	return list;
}

/* r's cursor for the next (older) page: a JSON string, or null. */
json_t *
view_actions_cursor(const struct action_rows *r)
{
	char cur[24];

	if (r->older == 0)
		return json_null();
	snprintf(cur, sizeof cur, "%llu", (unsigned long long)r->older);
	return json_string(cur);
}

static json_t *
source(const struct db_res *r, size_t i)
{
	const char *s = db_res_str(r, i, VI_SOURCE);
	json_t     *v = NULL;

	if (s != NULL)
		v = json_loadb(s, db_res_len(r, i, VI_SOURCE), JSON_ALLOW_NUL,
		    NULL);
	return v ? v : json_null();
}

/*
 * An incoming_email row; detail adds to, cc, trace, sha256 and the Graph
 * JSON as received (parsed) to the list's members.
 */
json_t *
view_incoming(const struct db_res *r, size_t i, int detail)
{
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o}, s:o, "
	                      "s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "id", num(r, i, VI_ID), "mailbox",
	    id_name(r, i, VI_MAILBOX_ID, VI_MAILBOX_NAME), "graph_id",
	    str(r, i, VI_GRAPH_ID), "attempt", num(r, i, VI_ATTEMPT),
	    "message_id", str(r, i, VI_MSGID), "from", "address",
	    str(r, i, VI_FROM), "name", str(r, i, VI_FROM_NAME), "subject",
	    str(r, i, VI_SUBJECT), "received_at", str(r, i, VI_RECEIVED),
	    "created_at", str(r, i, VI_CREATED), "size", num(r, i, VI_SIZE),
	    "outcome", str(r, i, VI_OUTCOME), "automatic",
	    str(r, i, VI_AUTOMATIC), "rule",
	    id_name(r, i, VI_RULE_ID, VI_RULE_NAME), "ticket_id",
	    num(r, i, VI_TICKET_ID), "state", str(r, i, VI_STATE));

	if (o != NULL) {
		json_object_set_new(o, "ack", str(r, i, VI_ACK));
		json_object_set_new(o, "failures", num(r, i, VI_FAILURES));
		json_object_set_new(o, "error", str(r, i, VI_ERROR));
		json_object_set_new(o, "next_try_at", str(r, i, VI_NEXT_TRY));
		json_object_set_new(o, "retry_requested",
		    json_boolean(db_res_int(r, i, VI_RETRY) != 0));
		json_object_set_new(o, "latest",
		    json_boolean(db_res_int(r, i, VI_LATEST) != 0));
	}

	if (o != NULL && detail) {
		json_object_set_new(o, "to", str(r, i, VI_TO));
		json_object_set_new(o, "cc", str(r, i, VI_CC));
		json_object_set_new(o, "trace", str(r, i, VI_TRACE));
		json_object_set_new(o, "sha256", str(r, i, VI_SHA256));
		json_object_set_new(o, "source", source(r, i));
	}
	return o;
}

/* The cursor after ticket row i: "<updated_at as unix time>.<id>". */
void
view_ticket_cursor(const struct db_res *r, size_t i, char *out, size_t outsz)
{
	snprintf(out, outsz, "%lld.%lld", db_res_int(r, i, VT_UPDATED_UNIX),
	    db_res_int(r, i, VT_ID));
}

/* Parse a ticket cursor; returns 0, or -1 if it is not one of ours. */
int
view_ticket_cursor_parse(const char *s, long long *unix_time, uint64_t *id)
{
	const char *dot = strchr(s, '.');
	char        head[24];
	uint64_t    t;
	size_t      n;

	if (dot == NULL)
		return -1;
	n = (size_t)(dot - s);
	if (n == 0 || n >= sizeof head)
		return -1;
	memcpy(head, s, n);
	head[n] = '\0';
	if (!valid_id(head, &t) || !valid_id(dot + 1, id) || t > 1LL << 40)
		return -1;
	*unix_time = (long long)t;
	return 0;
}

/* The two-digit number at s, or -1 if s does not start with two digits. */
static int
two(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/*
 * A date filter: "YYYY-MM-DD" (the start of that day, or its last second
 * when end_of_day) or "YYYY-MM-DDTHH:MM:SS[.fff]Z", into out as
 * "YYYY-MM-DDTHH:MM:SSZ".  Returns 0, or -1 if in is neither.
 */
int
view_time_parse(const char *in, int end_of_day, char out[21])
{
	size_t n = strlen(in);
	char   date[11];
	int    hh, mm, ss;

	if (n < 10)
		return -1;
	memcpy(date, in, 10);
	date[10] = '\0';
	if (!valid_date(date))
		return -1;
	if (n == 10) {
		snprintf(out, 21, "%sT%sZ", date,
		    end_of_day ? "23:59:59" : "00:00:00");
		return 0;
	}
	if (n < 20 || in[10] != 'T' || in[13] != ':' || in[16] != ':' ||
	    in[n - 1] != 'Z')
		return -1;
	hh = two(in + 11);
	mm = two(in + 14);
	ss = two(in + 17);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59)
		return -1;
	if (n > 20 && in[19] != '.')
		return -1;
	for (size_t i = 20; i + 1 < n; i++)
		if (!isdigit((unsigned char)in[i]))
			return -1;
	snprintf(out, 21, "%sT%02d:%02d:%02dZ", date, hh, mm, ss);
	return 0;
}

/*
 * A page size from ?limit= (NULL or "": the default).  Returns 0, or -1
 * unless it is 1 to VIEW_LIMIT_MAX.
 */
int
view_limit_parse(const char *s, long *limit)
{
	uint64_t n;

	*limit = VIEW_LIMIT_DEFAULT;
	if (s == NULL || s[0] == '\0')
		return 0;
	if (!valid_id(s, &n) || n > VIEW_LIMIT_MAX)
		return -1;
	*limit = (long)n;
	return 0;
}

/* True if s is NUL-terminated valid UTF-8 of at most max bytes. */
int
view_text_ok(const char *s, size_t max)
{
	json_t *v;

	if (strlen(s) > max)
		return 0;
	v = json_string(s);
	json_decref(v);
	return v != NULL;
}
