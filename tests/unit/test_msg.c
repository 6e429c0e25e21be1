/*
 * test_msg: Graph message JSON into struct msg — a full message, missing
 * and mistyped fields ("" plus a note), caps on huge strings (cut on a
 * UTF-8 character boundary), id validation, the sender fallback, the
 * recipients cap, headers by name in any case.
 */
#include <stdlib.h>
#include <string.h>

#include "mail/msg.h"
#include "base/utf8.h"
#include "base/xmalloc.h"
#include "test.h"

static const char FULL[] =
    "{\"id\": \"AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A_x=\","
    " \"internetMessageId\": \"<abc@mail.example.com>\","
    " \"conversationId\": \"AAQkAconv=\", \"subject\": \"Printer on fire\","
    " \"body\": {\"contentType\": \"text\", \"content\": \"It burns.\"},"
    " \"from\": {\"emailAddress\": {\"name\": \"Bob\", \"address\": "
    "\"Bob@Example.COM\"}},"
    " \"sender\": {\"emailAddress\": {\"name\": \"Other\", \"address\": "
    "\"other@example.com\"}},"
    " \"toRecipients\": [{\"emailAddress\": {\"name\": \"Help\", "
    "\"address\": \"help@contoso.com\"}}, {\"emailAddress\": {\"address\": "
    "\"Sales@Contoso.com\"}}],"
    " \"ccRecipients\": [{\"emailAddress\": {\"address\": \"c@x.org\"}}],"
    " \"receivedDateTime\": \"2026-11-26T09:10:54Z\","
    " \"hasAttachments\": true, \"isRead\": false,"
    " \"internetMessageHeaders\": [{\"name\": \"In-Reply-To\", \"value\":"
    " \"<x@y>\"}, {\"name\": \"X-Thing\", \"value\": \"1\"}]}";

/* Parse text; returns msg_parse's result (m is always to be cleaned). */
static int
parse(const char *text, struct msg *m)
{
	json_t    *o = json_loads(text, JSON_DECODE_ANY, NULL);
	struct err err;
	int        rc;

	if (o == NULL) {
		printf("bad test JSON: %s\n", text);
		exit(2);
	}
	rc = msg_parse(o, m, &err);
	json_decref(o);
	return rc;
}

static void
test_full(void)
{
	struct msg m;
	struct buf b;

	if (!CHECK(parse(FULL, &m) == 0))
		return;
	CHECK_STR(m.id, "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A_x=");
	CHECK_STR(m.internet_message_id, "<abc@mail.example.com>");
	CHECK_STR(m.conversation_id, "AAQkAconv=");
	CHECK_STR(m.subject, "Printer on fire");
	CHECK_STR(m.body, "It burns.");
	CHECK_STR(m.received, "2026-11-26T09:10:54Z");
	CHECK_STR(m.from.name, "Bob");
	CHECK_STR(m.from.address, "bob@example.com"); /* lower-cased */
	CHECK_INT(m.nto, 2);
	CHECK_INT(m.ncc, 1);
	CHECK_STR(m.to[1].address, "sales@contoso.com");
	CHECK_STR(m.to[1].name, "");
	CHECK(m.has_attachments == 1);
	CHECK(m.is_read == 0);
	CHECK_INT(m.nheaders, 2);
	CHECK_STR(msg_header(&m, "in-reply-to"), "<x@y>");
	CHECK_STR(msg_header(&m, "X-THING"), "1");
	CHECK(msg_header(&m, "References") == NULL);
	CHECK_INT(m.notes.len, 0);
	buf_init(&b, 16);
	msg_addr_list(&b, m.to, m.nto);
	CHECK_STR(b.data, "help@contoso.com, sales@contoso.com");
	buf_cleanup(&b);
	msg_cleanup(&m);
	CHECK(m.id == NULL); /* cleanup leaves it empty: a second one is safe */
	msg_cleanup(&m);
}

static void
test_missing(void)
{
	struct msg m;

	/* only an id: every other field is "" without a note */
	if (CHECK(parse("{\"id\": \"AAMk1\"}", &m) == 0)) {
		CHECK_STR(m.subject, "");
		CHECK_STR(m.body, "");
		CHECK_STR(m.internet_message_id, "");
		CHECK_STR(m.conversation_id, "");
		CHECK_STR(m.received, "");
		CHECK_STR(m.from.address, "");
		CHECK_STR(m.from.name, "");
		CHECK_INT(m.nto, 0);
		CHECK_INT(m.ncc, 0);
		CHECK_INT(m.nheaders, 0);
		CHECK(m.has_attachments == 0);
		CHECK_INT(m.notes.len, 0);
	}
	msg_cleanup(&m);
	/* explicit nulls are "absent", not "mistyped" */
	if (CHECK(parse("{\"id\": \"AAMk1\", \"subject\": null, \"from\": null,"
	                " \"toRecipients\": null, \"body\": null}",
	              &m) == 0)) {
		CHECK_STR(m.subject, "");
		CHECK_INT(m.notes.len, 0);
	}
	msg_cleanup(&m);
}

static void
test_mistyped(void)
{
	struct msg m;

	if (CHECK(
	        parse(
	            "{\"id\": \"AAMk1\", \"subject\": 42, "
	            "\"body\": {\"content\": [1]}, "
	            "\"internetMessageId\": {}, \"receivedDateTime\": true,"
	            " \"from\": {\"emailAddress\": {\"address\": 7, "
	            "\"name\": \"N\"}},"
	            " \"toRecipients\": \"a@b.c\", \"ccRecipients\": [5, "
	            "{\"emailAddress\": {\"address\": \"ok@x.y\"}}],"
	            " \"hasAttachments\": \"yes\", \"isRead\": 1,"
	            " \"internetMessageHeaders\": [7, {\"name\": 1, \"value\":"
	            " \"v\"}]}",
	            &m) == 0)) {
		CHECK_STR(m.subject, "");
		CHECK_STR(m.body, "");
		CHECK_STR(m.internet_message_id, "");
		CHECK_STR(m.received, "");
		CHECK_STR(m.from.address, "");
		CHECK_INT(m.nto, 0);
		CHECK_INT(m.ncc, 2);
		CHECK_STR(m.cc[0].address, "");
		CHECK_STR(m.cc[1].address, "ok@x.y");
		CHECK(m.has_attachments == 0); /* only JSON true is true */
		CHECK(m.is_read == 0);
		CHECK_INT(m.nheaders, 2);
		CHECK_STR(m.headers[1].name, "");
		CHECK(strstr(m.notes.data, "subject is not a string") != NULL);
		CHECK(strstr(m.notes.data, "content is not a string") != NULL);
		CHECK(strstr(m.notes.data,
		          "internetMessageId is not a string") != NULL);
		CHECK(strstr(m.notes.data,
		          "receivedDateTime is not a string") != NULL);
		CHECK(strstr(m.notes.data, "address is not a string") != NULL);
		CHECK(strstr(m.notes.data, "recipient list is not an array") !=
		    NULL);
		CHECK(strstr(m.notes.data, "name is not a string") != NULL);
	}
	msg_cleanup(&m);
}

static int
bad_id(const char *text)
{
	struct msg m;
	int        rc = parse(text, &m);

	if (rc == -1)
		CHECK(m.id == NULL);
	msg_cleanup(&m);
	return rc == -1;
}

static void
test_ids(void)
{
	char *big = xmalloc(600), *text = xmalloc(700);

	CHECK(bad_id("{}"));
	CHECK(bad_id("{\"id\": null}"));
	CHECK(bad_id("{\"id\": 12}"));
	CHECK(bad_id("{\"id\": \"\"}"));
	CHECK(bad_id("{\"id\": \"a/b\"}"));
	CHECK(bad_id("{\"id\": \"a?b\"}"));
	CHECK(bad_id("{\"id\": \"a#b\"}"));
	CHECK(bad_id("{\"id\": \"a%2Fb\"}"));
	CHECK(bad_id("{\"id\": \"a b\"}"));
	CHECK(bad_id("{\"id\": \"a\\nb\"}"));
	CHECK(bad_id("[{\"id\": \"AAMk\"}]"));
	CHECK(bad_id("\"AAMk\""));
	memset(big, 'A', 513);
	big[513] = '\0';
	snprintf(text, 700, "{\"id\": \"%s\"}", big);
	CHECK(bad_id(text));
	big[512] = '\0'; /* 512 is still fine */
	snprintf(text, 700, "{\"id\": \"%s\"}", big);
	CHECK(!bad_id(text));
	/* Graph's alphabet: URL-safe base64 with '-', '_', '=' */
	CHECK(!bad_id("{\"id\": \"AAMk-_=\"}"));
	free(big);
	free(text);
	/* msg_parse(NULL) does not crash */
	{
		struct msg m;
		struct err err;

		CHECK(msg_parse(NULL, &m, &err) == -1);
		CHECK(err.code == E_INVALID);
		msg_cleanup(&m);
	}
}

/* {"id": "AAMk1", key: <s>} with s escaped as JSON */
static json_t *
with(const char *key, const char *s)
{
	return json_pack("{s:s, s:s}", "id", "AAMk1", key, s);
}

static void
test_caps(void)
{
	size_t     n = MSG_SUBJECT_MAX + 100, i;
	char      *s = xmalloc(n + 1);
	struct msg m;
	struct err err;
	json_t    *o;

	/* ASCII: cut exactly at the cap, with a note */
	memset(s, 'x', n);
	s[n] = '\0';
	o = with("subject", s);
	if (CHECK(msg_parse(o, &m, &err) == 0)) {
		CHECK_INT(strlen(m.subject), MSG_SUBJECT_MAX);
		CHECK(strstr(m.notes.data, "subject cut to 998 bytes") != NULL);
	}
	msg_cleanup(&m);
	json_decref(o);

	/* "é" (2 bytes) from offset 1: byte 998 would split a character */
	s[0] = 'a';
	for (i = 1; i + 1 < n; i += 2) {
		s[i] = (char)0xc3;
		s[i + 1] = (char)0xa9;
	}
	s[i] = '\0';
	o = with("subject", s);
	if (CHECK(o != NULL) && CHECK(msg_parse(o, &m, &err) == 0)) {
		size_t  len = strlen(m.subject);
		json_t *j =
		    json_string(m.subject); /* NULL unless valid UTF-8 */

		CHECK_INT(len, MSG_SUBJECT_MAX - 1);
		CHECK(((unsigned char)m.subject[len - 1] & 0xc0) == 0x80);
		CHECK(j != NULL);
		json_decref(j);
	}
	msg_cleanup(&m);
	json_decref(o);

	/* a 4-byte character straddling the cap */
	memset(s, 'x', n);
	memcpy(s + MSG_SUBJECT_MAX - 2, "\xf0\x9f\x94\xa5", 4);
	s[MSG_SUBJECT_MAX + 10] = '\0';
	o = with("subject", s);
	if (CHECK(o != NULL) && CHECK(msg_parse(o, &m, &err) == 0)) {
		json_t *j = json_string(m.subject);

		CHECK_INT(strlen(m.subject), MSG_SUBJECT_MAX - 2);
		CHECK(j != NULL);
		json_decref(j);
	}
	msg_cleanup(&m);
	json_decref(o);
	free(s);

	/* the body's cap is 1 MiB; addresses 320; names 255 */
	s = xmalloc(MSG_BODY_MAX + 2);
	memset(s, 'b', MSG_BODY_MAX + 1);
	s[MSG_BODY_MAX + 1] = '\0';
	o = json_pack("{s:s, s:{s:s}, s:{s:{s:s, s:s}}}", "id", "AAMk1", "body",
	    "content", s, "from", "emailAddress", "address", s + 1000, "name",
	    s + 2000);
	if (CHECK(msg_parse(o, &m, &err) == 0)) {
		CHECK_INT(strlen(m.body), MSG_BODY_MAX);
		CHECK_INT(strlen(m.from.address), MSG_ADDR_MAX);
		CHECK_INT(strlen(m.from.name), MSG_NAME_MAX);
		CHECK(strstr(m.notes.data, "content cut") != NULL);
		CHECK(strstr(m.notes.data, "address cut") != NULL);
	}
	msg_cleanup(&m);
	json_decref(o);
	free(s);
}

static void
test_sender_fallback(void)
{
	struct msg m;

	if (CHECK(parse("{\"id\": \"AAMk1\", \"sender\": {\"emailAddress\": "
	                "{\"name\": \"S\", \"address\": \"S@X.ORG\"}}}",
	              &m) == 0)) {
		CHECK_STR(m.from.address, "s@x.org");
		CHECK_STR(m.from.name, "S");
	}
	msg_cleanup(&m);
	/* from with an empty address: sender too */
	if (CHECK(parse("{\"id\": \"AAMk1\", \"from\": {\"emailAddress\": "
	                "{\"name\": \"F\", \"address\": \"\"}}, \"sender\": "
	                "{\"emailAddress\": {\"address\": \"s@x.org\"}}}",
	              &m) == 0))
		CHECK_STR(m.from.address, "s@x.org");
	msg_cleanup(&m);
	/* neither: "" */
	if (CHECK(parse("{\"id\": \"AAMk1\", \"from\": {}, \"sender\": 3}",
	              &m) == 0))
		CHECK_STR(m.from.address, "");
	msg_cleanup(&m);
}

static void
test_recipients_cap(void)
{
	json_t    *o = json_pack("{s:s}", "id", "AAMk1"), *to = json_array();
	struct msg m;
	struct err err;
	char       a[64];

	for (int i = 0; i < MSG_MAX_RECIPIENTS + 25; i++) {
		snprintf(a, sizeof a, "u%d@example.com", i);
		json_array_append_new(to,
		    json_pack("{s:{s:s}}", "emailAddress", "address", a));
	}
	json_object_set_new(o, "toRecipients", to);
	if (CHECK(msg_parse(o, &m, &err) == 0)) {
		CHECK_INT(m.nto, MSG_MAX_RECIPIENTS);
		CHECK_STR(m.to[499].address, "u499@example.com");
		CHECK(strstr(m.notes.data, "recipients cut to 500") != NULL);
	}
	msg_cleanup(&m);
	json_decref(o);
}

static void
test_headers_cap(void)
{
	json_t    *o = json_pack("{s:s}", "id", "AAMk1"), *hs = json_array();
	struct msg m;
	struct err err;

	for (int i = 0; i < 1500; i++)
		json_array_append_new(hs,
		    json_pack("{s:s, s:s}", "name", "X-H", "value", "v"));
	json_object_set_new(o, "internetMessageHeaders", hs);
	if (CHECK(msg_parse(o, &m, &err) == 0))
		CHECK_INT(m.nheaders, 1000);
	msg_cleanup(&m);
	json_decref(o);
}

static void
test_message_id_not_ascii(void)
{
	struct msg m;

	/* a Message-ID that is not plain ASCII is left out, with a note */
	if (CHECK(parse("{\"id\": \"AAMk1\", \"internetMessageId\": "
	                "\"<\\u00fc@ex\\u00e4mple.com>\"}",
	              &m) == 0)) {
		CHECK_STR(m.internet_message_id, "");
		CHECK(strstr(m.notes.data, "internetMessageId") != NULL);
	}
	msg_cleanup(&m);
	if (CHECK(parse("{\"id\": \"AAMk1\", \"internetMessageId\": "
	                "\"<a b@example.com>\"}",
	              &m) == 0))
		CHECK_STR(m.internet_message_id, "");
	msg_cleanup(&m);
}

/*
 * CR, LF and other controls in addresses and names are removed (issue 8
 * item 6: a sender "bob@x\r\nBcc: ..." put a Bcc on the acknowledgement).
 */
static void
test_controls_removed(void)
{
	struct msg m;

	if (CHECK(
	        parse(
	            "{\"id\": \"AAMk1\", \"from\": {\"emailAddress\": "
	            "{\"name\": \"Bob\\r\\nBcc: x@evil\\u0085\\t!\", "
	            "\"address\": \"Bob@Example.com\\r\\nBcc: "
	            "x@evil\\u007f\"}}, \"toRecipients\": [{\"emailAddress\": "
	            "{\"address\": \"\\u0001c@x.org\"}}]}",
	            &m) == 0)) {
		CHECK_STR(m.from.address, "bob@example.combcc: x@evil");
		CHECK_STR(m.from.name, "BobBcc: x@evil\t!");
		CHECK_STR(m.to[0].address, "c@x.org");
		CHECK(
		    strstr(m.notes.data,
		        "control characters removed from an address") != NULL);
		CHECK(strstr(m.notes.data,
		          "control characters removed from a name") != NULL);
	}
	msg_cleanup(&m);
	/* an RFC 6531 address is kept whole; only ASCII is lower-cased */
	if (CHECK(parse("{\"id\": \"AAMk1\", \"from\": {\"emailAddress\": "
	                "{\"address\": \"J\\u00d6rg@B\\u00fccher.example\"}}}",
	              &m) == 0)) {
		CHECK_STR(m.from.address,
		    "j\xc3\x96rg@b\xc3\xbc"
		    "cher.example");
		CHECK_STR(m.notes.data, "");
	}
	msg_cleanup(&m);
}

/* References of 10,000+ bytes are kept whole, up to 64 KiB */
static void
test_long_header_kept(void)
{
	json_t    *o = json_pack("{s:s}", "id", "AAMk1"), *hs = json_array();
	struct buf v;
	struct msg m;
	struct err err;
	size_t     refs;

	buf_init(&v, MSG_HEADER_MAX + 16);
	while (v.len < 10000)
		buf_puts(&v, "<0123456789abcdef0123456789@mail.example.com> ");
	refs = v.len;
	json_array_append_new(hs,
	    json_pack("{s:s, s:s}", "name", "References", "value", v.data));
	while (v.len < MSG_HEADER_MAX + 10)
		buf_puts(&v, "\xc3\xa9");
	json_array_append_new(hs,
	    json_pack("{s:s, s:s}", "name", "X-Big", "value", v.data));
	json_object_set_new(o, "internetMessageHeaders", hs);
	if (CHECK(msg_parse(o, &m, &err) == 0) && CHECK_INT(m.nheaders, 2)) {
		CHECK_INT(strlen(msg_header(&m, "references")), refs);
		CHECK(strlen(msg_header(&m, "x-big")) <= MSG_HEADER_MAX);
		CHECK(strlen(msg_header(&m, "x-big")) >= MSG_HEADER_MAX - 1);
		CHECK(
		    utf8_valid(m.headers[1].value, strlen(m.headers[1].value)));
		CHECK(strstr(m.notes.data, "value cut to 65536 bytes") != NULL);
	}
	msg_cleanup(&m);
	json_decref(o);
	buf_cleanup(&v);
}

/* ASCII columns: conversationId and the Graph id */
static void
test_ascii_columns(void)
{
	struct msg m;

	if (CHECK(parse("{\"id\": \"AAMk1\", \"conversationId\": "
	                "\"AAQk\\u20ac=\"}",
	              &m) == 0)) {
		CHECK_STR(m.conversation_id, "");
		CHECK(strstr(m.notes.data, "conversationId is not ASCII") !=
		    NULL);
	}
	msg_cleanup(&m);
	CHECK(parse("{\"id\": \"AAMk\\u00e9\"}", &m) == -1);
	msg_cleanup(&m);
}

/* receivedDateTime reaches SQL only as a real "YYYY-MM-DDTHH:MM:SSZ" */
static void
test_received(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "2026-11-26T09:10:54Z", "2026-11-26T09:10:54Z" },
		{ "2026-11-26T09:10:54.1234567Z", "2026-11-26T09:10:54Z" },
		{ "2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z" },
		{ "2026-02-29T00:00:00Z", "" },
		{ "2026-13-01T00:00:00Z", "" },
		{ "2026-12-01T24:00:00Z", "" },
		{ "2026-12-01T00:00:60Z", "" },
		{ "0999-12-01T00:00:00Z", "" },
		{ "abcd-ef-ghTij:kl:mnZ", "" },
		{ "2026-11-26T09:10:54+01:00", "" },
		{ "2026-11-26T09:10:54.Zjunk", "" },
		{ "", "" },
	};
	struct msg m;
	json_t    *o;
	struct err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		o = with("receivedDateTime", cases[i].in);
		if (CHECK(msg_parse(o, &m, &err) == 0) &&
		    !CHECK_STR(m.received, cases[i].out))
			printf("\tin: %s\n", cases[i].in);
		msg_cleanup(&m);
		json_decref(o);
	}
}

int
main(void)
{
	test_full();
	test_missing();
	test_mistyped();
	test_ids();
	test_caps();
	test_sender_fallback();
	test_recipients_cap();
	test_headers_cap();
	test_message_id_not_ascii();
	test_controls_removed();
	test_long_header_kept();
	test_ascii_columns();
	test_received();
	return TEST_DONE();
}
