/*
 * jwks: a tenant's signing keys and the id_tokens they sign.  Keys come
 * from the JWKS document as modulus and exponent (base64url, RFC 7518
 * 6.3) and become OpenSSL EVP_PKEYs through OSSL_PARAM_BLD; a token is
 * accepted only as RS256 with a kid of the set, a signature that verifies,
 * and claims that match what the caller expects (struct jwks_expect).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "adapt/cred.h"
#include "adapt/jwks.h"
#include "base/xmalloc.h"

#define JWKS_PART_MAX (16 * 1024) /* one decoded part of a token */
#define JWKS_MIN_BITS 2048
#define JWKS_TTL_SECS (24 * 3600)

/* base64url without padding into out (size cap); -1 if not that. */
static int
b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap,
    size_t *n)
{
	return sodium_base642bin(out, cap, in, len, NULL, n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The big-endian number of a JWK member (n or e) as a BIGNUM. */
static BIGNUM *
jwk_bn(json_t *key, const char *name)
{
	const char   *s = json_string_value(json_object_get(key, name));
	unsigned char raw[1024];
	size_t        n;

	if (s == NULL ||
	    b64url_decode(s, strlen(s), raw, sizeof raw, &n) != 0 || n == 0)
		return NULL;
	return BN_bin2bn(raw, (int)n, NULL);
}

/* An RSA public key from a JWK's n and e; NULL when it is not one. */
static EVP_PKEY *
jwk_rsa(json_t *key)
{
	BIGNUM         *n = jwk_bn(key, "n"), *e = jwk_bn(key, "e");
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM     *params = NULL;
	EVP_PKEY_CTX   *ctx = NULL;
	EVP_PKEY       *pkey = NULL;

	if (n == NULL || e == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	else if (EVP_PKEY_get_bits(pkey) < JWKS_MIN_BITS) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/*
 * Parse a JWKS document ({"keys": [...]}) into set: every RSA key with a
 * kid that is usable for signatures (use absent or "sig").  Other keys are
 * skipped; a document without one usable key is E_INVALID.
 */
int
jwks_parse(struct jwks *set, const char *json, size_t len, struct err *err)
{
	json_error_t je;
	json_t      *doc = json_loadb(json, len, 0, &je), *keys, *k;
	size_t       i;

	memset(set, 0, sizeof *set);
	keys = json_object_get(doc, "keys");
	json_array_foreach (keys, i, k) {
		const char *kty = json_string_value(json_object_get(k, "kty"));
		const char *kid = json_string_value(json_object_get(k, "kid"));
		const char *use = json_string_value(json_object_get(k, "use"));
		EVP_PKEY   *pk;

		if (set->n == JWKS_MAX_KEYS || kty == NULL ||
		    strcmp(kty, "RSA") != 0 || kid == NULL ||
		    strlen(kid) >= JWKS_KID_MAX ||
		    (use != NULL && strcmp(use, "sig") != 0))
			continue;
		pk = jwk_rsa(k);
		if (pk == NULL)
			continue;
		snprintf(set->keys[set->n].kid, JWKS_KID_MAX, "%s", kid);
		set->keys[set->n++].pkey = pk;
	}
	json_decref(doc);
	if (set->n == 0) {
		err_set(err, E_INVALID, "the key set holds no usable RSA key");
		return -1;
	}
	return 0;
}

void
jwks_cleanup(struct jwks *set)
{
	for (size_t i = 0; i < set->n; i++)
		EVP_PKEY_free(set->keys[i].pkey);
	memset(set, 0, sizeof *set);
}

static EVP_PKEY *
key_of(const struct jwks *set, const char *kid)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->keys[i].kid, kid) == 0)
			return set->keys[i].pkey;
	return NULL;
}

int
jwks_has_kid(const struct jwks *set, const char *kid)
{
	return key_of(set, kid) != NULL;
}

/* Decode part [p, p+n) of a token as a JSON object; NULL if not one. */
static json_t *
part_json(const char *p, size_t n)
{
	unsigned char *raw = xmalloc(JWKS_PART_MAX);
	size_t         len;
	json_t        *o = NULL;

	if (b64url_decode(p, n, raw, JWKS_PART_MAX, &len) == 0)
		o = json_loadb((const char *)raw, len, 0, NULL);
	free(raw);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* The three parts of a compact JWS: 0, or -1 when it is not one. */
static int
split(const char *token, const char **dot1, const char **dot2)
{
	*dot1 = strchr(token, '.');
	*dot2 = *dot1 ? strchr(*dot1 + 1, '.') : NULL;
	return *dot2 == NULL || strchr(*dot2 + 1, '.') != NULL ? -1 : 0;
}

/* The header's kid when the header is RS256 with a kid: 0, else -1. */
int
jwks_token_kid(const char *token, char kid[JWKS_KID_MAX])
{
	const char *d1, *d2, *alg, *k;
	json_t     *hdr;
	int         rc = -1;

	kid[0] = '\0';
	if (split(token, &d1, &d2) == -1)
		return -1;
	hdr = part_json(token, (size_t)(d1 - token));
	alg = json_string_value(json_object_get(hdr, "alg"));
	k = json_string_value(json_object_get(hdr, "kid"));
	if (alg != NULL && strcmp(alg, "RS256") == 0 && k != NULL &&
	    k[0] != '\0' && strlen(k) < JWKS_KID_MAX) {
		snprintf(kid, JWKS_KID_MAX, "%s", k);
		rc = 0;
	}
	json_decref(hdr);
	return rc;
}

/* RS256 over the token's first two parts with pkey: 1 if it verifies. */
static int
signature_ok(EVP_PKEY *pkey, const char *token, const char *d2)
{
	unsigned char sig[1024];
	size_t        n;
	EVP_MD_CTX   *md = EVP_MD_CTX_new();
	int           ok = 0;

	if (md != NULL &&
	    b64url_decode(d2 + 1, strlen(d2 + 1), sig, sizeof sig, &n) == 0 &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1)
		ok = EVP_DigestVerify(md, sig, n, (const unsigned char *)token,
		         (size_t)(d2 - token)) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

static void
copy_claim(char *dst, size_t size, json_t *claims, const char *name)
{
	const char *s = json_string_value(json_object_get(claims, name));

	snprintf(dst, size, "%s", s != NULL && strlen(s) < size ? s : "");
}

/* aud is the client id, or an array holding it. */
static int
audience_ok(json_t *aud, const char *want)
{
	size_t  i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach (aud, i, v) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), want) == 0)
			return 1;
	}
	return 0;
}

/* The time claims: exp required, nbf optional, each with the skew. */
static enum jwks_verdict
times_ok(json_t *claims, time_t now)
{
	json_t *exp = json_object_get(claims, "exp");
	json_t *nbf = json_object_get(claims, "nbf");

	if (!json_is_number(exp))
		return JWKS_MALFORMED;
	if ((double)now > json_number_value(exp) + JWKS_SKEW_SECS)
		return JWKS_EXPIRED;
	if (nbf != NULL && !json_is_number(nbf))
		return JWKS_MALFORMED;
	if (nbf != NULL &&
	    (double)now + JWKS_SKEW_SECS < json_number_value(nbf))
		return JWKS_NOT_YET;
	return JWKS_OK;
}

static enum jwks_verdict
claims_ok(json_t *claims, const struct jwks_expect *x, struct jwks_claims *out)
{
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *tid = json_string_value(json_object_get(claims, "tid"));
	const char *non = json_string_value(json_object_get(claims, "nonce"));
	enum jwks_verdict v = times_ok(claims, x->now);

	if (v != JWKS_OK)
		return v;
	if (iss == NULL || strcmp(iss, x->issuer) != 0)
		return JWKS_BAD_ISSUER;
	if (!audience_ok(json_object_get(claims, "aud"), x->audience))
		return JWKS_BAD_AUDIENCE;
	if (non == NULL || !cred_equal(non, x->nonce))
		return JWKS_BAD_NONCE;
	if (tid == NULL || strcasecmp(tid, x->tenant) != 0)
		return JWKS_BAD_TENANT;
	copy_claim(out->oid, sizeof out->oid, claims, "oid");
	copy_claim(out->tid, sizeof out->tid, claims, "tid");
	copy_claim(out->username, sizeof out->username, claims,
	    "preferred_username");
	copy_claim(out->email, sizeof out->email, claims, "email");
	copy_claim(out->name, sizeof out->name, claims, "name");
	return out->oid[0] ? JWKS_OK : JWKS_NO_OID;
}

/*
 * Validate id_token token with the keys of set against x.  JWKS_OK with
 * *out filled, else why not (out is then cleared).
 */
enum jwks_verdict
jwks_verify(const struct jwks *set, const char *token,
    const struct jwks_expect *x, struct jwks_claims *out)
{
	const char       *d1, *d2;
	char              kid[JWKS_KID_MAX];
	EVP_PKEY         *pk;
	json_t           *claims;
	enum jwks_verdict v;

	memset(out, 0, sizeof *out);
	if (split(token, &d1, &d2) == -1)
		return JWKS_MALFORMED;
	if (jwks_token_kid(token, kid) == -1)
		return JWKS_BAD_ALG;
	pk = key_of(set, kid);
	if (pk == NULL)
		return JWKS_UNKNOWN_KID;
	if (!signature_ok(pk, token, d2))
		return JWKS_BAD_SIGNATURE;
	claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	v = claims == NULL ? JWKS_MALFORMED : claims_ok(claims, x, out);
	json_decref(claims);
	if (v != JWKS_OK)
		memset(out, 0, sizeof *out);
	return v;
}

const char *
jwks_verdict_text(enum jwks_verdict v)
{
	static const char *const text[] = {
		[JWKS_OK] = "valid",
		[JWKS_MALFORMED] = "not a well-formed token",
		[JWKS_BAD_ALG] = "not RS256 with a key id",
		[JWKS_UNKNOWN_KID] =
		    "signed by a key the tenant does not publish",
		[JWKS_BAD_SIGNATURE] = "the signature does not verify",
		[JWKS_EXPIRED] = "expired",
		[JWKS_NOT_YET] = "not valid yet (nbf)",
		[JWKS_BAD_ISSUER] = "issued by someone else (iss)",
		[JWKS_BAD_AUDIENCE] = "issued to another application (aud)",
		[JWKS_BAD_NONCE] = "the nonce is not this sign-in's",
		[JWKS_BAD_TENANT] = "from another tenant (tid)",
		[JWKS_NO_OID] = "carries no object id (oid)",
	};

	return (size_t)v < sizeof text / sizeof text[0] ? text[v] : "?";
}

/*
 * The cache: one key set per JWKS URL, per process (each FastCGI worker
 * keeps its own).  A set is fetched when missing, after a day, and when a
 * token names a kid it does not hold — Microsoft rotates its keys and
 * publishes the new one before signing with it.  The id_token comes from
 * the token endpoint over TLS, never from the browser, so an unknown kid
 * costs at most one fetch per sign-in.
 */
#define JWKS_CACHE_SLOTS 4

static struct cached {
	char        url[512];
	struct jwks set;
	time_t      fetched;
} cache[JWKS_CACHE_SLOTS];

static struct cached *
slot_of(const char *url)
{
	struct cached *oldest = &cache[0];

	for (size_t i = 0; i < JWKS_CACHE_SLOTS; i++) {
		if (strcmp(cache[i].url, url) == 0)
			return &cache[i];
		if (cache[i].fetched < oldest->fetched)
			oldest = &cache[i];
	}
	jwks_cleanup(&oldest->set);
	oldest->fetched = 0;
	snprintf(oldest->url, sizeof oldest->url, "%s", url);
	return oldest;
}

static int
fetch(struct http *h, struct cached *c, struct err *err)
{
	struct http_req  rq = { .method = "GET", .url = c->url };
	struct http_resp resp;
	struct jwks      set;
	int              rc = -1;

	rq.headers[0] = "Accept: application/json";
	rq.max_body = 256 * 1024;
	if (http_do(h, &rq, &resp, err) == -1)
		return -1;
	if (resp.status != 200)
		err_set(err, E_UNAVAILABLE,
		    "Microsoft's signing keys could not be read (HTTP %ld)",
		    resp.status);
	else if (jwks_parse(&set, resp.body.data, resp.body.len, err) == 0) {
		jwks_cleanup(&c->set);
		c->set = set;
		c->fetched = time(NULL);
		rc = 0;
	}
	http_resp_cleanup(&resp);
	return rc;
}

/*
 * jwks_verify with the cached key set of jwks_url, fetched as said above:
 * 0 with *v the verdict, or -1 (err set) when the keys could not be read.
 */
int
jwks_verify_cached(struct http *h, const char *jwks_url, const char *token,
    const struct jwks_expect *x, struct jwks_claims *out, enum jwks_verdict *v,
    struct err *err)
{
	struct cached *c = slot_of(jwks_url);
	char           kid[JWKS_KID_MAX];
	int fresh = c->fetched != 0 && time(NULL) - c->fetched < JWKS_TTL_SECS;

	memset(out, 0, sizeof *out);
	if (jwks_token_kid(token, kid) == 0 &&
	    (!fresh || !jwks_has_kid(&c->set, kid)) && fetch(h, c, err) == -1)
		return -1;
	*v = jwks_verify(&c->set, token, x, out);
	return 0;
}

/* Forget every cached key set (tests). */
void
jwks_cache_clear(void)
{
	for (size_t i = 0; i < JWKS_CACHE_SLOTS; i++) {
		jwks_cleanup(&cache[i].set);
		memset(&cache[i], 0, sizeof cache[i]);
	}
}
