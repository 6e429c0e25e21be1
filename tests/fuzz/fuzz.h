/*
 * fuzz.h: what the libFuzzer targets in tests/fuzz share — splitting one
 * input into NUL-separated fields, and checks on what lib/ produced:
 * UTF-8, mail lines, RFC 2047 words.
 * Header-only (static functions), so each target links only the lib
 * files it tests (and base/buf.c, libsodium).
 */
#ifndef POSTDESK_FUZZ_H
#define POSTDESK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"

#define FUZZ_MAX_FIELDS 64

/*
 * The input cut at each NUL into at most max (<= FUZZ_MAX_FIELDS) strings
 * (a copy: free with fuzz_fields_free()); fields past the input's end are
 * "".  The last field, number max - 1, is the rest of the input, NULs and
 * all; len[] has each field's length.
 */
struct fuzz_fields {
	char  *copy;
	char  *f[FUZZ_MAX_FIELDS];
	size_t len[FUZZ_MAX_FIELDS];
	size_t n; /* how many the input had */
};

static inline void
fuzz_fields(struct fuzz_fields *ff, const uint8_t *data, size_t size,
    size_t max)
{
	size_t start = 0;

	memset(ff, 0, sizeof *ff);
	ff->copy = malloc(size + 1);
	if (ff->copy == NULL)
		abort();
	memcpy(ff->copy, data, size);
	ff->copy[size] = '\0';
	if (max > FUZZ_MAX_FIELDS)
		max = FUZZ_MAX_FIELDS;
	for (size_t i = 0; i <= size && ff->n < max; i++) {
		if (i < size && data[i] != '\0')
			continue;
		if (ff->n == max - 1 && i < size)
			continue; /* the last field runs to the end */
		ff->f[ff->n] = ff->copy + start;
		ff->len[ff->n] = i - start;
		ff->n++;
		start = i + 1;
	}
	for (size_t i = ff->n; i < FUZZ_MAX_FIELDS; i++)
		ff->f[i] = ff->copy + size;
}

static inline void
fuzz_fields_free(struct fuzz_fields *ff)
{
	free(ff->copy);
}

/* Cut s in place to at most max bytes, before a UTF-8 character. */
static inline void
fuzz_cap(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

/* Is s[0..n) UTF-8 (no overlongs, surrogates or values past U+10FFFF)? */
static inline int
fuzz_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t        k = c < 0x80          ? 1
		           : c >= 0xc2 && c <= 0xdf ? 2
		           : c >= 0xe0 && c <= 0xef ? 3
		           : c >= 0xf0 && c <= 0xf4 ? 4
		                                    : 0;

		if (k == 0 || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		if ((c == 0xe0 && s[i + 1] < 0xa0) ||
		    (c == 0xed && s[i + 1] >= 0xa0) ||
		    (c == 0xf0 && s[i + 1] < 0x90) ||
		    (c == 0xf4 && s[i + 1] >= 0x90))
			return 0;
		i += k;
	}
	return 1;
}

/* Every line CRLF-terminated, <= 998 bytes, no controls, not only WSP. */
/* s is a string of at most max bytes of valid UTF-8, or abort. */
static inline void
fuzz_check_str(const char *s, size_t max)
{
	if (s == NULL || strlen(s) > max ||
	    !fuzz_utf8((const unsigned char *)s, strlen(s)))
		abort();
}

static inline void
fuzz_check_lines(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r') {
			int blank = 1;

			if (i + 1 >= n || s[i + 1] != '\n')
				abort(); /* bare CR */
			if (i - start > 998)
				abort();
			for (size_t k = start; k < i; k++)
				blank = blank && (s[k] == ' ' || s[k] == '\t');
			if (blank && i > start)
				abort(); /* a line of white space only */
			i++;
			start = i + 1;
		} else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f) {
			abort(); /* bare LF, or a control but TAB (WSP) */
		}
	}
	if (start != n)
		abort(); /* the last line has no CRLF */
}

/*
 * Decode a value of RFC 2047 B-words (each <= 75 characters) into out;
 * with whole, each word must decode to whole UTF-8 characters.
 */
static inline int
fuzz_decode_words(const char *v, struct buf *out, int whole)
{
	while (*v) {
		const char   *end;
		unsigned char bin[64];
		size_t        len;

		while (*v == ' ')
			v++;
		if (strncmp(v, "=?UTF-8?B?", 10) != 0)
			return -1;
		end = strstr(v + 10, "?=");
		if (end == NULL || end - v + 2 > 75)
			return -1;
		if (sodium_base642bin(bin, sizeof bin, v + 10,
		        (size_t)(end - v - 10), NULL, &len, NULL,
		        sodium_base64_VARIANT_ORIGINAL) != 0)
			return -1;
		if (whole && !fuzz_utf8(bin, len))
			return -1;
		buf_append(out, bin, len);
		v = end + 2;
	}
	return 0;
}

#endif
