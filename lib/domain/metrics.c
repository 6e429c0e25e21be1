/*
 * metrics: three statements per scrape — the mailbox rows and two counts
 * that read only an index each (lib/store/incoming.c, lib/store/outgoing.c)
 * — and no statement at all for the request counters.  Every mailbox gets a
 * sample of every outcome and status, zeros included, so a series exists
 * before its first increase (rate() needs two samples).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/promtext.h"
#include "domain/metrics.h"
#include "model/mail_states.h"
#include "store/incoming.h"
#include "store/mailbox_scan.h"
#include "store/outgoing.h"
#include "store/store.h"
#include "base/xmalloc.h"

struct figures {
	struct scan_totals *mbx;
	size_t              nmbx;
	struct mail_count  *in, *out;
	size_t              nin, nout;
};

static void
figures_free(struct figures *f)
{
	free(f->mbx);
	free(f->in);
	free(f->out);
}

static int
figures_read(struct db *db, struct figures *f, struct err *err)
{
	memset(f, 0, sizeof *f);
	if (db_ping(db, err) == -1 ||
	    store_mailbox_scan_totals(db, &f->mbx, &f->nmbx, err) == -1 ||
	    store_incoming_counts(db, &f->in, &f->nin, err) == -1 ||
	    store_outgoing_counts(db, &f->out, &f->nout, err) == -1)
		return -1;
	return 0;
}

/* The index of mailbox id in f->mbx (ordered by id), or -1. */
static long
mailbox_index(const struct figures *f, uint64_t id)
{
	size_t lo = 0, hi = f->nmbx;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->mbx[mid].id == id)
			return (long)mid;
		if (f->mbx[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The mailbox labels of id: its name, "" for a mailbox deleted since. */
static void
mailbox_labels(const struct figures *f, uint64_t id, char idtext[24],
    struct prom_label l[2])
{
	long i = mailbox_index(f, id);

	snprintf(idtext, 24, "%llu", (unsigned long long)id);
	l[0] = (struct prom_label){ "mailbox_id", idtext };
	l[1] = (struct prom_label){ "mailbox", i >= 0 ? f->mbx[i].name : "" };
}

/* The long long member at off of a mailbox's totals. */
static long long
member(const struct scan_totals *t, size_t off)
{
	return *(const long long *)(const void *)((const char *)t + off);
}

static void
write_counter(struct buf *b, const struct figures *f, const char *name,
    const char *type, const char *help, size_t off)
{
	prom_head(b, name, type, help);
	for (size_t i = 0; i < f->nmbx; i++) {
		struct prom_label l[2];
		char              id[24];

		mailbox_labels(f, f->mbx[i].id, id, l);
		prom_u64(b, name, l, 2,
		    (unsigned long long)member(&f->mbx[i], off));
	}
}

static void
write_scans(struct buf *b, const struct figures *f)
{
	prom_head(b, "postdesk_scans_total", "counter",
	    "Scans of a mailbox by the scanners (any host), by result.");
	for (size_t i = 0; i < f->nmbx; i++) {
		const struct scan_totals *t = &f->mbx[i];
		struct prom_label         l[3];
		char                      id[24];

		mailbox_labels(f, t->id, id, l);
		l[2] = (struct prom_label){ "result", "ok" };
		prom_u64(b, "postdesk_scans_total", l, 3,
		    (unsigned long long)t->scans_ok);
		l[2].value = "failed";
		prom_u64(b, "postdesk_scans_total", l, 3,
		    (unsigned long long)t->scans_failed);
	}
	prom_head(b, "postdesk_scan_duration_seconds", "summary",
	    "Time the scans of a mailbox took: sum and count.");
	for (size_t i = 0; i < f->nmbx; i++) {
		const struct scan_totals *t = &f->mbx[i];
		struct prom_label         l[2];
		char                      id[24];

		mailbox_labels(f, t->id, id, l);
		prom_f64(b, "postdesk_scan_duration_seconds_sum", l, 2,
		    (double)t->scan_ms / 1000.0);
		prom_u64(b, "postdesk_scan_duration_seconds_count", l, 2,
		    (unsigned long long)(t->scans_ok + t->scans_failed));
	}
}

static void
write_graph(struct buf *b, const struct figures *f)
{
	write_counter(b, f, "postdesk_graph_requests_total", "counter",
	    "Requests the scanners sent to Microsoft Graph for a mailbox.",
	    offsetof(struct scan_totals, graph_requests));
	write_counter(b, f, "postdesk_graph_throttled_total", "counter",
	    "Graph answers 429 Too Many Requests (parts of a $batch "
	    "included).",
	    offsetof(struct scan_totals, graph_throttled));
	write_counter(b, f, "postdesk_graph_retries_total", "counter",
	    "Graph requests sent again after 429, 503/504 or a refreshed "
	    "token.",
	    offsetof(struct scan_totals, graph_retries));
}

static void
write_health(struct buf *b, const struct figures *f)
{
	prom_head(b, "postdesk_mailbox_seconds_since_success", "gauge",
	    "Seconds since the mailbox's last successful scan (since it "
	    "was connected, before the first); only mailboxes that should "
	    "be scanning.");
	for (size_t i = 0; i < f->nmbx; i++) {
		struct prom_label l[2];
		char              id[24];

		if (!f->mbx[i].watched || f->mbx[i].since_success < 0)
			continue;
		mailbox_labels(f, f->mbx[i].id, id, l);
		prom_u64(b, "postdesk_mailbox_seconds_since_success", l, 2,
		    (unsigned long long)f->mbx[i].since_success);
	}
	prom_head(b, "postdesk_mailbox_messages_waiting", "gauge",
	    "Messages the last successful scan left in the Inbox.");
	for (size_t i = 0; i < f->nmbx; i++) {
		struct prom_label l[2];
		char              id[24];

		if (f->mbx[i].waiting < 0)
			continue;
		mailbox_labels(f, f->mbx[i].id, id, l);
		prom_u64(b, "postdesk_mailbox_messages_waiting", l, 2,
		    (unsigned long long)f->mbx[i].waiting);
	}
	write_counter(b, f, "postdesk_mailbox_attention_emails", "gauge",
	    "Failed or quarantined mails of the mailbox waiting for an "
	    "admin.",
	    offsetof(struct scan_totals, attention));
	prom_head(b, "postdesk_mailbox_status", "gauge",
	    "1 for the mailbox's connection status.");
	for (size_t i = 0; i < f->nmbx; i++) {
		struct prom_label l[3];
		char              id[24];

		mailbox_labels(f, f->mbx[i].id, id, l);
		l[2] = (struct prom_label){ "status", f->mbx[i].status };
		prom_u64(b, "postdesk_mailbox_status", l, 3, 1);
	}
}

/* One family of counts by mailbox and an enum: every value of every
 * mailbox (zeros too), then the groups of mailboxes deleted since. */
static void
write_counts(struct buf *b, const struct figures *f, const char *name,
    const char *help, const char *label, const struct mail_count *c, size_t nc,
    int nvalues, const char *(*value_name)(int))
{
	long long        *m = xcalloc(f->nmbx * (size_t)nvalues + 1, sizeof *m);
	struct prom_label l[3];
	char              id[24];

	prom_head(b, name, "gauge", help);
	for (size_t k = 0; k < nc; k++) {
		long i = mailbox_index(f, c[k].mailbox_id);

		if (i >= 0)
			m[(size_t)i * (size_t)nvalues + (size_t)c[k].value] =
			    c[k].n;
	}
	for (size_t i = 0; i < f->nmbx; i++) {
		mailbox_labels(f, f->mbx[i].id, id, l);
		for (int v = 0; v < nvalues; v++) {
			l[2] = (struct prom_label){ label, value_name(v) };
			prom_u64(b, name, l, 3,
			    (unsigned long long)
			        m[i * (size_t)nvalues + (size_t)v]);
		}
	}
	for (size_t k = 0; k < nc; k++) {
		if (mailbox_index(f, c[k].mailbox_id) >= 0)
			continue;
		mailbox_labels(f, c[k].mailbox_id, id, l);
		l[2] = (struct prom_label){ label, value_name(c[k].value) };
		prom_u64(b, name, l, 3, (unsigned long long)c[k].n);
	}
	free(m);
}

static const char *
outcome_name(int v)
{
	return incoming_outcome_name((enum incoming_outcome)v);
}

static const char *
status_name(int v)
{
	return outgoing_status_name((enum outgoing_status)v);
}

static void
write_mail(struct buf *b, const struct figures *f)
{
	write_counts(b, f, "postdesk_incoming_emails",
	    "Mails in the incoming email log, by mailbox and outcome (one "
	    "per attempt).",
	    "outcome", f->in, f->nin, OUTCOME_COUNT, outcome_name);
	write_counts(b, f, "postdesk_outgoing_emails",
	    "Mails in the outgoing queue, by mailbox and status.", "status",
	    f->out, f->nout, OUTGOING_STATUS_COUNT, status_name);
}

/* One request counter: key "METHOD PATTERN" (lib/web/web.c). */
static void
write_request(void *ctx, const char *key, int status, uint64_t n)
{
	struct buf       *b = ctx;
	const char       *sp = strchr(key, ' ');
	char              method[16], st[8];
	struct prom_label l[3] = { { "method", method },
		{ "route", sp ? sp + 1 : key }, { "status", st } };

	snprintf(method, sizeof method, "%.*s", sp ? (int)(sp - key) : 0, key);
	snprintf(st, sizeof st, "%d", status);
	prom_u64(b, "postdesk_api_requests_total", l, 3, (unsigned long long)n);
}

int
metrics_write(struct db *db, const struct reqcount *rc, struct buf *out,
    struct err *err)
{
	struct figures f;
	int            up = figures_read(db, &f, err) == 0;

	prom_head(out, "postdesk_database_up", "gauge",
	    "1 when the database answered this scrape.");
	prom_u64(out, "postdesk_database_up", NULL, 0, (unsigned long long)up);
	if (up) {
		write_scans(out, &f);
		write_graph(out, &f);
		write_health(out, &f);
		write_mail(out, &f);
	}
	prom_head(out, "postdesk_api_requests_total", "counter",
	    "Requests the FastCGI workers of this host answered, by route "
	    "and status.");
	reqcount_each(rc, write_request, out);
	figures_free(&f);
	return up || err->code == E_UNAVAILABLE ? 0 : -1;
}
