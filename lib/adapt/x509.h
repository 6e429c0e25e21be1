/*
 * x509: the RSA key pairs and X.509 certificates of certificate
 * credentials (docs/graph-contract.md section 10), through OpenSSL's
 * libcrypto — generating a self-signed pair, checking an uploaded one,
 * and a certificate's thumbprints, expiry and DER form.  Keys pass in and
 * out as PEM text; the caller seals and wipes them (lib/adapt/seal.c).
 */
#ifndef POSTDESK_X509_H
#define POSTDESK_X509_H

#include <time.h>

#include "base/buf.h"
#include "base/err.h"

/* Why an uploaded pair is refused (x509_check()). */
enum x509_problem {
	X509_OK,
	X509_BAD_KEY,       /* not a PEM private key */
	X509_NOT_RSA,       /* a key, but not RSA */
	X509_KEY_SIZE,      /* RSA shorter than 2048 bits */
	X509_BAD_CERT,      /* not a PEM certificate */
	X509_MISMATCH,      /* the certificate is of another key */
	X509_EXPIRED,       /* notAfter has passed */
	X509_NOT_YET_VALID, /* notBefore is ahead */
	X509_PROBLEM_COUNT
};

/* A certificate as postdesk shows and uses it. */
struct x509_info {
	char   sha1_hex[41];  /* the thumbprint Azure lists, upper-case hex */
	char   x5t[32];       /* base64url SHA-1 of the DER (JWT header x5t) */
	char   x5t_s256[48];  /* base64url SHA-256 of the DER (x5t#S256) */
	char   not_after[21]; /* RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ" */
	char   subject[256];  /* one line, e.g. "CN=postdesk Support" */
	time_t not_after_t;
	int    bits; /* the RSA key's size */
};

int               x509_generate(int bits, const char *common_name, int days,
                  struct buf *key_pem, struct buf *cert_pem, struct err *);
enum x509_problem x509_check(const char *key_pem, const char *cert_pem,
    time_t now, struct x509_info *);
const char       *x509_problem_text(enum x509_problem);
int x509_info_of(const char *cert_pem, struct x509_info *, struct err *);
int x509_der_of(const char *cert_pem, struct buf *der, struct err *);
int x509_sign(const char *key_pem, int pss, const void *data, size_t len,
    struct buf *sig, struct err *);

#endif
