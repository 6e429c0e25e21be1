/*
 * mailbox: mailbox configuration rows.  The client secret arrives
 * here already sealed and is never read back by these functions.
 */
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "base/xmalloc.h"

/*
 * The mailbox's push subscription (sql/0018_push.sql): state, last error,
 * expiry and last notification (to the second), one small subquery each.
 */
/* clang-format off */
#define PUSH_COL(c) \
	"(SELECT " c " FROM graph_subscription g WHERE g.mailbox_id = mailbox.id)"
#define PUSH_COLS \
	PUSH_COL("state") ", " PUSH_COL("last_error") ", " \
	PUSH_COL("expires_at") ", " \
	PUSH_COL("CAST(last_notification_at AS DATETIME)")
/* clang-format on */

/*
 * The columns of a mailbox read, in the order of enum mb_col.  Times come
 * as DATETIME text and are written as RFC 3339 in C (store_copy_time()):
 * formatting 6 dates a row in SQL cost the database more than the rest
 * of the list.
 */
#define MB_COLS                                                                \
	"mailbox.id, mailbox.name, type, client_id, tenant_id, "               \
	"secret_last4, secret_expires_on, shared_address, cloud, "             \
	"processed_action, processed_folder, first_scan, ack_enabled, "        \
	"status, mailbox.created_at, updated_at, account, connected_tenant, "  \
	"connected_at, inbox_count, last_error_code, last_error, "             \
	"last_error_guidance, last_error_at, last_scan_at, last_success_at, "  \
	"messages_waiting, ack_subject, ack_body, ack_per_hour, "              \
	"quarantine_folder, mailbox.attention, version, automatic_mail, "      \
	"credential_type, cert_thumbprint, cert_subject, "                     \
	"cert_expires_at, " PUSH_COLS

enum mb_col {
	MB_ID,
	MB_NAME,
	MB_TYPE,
	MB_CLIENT_ID,
	MB_TENANT_ID,
	MB_SECRET_LAST4,
	MB_SECRET_EXPIRES_ON,
	MB_SHARED_ADDRESS,
	MB_CLOUD,
	MB_PROCESSED_ACTION,
	MB_PROCESSED_FOLDER,
	MB_FIRST_SCAN,
	MB_ACK_ENABLED,
	MB_STATUS,
	MB_CREATED_AT,
	MB_UPDATED_AT,
	MB_ACCOUNT,
	MB_CONNECTED_TENANT,
	MB_CONNECTED_AT,
	MB_INBOX_COUNT,
	MB_LAST_ERROR_CODE,
	MB_LAST_ERROR,
	MB_LAST_ERROR_GUIDANCE,
	MB_LAST_ERROR_AT,
	MB_LAST_SCAN_AT,
	MB_LAST_SUCCESS_AT,
	MB_MESSAGES_WAITING,
	MB_ACK_SUBJECT,
	MB_ACK_BODY,
	MB_ACK_PER_HOUR,
	MB_QUARANTINE_FOLDER,
	MB_ATTENTION,
	MB_VERSION,
	MB_AUTOMATIC_MAIL,
	MB_CREDENTIAL_TYPE,
	MB_CERT_THUMBPRINT,
	MB_CERT_SUBJECT,
	MB_CERT_EXPIRES_AT,
	MB_PUSH_STATE,
	MB_PUSH_ERROR,
	MB_PUSH_EXPIRES_AT,
	MB_PUSH_LAST_NOTIFICATION
};

static const char SQL_MB_INSERT[] =
    "INSERT INTO mailbox (name, type, client_id, tenant_id, secret_sealed, "
    "secret_last4, secret_expires_on, shared_address, cloud, "
    "processed_action, processed_folder, first_scan, ack_enabled, "
    "ack_subject, ack_body, ack_per_hour, quarantine_folder, automatic_mail, "
    "credential_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
static const char SQL_MB_UPDATE[] =
    "UPDATE mailbox SET name = ?, type = ?, client_id = ?, tenant_id = ?, "
    "secret_sealed = COALESCE(?, secret_sealed), "
    "secret_last4 = ?, secret_expires_on = ?, shared_address = ?, "
    "cloud = ?, processed_action = ?, processed_folder = ?, "
    "first_scan = ?, ack_enabled = ?, ack_subject = ?, ack_body = ?, "
    "ack_per_hour = ?, quarantine_folder = ?, automatic_mail = ?, "
    "updated_at = UTC_TIMESTAMP(), "
    "version = version + 1 WHERE id = ? AND version = ?";
static const char SQL_MB_GET[] = "SELECT " MB_COLS " FROM mailbox WHERE id = ?";
static const char SQL_MB_LIST[] = "SELECT " MB_COLS " FROM mailbox ORDER BY id";
/*
 * GET /api/mailboxes with an admin's API key in one statement: the key's
 * columns (enum key_col), then the mailboxes as SQL_MB_LIST.  No row when
 * the key is unknown, revoked or not an admin's, or when there is no
 * mailbox: the caller then asks the usual way (lib/domain/authn.c).  An inner
 * join, so the mailboxes come in primary key order without a sort.
 */
static const char SQL_MB_LIST_FOR_KEY[] =
    "SELECT k.id, k.name, k.role, k.last_used_at IS NULL OR "
    "k.last_used_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE, " MB_COLS
    " FROM api_key k JOIN mailbox ON k.role = 'admin' "
    "WHERE k.key_hash = ? AND k.revoked_at IS NULL ORDER BY mailbox.id";

enum key_col {
	KEY_ID,
	KEY_NAME,
	KEY_ROLE,
	KEY_TOUCH_DUE,
	KEY_COLS /* the mailbox columns follow */
};

static const char SQL_MB_DELETE[] = "DELETE FROM mailbox WHERE id = ?";

static struct db_param
opt_str(const char *s)
{
	return s[0] ? db_str(s) : db_null();
}

/* The 13 value parameters shared by insert and update, after the secret. */
static void
mb_params(const struct mailbox *mb, struct db_param *p)
{
	p[0] = db_str(mb->secret_last4);
	p[1] = opt_str(mb->secret_expires_on);
	p[2] = opt_str(mb->shared_address);
	p[3] = db_str(mailbox_cloud_name(mb->cloud));
	p[4] = db_str(processed_action_name(mb->processed_action));
	p[5] = opt_str(mb->processed_folder);
	p[6] = db_str(mailbox_first_scan_name(mb->first_scan));
	p[7] = db_int(mb->ack_enabled);
	p[8] = db_str(mb->ack_subject);
	p[9] = opt_str(mb->ack_body);
	p[10] = db_int(mb->ack_per_hour);
	p[11] = db_str(mb->quarantine_folder);
	p[12] = db_str(mailbox_automatic_mail_name(mb->automatic_mail));
}

/* Insert a mailbox; E_CONFLICT when the name is taken. */
int
store_mailbox_insert(struct db *db, const struct mailbox *mb,
    const struct buf *sealed, uint64_t *id, struct err *err)
{
	struct db_param     p[19];
	struct db_exec_info info;

	p[0] = db_str(mb->name);
	p[1] = db_str(mb->type);
	p[2] = db_str(mb->client_id);
	p[3] = db_str(mb->tenant_id);
	/* a mailbox on a certificate stores no secret (sql/0016) */
	p[4] = sealed->len ? db_blob(sealed->data, sealed->len) : db_null();
	mb_params(mb, &p[5]);
	p[18] = db_str(mailbox_credential_name(mb->credential));
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
	struct db_param     p[20];
	struct db_exec_info info;
	struct mailbox      cur = { 0 };
	int                 rc;

	p[0] = db_str(mb->name);
	p[1] = db_str(mb->type);
	p[2] = db_str(mb->client_id);
	p[3] = db_str(mb->tenant_id);
	p[4] = sealed ? db_blob(sealed->data, sealed->len) : db_null();
	mb_params(mb, &p[5]);
	p[18] = db_int((long long)mb->id);
	p[19] = db_int((long long)mb->version);
	if (db_exec(db, SQL_MB_UPDATE, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	if (info.affected > 0) /* the version changes: never "no change" */
		return 0;
	rc = store_mailbox_get(db, mb->id, &cur, err);
	mailbox_cleanup(&cur);
	if (rc == -1)
		return -1;
	err_set(err, E_CHANGED, "Mailbox %llu changed meanwhile.",
	    (unsigned long long)mb->id);
	return -1;
}

/* A column holding no name of its enum (the schema's ENUM says it
 * cannot happen): E_DB. */
static int
bad_enum(const struct db_res *r, size_t i, size_t col, struct err *err)
{
	const char *s = db_res_str(r, i, col);

	err_set(err, E_DB, "database error");
	err_detail(err, "database error: column %zu holds '%s'", col,
	    s ? s : "NULL");
	return -1;
}

static char *
text_cell(const struct db_res *r, size_t i, size_t col)
{
	const char *s = db_res_str(r, i, col);

	return xstrdup(s ? s : "");
}

/* The enum columns of row i; -1 (err) when one holds an unknown name. */
static int
mb_enums(struct mailbox *mb, const struct db_res *r, size_t i, struct err *err)
{
	if (mailbox_cloud_parse(db_res_str(r, i, MB_CLOUD), &mb->cloud) == -1)
		return bad_enum(r, i, MB_CLOUD, err);
	if (processed_action_parse(db_res_str(r, i, MB_PROCESSED_ACTION),
	        &mb->processed_action) == -1)
		return bad_enum(r, i, MB_PROCESSED_ACTION, err);
	if (mailbox_first_scan_parse(db_res_str(r, i, MB_FIRST_SCAN),
	        &mb->first_scan) == -1)
		return bad_enum(r, i, MB_FIRST_SCAN, err);
	if (mailbox_status_parse(db_res_str(r, i, MB_STATUS), &mb->status) ==
	    -1)
		return bad_enum(r, i, MB_STATUS, err);
	if (mailbox_automatic_mail_parse(db_res_str(r, i, MB_AUTOMATIC_MAIL),
	        &mb->automatic_mail) == -1)
		return bad_enum(r, i, MB_AUTOMATIC_MAIL, err);
	if (mailbox_credential_parse(db_res_str(r, i, MB_CREDENTIAL_TYPE),
	        &mb->credential) == -1)
		return bad_enum(r, i, MB_CREDENTIAL_TYPE, err);
	return 0;
}

/*
 * Fill mb (whose heap strings are NULL) from row i; expiring_before is
 * the date 14 days from today ("YYYY-MM-DD").  On failure mb still needs
 * mailbox_cleanup().
 */
static int
mb_from_row(struct mailbox *mb, const struct db_res *r, size_t i,
    const char *expiring_before, struct err *err)
{
	struct {
		char       *dst;
		size_t      size;
		enum mb_col col;
	} texts[] = {
		{ mb->name, sizeof mb->name, MB_NAME },
		{ mb->type, sizeof mb->type, MB_TYPE },
		{ mb->client_id, sizeof mb->client_id, MB_CLIENT_ID },
		{ mb->tenant_id, sizeof mb->tenant_id, MB_TENANT_ID },
		{ mb->secret_last4, sizeof mb->secret_last4, MB_SECRET_LAST4 },
		{ mb->secret_expires_on, sizeof mb->secret_expires_on,
		    MB_SECRET_EXPIRES_ON },
		{ mb->shared_address, sizeof mb->shared_address,
		    MB_SHARED_ADDRESS },
		{ mb->account, sizeof mb->account, MB_ACCOUNT },
		{ mb->connected_tenant, sizeof mb->connected_tenant,
		    MB_CONNECTED_TENANT },
		{ mb->last_error_code, sizeof mb->last_error_code,
		    MB_LAST_ERROR_CODE },
		{ mb->cert_thumbprint, sizeof mb->cert_thumbprint,
		    MB_CERT_THUMBPRINT },
		{ mb->cert_subject, sizeof mb->cert_subject, MB_CERT_SUBJECT },
		{ mb->push_state, sizeof mb->push_state, MB_PUSH_STATE },
		{ mb->push_error, sizeof mb->push_error, MB_PUSH_ERROR },
	}, times[] = {
		{ mb->created_at, sizeof mb->created_at, MB_CREATED_AT },
		{ mb->updated_at, sizeof mb->updated_at, MB_UPDATED_AT },
		{ mb->connected_at, sizeof mb->connected_at, MB_CONNECTED_AT },
		{ mb->last_error_at, sizeof mb->last_error_at, MB_LAST_ERROR_AT },
		{ mb->last_scan_at, sizeof mb->last_scan_at, MB_LAST_SCAN_AT },
		{ mb->last_success_at, sizeof mb->last_success_at,
		    MB_LAST_SUCCESS_AT },
		{ mb->cert_expires_at, sizeof mb->cert_expires_at,
		    MB_CERT_EXPIRES_AT },
		{ mb->push_expires_at, sizeof mb->push_expires_at,
		    MB_PUSH_EXPIRES_AT },
		{ mb->push_last_notification, sizeof mb->push_last_notification,
		    MB_PUSH_LAST_NOTIFICATION },
	};

	mb->processed_folder = text_cell(r, i, MB_PROCESSED_FOLDER);
	mb->last_error = text_cell(r, i, MB_LAST_ERROR);
	mb->last_error_guidance = text_cell(r, i, MB_LAST_ERROR_GUIDANCE);
	mb->ack_subject = text_cell(r, i, MB_ACK_SUBJECT);
	mb->ack_body = text_cell(r, i, MB_ACK_BODY);
	mb->quarantine_folder = text_cell(r, i, MB_QUARANTINE_FOLDER);
	for (size_t c = 0; c < sizeof texts / sizeof texts[0]; c++)
		if (store_row_copy(texts[c].dst, texts[c].size, r, i,
		        texts[c].col, err) == -1)
			return -1;
	for (size_t c = 0; c < sizeof times / sizeof times[0]; c++)
		if (store_copy_time(times[c].dst, times[c].size, r, i,
		        times[c].col, err) == -1)
			return -1;
	if (mb_enums(mb, r, i, err) == -1)
		return -1;
	mb->id = (uint64_t)db_res_int(r, i, MB_ID);
	mb->ack_enabled = db_res_int(r, i, MB_ACK_ENABLED) != 0;
	mb->inbox_count = db_res_str(r, i, MB_INBOX_COUNT)
	    ? db_res_int(r, i, MB_INBOX_COUNT)
	    : -1;
	mb->secret_expiring = mb->secret_expires_on[0] != '\0' &&
	    strcmp(mb->secret_expires_on, expiring_before) < 0;
	mb->cert_expiring = mb->cert_expires_at[0] != '\0' &&
	    strncmp(mb->cert_expires_at, expiring_before, 10) < 0;
	mb->messages_waiting = db_res_str(r, i, MB_MESSAGES_WAITING)
	    ? db_res_int(r, i, MB_MESSAGES_WAITING)
	    : -1;
	mb->ack_per_hour = (long)db_res_int(r, i, MB_ACK_PER_HOUR);
	mb->attention = db_res_int(r, i, MB_ATTENTION);
	mb->version = (uint64_t)db_res_int(r, i, MB_VERSION);
	return 0;
}

/* The date 14 days from today (UTC): a secret expiring before it is
 * "expiring". */
static void
expiring_before(char out[11])
{
	time_t    t = time(NULL) + 14 * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Load mailbox id (free with mailbox_cleanup(), also after a failure);
 * E_NOTFOUND if there is none. */
int
store_mailbox_get(struct db *db, uint64_t id, struct mailbox *mb,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   r;
	char            limit[11];
	int             rc = -1;

	memset(mb, 0, sizeof *mb);
	if (db_query(db, SQL_MB_GET, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0) {
		err_set(err, E_NOTFOUND, "No mailbox with id %llu.",
		    (unsigned long long)id);
	} else {
		expiring_before(limit);
		rc = mb_from_row(mb, &r, 0, limit, err);
	}
	db_res_free(&r);
	return rc;
}

/*
 * The mailboxes of rows r (columns as enum mb_col) into *mbs, *n (caller
 * frees with mailbox_list_free()); -1 with nothing kept when a row does
 * not fit.  Frees r.
 */
static int
mailboxes_of(struct db_res *r, const struct db_res *cols, struct mailbox **mbs,
    size_t *n, struct err *err)
{
	char limit[11];
	int  rc = 0;

	expiring_before(limit);
	*mbs = xcalloc(r->nrows ? r->nrows : 1, sizeof **mbs);
	*n = r->nrows;
	for (size_t i = 0; rc == 0 && i < r->nrows; i++)
		rc = mb_from_row(&(*mbs)[i], cols, i, limit, err);
	db_res_free(r);
	if (rc == -1) {
		mailbox_list_free(*mbs, *n);
		*mbs = NULL;
		*n = 0;
	}
	return rc;
}

/* Every mailbox by id into *mbs (caller frees with mailbox_list_free()). */
int
store_mailbox_list(struct db *db, struct mailbox **mbs, size_t *n,
    struct err *err)
{
	struct db_res r;

	if (db_query(db, SQL_MB_LIST, NULL, 0, &r, err) == -1)
		return -1;
	return mailboxes_of(&r, &r, mbs, n, err);
}

/*
 * SQL_MB_LIST_FOR_KEY: the admin's API key hash as *k and every mailbox
 * by id in *mbs (caller frees with mailbox_list_free()); E_NOTFOUND when
 * there is no row (see above).
 */
int
store_mailbox_list_for_key(struct db *db, const unsigned char *hash,
    struct api_key *k, struct mailbox **mbs, size_t *n, struct err *err)
{
	struct db_param p[] = { db_blob(hash, CRED_HASH_BYTES) };
	struct db_res   r, view;

	*mbs = NULL;
	*n = 0;
	memset(k, 0, sizeof *k);
	if (db_query(db, SQL_MB_LIST_FOR_KEY, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 0) {
		db_res_free(&r);
		err_set(err, E_NOTFOUND, "no admin key or no mailbox");
		return -1;
	}
	k->id = (uint64_t)db_res_int(&r, 0, KEY_ID);
	k->touch_due = db_res_int(&r, 0, KEY_TOUCH_DUE) != 0;
	if (store_row_copy(k->name, sizeof k->name, &r, 0, KEY_NAME, err) ==
	        -1 ||
	    store_row_copy(k->role, sizeof k->role, &r, 0, KEY_ROLE, err) ==
	        -1) {
		db_res_free(&r);
		return -1;
	}
	/* The mailbox columns follow the key's: read them through a view
	 * of the cells shifted by KEY_COLS. */
	view = r;
	view.cells = r.cells + KEY_COLS;
	return mailboxes_of(&r, &view, mbs, n, err);
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

static const char SQL_SET_ERROR[] =
    "UPDATE mailbox SET last_error_code = ?, last_error = LEFT(?, 1000), "
    "last_error_guidance = LEFT(?, 1000), last_error_at = UTC_TIMESTAMP() "
    "WHERE id = ?";
static const char SQL_SET_STATUS_FORGET[] =
    "UPDATE mailbox SET status = ?, refresh_token_sealed = NULL, "
    "access_token_sealed = NULL, access_expires_at = NULL, "
    "refresh_gen = refresh_gen + 1, refresh_lease_until = NULL, "
    "updated_at = UTC_TIMESTAMP() WHERE id = ?";
static const char SQL_SET_STATUS[] =
    "UPDATE mailbox SET status = ?, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ?";

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
