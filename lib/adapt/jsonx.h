/*
 * jsonx: Jansson with our rules — strict parsing of request bodies,
 * unknown-field checks, field-level error lists, compact output.
 */
#ifndef POSTDESK_JSONX_H
#define POSTDESK_JSONX_H

#include <stddef.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"

json_t *jsonx_parse_object(const char *data, size_t len, struct err *);
json_t *jsonx_load_graph(const char *data, size_t len);
int     jsonx_unknown_fields(json_t *obj, const char *const *allowed,
        json_t *errors);
void jsonx_field_error(json_t *errors, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int         jsonx_dump(const json_t *, struct buf *);
const char *jsonx_str(const json_t *obj, const char *key);
size_t      jsonx_u8len(const char *);
int         jsonx_has_control(const char *);

/*
 * A JSON writer straight into a buffer: every answer of postdesk-api is
 * written with it (no json_t tree to build and free); json_t is for
 * parsing request bodies and Graph.  Keys and nesting are the caller's
 * responsibility; strings are escaped.
 */
struct jw {
	struct buf   *b;
	unsigned      depth;
	int           after_key;
	unsigned char first[32];
};

void jw_init(struct jw *, struct buf *);
void jw_open(struct jw *, char bracket);
void jw_close(struct jw *, char bracket);
void jw_key(struct jw *, const char *key);
void jw_str(struct jw *, const char *s);
void jw_strn(struct jw *, const char *s, size_t n);
void jw_str_or_null(struct jw *, const char *s);
void jw_json(struct jw *, const json_t *);
void jw_int(struct jw *, long long);
void jw_bool(struct jw *, int);
void jw_null(struct jw *);

#endif
