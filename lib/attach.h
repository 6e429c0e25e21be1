/*
 * attach: a message's attachments from Graph, within a size cap.
 */
#ifndef POSTDESK_ATTACH_H
#define POSTDESK_ATTACH_H

#include <stddef.h>

#include "buf.h"
#include "graph.h"

struct attachment {
	char      *name;
	char      *content_type;
	char      *content_id; /* "" unless inline */
	int        is_inline;
	struct buf content;
};

/* How to reach the mailbox: a Graph call with the current token. */
struct attach_ctx {
	struct http *http;
	const char  *base; /* {graph}/v1.0/me or /users/{addr} */
	const char  *token;
	size_t       cap; /* bytes per message */
};

int  attach_fetch(const struct attach_ctx *, const char *message_id,
     struct attachment **, size_t *, struct buf *left_out,
     struct graph_error *, struct err *);
void attach_free(struct attachment *, size_t);

#endif
