/*
 * test_db_nodes: db_host as one server or a list of Galera nodes
 * (lib/adapt/db_nodes.c): order kept, default port, IPv6 in brackets, and
 * every malformed entry refused with its position.
 */
#include <stdio.h>
#include <string.h>

#include "adapt/db_nodes.h"
#include "test.h"

static struct db_node nodes[DB_NODES_MAX];
static size_t         n;
static char           why[200];

static int
parse(const char *list)
{
	why[0] = '\0';
	return db_nodes_parse(list, 3306, nodes, DB_NODES_MAX, &n, why,
	    sizeof why);
}

static void
test_one(void)
{
	CHECK(parse("127.0.0.1") == 0);
	CHECK(n == 1);
	CHECK_STR(nodes[0].host, "127.0.0.1");
	CHECK(nodes[0].port == 3306);
}

static void
test_list(void)
{
	CHECK(parse(" db1 ,db2:3307,  [::1]:24301 ,[fe80::1]") == 0);
	if (!CHECK(n == 4))
		return;
	CHECK_STR(nodes[0].host, "db1");
	CHECK(nodes[0].port == 3306);
	CHECK_STR(nodes[1].host, "db2");
	CHECK(nodes[1].port == 3307);
	CHECK_STR(nodes[2].host, "::1");
	CHECK(nodes[2].port == 24301);
	CHECK_STR(nodes[3].host, "fe80::1");
	CHECK(nodes[3].port == 3306);
}

static void
test_refused(void)
{
	static const char *bad[] = { "", "db1,", ",db1", "db1:", "db1:0",
		"db1:65536", "db1:33x", "db1:-1", "::1", "[::1", "[::1]x",
		"[]:3306", "db1, :3306" };
	char               long_host[300];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (!CHECK(parse(bad[i]) == -1))
			printf("  accepted: '%s'\n", bad[i]);
		CHECK(strncmp(why, "entry ", 6) == 0);
	}
	CHECK(parse("db1, db2:99999") == -1);
	CHECK(strstr(why, "entry 2") != NULL);
	memset(long_host, 'a', sizeof long_host - 1);
	long_host[sizeof long_host - 1] = '\0';
	CHECK(parse(long_host) == -1);
}

static void
test_too_many(void)
{
	char   list[400];
	size_t len = 0;

	for (int i = 0; i < DB_NODES_MAX; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%sh",
		    i ? "," : "");
	CHECK(parse(list) == 0);
	CHECK(n == DB_NODES_MAX);
	snprintf(list + len, sizeof list - len, ",h");
	CHECK(parse(list) == -1);
	CHECK(strstr(why, "too many") != NULL);
}

int
main(void)
{
	test_one();
	test_list();
	test_refused();
	test_too_many();
	return TEST_DONE();
}
