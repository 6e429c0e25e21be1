/*
 * test_cred: password hashes, random tokens, SHA-256 digests and
 * constant-time comparison.
 */
#include <string.h>

#include "adapt/cred.h"
#include "adapt/seal.h"
#include "test.h"

static void
test_password(void)
{
	char a[CRED_PWHASH_MAX], b[CRED_PWHASH_MAX];

	CHECK_INT(cred_password_hash("correct horse", a), 0);
	CHECK(strncmp(a, "$argon2id$", 10) == 0);
	CHECK(strlen(a) < CRED_PWHASH_MAX);
	CHECK(strstr(a, "correct horse") == NULL);
	CHECK(cred_password_verify(a, "correct horse"));
	CHECK(!cred_password_verify(a, "correct hors"));
	CHECK(!cred_password_verify(a, "correct horse "));
	CHECK(!cred_password_verify(a, "Correct horse"));
	CHECK(!cred_password_verify(a, ""));

	/* A fresh salt each time: same password, different hash. */
	CHECK_INT(cred_password_hash("correct horse", b), 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(cred_password_verify(b, "correct horse"));

	/* Garbage where a hash belongs never verifies. */
	CHECK(!cred_password_verify("", ""));
	CHECK(!cred_password_verify("correct horse", "correct horse"));
	a[strlen(a) - 2] = a[strlen(a) - 2] == 'A' ? 'B' : 'A';
	CHECK(!cred_password_verify(a, "correct horse"));
}

static int
base64url_only(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		        (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static void
test_token(void)
{
	char tokens[32][CRED_TOKEN_MAX];
	int  alphabet_ok = 1, length_ok = 1, unique = 1;

	for (int i = 0; i < 32; i++) {
		memset(tokens[i], '!', CRED_TOKEN_MAX);
		cred_token_new(tokens[i]);
		length_ok &= strlen(tokens[i]) == 43;
		alphabet_ok &= base64url_only(tokens[i]);
		for (int j = 0; j < i; j++)
			unique &= strcmp(tokens[i], tokens[j]) != 0;
	}
	CHECK(length_ok);
	CHECK(alphabet_ok);
	CHECK(unique);
	CHECK_INT(strlen(tokens[0]), 43);
}

static void
test_random_text(void)
{
	char s[64], t[64];

	cred_random_text(s, sizeof s, 16);
	CHECK_INT(strlen(s), 22); /* ceil(16 * 4 / 3), no padding */
	CHECK(base64url_only(s));
	cred_random_text(t, sizeof t, 16);
	CHECK(strcmp(s, t) != 0);
	cred_random_text(s, sizeof s, 3);
	CHECK_INT(strlen(s), 4);
}

static void
test_hash(void)
{
	unsigned char d[CRED_HASH_BYTES], e[CRED_HASH_BYTES];
	char          hex[2 * CRED_HASH_BYTES + 1];

	/* FIPS 180-2 test vectors. */
	cred_hash("abc", d);
	cred_hex(d, sizeof d, hex);
	CHECK_STR(hex,
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	cred_hash("", d);
	cred_hex(d, sizeof d, hex);
	CHECK_STR(hex,
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	cred_hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    d);
	cred_hex(d, sizeof d, hex);
	CHECK_STR(hex,
	    "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");

	cred_hash("token-a", d);
	cred_hash("token-b", e);
	CHECK(memcmp(d, e, sizeof d) != 0);
	cred_hash("token-a", e);
	CHECK(memcmp(d, e, sizeof d) == 0);

	/* cred_hex: lower case, NUL-terminated, 2n characters. */
	memset(hex, 'x', sizeof hex);
	cred_hex((const unsigned char *)"\x00\xab\xff", 3, hex);
	CHECK_STR(hex, "00abff");
}

static void
test_equal(void)
{
	CHECK(cred_equal("", ""));
	CHECK(cred_equal("abc", "abc"));
	CHECK(!cred_equal("abc", "abd"));
	CHECK(!cred_equal("abc", "Abc"));
	CHECK(!cred_equal("abc", "ab"));
	CHECK(!cred_equal("ab", "abc"));
	CHECK(!cred_equal("", "a"));
	CHECK(!cred_equal("a", ""));
}

int
main(void)
{
	if (!CHECK_INT(seal_init(), 0))
		return TEST_DONE();
	test_password();
	test_token();
	test_random_text();
	test_hash();
	test_equal();
	return TEST_DONE();
}
