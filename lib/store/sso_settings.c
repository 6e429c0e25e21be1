/*
 * sso_settings: the one row of "Sign in with Microsoft" settings
 * (sql/0017_sso.sql).  The secret stays sealed here; lib/domain/sso.c
 * seals and unseals it.
 */
#include <string.h>

#include "store/sso.h"
#include "store/store.h"

static const char SQL_GET[] =
    "SELECT enabled, COALESCE(mailbox_id, 0), tenant_id, client_id, "
    "secret_sealed, allow_address_match, require_microsoft, "
    "COALESCE(break_glass_agent_id, 0), version, updated_at "
    "FROM sso_settings WHERE id = 1";
static const char SQL_PUT[] =
    "UPDATE sso_settings SET enabled = ?, mailbox_id = ?, tenant_id = ?, "
    "client_id = ?, allow_address_match = ?, require_microsoft = ?, "
    "break_glass_agent_id = ?, version = version + 1, "
    "updated_at = UTC_TIMESTAMP() WHERE id = 1";
static const char SQL_PUT_SECRET[] =
    "UPDATE sso_settings SET secret_sealed = ? WHERE id = 1";

/* Read the settings (the migration made the row). */
int
store_sso_settings_get(struct db *db, struct sso_settings *s, struct err *err)
{
	struct db_res r;
	int           rc = -1;

	memset(s, 0, sizeof *s);
	buf_init(&s->secret, 128);
	if (db_query(db, SQL_GET, NULL, 0, &r, err) == -1)
		return -1;
	if (r.nrows == 0) {
		err_set(err, E_DB, "sso_settings has no row (migrate)");
	} else if (store_row_copy(s->tenant_id, sizeof s->tenant_id, &r, 0, 2,
	               err) == 0 &&
	    store_row_copy(s->client_id, sizeof s->client_id, &r, 0, 3, err) ==
	        0 &&
	    store_copy_time(s->updated_at, sizeof s->updated_at, &r, 0, 9,
	        err) == 0) {
		s->enabled = db_res_int(&r, 0, 0) != 0;
		s->mailbox_id = (uint64_t)db_res_int(&r, 0, 1);
		if (db_res_str(&r, 0, 4) != NULL)
			buf_append(&s->secret, db_res_str(&r, 0, 4),
			    db_res_len(&r, 0, 4));
		s->allow_address_match = db_res_int(&r, 0, 5) != 0;
		s->require_microsoft = db_res_int(&r, 0, 6) != 0;
		s->break_glass_agent_id = (uint64_t)db_res_int(&r, 0, 7);
		s->version = (uint64_t)db_res_int(&r, 0, 8);
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}

/* Write the settings (the sealed secret too when secret_changed). */
int
store_sso_settings_put(struct db *db, const struct sso_settings *s,
    int secret_changed, struct err *err)
{
	struct db_param p[] = { db_int(s->enabled),
		s->mailbox_id ? db_int((long long)s->mailbox_id) : db_null(),
		db_str(s->tenant_id), db_str(s->client_id),
		db_int(s->allow_address_match), db_int(s->require_microsoft),
		s->break_glass_agent_id
		    ? db_int((long long)s->break_glass_agent_id)
		    : db_null() };
	struct db_param q[] = { s->secret.len
		    ? db_blob(s->secret.data, s->secret.len)
		    : db_null() };

	if (db_exec(db, SQL_PUT, p, DB_NPARAMS(p), NULL, err) == -1)
		return -1;
	return secret_changed ? db_exec(db, SQL_PUT_SECRET, q, 1, NULL, err)
	                      : 0;
}

void
store_sso_settings_cleanup(struct sso_settings *s)
{
	buf_cleanup(&s->secret);
}
