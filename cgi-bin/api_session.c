/*
 * api_session: portal sign-in and sign-out.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "adapt/jsonx.h"

/* 200 {"agent": {…}, "csrf_token"} for who. */
static int
session_answer(struct call *c, const struct principal *who)
{
	struct buf b;
	struct jw  w;

	buf_init(&b, 512);
	jw_init(&w, &b);
	jw_open(&w, '{');
	jw_key(&w, "agent");
	jw_open(&w, '{');
	jw_key(&w, "id");
	jw_int(&w, (long long)who->id);
	jw_key(&w, "username");
	jw_str(&w, who->name);
	jw_key(&w, "display_name");
	jw_str(&w, who->display_name);
	jw_key(&w, "role");
	jw_str(&w, who->role);
	jw_key(&w, "kind");
	jw_str(&w, who->kind == WHO_APIKEY ? "api_key" : "agent");
	jw_close(&w, '}');
	jw_key(&w, "csrf_token");
	if (who->kind == WHO_SESSION)
		jw_str(&w, who->csrf);
	else
		jw_null(&w);
	jw_close(&w, '}');
	web_json_text(c, 200, &b);
	buf_cleanup(&b);
	return 0;
}

static void
set_cookie(struct call *c, const char *token, int max_age)
{
	char v[256];

	snprintf(v, sizeof v,
	    AUTHN_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; Secure; "
	                 "SameSite=Lax",
	    token, max_age);
	resp_header(c->req, "Set-Cookie", v);
}

/* POST /api/session {"username","password"} */
int
api_session_create(struct call *c)
{
	static const char *const fields[] = { "username", "password", NULL };
	char                     token[CRED_TOKEN_MAX], ra[24];
	const char              *user, *pw;
	long long                retry = 0;
	json_t                  *in, *errors = json_array();
	struct err               err;
	int                      rc;

	if (web_body(c, &in) == -1) {
		json_decref(errors);
		return -1;
	}
	jsonx_unknown_fields(in, fields, errors);
	user = jsonx_str(in, "username");
	pw = jsonx_str(in, "password");
	if (user == NULL || user[0] == '\0' || strlen(user) > 64)
		jsonx_field_error(errors, "username", "Enter your username.");
	if (pw == NULL || pw[0] == '\0' || strlen(pw) > 1024)
		jsonx_field_error(errors, "password", "Enter your password.");
	if (json_array_size(errors) > 0) {
		json_decref(in);
		return web_invalid(c, "Enter a username and a password.",
		    errors);
	}
	json_decref(errors);
	rc = authn_login(c->app, user, pw,
	    c->req->remote_addr ? c->req->remote_addr : "", &c->who, token,
	    &retry, &err);
	json_decref(in);
	if (rc == -1) {
		if (err.code == E_RATELIMIT) {
			snprintf(ra, sizeof ra, "%lld", retry);
			resp_header(c->req, "Retry-After", ra);
		}
		return web_error(c, &err);
	}
	set_cookie(c, token, (int)c->app->cfg.session_max_hours * 3600);
	explicit_bzero(token, sizeof token);
	return session_answer(c, &c->who);
}

/* GET /api/session */
int
api_session_get(struct call *c)
{
	return session_answer(c, &c->who);
}

/* DELETE /api/session: sign out (the cookie is cleared either way). */
int
api_session_delete(struct call *c)
{
	struct err err;

	if (c->who.kind != WHO_SESSION)
		return web_problem(c, 400,
		    "Only a portal session can sign out; revoke API keys with "
		    "postdesk-admin revoke-api-key.",
		    NULL);
	if (authn_logout(c->app, c->req, &err) == -1)
		return web_error(c, &err);
	set_cookie(c, "", 0);
	return web_empty(c, 204);
}
