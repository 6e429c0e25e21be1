/*
 * subscription: graph_subscription (sql/0018_push.sql), a mailbox's Graph
 * change-notification subscription, and the mailbox's push_kick flag that
 * a notification raises.
 */
#ifndef POSTDESK_STORE_SUBSCRIPTION_H
#define POSTDESK_STORE_SUBSCRIPTION_H

#include <stdint.h>

#include "adapt/db.h"
#include "base/buf.h"
#include "base/err.h"

struct subscription {
	uint64_t   mailbox_id;
	char       id[65];         /* Graph's subscription id; "" none */
	char       state[12];      /* none active renew recreate failed off */
	struct buf sealed;         /* the sealed clientState */
	long long  expires_in;     /* seconds until expiry; -1 none */
	long long  renewed_ago;    /* seconds since made or renewed; -1 never */
	int        retry_due;      /* retry_at is past (or unset) */
	char       expires_at[21]; /* ISO 8601 Z, or "" */
	char       last_notification[21]; /* ISO 8601 Z, or "" */
	char       last_error[501];
	long long  notifications;
	long long  missed;
};

void store_subscription_cleanup(struct subscription *);
int  store_subscription_get(struct db *, uint64_t mailbox_id,
     struct subscription *, int                  *found, struct err *);
int  store_subscription_by_id(struct db *, const char *sub_id,
     struct subscription *, int                       *found, struct err *);
int  store_subscription_made(struct db *, uint64_t mailbox_id,
     const char *sub_id, const struct buf *sealed, const char *expires_iso,
     struct err *);
int  store_subscription_renewed(struct db *, uint64_t mailbox_id,
     const char *expires_iso, struct err *);
int  store_subscription_state(struct db *, uint64_t mailbox_id,
     const char *state, const char *error, long retry_seconds, struct err *);
int  store_subscription_forget(struct db *, uint64_t mailbox_id, struct err *);
int  store_subscription_kick(struct db *, uint64_t mailbox_id, int missed,
     struct err *);
int  store_subscription_healthy(struct db *, uint64_t mailbox_id, int *yes,
     struct err *);

#endif
