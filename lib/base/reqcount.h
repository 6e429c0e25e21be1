/*
 * reqcount: request counters that every worker process of one host shares —
 * a fixed table in a file mapped into each of them (the configuration key
 * metrics_file), one slot per route ("GET /api/tickets/{id}") with one
 * counter per HTTP status, added to with atomic operations.  A scrape of
 * any worker reads what all of them counted (docs/metrics.md).
 */
#ifndef POSTDESK_REQCOUNT_H
#define POSTDESK_REQCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define REQCOUNT_SLOTS      128
#define REQCOUNT_KEY        96  /* "METHOD PATTERN" and its NUL */
#define REQCOUNT_STATUS_MIN 100 /* statuses 100..599 */
#define REQCOUNT_STATUSES   500

struct reqcount;
struct reqcount_slot;

struct reqcount *reqcount_open(const char *path, struct err *);
void             reqcount_close(struct reqcount *);
/* The slot of key, claimed when new; NULL when the table is full. */
struct reqcount_slot *reqcount_slot(struct reqcount *, const char *key);
void                  reqcount_add(struct reqcount_slot *, int status);
/* Call fn for every counter that is not zero. */
void reqcount_each(const struct reqcount *,
    void (*fn)(void *ctx, const char *key, int status, uint64_t n), void *ctx);

#endif
