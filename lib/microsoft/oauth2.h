/*
 * oauth2: the Microsoft identity platform, authorization-code flow with
 * PKCE for a confidential client — URLs, the token endpoint, and reading
 * its answers (tokens, errors, id_token claims).  No state of its own.
 */
#ifndef POSTDESK_OAUTH2_H
#define POSTDESK_OAUTH2_H

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "adapt/http.h"

#include <time.h>

#define OAUTH2_VERIFIER_MAX  72 /* 64 chars + NUL */
#define OAUTH2_CHALLENGE_MAX 48

struct oauth2_cloud {
	const char *login; /* base URL, no trailing slash */
	const char *graph;
};

struct oauth2_tokens {
	char *access_token;
	char *refresh_token;
	char *id_token;
	char *scope;
	long  expires_in;
};

struct oauth2_error {
	char error[64];
	long code;             /* first of error_codes, 0 if none */
	char description[512]; /* first line of error_description */
	char trace_id[64];
	char correlation_id[64];
};

struct oauth2_claims {
	char tid[64];
	char oid[64];
	char username[321]; /* preferred_username, else email */
	char name[256];
};

struct oauth2_grant {
	const char *tenant;
	const char *client_id;
	const char *secret;        /* a client secret, or: */
	const char *key_pem;       /* certificate credentials: the key and */
	const char *cert_pem;      /* its certificate (a client assertion) */
	const char *code;          /* authorization_code grant */
	const char *redirect_uri;  /* with code */
	const char *verifier;      /* with code */
	const char *refresh_token; /* refresh_token grant */
};

int  oauth2_cloud_of(const struct config *, const char *cloud,
     struct oauth2_cloud *);
void oauth2_pkce(char verifier[OAUTH2_VERIFIER_MAX],
    char              challenge[OAUTH2_CHALLENGE_MAX]);
void oauth2_challenge_of(const char *verifier,
    char                             challenge[OAUTH2_CHALLENGE_MAX]);
void oauth2_scopes(struct buf *, int shared);
void oauth2_authorize_url(struct buf *, const struct oauth2_cloud *,
    const char *tenant, const char *client_id, const char *redirect_uri,
    const char *scopes, const char *state, const char *challenge,
    const char *login_hint);
int  oauth2_token(struct http *, const struct oauth2_cloud *,
     const struct oauth2_grant *, struct oauth2_tokens *, struct oauth2_error *,
     struct err *);
int  oauth2_client_assertion(const char *token_url, const char *client_id,
     const char *key_pem, const char *cert_pem, time_t now, struct buf *out,
     struct err *);
int  oauth2_parse_tokens(const char *body, size_t len, long status,
     struct oauth2_tokens *, struct oauth2_error *, struct err *);
int  oauth2_parse_claims(const char *id_token, const char *client_id,
     struct oauth2_claims *, struct err *);
void oauth2_tokens_cleanup(struct oauth2_tokens *);

#endif
