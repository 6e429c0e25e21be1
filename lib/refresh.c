/*
 * refresh: access tokens live ~60-90 minutes; we refresh 5 minutes before
 * expiry, or when a caller reports the token it used was refused (stale).
 * The mailbox row is locked FOR UPDATE across the token request, so of
 * two processes refreshing one mailbox, one refreshes and the other waits
 * and then uses the stored result — a rotated refresh token is never used
 * twice.  The new refresh token is committed before the new access token
 * is handed out.  A refusal by Microsoft moves the mailbox to
 * needs_reauth with the guide's message, and its outgoing mail is held;
 * it is not retried (no storm).
 */
#include <stdio.h>
#include <string.h>

#include "guidance.h"
#include "log.h"
#include "oauth2.h"
#include "refresh.h"
#include "seal.h"
#include "store.h"
#include "store_outbox.h"
#include "xmalloc.h"

static int
give_up(struct app *app, uint64_t id, const struct oauth2_error *oe,
    struct err *err)
{
	const struct guidance *g = guidance_oauth(oe->error, oe->code);
	char                   msg[700];
	struct err             e2;

	snprintf(msg, sizeof msg,
	    "Connection failed refreshing the access token for mailbox "
	    "%llu: %s",
	    (unsigned long long)id,
	    oe->description[0] ? oe->description : oe->error);
	if (store_mailbox_set_status(app->db, id, "needs_reauth", 1, &e2) ==
	        -1 ||
	    store_outbox_hold(app->db, id, &e2) == -1 ||
	    store_mailbox_set_error(app->db, id, g->key, msg, g->action, &e2) ==
	        -1 ||
	    db_commit(app->db, &e2) == -1) {
		db_rollback(app->db);
		*err = e2;
		return -1;
	}
	log_warn("%s", msg);
	err_set(err, E_AUTH, "%s", msg);
	return -1;
}

static int
renew(struct app *app, struct http *h, const struct mailbox_creds *c,
    char **token, struct err *err)
{
	struct oauth2_cloud  cloud;
	struct oauth2_grant  g = { 0 };
	struct oauth2_tokens t = { 0 };
	struct oauth2_error  oe;
	struct buf           rs = { 0 }, as = { 0 };
	char                *secret, *refresh;
	int                  rc = -1;

	secret = unseal(&app->key, c->secret.data, c->secret.len, err);
	refresh = unseal(&app->key, c->refresh.data, c->refresh.len, err);
	if (secret == NULL || refresh == NULL ||
	    oauth2_cloud_of(&app->cfg, c->cloud, &cloud) == -1) {
		db_rollback(app->db);
		goto out;
	}
	g.tenant = c->tenant;
	g.client_id = c->client_id;
	g.secret = secret;
	g.refresh_token = refresh;
	if (oauth2_token(h, &cloud, &g, &t, &oe, err) == -1) {
		if (err->code == E_AUTH)
			give_up(app, c->id, &oe, err);
		else
			db_rollback(app->db);
		goto out;
	}
	if (t.refresh_token != NULL)
		seal(&app->key, t.refresh_token, &rs);
	seal(&app->key, t.access_token, &as);
	if (store_tokens_save(app->db, c->id, t.refresh_token ? &rs : NULL, &as,
	        t.expires_in, err) == -1 ||
	    db_commit(app->db, err) == -1) {
		db_rollback(app->db);
		goto out;
	}
	*token = t.access_token;
	t.access_token = NULL;
	rc = 0;
out:
	xfree_secret(secret);
	xfree_secret(refresh);
	buf_cleanup(&rs);
	buf_cleanup(&as);
	oauth2_tokens_cleanup(&t);
	return rc;
}

/*
 * A valid access token for mailbox id in *token (caller frees with
 * xfree_secret()).  stale: the token the caller just saw refused (a
 * Graph 401), or NULL.  Fails with E_AUTH when the mailbox is not
 * connected or Microsoft refused the refresh (the mailbox then needs
 * reauthorisation), E_UNAVAILABLE when the login service is unreachable.
 */
int
refresh_access_token(struct app *app, struct http *h, uint64_t id,
    const char *stale, char **token, struct err *err)
{
	struct mailbox_creds c;
	char                *access = NULL;
	int                  rc = -1;

	*token = NULL;
	if (db_begin(app->db, err) == -1)
		return -1;
	if (store_creds_get(app->db, id, 1, &c, err) == -1) {
		db_rollback(app->db);
		return -1;
	}
	if (strcmp(c.status, "connected") != 0 || c.refresh.len == 0) {
		db_rollback(app->db);
		err_set(err, E_AUTH,
		    "Mailbox %llu is not connected (status %s): authorize it "
		    "in Mailbox Setup.",
		    (unsigned long long)id, c.status);
		goto out;
	}
	if (c.access_fresh && c.access.len > 0)
		access = unseal(&app->key, c.access.data, c.access.len, err);
	if (access != NULL && (stale == NULL || strcmp(access, stale) != 0)) {
		/* Fresh, and not the one just refused (or someone else has
		 * refreshed since): use it. */
		db_rollback(app->db);
		*token = access;
		rc = 0;
		goto out;
	}
	xfree_secret(access);
	rc = renew(app, h, &c, token, err);
out:
	store_creds_cleanup(&c);
	return rc;
}
