/*
 * sso_settings: what an admin sets for "Sign in with Microsoft" (GET and
 * PATCH /api/sso/settings, docs/sso.md) and what follows from it: the app
 * registration sign-in uses, what the login page shows, and whether a
 * password may still sign an agent in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/jsonx.h"
#include "adapt/seal.h"
#include "base/valid.h"
#include "base/xmalloc.h"
#include "domain/sso.h"
#include "domain/sso_app.h"
#include "model/mailbox_types.h"
#include "store/sso.h"
#include "store/store.h"

#define SECRET_MAX 1024

/* A mailbox's app: its client id, tenant (a GUID: the connected tenant
 * when known, else the one configured) and secret.  1 when unusable. */
static int
mailbox_app(struct app *app, uint64_t id, int with_secret, struct sso_app *out,
    struct err *err)
{
	struct mailbox_creds c;
	int                  rc = 1;

	if (store_mailbox_token_get(app->db, id, &c, err) == -1)
		return err->code == E_NOTFOUND ? 1 : -1;
	if (valid_guid(c.tenant) &&
	    oauth2_cloud_of(&app->cfg, c.cloud, &out->cloud) == 0) {
		memcpy(out->tenant, c.tenant, 37); /* a GUID: 36 + NUL */
		snprintf(out->client_id, sizeof out->client_id, "%s",
		    c.client_id);
		rc = 0;
		if (with_secret) {
			out->secret =
			    unseal(&app->key, c.secret.data, c.secret.len, err);
			rc = out->secret == NULL ? -1 : 0;
		}
	}
	store_mailbox_token_cleanup(&c);
	return rc;
}

/*
 * The app sign-in uses: 0 with *out set, 1 when sign-in with Microsoft is
 * off or has no usable app, -1 on an error.  The secret only when asked.
 */
int
sso_app_load(struct app *app, int with_secret, struct sso_app *out,
    struct err *err)
{
	struct sso_settings s;
	int                 rc = 1;

	memset(out, 0, sizeof *out);
	if (store_sso_settings_get(app->db, &s, err) == -1)
		return -1;
	out->allow_address_match = s.allow_address_match;
	if (!s.enabled) {
		rc = 1;
	} else if (s.mailbox_id != 0) {
		rc = mailbox_app(app, s.mailbox_id, with_secret, out, err);
	} else if (valid_guid(s.tenant_id) && s.client_id[0] && s.secret.len &&
	    oauth2_cloud_of(&app->cfg, "global", &out->cloud) == 0) {
		snprintf(out->tenant, sizeof out->tenant, "%s", s.tenant_id);
		snprintf(out->client_id, sizeof out->client_id, "%s",
		    s.client_id);
		rc = 0;
		if (with_secret) {
			out->secret =
			    unseal(&app->key, s.secret.data, s.secret.len, err);
			rc = out->secret == NULL ? -1 : 0;
		}
	}
	store_sso_settings_cleanup(&s);
	return rc;
}

void
sso_app_cleanup(struct sso_app *a)
{
	xfree_secret(a->secret);
	a->secret = NULL;
}

/* *allowed: may agent_id sign in with a password?  Not when Microsoft
 * sign-in is required, unless it is the break-glass admin. */
int
sso_password_allowed(struct app *app, uint64_t agent_id, int *allowed,
    struct err *err)
{
	struct sso_settings s;

	if (store_sso_settings_get(app->db, &s, err) == -1)
		return -1;
	*allowed = !(s.enabled && s.require_microsoft) ||
	    s.break_glass_agent_id == agent_id;
	store_sso_settings_cleanup(&s);
	return 0;
}

/* GET /api/sso: {"enabled", "required"} for the login page. */
int
sso_public(struct app *app, struct buf *out, struct err *err)
{
	struct sso_settings s;
	struct sso_app      a;
	struct jw           w;
	int                 rc = sso_app_load(app, 0, &a, err);

	if (rc == -1 || store_sso_settings_get(app->db, &s, err) == -1)
		return -1;
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "enabled");
	jw_bool(&w, rc == 0);
	jw_key(&w, "required");
	jw_bool(&w, rc == 0 && s.require_microsoft);
	jw_close(&w, '}');
	store_sso_settings_cleanup(&s);
	sso_app_cleanup(&a);
	return 0;
}

static void
jw_id_or_null(struct jw *w, const char *key, uint64_t id)
{
	jw_key(w, key);
	if (id)
		jw_int(w, (long long)id);
	else
		jw_null(w);
}

/* GET /api/sso/settings (the secret never: only whether one is set). */
int
sso_settings_json(struct app *app, struct buf *out, struct err *err)
{
	struct sso_settings s;
	struct jw           w;
	char                uri[1200];

	if (store_sso_settings_get(app->db, &s, err) == -1)
		return -1;
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "enabled");
	jw_bool(&w, s.enabled);
	jw_id_or_null(&w, "mailbox_id", s.mailbox_id);
	jw_key(&w, "tenant_id");
	jw_str(&w, s.tenant_id);
	jw_key(&w, "client_id");
	jw_str(&w, s.client_id);
	jw_key(&w, "secret_set");
	jw_bool(&w, s.secret.len > 0);
	jw_key(&w, "allow_address_match");
	jw_bool(&w, s.allow_address_match);
	jw_key(&w, "require_microsoft");
	jw_bool(&w, s.require_microsoft);
	jw_id_or_null(&w, "break_glass_agent_id", s.break_glass_agent_id);
	jw_key(&w, "redirect_uri"); /* to add in Azure (docs/sso.md) */
	snprintf(uri, sizeof uri, "%s%s", app->cfg.portal_url,
	    SSO_CALLBACK_PATH);
	jw_str(&w, uri);
	jw_key(&w, "version");
	jw_int(&w, (long long)s.version);
	jw_key(&w, "updated_at");
	if (s.updated_at[0])
		jw_str(&w, s.updated_at);
	else
		jw_null(&w);
	jw_close(&w, '}');
	store_sso_settings_cleanup(&s);
	return 0;
}

/* A boolean member: kept when absent; a field error when not a bool. */
static void
take_bool(json_t *in, const char *key, int *dst, json_t *errors)
{
	json_t *v = json_object_get(in, key);

	if (v == NULL)
		return;
	if (!json_is_boolean(v))
		jsonx_field_error(errors, key, "Must be true or false.");
	else
		*dst = json_is_true(v);
}

/* An id member (a positive integer, or null for none). */
static void
take_id(json_t *in, const char *key, uint64_t *dst, json_t *errors)
{
	json_t *v = json_object_get(in, key);

	if (v == NULL)
		return;
	if (json_is_null(v))
		*dst = 0;
	else if (!json_is_integer(v) || json_integer_value(v) <= 0)
		jsonx_field_error(errors, key, "Must be an id, or null.");
	else
		*dst = (uint64_t)json_integer_value(v);
}

/* A GUID member ("" clears it). */
static void
take_guid(json_t *in, const char *key, char *dst, size_t size, json_t *errors)
{
	json_t     *v = json_object_get(in, key);
	const char *s = json_string_value(v);

	if (v == NULL)
		return;
	if (s == NULL || (s[0] != '\0' && !valid_guid(s)))
		jsonx_field_error(errors, key,
		    "Must be a GUID such as "
		    "00000000-0000-0000-0000-000000000000, or empty.");
	else
		snprintf(dst, size, "%s", s);
}

/* The secret member: sealed into s->secret; *changed when given. */
static void
take_secret(struct app *app, json_t *in, struct sso_settings *s, int *changed,
    json_t *errors)
{
	json_t     *v = json_object_get(in, "secret");
	const char *p = json_string_value(v);

	if (v == NULL)
		return;
	if (p == NULL || strlen(p) > SECRET_MAX || jsonx_has_control(p)) {
		jsonx_field_error(errors, "secret",
		    "Must be the client secret's value (text), or empty.");
		return;
	}
	buf_reset(&s->secret);
	if (p[0] != '\0')
		seal(&app->key, p, &s->secret);
	*changed = 1;
}

/* The rules between the fields, on the merged settings. */
static int
check(struct app *app, const struct sso_settings *s, json_t *errors,
    struct err *err)
{
	struct mailbox_creds c;
	struct agent         a;

	if (s->mailbox_id != 0) {
		if (store_mailbox_token_get(app->db, s->mailbox_id, &c, err) ==
		    -1) {
			if (err->code != E_NOTFOUND)
				return -1;
			jsonx_field_error(errors, "mailbox_id",
			    "There is no mailbox with this id.");
		} else {
			if (!valid_guid(c.tenant))
				jsonx_field_error(errors, "mailbox_id",
				    "This mailbox's tenant is a domain name; "
				    "connect it first, or give its tenant ID "
				    "(a GUID).");
			store_mailbox_token_cleanup(&c);
		}
	} else if (s->enabled) {
		if (s->tenant_id[0] == '\0')
			jsonx_field_error(errors, "tenant_id",
			    "Give the tenant ID, or choose a mailbox's app.");
		if (s->client_id[0] == '\0')
			jsonx_field_error(errors, "client_id",
			    "Give the application (client) ID, or choose a "
			    "mailbox's app.");
		if (s->secret.len == 0)
			jsonx_field_error(errors, "secret",
			    "Give the client secret, or choose a mailbox's "
			    "app.");
	}
	if (!s->require_microsoft)
		return 0;
	if (!s->enabled)
		jsonx_field_error(errors, "require_microsoft",
		    "Turn sign-in with Microsoft on first.");
	if (s->break_glass_agent_id == 0)
		jsonx_field_error(errors, "break_glass_agent_id",
		    "Choose the administrator who may still sign in with a "
		    "password.");
	else if (store_agent_by_id(app->db, s->break_glass_agent_id, &a, err) ==
	    -1) {
		if (err->code != E_NOTFOUND)
			return -1;
		jsonx_field_error(errors, "break_glass_agent_id",
		    "There is no agent with this id.");
	} else if (strcmp(a.role, "admin") != 0 || a.disabled) {
		jsonx_field_error(errors, "break_glass_agent_id",
		    "Must be an enabled administrator.");
	}
	return 0;
}

/*
 * PATCH /api/sso/settings: the fields of in that are given are changed.
 * 0 when saved; 0 with field errors in errors (nothing saved); -1 on an
 * internal error.
 */
int
sso_settings_update(struct app *app, json_t *in, json_t *errors,
    struct err *err)
{
	static const char *const fields[] = { "enabled", "mailbox_id",
		"tenant_id", "client_id", "secret", "allow_address_match",
		"require_microsoft", "break_glass_agent_id", NULL };
	struct sso_settings      s;
	int                      changed = 0, rc = 0;

	if (store_sso_settings_get(app->db, &s, err) == -1)
		return -1;
	jsonx_unknown_fields(in, fields, errors);
	take_bool(in, "enabled", &s.enabled, errors);
	take_id(in, "mailbox_id", &s.mailbox_id, errors);
	take_guid(in, "tenant_id", s.tenant_id, sizeof s.tenant_id, errors);
	take_guid(in, "client_id", s.client_id, sizeof s.client_id, errors);
	take_secret(app, in, &s, &changed, errors);
	take_bool(in, "allow_address_match", &s.allow_address_match, errors);
	take_bool(in, "require_microsoft", &s.require_microsoft, errors);
	take_id(in, "break_glass_agent_id", &s.break_glass_agent_id, errors);
	if (json_array_size(errors) == 0)
		rc = check(app, &s, errors, err);
	if (rc == 0 && json_array_size(errors) == 0)
		rc = store_sso_settings_put(app->db, &s, changed, err);
	store_sso_settings_cleanup(&s);
	return rc;
}
