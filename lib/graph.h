/*
 * graph: Microsoft Graph v1.0 calls and their errors.
 */
#ifndef POSTDESK_GRAPH_H
#define POSTDESK_GRAPH_H

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "http.h"

struct graph_error {
	long status;
	char code[128];
	char message[512];
	char request_id[64];
};

void    graph_mailbox_url(struct buf *, const char *graph_base,
       const char *shared_address);
json_t *graph_get_json(struct http *, const char *url, const char *token,
    struct graph_error *, struct err *);

#endif
