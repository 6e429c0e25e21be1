/*
 * postdesk-scan: the scanner cron starts every minute.  A run's workers
 * (scan_workers processes, lib/domain/scan_pool.c) visit every connected
 * mailbox as it falls due, scan_interval seconds after its last visit,
 * for scan_seconds (55 by default), so new mail becomes a ticket within
 * seconds without a daemon; overlapping runs and scanners on other hosts
 * share one schedule and the leases in the database.  --once does one
 * pass and exits when the Inboxes are drained.  SIGTERM or SIGINT ends a
 * run within a second.  Exit status: 0 ok, 1 some mailbox failed, 2 usage
 * or configuration.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapt/app.h"
#include "domain/ingest.h"
#include "domain/intake.h"
#include "base/log.h"
#include "domain/mailbox_graph.h"
#include "domain/sending.h"
#include "domain/scan_pool.h"
#include "domain/scan_visit.h"
#include "domain/scanner.h"
#include "base/valid.h"
#include "base/version.h"

#define PROG "postdesk-scan"

static volatile sig_atomic_t stopping;

static const char USAGE[] =
    "usage: " PROG " [--once | --loop] [--mailbox ID]\n"
    "  --once        one pass over every connected mailbox, then exit\n"
    "  --loop        keep running runs back to back (in place of cron)\n"
    "  --send-only   only send queued mail, don't read the Inboxes\n"
    "  --mailbox ID  only this mailbox\n"
    "  --version     print the version\n"
    "Without --once a run's scan_workers processes visit each mailbox\n"
    "every scan_interval seconds (default 5) for scan_seconds (default\n"
    "55): run it from cron every minute.\n"
    "Exit status: 0 ok, 1 some mailbox failed, 2 usage or configuration.\n";

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	http_abort(); /* Graph calls under way end now */
}

/*
 * --once: one pass over every target in turn, each Inbox drained (the
 * lease taken here, whatever the schedule says).  Returns 1 if some
 * mailbox failed.
 */
static int
scan_once(struct ingest_env *env, uint64_t only)
{
	struct scan_target *t = NULL;
	struct intake_setup setup = { 0 };
	struct scan_tallies ts = { 0 };
	struct err          err;
	size_t              nt = 0;
	int                 failed = 0, more;

	if (scanner_targets(env->app->db, only, &t, &nt, &err) == -1 ||
	    intake_setup_load(env->app->db, &setup, &err) == -1) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		log_err("pass failed: %s",
		    err.detail[0] ? err.detail : err.msg);
		failed = 1;
		nt = 0;
	}
	env->setup = &setup;
	for (size_t i = 0; i < nt && !stopping; i++)
		scan_visit(env, &t[i], 0, scan_tally_of(&ts, t[i].id), &more);
	env->setup = NULL;
	failed |= scan_tallies_print(&ts);
	scan_tallies_free(&ts);
	intake_setup_free(&setup);
	scanner_targets_free(t, nt);
	return failed;
}

static int
parse_args(int argc, char **argv, int *once, int *loop, int *send_only,
    uint64_t *only)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--send-only") == 0) {
			*send_only = 1;
			continue;
		}
		if (strcmp(argv[i], "--once") == 0 && !*loop) {
			*once = 1;
		} else if (strcmp(argv[i], "--loop") == 0 && !*once) {
			*loop = 1;
		} else if (strcmp(argv[i], "--mailbox") == 0 && i + 1 < argc &&
		    valid_id(argv[i + 1], only)) {
			i++;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(USAGE, stdout);
			exit(0);
		} else if (strcmp(argv[i], "--version") == 0) {
			puts(PROG " " POSTDESK_VERSION);
			exit(0);
		} else {
			fprintf(stderr,
			    PROG ": unknown or bad argument '%s' "
			         "(see " PROG " --help)\n",
			    argv[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * One run: workers visit the mailboxes as they fall due until scan_seconds
 * are up (lib/domain/scan_pool.c), or one pass with once.  Returns 1 if
 * some mailbox failed.
 */
static int
scan_run(struct ingest_env *env, uint64_t only, int once)
{
	const struct config *cfg = &env->app->cfg;

	env->deadline =
	    time(NULL) + (cfg->scan_seconds > 0 ? cfg->scan_seconds : 55);
	if (once)
		return scan_once(env, only);
	return scan_pool_run(env, only, &stopping) != 0;
}

int
main(int argc, char **argv)
{
	struct app        app;
	struct err        err;
	struct ingest_env env = { 0 };
	uint64_t          only = 0;
	int               once = 0, loop = 0, send_only = 0, failed = 0;
	char              owner[SCANNER_OWNER_MAX];
	struct sigaction  sa = { 0 };

	if (parse_args(argc, argv, &once, &loop, &send_only, &only) == -1)
		return 2;
	env.send_only = send_only;
	if (app_init(&app, PROG, &err) == -1) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		app_cleanup(&app);
		return 2;
	}
	sa.sa_handler = on_signal; /* no SA_RESTART: waits end at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	scanner_owner(app.cfg.host_id, owner, sizeof owner);
	scanner_set_lease(app.cfg.scan_lease_seconds);
	env.app = &app;
	env.owner = owner;
	env.http = app_http(&app, &err);
	if (env.http == NULL) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		app_cleanup(&app);
		return 2;
	}
	do {
		failed |= scan_run(&env, only, once);
	} while (loop && !stopping);
	app_cleanup(&app);
	return failed ? 1 : 0;
}
