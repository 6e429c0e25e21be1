/*
 * fuzz_msg: libFuzzer target for msg_parse — whatever bytes Graph sends
 * as a message (parsed as the scanner will, NUL characters allowed),
 * parsing must not crash, leak or read out of bounds, and every string it
 * hands on must be capped, NUL-terminated UTF-8.  Then runs what the
 * scanner runs next on the parsed message: header lookup, the address
 * lists, threading refs, the ticket tag and loop detection.
 *
 *   make fuzz [FUZZ_SECONDS=10]   (seeds: tests/fuzz/corpus/msg)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "adapt/jsonx.h"
#include "mail/autoreply.h"
#include "mail/msg.h"
#include "mail/threading.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An address or a name: capped, and no control character (lib/mail/mime.c
 * refuses them). */
static void
check_addr(const struct msg_addr *a)
{
	fuzz_check_str(a->address, MSG_ADDR_MAX);
	fuzz_check_str(a->name, MSG_NAME_MAX);
	if (utf8_has_controls(a->address) || utf8_has_controls(a->name))
		abort();
}

static void
check_addrs(const struct msg_addr *a, size_t n)
{
	if (n > MSG_MAX_RECIPIENTS || (n > 0 && a == NULL))
		abort();
	for (size_t i = 0; i < n; i++)
		check_addr(&a[i]);
}

static void
check_msg(const struct msg *m, json_t *o)
{
	json_t *subject = json_object_get(o, "subject");

	fuzz_check_str(m->id, 512);
	fuzz_check_str(m->internet_message_id, MSG_ID_MAX);
	for (const char *p = m->internet_message_id; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	fuzz_check_str(m->conversation_id, MSG_CONV_MAX);
	fuzz_check_str(m->subject, MSG_SUBJECT_MAX);
	fuzz_check_str(m->body, MSG_BODY_MAX);
	if (strlen(m->received) != 0 && strlen(m->received) != 20)
		abort();
	fuzz_check_str(m->received, 20);
	check_addr(&m->from);
	check_addrs(m->to, m->nto);
	check_addrs(m->cc, m->ncc);
	if (m->nheaders > MSG_MAX_HEADERS)
		abort();
	for (size_t i = 0; i < m->nheaders; i++) {
		fuzz_check_str(m->headers[i].name, 200);
		fuzz_check_str(m->headers[i].value, MSG_HEADER_MAX);
	}
	if (m->notes.data == NULL || strlen(m->notes.data) != m->notes.len)
		abort();
	/* a NUL in a short subject is kept as U+FFFD, nothing after it lost */
	if (json_is_string(subject) &&
	    json_string_length(subject) * 3 <= MSG_SUBJECT_MAX &&
	    memchr(json_string_value(subject), '\0',
	        json_string_length(subject)) != NULL &&
	    strstr(m->subject, "\xef\xbf\xbd") == NULL)
		abort();
}

/* What the scanner does with a parsed message, minus the database. */
static void
consume(const struct msg *m)
{
	static const char *const own[] = { "help@contoso.com", "" };
	char                    *ids[THREAD_MAX_REFS];
	struct buf               b;
	size_t                   n;

	for (size_t i = 0; i < m->nheaders; i++)
		if (msg_header(m, m->headers[i].name) == NULL)
			abort(); /* the first of that name, at least */
	n = threading_refs(m, ids, THREAD_MAX_REFS);
	if (n > THREAD_MAX_REFS)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(ids[i]);

		if (len < 3 || ids[i][0] != '<' || ids[i][len - 1] != '>')
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				abort(); /* no duplicates */
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	buf_init(&b, 64);
	(void)threading_tag(m->subject);
	threading_tag_subject(&b, 42, m->subject);
	if (threading_tag(b.data) != 42)
		abort(); /* a tagged subject threads back to its ticket */
	buf_reset(&b);
	(void)autoreply_is_automatic(m, own, 2, &b);
	fuzz_check_str(b.data, LOOP_REASON_MAX);
	buf_reset(&b);
	msg_addr_list(&b, m->to, m->nto);
	msg_addr_list(&b, m->cc, m->ncc);
	buf_cleanup(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t    *o;
	struct msg m;
	struct err err;

	/* as the scanner reads Graph: NULs allowed, lone surrogates mended */
	o = jsonx_load_graph((const char *)data, size);
	if (o == NULL)
		return 0;
	if (msg_parse(o, &m, &err) == 0) {
		check_msg(&m, o);
		consume(&m);
	}
	msg_cleanup(&m);
	json_decref(o);
	return 0;
}
