/*
 * test_jose: the compact JWS (three base64url parts, the signature over
 * the first two) and the client assertion of certificate credentials
 * (lib/microsoft/oauth2.c): its header names the certificate by both
 * thumbprints, its claims are Microsoft's, its jti is fresh, and the
 * signature verifies with the certificate's key.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "adapt/jose.h"
#include "adapt/x509.h"
#include "microsoft/oauth2.h"
#include "test.h"

#define URL                                                                    \
	"https://login.example/7e1a2b3c-0000-4000-8000-000000000001/oauth2/"   \
	"v2.0/token"
#define CID "0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab"

static struct buf key, cert;

/* The n-th part (0-2) of a compact JWS, decoded into out. */
static int
part(const char *jws, int n, struct buf *out)
{
	const char *p = jws, *e;
	size_t      len;

	for (int i = 0; i < n; i++) {
		p = strchr(p, '.');
		if (p == NULL)
			return -1;
		p++;
	}
	e = strchr(p, '.');
	len = e ? (size_t)(e - p) : strlen(p);
	buf_reset(out);
	buf_append(out, "", 0);
	out->data = realloc(out->data, len + 1);
	out->cap = len + 1;
	if (sodium_base642bin((unsigned char *)out->data, len + 1, p, len, NULL,
	        &out->len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	out->data[out->len] = '\0';
	return 0;
}

static int
verify(const char *jws, int pss)
{
	struct buf    sig;
	const char   *dot2 = strrchr(jws, '.');
	BIO          *b = BIO_new_mem_buf(cert.data, -1);
	X509         *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	EVP_MD_CTX   *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int           ok;

	buf_init(&sig, 512);
	part(jws, 2, &sig);
	EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL,
	    X509_get0_pubkey(x));
	if (pss) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
	}
	ok = EVP_DigestVerify(ctx, (unsigned char *)sig.data, sig.len,
	         (const unsigned char *)jws, (size_t)(dot2 - jws)) == 1;
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	BIO_free(b);
	buf_cleanup(&sig);
	return ok;
}

static void
test_jws(void)
{
	struct err err;
	struct buf out, p;

	buf_init(&out, 1024);
	buf_init(&p, 256);
	CHECK_INT(jose_sign(JOSE_RS256, "{\"alg\":\"RS256\"}", "{\"a\":1}",
	              key.data, &out, &err),
	    0);
	CHECK(part(out.data, 0, &p) == 0 &&
	    strcmp(p.data, "{\"alg\":\"RS256\"}") == 0);
	CHECK(part(out.data, 1, &p) == 0 && strcmp(p.data, "{\"a\":1}") == 0);
	CHECK(strspn(out.data,
	          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz01234567"
	          "89-_.") == out.len);
	CHECK(verify(out.data, 0));
	CHECK(!verify(out.data, 1));
	out.data[3] ^= 1; /* a changed header no longer verifies */
	CHECK(!verify(out.data, 0));
	buf_reset(&out);
	CHECK_INT(jose_sign(JOSE_PS256, "{}", "{}", "not a key", &out, &err),
	    -1);
	CHECK_STR(jose_alg_name(JOSE_PS256), "PS256");
	buf_cleanup(&out);
	buf_cleanup(&p);
}

static void
test_client_assertion(void)
{
	struct err       err;
	struct x509_info in;
	struct buf       a, b, p;
	json_t          *h, *c, *c2;
	time_t           now = 1760000000;

	buf_init(&a, 2048);
	buf_init(&b, 2048);
	buf_init(&p, 512);
	x509_info_of(cert.data, &in, &err);
	CHECK_INT(oauth2_client_assertion(URL, CID, key.data, cert.data, now,
	              &a, &err),
	    0);
	CHECK_INT(oauth2_client_assertion(URL, CID, key.data, cert.data, now,
	              &b, &err),
	    0);
	CHECK(verify(a.data, 1));
	part(a.data, 0, &p);
	h = json_loads(p.data, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(h, "alg")), "PS256");
	CHECK_STR(json_string_value(json_object_get(h, "typ")), "JWT");
	CHECK_STR(json_string_value(json_object_get(h, "x5t#S256")),
	    in.x5t_s256);
	CHECK_STR(json_string_value(json_object_get(h, "x5t")), in.x5t);
	part(a.data, 1, &p);
	c = json_loads(p.data, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(c, "aud")), URL);
	CHECK_STR(json_string_value(json_object_get(c, "iss")), CID);
	CHECK_STR(json_string_value(json_object_get(c, "sub")), CID);
	CHECK_INT(json_integer_value(json_object_get(c, "nbf")), now);
	CHECK_INT(json_integer_value(json_object_get(c, "iat")), now);
	CHECK_INT(json_integer_value(json_object_get(c, "exp")), now + 600);
	CHECK_INT(strlen(json_string_value(json_object_get(c, "jti"))), 36);
	part(b.data, 1, &p);
	c2 = json_loads(p.data, 0, NULL);
	CHECK(strcmp(json_string_value(json_object_get(c, "jti")),
	          json_string_value(json_object_get(c2, "jti"))) != 0);
	/* an unreadable certificate: no assertion */
	buf_reset(&a);
	CHECK_INT(oauth2_client_assertion(URL, CID, key.data, "x", now, &a,
	              &err),
	    -1);
	json_decref(h);
	json_decref(c);
	json_decref(c2);
	buf_cleanup(&a);
	buf_cleanup(&b);
	buf_cleanup(&p);
}

int
main(void)
{
	struct err err;

	if (sodium_init() < 0)
		return 1;
	buf_init(&key, 4096);
	buf_init(&cert, 2048);
	if (x509_generate(2048, "jose test", 30, &key, &cert, &err) != 0)
		return 1;
	test_jws();
	test_client_assertion();
	buf_cleanup(&key);
	buf_cleanup(&cert);
	return TEST_DONE();
}
