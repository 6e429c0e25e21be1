/*
 * outgoing: the outgoing queue (outgoing_email, outgoing_attachment).
 */
#ifndef POSTDESK_STORE_OUTBOX_H
#define POSTDESK_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/db.h"
#include "base/err.h"
#include "model/mail_states.h"

struct mail_count;

struct new_outgoing {
	uint64_t             mailbox_id;
	uint64_t             ticket_id;
	enum outgoing_kind   kind;
	uint64_t             incoming_email_id;
	uint64_t             agent_id;
	const char          *to;
	const char          *cc;
	const char          *subject;
	const char          *text;
	const char          *html;
	const char          *message_id;
	const char          *in_reply_to;
	const char          *references;
	enum outgoing_status status; /* queued or held */
};

struct outgoing {
	uint64_t             id;
	uint64_t             ticket_id;
	enum outgoing_kind   kind;
	enum outgoing_status status;
	unsigned             attempts;
	char                *to, *cc, *subject, *text, *html;
	char                *message_id, *in_reply_to, *references;
};

/* What a reply on a ticket needs to know. */
struct reply_ctx {
	uint64_t mailbox_id; /* 0: the ticket has no mailbox */
	char     subject[999 * 4];
	char     end_user[320 * 4 + 1]; /* utf8mb4 VARCHAR(320) */
	char     from[321];             /* the mailbox's own address */
	int      connected;             /* the mailbox is connected */
	char     in_reply_to[999];
	char     references[2048];
};

int  store_outgoing_reply_ctx(struct db *, uint64_t ticket, struct reply_ctx *,
     struct err *);
int  store_outgoing_add(struct db *, const struct new_outgoing *, uint64_t *id,
     struct err *);
int  store_outgoing_attachment(struct db *, uint64_t id, const char *name,
     const char *type, const void *data, size_t len, struct err *);
int  store_outgoing_due(struct db *, uint64_t mailbox, struct outgoing **,
     size_t *, struct err *);
void store_outgoing_free(struct outgoing *, size_t);
int  store_outgoing_attachments(struct db *, uint64_t id, struct db_res *,
     struct err *);
int  store_outgoing_claim(struct db *, uint64_t id, int *won, struct err *);
int  store_outgoing_sent(struct db *, uint64_t id, struct err *);
int  store_outgoing_later(struct db *, uint64_t id, enum outgoing_status,
     long seconds, const char *error, struct err *);
int  store_outgoing_fail(struct db *, uint64_t id, const char *error,
     const char *guidance, struct err *);
int  store_outgoing_release(struct db *, uint64_t mailbox, struct err *);
int  store_outgoing_hold(struct db *, uint64_t mailbox, struct err *);
struct outgoing_filter {
	uint64_t    mailbox;
	uint64_t    ticket;
	const char *status; /* "" for any */
	uint64_t    before; /* cursor: ids below this, 0 for the newest */
	long        limit;
};

/* Columns of a store_outgoing_list() row (SQL_LIST in store/outgoing.c);
 * ticket 0 and "" texts stand for NULL. */
enum outgoing_list_col {
	VO_ID,
	VO_MAILBOX_ID,
	VO_TICKET_ID,
	VO_KIND,
	VO_TO,
	VO_CC,
	VO_SUBJECT,
	VO_STATUS,
	VO_ATTEMPTS,
	VO_NEXT_ATTEMPT,
	VO_LAST_ERROR,
	VO_GUIDANCE,
	VO_CREATED,
	VO_SENT,
	VO_MSGID,
	VO_MAILBOX_NAME, /* NULL once the mailbox is deleted */
	VO_NCOLS
};

int store_outgoing_list(struct db *, const struct outgoing_filter *,
    struct db_res *, struct err *);
int store_outgoing_count(struct db *, const struct outgoing_filter *,
    long long *n, struct err *);
int store_outgoing_retry(struct db *, uint64_t id, int *changed, struct err *);
int store_outgoing_ack_count(struct db *, const char *to, long long *n,
    struct err *);
int store_outgoing_counts(struct db *, struct mail_count **, size_t *n,
    struct err *);

#endif
