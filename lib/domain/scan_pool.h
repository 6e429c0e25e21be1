/*
 * scan_pool: a scanner run as a small pool of worker processes that visit
 * mailboxes concurrently, each claiming the most overdue one from the
 * schedule in the database (docs/scaling.md, "Many mailboxes in one
 * scanner").
 */
#ifndef POSTDESK_SCAN_POOL_H
#define POSTDESK_SCAN_POOL_H

#include <signal.h>
#include <stdint.h>

#include "domain/ingest.h"

/* How many workers a run starts for mailboxes connected mailboxes. */
long scan_pool_size(const struct config *, long mailboxes);

/*
 * One run until env->deadline (or *stop): returns 1 if some mailbox
 * failed, 2 if the run could not start, 0 otherwise.  env->app's database
 * connection must not be in use by anyone else (workers are forked).
 */
int scan_pool_run(struct ingest_env *env, uint64_t only,
    volatile sig_atomic_t *stop);

#endif
