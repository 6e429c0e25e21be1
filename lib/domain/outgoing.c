/*
 * outgoing: the outgoing queue's API side (lib/domain/outgoing.h).
 */
#include <string.h>

#include "domain/outgoing.h"
#include "domain/view.h"

static const struct page_view OUTGOING_PAGE = {
	.row = view_outgoing,
	.id_col = VO_ID,
	.at_col = -1,
};

/*
 * {"items": [outgoing…], "next_cursor", "total"}: a page of the mails f
 * selects, newest first; f->limit rows are shown, one more is fetched to know
 * whether there is a next page.
 */
int
outgoing_list(struct db *db, const struct outgoing_filter *f, struct buf *out,
    struct err *err)
{
	struct outgoing_filter fetch = *f;
	struct db_res          r;
	long long              total;

	fetch.limit = f->limit + 1;
	if (store_outgoing_count(db, f, &total, err) == -1 ||
	    store_outgoing_list(db, &fetch, &r, err) == -1)
		return -1;
	page_write(out, &r, f->limit, &OUTGOING_PAGE, total);
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
