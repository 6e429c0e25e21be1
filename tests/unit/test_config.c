/*
 * test_config: defaults, the file format, URL rules, environment
 * overrides and the messages that name the key at fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/paths.h"
#include "test.h"

static const char *const ENV_KEYS[] = { "POSTDESK_CONF", "POSTDESK_PORTAL_URL",
	"POSTDESK_LOGIN_URL", "POSTDESK_GRAPH_URL", "POSTDESK_DB_SOCKET",
	"POSTDESK_DB_HOST", "POSTDESK_DB_PORT", "POSTDESK_DB_NAME",
	"POSTDESK_DB_USER", "POSTDESK_DB_PASSWORD", "POSTDESK_KEY_FILE",
	"POSTDESK_SQL_DIR", "POSTDESK_LOG_FILE", "POSTDESK_LOG_LEVEL",
	"POSTDESK_HTTP_TIMEOUT", "POSTDESK_SESSION_IDLE_MINUTES",
	"POSTDESK_SESSION_MAX_HOURS", "POSTDESK_LOGIN_MAX_FAILURES",
	"POSTDESK_HOST_ID", NULL };

/* Write text to a new temporary file; its name goes to path. */
static void
write_conf(char path[64], const char *text)
{
	int fd;

	snprintf(path, 64, "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	if (fd == -1) {
		perror("mkstemp");
		exit(2);
	}
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("write");
		exit(2);
	}
	close(fd);
}

/* Load text as a configuration file; returns config_load()'s result. */
static int
load_text(struct config *c, const char *text, struct err *err)
{
	char path[64];
	int  rc;

	write_conf(path, text);
	err_clear(err);
	rc = config_load(c, path, err);
	unlink(path);
	return rc;
}

static void
test_defaults(void)
{
	struct config c;
	struct err    err;

	CHECK_INT(load_text(&c, "portal_url = https://desk.example.com\n",
	              &err),
	    0);
	CHECK_STR(c.portal_url, "https://desk.example.com");
	CHECK_STR(c.login_url, "https://login.microsoftonline.com");
	CHECK_STR(c.graph_url, "https://graph.microsoft.com");
	CHECK_STR(c.db_socket, "");
	CHECK_STR(c.db_host, "127.0.0.1");
	CHECK_INT(c.db_port, 3306);
	CHECK_STR(c.db_name, "postdesk");
	CHECK_STR(c.db_user, "postdesk");
	CHECK_STR(c.db_password, "");
	/* The install's paths (the Makefile writes build/gen/base/paths.h). */
	CHECK_STR(c.key_file, PD_KEY_FILE);
	CHECK_STR(c.sql_dir, PD_SQL_DIR);
	CHECK_STR(c.log_file, PD_LOG_FILE);
	CHECK_STR(c.log_level, "info");
	CHECK_INT(c.http_timeout, 20);
	CHECK_INT(c.session_idle_minutes, 60);
	CHECK_INT(c.session_max_hours, 12);
	CHECK_INT(c.login_max_failures, 5);
	config_cleanup(&c);
	CHECK(c.portal_url == NULL);
	CHECK(c.db_password == NULL);
	config_cleanup(&c); /* twice is fine */
}

static void
test_file_format(void)
{
	struct config c;
	struct err    err;

	CHECK_INT(load_text(&c,
	              "# postdesk.conf\n"
	              "\n"
	              "   \n"
	              "  # an indented comment\n"
	              "portal_url=https://desk.example.com\n"
	              "\tdb_host   =   db.internal  \n"
	              "db_port = 3307\r\n"
	              "db_password = pa ss=word # not a comment\n"
	              "log_level = debug",
	              &err),
	    0);
	CHECK_STR(err.msg, "");
	CHECK_STR(c.portal_url, "https://desk.example.com");
	CHECK_STR(c.db_host, "db.internal");
	CHECK_INT(c.db_port, 3307);
	CHECK_STR(c.db_password, "pa ss=word # not a comment");
	CHECK_STR(c.log_level, "debug");
	config_cleanup(&c);

	/* The last of two lines for a key wins. */
	CHECK_INT(load_text(&c,
	              "portal_url = https://a.example.com\n"
	              "portal_url = https://b.example.com\n",
	              &err),
	    0);
	CHECK_STR(c.portal_url, "https://b.example.com");
	config_cleanup(&c);

	/* An empty value is allowed where there is a default. */
	CHECK_INT(load_text(&c,
	              "portal_url = https://a.example.com\ndb_socket =\n",
	              &err),
	    0);
	CHECK_STR(c.db_socket, "");
	config_cleanup(&c);
}

static void
test_file_errors(void)
{
	struct config c;
	struct err    err;

	CHECK_INT(load_text(&c,
	              "portal_url = https://desk.example.com\n"
	              "db_pasword = x\n",
	              &err),
	    -1);
	CHECK_INT(err.code, E_CONFIG);
	CHECK(strstr(err.msg, "'db_pasword'") != NULL);
	CHECK(strstr(err.msg, "unknown") != NULL);
	config_cleanup(&c);

	CHECK_INT(load_text(&c, "portal_url https://desk.example.com\n", &err),
	    -1);
	CHECK(strstr(err.msg, "line 1") != NULL);
	config_cleanup(&c);

	CHECK_INT(load_text(&c, "# c\n\nDB_PORT = 1\n", &err), -1);
	CHECK(strstr(err.msg, "'DB_PORT'") != NULL); /* keys are lower case */
	config_cleanup(&c);

	CHECK_INT(config_load(&c, "/nonexistent/postdesk.conf", &err), -1);
	CHECK_INT(err.code, E_CONFIG);
	CHECK(strstr(err.msg, "/nonexistent/postdesk.conf") != NULL);
	config_cleanup(&c);
}

/* Load a file with portal_url and one more line; returns the result. */
static int
load_with(const char *line, struct err *err)
{
	struct config c;
	char          text[512];
	int           rc;

	snprintf(text, sizeof text,
	    "portal_url = https://desk.example.com\n%s\n", line);
	rc = load_text(&c, text, err);
	config_cleanup(&c);
	return rc;
}

static void
test_numbers(void)
{
	struct err err;

	CHECK_INT(load_with("db_port = 1", &err), 0);
	CHECK_INT(load_with("db_port = 65535", &err), 0);
	CHECK_INT(load_with("db_port = 65536", &err), -1);
	CHECK(strstr(err.msg, "'db_port'") != NULL);
	CHECK(strstr(err.msg, "65536") != NULL);
	CHECK_INT(load_with("db_port = 0", &err), -1);
	CHECK(strstr(err.msg, "'db_port'") != NULL);
	CHECK_INT(load_with("db_port = 33o6", &err), -1);
	CHECK(strstr(err.msg, "'db_port'") != NULL);
	CHECK_INT(load_with("db_port = -1", &err), -1);
	CHECK_INT(load_with("db_port =", &err), -1);
	CHECK_INT(load_with("db_port = 3306 3307", &err), -1);
	CHECK_INT(load_with("http_timeout = 99999999999999999999999", &err),
	    -1);
	CHECK(strstr(err.msg, "'http_timeout'") != NULL);
	CHECK_INT(load_with("http_timeout = 600", &err), 0);
	CHECK_INT(load_with("http_timeout = 601", &err), -1);
	CHECK_INT(load_with("session_idle_minutes = 10080", &err), 0);
	CHECK_INT(load_with("session_idle_minutes = 10081", &err), -1);
	CHECK_INT(load_with("login_max_failures = 0", &err), -1);
	CHECK(strstr(err.msg, "'login_max_failures'") != NULL);

	CHECK_INT(load_with("log_level = verbose", &err), -1);
	CHECK(strstr(err.msg, "'log_level'") != NULL);
	CHECK_INT(load_with("key_file =", &err), -1);
	CHECK(strstr(err.msg, "'key_file'") != NULL);
}

static void
test_url_rules(void)
{
	struct err err;

	CHECK(config_url_ok("https://desk.example.com"));
	CHECK(config_url_ok("https://desk.example.com:8443"));
	CHECK(config_url_ok("https://desk.example.com/postdesk"));
	CHECK(config_url_ok("https://10.1.2.3"));
	CHECK(config_url_ok("http://127.0.0.1"));
	CHECK(config_url_ok("http://127.0.0.1:8080"));
	CHECK(config_url_ok("http://127.0.0.1:8080/graph"));
	CHECK(config_url_ok("http://localhost"));
	CHECK(config_url_ok("http://localhost:9000"));
	CHECK(config_url_ok("http://[::1]:9000"));
	CHECK(config_url_ok("http://[::1]"));

	CHECK(!config_url_ok(""));
	CHECK(!config_url_ok("desk.example.com"));
	CHECK(!config_url_ok("ftp://desk.example.com"));
	CHECK(!config_url_ok("HTTPS://desk.example.com"));
	CHECK(!config_url_ok("https://"));
	CHECK(!config_url_ok("http://"));
	CHECK(!config_url_ok("https:///path"));
	CHECK(!config_url_ok("http://desk.example.com"));
	CHECK(!config_url_ok("http://10.0.0.1"));
	CHECK(!config_url_ok("http://127.0.0.2"));
	CHECK(!config_url_ok("http://localhost.evil.com"));
	CHECK(!config_url_ok("http://localhostx"));
	CHECK(!config_url_ok("http://127.0.0.1.evil.com"));
	CHECK(!config_url_ok("http://127.0.0.1@evil.com"));
	CHECK(!config_url_ok("http://localhost:80@evil.com"));
	CHECK(!config_url_ok("https://user:pw@desk.example.com"));
	CHECK(!config_url_ok("https://desk.example.com/"));
	CHECK(!config_url_ok("https://desk.example.com/x/"));
	CHECK(!config_url_ok("http://127.0.0.1/"));
	CHECK(!config_url_ok("https://desk.example.com?x=1"));
	CHECK(!config_url_ok("https://desk.example.com#top"));
	CHECK(!config_url_ok("https://desk example.com"));

	/* The same rules when loading, with the key named. */
	CHECK_INT(load_with("graph_url = http://127.0.0.1:9000", &err), 0);
	CHECK_INT(load_with("graph_url = http://graph.example.com", &err), -1);
	CHECK(strstr(err.msg, "'graph_url'") != NULL);
	CHECK_INT(load_with("login_url = https://login.example.com/", &err),
	    -1);
	CHECK(strstr(err.msg, "'login_url'") != NULL);
	CHECK(strstr(err.msg, "trailing slash") != NULL);

	/* A URL key with a default may not be emptied either. */
	CHECK_INT(load_with("graph_url =", &err), -1);
	CHECK(strstr(err.msg, "'graph_url'") != NULL);
	CHECK_INT(load_with("login_url =", &err), -1);
	CHECK(strstr(err.msg, "'login_url'") != NULL);
}

static void
test_portal_url(void)
{
	struct config c;
	struct err    err;

	CHECK_INT(load_text(&c, "# nothing set\n", &err), -1);
	CHECK_INT(err.code, E_CONFIG);
	CHECK(strstr(err.msg, "'portal_url'") != NULL);
	CHECK(strstr(err.msg, "missing") != NULL);
	config_cleanup(&c);

	CHECK_INT(load_text(&c, "portal_url =\n", &err), -1);
	CHECK(strstr(err.msg, "'portal_url'") != NULL);
	config_cleanup(&c);

	CHECK_INT(load_text(&c, "portal_url = https://desk.example.com/\n",
	              &err),
	    -1);
	CHECK(strstr(err.msg, "'portal_url'") != NULL);
	config_cleanup(&c);

	CHECK_INT(load_text(&c, "portal_url = http://desk.example.com\n", &err),
	    -1);
	CHECK(strstr(err.msg, "'portal_url'") != NULL);
	config_cleanup(&c);
}

static void
test_env(void)
{
	struct config c;
	struct err    err;
	char          path[64];

	write_conf(path,
	    "portal_url = https://file.example.com\n"
	    "db_port = 3307\n"
	    "db_password = from-file\n");

	setenv("POSTDESK_PORTAL_URL", "https://env.example.com", 1);
	setenv("POSTDESK_DB_PORT", "4406", 1);
	setenv("POSTDESK_LOG_LEVEL", "warn", 1);
	CHECK_INT(config_load(&c, path, &err), 0);
	CHECK_STR(c.portal_url, "https://env.example.com");
	CHECK_INT(c.db_port, 4406);
	CHECK_STR(c.db_password, "from-file"); /* not overridden */
	CHECK_STR(c.log_level, "warn");
	config_cleanup(&c);

	/* A bad value in the environment is named like one in the file. */
	setenv("POSTDESK_DB_PORT", "many", 1);
	CHECK_INT(config_load(&c, path, &err), -1);
	CHECK(strstr(err.msg, "'db_port'") != NULL);
	config_cleanup(&c);
	unsetenv("POSTDESK_DB_PORT");

	/* The environment alone can supply a required key. */
	unsetenv("POSTDESK_PORTAL_URL");
	unsetenv("POSTDESK_LOG_LEVEL");
	CHECK_INT(load_text(&c, "\n", &err), -1);
	config_cleanup(&c);
	setenv("POSTDESK_PORTAL_URL", "http://localhost:8443", 1);
	CHECK_INT(load_text(&c, "\n", &err), 0);
	CHECK_STR(c.portal_url, "http://localhost:8443");
	config_cleanup(&c);
	unsetenv("POSTDESK_PORTAL_URL");

	/* POSTDESK_CONF names the file when the caller passes NULL. */
	setenv("POSTDESK_CONF", path, 1);
	CHECK_INT(config_load(&c, NULL, &err), 0);
	CHECK_STR(c.portal_url, "https://file.example.com");
	config_cleanup(&c);
	unsetenv("POSTDESK_CONF");
	unlink(path);
}

static void
test_set(void)
{
	struct config c;
	struct err    err;

	CHECK_INT(load_text(&c, "portal_url = https://a.example.com\n", &err),
	    0);
	CHECK_INT(config_set(&c, "db_name", "other", &err), 0);
	CHECK_STR(c.db_name, "other");
	CHECK_INT(config_set(&c, "nope", "x", &err), -1);
	CHECK(strstr(err.msg, "'nope'") != NULL);
	CHECK_INT(config_set(&c, "portal_url", "http://example.com", &err), -1);
	CHECK_STR(c.portal_url, "https://a.example.com"); /* kept */
	CHECK_INT(config_set(&c, "db_port", "x", &err), -1);
	CHECK_INT(c.db_port, 3306); /* kept */
	CHECK_INT(config_validate(&c, &err), 0);
	CHECK_INT(config_set(&c, "log_level", "loud", &err), 0);
	CHECK_INT(config_validate(&c, &err), -1);
	CHECK(strstr(err.msg, "'log_level'") != NULL);
	config_cleanup(&c);
}

static void
test_host_id(void)
{
	struct config c;
	struct err    err;

	CHECK_INT(load_text(&c, "portal_url = https://a.example.com\n", &err),
	    0);
	CHECK_STR(c.host_id, "");
	CHECK_INT(c.scan_workers, 0); /* sized for the machine */
	CHECK_INT(config_set(&c, "scan_workers", "65", &err), -1);
	CHECK(strstr(err.msg, "'scan_workers'") != NULL);
	CHECK_INT(config_set(&c, "scan_workers", "64", &err), 0);
	CHECK_INT(c.scan_workers, 64);
	config_cleanup(&c);
	CHECK_INT(load_text(&c,
	              "portal_url = https://a.example.com\nhost_id = a-1.x_y\n",
	              &err),
	    0);
	CHECK_STR(c.host_id, "a-1.x_y");
	config_cleanup(&c);
	setenv("POSTDESK_HOST_ID", "hostb", 1);
	CHECK_INT(load_text(&c,
	              "portal_url = https://a.example.com\nhost_id = hosta\n",
	              &err),
	    0);
	CHECK_STR(c.host_id, "hostb"); /* the environment wins */
	config_cleanup(&c);
	setenv("POSTDESK_HOST_ID", "a:b", 1);
	CHECK_INT(load_text(&c, "portal_url = https://a.example.com\n", &err),
	    -1);
	CHECK(strstr(err.msg, "'host_id'") != NULL);
	config_cleanup(&c);
	unsetenv("POSTDESK_HOST_ID");
}

int
main(void)
{
	for (const char *const *k = ENV_KEYS; *k; k++)
		unsetenv(*k);
	test_defaults();
	test_file_format();
	test_file_errors();
	test_numbers();
	test_url_rules();
	test_portal_url();
	test_env();
	test_set();
	test_host_id();
	return TEST_DONE();
}
