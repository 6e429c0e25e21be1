/*
 * mailbox_token: access tokens live ~60-90 minutes; we refresh 5 minutes before
 * expiry, or when a caller reports the token it used was refused (stale).
 *
 * No database lock is held while Microsoft is asked.  The row is read
 * (refresh_gen says which refresh token it holds), a lease is taken by a
 * conditional UPDATE (sql/0010_refresh_lease.sql), the token endpoint is
 * called, and the rotated tokens are saved only if refresh_gen is still
 * the one read (compare-and-swap), which also ends the lease.  Of two
 * processes refreshing one mailbox, one holds the lease; the other polls
 * the row and uses the winner's access token, so a rotated-out refresh
 * token is never sent.  The lease outlasts the call (its timeout plus a
 * margin), so it only lapses for a process that died.  A web request
 * (http_has_deadline()) waits at most REFRESH_WAIT_REQUEST_MS for someone
 * else's refresh, and not at all for one already running that long, then
 * answers "try again": slow Microsoft ties up one API worker per mailbox,
 * not all of them.
 *
 * A refusal by Microsoft moves the mailbox to needs_reauth with the
 * guide's message, and its outgoing mail is held; it is not retried.
 *
 * On MariaDB Galera the row read may be stale (another node refreshed a
 * moment ago).  Nothing here depends on it being fresh: the lease is taken
 * only against the generation read, and a stale taker either matches
 * nothing or fails certification (store/mailbox_token.c), so it polls
 * again instead of sending a rotated-out refresh token.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "microsoft/guidance.h"
#include "base/log.h"
#include "domain/mailbox_state.h"
#include "microsoft/oauth2.h"
#include "domain/mailbox_token.h"
#include "domain/mailbox_cred.h"
#include "adapt/seal.h"
#include "store/store.h"
#include "base/xmalloc.h"

#define REFRESH_LEASE_MARGIN_S  5
#define REFRESH_POLL_MS         50
#define REFRESH_WAIT_REQUEST_MS 1000

enum {
	DONE = 0,
	FAILED = -1,
	BUSY = 1
};

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Microsoft refused refresh token generation c->gen: give up on it. */
static void
give_up(struct app *app, const struct mailbox_creds *c,
    const struct oauth2_error *oe, struct err *err)
{
	const struct guidance *g = guidance_oauth(oe->error, oe->code);
	char                   msg[700];
	struct err             e2;
	int                    won = 0;

	snprintf(msg, sizeof msg,
	    "Connection failed refreshing the access token for mailbox "
	    "%llu: %s",
	    (unsigned long long)c->id,
	    oe->description[0] ? oe->description : oe->error);
	if (mailbox_refresh_refused(app, c->id, c->gen, g, msg, &won, &e2) ==
	    -1) {
		*err = e2;
		return;
	}
	log_warn("%s", msg);
	err_set(err, E_AUTH, "%s", msg);
}

/* Save what Microsoft issued; BUSY when the row changed meanwhile. */
static int
save(struct app *app, const struct mailbox_creds *c, struct oauth2_tokens *t,
    char **token, struct err *err)
{
	struct buf rs = { 0 }, as = { 0 };
	int        won = 0, rc;

	if (t->refresh_token != NULL)
		seal(&app->key, t->refresh_token, &rs);
	seal(&app->key, t->access_token, &as);
	rc = store_mailbox_token_save(app->db, c->id, c->gen,
	    t->refresh_token ? &rs : NULL, &as, t->expires_in, &won, err);
	buf_cleanup(&rs);
	buf_cleanup(&as);
	if (rc == -1)
		return FAILED;
	if (!won) /* reconnected or disconnected meanwhile: read again */
		return BUSY;
	*token = t->access_token;
	t->access_token = NULL;
	return DONE;
}

/* Holding the lease on generation c->gen: ask Microsoft, then save. */
static int
renew(struct app *app, struct http *h, const struct mailbox_creds *c,
    char **token, struct err *err)
{
	struct oauth2_cloud       cloud;
	struct oauth2_grant       g = { 0 };
	struct oauth2_tokens      t = { 0 };
	struct oauth2_error       oe;
	struct err                e2;
	struct mailbox_grant_keys keys;
	char                     *refresh;
	int                       rc = FAILED, have;

	have = mailbox_cred_grant(app, c, &g, &keys, err) == 0;
	refresh = have ? unseal(&app->key, c->refresh.data, c->refresh.len, err)
	               : NULL;
	g.tenant = c->tenant;
	g.client_id = c->client_id;
	g.refresh_token = refresh;
	if (refresh == NULL) {
		/* err says why */
	} else if (oauth2_cloud_of(&app->cfg, c->cloud, &cloud) == -1) {
		err_set(err, E_INTERNAL, "unknown cloud %s", c->cloud);
	} else if (oauth2_token(h, &cloud, &g, &t, &oe, err) == 0) {
		rc = save(app, c, &t, token, err);
	} else if (err->code == E_AUTH) {
		give_up(app, c, &oe, err);
	}
	if (rc == FAILED && err->code != E_AUTH &&
	    store_mailbox_token_release(app->db, c->id, c->gen, &e2) == -1)
		log_warn("mailbox %llu: refresh lease not released: %s",
		    (unsigned long long)c->id, e2.msg);
	mailbox_grant_keys_wipe(&keys);
	xfree_secret(refresh);
	oauth2_tokens_cleanup(&t);
	return rc;
}

/*
 * One look at the row: DONE with *token, FAILED, or BUSY (look again;
 * *age: how long someone else's refresh has been running, or -1).
 */
static int
attempt(struct app *app, struct http *h, uint64_t id, const char *stale,
    char **token, long long *age, struct err *err)
{
	struct mailbox_creds c;
	char                *access = NULL;
	long                 lease;
	int                  won = 0, rc = BUSY;

	*age = -1;
	if (store_mailbox_token_get(app->db, id, &c, err) == -1)
		return FAILED;
	if (c.status != MAILBOX_CONNECTED || c.refresh.len == 0) {
		err_set(err, E_AUTH,
		    "Mailbox %llu is not connected (status %s): authorize it "
		    "in Mailbox Setup.",
		    (unsigned long long)id, mailbox_status_name(c.status));
		rc = FAILED;
		goto out;
	}
	if (c.access_fresh && c.access.len > 0)
		access = unseal(&app->key, c.access.data, c.access.len, err);
	if (access != NULL && (stale == NULL || strcmp(access, stale) != 0)) {
		/* Fresh, and not the one just refused (or someone else has
		 * refreshed since): use it. */
		*token = access;
		rc = DONE;
		goto out;
	}
	xfree_secret(access);
	lease = (http_budget_ms(h) + 999) / 1000 + REFRESH_LEASE_MARGIN_S;
	*age = c.lease_age_ms;
	if (c.lease_age_ms < 0 &&
	    store_mailbox_token_lease(app->db, id, c.gen, lease, &won, err) ==
	        -1)
		rc = FAILED;
	else if (won)
		rc = renew(app, h, &c, token, err);
out:
	store_mailbox_token_cleanup(&c);
	return rc;
}

/*
 * A valid access token for mailbox id in *token (caller frees with
 * xfree_secret()).  stale: the token the caller just saw refused (a
 * Graph 401), or NULL.  Fails with E_AUTH when the mailbox is not
 * connected or Microsoft refused the refresh (the mailbox then needs
 * reauthorisation), E_UNAVAILABLE when the login service is unreachable
 * or another refresh of this mailbox outlasted the caller's patience.
 */
int
mailbox_token_access(struct app *app, struct http *h, uint64_t id,
    const char *stale, char **token, struct err *err)
{
	long patience =
	    http_budget_ms(h) + (REFRESH_LEASE_MARGIN_S + 1) * 1000L;
	long long age;
	int       request = http_has_deadline(h), rc;

	if (request && patience > REFRESH_WAIT_REQUEST_MS)
		patience = REFRESH_WAIT_REQUEST_MS;
	*token = NULL;
	while ((rc = attempt(app, h, id, stale, token, &age, err)) == BUSY) {
		/* A request does not queue behind a refresh that is slow. */
		if (patience <= 0 ||
		    (request && age >= REFRESH_WAIT_REQUEST_MS)) {
			err_set(err, E_UNAVAILABLE,
			    "Another refresh of mailbox %llu's access token "
			    "is under way; try again in a moment.",
			    (unsigned long long)id);
			return -1;
		}
		nap(REFRESH_POLL_MS);
		patience -= REFRESH_POLL_MS;
	}
	return rc == DONE ? 0 : -1;
}
