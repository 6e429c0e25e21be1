/*
 * api_sso: "Sign in with Microsoft" (lib/domain/sso.c, docs/sso.md) — the
 * login page's question whether it is on, the start of a sign-in (302 to
 * Microsoft), the callback Microsoft sends the browser back to (302 to
 * the portal, signed in or with the reason on the login page), and the
 * admins' settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "adapt/http.h"
#include "base/log.h"
#include "domain/sso.h"

/* Set or clear (max_age 0) one of the __Host- cookies. */
static void
cookie(struct call *c, const char *name, const char *value, int max_age)
{
	char v[256];

	snprintf(v, sizeof v,
	    "%s=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Lax", name,
	    value, max_age);
	resp_header(c->req, "Set-Cookie", v);
}

/* 302 to the portal: its home, or the login page saying what failed. */
static int
to_portal(struct call *c, enum sso_outcome o)
{
	char loc[1200];

	if (o == SSO_OK)
		snprintf(loc, sizeof loc, "%s/", c->app->cfg.portal_url);
	else
		snprintf(loc, sizeof loc, "%s/#/login?sso_error=%s",
		    c->app->cfg.portal_url, sso_outcome_slug(o));
	resp_header(c->req, "Location", loc);
	resp_header(c->req, "Cache-Control", "no-store");
	resp_send(c->req, 302, NULL, NULL, 0);
	return 0;
}

/* GET /api/sso: {"enabled", "required"}, for the login page. */
int
api_sso_public(struct call *c)
{
	struct buf b;
	struct err err;

	buf_init(&b, 64);
	return web_reply(c, 200, sso_public(c->app, &b, &err), &b, &err);
}

/* GET /api/sso/start: 302 to Microsoft's sign-in page. */
int
api_sso_start(struct call *c)
{
	char             browser[CRED_TOKEN_MAX];
	enum sso_outcome o;
	struct buf       url;
	struct err       err;

	buf_init(&url, 1024);
	if (sso_start(c->app, &url, browser, &o, &err) == -1) {
		buf_cleanup(&url);
		return web_error(c, &err);
	}
	if (o != SSO_OK) {
		buf_cleanup(&url);
		return to_portal(c, o);
	}
	cookie(c, SSO_BROWSER_COOKIE, browser, 600);
	explicit_bzero(browser, sizeof browser);
	resp_header(c->req, "Location", url.data);
	resp_header(c->req, "Cache-Control", "no-store");
	resp_send(c->req, 302, NULL, NULL, 0);
	buf_cleanup(&url);
	return 0;
}

/* GET /api/sso/callback?state&code (or error): sign in, back to the portal. */
int
api_sso_callback(struct call *c)
{
	struct sso_callback cb = { 0 };
	struct sso_result   res;
	struct err          err;
	struct http        *h;
	char                token[CRED_TOKEN_MAX];
	char               *state = req_query(c->req, "state");
	char               *code = req_query(c->req, "code");
	char               *error = req_query(c->req, "error");
	char               *desc = req_query(c->req, "error_description");
	char               *browser = req_cookie(c->req, SSO_BROWSER_COOKIE);
	int                 rc = -1;

	cb.state = state;
	cb.code = code;
	cb.error = error;
	cb.error_description = desc;
	cb.browser = browser;
	cb.addr = c->req->remote_addr ? c->req->remote_addr : "";
	h = app_http_request(c->app, &err);
	if (h != NULL)
		rc = sso_finish(c->app, h, &cb, &c->who, token, &res, &err);
	cookie(c, SSO_BROWSER_COOKIE, "", 0);
	if (rc == -1) {
		log_err("sign-in with Microsoft: %s",
		    err.detail[0] ? err.detail : err.msg);
		to_portal(c, (enum sso_outcome) - 1);
	} else if (res.outcome != SSO_OK) {
		log_warn("sign-in with Microsoft refused (%s): %s",
		    sso_outcome_slug(res.outcome), res.message);
		to_portal(c, res.outcome);
	} else {
		cookie(c, AUTHN_COOKIE, token,
		    (int)c->app->cfg.session_max_hours * 3600);
		explicit_bzero(token, sizeof token);
		to_portal(c, SSO_OK);
	}
	free(state);
	if (code != NULL)
		explicit_bzero(code, strlen(code));
	free(code);
	free(error);
	free(desc);
	free(browser);
	return 0;
}

/* GET /api/sso/settings */
int
api_sso_settings_get(struct call *c)
{
	struct buf b;
	struct err err;

	buf_init(&b, 512);
	return web_reply(c, 200, sso_settings_json(c->app, &b, &err), &b, &err);
}

/* PATCH /api/sso/settings: the fields given are changed. */
int
api_sso_settings_update(struct call *c)
{
	json_t    *in, *errors;
	struct err err;

	if (web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	if (sso_settings_update(c->app, in, errors, &err) == -1) {
		json_decref(in);
		json_decref(errors);
		return web_error(c, &err);
	}
	if (json_array_size(errors) > 0) {
		json_decref(in);
		return web_invalid(c, "Some settings are not valid.", errors);
	}
	json_decref(errors);
	web_audit(c, "sso.update", "sso_settings", 1, web_fields_of(in));
	json_decref(in);
	return api_sso_settings_get(c);
}
