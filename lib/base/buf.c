/*
 * buf: growable byte buffer.  data is NUL-terminated after every call, so
 * a buffer of text can be used as a C string.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xmalloc.h"

void
buf_init(struct buf *b, size_t hint)
{
	b->cap = hint < 64 ? 64 : hint;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
	b->len = 0;
}

/* Free the storage; a zeroed or already cleaned buf is fine. */
void
buf_cleanup(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	if (b->data == NULL)
		buf_init(b, 0);
	b->len = 0;
	b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t extra)
{
	size_t need;

	if (b->data == NULL)
		buf_init(b, extra + 1);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->data == NULL || b->len + n + 1 > b->cap)
		buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/*
 * Append c escaped for HTML, in text or in a quoted attribute value: the
 * one HTML escaper (the OAuth callback pages, acknowledgement bodies).
 */
void
buf_html_char(struct buf *b, char c)
{
	switch (c) {
	case '<':
		buf_puts(b, "&lt;");
		break;
	case '>':
		buf_puts(b, "&gt;");
		break;
	case '&':
		buf_puts(b, "&amp;");
		break;
	case '"':
		buf_puts(b, "&quot;");
		break;
	case '\'':
		buf_puts(b, "&#39;");
		break;
	default:
		buf_putc(b, c);
	}
}

/* Append s escaped for HTML (buf_html_char()). */
void
buf_html(struct buf *b, const char *s)
{
	for (; *s; s++)
		buf_html_char(b, *s);
}
