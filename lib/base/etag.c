/*
 * etag: an entity tag is the row's version in quotes ("7"); it changes
 * with every write of the settings (sql/0009_versions.sql).  If-Match is
 * "*" or a list of entity tags; a weak tag (W/"7") never matches, as RFC
 * 9110 compares If-Match strongly.
 */
#include <stdio.h>
#include <string.h>

#include "base/etag.h"

void
etag_format(char out[ETAG_MAX], uint64_t version)
{
	snprintf(out, ETAG_MAX, "\"%llu\"", (unsigned long long)version);
}

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* True if if_match names tags, i.e. is present and not "*". */
int
etag_pinned(const char *if_match)
{
	const char *p;

	if (if_match == NULL)
		return 0;
	p = skip_space(if_match);
	return !(p[0] == '*' && *skip_space(p + 1) == '\0');
}

/*
 * True if the If-Match value if_match (NULL: absent) lets a change of the
 * row at version go ahead: absent, "*", or one of its strong tags is the
 * version's.  A malformed list matches nothing.
 */
int
etag_matches(const char *if_match, uint64_t version)
{
	char        tag[ETAG_MAX];
	size_t      n;
	const char *p = if_match, *end;
	int         weak;

	if (!etag_pinned(if_match))
		return 1;
	etag_format(tag, version);
	n = strlen(tag);
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		weak = strncmp(p, "W/", 2) == 0;
		p += weak ? 2 : 0;
		if (*p != '"' || (end = strchr(p + 1, '"')) == NULL)
			return 0;
		if (!weak && (size_t)(end + 1 - p) == n &&
		    memcmp(p, tag, n) == 0)
			return 1;
		p = end + 1;
	}
}
