/*
 * db: the MariaDB adapter.  One connection per process, connected lazily
 * (to the socket, or the first node of db_host that answers) and re-made
 * when the server went away; prepared statements cached by their (static)
 * SQL text; results copied out as text cells.
 */
#ifndef POSTDESK_DB_H
#define POSTDESK_DB_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"

struct db;

enum db_type {
	DB_T_NULL,
	DB_T_INT,
	DB_T_STR,
	DB_T_BLOB
};

struct db_param {
	enum db_type type;
	long long    i;
	const void  *p;
	size_t       len;
};

struct db_cell {
	size_t off;
	size_t len;
	int    null;
};

struct db_res {
	size_t          nrows;
	size_t          ncols;
	struct db_cell *cells; /* nrows * ncols, row-major */
	struct buf      data;  /* every cell's bytes, each NUL-terminated */
};

struct db_exec_info {
	uint64_t affected;
	uint64_t insert_id;
};

struct db_param db_int(long long);
struct db_param db_str(const char *);
struct db_param db_blob(const void *, size_t);
struct db_param db_null(void);

struct db *db_new(const struct config *);
void       db_free(struct db *);
int        db_ping(struct db *, struct err *);
int        db_query(struct db *, const char *sql, const struct db_param *,
           size_t nparams, struct db_res *, struct err *);
int        db_exec(struct db *, const char *sql, const struct db_param *,
           size_t nparams, struct db_exec_info *, struct err *);
int        db_exec_once(struct db *, const char *sql, struct err *);
int        db_begin(struct db *, struct err *);
int        db_commit(struct db *, struct err *);
void       db_rollback(struct db *);
unsigned   db_last_errno(const struct db *);
int        db_errno_gone(unsigned);
int        db_errno_conflict(unsigned);
void       db_reset(struct db *);
void       db_backoff(struct db *, unsigned try);

/*
 * db_txn: fn(db, arg, err) inside one transaction, committed; run again
 * from the start after a deadlock or Galera certification failure, or a
 * connection lost before COMMIT was sent (nothing was written), up to
 * DB_TXN_TRIES times with growing random waits.  fn must therefore redo
 * only database work, or reset what else it fills, on each run.  A
 * connection lost during COMMIT leaves the outcome unknown: not retried
 * unless flags has DB_TXN_REDO_SAFE (fn's work is safe to do twice); err
 * is E_UNAVAILABLE with a detail saying so.  lib/adapt/db_txn.c.
 */
typedef int (*db_txn_fn)(struct db *, void *arg, struct err *);
#define DB_TXN_TRIES     6
#define DB_TXN_REDO_SAFE 1
int db_txn(struct db *, db_txn_fn fn, void *arg, unsigned flags, struct err *);
struct db_stream *db_stream_open(struct db *, const char *sql,
    const struct db_param *, size_t nparams, size_t blob, struct err *);
int db_stream_write(struct db_stream *, const void *, size_t, struct err *);
int db_stream_close(struct db_stream *, int execute, struct db_exec_info *,
    struct err *);
const char *db_res_str(const struct db_res *, size_t row, size_t col);
size_t      db_res_len(const struct db_res *, size_t row, size_t col);
long long   db_res_int(const struct db_res *, size_t row, size_t col);
void        db_res_free(struct db_res *);

#define DB_NPARAMS(a) (sizeof(a) / sizeof((a)[0]))

#endif
