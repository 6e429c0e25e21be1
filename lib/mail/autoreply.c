/*
 * autoreply: RFC 3834 Auto-Submitted, Precedence, Microsoft's
 * X-Auto-Response-Suppress, X-Autoreply/X-Autorespond, bounces from
 * mailer-daemon/postmaster, and our own connected mailboxes' addresses.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mail/autoreply.h"
#include "base/utf8.h"

static int
word_is(const char *v, const char *word)
{
	size_t n = strlen(word);

	while (isspace((unsigned char)*v))
		v++;
	return strncasecmp(v, word, n) == 0 &&
	    (v[n] == '\0' || v[n] == ';' || isspace((unsigned char)v[n]));
}

static int
local_part_is(const char *addr, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(addr, name, n) == 0 && addr[n] == '@';
}

static int
automatic_reason(const struct msg *m, const char *const *own, size_t nown,
    struct buf *reason)
{
	static const char *const precedence[] = { "bulk", "junk", "list",
		"auto_reply" };
	const char              *v;

	v = msg_header(m, "Auto-Submitted");
	if (v != NULL && !word_is(v, "no")) {
		buf_printf(reason, "Auto-Submitted: %.*s",
		    (int)utf8_cut(v, strlen(v), 60), v);
		return 1;
	}
	v = msg_header(m, "Precedence");
	for (size_t i = 0; v != NULL && i < 4; i++) {
		if (word_is(v, precedence[i])) {
			buf_printf(reason, "Precedence: %s", precedence[i]);
			return 1;
		}
	}
	if (msg_header(m, "X-Auto-Response-Suppress") != NULL) {
		buf_puts(reason, "X-Auto-Response-Suppress present");
		return 1;
	}
	if (msg_header(m, "X-Autoreply") != NULL ||
	    msg_header(m, "X-Autorespond") != NULL) {
		buf_puts(reason, "X-Autoreply present");
		return 1;
	}
	if (local_part_is(m->from.address, "mailer-daemon") ||
	    local_part_is(m->from.address, "postmaster")) {
		buf_printf(reason, "from %s", m->from.address);
		return 1;
	}
	for (size_t i = 0; i < nown; i++) {
		if (own[i][0] && strcmp(m->from.address, own[i]) == 0) {
			buf_printf(reason, "from connected mailbox %s", own[i]);
			return 1;
		}
	}
	return 0;
}

/*
 * Returns 1 and appends why to reason if m is automatic, else 0.  own
 * lists the addresses of every connected mailbox (lower case).  What is
 * appended is at most LOOP_REASON_MAX bytes, cut on a character boundary
 * (it is stored in incoming_email.automatic).
 */
int
autoreply_is_automatic(const struct msg *m, const char *const *own, size_t nown,
    struct buf *reason)
{
	size_t from = reason->len;
	int    yes = automatic_reason(m, own, nown, reason);

	utf8_buf_cap(reason, from, LOOP_REASON_MAX);
	return yes;
}
