/*
 * authn: sessions and API keys.  Tokens are 256-bit random values; only
 * their SHA-256 is stored, so a database leak yields no usable token.
 * Passwords are argon2id; unknown usernames still cost one verification,
 * so timing does not tell which usernames exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/authn.h"
#include "domain/sso.h"
#include "base/log.h"
#include "store/store.h"

/*
 * The principal of API key k, found by its hash (store_api_key_lookup(), or
 * a statement that looked it up along with a handler's rows: see
 * authn_apikey_hash()); touches its last-used time when due.
 */
void
authn_apikey_principal(struct app *app, const struct api_key *k,
    struct principal *who)
{
	struct err e2;

	memset(who, 0, sizeof *who);
	who->kind = WHO_APIKEY;
	who->id = k->id;
	snprintf(who->name, sizeof who->name, "%s", k->name);
	snprintf(who->display_name, sizeof who->display_name, "API key %s",
	    k->name);
	snprintf(who->role, sizeof who->role, "%s", k->role);
	if (k->touch_due && store_api_key_touch(app->db, k->id, &e2) == -1)
		log_warn("api key %llu: last-used time not updated: %s",
		    (unsigned long long)k->id, e2.detail);
}

static int
from_apikey(struct app *app, const char *key, struct principal *who,
    struct err *err)
{
	unsigned char  hash[CRED_HASH_BYTES];
	struct api_key k;

	cred_hash(key, hash);
	if (store_api_key_lookup(app->db, hash, &k, err) == -1) {
		if (err->code == E_NOTFOUND)
			err_set(err, E_AUTH, "Invalid or revoked API key.");
		return -1;
	}
	authn_apikey_principal(app, &k, who);
	return 0;
}

/*
 * 1 with hash set when r carries a well-formed API key (which still has
 * to be looked up: unknown and revoked keys are refused by the lookup),
 * else 0 (authn_request() then answers for it).
 */
int
authn_apikey_hash(const struct req *r, unsigned char hash[CRED_HASH_BYTES])
{
	if (r->authorization == NULL ||
	    strncmp(r->authorization, "Bearer ", 7) != 0 ||
	    strncmp(r->authorization + 7, AUTHN_KEY_PREFIX, 4) != 0)
		return 0;
	cred_hash(r->authorization + 7, hash);
	return 1;
}

static int
from_session(struct app *app, const char *token, struct principal *who,
    struct err *err)
{
	unsigned char  hash[CRED_HASH_BYTES];
	struct session s;
	struct err     e2;

	cred_hash(token, hash);
	if (store_session_lookup(app->db, hash, app->cfg.session_idle_minutes,
	        &s, err) == -1) {
		if (err->code == E_NOTFOUND)
			err_set(err, E_AUTH,
			    "Your session has ended. Please sign in again.");
		return -1;
	}
	who->kind = WHO_SESSION;
	who->id = s.agent.id;
	who->session_id = s.id;
	snprintf(who->name, sizeof who->name, "%s", s.agent.username);
	snprintf(who->display_name, sizeof who->display_name, "%s",
	    s.agent.display_name);
	snprintf(who->role, sizeof who->role, "%s", s.agent.role);
	snprintf(who->csrf, sizeof who->csrf, "%s", s.csrf);
	if (s.touch_due && store_session_touch(app->db, s.id, &e2) == -1)
		log_warn("session %llu: not touched: %s",
		    (unsigned long long)s.id, e2.detail);
	return 0;
}

/*
 * Identify the caller of r: a Bearer API key, else the session cookie.
 * Returns 0 with *who filled, or -1 with E_AUTH (or a database error).
 */
int
authn_request(struct app *app, const struct req *r, struct principal *who,
    struct err *err)
{
	char *token;
	int   rc;

	memset(who, 0, sizeof *who);
	if (r->authorization != NULL) {
		if (strncmp(r->authorization, "Bearer ", 7) != 0 ||
		    strncmp(r->authorization + 7, AUTHN_KEY_PREFIX, 4) != 0) {
			err_set(err, E_AUTH,
			    "Authorization must be 'Bearer <API key>'.");
			return -1;
		}
		return from_apikey(app, r->authorization + 7, who, err);
	}
	token = req_cookie(r, AUTHN_COOKIE);
	if (token == NULL) {
		err_set(err, E_AUTH,
		    "Sign in to the portal or send an API key.");
		return -1;
	}
	rc = from_session(app, token, who, err);
	free(token);
	return rc;
}

/*
 * True if r may change state: API keys need no CSRF token, sessions must
 * echo theirs in X-CSRF-Token.
 */
int
authn_csrf_ok(const struct principal *who, const struct req *r)
{
	if (who->kind != WHO_SESSION)
		return 1;
	return r->csrf_token != NULL && cred_equal(r->csrf_token, who->csrf);
}

int
authn_is_admin(const struct principal *who)
{
	return strcmp(who->role, "admin") == 0;
}

static const char *
dummy_hash(void)
{
	static char hash[CRED_PWHASH_MAX];

	if (hash[0] == '\0' &&
	    cred_password_hash("postdesk timing equaliser", hash) == -1)
		hash[0] = '\0';
	return hash;
}

/*
 * Sign-in throttling, per (username, address) pair, so that a stranger's
 * failures never lock the owner out from the owner's own address: after
 * login_max_failures failures since the pair's last success, each next
 * try waits 2, 4, 8 ... seconds (at most LOGIN_DELAY_MAX) after the last
 * failure.  One address failing four times as often over any usernames
 * within 15 minutes waits too (password spraying).
 */
#define LOGIN_DELAY_MAX   900
#define LOGIN_PRUNE_BATCH 200

/* Seconds still to wait before the next try (0: go ahead). */
static long long
login_wait(const struct login_failures *f, long max)
{
	long long over = f->pair - max, wait = 0, delay;

	if (over >= 0) {
		delay = over >= 9 ? LOGIN_DELAY_MAX : 2LL << over;
		if (delay > LOGIN_DELAY_MAX)
			delay = LOGIN_DELAY_MAX;
		/* + 1: times are whole seconds, so at least delay passes */
		wait = delay + 1 - f->pair_age;
	}
	if (f->addr >= 4 * (long long)max && f->addr_retry > wait)
		wait = f->addr_retry;
	return wait > 0 ? wait : 0;
}

/* The throttle's key for a username: no outer blanks, ASCII lower case
 * (agent.username's collation already ignores case). */
static void
login_name(const char *in, char *out, size_t size)
{
	size_t n;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] =
		    (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
	out[n] = '\0';
}

/* Sweep old attempts and dead sessions; a failure only logs. */
static void
login_prune(struct app *app)
{
	struct err e2;

	if (store_login_attempt_prune(app->db, app->cfg.session_idle_minutes,
	        LOGIN_PRUNE_BATCH, &e2) == -1)
		log_warn("old login attempts and sessions not pruned: %s",
		    e2.detail);
}

/* E_RATELIMIT with *retry_after when the pair must wait, else 0. */
static int
throttle(struct app *app, const char *name, const char *addr,
    long long *retry_after, struct err *err)
{
	struct login_failures f;

	if (store_login_attempt_failures(app->db, name, addr, &f, err) == -1)
		return -1;
	*retry_after = login_wait(&f, app->cfg.login_max_failures);
	if (*retry_after == 0)
		return 0;
	err_set(err, E_RATELIMIT,
	    "Too many failed sign-ins. Try again in %lld seconds.",
	    *retry_after);
	return -1;
}

static int
refuse(struct app *app, const char *username, const char *addr, struct err *err)
{
	struct err e2;

	if (store_login_attempt_record(app->db, username, addr, 0, &e2) == -1)
		log_warn("login attempt not recorded: %s", e2.detail);
	err_set(err, E_AUTH, "Wrong username or password.");
	return -1;
}

/* Open a portal session for agent a (a password or Microsoft signed it
 * in: lib/domain/sso.c); token is the cookie's value. */
int
authn_session_open(struct app *app, const struct agent *a, const char *addr,
    struct principal *who, char token[CRED_TOKEN_MAX], struct err *err)
{
	unsigned char hash[CRED_HASH_BYTES];

	cred_token_new(token);
	cred_token_new(who->csrf);
	cred_hash(token, hash);
	if (store_session_create(app->db, hash, a->id, who->csrf,
	        app->cfg.session_max_hours, addr, err) == -1)
		return -1;
	who->kind = WHO_SESSION;
	who->id = a->id;
	snprintf(who->name, sizeof who->name, "%s", a->username);
	snprintf(who->display_name, sizeof who->display_name, "%s",
	    a->display_name);
	snprintf(who->role, sizeof who->role, "%s", a->role);
	return 0;
}

/*
 * Check username/password and open a session.  On success *who is the
 * agent and token the cookie value (shown once, stored only hashed).
 * Fails with E_AUTH, or E_RATELIMIT and *retry_after in seconds while this
 * username from this address (or this address) is throttled (above).
 */
int
authn_login(struct app *app, const char *username, const char *password,
    const char *addr, struct principal *who, char token[CRED_TOKEN_MAX],
    long long *retry_after, struct err *err)
{
	char         name[sizeof((struct agent *)0)->username];
	struct agent a;
	int          allowed;

	memset(who, 0, sizeof *who);
	login_name(username, name, sizeof name);
	login_prune(app);
	if (throttle(app, name, addr, retry_after, err) == -1)
		return -1;
	if (store_agent_by_username(app->db, name, &a, err) == -1) {
		if (err->code != E_NOTFOUND)
			return -1;
		cred_password_verify(dummy_hash(), password);
		return refuse(app, name, addr, err);
	}
	if (!cred_password_verify(a.password_hash, password) || a.disabled)
		return refuse(app, name, addr, err);
	if (sso_password_allowed(app, a.id, &allowed, err) == -1)
		return -1;
	if (!allowed) {
		err_set(err, E_FORBIDDEN,
		    "This portal requires Sign in with Microsoft. Use the "
		    "\u201cSign in with Microsoft\u201d button.");
		return -1;
	}
	if (store_login_attempt_record(app->db, name, addr, 1, err) == -1)
		return -1;
	return authn_session_open(app, &a, addr, who, token, err);
}

/* End the session named by r's cookie, if any. */
int
authn_logout(struct app *app, const struct req *r, struct err *err)
{
	unsigned char hash[CRED_HASH_BYTES];
	char         *token = req_cookie(r, AUTHN_COOKIE);
	int           rc = 0;

	if (token != NULL) {
		cred_hash(token, hash);
		rc = store_session_delete(app->db, hash, err);
		free(token);
	}
	return rc;
}

/*
 * Create an API key: "pdk_" + 43 base64url characters, written to key
 * (keysz >= 48).  Only its hash and its first 12 characters are stored.
 */
int
authn_apikey_create(struct app *app, const char *name, const char *role,
    char *key, size_t keysz, uint64_t *id, struct err *err)
{
	unsigned char hash[CRED_HASH_BYTES];
	char          tok[CRED_TOKEN_MAX], prefix[13];

	cred_token_new(tok);
	snprintf(key, keysz, AUTHN_KEY_PREFIX "%s", tok);
	explicit_bzero(tok, sizeof tok);
	snprintf(prefix, sizeof prefix, "%s", key);
	cred_hash(key, hash);
	return store_api_key_create(app->db, name, role, prefix, hash, id, err);
}
