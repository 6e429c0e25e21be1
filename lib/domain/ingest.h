/*
 * ingest: one pass over one mailbox's Inbox — every message becomes a
 * ticket or an update of one, exactly once, the incoming_email row first.
 */
#ifndef POSTDESK_INGEST_H
#define POSTDESK_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "adapt/app.h"
#include "adapt/http.h"
#include "domain/intake.h"
#include "domain/mailbox_graph.h"
#include "store/mailbox_scan.h"

struct ingest_stats {
	long found;
	long ticketed;
	long updated;
	long ignored;
	long errors;
	long failed;      /* intakes that failed (and were recorded) */
	long quarantined; /* of those, moved to the quarantine folder */
	long retrying;    /* failed before, not due again yet */
	long waiting;     /* messages in the Inbox at the start, -1 unknown */
	int  more;        /* the visit's budget ran out with mail waiting */
};

/* What one scanner process brings to every mailbox pass. */
struct ingest_env {
	struct app                *app;
	struct http               *http;
	const char                *owner; /* lease owner: host:pid */
	const struct intake_setup *setup; /* rules, own addresses */
	time_t deadline;  /* stop waiting on throttling by then */
	int    send_only; /* skip reading the Inbox */
	/* A visit's budget (0: drain the Inbox): once it has handled this
	 * many messages, or handled one and spent this many ms, it stops
	 * and gives the mailbox back (docs/scaling.md, fairness). */
	long visit_mails;
	long visit_ms;
};

int ingest_mailbox(const struct ingest_env *, const struct scan_target *,
    struct mbx *, struct ingest_stats *, struct err *);

#endif
