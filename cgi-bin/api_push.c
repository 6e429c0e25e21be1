/*
 * POST /api/graph/notify and /api/graph/lifecycle: Microsoft Graph's
 * change and lifecycle notifications (docs/push.md).  No session: the
 * clientState inside each item is the credential (lib/domain/push_notify.c).
 * A POST with ?validationToken= is Graph checking the URL before it makes
 * a subscription: the token is echoed, URL-decoded, as text/plain.
 * Answers: 202 when at least one item was genuine; 403 when none was (a
 * forger learns nothing from it, and Graph drops a subscription whose
 * POSTs keep failing — one we no longer know); 400 for a body without
 * items.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "base/log.h"
#include "domain/push.h"

/* Notifications carry no message content here: 1 MiB is many items. */
#define PUSH_BODY_MAX (1024 * 1024)

static int
receive(struct call *c, int lifecycle)
{
	char             *token = req_query(c->req, "validationToken");
	json_t           *body = NULL;
	struct push_tally t;
	struct err        err;
	int               rc;

	if (token != NULL) {
		resp_send(c->req, 200, "text/plain", token, strlen(token));
		free(token);
		return 0;
	}
	if ((rc = web_body_cap(c, PUSH_BODY_MAX, &body)) != 0)
		return rc;
	if (json_array_size(json_object_get(body, "value")) == 0) {
		json_decref(body);
		return web_problem(c, 400,
		    "Not a notification: send {\"value\": [...]}.", NULL);
	}
	rc = push_receive(c->app, body, lifecycle, &t, &err);
	json_decref(body);
	if (rc == -1)
		return web_error(c, &err);
	if (t.accepted == 0)
		return web_problem(c, 403,
		    "No notification in this request names a known "
		    "subscription with its clientState.",
		    NULL);
	return web_empty(c, 202);
}

/* POST /api/graph/notify */
int
api_push_notify(struct call *c)
{
	return receive(c, 0);
}

/* POST /api/graph/lifecycle */
int
api_push_lifecycle(struct call *c)
{
	return receive(c, 1);
}
