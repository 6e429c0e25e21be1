/*
 * agent: agents and their portal sessions (tables agent, session).
 */
#include <string.h>

#include "store/store.h"

static const char SQL_AGENT_INSERT[] =
    "INSERT INTO agent (username, display_name, role, password_hash, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(), "
    "UTC_TIMESTAMP())";
static const char SQL_AGENT_BY_USERNAME[] =
    "SELECT id, username, display_name, role, password_hash, disabled "
    "FROM agent WHERE username = ?";
static const char SQL_AGENT_COUNT[] = "SELECT COUNT(*) FROM agent";
static const char SQL_AGENT_ACTIVE[] =
    "SELECT COUNT(*) FROM agent WHERE id = ? AND disabled = 0";
static const char SQL_AGENT_LIST[] =
    "SELECT id, username, display_name, role, ms_oid IS NOT NULL "
    "FROM agent WHERE disabled = 0 ORDER BY display_name, id";
static const char SQL_AGENT_BY_OID[] =
    "SELECT id, username, display_name, role, password_hash, disabled "
    "FROM agent WHERE ms_oid = ?";
static const char SQL_AGENT_BY_ID[] =
    "SELECT id, username, display_name, role, password_hash, disabled "
    "FROM agent WHERE id = ?";
static const char SQL_AGENT_LINK_OID[] =
    "UPDATE agent SET ms_oid = ?, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ? AND ms_oid IS NULL";
static const char SQL_AGENT_SET_PASSWORD[] =
    "UPDATE agent SET password_hash = ?, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ?";

static const char SQL_SESSION_INSERT[] =
    "INSERT INTO session (token_hash, agent_id, csrf_token, created_at, "
    "last_seen_at, expires_at, remote_addr) VALUES (?, ?, ?, "
    "UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL ? HOUR, ?)";
static const char SQL_SESSION_LOOKUP[] =
    "SELECT s.id, s.csrf_token, "
    "s.last_seen_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE, a.id, "
    "a.username, a.display_name, a.role FROM session s "
    "JOIN agent a ON a.id = s.agent_id WHERE s.token_hash = ? "
    "AND s.expires_at > UTC_TIMESTAMP() "
    "AND s.last_seen_at > UTC_TIMESTAMP() - INTERVAL ? MINUTE "
    "AND a.disabled = 0";
static const char SQL_SESSION_TOUCH[] =
    "UPDATE session SET last_seen_at = UTC_TIMESTAMP() WHERE id = ?";
static const char SQL_SESSION_DELETE[] =
    "DELETE FROM session WHERE token_hash = ? "
    "OR expires_at < UTC_TIMESTAMP() - INTERVAL 1 DAY";
static const char SQL_SESSION_DELETE_AGENT[] =
    "DELETE FROM session WHERE agent_id = ?";

/* Insert an agent; E_CONFLICT if the username is taken. */
int
store_agent_create(struct db *db, const char *username,
    const char *display_name, const char *role, const char *pwhash,
    uint64_t *id, struct err *err)
{
	struct db_param     p[] = { db_str(username), db_str(display_name),
		    db_str(role), db_str(pwhash) };
	struct db_exec_info info;

	if (db_exec(db, SQL_AGENT_INSERT, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	if (id != NULL)
		*id = info.insert_id;
	return 0;
}

static int
agent_from_row(struct agent *a, const struct db_res *r, size_t row, size_t col,
    struct err *err)
{
	a->id = (uint64_t)db_res_int(r, row, col);
	return store_row_copy(a->username, sizeof a->username, r, row, col + 1,
	           err) == -1 ||
	        store_row_copy(a->display_name, sizeof a->display_name, r, row,
	            col + 2, err) == -1 ||
	        store_row_copy(a->role, sizeof a->role, r, row, col + 3, err) ==
	            -1
	    ? -1
	    : 0;
}

/* One agent by sql and its one parameter p; E_NOTFOUND if none. */
static int
agent_one(struct db *db, const char *sql, struct db_param p, struct agent *a,
    struct err *err)
{
	struct db_res r;
	int           rc = -1;

	if (db_query(db, sql, &p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0)
		err_set(err, E_NOTFOUND, "no such agent");
	else if (agent_from_row(a, &r, 0, 0, err) == 0 &&
	    store_row_copy(a->password_hash, sizeof a->password_hash, &r, 0, 4,
	        err) == 0) {
		a->disabled = db_res_int(&r, 0, 5) != 0;
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}

/* Load an agent by username; E_NOTFOUND if there is none. */
int
store_agent_by_username(struct db *db, const char *username, struct agent *a,
    struct err *err)
{
	return agent_one(db, SQL_AGENT_BY_USERNAME, db_str(username), a, err);
}

/* The agent linked to Microsoft object id oid; E_NOTFOUND if none. */
int
store_agent_by_oid(struct db *db, const char *oid, struct agent *a,
    struct err *err)
{
	return agent_one(db, SQL_AGENT_BY_OID, db_str(oid), a, err);
}

int
store_agent_by_id(struct db *db, uint64_t id, struct agent *a, struct err *err)
{
	return agent_one(db, SQL_AGENT_BY_ID, db_int((long long)id), a, err);
}

/*
 * Link agent id to Microsoft object id oid; *won is 0 when the agent was
 * linked already (to any account).  E_CONFLICT when another agent has oid.
 */
int
store_agent_link_oid(struct db *db, uint64_t id, const char *oid, int *won,
    struct err *err)
{
	struct db_param     p[] = { db_str(oid), db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_AGENT_LINK_OID, p, 2, &info, err) == -1)
		return -1;
	*won = info.affected == 1;
	return 0;
}

int
store_agent_count(struct db *db, long long *n, struct err *err)
{
	struct db_res r;

	if (db_query(db, SQL_AGENT_COUNT, NULL, 0, &r, err) == -1)
		return -1;
	*n = db_res_int(&r, 0, 0);
	db_res_free(&r);
	return 0;
}

int
store_agent_set_password(struct db *db, uint64_t id, const char *pwhash,
    struct err *err)
{
	struct db_param p[] = { db_str(pwhash), db_int((long long)id) };

	return db_exec(db, SQL_AGENT_SET_PASSWORD, p, 2, NULL, err);
}

/* Store a new session keyed by the SHA-256 of its token. */
int
store_session_create(struct db *db, const unsigned char *token_hash,
    uint64_t agent_id, const char *csrf, long max_hours,
    const char *remote_addr, struct err *err)
{
	struct db_param p[] = { db_blob(token_hash, CRED_HASH_BYTES),
		db_int((long long)agent_id), db_str(csrf), db_int(max_hours),
		db_str(remote_addr) };

	return db_exec(db, SQL_SESSION_INSERT, p, DB_NPARAMS(p), NULL, err);
}

/*
 * Find a live session (not past its absolute or idle expiry, agent
 * enabled).  E_NOTFOUND if there is none.
 */
int
store_session_lookup(struct db *db, const unsigned char *token_hash,
    long idle_minutes, struct session *s, struct err *err)
{
	struct db_param p[] = { db_blob(token_hash, CRED_HASH_BYTES),
		db_int(idle_minutes) };
	struct db_res   r;
	int             rc = -1;

	if (db_query(db, SQL_SESSION_LOOKUP, p, 2, &r, err) == -1)
		return -1;
	if (r.nrows == 0) {
		err_set(err, E_NOTFOUND, "no such session");
	} else if (store_row_copy(s->csrf, sizeof s->csrf, &r, 0, 1, err) ==
	        0 &&
	    agent_from_row(&s->agent, &r, 0, 3, err) == 0) {
		s->id = (uint64_t)db_res_int(&r, 0, 0);
		s->touch_due = db_res_int(&r, 0, 2) != 0;
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}

int
store_session_touch(struct db *db, uint64_t id, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_exec(db, SQL_SESSION_TOUCH, p, 1, NULL, err);
}

/* Delete the session (and sweep long-expired ones). */
int
store_session_delete(struct db *db, const unsigned char *token_hash,
    struct err *err)
{
	struct db_param p[] = { db_blob(token_hash, CRED_HASH_BYTES) };

	return db_exec(db, SQL_SESSION_DELETE, p, 1, NULL, err);
}

int
store_session_delete_agent(struct db *db, uint64_t agent_id, struct err *err)
{
	struct db_param p[] = { db_int((long long)agent_id) };

	return db_exec(db, SQL_SESSION_DELETE_AGENT, p, 1, NULL, err);
}

/* *yes: agent id exists and is not disabled. */
int
store_agent_active(struct db *db, uint64_t id, int *yes, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   r;

	if (db_query(db, SQL_AGENT_ACTIVE, p, 1, &r, err) == -1)
		return -1;
	*yes = r.nrows && db_res_int(&r, 0, 0) > 0;
	db_res_free(&r);
	return 0;
}

/* The active agents: id, username, display_name, role (caller frees). */
int
store_agent_list(struct db *db, struct db_res *res, struct err *err)
{
	return db_query(db, SQL_AGENT_LIST, NULL, 0, res, err);
}
