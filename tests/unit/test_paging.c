/*
 * test_paging: lib/domain/paging.c — cursors go out opaque and come back as the
 * key they were made from; anything else is refused; page sizes.
 */
#include <sodium.h>

#include "domain/paging.h"
#include "test.h"

static void
test_round_trip(void)
{
	static const struct page_key keys[] = { { 0, 1 }, { 1764748800, 42 },
		{ 0, 999999999999999999ULL }, { 1LL << 40, 7 } };
	char                         cur[PAGE_CURSOR_MAX];
	struct page_key              k;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		page_cursor_format(&keys[i], cur);
		CHECK(strspn(cur,
		          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		          "0123456789-_") == strlen(cur));
		CHECK(page_cursor_parse(cur, &k) == 0);
		CHECK(k.at == keys[i].at && k.id == keys[i].id);
	}
	CHECK(page_cursor_parse(NULL, &k) == 0 && k.at == 0 && k.id == 0);
	CHECK(page_cursor_parse("", &k) == 0 && k.id == 0);
}

/* base64url of text, for cursors that decode but are not ours. */
static void
b64(const char *text, char out[PAGE_CURSOR_MAX])
{
	sodium_bin2base64(out, PAGE_CURSOR_MAX, (const unsigned char *)text,
	    strlen(text), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
test_refused(void)
{
	static const char *const raw[] = { "abc", "nonsense", "1.", "1.2", "-1",
		"12", "MTIzNA==", "a b", NULL };
	static const char *const texts[] = { "12", "1.", ".5", "1.0", "x.1",
		"01.2", "1.2.3", "1.-2", "9999999999999.1", "1.2x", NULL };
	char                     cur[PAGE_CURSOR_MAX];
	struct page_key          k;

	for (size_t i = 0; raw[i] != NULL; i++)
		CHECK(page_cursor_parse(raw[i], &k) == -1);
	for (size_t i = 0; texts[i] != NULL; i++) {
		b64(texts[i], cur);
		CHECK(page_cursor_parse(cur, &k) == -1);
	}
	memset(cur, 'A', sizeof cur - 1);
	cur[sizeof cur - 1] = '\0';
	CHECK(page_cursor_parse(cur, &k) == -1);
}

static void
test_limit(void)
{
	long n;

	CHECK(page_limit_parse(NULL, 50, 200, &n) == 0 && n == 50);
	CHECK(page_limit_parse("", 20, 100, &n) == 0 && n == 20);
	CHECK(page_limit_parse("1", 50, 200, &n) == 0 && n == 1);
	CHECK(page_limit_parse("200", 50, 200, &n) == 0 && n == 200);
	CHECK(page_limit_parse("201", 50, 200, &n) == -1);
	CHECK(page_limit_parse("0", 50, 200, &n) == -1);
	CHECK(page_limit_parse("05", 50, 200, &n) == -1);
	CHECK(page_limit_parse("x", 50, 200, &n) == -1);
	CHECK(page_limit_parse("-1", 50, 200, &n) == -1);
	CHECK(page_shown(51, 50) == 50 && page_shown(7, 50) == 7);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_round_trip();
	test_refused();
	test_limit();
	return TEST_DONE();
}
