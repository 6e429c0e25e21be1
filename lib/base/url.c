/*
 * url: percent-encoding (RFC 3986 unreserved characters pass through) and
 * lookup in application/x-www-form-urlencoded query strings.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/url.h"
#include "base/xmalloc.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode len bytes of s.  Returns a new string (caller frees), or NULL if
 * an escape is malformed or decodes to NUL.
 */
char *
url_decode(const char *s, size_t len, int plus_is_space)
{
	char  *out = xmalloc(len + 1);
	size_t j = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				goto bad;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			out[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			out[j++] = ' ';
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* Append s percent-encoded (everything but ALPHA DIGIT - . _ ~). */
void
url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p) != NULL) {
			buf_putc(b, (char)*p);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		}
	}
}

/*
 * The decoded value of the first name=value pair in query, or NULL if
 * absent or malformed.  Caller frees.
 */
char *
url_query_get(const char *query, const char *name)
{
	size_t nlen = strlen(name);

	if (query == NULL)
		return NULL;
	for (const char *p = query; *p;) {
		const char *end = strchr(p, '&');
		size_t      len = end ? (size_t)(end - p) : strlen(p);

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return url_decode(p + nlen + 1, len - nlen - 1, 1);
		if (len == nlen && strncmp(p, name, nlen) == 0)
			return xstrdup("");
		p += len;
		if (*p == '&')
			p++;
	}
	return NULL;
}

/* Append s as an OData string literal: in single quotes, ' doubled. */
void
url_odata_quote(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_putc(b, '\'');
		buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

/*
 * Append the $filter value "property eq 'value'", quoted
 * (url_odata_quote()) and then URL-encoded, to a URL.
 */
void
url_odata_eq(struct buf *url, const char *property, const char *value)
{
	struct buf f;

	buf_init(&f, 128);
	buf_printf(&f, "%s eq ", property);
	url_odata_quote(&f, value);
	url_encode(url, f.data);
	buf_cleanup(&f);
}
