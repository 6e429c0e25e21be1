/*
 * view: rows to the API's JSON, written with the jw writer (lib/adapt/jsonx.c).
 * Columns that may be NULL become JSON null; text that is not valid UTF-8
 * (it should never be: mail/msg.c cleans mail on the way in) becomes null
 * rather than breaking the whole answer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outgoing.h"
#include "store/incoming.h"
#include "store/ticket_view.h"
#include "base/utf8.h"
#include "base/valid.h"
#include "domain/view.h"

/* Column col of row i as a string, or null. */
static void
str(struct jw *w, const struct db_res *r, size_t i, size_t col)
{
	const char *s = db_res_str(r, i, col);
	size_t      n = s ? db_res_len(r, i, col) : 0;

	if (s == NULL || !utf8_valid(s, n))
		jw_null(w);
	else
		jw_strn(w, s, n);
}

/* Column col of row i as a string; "" is null too. */
static void
str_or_null(struct jw *w, const struct db_res *r, size_t i, size_t col)
{
	const char *s = db_res_str(r, i, col);

	if (s != NULL && s[0] == '\0')
		jw_null(w);
	else
		str(w, r, i, col);
}

/* Column col of row i as a number, or null. */
static void
num(struct jw *w, const struct db_res *r, size_t i, size_t col)
{
	if (db_res_str(r, i, col) == NULL)
		jw_null(w);
	else
		jw_int(w, db_res_int(r, i, col));
}

static void
key_str(struct jw *w, const char *key, const struct db_res *r, size_t i,
    size_t col)
{
	jw_key(w, key);
	str(w, r, i, col);
}

static void
key_num(struct jw *w, const char *key, const struct db_res *r, size_t i,
    size_t col)
{
	jw_key(w, key);
	num(w, r, i, col);
}

/* {"id", "name"} of a row that may have none (null). */
static void
id_name(struct jw *w, const char *key, const struct db_res *r, size_t i,
    size_t id_col, size_t name_col)
{
	jw_key(w, key);
	if (db_res_str(r, i, id_col) == NULL) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	key_num(w, "id", r, i, id_col);
	key_str(w, "name", r, i, name_col);
	jw_close(w, '}');
}

/* {"id", "username", "name"} of an agent, or null when id_col is NULL. */
static void
person(struct jw *w, const char *key, const struct db_res *r, size_t i,
    size_t id_col, size_t username_col, size_t name_col)
{
	jw_key(w, key);
	if (db_res_str(r, i, id_col) == NULL ||
	    db_res_str(r, i, username_col) == NULL) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	key_num(w, "id", r, i, id_col);
	key_str(w, "username", r, i, username_col);
	key_str(w, "name", r, i, name_col);
	jw_close(w, '}');
}

/* The members of a ticket row (store_ticket_list/_ticket), unclosed. */
void
view_ticket_open(struct jw *w, const struct db_res *r, size_t i)
{
	jw_open(w, '{');
	key_num(w, "id", r, i, VT_ID);
	key_str(w, "subject", r, i, VT_SUBJECT);
	key_str(w, "status", r, i, VT_STATUS);
	key_str(w, "priority", r, i, VT_PRIORITY);
	key_str(w, "category", r, i, VT_CATEGORY);
	id_name(w, "mailbox", r, i, VT_MAILBOX_ID, VT_MAILBOX_NAME);
	jw_key(w, "end_user");
	jw_open(w, '{');
	key_num(w, "id", r, i, VT_USER_ID);
	key_str(w, "email", r, i, VT_USER_EMAIL);
	key_str(w, "name", r, i, VT_USER_NAME);
	jw_close(w, '}');
	key_str(w, "created_at", r, i, VT_CREATED);
	key_str(w, "updated_at", r, i, VT_UPDATED);
	key_num(w, "message_count", r, i, VT_MESSAGES);
	person(w, "assignee", r, i, VT_ASSIGNEE_ID, VT_ASSIGNEE_USERNAME,
	    VT_ASSIGNEE_NAME);
	jw_key(w, "automatic");
	jw_bool(w, db_res_int(r, i, VT_AUTOMATIC) != 0);
}

/* A ticket row as the API's list shows it. */
void
view_ticket(struct jw *w, const struct db_res *r, size_t i)
{
	view_ticket_open(w, r, i);
	jw_close(w, '}');
}

static void
attachment(struct jw *w, const struct db_res *r, size_t i, uint64_t ticket)
{
	char url[96];

	snprintf(url, sizeof url, "/api/tickets/%llu/attachments/%lld",
	    (unsigned long long)ticket, db_res_int(r, i, VAT_ID));
	jw_open(w, '{');
	key_num(w, "id", r, i, VAT_ID);
	key_str(w, "name", r, i, VAT_NAME);
	key_str(w, "content_type", r, i, VAT_TYPE);
	key_num(w, "size", r, i, VAT_SIZE);
	jw_key(w, "inline");
	jw_bool(w, db_res_int(r, i, VAT_INLINE) != 0);
	key_str(w, "content_id", r, i, VAT_CONTENT_ID);
	jw_key(w, "url");
	jw_str(w, url);
	jw_close(w, '}');
}

/* The body as stored, cut at VIEW_BODY_MAX bytes on a character. */
static void
body(struct jw *w, const struct db_res *a, size_t i, uint64_t ticket)
{
	const char *s = db_res_str(a, i, VA_BODY);
	long long   size = db_res_int(a, i, VA_BODY_SIZE);
	size_t      len = s ? db_res_len(a, i, VA_BODY) : 0;
	int         cut = size > (long long)len;
	char        url[96];

	jw_key(w, "body");
	len = s ? utf8_cut(s, len, VIEW_BODY_MAX) : 0;
	if (s == NULL || !utf8_valid(s, len))
		jw_null(w);
	else
		jw_strn(w, s, len);
	jw_key(w, "body_size");
	jw_int(w, size);
	jw_key(w, "body_truncated");
	jw_bool(w, cut);
	snprintf(url, sizeof url, "/api/tickets/%llu/messages/%lld/body",
	    (unsigned long long)ticket, db_res_int(a, i, VA_ID));
	jw_key(w, "body_url");
	if (cut)
		jw_str(w, url);
	else
		jw_null(w);
}

/* email_out: its outgoing_email row {id, status, error, kind}, or null. */
static void
outgoing_of(struct jw *w, const struct db_res *a, size_t i)
{
	jw_key(w, "outgoing");
	if (db_res_str(a, i, VA_OUT_ID) == NULL) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	key_num(w, "id", a, i, VA_OUT_ID);
	key_str(w, "status", a, i, VA_OUT_STATUS);
	jw_key(w, "error");
	str_or_null(w, a, i, VA_OUT_ERROR);
	key_str(w, "kind", a, i, VA_OUT_KIND);
	jw_close(w, '}');
}

/*
 * Action row i of rows (store_ticket_actions()) of ticket, with its
 * attachments' metadata; email_in says whether it was automatic mail,
 * email_out what became of its mail.
 */
void
view_action(struct jw *w, const struct action_rows *rows, size_t i,
    uint64_t ticket)
{
	const struct db_res *a = &rows->actions, *att = &rows->files;
	long long            id = db_res_int(a, i, VA_ID);
	const char          *kind = db_res_str(a, i, VA_KIND);

	jw_open(w, '{');
	key_num(w, "id", a, i, VA_ID);
	key_str(w, "kind", a, i, VA_KIND);
	key_str(w, "from", a, i, VA_FROM);
	key_str(w, "to", a, i, VA_TO);
	key_str(w, "cc", a, i, VA_CC);
	key_str(w, "subject", a, i, VA_SUBJECT);
	key_str(w, "message_id", a, i, VA_MSGID);
	key_str(w, "created_at", a, i, VA_CREATED);
	key_num(w, "incoming_email_id", a, i, VA_INCOMING_ID);
	key_num(w, "agent_id", a, i, VA_AGENT_ID);
	person(w, "author", a, i, VA_AGENT_ID, VA_AUTHOR_USERNAME,
	    VA_AUTHOR_NAME);
	if (strcmp(kind, "email_in") == 0) {
		jw_key(w, "automatic");
		jw_bool(w, db_res_int(a, i, VA_AUTOMATIC) != 0);
	} else if (strcmp(kind, "email_out") == 0) {
		outgoing_of(w, a, i);
	}
	jw_key(w, "attachments");
	jw_open(w, '[');
	for (size_t j = 0; j < att->nrows; j++)
		if (db_res_int(att, j, VAT_ACTION_ID) == id)
			attachment(w, att, j, ticket);
	jw_close(w, ']');
	body(w, a, i, ticket);
	jw_close(w, '}');
}

/*
 * A page of the conversation of ticket (store_ticket_actions()): its
 * actions oldest first, each with the metadata of its attachments and a
 * body of at most VIEW_BODY_MAX bytes (body_truncated, body_url).
 */
void
view_conversation(struct jw *w, const struct action_rows *r, uint64_t ticket)
{
	jw_open(w, '[');
	for (size_t i = 0; i < r->actions.nrows; i++)
		view_action(w, r, i, ticket);
	jw_close(w, ']');
}

static void
source(struct jw *w, const struct db_res *r, size_t i)
{
	const char *s = db_res_str(r, i, VI_SOURCE);
	json_t     *v = NULL;

	if (s != NULL)
		v = json_loadb(s, db_res_len(r, i, VI_SOURCE), JSON_ALLOW_NUL,
		    NULL);
	jw_json(w, v);
	json_decref(v);
}

static void
incoming_detail(struct jw *w, const struct db_res *r, size_t i)
{
	key_str(w, "to", r, i, VI_TO);
	key_str(w, "cc", r, i, VI_CC);
	key_str(w, "trace", r, i, VI_TRACE);
	key_str(w, "sha256", r, i, VI_SHA256);
	jw_key(w, "source");
	source(w, r, i);
}

/*
 * An incoming_email row; detail adds to, cc, trace, sha256 and the Graph
 * JSON as received (parsed) to the list's members.
 */
void
view_incoming(struct jw *w, const struct db_res *r, size_t i, int detail)
{
	jw_open(w, '{');
	key_num(w, "id", r, i, VI_ID);
	id_name(w, "mailbox", r, i, VI_MAILBOX_ID, VI_MAILBOX_NAME);
	key_str(w, "graph_id", r, i, VI_GRAPH_ID);
	key_num(w, "attempt", r, i, VI_ATTEMPT);
	key_str(w, "message_id", r, i, VI_MSGID);
	jw_key(w, "from");
	jw_open(w, '{');
	key_str(w, "address", r, i, VI_FROM);
	key_str(w, "name", r, i, VI_FROM_NAME);
	jw_close(w, '}');
	key_str(w, "subject", r, i, VI_SUBJECT);
	key_str(w, "received_at", r, i, VI_RECEIVED);
	key_str(w, "created_at", r, i, VI_CREATED);
	key_num(w, "size", r, i, VI_SIZE);
	key_str(w, "outcome", r, i, VI_OUTCOME);
	key_str(w, "automatic", r, i, VI_AUTOMATIC);
	id_name(w, "rule", r, i, VI_RULE_ID, VI_RULE_NAME);
	key_num(w, "ticket_id", r, i, VI_TICKET_ID);
	key_str(w, "state", r, i, VI_STATE);
	jw_key(w, "ack");
	if (db_res_str(r, i, VI_ACK_STATUS) != NULL)
		str(w, r, i, VI_ACK_STATUS);
	else
		str(w, r, i, VI_ACK);
	jw_key(w, "acknowledgement");
	if (db_res_str(r, i, VI_ACK_ID) == NULL) {
		jw_null(w);
	} else {
		jw_open(w, '{');
		key_str(w, "status", r, i, VI_ACK_STATUS);
		key_num(w, "outgoing_id", r, i, VI_ACK_ID);
		jw_close(w, '}');
	}
	key_num(w, "failures", r, i, VI_FAILURES);
	key_str(w, "error", r, i, VI_ERROR);
	key_str(w, "next_try_at", r, i, VI_NEXT_TRY);
	jw_key(w, "retry_requested");
	jw_bool(w, db_res_int(r, i, VI_RETRY) != 0);
	jw_key(w, "latest");
	jw_bool(w, db_res_int(r, i, VI_LATEST) != 0);
	if (detail)
		incoming_detail(w, r, i);
	jw_close(w, '}');
}

/* An outgoing_email row (store_outgoing_list(), enum outgoing_list_col). */
void
view_outgoing(struct jw *w, const struct db_res *r, size_t i)
{
	jw_open(w, '{');
	key_num(w, "id", r, i, VO_ID);
	key_num(w, "mailbox_id", r, i, VO_MAILBOX_ID);
	id_name(w, "mailbox", r, i, VO_MAILBOX_ID, VO_MAILBOX_NAME);
	jw_key(w, "ticket_id");
	if (db_res_int(r, i, VO_TICKET_ID) != 0)
		jw_int(w, db_res_int(r, i, VO_TICKET_ID));
	else
		jw_null(w);
	key_str(w, "kind", r, i, VO_KIND);
	key_str(w, "to", r, i, VO_TO);
	jw_key(w, "cc");
	str_or_null(w, r, i, VO_CC);
	key_str(w, "subject", r, i, VO_SUBJECT);
	key_str(w, "status", r, i, VO_STATUS);
	key_num(w, "attempts", r, i, VO_ATTEMPTS);
	key_str(w, "next_attempt_at", r, i, VO_NEXT_ATTEMPT);
	jw_key(w, "last_error");
	str_or_null(w, r, i, VO_LAST_ERROR);
	jw_key(w, "guidance");
	str_or_null(w, r, i, VO_GUIDANCE);
	key_str(w, "created_at", r, i, VO_CREATED);
	jw_key(w, "sent_at");
	str_or_null(w, r, i, VO_SENT);
	key_str(w, "message_id", r, i, VO_MSGID);
	jw_close(w, '}');
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

/* True if s is NUL-terminated valid UTF-8 of at most max bytes. */
int
view_text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n <= max && utf8_valid(s, n);
}

/* An incoming mail as a list shows it (view_incoming without detail). */
void
view_incoming_item(struct jw *w, const struct db_res *r, size_t row)
{
	view_incoming(w, r, row, 0);
}
