/*
 * jsonx: request bodies are parsed with JSON_REJECT_DUPLICATES and must be
 * objects; validation collects every field error in one array of
 * {"field","message"} so a form can show them all at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonx.h"

/*
 * Parse data as one JSON object.  Returns a new reference (caller
 * json_decref()s), or NULL with err (E_INVALID, message for the client).
 */
json_t *
jsonx_parse_object(const char *data, size_t len, struct err *err)
{
	json_error_t je;
	json_t      *v;
	char        *near;

	v = json_loadb(data, len, JSON_REJECT_DUPLICATES,
	    &je);
	if (v == NULL) {
		/* Jansson quotes the input it choked on ("... near '...'"):
		 * that may be a secret, so it never goes back in an answer. */
		near = strstr(je.text, " near ");
		if (near != NULL)
			*near = '\0';
		err_set(err, E_INVALID,
		    "Request body is not valid JSON: %s (line %d, column %d).",
		    je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		err_set(err, E_INVALID, "Request body must be a JSON object.");
		return NULL;
	}
	return v;
}

/* Drop a UTF-8 character that a cut at the end of s left incomplete. */
static void
cut_utf8(char *s)
{
	size_t        n = strlen(s), lead = n, need;
	unsigned char c;

	while (lead > 0 && n - lead < 3 &&
	    ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0)
		return;
	c = (unsigned char)s[--lead];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (n - lead < need)
		s[lead] = '\0';
}

/*
 * Append {"field": field, "message": ...} to the errors array.  The error
 * is never lost: a long message is cut at a character boundary, and one
 * Jansson refuses (not UTF-8) becomes "Invalid value."
 */
void
jsonx_field_error(json_t *errors, const char *field, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;
	json_t *e;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof msg)
		cut_utf8(msg);
	e = json_pack("{s:s, s:s}", "field", field, "message", msg);
	if (e == NULL)
		e = json_pack("{s:s, s:s}", "field", field, "message",
		    "Invalid value.");
	json_array_append_new(errors, e);
}

/*
 * Add an error for each key of obj not in the NULL-terminated allowed
 * list.  Returns how many were unknown.
 */
int
jsonx_unknown_fields(json_t *obj, const char *const *allowed,
    json_t *errors)
{
	const char *key;
	json_t     *val;
	int         n = 0;

	json_object_foreach(obj, key, val) {
		const char *const *a = allowed;

		while (*a != NULL && strcmp(*a, key) != 0)
			a++;
		if (*a == NULL) {
			jsonx_field_error(errors, key, "Unknown field.");
			n++;
		}
	}
	return n;
}

static int
dump_cb(const char *p, size_t n, void *data)
{
	buf_append(data, p, n);
	return 0;
}

/* Append v as compact JSON to b.  Returns 0 or -1. */
int
jsonx_dump(const json_t *v, struct buf *b)
{
	return json_dump_callback(v, dump_cb, b, JSON_COMPACT);
}

/* obj[key] if it is a string, else NULL.  Borrowed. */
const char *
jsonx_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}
