/*
 * sso: the tables of "Sign in with Microsoft" (sql/0017_sso.sql) —
 * sso_settings (store/sso_settings.c) and sso_login_state
 * (store/sso_login_state.c).  lib/domain/sso.c holds the rules.
 */
#ifndef POSTDESK_STORE_SSO_H
#define POSTDESK_STORE_SSO_H

#include <stdint.h>

#include "adapt/cred.h"
#include "adapt/db.h"
#include "base/buf.h"
#include "base/err.h"

struct sso_settings {
	int        enabled;
	uint64_t   mailbox_id; /* 0: the app below */
	char       tenant_id[65];
	char       client_id[65];
	struct buf secret; /* sealed; empty when none */
	int        allow_address_match;
	int        require_microsoft;
	uint64_t   break_glass_agent_id; /* 0: none */
	uint64_t   version;
	char       updated_at[21];
};

int  store_sso_settings_get(struct db *, struct sso_settings *, struct err *);
int  store_sso_settings_put(struct db *, const struct sso_settings *,
     int secret_changed, struct err *);
void store_sso_settings_cleanup(struct sso_settings *);

struct sso_login_state {
	uint64_t      id;
	unsigned char browser_hash[CRED_HASH_BYTES];
	char          nonce[CRED_TOKEN_MAX];
	struct buf    verifier; /* sealed */
	int           used;
	int           expired;
};

int store_sso_login_state_add(struct db *, const unsigned char *state_hash,
    const unsigned char *browser_hash, const char *nonce,
    const struct buf *verifier_sealed, struct err *);
int store_sso_login_state_get(struct db *, const unsigned char *state_hash,
    struct sso_login_state *, struct err *);
int store_sso_login_state_use(struct db *, uint64_t id, int *won, struct err *);
void store_sso_login_state_cleanup(struct sso_login_state *);

#endif
