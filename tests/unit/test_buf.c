/*
 * test_buf: growth, printf and NUL termination of struct buf.
 */
#include <string.h>

#include "base/buf.h"
#include "test.h"

static void
test_init(void)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(b.data != NULL);
	CHECK_INT(b.len, 0);
	CHECK(b.cap >= 64);
	CHECK_STR(b.data, "");
	buf_cleanup(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, 0);
	buf_cleanup(&b); /* twice is fine */

	buf_init(&b, 1000);
	CHECK(b.cap >= 1000);
	buf_cleanup(&b);
}

static void
test_growth(void)
{
	struct buf b;
	char       expect[5001];

	buf_init(&b, 0);
	for (int i = 0; i < 5000; i++) {
		buf_putc(&b, (char)('a' + i % 26));
		expect[i] = (char)('a' + i % 26);
	}
	expect[5000] = '\0';
	CHECK_INT(b.len, 5000);
	CHECK(b.cap > b.len);
	CHECK_INT(b.data[5000], '\0');
	CHECK_STR(b.data, expect);
	buf_cleanup(&b);

	/* One append far larger than twice the capacity. */
	buf_init(&b, 0);
	memset(expect, 'x', 5000);
	buf_append(&b, expect, 5000);
	CHECK_INT(b.len, 5000);
	CHECK(b.cap >= 5001);
	CHECK_INT(strlen(b.data), 5000);
	buf_cleanup(&b);
}

static void
test_append_binary(void)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append(&b, "a\0b", 3);
	CHECK_INT(b.len, 3);
	CHECK(memcmp(b.data, "a\0b", 3) == 0);
	CHECK_INT(b.data[3], '\0');
	buf_append(&b, NULL, 0);
	CHECK_INT(b.len, 3);
	buf_cleanup(&b);
}

static void
test_puts_reset(void)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "hello");
	buf_puts(&b, ", ");
	buf_puts(&b, "world");
	CHECK_STR(b.data, "hello, world");
	CHECK_INT(b.len, 12);
	buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(b.data, "");
	buf_puts(&b, "again");
	CHECK_STR(b.data, "again");
	buf_cleanup(&b);
}

static void
test_zeroed(void)
{
	struct buf b = { 0 };

	/* A zeroed buf works without buf_init. */
	buf_puts(&b, "x");
	CHECK_STR(b.data, "x");
	buf_cleanup(&b);

	memset(&b, 0, sizeof b);
	buf_reset(&b);
	CHECK(b.data != NULL);
	CHECK_STR(b.data, "");
	buf_cleanup(&b);

	memset(&b, 0, sizeof b);
	buf_printf(&b, "%d", 42);
	CHECK_STR(b.data, "42");
	buf_cleanup(&b);
}

static void
test_printf(void)
{
	struct buf b;
	char       big[3000];

	buf_init(&b, 0);
	buf_printf(&b, "%s=%d", "n", 7);
	buf_printf(&b, ";%05.1f", 2.5);
	CHECK_STR(b.data, "n=7;002.5");
	CHECK_INT(b.len, strlen("n=7;002.5"));

	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_printf(&b, "[%s]", big);
	CHECK_INT(b.len, 9 + 2 + 2999);
	CHECK_INT(b.data[b.len], '\0');
	CHECK_INT(b.data[b.len - 1], ']');
	CHECK_INT(b.data[9], '[');
	CHECK(strncmp(b.data, "n=7;002.5[yyy", 13) == 0);

	buf_printf(&b, "%s", "");
	CHECK_INT(b.len, 9 + 2 + 2999);
	buf_cleanup(&b);
}

/* The HTML escaper: the five characters, nothing else (UTF-8 kept). */
static void
test_html(void)
{
	struct buf b;

	buf_init(&b, 4);
	buf_html(&b, "<a href=\"x\">Tom & Jerry's</a> \xc3\xa9\n");
	CHECK_STR(b.data,
	    "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt; "
	    "\xc3\xa9\n");
	buf_cleanup(&b);
}

int
main(void)
{
	test_init();
	test_growth();
	test_append_binary();
	test_puts_reset();
	test_zeroed();
	test_printf();
	test_html();
	return TEST_DONE();
}
