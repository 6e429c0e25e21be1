/*
 * store_util: copying result cells into schema-sized arrays.
 */
#include <string.h>

#include "store.h"

/*
 * Copy the cell into dst; SQL NULL becomes "".  A value that does not fit
 * is an error (E_DB), never a silent cut.
 */
int
store_copy(char *dst, size_t dstsz, const struct db_res *r, size_t row,
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
