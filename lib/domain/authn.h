/*
 * authn: who is calling — portal sessions (cookie + CSRF token), API keys
 * (Bearer), and logging in with a password.
 */
#ifndef POSTDESK_AUTHN_H
#define POSTDESK_AUTHN_H

#include <stdint.h>

#include "adapt/app.h"
#include "adapt/cred.h"
#include "adapt/fcgi.h"

/* __Host-: browsers accept it only Secure, with Path=/ and no Domain, so
 * no other host or plain-HTTP page can set or shadow it. */
#define AUTHN_COOKIE     "__Host-pd_session"
#define AUTHN_KEY_PREFIX "pdk_"

enum who_kind {
	WHO_NONE,
	WHO_SESSION,
	WHO_APIKEY,
	WHO_CLI
};

struct principal {
	enum who_kind kind;
	uint64_t      id; /* agent id for sessions, key id for API keys */
	uint64_t      session_id; /* portal session row, 0 otherwise */
	char          name[401];
	char          display_name[420];
	char          role[8];
	char          csrf[CRED_TOKEN_MAX];
};

int authn_request(struct app *, const struct req *, struct principal *,
    struct err *);
int authn_csrf_ok(const struct principal *, const struct req *);
int authn_login(struct app *, const char *username, const char *password,
    const char *addr, struct principal *, char token[CRED_TOKEN_MAX],
    long long *retry_after, struct err *);
int authn_logout(struct app *, const struct req *, struct err *);
struct agent;
int authn_session_open(struct app *, const struct agent *, const char *addr,
    struct principal *, char token[CRED_TOKEN_MAX], struct err *);
int authn_is_admin(const struct principal *);
int authn_apikey_hash(const struct req *, unsigned char hash[CRED_HASH_BYTES]);
struct api_key;
void authn_apikey_principal(struct app *, const struct api_key *,
    struct principal *);
int  authn_apikey_create(struct app *, const char *name, const char *role,
     char *key, size_t keysz, uint64_t *id, struct err *);

#endif
