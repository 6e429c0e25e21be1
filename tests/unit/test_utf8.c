/*
 * test_utf8: cuts on a character boundary (2-, 3- and 4-byte characters
 * at every offset of the cut), mending a byte-cut end, the buffer cap,
 * removing and spotting control characters (C0 but tab, DEL, C1), and
 * the validity check the other tests lean on.
 */
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "base/xmalloc.h"
#include "test.h"

static void
test_cut(void)
{
	static const char *const chars[] = { "\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9f\x94\xa5" };
	char                    *c;
	int                      cut;

	CHECK_INT(utf8_cut("abc", 3, 10), 3);
	CHECK_INT(utf8_cut("abc", 3, 2), 2);
	CHECK_INT(utf8_cut("", 0, 5), 0);
	/* every cut of "a" + N characters lands on a boundary */
	for (size_t k = 0; k < 3; k++) {
		struct buf b;

		buf_init(&b, 64);
		buf_putc(&b, 'a');
		for (int i = 0; i < 10; i++)
			buf_puts(&b, chars[k]);
		for (size_t max = 0; max <= b.len + 1; max++) {
			size_t n = utf8_cut(b.data, b.len, max);

			CHECK(n <= max);
			CHECK(utf8_valid(b.data, n));
			CHECK(n + strlen(chars[k]) > max || n == b.len);
		}
		/* a byte cut at len (snprintf) is mended too */
		for (size_t len = 0; len <= b.len; len++)
			CHECK(utf8_valid(b.data, utf8_cut(b.data, len, len)));
		buf_cleanup(&b);
	}
	c = utf8_ndup("j\xc3\xb6rg", 2, &cut);
	CHECK_STR(c, "j");
	CHECK(cut);
	free(c);
	c = utf8_ndup("j\xc3\xb6rg", 3, &cut);
	CHECK_STR(c, "j\xc3\xb6");
	CHECK(cut);
	free(c);
	c = utf8_ndup("j\xc3\xb6rg", 5, &cut);
	CHECK_STR(c, "j\xc3\xb6rg");
	CHECK(!cut);
	free(c);
}

static void
test_buf_cap(void)
{
	struct buf b;

	buf_init(&b, 16);
	buf_puts(&b, "keep:");
	buf_puts(&b, "\xc3\xa9\xc3\xa9\xc3\xa9");
	utf8_buf_cap(&b, 5, 5);
	CHECK_STR(b.data, "keep:\xc3\xa9\xc3\xa9");
	utf8_buf_cap(&b, 99, 1); /* from past the end: nothing */
	CHECK_INT(b.len, 9);
	buf_cleanup(&b);
}

static void
test_controls(void)
{
	char *s =
	    xstrdup("bob@example.com\r\nBcc: x@evil\x7f\xc2\x85\tz\xc3\xa9");

	CHECK(utf8_has_controls(s));
	CHECK_INT(utf8_strip_controls(s), 4);
	CHECK_STR(s, "bob@example.comBcc: x@evil\tz\xc3\xa9");
	CHECK(!utf8_has_controls(s));
	CHECK(!utf8_has_controls("tab\tis fine, \xc2\xa0 (NBSP) too"));
	CHECK(utf8_has_controls("\x1b[31m"));
	free(s);
}

static void
test_valid(void)
{
	CHECK(utf8_valid("j\xc3\xb6rg \xf0\x9f\x94\xa5", 10));
	CHECK(!utf8_valid("\xc3", 1));
	CHECK(!utf8_valid("\xc0\xaf", 2));     /* overlong */
	CHECK(!utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));
	CHECK(!utf8_valid("\x80", 1));
}

int
main(void)
{
	test_cut();
	test_buf_cap();
	test_controls();
	test_valid();
	return TEST_DONE();
}
