/*
 * db_nodes: parse db_host into the servers lib/adapt/db.c connects to, in
 * the order it tries them (docs/scaling.md "MariaDB Galera").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/db_nodes.h"

static int
bad(char *why, size_t whysize, const char *what, size_t i)
{
	snprintf(why, whysize, "entry %zu: %s", i + 1, what);
	return -1;
}

static int
port_parse(const char *s, size_t len, long *port)
{
	char  num[8];
	char *e;

	if (len == 0 || len >= sizeof num || !isdigit((unsigned char)s[0]))
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	*port = strtol(num, &e, 10);
	return *e == '\0' && *port >= 1 && *port <= 65535 ? 0 : -1;
}

/* One "host", "host:port", "[v6]" or "[v6]:port" of len bytes. */
static int
node_parse(const char *s, size_t len, long defport, struct db_node *nd,
    size_t i, char *why, size_t whysize)
{
	const char *host = s, *colon = NULL, *end = s + len;
	size_t      hlen;
	long        port = defport;

	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL)
			return bad(why, whysize, "no ']' after '['", i);
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < end && close[1] != ':')
			return bad(why, whysize, "junk after ']'", i);
		if (close + 1 < end)
			colon = close + 1;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon ? (size_t)(colon - s) : len;
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			return bad(why, whysize,
			    "an IPv6 address needs brackets: [addr]:port", i);
	}
	if (hlen == 0)
		return bad(why, whysize, "no host", i);
	if (hlen >= sizeof nd->host)
		return bad(why, whysize, "host name too long", i);
	if (colon != NULL &&
	    port_parse(colon + 1, (size_t)(end - colon - 1), &port) == -1)
		return bad(why, whysize, "bad port", i);
	memcpy(nd->host, host, hlen);
	nd->host[hlen] = '\0';
	nd->port = (unsigned)port;
	return 0;
}

/*
 * Fill out[0..*n) from list (comma-separated, blanks around entries
 * ignored).  Returns 0, or -1 with why saying which entry is wrong.
 */
int
db_nodes_parse(const char *list, long default_port, struct db_node *out,
    size_t max, size_t *n, char *why, size_t whysize)
{
	const char *p = list;

	*n = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *start = p, *stop = comma ? comma : p + strlen(p);

		while (start < stop && isspace((unsigned char)*start))
			start++;
		while (stop > start && isspace((unsigned char)stop[-1]))
			stop--;
		if (*n == max)
			return bad(why, whysize, "too many nodes", *n);
		if (node_parse(start, (size_t)(stop - start), default_port,
		        &out[*n], *n, why, whysize) == -1)
			return -1;
		(*n)++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}
