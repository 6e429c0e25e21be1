/*
 * health: GET /api/health for monitoring (docs/ARCHITECTURE.md, Health):
 * "ok", "degraded" when mail needs attention, "down" when a mailbox that
 * should be scanning is not (or the database does not answer).
 */
#ifndef POSTDESK_HEALTH_H
#define POSTDESK_HEALTH_H

#include <stddef.h>

#include "base/buf.h"
#include "adapt/db.h"
#include "base/err.h"
#include "adapt/jsonx.h"
#include "store/mailbox_scan.h"

/* A mailbox that should be scanning and has not succeeded for this long
 * makes health 503. */
#define HEALTH_SCAN_MINUTES 5

/* What health counts over store_mailbox_scan_health()'s rows. */
struct health {
	struct scan_health *rows;
	size_t              n;
	long long           watched, failing, attention;
};

int         health_read(struct db *, struct health *, struct err *);
void        health_free(struct health *);
const char *health_state(const struct health *);
const char *health_reason(const struct scan_health *);
void        health_write(struct jw *, const struct health *, int detailed);
void        health_down_text(struct buf *, const struct health *, int detailed);

#endif
