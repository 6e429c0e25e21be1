/*
 * url: percent-encoding and query strings.
 */
#ifndef POSTDESK_URL_H
#define POSTDESK_URL_H

#include "base/buf.h"

char *url_decode(const char *s, size_t len, int plus_is_space);
void  url_encode(struct buf *, const char *s);
char *url_query_get(const char *query, const char *name);
void  url_odata_quote(struct buf *, const char *s);
void  url_odata_eq(struct buf *, const char *property, const char *value);

#endif
