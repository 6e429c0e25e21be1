/*
 * utf8: cutting mail text to a column's size without splitting a
 * character, and finding or removing control characters.  Every cut of
 * mail data goes through here (never xstrndup() or "%.Ns" on mail text:
 * a byte cut inside a character is invalid UTF-8, which MariaDB refuses
 * with 1366 "Incorrect string value").  Pure: no I/O.
 */
#ifndef POSTDESK_UTF8_H
#define POSTDESK_UTF8_H

#include <stddef.h>

#include "base/buf.h"

size_t utf8_cut(const char *s, size_t len, size_t max);
char  *utf8_ndup(const char *s, size_t max, int *cut);
void   utf8_buf_cap(struct buf *, size_t from, size_t max);
size_t utf8_strip_controls(char *s);
int    utf8_has_controls(const char *s);
int    utf8_valid(const char *s, size_t len);

#endif
