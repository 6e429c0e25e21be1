/*
 * cred: credentials — argon2id password hashes, random tokens and their
 * SHA-256 digests, constant-time comparison.
 */
#ifndef POSTDESK_CRED_H
#define POSTDESK_CRED_H

#include <stddef.h>

#define CRED_HASH_BYTES 32
#define CRED_PWHASH_MAX 128
/* base64url of 32 random bytes, no padding, plus NUL */
#define CRED_TOKEN_MAX 44

int  cred_password_hash(const char *password, char out[CRED_PWHASH_MAX]);
int  cred_password_verify(const char *hash, const char *password);
void cred_token_new(char out[CRED_TOKEN_MAX]);
void cred_random_text(char *out, size_t outlen, size_t nbytes);
void cred_hash(const char *text, unsigned char out[CRED_HASH_BYTES]);
void cred_hex(const unsigned char *in, size_t n, char *out);
int  cred_equal(const char *a, const char *b);

#endif
