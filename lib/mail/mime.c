/*
 * mime: headers are folded and, when not plain ASCII, RFC 2047 encoded;
 * a subject has CR and LF removed (no header injection from it), and
 * every other header input (addresses, display name, message ids,
 * references) carrying a control character is refused outright: it can
 * only come from a mail nobody should be writing to.  Bodies and
 * attachments are base64, so nothing in them can end a part early.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "adapt/cred.h"
#include "mail/mime.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

/* Append base64 of p, wrapped at 76 columns with CRLF when wrap. */
void
mime_base64(struct buf *b, const void *p, size_t n, int wrap)
{
	const unsigned char *in = p;

	for (size_t off = 0; off < n; off += 57) {
		size_t chunk = n - off < 57 ? n - off : 57;
		char   line[80];

		sodium_bin2base64(line, sizeof line, in + off, chunk,
		    sodium_base64_VARIANT_ORIGINAL);
		buf_puts(b, line);
		if (wrap)
			buf_puts(b, "\r\n");
	}
}

/*
 * Could address be a mail recipient?  One '@' with something on each
 * side, a domain without empty labels, and nothing that is address
 * syntax or space (RFC 6531: any other UTF-8 is allowed).  An address
 * that is not is still stored, as text; it is never sent to.
 */
int
mime_addr_ok(const char *address)
{
	const char *at = strchr(address, '@'), *dom;

	if (at == NULL || at == address || strchr(at + 1, '@') != NULL)
		return 0;
	dom = at + 1;
	if (dom[0] == '\0' || dom[0] == '.' || dom[strlen(dom) - 1] == '.' ||
	    strstr(dom, "..") != NULL)
		return 0;
	if (strpbrk(address, " \t<>()[],;:\\\"") != NULL ||
	    utf8_has_controls(address))
		return 0;
	return 1;
}

static int
ascii_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static char *
one_line(const char *s)
{
	char *c = xstrdup(s ? s : "");

	for (char *p = c; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	return c;
}

/*
 * The next word of a value: its leading spaces and what follows them up
 * to the next space.  Folding goes before a word, never before trailing
 * spaces (a line of white space alone is not allowed).
 */
static size_t
word_len(const char *v)
{
	size_t sp = strspn(v, " ");

	return sp + strcspn(v + sp, " ");
}

static int
fold_before(const char *v, size_t word, size_t col)
{
	return *v == ' ' && col + word > 78 && col > 1 &&
	    v[strspn(v, " ")] != '\0';
}

/* The longest line folded() makes of v, starting at col. */
static size_t
folded_width(const char *v, size_t col)
{
	size_t widest = col;

	while (*v) {
		size_t word = word_len(v);

		if (fold_before(v, word, col))
			col = 0;
		col += word;
		v += word;
		widest = col > widest ? col : widest;
	}
	return widest;
}

/*
 * Append an ASCII value and CRLF, folding before a space whenever a line
 * would pass 78 characters (RFC 5322 2.1.1; References can be long).
 */
static void
folded(struct buf *b, const char *v, size_t col)
{
	while (*v) {
		size_t word = word_len(v);

		if (fold_before(v, word, col)) {
			buf_puts(b, "\r\n");
			col = 0;
		}
		buf_append(b, v, word);
		col += word;
		v += word;
	}
	buf_puts(b, "\r\n");
}

/*
 * Append "name: value\r\n", RFC 2047-encoding a value that is not ASCII
 * or has a word too long for a 998-byte line.
 */
void
mime_header_text(struct buf *b, const char *name, const char *value)
{
	char  *v = one_line(value);
	size_t n = strlen(v), off = 0;

	buf_printf(b, "%s: ", name);
	if (ascii_safe(v) && folded_width(v, strlen(name) + 2) <= 998) {
		folded(b, v, strlen(name) + 2);
		free(v);
		return;
	}
	while (off < n) {
		size_t chunk = n - off < 45 ? n - off : 45, whole = chunk;

		/* never split a UTF-8 character between encoded words */
		while (chunk > 0 && off + chunk < n &&
		    ((unsigned char)v[off + chunk] & 0xc0) == 0x80)
			chunk--;
		if (chunk == 0)
			chunk = whole; /* not UTF-8: any cut will do */
		if (off > 0)
			buf_puts(b, "\r\n ");
		buf_puts(b, "=?UTF-8?B?");
		mime_base64(b, v + off, chunk, 0);
		buf_puts(b, "?=");
		off += chunk;
	}
	buf_puts(b, "\r\n");
	free(v);
}

static void
address_header(struct buf *b, const char *name, const char *display,
    const char *addr)
{
	char *a = one_line(addr);
	char *d = one_line(display);

	if (d[0] && ascii_safe(d)) {
		/* a quoted-string: ':' '@' ',' in a name are not syntax */
		buf_printf(b, "%s: \"", name);
		for (const char *p = d; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(b, '\\');
			buf_putc(b, *p);
		}
		buf_printf(b, "\" <%s>\r\n", a);
	} else if (d[0]) {
		struct buf h;

		buf_init(&h, 128);
		mime_header_text(&h, name, display);
		h.len -= 2; /* drop CRLF, append the address */
		h.data[h.len] = '\0';
		buf_puts(b, h.data);
		buf_printf(b, " <%s>\r\n", a);
		buf_cleanup(&h);
	} else {
		buf_printf(b, "%s: %s\r\n", name, a);
	}
	free(a);
	free(d);
}

static void
boundary(char out[40])
{
	char tok[24];

	cred_random_text(tok, sizeof tok, 15);
	snprintf(out, 40, "pd-%s", tok);
}

static void
text_part(struct buf *b, const char *subtype, const char *text)
{
	buf_printf(b,
	    "Content-Type: text/%s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n",
	    subtype);
	mime_base64(b, text, strlen(text), 1);
}

/* Is enc[i] the start of a %XX that encodes a UTF-8 continuation byte? */
static int
pct_continuation(const char *enc, size_t i)
{
	return enc[i] == '%' && strchr("89AB", enc[i + 1]) != NULL;
}

/*
 * Append the filename parameter (RFC 5987 percent-encoded, enc) and CRLF:
 * on the line when it fits, else as RFC 2231 continuations of at most 60
 * characters, each cut before a character (never inside a %XX or a
 * UTF-8 sequence), so no line passes 998 bytes.
 */
static void
filename_param(struct buf *b, const char *enc, size_t n)
{
	if (n <= 900) {
		buf_printf(b, " filename*=UTF-8''%s\r\n", enc);
		return;
	}
	for (size_t off = 0, k = 0; off < n; k++) {
		size_t len = n - off < 60 ? n - off : 60, max = len;

		while (len > 0 && off + len < n &&
		    (pct_continuation(enc, off + len) ||
		        enc[off + len - 1] == '%' ||
		        (len > 1 && enc[off + len - 2] == '%')))
			len--;
		if (len == 0) /* not UTF-8: cut before a %XX */
			for (len = max;
			     len > 1 && off + len < n && enc[off + len] != '%';)
				len--;
		buf_printf(b, "\r\n filename*%zu*=%s%.*s%s", k,
		    k ? "" : "UTF-8''", (int)len, enc + off,
		    off + len < n ? ";" : "");
		off += len;
	}
	buf_puts(b, "\r\n");
}

/* RFC 2045's token: visible ASCII but tspecials. */
static size_t
token_len(const char *s)
{
	size_t n = 0;

	while (s[n] > ' ' && s[n] < 0x7f && !strchr("()<>@,;:\\\"/[]?=", s[n]))
		n++;
	return n;
}

/*
 * True for a bare type/subtype an attachment may carry as base64: two
 * tokens (a stored type may be anything a mail sent), and neither
 * multipart nor message, whose parts RFC 2046 keeps out of base64.
 */
static int
media_type_ok(const char *t)
{
	size_t a = token_len(t), b;

	if (a == 0 || t[a] != '/')
		return 0;
	b = token_len(t + a + 1);
	return b > 0 && t[a + 1 + b] == '\0' &&
	    strncasecmp(t, "multipart/", 10) != 0 &&
	    strncasecmp(t, "message/", 8) != 0;
}

static void
attachment_part(struct buf *b, const struct mime_att *a)
{
	char      *name = one_line(a->name);
	char      *type = one_line(a->content_type);
	struct buf enc;

	buf_init(&enc, 64);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(".-_", *p))
			buf_putc(&enc, (char)*p);
		else
			buf_printf(&enc, "%%%02X", *p);
	}
	buf_printf(b,
	    "Content-Type: %s\r\n"
	    "Content-Disposition: attachment;",
	    media_type_ok(type) ? type : "application/octet-stream");
	filename_param(b, enc.data, enc.len);
	buf_puts(b, "Content-Transfer-Encoding: base64\r\n\r\n");
	mime_base64(b, a->data, a->len, 1);
	buf_cleanup(&enc);
	free(name);
	free(type);
}

static void
body(struct buf *b, const struct mime_msg *m)
{
	char alt[40];

	if (m->html == NULL) {
		text_part(b, "plain", m->text);
		return;
	}
	boundary(alt);
	buf_printf(b,
	    "Content-Type: multipart/alternative; boundary=\"%s\"\r\n"
	    "\r\n--%s\r\n",
	    alt, alt);
	text_part(b, "plain", m->text);
	buf_printf(b, "--%s\r\n", alt);
	text_part(b, "html", m->html);
	buf_printf(b, "--%s--\r\n", alt);
}

/* Is every address of "a@x, b@y" (empty unless required) one to send to? */
static int
list_ok(const char *list, int required)
{
	char *copy = xstrdup(list ? list : ""), *p = copy, *comma;
	int   ok = !required || copy[0] != '\0';

	while (ok && *p) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		p += strspn(p, " ");
		ok = mime_addr_ok(p);
		p = comma ? comma + 1 : p + strlen(p);
	}
	free(copy);
	return ok;
}

static int
has_controls(const char *s)
{
	return s != NULL && utf8_has_controls(s);
}

/* Refuse header input that could add or break a header. */
static int
check(const struct mime_msg *m, struct err *err)
{
	const char *what = NULL;

	if (!mime_addr_ok(m->from ? m->from : ""))
		what = "the From address";
	else if (has_controls(m->from_name))
		what = "the From name";
	else if (!list_ok(m->to, 1))
		what = "a To address";
	else if (!list_ok(m->cc, 0))
		what = "a Cc address";
	else if (m->message_id == NULL || m->message_id[0] == '\0' ||
	    has_controls(m->message_id))
		what = "the Message-ID";
	else if (has_controls(m->in_reply_to))
		what = "In-Reply-To";
	else if (has_controls(m->references))
		what = "References";
	if (what == NULL)
		return 0;
	err_set(err, E_INVALID,
	    "Not sent: %s is not an address mail can go to, or carries a "
	    "control character.",
	    what);
	return -1;
}

/*
 * Build the whole message into b (appended).  Returns 0, or -1 with err
 * (E_INVALID, nothing appended) when an address is not one mail can be
 * sent to or a header input carries a control character.
 */
int
mime_build(struct buf *b, const struct mime_msg *m, struct err *err)
{
	char      date[64], mixed[40];
	struct tm tm;

	if (check(m, err) == -1)
		return -1;
	gmtime_r(&m->date, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	address_header(b, "From", m->from_name, m->from);
	buf_puts(b, "To: ");
	folded(b, m->to, 4);
	if (m->cc != NULL && m->cc[0]) {
		buf_puts(b, "Cc: ");
		folded(b, m->cc, 4);
	}
	mime_header_text(b, "Subject", m->subject);
	buf_printf(b, "Date: %s\r\nMessage-ID: %s\r\n", date, m->message_id);
	if (m->in_reply_to != NULL && m->in_reply_to[0])
		mime_header_text(b, "In-Reply-To", m->in_reply_to);
	if (m->references != NULL && m->references[0])
		mime_header_text(b, "References", m->references);
	if (m->auto_reply)
		buf_puts(b,
		    "Auto-Submitted: auto-replied\r\n"
		    "X-Auto-Response-Suppress: All\r\n");
	buf_puts(b, "MIME-Version: 1.0\r\n");
	if (m->natt == 0) {
		body(b, m);
		return 0;
	}
	boundary(mixed);
	buf_printf(b,
	    "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
	    "\r\n--%s\r\n",
	    mixed, mixed);
	body(b, m);
	for (size_t i = 0; i < m->natt; i++) {
		buf_printf(b, "--%s\r\n", mixed);
		attachment_part(b, &m->att[i]);
	}
	buf_printf(b, "--%s--\r\n", mixed);
	return 0;
}
