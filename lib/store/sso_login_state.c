/*
 * sso_login_state: the single-use states of sign-ins with Microsoft under
 * way (sql/0017_sso.sql), as store/oauth_state.c keeps Authorize
 * Application's.
 */
#include <string.h>

#include "store/sso.h"
#include "store/store.h"

/* Expired states are of no use (used or not): each new one sweeps up to
 * 200, so anonymous starts cannot grow the table beyond what 10 minutes of
 * them hold (nginx's flood guard limits those per address). */
static const char SQL_SWEEP[] =
    "DELETE FROM sso_login_state WHERE expires_at < UTC_TIMESTAMP() "
    "LIMIT 200";
static const char SQL_ADD[] =
    "INSERT INTO sso_login_state (state_hash, browser_hash, nonce, "
    "verifier_sealed, created_at, expires_at) VALUES (?, ?, ?, ?, "
    "UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL 10 MINUTE)";
static const char SQL_GET[] =
    "SELECT id, browser_hash, nonce, verifier_sealed, used_at IS NOT NULL, "
    "expires_at <= UTC_TIMESTAMP() FROM sso_login_state WHERE state_hash = ?";
static const char SQL_USE[] =
    "UPDATE sso_login_state SET used_at = UTC_TIMESTAMP() "
    "WHERE id = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP()";

/* Record a new state (valid 10 minutes), sweeping expired ones. */
int
store_sso_login_state_add(struct db *db, const unsigned char *state_hash,
    const unsigned char *browser_hash, const char *nonce,
    const struct buf *verifier, struct err *err)
{
	struct db_param p[] = { db_blob(state_hash, CRED_HASH_BYTES),
		db_blob(browser_hash, CRED_HASH_BYTES), db_str(nonce),
		db_blob(verifier->data, verifier->len) };

	if (db_exec(db, SQL_SWEEP, NULL, 0, NULL, err) == -1)
		return -1;
	return db_exec(db, SQL_ADD, p, DB_NPARAMS(p), NULL, err);
}

/* Find a state by hash; E_NOTFOUND if unknown.  Free with cleanup. */
int
store_sso_login_state_get(struct db *db, const unsigned char *state_hash,
    struct sso_login_state *s, struct err *err)
{
	struct db_param p[] = { db_blob(state_hash, CRED_HASH_BYTES) };
	struct db_res   r;
	int             rc = -1;

	memset(s, 0, sizeof *s);
	buf_init(&s->verifier, 64);
	if (db_query(db, SQL_GET, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0) {
		err_set(err, E_NOTFOUND, "unknown state");
	} else if (db_res_len(&r, 0, 1) != CRED_HASH_BYTES) {
		err_set(err, E_DB,
		    "sso_login_state.browser_hash is not 32 bytes");
	} else if (store_row_copy(s->nonce, sizeof s->nonce, &r, 0, 2, err) ==
	    0) {
		s->id = (uint64_t)db_res_int(&r, 0, 0);
		memcpy(s->browser_hash, db_res_str(&r, 0, 1), CRED_HASH_BYTES);
		buf_append(&s->verifier, db_res_str(&r, 0, 3),
		    db_res_len(&r, 0, 3));
		s->used = db_res_int(&r, 0, 4) != 0;
		s->expired = db_res_int(&r, 0, 5) != 0;
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}

/* Mark state id used; *won is 1 only for the one caller that did. */
int
store_sso_login_state_use(struct db *db, uint64_t id, int *won, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_USE, p, 1, &info, err) == -1)
		return -1;
	*won = info.affected == 1;
	return 0;
}

void
store_sso_login_state_cleanup(struct sso_login_state *s)
{
	buf_cleanup(&s->verifier);
}
