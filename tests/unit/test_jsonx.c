/*
 * test_jsonx: strict parsing of request bodies, unknown fields, the
 * field error list and compact output.
 */
#include <limits.h>
#include <string.h>

#include "adapt/jsonx.h"
#include "test.h"

/* Parse s; returns 1 if it was accepted (and frees it). */
static int
parses(const char *s, size_t len, struct err *err)
{
	json_t *v;

	err_clear(err);
	v = jsonx_parse_object(s, len, err);
	json_decref(v);
	return v != NULL;
}

#define PARSES(s, err) parses((s), sizeof(s) - 1, (err))

static void
test_parse(void)
{
	struct err err;
	json_t    *v;

	v = jsonx_parse_object("{\"a\": 1, \"b\": \"x\"}", 18, &err);
	if (CHECK(v != NULL)) {
		CHECK(json_is_object(v));
		CHECK_INT(json_integer_value(json_object_get(v, "a")), 1);
		CHECK_STR(jsonx_str(v, "b"), "x");
		CHECK(jsonx_str(v, "a") == NULL); /* not a string */
		CHECK(jsonx_str(v, "zz") == NULL);
	}
	json_decref(v);

	CHECK(PARSES("{}", &err));
	CHECK(PARSES(" \n{ } \n", &err));
	CHECK(PARSES("{\"name\": \"caf\xc3\xa9\"}", &err));

	/* Duplicate keys would let two checks see different values. */
	CHECK(!PARSES("{\"a\": 1, \"a\": 2}", &err));
	CHECK_INT(err.code, E_INVALID);
	CHECK(strstr(err.msg, "not valid JSON") != NULL);
	CHECK(!PARSES("{\"a\": {\"b\": 1, \"b\": 1}}", &err));

	/* Only objects. */
	CHECK(!PARSES("[1, 2]", &err));
	CHECK_INT(err.code, E_INVALID);
	CHECK(strstr(err.msg, "JSON object") != NULL);
	CHECK(!PARSES("[]", &err));
	CHECK(!PARSES("\"text\"", &err));
	CHECK(!PARSES("42", &err));
	CHECK(!PARSES("null", &err));
	CHECK(!PARSES("", &err));
	CHECK_INT(err.code, E_INVALID);

	/* Trailing garbage and truncation. */
	CHECK(!PARSES("{} x", &err));
	CHECK(!PARSES("{}{}", &err));
	CHECK(!PARSES("{\"a\": 1", &err));
	CHECK(!PARSES("{\"a\": 1,}", &err));
	CHECK(!PARSES("{'a': 1}", &err));

	/* Bytes that are not UTF-8, and NUL in strings. */
	CHECK(!PARSES("{\"a\": \"\xff\"}", &err));
	CHECK(!PARSES("{\"a\": \"\xc3\"}", &err));
	CHECK(!PARSES("{\"\xc0\xaf\": 1}", &err));
	CHECK(!PARSES("{\"a\": \"\xed\xa0\x80\"}", &err)); /* surrogate */
	CHECK(!PARSES("{\"a\": \"x\\u0000y\"}", &err));
	CHECK(!PARSES("{\"a\": \"x\0y\"}", &err));

	/* len is honoured: the object ends where len says. */
	CHECK(parses("{}garbage", 2, &err));
	CHECK(!parses("{\"a\": 1}", 7, &err));
}

static void
test_unknown(void)
{
	static const char *const allowed[] = { "name", "secret", NULL };
	static const char *const none[] = { NULL };
	json_t                  *in, *errors;
	struct err               err;
	const char              *body = "{\"name\": \"x\", \"colour\": 1, "
	                                "\"Secret\": \"s\", \"secret\": \"t\"}";

	in = jsonx_parse_object(body, strlen(body), &err);
	if (!CHECK(in != NULL))
		return;
	errors = json_array();
	CHECK_INT(jsonx_unknown_fields(in, allowed, errors), 2);
	CHECK_INT(json_array_size(errors), 2);
	for (size_t i = 0; i < json_array_size(errors); i++) {
		const char *f = jsonx_str(json_array_get(errors, i), "field");

		CHECK(f != NULL &&
		    (strcmp(f, "colour") == 0 || strcmp(f, "Secret") == 0));
		CHECK_STR(jsonx_str(json_array_get(errors, i), "message"),
		    "Unknown field.");
	}
	json_array_clear(errors);

	CHECK_INT(jsonx_unknown_fields(in, none, errors), 4);
	CHECK_INT(json_array_size(errors), 4);
	json_decref(in);
	json_array_clear(errors);

	in = json_object();
	CHECK_INT(jsonx_unknown_fields(in, allowed, errors), 0);
	CHECK_INT(json_array_size(errors), 0);
	json_decref(in);
	json_decref(errors);
}

static void
test_field_error(void)
{
	json_t    *errors = json_array(), *e;
	struct buf b;
	char       long_arg[700];

	jsonx_field_error(errors, "name", "Enter %d to %d characters.", 1, 100);
	CHECK_INT(json_array_size(errors), 1);
	e = json_array_get(errors, 0);
	CHECK(json_is_object(e));
	CHECK_INT(json_object_size(e), 2);
	CHECK_STR(jsonx_str(e, "field"), "name");
	CHECK_STR(jsonx_str(e, "message"), "Enter 1 to 100 characters.");

	jsonx_field_error(errors, "secret", "%s", "second");
	CHECK_INT(json_array_size(errors), 2);
	CHECK_STR(jsonx_str(json_array_get(errors, 1), "field"), "secret");

	buf_init(&b, 0);
	CHECK_INT(jsonx_dump(errors, &b), 0);
	CHECK_STR(b.data,
	    "[{\"field\":\"name\",\"message\":\"Enter 1 to 100 "
	    "characters.\"},{\"field\":\"secret\",\"message\":"
	    "\"second\"}]");
	buf_cleanup(&b);

	/*
	 * A long message is cut, but never so that the error is lost: a cut
	 * through a UTF-8 character must not make the message invalid.
	 */
	for (size_t i = 0; i + 2 < sizeof long_arg; i += 2)
		memcpy(long_arg + i, "\xc3\xa9", 2);
	long_arg[sizeof long_arg - 2] = '\0';
	jsonx_field_error(errors, "folder", "%s", long_arg);
	CHECK_INT(json_array_size(errors), 3);
	e = json_array_get(errors, 2);
	CHECK_STR(jsonx_str(e, "field"), "folder");
	CHECK(jsonx_str(e, "message") != NULL &&
	    strlen(jsonx_str(e, "message")) == 510);

	/* A cut after a whole character keeps it. */
	jsonx_field_error(errors, "folder", "x%s", long_arg);
	e = json_array_get(errors, 3);
	CHECK(jsonx_str(e, "message") != NULL &&
	    strlen(jsonx_str(e, "message")) == 511);

	/* Three-byte characters cut after one or two of their bytes. */
	for (size_t i = 0; i + 3 < sizeof long_arg; i += 3)
		memcpy(long_arg + i, "\xe2\x82\xac", 3);
	long_arg[sizeof long_arg - 1] = '\0';
	jsonx_field_error(errors, "a", "%s", long_arg);  /* 511 = 170*3 + 1 */
	jsonx_field_error(errors, "b", "x%s", long_arg); /* 1 + 170*3 */
	jsonx_field_error(errors, "c", "xy%s", long_arg);
	CHECK_INT(json_array_size(errors), 7);
	CHECK(strlen(jsonx_str(json_array_get(errors, 4), "message")) == 510);
	CHECK(strlen(jsonx_str(json_array_get(errors, 5), "message")) == 511);
	CHECK(strlen(jsonx_str(json_array_get(errors, 6), "message")) == 509);

	/* A message that is not UTF-8 still leaves an error behind. */
	jsonx_field_error(errors, "name", "bad %s", "\xff");
	CHECK_INT(json_array_size(errors), 8);
	CHECK_STR(jsonx_str(json_array_get(errors, 7), "field"), "name");
	CHECK_STR(jsonx_str(json_array_get(errors, 7), "message"),
	    "Invalid value.");
	json_decref(errors);
}

static void
test_dump(void)
{
	json_t *v =
	    json_pack("{s:i, s:[s, b], s:n}", "a", 1, "b", "x\"y", 1, "c");
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, ">");
	CHECK_INT(jsonx_dump(v, &b), 0);
	CHECK_STR(b.data, ">{\"a\":1,\"b\":[\"x\\\"y\",true],\"c\":null}");
	CHECK_INT(b.len, strlen(b.data));
	buf_cleanup(&b);
	json_decref(v);
}

static void
test_writer(void)
{
	struct buf b;
	struct jw  w;
	json_t    *o;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_open(&w, '{');
	jw_key(&w, "a");
	jw_open(&w, '[');
	jw_int(&w, -3);
	jw_str(&w, "x\"\\\n\x01\xc3\xa9");
	jw_null(&w);
	jw_open(&w, '{');
	jw_close(&w, '}');
	jw_open(&w, '[');
	jw_close(&w, ']');
	jw_close(&w, ']');
	jw_key(&w, "b");
	jw_bool(&w, 0);
	jw_key(&w, "c");
	jw_str_or_null(&w, "");
	jw_key(&w, "d");
	jw_str_or_null(&w, "v");
	jw_close(&w, '}');
	CHECK_STR(b.data,
	    "{\"a\":[-3,\"x\\\"\\\\\\n\\u0001\xc3\xa9\",null,{},[]],"
	    "\"b\":false,\"c\":null,\"d\":\"v\"}");
	o = json_loads(b.data, JSON_REJECT_DUPLICATES, NULL);
	if (CHECK(o != NULL))
		CHECK_STR(json_string_value(
		              json_array_get(json_object_get(o, "a"), 1)),
		    "x\"\\\n\x01\xc3\xa9");
	json_decref(o);
	buf_cleanup(&b);
}

/* jw_int writes its digits by hand: the edges printf would get right. */
static void
test_writer_int(void)
{
	struct buf b;
	struct jw  w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_open(&w, '[');
	jw_int(&w, 0);
	jw_int(&w, 7);
	jw_int(&w, -10);
	jw_int(&w, LLONG_MAX);
	jw_int(&w, LLONG_MIN);
	jw_close(&w, ']');
	CHECK_STR(b.data, "[0,7,-10,9223372036854775807,-9223372036854775808]");
	CHECK_INT(b.len, strlen(b.data));
	buf_cleanup(&b);
}

/* Control characters a name must not hold: C0, DEL and C1 */
static void
test_has_control(void)
{
	CHECK(jsonx_has_control("a\tb"));
	CHECK(jsonx_has_control("a\x7f"));
	CHECK(jsonx_has_control("a\xc2\x85"));
	CHECK(!jsonx_has_control("Caf\xc3\xa9 \xc2\xa0 Support"));
}

/* Graph's JSON: NULs kept, lone surrogates read as U+FFFD, pairs kept */
static void
test_load_graph(void)
{
	static const char nul[] = "{\"s\":\"a\\u0000b\"}";
	static const char lone[] =
	    "{\"s\":\"x\\ud800y\\udc00z\\ud83d\",\"t\":\"\\ud83d\\ude00\"}";
	static const char text[] = "{\"s\":\"\\\\ud800\"}";
	static const char bad[] = "{\"s\":\"\\ud800\"";
	json_t           *o;

	o = jsonx_load_graph(nul, strlen(nul));
	if (CHECK(o != NULL))
		CHECK_INT(json_string_length(json_object_get(o, "s")), 3);
	json_decref(o);
	o = jsonx_load_graph(lone, strlen(lone));
	if (CHECK(o != NULL)) {
		CHECK_STR(jsonx_str(o, "s"),
		    "x\xef\xbf\xbdy\xef\xbf\xbdz\xef\xbf\xbd");
		CHECK_STR(jsonx_str(o, "t"), "\xf0\x9f\x98\x80");
	}
	json_decref(o);
	/* an escaped backslash before "ud800" is text, not an escape */
	o = jsonx_load_graph(text, strlen(text));
	if (CHECK(o != NULL))
		CHECK_STR(jsonx_str(o, "s"), "\\ud800");
	json_decref(o);
	CHECK(jsonx_load_graph(bad, strlen(bad)) == NULL);
	CHECK(jsonx_load_graph("", 0) == NULL);
}

int
main(void)
{
	test_load_graph();
	test_has_control();
	test_parse();
	test_unknown();
	test_field_error();
	test_dump();
	test_writer();
	test_writer_int();
	return TEST_DONE();
}
