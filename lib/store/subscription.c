/*
 * subscription: graph_subscription rows (sql/0018_push.sql).  One row per
 * licensed mailbox, made by the scanner's first visit; the notification
 * route only reads it and bumps its counters.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/subscription.h"

#define COLS                                                                   \
	"mailbox_id, COALESCE(subscription_id, ''), state, "                   \
	"client_state_sealed, COALESCE(TIMESTAMPDIFF(SECOND, "                 \
	"UTC_TIMESTAMP(), expires_at), -1), COALESCE(TIMESTAMPDIFF(SECOND, "   \
	"renewed_at, UTC_TIMESTAMP()), -1), retry_at IS NULL OR retry_at <= "  \
	"UTC_TIMESTAMP(), COALESCE(DATE_FORMAT(expires_at, "                   \
	"'%Y-%m-%dT%H:%i:%sZ'), ''), COALESCE(DATE_FORMAT("                    \
	"last_notification_at, '%Y-%m-%dT%H:%i:%sZ'), ''), "                   \
	"COALESCE(last_error, ''), notifications, missed FROM "                \
	"graph_subscription "
static const char SQL_GET[] = "SELECT " COLS "WHERE mailbox_id = ?";
static const char SQL_BY_ID[] = "SELECT " COLS "WHERE subscription_id = ?";
static const char SQL_MADE[] =
    "INSERT INTO graph_subscription (mailbox_id, subscription_id, "
    "client_state_sealed, state, expires_at, renewed_at, created_at) "
    "VALUES (?, ?, ?, 'active', STR_TO_DATE(LEFT(?, 19), "
    "'%Y-%m-%dT%H:%i:%s'), UTC_TIMESTAMP(), UTC_TIMESTAMP()) ON DUPLICATE "
    "KEY UPDATE subscription_id = VALUES(subscription_id), "
    "client_state_sealed = VALUES(client_state_sealed), state = 'active', "
    "expires_at = VALUES(expires_at), renewed_at = UTC_TIMESTAMP(), "
    "retry_at = NULL, last_error = NULL";
static const char SQL_RENEWED[] =
    "UPDATE graph_subscription SET state = 'active', expires_at = "
    "STR_TO_DATE(LEFT(?, 19), '%Y-%m-%dT%H:%i:%s'), renewed_at = "
    "UTC_TIMESTAMP(), retry_at = NULL, last_error = NULL "
    "WHERE mailbox_id = ?";
/* A state without a live subscription forgets the id, so a late
 * notification for it is refused as unknown. */
static const char SQL_STATE[] =
    "INSERT INTO graph_subscription (mailbox_id, state, last_error, "
    "retry_at, created_at) VALUES (?, ?, ?, UTC_TIMESTAMP() + INTERVAL ? "
    "SECOND, UTC_TIMESTAMP()) ON DUPLICATE KEY UPDATE state = "
    "VALUES(state), last_error = VALUES(last_error), retry_at = "
    "VALUES(retry_at), subscription_id = IF(VALUES(state) IN ('active', "
    "'renew'), subscription_id, NULL), client_state_sealed = "
    "IF(VALUES(state) IN ('active', 'renew'), client_state_sealed, NULL), "
    "expires_at = IF(VALUES(state) IN ('active', 'renew'), expires_at, "
    "NULL)";
static const char SQL_FORGET[] =
    "DELETE FROM graph_subscription WHERE mailbox_id = ?";
static const char SQL_COUNT[] =
    "UPDATE graph_subscription SET last_notification_at = "
    "UTC_TIMESTAMP(3), notifications = notifications + 1, missed = missed "
    "+ ? WHERE mailbox_id = ?";
/* Due at once; push_kick tells a visit under way to come back. */
static const char SQL_KICK[] =
    "UPDATE mailbox SET scan_due = UTC_TIMESTAMP(3), push_kick = 1 "
    "WHERE id = ? AND status = 'connected'";
static const char SQL_HEALTHY[] =
    "SELECT COUNT(*) FROM graph_subscription WHERE mailbox_id = ? AND "
    "state = 'active' AND expires_at > UTC_TIMESTAMP()";

void
store_subscription_cleanup(struct subscription *s)
{
	buf_cleanup(&s->sealed);
}

static int
fill(struct db_res *r, struct subscription *s, struct err *err)
{
	memset(s, 0, sizeof *s);
	s->mailbox_id = (uint64_t)db_res_int(r, 0, 0);
	if (store_row_copy(s->id, sizeof s->id, r, 0, 1, err) == -1 ||
	    store_row_copy(s->state, sizeof s->state, r, 0, 2, err) == -1 ||
	    store_row_copy(s->expires_at, sizeof s->expires_at, r, 0, 7, err) ==
	        -1 ||
	    store_row_copy(s->last_notification, sizeof s->last_notification, r,
	        0, 8, err) == -1)
		return -1;
	if (db_res_str(r, 0, 3) != NULL)
		buf_append(&s->sealed, db_res_str(r, 0, 3),
		    db_res_len(r, 0, 3));
	s->expires_in = db_res_int(r, 0, 4);
	s->renewed_ago = db_res_int(r, 0, 5);
	s->retry_due = db_res_int(r, 0, 6) != 0;
	/* the error text is Graph's: cut rather than refused */
	snprintf(s->last_error, sizeof s->last_error, "%s",
	    db_res_str(r, 0, 9) ? db_res_str(r, 0, 9) : "");
	s->notifications = db_res_int(r, 0, 10);
	s->missed = db_res_int(r, 0, 11);
	return 0;
}

static int
get(struct db *db, const char *sql, struct db_param p, struct subscription *s,
    int *found, struct err *err)
{
	struct db_res r;
	int           rc = 0;

	*found = 0;
	memset(s, 0, sizeof *s);
	if (db_query(db, sql, &p, 1, &r, err) == -1)
		return -1;
	if (r.nrows == 1) {
		rc = fill(&r, s, err);
		*found = rc == 0;
	}
	db_res_free(&r);
	return rc;
}

int
store_subscription_get(struct db *db, uint64_t mailbox_id,
    struct subscription *s, int *found, struct err *err)
{
	return get(db, SQL_GET, db_int((long long)mailbox_id), s, found, err);
}

int
store_subscription_by_id(struct db *db, const char *sub_id,
    struct subscription *s, int *found, struct err *err)
{
	return get(db, SQL_BY_ID, db_str(sub_id), s, found, err);
}

int
store_subscription_made(struct db *db, uint64_t mailbox_id, const char *sub_id,
    const struct buf *sealed, const char *expires_iso, struct err *err)
{
	struct db_param p[] = { db_int((long long)mailbox_id), db_str(sub_id),
		db_blob(sealed->data, sealed->len), db_str(expires_iso) };

	return db_exec(db, SQL_MADE, p, DB_NPARAMS(p), NULL, err);
}

int
store_subscription_renewed(struct db *db, uint64_t mailbox_id,
    const char *expires_iso, struct err *err)
{
	struct db_param p[] = { db_str(expires_iso),
		db_int((long long)mailbox_id) };

	return db_exec(db, SQL_RENEWED, p, DB_NPARAMS(p), NULL, err);
}

int
store_subscription_state(struct db *db, uint64_t mailbox_id, const char *state,
    const char *error, long retry_seconds, struct err *err)
{
	struct db_param p[] = { db_int((long long)mailbox_id), db_str(state),
		error ? db_str(error) : db_null(), db_int(retry_seconds) };

	return db_exec(db, SQL_STATE, p, DB_NPARAMS(p), NULL, err);
}

int
store_subscription_forget(struct db *db, uint64_t mailbox_id, struct err *err)
{
	struct db_param p = db_int((long long)mailbox_id);

	return db_exec(db, SQL_FORGET, &p, 1, NULL, err);
}

/* A genuine notification (missed: a lifecycle "missed"): count it and
 * make the mailbox due at once. */
int
store_subscription_kick(struct db *db, uint64_t mailbox_id, int missed,
    struct err *err)
{
	struct db_param p[] = { db_int(missed ? 1 : 0),
		db_int((long long)mailbox_id) };

	if (db_exec(db, SQL_COUNT, p, DB_NPARAMS(p), NULL, err) == -1)
		return -1;
	return db_exec(db, SQL_KICK, &p[1], 1, NULL, err);
}

int
store_subscription_healthy(struct db *db, uint64_t mailbox_id, int *yes,
    struct err *err)
{
	struct db_param p = db_int((long long)mailbox_id);
	struct db_res   r;

	*yes = 0;
	if (db_query(db, SQL_HEALTHY, &p, 1, &r, err) == -1)
		return -1;
	*yes = r.nrows == 1 && db_res_int(&r, 0, 0) > 0;
	db_res_free(&r);
	return 0;
}
