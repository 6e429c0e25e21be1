/*
 * postdesk-scan: the scanner cron starts every minute.  A run keeps
 * polling every connected mailbox every scan_interval seconds for
 * scan_seconds (55 by default), so new mail becomes a ticket within
 * seconds without a daemon; overlapping runs and scanners on other hosts
 * share the mailboxes through leases.  --once does one pass and exits
 * when the Inboxes are drained.  Exit status: 0 ok, 1 some mailbox
 * failed, 2 usage or configuration.
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
    "Without --once a run polls for scan_seconds (default 55) every\n"
    "scan_interval seconds (default 5): run it from cron every minute.\n"
    "Exit status: 0 ok, 1 some mailbox failed, 2 usage or configuration.\n";

struct tally {
	uint64_t             id;
	struct ingest_stats  sum;
	struct sending_stats out;
	long                 ms;
	int                  failed;
	int                  seen;
};

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
add_stats(struct ingest_stats *sum, const struct ingest_stats *s)
{
	sum->found += s->found;
	sum->ticketed += s->ticketed;
	sum->updated += s->updated;
	sum->ignored += s->ignored;
	sum->errors += s->errors;
	sum->failed += s->failed;
	sum->quarantined += s->quarantined;
}

static struct tally *
tally_of(struct tally **t, size_t *n, uint64_t id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*t)[i].id == id)
			return &(*t)[i];
	*t = realloc(*t, (*n + 1) * sizeof **t);
	if (*t == NULL)
		abort();
	memset(&(*t)[*n], 0, sizeof **t);
	(*t)[*n].id = id;
	return &(*t)[(*n)++];
}

/*
 * One mailbox: take its lease (skip it if another scanner has it), read
 * the Inbox, send what is queued, record the scan.  Returns 1 if the
 * mailbox was handled, 0 if skipped, -1 if it failed.
 */
static int
scan_mailbox(struct ingest_env *env, const struct scan_target *t,
    struct ingest_stats *s, struct sending_stats *o)
{
	struct app         *app = env->app;
	struct mbx          m;
	struct err          err, e2;
	struct scan_figures f;
	struct timespec     t0;
	int                 won, rc = -1;

	memset(s, 0, sizeof *s);
	memset(o, 0, sizeof *o);
	if (scanner_lease_take(app->db, t->id, env->owner, &won, &err) == -1) {
		log_err("mailbox %llu: %s", (unsigned long long)t->id,
		    err.detail[0] ? err.detail : err.msg);
		return -1;
	}
	if (!won)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mailbox_graph_open(&m, app, env->http, t->id, t->cloud,
	        t->shared_address, env->deadline, &err) == -1) {
		s->errors++;
		scanner_failed(app, t->id, &m, &err);
	} else {
		rc = 1;
		if (!env->send_only &&
		    ingest_mailbox(env, t, &m, s, &err) == -1) {
			rc = -1;
			s->errors++;
			scanner_failed(app, t->id, &m, &err);
		}
		/* sending never waits on reading: only a refused token (the
		 * queue is held then) keeps the queued mail in */
		if ((rc == 1 || err.code != E_AUTH) &&
		    sending_run(&m, t->address, t->name, o, &e2) == -1) {
			rc = -1;
			s->errors++;
			scanner_failed(app, t->id, &m, &e2);
		}
	}
	f = (struct scan_figures){ .ok = rc == 1,
		.waiting = s->waiting,
		.ms = ms_since(&t0),
		.graph_requests = m.requests,
		.graph_throttled = m.throttled,
		.graph_retries = m.retries };
	scanner_finish(app->db, t->id, env->owner, &f);
	mailbox_graph_close(&m);
	return rc;
}

/* One pass over every target; returns how many messages were found. */
static long
scan_pass(struct ingest_env *env, uint64_t only, struct tally **tally,
    size_t *ntally, struct err *err)
{
	struct scan_target *t = NULL;
	struct intake_setup setup = { 0 };
	size_t              nt = 0;
	long                found = 0;

	if (scanner_targets(env->app->db, only, &t, &nt, err) == -1 ||
	    intake_setup_load(env->app->db, &setup, err) == -1) {
		found = -1;
		goto out;
	}
	env->setup = &setup;
	for (size_t i = 0; i < nt && !stopping; i++) {
		struct tally        *ty = tally_of(tally, ntally, t[i].id);
		struct ingest_stats  s;
		struct sending_stats o;
		struct timespec      t0;
		int                  rc;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = scan_mailbox(env, &t[i], &s, &o);
		ty->failed |= rc == -1;
		ty->seen |= rc != 0;
		ty->ms += ms_since(&t0);
		add_stats(&ty->sum, &s);
		ty->out.sent += o.sent;
		ty->out.failed += o.failed;
		found += s.found + o.sent;
	}
	env->setup = NULL;
out:
	intake_setup_free(&setup);
	scanner_targets_free(t, nt);
	return found;
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

static int
print_tallies(struct tally *t, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		if (!t[i].seen && !t[i].failed)
			continue;
		printf("mailbox %llu: found %ld, ticketed %ld, updated %ld, "
		       "ignored %ld, errors %ld, %ld ms, sent %ld, send "
		       "failed %ld, intake failed %ld, quarantined %ld\n",
		    (unsigned long long)t[i].id, t[i].sum.found,
		    t[i].sum.ticketed, t[i].sum.updated, t[i].sum.ignored,
		    t[i].sum.errors, t[i].ms, t[i].out.sent, t[i].out.failed,
		    t[i].sum.failed, t[i].sum.quarantined);
		failed |= t[i].failed;
	}
	return failed;
}

/*
 * One run: passes every scan_interval seconds until scan_seconds are up
 * (a single pass with once), then one summary line per mailbox.  Returns 1
 * if some mailbox failed.
 */
static int
scan_run(struct ingest_env *env, uint64_t only, int once, struct tally **tally,
    size_t *ntally)
{
	const struct config *cfg = &env->app->cfg;
	struct err           err;
	int                  failed = 0;

	env->deadline =
	    time(NULL) + (cfg->scan_seconds > 0 ? cfg->scan_seconds : 55);
	while (!stopping) {
		if (scan_pass(env, only, tally, ntally, &err) == -1) {
			fprintf(stderr, PROG ": %s\n", err.msg);
			log_err("pass failed: %s",
			    err.detail[0] ? err.detail : err.msg);
			failed = 1;
		}
		if (once || time(NULL) + cfg->scan_interval >= env->deadline)
			break;
		sleep((unsigned)cfg->scan_interval);
	}
	failed |= print_tallies(*tally, *ntally);
	fflush(stdout);
	return failed;
}

int
main(int argc, char **argv)
{
	struct app        app;
	struct err        err;
	struct ingest_env env = { 0 };
	struct tally     *tally = NULL;
	size_t            ntally = 0;
	uint64_t          only = 0;
	int               once = 0, loop = 0, send_only = 0, failed = 0;
	char              owner[SCANNER_OWNER_MAX];

	if (parse_args(argc, argv, &once, &loop, &send_only, &only) == -1)
		return 2;
	env.send_only = send_only;
	if (app_init(&app, PROG, &err) == -1) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		app_cleanup(&app);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	scanner_owner(app.cfg.host_id, owner, sizeof owner);
	env.app = &app;
	env.owner = owner;
	env.http = app_http(&app, &err);
	if (env.http == NULL) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		app_cleanup(&app);
		return 2;
	}
	do {
		failed |= scan_run(&env, only, once, &tally, &ntally);
		ntally = 0;
	} while (loop && !stopping);
	free(tally);
	app_cleanup(&app);
	return failed ? 1 : 0;
}
