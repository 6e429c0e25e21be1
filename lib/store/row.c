/*
 * row: copying result cells into schema-sized arrays.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "store/store.h"
#include "base/xmalloc.h"

/*
 * Copy the cell into dst; SQL NULL becomes "".  A value that does not fit
 * is an error (E_DB), never a silent cut.
 */
int
store_row_copy(char *dst, size_t dstsz, const struct db_res *r, size_t row,
    size_t col, struct err *err)
{
	const char *s = db_res_str(r, row, col);
	size_t      n = s ? db_res_len(r, row, col) : 0;

	if (n >= dstsz) {
		err_set(err, E_DB, "database error");
		err_detail(err, "database error: column %zu longer than %zu",
		    col, dstsz - 1);
		return -1;
	}
	if (n > 0)
		memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/*
 * Copy a DATETIME cell ("YYYY-MM-DD HH:MM:SS") into dst as RFC 3339 UTC
 * ("YYYY-MM-DDTHH:MM:SSZ", the connection's time zone is UTC: lib/adapt/db.c);
 * SQL NULL becomes "".  Anything else is an error (E_DB).
 */
int
store_copy_time(char *dst, size_t dstsz, const struct db_res *r, size_t row,
    size_t col, struct err *err)
{
	const char *s = db_res_str(r, row, col);

	dst[0] = '\0';
	if (s == NULL)
		return 0;
	if (db_res_len(r, row, col) != 19 || s[10] != ' ' || dstsz < 21) {
		err_set(err, E_DB, "database error");
		err_detail(err, "database error: column %zu is no DATETIME",
		    col);
		return -1;
	}
	memcpy(dst, s, 19);
	dst[10] = 'T';
	dst[19] = 'Z';
	dst[20] = '\0';
	return 0;
}

/* "%q%" with LIKE's wildcards in q escaped; caller frees.  NULL for NULL. */
char *
store_row_like(const char *q)
{
	struct buf b;

	if (q == NULL)
		return NULL;
	buf_init(&b, strlen(q) + 3);
	buf_putc(&b, '%');
	for (; *q; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *q);
	}
	buf_putc(&b, '%');
	return b.data;
}

/* The one number the COUNT(*) query sql answers into *n (a list's total). */
int
store_row_count(struct db *db, const char *sql, const struct db_param *p,
    size_t np, long long *n, struct err *err)
{
	struct db_res r;

	if (db_query(db, sql, p, np, &r, err) == -1)
		return -1;
	*n = r.nrows > 0 ? db_res_int(&r, 0, 0) : 0;
	db_res_free(&r);
	return 0;
}

/* rc of a one-row query, or -1 with E_NOTFOUND ("No <what> with id <id>.") when
 * it found none. */
int
store_row_one(int rc, struct db_res *res, const char *what, uint64_t id,
    struct err *err)
{
	if (rc == -1)
		return -1;
	if (res->nrows == 0) {
		db_res_free(res);
		err_set(err, E_NOTFOUND, "No %s with id %llu.", what,
		    (unsigned long long)id);
		return -1;
	}
	return 0;
}

/*
 * The rows (mailbox_id, an enum column, COUNT(*)) of sql into *c (caller
 * frees); value_of names the enum's value, -1 for one C does not know.
 */
int
store_row_counts(struct db *db, const char *sql, int (*value_of)(const char *),
    struct mail_count **c, size_t *n, struct err *err)
{
	struct db_res r;

	*c = NULL;
	*n = 0;
	if (db_query(db, sql, NULL, 0, &r, err) == -1)
		return -1;
	*c = xcalloc(r.nrows, sizeof **c);
	for (size_t i = 0; i < r.nrows; i++) {
		int v =
		    value_of(db_res_str(&r, i, 1) ? db_res_str(&r, i, 1) : "");

		if (v < 0)
			continue;
		(*c)[*n].mailbox_id = (uint64_t)db_res_int(&r, i, 0);
		(*c)[*n].value = v;
		(*c)[(*n)++].n = db_res_int(&r, i, 2);
	}
	db_res_free(&r);
	return 0;
}
