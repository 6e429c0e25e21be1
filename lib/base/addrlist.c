/*
 * addrlist: parsing with inet_pton only (no name lookups), matching on the
 * prefix bits.  An IPv4 client seen through an IPv6 socket arrives as
 * ::ffff:a.b.c.d; it is matched as the IPv4 address it is.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addrlist.h"

static const unsigned char V4_MAPPED[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	0xff };

/* "a.b.c.d" or an IPv6 address into family/addr; -1 if neither. */
static int
parse_addr(const char *s, int *family, unsigned char addr[16])
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		if (memcmp(addr, V4_MAPPED, sizeof V4_MAPPED) == 0) {
			memmove(addr, addr + 12, 4);
			*family = AF_INET;
		}
		return 0;
	}
	return -1;
}

/* One item "ADDR" or "ADDR/BITS" (already trimmed) into *n. */
static int
parse_item(const char *item, struct addrnet *n)
{
	char  text[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long  bits;
	int   max;

	if (strlen(item) >= sizeof text)
		return -1;
	memcpy(text, item, strlen(item) + 1);
	slash = strchr(text, '/');
	if (slash != NULL)
		*slash++ = '\0';
	memset(n, 0, sizeof *n);
	if (parse_addr(text, &n->family, n->addr) == -1)
		return -1;
	max = n->family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		n->bits = max;
		return 0;
	}
	errno = 0;
	bits = strtol(slash, &end, 10);
	if (errno || end == slash || *end != '\0' ||
	    !isdigit((unsigned char)*slash) || bits < 0 || bits > max)
		return -1;
	n->bits = (int)bits;
	return 0;
}

int
addrlist_parse(struct addrlist *l, const char *text, char *bad, size_t badsize)
{
	const char *p = text;

	l->n = 0;
	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t      len = e ? (size_t)(e - p) : strlen(p);
		char        item[INET6_ADDRSTRLEN + 8];
		size_t      a = 0, z = len;

		while (a < z && isspace((unsigned char)p[a]))
			a++;
		while (z > a && isspace((unsigned char)p[z - 1]))
			z--;
		if (z - a >= sizeof item || z == a || l->n == ADDRLIST_MAX) {
			snprintf(bad, badsize, "%.*s", (int)(z - a), p + a);
			return -1;
		}
		memcpy(item, p + a, z - a);
		item[z - a] = '\0';
		if (parse_item(item, &l->net[l->n]) == -1) {
			snprintf(bad, badsize, "%s", item);
			return -1;
		}
		l->n++;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
in_net(const struct addrnet *n, int family, const unsigned char *a)
{
	int whole = n->bits / 8, rest = n->bits % 8;

	if (n->family != family || memcmp(n->addr, a, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((n->addr[whole] ^ a[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int
addrlist_match(const struct addrlist *l, const char *addr)
{
	unsigned char a[16];
	int           family;

	if (addr == NULL || l->n == 0 || parse_addr(addr, &family, a) == -1)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (in_net(&l->net[i], family, a))
			return 1;
	return 0;
}
