/*
 * store_connect: OAuth state rows and the sealed tokens of a connection.
 * Every change of the stored refresh token counts up refresh_gen; token
 * refresh (store_refresh.c) saves only against the count it read.
 */
#include <string.h>

#include "store.h"

static const char SQL_CREDS[] =
    "SELECT id, status, client_id, COALESCE(connected_tenant, tenant_id), "
    "cloud, COALESCE(shared_address, ''), COALESCE(account, ''), "
    "secret_sealed, refresh_token_sealed, access_token_sealed, "
    "access_expires_at > UTC_TIMESTAMP() + INTERVAL 5 MINUTE, tenant_id, "
    "refresh_gen, IF(refresh_lease_until > UTC_TIMESTAMP(3), "
    "TIMESTAMPDIFF(MICROSECOND, refresh_leased_at, UTC_TIMESTAMP(3)) "
    "DIV 1000, -1) FROM mailbox WHERE id = ?";
static const char SQL_STATE_ADD[] =
    "INSERT INTO oauth_state (state_hash, mailbox_id, session_id, "
    "verifier_sealed, redirect_uri, created_by, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(), "
    "UTC_TIMESTAMP() + INTERVAL 10 MINUTE)";
static const char SQL_STATE_SWEEP[] =
    "DELETE FROM oauth_state WHERE expires_at < UTC_TIMESTAMP() - "
    "INTERVAL 1 DAY";
static const char SQL_STATE_GET[] =
    "SELECT id, mailbox_id, COALESCE(session_id, 0), verifier_sealed, "
    "redirect_uri, used_at IS NOT NULL, expires_at <= UTC_TIMESTAMP() "
    "FROM oauth_state WHERE state_hash = ?";
static const char SQL_STATE_USE[] =
    "UPDATE oauth_state SET used_at = UTC_TIMESTAMP() "
    "WHERE id = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP()";
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
static const char SQL_SET_STATUS[] =
    "UPDATE mailbox SET status = ?, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ?";
static const char SQL_SET_STATUS_FORGET[] =
    "UPDATE mailbox SET status = ?, refresh_token_sealed = NULL, "
    "access_token_sealed = NULL, access_expires_at = NULL, "
    "refresh_gen = refresh_gen + 1, refresh_lease_until = NULL, "
    "updated_at = UTC_TIMESTAMP() WHERE id = ?";
static const char SQL_SET_ERROR[] =
    "UPDATE mailbox SET last_error_code = ?, last_error = LEFT(?, 1000), "
    "last_error_guidance = LEFT(?, 1000), last_error_at = UTC_TIMESTAMP() "
    "WHERE id = ?";

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
 * store_creds_cleanup().
 */
int
store_creds_get(struct db *db, uint64_t id, struct mailbox_creds *c,
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
	} else if (store_copy(c->client_id, sizeof c->client_id, &r, 0, 2,
	               err) == 0 &&
	    store_copy(c->tenant, sizeof c->tenant, &r, 0, 3, err) == 0 &&
	    store_copy(c->cloud, sizeof c->cloud, &r, 0, 4, err) == 0 &&
	    store_copy(c->shared_address, sizeof c->shared_address, &r, 0, 5,
	        err) == 0 &&
	    store_copy(c->account, sizeof c->account, &r, 0, 6, err) == 0 &&
	    store_copy(c->tenant_id, sizeof c->tenant_id, &r, 0, 11, err) ==
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
store_creds_cleanup(struct mailbox_creds *c)
{
	buf_cleanup(&c->secret);
	buf_cleanup(&c->refresh);
	buf_cleanup(&c->access);
}

/* Record a new state (valid 10 minutes), sweeping long-dead ones. */
int
store_state_add(struct db *db, const unsigned char *hash, uint64_t mailbox,
    uint64_t session_id, const struct buf *verifier, const char *redirect,
    const char *created_by, struct err *err)
{
	struct db_param p[] = { db_blob(hash, CRED_HASH_BYTES),
		db_int((long long)mailbox),
		session_id ? db_int((long long)session_id) : db_null(),
		db_blob(verifier->data, verifier->len), db_str(redirect),
		db_str(created_by) };

	if (db_exec(db, SQL_STATE_SWEEP, NULL, 0, NULL, err) == -1)
		return -1;
	return db_exec(db, SQL_STATE_ADD, p, DB_NPARAMS(p), NULL, err);
}

/* Find a state by hash; E_NOTFOUND if unknown.  Free with cleanup. */
int
store_state_get(struct db *db, const unsigned char *hash, struct oauth_state *s,
    struct err *err)
{
	struct db_param p[] = { db_blob(hash, CRED_HASH_BYTES) };
	struct db_res   r;
	int             rc = -1;

	memset(s, 0, sizeof *s);
	buf_init(&s->verifier, 64);
	if (db_query(db, SQL_STATE_GET, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0) {
		err_set(err, E_NOTFOUND, "unknown state");
	} else if (store_copy(s->redirect_uri, sizeof s->redirect_uri, &r, 0, 4,
	               err) == 0) {
		s->id = (uint64_t)db_res_int(&r, 0, 0);
		s->mailbox_id = (uint64_t)db_res_int(&r, 0, 1);
		s->session_id = (uint64_t)db_res_int(&r, 0, 2);
		buf_append(&s->verifier, db_res_str(&r, 0, 3),
		    db_res_len(&r, 0, 3));
		s->used = db_res_int(&r, 0, 5) != 0;
		s->expired = db_res_int(&r, 0, 6) != 0;
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}

void
store_state_cleanup(struct oauth_state *s)
{
	buf_cleanup(&s->verifier);
}

/* Mark state id used; *won is 1 only for the one caller that did. */
int
store_state_use(struct db *db, uint64_t id, int *won, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_STATE_USE, p, 1, &info, err) == -1)
		return -1;
	*won = info.affected == 1;
	return 0;
}

/* Store a new connection: tokens, who signed in, and status. */
int
store_connect_save(struct db *db, uint64_t id, enum mailbox_status status,
    const struct connection *cn, struct err *err)
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

/* Set the status; forget_tokens also drops the sealed tokens. */
int
store_mailbox_set_status(struct db *db, uint64_t id, enum mailbox_status status,
    int forget_tokens, struct err *err)
{
	struct db_param p[] = { db_str(mailbox_status_name(status)),
		db_int((long long)id) };

	return db_exec(db,
	    forget_tokens ? SQL_SET_STATUS_FORGET : SQL_SET_STATUS, p, 2, NULL,
	    err);
}

/* Record the last error and its guidance (code NULL clears it). */
int
store_mailbox_set_error(struct db *db, uint64_t id, const char *code,
    const char *message, const char *guidance, struct err *err)
{
	struct db_param p[] = { db_str(code), db_str(message), db_str(guidance),
		db_int((long long)id) };

	return db_exec(db, SQL_SET_ERROR, p, 4, NULL, err);
}
