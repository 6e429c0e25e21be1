/*
 * mailbox_graph: a working session on one connected mailbox — its Graph base
 * URLs, its access token, and Graph calls that refresh the token on a 401 and
 * wait as Graph asks on 429/503/504.  Shared by the scanner's ingest and
 * send passes.
 */
#ifndef POSTDESK_MBX_H
#define POSTDESK_MBX_H

#include <stdint.h>
#include <time.h>

#include "adapt/app.h"
#include "base/buf.h"
#include "microsoft/graph.h"

struct mbx {
	struct app  *app;
	struct http *http;
	uint64_t     id;
	const char  *graph; /* the cloud's Graph base URL */
	struct buf   base;  /* {graph}/v1.0/me or /users/{shared} */
	struct buf   rel;   /* /me or /users/{shared}, for $batch */
	char        *token;
	time_t       deadline;     /* never wait past this */
	long         graph_status; /* the last failed call, for guidance */
	char         graph_code[128];
	long long    requests;  /* calls made to Graph in this session */
	long long    throttled; /* answers 429 (parts of a $batch too) */
	long long    retries;   /* calls made again (429, 503/504, 401) */
};

int  mailbox_graph_open(struct mbx *, struct app *, struct http *, uint64_t id,
     const char *cloud, const char *shared, time_t deadline, struct err *);
void mailbox_graph_close(struct mbx *);
int  mailbox_graph_call(struct mbx *, struct graph_call *, int idempotent,
     struct http_resp *, struct graph_error *, struct err *);
json_t *mailbox_graph_call_json(struct mbx *, struct graph_call *,
    int idempotent, struct graph_error *, struct err *);
int     mailbox_graph_wait(const struct mbx *, long seconds);

#endif
