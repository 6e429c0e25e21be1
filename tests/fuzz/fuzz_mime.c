/*
 * fuzz_mime: libFuzzer target for the MIME builder (lib/mail/mime.c) — every
 * value a reply or an acknowledgement takes from mail (the customer's
 * address, Cc, subject, message ids, References, bodies, attachment names,
 * types and bytes) comes from the fuzz input, within the limits the
 * callers guarantee (lib/mail/msg.c's caps, lib/store/outgoing.h's columns).
 * Header inputs are made control-free as lib/mail/msg.c does, unless the
 * flags say hostile; then the builder may refuse (nothing appended).
 * Whatever they hold, a message built must be one Graph can send:
 *
 *   - every line ends in CRLF and is at most 998 bytes; no other CR, LF or
 *     control character (but TAB) anywhere, no line of only white space;
 *   - the header names are exactly the expected set (no injection);
 *   - 8-bit bytes only in the address headers (From, To, Cc): everything
 *     else is 7-bit (RFC 2047 words, base64);
 *   - Subject, In-Reply-To, References, To and Cc unfold (and decode) to
 *     the value given (CR, LF and TAB as spaces);
 *   - each attachment's filename* decodes to its name and its base64 to
 *     its bytes; the text body decodes to the text.
 *
 * Input: NUL-separated fields — flags, from, from_name, to, cc, subject,
 * message_id, in_reply_to, references, text, html, then name, type and
 * bytes of up to three attachments.  Seeds: tests/fuzz/corpus/mime.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "fuzz.h"
#include "mail/mime.h"

#define MAX_ATT 3

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? -1 : 0;
}

/* The value as the builder must show it: CR, LF and TAB as spaces. */
static char *
one_line(const char *s)
{
	char *c = strdup(s);

	if (c == NULL)
		abort();
	for (char *p = c; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	return c;
}

/* Make s control-free (what lib/mail/msg.c hands on), unless hostile. */
static void
no_controls(char *s, int hostile)
{
	for (; *s && !hostile; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* "a, b" from the comma-separated addresses in s, as msg_addr_list()
 * joins them: each at most 320 bytes, at most 500 of them. */
static char *
addr_list(const char *s)
{
	struct buf b;
	size_t     n = 0;

	buf_init(&b, 64);
	while (*s && n < 500) {
		size_t len = strcspn(s, ",");
		char  *a = strndup(s, len);

		if (a == NULL)
			abort();
		fuzz_cap(a, 320);
		if (a[0]) {
			buf_puts(&b, b.len ? ", " : "");
			buf_puts(&b, a);
			n++;
		}
		free(a);
		s += len;
		if (*s == ',')
			s++;
	}
	return b.data;
}

struct hdr {
	const char *name;
	int         want; /* how many times it must occur */
	int         seen;
	struct buf  value; /* unfolded: continuation CRLFs removed */
};

/*
 * Walk the header block of s: every line is a continuation or
 * "Name: value" with a name from h; count and unfold each; 8-bit bytes
 * only in From, To and Cc.  Returns the offset of the body.
 */
static size_t
check_headers(const char *s, struct hdr *h, size_t nh)
{
	const char *p = s;
	struct hdr *cur = NULL;

	while (strncmp(p, "\r\n", 2) != 0) {
		const char *e = strstr(p, "\r\n");
		const char *v;

		if (e == NULL)
			abort();
		if (*p == ' ' || *p == '\t') {
			if (cur == NULL)
				abort();
			v = p;
		} else {
			const char *colon = memchr(p, ':', (size_t)(e - p));

			cur = NULL;
			for (size_t i = 0; colon && i < nh; i++)
				if ((size_t)(colon - p) == strlen(h[i].name) &&
				    strncmp(p, h[i].name, strlen(h[i].name)) ==
				        0)
					cur = &h[i];
			if (cur == NULL || colon[1] != ' ')
				abort(); /* a header nobody asked for */
			cur->seen++;
			v = colon + 2;
		}
		for (const char *q = v; q < e; q++)
			if ((unsigned char)*q >= 0x80 &&
			    strcmp(cur->name, "From") != 0 &&
			    strcmp(cur->name, "To") != 0 &&
			    strcmp(cur->name, "Cc") != 0)
				abort(); /* 8-bit where RFC 2047 belongs */
		buf_append(&cur->value, v, (size_t)(e - v));
		p = e + 2;
	}
	for (size_t i = 0; i < nh; i++)
		if (h[i].seen != h[i].want)
			abort();
	return (size_t)(p - s) + 2;
}

/*
 * The header's unfolded value is want, literally or as RFC 2047 words
 * that never split a character of a UTF-8 want.
 */
static void
check_text(const struct hdr *h, const char *want)
{
	struct buf dec;
	int        ok, whole;

	if (strcmp(h->value.data, want) == 0)
		return;
	whole = fuzz_utf8((const unsigned char *)want, strlen(want));
	buf_init(&dec, 256);
	ok = fuzz_decode_words(h->value.data, &dec, whole) == 0 &&
	    strcmp(dec.data, want) == 0;
	buf_cleanup(&dec);
	if (!ok)
		abort();
}

/*
 * Decode base64 lines from p (just after a part's blank line) up to the
 * next delimiter or the end into out.  An empty part has no lines: the
 * blank line's CRLF is then the delimiter's own.
 */
static const char *
base64_body(const char *p, struct buf *out)
{
	const char *end = strstr(p - 2, "\r\n--");
	struct buf  b64;
	size_t      len;
	int         rc;

	if (end == NULL)
		end = p + strlen(p);
	buf_init(&b64, 1024);
	for (const char *q = p; q < end; q++)
		if (*q != '\r' && *q != '\n')
			buf_putc(&b64, *q);
	out->data = realloc(out->data, b64.len + 1);
	if (out->data == NULL)
		abort();
	out->cap = b64.len + 1;
	rc = sodium_base642bin((unsigned char *)out->data, out->cap, b64.data,
	    b64.len, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL);
	if (rc != 0)
		abort();
	out->len = len;
	out->data[len] = '\0';
	buf_cleanup(&b64);
	return end;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	    : c >= 'A' && c <= 'F'  ? c - 'A' + 10
	                            : -1;
}

/* Percent-decode an RFC 5987 value of attr-chars and %XX into out. */
static void
pct_decode(const char *p, const char *e, struct buf *out)
{
	for (const char *q = p; q < e; q++) {
		if (*q == '%') {
			int hi = hexval(q[1]), lo = hexval(q[2]);

			if (hi < 0 || lo < 0)
				abort();
			buf_putc(out, (char)(hi * 16 + lo));
			q += 2;
		} else if ((*q >= 'a' && *q <= 'z') ||
		    (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
		    strchr(".-_", *q) != NULL) {
			buf_putc(out, *q);
		} else {
			abort(); /* not an attr-char */
		}
	}
}

/*
 * The file name in the Content-Disposition header at p: one
 * filename*=UTF-8''... or RFC 2231 continuations filename*0*=UTF-8''...;
 * filename*1*=...  Returns the end of the header.
 */
static const char *
file_name(const char *p, struct buf *out)
{
	static const char cd[] = "Content-Disposition: attachment;";
	struct buf        v;
	const char       *q, *e;
	char              key[32];
	size_t            k = 0;

	if (strncmp(p, cd, sizeof cd - 1) != 0)
		abort();
	p += sizeof cd - 1;
	buf_init(&v, 256);
	for (;;) { /* unfold */
		e = strstr(p, "\r\n");
		buf_append(&v, p, (size_t)(e - p));
		p = e + 2;
		if (*p != ' ')
			break;
	}
	q = v.data;
	if (strncmp(q, " filename*=UTF-8''", 18) == 0) {
		pct_decode(q + 18, v.data + v.len, out);
	} else {
		while (*q) {
			int n = snprintf(key, sizeof key, " filename*%zu*=%s",
			    k, k ? "" : "UTF-8''");

			if (strncmp(q, key, (size_t)n) != 0)
				abort();
			q += n;
			e = q + strcspn(q, ";");
			pct_decode(q, e, out);
			q = *e ? e + 1 : e;
			k++;
		}
	}
	buf_cleanup(&v);
	return p;
}

/* The attachments' names and bytes come back out of the parts. */
static void
check_attachments(const char *body, const struct mime_att *att, size_t n)
{
	const char *p = body;
	struct buf  dec;

	buf_init(&dec, 64);
	for (size_t i = 0; i < n; i++) {
		char *want = one_line(att[i].name);

		p = strstr(p, "Content-Disposition: ");
		if (p == NULL)
			abort();
		buf_reset(&dec);
		p = file_name(p, &dec);
		if (strcmp(dec.data, want) != 0)
			abort();
		free(want);
		p = strstr(p - 2, "\r\n\r\n");
		if (p == NULL)
			abort();
		p = base64_body(p + 4, &dec);
		if (dec.len != att[i].len ||
		    (dec.len && memcmp(dec.data, att[i].data, dec.len) != 0))
			abort();
	}
	buf_cleanup(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	struct mime_msg    m = { 0 };
	struct mime_att    att[MAX_ATT];
	unsigned           flags;
	char              *to, *cc, *want;
	struct buf         b, dec;
	struct err         err;
	size_t             off;

	flags = size > 0 ? data[0] : 0;
	m.natt = (flags >> 4) % (MAX_ATT + 1);
	fuzz_fields(&ff, data, size, 11 + 3 * m.natt);
	fuzz_cap(ff.f[1], 320);  /* from: a mailbox address */
	fuzz_cap(ff.f[2], 255);  /* from_name */
	fuzz_cap(ff.f[5], 1024); /* subject: 998 and the tag */
	fuzz_cap(ff.f[6], 254);  /* message_id: VARCHAR(255) ascii */
	for (char *p = ff.f[6]; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = 'x';
	fuzz_cap(ff.f[7], 998);  /* in_reply_to */
	fuzz_cap(ff.f[8], 2047); /* references */
	for (int i = 1; i <= 8; i++)
		if (i != 5) /* the subject is the builder's to clean */
			no_controls(ff.f[i], flags & 0x80);
	to = addr_list(ff.f[3]);
	cc = addr_list(ff.f[4]);
	m.from = ff.f[1];
	m.from_name = flags & 1 ? ff.f[2] : NULL;
	m.to = to;
	m.cc = flags & 2 ? cc : NULL;
	m.subject = ff.f[5];
	m.message_id = ff.f[6];
	m.in_reply_to = ff.f[7];
	m.references = ff.f[8];
	m.text = ff.f[9];
	m.html = flags & 4 ? ff.f[10] : NULL;
	m.auto_reply = (flags & 8) != 0;
	for (size_t i = 0; i < m.natt; i++) {
		fuzz_cap(ff.f[11 + 3 * i], 1020); /* VARCHAR(255) */
		att[i].name = ff.f[11 + 3 * i];
		fuzz_cap(ff.f[12 + 3 * i], 255); /* ASCII, or not used */
		att[i].content_type = ff.f[12 + 3 * i];
		att[i].data = ff.f[13 + 3 * i];
		att[i].len = ff.len[13 + 3 * i];
	}
	m.att = att;
	m.date = 1700000000;

	buf_init(&b, 4096);
	if (mime_build(&b, &m, &err) == -1) {
		if (b.len != 0 || err.code != E_INVALID)
			abort();
		goto out;
	}
	if (strlen(b.data) != b.len)
		abort();
	fuzz_check_lines(b.data, b.len);
	{
		int        plain = m.natt == 0 && m.html == NULL;
		struct hdr h[] = {
			{ "From", 1, 0, { 0 } },
			{ "To", 1, 0, { 0 } },
			{ "Cc", m.cc && m.cc[0], 0, { 0 } },
			{ "Subject", 1, 0, { 0 } },
			{ "Date", 1, 0, { 0 } },
			{ "Message-ID", 1, 0, { 0 } },
			{ "In-Reply-To", m.in_reply_to[0] != '\0', 0, { 0 } },
			{ "References", m.references[0] != '\0', 0, { 0 } },
			{ "Auto-Submitted", m.auto_reply, 0, { 0 } },
			{ "X-Auto-Response-Suppress", m.auto_reply, 0, { 0 } },
			{ "MIME-Version", 1, 0, { 0 } },
			{ "Content-Type", 1, 0, { 0 } },
			{ "Content-Transfer-Encoding", plain, 0, { 0 } },
		};
		size_t nh = sizeof h / sizeof h[0];

		for (size_t i = 0; i < nh; i++)
			buf_init(&h[i].value, 64);
		off = check_headers(b.data, h, nh);
		want = one_line(m.subject);
		check_text(&h[3], want);
		free(want);
		want = one_line(m.in_reply_to);
		if (h[6].want)
			check_text(&h[6], want);
		free(want);
		want = one_line(m.references);
		if (h[7].want)
			check_text(&h[7], want);
		free(want);
		want = one_line(to);
		if (strcmp(h[1].value.data, want) != 0)
			abort();
		free(want);
		want = one_line(cc);
		if (h[2].want && strcmp(h[2].value.data, want) != 0)
			abort();
		free(want);
		for (size_t i = 0; i < nh; i++)
			buf_cleanup(&h[i].value);
	}
	buf_init(&dec, 64);
	if (m.natt == 0 && m.html == NULL) {
		base64_body(b.data + off, &dec);
		if (strcmp(dec.data, m.text) != 0)
			abort();
	}
	buf_cleanup(&dec);
	check_attachments(b.data + off, att, m.natt);
out:
	buf_cleanup(&b);
	free(to);
	free(cc);
	fuzz_fields_free(&ff);
	return 0;
}
