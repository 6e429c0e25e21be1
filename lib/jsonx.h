/*
 * jsonx: Jansson with our rules — strict parsing of request bodies,
 * unknown-field checks, field-level error lists, compact output.
 */
#ifndef POSTDESK_JSONX_H
#define POSTDESK_JSONX_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"

json_t *jsonx_parse_object(const char *data, size_t len, struct err *);
int     jsonx_unknown_fields(json_t *obj, const char *const *allowed,
        json_t *errors);
void    jsonx_field_error(json_t *errors, const char *field,
       const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int     jsonx_dump(const json_t *, struct buf *);
const char *jsonx_str(const json_t *obj, const char *key);

#endif
