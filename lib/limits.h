/*
 * limits: the numbers that more than one file must agree on — lease
 * lengths, batch sizes a query's LIMIT is bound from, page sizes.  A
 * number used in one place only stays beside its use.
 */
#ifndef POSTDESK_LIMITS_H
#define POSTDESK_LIMITS_H

/*
 * A scanner's lease on a mailbox (lib/scanner.c, renewed by lib/ingest.c
 * after every page): long enough for a page of messages with their
 * actions, short enough that a crashed scanner's mailboxes are taken up
 * again within two cron runs.
 */
#define SCAN_LEASE_SECONDS 90

/*
 * Outgoing mail read per batch by lib/outbox.c: a full batch means there
 * may be more, so it reads again (store_outbox_due() binds its LIMIT).
 */
#define OUTBOX_BATCH 50

#endif
