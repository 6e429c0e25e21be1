/*
 * mailbox_scan: the lease is a pair of columns on the mailbox row, taken by
 * one conditional UPDATE: whoever's UPDATE matched owns the mailbox until
 * lease_until.  No GET_LOCK (Galera lacks it); a crashed scanner's lease
 * simply expires.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/mailbox_scan.h"
#include "base/xmalloc.h"

/*
 * The floor is the first connection's time under "new_only" (set once, by
 * store_mailbox_token_connect(), so reconnecting never skips mail that arrived
 * while disconnected), none under "all".
 */
/*
 * Whether the mailbox has work beyond its listing, read with the target
 * so that an idle visit skips three queries and an UPDATE: outgoing mail
 * to send (lib/store/outgoing.c, SQL_DUE and SQL_RELEASE), quarantined
 * mail to bring back (SQL_RETRIES of lib/store/incoming.c) and ledger rows
 * not done (sql/0019_idle_visit.sql indexes them).
 */
#define SQL_PENDING                                                            \
	"EXISTS(SELECT 1 FROM outgoing_email o WHERE o.mailbox_id = "          \
	"mailbox.id AND o.status IN ('held', 'queued', 'sending')), "          \
	"EXISTS(SELECT 1 FROM incoming_email r WHERE r.mailbox_id = "          \
	"mailbox.id AND r.retry_requested = 1 AND r.outcome = 'quarantined' "  \
	"AND r.state = 'done'), EXISTS(SELECT 1 FROM incoming_email u WHERE "  \
	"u.mailbox_id = mailbox.id AND u.state <> 'done')"
static const char SQL_TARGETS[] =
    "SELECT id, COALESCE(NULLIF(shared_address, ''), account, ''), "
    "COALESCE(shared_address, ''), cloud, processed_action, "
    "COALESCE(processed_folder, ''), IF(first_scan = 'new_only', "
    "DATE_FORMAT(COALESCE(scan_floor, connected_at), "
    "'%Y-%m-%dT%H:%i:%sZ'), ''), ack_enabled, ack_per_hour, ack_subject, "
    "ack_body, name, quarantine_folder, IF(processed_action = 'mark_read', "
    "DATE_FORMAT(read_floor, '%Y-%m-%dT%H:%i:%sZ'), NULL), "
    "automatic_mail = 'log_only', " SQL_PENDING " FROM mailbox "
    "WHERE status = 'connected' "
    "AND (? = 0 OR id = ?) ORDER BY id";
static const char SQL_OWN[] =
    "SELECT LOWER(COALESCE(NULLIF(shared_address, ''), account)) FROM "
    "mailbox WHERE status IN ('connected', 'needs_reauth', 'error') "
    "AND COALESCE(NULLIF(shared_address, ''), account) IS NOT NULL";
static const char SQL_LEASE_TAKE[] =
    "UPDATE mailbox SET lease_owner = ?, "
    "lease_until = UTC_TIMESTAMP(3) + INTERVAL ? SECOND WHERE id = ? "
    "AND (lease_until IS NULL OR lease_until < UTC_TIMESTAMP(3) "
    "OR lease_owner = ?)";
static const char SQL_LEASE_OWNER[] =
    "SELECT COALESCE(lease_owner, '') FROM mailbox WHERE id = ? AND "
    "lease_until >= UTC_TIMESTAMP(3)";
static const char SQL_LEASE_STEAL[] =
    "UPDATE mailbox SET lease_owner = ?, "
    "lease_until = UTC_TIMESTAMP(3) + INTERVAL ? SECOND WHERE id = ? "
    "AND lease_owner = ?";
/* Dropped with the next visit due in ? seconds (sql/0014_scan_schedule.sql). */
/* A push notification during the visit (push_kick, sql/0018_push.sql)
 * makes it due again at once. */
static const char SQL_LEASE_DROP[] =
    "UPDATE mailbox SET lease_until = NULL, scan_due = UTC_TIMESTAMP(3) + "
    "INTERVAL IF(push_kick, 0, ?) SECOND, push_kick = 0 WHERE id = ? AND "
    "lease_owner = ?";
/*
 * A worker's claim: the most overdue connected mailbox whose lease is free
 * (scan_due NULL sorts first), in one conditional UPDATE that names the
 * row it took through LAST_INSERT_ID(id) (mysql_stmt_insert_id()).  Its
 * scan_due moves to the lease's end, so claimed rows leave the front of
 * the index the next claim scans, and a mailbox whose scanner died is due
 * when its lease runs out.
 */
static const char SQL_CLAIM[] =
    "UPDATE mailbox SET lease_owner = CONCAT(?, LEFT(LAST_INSERT_ID(id), "
    "0)), lease_until = UTC_TIMESTAMP(3) + INTERVAL ? SECOND, scan_due = "
    "UTC_TIMESTAMP(3) + INTERVAL ? SECOND, push_kick = 0 WHERE status = "
    "'connected' AND "
    "(scan_due IS NULL OR scan_due <= UTC_TIMESTAMP(3)) AND (lease_until "
    "IS NULL OR lease_until < UTC_TIMESTAMP(3)) AND (? = 0 OR id = ?) "
    "ORDER BY scan_due, id LIMIT 1";
static const char SQL_LEASES[] =
    "SELECT id, lease_owner FROM mailbox WHERE lease_until >= "
    "UTC_TIMESTAMP(3) AND lease_owner IS NOT NULL";
static const char SQL_LEASE_FREE[] =
    "UPDATE mailbox SET lease_until = NULL, scan_due = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND lease_owner = ? AND lease_until IS NOT NULL";
/*
 * Every mailbox for health: id, name, status, whether it should be
 * scanning (connected, or stopped by needs_reauth or an error; not one
 * never connected or disconnected on purpose), minutes since its last
 * success (NULL: never), whether that is longer than ? minutes, the last
 * error, and its mails needing attention (the count
 * sql/0011_mailbox_attention.sql keeps).
 */
static const char SQL_HEALTH[] =
    "SELECT id, name, status, status IN ('connected', 'needs_reauth', "
    "'error'), TIMESTAMPDIFF(MINUTE, COALESCE(last_success_at, "
    "connected_at), UTC_TIMESTAMP()), COALESCE(last_success_at, "
    "connected_at, created_at) < UTC_TIMESTAMP() - INTERVAL ? MINUTE, "
    "COALESCE(last_error, ''), attention FROM mailbox ORDER BY id";
/* A scan's end, and its figures added to the mailbox's totals. */
#define SCAN_FIGURES                                                           \
	"scan_ms_total = scan_ms_total + ?, graph_requests = graph_requests "  \
	"+ ?, graph_throttled = graph_throttled + ?, graph_retries = "         \
	"graph_retries + ? "
/*
 * Under "mark as read" processed mail stays in the Inbox: the next
 * listings start ten minutes before the oldest message not yet done, or
 * the newest listed (a message's receivedDateTime is its arrival at the
 * server; the ten minutes cover clocks and late indexing).
 */
static const char SQL_READ_FLOOR[] =
    "UPDATE mailbox SET read_floor = LEAST(COALESCE((SELECT "
    "MIN(received_at) FROM incoming_email WHERE mailbox_id = ? AND "
    "state <> 'done'), STR_TO_DATE(?, '%Y-%m-%dT%H:%i:%sZ')), "
    "STR_TO_DATE(?, '%Y-%m-%dT%H:%i:%sZ')) - INTERVAL 10 MINUTE "
    "WHERE id = ?";
static const char SQL_READ_FLOOR_LOWER[] =
    "UPDATE mailbox SET read_floor = LEAST(read_floor, STR_TO_DATE(?, "
    "'%Y-%m-%dT%H:%i:%sZ')) WHERE id = ?";
/*
 * A visit's end in one statement: the scan recorded and, if owner still
 * holds the lease, the lease dropped as SQL_LEASE_DROP does (scan_due is
 * assigned before push_kick is cleared: MariaDB assigns left to right).
 */
#define SCAN_DROP                                                              \
	", scan_due = IF(lease_owner = ?, UTC_TIMESTAMP(3) + INTERVAL "        \
	"IF(push_kick, 0, ?) SECOND, scan_due), push_kick = IF(lease_owner = " \
	"?, 0, push_kick), lease_until = IF(lease_owner = ?, NULL, "           \
	"lease_until) WHERE id = ?"
static const char SQL_FINISH_OK[] =
    "UPDATE mailbox SET last_scan_at = UTC_TIMESTAMP(), "
    "last_success_at = UTC_TIMESTAMP(), messages_waiting = ?, "
    "scans_ok = scans_ok + 1, " SCAN_FIGURES SCAN_DROP;
static const char                            SQL_FINISH_FAILED[] =
    "UPDATE mailbox SET last_scan_at = UTC_TIMESTAMP(), "
    "scans_failed = scans_failed + 1, " SCAN_FIGURES SCAN_DROP;

/* Connected mailboxes (only one when only != 0) in *t (caller frees). */
int
store_mailbox_scan_targets(struct db *db, uint64_t only, struct scan_target **t,
    size_t *n, struct err *err)
{
	struct db_param p[] = { db_int((long long)only),
		db_int((long long)only) };
	struct db_res   r;
	int             rc = 0;

	*t = NULL;
	*n = 0;
	if (db_query(db, SQL_TARGETS, p, 2, &r, err) == -1)
		return -1;
	*t = xcalloc(r.nrows, sizeof **t);
	for (size_t i = 0; rc == 0 && i < r.nrows; i++) {
		struct scan_target *s = &(*t)[i];

		s->id = (uint64_t)db_res_int(&r, i, 0);
		if (store_row_copy(s->address, sizeof s->address, &r, i, 1,
		        err) ||
		    store_row_copy(s->shared_address, sizeof s->shared_address,
		        &r, i, 2, err) ||
		    store_row_copy(s->cloud, sizeof s->cloud, &r, i, 3, err) ||
		    store_row_copy(s->processed_folder,
		        sizeof s->processed_folder, &r, i, 5, err) ||
		    store_row_copy(s->floor, sizeof s->floor, &r, i, 6, err) ||
		    store_row_copy(s->ack_subject, sizeof s->ack_subject, &r, i,
		        9, err))
			rc = -1;
		if (processed_action_parse(db_res_str(&r, i, 4),
		        &s->processed_action) == -1) {
			err_set(err, E_DB, "unknown processed_action");
			rc = -1;
		}
		s->ack_enabled = db_res_int(&r, i, 7) != 0;
		s->ack_per_hour = (long)db_res_int(&r, i, 8);
		s->ack_body = db_res_str(&r, i, 10)
		    ? xstrdup(db_res_str(&r, i, 10))
		    : NULL;
		if (store_row_copy(s->name, sizeof s->name, &r, i, 11, err) ==
		        -1 ||
		    store_row_copy(s->quarantine_folder,
		        sizeof s->quarantine_folder, &r, i, 12, err) == -1 ||
		    (db_res_str(&r, i, 13) != NULL &&
		        store_row_copy(s->read_floor, sizeof s->read_floor, &r,
		            i, 13, err) == -1))
			rc = -1;
		s->automatic_log_only = db_res_int(&r, i, 14) != 0;
		s->has_outgoing = db_res_int(&r, i, 15) != 0;
		s->has_retries = db_res_int(&r, i, 16) != 0;
		s->has_unfinished = db_res_int(&r, i, 17) != 0;
		*n = i + 1;
	}
	db_res_free(&r);
	return rc;
}

void
store_mailbox_scan_targets_free(struct scan_target *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].ack_body);
	free(t);
}

/* Addresses of every connected mailbox (caller frees each and *addrs). */
int
store_mailbox_scan_own_addresses(struct db *db, char ***addrs, size_t *n,
    struct err *err)
{
	struct db_res r;

	if (db_query(db, SQL_OWN, NULL, 0, &r, err) == -1)
		return -1;
	*addrs = xcalloc(r.nrows, sizeof **addrs);
	for (size_t i = 0; i < r.nrows; i++)
		(*addrs)[i] = xstrdup(db_res_str(&r, i, 0));
	*n = r.nrows;
	db_res_free(&r);
	return 0;
}

/* Take or renew the lease for seconds; *won says whether we hold it. */
int
store_mailbox_scan_lease(struct db *db, uint64_t id, const char *owner,
    int seconds, int *won, struct err *err)
{
	struct db_param     p[] = { db_str(owner), db_int(seconds),
		    db_int((long long)id), db_str(owner) };
	struct db_exec_info info;

	if (db_exec(db, SQL_LEASE_TAKE, p, 4, &info, err) == -1)
		return -1;
	*won = info.affected == 1;
	return 0;
}

/* The current holder of a live lease ("" if none). */
int
store_mailbox_scan_owner(struct db *db, uint64_t id, char *owner, size_t size,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   r;
	int             rc = 0;

	owner[0] = '\0';
	if (db_query(db, SQL_LEASE_OWNER, p, 1, &r, err) == -1)
		return -1;
	if (r.nrows > 0)
		rc = store_row_copy(owner, size, &r, 0, 0, err);
	db_res_free(&r);
	return rc;
}

/* Take a lease still held by dead (a crashed scanner); *won as take. */
int
store_mailbox_scan_steal(struct db *db, uint64_t id, const char *dead,
    const char *owner, int seconds, int *won, struct err *err)
{
	struct db_param     p[] = { db_str(owner), db_int(seconds),
		    db_int((long long)id), db_str(dead) };
	struct db_exec_info info;

	if (db_exec(db, SQL_LEASE_STEAL, p, 4, &info, err) == -1)
		return -1;
	*won = info.affected == 1;
	return 0;
}

/* Drop owner's lease; the mailbox is next due in due_in seconds. */
int
store_mailbox_scan_drop(struct db *db, uint64_t id, const char *owner,
    long due_in, struct err *err)
{
	struct db_param p[] = { db_int(due_in), db_int((long long)id),
		db_str(owner) };

	return db_exec(db, SQL_LEASE_DROP, p, DB_NPARAMS(p), NULL, err);
}

/*
 * Claim the most overdue free mailbox (only that one when only != 0) for
 * seconds: *id is the one taken, 0 when none is due.  A write conflict
 * (Galera's certification failure, 1213; a lock wait timeout, 1205) means
 * another scanner took it: also 0.
 */
int
store_mailbox_scan_claim(struct db *db, const char *owner, int seconds,
    uint64_t only, uint64_t *id, struct err *err)
{
	struct db_param p[] = { db_str(owner), db_int(seconds), db_int(seconds),
		db_int((long long)only), db_int((long long)only) };
	struct db_exec_info info;

	*id = 0;
	if (db_exec(db, SQL_CLAIM, p, DB_NPARAMS(p), &info, err) == -1) {
		unsigned e = db_last_errno(db);

		return e == 1213 || e == 1205 ? 0 : -1;
	}
	if (info.affected == 1)
		*id = info.insert_id;
	return 0;
}

/* Every live lease: ids and owners (caller frees each owner and both). */
int
store_mailbox_scan_leases(struct db *db, uint64_t **ids, char ***owners,
    size_t *n, struct err *err)
{
	struct db_res r;

	*n = 0;
	if (db_query(db, SQL_LEASES, NULL, 0, &r, err) == -1)
		return -1;
	*ids = xcalloc(r.nrows + 1, sizeof **ids);
	*owners = xcalloc(r.nrows + 1, sizeof **owners);
	for (size_t i = 0; i < r.nrows; i++) {
		(*ids)[i] = (uint64_t)db_res_int(&r, i, 0);
		(*owners)[i] = xstrdup(db_res_str(&r, i, 1));
	}
	*n = r.nrows;
	db_res_free(&r);
	return 0;
}

/* Free the lease dead still holds on id and make the mailbox due now. */
int
store_mailbox_scan_free(struct db *db, uint64_t id, const char *dead,
    int *freed, struct err *err)
{
	struct db_param     p[] = { db_int((long long)id), db_str(dead) };
	struct db_exec_info info;

	if (db_exec(db, SQL_LEASE_FREE, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	*freed = info.affected == 1;
	return 0;
}

static int
health_row(struct scan_health *h, const struct db_res *r, size_t i,
    struct err *err)
{
	h->id = (uint64_t)db_res_int(r, i, 0);
	h->watched = db_res_int(r, i, 3) != 0;
	h->minutes = db_res_str(r, i, 4) ? db_res_int(r, i, 4) : -1;
	h->stale = db_res_int(r, i, 5) != 0;
	h->attention = db_res_int(r, i, 7);
	if (store_row_copy(h->name, sizeof h->name, r, i, 1, err) == -1 ||
	    store_row_copy(h->status, sizeof h->status, r, i, 2, err) == -1 ||
	    store_row_copy(h->last_error, sizeof h->last_error, r, i, 6, err) ==
	        -1)
		return -1;
	return 0;
}

/*
 * The scan health of every mailbox into *h (caller frees): stale when
 * its last success (or connection) is older than minutes.
 */
int
store_mailbox_scan_health(struct db *db, long minutes, struct scan_health **h,
    size_t *n, struct err *err)
{
	struct db_param p[] = { db_int(minutes) };
	struct db_res   r;
	int             rc = 0;

	*h = NULL;
	*n = 0;
	if (db_query(db, SQL_HEALTH, p, 1, &r, err) == -1)
		return -1;
	*h = xcalloc(r.nrows, sizeof **h);
	for (size_t i = 0; rc == 0 && i < r.nrows; i++)
		rc = health_row(&(*h)[i], &r, i, err);
	*n = r.nrows;
	db_res_free(&r);
	return rc;
}

/*
 * Every mailbox's scan totals (sql/0012_metrics.sql) and health: seconds
 * since the last success, else since it was connected (as health counts).
 */
static const char SQL_TOTALS[] =
    "SELECT id, name, status, status IN ('connected', 'needs_reauth', "
    "'error'), TIMESTAMPDIFF(SECOND, COALESCE(last_success_at, "
    "connected_at), UTC_TIMESTAMP()), scans_ok, scans_failed, "
    "scan_ms_total, graph_requests, graph_throttled, graph_retries, "
    "attention, messages_waiting FROM mailbox ORDER BY id";

static int
totals_row(struct scan_totals *t, const struct db_res *r, size_t i,
    struct err *err)
{
	long long *nums[] = { &t->scans_ok, &t->scans_failed, &t->scan_ms,
		&t->graph_requests, &t->graph_throttled, &t->graph_retries,
		&t->attention };

	t->id = (uint64_t)db_res_int(r, i, 0);
	t->watched = db_res_int(r, i, 3) != 0;
	t->since_success = db_res_str(r, i, 4) ? db_res_int(r, i, 4) : -1;
	for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
		*nums[k] = db_res_int(r, i, 5 + k);
	t->waiting = db_res_str(r, i, 12) ? db_res_int(r, i, 12) : -1;
	if (store_row_copy(t->name, sizeof t->name, r, i, 1, err) == -1 ||
	    store_row_copy(t->status, sizeof t->status, r, i, 2, err) == -1)
		return -1;
	return 0;
}

/* The totals of every mailbox, ordered by id, in *t (caller frees). */
int
store_mailbox_scan_totals(struct db *db, struct scan_totals **t, size_t *n,
    struct err *err)
{
	struct db_res r;
	int           rc = 0;

	*t = NULL;
	*n = 0;
	if (db_query(db, SQL_TOTALS, NULL, 0, &r, err) == -1)
		return -1;
	*t = xcalloc(r.nrows, sizeof **t);
	for (size_t i = 0; rc == 0 && i < r.nrows; i++)
		rc = totals_row(&(*t)[i], &r, i, err);
	*n = r.nrows;
	db_res_free(&r);
	return rc;
}

/*
 * Record a scan and add its figures to the mailbox's totals (ok also sets
 * last_success_at and the messages waiting), and drop owner's lease with
 * the next visit due in due_in seconds, in one statement; f NULL: only
 * the drop.
 */
int
store_mailbox_scan_finish(struct db *db, uint64_t id, const char *owner,
    const struct scan_figures *f, long due_in, struct err *err)
{
	struct db_param p[10];

	if (f == NULL)
		return store_mailbox_scan_drop(db, id, owner, due_in, err);
	p[0] = f->waiting >= 0 ? db_int(f->waiting) : db_null();
	p[1] = db_int(f->ms);
	p[2] = db_int(f->graph_requests);
	p[3] = db_int(f->graph_throttled);
	p[4] = db_int(f->graph_retries);
	p[5] = db_str(owner);
	p[6] = db_int(due_in);
	p[7] = db_str(owner);
	p[8] = db_str(owner);
	p[9] = db_int((long long)id);
	if (f->ok)
		return db_exec(db, SQL_FINISH_OK, p, 10, NULL, err);
	return db_exec(db, SQL_FINISH_FAILED, p + 1, 9, NULL, err);
}

/* Move a mark-as-read mailbox's listing floor up to newest (see SQL). */
int
store_mailbox_scan_read_floor(struct db *db, uint64_t id, const char *newest,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id), db_str(newest),
		db_str(newest), db_int((long long)id) };

	return db_exec(db, SQL_READ_FLOOR, p, DB_NPARAMS(p), NULL, err);
}

/* Lower a mark-as-read mailbox's listing floor to floor (never raise it). */
int
store_mailbox_scan_read_floor_lower(struct db *db, uint64_t id,
    const char *floor, struct err *err)
{
	struct db_param p[] = { db_str(floor), db_int((long long)id) };

	return db_exec(db, SQL_READ_FLOOR_LOWER, p, DB_NPARAMS(p), NULL, err);
}
