/*
 * api_key: API keys for tools, stored as the SHA-256 of the key.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "base/xmalloc.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

static const char SQL_APIKEY_INSERT[] =
    "INSERT INTO api_key (name, role, prefix, key_hash, created_at) "
    "VALUES (?, ?, ?, ?, UTC_TIMESTAMP())";
static const char SQL_APIKEY_LOOKUP[] = "SELECT id, name, role, prefix, " TS(
    "created_at") ", "
                  "last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP() - "
                  "INTERVAL 1 "
                  "MINUTE FROM api_key WHERE key_hash = ? AND revoked_at IS "
                  "NULL";
static const char SQL_APIKEY_TOUCH[] =
    "UPDATE api_key SET last_used_at = UTC_TIMESTAMP() WHERE id = ?";
static const char SQL_APIKEY_LIST[] =
    "SELECT id, name, role, prefix, " TS("created_at") ", " TS(
        "last_used_at") ", " TS("revoked_at") " FROM api_key ORDER BY id";
static const char SQL_APIKEY_REVOKE[] =
    "UPDATE api_key SET revoked_at = UTC_TIMESTAMP() "
    "WHERE id = ? AND revoked_at IS NULL";

int
store_api_key_create(struct db *db, const char *name, const char *role,
    const char *prefix, const unsigned char *hash, uint64_t *id,
    struct err *err)
{
	struct db_param     p[] = { db_str(name), db_str(role), db_str(prefix),
		    db_blob(hash, CRED_HASH_BYTES) };
	struct db_exec_info info;

	if (db_exec(db, SQL_APIKEY_INSERT, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	*id = info.insert_id;
	return 0;
}

static int
key_from_row(struct api_key *k, const struct db_res *r, size_t row,
    struct err *err)
{
	memset(k, 0, sizeof *k);
	k->id = (uint64_t)db_res_int(r, row, 0);
	return store_row_copy(k->name, sizeof k->name, r, row, 1, err) == -1 ||
	        store_row_copy(k->role, sizeof k->role, r, row, 2, err) == -1 ||
	        store_row_copy(k->prefix, sizeof k->prefix, r, row, 3, err) ==
	            -1 ||
	        store_row_copy(k->created_at, sizeof k->created_at, r, row, 4,
	            err) == -1
	    ? -1
	    : 0;
}

/* Find an unrevoked key by hash; E_NOTFOUND if there is none. */
int
store_api_key_lookup(struct db *db, const unsigned char *hash,
    struct api_key *k, struct err *err)
{
	struct db_param p[] = { db_blob(hash, CRED_HASH_BYTES) };
	struct db_res   r;
	int             rc = -1;

	if (db_query(db, SQL_APIKEY_LOOKUP, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0) {
		err_set(err, E_NOTFOUND, "no such key");
	} else if (key_from_row(k, &r, 0, err) == 0) {
		k->touch_due = db_res_int(&r, 0, 5) != 0;
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}

int
store_api_key_touch(struct db *db, uint64_t id, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_exec(db, SQL_APIKEY_TOUCH, p, 1, NULL, err);
}

/* All keys, oldest first, in *keys (caller frees with free()). */
int
store_api_key_list(struct db *db, struct api_key **keys, size_t *n,
    struct err *err)
{
	struct db_res r;
	int           rc = 0;

	if (db_query(db, SQL_APIKEY_LIST, NULL, 0, &r, err) == -1)
		return -1;
	*keys = xcalloc(r.nrows, sizeof **keys);
	*n = r.nrows;
	for (size_t i = 0; rc == 0 && i < r.nrows; i++) {
		struct api_key *k = &(*keys)[i];

		if (key_from_row(k, &r, i, err) == -1 ||
		    store_row_copy(k->last_used_at, sizeof k->last_used_at, &r,
		        i, 5, err) == -1 ||
		    store_row_copy(k->revoked_at, sizeof k->revoked_at, &r, i,
		        6, err) == -1)
			rc = -1;
	}
	db_res_free(&r);
	return rc;
}

/* Revoke key id; E_NOTFOUND if no such unrevoked key. */
int
store_api_key_revoke(struct db *db, uint64_t id, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_APIKEY_REVOKE, p, 1, &info, err) == -1)
		return -1;
	if (info.affected == 0) {
		err_set(err, E_NOTFOUND, "no such active API key: %llu",
		    (unsigned long long)id);
		return -1;
	}
	return 0;
}
