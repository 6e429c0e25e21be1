/*
 * rule: email_rule rows (Configuration > Email > Email Rules) and the
 * recent incoming_email rows a dry run replays.  Conditions and actions
 * travel as JSON text; lib/domain/rules_json.c parses and validates them.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "base/xmalloc.h"

#define RULE_COLS                                                              \
	"id, name, mailbox_id, position, enabled, match_mode, "                \
	"conditions, actions, "                                                \
	"DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "                      \
	"DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%sZ'), version, "             \
	"(SELECT m.name FROM mailbox m WHERE m.id = email_rule.mailbox_id)"

static const char SQL_RULE_INSERT[] =
    "INSERT INTO email_rule (name, mailbox_id, position, enabled, "
    "match_mode, conditions, actions, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
static const char SQL_RULE_UPDATE[] =
    "UPDATE email_rule SET name = ?, mailbox_id = ?, position = ?, "
    "enabled = ?, match_mode = ?, conditions = ?, actions = ?, "
    "updated_at = UTC_TIMESTAMP(), version = version + 1 "
    "WHERE id = ? AND version = ?";
static const char SQL_RULE_GET[] =
    "SELECT " RULE_COLS " FROM email_rule WHERE id = ?";
static const char SQL_RULE_LIST[] =
    "SELECT " RULE_COLS " FROM email_rule WHERE enabled = 1 OR ? = 0 "
    "ORDER BY position, id";
static const char SQL_RULE_DELETE[] = "DELETE FROM email_rule WHERE id = ?";
static const char SQL_RULE_NEXT[] =
    "SELECT COALESCE(MAX(position), -10) + 10 FROM email_rule";

/* Free what r owns; r may be zeroed. */
void
store_rule_cleanup(struct email_rule *r)
{
	free(r->conditions);
	free(r->actions);
	r->conditions = r->actions = NULL;
}

/* Free an array from store_rule_list(). */
void
store_rule_free(struct email_rule *rs, size_t n)
{
	for (size_t i = 0; rs != NULL && i < n; i++)
		store_rule_cleanup(&rs[i]);
	free(rs);
}

static void
rule_params(const struct email_rule *r, struct db_param *p)
{
	p[0] = db_str(r->name);
	p[1] = r->mailbox_id ? db_int((long long)r->mailbox_id) : db_null();
	p[2] = db_int(r->position);
	p[3] = db_int(r->enabled != 0);
	p[4] = db_str(r->match);
	p[5] = db_str(r->conditions);
	p[6] = db_str(r->actions);
}

/*
 * Insert rule r (its id is ignored) and return the new id in *id.  A
 * mailbox_id without a mailbox fails (E_DB, the foreign key).
 */
int
store_rule_insert(struct db *db, const struct email_rule *r, uint64_t *id,
    struct err *err)
{
	struct db_param     p[7];
	struct db_exec_info info;

	rule_params(r, p);
	if (db_exec(db, SQL_RULE_INSERT, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	*id = info.insert_id;
	return 0;
}

/*
 * Update every column of rule r->id if it is still at r->version (then
 * one more); E_NOTFOUND if there is none, E_CHANGED if another write came
 * first.
 */
int
store_rule_update(struct db *db, const struct email_rule *r, struct err *err)
{
	struct db_param     p[9];
	struct db_exec_info info;
	struct email_rule   cur = { 0 };
	int                 rc;

	rule_params(r, p);
	p[7] = db_int((long long)r->id);
	p[8] = db_int((long long)r->version);
	if (db_exec(db, SQL_RULE_UPDATE, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	if (info.affected > 0) /* the version changes: never "no change" */
		return 0;
	rc = store_rule_get(db, r->id, &cur, err);
	store_rule_cleanup(&cur);
	if (rc == 0)
		err_set(err, E_CHANGED, "Email rule %llu changed meanwhile.",
		    (unsigned long long)r->id);
	return -1;
}

static int
rule_from_row(struct email_rule *r, const struct db_res *res, size_t i,
    struct err *err)
{
	memset(r, 0, sizeof *r);
	r->id = (uint64_t)db_res_int(res, i, 0);
	if (store_row_copy(r->name, sizeof r->name, res, i, 1, err) == -1 ||
	    store_row_copy(r->match, sizeof r->match, res, i, 5, err) == -1 ||
	    store_row_copy(r->created_at, sizeof r->created_at, res, i, 8,
	        err) == -1 ||
	    store_row_copy(r->updated_at, sizeof r->updated_at, res, i, 9,
	        err) == -1)
		return -1;
	r->mailbox_id =
	    db_res_str(res, i, 2) ? (uint64_t)db_res_int(res, i, 2) : 0;
	if (db_res_str(res, i, 11) != NULL &&
	    store_row_copy(r->mailbox_name, sizeof r->mailbox_name, res, i, 11,
	        err) == -1)
		return -1;
	r->position = (int)db_res_int(res, i, 3);
	r->version = (uint64_t)db_res_int(res, i, 10);
	r->enabled = db_res_int(res, i, 4) != 0;
	r->conditions = xstrdup(db_res_str(res, i, 6));
	r->actions = xstrdup(db_res_str(res, i, 7));
	return 0;
}

/*
 * Load rule id into *r (release with store_rule_cleanup(), also after a
 * failure).  E_NOTFOUND if there is none.
 */
int
store_rule_get(struct db *db, uint64_t id, struct email_rule *r,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   res;
	int             rc = -1;

	memset(r, 0, sizeof *r);
	if (db_query(db, SQL_RULE_GET, p, 1, &res, err) == -1)
		return -1;
	if (res.nrows == 0)
		err_set(err, E_NOTFOUND, "No email rule with id %llu.",
		    (unsigned long long)id);
	else
		rc = rule_from_row(r, &res, 0, err);
	db_res_free(&res);
	return rc;
}

/*
 * Every rule (only the enabled ones if enabled_only) by position, then id,
 * into *rs (caller frees with store_rule_free()).
 */
int
store_rule_list(struct db *db, int enabled_only, struct email_rule **rs,
    size_t *n, struct err *err)
{
	struct db_param p[] = { db_int(enabled_only != 0) };
	struct db_res   res;
	int             rc = 0;

	*rs = NULL;
	*n = 0;
	if (db_query(db, SQL_RULE_LIST, p, 1, &res, err) == -1)
		return -1;
	*rs = xcalloc(res.nrows, sizeof **rs);
	*n = res.nrows;
	for (size_t i = 0; rc == 0 && i < res.nrows; i++)
		rc = rule_from_row(&(*rs)[i], &res, i, err);
	db_res_free(&res);
	return rc;
}

/* Delete rule id; E_NOTFOUND if there is none. */
int
store_rule_delete(struct db *db, uint64_t id, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_RULE_DELETE, p, 1, &info, err) == -1)
		return -1;
	if (info.affected == 0) {
		err_set(err, E_NOTFOUND, "No email rule with id %llu.",
		    (unsigned long long)id);
		return -1;
	}
	return 0;
}

/* The position after the last rule (0 for the first), steps of 10. */
int
store_rule_next_position(struct db *db, int *position, struct err *err)
{
	struct db_res res;

	if (db_query(db, SQL_RULE_NEXT, NULL, 0, &res, err) == -1)
		return -1;
	*position = res.nrows ? (int)db_res_int(&res, 0, 0) : 0;
	db_res_free(&res);
	return 0;
}
