/*
 * api_rules: /api/rules — Configuration > Email > Email Rules.  Parse,
 * validate in lib/rules_json.c, store, audit, answer; and the dry run,
 * which replays the last 100 incoming emails through a rule set and
 * changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "etag.h"
#include "jsonx.h"
#include "log.h"
#include "rules.h"
#include "store.h"
#include "xmalloc.h"

#define DRY_RUN_MAILS 100
#define DRY_RUN_RULES 200
#define UPDATE_TRIES  5 /* PATCH reads again when other writes came first */

/* A rule set to try; ids from synthetic on were made up for rules given
 * without one (the API shows null for them). */
struct dry {
	struct rule *rs;
	size_t       n;
	uint64_t     synthetic;
};

/* The API representation of a stored row. */
static json_t *
row_json(const struct email_rule *row)
{
	struct rule r;
	struct err  err;
	json_t     *j;

	if (rules_from_row(row, &r, &err) == -1)
		log_warn("email rule %llu is not valid: %s",
		    (unsigned long long)row->id, err.msg);
	j = rules_to_json(&r);
	rules_cleanup(&r);
	json_object_set_new(j, "created_at", json_string(row->created_at));
	json_object_set_new(j, "updated_at", json_string(row->updated_at));
	return j;
}

static int
answer(struct call *c, int status, uint64_t id)
{
	struct email_rule row;
	struct err        err;
	int               rc;

	if (store_rule_get(c->app->db, id, &row, &err) == -1) {
		store_rule_cleanup(&row);
		return web_error(c, &err);
	}
	web_etag(c, row.version);
	rc = web_json(c, status, row_json(&row));
	store_rule_cleanup(&row);
	return rc;
}

/* A field error unless mailbox id exists; -1 on a database failure. */
static int
check_mailbox(struct call *c, uint64_t id, const char *field, json_t *errors,
    struct err *err)
{
	struct mailbox mb;

	if (id == 0 || store_mailbox_get(c->app->db, id, &mb, err) == 0)
		return 0;
	if (err->code != E_NOTFOUND)
		return -1;
	jsonx_field_error(errors, field,
	    "There is no mailbox %llu; use null to apply to every mailbox.",
	    (unsigned long long)id);
	return 0;
}

/* Validate in over r; answers 422 (or 5xx) and returns -1 when bad. */
static int
validate(struct call *c, struct rule *r, json_t *in, int creating)
{
	json_t    *errors = json_array();
	struct err err;

	rules_parse_json(in, creating, r, errors);
	if (json_object_get(in, "mailbox_id") != NULL &&
	    check_mailbox(c, r->mailbox_id, "mailbox_id", errors, &err) == -1) {
		json_decref(errors);
		return web_error(c, &err);
	}
	if (json_array_size(errors) > 0)
		return web_problem(c, 422,
		    "Some fields need attention; see errors.",
		    json_pack("{s:o}", "errors", errors));
	json_decref(errors);
	return 0;
}

/* GET /api/rules: every rule in the order they run. */
int
api_rule_list(struct call *c)
{
	struct email_rule *rows;
	size_t             n;
	struct err         err;
	json_t            *items;

	if (store_rule_list(c->app->db, 0, &rows, &n, &err) == -1) {
		store_rule_free(rows, n);
		return web_error(c, &err);
	}
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, row_json(&rows[i]));
	store_rule_free(rows, n);
	return web_json(c, 200, json_pack("{s:o}", "items", items));
}

/*
 * Store r: insert when its id is 0, else update it if still at version
 * (lib/store_rule.c).  Returns 0, 1 when another write came first and
 * If-Match does not pin a version (read again), -1 when answered.
 */
static int
save(struct call *c, struct rule *r, uint64_t version, uint64_t *id)
{
	struct email_rule row;
	struct err        err;
	int               rc;

	if (rules_to_row(r, &row, &err) == -1)
		return web_error(c, &err);
	row.version = version;
	if (r->id == 0)
		rc = store_rule_insert(c->app->db, &row, id, &err);
	else
		rc = store_rule_update(c->app->db, &row, &err);
	store_rule_cleanup(&row);
	if (rc == 0)
		return 0;
	if (err.code != E_CHANGED)
		return web_error(c, &err);
	if (!etag_pinned(c->req->if_match))
		return 1;
	if (store_rule_get(c->app->db, r->id, &row, &err) == -1)
		rc = web_error(c, &err);
	else
		rc = web_changed(c, row.version);
	store_rule_cleanup(&row);
	return rc;
}

/* POST /api/rules; without a position the rule goes last. */
int
api_rule_create(struct call *c)
{
	struct rule r;
	struct err  err;
	json_t     *in;
	char        loc[64];
	uint64_t    id = 0;
	int         rc = -1;

	if (web_body(c, &in) == -1)
		return -1;
	rules_defaults(&r);
	if (validate(c, &r, in, 1) == -1)
		goto out;
	if (json_object_get(in, "position") == NULL) {
		if (store_rule_next_position(c->app->db, &r.position, &err) ==
		    -1) {
			web_error(c, &err);
			goto out;
		}
		if (r.position > 1000000)
			r.position = 1000000;
	}
	if (save(c, &r, 0, &id) == -1)
		goto out;
	web_audit(c, "rule.create", "email_rule", id, web_fields_of(in));
	snprintf(loc, sizeof loc, "/api/rules/%llu", (unsigned long long)id);
	resp_header(c->req, "Location", loc);
	rc = answer(c, 201, id);
out:
	rules_cleanup(&r);
	json_decref(in);
	return rc;
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
 * One read-modify-write of rule id: read it, check If-Match, apply in,
 * write only if it is still at the version read.  Returns as save().
 */
static int
update_once(struct call *c, uint64_t id, json_t *in)
{
	struct email_rule row;
	struct rule       r = { 0 };
	struct err        err;
	int               rc = -1;

	if (store_rule_get(c->app->db, id, &row, &err) == -1) {
		web_error(c, &err);
		goto out;
	}
	if (!etag_matches(c->req->if_match, row.version)) {
		web_changed(c, row.version);
		goto out;
	}
	/* A stored rule that no longer parses is mended by this PATCH. */
	rules_from_row(&row, &r, &err);
	if (validate(c, &r, in, 0) == -1)
		goto out;
	if (r.nconds == 0) {
		web_problem(c, 422, "Some fields need attention; see errors.",
		    json_pack("{s:[{s:s, s:s}]}", "errors", "field",
		        "conditions", "message", "Give 1 to 20 conditions."));
		goto out;
	}
	rc = save(c, &r, row.version, &id);
out:
	rules_cleanup(&r);
	store_rule_cleanup(&row);
	return rc;
}

/*
 * PATCH /api/rules/{id}: change the fields given.  Two PATCHes at once
 * both land: the one that finds the version moved on reads again.
 */
int
api_rule_update(struct call *c)
{
	struct email_rule row;
	struct err        err;
	json_t           *in;
	uint64_t          id;
	int               rc;

	if (web_id(c, 0, &id) == -1)
		return -1;
	rc = store_rule_get(c->app->db, id, &row, &err);
	store_rule_cleanup(&row);
	if (rc == -1)
		return web_error(c, &err);
	if (web_body(c, &in) == -1)
		return -1;
	rc = 1;
	for (int i = 0; rc == 1 && i < UPDATE_TRIES; i++)
		rc = update_once(c, id, in);
	if (rc == 1)
		rc = web_problem(c, 409,
		    "Other changes to this rule kept arriving; try again.",
		    NULL);
	if (rc == 0)
		web_audit(c, "rule.update", "email_rule", id,
		    web_fields_of(in));
	json_decref(in);
	return rc == 0 ? answer(c, 200, id) : -1;
}

/* DELETE /api/rules/{id} */
int
api_rule_delete(struct call *c)
{
	struct err err;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (store_rule_delete(c->app->db, id, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "rule.delete", "email_rule", id, NULL);
	return web_json(c, 204, NULL);
}

/* --- POST /api/rules/dry-run ------------------------------------------ */

static json_t *
str_or_null(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	return v ? v : json_null();
}

/* Copy errors of one rule into all, fields prefixed with "rules[i]." */
static void
prefix_errors(json_t *all, json_t *errors, size_t i)
{
	size_t  k;
	json_t *e;
	char    field[160];

	json_array_foreach (errors, k, e) {
		const char *f = jsonx_str(e, "field");

		snprintf(field, sizeof field, "rules[%zu]%s%.100s", i,
		    f[0] ? "." : "", f);
		jsonx_field_error(all, field, "%s", jsonx_str(e, "message"));
	}
	json_array_clear(errors);
}

/*
 * One rule object of a dry-run body into r: as for POST, plus an optional
 * "id" (a stored rule being edited); created_at and updated_at are
 * ignored.  Returns the id given, or 0.
 */
static uint64_t
dry_rule(json_t *obj, size_t i, struct rule *r, json_t *all)
{
	json_t    *in = json_is_object(obj) ? json_copy(obj) : NULL;
	json_t    *errors = json_array(), *id;
	json_int_t v = 0;

	rules_defaults(r);
	if (in == NULL) {
		jsonx_field_error(errors, "", "Must be a rule object.");
		prefix_errors(all, errors, i);
		json_decref(errors);
		return 0;
	}
	id = json_object_get(in, "id");
	if (id != NULL) {
		v = json_integer_value(id);
		if (!json_is_integer(id) || v <= 0)
			jsonx_field_error(errors, "id",
			    "Must be the id of a stored rule, or absent.");
		json_object_del(in, "id");
	}
	json_object_del(in, "created_at");
	json_object_del(in, "updated_at");
	rules_parse_json(in, 1, r, errors);
	prefix_errors(all, errors, i);
	json_decref(errors);
	json_decref(in);
	return v > 0 ? (uint64_t)v : 0;
}

/*
 * The rule set of a dry-run body into d (caller frees d->rs with
 * rules_free()); rules without an id get ids above every given one.
 * Returns 0, or -1 after answering 422.
 */
static int
dry_body_rules(struct call *c, json_t *in, struct dry *d)
{
	static const char *const fields[] = { "rules", NULL };
	json_t                  *list = json_object_get(in, "rules");
	json_t                  *all = json_array();
	uint64_t                 max = 0;
	struct rule            **rs = &d->rs;
	size_t                  *n = &d->n;

	*n = json_array_size(list);
	*rs = xcalloc(*n, sizeof **rs);
	jsonx_unknown_fields(in, fields, all);
	if (list != NULL && (!json_is_array(list) || *n > DRY_RUN_RULES)) {
		jsonx_field_error(all, "rules",
		    "Give an array of up to 200 rules, or leave it out to try "
		    "the stored rules.");
		*n = 0;
	}
	for (size_t i = 0; i < *n; i++) {
		(*rs)[i].id =
		    dry_rule(json_array_get(list, i), i, &(*rs)[i], all);
		max = (*rs)[i].id > max ? (*rs)[i].id : max;
	}
	d->synthetic = max + 1;
	for (size_t i = 0; i < *n; i++)
		if ((*rs)[i].id == 0)
			(*rs)[i].id = max + 1 + i;
	if (json_array_size(all) == 0) {
		json_decref(all);
		return 0;
	}
	return web_problem(c, 422, "Some rules need attention; see errors.",
	    json_pack("{s:o}", "errors", all));
}

/* Run the rules on stored mail `row` of res; fills the item. */
static void
dry_apply(struct call *c, const struct dry *d, const struct db_res *res,
    size_t row, json_t *item)
{
	struct buf           src, trace, would;
	struct rules_verdict vd = { 0 };
	struct msg           m;
	struct err           err;
	json_t              *obj = NULL;
	uint64_t             id = (uint64_t)db_res_int(res, row, 0);

	buf_init(&src, 4096);
	buf_init(&trace, 256);
	buf_init(&would, 64);
	if (store_incoming_source(c->app->db, id, &src, &err) == 0)
		obj = json_loadb(src.data, src.len, JSON_ALLOW_NUL, NULL);
	if (obj == NULL || msg_parse(obj, &m, &err) == -1) {
		buf_puts(&trace,
		    "the stored Graph JSON is not a message: "
		    "rules not run");
		buf_puts(&would, "unknown");
	} else {
		rules_apply(d->rs, d->n, (uint64_t)db_res_int(res, row, 1), &m,
		    &vd, &trace);
		rules_describe(&vd, &would);
	}
	if (obj != NULL)
		msg_cleanup(&m);
	for (size_t i = 0; vd.rule_id != 0 && i < d->n; i++)
		if (d->rs[i].id == vd.rule_id)
			json_object_set_new(item, "rule_name",
			    str_or_null(d->rs[i].name));
	json_object_set_new(item, "would", json_string(would.data));
	json_object_set_new(item, "ignore", json_boolean(vd.ignore));
	json_object_set_new(item, "priority",
	    str_or_null(vd.priority[0] ? vd.priority : NULL));
	json_object_set_new(item, "category",
	    str_or_null(vd.category[0] ? vd.category : NULL));
	json_object_set_new(item, "no_ack", json_boolean(vd.no_ack));
	json_object_set_new(item, "trace", str_or_null(trace.data));
	json_object_set_new(item, "rule_id",
	    vd.rule_id && vd.rule_id < d->synthetic
	        ? json_integer((json_int_t)vd.rule_id)
	        : json_null());
	json_decref(obj);
	buf_cleanup(&src);
	buf_cleanup(&trace);
	buf_cleanup(&would);
}

/* One dry-run item for row of res (columns: see store_incoming_recent). */
static json_t *
dry_item(struct call *c, const struct dry *d, const struct db_res *res,
    size_t row)
{
	json_t *item = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "incoming_email_id", (json_int_t)db_res_int(res, row, 0),
	    "mailbox_id", (json_int_t)db_res_int(res, row, 1), "created_at",
	    str_or_null(db_res_str(res, row, 2)), "received_at",
	    str_or_null(db_res_str(res, row, 3)), "subject",
	    str_or_null(db_res_str(res, row, 4)), "from",
	    str_or_null(db_res_str(res, row, 5)), "outcome_then",
	    str_or_null(db_res_str(res, row, 6)), "rule_id_then",
	    db_res_str(res, row, 7)
	        ? json_integer((json_int_t)db_res_int(res, row, 7))
	        : json_null());

	json_object_set_new(item, "rule_name", json_null());
	dry_apply(c, d, res, row, item);
	return item;
}

/* Replay the last mails through the rule set and answer. */
static int
dry_run(struct call *c, const struct dry *d)
{
	struct db_res res;
	struct err    err;
	json_t       *items;

	if (store_incoming_recent(c->app->db, DRY_RUN_MAILS, &res, &err) == -1)
		return web_error(c, &err);
	items = json_array();
	for (size_t i = 0; i < res.nrows; i++)
		json_array_append_new(items, dry_item(c, d, &res, i));
	db_res_free(&res);
	return web_json(c, 200,
	    json_pack("{s:I, s:o}", "rules", (json_int_t)d->n, "items", items));
}

/*
 * POST /api/rules/dry-run: body {"rules": [...]} tries that rule set;
 * no body (or no "rules") tries the stored, enabled rules.
 */
int
api_rule_dry_run(struct call *c)
{
	struct dry d = { NULL, 0, UINT64_MAX };
	struct err err;
	json_t    *in = NULL;
	int        rc = -1;

	/* No body (Content-Length 0, whatever the type) tries the stored
	 * rules; nginx passes CONTENT_TYPE "" when there is none. */
	if (c->req->content_length > 0 ||
	    (c->req->content_length < 0 && c->req->content_type != NULL &&
	        c->req->content_type[0])) {
		if (web_body(c, &in) == -1)
			return -1;
	}
	if (in != NULL && json_object_size(in) > 0) {
		if (dry_body_rules(c, in, &d) == -1)
			goto out;
	} else if (rules_load(c->app->db, &d.rs, &d.n, &err) == -1) {
		web_error(c, &err);
		goto out;
	}
	rc = dry_run(c, &d);
out:
	rules_free(d.rs, d.n);
	json_decref(in);
	return rc;
}
