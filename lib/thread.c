/*
 * thread: the ticket tag is "[#123]" anywhere in the subject (mail
 * clients prepend "RE:", "AW:" ...).  Message ids come from In-Reply-To
 * first, then References newest first, each "<...>".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "thread.h"
#include "xmalloc.h"

/* The ticket number in the first "[#N]" of subject, or 0. */
uint64_t
thread_tag(const char *subject)
{
	for (const char *p = strstr(subject, "[#"); p != NULL;
	     p = strstr(p + 2, "[#")) {
		const char *q = p + 2;
		uint64_t    n = 0;
		int         digits = 0;

		while (isdigit((unsigned char)*q) && digits < 18) {
			n = n * 10 + (uint64_t)(*q++ - '0');
			digits++;
		}
		if (digits > 0 && *q == ']' && p[2] != '0')
			return n;
	}
	return 0;
}

/* "[#N] subject" unless subject already carries the tag. */
void
thread_tag_subject(struct buf *b, uint64_t ticket, const char *subject)
{
	if (thread_tag(subject) == ticket)
		buf_puts(b, subject);
	else
		buf_printf(b, "[#%llu] %s", (unsigned long long)ticket,
		    subject);
}

static size_t
collect(const char *v, char **ids, size_t n, size_t max, int newest_first)
{
	const char *starts[THREAD_MAX_REFS * 4];
	size_t      lens[THREAD_MAX_REFS * 4], k = 0;

	for (const char *p = strchr(v, '<'); p && k < THREAD_MAX_REFS * 4;
	     p = strchr(p + 1, '<')) {
		const char *e = strchr(p, '>');

		if (e == NULL)
			break;
		if (e - p > 1 && e - p < 998) {
			starts[k] = p;
			lens[k++] = (size_t)(e - p + 1);
		}
		p = e;
	}
	for (size_t i = 0; i < k && n < max; i++) {
		size_t j = newest_first ? k - 1 - i : i;
		int    dup = 0;

		for (size_t d = 0; d < n && !dup; d++)
			dup = strlen(ids[d]) == lens[j] &&
			    strncmp(ids[d], starts[j], lens[j]) == 0;
		if (!dup)
			ids[n++] = xstrndup(starts[j], lens[j]);
	}
	return n;
}

/*
 * Fill ids (caller frees each) with up to max message ids this message
 * replies to; returns how many.
 */
size_t
thread_refs(const struct msg *m, char **ids, size_t max)
{
	const char *irt = msg_header(m, "In-Reply-To");
	const char *refs = msg_header(m, "References");
	size_t      n = 0;

	if (irt != NULL)
		n = collect(irt, ids, n, max, 0);
	if (refs != NULL)
		n = collect(refs, ids, n, max, 1);
	return n;
}
