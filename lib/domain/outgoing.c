/*
 * outgoing: the outgoing queue's API side (lib/domain/outgoing.h).
 */
#include <string.h>

#include "domain/outgoing.h"
#include "domain/view.h"

/*
 * {"items": [outgoing…], "next_cursor"}: a page of the mails f selects,
 * newest first; f->limit rows are shown, one more is fetched to know
 * whether there is a next page.
 */
int
outgoing_list(struct db *db, const struct outgoing_filter *f, struct buf *out,
    struct err *err)
{
	struct outgoing_filter fetch = *f;
	struct db_res          r;
	struct jw              w;
	struct page_key        last = { 0 };
	size_t                 n;

	fetch.limit = f->limit + 1;
	if (store_outgoing_list(db, &fetch, &r, err) == -1)
		return -1;
	n = page_shown(r.nrows, f->limit);
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "items");
	jw_open(&w, '[');
	for (size_t i = 0; i < n; i++)
		view_outgoing(&w, &r, i);
	jw_close(&w, ']');
	if (n > 0)
		last.id = (uint64_t)db_res_int(&r, n - 1, VO_ID);
	jw_key(&w, "next_cursor");
	page_cursor_write(&w, r.nrows > n ? &last : NULL);
	jw_close(&w, '}');
	db_res_free(&r);
	return 0;
}

/* Put failed mail id back in the queue; E_CONFLICT unless it failed. */
int
outgoing_retry(struct db *db, uint64_t id, struct err *err)
{
	int changed;

	if (store_outgoing_retry(db, id, &changed, err) == -1)
		return -1;
	if (!changed) {
		err_set(err, E_CONFLICT,
		    "Only failed mail can be retried (or there is no such "
		    "outgoing email).");
		return -1;
	}
	return 0;
}
