/*
 * jose: a compact JWS (RFC 7515) — the JWT client assertions of
 * certificate credentials (lib/microsoft/oauth2.c).  Builds and signs;
 * verification is not here.
 */
#ifndef POSTDESK_JOSE_H
#define POSTDESK_JOSE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

enum jose_alg {
	JOSE_RS256, /* RSASSA-PKCS1-v1_5 with SHA-256 */
	JOSE_PS256  /* RSASSA-PSS with SHA-256, 32-byte salt */
};

const char *jose_alg_name(enum jose_alg);
void        jose_b64url(struct buf *, const void *, size_t);
int jose_sign(enum jose_alg, const char *header_json, const char *claims_json,
    const char *key_pem, struct buf *out, struct err *);

#endif
