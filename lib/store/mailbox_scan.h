/*
 * mailbox_scan: what the scanner reads and writes about mailboxes — which
 * are due, the lease that gives one scanner a mailbox, scan health.
 */
#ifndef POSTDESK_STORE_SCAN_H
#define POSTDESK_STORE_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/db.h"
#include "base/err.h"
#include "model/mailbox_types.h"

struct scan_target {
	uint64_t              id;
	char                  name[401];    /* shown as the sender's name */
	char                  address[321]; /* the mailbox's own address */
	char                  shared_address[255];
	char                  cloud[16];
	enum processed_action processed_action;
	char                  processed_folder[1021];
	char  floor[21]; /* receivedDateTime floor, "" for none */
	int   ack_enabled;
	long  ack_per_hour;
	char  ack_subject[1021];
	char *ack_body; /* NULL: the default text */
	char  quarantine_folder[1021];
	char  read_floor[21];     /* mark as read: listed from here on */
	int   automatic_log_only; /* automatic mail: only its log row */
	/* work beyond the listing when the target was read: a visit skips
	 * the queries of what is 0 (docs/scaling.md, "An idle visit") */
	int has_outgoing;   /* outgoing mail held, queued or sending */
	int has_retries;    /* quarantined mail an admin asked to retry */
	int has_unfinished; /* incoming_email rows not yet done */
};

/*
 * What one scan of a mailbox did, recorded when it ends
 * (store_mailbox_scan_finish()): the counters are added to the mailbox's
 * totals (sql/0012_metrics.sql).
 */
struct scan_figures {
	int       ok;
	long long waiting; /* messages left in the Inbox; -1 unknown */
	long long ms;      /* how long the scan took */
	long long graph_requests;
	long long graph_throttled; /* answers 429, $batch parts included */
	long long graph_retries;
};

/* One mailbox as GET /api/health sees it (store_mailbox_scan_health()). */
struct scan_health {
	uint64_t id;
	char     name[401];
	char     status[16];
	int      watched;  /* should be scanning: not a mailbox never
	                      connected or disconnected on purpose */
	int       stale;   /* no success for the minutes asked about */
	long long minutes; /* since the last success, -1 never */
	char      last_error[1001];
	long long attention; /* mails failed or quarantined */
};

/* A mailbox's scan totals and health, for GET /api/metrics. */
struct scan_totals {
	uint64_t  id;
	char      name[401];
	char      status[16];
	int       watched;       /* as in struct scan_health */
	long long since_success; /* seconds (or since connected), -1 never */
	long long scans_ok, scans_failed, scan_ms;
	long long graph_requests, graph_throttled, graph_retries;
	long long attention;
	long long waiting; /* -1 unknown */
};

int  store_mailbox_scan_targets(struct db *, uint64_t only,
     struct scan_target **, size_t *, struct err *);
void store_mailbox_scan_targets_free(struct scan_target *, size_t);
int  store_mailbox_scan_own_addresses(struct db *, char ***addrs, size_t *n,
     struct err *);
int  store_mailbox_scan_lease(struct db *, uint64_t id, const char *owner,
     int seconds, int *won, struct err *);
int store_mailbox_scan_owner(struct db *, uint64_t id, char *owner, size_t size,
    struct err *);
int store_mailbox_scan_steal(struct db *, uint64_t id, const char *dead,
    const char *owner, int seconds, int *won, struct err *);
int store_mailbox_scan_drop(struct db *, uint64_t id, const char *owner,
    long due_in, struct err *);
int store_mailbox_scan_finish(struct db *, uint64_t id, const char *owner,
    const struct scan_figures *, long due_in, struct err *);
int store_mailbox_scan_claim(struct db *, const char *owner, int seconds,
    uint64_t only, uint64_t *id, struct err *);
int store_mailbox_scan_leases(struct db *, uint64_t **ids, char ***owners,
    size_t *n, struct err *);
int store_mailbox_scan_free(struct db *, uint64_t id, const char *dead,
    int *freed, struct err *);
int store_mailbox_scan_health(struct db *, long minutes, struct scan_health **,
    size_t *n, struct err *);
int store_mailbox_scan_read_floor(struct db *, uint64_t id, const char *newest,
    struct err *);
int store_mailbox_scan_read_floor_lower(struct db *, uint64_t id,
    const char *floor, struct err *);
int store_mailbox_scan_totals(struct db *, struct scan_totals **, size_t *n,
    struct err *);

#endif
