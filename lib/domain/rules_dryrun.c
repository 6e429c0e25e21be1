/*
 * rules_dryrun: replay stored mail through a rule set
 * (lib/domain/rules_dryrun.h). Each mail's Graph JSON as received is parsed
 * again and run through rules_apply(), exactly as intake would; nothing is
 * written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/jsonx.h"
#include "mail/msg.h"
#include "domain/rules_dryrun.h"
#include "store/incoming.h"
#include "store/store.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

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
 * "id" (a stored rule being edited); created_at, updated_at and mailbox
 * (the reference GET shows beside mailbox_id) are ignored.  Returns the id
 * given, or 0.
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
	json_object_del(in, "mailbox");
	rules_parse_json(in, 1, r, errors);
	prefix_errors(all, errors, i);
	json_decref(errors);
	json_decref(in);
	return v > 0 ? (uint64_t)v : 0;
}

/*
 * The rule set of a dry-run body {"rules": [...]} into d (free with
 * rule_dryrun_free()); rules without an id get ids above every given one.
 * Returns the number of field errors added to errors.
 */
int
rule_dryrun_parse(json_t *in, struct dry_run *d, json_t *errors)
{
	static const char *const fields[] = { "rules", NULL };
	json_t                  *list = json_object_get(in, "rules");
	uint64_t                 max = 0;
	size_t                   before = json_array_size(errors);

	d->n = json_array_size(list);
	d->rs = xcalloc(d->n, sizeof *d->rs);
	jsonx_unknown_fields(in, fields, errors);
	if (list != NULL && (!json_is_array(list) || d->n > DRY_RUN_RULES)) {
		jsonx_field_error(errors, "rules",
		    "Give an array of up to 200 rules, or leave it out to try "
		    "the stored rules.");
		d->n = 0;
	}
	for (size_t i = 0; i < d->n; i++) {
		d->rs[i].id =
		    dry_rule(json_array_get(list, i), i, &d->rs[i], errors);
		max = d->rs[i].id > max ? d->rs[i].id : max;
	}
	d->synthetic = max + 1;
	for (size_t i = 0; i < d->n; i++)
		if (d->rs[i].id == 0)
			d->rs[i].id = max + 1 + i;
	return (int)(json_array_size(errors) - before);
}

/* The stored, enabled rules into d. */
int
rule_dryrun_stored(struct db *db, struct dry_run *d, struct err *err)
{
	d->synthetic = UINT64_MAX;
	return rules_load(db, &d->rs, &d->n, err);
}

void
rule_dryrun_free(struct dry_run *d)
{
	rules_free(d->rs, d->n);
	d->rs = NULL;
	d->n = 0;
}

/* The name of rule id in d, or NULL. */
static const char *
rule_name(const struct dry_run *d, uint64_t id)
{
	for (size_t i = 0; id != 0 && i < d->n; i++)
		if (d->rs[i].id == id)
			return d->rs[i].name;
	return NULL;
}

/* s, or null when it is NULL or not UTF-8 (trace and names come from
 * mail and rules). */
static void
str_or_null(struct jw *w, const char *s)
{
	if (s == NULL || !utf8_valid(s, strlen(s)))
		jw_null(w);
	else
		jw_str(w, s);
}

/* The verdict members of an item: what the rules would do. */
static void
verdict(struct jw *w, const struct dry_run *d, const struct rules_verdict *vd,
    const char *would, const char *trace)
{
	jw_key(w, "rule_name");
	str_or_null(w, rule_name(d, vd->rule_id));
	jw_key(w, "would");
	jw_str(w, would);
	jw_key(w, "ignore");
	jw_bool(w, vd->ignore);
	jw_key(w, "priority");
	str_or_null(w, vd->priority[0] ? vd->priority : NULL);
	jw_key(w, "category");
	str_or_null(w, vd->category[0] ? vd->category : NULL);
	jw_key(w, "no_ack");
	jw_bool(w, vd->no_ack);
	jw_key(w, "trace");
	str_or_null(w, trace);
	jw_key(w, "rule_id");
	if (vd->rule_id != 0 && vd->rule_id < d->synthetic)
		jw_int(w, (long long)vd->rule_id);
	else
		jw_null(w);
}

/* Run the rules on stored mail `row` of res; writes the verdict. */
static void
apply(struct db *db, struct jw *w, const struct dry_run *d,
    const struct db_res *res, size_t row)
{
	struct buf           src, trace, would;
	struct rules_verdict vd = { 0 };
	struct msg           m;
	struct err           err;
	json_t              *obj = NULL;
	uint64_t             id = (uint64_t)db_res_int(res, row, IR_ID);

	buf_init(&src, 4096);
	buf_init(&trace, 256);
	buf_init(&would, 64);
	if (store_incoming_source(db, id, &src, &err) == 0)
		obj = json_loadb(src.data, src.len, JSON_ALLOW_NUL, NULL);
	if (obj == NULL || msg_parse(obj, &m, &err) == -1) {
		buf_puts(&trace,
		    "the stored Graph JSON is not a message: "
		    "rules not run");
		buf_puts(&would, "unknown");
	} else {
		rules_apply(d->rs, d->n,
		    (uint64_t)db_res_int(res, row, IR_MAILBOX_ID), &m, &vd,
		    &trace);
		rules_describe(&vd, &would);
	}
	if (obj != NULL)
		msg_cleanup(&m);
	verdict(w, d, &vd, would.data, trace.data);
	json_decref(obj);
	buf_cleanup(&src);
	buf_cleanup(&trace);
	buf_cleanup(&would);
}

/* A column that may be NULL, as a string or null. */
static void
col_str(struct jw *w, const char *key, const struct db_res *res, size_t row,
    size_t col)
{
	jw_key(w, key);
	str_or_null(w, db_res_str(res, row, col));
}

/* One dry-run item for row of res. */
static void
item(struct db *db, struct jw *w, const struct dry_run *d,
    const struct db_res *res, size_t row)
{
	jw_open(w, '{');
	jw_key(w, "incoming_email_id");
	jw_int(w, db_res_int(res, row, IR_ID));
	jw_key(w, "mailbox_id");
	jw_int(w, db_res_int(res, row, IR_MAILBOX_ID));
	jw_key(w, "mailbox"); /* like every mailbox reference */
	jw_open(w, '{');
	jw_key(w, "id");
	jw_int(w, db_res_int(res, row, IR_MAILBOX_ID));
	col_str(w, "name", res, row, IR_MAILBOX_NAME);
	jw_close(w, '}');
	col_str(w, "created_at", res, row, IR_CREATED);
	col_str(w, "received_at", res, row, IR_RECEIVED);
	col_str(w, "subject", res, row, IR_SUBJECT);
	col_str(w, "from", res, row, IR_FROM);
	col_str(w, "outcome_then", res, row, IR_OUTCOME);
	jw_key(w, "rule_id_then");
	if (db_res_str(res, row, IR_RULE_ID) != NULL)
		jw_int(w, db_res_int(res, row, IR_RULE_ID));
	else
		jw_null(w);
	apply(db, w, d, res, row);
	jw_close(w, '}');
}

/* {"rules": n, "items": [...]}: the last mails through rule set d. */
int
rule_dryrun_answer(struct db *db, const struct dry_run *d, struct buf *out,
    struct err *err)
{
	struct db_res res;
	struct jw     w;

	if (store_incoming_recent(db, DRY_RUN_MAILS, &res, err) == -1)
		return -1;
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "rules");
	jw_int(&w, (long long)d->n);
	jw_key(&w, "items");
	jw_open(&w, '[');
	for (size_t i = 0; i < res.nrows; i++)
		item(db, &w, d, &res, i);
	jw_close(&w, ']');
	jw_close(&w, '}');
	db_res_free(&res);
	return 0;
}
