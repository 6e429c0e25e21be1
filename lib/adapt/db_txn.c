/*
 * db_txn: run a transaction, and run it again when that is known to be
 * safe.  On MariaDB Galera a transaction conflicting with one committed on
 * another node fails at COMMIT (or at its next statement, when an applier
 * aborts it) with a deadlock error, 1213: nothing of it was written, and
 * running it again from the start re-reads what the winner wrote.  The same
 * holds for a plain deadlock or lock wait timeout on one server, and for a
 * connection lost before COMMIT was sent.  A connection lost during COMMIT
 * is different: the transaction may have committed, so it is run again
 * only if the caller says its work is safe to redo.  docs/scaling.md
 * "MariaDB Galera" lists which transactions are.
 */
#include "adapt/db.h"
#include "base/log.h"

enum phase {
	BEFORE_COMMIT,
	IN_COMMIT
};

/* Run once: 0, or -1 with err and *phase saying where it failed. */
static int
once(struct db *db, db_txn_fn fn, void *arg, enum phase *phase, struct err *err)
{
	*phase = BEFORE_COMMIT;
	if (db_begin(db, err) == -1)
		return -1;
	if (fn(db, arg, err) == -1) {
		db_rollback(db);
		return -1;
	}
	*phase = IN_COMMIT;
	if (db_commit(db, err) == -1) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

int
db_txn(struct db *db, db_txn_fn fn, void *arg, unsigned flags, struct err *err)
{
	enum phase phase;

	for (unsigned try = 0;; try++) {
		unsigned e;

		if (once(db, fn, arg, &phase, err) == 0)
			return 0;
		e = db_last_errno(db);
		/* fn's own refusals (not found, invalid, duplicate) stand */
		if (err->code != E_UNAVAILABLE)
			return -1;
		if (db_errno_gone(e)) {
			db_reset(db);
			if (phase == IN_COMMIT && !(flags & DB_TXN_REDO_SAFE)) {
				err_detail(err,
				    "database error: connection lost during "
				    "COMMIT (%u): the outcome is unknown",
				    e);
				return -1;
			}
		} else if (!db_errno_conflict(e)) {
			return -1;
		}
		if (try + 1 >= DB_TXN_TRIES) {
			log_warn("transaction given up after %u tries: %s",
			    try + 1, err->detail);
			return -1;
		}
		log_debug("transaction tried again (%u): %s", e, err->detail);
		db_backoff(db, try);
	}
}
