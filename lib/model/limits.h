/*
 * limits: the numbers that more than one file must agree on —
 * lease lengths, batch sizes a query's LIMIT is bound from, page sizes.
 * A number used in one place only stays beside its use.  Not "limits.h":
 * lib/ is on the include path, where that name would hide <limits.h>.
 */
#ifndef POSTDESK_LIMITS_H
#define POSTDESK_LIMITS_H

/*
 * A scanner's lease on a mailbox (lib/domain/scanner.c, renewed by
 * lib/domain/ingest.c after every page): long enough for a page of messages
 * with their actions, short enough that a crashed scanner's mailboxes are taken
 * up again within two cron runs.
 */
#define SCAN_LEASE_SECONDS 90

/*
 * What an answer from Graph may carry unless a call asks for more
 * (lib/adapt/http.c): a page of 50 messages with text bodies fits.
 */
#define HTTP_BODY_CAP (4u << 20)

/* Messages listed per Graph page ($top) in an ingest pass. */
#define INGEST_PAGE_SIZE 50
/* Requests in one Graph $batch: Graph takes at most 20. */
#define GRAPH_BATCH_MAX 20

/*
 * Outgoing mail read per batch by lib/domain/sending.c: a full batch means
 * there may be more, so it reads again (store_outgoing_due() binds its LIMIT).
 */
#define SENDING_BATCH 50

#endif
