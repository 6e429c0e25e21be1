/*
 * api_mailbox: /api/mailboxes — Configuration > Email > Mailbox Setup.
 * Parse, call lib/domain/mailbox_state.c, answer.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "adapt/jsonx.h"
#include "domain/mailbox.h"
#include "domain/mailbox_cred.h"
#include "domain/mailbox_state.h"
#include "base/xmalloc.h"

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
	int            rc;

	if (mailbox_get(c->app, id, &mb, &err) == -1)
		return web_error(c, &err);
	rc = api_mailbox_answer(c, status, &mb);
	mailbox_cleanup(&mb);
	return rc;
}

/* The answer for a refused create or update: 422 or 409 with the fields
 * in errors (stolen), else err's. */
static int
refused(struct call *c, const struct err *err, json_t *errors)
{
	struct buf b;
	struct jw  w;

	if (json_array_size(errors) > 0 && err->code == E_INVALID)
		return web_invalid(c, err->msg, errors);
	if (json_array_size(errors) == 0 || err->code != E_CONFLICT) {
		json_decref(errors);
		return web_error(c, err);
	}
	buf_init(&b, 512); /* 409: the name is taken */
	jw_init(&w, &b);
	web_problem_begin(c, &w, 409, err->msg);
	jw_key(&w, "errors");
	jw_json(&w, errors);
	json_decref(errors);
	web_problem_end(c, &w, 409);
	buf_cleanup(&b);
	return -1;
}

/* The mailboxes a prefetch read with the caller's key. */
struct mailbox_rows {
	struct mailbox *mbs;
	size_t          n;
};

static void
rows_free(void *p)
{
	struct mailbox_rows *rows = p;

	mailbox_list_free(rows->mbs, rows->n);
	free(rows);
}

/*
 * The prefetch of GET /api/mailboxes (lib/web/web.h): with an admin's API
 * key, the key and the list come in one statement, so the hot list costs
 * one database round trip; any other caller is identified as usual.
 */
int
api_mailbox_list_prefetch(struct call *c, const unsigned char *key_hash,
    struct err *err)
{
	struct mailbox_rows *rows = xcalloc(1, sizeof *rows);
	int rc = mailbox_list_for_key(c->app, key_hash, &c->who, &rows->mbs,
	    &rows->n, err);

	if (rc != 0) {
		free(rows);
		return rc == 1 ? authn_request(c->app, c->req, &c->who, err)
		               : -1;
	}
	c->prefetched = rows;
	c->prefetched_free = rows_free;
	return 0;
}

/* GET /api/mailboxes */
int
api_mailbox_list(struct call *c)
{
	struct mailbox_rows *rows = c->prefetched;
	struct mailbox      *mbs;
	size_t               n;
	struct err           err;
	struct buf           b;
	struct jw            w;

	if (rows != NULL) {
		mbs = rows->mbs;
		n = rows->n;
		rows->mbs = NULL; /* freed here */
		rows->n = 0;
	} else if (mailbox_list(c->app, &mbs, &n, &err) == -1) {
		return web_error(c, &err);
	}
	buf_init(&b, 1024 + n * 1024);
	jw_init(&w, &b);
	jw_open(&w, '{');
	jw_key(&w, "items");
	jw_open(&w, '[');
	for (size_t i = 0; i < n; i++)
		mailbox_write(&w, &mbs[i], &c->app->cfg);
	jw_close(&w, ']');
	jw_close(&w, '}');
	mailbox_list_free(mbs, n);
	web_json_text(c, 200, &b);
	buf_cleanup(&b);
	return 0;
}

/* POST /api/mailboxes */
int
api_mailbox_create(struct call *c)
{
	struct err err;
	json_t    *in, *errors;
	char       loc[64];
	uint64_t   id;

	if (web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	if (mailbox_create(c->app, in, &id, errors, &err) == -1) {
		json_decref(in);
		return refused(c, &err, errors);
	}
	json_decref(errors);
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

/* PATCH /api/mailboxes/{id}: change the fields given. */
int
api_mailbox_update(struct call *c)
{
	struct err err;
	json_t    *in, *errors;
	uint64_t   id, version;
	int        rc;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (mailbox_exists(c->app, id, &err) == -1)
		return web_error(c, &err);
	if (web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	rc = mailbox_patch(c->app, id, in, c->req->if_match, &version, errors,
	    &err);
	if (rc == 0)
		web_audit(c, "mailbox.update", "mailbox", id,
		    web_fields_of(in));
	json_decref(in);
	if (rc == 0) {
		json_decref(errors);
		return answer(c, 200, id);
	}
	if (err.code == E_CHANGED) {
		json_decref(errors);
		return web_changed(c, version);
	}
	return refused(c, &err, errors);
}

/* DELETE /api/mailboxes/{id} */
int
api_mailbox_delete(struct call *c)
{
	struct err err;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (mailbox_delete(c->app, id, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "mailbox.delete", "mailbox", id, NULL);
	return web_empty(c, 204);
}

/* PUT /api/mailboxes/{id}/credential: a client secret or a certificate
 * (generated or uploaded); the answer is the mailbox, never the key. */
int
api_mailbox_credential(struct call *c)
{
	struct err err;
	json_t    *in, *errors, *detail;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (mailbox_exists(c->app, id, &err) == -1)
		return web_error(c, &err);
	if (web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	if (mailbox_credential_put(c->app, id, in, errors, &err) == -1) {
		json_decref(in);
		return refused(c, &err, errors);
	}
	json_decref(errors);
	/* the audit names the choice, never a secret or key */
	detail = json_pack("{s:s?, s:b}", "type", jsonx_str(in, "type"),
	    "generated", json_is_true(json_object_get(in, "generate")));
	web_audit(c, "mailbox.credential", "mailbox", id, detail);
	json_decref(in);
	return answer(c, 200, id);
}

/* GET /api/mailboxes/{id}/certificate.cer: the certificate (DER) to
 * upload under Certificates & secrets in Azure. */
int
api_mailbox_certificate(struct call *c)
{
	struct err err;
	struct buf der;
	char       cd[96];
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	buf_init(&der, 2048);
	if (mailbox_certificate_der(c->app, id, &der, &err) == -1) {
		buf_cleanup(&der);
		return web_error(c, &err);
	}
	snprintf(cd, sizeof cd,
	    "attachment; filename=\"postdesk-mailbox-%llu.cer\"",
	    (unsigned long long)id);
	resp_header(c->req, "Content-Disposition", cd);
	resp_header(c->req, "X-Content-Type-Options", "nosniff");
	resp_send(c->req, 200, "application/pkix-cert", der.data, der.len);
	buf_cleanup(&der);
	return 0;
}
