/*
 * scan_visit: one visit of the scanner to one mailbox — its lease, the
 * Inbox, the outgoing queue, the scan recorded — and the per-mailbox
 * tallies a run prints at its end.  Used by a --once pass (bin/scan.c)
 * and by every worker of a run's pool (lib/domain/scan_pool.c).
 */
#ifndef POSTDESK_SCAN_VISIT_H
#define POSTDESK_SCAN_VISIT_H

#include <stddef.h>
#include <stdint.h>

#include "domain/ingest.h"
#include "domain/sending.h"

/* What one process did to one mailbox over a run. */
struct scan_tally {
	uint64_t             id;
	struct ingest_stats  sum;
	struct sending_stats out;
	long                 ms;
	int                  failed;
	int                  seen;
};

struct scan_tallies {
	struct scan_tally *t;
	size_t             n;
};

struct scan_tally *scan_tally_of(struct scan_tallies *, uint64_t id);
int                scan_tallies_print(struct scan_tallies *);
void               scan_tallies_free(struct scan_tallies *);

/* The visit found the lease held elsewhere (0), did its work (1), failed
 * (-1); *more: the mailbox has more waiting than the visit's budget. */
int scan_visit(struct ingest_env *, const struct scan_target *, int leased,
    struct scan_tally *, int *more);

#endif
