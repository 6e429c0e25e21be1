/*
 * store_migrate: the schema_migrations bookkeeping table.
 */
#include "store.h"

static const char SQL_MIG_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INT UNSIGNED NOT NULL PRIMARY KEY, "
    "name VARCHAR(200) NOT NULL, applied_at DATETIME NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
static const char SQL_MIG_APPLIED[] =
    "SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
static const char SQL_MIG_RECORD[] =
    "INSERT INTO schema_migrations (version, name, applied_at) "
    "VALUES (?, ?, UTC_TIMESTAMP())";

int
store_migrate_prepare(struct db *db, struct err *err)
{
	return db_exec(db, SQL_MIG_TABLE, NULL, 0, NULL, err);
}

int
store_migrate_applied(struct db *db, unsigned version, int *applied,
    struct err *err)
{
	struct db_param p[] = { db_int(version) };
	struct db_res   r;

	if (db_query(db, SQL_MIG_APPLIED, p, 1, &r, err) == -1)
		return -1;
	*applied = db_res_int(&r, 0, 0) > 0;
	db_res_free(&r);
	return 0;
}

int
store_migrate_record(struct db *db, unsigned version, const char *name,
    struct err *err)
{
	struct db_param p[] = { db_int(version), db_str(name) };

	return db_exec(db, SQL_MIG_RECORD, p, 2, NULL, err);
}
