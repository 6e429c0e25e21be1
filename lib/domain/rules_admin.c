/*
 * rules_admin: rule CRUD for the API (lib/domain/rules_admin.h).  Input is
 * validated by lib/domain/rules_json.c; a stored rule that no longer parses is
 * still shown (and logged) and is mended by the next change.
 */
#include <stdio.h>
#include <string.h>

#include "base/etag.h"
#include "adapt/jsonx.h"
#include "base/log.h"
#include "domain/rules.h"
#include "domain/rules_admin.h"
#include "store/store.h"

#define POSITION_MAX 1000000

/* {"id", "name"} of the rule's mailbox (name null when it is gone), or
 * null for a rule of every mailbox: the shape of every mailbox reference. */
static void
write_mailbox(struct jw *w, const struct email_rule *row)
{
	jw_key(w, "mailbox");
	if (row->mailbox_id == 0) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	jw_key(w, "id");
	jw_int(w, (long long)row->mailbox_id);
	jw_key(w, "name");
	if (row->mailbox_name[0] != '\0')
		jw_str(w, row->mailbox_name);
	else
		jw_null(w);
	jw_close(w, '}');
}

/* The API representation of a stored row, into w. */
static void
write_row(struct jw *w, const struct email_rule *row)
{
	struct rule r;
	struct err  err;

	if (rules_from_row(row, &r, &err) == -1)
		log_warn("email rule %llu is not valid: %s",
		    (unsigned long long)row->id, err.msg);
	rules_write(w, &r);
	rules_cleanup(&r);
	write_mailbox(w, row);
	jw_key(w, "created_at");
	jw_str(w, row->created_at);
	jw_key(w, "updated_at");
	jw_str(w, row->updated_at);
	jw_close(w, '}');
}

/* {"items": [rule…]}: every rule in the order they run. */
int
rules_admin_list(struct db *db, struct buf *out, struct err *err)
{
	struct email_rule *rows;
	size_t             n;
	struct jw          w;

	if (store_rule_list(db, 0, &rows, &n, err) == -1) {
		store_rule_free(rows, n);
		return -1;
	}
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "items");
	jw_open(&w, '[');
	for (size_t i = 0; i < n; i++)
		write_row(&w, &rows[i]);
	jw_close(&w, ']');
	jw_close(&w, '}');
	store_rule_free(rows, n);
	return 0;
}

/* Rule id into out; *version is its version (the ETag). */
int
rules_admin_show(struct db *db, uint64_t id, struct buf *out, uint64_t *version,
    struct err *err)
{
	struct email_rule row;
	struct jw         w;
	int               rc = -1;

	if (store_rule_get(db, id, &row, err) == 0) {
		jw_init(&w, out);
		write_row(&w, &row);
		*version = row.version;
		rc = 0;
	}
	store_rule_cleanup(&row);
	return rc;
}

/* The version of rule id (E_NOTFOUND when there is none). */
int
rules_admin_version(struct db *db, uint64_t id, uint64_t *version,
    struct err *err)
{
	struct email_rule row;
	int               rc = store_rule_get(db, id, &row, err);

	if (rc == 0)
		*version = row.version;
	store_rule_cleanup(&row);
	return rc;
}

/* A field error unless mailbox id exists; -1 on a database failure. */
static int
check_mailbox(struct db *db, uint64_t id, json_t *errors, struct err *err)
{
	struct mailbox mb;
	int            rc;

	if (id == 0)
		return 0;
	rc = store_mailbox_get(db, id, &mb, err);
	mailbox_cleanup(&mb); /* its long texts are on the heap */
	if (rc == 0)
		return 0;
	if (err->code != E_NOTFOUND)
		return -1;
	jsonx_field_error(errors, "mailbox_id",
	    "There is no mailbox %llu; use null to apply to every mailbox.",
	    (unsigned long long)id);
	return 0;
}

/* Validate in over r: -1 with err, E_INVALID when errors has some. */
static int
validate(struct db *db, struct rule *r, json_t *in, int creating,
    json_t *errors, struct err *err)
{
	rules_parse_json(in, creating, r, errors);
	if (json_object_get(in, "mailbox_id") != NULL &&
	    check_mailbox(db, r->mailbox_id, errors, err) == -1)
		return -1;
	if (json_array_size(errors) == 0)
		return 0;
	err_set(err, E_INVALID, RULES_INVALID);
	return -1;
}

/*
 * Store r: insert when its id is 0, else update it if still at version.
 * Returns 0, or -1 with err (E_CHANGED: another write came first).
 */
static int
save(struct db *db, const struct rule *r, uint64_t version, uint64_t *id,
    struct err *err)
{
	struct email_rule row;
	int               rc;

	if (rules_to_row(r, &row, err) == -1)
		return -1;
	row.version = version;
	if (r->id == 0)
		rc = store_rule_insert(db, &row, id, err);
	else
		rc = store_rule_update(db, &row, err);
	store_rule_cleanup(&row);
	return rc;
}

/* A new rule from in; without a position it goes last. */
int
rules_admin_create(struct db *db, json_t *in, json_t *errors, uint64_t *id,
    struct err *err)
{
	struct rule r;
	int         rc = -1;

	rules_defaults(&r);
	if (validate(db, &r, in, 1, errors, err) == -1)
		goto out;
	if (json_object_get(in, "position") == NULL) {
		if (store_rule_next_position(db, &r.position, err) == -1)
			goto out;
		if (r.position > POSITION_MAX)
			r.position = POSITION_MAX;
	}
	rc = save(db, &r, 0, id, err);
out:
	rules_cleanup(&r);
	return rc;
}

/*
 * One read-modify-write of rule id.  Returns 0, 1 when another write came
 * first and if_match does not pin a version (read again), -1 with err.
 */
static int
update_once(struct db *db, uint64_t id, json_t *in, const char *if_match,
    json_t *errors, uint64_t *version, struct err *err)
{
	struct email_rule row;
	struct rule       r = { 0 };
	int               rc = -1;

	if (store_rule_get(db, id, &row, err) == -1)
		goto out;
	*version = row.version;
	if (!etag_matches(if_match, row.version)) {
		err_set(err, E_CHANGED, "Changed elsewhere.");
		goto out;
	}
	/* A stored rule that no longer parses is mended by this change. */
	rules_from_row(&row, &r, err);
	if (validate(db, &r, in, 0, errors, err) == -1)
		goto out;
	if (r.nconds == 0) {
		jsonx_field_error(errors, "conditions",
		    "Give 1 to 20 conditions.");
		err_set(err, E_INVALID, RULES_INVALID);
		goto out;
	}
	rc = save(db, &r, row.version, &id, err);
	if (rc == -1 && err->code == E_CHANGED) {
		if (!etag_pinned(if_match))
			rc = 1;
		else if (rules_admin_version(db, id, version, err) == 0)
			err_set(err, E_CHANGED, "Changed elsewhere.");
	}
out:
	rules_cleanup(&r);
	store_rule_cleanup(&row);
	return rc;
}

/*
 * Change the fields of rule id given in in.  Returns 0, or -1 with err:
 * E_INVALID (errors filled), E_CHANGED (*version: the current one),
 * E_CONFLICT when other writes kept coming first.
 */
int
rules_admin_update(struct db *db, uint64_t id, json_t *in, const char *if_match,
    json_t *errors, uint64_t *version, struct err *err)
{
	int rc = 1;

	for (int i = 0; rc == 1 && i < RULES_UPDATE_TRIES; i++)
		rc = update_once(db, id, in, if_match, errors, version, err);
	if (rc == 1) {
		err_set(err, E_CONFLICT,
		    "Other changes to this rule kept arriving; try again.");
		return -1;
	}
	return rc;
}

int
rules_admin_delete(struct db *db, uint64_t id, struct err *err)
{
	return store_rule_delete(db, id, err);
}
