/*
 * test_migrate: splitting a migration file into statements.
 */
#include <string.h>

#include "domain/migrate.h"
#include "test.h"

static void
test_simple(void)
{
	char **s;
	size_t n;

	CHECK_INT(migrate_split("CREATE TABLE a (id INT);\n"
	                        "CREATE TABLE b (id INT);\n",
	              &s, &n),
	    0);
	if (CHECK_INT(n, 2)) {
		CHECK_STR(s[0], "CREATE TABLE a (id INT)");
		CHECK_STR(s[1], "CREATE TABLE b (id INT)");
	}
	migrate_free(s, n);

	/* No newline after the last ';' is fine. */
	CHECK_INT(migrate_split("SELECT 1;", &s, &n), 0);
	if (CHECK_INT(n, 1))
		CHECK_STR(s[0], "SELECT 1");
	migrate_free(s, n);
}

static void
test_empty(void)
{
	char **s;
	size_t n = 99;

	CHECK_INT(migrate_split("", &s, &n), 0);
	CHECK_INT(n, 0);
	migrate_free(s, n);

	CHECK_INT(migrate_split("\n\n  \t\n-- only a comment\n", &s, &n), 0);
	CHECK_INT(n, 0);
	migrate_free(s, n);
}

static void
test_comments_blank(void)
{
	char **s;
	size_t n;

	CHECK_INT(migrate_split("-- 0001_init.sql: the first tables\n"
	                        "\n"
	                        "CREATE TABLE a (\n"
	                        "    -- the key\n"
	                        "    id INT,\n"
	                        "\n"
	                        "    name VARCHAR(10)\n"
	                        ");\n"
	                        "   -- indented comment;\n"
	                        "\n"
	                        "\n"
	                        "INSERT INTO a VALUES (1, 'x');  \n"
	                        "--\n",
	              &s, &n),
	    0);
	if (CHECK_INT(n, 2)) {
		CHECK_STR(s[0],
		    "CREATE TABLE a (\nid INT,\nname VARCHAR(10)\n)");
		CHECK_STR(s[1], "INSERT INTO a VALUES (1, 'x')");
	}
	migrate_free(s, n);

	/* A comment line ending in ';' ends no statement. */
	CHECK_INT(migrate_split("SELECT\n-- x;\n1;\n", &s, &n), 0);
	if (CHECK_INT(n, 1))
		CHECK_STR(s[0], "SELECT\n1");
	migrate_free(s, n);

	/* CRLF line ends. */
	CHECK_INT(migrate_split("SELECT 1;\r\nSELECT 2;\r\n", &s, &n), 0);
	if (CHECK_INT(n, 2)) {
		CHECK_STR(s[0], "SELECT 1");
		CHECK_STR(s[1], "SELECT 2");
	}
	migrate_free(s, n);
}

static void
test_multi_line(void)
{
	char **s;
	size_t n;

	/* ';' inside a line does not end the statement. */
	CHECK_INT(migrate_split("INSERT INTO t VALUES ('a;b');\n"
	                        "UPDATE t SET x = 'c;'\n"
	                        "  WHERE y = 1;\n",
	              &s, &n),
	    0);
	if (CHECK_INT(n, 2)) {
		CHECK_STR(s[0], "INSERT INTO t VALUES ('a;b')");
		CHECK_STR(s[1], "UPDATE t SET x = 'c;'\nWHERE y = 1");
	}
	migrate_free(s, n);

	/* Many statements: the array grows. */
	{
		char text[2000] = "";
		int  ok = 1;

		for (int i = 0; i < 50; i++)
			strncat(text, "SELECT 1;\n",
			    sizeof text - strlen(text) - 1);
		CHECK_INT(migrate_split(text, &s, &n), 0);
		CHECK_INT(n, 50);
		for (size_t i = 0; i < n; i++)
			ok &= strcmp(s[i], "SELECT 1") == 0;
		CHECK(ok);
		migrate_free(s, n);
	}
}

static void
test_unterminated(void)
{
	char **s;
	size_t n;

	CHECK_INT(migrate_split("SELECT 1", &s, &n), -1);
	migrate_free(s, n);
	CHECK_INT(migrate_split("SELECT 1;\nSELECT 2\n", &s, &n), -1);
	migrate_free(s, n);
	CHECK_INT(migrate_split("SELECT 1;\nSELECT 2\n-- trailing\n\n", &s, &n),
	    -1);
	migrate_free(s, n);
	CHECK_INT(migrate_split("SELECT 1; -- done\n", &s, &n), -1);
	migrate_free(s, n);
}

int
main(void)
{
	test_simple();
	test_empty();
	test_comments_blank();
	test_multi_line();
	test_unterminated();
	return TEST_DONE();
}
