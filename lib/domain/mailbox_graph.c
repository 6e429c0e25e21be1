/*
 * mailbox_graph: one way to call Graph for a mailbox.  A 401 refreshes the
 * token once (lib/domain/mailbox_token.c decides whether someone else already
 * did) and retries; 429 waits exactly Retry-After; 503/504 back off with
 * jitter, but only for idempotent calls — a POST whose outcome is unknown is
 * never repeated here, its caller looks before trying again.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "adapt/jsonx.h"
#include "base/log.h"
#include "domain/mailbox_graph.h"
#include "microsoft/oauth2.h"
#include "domain/mailbox_token.h"
#include "base/xmalloc.h"

#define MAX_TRIES 6

/*
 * Open a session on mailbox id: resolve its cloud and get a token.  Free
 * with mailbox_graph_close() either way.  Fails with E_AUTH when the mailbox
 * needs reauthorisation.
 */
int
mailbox_graph_open(struct mbx *m, struct app *app, struct http *h, uint64_t id,
    const char *cloud, const char *shared, time_t deadline, struct err *err)
{
	struct oauth2_cloud c;

	memset(m, 0, sizeof *m);
	m->app = app;
	m->http = h;
	m->id = id;
	m->deadline = deadline;
	buf_init(&m->base, 256);
	buf_init(&m->rel, 256);
	if (oauth2_cloud_of(&app->cfg, cloud, &c) == -1) {
		err_set(err, E_INTERNAL, "unknown cloud %s", cloud);
		return -1;
	}
	m->graph = c.graph;
	graph_mailbox_url(&m->base, c.graph, shared);
	buf_puts(&m->rel, m->base.data + strlen(c.graph) + strlen("/v1.0"));
	return mailbox_token_access(app, h, id, NULL, &m->token, err);
}

void
mailbox_graph_close(struct mbx *m)
{
	xfree_secret(m->token);
	m->token = NULL;
	buf_cleanup(&m->base);
	buf_cleanup(&m->rel);
}

/* Sleep for a throttled or failing call; -1 if past the deadline. */
int
mailbox_graph_wait(const struct mbx *m, long seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (time(NULL) + seconds > m->deadline)
		return -1;
	log_info("mailbox %llu: waiting %ld s as Graph asked",
	    (unsigned long long)m->id, seconds);
	/* in slices, so that a stopping scanner does not wait it out */
	for (long ms = seconds * 1000; ms > 0 && !http_aborted(); ms -= 100)
		usleep(100000);
	return http_aborted() ? -1 : 0;
}

static long
backoff(int attempt)
{
	long base = 1L << (attempt < 5 ? attempt : 5);

	return base + (long)randombytes_uniform((uint32_t)base + 1);
}

/*
 * One call with the session's token (gc->token is set here).  Returns 0
 * for a 2xx; else -1 with *ge and err, and the failure noted in m for
 * guidance.  resp is the caller's to clean up either way.
 */
int
mailbox_graph_call(struct mbx *m, struct graph_call *gc, int idempotent,
    struct http_resp *resp, struct graph_error *ge, struct err *err)
{
	int refreshed = 0;

	for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
		char *fresh;
		long  ra;

		gc->token = m->token;
		m->requests++;
		m->retries += attempt > 0;
		if (graph_call(m->http, gc, resp, ge, err) == 0)
			return 0;
		m->throttled += ge->status == 429;
		if (ge->status == 401 && !refreshed) {
			refreshed = 1;
			http_resp_cleanup(resp);
			if (mailbox_token_access(m->app, m->http, m->id,
			        m->token, &fresh, err) == -1)
				return -1;
			xfree_secret(m->token);
			m->token = fresh;
			continue;
		}
		if (ge->status != 429 &&
		    !((ge->status == 503 || ge->status == 504) && idempotent))
			break;
		ra = resp->retry_after >= 0 ? resp->retry_after
		                            : backoff(attempt);
		if (mailbox_graph_wait(m, ra) == -1)
			break;
		http_resp_cleanup(resp);
	}
	m->graph_status = ge->status;
	snprintf(m->graph_code, sizeof m->graph_code, "%s", ge->code);
	return -1;
}

/* mailbox_graph_call answering a JSON object (caller decrefs), or NULL. */
json_t *
mailbox_graph_call_json(struct mbx *m, struct graph_call *gc, int idempotent,
    struct graph_error *ge, struct err *err)
{
	struct http_resp resp;
	json_t          *o = NULL;

	if (mailbox_graph_call(m, gc, idempotent, &resp, ge, err) == 0) {
		o = jsonx_load_graph(resp.body.data, resp.body.len);
		if (!json_is_object(o)) {
			json_decref(o);
			o = NULL;
			snprintf(ge->code, sizeof ge->code,
			    "MalformedResponse");
			err_set(err, E_UNAVAILABLE,
			    "Graph answered malformed JSON");
		}
	}
	http_resp_cleanup(&resp);
	return o;
}
