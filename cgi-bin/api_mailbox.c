/*
 * api_mailbox: /api/mailboxes — Configuration > Email > Mailbox Setup.
 * Parse, validate in lib/mailbox.c, seal the secret, store, audit, answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "etag.h"
#include "jsonx.h"
#include "mailbox.h"
#include "seal.h"
#include "store.h"
#include "xmalloc.h"

/* PATCH reads again this often when other writes keep coming first. */
#define UPDATE_TRIES 5

/* Answer with one mailbox's representation and its ETag. */
int
api_mailbox_answer(struct call *c, int status, const struct mailbox *mb)
{
	struct buf b;
	struct jw  w;

	buf_init(&b, 2048);
	jw_init(&w, &b);
	mailbox_write(&w, mb, &c->app->cfg);
	web_etag(c, mb->version);
	web_json_text(c, status, &b);
	buf_cleanup(&b);
	return 0;
}

static int
answer(struct call *c, int status, uint64_t id)
{
	struct mailbox mb;
	struct err     err;

	if (store_mailbox_get(c->app->db, id, &mb, &err) == -1)
		return web_error(c, &err);
	return api_mailbox_answer(c, status, &mb);
}

/* Answers 404 and returns -1 unless mailbox id exists. */
static int
exists(struct call *c, uint64_t id)
{
	struct mailbox mb;
	struct err     err;

	if (store_mailbox_get(c->app->db, id, &mb, &err) == -1)
		return web_error(c, &err);
	return 0;
}

/* Validate in over mb; answers 422 and returns -1 on field errors. */
static int
validate(struct call *c, struct mailbox *mb, json_t *in, int creating,
    char **secret)
{
	json_t *errors = json_array();

	if (mailbox_apply_json(mb, in, creating, secret, errors) > 0)
		return web_problem(c, 422,
		    "Some fields need attention; see errors.",
		    json_pack("{s:o}", "errors", errors));
	json_decref(errors);
	return 0;
}

static int
store_error(struct call *c, struct err *err)
{
	if (err->code == E_CONFLICT)
		return web_problem(c, 409,
		    "A mailbox with this name already exists.",
		    json_pack("{s:[{s:s, s:s}]}", "errors", "field", "name",
		        "message", "This name is already used."));
	return web_error(c, err);
}

/* GET /api/mailboxes */
int
api_mailbox_list(struct call *c)
{
	struct mailbox *mbs;
	size_t          n;
	struct err      err;
	struct buf      b;
	struct jw       w;

	if (store_mailbox_list(c->app->db, &mbs, &n, &err) == -1)
		return web_error(c, &err);
	buf_init(&b, 1024 + n * 1024);
	jw_init(&w, &b);
	jw_open(&w, '{');
	jw_key(&w, "items");
	jw_open(&w, '[');
	for (size_t i = 0; i < n; i++)
		mailbox_write(&w, &mbs[i], &c->app->cfg);
	jw_close(&w, ']');
	jw_close(&w, '}');
	free(mbs);
	web_json_text(c, 200, &b);
	buf_cleanup(&b);
	return 0;
}

/* POST /api/mailboxes */
int
api_mailbox_create(struct call *c)
{
	struct mailbox mb;
	struct buf     sealed = { 0 };
	struct err     err;
	json_t        *in;
	char          *secret = NULL, loc[64];
	uint64_t       id;
	int            rc;

	if (web_body(c, &in) == -1)
		return -1;
	mailbox_defaults(&mb);
	if (validate(c, &mb, in, 1, &secret) == -1) {
		json_decref(in);
		return -1;
	}
	seal(&c->app->key, secret, &sealed);
	xfree_secret(secret);
	rc = store_mailbox_insert(c->app->db, &mb, &sealed, &id, &err);
	buf_cleanup(&sealed);
	if (rc == -1) {
		json_decref(in);
		return store_error(c, &err);
	}
	web_audit(c, "mailbox.create", "mailbox", id, web_fields_of(in));
	json_decref(in);
	snprintf(loc, sizeof loc, "/api/mailboxes/%llu",
	    (unsigned long long)id);
	resp_header(c->req, "Location", loc);
	return answer(c, 201, id);
}

/* GET /api/mailboxes/{id} */
int
api_mailbox_get(struct call *c)
{
	uint64_t id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	return answer(c, 200, id);
}

/*
 * A connection belongs to the credentials it was made with: when the
 * Client ID, Tenant ID, secret or shared address of a connected mailbox
 * change, its tokens are dropped and it needs reauthorising.
 */
static int
require_reauth(struct call *c, const struct mailbox *old,
    const struct mailbox *mb, int new_secret)
{
	struct err err;

	if (strcmp(old->status, "not_connected") == 0 ||
	    strcmp(old->status, "disconnected") == 0)
		return 0;
	if (!new_secret && strcmp(old->client_id, mb->client_id) == 0 &&
	    strcmp(old->tenant_id, mb->tenant_id) == 0 &&
	    strcmp(old->shared_address, mb->shared_address) == 0)
		return 0;
	if (store_mailbox_set_status(c->app->db, mb->id, "needs_reauth", 1,
	        &err) == -1 ||
	    store_mailbox_set_error(c->app->db, mb->id, "settings_changed",
	        "The Client ID, Tenant ID, secret or shared address changed.",
	        "Press Reauthorise and sign in again to connect with the new "
	        "settings.",
	        &err) == -1)
		return web_error(c, &err);
	return 0;
}

/*
 * One read-modify-write of mailbox id: read it, check If-Match, apply in,
 * write only if it is still at the version read (lib/store_mailbox.c).
 * Returns 0 when written, 1 when another write came first and If-Match
 * does not pin a version (read again), -1 when answered.
 */
static int
update_once(struct call *c, uint64_t id, json_t *in)
{
	struct mailbox mb, old;
	struct buf     sealed = { 0 };
	struct err     err;
	char          *secret = NULL;
	int            rc, new_secret;

	if (store_mailbox_get(c->app->db, id, &mb, &err) == -1)
		return web_error(c, &err);
	if (!etag_matches(c->req->if_match, mb.version))
		return web_changed(c, mb.version);
	old = mb;
	if (validate(c, &mb, in, 0, &secret) == -1)
		return -1;
	new_secret = secret != NULL;
	if (new_secret)
		seal(&c->app->key, secret, &sealed);
	xfree_secret(secret);
	rc = store_mailbox_update(c->app->db, &mb, sealed.data ? &sealed : NULL,
	    &err);
	buf_cleanup(&sealed);
	if (rc == -1 && err.code == E_CHANGED) {
		if (!etag_pinned(c->req->if_match))
			return 1;
		if (store_mailbox_get(c->app->db, id, &mb, &err) == -1)
			return web_error(c, &err);
		return web_changed(c, mb.version);
	}
	if (rc == -1)
		return store_error(c, &err);
	return require_reauth(c, &old, &mb, new_secret);
}

/*
 * PATCH /api/mailboxes/{id}: change the fields given.  Two PATCHes at once
 * both land: the one that finds the version moved on reads again.
 */
int
api_mailbox_update(struct call *c)
{
	json_t  *in;
	uint64_t id;
	int      rc = 1;

	if (web_id(c, 0, &id) == -1 || exists(c, id) == -1 ||
	    web_body(c, &in) == -1)
		return -1;
	for (int i = 0; rc == 1 && i < UPDATE_TRIES; i++)
		rc = update_once(c, id, in);
	if (rc == 1)
		rc = web_problem(c, 409,
		    "Other changes to this mailbox kept arriving; try again.",
		    NULL);
	if (rc == 0)
		web_audit(c, "mailbox.update", "mailbox", id,
		    web_fields_of(in));
	json_decref(in);
	return rc == 0 ? answer(c, 200, id) : -1;
}

/* DELETE /api/mailboxes/{id} */
int
api_mailbox_delete(struct call *c)
{
	struct err err;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (store_mailbox_delete(c->app->db, id, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "mailbox.delete", "mailbox", id, NULL);
	return web_json(c, 204, NULL);
}
