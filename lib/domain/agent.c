/*
 * agent: agents and API keys.  Passwords are hashed here (lib/adapt/cred.c)
 * and never stored or logged as given; a new password ends the agent's
 * portal sessions.  The audit line is written after the change, outside
 * its statement: a change whose line could not be written is still made,
 * and the caller says so.
 */
#include <string.h>

#include "domain/agent.h"
#include "domain/authn.h"
#include "adapt/cred.h"

static const char *const ROLE_NAMES[] = { "admin", "agent" };

int
agent_role_valid(const char *role)
{
	for (size_t i = 0; i < sizeof ROLE_NAMES / sizeof ROLE_NAMES[0]; i++)
		if (strcmp(role, ROLE_NAMES[i]) == 0)
			return 1;
	return 0;
}

/* The audit line of a command-line change; 0, or 1 with err. */
static int
audit(struct db *db, const char *by, const char *action, const char *type,
    uint64_t id, struct err *err)
{
	struct audit_entry e = { .actor_type = "cli",
		.actor_name = by,
		.action = action,
		.target_type = type,
		.target_id = id };

	return store_audit_add(db, &e, err) == -1 ? 1 : 0;
}

int
agent_count(struct db *db, long long *n, struct err *err)
{
	return store_agent_count(db, n, err);
}

/* Create agent a; E_CONFLICT when the username is taken. */
int
agent_create(struct db *db, const struct agent_new *a, const char *by,
    uint64_t *id, struct err *err)
{
	char hash[CRED_PWHASH_MAX];

	if (cred_password_hash(a->password, hash) == -1) {
		err_set(err, E_INTERNAL, "out of memory hashing the password");
		return -1;
	}
	if (store_agent_create(db, a->username, a->display_name, a->role, hash,
	        id, err) == -1) {
		if (err->code == E_CONFLICT)
			err_set(err, E_CONFLICT, "agent '%s' already exists",
			    a->username);
		return -1;
	}
	return audit(db, by, "agent.create", "agent", *id, err);
}

/* The id of the agent called username; E_NOTFOUND if there is none. */
int
agent_lookup(struct db *db, const char *username, uint64_t *id, struct err *err)
{
	struct agent a;

	if (store_agent_by_username(db, username, &a, err) == -1) {
		if (err->code == E_NOTFOUND)
			err_set(err, E_NOTFOUND, "no agent '%s'", username);
		return -1;
	}
	*id = a.id;
	return 0;
}

/* A new password for agent id, which also signs it out everywhere. */
int
agent_reset_password(struct db *db, uint64_t id, const char *password,
    const char *by, struct err *err)
{
	char hash[CRED_PWHASH_MAX];

	if (cred_password_hash(password, hash) == -1) {
		err_set(err, E_INTERNAL, "out of memory hashing the password");
		return -1;
	}
	if (store_agent_set_password(db, id, hash, err) == -1 ||
	    store_session_delete_agent(db, id, err) == -1)
		return -1;
	return audit(db, by, "agent.reset_password", "agent", id, err);
}

/* A new API key: the key itself in key, shown once, never stored. */
int
agent_apikey_create(struct app *app, const char *name, const char *role,
    const char *by, char *key, size_t keysz, uint64_t *id, struct err *err)
{
	if (authn_apikey_create(app, name, role, key, keysz, id, err) == -1)
		return -1;
	return audit(app->db, by, "api_key.create", "api_key", *id, err);
}

/* Every API key, revoked ones too (caller frees *keys). */
int
agent_apikey_list(struct db *db, struct api_key **keys, size_t *n,
    struct err *err)
{
	return store_api_key_list(db, keys, n, err);
}

/* Revoke key id; E_NOTFOUND if there is no such key. */
int
agent_apikey_revoke(struct db *db, uint64_t id, const char *by, struct err *err)
{
	if (store_api_key_revoke(db, id, err) == -1)
		return -1;
	return audit(db, by, "api_key.revoke", "api_key", id, err);
}
