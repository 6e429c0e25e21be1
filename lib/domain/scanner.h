/*
 * scanner: what a scanner run does to a mailbox besides reading it —
 * which mailboxes are due, the lease that gives one scanner a mailbox
 * (taken over from a scanner on this host that died), and what a pass
 * leaves on the mailbox row (scan health, the error shown with guidance).
 */
#ifndef POSTDESK_SCANNER_H
#define POSTDESK_SCANNER_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/app.h"
#include "base/err.h"
#include "domain/mailbox_graph.h"
#include "store/mailbox_scan.h"

/* Room for a lease owner, "host:pid" (mailbox.lease_owner). */
#define SCANNER_OWNER_MAX 100

void scanner_owner(const char *host_id, char *owner, size_t size);
void scanner_set_lease(long seconds);
int scanner_targets(struct db *, uint64_t only, struct scan_target **, size_t *,
    struct err *);
void scanner_targets_free(struct scan_target *, size_t);
int  scanner_lease_take(struct db *, uint64_t id, const char *owner, int *won,
     struct err *);
int  scanner_lease_renew(struct db *, uint64_t id, const char *owner,
     struct err *);
void scanner_finish(struct db *, uint64_t id, const char *owner,
    const struct scan_figures *, long due_in);
int  scanner_claim(struct db *, const char *owner, uint64_t only, uint64_t *id,
     struct err *);
int  scanner_free_dead(struct db *, const char *owner, struct err *);
void scanner_failed(struct app *, uint64_t id, const struct mbx *,
    const struct err *);

#endif
