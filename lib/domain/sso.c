/*
 * sso: "Sign in with Microsoft" (docs/sso.md).  A sign-in starts with a
 * 256-bit state, a nonce and a PKCE verifier kept server-side for 10
 * minutes, bound to a cookie of the browser that started it, and used
 * once (as lib/domain/mailbox_connect.c keeps Authorize Application's).
 * The callback redeems the code, validates the id_token
 * (lib/adapt/jwks.c), finds the agent by object id — or, on the first
 * sign-in and only when an admin allowed it, by address — and opens the
 * same portal session a password opens (lib/domain/authn.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapt/jwks.h"
#include "adapt/seal.h"
#include "base/log.h"
#include "base/url.h"
#include "base/valid.h"
#include "base/xmalloc.h"
#include "domain/sso.h"
#include "domain/sso_app.h"
#include "microsoft/oauth2.h"
#include "store/sso.h"
#include "store/store.h"

const char *
sso_outcome_slug(enum sso_outcome o)
{
	static const char *const slug[] = { [SSO_OK] = "ok",
		[SSO_OFF] = "off",
		[SSO_BAD_STATE] = "state",
		[SSO_DENIED] = "denied",
		[SSO_TOKEN] = "token",
		[SSO_ID_TOKEN] = "id_token",
		[SSO_NO_AGENT] = "no_agent" };

	return (size_t)o < sizeof slug / sizeof slug[0] ? slug[o] : "internal";
}

/*
 * Begin a sign-in: append the authorize URL to url and fill browser with
 * the cookie value that binds it to this browser.  *outcome is SSO_OFF
 * (and nothing is stored) when sign-in with Microsoft is not set up.
 */
int
sso_start(struct app *app, struct buf *url, char browser[CRED_TOKEN_MAX],
    enum sso_outcome *outcome, struct err *err)
{
	struct sso_app app_of = { 0 };
	char           state[CRED_TOKEN_MAX], nonce[CRED_TOKEN_MAX];
	char           ver[OAUTH2_VERIFIER_MAX], chal[OAUTH2_CHALLENGE_MAX];
	unsigned char  shash[CRED_HASH_BYTES], bhash[CRED_HASH_BYTES];
	struct buf     sealed = { 0 }, redirect;
	int            rc;

	*outcome = SSO_OK;
	rc = sso_app_load(app, 0, &app_of, err);
	if (rc != 0) {
		*outcome = SSO_OFF;
		return rc == 1 ? 0 : -1;
	}
	cred_token_new(state);
	cred_token_new(nonce);
	cred_token_new(browser);
	cred_hash(state, shash);
	cred_hash(browser, bhash);
	oauth2_pkce(ver, chal);
	seal(&app->key, ver, &sealed);
	buf_init(&redirect, 128);
	buf_printf(&redirect, "%s%s", app->cfg.portal_url, SSO_CALLBACK_PATH);
	rc = store_sso_login_state_add(app->db, shash, bhash, nonce, &sealed,
	    err);
	if (rc == 0) {
		oauth2_authorize_url(url, &app_of.cloud, app_of.tenant,
		    app_of.client_id, redirect.data, SSO_SCOPES, state, chal,
		    NULL);
		buf_puts(url, "&nonce=");
		url_encode(url, nonce);
	}
	explicit_bzero(state, sizeof state);
	explicit_bzero(ver, sizeof ver);
	buf_cleanup(&sealed);
	buf_cleanup(&redirect);
	sso_app_cleanup(&app_of);
	return rc;
}

static int
outcome(struct sso_result *res, enum sso_outcome o, const char *message)
{
	res->outcome = o;
	snprintf(res->message, sizeof res->message, "%s", message);
	res->message[strcspn(res->message, "\r\n")] = '\0';
	return 0;
}

/* The state of a callback, used up: 0 with res->outcome set (SSO_OK when
 * it may go on), -1 on a database error. */
static int
take_state(struct app *app, const struct sso_callback *cb,
    struct sso_login_state *st, struct sso_result *res, struct err *err)
{
	unsigned char hash[CRED_HASH_BYTES], bhash[CRED_HASH_BYTES];
	char want[2 * CRED_HASH_BYTES + 1], got[2 * CRED_HASH_BYTES + 1];
	int  won;

	if (cb->state == NULL || cb->state[0] == '\0')
		return outcome(res, SSO_BAD_STATE,
		    "The answer from Microsoft has no state.");
	cred_hash(cb->state, hash);
	if (store_sso_login_state_get(app->db, hash, st, err) == -1)
		return err->code == E_NOTFOUND
		    ? outcome(res, SSO_BAD_STATE, "This sign-in is unknown.")
		    : -1;
	if (st->used)
		return outcome(res, SSO_BAD_STATE,
		    "This sign-in was already used.");
	if (st->expired)
		return outcome(res, SSO_BAD_STATE,
		    "This sign-in has expired (after 10 minutes).");
	/* Used up before the browser is checked: a code and state that
	 * leaked are dead after one try, whoever tries. */
	if (store_sso_login_state_use(app->db, st->id, &won, err) == -1)
		return -1;
	if (!won)
		return outcome(res, SSO_BAD_STATE,
		    "This sign-in was already used.");
	cred_hash(cb->browser != NULL ? cb->browser : "", bhash);
	cred_hex(bhash, CRED_HASH_BYTES, got);
	cred_hex(st->browser_hash, CRED_HASH_BYTES, want);
	if (cb->browser == NULL || !cred_equal(got, want))
		return outcome(res, SSO_BAD_STATE,
		    "This sign-in was started in another browser.");
	return outcome(res, SSO_OK, "");
}

/* Redeem the code; 0 with t->id_token set, or res says why not. */
static int
redeem(struct app *app, struct http *h, const struct sso_app *a,
    const struct sso_callback *cb, const struct sso_login_state *st,
    struct oauth2_tokens *t, struct sso_result *res, struct err *err)
{
	struct oauth2_grant g = { 0 };
	struct oauth2_error oe;
	struct buf          redirect;
	char *ver = unseal(&app->key, st->verifier.data, st->verifier.len, err);
	char  msg[600];
	int   rc;

	if (ver == NULL)
		return -1;
	buf_init(&redirect, 128);
	buf_printf(&redirect, "%s%s", app->cfg.portal_url, SSO_CALLBACK_PATH);
	g.tenant = a->tenant;
	g.client_id = a->client_id;
	g.secret = a->secret;
	g.code = cb->code;
	g.redirect_uri = redirect.data;
	g.verifier = ver;
	rc = oauth2_token(h, &a->cloud, &g, t, &oe, err);
	xfree_secret(ver);
	buf_cleanup(&redirect);
	if (rc == -1 && err->code != E_AUTH && err->code != E_INVALID &&
	    oe.error[0] == '\0')
		return -1;
	if (rc == -1) {
		snprintf(msg, sizeof msg,
		    "Microsoft did not accept the sign-in: %s",
		    oe.description[0] ? oe.description : err->msg);
		return outcome(res, SSO_TOKEN, msg);
	}
	if (t->id_token == NULL)
		return outcome(res, SSO_TOKEN,
		    "Microsoft's answer carries no id_token.");
	return outcome(res, SSO_OK, "");
}

/* Validate the id_token; claims set when res->outcome stays SSO_OK. */
static int
validate(struct http *h, const struct sso_app *a, const char *nonce,
    const char *id_token, struct jwks_claims *claims, struct sso_result *res,
    struct err *err)
{
	struct jwks_expect x = { 0 };
	enum jwks_verdict  v;
	struct buf         url, iss;
	char               tid[65], msg[300];
	int                rc;

	snprintf(tid, sizeof tid, "%s", a->tenant);
	for (char *p = tid; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	buf_init(&url, 256);
	buf_init(&iss, 256);
	buf_printf(&url, "%s/%s/discovery/v2.0/keys", a->cloud.login, tid);
	buf_printf(&iss, "%s/%s/v2.0", a->cloud.login, tid);
	x.issuer = iss.data;
	x.audience = a->client_id;
	x.tenant = tid;
	x.nonce = nonce;
	x.now = time(NULL);
	rc = jwks_verify_cached(h, url.data, id_token, &x, claims, &v, err);
	buf_cleanup(&url);
	buf_cleanup(&iss);
	if (rc == -1)
		return -1;
	if (v == JWKS_OK)
		return outcome(res, SSO_OK, "");
	log_warn("sign-in with Microsoft: id_token refused: %s",
	    jwks_verdict_text(v));
	snprintf(msg, sizeof msg,
	    "The id_token from Microsoft was refused: %s.",
	    jwks_verdict_text(v));
	return outcome(res, SSO_ID_TOKEN, msg);
}

static void
audit_link(struct app *app, const struct agent *a, const char *account)
{
	char               detail[400];
	struct audit_entry e = { .actor_type = "agent",
		.actor_id = a->id,
		.actor_name = a->username,
		.action = "agent.microsoft_link",
		.target_type = "agent",
		.target_id = a->id,
		.detail = detail };
	struct err         err;
	json_t            *d = json_pack("{s:s}", "account", account);
	char              *s = json_dumps(d, JSON_COMPACT);

	snprintf(detail, sizeof detail, "%s", s != NULL ? s : "{}");
	free(s);
	json_decref(d);
	if (store_audit_add(app->db, &e, &err) == -1)
		log_err("audit log not written for agent.microsoft_link: %s",
		    err.detail);
}

/* The agent of claims c: by oid, else (allowed) by address, then linked. */
static int
match_agent(struct app *app, const struct sso_app *sa,
    const struct jwks_claims *c, struct agent *a, struct sso_result *res,
    struct err *err)
{
	const char *addr = c->username[0] ? c->username : c->email;
	int         won;

	if (store_agent_by_oid(app->db, c->oid, a, err) == 0)
		return outcome(res, SSO_OK, "");
	if (err->code != E_NOTFOUND)
		return -1;
	if (!sa->allow_address_match || addr[0] == '\0')
		return outcome(res, SSO_NO_AGENT,
		    "No postdesk agent is linked to this Microsoft account.");
	if (store_agent_by_username(app->db, addr, a, err) == -1)
		return err->code == E_NOTFOUND
		    ? outcome(res, SSO_NO_AGENT,
		          "No postdesk agent has this Microsoft account's "
		          "address as username.")
		    : -1;
	if (a->disabled) /* never linked: an account is not tied to it */
		return outcome(res, SSO_NO_AGENT, "This agent is disabled.");
	if (store_agent_link_oid(app->db, a->id, c->oid, &won, err) == -1)
		return -1;
	if (!won)
		return outcome(res, SSO_NO_AGENT,
		    "The agent with this address is linked to another "
		    "Microsoft account.");
	audit_link(app, a, addr);
	log_info("agent %s: linked to a Microsoft account", a->username);
	return outcome(res, SSO_OK, "");
}

static int
finish_with(struct app *app, struct http *h, const struct sso_app *sa,
    const struct sso_callback *cb, const struct sso_login_state *st,
    struct principal *who, char token[CRED_TOKEN_MAX], struct sso_result *res,
    struct err *err)
{
	struct oauth2_tokens t = { 0 };
	struct jwks_claims   c;
	struct agent         a;
	char                 msg[600];
	int                  rc;

	if (cb->error != NULL || cb->code == NULL || cb->code[0] == '\0') {
		snprintf(msg, sizeof msg, "Microsoft did not sign you in: %s",
		    cb->error_description   ? cb->error_description
		        : cb->error != NULL ? cb->error
		                            : "no code in the answer");
		return outcome(res, SSO_DENIED, msg);
	}
	rc = redeem(app, h, sa, cb, st, &t, res, err);
	if (rc == 0 && res->outcome == SSO_OK)
		rc = validate(h, sa, st->nonce, t.id_token, &c, res, err);
	oauth2_tokens_cleanup(&t);
	if (rc == 0 && res->outcome == SSO_OK)
		rc = match_agent(app, sa, &c, &a, res, err);
	if (rc == -1 || res->outcome != SSO_OK)
		return rc;
	if (a.disabled)
		return outcome(res, SSO_NO_AGENT, "This agent is disabled.");
	return authn_session_open(app, &a, cb->addr, who, token, err);
}

/*
 * Finish a sign-in at the callback.  0 with res->outcome SSO_OK, *who the
 * agent and token the session cookie's value; or 0 with the outcome and a
 * message that says why not (nothing was signed in); -1 on an internal
 * error.
 */
int
sso_finish(struct app *app, struct http *h, const struct sso_callback *cb,
    struct principal *who, char token[CRED_TOKEN_MAX], struct sso_result *res,
    struct err *err)
{
	struct sso_login_state st = { 0 };
	struct sso_app         sa = { 0 };
	int                    rc;

	memset(who, 0, sizeof *who);
	memset(res, 0, sizeof *res);
	rc = sso_app_load(app, 1, &sa, err);
	if (rc != 0)
		return rc == 1 ? outcome(res, SSO_OFF,
		                     "Sign in with Microsoft is not set up.")
		               : -1;
	rc = take_state(app, cb, &st, res, err);
	if (rc == 0 && res->outcome == SSO_OK)
		rc = finish_with(app, h, &sa, cb, &st, who, token, res, err);
	store_sso_login_state_cleanup(&st);
	sso_app_cleanup(&sa);
	return rc;
}
