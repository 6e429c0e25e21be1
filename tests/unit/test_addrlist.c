/*
 * test_addrlist: the address list of metrics_allow (lib/base/addrlist.c):
 * parsing IPv4/IPv6 addresses and networks, the item named when one is
 * wrong, matching on the prefix bits, IPv4-mapped IPv6 clients; and the
 * configuration key's error (lib/base/config.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/addrlist.h"
#include "base/config.h"
#include "test.h"

static int
parse(struct addrlist *l, const char *text, char bad[64])
{
	bad[0] = '\0';
	return addrlist_parse(l, text, bad, 64);
}

static void
test_parse(void)
{
	struct addrlist l;
	char            bad[64];

	CHECK_INT(parse(&l, "", bad), 0);
	CHECK_INT(l.n, 0);
	CHECK_INT(parse(&l, "  ", bad), -1);
	CHECK_INT(parse(&l, "127.0.0.1", bad), 0);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.net[0].bits, 32);
	CHECK_INT(parse(&l, " 10.0.0.0/8 ,::1, 2001:db8::/32,192.0.2.7/32 ",
	              bad),
	    0);
	CHECK_INT(l.n, 4);
	CHECK_INT(l.net[1].bits, 128);
	CHECK_INT(l.net[2].bits, 32);
	/* the item at fault is named, trimmed */
	CHECK_INT(parse(&l, "10.0.0.0/8, example.com", bad), -1);
	CHECK_STR(bad, "example.com");
	CHECK_INT(parse(&l, "10.0.0.0/33", bad), -1);
	CHECK_STR(bad, "10.0.0.0/33");
	CHECK_INT(parse(&l, "::/129", bad), -1);
	CHECK_INT(parse(&l, "10.0.0.0/", bad), -1);
	CHECK_INT(parse(&l, "10.0.0.0/-1", bad), -1);
	CHECK_INT(parse(&l, "10.0.0.0/+8", bad), -1);
	CHECK_INT(parse(&l, "10.0.0.0/8x", bad), -1);
	CHECK_INT(parse(&l, "10.0.0.1,,10.0.0.2", bad), -1);
	CHECK_INT(parse(&l, "10.0.0.1,", bad), 0); /* a trailing comma */
	CHECK_INT(parse(&l, "1.2.3", bad), -1);
	CHECK_INT(parse(&l, "1.2.3.4 5.6.7.8", bad), -1);
	CHECK_STR(bad, "1.2.3.4 5.6.7.8");
}

static void
test_match(void)
{
	struct addrlist l;
	char            bad[64];

	CHECK_INT(parse(&l, "", bad), 0);
	CHECK(!addrlist_match(&l, "127.0.0.1")); /* empty: nobody */
	CHECK_INT(parse(&l, "10.0.0.0/8, 192.0.2.7, 2001:db8:10::/44, ::1",
	              bad),
	    0);
	CHECK(addrlist_match(&l, "10.1.2.3"));
	CHECK(addrlist_match(&l, "10.255.255.255"));
	CHECK(!addrlist_match(&l, "11.0.0.0"));
	CHECK(!addrlist_match(&l, "9.255.255.255"));
	CHECK(addrlist_match(&l, "192.0.2.7"));
	CHECK(!addrlist_match(&l, "192.0.2.8"));
	CHECK(addrlist_match(&l, "::1"));
	CHECK(!addrlist_match(&l, "::2"));
	CHECK(addrlist_match(&l, "2001:db8:10::5"));
	CHECK(addrlist_match(&l, "2001:db8:1f:ffff::1")); /* /44: 0x10-0x1f */
	CHECK(!addrlist_match(&l, "2001:db8:20::1"));
	CHECK(!addrlist_match(&l, "2001:db8:f::1"));
	/* an IPv4 client on an IPv6 socket */
	CHECK(addrlist_match(&l, "::ffff:10.9.8.7"));
	CHECK(!addrlist_match(&l, "::ffff:11.9.8.7"));
	/* not an address: never a match */
	CHECK(!addrlist_match(&l, NULL));
	CHECK(!addrlist_match(&l, ""));
	CHECK(!addrlist_match(&l, "10.1.2.3 "));
	CHECK(!addrlist_match(&l, "unix:"));
	/* an odd prefix length */
	CHECK_INT(parse(&l, "172.16.0.0/12, 0.0.0.0/0", bad), 0);
	CHECK(addrlist_match(&l, "8.8.8.8"));
	CHECK(!addrlist_match(&l, "::8"));
	CHECK_INT(parse(&l, "172.16.0.0/12", bad), 0);
	CHECK(addrlist_match(&l, "172.31.255.255"));
	CHECK(!addrlist_match(&l, "172.32.0.0"));
	CHECK(!addrlist_match(&l, "172.15.255.255"));
}

static void
test_config_key(void)
{
	struct config c;
	struct err    err;

	unsetenv("POSTDESK_METRICS_ALLOW");
	unsetenv("POSTDESK_METRICS_FILE");
	setenv("POSTDESK_CONF", "/dev/null", 1);
	setenv("POSTDESK_PORTAL_URL", "https://desk.example.com", 1);
	CHECK_INT(config_load(&c, NULL, &err), 0);
	CHECK_INT(c.metrics_allow.n, 0);
	CHECK_STR(c.metrics_file, "/run/postdesk/metrics");
	config_cleanup(&c);
	setenv("POSTDESK_METRICS_ALLOW", "127.0.0.1, fd00::/8", 1);
	CHECK_INT(config_load(&c, NULL, &err), 0);
	CHECK_INT(c.metrics_allow.n, 2);
	CHECK(addrlist_match(&c.metrics_allow, "fd12::1"));
	config_cleanup(&c);
	setenv("POSTDESK_METRICS_ALLOW", "127.0.0.1, prometheus.internal", 1);
	CHECK_INT(config_load(&c, NULL, &err), -1);
	CHECK(strstr(err.msg, "'metrics_allow'") != NULL);
	CHECK(strstr(err.msg, "'prometheus.internal'") != NULL);
	config_cleanup(&c);
	unsetenv("POSTDESK_METRICS_ALLOW");
}

int
main(void)
{
	test_parse();
	test_match();
	test_config_key();
	return TEST_DONE();
}
