/*
 * test_jwks: the key set (RSA JWKs into keys, unusable ones skipped) and
 * id_token validation — a token signed here with a key made here must
 * pass, and each thing that can be wrong with one (signature, kid, alg,
 * exp, nbf, iss, aud, nonce, tid, oid, shape) must be refused for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "adapt/jwks.h"
#include "test.h"

#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define ISSUER "https://login.example/" TENANT "/v2.0"
#define CLIENT "11111111-2222-3333-4444-555555555555"
#define NONCE  "n0nce-n0nce-n0nce-n0nce-n0nce-n0nce-n0nce-x"

static time_t now;

static void
b64(char *out, size_t size, const unsigned char *in, size_t n)
{
	sodium_bin2base64(out, size, in, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* {"kty":"RSA","kid":kid,"n":…,"e":…} of key's public half, into out. */
static void
jwk_of(EVP_PKEY *key, const char *kid, const char *use, char *out, size_t size)
{
	BIGNUM       *n = NULL, *e = NULL;
	unsigned char raw[1024];
	char          nb[1400], eb[16];
	int           len;

	EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
	EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
	len = BN_bn2bin(n, raw);
	b64(nb, sizeof nb, raw, (size_t)len);
	len = BN_bn2bin(e, raw);
	b64(eb, sizeof eb, raw, (size_t)len);
	snprintf(out, size,
	    "{\"kty\":\"RSA\",\"use\":\"%s\",\"kid\":\"%s\",\"n\":\"%s\","
	    "\"e\":\"%s\"}",
	    use, kid, nb, eb);
	BN_free(n);
	BN_free(e);
}

/* header.payload.signature with key (RS256 over the first two parts). */
static char *
token(EVP_PKEY *key, const char *header, const char *payload)
{
	char          hb[512], pb[2048], sb[600], *out = malloc(4096);
	unsigned char sig[512];
	size_t        siglen = sizeof sig, len;
	EVP_MD_CTX   *md = EVP_MD_CTX_new();

	b64(hb, sizeof hb, (const unsigned char *)header, strlen(header));
	b64(pb, sizeof pb, (const unsigned char *)payload, strlen(payload));
	snprintf(out, 4096, "%s.%s", hb, pb);
	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(md, sig, &siglen, (unsigned char *)out, strlen(out));
	EVP_MD_CTX_free(md);
	b64(sb, sizeof sb, sig, siglen);
	len = strlen(out);
	snprintf(out + len, 4096 - len, ".%s", sb);
	return out;
}

/* The claims of a good token, with one member replaced (or removed). */
static void
claims(char *out, size_t size, const char *name, const char *value)
{
	struct {
		const char *k;
		char        v[200];
	} c[] = { { "iss", "\"" ISSUER "\"" }, { "aud", "\"" CLIENT "\"" },
		{ "tid", "\"" TENANT "\"" }, { "nonce", "\"" NONCE "\"" },
		{ "oid", "\"00000000-0000-0000-0000-0000000000aa\"" },
		{ "preferred_username", "\"alice@contoso.com\"" },
		{ "name", "\"Alice\"" }, { "exp", "" }, { "nbf", "" },
		{ "iat", "" } };
	size_t n = sizeof c / sizeof c[0], len = 0;

	snprintf(c[7].v, sizeof c[7].v, "%lld", (long long)now + 3600);
	snprintf(c[8].v, sizeof c[8].v, "%lld", (long long)now - 10);
	snprintf(c[9].v, sizeof c[9].v, "%lld", (long long)now - 10);
	len += (size_t)snprintf(out, size, "{");
	for (size_t i = 0; i < n; i++) {
		const char *v = c[i].v;

		if (name != NULL && strcmp(c[i].k, name) == 0) {
			if (value == NULL)
				continue;
			v = value;
		}
		len += (size_t)snprintf(out + len, size - len, "%s\"%s\":%s",
		    len > 1 ? "," : "", c[i].k, v);
	}
	snprintf(out + len, size - len, "}");
}

static EVP_PKEY   *key1, *key2;
static struct jwks set;

static enum jwks_verdict
verify_with(EVP_PKEY *key, const char *header, const char *name,
    const char *value, struct jwks_claims *out)
{
	struct jwks_expect x = { ISSUER, CLIENT, TENANT, NONCE, 0 };
	char               payload[2048];
	char              *t;
	enum jwks_verdict  v;

	x.now = now;
	claims(payload, sizeof payload, name, value);
	t = token(key, header, payload);
	v = jwks_verify(&set, t, &x, out);
	free(t);
	return v;
}

#define HDR1 "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"k1\"}"

static enum jwks_verdict
verify(const char *name, const char *value)
{
	struct jwks_claims c;

	return verify_with(key1, HDR1, name, value, &c);
}

static void
test_parse(void)
{
	EVP_PKEY   *small = EVP_RSA_gen(1024);
	char        j1[2000], j2[2000], j3[2000], doc[8000];
	struct err  err;
	struct jwks none;

	jwk_of(key1, "k1", "sig", j1, sizeof j1);
	jwk_of(key2, "k2", "enc", j2, sizeof j2);  /* not for signatures */
	jwk_of(small, "k3", "sig", j3, sizeof j3); /* under 2048 bits */
	snprintf(doc, sizeof doc,
	    "{\"keys\":[%s,%s,%s,{\"kty\":\"EC\",\"kid\":\"k4\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"k5\",\"n\":\"!!\",\"e\":\"AQAB\"}]}",
	    j2, j3, j1);
	CHECK_INT(jwks_parse(&set, doc, strlen(doc), &err), 0);
	CHECK_INT(set.n, 1);
	CHECK(jwks_has_kid(&set, "k1"));
	CHECK(!jwks_has_kid(&set, "k2") && !jwks_has_kid(&set, "k3"));
	CHECK_INT(jwks_parse(&none, "{\"keys\":[]}", 11, &err), -1);
	CHECK_INT(err.code, E_INVALID);
	CHECK_INT(jwks_parse(&none, "nonsense", 8, &err), -1);
	CHECK_INT(none.n, 0);
	EVP_PKEY_free(small);
}

static void
test_good_token(void)
{
	struct jwks_claims c;

	CHECK_INT(verify_with(key1, HDR1, NULL, NULL, &c), JWKS_OK);
	CHECK_STR(c.oid, "00000000-0000-0000-0000-0000000000aa");
	CHECK_STR(c.tid, TENANT);
	CHECK_STR(c.username, "alice@contoso.com");
	CHECK_STR(c.name, "Alice");
	CHECK_STR(c.email, "");
	/* aud as an array holding the client id; tid in upper case */
	CHECK_INT(verify("aud", "[\"other\",\"" CLIENT "\"]"), JWKS_OK);
	CHECK_INT(verify("tid", "\"72F988BF-86F1-41AF-91AB-2D7CD011DB47\""),
	    JWKS_OK);
	CHECK_INT(verify("nbf", NULL), JWKS_OK); /* nbf is optional */
}

static void
test_signature_and_header(void)
{
	struct jwks_claims c;
	struct jwks_expect x = { ISSUER, CLIENT, TENANT, NONCE, 0 };
	char               payload[2048], *t, *dot;

	CHECK_INT(verify_with(key2, HDR1, NULL, NULL, &c), JWKS_BAD_SIGNATURE);
	CHECK_STR(c.oid, "");
	CHECK_INT(verify_with(key1, "{\"alg\":\"RS256\",\"kid\":\"elsewhere\"}",
	              NULL, NULL, &c),
	    JWKS_UNKNOWN_KID);
	CHECK_INT(verify_with(key1, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", NULL,
	              NULL, &c),
	    JWKS_BAD_ALG);
	CHECK_INT(verify_with(key1, "{\"alg\":\"none\",\"kid\":\"k1\"}", NULL,
	              NULL, &c),
	    JWKS_BAD_ALG);
	CHECK_INT(verify_with(key1, "{\"alg\":\"RS256\"}", NULL, NULL, &c),
	    JWKS_BAD_ALG);

	/* one character of the payload changed after signing */
	x.now = now;
	claims(payload, sizeof payload, NULL, NULL);
	t = token(key1, HDR1, payload);
	dot = strchr(t, '.');
	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	CHECK_INT(jwks_verify(&set, t, &x, &c), JWKS_BAD_SIGNATURE);
	/* the signature cut off, or a part too many */
	*strrchr(t, '.') = '\0';
	CHECK_INT(jwks_verify(&set, t, &x, &c), JWKS_MALFORMED);
	free(t);
	CHECK_INT(jwks_verify(&set, "a.b.c.d", &x, &c), JWKS_MALFORMED);
	CHECK_INT(jwks_verify(&set, "", &x, &c), JWKS_MALFORMED);
	CHECK_INT(jwks_verify(&set, "!!.??.**", &x, &c), JWKS_BAD_ALG);
}

static void
test_claims(void)
{
	char v[64];

	snprintf(v, sizeof v, "%lld", (long long)now - JWKS_SKEW_SECS - 5);
	CHECK_INT(verify("exp", v), JWKS_EXPIRED);
	snprintf(v, sizeof v, "%lld", (long long)now - 30); /* within skew */
	CHECK_INT(verify("exp", v), JWKS_OK);
	CHECK_INT(verify("exp", NULL), JWKS_MALFORMED);
	snprintf(v, sizeof v, "%lld", (long long)now + JWKS_SKEW_SECS + 60);
	CHECK_INT(verify("nbf", v), JWKS_NOT_YET);
	CHECK_INT(verify("iss", "\"https://login.example/" TENANT "\""),
	    JWKS_BAD_ISSUER);
	CHECK_INT(verify("iss", NULL), JWKS_BAD_ISSUER);
	CHECK_INT(verify("aud", "\"someone-else\""), JWKS_BAD_AUDIENCE);
	CHECK_INT(verify("aud", "[\"someone-else\"]"), JWKS_BAD_AUDIENCE);
	CHECK_INT(verify("nonce", "\"another\""), JWKS_BAD_NONCE);
	CHECK_INT(verify("nonce", NULL), JWKS_BAD_NONCE);
	CHECK_INT(verify("tid", "\"00000000-0000-0000-0000-000000000000\""),
	    JWKS_BAD_TENANT);
	CHECK_INT(verify("tid", NULL), JWKS_BAD_TENANT);
	CHECK_INT(verify("oid", NULL), JWKS_NO_OID);
	CHECK(strcmp(jwks_verdict_text(JWKS_BAD_NONCE), "?") != 0);
}

int
main(void)
{
	now = time(NULL);
	if (sodium_init() < 0)
		return 1;
	key1 = EVP_RSA_gen(2048);
	key2 = EVP_RSA_gen(2048);
	test_parse();
	test_good_token();
	test_signature_and_header();
	test_claims();
	jwks_cleanup(&set);
	EVP_PKEY_free(key1);
	EVP_PKEY_free(key2);
	jwks_cache_clear();
	return test_done();
}
