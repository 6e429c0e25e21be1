/*
 * push_notify: what Graph POSTs to /api/graph/notify and
 * /api/graph/lifecycle (cgi-bin/api_push.c; docs/push.md).  Each item
 * names its subscription and carries the clientState we gave Graph: an
 * item whose subscription is unknown or whose clientState differs
 * (compared in constant time) is refused and logged without the secret.
 * A genuine one only marks the mailbox due at once — two short statements,
 * so the answer leaves well within Graph's 3 s; the scanner does the rest.
 * A replayed genuine item makes one more visit, which finds nothing new:
 * the incoming log takes each message exactly once (docs/ingest.md).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/cred.h"
#include "adapt/seal.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "domain/push.h"
#include "store/subscription.h"

/* Items read from one POST; Graph sends far fewer. */
#define ITEMS_MAX 1000

/* A subscription id fit for the log: Graph's are GUIDs. */
static const char *
loggable(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > 64)
		return "(malformed)";
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-')
			return "(malformed)";
	return id;
}

/* Equal secrets, in time independent of where they differ. */
static int
same_secret(const char *a, const char *b)
{
	unsigned char ha[CRED_HASH_BYTES], hb[CRED_HASH_BYTES];
	char          xa[2 * CRED_HASH_BYTES + 1], xb[2 * CRED_HASH_BYTES + 1];

	cred_hash(a, ha);
	cred_hash(b, hb);
	cred_hex(ha, sizeof ha, xa);
	cred_hex(hb, sizeof hb, xb);
	return cred_equal(xa, xb);
}

/* The subscription of a genuine item in *s, else 0 (and logged). */
static int
genuine(struct app *app, json_t *item, struct subscription *s)
{
	const char *id =
	    json_string_value(json_object_get(item, "subscriptionId"));
	const char *cs =
	    json_string_value(json_object_get(item, "clientState"));
	struct err err;
	char      *plain;
	int        found = 0, ok;

	if (id == NULL || strlen(id) > 64 ||
	    store_subscription_by_id(app->db, id, s, &found, &err) == -1 ||
	    !found) {
		log_warn("push: refused a notification for unknown "
		         "subscription %s",
		    loggable(id));
		return 0;
	}
	plain = unseal(&app->key, s->sealed.data, s->sealed.len, &err);
	ok = plain != NULL && cs != NULL && same_secret(plain, cs);
	xfree_secret(plain);
	if (!ok)
		log_warn("push: refused a notification for subscription %s "
		         "(mailbox %llu): wrong clientState",
		    loggable(id), (unsigned long long)s->mailbox_id);
	return ok;
}

/* A lifecycle event for mailbox s (docs/push.md, "The notification routes"). */
static int
lifecycle_event(struct app *app, const struct subscription *s, const char *ev,
    struct err *err)
{
	const char *state = NULL;

	if (ev != NULL && strcmp(ev, "reauthorizationRequired") == 0)
		state = "renew";
	else if (ev != NULL && strcmp(ev, "subscriptionRemoved") == 0)
		state = "recreate";
	else if (ev == NULL || strcmp(ev, "missed") != 0) {
		log_warn("push: mailbox %llu: unknown lifecycle event",
		    (unsigned long long)s->mailbox_id);
		return 0;
	}
	log_info("push: mailbox %llu: lifecycle event %s",
	    (unsigned long long)s->mailbox_id, ev);
	if (state != NULL &&
	    store_subscription_state(app->db, s->mailbox_id, state, NULL, 0,
	        err) == -1)
		return -1;
	return store_subscription_kick(app->db, s->mailbox_id, state == NULL,
	    err);
}

int
push_receive(struct app *app, json_t *body, int lifecycle, struct push_tally *t,
    struct err *err)
{
	json_t *value = json_object_get(body, "value");
	size_t  n = json_array_size(value);

	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < n && i < ITEMS_MAX; i++) {
		json_t             *item = json_array_get(value, i);
		struct subscription s = { 0 };
		int                 rc = 0;

		if (!json_is_object(item) || !genuine(app, item, &s)) {
			t->refused++;
			store_subscription_cleanup(&s);
			continue;
		}
		if (lifecycle)
			rc = lifecycle_event(app, &s,
			    json_string_value(
			        json_object_get(item, "lifecycleEvent")),
			    err);
		else
			rc = store_subscription_kick(app->db, s.mailbox_id, 0,
			    err);
		store_subscription_cleanup(&s);
		if (rc == -1)
			return -1;
		t->accepted++;
	}
	return 0;
}
