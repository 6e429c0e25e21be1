/*
 * test_mime: the MIME message postdesk hands to Graph's sendMail — headers,
 * RFC 2047 words (decoded here again, never a split UTF-8 character), no
 * header injection, the multipart structure, attachment names, base64 line
 * length, and Auto-Submitted only on acknowledgements.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "base/buf.h"
#include "mail/mime.h"
#include "test.h"

static const char DATA[] = "attachment \x00\x01\xff bytes";

static void
base_msg(struct mime_msg *m)
{
	memset(m, 0, sizeof *m);
	m->from = "help@contoso.com";
	m->to = "carol@example.com";
	m->subject = "[#12] Printer on fire";
	m->message_id = "<pd.abc@contoso.com>";
	m->text = "Hello\nWorld\n";
	m->date = 1700000000; /* Tue, 14 Nov 2023 22:13:20 +0000 */
}

/* The message, or NULL when the builder refused it (it then appends nothing).
 */
static char *
build(const struct mime_msg *m)
{
	struct buf b;
	struct err err;

	buf_init(&b, 1024);
	if (mime_build(&b, m, &err) == -1) {
		CHECK(b.len == 0);
		CHECK(err.code == E_INVALID);
		buf_cleanup(&b);
		return NULL;
	}
	return b.data; /* caller frees */
}

/* The header block (up to the first empty line), or the whole text. */
static size_t
head_len(const char *s)
{
	const char *e = strstr(s, "\r\n\r\n");

	return e ? (size_t)(e - s) + 2 : strlen(s);
}

/* The unfolded value of header name in the header block of s, or NULL. */
static char *
header(const char *s, const char *name)
{
	size_t      hl = head_len(s), n = strlen(name);
	const char *p = s;
	struct buf  v;

	while (p < s + hl) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *q = p + n + 1;

			buf_init(&v, 128);
			while (*q == ' ')
				q++;
			for (;;) {
				const char *e = strstr(q, "\r\n");

				buf_append(&v, q, (size_t)(e - q));
				if (e[2] != ' ' && e[2] != '\t')
					break;
				q = e + 2;
			}
			return v.data;
		}
		p = strstr(p, "\r\n") + 2;
	}
	return NULL;
}

static int
valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = s[i] < 0x80      ? 1
		    : (s[i] & 0xe0) == 0xc0 ? 2
		    : (s[i] & 0xf0) == 0xe0 ? 3
		    : (s[i] & 0xf8) == 0xf0 ? 4
		                            : 0;

		if (k == 0 || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

/*
 * Decode an unfolded header value made of RFC 2047 B-words into out.
 * Each word must be at most 75 characters and decode to whole UTF-8
 * characters on its own.  Returns 0, or -1 if it is not such a value.
 */
static int
decode_words(const char *v, struct buf *out)
{
	while (*v) {
		const char   *end;
		unsigned char bin[256];
		size_t        len;

		while (*v == ' ')
			v++;
		if (strncmp(v, "=?UTF-8?B?", 10) != 0)
			return -1;
		end = strstr(v + 10, "?=");
		if (end == NULL || end - v + 2 > 75)
			return -1;
		if (sodium_base642bin(bin, sizeof bin, v + 10,
		        (size_t)(end - v - 10), NULL, &len, NULL,
		        sodium_base64_VARIANT_ORIGINAL) != 0)
			return -1;
		if (!valid_utf8(bin, len))
			return -1;
		buf_append(out, bin, len);
		v = end + 2;
	}
	return 0;
}

/* Every line ends in CRLF and is at most max characters long. */
static int
lines_ok(const char *s, size_t max)
{
	const char *p = s;

	while (*p) {
		const char *e = strstr(p, "\r\n");

		if (e == NULL || (size_t)(e - p) > max)
			return 0;
		if (memchr(p, '\n', (size_t)(e - p)) != NULL ||
		    memchr(p, '\r', (size_t)(e - p)) != NULL)
			return 0;
		p = e + 2;
	}
	return 1;
}

/* The boundary parameter of s's Content-Type (caller frees), or NULL. */
static char *
boundary_of(const char *ct)
{
	const char *b = ct ? strstr(ct, "boundary=\"") : NULL;
	const char *e;

	if (b == NULL)
		return NULL;
	b += 10;
	e = strchr(b, '"');
	return e ? strndup(b, (size_t)(e - b)) : NULL;
}

/* How many times needle occurs in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Decode the base64 body after the part header at p (to the next "--"). */
static int
part_body(const char *p, struct buf *out)
{
	const char   *start = strstr(p, "\r\n\r\n");
	const char   *end;
	struct buf    b64;
	unsigned char bin[8192];
	size_t        len;
	int           rc;

	if (start == NULL)
		return -1;
	start += 4;
	end = strstr(start, "\r\n--");
	if (end == NULL)
		end = start + strlen(start);
	buf_init(&b64, 1024);
	for (const char *q = start; q < end; q++)
		if (*q != '\r' && *q != '\n')
			buf_putc(&b64, *q);
	rc = sodium_base642bin(bin, sizeof bin, b64.data, b64.len, NULL, &len,
	    NULL, sodium_base64_VARIANT_ORIGINAL);
	if (rc == 0)
		buf_append(out, bin, len);
	buf_cleanup(&b64);
	return rc == 0 ? 0 : -1;
}

static void
test_headers(void)
{
	struct mime_msg m;
	char           *s, *v;

	base_msg(&m);
	m.cc = "dave@example.org, erin@example.net";
	m.in_reply_to = "<cust.1@example.com>";
	m.references = "<cust.0@example.com> <cust.1@example.com>";
	s = build(&m);
	CHECK(lines_ok(s, 998));
	CHECK(strncmp(s, "From: help@contoso.com\r\n", 24) == 0);
	v = header(s, "To");
	CHECK_STR(v, "carol@example.com");
	free(v);
	v = header(s, "Cc");
	CHECK_STR(v, "dave@example.org, erin@example.net");
	free(v);
	v = header(s, "Subject");
	CHECK_STR(v, "[#12] Printer on fire");
	free(v);
	v = header(s, "Date");
	CHECK_STR(v, "Tue, 14 Nov 2023 22:13:20 +0000");
	free(v);
	v = header(s, "Message-ID");
	CHECK_STR(v, "<pd.abc@contoso.com>");
	free(v);
	v = header(s, "In-Reply-To");
	CHECK_STR(v, "<cust.1@example.com>");
	free(v);
	v = header(s, "References");
	CHECK_STR(v, "<cust.0@example.com> <cust.1@example.com>");
	free(v);
	v = header(s, "MIME-Version");
	CHECK_STR(v, "1.0");
	free(v);
	/* a reply is not automatic */
	CHECK(header(s, "Auto-Submitted") == NULL);
	CHECK(header(s, "X-Auto-Response-Suppress") == NULL);
	free(s);

	/* no Cc, In-Reply-To or References when there are none */
	base_msg(&m);
	m.cc = "";
	s = build(&m);
	CHECK(header(s, "Cc") == NULL);
	CHECK(header(s, "In-Reply-To") == NULL);
	CHECK(header(s, "References") == NULL);
	free(s);
}

static void
test_auto_submitted(void)
{
	struct mime_msg m;
	char           *s, *v;

	base_msg(&m);
	m.auto_reply = 1;
	s = build(&m);
	v = header(s, "Auto-Submitted");
	CHECK_STR(v, "auto-replied");
	free(v);
	v = header(s, "X-Auto-Response-Suppress");
	CHECK_STR(v, "All");
	free(v);
	free(s);
}

static void
check_encoded(const char *subject)
{
	struct mime_msg m;
	struct buf      dec;
	char           *s, *v;

	base_msg(&m);
	m.subject = subject;
	s = build(&m);
	CHECK(lines_ok(s, 998));
	v = header(s, "Subject");
	buf_init(&dec, 256);
	if (CHECK(v != NULL) && CHECK(decode_words(v, &dec) == 0))
		CHECK_STR(dec.data, subject);
	buf_cleanup(&dec);
	free(v);
	free(s);
}

static void
test_rfc2047(void)
{
	struct buf b;

	check_encoded("Ärger mit dem Drucker");
	check_encoded("日本語のメールの件名はとても長いことがあります。"
	              "それでも文字は分割されません。");
	/* a 4-byte character at every offset against the 45-byte cut */
	for (int pre = 0; pre < 8; pre++) {
		buf_init(&b, 256);
		for (int i = 0; i < pre; i++)
			buf_putc(&b, 'x');
		for (int i = 0; i < 30; i++)
			buf_puts(&b, "\xf0\x9f\x96\xa8"); /* printer emoji */
		check_encoded(b.data);
		buf_cleanup(&b);
	}
	/* plain ASCII stays as it is */
	buf_init(&b, 64);
	mime_header_text(&b, "Subject", "Hello there");
	CHECK_STR(b.data, "Subject: Hello there\r\n");
	buf_cleanup(&b);
}

static void
test_no_injection(void)
{
	struct mime_msg m;
	char           *s, *v;
	struct buf      dec;

	/* a subject's CR LF become spaces: it stays one header */
	base_msg(&m);
	m.subject = "Hi\r\nBcc: victim@example.com\r\n\r\nbody";
	s = build(&m);
	if (CHECK(s != NULL)) {
		CHECK(lines_ok(s, 998));
		CHECK(header(s, "Bcc") == NULL);
		v = header(s, "Subject");
		CHECK(
		    v != NULL && strstr(v, "Bcc: victim@example.com") != NULL);
		free(v);
	}
	free(s);

	/* a non-ASCII subject with CR LF: encoded, and the CR LF is gone */
	base_msg(&m);
	m.subject = "Grüße\r\nBcc: victim@example.com";
	s = build(&m);
	if (CHECK(s != NULL)) {
		CHECK(header(s, "Bcc") == NULL);
		v = header(s, "Subject");
		buf_init(&dec, 128);
		if (CHECK(v != NULL) && CHECK(decode_words(v, &dec) == 0))
			CHECK_STR(dec.data, "Grüße  Bcc: victim@example.com");
		buf_cleanup(&dec);
		free(v);
	}
	free(s);
}

/*
 * Every other header input with CR, LF or another control character is
 * refused, never sent: a sender address carrying "\r\nBcc:" must not put
 * a Bcc on an acknowledgement.
 */
static void
test_refused(void)
{
	static const char *const bad[] = { "\r\nBcc: x@evil", "\nX-Evil: 1",
		"\r", "\x01", "\x7f", "\xc2\x85" };
	struct mime_msg          m;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char addr[64], id[64];

		snprintf(addr, sizeof addr, "bob@example.com%s", bad[i]);
		snprintf(id, sizeof id, "<a@b>%s", bad[i]);
		base_msg(&m);
		m.to = addr;
		CHECK(build(&m) == NULL);
		base_msg(&m);
		m.cc = addr;
		CHECK(build(&m) == NULL);
		base_msg(&m);
		m.from = addr;
		CHECK(build(&m) == NULL);
		base_msg(&m);
		m.from_name = id;
		CHECK(build(&m) == NULL);
		base_msg(&m);
		m.message_id = id;
		CHECK(build(&m) == NULL);
		base_msg(&m);
		m.in_reply_to = id;
		CHECK(build(&m) == NULL);
		base_msg(&m);
		m.references = id;
		CHECK(build(&m) == NULL);
	}
	/* not addresses: stored as text elsewhere, never sent to */
	base_msg(&m);
	m.to = "no at sign";
	CHECK(build(&m) == NULL);
	m.to = "bob smith@example.com";
	CHECK(build(&m) == NULL);
	m.to = "";
	CHECK(build(&m) == NULL);
	m.to = "a@x, b@@y";
	CHECK(build(&m) == NULL);
	CHECK(!mime_addr_ok("a@"));
	CHECK(!mime_addr_ok("@x"));
	CHECK(!mime_addr_ok("a@x..y"));
	CHECK(!mime_addr_ok("<a@x>"));
	CHECK(mime_addr_ok("j\xc3\xb6rg@b\xc3\xbc"
	                   "cher.example"));
}

/* RFC 6531 addresses go out as they are; a long Cc line is folded */
static void
test_utf8_and_many_recipients(void)
{
	struct mime_msg m;
	struct buf      cc;
	char           *s, *v;

	base_msg(&m);
	m.to = "j\xc3\xb6rg@b\xc3\xbc"
	       "cher.example";
	buf_init(&cc, 4096);
	for (int i = 0; i < 100; i++)
		buf_printf(&cc, "%suser%d@example.com", i ? ", " : "", i);
	m.cc = cc.data;
	s = build(&m);
	if (CHECK(s != NULL)) {
		CHECK(lines_ok(s, 78 + 2));
		v = header(s, "To");
		CHECK_STR(v,
		    "j\xc3\xb6rg@b\xc3\xbc"
		    "cher.example");
		free(v);
		v = header(s, "Cc");
		CHECK(v != NULL && strstr(v, "user0@example.com, ") == v &&
		    strstr(v, "user99@example.com") != NULL);
		free(v);
	}
	free(s);
	buf_cleanup(&cc);
}

static void
test_display_name(void)
{
	struct mime_msg m;
	char           *s, *v;

	base_msg(&m);
	m.from_name = "Support";
	s = build(&m);
	v = header(s, "From");
	CHECK_STR(v, "\"Support\" <help@contoso.com>");
	free(v);
	free(s);
	/* specials in a name are quoted, not address syntax */
	m.from_name = "Help, \"Desk\" \\ Team: x@y";
	s = build(&m);
	v = header(s, "From");
	CHECK_STR(v,
	    "\"Help, \\\"Desk\\\" \\\\ Team: x@y\" <help@contoso.com>");
	free(v);
	free(s);
	m.from_name = "Službа Поддержки";
	s = build(&m);
	v = header(s, "From");
	CHECK(v != NULL && strncmp(v, "=?UTF-8?B?", 10) == 0 &&
	    strstr(v, " <help@contoso.com>") != NULL);
	free(v);
	free(s);
}

static void
test_plain_only(void)
{
	struct mime_msg m;
	struct buf      body;
	char           *s, *v;

	base_msg(&m);
	s = build(&m);
	v = header(s, "Content-Type");
	CHECK_STR(v, "text/plain; charset=utf-8");
	free(v);
	v = header(s, "Content-Transfer-Encoding");
	CHECK_STR(v, "base64");
	free(v);
	CHECK(strstr(s, "multipart") == NULL);
	buf_init(&body, 64);
	if (CHECK(part_body(s, &body) == 0))
		CHECK_STR(body.data, "Hello\nWorld\n");
	buf_cleanup(&body);
	free(s);
}

static void
test_alternative(void)
{
	struct mime_msg m;
	struct buf      body;
	char           *s, *ct, *bd, *p, delim[64];

	base_msg(&m);
	m.html = "<p>Hello &amp; welcome</p>";
	s = build(&m);
	ct = header(s, "Content-Type");
	CHECK(ct != NULL && strncmp(ct, "multipart/alternative;", 22) == 0);
	bd = boundary_of(ct);
	if (CHECK(bd != NULL)) {
		snprintf(delim, sizeof delim, "\r\n--%s\r\n", bd);
		CHECK_INT(count(s, delim), 2);
		snprintf(delim, sizeof delim, "\r\n--%s--\r\n", bd);
		CHECK_INT(count(s, delim), 1);
		/* plain first, then HTML: the last is the preferred one */
		p = strstr(s, "Content-Type: text/plain; charset=utf-8");
		CHECK(p != NULL &&
		    strstr(s, "Content-Type: text/html; charset=utf-8") > p);
		buf_init(&body, 128);
		if (p != NULL && CHECK(part_body(p, &body) == 0))
			CHECK_STR(body.data, "Hello\nWorld\n");
		buf_reset(&body);
		p = strstr(s, "Content-Type: text/html");
		if (p != NULL && CHECK(part_body(p, &body) == 0))
			CHECK_STR(body.data, "<p>Hello &amp; welcome</p>");
		buf_cleanup(&body);
	}
	free(bd);
	free(ct);
	free(s);
}

static void
test_mixed(void)
{
	struct mime_att att[2] = {
		{ "Überblick (1).pdf", "application/pdf", DATA, sizeof DATA },
		{ "evil\r\nX-Evil: 1.txt", "text/plain; name=\"x\"", "hi", 2 },
	};
	struct mime_msg m;
	struct buf      body;
	char           *s, *ct, *bd, *p, delim[64];

	base_msg(&m);
	m.html = "<p>Hi</p>";
	m.att = att;
	m.natt = 2;
	s = build(&m);
	CHECK(lines_ok(s, 998));
	ct = header(s, "Content-Type");
	CHECK(ct != NULL && strncmp(ct, "multipart/mixed;", 16) == 0);
	bd = boundary_of(ct);
	if (CHECK(bd != NULL)) {
		/* body (an alternative) + two attachments, then the end */
		snprintf(delim, sizeof delim, "\r\n--%s\r\n", bd);
		CHECK_INT(count(s, delim), 3);
		snprintf(delim, sizeof delim, "\r\n--%s--\r\n", bd);
		CHECK_INT(count(s, delim), 1);
		CHECK_INT(count(s, "multipart/alternative"), 1);
	}
	CHECK(strstr(s,
	          "Content-Type: application/pdf\r\n"
	          "Content-Disposition: attachment; "
	          "filename*=UTF-8''%C3%9Cberblick%20%281%29.pdf\r\n") != NULL);
	/* CR LF in a name is not a new header; a type with parameters is
	 * not trusted */
	CHECK(strstr(s, "\r\nX-Evil") == NULL);
	CHECK(
	    strstr(s, "filename*=UTF-8''evil%20%20X-Evil%3A%201.txt") != NULL);
	CHECK(strstr(s, "Content-Type: application/octet-stream\r\n") != NULL);
	p = strstr(s, "Content-Type: application/pdf");
	buf_init(&body, 64);
	if (p != NULL && CHECK(part_body(p, &body) == 0)) {
		CHECK_INT(body.len, sizeof DATA);
		CHECK(memcmp(body.data, DATA, sizeof DATA) == 0);
	}
	buf_cleanup(&body);
	free(bd);
	free(ct);
	free(s);
}

static void
test_base64_wrap(void)
{
	struct buf b, dec;
	char       big[4000];
	size_t     n = 0;

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 + 3);
	buf_init(&b, 8192);
	mime_base64(&b, big, sizeof big, 1);
	CHECK(lines_ok(b.data, 76));
	for (const char *p = b.data; (p = strstr(p, "\r\n")) != NULL; p += 2)
		n++;
	CHECK_INT(n, (sizeof big + 56) / 57);
	/* 70 full lines of 76, then 10 bytes as 16 characters */
	CHECK_INT(strlen(b.data), 70 * 78 + 16 + 2);
	buf_init(&dec, 64);
	buf_puts(&dec, "x: y\r\n\r\n");
	buf_puts(&dec, b.data);
	{
		struct buf out;

		buf_init(&out, 4096);
		if (CHECK(part_body(dec.data, &out) == 0)) {
			CHECK_INT(out.len, sizeof big);
			CHECK(memcmp(out.data, big, sizeof big) == 0);
		}
		buf_cleanup(&out);
	}
	buf_cleanup(&dec);
	/* unwrapped: one line, exactly the base64 of the input */
	buf_reset(&b);
	mime_base64(&b, "hello", 5, 0);
	CHECK_STR(b.data, "aGVsbG8=");
	buf_reset(&b);
	mime_base64(&b, "", 0, 1);
	CHECK_STR(b.data, "");
	buf_cleanup(&b);
}

/* A long References header is folded at spaces, no line over 78. */
static void
test_folding(void)
{
	struct buf b, refs, unfolded;
	size_t     col = 0, longest = 0;

	buf_init(&b, 0);
	buf_init(&refs, 0);
	buf_init(&unfolded, 0);
	for (int i = 0; i < 20; i++)
		buf_printf(&refs,
		    "%s<message-%02d.abcdefghijkl@mail.example.com>",
		    i ? " " : "", i);
	mime_header_text(&b, "References", refs.data);
	for (const char *p = b.data; *p; p++) {
		if (*p == '\r' && p[1] == '\n') {
			longest = col > longest ? col : longest;
			col = 0;
			p++;
			continue;
		}
		col++;
	}
	CHECK(longest <= 78);
	CHECK(strstr(b.data, "\r\n <message-") != NULL); /* it did fold */
	/* unfolding (dropping each CRLF) gives the header back */
	for (const char *p = b.data; *p; p++)
		if (!(*p == '\r' || *p == '\n'))
			buf_putc(&unfolded, *p);
	CHECK(strncmp(unfolded.data, "References: ", 12) == 0);
	CHECK_STR(unfolded.data + 12, refs.data);
	buf_cleanup(&b);
	buf_cleanup(&refs);
	buf_cleanup(&unfolded);
}

/*
 * What tests/fuzz/fuzz_mime.c found: no line passes 998 bytes (a word too
 * long to fold, a long attachment name), no line is white space alone,
 * and a run of stray UTF-8 continuation bytes ends (it looped for ever).
 */
static void
test_fuzz_found(void)
{
	struct mime_att att = { NULL, "text/plain", "x", 1 };
	struct mime_msg m;
	struct buf      b, name, dec;
	char           *s, *v;

	/* a 998-character word: RFC 2047 words, not one long line */
	buf_init(&b, 1024);
	for (int i = 0; i < 998; i++)
		buf_putc(&b, 'a');
	base_msg(&m);
	m.subject = b.data;
	m.in_reply_to = b.data;
	s = build(&m);
	CHECK(lines_ok(s, 998));
	v = header(s, "Subject");
	buf_init(&dec, 1024);
	if (CHECK(v != NULL) && CHECK(decode_words(v, &dec) == 0))
		CHECK_STR(dec.data, b.data);
	buf_cleanup(&dec);
	free(v);
	free(s);

	/* trailing spaces past column 78 stay on their line */
	buf_reset(&b);
	for (int i = 0; i < 100; i++)
		buf_puts(&b, i % 10 ? "x" : " x");
	buf_puts(&b, "     ");
	base_msg(&m);
	m.subject = b.data;
	s = build(&m);
	CHECK(lines_ok(s, 998));
	CHECK(strstr(s, "\r\n \r\n") == NULL);
	CHECK(strstr(s, "\r\n     \r\n") == NULL);
	free(s);

	/* continuation bytes with no lead byte: encoded, and it ends */
	buf_reset(&b);
	buf_puts(&b, "c@contos[o");
	for (int i = 0; i < 60; i++)
		buf_putc(&b, (char)0xb1);
	base_msg(&m);
	m.subject = b.data;
	s = build(&m);
	CHECK(lines_ok(s, 998));
	free(s);
	buf_cleanup(&b);

	/* 200 accented letters: RFC 2231 continuations of whole characters */
	buf_init(&name, 512);
	for (int i = 0; i < 200; i++)
		buf_puts(&name, "\xc3\xa9");
	buf_puts(&name, ".txt");
	att.name = name.data;
	base_msg(&m);
	m.att = &att;
	m.natt = 1;
	s = build(&m);
	CHECK(lines_ok(s, 998));
	CHECK(strstr(s,
	          "Content-Disposition: attachment;\r\n"
	          " filename*0*=UTF-8''%C3%A9") != NULL);
	CHECK(strstr(s, "%C3;\r\n") == NULL); /* no character cut */
	CHECK(strstr(s, "filename*1*=%C3%A9") != NULL);
	CHECK(strstr(s, ".txt\r\nContent-Transfer-Encoding: base64") != NULL);
	free(s);
	buf_cleanup(&name);

	/* a stored type that is not type/subtype, or may not be base64 */
	{
		static const char *const bad[] = {
			"text/plain Content-Disposition: x", "multipart/mixed",
			"message/rfc822", "text/", "/plain", "text/plain; a=b",
			"text/pla\"in"
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			att.name = "a.bin";
			att.content_type = bad[i];
			base_msg(&m);
			m.att = &att;
			m.natt = 1;
			s = build(&m);
			CHECK(strstr(s,
			          "Content-Type: application/octet-stream\r\n"
			          "Content-Disposition: attachment;") != NULL);
			CHECK(strstr(s, "Content-Disposition: x") == NULL);
			free(s);
		}
		att.content_type = "application/vnd.ms-excel";
		s = build(&m);
		CHECK(strstr(s, "Content-Type: application/vnd.ms-excel\r\n") !=
		    NULL);
		free(s);
	}
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_headers();
	test_auto_submitted();
	test_rfc2047();
	test_no_injection();
	test_refused();
	test_utf8_and_many_recipients();
	test_display_name();
	test_plain_only();
	test_alternative();
	test_mixed();
	test_base64_wrap();
	test_folding();
	test_fuzz_found();
	return TEST_DONE();
}
