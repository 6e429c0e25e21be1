/*
 * paging: cursors and page sizes for every list of postdesk-api
 * (lib/domain/paging.h).  A cursor is base64url (no padding) of "<at>.<id>":
 * the client cannot build one that reads past what it was shown, and a
 * cursor that does not decode to our form is refused (a 400 "bad
 * parameter" in the handlers).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "domain/paging.h"

/* Decimal digits s[0..n) into *v (no sign, at most 18 digits). */
static int
digits(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	if (n == 0 || n > 18 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

/*
 * The key of cursor s; NULL or "" is the first page (key 0, 0).  Returns
 * 0, or -1 when s is not a cursor of ours.
 */
int
page_cursor_parse(const char *s, struct page_key *k)
{
	char        text[PAGE_CURSOR_MAX];
	size_t      len = 0;
	const char *dot;
	uint64_t    at;

	k->at = 0;
	k->id = 0;
	if (s == NULL || s[0] == '\0')
		return 0;
	if (strlen(s) >= PAGE_CURSOR_MAX ||
	    sodium_base642bin((unsigned char *)text, sizeof text - 1, s,
	        strlen(s), NULL, &len, NULL,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	text[len] = '\0';
	dot = memchr(text, '.', len);
	if (dot == NULL || strlen(text) != len ||
	    digits(text, (size_t)(dot - text), &at) == -1 ||
	    digits(dot + 1, strlen(dot + 1), &k->id) == -1 || k->id == 0 ||
	    at > 1ULL << 40)
		return -1;
	k->at = (long long)at;
	return 0;
}

/* The cursor for the rows after key k. */
void
page_cursor_format(const struct page_key *k, char out[PAGE_CURSOR_MAX])
{
	char text[48];
	int  n = snprintf(text, sizeof text, "%lld.%llu", k->at,
	     (unsigned long long)k->id);

	sodium_bin2base64(out, PAGE_CURSOR_MAX, (const unsigned char *)text,
	    (size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * A page size from ?limit= (NULL or "": def).  Returns 0, or -1 unless it
 * is 1 to max.
 */
int
page_limit_parse(const char *s, long def, long max, long *limit)
{
	uint64_t n;

	*limit = def;
	if (s == NULL || s[0] == '\0')
		return 0;
	if (digits(s, strlen(s), &n) == -1 || n == 0 || n > (uint64_t)max)
		return -1;
	*limit = (long)n;
	return 0;
}

/* How many of nrows (fetched: limit + 1) the page shows. */
size_t
page_shown(size_t nrows, long limit)
{
	return nrows > (size_t)limit ? (size_t)limit : nrows;
}

/* The cursor after key last as a JSON string; null when last is NULL
 * (the last page). */
void
page_cursor_write(struct jw *w, const struct page_key *last)
{
	char cur[PAGE_CURSOR_MAX];

	if (last == NULL) {
		jw_null(w);
		return;
	}
	page_cursor_format(last, cur);
	jw_str(w, cur);
}

/*
 * {"items": [...], "next_cursor": ..., "total": total} of the first limit
 * rows of r (the query fetched limit + 1: a row beyond them means a next
 * page, whose cursor is the key of the last row shown).  total is counted
 * by the caller with the list's filters.  Frees r.
 */
void
page_write(struct buf *out, struct db_res *r, long limit,
    const struct page_view *v, long long total)
{
	struct jw       w;
	struct page_key last = { 0 };
	size_t          n = page_shown(r->nrows, limit);

	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "items");
	jw_open(&w, '[');
	for (size_t i = 0; i < n; i++)
		v->row(&w, r, i);
	jw_close(&w, ']');
	if (n > 0) {
		last.id = (uint64_t)db_res_int(r, n - 1, (size_t)v->id_col);
		if (v->at_col >= 0)
			last.at = db_res_int(r, n - 1, (size_t)v->at_col);
	}
	jw_key(&w, "next_cursor");
	page_cursor_write(&w, r->nrows > n ? &last : NULL);
	jw_key(&w, "total");
	jw_int(&w, total);
	jw_close(&w, '}');
	db_res_free(r);
}
