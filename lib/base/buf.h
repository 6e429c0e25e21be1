/*
 * buf: a growable byte buffer, always NUL-terminated after buf_init.
 */
#ifndef POSTDESK_BUF_H
#define POSTDESK_BUF_H

#include <stddef.h>

struct buf {
	char  *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *, size_t hint);
void buf_cleanup(struct buf *);
void buf_reset(struct buf *);
void buf_append(struct buf *, const void *, size_t);
void buf_puts(struct buf *, const char *);
void buf_html_char(struct buf *, char);
void buf_html(struct buf *, const char *);
void buf_printf(struct buf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * One byte.  Inline: the JSON writer (lib/adapt/jsonx.c) puts a few bytes per
 * value, and the call was 5% of the mailbox list's CPU time.
 */
static inline void
buf_putc(struct buf *b, char c)
{
	if (b->data == NULL || b->len + 2 > b->cap) {
		buf_append(b, &c, 1);
		return;
	}
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

#endif
