/*
 * x509: keys and certificates through libcrypto (OpenSSL 3).  Nothing
 * here writes a key anywhere but into the caller's buffer, and every copy
 * of a private key's PEM in libcrypto's memory is cleansed before it is
 * freed.  Errors name the libcrypto reason in the log-only detail.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "adapt/x509.h"

static int
crypto_failed(struct err *err, const char *what)
{
	char why[256];

	ERR_error_string_n(ERR_get_error(), why, sizeof why);
	ERR_clear_error();
	err_set(err, E_INTERNAL, "Could not %s.", what);
	err_detail(err, "libcrypto: %s: %s", what, why);
	return -1;
}

/* Move a memory BIO's bytes to out, cleansing them in the BIO. */
static void
bio_take(BIO *bio, struct buf *out)
{
	char *p;
	long  n = BIO_get_mem_data(bio, &p);

	if (n > 0) {
		buf_append(out, p, (size_t)n);
		OPENSSL_cleanse(p, (size_t)n);
	}
	BIO_free(bio);
}

/* Free a memory BIO that may hold part of a key, cleansing it first. */
static void
bio_wipe(BIO *bio)
{
	char *p;
	long  n = bio ? BIO_get_mem_data(bio, &p) : 0;

	if (n > 0)
		OPENSSL_cleanse(p, (size_t)n);
	BIO_free(bio);
}

/* A random positive 64-bit serial number (RFC 5280 4.1.2.2). */
static int
set_serial(X509 *x)
{
	unsigned char r[8];
	BIGNUM       *bn;
	int           ok;

	randombytes_buf(r, sizeof r);
	r[0] &= 0x7f;
	r[0] |= 0x40;
	bn = BN_bin2bn(r, sizeof r, NULL);
	ok = bn != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static X509 *
self_signed(EVP_PKEY *pkey, const char *cn, int days)
{
	X509      *x = X509_new();
	X509_NAME *name;
	int        ok;

	if (x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	ok = X509_set_version(x, 2) && set_serial(x) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) !=
	        NULL &&
	    X509_set_pubkey(x, pkey) &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	        (const unsigned char *)cn, -1, -1, 0) &&
	    X509_set_issuer_name(x, name) &&
	    X509_sign(x, pkey, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * A new RSA key of bits and a self-signed certificate for it, subject
 * CN=common_name, valid for days from now: both appended to the buffers
 * as PEM (PKCS#8 key).  Returns 0, or -1 with err.
 */
int
x509_generate(int bits, const char *common_name, int days, struct buf *key_pem,
    struct buf *cert_pem, struct err *err)
{
	EVP_PKEY *pkey = EVP_RSA_gen((unsigned)bits);
	X509     *x;
	BIO      *kb, *cb;
	int       ok;

	if (pkey == NULL)
		return crypto_failed(err, "generate an RSA key");
	x = self_signed(pkey, common_name, days);
	if (x == NULL) {
		EVP_PKEY_free(pkey);
		return crypto_failed(err, "make the certificate");
	}
	kb = BIO_new(BIO_s_mem());
	cb = BIO_new(BIO_s_mem());
	ok = kb != NULL && cb != NULL &&
	    PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) &&
	    PEM_write_bio_X509(cb, x);
	EVP_PKEY_free(pkey);
	X509_free(x);
	if (ok) {
		bio_take(kb, key_pem);
		bio_take(cb, cert_pem);
		return 0;
	}
	bio_wipe(kb);
	BIO_free(cb);
	return crypto_failed(err, "write the key pair");
}

/* No passphrase: an encrypted key is refused, never prompted for. */
static int
no_pass(char *buf, int size, int rw, void *u)
{
	(void)buf, (void)size, (void)rw, (void)u;
	return 0;
}

static EVP_PKEY *
load_key(const char *pem)
{
	BIO      *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k =
	    b ? PEM_read_bio_PrivateKey(b, NULL, no_pass, NULL) : NULL;

	BIO_free(b);
	ERR_clear_error();
	return k;
}

static X509 *
load_cert(const char *pem)
{
	BIO  *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, no_pass, NULL) : NULL;

	BIO_free(b);
	ERR_clear_error();
	return x;
}

static void
b64url(char *dst, size_t size, const unsigned char *bin, size_t n)
{
	sodium_bin2base64(dst, size, bin, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
fill_info(X509 *x, struct x509_info *in)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  n = 0;
	struct tm     tm;
	BIO          *b;

	memset(in, 0, sizeof *in);
	if (X509_digest(x, EVP_sha1(), md, &n) == 1) {
		for (unsigned i = 0; i < n && i < 20; i++)
			snprintf(in->sha1_hex + 2 * i, 3, "%02X", md[i]);
		b64url(in->x5t, sizeof in->x5t, md, n);
	}
	if (X509_digest(x, EVP_sha256(), md, &n) == 1)
		b64url(in->x5t_s256, sizeof in->x5t_s256, md, n);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
		in->not_after_t = timegm(&tm);
		strftime(in->not_after, sizeof in->not_after,
		    "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	b = BIO_new(BIO_s_mem());
	if (b != NULL &&
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	        XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		char *p;
		long  len = BIO_get_mem_data(b, &p);

		if (len > 0 && (size_t)len >= sizeof in->subject)
			len = (long)sizeof in->subject - 1;
		if (len > 0)
			memcpy(in->subject, p, (size_t)len);
	}
	BIO_free(b);
	in->bits = EVP_PKEY_get_bits(X509_get0_pubkey(x));
	ERR_clear_error();
}

static enum x509_problem
check_pair(EVP_PKEY *k, X509 *x, time_t now)
{
	EVP_PKEY *pub = X509_get0_pubkey(x);

	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return X509_NOT_RSA;
	if (EVP_PKEY_get_bits(k) < 2048)
		return X509_KEY_SIZE;
	if (pub == NULL || EVP_PKEY_eq(pub, k) != 1)
		return X509_MISMATCH;
	if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0)
		return X509_EXPIRED;
	if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0)
		return X509_NOT_YET_VALID;
	return X509_OK;
}

/*
 * Check an uploaded pair at time now: the key an unencrypted RSA key of
 * at least 2048 bits, the certificate of that key and valid now.  *info
 * is filled whenever the certificate could be read.
 */
enum x509_problem
x509_check(const char *key_pem, const char *cert_pem, time_t now,
    struct x509_info *info)
{
	EVP_PKEY         *k = load_key(key_pem);
	X509             *x = load_cert(cert_pem);
	enum x509_problem p;

	memset(info, 0, sizeof *info);
	if (x != NULL)
		fill_info(x, info);
	if (k == NULL)
		p = X509_BAD_KEY;
	else if (x == NULL)
		p = X509_BAD_CERT;
	else
		p = check_pair(k, x, now);
	EVP_PKEY_free(k);
	X509_free(x);
	ERR_clear_error();
	return p;
}

/* What to tell the admin about a problem (a field error's text). */
const char *
x509_problem_text(enum x509_problem p)
{
	static const char *const text[X509_PROBLEM_COUNT] = {
		[X509_OK] = "",
		[X509_BAD_KEY] = "Paste the private key in PEM form, from "
		                 "-----BEGIN PRIVATE KEY----- to its END line, "
		                 "without a passphrase.",
		[X509_NOT_RSA] = "This key is not an RSA key; Microsoft's "
		                 "certificate credentials need RSA.",
		[X509_KEY_SIZE] = "This RSA key is shorter than 2048 bits; "
		                  "use 2048 or 3072.",
		[X509_BAD_CERT] = "Paste the certificate in PEM form, from "
		                  "-----BEGIN CERTIFICATE----- to its END "
		                  "line.",
		[X509_MISMATCH] = "This certificate belongs to another key: "
		                  "upload the certificate of this private key.",
		[X509_EXPIRED] = "This certificate has expired. Generate a new "
		                 "one or upload a current certificate.",
		[X509_NOT_YET_VALID] = "This certificate is not valid yet (its "
		                       "start date is ahead).",
	};

	return p < X509_PROBLEM_COUNT ? text[p] : "";
}

/* The thumbprints, expiry and subject of a PEM certificate. */
int
x509_info_of(const char *cert_pem, struct x509_info *info, struct err *err)
{
	X509 *x = load_cert(cert_pem);

	memset(info, 0, sizeof *info);
	if (x == NULL) {
		err_set(err, E_INTERNAL,
		    "The stored certificate is unreadable.");
		return -1;
	}
	fill_info(x, info);
	X509_free(x);
	return 0;
}

/* The DER encoding of a PEM certificate (a .cer file), appended to der. */
int
x509_der_of(const char *cert_pem, struct buf *der, struct err *err)
{
	X509          *x = load_cert(cert_pem);
	unsigned char *p = NULL;
	int            n = x ? i2d_X509(x, &p) : -1;

	X509_free(x);
	if (n <= 0) {
		err_set(err, E_INTERNAL,
		    "The stored certificate is unreadable.");
		return -1;
	}
	buf_append(der, p, (size_t)n);
	OPENSSL_free(p);
	return 0;
}

static int
sign_with(EVP_PKEY *k, int pss, const void *data, size_t len, struct buf *sig)
{
	EVP_MD_CTX   *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char out[1024];
	size_t        n = sizeof out;
	int           ok;

	ok = ctx != NULL &&
	    EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, k) == 1 &&
	    (!pss ||
	        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) ==
	                1 &&
	            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
	                RSA_PSS_SALTLEN_DIGEST) == 1)) &&
	    EVP_DigestSign(ctx, NULL, &n, data, len) == 1 && n <= sizeof out &&
	    EVP_DigestSign(ctx, out, &n, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (ok)
		buf_append(sig, out, n);
	return ok;
}

/*
 * Sign data with SHA-256 and the RSA key: PSS with a 32-byte salt
 * (PS256, RFC 7518 3.5) when pss, else PKCS#1 v1.5 (RS256).  The
 * signature is appended to sig.
 */
int
x509_sign(const char *key_pem, int pss, const void *data, size_t len,
    struct buf *sig, struct err *err)
{
	EVP_PKEY *k = load_key(key_pem);
	int       ok;

	if (k == NULL) {
		err_set(err, E_INTERNAL,
		    "The stored private key is unreadable.");
		return -1;
	}
	ok = sign_with(k, pss, data, len, sig);
	EVP_PKEY_free(k);
	return ok ? 0 : crypto_failed(err, "sign the client assertion");
}
