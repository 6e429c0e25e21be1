/*
 * store_refresh: the token refresh's writes to the mailbox row, each one
 * conditional UPDATE — no row is locked while Microsoft is asked
 * (lib/refresh.c).  gen is the refresh_gen the caller read with
 * store_creds_get(); sql/0010_refresh_lease.sql has the columns.
 */
#include "store.h"

/* Take the lease: no one else's is running and the token is unchanged. */
static const char SQL_LEASE[] =
    "UPDATE mailbox SET refresh_leased_at = UTC_TIMESTAMP(3), "
    "refresh_lease_until = UTC_TIMESTAMP(3) + INTERVAL ? SECOND WHERE id = ? "
    "AND refresh_gen = ? AND "
    "status = ? AND (refresh_lease_until IS NULL OR "
    "refresh_lease_until <= UTC_TIMESTAMP(3))";
static const char SQL_RELEASE[] =
    "UPDATE mailbox SET refresh_lease_until = NULL WHERE id = ? AND "
    "refresh_gen = ?";
static const char SQL_TOKENS_SAVE[] =
    "UPDATE mailbox SET refresh_token_sealed = COALESCE(?, "
    "refresh_token_sealed), access_token_sealed = ?, "
    "access_expires_at = UTC_TIMESTAMP() + INTERVAL ? SECOND, "
    "refresh_gen = refresh_gen + 1, refresh_lease_until = NULL "
    "WHERE id = ? AND refresh_gen = ? AND status = ?";
static const char SQL_REFUSED[] =
    "UPDATE mailbox SET status = ?, refresh_token_sealed = "
    "NULL, access_token_sealed = NULL, access_expires_at = NULL, "
    "refresh_gen = refresh_gen + 1, refresh_lease_until = NULL, "
    "updated_at = UTC_TIMESTAMP() WHERE id = ? AND refresh_gen = ?";

/* Refreshing works on connected mailboxes only. */
#define CONNECTED db_str(mailbox_status_name(MAILBOX_CONNECTED))

/* Run a conditional UPDATE; *won says whether it changed the row. */
static int
changed(struct db *db, const char *sql, const struct db_param *p, size_t n,
    int *won, struct err *err)
{
	struct db_exec_info info;

	*won = 0;
	if (db_exec(db, sql, p, n, &info, err) == -1)
		return -1;
	*won = info.affected == 1;
	return 0;
}

/*
 * Take mailbox id's refresh lease for seconds; *won is 0 when another
 * refresh holds it, the refresh token changed since gen was read, or the
 * mailbox is no longer connected.
 */
int
store_refresh_lease(struct db *db, uint64_t id, uint64_t gen, long seconds,
    int *won, struct err *err)
{
	struct db_param p[] = { db_int(seconds), db_int((long long)id),
		db_int((long long)gen), CONNECTED };

	return changed(db, SQL_LEASE, p, DB_NPARAMS(p), won, err);
}

/* Give the lease back after a refresh that stored nothing. */
int
store_refresh_release(struct db *db, uint64_t id, uint64_t gen, struct err *err)
{
	struct db_param p[] = { db_int((long long)id), db_int((long long)gen) };

	return db_exec(db, SQL_RELEASE, p, DB_NPARAMS(p), NULL, err);
}

/*
 * Store refreshed tokens (refresh NULL keeps the stored one) and release
 * the lease, only if the refresh token is still generation gen; *won 0:
 * the mailbox was reconnected or disconnected meanwhile, nothing stored.
 */
int
store_tokens_save(struct db *db, uint64_t id, uint64_t gen,
    const struct buf *refresh, const struct buf *access, long expires_in,
    int *won, struct err *err)
{
	struct db_param p[] = {
		refresh ? db_blob(refresh->data, refresh->len) : db_null(),
		db_blob(access->data, access->len),
		db_int(expires_in),
		db_int((long long)id),
		db_int((long long)gen),
		CONNECTED,
	};

	return changed(db, SQL_TOKENS_SAVE, p, DB_NPARAMS(p), won, err);
}

/*
 * Microsoft refused refresh token generation gen: the status becomes
 * status (lib/mailbox_state.c says which), tokens forgotten, lease
 * released — unless the token changed meanwhile (*won 0).
 */
int
store_refresh_refused(struct db *db, uint64_t id, uint64_t gen,
    enum mailbox_status status, int *won, struct err *err)
{
	struct db_param p[] = { db_str(mailbox_status_name(status)),
		db_int((long long)id), db_int((long long)gen) };

	return changed(db, SQL_REFUSED, p, DB_NPARAMS(p), won, err);
}
