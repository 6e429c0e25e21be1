/*
 * test_etag: entity tags and the If-Match precondition (lib/base/etag.c).
 */
#include <stdint.h>

#include "base/etag.h"
#include "test.h"

static void
test_format(void)
{
	char tag[ETAG_MAX];

	etag_format(tag, 7);
	CHECK_STR(tag, "\"7\"");
	etag_format(tag, UINT64_MAX);
	CHECK_STR(tag, "\"18446744073709551615\"");
}

static void
test_matches(void)
{
	CHECK(etag_matches(NULL, 3));
	CHECK(etag_matches("*", 3));
	CHECK(etag_matches(" * ", 3));
	CHECK(etag_matches("\"3\"", 3));
	CHECK(etag_matches("\"1\", \"3\"", 3));
	CHECK(etag_matches("\"1\",\"3\"", 3));
	CHECK(!etag_matches("\"3\"", 4));
	CHECK(!etag_matches("\"33\"", 3));
	CHECK(!etag_matches("\"\"", 3));
	CHECK(!etag_matches("W/\"3\"", 3)); /* strong comparison */
	CHECK(!etag_matches("3", 3));
	CHECK(!etag_matches("\"3", 3));
	CHECK(!etag_matches("", 3));
	CHECK(!etag_matches("**", 3));
	CHECK(!etag_matches("junk, \"3\"", 3));
}

static void
test_pinned(void)
{
	CHECK(!etag_pinned(NULL));
	CHECK(!etag_pinned("*"));
	CHECK(!etag_pinned("  *\t"));
	CHECK(etag_pinned("\"3\""));
	CHECK(etag_pinned(""));
}

int
main(void)
{
	test_format();
	test_matches();
	test_pinned();
	return TEST_DONE();
}
