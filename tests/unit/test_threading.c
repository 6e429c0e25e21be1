/*
 * test_threading: the ticket tag in a subject, tagging a subject, and the
 * message ids a reply refers to (In-Reply-To first, then References
 * newest first, without duplicates, capped).
 */
#include <stdlib.h>
#include <string.h>

#include "mail/threading.h"
#include "base/xmalloc.h"
#include "test.h"

static void
test_tag(void)
{
	CHECK_INT(threading_tag("[#123] Printer"), 123);
	CHECK_INT(threading_tag("RE: AW: [#42] Printer"), 42);
	CHECK_INT(threading_tag("Printer [#7]"), 7);
	CHECK_INT(threading_tag("[#] x [#9]"), 9);      /* first usable tag */
	CHECK_INT(threading_tag("[#12a] x [#13]"), 13); /* not closed by ] */
	CHECK_INT(threading_tag("[#5] and [#6]"), 5);
	CHECK_INT(threading_tag("[#0] zero"), 0);
	CHECK_INT(threading_tag("[#012] leading zero"), 0);
	CHECK_INT(threading_tag("#123 no brackets"), 0);
	CHECK_INT(threading_tag("[123] no hash"), 0);
	CHECK_INT(threading_tag("[# 123]"), 0);
	CHECK_INT(threading_tag("[#-1]"), 0);
	CHECK_INT(threading_tag(""), 0);
	CHECK_INT(threading_tag("[#"), 0);
	CHECK_INT(threading_tag("[#123"), 0);
	CHECK_INT(threading_tag("[#[#77]"), 77);
	/* 18 digits is the most; 19 (would overflow soon) is no tag */
	CHECK_INT(threading_tag("[#123456789012345678]"), 123456789012345678LL);
	CHECK_INT(threading_tag("[#1234567890123456789]"), 0);
	CHECK_INT(threading_tag("[#99999999999999999999999999]"), 0);
}

static void
test_tag_subject(void)
{
	struct buf b;

	buf_init(&b, 32);
	threading_tag_subject(&b, 15, "Printer");
	CHECK_STR(b.data, "[#15] Printer");
	buf_reset(&b);
	threading_tag_subject(&b, 15, "RE: [#15] Printer");
	CHECK_STR(b.data, "RE: [#15] Printer");
	buf_reset(&b);
	threading_tag_subject(&b, 15,
	    "RE: [#16] Printer"); /* another ticket's */
	CHECK_STR(b.data, "[#15] RE: [#16] Printer");
	buf_reset(&b);
	threading_tag_subject(&b, 3, "");
	CHECK_STR(b.data, "[#3] ");
	buf_reset(&b);
	threading_tag_subject(&b, 3, "100% sure %s %n");
	CHECK_STR(b.data, "[#3] 100% sure %s %n");
	buf_cleanup(&b);
}

/* A message with these two headers (NULL: absent). */
static void
with_headers(struct msg *m, const char *irt, const char *refs)
{
	memset(m, 0, sizeof *m);
	m->headers = xcalloc(2, sizeof *m->headers);
	if (irt != NULL) {
		m->headers[m->nheaders].name = xstrdup("in-reply-to");
		m->headers[m->nheaders++].value = xstrdup(irt);
	}
	if (refs != NULL) {
		m->headers[m->nheaders].name = xstrdup("REFERENCES");
		m->headers[m->nheaders++].value = xstrdup(refs);
	}
}

static void
drop(struct msg *m, char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	for (size_t i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
}

static void
test_refs(void)
{
	struct msg m;
	char      *ids[THREAD_MAX_REFS];
	size_t     n;

	with_headers(&m, "<c@x>", "<a@x> <b@x>\r\n <c@x>");
	n = threading_refs(&m, ids, THREAD_MAX_REFS);
	if (CHECK_INT(n, 3)) {
		CHECK_STR(ids[0], "<c@x>"); /* In-Reply-To first */
		CHECK_STR(ids[1], "<b@x>"); /* then References newest first */
		CHECK_STR(ids[2], "<a@x>");
	}
	drop(&m, ids, n);

	with_headers(&m, NULL, NULL);
	CHECK_INT(threading_refs(&m, ids, THREAD_MAX_REFS), 0);
	drop(&m, ids, 0);

	/* only References; junk, empty <> and an unclosed < are skipped */
	with_headers(&m, NULL, "junk <> <a@x> text <b@x> <unclosed");
	n = threading_refs(&m, ids, THREAD_MAX_REFS);
	if (CHECK_INT(n, 2)) {
		CHECK_STR(ids[0], "<b@x>");
		CHECK_STR(ids[1], "<a@x>");
	}
	drop(&m, ids, n);

	/* In-Reply-To with a comment, as some clients send it */
	with_headers(&m, "<m1@x> (Bob's message of Monday)", NULL);
	n = threading_refs(&m, ids, THREAD_MAX_REFS);
	if (CHECK_INT(n, 1))
		CHECK_STR(ids[0], "<m1@x>");
	drop(&m, ids, n);

	/* 200 references: every one is looked at, the newest (last) first */
	{
		struct buf refs;

		buf_init(&refs, 1024);
		for (int i = 0; i < 200; i++)
			buf_printf(&refs, "<r%d@x> ", i);
		with_headers(&m, "<irt@x>", refs.data);
		n = threading_refs(&m, ids, THREAD_MAX_REFS);
		if (CHECK_INT(n, 201)) {
			CHECK_STR(ids[0], "<irt@x>");
			CHECK_STR(ids[1], "<r199@x>");
			CHECK_STR(ids[200], "<r0@x>");
		}
		drop(&m, ids, n);
		with_headers(&m, "<irt@x>", refs.data);
		n = threading_refs(&m, ids, 3);
		CHECK_INT(n, 3);
		drop(&m, ids, n);
		buf_cleanup(&refs);
	}

	/* a 10,000-character References, the parent last; and the cap */
	{
		struct buf refs;
		char     **many = xcalloc(THREAD_MAX_REFS, sizeof *many);

		buf_init(&refs, 16384);
		for (int i = 0; i < 199; i++)
			buf_printf(&refs, "<%044d@mail.example.com>\r\n ", i);
		buf_puts(&refs, "<parent-of-them-all@mail.example.com>");
		CHECK(refs.len >= 10000);
		with_headers(&m, NULL, refs.data);
		n = threading_refs(&m, many, THREAD_MAX_REFS);
		if (CHECK_INT(n, 200))
			CHECK_STR(many[0],
			    "<parent-of-them-all@mail.example.com>");
		drop(&m, many, n);
		buf_reset(&refs);
		for (int i = 0; i < THREAD_MAX_REFS + 100; i++)
			buf_printf(&refs, "<r%d@x> ", i);
		with_headers(&m, NULL, refs.data);
		n = threading_refs(&m, many, THREAD_MAX_REFS);
		if (CHECK_INT(n, THREAD_MAX_REFS))
			CHECK_STR(many[0], "<r599@x>");
		drop(&m, many, n);
		buf_cleanup(&refs);
		free(many);
	}

	/* ids an ASCII Message-ID column cannot hold are not looked up */
	with_headers(&m,
	    "<j\xc3\xb6rg@b\xc3\xbc"
	    "cher.example>",
	    "<a b@x> <ok@x> <tab\t@x>");
	n = threading_refs(&m, ids, THREAD_MAX_REFS);
	if (CHECK_INT(n, 1))
		CHECK_STR(ids[0], "<ok@x>");
	drop(&m, ids, n);

	/* an id of 998 bytes or more is not an id */
	{
		char *big = xmalloc(1100);

		big[0] = '<';
		memset(big + 1, 'a', 1000);
		big[1001] = '>';
		big[1002] = '\0';
		with_headers(&m, big, "<ok@x>");
		n = threading_refs(&m, ids, THREAD_MAX_REFS);
		if (CHECK_INT(n, 1))
			CHECK_STR(ids[0], "<ok@x>");
		drop(&m, ids, n);
		free(big);
	}
}

int
main(void)
{
	test_tag();
	test_tag_subject();
	test_refs();
	return TEST_DONE();
}
