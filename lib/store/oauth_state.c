/*
 * oauth_state: the single-use OAuth state rows of Authorize Application
 * (lib/domain/mailbox_connect.c).
 */
#include <string.h>
#include "store/store.h"

static const char SQL_STATE_USE[] =
    "UPDATE oauth_state SET used_at = UTC_TIMESTAMP() "
    "WHERE id = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP()";
static const char SQL_STATE_GET[] =
    "SELECT id, mailbox_id, COALESCE(session_id, 0), verifier_sealed, "
    "redirect_uri, used_at IS NOT NULL, expires_at <= UTC_TIMESTAMP() "
    "FROM oauth_state WHERE state_hash = ?";
static const char SQL_STATE_SWEEP[] =
    "DELETE FROM oauth_state WHERE expires_at < UTC_TIMESTAMP() - "
    "INTERVAL 1 DAY";
static const char SQL_STATE_ADD[] =
    "INSERT INTO oauth_state (state_hash, mailbox_id, session_id, "
    "verifier_sealed, redirect_uri, created_by, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(), "
    "UTC_TIMESTAMP() + INTERVAL 10 MINUTE)";

/* Record a new state (valid 10 minutes), sweeping long-dead ones. */
int
store_oauth_state_add(struct db *db, const unsigned char *hash,
    uint64_t mailbox, uint64_t session_id, const struct buf *verifier,
    const char *redirect, const char *created_by, struct err *err)
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
store_oauth_state_get(struct db *db, const unsigned char *hash,
    struct oauth_state *s, struct err *err)
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
	} else if (store_row_copy(s->redirect_uri, sizeof s->redirect_uri, &r,
	               0, 4, err) == 0) {
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
store_oauth_state_cleanup(struct oauth_state *s)
{
	buf_cleanup(&s->verifier);
}

/* Mark state id used; *won is 1 only for the one caller that did. */
int
store_oauth_state_use(struct db *db, uint64_t id, int *won, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_STATE_USE, p, 1, &info, err) == -1)
		return -1;
	*won = info.affected == 1;
	return 0;
}
