/*
 * xmalloc: allocation that aborts on failure, and secret-wiping free.
 */
#ifndef POSTDESK_XMALLOC_H
#define POSTDESK_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
void  xfree_secret(char *);

#endif
