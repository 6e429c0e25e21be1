/*
 * addrlist: a list of IP addresses and CIDR networks, IPv4 and IPv6
 * ("127.0.0.1, 10.0.0.0/8, ::1, fd00::/8"), and whether a client address
 * is in it.  The configuration key metrics_allow is one (lib/base/config.c).
 */
#ifndef POSTDESK_ADDRLIST_H
#define POSTDESK_ADDRLIST_H

#include <stddef.h>

#define ADDRLIST_MAX 64

struct addrnet {
	int           family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int           bits; /* prefix length */
};

struct addrlist {
	struct addrnet net[ADDRLIST_MAX];
	size_t         n;
};

/*
 * Parse text (comma-separated, blanks around items allowed; "" is the
 * empty list).  Returns 0, or -1 with the item at fault copied to bad.
 */
int addrlist_parse(struct addrlist *, const char *text, char *bad,
    size_t badsize);
/* True if addr (text, as REMOTE_ADDR gives it) is in the list. */
int addrlist_match(const struct addrlist *, const char *addr);

#endif
