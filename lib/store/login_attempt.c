/*
 * login_attempt: sign-in attempts, for the sign-in throttle
 * (lib/domain/authn.c); the prune also sweeps expired sessions.
 */
#include <string.h>
#include "store/store.h"

static const char SQL_SESSION_PRUNE[] =
    "DELETE FROM session WHERE expires_at <= UTC_TIMESTAMP() "
    "OR last_seen_at <= UTC_TIMESTAMP() - INTERVAL ? MINUTE "
    "ORDER BY id LIMIT ?";
/*
 * Bounded sweeps, one per sign-in: attempts older than the day the
 * throttle looks back, sessions past their absolute or idle expiry.  By
 * id, so the oldest rows go first and a big backlog goes in steps.
 */
static const char SQL_LOGIN_PRUNE[] =
    "DELETE FROM login_attempt WHERE at < UTC_TIMESTAMP() - INTERVAL 1 DAY "
    "ORDER BY id LIMIT ?";
/*
 * Failures from one address, any username, in the last 15 minutes, and
 * how many seconds until the oldest of them leaves the window.
 */
static const char SQL_LOGIN_ADDR[] =
    "SELECT COUNT(*), "
    "COALESCE(900 - TIMESTAMPDIFF(SECOND, MIN(at), UTC_TIMESTAMP()), 0) "
    "FROM login_attempt WHERE remote_addr = ? AND ok = 0 "
    "AND at > UTC_TIMESTAMP() - INTERVAL 15 MINUTE";
/*
 * The failures of one (username, address) pair since its last success,
 * within a day, and the seconds since the newest of them.  The id, not
 * the time, orders a failure and a success in the same second.
 */
static const char SQL_LOGIN_PAIR[] =
    "SELECT COUNT(*), COALESCE(TIMESTAMPDIFF(SECOND, MAX(at), "
    "UTC_TIMESTAMP()), 0) FROM login_attempt WHERE username = ? "
    "AND remote_addr = ? AND ok = 0 "
    "AND at > UTC_TIMESTAMP() - INTERVAL 1 DAY AND id > COALESCE((SELECT "
    "MAX(id) FROM login_attempt WHERE username = ? AND remote_addr = ? "
    "AND ok = 1), 0)";
static const char SQL_LOGIN_RECORD[] =
    "INSERT INTO login_attempt (username, remote_addr, ok, at) "
    "VALUES (?, ?, ?, UTC_TIMESTAMP())";

int
store_login_attempt_record(struct db *db, const char *username,
    const char *addr, int ok, struct err *err)
{
	struct db_param p[] = { db_str(username), db_str(addr), db_int(ok) };

	return db_exec(db, SQL_LOGIN_RECORD, p, 3, NULL, err);
}

/* The recent failures of the pair (username, addr) and of addr alone. */
int
store_login_attempt_failures(struct db *db, const char *username,
    const char *addr, struct login_failures *f, struct err *err)
{
	struct db_param pair[] = { db_str(username), db_str(addr),
		db_str(username), db_str(addr) };
	struct db_param by_addr[] = { db_str(addr) };
	struct db_res   r;

	if (db_query(db, SQL_LOGIN_PAIR, pair, 4, &r, err) == -1)
		return -1;
	f->pair = db_res_int(&r, 0, 0);
	f->pair_age = db_res_int(&r, 0, 1);
	db_res_free(&r);
	if (db_query(db, SQL_LOGIN_ADDR, by_addr, 1, &r, err) == -1)
		return -1;
	f->addr = db_res_int(&r, 0, 0);
	f->addr_retry = db_res_int(&r, 0, 1);
	db_res_free(&r);
	return 0;
}

/*
 * Delete up to limit login attempts older than a day and up to limit
 * sessions expired (absolutely, or idle for idle_minutes).
 */
int
store_login_attempt_prune(struct db *db, long idle_minutes, long limit,
    struct err *err)
{
	struct db_param attempts[] = { db_int(limit) };
	struct db_param sessions[] = { db_int(idle_minutes), db_int(limit) };

	if (db_exec(db, SQL_LOGIN_PRUNE, attempts, 1, NULL, err) == -1)
		return -1;
	return db_exec(db, SQL_SESSION_PRUNE, sessions, 2, NULL, err);
}
