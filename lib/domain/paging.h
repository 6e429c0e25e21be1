/*
 * paging: the one way the API's lists page (tickets, a ticket's messages,
 * the incoming email log, the outgoing queue).  A list is newest first by
 * a sort key (at, id); a page fetches limit + 1 rows, so the extra row
 * says whether there is a next page (no empty last page); the cursor is
 * opaque to clients: base64url of the key of the last row shown, checked
 * on the way in.  A list also answers its total: how many rows its
 * filters select, whatever the cursor (a COUNT(*) of the same filters).
 */
#ifndef POSTDESK_PAGING_H
#define POSTDESK_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/db.h"
#include "adapt/jsonx.h"

#define PAGE_CURSOR_MAX 64

/* The sort key of a row: at (e.g. updated_at as unix time; 0 for lists by
 * id only), then id.  The next page holds the rows below it. */
struct page_key {
	long long at;
	uint64_t  id;
};

int    page_cursor_parse(const char *, struct page_key *);
void   page_cursor_format(const struct page_key *, char out[PAGE_CURSOR_MAX]);
int    page_limit_parse(const char *, long def, long max, long *limit);
size_t page_shown(size_t nrows, long limit);
void   page_cursor_write(struct jw *, const struct page_key *last);

/* How a list's rows are written, and which columns hold their sort key
 * (at_col < 0: a list by id only). */
struct page_view {
	void (*row)(struct jw *, const struct db_res *, size_t row);
	int id_col;
	int at_col;
};
void page_write(struct buf *out, struct db_res *, long limit,
    const struct page_view *, long long total);

#endif
