/*
 * utf8: byte-level helpers over UTF-8 text.  The strings they are given
 * come from Jansson (valid UTF-8) or from our own formatting of such
 * strings; utf8_cut() also mends a buffer whose end was cut by bytes
 * (snprintf), so the result is valid whenever the bytes before the cut
 * were.
 */
#include <string.h>

#include "base/utf8.h"
#include "base/xmalloc.h"

/* How many bytes the character led by byte c has (1 for a stray byte). */
static size_t
seq_len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	if (c >= 0xc2)
		return 2;
	return 1;
}

/*
 * The length of the longest prefix of s (len bytes) that is at most max
 * bytes and ends on a character boundary: a character that the cut, or
 * an earlier byte cut at len, would split is left out whole.
 */
size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t               n = len < max ? len : max, lead = n;

	/* back to the lead byte of the character the cut falls in or after */
	while (lead > 0 && n - lead < 3 && (u[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead > 0 && u[lead - 1] >= 0xc0 &&
	    lead - 1 + seq_len(u[lead - 1]) > n)
		return lead - 1; /* that character does not fit whole */
	return n;
}

/*
 * A copy of s of at most max bytes, cut on a character boundary; *cut
 * (may be NULL) says whether anything was left out.  Caller frees.
 */
char *
utf8_ndup(const char *s, size_t max, int *cut)
{
	size_t len = strlen(s), n = utf8_cut(s, len, max);

	if (cut != NULL)
		*cut = n < len;
	return xstrndup(s, n);
}

/* Cut what b holds after offset from to at most max bytes, on a boundary. */
void
utf8_buf_cap(struct buf *b, size_t from, size_t max)
{
	if (from >= b->len)
		return;
	b->len = from + utf8_cut(b->data + from, b->len - from, max);
	b->data[b->len] = '\0';
}

/* The byte length of a control character at s (C0 but tab, DEL, C1), or 0. */
static size_t
control_at(const unsigned char *s)
{
	if ((s[0] < 0x20 && s[0] != '\t') || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	return 0;
}

/*
 * Remove control characters (C0 except tab, DEL, C1) from s in place;
 * returns how many were removed.
 */
size_t
utf8_strip_controls(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;
	size_t         removed = 0, n;

	while (*r) {
		n = control_at(r);
		if (n > 0) {
			r += n;
			removed++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return removed;
}

/* Does s carry a control character (C0 except tab, DEL, C1)? */
int
utf8_has_controls(const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if (control_at(u) > 0)
			return 1;
	return 0;
}

/* Is s (len bytes) well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF)? */
int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = seq_len(u[i]);

		if (n == 1) {
			if (u[i] >= 0x80)
				return 0;
			i++;
			continue;
		}
		if (i + n > len)
			return 0;
		for (size_t k = 1; k < n; k++)
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
		if ((u[i] == 0xe0 && u[i + 1] < 0xa0) ||
		    (u[i] == 0xed && u[i + 1] > 0x9f) ||
		    (u[i] == 0xf0 && u[i + 1] < 0x90) ||
		    (u[i] == 0xf4 && u[i + 1] > 0x8f))
			return 0;
		i += n;
	}
	return 1;
}
