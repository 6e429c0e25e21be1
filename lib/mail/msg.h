/*
 * msg: a mail message as Microsoft Graph lists it, parsed defensively.
 * Every string is owned by the struct (NUL-terminated, valid UTF-8,
 * capped to fit its column: docs/ARCHITECTURE.md "Column limits");
 * missing or mistyped optional fields become "" and are noted in
 * msg.notes.  Pure: no I/O.
 */
#ifndef POSTDESK_MSG_H
#define POSTDESK_MSG_H

#include <stddef.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"

#define MSG_SUBJECT_MAX    998
#define MSG_ADDR_MAX       320
#define MSG_NAME_MAX       255
#define MSG_BODY_MAX       (12 * 1024 * 1024)
#define MSG_MAX_RECIPIENTS 500
#define MSG_ID_MAX         998   /* internetMessageId, ASCII */
#define MSG_CONV_MAX       512   /* conversationId, ASCII */
#define MSG_HEADER_MAX     65536 /* one header value (References) */
#define MSG_MAX_HEADERS    1000

struct msg_addr {
	char *name;    /* no control characters */
	char *address; /* lower-cased (ASCII), no control characters; "" when
	                  absent; maybe not an address (mime_addr_ok) */
};

struct msg_header {
	char *name;
	char *value;
};

struct msg {
	char              *id; /* Graph id (immutable when asked for) */
	char              *internet_message_id;
	char              *conversation_id;
	char              *subject;
	char              *body;
	char              *received; /* exactly "2026-11-26T09:10:54Z" or "" */
	struct msg_addr    from;
	struct msg_addr   *to;
	size_t             nto;
	struct msg_addr   *cc;
	size_t             ncc;
	struct msg_header *headers;
	size_t             nheaders;
	int                has_attachments;
	int                is_read;
	struct buf         notes; /* what was missing, cut or mistyped */
};

int         msg_parse(json_t *obj, struct msg *, struct err *);
void        msg_cleanup(struct msg *);
const char *msg_header(const struct msg *, const char *name);
void        msg_addr_list(struct buf *, const struct msg_addr *, size_t n);

#endif
