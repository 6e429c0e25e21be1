/*
 * push: the scanner's side of Graph change notifications (docs/push.md).
 * Each visit of a licensed mailbox makes sure it has a subscription on
 * its Inbox's new messages: made on the first visit after connecting
 * (Graph validates the notification URLs before it answers, so the
 * scanner, not the sign-in request, waits for that), renewed once a day
 * for six days ahead, made again when Graph removed it, renewed at once
 * when Graph asked to reauthorize.  Polling stays the floor: a mailbox
 * whose subscription is not healthy is polled every scan_interval.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapt/cred.h"
#include "adapt/seal.h"
#include "base/log.h"
#include "domain/push.h"
#include "store/subscription.h"

/* The notification URLs under portal_url (cgi-bin/api_push.c). */
#define NOTIFY_PATH    "/api/graph/notify"
#define LIFECYCLE_PATH "/api/graph/lifecycle"

/* Not reachable from Microsoft's cloud: loopback, private, link-local. */
static int
private_host(const char *h)
{
	unsigned a = 0, b = 0;
	size_t   n = strcspn(h, ":/");

	if (h[0] == '[') /* IPv6 literal: only global ones count */
		return strncmp(h, "[::1]", 5) == 0 || tolower(h[1]) == 'f';
	if (n == 9 && strncmp(h, "localhost", 9) == 0)
		return 1;
	if ((n > 10 && strncmp(h + n - 10, ".localhost", 10) == 0) ||
	    (n > 6 && strncmp(h + n - 6, ".local", 6) == 0) ||
	    memchr(h, '.', n) == NULL)
		return 1;
	if (sscanf(h, "%u.%u.", &a, &b) == 2 && isdigit((unsigned char)h[0]))
		return a == 127 || a == 10 || a == 0 ||
		    (a == 172 && b >= 16 && b < 32) || (a == 192 && b == 168) ||
		    (a == 169 && b == 254);
	return 0;
}

/* Why a mailbox cannot have push (shown on its page), or NULL.  A
 * configuration without the keys (a test's) counts as the defaults. */
const char *
push_unavailable(const struct config *c, const char *shared)
{
	const char *mode = c->push != NULL ? c->push : "auto";
	const char *url = c->portal_url != NULL ? c->portal_url : "";

	if (strcmp(mode, "off") == 0)
		return "Push is off (configuration key push).";
	if (shared != NULL && shared[0] != '\0')
		return "Shared mailbox: Microsoft Graph does not send change "
		       "notifications for mailboxes opened with delegated "
		       "permissions, so it is polled.";
	if (strncmp(url, "https://", 8) != 0)
		return "portal_url is not HTTPS: Microsoft sends notifications "
		       "only to HTTPS.";
	if (strcmp(mode, "auto") == 0 && private_host(url + 8))
		return "portal_url is not a public address Microsoft can "
		       "reach.";
	return NULL;
}

static void
iso_in(long seconds, char out[40])
{
	time_t    t = time(NULL) + seconds;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S.0000000Z", &tm);
}

static void
sub_url(const struct mbx *m, const char *id, struct buf *u)
{
	buf_printf(u, "%s/v1.0/subscriptions", m->graph);
	if (id != NULL)
		buf_printf(u, "/%s", id);
}

/* Graph's failure as one line for last_error (never a secret in it),
 * cut to fit the column. */
static void
say(struct buf *out, const char *what, const struct graph_error *ge,
    const struct err *err)
{
	if (ge->status > 0)
		buf_printf(out, "%s: Graph answered %ld %s: %s", what,
		    ge->status, ge->code, ge->message);
	else
		buf_printf(out, "%s: %s", what, err->msg);
	if (out->len > 490) {
		out->len = 490;
		out->data[out->len] = '\0';
	}
}

static void
make(struct mbx *m)
{
	struct app        *app = m->app;
	struct graph_error ge = { 0 };
	struct graph_call  gc = { 0 };
	struct buf  url = { 0 }, sealed = { 0 }, nurl = { 0 }, lurl = { 0 };
	struct err  err = { 0 };
	struct buf  why = { 0 };
	char        state[64], exp[40];
	json_t     *req, *o;
	char       *body;
	const char *id, *until;

	cred_random_text(state, sizeof state, 32);
	iso_in(PUSH_LIFETIME_S, exp);
	buf_printf(&nurl, "%s" NOTIFY_PATH, app->cfg.portal_url);
	buf_printf(&lurl, "%s" LIFECYCLE_PATH, app->cfg.portal_url);
	req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "changeType",
	    "created", "notificationUrl", nurl.data, "lifecycleNotificationUrl",
	    lurl.data, "resource", "me/mailFolders('inbox')/messages",
	    "expirationDateTime", exp, "clientState", state);
	body = json_dumps(req, JSON_COMPACT);
	sub_url(m, NULL, &url);
	gc = (struct graph_call){ .method = "POST",
		.url = url.data,
		.body = body,
		.max_body = 64 * 1024 };
	o = mailbox_graph_call_json(m, &gc, 0, &ge, &err);
	id = json_string_value(json_object_get(o, "id"));
	until = json_string_value(json_object_get(o, "expirationDateTime"));
	if (id != NULL && until != NULL && strlen(id) < 65) {
		seal(&app->key, state, &sealed);
		if (store_subscription_made(app->db, m->id, id, &sealed, until,
		        &err) == 0)
			log_info("mailbox %llu: push subscription %s until %s",
			    (unsigned long long)m->id, id, until);
		else
			log_err("mailbox %llu: subscription %s not stored: %s",
			    (unsigned long long)m->id, id, err.detail);
	} else {
		if (o != NULL)
			buf_puts(&why, "Graph's answer had no id");
		else
			say(&why, "subscription not made", &ge, &err);
		log_warn("mailbox %llu: %s", (unsigned long long)m->id,
		    why.data);
		store_subscription_state(app->db, m->id, "failed", why.data,
		    PUSH_RETRY_S, &err);
		buf_cleanup(&why);
	}
	explicit_bzero(state, sizeof state);
	json_decref(o);
	json_decref(req);
	free(body);
	buf_cleanup(&url);
	buf_cleanup(&nurl);
	buf_cleanup(&lurl);
	buf_cleanup(&sealed);
}

/* PATCH the expiry; 0 renewed, 1 gone at Graph, -1 failed otherwise. */
static int
renew(struct mbx *m, const struct subscription *s)
{
	struct graph_error ge = { 0 };
	struct graph_call  gc;
	struct buf         url = { 0 };
	struct err         err = { 0 };
	struct buf         why = { 0 };
	char               exp[40], body[80];
	json_t            *o;
	const char        *until;
	int                rc = -1;

	iso_in(PUSH_LIFETIME_S, exp);
	snprintf(body, sizeof body, "{\"expirationDateTime\":\"%s\"}", exp);
	sub_url(m, s->id, &url);
	gc = (struct graph_call){ .method = "PATCH",
		.url = url.data,
		.body = body,
		.max_body = 64 * 1024 };
	o = mailbox_graph_call_json(m, &gc, 1, &ge, &err);
	until = json_string_value(json_object_get(o, "expirationDateTime"));
	if (until != NULL &&
	    store_subscription_renewed(m->app->db, m->id, until, &err) == 0) {
		log_info("mailbox %llu: push subscription %s renewed until %s",
		    (unsigned long long)m->id, s->id, until);
		rc = 0;
	} else if (ge.status == 404) {
		rc = 1;
	} else {
		say(&why, "subscription not renewed", &ge, &err);
		log_warn("mailbox %llu: %s", (unsigned long long)m->id,
		    why.data);
		store_subscription_state(m->app->db, m->id, "failed", why.data,
		    PUSH_RETRY_S, &err);
		buf_cleanup(&why);
	}
	json_decref(o);
	buf_cleanup(&url);
	return rc;
}

/* DELETE at Graph; a failure only logs (it expires within six days). */
static void
drop(struct mbx *m, const char *id)
{
	struct graph_error ge = { 0 };
	struct graph_call  gc;
	struct http_resp   resp = { 0 };
	struct buf         url = { 0 };
	struct err         err = { 0 };

	sub_url(m, id, &url);
	gc = (struct graph_call){ .method = "DELETE",
		.url = url.data,
		.max_body = 64 * 1024 };
	if (mailbox_graph_call(m, &gc, 1, &resp, &ge, &err) == -1 &&
	    ge.status != 404)
		log_warn("mailbox %llu: subscription %s not deleted (%ld %s)",
		    (unsigned long long)m->id, id, ge.status, ge.code);
	http_resp_cleanup(&resp);
	buf_cleanup(&url);
}

void
push_visit(struct mbx *m, const struct scan_target *t)
{
	struct subscription s;
	struct err          err;
	const char *why = push_unavailable(&m->app->cfg, t->shared_address);
	int         found;

	if (store_subscription_get(m->app->db, t->id, &s, &found, &err) == -1) {
		log_err("mailbox %llu: %s", (unsigned long long)t->id,
		    err.detail);
		return;
	}
	if (why != NULL) {
		if (found && s.id[0] != '\0')
			drop(m, s.id);
		if (!found || strcmp(s.state, "off") != 0)
			store_subscription_state(m->app->db, t->id, "off", why,
			    0, &err);
	} else if (found && strcmp(s.state, "active") == 0 &&
	    s.expires_in > 0 && s.renewed_ago >= 0 &&
	    s.renewed_ago < PUSH_RENEW_AFTER_S) {
		; /* healthy */
	} else if (found && s.id[0] != '\0' && s.expires_in > 60 &&
	    (strcmp(s.state, "active") == 0 || strcmp(s.state, "renew") == 0)) {
		if (renew(m, &s) == 1)
			make(m);
	} else if (!found || strcmp(s.state, "failed") != 0 || s.retry_due) {
		make(m);
	}
	store_subscription_cleanup(&s);
}

/* scan_interval, or push_poll_interval while push is healthy. */
long
push_poll_seconds(struct app *app, uint64_t mailbox_id)
{
	struct err err;
	int        yes = 0;

	if (strcmp(app->cfg.push, "off") != 0 &&
	    store_subscription_healthy(app->db, mailbox_id, &yes, &err) == -1)
		log_err("mailbox %llu: %s", (unsigned long long)mailbox_id,
		    err.detail);
	return yes ? app->cfg.push_poll_interval : app->cfg.scan_interval;
}

/* On disconnect, while the tokens are still there: delete the
 * subscription at Graph (best effort, within the request's budget) and
 * forget it here, so a late notification for it is refused as unknown. */
void
push_disconnect(struct app *app, uint64_t mailbox_id, const char *cloud,
    const char *shared)
{
	struct subscription s;
	struct mbx          m;
	struct http        *h;
	struct err          err;
	int                 found = 0;

	if (store_subscription_get(app->db, mailbox_id, &s, &found, &err) ==
	        -1 ||
	    !found)
		return;
	if (s.id[0] != '\0' && (h = app_http_request(app, &err)) != NULL) {
		if (mailbox_graph_open(&m, app, h, mailbox_id, cloud, shared,
		        time(NULL) + APP_REQUEST_HTTP_MS / 1000, &err) == 0)
			drop(&m, s.id);
		mailbox_graph_close(&m);
	}
	store_subscription_cleanup(&s);
	if (store_subscription_forget(app->db, mailbox_id, &err) == -1)
		log_err("mailbox %llu: subscription not forgotten: %s",
		    (unsigned long long)mailbox_id, err.detail);
}

/*
 * The mailbox's "push" in the API: {state, detail, expires_at,
 * last_notification_at}.  state: active, pending (made at the next
 * visit), renew, recreate (polled meanwhile), failed (detail: Graph's
 * answer), off (detail: why — push off, shared mailbox, portal_url).
 * The scanner's row says what it did with its configuration; this
 * program's configuration only fills in before the first visit.
 */
void
push_write(struct jw *w, const struct mailbox *mb, const struct config *cfg)
{
	const char *state = mb->push_state, *detail = mb->push_error;

	if (mb->shared_address[0] != '\0') {
		state = "off";
		detail = push_unavailable(cfg, mb->shared_address);
	} else if (mb->status != MAILBOX_CONNECTED) {
		state = "off";
		detail = "Not connected.";
	} else if (state[0] == '\0') {
		detail = push_unavailable(cfg, NULL);
		state = detail != NULL ? "off" : "pending";
		if (detail == NULL)
			detail = "Made at the next scan.";
	} else if (strcmp(state, "recreate") == 0) {
		detail = "Microsoft removed the subscription; polled until "
		         "the next scan makes a new one.";
	}
	jw_open(w, '{');
	jw_key(w, "state");
	jw_str(w, state);
	jw_key(w, "detail");
	jw_str_or_null(w, detail != NULL ? detail : "");
	jw_key(w, "expires_at");
	jw_str_or_null(w, strcmp(state, "off") ? mb->push_expires_at : "");
	jw_key(w, "last_notification_at");
	jw_str_or_null(w, mb->push_last_notification);
	jw_close(w, '}');
}
