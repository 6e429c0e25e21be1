/*
 * test_x509: generating a key pair and self-signed certificate, checking
 * an uploaded pair (match, expiry, key type, garbage), the thumbprints
 * against digests computed here of the DER, and signing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "adapt/x509.h"
#include "test.h"

static struct buf key1, cert1, key2, cert2;

static void
b64url(char *dst, size_t size, const unsigned char *p, size_t n)
{
	sodium_bin2base64(dst, size, p, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
test_generate(void)
{
	struct err       err;
	struct x509_info in;
	time_t           now = time(NULL);

	buf_init(&key1, 4096);
	buf_init(&cert1, 2048);
	CHECK_INT(x509_generate(2048, "postdesk Tést", 730, &key1, &cert1,
	              &err),
	    0);
	CHECK(strstr(key1.data, "-----BEGIN PRIVATE KEY-----") == key1.data);
	CHECK(strstr(cert1.data, "-----BEGIN CERTIFICATE-----") == cert1.data);
	CHECK_INT(x509_check(key1.data, cert1.data, now, &in), X509_OK);
	CHECK_STR(in.subject, "CN=postdesk Tést");
	CHECK_INT(in.bits, 2048);
	CHECK_INT(strlen(in.sha1_hex), 40);
	CHECK(strspn(in.sha1_hex, "0123456789ABCDEF") == 40);
	CHECK_INT(strlen(in.x5t), 27);
	CHECK_INT(strlen(in.x5t_s256), 43);
	CHECK(in.not_after_t > now + 729 * 86400 &&
	    in.not_after_t <= now + 730 * 86400 + 5);
	CHECK_INT(strlen(in.not_after), 20);
	/* a second pair is another key */
	buf_init(&key2, 4096);
	buf_init(&cert2, 2048);
	CHECK_INT(x509_generate(3072, "other", 1, &key2, &cert2, &err), 0);
	CHECK_INT(x509_check(key2.data, cert2.data, now, &in), X509_OK);
	CHECK_INT(in.bits, 3072);
}

static void
test_thumbprints_are_of_the_der(void)
{
	struct err       err;
	struct x509_info in;
	struct buf       der;
	unsigned char    s1[20], s256[32];
	char             hex[41], t1[32], t256[48];

	buf_init(&der, 2048);
	CHECK_INT(x509_der_of(cert1.data, &der, &err), 0);
	CHECK_INT(x509_info_of(cert1.data, &in, &err), 0);
	EVP_Digest(der.data, der.len, s1, NULL, EVP_sha1(), NULL);
	crypto_hash_sha256(s256, (unsigned char *)der.data, der.len);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02X", s1[i]);
	b64url(t1, sizeof t1, s1, 20);
	b64url(t256, sizeof t256, s256, 32);
	CHECK_STR(in.sha1_hex, hex);
	CHECK_STR(in.x5t, t1);
	CHECK_STR(in.x5t_s256, t256);
	CHECK(der.len > 500 && (unsigned char)der.data[0] == 0x30);
	buf_cleanup(&der);
	CHECK_INT(x509_der_of("nothing", &der, &err), -1);
	CHECK_INT(x509_info_of("nothing", &in, &err), -1);
}

static void
test_check_refuses(void)
{
	struct x509_info in;
	time_t           now = time(NULL);
	EVP_PKEY        *ec = EVP_EC_gen("P-256");
	BIO             *b = BIO_new(BIO_s_mem());
	char            *p;
	long             n;
	char            *ecpem;

	CHECK_INT(x509_check(key1.data, cert2.data, now, &in), X509_MISMATCH);
	CHECK_INT(x509_check(key1.data, cert1.data, now + 731L * 86400, &in),
	    X509_EXPIRED);
	CHECK_INT(x509_check(key1.data, cert1.data, now - 86400, &in),
	    X509_NOT_YET_VALID);
	CHECK_INT(x509_check("garbage", cert1.data, now, &in), X509_BAD_KEY);
	CHECK_INT(x509_check(key1.data, "garbage", now, &in), X509_BAD_CERT);
	CHECK_INT(x509_check(cert1.data, key1.data, now, &in), X509_BAD_KEY);
	PEM_write_bio_PrivateKey(b, ec, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	ecpem = strndup(p, (size_t)n);
	CHECK_INT(x509_check(ecpem, cert1.data, now, &in), X509_NOT_RSA);
	for (int i = 1; i < X509_PROBLEM_COUNT; i++)
		CHECK(strlen(x509_problem_text((enum x509_problem)i)) > 20);
	free(ecpem);
	BIO_free(b);
	EVP_PKEY_free(ec);
}

/* Verify sig over data with cert's key: 1 good, 0 bad. */
static int
verify(const char *cert_pem, int pss, const char *data, const struct buf *sig)
{
	BIO          *b = BIO_new_mem_buf(cert_pem, -1);
	X509         *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	EVP_MD_CTX   *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int           ok;

	EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL,
	    X509_get0_pubkey(x));
	if (pss) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
	}
	ok = EVP_DigestVerify(ctx, (unsigned char *)sig->data, sig->len,
	         (const unsigned char *)data, strlen(data)) == 1;
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	BIO_free(b);
	return ok;
}

static void
test_sign(void)
{
	struct err err;
	struct buf a, b;

	for (int pss = 0; pss <= 1; pss++) {
		buf_init(&a, 512);
		buf_init(&b, 512);
		CHECK_INT(x509_sign(key1.data, pss, "hello", 5, &a, &err), 0);
		CHECK_INT(x509_sign(key1.data, pss, "hello", 5, &b, &err), 0);
		CHECK_INT(a.len, 256);
		CHECK(verify(cert1.data, pss, "hello", &a));
		CHECK(!verify(cert1.data, pss, "hellO", &a));
		CHECK(!verify(cert2.data, pss, "hello", &a));
		/* PKCS#1 v1.5 is deterministic, PSS salts each signature */
		CHECK((memcmp(a.data, b.data, a.len) == 0) == !pss);
		buf_cleanup(&a);
		buf_cleanup(&b);
	}
	buf_init(&a, 16);
	CHECK_INT(x509_sign("no key", 1, "x", 1, &a, &err), -1);
	buf_cleanup(&a);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_generate();
	test_thumbprints_are_of_the_der();
	test_check_refuses();
	test_sign();
	buf_cleanup(&key1);
	buf_cleanup(&cert1);
	buf_cleanup(&key2);
	buf_cleanup(&cert2);
	return TEST_DONE();
}
