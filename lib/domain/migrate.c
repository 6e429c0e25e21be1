/*
 * migrate: numbered migrations.  A file is split into statements at
 * semicolons that end a line (outside -- comments); each statement is
 * prepared and executed, then the version is recorded.  MariaDB commits
 * DDL implicitly, so a crash can leave a migration half applied and
 * unrecorded: every statement must be one that may run again (CREATE
 * TABLE IF NOT EXISTS, ADD COLUMN IF NOT EXISTS, MODIFY ...), and the
 * next migrate runs the whole file again.  One migrate runs at a time:
 * the others wait for the lock (lib/store/migrate.c), which a process of
 * this host that died leaves at once and any other holder after
 * LOCK_SECONDS without progress.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "adapt/cred.h"
#include "domain/migrate.h"
#include "store/store.h"
#include "base/xmalloc.h"

/* A holder that makes no progress for this long loses the lock. */
#define LOCK_SECONDS 600
#define LOCK_POLL_MS 200

/* The run: who we are to the lock, and the test hook's count. */
struct run {
	struct db          *db;
	struct migrate_lock me;
	long                stop_after; /* POSTDESK_MIGRATE_STOP_AFTER */
	long                executed;
};

static int
is_migration(const char *name, unsigned *version)
{
	size_t n = strlen(name);

	if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
		return 0;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)name[i]))
			return 0;
	*version = (unsigned)strtoul(name, NULL, 10);
	return *version > 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
read_file(const char *path, struct buf *b, struct err *err)
{
	FILE  *f = fopen(path, "r");
	char   chunk[4096];
	size_t n;

	if (f == NULL) {
		err_set(err, E_CONFIG, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
	return 0;
}

/*
 * Split SQL text into statements (caller frees with migrate_free()).
 * Lines starting with -- are comments; a statement ends with ';' at the
 * end of a line.  Returns 0, or -1 if text ends inside a statement.
 */
int
migrate_split(const char *text, char ***stmts, size_t *n)
{
	struct buf cur;
	size_t     cap = 0;

	*stmts = NULL;
	*n = 0;
	buf_init(&cur, 256);
	while (*text) {
		const char *eol = strchr(text, '\n');
		size_t      len = eol ? (size_t)(eol - text) : strlen(text);
		const char *s = text;
		size_t      l = len;

		while (l > 0 && isspace((unsigned char)*s))
			s++, l--;
		while (l > 0 && isspace((unsigned char)s[l - 1]))
			l--;
		text += len + (eol ? 1 : 0);
		if (l == 0 || (l >= 2 && s[0] == '-' && s[1] == '-'))
			continue;
		if (cur.len > 0)
			buf_putc(&cur, '\n');
		if (s[l - 1] != ';') {
			buf_append(&cur, s, l);
			continue;
		}
		buf_append(&cur, s, l - 1);
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*stmts = xrealloc(*stmts, cap * sizeof **stmts);
		}
		(*stmts)[(*n)++] = xstrdup(cur.data);
		buf_reset(&cur);
	}
	if (cur.len > 0) {
		buf_cleanup(&cur);
		return -1;
	}
	buf_cleanup(&cur);
	return 0;
}

void
migrate_free(char **stmts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(stmts[i]);
	free(stmts);
}

/*
 * Before each statement: still hold the lock (renewed).  After: the test
 * hook POSTDESK_MIGRATE_STOP_AFTER=N ends the process after N statements
 * as a crash would, the lock held and the migration unrecorded.
 */
static int
renew(struct run *run, struct err *err)
{
	int held;

	if (store_migrate_renew(run->db, run->me.holder, LOCK_SECONDS, &held,
	        err) == -1)
		return -1;
	if (!held)
		err_set(err, E_CONFLICT,
		    "lost the migration lock to another migrate");
	return held ? 0 : -1;
}

static void
maybe_stop(struct run *run)
{
	if (run->stop_after > 0 && ++run->executed == run->stop_after) {
		fprintf(stderr,
		    "migrate: stopped after %ld statements "
		    "(POSTDESK_MIGRATE_STOP_AFTER)\n",
		    run->executed);
		_exit(3);
	}
}

static int
apply(struct run *run, const char *dir, const char *name, unsigned version,
    struct err *err)
{
	struct db *db = run->db;
	struct buf path, text;
	char     **stmts = NULL;
	size_t     n = 0;
	int        rc = -1;

	buf_init(&path, 256);
	buf_init(&text, 4096);
	buf_printf(&path, "%s/%s", dir, name);
	if (read_file(path.data, &text, err) == -1)
		goto out;
	if (migrate_split(text.data, &stmts, &n) == -1) {
		err_set(err, E_CONFIG, "%s: last statement lacks ';'", name);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (renew(run, err) == -1)
			goto out;
		if (db_exec_once(db, stmts[i], err) == -1) {
			char why[sizeof err->detail];

			snprintf(why, sizeof why, "%s", err->detail);
			err_set(err, E_DB, "%s: statement %zu failed: %.180s",
			    name, i + 1, why);
			goto out;
		}
		maybe_stop(run);
	}
	rc = store_migrate_record(db, version, name, err);
out:
	migrate_free(stmts, n);
	buf_cleanup(&path);
	buf_cleanup(&text);
	return rc;
}

/* The migration file names of dir, sorted (caller frees). */
static int
list_dir(const char *dir, char ***names, size_t *n, struct err *err)
{
	DIR           *d = opendir(dir);
	struct dirent *e;
	size_t         cap = 0;
	unsigned       v, prev = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL) {
		err_set(err, E_CONFIG,
		    "configuration key 'sql_dir': cannot open %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!is_migration(e->d_name, &v))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*names = xrealloc(*names, cap * sizeof **names);
		}
		(*names)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(*names, *n, sizeof **names, by_name);
	for (size_t i = 1; i < *n; i++) {
		is_migration((*names)[i - 1], &prev);
		is_migration((*names)[i], &v);
		if (v == prev) {
			err_set(err, E_CONFIG,
			    "%s: two migrations numbered %04u", dir, v);
			return -1;
		}
	}
	return 0;
}

/* True if holder h is a process of this host that no longer exists. */
static int
gone(const struct migrate_lock *h, const struct migrate_lock *me)
{
	return h->holder[0] != '\0' && strcmp(h->host, me->host) == 0 &&
	    h->pid > 0 && kill((pid_t)h->pid, 0) == -1 && errno == ESRCH;
}

/* Wait for the lock and take it; progress hears that we wait. */
static int
lock_take(struct run *run, FILE *progress, struct err *err)
{
	struct migrate_lock h;
	time_t              give_up = time(NULL) + LOCK_SECONDS + 60;
	struct timespec     poll = { .tv_sec = 0,
		    .tv_nsec = LOCK_POLL_MS * 1000000L };
	int                 won, said = 0;

	for (;;) {
		if (store_migrate_holder(run->db, &h, err) == -1 ||
		    store_migrate_lock(run->db, &run->me, LOCK_SECONDS,
		        gone(&h, &run->me) ? h.holder : NULL, &won, err) == -1)
			return -1;
		if (won)
			return 0;
		if (time(NULL) > give_up) {
			err_set(err, E_CONFLICT,
			    "another migrate (%.200s) holds the lock",
			    h.holder);
			return -1;
		}
		if (!said && progress != NULL) {
			fprintf(progress, "waiting for another migrate (%s)\n",
			    h.holder);
			fflush(progress);
		}
		said = 1;
		nanosleep(&poll, NULL);
	}
}

static void
run_init(struct run *run, struct db *db)
{
	char        token[CRED_TOKEN_MAX];
	const char *stop = getenv("POSTDESK_MIGRATE_STOP_AFTER");

	memset(run, 0, sizeof *run);
	run->db = db;
	if (gethostname(run->me.host, sizeof run->me.host - 1) == -1)
		snprintf(run->me.host, sizeof run->me.host, "unknown");
	run->me.pid = (long long)getpid();
	cred_token_new(token);
	snprintf(run->me.holder, sizeof run->me.holder, "%.64s/%lld/%.16s",
	    run->me.host, run->me.pid, token);
	run->stop_after = stop ? strtol(stop, NULL, 10) : 0;
}

/* Apply the files of names not yet recorded, under the lock. */
static int
apply_all(struct run *run, const char *dir, char **names, size_t n,
    FILE *progress, int *applied, struct err *err)
{
	int      rc = 0, done;
	unsigned v;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		is_migration(names[i], &v);
		rc = store_migrate_applied(run->db, v, &done, err);
		if (rc == 0 && !done) {
			rc = apply(run, dir, names[i], v, err);
			if (rc == 0 && progress != NULL)
				fprintf(progress, "applied %s\n", names[i]);
			*applied += rc == 0;
		}
	}
	return rc;
}

/*
 * Apply every migration in dir not yet recorded, in file-name order, one
 * migrate at a time; print a line per applied file to progress (may be
 * NULL).  *applied counts them.  Returns 0, or -1 with err naming the
 * file.
 */
int
migrate_run(struct db *db, const char *dir, FILE *progress, int *applied,
    struct err *err)
{
	struct run run;
	struct err unlock_err;
	char     **names;
	size_t     n;
	int        rc;

	*applied = 0;
	run_init(&run, db);
	if (store_migrate_prepare(db, err) == -1 ||
	    store_migrate_lock_prepare(db, err) == -1)
		return -1;
	if (list_dir(dir, &names, &n, err) == -1) {
		migrate_free(names, n);
		return -1;
	}
	rc = lock_take(&run, progress, err);
	if (rc == 0) {
		rc = apply_all(&run, dir, names, n, progress, applied, err);
		if (store_migrate_unlock(db, run.me.holder, &unlock_err) ==
		        -1 &&
		    rc == 0) {
			*err = unlock_err;
			rc = -1;
		}
	}
	migrate_free(names, n);
	return rc;
}

static int
has_version(const unsigned *v, size_t n, unsigned want)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == want)
			return 1;
	return 0;
}

/*
 * Compare the migrations of dir with those the database recorded, without
 * changing anything (postdesk-admin doctor).  Returns 0 with st filled
 * (free with migrate_status_free()), or -1 with err.
 */
int
migrate_status(struct db *db, const char *dir, struct migrate_status *st,
    struct err *err)
{
	unsigned *done, *files, v;
	size_t    ndone;

	memset(st, 0, sizeof *st);
	if (list_dir(dir, &st->pending, &st->nfiles, err) == -1 ||
	    store_migrate_versions(db, &done, &ndone, err) == -1) {
		migrate_free(st->pending, st->nfiles);
		memset(st, 0, sizeof *st);
		return -1;
	}
	files = xcalloc(st->nfiles + 1, sizeof *files);
	for (size_t i = 0; i < st->nfiles; i++) {
		is_migration(st->pending[i], &v);
		files[i] = v;
		if (has_version(done, ndone, v))
			free(st->pending[i]);
		else
			st->pending[st->npending++] = st->pending[i];
	}
	st->unknown = xcalloc(ndone + 1, sizeof *st->unknown);
	for (size_t i = 0; i < ndone; i++)
		if (!has_version(files, st->nfiles, done[i]))
			st->unknown[st->nunknown++] = done[i];
	free(files);
	free(done);
	return 0;
}

void
migrate_status_free(struct migrate_status *st)
{
	migrate_free(st->pending, st->npending);
	free(st->unknown);
	memset(st, 0, sizeof *st);
}
