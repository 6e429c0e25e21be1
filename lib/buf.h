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
void buf_putc(struct buf *, char);
void buf_html_char(struct buf *, char);
void buf_html(struct buf *, const char *);
void buf_printf(struct buf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
