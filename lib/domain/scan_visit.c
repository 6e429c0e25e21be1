/*
 * scan_visit: a visit takes the mailbox's lease (unless the caller's claim
 * already did), opens a Graph session, reads the Inbox within the visit's
 * budget, sends what is queued, records the scan and drops the lease with
 * the mailbox's next due time: scan_interval from now, or now when mail
 * is still waiting (docs/ingest.md, "The run, the lease and the pass").
 * A visit cut short by a stop signal records nothing against the mailbox:
 * its aborted transfers are not the mailbox's fault, and the ledger makes
 * whatever was under way safe to do again (docs/ingest.md, "Exactly once,
 * under a crash").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "domain/push.h"
#include "domain/scan_visit.h"
#include "domain/scanner.h"

struct scan_tally *
scan_tally_of(struct scan_tallies *ts, uint64_t id)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->t[i].id == id)
			return &ts->t[i];
	ts->t = xrealloc(ts->t, (ts->n + 1) * sizeof *ts->t);
	memset(&ts->t[ts->n], 0, sizeof *ts->t);
	ts->t[ts->n].id = id;
	return &ts->t[ts->n++];
}

/*
 * One line per mailbox handled on stdout, each in one write(): the
 * workers of a run share stdout, and a line under PIPE_BUF is never torn.
 * Returns 1 if some mailbox failed.
 */
int
scan_tallies_print(struct scan_tallies *ts)
{
	int failed = 0;

	for (size_t i = 0; i < ts->n; i++) {
		const struct scan_tally *t = &ts->t[i];
		char                     line[512];
		int                      n;

		if (!t->seen && !t->failed)
			continue;
		n = snprintf(line, sizeof line,
		    "mailbox %llu: found %ld, ticketed %ld, updated %ld, "
		    "ignored %ld, errors %ld, %ld ms, sent %ld, send "
		    "failed %ld, intake failed %ld, quarantined %ld\n",
		    (unsigned long long)t->id, t->sum.found, t->sum.ticketed,
		    t->sum.updated, t->sum.ignored, t->sum.errors, t->ms,
		    t->out.sent, t->out.failed, t->sum.failed,
		    t->sum.quarantined);
		if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
			log_err("summary not written");
		failed |= t->failed;
	}
	return failed;
}

void
scan_tallies_free(struct scan_tallies *ts)
{
	free(ts->t);
	ts->t = NULL;
	ts->n = 0;
}

static void
add_stats(struct scan_tally *ty, const struct ingest_stats *s,
    const struct sending_stats *o)
{
	ty->sum.found += s->found;
	ty->sum.ticketed += s->ticketed;
	ty->sum.updated += s->updated;
	ty->sum.ignored += s->ignored;
	ty->sum.errors += s->errors;
	ty->sum.failed += s->failed;
	ty->sum.quarantined += s->quarantined;
	ty->out.sent += o->sent;
	ty->out.failed += o->failed;
}

/* A failure, unless it is only the stop signal's aborted transfer. */
static int
failed(struct app *app, uint64_t id, const struct mbx *m, const struct err *e,
    struct ingest_stats *s)
{
	if (http_aborted())
		return -1;
	s->errors++;
	scanner_failed(app, id, m, e);
	return -1;
}

/* Read the Inbox and send the queue in session m; 1 ok, -1 failed. */
static int
visit_open(struct ingest_env *env, const struct scan_target *t, struct mbx *m,
    struct ingest_stats *s, struct sending_stats *o)
{
	struct err err, e2;
	int        rc = 1;

	err.code = E_INTERNAL;
	if (!env->send_only && ingest_mailbox(env, t, m, s, &err) == -1)
		rc = failed(env->app, t->id, m, &err, s);
	/* push keeps its subscription in step (lib/domain/push.c) */
	if (rc == 1 && !env->send_only && !http_aborted())
		push_visit(m, t);
	/* sending never waits on reading: only a refused token (the queue is
	 * held then) keeps the queued mail in; with nothing queued when the
	 * target was read and no mail taken in (an acknowledgement), there is
	 * nothing to send */
	if ((rc == 1 || err.code != E_AUTH) && !http_aborted() &&
	    (t->has_outgoing || s->found > 0) &&
	    sending_run(m, t->address, t->name, o, &e2) == -1)
		rc = failed(env->app, t->id, m, &e2, s);
	return rc;
}

int
scan_visit(struct ingest_env *env, const struct scan_target *t, int leased,
    struct scan_tally *ty, int *more)
{
	struct app          *app = env->app;
	struct ingest_stats  s = { .waiting = -1 };
	struct sending_stats o = { 0 };
	struct scan_figures  f;
	struct mbx           m;
	struct err           err;
	long long            t0 = clock_mono_ms();
	int                  won = 1, rc;

	*more = 0;
	if (!leased &&
	    scanner_lease_take(app->db, t->id, env->owner, &won, &err) == -1) {
		log_err("mailbox %llu: %s", (unsigned long long)t->id,
		    err.detail[0] ? err.detail : err.msg);
		ty->failed = 1;
		return -1;
	}
	if (!won)
		return 0;
	if (mailbox_graph_open(&m, app, env->http, t->id, t->cloud,
	        t->shared_address, env->deadline, &err) == -1)
		rc = failed(app, t->id, &m, &err, &s);
	else
		rc = visit_open(env, t, &m, &s, &o);
	*more = s.more;
	f = (struct scan_figures){ .ok = rc == 1,
		.waiting = s.waiting,
		.ms = clock_mono_ms() - t0,
		.graph_requests = m.requests,
		.graph_throttled = m.throttled,
		.graph_retries = m.retries };
	/* stopped: due again at once, for the next run or another host */
	scanner_finish(app->db, t->id, env->owner,
	    http_aborted() && rc == -1 ? NULL : &f,
	    *more || http_aborted() ? 0 : push_poll_seconds(app, t->id));
	mailbox_graph_close(&m);
	ty->failed |= rc == -1 && !http_aborted();
	ty->seen = 1;
	ty->ms += (long)(clock_mono_ms() - t0);
	add_stats(ty, &s, &o);
	return rc;
}
