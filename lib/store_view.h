/*
 * store_view: the read side of tickets and the incoming email log — lists
 * with filters and cursor paging, details, attachment bytes — plus the one
 * change agents make by hand (a ticket's status).  Results stay db_res
 * rows; the column order of each query is the enum beside it, and view.c
 * turns rows into the API's JSON.
 */
#ifndef POSTDESK_STORE_VIEW_H
#define POSTDESK_STORE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define VIEW_LIMIT_MAX     200
#define VIEW_LIMIT_DEFAULT 50

/* A page of a ticket's actions: how many, and how many bytes of bodies
 * (each cut at VIEW_BODY_MAX, addresses at VIEW_ADDRS_MAX characters). */
#define VIEW_ACTIONS_DEFAULT 20
#define VIEW_ACTIONS_MAX     100
#define VIEW_BODY_MAX        (256 * 1024)
#define VIEW_PAGE_BYTES      (1024 * 1024)
#define VIEW_ADDRS_MAX       16384

/* Columns of a ticket row (list and detail). */
enum view_ticket_col {
	VT_ID,
	VT_SUBJECT,
	VT_STATUS,
	VT_PRIORITY,
	VT_CATEGORY,
	VT_MAILBOX_ID,
	VT_MAILBOX_NAME,
	VT_USER_ID,
	VT_USER_EMAIL,
	VT_USER_NAME,
	VT_CREATED,
	VT_UPDATED,
	VT_UPDATED_UNIX,
	VT_MESSAGES,
	VT_NCOLS
};

/* Filters of GET /api/tickets; NULL / 0 means "any". */
struct ticket_filter {
	const char *status;
	uint64_t    mailbox_id;
	const char *q;          /* subject or end user address contains */
	long long   after_unix; /* cursor: rows older than (after_unix, */
	uint64_t    after_id;   /* after_id); after_id 0 = first page */
	long        limit;      /* rows wanted; one more is fetched */
};

/* Columns of a ticket action row. */
enum view_action_col {
	VA_ID,
	VA_KIND,
	VA_FROM,
	VA_TO,
	VA_CC,
	VA_SUBJECT,
	VA_BODY,
	VA_MSGID,
	VA_CREATED,
	VA_INCOMING_ID,
	VA_AGENT_ID,
	VA_BODY_SIZE, /* bytes of the whole body; VA_BODY may be cut */
	VA_NCOLS
};

/* Which page of a ticket's actions (store_view_action_page()). */
struct action_page {
	uint64_t ticket;
	uint64_t before; /* actions older than this id; 0 = the newest */
	long     limit;
};

/* A page of actions (view_action_col) and their attachments' metadata. */
struct action_rows {
	struct db_res actions;
	struct db_res files;
	uint64_t      older; /* before for the next page; 0 = none */
};

/* Columns of attachment metadata rows. */
enum view_attachment_col {
	VAT_ID,
	VAT_ACTION_ID,
	VAT_NAME,
	VAT_TYPE,
	VAT_SIZE,
	VAT_CONTENT_ID,
	VAT_INLINE,
	VAT_CONTENT, /* only store_view_attachment() */
	VAT_NCOLS
};

/* Columns of an incoming_email row (list; detail adds the last five). */
enum view_incoming_col {
	VI_ID,
	VI_MAILBOX_ID,
	VI_MAILBOX_NAME,
	VI_GRAPH_ID,
	VI_ATTEMPT,
	VI_MSGID,
	VI_FROM,
	VI_FROM_NAME,
	VI_SUBJECT,
	VI_RECEIVED,
	VI_CREATED,
	VI_SIZE,
	VI_OUTCOME,
	VI_AUTOMATIC,
	VI_RULE_ID,
	VI_RULE_NAME,
	VI_TICKET_ID,
	VI_STATE,
	VI_ACK,
	VI_FAILURES,
	VI_ERROR,
	VI_NEXT_TRY,
	VI_RETRY,
	VI_LATEST,
	VI_LIST_NCOLS,
	VI_TO = VI_LIST_NCOLS,
	VI_CC,
	VI_TRACE,
	VI_SHA256,
	VI_SOURCE,
	VI_MAILBOX_ADDRESS,
	VI_NCOLS
};

/* Filters of GET /api/incoming-emails; NULL / 0 means "any". */
struct incoming_filter {
	uint64_t    mailbox_id;
	const char *outcome;
	int         attention; /* failed or quarantined, latest, no Retry */
	const char *q;         /* subject, sender or message id contains */
	const char *since;     /* "YYYY-MM-DDTHH:MM:SSZ", created_at >= */
	const char *until;     /* "YYYY-MM-DDTHH:MM:SSZ", created_at <= */
	uint64_t    after_id;
	long        limit;
};

int  store_view_tickets(struct db *, const struct ticket_filter *,
     struct db_res *, struct err *);
int  store_view_ticket(struct db *, uint64_t id, struct db_res *, struct err *);
int  store_view_action_page(struct db *, const struct action_page *,
     struct action_rows *, struct err *);
void store_action_rows_free(struct action_rows *);
int  store_view_action_body(struct db *, uint64_t ticket, uint64_t id,
     struct db_res *, struct err *);
int  store_view_attachment(struct db *, uint64_t ticket, uint64_t id,
     struct db_res *, struct err *);
int  store_view_set_status(struct db *, uint64_t id, const char *status,
     uint64_t agent_id, char old[16], struct err *);
int  store_view_incoming(struct db *, const struct incoming_filter *,
     struct db_res *, struct err *);
int  store_view_incoming_one(struct db *, uint64_t id, struct db_res *,
     struct err *);

#endif
