/*
 * fuzz_attach: libFuzzer target for the attachments a Graph listing brings
 * along (lib/mail/attach.c attach_from_listing) — a hostile JSON array of
 * names, types, ids, sizes and contentBytes, parsed as the scanner parses
 * Graph (NUL characters allowed).  Whatever it holds: file attachments
 * are kept only when their bytes are base64 and fit the cap (together at
 * most the cap), attached Outlook items are kept without bytes as .eml,
 * .ics or .vcf; every string kept is capped to its column, NUL-terminated
 * UTF-8, and so is what is said about the rest (the ledger's trace); the
 * bytes are gone from the listing afterwards.  The names kept then go
 * through the MIME builder (lib/mail/mime.c) as a reply's attachments would:
 * no line over 998 bytes, nothing but 7-bit text and CRLF.
 *
 * The Graph calls of lib/mail/attach.c are never reached: stubs below.
 * Seeds: tests/fuzz/corpus/attach.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mail/attach.h"
#include "fuzz.h"
#include "mail/mime.h"
#include "base/url.h"

#define CAP 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
graph_call(struct http *h, const struct graph_call *gc, struct http_resp *r,
    struct graph_error *ge, struct err *err)
{
	(void)h, (void)gc, (void)r, (void)ge, (void)err;
	abort();
}

void
http_resp_cleanup(struct http_resp *r)
{
	(void)r;
	abort();
}

void
url_encode(struct buf *b, const char *s)
{
	(void)b, (void)s;
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? -1 : 0;
}

/* The kept names as a reply's attachments: lines and controls. */
static void
check_mime(const struct attachment *a, size_t n)
{
	struct mime_att *att = calloc(n + 1, sizeof *att);
	struct mime_msg  m = { 0 };
	struct buf       b;
	struct err       err;
	size_t           start = 0;

	if (att == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		att[i].name = a[i].name;
		att[i].content_type = a[i].content_type;
		att[i].data = a[i].data;
		att[i].len = a[i].len;
	}
	m.from = m.to = "help@contoso.com";
	m.subject = m.text = "x";
	m.message_id = "<x@contoso.com>";
	m.in_reply_to = m.references = "";
	m.att = att;
	m.natt = n;
	buf_init(&b, 4096);
	if (mime_build(&b, &m, &err) == -1)
		abort(); /* attachments are never a reason to refuse */
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];

		if (c == '\r' && b.data[i + 1] == '\n') {
			if (i - start > 998)
				abort();
			start = ++i + 1;
		} else if (c < 0x20 || c >= 0x7f) {
			abort(); /* 7-bit, no controls but CRLF */
		}
	}
	buf_cleanup(&b);
	free(att);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attachment *a;
	struct buf         left;
	json_t            *arr, *el;
	size_t             n, total = 0, i;
	int                rc;

	arr = json_loadb((const char *)data, size,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (arr == NULL)
		return 0;
	buf_init(&left, 64);
	rc = attach_from_listing(arr, CAP, &a, &n, &left);
	if (rc != (json_is_array(arr) ? 0 : -1))
		abort();
	if (rc == 0 && n > json_array_size(arr))
		abort();
	for (i = 0; rc == 0 && i < n; i++) {
		size_t nl = strlen(a[i].name);

		fuzz_check_str(a[i].id, 1024);
		fuzz_check_str(a[i].name, 255);
		fuzz_check_str(a[i].content_type, 255);
		fuzz_check_str(a[i].content_id, 255);
		if (a[i].data == NULL &&
		    (a[i].len != 0 || nl < 4 ||
		        strstr(".eml .ics .vcf", a[i].name + nl - 4) == NULL))
			abort(); /* an item, its bytes streamed later */
		if (a[i].data != NULL && a[i].size != a[i].len)
			abort();
		total += a[i].len;
	}
	if (total > CAP)
		abort();
	fuzz_check_str(left.data, (size_t)-1);
	json_array_foreach (arr, i, el) {
		if (json_object_get(el, "contentBytes") != NULL)
			abort(); /* the ledger keeps the listing without them */
	}
	if (rc == 0)
		check_mime(a, n);
	attach_free(a, n);
	buf_cleanup(&left);
	json_decref(arr);
	return 0;
}
