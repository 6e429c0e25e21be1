/*
 * migrate: numbered migrations.  A file is split into statements at
 * semicolons that end a line (outside -- comments); each statement is
 * prepared and executed, then the version is recorded.  MariaDB commits
 * DDL implicitly, so a migration is atomic only where its statements are:
 * keep each file to what may be re-run after a failure, or one statement.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "migrate.h"
#include "store.h"
#include "xmalloc.h"

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

static int
apply(struct db *db, const char *dir, const char *name, unsigned version,
    struct err *err)
{
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
		if (db_exec_once(db, stmts[i], err) == -1) {
			char why[sizeof err->detail];

			snprintf(why, sizeof why, "%s", err->detail);
			err_set(err, E_DB, "%s: statement %zu failed: %.180s",
			    name, i + 1, why);
			goto out;
		}
	}
	rc = store_migrate_record(db, version, name, err);
out:
	migrate_free(stmts, n);
	buf_cleanup(&path);
	buf_cleanup(&text);
	return rc;
}

/*
 * Apply every migration in dir not yet recorded, in file-name order;
 * print a line per applied file to progress (may be NULL).  *applied
 * counts them.  Returns 0, or -1 with err naming the file.
 */
int
migrate_run(struct db *db, const char *dir, FILE *progress, int *applied,
    struct err *err)
{
	DIR           *d;
	struct dirent *e;
	char         **names = NULL;
	size_t         n = 0, cap = 0;
	int            rc = 0;
	unsigned       v;

	*applied = 0;
	if (store_migrate_prepare(db, err) == -1)
		return -1;
	d = opendir(dir);
	if (d == NULL) {
		err_set(err, E_CONFIG,
		    "configuration key 'sql_dir': cannot open %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!is_migration(e->d_name, &v))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int done;

		is_migration(names[i], &v);
		rc = store_migrate_applied(db, v, &done, err);
		if (rc == 0 && !done) {
			rc = apply(db, dir, names[i], v, err);
			if (rc == 0 && progress != NULL)
				fprintf(progress, "applied %s\n", names[i]);
			*applied += rc == 0;
		}
	}
	migrate_free(names, n);
	return rc;
}
