/*
 * audit: the audit log of configuration changes.
 */
#include "store/store.h"

static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_log (at, actor_type, actor_id, actor_name, action, "
    "target_type, target_id, detail, request_id) "
    "VALUES (UTC_TIMESTAMP(), ?, ?, ?, ?, ?, ?, ?, ?)";
/* Columns: enum audit_col (store/store.h). */
static const char SQL_AUDIT_LIST[] =
    "SELECT id, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%sZ'), actor_type, "
    "actor_id, actor_name, action, target_type, target_id, detail, "
    "request_id FROM audit_log ORDER BY id DESC LIMIT ?";

static struct db_param
opt_id(uint64_t id)
{
	return id ? db_int((long long)id) : db_null();
}

int
store_audit_add(struct db *db, const struct audit_entry *e, struct err *err)
{
	struct db_param p[] = { db_str(e->actor_type), opt_id(e->actor_id),
		db_str(e->actor_name), db_str(e->action),
		db_str(e->target_type), opt_id(e->target_id), db_str(e->detail),
		db_str(e->request_id) };

	return db_exec(db, SQL_AUDIT_INSERT, p, DB_NPARAMS(p), NULL, err);
}

/*
 * The newest limit entries into res, columns: id, at, actor_type, actor_id,
 * actor_name, action, target_type, target_id, detail, request_id.
 */
int
store_audit_list(struct db *db, long limit, struct db_res *res, struct err *err)
{
	struct db_param p[] = { db_int(limit) };

	return db_query(db, SQL_AUDIT_LIST, p, 1, res, err);
}
