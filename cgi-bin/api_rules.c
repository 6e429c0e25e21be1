/*
 * api_rules: /api/rules — Configuration > Email > Email Rules.  Parse the
 * request, let lib/domain/rules_admin.c validate and store, audit, answer; and
 * the dry run (lib/domain/rules_dryrun.c), which replays the last 100 incoming
 * emails through a rule set and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "domain/rules_dryrun.h"
#include "domain/rules_admin.h"

/* Rule id with its ETag. */
static int
answer(struct call *c, int status, uint64_t id)
{
	struct buf b;
	struct err err;
	uint64_t   version;
	int        rc;

	buf_init(&b, 1024);
	rc = rules_admin_show(c->app->db, id, &b, &version, &err);
	if (rc == 0)
		web_etag(c, version);
	return web_reply(c, status, rc, &b, &err);
}

/* The answer for a failed create or update. */
static int
refused(struct call *c, json_t *errors, uint64_t version, const struct err *err)
{
	if (err->code == E_CHANGED) {
		json_decref(errors);
		return web_changed(c, version);
	}
	if (json_array_size(errors) > 0)
		return web_invalid(c, RULES_INVALID, errors);
	json_decref(errors);
	return web_error(c, err);
}

/* GET /api/rules: every rule in the order they run. */
int
api_rule_list(struct call *c)
{
	struct buf b;
	struct err err;

	buf_init(&b, 4096);
	return web_reply(c, 200, rules_admin_list(c->app->db, &b, &err), &b,
	    &err);
}

/* POST /api/rules; without a position the rule goes last. */
int
api_rule_create(struct call *c)
{
	struct err err;
	json_t    *in, *errors;
	char       loc[64];
	uint64_t   id = 0;

	if (web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	if (rules_admin_create(c->app->db, in, errors, &id, &err) == -1) {
		json_decref(in);
		return refused(c, errors, 0, &err);
	}
	json_decref(errors);
	web_audit(c, "rule.create", "email_rule", id, web_fields_of(in));
	json_decref(in);
	snprintf(loc, sizeof loc, "/api/rules/%llu", (unsigned long long)id);
	resp_header(c->req, "Location", loc);
	return answer(c, 201, id);
}

/* GET /api/rules/{id} */
int
api_rule_get(struct call *c)
{
	uint64_t id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	return answer(c, 200, id);
}

/*
 * PATCH /api/rules/{id}: change the fields given.  Two PATCHes at once
 * both land: the one that finds the version moved on reads again.
 */
int
api_rule_update(struct call *c)
{
	struct err err;
	json_t    *in, *errors;
	uint64_t   id, version = 0;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (rules_admin_version(c->app->db, id, &version, &err) == -1)
		return web_error(c, &err);
	if (web_body(c, &in) == -1)
		return -1;
	errors = json_array();
	if (rules_admin_update(c->app->db, id, in, c->req->if_match, errors,
	        &version, &err) == -1) {
		json_decref(in);
		return refused(c, errors, version, &err);
	}
	json_decref(errors);
	web_audit(c, "rule.update", "email_rule", id, web_fields_of(in));
	json_decref(in);
	return answer(c, 200, id);
}

/* DELETE /api/rules/{id} */
int
api_rule_delete(struct call *c)
{
	struct err err;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (rules_admin_delete(c->app->db, id, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "rule.delete", "email_rule", id, NULL);
	return web_empty(c, 204);
}

/*
 * POST /api/rules/dry-run: body {"rules": [...]} tries that rule set;
 * no body (or no "rules") tries the stored, enabled rules.
 */
int
api_rule_dry_run(struct call *c)
{
	struct dry_run d = { .synthetic = UINT64_MAX };
	struct buf     b;
	struct err     err;
	json_t        *in = NULL, *errors = json_array();
	int            rc = -1;

	/* No body (Content-Length 0, whatever the type) tries the stored
	 * rules; nginx passes CONTENT_TYPE "" when there is none. */
	if ((c->req->content_length > 0 ||
	        (c->req->content_length < 0 && c->req->content_type != NULL &&
	            c->req->content_type[0])) &&
	    web_body(c, &in) == -1)
		goto out;
	if (in != NULL && json_object_size(in) > 0) {
		if (rule_dryrun_parse(in, &d, errors) > 0) {
			web_invalid(c, "Some rules need attention; see errors.",
			    errors);
			errors = NULL;
			goto out;
		}
	} else if (rule_dryrun_stored(c->app->db, &d, &err) == -1) {
		web_error(c, &err);
		goto out;
	}
	buf_init(&b, 65536);
	rc = web_reply(c, 200, rule_dryrun_answer(c->app->db, &d, &b, &err), &b,
	    &err);
out:
	json_decref(errors);
	rule_dryrun_free(&d);
	json_decref(in);
	return rc;
}
