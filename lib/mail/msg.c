/*
 * msg: Graph's message JSON (docs/graph-contract.md 4.3) into struct
 * msg.  Graph is trusted for shape only as far as we check it: the id must
 * be a sane string, everything else degrades to "" with a note, and every
 * string is capped (on a UTF-8 character boundary, lib/base/utf8.c) so a
 * hostile or broken answer cannot blow up memory downstream, and so every
 * value fits the column it is stored in (docs/ARCHITECTURE.md "Column
 * limits").
 * Notes never quote mail data: they name fields only (plain ASCII).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/msg.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

/* ticket_action.body is a MEDIUMTEXT */
_Static_assert(MSG_BODY_MAX < (1 << 24), "the body cap must fit MEDIUMTEXT");

static void
note(struct msg *m, const char *what)
{
	if (m->notes.len > 0)
		buf_puts(&m->notes, "; ");
	buf_puts(&m->notes, what);
}

/*
 * A JSON string with NUL characters (Graph sends them as \u0000) as a C
 * string: each NUL becomes repl, so nothing after it is lost.
 */
static char *
without_nul(const char *s, size_t len, const char *repl)
{
	struct buf b;

	buf_init(&b, len + 16);
	for (const char *p = s, *end = s + len; p < end;) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t      n = z ? (size_t)(z - p) : (size_t)(end - p);

		buf_append(&b, p, n);
		if (z == NULL)
			break;
		buf_puts(&b, repl);
		p = z + 1;
	}
	return b.data;
}

/*
 * The string at key, cut to max bytes on a character boundary; NULs in it
 * become U+FFFD (text) or are removed (in_header: addresses and names,
 * where every control character goes).
 */
static char *
str_of(struct msg *m, json_t *o, const char *key, size_t max, int in_header)
{
	json_t     *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	char        what[96];
	char       *nul = NULL;
	int         cut;
	char       *r;

	if (v != NULL && !json_is_null(v) && s == NULL) {
		snprintf(what, sizeof what, "%s is not a string", key);
		note(m, what);
	}
	if (s != NULL && strlen(s) != json_string_length(v)) {
		s = nul = without_nul(s, json_string_length(v),
		    in_header ? "" : "\xef\xbf\xbd");
		snprintf(what, sizeof what, "%s held NUL characters (%s)", key,
		    in_header ? "removed" : "shown as U+FFFD");
		note(m, what);
	}
	r = utf8_ndup(s ? s : "", max, &cut);
	free(nul);
	if (cut) {
		snprintf(what, sizeof what, "%s cut to %zu bytes", key, max);
		note(m, what);
	}
	return r;
}

static char *
str(struct msg *m, json_t *o, const char *key, size_t max)
{
	return str_of(m, o, key, max, 0);
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * {"emailAddress": {"name", "address"}}.  CR, LF and other control
 * characters are removed here, so none can reach an outgoing header
 * (lib/mail/mime.c refuses them again).
 */
static void
addr(struct msg *m, json_t *v, struct msg_addr *a)
{
	json_t *ea = json_object_get(v, "emailAddress");

	a->name = str_of(m, ea, "name", MSG_NAME_MAX, 1);
	a->address = str_of(m, ea, "address", MSG_ADDR_MAX, 1);
	if (utf8_strip_controls(a->name) > 0)
		note(m, "control characters removed from a name");
	if (utf8_strip_controls(a->address) > 0)
		note(m, "control characters removed from an address");
	lower(a->address);
}

static struct msg_addr *
addrs(struct msg *m, json_t *o, const char *key, size_t *n)
{
	json_t          *arr = json_object_get(o, key);
	struct msg_addr *list;
	size_t           cap;

	*n = 0;
	if (arr != NULL && !json_is_array(arr) && !json_is_null(arr))
		note(m, "a recipient list is not an array");
	cap = json_is_array(arr) ? json_array_size(arr) : 0;
	if (cap > MSG_MAX_RECIPIENTS) {
		note(m, "recipients cut to 500");
		cap = MSG_MAX_RECIPIENTS;
	}
	list = xcalloc(cap, sizeof *list);
	for (size_t i = 0; i < cap; i++)
		addr(m, json_array_get(arr, i), &list[(*n)++]);
	return list;
}

static void
headers(struct msg *m, json_t *o)
{
	json_t *arr = json_object_get(o, "internetMessageHeaders");
	size_t  cap = json_is_array(arr) ? json_array_size(arr) : 0;

	if (cap > MSG_MAX_HEADERS)
		cap = MSG_MAX_HEADERS;
	m->headers = xcalloc(cap, sizeof *m->headers);
	for (size_t i = 0; i < cap; i++) {
		json_t *h = json_array_get(arr, i);

		/* References is kept whole: threading needs its last ids */
		m->headers[m->nheaders].name = str(m, h, "name", 200);
		m->headers[m->nheaders].value =
		    str(m, h, "value", MSG_HEADER_MAX);
		m->nheaders++;
	}
}

/* Only visible ASCII (a Message-ID has no spaces either). */
static int
printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
days_in(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* The number of n digits at s, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * receivedDateTime as "YYYY-MM-DDTHH:MM:SSZ" (a fraction dropped), or ""
 * with a note: only a real time a DATETIME holds reaches SQL, since a
 * bad one makes STR_TO_DATE fail the insert in strict mode.
 */
static void
received(struct msg *m, json_t *obj)
{
	char       *r = str(m, obj, "receivedDateTime", 40);
	const char *e = r + 19;
	int y = digits(r, 4), mo = -1, d = -1, h = -1, mi = -1, sec = -1;

	if (strlen(r) >= 20 && r[4] == '-' && r[7] == '-' && r[10] == 'T' &&
	    r[13] == ':' && r[16] == ':') {
		mo = digits(r + 5, 2);
		d = digits(r + 8, 2);
		h = digits(r + 11, 2);
		mi = digits(r + 14, 2);
		sec = digits(r + 17, 2);
		if (*e == '.')
			for (e++; isdigit((unsigned char)*e); e++)
				;
	}
	if (y >= 1000 && mo >= 1 && mo <= 12 && d >= 1 && d <= days_in(y, mo) &&
	    h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59 &&
	    strcmp(e, "Z") == 0) {
		r[19] = 'Z';
		r[20] = '\0';
	} else {
		if (r[0])
			note(m, "receivedDateTime is not a UTC time: left out");
		r[0] = '\0';
	}
	m->received = r;
}

/*
 * Parse obj into m (caller frees with msg_cleanup(), also after failure).
 * Fails (E_INVALID) only when obj is not an object or has no usable id.
 */
int
msg_parse(json_t *obj, struct msg *m, struct err *err)
{
	const char *id = json_string_value(json_object_get(obj, "id"));
	json_t     *body;

	memset(m, 0, sizeof *m);
	buf_init(&m->notes, 64);
	if (!json_is_object(obj) || id == NULL || id[0] == '\0' ||
	    strlen(id) > 512 || strpbrk(id, "/?#%") != NULL ||
	    !printable_ascii(id)) {
		/* graph_id is an ASCII column, and goes into URLs */
		err_set(err, E_INVALID, "message without a usable id");
		return -1;
	}
	m->id = xstrdup(id);
	m->internet_message_id = str(m, obj, "internetMessageId", MSG_ID_MAX);
	if (!printable_ascii(m->internet_message_id)) {
		/* stored in ASCII columns and echoed in In-Reply-To */
		m->internet_message_id[0] = '\0';
		note(m, "internetMessageId is not ASCII: left out");
	}
	m->conversation_id = str(m, obj, "conversationId", MSG_CONV_MAX);
	if (!printable_ascii(m->conversation_id)) {
		/* an ASCII column, looked up for threading */
		m->conversation_id[0] = '\0';
		note(m, "conversationId is not ASCII: left out");
	}
	m->subject = str(m, obj, "subject", MSG_SUBJECT_MAX);
	body = json_object_get(obj, "body");
	m->body = str(m, body, "content", MSG_BODY_MAX);
	received(m, obj);
	addr(m, json_object_get(obj, "from"), &m->from);
	if (m->from.address[0] == '\0') {
		/* drafts and odd mail lack from; sender is the next best */
		free(m->from.name);
		free(m->from.address);
		addr(m, json_object_get(obj, "sender"), &m->from);
	}
	m->to = addrs(m, obj, "toRecipients", &m->nto);
	m->cc = addrs(m, obj, "ccRecipients", &m->ncc);
	headers(m, obj);
	m->has_attachments =
	    json_is_true(json_object_get(obj, "hasAttachments"));
	m->is_read = json_is_true(json_object_get(obj, "isRead"));
	return 0;
}

static void
free_addrs(struct msg_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].address);
	}
	free(a);
}

void
msg_cleanup(struct msg *m)
{
	free(m->id);
	free(m->internet_message_id);
	free(m->conversation_id);
	free(m->subject);
	free(m->body);
	free(m->received);
	free(m->from.name);
	free(m->from.address);
	free_addrs(m->to, m->nto);
	free_addrs(m->cc, m->ncc);
	for (size_t i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	buf_cleanup(&m->notes);
	memset(m, 0, sizeof *m);
}

/* The first header called name (any case), or NULL. */
const char *
msg_header(const struct msg *m, const char *name)
{
	for (size_t i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

/* Append "a@x, b@y" to b. */
void
msg_addr_list(struct buf *b, const struct msg_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].address[0] == '\0')
			continue;
		if (b->len > 0)
			buf_puts(b, ", ");
		buf_puts(b, a[i].address);
	}
}
