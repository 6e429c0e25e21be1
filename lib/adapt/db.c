/*
 * db: MariaDB Connector/C behind a small interface.  Values travel only in
 * MYSQL_BIND; every statement is prepared once per connection and cached by
 * the address of its static SQL text.  Result cells are sized from the
 * server's max_length, so nothing is ever truncated.
 *
 * db_host may list several servers (Galera nodes, lib/adapt/db_nodes.c):
 * they are tried in order from the one last used, and a connection that
 * dies, or a node that answers 1047 (not Synced: "WSREP has not yet
 * prepared node"), moves on to the next.  A statement outside a transaction
 * is run again after such a failure, and after a deadlock or a Galera
 * certification failure (1213, 1205); transactions are retried as a whole
 * by db_txn() (lib/adapt/db_txn.c).  docs/scaling.md "MariaDB Galera".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "adapt/db.h"
#include "adapt/db_cache.h"
#include "adapt/db_nodes.h"
#include "base/log.h"
#include "base/xmalloc.h"

struct db {
	const struct config *cfg;
	MYSQL               *conn;
	int                  in_tx;
	unsigned             last_errno;
	struct db_cache      stmts;
	struct db_node       nodes[DB_NODES_MAX];
	size_t               nnodes; /* 0: db_host not parsed yet */
	size_t               node;   /* the one to try first */
	unsigned             seed;   /* for the retry jitter */
};

/* Statement tries outside a transaction (reconnects and conflicts). */
#define DB_STMT_TRIES 4

static const char INIT_SQL[] =
    "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,"
    "NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION'";

struct db_param
db_int(long long v)
{
	struct db_param p = { DB_T_INT, v, NULL, 0 };

	return p;
}

/* A string parameter; NULL binds SQL NULL. */
struct db_param
db_str(const char *s)
{
	struct db_param p = { DB_T_STR, 0, s, s ? strlen(s) : 0 };

	if (s == NULL)
		p.type = DB_T_NULL;
	return p;
}

struct db_param
db_blob(const void *b, size_t len)
{
	struct db_param p = { DB_T_BLOB, 0, b, len };

	return p;
}

struct db_param
db_null(void)
{
	struct db_param p = { DB_T_NULL, 0, NULL, 0 };

	return p;
}

/* A handle for cfg (borrowed; must outlive the handle).  Connects lazily. */
struct db *
db_new(const struct config *cfg)
{
	struct db *db = xcalloc(1, sizeof *db);

	db->cfg = cfg;
	db_cache_init(&db->stmts, DB_CACHE_SIZE);
	return db;
}

static void
db_disconnect(struct db *db)
{
	MYSQL_STMT *st;

	while ((st = db_cache_pop(&db->stmts)) != NULL)
		mysql_stmt_close(st);
	if (db->conn != NULL)
		mysql_close(db->conn);
	db->conn = NULL;
	db->in_tx = 0;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_disconnect(db);
	free(db);
}

unsigned
db_last_errno(const struct db *db)
{
	return db->last_errno;
}

/*
 * The server is gone, or is a Galera node not ready for clients (1047:
 * not Synced, or cut off from the primary component): try another.
 */
int
db_errno_gone(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	    e == ER_CONNECTION_KILLED || e == ER_UNKNOWN_COM_ERROR;
}

/*
 * The transaction or statement was rolled back for a conflict and may be
 * run again: a deadlock, a lock wait timeout, or (Galera) a certification
 * failure or brute-force abort, which MariaDB reports as a deadlock.
 */
int
db_errno_conflict(unsigned e)
{
	return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT;
}

#define gone db_errno_gone

/* Fill err from an error number and message; conflicts are 409s. */
static int
fail(struct db *db, unsigned e, const char *what, const char *msg,
    struct err *err)
{
	db->last_errno = e;
	if (e == ER_DUP_ENTRY)
		err_set(err, E_CONFLICT, "already exists");
	else if (gone(e))
		err_set(err, E_UNAVAILABLE, "database unavailable");
	else if (db_errno_conflict(e))
		err_set(err, E_UNAVAILABLE, "database busy; try again");
	else
		err_set(err, E_DB, "database error");
	err_detail(err, "database error: %s: %u %s", what, e, msg);
	return -1;
}

/*
 * Close the connection and make the next node the first to try: after a
 * lost connection, a node not ready, or an unknown commit outcome.
 */
void
db_reset(struct db *db)
{
	db_disconnect(db);
	if (db->nnodes > 1)
		db->node = (db->node + 1) % db->nnodes;
}

/* Sleep a random time in [cap/2, cap) ms, cap doubling with try (0..). */
void
db_backoff(struct db *db, unsigned try)
{
	long            cap = 10L << (try < 5 ? try : 5), ms;
	struct timespec ts;

	if (db->seed == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		db->seed =
		    (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 16) ^ 1u;
	}
	db->seed ^= db->seed << 13; /* xorshift32: jitter, not secrets */
	db->seed ^= db->seed >> 17;
	db->seed ^= db->seed << 5;
	ms = cap / 2 + (long)(db->seed % (unsigned)(cap / 2));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static int
nodes_load(struct db *db, struct err *err)
{
	char why[200];

	if (db->nnodes > 0)
		return 0;
	if (db_nodes_parse(db->cfg->db_host, db->cfg->db_port, db->nodes,
	        DB_NODES_MAX, &db->nnodes, why, sizeof why) == -1) {
		db->nnodes = 0;
		err_set(err, E_CONFIG, "configuration key 'db_host': %s", why);
		return -1;
	}
	return 0;
}

/* Connect m to the socket, or to node i of db_host. */
static int
connect_one(struct db *db, MYSQL *m, size_t i)
{
	const struct config *c = db->cfg;

	if (c->db_socket[0])
		return mysql_real_connect(m, NULL, c->db_user, c->db_password,
		           c->db_name, 0, c->db_socket, 0) != NULL
		    ? 0
		    : -1;
	return mysql_real_connect(m, db->nodes[i].host, c->db_user,
	           c->db_password, c->db_name, db->nodes[i].port, NULL,
	           0) != NULL
	    ? 0
	    : -1;
}

static MYSQL *connect_init(struct err *);

/*
 * Connect to the socket, else to the first node of db_host that answers,
 * starting from db->node.  The error is the last node's.
 */
static int
db_connect(struct db *db, struct err *err)
{
	size_t n;

	if (db->conn != NULL)
		return 0;
	if (!db->cfg->db_socket[0] && nodes_load(db, err) == -1)
		return -1;
	n = db->cfg->db_socket[0] ? 1 : db->nnodes;
	for (size_t k = 0; k < n; k++) {
		size_t i = (db->node + k) % n;
		MYSQL *m = connect_init(err);

		if (m == NULL)
			return -1;
		if (connect_one(db, m, i) == 0) {
			db->conn = m;
			db->node = i;
			return 0;
		}
		db->last_errno = mysql_errno(m);
		err_set(err, E_UNAVAILABLE, "database unavailable");
		err_detail(err, "database error: connect%s%s: %u %s",
		    n > 1 ? " to " : "", n > 1 ? db->nodes[i].host : "",
		    mysql_errno(m), mysql_error(m));
		mysql_close(m);
	}
	return -1;
}

/* A handle with our options, not connected yet. */
static MYSQL *
connect_init(struct err *err)
{
	unsigned int timeout = 5, io_timeout = 120;
	MYSQL       *m;

	m = mysql_init(NULL);
	if (m == NULL) {
		err_set(err, E_UNAVAILABLE, "database unavailable");
		err_detail(err, "database error: mysql_init failed");
		return NULL;
	}
	/* a hung server must not hang a worker or the scanner forever */
	if (mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0 ||
	    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) != 0 ||
	    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &io_timeout) != 0 ||
	    mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout) != 0 ||
	    mysql_optionsv(m, MYSQL_INIT_COMMAND, INIT_SQL) != 0) {
		err_set(err, E_INTERNAL, "internal error");
		err_detail(err, "database error: connection options refused");
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* Connect if needed and check the server answers.  Returns 0 or -1. */
int
db_ping(struct db *db, struct err *err)
{
	if (db_connect(db, err) == -1)
		return -1;
	if (mysql_ping(db->conn) != 0) {
		fail(db, mysql_errno(db->conn), "ping", mysql_error(db->conn),
		    err);
		db_reset(db);
		return db_connect(db, err);
	}
	return 0;
}

/*
 * The prepared statement for sql; *cache says on return whether it stays
 * in the cache (else the caller closes it).  A full cache closes its least
 * recently used statement to make room (lib/adapt/db_cache.c), and says so: it
 * means DB_CACHE_SIZE is too small for the statements of lib/.
 */
static MYSQL_STMT *
stmt_get(struct db *db, const char *sql, int *cache, struct err *err)
{
	MYSQL_STMT *st, *old;
	my_bool     on = 1;

	if (*cache && (st = db_cache_get(&db->stmts, sql)) != NULL)
		return st;
	st = mysql_stmt_init(db->conn);
	if (st == NULL) {
		fail(db, mysql_errno(db->conn), "stmt init",
		    mysql_error(db->conn), err);
		return NULL;
	}
	if (mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on) != 0 ||
	    mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		fail(db, mysql_stmt_errno(st), "prepare", mysql_stmt_error(st),
		    err);
		mysql_stmt_close(st);
		return NULL;
	}
	if (*cache && (old = db_cache_put(&db->stmts, sql, st)) != NULL) {
		log_err("statement cache full (%d): a statement was closed; "
		        "raise DB_CACHE_SIZE",
		    DB_CACHE_SIZE);
		mysql_stmt_close(old);
	}
	return st;
}

static void
bind_params(MYSQL_BIND *b, const struct db_param *p, size_t n, long long *ints)
{
	for (size_t i = 0; i < n; i++) {
		memset(&b[i], 0, sizeof b[i]);
		switch (p[i].type) {
		case DB_T_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case DB_T_INT:
			ints[i] = p[i].i;
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &ints[i];
			break;
		case DB_T_STR:
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)(uintptr_t)p[i].p;
			b[i].buffer_length = (unsigned long)p[i].len;
			break;
		case DB_T_BLOB:
			b[i].buffer_type = MYSQL_TYPE_BLOB;
			b[i].buffer = (void *)(uintptr_t)p[i].p;
			b[i].buffer_length = (unsigned long)p[i].len;
			break;
		}
	}
}

static int
stmt_run(struct db *db, MYSQL_STMT *st, const struct db_param *p, size_t n,
    struct err *err)
{
	MYSQL_BIND *b = NULL;
	long long  *ints = NULL;
	int         rc = 0;

	if (mysql_stmt_param_count(st) != n) {
		err_set(err, E_INTERNAL, "internal error");
		err_detail(err, "statement wants %lu parameters, got %zu",
		    mysql_stmt_param_count(st), n);
		return -1;
	}
	if (n > 0) {
		b = xcalloc(n, sizeof *b);
		ints = xcalloc(n, sizeof *ints);
		bind_params(b, p, n, ints);
		if (mysql_stmt_bind_param(st, b) != 0)
			rc = -1;
	}
	if (rc == 0 && mysql_stmt_execute(st) != 0)
		rc = -1;
	if (rc == -1)
		fail(db, mysql_stmt_errno(st), "execute", mysql_stmt_error(st),
		    err);
	free(b);
	free(ints);
	return rc;
}

static int
is_blob(enum enum_field_types t)
{
	switch (t) {
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_JSON:
		return 1;
	default:
		return 0;
	}
}

static int
fetch_all(struct db *db, MYSQL_STMT *st, struct db_res *res, struct err *err)
{
	MYSQL_RES     *meta = mysql_stmt_result_metadata(st);
	MYSQL_FIELD   *f;
	MYSQL_BIND    *b = NULL;
	unsigned long *len = NULL;
	my_bool       *isnull = NULL;
	char         **bufs = NULL;
	size_t         nc, cap = 0;
	int            rc = -1, r;

	if (meta == NULL)
		return 0;
	nc = mysql_num_fields(meta);
	f = mysql_fetch_fields(meta);
	res->ncols = nc;
	b = xcalloc(nc, sizeof *b);
	len = xcalloc(nc, sizeof *len);
	isnull = xcalloc(nc, sizeof *isnull);
	bufs = xcalloc(nc, sizeof *bufs);
	for (size_t i = 0; i < nc; i++) {
		unsigned long sz = f[i].max_length;

		if (!is_blob(f[i].type) && sz < 64)
			sz = 64;
		bufs[i] = xmalloc(sz + 1);
		b[i].buffer_type =
		    is_blob(f[i].type) ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
		b[i].buffer = bufs[i];
		b[i].buffer_length = sz + 1;
		b[i].length = &len[i];
		b[i].is_null = &isnull[i];
	}
	if (mysql_stmt_bind_result(st, b) != 0) {
		fail(db, mysql_stmt_errno(st), "bind result",
		    mysql_stmt_error(st), err);
		goto out;
	}
	buf_init(&res->data, 256);
	while ((r = mysql_stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED) {
		if (r == MYSQL_DATA_TRUNCATED) {
			err_set(err, E_DB, "database error");
			err_detail(err, "database error: result truncated");
			goto out;
		}
		if (res->nrows == cap) {
			cap = cap ? cap * 2 : 16;
			res->cells =
			    xrealloc(res->cells, cap * nc * sizeof *res->cells);
		}
		for (size_t i = 0; i < nc; i++) {
			struct db_cell *c = &res->cells[res->nrows * nc + i];

			c->null = isnull[i] != 0;
			c->off = res->data.len;
			c->len = c->null ? 0 : len[i];
			buf_append(&res->data, bufs[i], c->len);
			buf_putc(&res->data, '\0');
		}
		res->nrows++;
	}
	if (r != MYSQL_NO_DATA) {
		fail(db, mysql_stmt_errno(st), "fetch", mysql_stmt_error(st),
		    err);
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < nc; i++)
		free(bufs[i]);
	free(bufs);
	free(b);
	free(len);
	free(isnull);
	mysql_free_result(meta);
	return rc;
}

/*
 * Prepare (once), bind, execute; for a result set, copy every row into
 * res.  Outside a transaction, a lost server (or a Galera node not ready)
 * makes it reconnect, to the next node of db_host, and run the statement
 * again, and a deadlock or certification failure runs it again after a
 * short random wait, DB_STMT_TRIES times in all.  (A statement whose
 * connection died may have been carried out: every autocommit statement of
 * lib/store is a conditional UPDATE, an upsert, or an INSERT whose
 * duplicate is refused by a key or harmless, such as a log row.)  Inside a
 * transaction nothing is retried here: db_txn() runs it again whole.
 * Returns 0, or -1 with err set (E_CONFLICT for a duplicate key,
 * E_UNAVAILABLE when the server is unreachable or busy).
 */
static int
run(struct db *db, const char *sql, int cached, const struct db_param *p,
    size_t n, struct db_res *res, struct db_exec_info *info, struct err *err)
{
	MYSQL_STMT *st;
	unsigned    attempt;
	int         cache = cached, rc = -1;

	if (res != NULL)
		memset(res, 0, sizeof *res);
	db->last_errno = 0; /* db_last_errno(): this statement's error */
	for (attempt = 0;; attempt++) {
		if (db_connect(db, err) == -1)
			return -1;
		cache = cached;
		st = stmt_get(db, sql, &cache, err);
		if (st != NULL && stmt_run(db, st, p, n, err) == 0) {
			rc = 0;
			break;
		}
		if (st != NULL && !cache)
			mysql_stmt_close(st);
		if (attempt + 1 >= DB_STMT_TRIES || db->in_tx)
			return -1;
		if (gone(db->last_errno)) {
			log_warn("database connection lost (%u); reconnecting",
			    db->last_errno);
			db_reset(db);
		} else if (db_errno_conflict(db->last_errno)) {
			db_backoff(db, attempt);
		} else {
			return -1;
		}
	}
	if (info != NULL) {
		info->affected = mysql_stmt_affected_rows(st);
		info->insert_id = mysql_stmt_insert_id(st);
	}
	if (mysql_stmt_store_result(st) != 0) {
		rc = fail(db, mysql_stmt_errno(st), "store",
		    mysql_stmt_error(st), err);
	} else if (res != NULL && fetch_all(db, st, res, err) == -1) {
		db_res_free(res);
		rc = -1;
	}
	mysql_stmt_free_result(st);
	if (!cache)
		mysql_stmt_close(st);
	return rc;
}

/* Run a SELECT (or anything with a result set) into res. */
int
db_query(struct db *db, const char *sql, const struct db_param *p, size_t n,
    struct db_res *res, struct err *err)
{
	return run(db, sql, 1, p, n, res, NULL, err);
}

/* Run an INSERT/UPDATE/DELETE; info (may be NULL) gets counts and id. */
int
db_exec(struct db *db, const char *sql, const struct db_param *p, size_t n,
    struct db_exec_info *info, struct err *err)
{
	return run(db, sql, 1, p, n, NULL, info, err);
}

/* Prepare and run one statement of dynamic text (migrations), uncached. */
int
db_exec_once(struct db *db, const char *sql, struct err *err)
{
	return run(db, sql, 0, NULL, 0, NULL, NULL, err);
}

int
db_begin(struct db *db, struct err *err)
{
	db->last_errno = 0;
	if (db_connect(db, err) == -1)
		return -1;
	if (mysql_autocommit(db->conn, 0) != 0)
		return fail(db, mysql_errno(db->conn), "begin",
		    mysql_error(db->conn), err);
	db->in_tx = 1;
	return 0;
}

int
db_commit(struct db *db, struct err *err)
{
	int rc = 0;

	if (mysql_commit(db->conn) != 0)
		rc = fail(db, mysql_errno(db->conn), "commit",
		    mysql_error(db->conn), err);
	if (rc == -1)
		mysql_rollback(db->conn);
	mysql_autocommit(db->conn, 1);
	db->in_tx = 0;
	return rc;
}

/* Roll back the open transaction, if any; safe to call after a failure. */
void
db_rollback(struct db *db)
{
	if (db->conn == NULL || !db->in_tx)
		return;
	mysql_rollback(db->conn);
	mysql_autocommit(db->conn, 1);
	db->in_tx = 0;
}

/* The cell's text, or NULL for SQL NULL.  Valid until db_res_free(). */
const char *
db_res_str(const struct db_res *r, size_t row, size_t col)
{
	const struct db_cell *c = &r->cells[row * r->ncols + col];

	return c->null ? NULL : r->data.data + c->off;
}

size_t
db_res_len(const struct db_res *r, size_t row, size_t col)
{
	return r->cells[row * r->ncols + col].len;
}

/* The cell as an integer; NULL and non-numbers are 0. */
long long
db_res_int(const struct db_res *r, size_t row, size_t col)
{
	const char *s = db_res_str(r, row, col);

	return s ? strtoll(s, NULL, 10) : 0;
}

void
db_res_free(struct db_res *r)
{
	free(r->cells);
	buf_cleanup(&r->data);
	memset(r, 0, sizeof *r);
}

/*
 * Streaming one large value: the statement is prepared and bound, then
 * parameter blob is sent in pieces with mysql_stmt_send_long_data, so a
 * 20 MiB attachment never sits in our memory whole.  Used inside the
 * caller's transaction (no reconnect and retry: a lost connection fails
 * the transaction, which is retried as a whole).  A value of no bytes at
 * all is sent as one empty piece: a parameter without long data would be
 * NULL (1048 on a NOT NULL column, e.g. a zero-byte attachment).
 */
struct db_stream {
	struct db  *db;
	MYSQL_STMT *stmt;
	MYSQL_BIND *bind;
	long long  *ints;
	size_t      blob;
	int         cached; /* else closed with the stream */
	int         sent;   /* long data went to the server */
};

struct db_stream *
db_stream_open(struct db *db, const char *sql, const struct db_param *p,
    size_t n, size_t blob, struct err *err)
{
	struct db_stream *s;
	MYSQL_STMT       *st;
	int               cached = 1;

	if (db_connect(db, err) == -1)
		return NULL;
	st = stmt_get(db, sql, &cached, err);
	if (st == NULL)
		return NULL;
	if (mysql_stmt_param_count(st) != n || blob >= n) {
		err_set(err, E_INTERNAL, "internal error");
		err_detail(err, "stream statement parameters do not match");
		if (!cached)
			mysql_stmt_close(st);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->db = db;
	s->stmt = st;
	s->cached = cached;
	s->blob = blob;
	s->bind = xcalloc(n, sizeof *s->bind);
	s->ints = xcalloc(n, sizeof *s->ints);
	bind_params(s->bind, p, n, s->ints);
	s->bind[blob].buffer_type = MYSQL_TYPE_LONG_BLOB;
	s->bind[blob].buffer = NULL;
	s->bind[blob].buffer_length = 0;
	if (mysql_stmt_bind_param(st, s->bind) != 0) {
		fail(db, mysql_stmt_errno(st), "bind", mysql_stmt_error(st),
		    err);
		db_stream_close(s, 0, NULL, NULL);
		return NULL;
	}
	return s;
}

/* Append len bytes to the streamed value. */
int
db_stream_write(struct db_stream *s, const void *p, size_t len, struct err *err)
{
	if (len == 0)
		return 0;
	if (mysql_stmt_send_long_data(s->stmt, (unsigned)s->blob, p,
	        (unsigned long)len) != 0)
		return fail(s->db, mysql_stmt_errno(s->stmt), "send long data",
		    mysql_stmt_error(s->stmt), err);
	s->sent = 1;
	return 0;
}

/*
 * Execute (when execute is set) and free the stream.  An unexecuted
 * stream is reset, dropping what was sent.
 */
int
db_stream_close(struct db_stream *s, int execute, struct db_exec_info *info,
    struct err *err)
{
	int rc = 0;

	if (s == NULL)
		return -1;
	if (execute && !s->sent &&
	    mysql_stmt_send_long_data(s->stmt, (unsigned)s->blob, "", 0) != 0) {
		rc = fail(s->db, mysql_stmt_errno(s->stmt), "send long data",
		    mysql_stmt_error(s->stmt), err);
		execute = 0;
	}
	if (execute) {
		if (mysql_stmt_execute(s->stmt) != 0) {
			rc = fail(s->db, mysql_stmt_errno(s->stmt), "execute",
			    mysql_stmt_error(s->stmt), err);
		} else if (info != NULL) {
			info->affected = mysql_stmt_affected_rows(s->stmt);
			info->insert_id = mysql_stmt_insert_id(s->stmt);
		}
	}
	mysql_stmt_reset(s->stmt);
	if (!s->cached)
		mysql_stmt_close(s->stmt);
	free(s->bind);
	free(s->ints);
	free(s);
	return rc;
}
