/*
 * fuzz_msg: libFuzzer target for msg_parse — whatever bytes Graph sends
 * as a message, parsing must not crash, leak or read out of bounds, and
 * every string it hands on must be capped, NUL-terminated UTF-8.  Also
 * runs what the scanner runs next on the parsed message: threading refs,
 * the ticket tag and loop detection.
 *
 *   make fuzz [FUZZ_SECONDS=20]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "msg.h"
#include "thread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s, size_t max)
{
	json_t *j;

	if (s == NULL || strlen(s) > max)
		abort();
	j = json_string(s); /* NULL unless valid UTF-8 */
	if (j == NULL)
		abort();
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const own[] = { "help@contoso.com" };
	json_t                  *o;
	struct msg               m;
	struct err               err;
	struct buf               b;
	char                    *ids[THREAD_MAX_REFS];
	size_t                   n;

	o = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (o == NULL)
		return 0;
	if (msg_parse(o, &m, &err) == 0) {
		check_str(m.subject, MSG_SUBJECT_MAX);
		check_str(m.body, MSG_BODY_MAX);
		check_str(m.from.address, MSG_ADDR_MAX);
		check_str(m.from.name, MSG_NAME_MAX);
		check_str(m.received, 40);
		if (m.nto > MSG_MAX_RECIPIENTS || m.ncc > MSG_MAX_RECIPIENTS)
			abort();
		for (size_t i = 0; i < m.nto; i++)
			check_str(m.to[i].address, MSG_ADDR_MAX);
		for (size_t i = 0; i < m.nheaders; i++)
			check_str(m.headers[i].value, MSG_HEADER_MAX);
		n = thread_refs(&m, ids, THREAD_MAX_REFS);
		for (size_t i = 0; i < n; i++) {
			if (ids[i][0] != '<' ||
			    ids[i][strlen(ids[i]) - 1] != '>')
				abort();
			free(ids[i]);
		}
		buf_init(&b, 64);
		(void)thread_tag(m.subject);
		thread_tag_subject(&b, 42, m.subject);
		(void)loop_automatic(&m, own, 1, &b);
		msg_addr_list(&b, m.cc, m.ncc);
		buf_cleanup(&b);
	}
	msg_cleanup(&m);
	json_decref(o);
	return 0;
}
