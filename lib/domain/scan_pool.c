/*
 * scan_pool: the run's process counts the connected mailboxes, drops its
 * database connection and forks up to scan_workers workers, then only
 * supervises: it passes a stop signal on, and replaces a worker that died
 * before the run's end.  Each worker has its own database connection and
 * libcurl handle (kept for the whole run, so connections to Graph are
 * reused) and loops: claim the most overdue mailbox whose lease is free
 * (scanner_claim(): one conditional UPDATE, which also works on Galera),
 * visit it within a budget, give it back with its next due time.  So
 * overlapping cron runs and scanners of other hosts share one schedule:
 * none visits a mailbox that another just visited, and a mailbox with
 * thousands of messages waiting gets one budget at a time like the rest.
 * Processes rather than libcurl's multi interface: the ingest and sending
 * code stay synchronous, one mailbox's trouble (a crash, a slow statement)
 * stays in its worker, and each worker needs ~1 request in flight.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "domain/intake.h"
#include "domain/scan_pool.h"
#include "domain/scan_visit.h"
#include "domain/scanner.h"
#include "model/limits.h"

/* A visit's budget: a page of messages, or 5 s once it handled one. */
#define VISIT_MAILS INGEST_PAGE_SIZE
#define VISIT_MS    5000
/* Rules and own addresses are read again this often (ms). */
#define SETUP_MS 5000
/* Most workers a run starts, whatever scan_workers says. */
#define WORKERS_MAX 64

static volatile sig_atomic_t worker_stop;
static volatile sig_atomic_t hup_seen;
static struct sigaction      log_hup; /* lib/base/log.c's SIGHUP handler */

/* SIGHUP to the run: reopen its log as before, and pass it on. */
static void
on_hup(int sig)
{
	hup_seen = 1;
	if (log_hup.sa_handler != SIG_DFL && log_hup.sa_handler != SIG_IGN)
		log_hup.sa_handler(sig);
}

/*
 * logrotate's pkill reaches every postdesk-scan process, but a SIGHUP to the
 * run alone (scripts/stack.sh reopen-logs signals the pid it started) must
 * reach its workers too.  Installed once: --loop makes many runs.
 */
static void
hup_passes_on(void)
{
	static int       done;
	struct sigaction sa;

	if (done++)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART; /* as the log's: no call fails with EINTR */
	sigaction(SIGHUP, &sa, &log_hup);
}

static void
on_worker_signal(int sig)
{
	(void)sig;
	worker_stop = 1;
	http_abort();
}

/*
 * scan_workers, or (0) ten per CPU — a worker mostly waits on Graph —
 * and never more than there are mailboxes.
 */
long
scan_pool_size(const struct config *cfg, long mailboxes)
{
	long n = cfg->scan_workers;

	if (n <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		n = 10 * (cpus > 0 ? cpus : 1);
	}
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	return n < mailboxes ? n : mailboxes;
}

/* Sleep ms, or less when a signal comes. */
static void
nap(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The rules and own addresses, read again every SETUP_MS. */
static int
setup_fresh(struct ingest_env *env, struct intake_setup *setup,
    long long *loaded, struct err *err)
{
	if (*loaded != 0 && clock_mono_ms() - *loaded < SETUP_MS)
		return 0;
	intake_setup_free(setup);
	memset(setup, 0, sizeof *setup);
	if (intake_setup_load(env->app->db, setup, err) == -1)
		return -1;
	*loaded = clock_mono_ms();
	env->setup = setup;
	return 0;
}

/* Claim one mailbox and visit it; 0 when none was due. */
static int
claim_and_visit(struct ingest_env *env, uint64_t only, struct scan_tallies *ts,
    int *failed)
{
	struct scan_target *t = NULL;
	struct err          err;
	uint64_t            id;
	size_t              n = 0;
	int                 more;

	if (scanner_claim(env->app->db, env->owner, only, &id, &err) == -1) {
		log_err("claiming a mailbox: %s",
		    err.detail[0] ? err.detail : err.msg);
		*failed = 1;
		return 0;
	}
	if (id == 0)
		return 0;
	if (scanner_targets(env->app->db, id, &t, &n, &err) == -1) {
		log_err("mailbox %llu: %s", (unsigned long long)id,
		    err.detail[0] ? err.detail : err.msg);
		*failed = 1;
	}
	if (n == 1)
		scan_visit(env, &t[0], 1, scan_tally_of(ts, id), &more);
	else /* disconnected since the claim: give it back */
		scanner_finish(env->app->db, id, env->owner, NULL,
		    env->app->cfg.scan_interval);
	scanner_targets_free(t, n);
	return 1;
}

/* A worker's life: visits until the run's deadline or a stop signal. */
static int
worker(struct ingest_env *env, uint64_t only)
{
	struct intake_setup setup = { 0 };
	struct scan_tallies ts = { 0 };
	struct sigaction    sa;
	struct err          err;
	char                owner[SCANNER_OWNER_MAX];
	long long           loaded = 0;
	int                 failed = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_worker_signal; /* no SA_RESTART: naps end */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	scanner_owner(env->app->cfg.host_id, owner, sizeof owner);
	env->owner = owner;
	env->visit_mails = VISIT_MAILS;
	env->visit_ms = VISIT_MS;
	if (scanner_free_dead(env->app->db, owner, &err) == -1)
		log_err("dead leases not freed: %s", err.detail);
	while (!worker_stop && time(NULL) < env->deadline) {
		if (setup_fresh(env, &setup, &loaded, &err) == -1) {
			log_err("rules not read: %s",
			    err.detail[0] ? err.detail : err.msg);
			failed = 1;
			nap(1000);
			continue;
		}
		/* nothing due: look again soon, at a time of our own */
		if (!claim_and_visit(env, only, &ts, &failed))
			nap(200 + (long)(random() % 100));
	}
	failed |= scan_tallies_print(&ts);
	scan_tallies_free(&ts);
	intake_setup_free(&setup);
	env->setup = NULL;
	return failed;
}

/* Fork worker slot i; its pid, or -1. */
static pid_t
spawn(struct ingest_env *env, uint64_t only)
{
	pid_t pid, run = getpid();

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int rc;

		/* the workers end with the run, even when it is killed */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != run)
			_exit(1);
		srandom((unsigned)getpid());
		rc = worker(env, only);
		db_free(env->app->db);
		env->app->db = NULL;
		_exit(rc);
	}
	if (pid == -1)
		log_err("cannot start a scanner worker: %s", strerror(errno));
	return pid;
}

/* Wait for every worker; replace one that died before the run's end. */
static int
supervise(struct ingest_env *env, uint64_t only, pid_t *pids, long n,
    volatile sig_atomic_t *stop)
{
	int  failed = 0, passed_on = 0;
	long alive = 0;

	for (long i = 0; i < n; i++)
		alive += pids[i] > 0;
	while (alive > 0) {
		int   st;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (hup_seen) {
			hup_seen = 0;
			for (long i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGHUP);
		}
		if (*stop && !passed_on) {
			for (long i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
			passed_on = 1;
		}
		if (pid <= 0) {
			nap(50);
			continue;
		}
		for (long i = 0; i < n; i++) {
			if (pids[i] != pid)
				continue;
			pids[i] = -1;
			alive--;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				break;
			failed = 1;
			if (WIFSIGNALED(st) && !*stop &&
			    time(NULL) + 1 < env->deadline) {
				log_err("scanner worker %ld died (signal %d); "
				        "starting another",
				    (long)pid, WTERMSIG(st));
				pids[i] = spawn(env, only);
				alive += pids[i] > 0;
			}
			break;
		}
	}
	return failed;
}

/*
 * How many connected mailboxes there are (only: that one), or -1.  Waits
 * while there are none, looking again every scan_interval, until the run's
 * end: a run never spins, and a mailbox connected meanwhile is served.
 */
static long
mailboxes(struct ingest_env *env, uint64_t only, volatile sig_atomic_t *stop)
{
	struct app         *app = env->app;
	struct scan_target *t = NULL;
	struct err          err;
	size_t              nt = 0;

	for (;;) {
		if (scanner_targets(app->db, only, &t, &nt, &err) == -1) {
			fprintf(stderr, "postdesk-scan: %s\n", err.msg);
			log_err("pass failed: %s",
			    err.detail[0] ? err.detail : err.msg);
			nap(app->cfg.scan_interval * 1000);
			return -1;
		}
		scanner_targets_free(t, nt);
		if (nt > 0 || *stop ||
		    time(NULL) + app->cfg.scan_interval >= env->deadline)
			return (long)nt;
		nap(app->cfg.scan_interval * 1000);
	}
}

int
scan_pool_run(struct ingest_env *env, uint64_t only,
    volatile sig_atomic_t *stop)
{
	struct app *app = env->app;
	pid_t       pids[WORKERS_MAX];
	long        n = mailboxes(env, only, stop);

	if (n <= 0)
		return n < 0;
	n = scan_pool_size(&app->cfg, n);
	hup_passes_on();
	/* the workers make their own connections */
	db_free(app->db);
	app->db = db_new(&app->cfg);
	for (long i = 0; i < n; i++)
		pids[i] = spawn(env, only);
	return supervise(env, only, pids, n, stop);
}
