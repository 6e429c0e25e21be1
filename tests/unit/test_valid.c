/*
 * test_valid: GUIDs, domains, e-mail addresses, dates and ids.
 */
#include <stdint.h>
#include <string.h>

#include "base/valid.h"
#include "test.h"

static void
test_guid(void)
{
	CHECK(valid_guid("0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab"));
	CHECK(valid_guid("0B5E9E3C-1A2B-4C3D-8E9F-0123456789AB"));
	CHECK(valid_guid("0b5E9e3C-1a2B-4c3D-8e9F-0123456789aB"));
	CHECK(valid_guid("00000000-0000-0000-0000-000000000000"));

	CHECK(!valid_guid(""));
	CHECK(!valid_guid("0b5e9e3c1a2b4c3d8e9f0123456789ab")); /* no dashes */
	CHECK(!valid_guid("0b5e9e3-c1a2b-4c3d-8e9f-0123456789ab"));
	CHECK(!valid_guid("0b5e9e3c-1a2-b4c3d-8e9f-0123456789ab"));
	CHECK(!valid_guid("0b5e9e3c-1a2b-4c3-d8e9f-0123456789ab"));
	CHECK(!valid_guid("0b5e9e3c-1a2b-4c3d-8e9-f0123456789ab"));
	CHECK(!valid_guid("0b5e9e3c-1a2b-4c3d-8e9f-0123456789a"));
	CHECK(!valid_guid("0b5e9e3c-1a2b-4c3d-8e9f-0123456789abc"));
	CHECK(!valid_guid("0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab "));
	CHECK(!valid_guid(" 0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab"));
	CHECK(!valid_guid("{0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab}"));
	CHECK(!valid_guid("0b5e9e3g-1a2b-4c3d-8e9f-0123456789ab"));
	CHECK(!valid_guid("0b5e9e3c_1a2b-4c3d-8e9f-0123456789ab"));
	CHECK(!valid_guid("0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab-"));
}

/* A label of n characters 'a' followed by ".com". */
static int
domain_with_label(size_t n)
{
	char s[128];

	memset(s, 'a', n);
	memcpy(s + n, ".com", 5);
	return valid_domain(s);
}

static void
test_domain(void)
{
	char long_name[300];

	CHECK(valid_domain("contoso.com"));
	CHECK(valid_domain("contoso.onmicrosoft.com"));
	CHECK(valid_domain("Contoso.COM"));
	CHECK(valid_domain("my-site.example.org"));
	CHECK(valid_domain("a1.b2.io"));
	CHECK(valid_domain("123.example.com"));

	CHECK(!valid_domain(""));
	CHECK(!valid_domain("localhost")); /* single label */
	CHECK(!valid_domain("com"));
	CHECK(!valid_domain("example.c")); /* one-letter TLD */
	CHECK(!valid_domain("example.123"));
	CHECK(!valid_domain("10.0.0.1"));
	CHECK(!valid_domain("example.c0m"));
	CHECK(!valid_domain("-example.com"));
	CHECK(!valid_domain("example-.com"));
	CHECK(!valid_domain("example.-com"));
	CHECK(!valid_domain("exa mple.com"));
	CHECK(!valid_domain("exa_mple.com"));
	CHECK(!valid_domain("example..com"));
	CHECK(!valid_domain(".example.com"));
	CHECK(!valid_domain("example.com."));
	CHECK(!valid_domain("example.com/x"));
	CHECK(!valid_domain("us\xc3\xa9r.com"));
	CHECK(valid_domain("ex--ample.com")); /* inner hyphens are fine */

	CHECK(domain_with_label(1));
	CHECK(domain_with_label(63));
	CHECK(!domain_with_label(64));

	/* 253 characters is the most a name may have. */
	memset(long_name, 0, sizeof long_name);
	for (size_t i = 0; i < 4; i++) {
		memset(long_name + i * 62, 'a', 61);
		long_name[i * 62 + 61] = '.';
	}
	/* 4 * 62 = 248 characters so far; add "abcde" for 253. */
	memcpy(long_name + 248, "abcde", 6);
	CHECK_INT(strlen(long_name), 253);
	CHECK(valid_domain(long_name));
	memcpy(long_name + 248, "abcdef", 7);
	CHECK(!valid_domain(long_name));
}

static void
test_email(void)
{
	char local[80], addr[300];

	CHECK(valid_email("user@contoso.com"));
	CHECK(valid_email("first.last@contoso.com"));
	CHECK(valid_email("user+tag@contoso.com"));
	CHECK(valid_email("o'brien@contoso.com"));
	CHECK(valid_email("a@b.co"));

	CHECK(!valid_email(""));
	CHECK(!valid_email("user"));
	CHECK(!valid_email("@contoso.com"));
	CHECK(!valid_email("user@"));
	CHECK(!valid_email("user@localhost"));
	CHECK(!valid_email(".user@contoso.com"));
	CHECK(!valid_email("user.@contoso.com"));
	CHECK(!valid_email("us..er@contoso.com"));
	CHECK(!valid_email("\"user\"@contoso.com"));
	CHECK(!valid_email("\"a b\"@contoso.com"));
	CHECK(!valid_email("us er@contoso.com"));
	CHECK(!valid_email("user@@contoso.com"));
	CHECK(!valid_email("a@b@contoso.com"));
	CHECK(!valid_email("user@contoso..com"));
	CHECK(!valid_email("user@contoso.com\r\nBcc: x@y.com"));
	CHECK(!valid_email("us(er)@contoso.com"));
	CHECK(!valid_email("us<er>@contoso.com"));
	CHECK(!valid_email("us\xc3\xa9r@contoso.com"));

	/* Local part: at most 64 characters. */
	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(addr, sizeof addr, "%s@contoso.com", local);
	CHECK(valid_email(addr));
	snprintf(addr, sizeof addr, "a%s@contoso.com", local);
	CHECK(!valid_email(addr));

	/* Whole address: at most 254 characters. */
	memset(addr, 0, sizeof addr);
	memcpy(addr, "a@", 2);
	for (size_t i = 0; i < 4; i++) {
		memset(addr + 2 + i * 62, 'b', 61);
		addr[2 + i * 62 + 61] = '.';
	}
	memcpy(addr + 250, "abcd", 5);
	CHECK_INT(strlen(addr), 254);
	CHECK(valid_email(addr));
	memcpy(addr + 250, "abcde", 6);
	CHECK(!valid_email(addr));
}

static void
test_date(void)
{
	CHECK(valid_date("2027-05-31"));
	CHECK(valid_date("2000-01-01"));
	CHECK(valid_date("9999-12-31"));
	CHECK(valid_date("2026-01-31"));
	CHECK(valid_date("2026-04-30"));

	/* Leap years. */
	CHECK(valid_date("2024-02-29"));
	CHECK(valid_date("2000-02-29")); /* divisible by 400 */
	CHECK(!valid_date("2023-02-29"));
	CHECK(!valid_date("2100-02-29")); /* divisible by 100 only */
	CHECK(valid_date("2100-02-28"));
	CHECK(!valid_date("2024-02-30"));

	/* Month and day bounds. */
	CHECK(!valid_date("2026-00-10"));
	CHECK(!valid_date("2026-13-10"));
	CHECK(!valid_date("2026-01-00"));
	CHECK(!valid_date("2026-01-32"));
	CHECK(!valid_date("2026-04-31"));
	CHECK(!valid_date("2026-06-31"));
	CHECK(!valid_date("2026-09-31"));
	CHECK(!valid_date("2026-11-31"));
	CHECK(valid_date("2026-12-31"));
	CHECK(!valid_date("1999-12-31"));

	/* Format. */
	CHECK(!valid_date(""));
	CHECK(!valid_date("2026-1-10"));
	CHECK(!valid_date("2026-01-1"));
	CHECK(!valid_date("26-01-10"));
	CHECK(!valid_date("2026/01/10"));
	CHECK(!valid_date("20260110"));
	CHECK(!valid_date("2026-01-10T00:00"));
	CHECK(!valid_date("2026-01-10 "));
	CHECK(!valid_date("2026-0a-10"));
	CHECK(!valid_date("2026-01--1"));
	CHECK(!valid_date("+026-01-10"));
}

static void
test_id(void)
{
	uint64_t v = 12345;

	CHECK(valid_id("1", &v));
	CHECK_INT(v, 1);
	CHECK(valid_id("42", &v));
	CHECK_INT(v, 42);
	CHECK(valid_id("999999999999999999", &v)); /* 18 digits */
	CHECK(v == 999999999999999999ULL);

	v = 7;
	CHECK(!valid_id("", &v));
	CHECK(!valid_id("0", &v));
	CHECK(!valid_id("01", &v));
	CHECK(!valid_id("1000000000000000000", &v)); /* 19 digits */
	CHECK(!valid_id("18446744073709551616", &v));
	CHECK(!valid_id("-1", &v));
	CHECK(!valid_id("+1", &v));
	CHECK(!valid_id("1a", &v));
	CHECK(!valid_id("12 ", &v));
	CHECK(!valid_id(" 12", &v));
	CHECK(!valid_id("1.0", &v));
	CHECK(!valid_id("0x1f", &v));
	CHECK_INT(v, 7); /* untouched on refusal */
}

int
main(void)
{
	test_guid();
	test_domain();
	test_email();
	test_date();
	test_id();
	return TEST_DONE();
}
