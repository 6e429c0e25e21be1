/*
 * prefork: the parent blocks the signals it handles and takes them with
 * sigtimedwait(), so no handler runs in it and a worker starts with the
 * signal mask and handlers the program had before prefork_run().
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapt/prefork.h"
#include "base/clock.h"
#include "base/log.h"

/* A worker that lived less than this is restarted only this much later. */
#define RESTART_DELAY_MS 1000
/* How long stopping waits for the workers before SIGKILL. */
#define STOP_WAIT_MS 10000

struct pool {
	pid_t     pid[PREFORK_MAX]; /* 0: no worker in this slot now */
	long long started[PREFORK_MAX];
	long long restart_at[PREFORK_MAX];
	unsigned  n;
	sigset_t  handled, old_mask;
};

int
prefork_parse(const char *text, unsigned *n)
{
	char         *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || text[0] == '-' ||
	    v < 1 || v > PREFORK_MAX)
		return -1;
	*n = (unsigned)v;
	return 0;
}

/* Fork the worker of slot i.  Returns 1 in the worker, else 0 or -1. */
static int
spawn(struct pool *p, unsigned i)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == -1) {
		log_err("prefork: cannot start a worker: %s", strerror(errno));
		p->restart_at[i] = clock_mono_ms() + RESTART_DELAY_MS;
		return -1;
	}
	if (pid == 0) {
		/* A worker ends with its parent (the pool is one service). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		sigprocmask(SIG_SETMASK, &p->old_mask, NULL);
		return 1;
	}
	p->pid[i] = pid;
	p->started[i] = clock_mono_ms();
	return 0;
}

/* Reap every worker that ended; note when its slot may start again. */
static void
reap(struct pool *p, int stopping)
{
	pid_t pid;
	int   st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (unsigned i = 0; i < p->n; i++) {
			if (p->pid[i] != pid)
				continue;
			p->pid[i] = 0;
			p->restart_at[i] =
			    clock_mono_ms() - p->started[i] < RESTART_DELAY_MS
			    ? clock_mono_ms() + RESTART_DELAY_MS
			    : 0;
		}
		if (stopping)
			continue;
		if (WIFSIGNALED(st))
			log_warn("prefork: worker %ld killed by signal %d",
			    (long)pid, WTERMSIG(st));
		else
			log_warn("prefork: worker %ld exited with status %d",
			    (long)pid, WEXITSTATUS(st));
	}
}

static void
signal_all(const struct pool *p, int sig)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->pid[i] > 0)
			kill(p->pid[i], sig);
}

static unsigned
alive(const struct pool *p)
{
	unsigned k = 0;

	for (unsigned i = 0; i < p->n; i++)
		k += p->pid[i] > 0;
	return k;
}

/* Run the program's own handler of sig (e.g. a log reopen) in the parent. */
static void
own_handler(int sig, siginfo_t *si)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) == -1)
		return;
	if ((sa.sa_flags & SA_SIGINFO) != 0)
		sa.sa_sigaction(sig, si, NULL);
	else if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
		sa.sa_handler(sig);
}

/* Start every empty slot whose time has come.  Returns 1 in a worker. */
static int
fill(struct pool *p)
{
	long long now = clock_mono_ms();

	for (unsigned i = 0; i < p->n; i++)
		if (p->pid[i] == 0 && p->restart_at[i] <= now &&
		    spawn(p, i) == 1)
			return 1;
	return 0;
}

/* SIGTERM to every worker, SIGKILL to those left after STOP_WAIT_MS. */
static void
stop(struct pool *p)
{
	long long       deadline = clock_mono_ms() + STOP_WAIT_MS;
	struct timespec tick = { 0, 50 * 1000 * 1000 };

	signal_all(p, SIGTERM);
	for (reap(p, 1); alive(p) > 0; reap(p, 1)) {
		if (clock_mono_ms() > deadline) {
			log_warn("prefork: %u workers did not stop; killing",
			    alive(p));
			signal_all(p, SIGKILL);
			deadline = clock_mono_ms() + STOP_WAIT_MS;
		}
		sigtimedwait(&p->handled, NULL, &tick);
	}
}

int
prefork_run(unsigned n)
{
	static struct pool p;
	struct timespec    tick = { 1, 0 };
	siginfo_t          si;
	int                sig;

	memset(&p, 0, sizeof p);
	p.n = n > PREFORK_MAX ? PREFORK_MAX : n;
	sigemptyset(&p.handled);
	sigaddset(&p.handled, SIGTERM);
	sigaddset(&p.handled, SIGINT);
	sigaddset(&p.handled, SIGHUP);
	sigaddset(&p.handled, SIGCHLD);
	sigprocmask(SIG_BLOCK, &p.handled, &p.old_mask);
	if (fill(&p) == 1)
		return 1;
	if (alive(&p) == 0) {
		sigprocmask(SIG_SETMASK, &p.old_mask, NULL);
		return -1;
	}
	log_info("prefork: %u workers", alive(&p));
	for (;;) {
		sig = sigtimedwait(&p.handled, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			signal_all(&p, SIGHUP);
			own_handler(SIGHUP, &si);
		}
		reap(&p, 0);
		if (fill(&p) == 1)
			return 1;
	}
	log_info("prefork: stopping %u workers", alive(&p));
	stop(&p);
	sigprocmask(SIG_SETMASK, &p.old_mask, NULL);
	return 0;
}
