/*
 * msg: Graph's message JSON (contract 4.3) into struct msg.  Graph is
 * trusted for shape only as far as we check it: the id must be a sane
 * string, everything else degrades to "" with a note, and every string is
 * capped so a hostile or broken answer cannot blow up memory downstream.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "xmalloc.h"

static void
note(struct msg *m, const char *what)
{
	if (m->notes.len > 0)
		buf_puts(&m->notes, "; ");
	buf_puts(&m->notes, what);
}

/* Copy s, at most max bytes, cut on a UTF-8 character boundary. */
static char *
capped(const char *s, size_t max, int *cut)
{
	size_t n = strlen(s);

	*cut = 0;
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		*cut = 1;
	}
	return xstrndup(s, n);
}

/*
 * A JSON string with NUL characters (Graph sends them as \u0000) as a C
 * string: each NUL becomes U+FFFD, so nothing after it is lost.
 */
static char *
without_nul(const char *s, size_t len)
{
	struct buf b;

	buf_init(&b, len + 16);
	for (const char *p = s, *end = s + len; p < end;) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t      n = z ? (size_t)(z - p) : (size_t)(end - p);

		buf_append(&b, p, n);
		if (z == NULL)
			break;
		buf_puts(&b, "\xef\xbf\xbd");
		p = z + 1;
	}
	return b.data;
}

static char *
str(struct msg *m, json_t *o, const char *key, size_t max)
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
		s = nul = without_nul(s, json_string_length(v));
		snprintf(what, sizeof what,
		    "%s held NUL characters (shown as "
		    "U+FFFD)",
		    key);
		note(m, what);
	}
	r = capped(s ? s : "", max, &cut);
	free(nul);
	if (cut) {
		snprintf(what, sizeof what, "%s cut to %zu bytes", key, max);
		note(m, what);
	}
	return r;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* {"emailAddress": {"name", "address"}} */
static void
addr(struct msg *m, json_t *v, struct msg_addr *a)
{
	json_t *ea = json_object_get(v, "emailAddress");

	a->name = str(m, ea, "name", MSG_NAME_MAX);
	a->address = str(m, ea, "address", MSG_ADDR_MAX);
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

	if (cap > 1000)
		cap = 1000;
	m->headers = xcalloc(cap, sizeof *m->headers);
	for (size_t i = 0; i < cap; i++) {
		json_t *h = json_array_get(arr, i);

		m->headers[m->nheaders].name = str(m, h, "name", 200);
		m->headers[m->nheaders].value = str(m, h, "value", 8192);
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
	    strlen(id) > 512 || strpbrk(id, "/?#% \t\r\n") != NULL) {
		err_set(err, E_INVALID, "message without a usable id");
		return -1;
	}
	m->id = xstrdup(id);
	m->internet_message_id = str(m, obj, "internetMessageId", 998);
	if (!printable_ascii(m->internet_message_id)) {
		/* stored in ASCII columns and echoed in In-Reply-To */
		m->internet_message_id[0] = '\0';
		note(m, "internetMessageId is not ASCII: left out");
	}
	m->conversation_id = str(m, obj, "conversationId", 512);
	m->subject = str(m, obj, "subject", MSG_SUBJECT_MAX);
	body = json_object_get(obj, "body");
	m->body = str(m, body, "content", MSG_BODY_MAX);
	m->received = str(m, obj, "receivedDateTime", 40);
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
