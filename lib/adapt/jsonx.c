/*
 * jsonx: request bodies are parsed with JSON_REJECT_DUPLICATES and must be
 * objects; validation collects every field error in one array of
 * {"field","message"} so a form can show them all at once.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/jsonx.h"

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

	v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
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
jsonx_unknown_fields(json_t *obj, const char *const *allowed, json_t *errors)
{
	const char *key;
	json_t     *val;
	int         n = 0;

	json_object_foreach (obj, key, val) {
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

/*
 * Append s as a JSON string.  Runs of bytes that need no escaping are
 * copied whole: Jansson's own dumper goes byte by byte through a callback
 * and was half the CPU time of a mailbox list.  Strings in json_t are
 * valid UTF-8, so only '"', '\\' and control characters need escapes.
 */
static void
dump_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t            run = 0;

	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		default:
			buf_puts(b, "\\u00");
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
	buf_append(b, s + run, n - run);
	buf_putc(b, '"');
}

static int
dump(const json_t *v, struct buf *b, int depth)
{
	const char *key;
	json_t     *val;
	size_t      i;

	if (depth > 64)
		return -1;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		buf_putc(b, '{');
		i = 0;
		json_object_foreach ((json_t *)(uintptr_t)v, key, val) {
			if (i++ > 0)
				buf_putc(b, ',');
			dump_string(b, key, strlen(key));
			buf_putc(b, ':');
			if (dump(val, b, depth + 1) == -1)
				return -1;
		}
		buf_putc(b, '}');
		return 0;
	case JSON_ARRAY:
		buf_putc(b, '[');
		json_array_foreach (v, i, val) {
			if (i > 0)
				buf_putc(b, ',');
			if (dump(val, b, depth + 1) == -1)
				return -1;
		}
		buf_putc(b, ']');
		return 0;
	case JSON_STRING:
		dump_string(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		buf_printf(b, "%.17g", json_real_value(v));
		return 0;
	case JSON_TRUE:
		buf_puts(b, "true");
		return 0;
	case JSON_FALSE:
		buf_puts(b, "false");
		return 0;
	case JSON_NULL:
		buf_puts(b, "null");
		return 0;
	}
	return -1;
}

/* Append v as compact JSON to b.  Returns 0, or -1 if nested too deep. */
int
jsonx_dump(const json_t *v, struct buf *b)
{
	return v == NULL ? -1 : dump(v, b, 0);
}

void
jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof *w);
	w->b = b;
	w->first[0] = 1;
}

/* The comma before a value in an array or a key in an object. */
static void
jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		buf_putc(w->b, ',');
	w->first[w->depth] = 0;
}

void
jw_open(struct jw *w, char bracket)
{
	jw_sep(w);
	buf_putc(w->b, bracket);
	if (w->depth + 1 < sizeof w->first)
		w->depth++;
	w->first[w->depth] = 1;
}

void
jw_close(struct jw *w, char bracket)
{
	buf_putc(w->b, bracket);
	if (w->depth > 0)
		w->depth--;
}

void
jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	dump_string(w->b, key, strlen(key));
	buf_putc(w->b, ':');
	w->after_key = 1;
}

void
jw_str(struct jw *w, const char *s)
{
	jw_sep(w);
	dump_string(w->b, s, strlen(s));
}

/* n bytes of s (NULs become \u0000); the caller checked it is UTF-8. */
void
jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	dump_string(w->b, s, n);
}

/* A value parsed elsewhere (a Graph message, an audit detail), as is. */
void
jw_json(struct jw *w, const json_t *v)
{
	jw_sep(w);
	if (v == NULL || dump(v, w->b, 0) == -1)
		buf_puts(w->b, "null");
}

/* s, or null when s is "". */
void
jw_str_or_null(struct jw *w, const char *s)
{
	if (s[0] == '\0')
		jw_null(w);
	else
		jw_str(w, s);
}

/* Digits by hand: printf's machinery (twice, to size and to write) was
 * the largest part of writing a number. */
void
jw_int(struct jw *w, long long v)
{
	char               d[24];
	size_t             i = sizeof d;
	unsigned long long u =
	    v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do
		d[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		d[--i] = '-';
	jw_sep(w);
	buf_append(w->b, d + i, sizeof d - i);
}

void
jw_bool(struct jw *w, int v)
{
	jw_sep(w);
	buf_puts(w->b, v ? "true" : "false");
}

void
jw_null(struct jw *w)
{
	jw_sep(w);
	buf_puts(w->b, "null");
}

/* Characters (not bytes) in s; Jansson strings are valid UTF-8. */
size_t
jsonx_u8len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * True if s holds a control character (what a name or label must not):
 * C0, DEL or C1 (U+0080-U+009F), as lib/mail/mime.c refuses in a header.
 */
int
jsonx_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f ||
		    ((unsigned char)s[0] == 0xc2 &&
		        (unsigned char)s[1] >= 0x80 &&
		        (unsigned char)s[1] <= 0x9f))
			return 1;
	return 0;
}

/* obj[key] if it is a string, else NULL.  Borrowed. */
const char *
jsonx_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int
hex4(const char *p, const char *end, unsigned *v)
{
	*v = 0;
	if (end - p < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

/*
 * Rewrite each \u escape of a lone UTF-16 surrogate in the JSON text s
 * (n bytes) as \uFFFD, in place (same length).  Returns how many.
 */
static size_t
repair_surrogates(char *s, size_t n)
{
	char    *end = s + n;
	size_t   fixed = 0;
	int      in_string = 0;
	unsigned v, w;

	for (char *p = s; p < end; p++) {
		if (!in_string) {
			in_string = *p == '"';
			continue;
		}
		if (*p == '"') {
			in_string = 0;
			continue;
		}
		if (*p != '\\' || p + 1 >= end)
			continue;
		p++;
		if (*p != 'u' || !hex4(p + 1, end, &v))
			continue;
		if (v >= 0xd800 && v <= 0xdbff && end - p >= 11 &&
		    p[5] == '\\' && p[6] == 'u' && hex4(p + 7, end, &w) &&
		    w >= 0xdc00 && w <= 0xdfff) {
			p += 10; /* a proper pair */
			continue;
		}
		if (v >= 0xd800 && v <= 0xdfff) {
			memcpy(p + 1, "FFFD", 4);
			fixed++;
		}
		p += 4;
	}
	return fixed;
}

/*
 * Parse a JSON answer from Microsoft: NUL characters allowed (\u0000),
 * and lone UTF-16 surrogates — which Jansson refuses, and .NET writes —
 * read as U+FFFD.  Returns a new reference, or NULL if the text is not
 * JSON even so.
 */
json_t *
jsonx_load_graph(const char *data, size_t len)
{
	json_t *v = json_loadb(data, len, JSON_ALLOW_NUL, NULL);
	char   *copy;

	if (v != NULL || len == 0)
		return v;
	copy = malloc(len);
	if (copy == NULL)
		return NULL;
	memcpy(copy, data, len);
	if (repair_surrogates(copy, len) > 0)
		v = json_loadb(copy, len, JSON_ALLOW_NUL, NULL);
	free(copy);
	return v;
}
