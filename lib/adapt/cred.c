/*
 * cred: password hashing (argon2id, libsodium's interactive limits), random
 * tokens (256 bits, base64url) and their SHA-256 digests.  Tokens are
 * high-entropy, so a fast digest is what we store and look up; passwords
 * are not, so they get argon2id.
 */
#include <string.h>

#include <sodium.h>

#include "adapt/cred.h"

/* Hash password into out.  Returns 0, or -1 when out of memory. */
int
cred_password_hash(const char *password, char out[CRED_PWHASH_MAX])
{
	_Static_assert(crypto_pwhash_STRBYTES <= CRED_PWHASH_MAX, "pwhash");
	return crypto_pwhash_str_alg(out, password, strlen(password),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

/* Returns 1 if password matches hash, 0 otherwise. */
int
cred_password_verify(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* Fill out with nbytes random bytes as base64url text (no padding). */
void
cred_random_text(char *out, size_t outlen, size_t nbytes)
{
	unsigned char raw[64];

	if (nbytes > sizeof raw)
		nbytes = sizeof raw;
	randombytes_buf(raw, nbytes);
	sodium_bin2base64(out, outlen, raw, nbytes,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

/* A new 256-bit random token, 43 characters of base64url. */
void
cred_token_new(char out[CRED_TOKEN_MAX])
{
	cred_random_text(out, CRED_TOKEN_MAX, 32);
}

/* SHA-256 of text. */
void
cred_hash(const char *text, unsigned char out[CRED_HASH_BYTES])
{
	crypto_hash_sha256(out, (const unsigned char *)text, strlen(text));
}

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void
cred_hex(const unsigned char *in, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

/* Constant-time string equality (length is not secret). */
int
cred_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n != strlen(b))
		return 0;
	return sodium_memcmp(a, b, n) == 0;
}
