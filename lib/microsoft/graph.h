/*
 * graph: Microsoft Graph v1.0 calls and their errors.
 */
#ifndef POSTDESK_GRAPH_H
#define POSTDESK_GRAPH_H

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "adapt/http.h"

struct graph_error {
	long status;
	char code[128];
	char message[512];
	char request_id[64];
};

/* One Graph call; body is JSON text or NULL. */
struct graph_call {
	const char *method;
	const char *url;
	const char *token;
	const char *body;
	const char *content_type; /* of body; NULL: application/json */
	const char *prefer; /* extra Prefer values, e.g. text bodies; NULL */
	size_t      max_body;
	int (*sink)(void *ctx, const char *p, size_t n); /* see http_req */
	void *sink_ctx;
};

void    graph_mailbox_url(struct buf *, const char *graph_base,
       const char *shared_address);
json_t *graph_get_json(struct http *, const char *url, const char *token,
    struct graph_error *, struct err *);
int     graph_call(struct http *, const struct graph_call *, struct http_resp *,
        struct graph_error *, struct err *);

#endif
