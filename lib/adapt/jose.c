/*
 * jose: BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(signature),
 * the signature over the first two parts as ASCII (RFC 7515 5.1).  The
 * JSON texts are the caller's, so their member order is what it wrote.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "adapt/jose.h"
#include "adapt/x509.h"
#include "base/xmalloc.h"

const char *
jose_alg_name(enum jose_alg a)
{
	return a == JOSE_PS256 ? "PS256" : "RS256";
}

/* Append the base64url form (no padding) of n bytes at p to b. */
void
jose_b64url(struct buf *b, const void *p, size_t n)
{
	size_t size = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char  *s = xmalloc(size);

	sodium_bin2base64(s, size, p, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_puts(b, s);
	free(s);
}

/*
 * The compact JWS of claims_json under header_json, signed with the RSA
 * key (PEM) by alg, appended to out.  Returns 0, or -1 with err (out then
 * holds nothing new of use).
 */
int
jose_sign(enum jose_alg alg, const char *header_json, const char *claims_json,
    const char *key_pem, struct buf *out, struct err *err)
{
	struct buf sig;
	size_t     start = out->len;
	int        rc;

	jose_b64url(out, header_json, strlen(header_json));
	buf_putc(out, '.');
	jose_b64url(out, claims_json, strlen(claims_json));
	buf_init(&sig, 512);
	rc = x509_sign(key_pem, alg == JOSE_PS256, out->data + start,
	    out->len - start, &sig, err);
	if (rc == 0) {
		buf_putc(out, '.');
		jose_b64url(out, sig.data, sig.len);
	}
	buf_cleanup(&sig);
	return rc;
}
