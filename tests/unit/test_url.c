/*
 * test_url: percent-decoding, encoding and query-string lookup.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/url.h"
#include "test.h"

/* Decode s (whole string) and compare with expect (NULL: refused). */
static int
decodes(const char *s, int plus, const char *expect)
{
	char *got = url_decode(s, strlen(s), plus);
	int   ok;

	if (expect == NULL)
		ok = got == NULL;
	else
		ok = got != NULL && strcmp(got, expect) == 0;
	free(got);
	return ok;
}

static void
test_decode(void)
{
	CHECK(decodes("", 1, ""));
	CHECK(decodes("plain", 1, "plain"));
	CHECK(decodes("a%20b", 1, "a b"));
	CHECK(decodes("%41%62%7e", 0, "Ab~"));
	CHECK(decodes("%c3%A9", 0, "\xc3\xa9"));
	CHECK(decodes("%2B", 1, "+"));
	CHECK(decodes("%25", 0, "%"));
	CHECK(decodes("%2541", 0, "%41")); /* decoded once only */

	/* '+' is a space only in form encoding. */
	CHECK(decodes("a+b", 1, "a b"));
	CHECK(decodes("a+b", 0, "a+b"));
	CHECK(decodes("++", 1, "  "));

	/* Malformed escapes. */
	CHECK(decodes("%", 1, NULL));
	CHECK(decodes("%4", 1, NULL));
	CHECK(decodes("ab%4", 1, NULL));
	CHECK(decodes("%zz", 1, NULL));
	CHECK(decodes("%4g", 1, NULL));
	CHECK(decodes("%g4", 1, NULL));
	CHECK(decodes("% 41", 1, NULL));
	CHECK(decodes("x%", 0, NULL));

	/* NUL must not sneak into a C string. */
	CHECK(decodes("%00", 1, NULL));
	CHECK(decodes("a%00b", 0, NULL));
	CHECK(decodes("%01", 0, "\x01"));
	CHECK(decodes("%10", 0, "\x10"));
}

static void
test_decode_len(void)
{
	char *got;

	/* Only len bytes are read. */
	got = url_decode("abcdef", 3, 0);
	CHECK_STR(got, "abc");
	free(got);
	got = url_decode("a%41zz", 4, 0);
	CHECK_STR(got, "aA");
	free(got);
	got = url_decode("a%41zz", 3, 0);
	CHECK(got == NULL); /* an escape cut by len is malformed */
	free(got);
	got = url_decode("%41%42", 3, 0);
	CHECK_STR(got, "A");
	free(got);
}

static int
encodes(const char *s, const char *expect)
{
	struct buf b;
	int        ok;

	buf_init(&b, 0);
	url_encode(&b, s);
	ok = strcmp(b.data, expect) == 0 && b.len == strlen(expect);
	buf_cleanup(&b);
	return ok;
}

static void
test_encode(void)
{
	CHECK(encodes("", ""));
	CHECK(encodes("AZaz09-._~", "AZaz09-._~"));
	CHECK(encodes("a b", "a%20b"));
	CHECK(encodes("a+b", "a%2Bb"));
	CHECK(encodes("/?#&=%", "%2F%3F%23%26%3D%25"));
	CHECK(encodes("user@contoso.com", "user%40contoso.com"));
	CHECK(encodes("\xc3\xa9", "%C3%A9"));
	CHECK(encodes("\x01\x7f\xff", "%01%7F%FF"));
}

static void
test_round_trip(void)
{
	const char *samples[] = { "a b+c/d?e=f&g", "\xe2\x82\xac 100%", "~-._",
		"x" };

	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		struct buf b;
		char      *back;

		buf_init(&b, 0);
		url_encode(&b, samples[i]);
		CHECK(strchr(b.data, ' ') == NULL);
		CHECK(strchr(b.data, '+') == NULL);
		back = url_decode(b.data, b.len, 1);
		CHECK_STR(back, samples[i]);
		free(back);
		buf_cleanup(&b);
	}
}

/* url_query_get(q, name) compared with expect (NULL: absent). */
static int
query_is(const char *q, const char *name, const char *expect)
{
	char *got = url_query_get(q, name);
	int   ok;

	if (expect == NULL)
		ok = got == NULL;
	else
		ok = got != NULL && strcmp(got, expect) == 0;
	free(got);
	return ok;
}

static void
test_query(void)
{
	const char *q = "code=abc%2Fdef&state=x+y&empty=&flag&code=second";

	CHECK(query_is(q, "code", "abc/def")); /* first match wins */
	CHECK(query_is(q, "state", "x y"));
	CHECK(query_is(q, "empty", ""));
	CHECK(query_is(q, "flag", ""));
	CHECK(query_is(q, "missing", NULL));

	/* Names match whole, not by prefix or suffix. */
	CHECK(query_is("codes=1&code=2", "code", "2"));
	CHECK(query_is("xcode=1", "code", NULL));
	CHECK(query_is("code=1", "cod", NULL));
	CHECK(query_is("code=1", "code=", NULL));

	/* Odd shapes. */
	CHECK(query_is("", "code", NULL));
	CHECK(query_is(NULL, "code", NULL));
	CHECK(query_is("&&code=1&", "code", "1"));
	CHECK(query_is("a=1&b=2", "b", "2"));
	CHECK(query_is("a=1&b=2", "a", "1"));
	CHECK(query_is("a==1", "a", "=1"));

	/* A malformed value is refused, not passed through. */
	CHECK(query_is("code=%zz", "code", NULL));
	CHECK(query_is("code=a%00b", "code", NULL));
}

/* A quote in an OData literal is doubled, then the filter URL-encoded. */
static void
test_odata(void)
{
	struct buf b;

	buf_init(&b, 16);
	url_odata_quote(&b, "it's");
	CHECK_STR(b.data, "'it''s'");
	buf_reset(&b);
	url_odata_eq(&b, "displayName", "a'b c");
	CHECK_STR(b.data, "displayName%20eq%20%27a%27%27b%20c%27");
	buf_cleanup(&b);
}

int
main(void)
{
	test_decode();
	test_decode_len();
	test_encode();
	test_round_trip();
	test_query();
	test_odata();
	return TEST_DONE();
}
