/*
 * attach: a message's attachments from Graph — the list (names, types,
 * sizes) first, then each kept file's bytes streamed to a sink, so a
 * large attachment never sits in memory whole.
 */
#ifndef POSTDESK_ATTACH_H
#define POSTDESK_ATTACH_H

#include <stddef.h>

#include "base/buf.h"
#include "microsoft/graph.h"

struct attachment {
	char          *id;
	char          *name;
	char          *content_type;
	char          *content_id; /* "" unless inline */
	int            is_inline;
	int            is_item; /* an attached Outlook item (.eml) */
	size_t         size;    /* as Graph declares it */
	unsigned char *data;    /* the bytes, when they came with the listing */
	size_t         len;
};

/* How to reach the mailbox: a Graph call with the current token. */
struct attach_ctx {
	struct http *http;
	const char  *base; /* {graph}/v1.0/me or /users/{addr} */
	const char  *token;
	size_t       cap; /* bytes per message */
};

typedef int (*attach_sink)(void *ctx, const char *p, size_t n);

int attach_list(const struct attach_ctx *, const char *message_id,
    struct attachment **, size_t *, struct buf *left_out, struct graph_error *,
    struct err *);
int attach_from_listing(json_t *arr, size_t cap, struct attachment **, size_t *,
    struct buf *left_out);
int attach_stream(const struct attach_ctx *, const char *message_id,
    const struct attachment *, attach_sink, void *ctx, struct graph_error *,
    struct err *);
void attach_free(struct attachment *, size_t);

#endif
