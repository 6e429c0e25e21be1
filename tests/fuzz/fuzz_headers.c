/*
 * fuzz_headers: libFuzzer target for mail headers as raw bytes, without
 * the JSON around them — what lib/mail/threading.c (In-Reply-To, References,
 * the ticket tag), lib/mail/autoreply.c (Auto-Submitted, Precedence ...) and
 * msg_header() make of any header set, and how lib/mail/mime.c folds and
 * encodes any value (mime_header_text):
 *
 *   - threading_refs: at most max ids, each "<...>", none twice, the
 *     In-Reply-To id first when it can be stored (lib/mail/threading.c);
 *   - autoreply_is_automatic: a reason of at most LOOP_REASON_MAX bytes of
 * UTF-8 when the headers are UTF-8;
 *   - mime_header_text: lines of at most 998 bytes, CRLF only at a fold,
 *     never a line of white space, and the value back (CR, LF and TAB as
 *     spaces) when unfolded, literally or from RFC 2047 words that never
 *     split a character.
 *
 * Input: NUL-separated fields — the subject, then header name, value,
 * name, value ...  Seeds: tests/fuzz/corpus/headers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "mail/autoreply.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/threading.h"

#define MAX_HEADERS 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? -1 : 0;
}

/* The first "<...>" of v, if it is 3 to 998 bytes of visible ASCII. */
static int
storable_first(const char *v, const char **p, size_t *len)
{
	const char *e;

	*p = strchr(v, '<');
	e = *p ? strchr(*p, '>') : NULL;
	if (e == NULL)
		return 0;
	*len = (size_t)(e - *p + 1);
	if (*len < 3 || *len > 998)
		return 0;
	for (size_t i = 0; i < *len; i++)
		if ((unsigned char)(*p)[i] <= 0x20 ||
		    (unsigned char)(*p)[i] >= 0x7f)
			return 0;
	return 1;
}

static void
check_refs(const struct msg *m)
{
	char       *ids[8];
	const char *irt = msg_header(m, "In-Reply-To"), *p;
	size_t      n = threading_refs(m, ids, 8), len;

	if (n > 8)
		abort();
	for (size_t i = 0; i < n; i++) {
		len = strlen(ids[i]);
		if (len < 3 || ids[i][0] != '<' || ids[i][len - 1] != '>')
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				abort();
	}
	/* the first In-Reply-To id comes first, if it can be stored */
	if (irt != NULL && storable_first(irt, &p, &len) &&
	    (n == 0 || strlen(ids[0]) != len || strncmp(ids[0], p, len) != 0))
		abort();
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
}

/* mime_header_text(value) unfolds (and decodes) back to the value. */
static void
check_fold(const char *name, const char *value)
{
	struct buf b, un, dec;
	char      *want = strdup(value);
	size_t     skip = strlen(name) + 2;

	if (want == NULL)
		abort();
	for (char *p = want; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	buf_init(&b, 256);
	mime_header_text(&b, name, value);
	fuzz_check_lines(b.data, b.len);
	buf_init(&un, 256);
	for (size_t i = skip; i < b.len; i++)
		if (b.data[i] != '\r' && b.data[i] != '\n')
			buf_putc(&un, b.data[i]);
	buf_init(&dec, 256);
	if (strcmp(un.data, want) != 0 &&
	    (fuzz_decode_words(un.data, &dec,
	         fuzz_utf8((const unsigned char *)want, strlen(want))) != 0 ||
	        strcmp(dec.data, want) != 0))
		abort();
	buf_cleanup(&dec);
	buf_cleanup(&un);
	buf_cleanup(&b);
	free(want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const own[] = { "help@contoso.com" };
	struct fuzz_fields       ff;
	struct msg_header        h[MAX_HEADERS];
	struct msg               m = { 0 };
	struct buf               reason;
	int                      utf8 = 1;

	fuzz_fields(&ff, data, size, 1 + 2 * MAX_HEADERS);
	m.subject = ff.f[0];
	m.from.address = (char *)"customer@example.com";
	m.from.name = (char *)"";
	for (size_t i = 0; i < MAX_HEADERS && 2 + 2 * i <= ff.n; i++) {
		h[i].name = ff.f[1 + 2 * i];
		h[i].value = ff.f[2 + 2 * i];
		fuzz_cap(h[i].value, 8192);
		utf8 = utf8 &&
		    fuzz_utf8((const unsigned char *)h[i].value,
		        strlen(h[i].value));
		m.nheaders = i + 1;
	}
	m.headers = h;
	check_refs(&m);
	buf_init(&reason, 64);
	(void)autoreply_is_automatic(&m, own, 1, &reason);
	if (reason.len > LOOP_REASON_MAX ||
	    (utf8 &&
	        !fuzz_utf8((const unsigned char *)reason.data, reason.len)))
		abort();
	buf_cleanup(&reason);
	(void)threading_tag(m.subject);
	check_fold("Subject", m.subject);
	for (size_t i = 0; i < m.nheaders; i++)
		check_fold("References", h[i].value);
	fuzz_fields_free(&ff);
	return 0;
}
