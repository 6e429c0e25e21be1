/*
 * store_mailbox: mailbox configuration rows.  The client secret arrives
 * here already sealed and is never read back by these functions.
 */
#include <string.h>

#include "store.h"
#include "xmalloc.h"

#define MB_COLS                                                                \
	"id, name, type, client_id, tenant_id, secret_last4, "                 \
	"DATE_FORMAT(secret_expires_on, '%Y-%m-%d'), shared_address, "         \
	"cloud, processed_action, processed_folder, first_scan, "              \
	"ack_enabled, status, "                                                \
	"DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "                      \
	"DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%sZ'), "                      \
	"account, connected_tenant, "                                          \
	"DATE_FORMAT(connected_at, '%Y-%m-%dT%H:%i:%sZ'), inbox_count, "       \
	"last_error_code, last_error, last_error_guidance, "                   \
	"DATE_FORMAT(last_error_at, '%Y-%m-%dT%H:%i:%sZ'), "                   \
	"secret_expires_on < UTC_DATE() + INTERVAL 14 DAY, "                   \
	"DATE_FORMAT(last_scan_at, '%Y-%m-%dT%H:%i:%sZ'), "                    \
	"DATE_FORMAT(last_success_at, '%Y-%m-%dT%H:%i:%sZ'), "                 \
	"messages_waiting, ack_subject, ack_body, ack_per_hour, "              \
	"quarantine_folder, " STORE_MAILBOX_ATTENTION ", version"

static const char SQL_MB_INSERT[] =
    "INSERT INTO mailbox (name, type, client_id, tenant_id, secret_sealed, "
    "secret_last4, secret_expires_on, shared_address, cloud, "
    "processed_action, processed_folder, first_scan, ack_enabled, "
    "ack_subject, ack_body, ack_per_hour, quarantine_folder, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "UTC_TIMESTAMP(), UTC_TIMESTAMP())";
static const char SQL_MB_UPDATE[] =
    "UPDATE mailbox SET name = ?, type = ?, client_id = ?, tenant_id = ?, "
    "secret_sealed = COALESCE(?, secret_sealed), "
    "secret_last4 = ?, secret_expires_on = ?, shared_address = ?, "
    "cloud = ?, processed_action = ?, processed_folder = ?, "
    "first_scan = ?, ack_enabled = ?, ack_subject = ?, ack_body = ?, "
    "ack_per_hour = ?, quarantine_folder = ?, updated_at = UTC_TIMESTAMP(), "
    "version = version + 1 WHERE id = ? AND version = ?";
static const char SQL_MB_GET[] = "SELECT " MB_COLS " FROM mailbox WHERE id = ?";
static const char SQL_MB_LIST[] = "SELECT " MB_COLS " FROM mailbox ORDER BY id";
static const char SQL_MB_DELETE[] = "DELETE FROM mailbox WHERE id = ?";

static struct db_param
opt_str(const char *s)
{
	return s[0] ? db_str(s) : db_null();
}

/* The 12 value parameters shared by insert and update, after the secret. */
static void
mb_params(const struct mailbox *mb, struct db_param *p)
{
	p[0] = db_str(mb->secret_last4);
	p[1] = opt_str(mb->secret_expires_on);
	p[2] = opt_str(mb->shared_address);
	p[3] = db_str(mb->cloud);
	p[4] = db_str(mb->processed_action);
	p[5] = opt_str(mb->processed_folder);
	p[6] = db_str(mb->first_scan);
	p[7] = db_int(mb->ack_enabled);
	p[8] = db_str(mb->ack_subject);
	p[9] = opt_str(mb->ack_body);
	p[10] = db_int(mb->ack_per_hour);
	p[11] = db_str(mb->quarantine_folder);
}

/* Insert a mailbox; E_CONFLICT when the name is taken. */
int
store_mailbox_insert(struct db *db, const struct mailbox *mb,
    const struct buf *sealed, uint64_t *id, struct err *err)
{
	struct db_param     p[17];
	struct db_exec_info info;

	p[0] = db_str(mb->name);
	p[1] = db_str(mb->type);
	p[2] = db_str(mb->client_id);
	p[3] = db_str(mb->tenant_id);
	p[4] = db_blob(sealed->data, sealed->len);
	mb_params(mb, &p[5]);
	if (db_exec(db, SQL_MB_INSERT, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	*id = info.insert_id;
	return 0;
}

/*
 * Update every setting of mailbox mb->id if it is still at mb->version
 * (then one more); sealed NULL keeps the stored secret.  E_NOTFOUND if
 * there is no such mailbox, E_CHANGED if another write came first,
 * E_CONFLICT for a taken name.
 */
int
store_mailbox_update(struct db *db, const struct mailbox *mb,
    const struct buf *sealed, struct err *err)
{
	struct db_param     p[19];
	struct db_exec_info info;
	struct mailbox      cur;

	p[0] = db_str(mb->name);
	p[1] = db_str(mb->type);
	p[2] = db_str(mb->client_id);
	p[3] = db_str(mb->tenant_id);
	p[4] = sealed ? db_blob(sealed->data, sealed->len) : db_null();
	mb_params(mb, &p[5]);
	p[17] = db_int((long long)mb->id);
	p[18] = db_int((long long)mb->version);
	if (db_exec(db, SQL_MB_UPDATE, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	if (info.affected > 0) /* the version changes: never "no change" */
		return 0;
	if (store_mailbox_get(db, mb->id, &cur, err) == -1)
		return -1;
	err_set(err, E_CHANGED, "Mailbox %llu changed meanwhile.",
	    (unsigned long long)mb->id);
	return -1;
}

static int
mb_from_row(struct mailbox *mb, const struct db_res *r, size_t i,
    struct err *err)
{
	struct {
		char  *dst;
		size_t size;
		size_t col;
	} cols[] = {
		{ mb->name, sizeof mb->name, 1 },
		{ mb->type, sizeof mb->type, 2 },
		{ mb->client_id, sizeof mb->client_id, 3 },
		{ mb->tenant_id, sizeof mb->tenant_id, 4 },
		{ mb->secret_last4, sizeof mb->secret_last4, 5 },
		{ mb->secret_expires_on, sizeof mb->secret_expires_on, 6 },
		{ mb->shared_address, sizeof mb->shared_address, 7 },
		{ mb->cloud, sizeof mb->cloud, 8 },
		{ mb->processed_action, sizeof mb->processed_action, 9 },
		{ mb->processed_folder, sizeof mb->processed_folder, 10 },
		{ mb->first_scan, sizeof mb->first_scan, 11 },
		{ mb->status, sizeof mb->status, 13 },
		{ mb->created_at, sizeof mb->created_at, 14 },
		{ mb->updated_at, sizeof mb->updated_at, 15 },
		{ mb->account, sizeof mb->account, 16 },
		{ mb->connected_tenant, sizeof mb->connected_tenant, 17 },
		{ mb->connected_at, sizeof mb->connected_at, 18 },
		{ mb->last_error_code, sizeof mb->last_error_code, 20 },
		{ mb->last_error, sizeof mb->last_error, 21 },
		{ mb->last_error_guidance, sizeof mb->last_error_guidance, 22 },
		{ mb->last_error_at, sizeof mb->last_error_at, 23 },
		{ mb->last_scan_at, sizeof mb->last_scan_at, 25 },
		{ mb->last_success_at, sizeof mb->last_success_at, 26 },
		{ mb->ack_subject, sizeof mb->ack_subject, 28 },
		{ mb->ack_body, sizeof mb->ack_body, 29 },
		{ mb->quarantine_folder, sizeof mb->quarantine_folder, 31 },
	};

	/* Every member is assigned below (no memset: the struct is large
	 * and a list fills many). */
	mb->id = (uint64_t)db_res_int(r, i, 0);
	for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
		if (store_copy(cols[c].dst, cols[c].size, r, i, cols[c].col,
		        err) == -1)
			return -1;
	mb->ack_enabled = db_res_int(r, i, 12) != 0;
	mb->inbox_count = db_res_str(r, i, 19) ? db_res_int(r, i, 19) : -1;
	mb->secret_expiring = db_res_int(r, i, 24) != 0;
	mb->messages_waiting = db_res_str(r, i, 27) ? db_res_int(r, i, 27) : -1;
	mb->ack_per_hour = (long)db_res_int(r, i, 30);
	mb->attention = db_res_int(r, i, 32);
	mb->version = (uint64_t)db_res_int(r, i, 33);
	return 0;
}

/* Load mailbox id; E_NOTFOUND if there is none. */
int
store_mailbox_get(struct db *db, uint64_t id, struct mailbox *mb,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   r;
	int             rc = -1;

	if (db_query(db, SQL_MB_GET, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0)
		err_set(err, E_NOTFOUND, "No mailbox with id %llu.",
		    (unsigned long long)id);
	else
		rc = mb_from_row(mb, &r, 0, err);
	db_res_free(&r);
	return rc;
}

/* Every mailbox by id into *mbs (caller frees with free()). */
int
store_mailbox_list(struct db *db, struct mailbox **mbs, size_t *n,
    struct err *err)
{
	struct db_res r;
	int           rc = 0;

	if (db_query(db, SQL_MB_LIST, NULL, 0, &r, err) == -1)
		return -1;
	/* mb_from_row() zeroes each row: no need for calloc's pass */
	*mbs = xmalloc(r.nrows * sizeof **mbs);
	*n = r.nrows;
	for (size_t i = 0; rc == 0 && i < r.nrows; i++)
		rc = mb_from_row(&(*mbs)[i], &r, i, err);
	db_res_free(&r);
	return rc;
}

/* Delete mailbox id; E_NOTFOUND if there is none. */
int
store_mailbox_delete(struct db *db, uint64_t id, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id) };
	struct db_exec_info info;

	if (db_exec(db, SQL_MB_DELETE, p, 1, &info, err) == -1)
		return -1;
	if (info.affected == 0) {
		err_set(err, E_NOTFOUND, "No mailbox with id %llu.",
		    (unsigned long long)id);
		return -1;
	}
	return 0;
}
