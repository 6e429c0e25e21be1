/*
 * config: loads postdesk.conf.  Every key has an entry in the table below;
 * the file may name only known keys, the environment variable
 * POSTDESK_<KEY> overrides the file, and validation names the key at fault.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/xmalloc.h"

enum kind {
	K_STR,
	K_URL,
	K_LONG,
	K_NETS /* struct addrlist, from comma-separated addresses */
};

struct key {
	const char *name;
	enum kind   kind;
	size_t      off;
	const char *def; /* NULL: required */
	long        min, max;
};

#define S(f) K_STR, offsetof(struct config, f)
#define U(f) K_URL, offsetof(struct config, f)
#define L(f) K_LONG, offsetof(struct config, f)
#define N(f) K_NETS, offsetof(struct config, f)

/* clang-format off */
static const struct key keys[] = {
	{ "portal_url",           U(portal_url),  NULL, 0, 0 },
	{ "login_url",            U(login_url),   "https://login.microsoftonline.com", 0, 0 },
	{ "graph_url",            U(graph_url),   "https://graph.microsoft.com", 0, 0 },
	{ "db_socket",            S(db_socket),   "", 0, 0 },
	{ "db_host",              S(db_host),     "127.0.0.1", 0, 0 },
	{ "db_port",              L(db_port),     "3306", 1, 65535 },
	{ "db_name",              S(db_name),     "postdesk", 0, 0 },
	{ "db_user",              S(db_user),     "postdesk", 0, 0 },
	{ "db_password",          S(db_password), "", 0, 0 },
	{ "key_file",             S(key_file),    "/etc/postdesk/secret.key", 0, 0 },
	{ "sql_dir",              S(sql_dir),     "/usr/local/share/postdesk/sql", 0, 0 },
	{ "log_file",             S(log_file),    "", 0, 0 },
	{ "log_level",            S(log_level),   "info", 0, 0 },
	{ "http_timeout",         L(http_timeout), "20", 1, 600 },
	{ "session_idle_minutes", L(session_idle_minutes), "60", 1, 10080 },
	{ "session_max_hours",    L(session_max_hours), "12", 1, 720 },
	{ "login_max_failures",   L(login_max_failures), "5", 1, 1000 },
	{ "attachment_max_mb",    L(attachment_max_mb), "25", 0, 150 },
	{ "scan_seconds",         L(scan_seconds), "55", 0, 3600 },
	{ "scan_interval",        L(scan_interval), "5", 1, 300 },
	{ "intake_attempts",      L(intake_attempts), "5", 1, 20 },
	{ "retry_backoff",        L(retry_backoff), "60", 0, 86400 },
	{ "metrics_allow",        N(metrics_allow), "", 0, 0 },
	{ "metrics_file",         S(metrics_file), "/run/postdesk/metrics", 0, 0 },
};
/* clang-format on */

#define NKEYS (sizeof keys / sizeof keys[0])

static const struct key *
key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static char **
str_slot(struct config *c, const struct key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static char *const *
cstr_slot(const struct config *c, const struct key *k)
{
	return (char *const *)(const void *)((const char *)c + k->off);
}

static long *
long_slot(struct config *c, const struct key *k)
{
	return (long *)(void *)((char *)c + k->off);
}

static int
loopback_host(const char *h)
{
	static const char *const names[] = { "127.0.0.1", "localhost",
		"[::1]" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i]);

		if (strncmp(h, names[i], n) == 0 &&
		    (h[n] == '\0' || h[n] == ':' || h[n] == '/'))
			return 1;
	}
	return 0;
}

/*
 * True if url is https://host[:port][/path], or http:// to a loopback host
 * (tests and the fake Microsoft cloud).  No trailing slash, query or
 * credentials.
 */
int
config_url_ok(const char *url)
{
	const char *host;
	size_t      n;

	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return 0;
	n = strlen(host);
	if (n == 0 || host[0] == '/' || host[n - 1] == '/' ||
	    strpbrk(host, "?#@ \t") != NULL)
		return 0;
	return host == url + 8 || loopback_host(host);
}

static int
nets_set(struct config *c, const struct key *k, const char *value,
    struct err *err)
{
	char bad[64];

	if (addrlist_parse((struct addrlist *)(void *)((char *)c + k->off),
	        value, bad, sizeof bad) == -1) {
		err_set(err, E_CONFIG,
		    "configuration key '%s': '%s' is not an IP address or "
		    "network (e.g. 192.0.2.7, 10.0.0.0/8, 2001:db8::/32; at "
		    "most %d, comma-separated)",
		    k->name, bad, ADDRLIST_MAX);
		return -1;
	}
	return 0;
}

/* Set one key from text.  Returns 0, or -1 with err naming the key. */
int
config_set(struct config *c, const char *name, const char *value,
    struct err *err)
{
	const struct key *k = key_find(name);
	char             *end;
	long              v;

	if (k == NULL) {
		err_set(err, E_CONFIG, "unknown configuration key '%s'", name);
		return -1;
	}
	if (k->kind == K_LONG) {
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end != '\0' || v < k->min ||
		    v > k->max) {
			err_set(err, E_CONFIG,
			    "configuration key '%s': '%s' is not a number "
			    "from %ld to %ld",
			    name, value, k->min, k->max);
			return -1;
		}
		*long_slot(c, k) = v;
		return 0;
	}
	if (k->kind == K_NETS)
		return nets_set(c, k, value, err);
	if (k->kind == K_URL && value[0] != '\0' &&
	    (!config_url_ok(value) || strlen(value) > 1000)) {
		err_set(err, E_CONFIG,
		    "configuration key '%s': '%s' must be an https:// URL "
		    "without a trailing slash (http:// only for loopback)",
		    name, value);
		return -1;
	}
	free(*str_slot(c, k));
	*str_slot(c, k) = xstrdup(value);
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
load_file(struct config *c, const char *path, struct err *err)
{
	FILE *f = fopen(path, "r");
	char  line[2048];
	int   lineno = 0, rc = 0;

	if (f == NULL) {
		err_set(err, E_CONFIG, "cannot read configuration file %s: %s",
		    path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		char *s = trim(line), *eq;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			err_set(err, E_CONFIG,
			    "%s line %d: expected key = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		rc = config_set(c, trim(s), trim(eq + 1), err);
	}
	fclose(f);
	return rc;
}

static int
load_env(struct config *c, struct err *err)
{
	char env[64];

	for (size_t i = 0; i < NKEYS; i++) {
		const char *v;
		size_t      j;

		j = (size_t)snprintf(env, sizeof env, "POSTDESK_");
		for (const char *p = keys[i].name; *p && j + 1 < sizeof env;
		     p++)
			env[j++] = (char)toupper((unsigned char)*p);
		env[j] = '\0';
		v = getenv(env);
		if (v != NULL && config_set(c, keys[i].name, v, err) == -1)
			return -1;
	}
	return 0;
}

/*
 * Load defaults, then the file at path (NULL: $POSTDESK_CONF or
 * /etc/postdesk/postdesk.conf), then the environment, and validate.
 * Returns 0, or -1 with err saying which key is wrong.  Free with
 * config_cleanup() either way.
 */
int
config_load(struct config *c, const char *path, struct err *err)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL &&
		    config_set(c, keys[i].name, keys[i].def, err) == -1)
			return -1;
	if (path == NULL)
		path = getenv("POSTDESK_CONF");
	if (path == NULL || *path == '\0')
		path = "/etc/postdesk/postdesk.conf";
	if (load_file(c, path, err) == -1 || load_env(c, err) == -1)
		return -1;
	return config_validate(c, err);
}

int
config_load_default(struct config *c, struct err *err)
{
	return config_load(c, NULL, err);
}

/*
 * Check that required keys and URLs are present and values agree.  An
 * empty URL is missing even where the key has a default: it would turn
 * every request into a relative path.
 */
int
config_validate(const struct config *c, struct err *err)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (k->kind == K_LONG || k->kind == K_NETS ||
		    (k->def != NULL && k->kind != K_URL))
			continue;
		if (*cstr_slot(c, k) == NULL || **cstr_slot(c, k) == '\0') {
			err_set(err, E_CONFIG,
			    "configuration key '%s' is missing", k->name);
			return -1;
		}
	}
	if (strcmp(c->log_level, "error") && strcmp(c->log_level, "warn") &&
	    strcmp(c->log_level, "info") && strcmp(c->log_level, "debug")) {
		err_set(err, E_CONFIG,
		    "configuration key 'log_level': '%s' is not one of error, "
		    "warn, info, debug",
		    c->log_level);
		return -1;
	}
	if (c->key_file[0] == '\0') {
		err_set(err, E_CONFIG, "configuration key 'key_file' is empty");
		return -1;
	}
	return 0;
}

void
config_cleanup(struct config *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].kind == K_LONG || keys[i].kind == K_NETS)
			continue;
		if (strcmp(keys[i].name, "db_password") == 0)
			xfree_secret(*str_slot(c, &keys[i]));
		else
			free(*str_slot(c, &keys[i]));
		*str_slot(c, &keys[i]) = NULL;
	}
}
