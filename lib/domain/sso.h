/*
 * sso: agents sign in with Microsoft (OpenID Connect, authorization code
 * with PKCE and a nonce) — starting a sign-in, finishing it at the
 * callback, the settings an admin keeps, and whether a password sign-in
 * is still allowed.  docs/sso.md.
 */
#ifndef POSTDESK_SSO_H
#define POSTDESK_SSO_H

#include <jansson.h>

#include "adapt/app.h"
#include "adapt/cred.h"
#include "base/buf.h"
#include "domain/authn.h"

/* The browser that started a sign-in holds this cookie (its hash is kept
 * with the state), so a callback link opened anywhere else is refused. */
#define SSO_BROWSER_COOKIE "__Host-pd_sso"
#define SSO_CALLBACK_PATH  "/api/sso/callback"
#define SSO_SCOPES         "openid profile email"

enum sso_outcome {
	SSO_OK,
	SSO_OFF,       /* not enabled, or no app to sign in with */
	SSO_BAD_STATE, /* unknown, used, expired, another browser's */
	SSO_DENIED,    /* Microsoft answered with an error */
	SSO_TOKEN,     /* the code was not redeemed */
	SSO_ID_TOKEN,  /* the id_token is not valid */
	SSO_NO_AGENT   /* no (enabled) agent for this account */
};

struct sso_callback {
	const char *state;
	const char *code;
	const char *error;
	const char *error_description;
	const char *browser; /* the SSO_BROWSER_COOKIE value, or NULL */
	const char *addr;    /* the client's address */
};

struct sso_result {
	enum sso_outcome outcome;
	char             message[600]; /* safe to show */
};

int sso_start(struct app *, struct buf *url, char browser[CRED_TOKEN_MAX],
    enum sso_outcome *, struct err *);
int sso_finish(struct app *, struct http *, const struct sso_callback *,
    struct principal *, char token[CRED_TOKEN_MAX], struct sso_result *,
    struct err *);
const char *sso_outcome_slug(enum sso_outcome);
int         sso_password_allowed(struct app *, uint64_t agent_id, int *allowed,
            struct err *);
int         sso_public(struct app *, struct buf *out, struct err *);
int         sso_settings_json(struct app *, struct buf *out, struct err *);
int sso_settings_update(struct app *, json_t *in, json_t *errors, struct err *);

#endif
