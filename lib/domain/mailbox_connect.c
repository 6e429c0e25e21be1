/*
 * mailbox_connect: the portal's "Authorize Application" made safe.  The state
 * is a 256-bit single-use token valid 10 minutes, stored hashed and bound to
 * the portal session that asked for it; PKCE S256 guards the code.  A
 * connection is stored only after the code was redeemed AND the Inbox to
 * be scanned opened with the new token — for a shared mailbox that is
 * /users/{shared}, so a missing delegation is refused at connect time and
 * the delegate's own Inbox is never read in its place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/mailbox_connect.h"
#include "domain/mailbox_cred.h"
#include "microsoft/graph.h"
#include "microsoft/guidance.h"
#include "base/log.h"
#include "domain/mailbox_state.h"
#include "microsoft/oauth2.h"
#include "domain/mailbox_token.h"
#include "adapt/seal.h"
#include "store/store.h"
#include "base/xmalloc.h"

static void
record(struct app *app, uint64_t id, const struct guidance *g,
    const char *message)
{
	mailbox_record_error(app, id, g, message);
	log_warn("mailbox %llu: %s", (unsigned long long)id, message);
}

static void
audit(struct app *app, const char *actor_type, uint64_t actor_id,
    const char *actor, const char *action, uint64_t id, const char *detail)
{
	struct audit_entry e = { .actor_type = actor_type,
		.actor_id = actor_id,
		.actor_name = actor,
		.action = action,
		.target_type = "mailbox",
		.target_id = id,
		.detail = detail };
	struct err         err;

	if (store_audit_add(app->db, &e, &err) == -1)
		log_err("audit log not written for %s: %s", action, err.detail);
}

/*
 * Begin Authorize Application for mailbox: remember a new state (bound to
 * who's session, if any) and its PKCE verifier, and append the Microsoft
 * URL to send the browser to.  E_NOTFOUND for an unknown mailbox.
 */
int
mailbox_connect_start(struct app *app, const struct principal *who, uint64_t id,
    struct buf *url, struct err *err)
{
	struct oauth2_cloud cloud;
	char                state[CRED_TOKEN_MAX], ver[OAUTH2_VERIFIER_MAX];
	char                chal[OAUTH2_CHALLENGE_MAX];
	unsigned char       hash[CRED_HASH_BYTES];
	struct buf          sealed = { 0 }, redirect, scopes;
	struct mailbox      mb;
	int                 rc = -1;

	if (mailbox_get(app, id, &mb, err) == -1)
		return -1;
	if (mb.credential == MAILBOX_CRED_CERTIFICATE &&
	    mb.cert_thumbprint[0] == '\0') {
		/* the sign-in would end at a token request it cannot sign */
		err_set(err, E_CONFLICT,
		    "This mailbox has no certificate yet: generate or upload "
		    "one, upload its .cer in Azure, then authorize.");
		mailbox_cleanup(&mb);
		return -1;
	}
	if (oauth2_cloud_of(&app->cfg, mailbox_cloud_name(mb.cloud), &cloud) ==
	    -1) {
		err_set(err, E_INTERNAL, "unknown cloud %d", (int)mb.cloud);
		mailbox_cleanup(&mb);
		return -1;
	}
	cred_token_new(state);
	cred_hash(state, hash);
	oauth2_pkce(ver, chal);
	seal(&app->key, ver, &sealed);
	buf_init(&redirect, 128);
	buf_init(&scopes, 128);
	buf_printf(&redirect, "%s/azure/auth", app->cfg.portal_url);
	oauth2_scopes(&scopes, mb.shared_address[0] != '\0');
	if (store_oauth_state_add(app->db, hash, id, who->session_id, &sealed,
	        redirect.data, who->name, err) == 0) {
		/* The tenant typed in the form, not a previous tid: a
		 * reauthorisation may move to a corrected tenant. */
		oauth2_authorize_url(url, &cloud, mb.tenant_id, mb.client_id,
		    redirect.data, scopes.data, state, chal,
		    mb.shared_address[0] ? NULL : mb.account);
		audit(app, who->kind == WHO_APIKEY ? "api_key" : "agent",
		    who->id, who->name, "mailbox.authorize", id, NULL);
		rc = 0;
	}
	explicit_bzero(state, sizeof state);
	explicit_bzero(ver, sizeof ver);
	buf_cleanup(&sealed);
	buf_cleanup(&redirect);
	buf_cleanup(&scopes);
	mailbox_cleanup(&mb);
	return rc;
}

static int
bad_state(struct mailbox_connect_result *res, const char *why)
{
	res->outcome = MAILBOX_CONNECT_BAD_STATE;
	snprintf(res->message, sizeof res->message, "%s", why);
	return 0;
}

static int
failed(struct app *app, struct mailbox_connect_result *res,
    const struct guidance *g, const char *message)
{
	record(app, res->mailbox_id, g, message);
	res->outcome = MAILBOX_CONNECT_FAILED;
	snprintf(res->message, sizeof res->message, "%s", message);
	return 0;
}

/* Check the state of a callback; 0 with res->outcome set, -1 on DB error. */
static int
check_state(struct app *app, const struct mailbox_connect_callback *cb,
    struct oauth_state *st, struct mailbox_connect_result *res, struct err *err)
{
	unsigned char hash[CRED_HASH_BYTES];
	int           won;

	res->outcome = MAILBOX_CONNECT_OK;
	if (cb->state == NULL || cb->state[0] == '\0')
		return bad_state(res, "The sign-in response has no state.");
	cred_hash(cb->state, hash);
	if (store_oauth_state_get(app->db, hash, st, err) == -1)
		return err->code == E_NOTFOUND
		    ? bad_state(res, "This sign-in link is unknown.")
		    : -1;
	/* Known from here on, even when refused: the error page links to it. */
	res->mailbox_id = st->mailbox_id;
	if (st->used)
		return bad_state(res, "This sign-in link was already used.");
	if (st->expired)
		return bad_state(res,
		    "This sign-in link has expired (after 10 "
		    "minutes).");
	if (st->session_id != 0 && st->session_id != cb->session_id)
		return bad_state(res,
		    "This sign-in was started from another portal session. "
		    "Sign in to the portal in this browser and press Authorize "
		    "Application again.");
	if (store_oauth_state_use(app->db, st->id, &won, err) == -1)
		return -1;
	if (!won)
		return bad_state(res, "This sign-in link was already used.");
	res->mailbox_id = st->mailbox_id;
	return 0;
}

static void
oauth_message(char *dst, size_t size, const struct oauth2_error *oe,
    const char *fallback)
{
	if (oe->description[0])
		snprintf(dst, size, "%s", oe->description);
	else if (oe->error[0])
		snprintf(dst, size, "%s", oe->error);
	else
		snprintf(dst, size, "%s", fallback);
}

static long
aadsts_of(const char *description)
{
	return description && strncmp(description, "AADSTS", 6) == 0
	    ? strtol(description + 6, NULL, 10)
	    : 0;
}

/* Open the Inbox the scanner will read; -1 (res set) when refused. */
static int
probe_inbox(struct app *app, struct http *h, const struct mailbox_creds *c,
    const char *graph, const char *token, long long *count,
    struct mailbox_connect_result *res)
{
	struct graph_error ge;
	struct buf         url;
	struct err         err;
	json_t            *o;
	char               msg[700];

	buf_init(&url, 256);
	graph_mailbox_url(&url, graph, c->shared_address);
	buf_puts(&url, "/mailFolders/inbox");
	o = graph_get_json(h, url.data, token, &ge, &err);
	buf_cleanup(&url);
	if (o == NULL) {
		if (c->shared_address[0])
			snprintf(msg, sizeof msg,
			    "Signed in, but the shared mailbox %s could not be "
			    "opened (%ld %s). postdesk did not connect, so it "
			    "will not read the signed-in user's own Inbox "
			    "instead.",
			    c->shared_address, ge.status, ge.code);
		else
			snprintf(msg, sizeof msg,
			    "Signed in, but the Inbox could not be opened (%ld "
			    "%s).",
			    ge.status, ge.code);
		failed(app, res, guidance_graph(ge.status, ge.code), msg);
		return -1;
	}
	*count = json_integer_value(json_object_get(o, "totalItemCount"));
	json_decref(o);
	return 0;
}

static int
redeem(struct app *app, struct http *h,
    const struct mailbox_connect_callback *cb, const struct oauth_state *st,
    struct mailbox_connect_result *res, struct err *err)
{
	struct mailbox_creds      c;
	struct oauth2_cloud       cloud;
	struct oauth2_grant       g = { 0 };
	struct oauth2_tokens      t = { 0 };
	struct oauth2_error       oe;
	struct oauth2_claims      cl;
	struct buf                rs = { 0 }, as = { 0 };
	struct connection         cn = { 0 };
	struct mailbox_grant_keys keys = { 0 };
	char                     *ver = NULL, msg[600];
	int                       rc = -1;

	if (store_mailbox_token_get(app->db, st->mailbox_id, &c, err) == -1)
		return -1;
	ver = unseal(&app->key, st->verifier.data, st->verifier.len, err);
	if (ver == NULL || mailbox_cred_grant(app, &c, &g, &keys, err) == -1 ||
	    oauth2_cloud_of(&app->cfg, c.cloud, &cloud) == -1)
		goto out;
	g.tenant = c.tenant_id; /* where the authorization went */
	g.client_id = c.client_id;
	g.code = cb->code;
	g.redirect_uri = st->redirect_uri;
	g.verifier = ver;
	if (oauth2_token(h, &cloud, &g, &t, &oe, err) == -1) {
		oauth_message(msg, sizeof msg, &oe, err->msg);
		rc = failed(app, res, guidance_oauth(oe.error, oe.code), msg);
		goto out;
	}
	if (t.refresh_token == NULL || t.id_token == NULL ||
	    oauth2_parse_claims(t.id_token, c.client_id, &cl, err) == -1) {
		rc = failed(app, res, guidance_fallback(),
		    "Microsoft's answer lacked the refresh token or id_token "
		    "(are offline_access and openid granted?).");
		goto out;
	}
	if (probe_inbox(app, h, &c, cloud.graph, t.access_token,
	        &cn.inbox_count, res) == -1) {
		rc = 0;
		goto out;
	}
	seal(&app->key, t.refresh_token, &rs);
	seal(&app->key, t.access_token, &as);
	cn.refresh = &rs;
	cn.access = &as;
	cn.expires_in = t.expires_in;
	cn.account = cl.username;
	cn.oid = cl.oid;
	cn.tenant = cl.tid[0] ? cl.tid : c.tenant;
	if (mailbox_connected(app, c.id, &cn, err) == -1)
		goto out;
	res->outcome = MAILBOX_CONNECT_OK;
	snprintf(res->account, sizeof res->account, "%s", cl.username);
	audit(app, "system", 0, cl.username, "mailbox.connect", c.id, NULL);
	rc = 0;
out:
	mailbox_grant_keys_wipe(&keys);
	xfree_secret(ver);
	buf_cleanup(&rs);
	buf_cleanup(&as);
	oauth2_tokens_cleanup(&t);
	store_mailbox_token_cleanup(&c);
	return rc;
}

/*
 * Complete a callback: check the state, then either record Microsoft's
 * error on the mailbox or redeem the code and store the connection.
 * Returns 0 with res describing the outcome, or -1 on an internal error.
 */
int
mailbox_connect_finish(struct app *app, struct http *h,
    const struct mailbox_connect_callback *cb,
    struct mailbox_connect_result *res, struct err *err)
{
	struct oauth_state st = { 0 };
	char               msg[600];
	int                rc;

	memset(res, 0, sizeof *res);
	rc = check_state(app, cb, &st, res, err);
	if (rc == -1 || res->outcome != MAILBOX_CONNECT_OK)
		goto out;
	if (cb->error != NULL) {
		snprintf(msg, sizeof msg, "%s",
		    cb->error_description && cb->error_description[0]
		        ? cb->error_description
		        : cb->error);
		msg[strcspn(msg, "\r\n")] = '\0';
		rc = failed(app, res,
		    guidance_oauth(cb->error, aadsts_of(cb->error_description)),
		    msg);
	} else if (cb->code == NULL || cb->code[0] == '\0') {
		rc = failed(app, res, guidance_fallback(),
		    "Microsoft's answer had neither a code nor an error.");
	} else {
		rc = redeem(app, h, cb, &st, res, err);
	}
out:
	store_oauth_state_cleanup(&st);
	return rc;
}

/* Add a check to rep. */
static void
check(struct mailbox_connect_report *rep, const char *name, int passed,
    const char *detail, const struct guidance *g)
{
	struct mailbox_connect_check *ck = &rep->checks[rep->n++];

	snprintf(ck->name, sizeof ck->name, "%s", name);
	snprintf(ck->detail, sizeof ck->detail, "%s", detail);
	ck->passed = passed;
	ck->guidance = g;
}

static void
check_folder(struct mailbox_connect_report *rep, struct http *h,
    const char *base, const char *folder, const char *label, const char *token,
    const struct guidance **bad)
{
	struct graph_error ge;
	struct buf         url;
	struct err         err;
	json_t            *o;
	char               detail[300];

	buf_init(&url, 256);
	buf_printf(&url, "%s/mailFolders/%s", base, folder);
	o = graph_get_json(h, url.data, token, &ge, &err);
	buf_cleanup(&url);
	if (o == NULL) {
		*bad = guidance_graph(ge.status, ge.code);
		snprintf(detail, sizeof detail,
		    "%s could not be opened: %ld %s", label, ge.status,
		    ge.code[0] ? ge.code : err.msg);
		check(rep, label, 0, detail, *bad);
		return;
	}
	snprintf(detail, sizeof detail, "%s opened: %lld messages", label,
	    (long long)json_integer_value(
	        json_object_get(o, "totalItemCount")));
	check(rep, label, 1, detail, NULL);
	json_decref(o);
}

/* Open the Inbox and Deleted Items of the mailbox the scanner reads. */
static void
check_folders(struct mailbox_connect_report *rep, struct http *h,
    const struct mailbox *mb, const char *graph, const char *token,
    const struct guidance **bad)
{
	const char *shared = mb->shared_address;
	struct buf  base;
	char        label[300];

	buf_init(&base, 256);
	graph_mailbox_url(&base, graph, shared);
	snprintf(label, sizeof label, "%s%sInbox", shared,
	    shared[0] ? " " : "");
	check_folder(rep, h, base.data, "inbox", label, token, bad);
	snprintf(label, sizeof label, "%s%sDeleted Items", shared,
	    shared[0] ? " " : "");
	check_folder(rep, h, base.data, "deleteditems", label, token, bad);
	buf_cleanup(&base);
}

/* 0 if mailbox id is connected; else -1 with E_CONFLICT (or another). */
static int
test_ready(struct app *app, uint64_t id, struct mailbox *mb,
    struct oauth2_cloud *cloud, struct err *err)
{
	if (mailbox_get(app, id, mb, err) == -1)
		return -1;
	if (oauth2_cloud_of(&app->cfg, mailbox_cloud_name(mb->cloud), cloud) ==
	    -1) {
		err_set(err, E_INTERNAL, "unknown cloud %d", (int)mb->cloud);
		return -1;
	}
	if (mb->status == MAILBOX_CONNECTED)
		return 0;
	err_set(err, E_CONFLICT,
	    "Mailbox %llu is not connected (status %s). Press "
	    "Authorize Application first.",
	    (unsigned long long)id, mailbox_status_name(mb->status));
	return -1;
}

/*
 * Test connection: refresh the token for real, then open the Inbox and
 * Deleted Items of the mailbox the scanner reads (the shared one for a
 * shared mailbox).  Fills rep, or fails with E_NOTFOUND, E_CONFLICT when
 * not connected, or a database error.  A failed check is recorded as the
 * mailbox's last error.
 */
int
mailbox_connect_test(struct app *app, struct http *h, uint64_t id,
    struct mailbox_connect_report *rep, struct err *err)
{
	const struct guidance *bad = NULL;
	struct mailbox         mb;
	struct oauth2_cloud    cloud;
	struct err             e2;
	char                  *tok = NULL, *fresh = NULL;

	memset(rep, 0, sizeof *rep);
	if (test_ready(app, id, &mb, &cloud, err) == -1) {
		mailbox_cleanup(&mb);
		return -1;
	}
	if (mailbox_token_access(app, h, id, NULL, &tok, &e2) == -1 ||
	    mailbox_token_access(app, h, id, tok, &fresh, &e2) == -1) {
		bad = e2.code == E_AUTH
		    ? guidance_oauth("invalid_grant", 0)
		    : guidance_oauth("temporarily_unavailable", 0);
		check(rep, "Refresh the access token", 0, e2.msg, bad);
	} else {
		check(rep, "Refresh the access token", 1,
		    "A new access token was issued.", NULL);
		check_folders(rep, h, &mb, cloud.graph, fresh, &bad);
	}
	xfree_secret(tok);
	xfree_secret(fresh);
	mailbox_cleanup(&mb);
	rep->passed = bad == NULL;
	if (bad != NULL && mailbox_get(app, id, &mb, &e2) == 0 &&
	    mb.status == MAILBOX_CONNECTED)
		record(app, id, bad, "Test connection failed; see the checks.");
	mailbox_cleanup(&mb);
	return 0;
}

/* {"passed", "checks": [{check, passed, detail, title, guidance}]} */
void
mailbox_connect_report_write(struct jw  *w,
    const struct mailbox_connect_report *rep)
{
	jw_open(w, '{');
	jw_key(w, "passed");
	jw_bool(w, rep->passed);
	jw_key(w, "checks");
	jw_open(w, '[');
	for (size_t i = 0; i < rep->n; i++) {
		const struct mailbox_connect_check *ck = &rep->checks[i];

		jw_open(w, '{');
		jw_key(w, "check");
		jw_str(w, ck->name);
		jw_key(w, "passed");
		jw_bool(w, ck->passed);
		jw_key(w, "detail");
		jw_str(w, ck->detail);
		jw_key(w, "title");
		jw_str_or_null(w, ck->guidance ? ck->guidance->title : "");
		jw_key(w, "guidance");
		jw_str_or_null(w, ck->guidance ? ck->guidance->action : "");
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}
