/*
 * threading: the ticket tag is "[#123]" anywhere in the subject (mail
 * clients prepend "RE:", "AW:" ...).  Message ids come from In-Reply-To
 * first, then References newest (last) first, each "<...>"; the whole
 * header is read (lib/mail/msg.c keeps values up to MSG_HEADER_MAX), so the
 * parent is found however many references come before it.  Only ids a
 * Message-ID column can hold are taken: printable ASCII, at most 998 bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mail/threading.h"
#include "base/xmalloc.h"

/* The ticket number in the first "[#N]" of subject, or 0. */
uint64_t
threading_tag(const char *subject)
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
threading_tag_subject(struct buf *b, uint64_t ticket, const char *subject)
{
	if (threading_tag(subject) == ticket)
		buf_puts(b, subject);
	else
		buf_printf(b, "[#%llu] %s", (unsigned long long)ticket,
		    subject);
}

/* Is p (n bytes) an id ticket_action.internet_message_id can hold? */
static int
storable(const char *p, size_t n)
{
	if (n < 3 || n > 998)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

static int
already_taken(char *const *ids, size_t n, const char *p, size_t len)
{
	for (size_t d = 0; d < n; d++)
		if (strlen(ids[d]) == len && strncmp(ids[d], p, len) == 0)
			return 1;
	return 0;
}

/* The "<...>" ids of v, in order, as (start, length) pairs. */
static size_t
split_ids(const char *v, const char ***starts, size_t **lens)
{
	size_t k = 0, cap = 0;

	*starts = NULL;
	*lens = NULL;
	for (const char *p = strchr(v, '<'); p != NULL;
	     p = strchr(p + 1, '<')) {
		const char *e = strchr(p, '>');

		if (e == NULL)
			break;
		if (storable(p, (size_t)(e - p + 1))) {
			if (k == cap) {
				cap = cap ? cap * 2 : 32;
				*starts =
				    xrealloc(*starts, cap * sizeof **starts);
				*lens = xrealloc(*lens, cap * sizeof **lens);
			}
			(*starts)[k] = p;
			(*lens)[k++] = (size_t)(e - p + 1);
		}
		p = e;
	}
	return k;
}

static size_t
collect_ids(const char *v, char **ids, size_t n, size_t max, int newest_first)
{
	const char **starts;
	size_t      *lens, k = split_ids(v, &starts, &lens);

	for (size_t i = 0; i < k && n < max; i++) {
		size_t j = newest_first ? k - 1 - i : i;

		if (!already_taken(ids, n, starts[j], lens[j]))
			ids[n++] = xstrndup(starts[j], lens[j]);
	}
	free(starts);
	free(lens);
	return n;
}

/*
 * Fill ids (caller frees each) with up to max message ids this message
 * replies to; returns how many.
 */
size_t
threading_refs(const struct msg *m, char **ids, size_t max)
{
	const char *irt = msg_header(m, "In-Reply-To");
	const char *refs = msg_header(m, "References");
	size_t      n = 0;

	if (irt != NULL)
		n = collect_ids(irt, ids, n, max, 0);
	if (refs != NULL)
		n = collect_ids(refs, ids, n, max, 1);
	return n;
}
