/*
 * metrics: GET /api/metrics, the Prometheus text format (docs/metrics.md) —
 * the scanner's totals kept on the mailbox rows, the incoming email log by
 * outcome and the outgoing queue by status (counted in SQL on each scrape),
 * and this host's API requests by route and status (lib/base/reqcount.c).
 */
#ifndef POSTDESK_METRICS_H
#define POSTDESK_METRICS_H

#include "adapt/db.h"
#include "base/buf.h"
#include "base/reqcount.h"

/*
 * Write every metric into out.  When the database does not answer, only
 * postdesk_database_up 0 and the request counters are written (a scrape
 * still shows what this host knows).  Returns 0, or -1 with err set for a
 * database error other than unavailability (logged by the caller).
 */
int metrics_write(struct db *, const struct reqcount *, struct buf *out,
    struct err *);

#endif
