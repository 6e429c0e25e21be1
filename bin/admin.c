/*
 * postdesk-admin: the command line for people — migrations, agents, API
 * keys and the install's check (doctor).  Exit status 0 ok, 1 the action
 * failed, 2 usage or configuration; every failure is one line on stderr.
 */
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "domain/agent.h"
#include "domain/doctor.h"
#include "adapt/app.h"
#include "adapt/cred.h"
#include "domain/migrate.h"
#include "base/paths.h"
#include "base/valid.h"
#include "base/version.h"

#define PROG         "postdesk-admin"
#define PASSWORD_MIN 8

/* What create-agent and reset-password say of the password: new_password()
 * does exactly this. */
#define PASSWORD_HELP                                                          \
	"The password: on a terminal it is asked for twice, without echo "     \
	"(an\n"                                                                \
	"empty answer generates one); otherwise it is the first line of\n"     \
	"standard input; when that is empty or absent, one is generated and\n" \
	"printed as: username=USER password=PASSWORD.  At least 8 "            \
	"characters.\n"

struct command {
	const char *name;
	const char *args;
	const char *line; /* what it does, in one line */
	const char *more; /* what COMMAND --help adds, or NULL */
};

/* clang-format off */
static const struct command commands[] = {
	{ "doctor", "[--cacert FILE] [--user NAME]",
	  "check the install; one line per check, exit 1 if one FAILs",
	  "  --cacert FILE  trust the CAs of FILE (PEM) for portal_url; default\n"
	  "                 $CURL_CA_BUNDLE, else the system's CAs\n"
	  "  --user NAME    the user the programs run as, who must read the\n"
	  "                 configuration and the key file; default postdesk\n"
	  "                 when it exists, else whoever runs doctor\n"
	  "Run it as root: it reads the configuration and the key file.\n" },
	{ "migrate", "", "apply the migrations of sql_dir not applied yet", NULL },
	{ "bootstrap-admin", "",
	  "if no agent exists, create agent admin and print its password", NULL },
	{ "create-agent", "USER [--role admin|agent] [--name NAME]",
	  "create an agent (role agent unless --role)", PASSWORD_HELP },
	{ "reset-password", "USER",
	  "set an agent's password and end its sessions", PASSWORD_HELP },
	{ "create-api-key", "NAME [--role admin|agent]",
	  "create an API key (role admin unless --role); prints only the key",
	  NULL },
	{ "list-api-keys", "",
	  "one line per key: id name role prefix created last_used revoked",
	  NULL },
	{ "revoke-api-key", "ID", "revoke an API key", NULL },
};
/* clang-format on */

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *f)
{
	char head[128];

	fputs("usage: " PROG " COMMAND [ARGS]   (" PROG
	      " COMMAND --help: one command)\n",
	    f);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		snprintf(head, sizeof head, "%s %s", commands[i].name,
		    commands[i].args);
		fprintf(f, "  %-48s %s\n", head, commands[i].line);
	}
	fputs(PROG
	    " --version prints the version.\n"
	    "Configuration: $POSTDESK_CONF (default " PD_CONF_FILE ").\n"
	    "Exit status: 0 done, 1 failed, 2 bad usage or configuration.\n",
	    f);
}

static void
command_usage(const struct command *c)
{
	printf("usage: " PROG " %s %s\n%s\n", c->name, c->args, c->line);
	if (c->more != NULL)
		fputs(c->more, stdout);
}

static const struct command *
command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

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

/* One line of stdin into pw, without its newline; 0, or -1 at EOF. */
static int
read_line(char *pw, size_t size)
{
	if (fgets(pw, (int)size, stdin) == NULL) {
		pw[0] = '\0';
		return -1;
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	return 0;
}

/* Ask on the terminal twice without echo; -1 when the answers differ. */
static int
prompt_password(char *pw, size_t size)
{
	struct termios old, quiet;
	char           again[1025];
	int            echo_off, rc = 0;

	echo_off = tcgetattr(STDIN_FILENO, &old) == 0;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	fputs("New password (empty: generate one): ", stderr);
	read_line(pw, size);
	if (pw[0] != '\0') {
		fputs("\nAgain: ", stderr);
		read_line(again, sizeof again);
		rc = strcmp(pw, again) == 0 ? 0 : -1;
		explicit_bzero(again, sizeof again);
	}
	fputs("\n", stderr);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (rc == -1)
		fputs(PROG ": the two passwords differ\n", stderr);
	return rc;
}

/*
 * The new password as PASSWORD_HELP says: asked for on a terminal, else
 * the first line of stdin; generated (*generated set) when that gives
 * none.  Returns 0 or -1 (said on stderr).
 */
static int
new_password(char *pw, size_t size, int *generated)
{
	*generated = 0;
	if (isatty(STDIN_FILENO) ? prompt_password(pw, size) == -1
	                         : (read_line(pw, size), 0) == -1)
		return -1;
	if (pw[0] == '\0') {
		cred_random_text(pw, size, 15);
		*generated = 1;
		return 0;
	}
	if (strlen(pw) < PASSWORD_MIN) {
		fprintf(stderr,
		    PROG ": the password must have at least %d characters\n",
		    PASSWORD_MIN);
		return -1;
	}
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

static int
is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* doctor [--cacert FILE]: runs before app_init, which it checks. */
static int
cmd_doctor(int argc, char **argv)
{
	struct doctor_opts o = { .ca_file = getenv("CURL_CA_BUNDLE") };

	if (o.ca_file != NULL && o.ca_file[0] == '\0')
		o.ca_file = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc)
			o.ca_file = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			o.user = argv[++i];
		else
			return usage_error("unknown option for doctor");
	}
	if (o.user != NULL && getpwnam(o.user) == NULL)
		return usage_error("--user names no user");
	return doctor_run(&o, stdout);
}

static int
dispatch(struct app *app, const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(app);
	if (strcmp(cmd, "bootstrap-admin") == 0)
		return cmd_bootstrap(app);
	if (strcmp(cmd, "create-agent") == 0)
		return cmd_create_agent(app, argc, argv);
	if (strcmp(cmd, "reset-password") == 0)
		return cmd_reset_password(app, argc, argv);
	if (strcmp(cmd, "create-api-key") == 0)
		return cmd_create_api_key(app, argc, argv);
	if (strcmp(cmd, "list-api-keys") == 0)
		return cmd_list_api_keys(app);
	return cmd_revoke_api_key(app, argc, argv);
}

int
main(int argc, char **argv)
{
	const struct command *c;
	struct app            app;
	struct err            err;
	int                   rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts(PROG " " POSTDESK_VERSION);
		return 0;
	}
	c = command_find(argv[1]);
	if (c == NULL) {
		fprintf(stderr,
		    PROG ": unknown command '%.100s' (see " PROG " --help)\n",
		    argv[1]);
		return 2;
	}
	for (int i = 2; i < argc; i++)
		if (is_help(argv[i])) {
			command_usage(c);
			return 0;
		}
	if (c->args[0] == '\0' && argc > 2)
		return usage_error("this command takes no arguments");
	if (strcmp(c->name, "doctor") == 0)
		return cmd_doctor(argc - 2, argv + 2);
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
	rc = dispatch(&app, c->name, argc - 2, argv + 2);
	app_cleanup(&app);
	return rc;
}
