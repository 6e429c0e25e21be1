/*
 * postdesk-admin: the command line for people — migrations, agents and API
 * keys.  Exit status 0 ok, 1 the action failed, 2 usage or configuration;
 * every failure is one line on stderr.
 */
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/agent.h"
#include "adapt/app.h"
#include "adapt/cred.h"
#include "domain/migrate.h"
#include "base/paths.h"
#include "base/valid.h"

#define PROG         "postdesk-admin"
#define PASSWORD_MIN 8

static const char USAGE[] =
    "usage: " PROG " COMMAND [ARGS]\n"
    "  migrate                          apply new sql/ migrations\n"
    "  bootstrap-admin                  create user admin if no agent "
    "exists\n"
    "  create-agent USER [--role admin|agent] [--name NAME]\n"
    "  reset-password USER              new password (stdin or "
    "generated)\n"
    "  create-api-key NAME [--role admin|agent]   prints the key\n"
    "  list-api-keys\n"
    "  revoke-api-key ID\n"
    "Configuration: $POSTDESK_CONF (default " PD_CONF_FILE ").\n";

static int
fail(const struct err *err)
{
	fprintf(stderr, PROG ": %s%s%s\n", err->msg, err->detail[0] ? ": " : "",
	    err->detail);
	return 1;
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, PROG ": %s (see " PROG " --help)\n", msg);
	return 2;
}

/* Who ran the command, for the audit log. */
static const char *
cli_user(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw ? pw->pw_name : "unknown";
}

/*
 * The outcome of a change made through lib/domain/agent.c: 1 (made, but its
 * audit line was not written) is a warning, not a failure.
 */
static int
changed(int rc, const struct err *err)
{
	if (rc == 1)
		fprintf(stderr, PROG ": warning: audit log not written: %s\n",
		    err->detail);
	return rc == -1 ? fail(err) : 0;
}

static int
valid_username(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("._@-", *s) == NULL)
			return 0;
	return 1;
}

/*
 * The new password: the first line of stdin when it is not a terminal,
 * else a generated one (*generated set).  Returns 0 or -1 (too short).
 */
static int
new_password(char *pw, size_t size, int *generated)
{
	*generated = 0;
	if (!isatty(STDIN_FILENO)) {
		if (fgets(pw, (int)size, stdin) == NULL)
			pw[0] = '\0';
		pw[strcspn(pw, "\r\n")] = '\0';
		if (strlen(pw) < PASSWORD_MIN) {
			fprintf(stderr,
			    PROG ": the password must have at least %d "
			         "characters\n",
			    PASSWORD_MIN);
			return -1;
		}
		return 0;
	}
	cred_random_text(pw, size, 15);
	*generated = 1;
	return 0;
}

static int
create_agent(struct app *app, const char *user, const char *role,
    const char *name, const char *pw)
{
	struct agent_new a = { .username = user,
		.display_name = name,
		.role = role,
		.password = pw };
	struct err       err;
	uint64_t         id;

	return changed(agent_create(app->db, &a, cli_user(), &id, &err), &err);
}

static int
cmd_migrate(struct app *app)
{
	struct err err;
	int        n;

	if (migrate_run(app->db, app->cfg.sql_dir, stdout, &n, &err) == -1)
		return fail(&err);
	printf("schema up to date (%d migration%s applied)\n", n,
	    n == 1 ? "" : "s");
	return 0;
}

static int
cmd_bootstrap(struct app *app)
{
	char       pw[32];
	long long  n;
	struct err err;

	if (agent_count(app->db, &n, &err) == -1)
		return fail(&err);
	if (n > 0)
		return 0;
	cred_random_text(pw, sizeof pw, 15);
	if (create_agent(app, "admin", "admin", "Administrator", pw) != 0)
		return 1;
	printf("username=admin password=%s\n", pw);
	explicit_bzero(pw, sizeof pw);
	return 0;
}

static int
cmd_create_agent(struct app *app, int argc, char **argv)
{
	const char *user, *role = "agent", *name = NULL;
	char        pw[1025];
	int         generated, rc;

	if (argc < 1 || !valid_username(argv[0]))
		return usage_error("create-agent needs a USER of 1-64 letters, "
		                   "digits, . _ @ -");
	user = argv[0];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else
			return usage_error("unknown option for create-agent");
	}
	if (!agent_role_valid(role))
		return usage_error("--role must be admin or agent");
	if (new_password(pw, sizeof pw, &generated) == -1)
		return 1;
	rc = create_agent(app, user, role, name ? name : user, pw);
	if (rc == 0 && generated)
		printf("username=%s password=%s\n", user, pw);
	explicit_bzero(pw, sizeof pw);
	return rc;
}

static int
cmd_reset_password(struct app *app, int argc, char **argv)
{
	char       pw[1025];
	struct err err;
	uint64_t   id;
	int        generated, rc;

	if (argc != 1)
		return usage_error("reset-password needs a USER");
	if (agent_lookup(app->db, argv[0], &id, &err) == -1)
		return fail(&err);
	if (new_password(pw, sizeof pw, &generated) == -1)
		return 1;
	rc = changed(agent_reset_password(app->db, id, pw, cli_user(), &err),
	    &err);
	if (rc == 0 && generated)
		printf("username=%s password=%s\n", argv[0], pw);
	explicit_bzero(pw, sizeof pw);
	return rc;
}

static int
cmd_create_api_key(struct app *app, int argc, char **argv)
{
	const char *role = "admin";
	char        key[64];
	uint64_t    id;
	struct err  err;

	if (argc < 1 || argv[0][0] == '\0' || strlen(argv[0]) > 100)
		return usage_error("create-api-key needs a NAME (1-100 chars)");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else
			return usage_error("unknown option for create-api-key");
	}
	if (!agent_role_valid(role))
		return usage_error("--role must be admin or agent");
	if (changed(agent_apikey_create(app, argv[0], role, cli_user(), key,
	                sizeof key, &id, &err),
	        &err) != 0)
		return 1;
	printf("%s\n", key);
	explicit_bzero(key, sizeof key);
	return 0;
}

static int
cmd_list_api_keys(struct app *app)
{
	struct api_key *keys;
	size_t          n;
	struct err      err;

	if (agent_apikey_list(app->db, &keys, &n, &err) == -1)
		return fail(&err);
	printf("%-4s %-20s %-6s %-13s %-21s %-21s %s\n", "ID", "NAME", "ROLE",
	    "PREFIX", "CREATED", "LAST USED", "REVOKED");
	for (size_t i = 0; i < n; i++)
		printf("%-4llu %-20s %-6s %-13s %-21s %-21s %s\n",
		    (unsigned long long)keys[i].id, keys[i].name, keys[i].role,
		    keys[i].prefix, keys[i].created_at,
		    keys[i].last_used_at[0] ? keys[i].last_used_at : "-",
		    keys[i].revoked_at[0] ? keys[i].revoked_at : "-");
	free(keys);
	return 0;
}

static int
cmd_revoke_api_key(struct app *app, int argc, char **argv)
{
	uint64_t   id;
	struct err err;

	if (argc != 1 || !valid_id(argv[0], &id))
		return usage_error("revoke-api-key needs a numeric ID");
	return changed(agent_apikey_revoke(app->db, id, cli_user(), &err),
	    &err);
}

int
main(int argc, char **argv)
{
	struct app  app;
	struct err  err;
	const char *cmd;
	int         rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	/*
	 * Run from a terminal, the admin reads there what went wrong: the
	 * installed configuration's log_file takes the lines of runs without
	 * one (scripts, cron).  An explicit POSTDESK_LOG_FILE still wins.
	 */
	if (isatty(STDERR_FILENO))
		setenv("POSTDESK_LOG_FILE", "", 0);
	if (app_init(&app, PROG, &err) == -1) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		app_cleanup(&app);
		return 2;
	}
	if (strcmp(cmd, "migrate") == 0 && argc == 2)
		rc = cmd_migrate(&app);
	else if (strcmp(cmd, "bootstrap-admin") == 0 && argc == 2)
		rc = cmd_bootstrap(&app);
	else if (strcmp(cmd, "create-agent") == 0)
		rc = cmd_create_agent(&app, argc - 2, argv + 2);
	else if (strcmp(cmd, "reset-password") == 0)
		rc = cmd_reset_password(&app, argc - 2, argv + 2);
	else if (strcmp(cmd, "create-api-key") == 0)
		rc = cmd_create_api_key(&app, argc - 2, argv + 2);
	else if (strcmp(cmd, "list-api-keys") == 0 && argc == 2)
		rc = cmd_list_api_keys(&app);
	else if (strcmp(cmd, "revoke-api-key") == 0)
		rc = cmd_revoke_api_key(&app, argc - 2, argv + 2);
	else
		rc = usage_error("unknown command or wrong arguments");
	app_cleanup(&app);
	return rc;
}
