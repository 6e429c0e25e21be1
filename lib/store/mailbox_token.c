/*
 * mailbox_token: OAuth state rows and the sealed tokens of a connection.
 * Every change of the stored refresh token counts up refresh_gen; token
 * refresh (store/mailbox_token.c) saves only against the count it read.
 */
#include <string.h>

#include "store/store.h"

static const char SQL_CREDS[] =
    "SELECT id, status, client_id, COALESCE(connected_tenant, tenant_id), "
    "cloud, COALESCE(shared_address, ''), COALESCE(account, ''), "
    "secret_sealed, refresh_token_sealed, access_token_sealed, "
    "access_expires_at > UTC_TIMESTAMP() + INTERVAL 5 MINUTE, tenant_id, "
    "refresh_gen, IF(refresh_lease_until > UTC_TIMESTAMP(3), "
    "TIMESTAMPDIFF(MICROSECOND, refresh_leased_at, UTC_TIMESTAMP(3)) "
    "DIV 1000, -1) FROM mailbox WHERE id = ?";
static const char SQL_CONNECT_SAVE[] =
    "UPDATE mailbox SET status = ?, refresh_token_sealed = ?, "
    "access_token_sealed = ?, "
    "access_expires_at = UTC_TIMESTAMP() + INTERVAL ? SECOND, "
    "account = ?, account_oid = ?, connected_tenant = ?, "
    "connected_at = UTC_TIMESTAMP(), inbox_count = ?, "
    "refresh_gen = refresh_gen + 1, refresh_lease_until = NULL, "
    "scan_floor = COALESCE(scan_floor, UTC_TIMESTAMP()), "
    "last_error_code = NULL, last_error = NULL, last_error_guidance = NULL, "
    "last_error_at = NULL, updated_at = UTC_TIMESTAMP() WHERE id = ?";

static void
copy_blob(struct buf *dst, const struct db_res *r, size_t row, size_t col)
{
	const char *s = db_res_str(r, row, col);

	buf_init(dst, 64);
	if (s != NULL)
		buf_append(dst, s, db_res_len(r, row, col));
}

/*
 * The credentials of mailbox id, read without a lock.  Free with
 * store_mailbox_token_cleanup().
 */
int
store_mailbox_token_get(struct db *db, uint64_t id, struct mailbox_creds *c,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   r;
	const char     *status;
	int             rc = -1;

	memset(c, 0, sizeof *c);
	if (db_query(db, SQL_CREDS, p, 1, &r, err) == -1)
		return -1;
	status = r.nrows ? db_res_str(&r, 0, 1) : NULL;
	if (r.nrows == 0) {
		err_set(err, E_NOTFOUND, "No mailbox with id %llu.",
		    (unsigned long long)id);
	} else if (mailbox_status_parse(status, &c->status) == -1) {
		err_set(err, E_DB, "database error");
		err_detail(err, "database error: mailbox status '%s'",
		    status ? status : "NULL");
	} else if (store_row_copy(c->client_id, sizeof c->client_id, &r, 0, 2,
	               err) == 0 &&
	    store_row_copy(c->tenant, sizeof c->tenant, &r, 0, 3, err) == 0 &&
	    store_row_copy(c->cloud, sizeof c->cloud, &r, 0, 4, err) == 0 &&
	    store_row_copy(c->shared_address, sizeof c->shared_address, &r, 0,
	        5, err) == 0 &&
	    store_row_copy(c->account, sizeof c->account, &r, 0, 6, err) == 0 &&
	    store_row_copy(c->tenant_id, sizeof c->tenant_id, &r, 0, 11, err) ==
	        0) {
		c->id = id;
		copy_blob(&c->secret, &r, 0, 7);
		copy_blob(&c->refresh, &r, 0, 8);
		copy_blob(&c->access, &r, 0, 9);
		c->access_fresh = db_res_int(&r, 0, 10) != 0;
		c->gen = (uint64_t)db_res_int(&r, 0, 12);
		c->lease_age_ms = db_res_int(&r, 0, 13);
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}

void
store_mailbox_token_cleanup(struct mailbox_creds *c)
{
	buf_cleanup(&c->secret);
	buf_cleanup(&c->refresh);
	buf_cleanup(&c->access);
}

/* Store a new connection: tokens, who signed in, and status. */
int
store_mailbox_token_connect(struct db *db, uint64_t id,
    enum mailbox_status status, const struct connection *cn, struct err *err)
{
	struct db_param p[] = {
		db_str(mailbox_status_name(status)),
		db_blob(cn->refresh->data, cn->refresh->len),
		db_blob(cn->access->data, cn->access->len),
		db_int(cn->expires_in),
		db_str(cn->account),
		db_str(cn->oid),
		db_str(cn->tenant),
		cn->inbox_count >= 0 ? db_int(cn->inbox_count) : db_null(),
		db_int((long long)id),
	};

	return db_exec(db, SQL_CONNECT_SAVE, p, DB_NPARAMS(p), NULL, err);
}

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

/* Tries of the save beyond lib/adapt/db.c's own (DB_STMT_TRIES each). */
#define SAVE_TRIES 8

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
 *
 * On Galera the read of gen may be stale (another node committed a newer
 * generation, or a lease, that this node has not applied yet).  The
 * UPDATE then either sees the newer row (no match) or matches the stale
 * one and fails certification at commit against the newer write (1213,
 * after the server's own autocommit retry and lib/adapt/db.c's): either
 * way the lease is not won, and a stale reader never sends a rotated-out
 * refresh token.  tests/integration/test_galera.py races refreshes
 * through the three nodes.
 */
int
store_mailbox_token_lease(struct db *db, uint64_t id, uint64_t gen,
    long seconds, int *won, struct err *err)
{
	struct db_param p[] = { db_int(seconds), db_int((long long)id),
		db_int((long long)gen), CONNECTED };

	if (changed(db, SQL_LEASE, p, DB_NPARAMS(p), won, err) == 0)
		return 0;
	if (!db_errno_conflict(db_last_errno(db)))
		return -1;
	*won = 0; /* someone else wrote the row: read it again */
	return 0;
}

/* Give the lease back after a refresh that stored nothing. */
int
store_mailbox_token_release(struct db *db, uint64_t id, uint64_t gen,
    struct err *err)
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
store_mailbox_token_save(struct db *db, uint64_t id, uint64_t gen,
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
	int rc;

	/*
	 * Microsoft has rotated the old token out: losing the new one costs
	 * the grant.  Another node's write to the row (the scanner's counters)
	 * can fail this one's certification, so keep trying: the
	 * compare-and-swap on gen makes every try safe.
	 */
	for (unsigned try = 0;; try++) {
		rc = changed(db, SQL_TOKENS_SAVE, p, DB_NPARAMS(p), won, err);
		if (rc == 0 || !db_errno_conflict(db_last_errno(db)) ||
		    try >= SAVE_TRIES)
			return rc;
		db_backoff(db, try);
	}
}

/*
 * Microsoft refused refresh token generation gen: the status becomes
 * status (lib/domain/mailbox_state.c says which), tokens forgotten, lease
 * released — unless the token changed meanwhile (*won 0).
 */
int
store_mailbox_token_refused(struct db *db, uint64_t id, uint64_t gen,
    enum mailbox_status status, int *won, struct err *err)
{
	struct db_param p[] = { db_str(mailbox_status_name(status)),
		db_int((long long)id), db_int((long long)gen) };

	return changed(db, SQL_REFUSED, p, DB_NPARAMS(p), won, err);
}
