/*
 * jwks: OpenID Connect id_tokens with OpenSSL's libcrypto — a tenant's
 * JSON Web Key Set (RSA keys by kid), a per-process cache of it that is
 * fetched again when a token names a kid it does not hold, and the
 * validation of an RS256 id_token against it (signature, iss, aud, exp,
 * nbf, nonce, tid).  docs/sso.md lists the rules.  Nothing else in
 * postdesk verifies a signature.
 */
#ifndef POSTDESK_JWKS_H
#define POSTDESK_JWKS_H

#include <stddef.h>
#include <time.h>

#include "adapt/http.h"
#include "base/err.h"

#define JWKS_MAX_KEYS  16
#define JWKS_KID_MAX   128
#define JWKS_SKEW_SECS 120 /* clocks may differ this much (exp, nbf) */

struct jwks_key {
	char  kid[JWKS_KID_MAX];
	void *pkey; /* EVP_PKEY */
};

struct jwks {
	struct jwks_key keys[JWKS_MAX_KEYS];
	size_t          n;
};

/* What the id_token must say. */
struct jwks_expect {
	const char *issuer;   /* exactly */
	const char *audience; /* the client id */
	const char *tenant;   /* tid, compared without regard to case */
	const char *nonce;    /* exactly (constant time) */
	time_t      now;
};

struct jwks_claims {
	char oid[64];
	char tid[64];
	char username[321]; /* preferred_username */
	char email[321];
	char name[256];
};

enum jwks_verdict {
	JWKS_OK,
	JWKS_MALFORMED,     /* not three base64url parts of JSON */
	JWKS_BAD_ALG,       /* not RS256, or no kid */
	JWKS_UNKNOWN_KID,   /* no key of the set has the token's kid */
	JWKS_BAD_SIGNATURE, /* the signature does not verify */
	JWKS_EXPIRED,       /* exp passed (more than the skew ago) */
	JWKS_NOT_YET,       /* nbf still ahead (more than the skew) */
	JWKS_BAD_ISSUER,
	JWKS_BAD_AUDIENCE,
	JWKS_BAD_NONCE,
	JWKS_BAD_TENANT,
	JWKS_NO_OID /* no object id: nothing to match an agent by */
};

int  jwks_parse(struct jwks *, const char *json, size_t len, struct err *);
void jwks_cleanup(struct jwks *);
int  jwks_has_kid(const struct jwks *, const char *kid);
int  jwks_token_kid(const char *token, char kid[JWKS_KID_MAX]);
const char       *jwks_verdict_text(enum jwks_verdict);
enum jwks_verdict jwks_verify(const struct jwks *, const char *token,
    const struct jwks_expect *, struct jwks_claims *);
int  jwks_verify_cached(struct http *, const char *jwks_url, const char *token,
     const struct jwks_expect *, struct jwks_claims *, enum jwks_verdict *,
     struct err *);
void jwks_cache_clear(void);

#endif
