/*
 * graph: every call sends Prefer: IdType="ImmutableId" (contract 4.6) and
 * a client-request-id; errors are read from Graph's
 * {"error":{"code","message"}} shape and mapped to our error codes:
 * 401 -> E_AUTH, 403 -> E_FORBIDDEN, 404 -> E_NOTFOUND, 429/5xx ->
 * E_UNAVAILABLE, anything else -> E_INTERNAL.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cred.h"
#include "graph.h"
#include "url.h"

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
	json_t     *o = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	json_t     *e = json_object_get(o, "error");
	const char *s;

	s = json_string_value(json_object_get(e, "code"));
	snprintf(ge->code, sizeof ge->code, "%s", s ? s : "");
	s = json_string_value(json_object_get(e, "message"));
	snprintf(ge->message, sizeof ge->message, "%s", s ? s : "");
	json_decref(o);
}

/*
 * GET url with token; returns the JSON object answered (caller decrefs),
 * or NULL with *ge (status, Graph's error.code) and err set.
 */
json_t *
graph_get_json(struct http *h, const char *url, const char *token,
    struct graph_error *ge, struct err *err)
{
	struct http_req  rq = { 0 };
	struct http_resp resp;
	struct buf       auth;
	char             crid[64], tok[20];
	json_t          *o = NULL;
	int              rc;

	memset(ge, 0, sizeof *ge);
	buf_init(&auth, 2048);
	buf_printf(&auth, "Authorization: Bearer %s", token);
	cred_random_text(tok, sizeof tok, 12);
	snprintf(crid, sizeof crid, "client-request-id: %s", tok);
	rq.method = "GET";
	rq.url = url;
	rq.headers[0] = auth.data;
	rq.headers[1] = "Accept: application/json";
	rq.headers[2] = "Prefer: IdType=\"ImmutableId\"";
	rq.headers[3] = crid;
	rc = http_do(h, &rq, &resp, err);
	sodium_memzero(auth.data, auth.len);
	buf_cleanup(&auth);
	if (rc == -1) {
		ge->status = 0;
		snprintf(ge->code, sizeof ge->code, "NetworkError");
		http_resp_cleanup(&resp);
		return NULL;
	}
	ge->status = resp.status;
	snprintf(ge->request_id, sizeof ge->request_id, "%s",
	    resp.request_id);
	if (resp.status == 200)
		o = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	if (resp.status != 200) {
		read_error(&resp, ge);
		err_set(err, code_of(resp.status), "Graph answered %ld %s",
		    resp.status, ge->code);
	} else if (!json_is_object(o)) {
		json_decref(o);
		o = NULL;
		snprintf(ge->code, sizeof ge->code, "MalformedResponse");
		err_set(err, E_UNAVAILABLE, "Graph answered malformed JSON");
	}
	http_resp_cleanup(&resp);
	return o;
}
