/*
 * test_attach: the attachments a message listing brings along ($expand)
 * — names, content types and content ids cut to their VARCHAR(255)
 * columns on a character boundary and noted, a zero-byte file kept, what
 * is left out named without splitting a character.
 */
#include <stdlib.h>
#include <string.h>

#include "mail/attach.h"
#include "base/utf8.h"
#include "test.h"

static json_t *
file(const char *name, const char *type, const char *cid, const char *b64)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "@odata.type",
	    "#microsoft.graph.fileAttachment", "id", "AAMkAtt1", "name", name,
	    "contentType", type, "contentId", cid, "isInline", 0,
	    "contentBytes", b64);
}

static void
test_cut_and_noted(void)
{
	struct buf         name, type, left;
	struct attachment *at;
	size_t             n;
	json_t            *arr = json_array();

	buf_init(&name, 512);
	buf_init(&type, 1024);
	buf_init(&left, 64);
	for (int i = 0; i < 200; i++)
		buf_puts(&name, "\xc3\xa9"); /* 200 accented letters */
	buf_puts(&name, ".txt");
	buf_puts(&type, "text/");
	for (int i = 0; i < 300; i++)
		buf_puts(&type, "\xe2\x82\xac");
	json_array_append_new(arr, file(name.data, type.data, "c@x", "eA=="));
	json_array_append_new(arr, file("empty.txt", "text/plain", "", ""));
	if (CHECK(attach_from_listing(arr, 1 << 20, &at, &n, &left) == 0) &&
	    CHECK_INT(n, 2)) {
		CHECK_INT(strlen(at[0].name), 254);
		CHECK(utf8_valid(at[0].name, strlen(at[0].name)));
		CHECK_INT(strlen(at[0].content_type), 5 + 249);
		CHECK(
		    utf8_valid(at[0].content_type, strlen(at[0].content_type)));
		CHECK_STR(at[1].name, "empty.txt");
		CHECK_INT(at[1].len, 0);
		CHECK(strstr(left.data,
		          "an attachment's name cut to 255 bytes") != NULL);
		CHECK(strstr(left.data,
		          "an attachment's contentType cut to 255 bytes") !=
		    NULL);
	}
	attach_free(at, n);
	json_decref(arr);

	/* a link to a cloud file is left out, its name cut to 100 on a
	 * boundary */
	buf_reset(&left);
	arr = json_pack("[{s:s, s:s, s:s}]", "@odata.type",
	    "#microsoft.graph.referenceAttachment", "id", "AAMkAtt2", "name",
	    name.data);
	if (CHECK(attach_from_listing(arr, 1 << 20, &at, &n, &left) == 0)) {
		CHECK_INT(n, 0);
		CHECK(utf8_valid(left.data, left.len));
		CHECK(strstr(left.data, "(not a file attachment)") != NULL);
	}
	attach_free(at, n);
	json_decref(arr);

	/* a forwarded mail is kept as .eml, the name cut so .eml still fits */
	buf_reset(&left);
	arr = json_pack("[{s:s, s:s, s:s, s:s, s:i}]", "@odata.type",
	    "#microsoft.graph.itemAttachment", "id", "AAMkAtt3", "name",
	    name.data, "contentType", "message/rfc822", "size", 40);
	if (CHECK(attach_from_listing(arr, 1 << 20, &at, &n, &left) == 0) &&
	    CHECK_INT(n, 1)) {
		size_t len = strlen(at[0].name);

		CHECK(len <= 255 && len > 240);
		CHECK(strcmp(at[0].name + len - 4, ".eml") == 0);
		CHECK(utf8_valid(at[0].name, len));
		CHECK(at[0].data == NULL); /* streamed from /$value */
		CHECK(strcmp(at[0].content_type, "message/rfc822") == 0);
	}
	attach_free(at, n);
	json_decref(arr);
	buf_cleanup(&name);
	buf_cleanup(&type);
	buf_cleanup(&left);
}

int
main(void)
{
	test_cut_and_noted();
	return TEST_DONE();
}
