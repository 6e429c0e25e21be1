/*
 * mime: an RFC 5322 / MIME message, built for Graph's MIME sendMail (the
 * only way to set In-Reply-To, References and Auto-Submitted, which
 * Graph's JSON sendMail refuses).  Pure: no I/O.
 */
#ifndef POSTDESK_MIME_H
#define POSTDESK_MIME_H

#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"

struct mime_att {
	const char *name;
	const char *content_type;
	const void *data;
	size_t      len;
};

struct mime_msg {
	const char            *from;      /* address */
	const char            *from_name; /* may be NULL */
	const char            *to;        /* "a@x, b@y" */
	const char            *cc;        /* may be NULL */
	const char            *subject;
	const char            *message_id; /* "<...>" */
	const char            *in_reply_to;
	const char            *references;
	const char            *text;
	const char            *html; /* may be NULL */
	int                    auto_reply;
	const struct mime_att *att;
	size_t                 natt;
	time_t                 date;
};

int  mime_build(struct buf *, const struct mime_msg *, struct err *);
int  mime_addr_ok(const char *address);
void mime_header_text(struct buf *, const char *name, const char *value);
void mime_base64(struct buf *, const void *, size_t, int wrap);

#endif
