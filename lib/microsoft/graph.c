/*
 * graph: every call sends Prefer: IdType="ImmutableId"
 * (docs/graph-contract.md 4.6) and a client-request-id; errors are read
 * from Graph's {"error":{"code","message"}} shape and mapped to our error
 * codes: 401 -> E_AUTH, 403 -> E_FORBIDDEN, 404 -> E_NOTFOUND, 429/5xx ->
 * E_UNAVAILABLE, anything else -> E_INTERNAL.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "adapt/cred.h"
#include "microsoft/graph.h"
#include "adapt/jsonx.h"
#include "base/url.h"

/*
 * The mailbox root: {graph}/v1.0/me for a licensed mailbox, or
 * {graph}/v1.0/users/{shared} for a shared one.  A shared mailbox is never
 * read through /me, so a missing delegation fails loudly instead of
 * silently reading the delegate's own Inbox.
 */
void
graph_mailbox_url(struct buf *b, const char *graph, const char *shared)
{
	buf_printf(b, "%s/v1.0/", graph);
	if (shared != NULL && shared[0] != '\0') {
		buf_puts(b, "users/");
		url_encode(b, shared);
	} else {
		buf_puts(b, "me");
	}
}

static enum err_code
code_of(long status)
{
	switch (status) {
	case 401:
		return E_AUTH;
	case 403:
		return E_FORBIDDEN;
	case 404:
		return E_NOTFOUND;
	case 429:
		return E_UNAVAILABLE;
	default:
		return status >= 500 ? E_UNAVAILABLE : E_INTERNAL;
	}
}

static void
read_error(const struct http_resp *resp, struct graph_error *ge)
{
	json_t     *o = jsonx_load_graph(resp->body.data, resp->body.len);
	json_t     *e = json_object_get(o, "error");
	const char *s;

	s = json_string_value(json_object_get(e, "code"));
	snprintf(ge->code, sizeof ge->code, "%s", s ? s : "");
	s = json_string_value(json_object_get(e, "message"));
	snprintf(ge->message, sizeof ge->message, "%s", s ? s : "");
	json_decref(o);
}

/*
 * Perform one call; resp gets the answer whatever its status (caller
 * cleans up).  Returns 0 for a 2xx, else -1 with *ge (status, Graph's
 * error.code, Retry-After in resp) and err set.
 */
int
graph_call(struct http *h, const struct graph_call *gc, struct http_resp *resp,
    struct graph_error *ge, struct err *err)
{
	struct http_req rq = { 0 };
	struct buf      auth, prefer;
	char            crid[64], tok[20], ctype[128];
	size_t          n = 0;
	int             rc;

	memset(ge, 0, sizeof *ge);
	buf_init(&auth, 2048);
	buf_init(&prefer, 128);
	buf_printf(&auth, "Authorization: Bearer %s", gc->token);
	buf_puts(&prefer, "Prefer: IdType=\"ImmutableId\"");
	if (gc->prefer != NULL)
		buf_printf(&prefer, ", %s", gc->prefer);
	cred_random_text(tok, sizeof tok, 12);
	snprintf(crid, sizeof crid, "client-request-id: %s", tok);
	rq.method = gc->method;
	rq.url = gc->url;
	rq.headers[n++] = auth.data;
	rq.headers[n++] = "Accept: application/json";
	rq.headers[n++] = prefer.data;
	rq.headers[n++] = crid;
	if (gc->body != NULL) {
		snprintf(ctype, sizeof ctype, "Content-Type: %s",
		    gc->content_type ? gc->content_type : "application/json");
		rq.headers[n++] = ctype;
		rq.body = gc->body;
		rq.body_len = strlen(gc->body);
	}
	rq.max_body = gc->max_body;
	rq.sink = gc->sink;
	rq.sink_ctx = gc->sink_ctx;
	rq.abortable = 1; /* a stopping scanner drops Graph calls at once */
	rc = http_do(h, &rq, resp, err);
	sodium_memzero(auth.data, auth.len);
	buf_cleanup(&auth);
	buf_cleanup(&prefer);
	if (rc == -1) {
		snprintf(ge->code, sizeof ge->code, "NetworkError");
		return -1;
	}
	ge->status = resp->status;
	snprintf(ge->request_id, sizeof ge->request_id, "%s", resp->request_id);
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	read_error(resp, ge);
	err_set(err, code_of(resp->status), "Graph answered %ld %s",
	    resp->status, ge->code);
	return -1;
}

/*
 * GET url with token; returns the JSON object answered (caller decrefs),
 * or NULL with *ge (status, Graph's error.code) and err set.
 */
json_t *
graph_get_json(struct http *h, const char *url, const char *token,
    struct graph_error *ge, struct err *err)
{
	struct graph_call gc = { .method = "GET", .url = url, .token = token };
	struct http_resp  resp;
	json_t           *o;

	if (graph_call(h, &gc, &resp, ge, err) == -1) {
		http_resp_cleanup(&resp);
		return NULL;
	}
	o = jsonx_load_graph(resp.body.data, resp.body.len);
	http_resp_cleanup(&resp);
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(ge->code, sizeof ge->code, "MalformedResponse");
		err_set(err, E_UNAVAILABLE, "Graph answered malformed JSON");
		return NULL;
	}
	return o;
}
