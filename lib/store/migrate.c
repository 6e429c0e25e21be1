/*
 * migrate: the schema_migrations bookkeeping table and the lock
 * that lets one postdesk-admin migrate run at a time (lib/domain/migrate.c).
 */
#include <string.h>

#include "base/xmalloc.h"
#include "store/store.h"

static const char SQL_MIG_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INT UNSIGNED NOT NULL PRIMARY KEY, "
    "name VARCHAR(200) NOT NULL, applied_at DATETIME NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
static const char SQL_MIG_APPLIED[] =
    "SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
static const char SQL_MIG_VERSIONS[] =
    "SELECT version FROM schema_migrations ORDER BY version";
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

/* MariaDB's ER_NO_SUCH_TABLE: a database never migrated. */
#define NO_SUCH_TABLE 1146

/*
 * The versions recorded in schema_migrations, ascending (caller frees
 * *versions); none when the table does not exist yet.
 */
int
store_migrate_versions(struct db *db, unsigned **versions, size_t *n,
    struct err *err)
{
	struct db_res r;

	*versions = NULL;
	*n = 0;
	if (db_query(db, SQL_MIG_VERSIONS, NULL, 0, &r, err) == -1)
		return db_last_errno(db) == NO_SUCH_TABLE ? 0 : -1;
	*versions = xcalloc(r.nrows ? r.nrows : 1, sizeof **versions);
	for (size_t i = 0; i < r.nrows; i++)
		(*versions)[i] = (unsigned)db_res_int(&r, i, 0);
	*n = r.nrows;
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

/*
 * The migration lock: one row, held by whoever set holder, until
 * expires_at unless renewed.  A table rather than GET_LOCK(): it works
 * on a Galera cluster and survives the reconnect lib/adapt/db.c makes.
 */
static const char SQL_LOCK_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migration_lock ("
    "id TINYINT UNSIGNED NOT NULL PRIMARY KEY, "
    "holder VARCHAR(200) NULL, host VARCHAR(255) NULL, "
    "pid BIGINT NULL, beats BIGINT UNSIGNED NOT NULL DEFAULT 0, "
    "expires_at DATETIME NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
static const char SQL_LOCK_ROW[] =
    "INSERT IGNORE INTO schema_migration_lock (id) VALUES (1)";
static const char SQL_LOCK_TAKE[] =
    "UPDATE schema_migration_lock SET holder = ?, host = ?, pid = ?, "
    "beats = beats + 1, expires_at = UTC_TIMESTAMP() + INTERVAL ? SECOND "
    "WHERE id = 1 AND (holder IS NULL OR expires_at < UTC_TIMESTAMP() OR "
    "holder = ?)";
static const char SQL_LOCK_RENEW[] =
    "UPDATE schema_migration_lock SET beats = beats + 1, "
    "expires_at = UTC_TIMESTAMP() + INTERVAL ? SECOND "
    "WHERE id = 1 AND holder = ?";
static const char SQL_LOCK_FREE[] =
    "UPDATE schema_migration_lock SET holder = NULL, host = NULL, "
    "pid = NULL, expires_at = NULL WHERE id = 1 AND holder = ?";
static const char SQL_LOCK_HOLDER[] =
    "SELECT holder, host, pid FROM schema_migration_lock WHERE id = 1";

/* The lock table and its row (both may already be there). */
int
store_migrate_lock_prepare(struct db *db, struct err *err)
{
	if (db_exec(db, SQL_LOCK_TABLE, NULL, 0, NULL, err) == -1)
		return -1;
	return db_exec(db, SQL_LOCK_ROW, NULL, 0, NULL, err);
}

/*
 * Take the lock for l->holder for seconds if it is free, expired or held
 * by stale (a holder known to be gone; NULL: none).  *won says if it was
 * taken.
 */
int
store_migrate_lock(struct db *db, const struct migrate_lock *l, long seconds,
    const char *stale, int *won, struct err *err)
{
	struct db_param     p[] = { db_str(l->holder), db_str(l->host),
		    db_int(l->pid), db_int(seconds),
                stale ? db_str(stale) : db_null() };
	struct db_exec_info info;

	if (db_exec(db, SQL_LOCK_TAKE, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	*won = info.affected > 0;
	return 0;
}

/* Extend holder's lock by seconds; *held 0 when it is no longer held. */
int
store_migrate_renew(struct db *db, const char *holder, long seconds, int *held,
    struct err *err)
{
	struct db_param     p[] = { db_int(seconds), db_str(holder) };
	struct db_exec_info info;

	if (db_exec(db, SQL_LOCK_RENEW, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	*held = info.affected > 0; /* beats changes: never "no change" */
	return 0;
}

/* Release holder's lock (nothing if another holds it). */
int
store_migrate_unlock(struct db *db, const char *holder, struct err *err)
{
	struct db_param p[] = { db_str(holder) };

	return db_exec(db, SQL_LOCK_FREE, p, 1, NULL, err);
}

/* Who holds the lock now: l->holder "" when nobody. */
int
store_migrate_holder(struct db *db, struct migrate_lock *l, struct err *err)
{
	struct db_res r;
	int           rc = 0;

	memset(l, 0, sizeof *l);
	if (db_query(db, SQL_LOCK_HOLDER, NULL, 0, &r, err) == -1)
		return -1;
	if (r.nrows == 1 && db_res_str(&r, 0, 0) != NULL) {
		if (store_row_copy(l->holder, sizeof l->holder, &r, 0, 0,
		        err) == -1 ||
		    store_row_copy(l->host, sizeof l->host, &r, 0, 1, err) ==
		        -1)
			rc = -1;
		l->pid = db_res_int(&r, 0, 2);
	}
	db_res_free(&r);
	return rc;
}
