/*
 * store/ticket_view: the read side of tickets — lists
 * with filters and cursor paging, details, attachment bytes — plus the one
 * change agents make by hand (a ticket's status).  Results stay db_res
 * rows; the column order of each query is the enum beside it, and domain/view.c
 * turns rows into the API's JSON.
 */
#ifndef POSTDESK_STORE_VIEW_H
#define POSTDESK_STORE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/db.h"
#include "base/err.h"

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
	VT_ASSIGNEE_ID,
	VT_ASSIGNEE_USERNAME,
	VT_ASSIGNEE_NAME,
	VT_AUTOMATIC,
	VT_NCOLS
};

/* Filters of GET /api/tickets; NULL / 0 means "any". */
struct ticket_filter {
	const char *status;
	uint64_t    mailbox_id;
	const char *q;          /* subject or end user address contains */
	int         assigned;   /* TICKET_ASSIGNED_ANY, _NONE or _AGENT */
	uint64_t    assignee;   /* the agent, with TICKET_ASSIGNED_AGENT */
	int         automatic;  /* -1 any, 0 not automatic, 1 automatic */
	long long   after_unix; /* cursor: rows older than (after_unix, */
	uint64_t    after_id;   /* after_id); after_id 0 = first page */
	long        limit;      /* rows wanted; one more is fetched */
};

enum {
	TICKET_ASSIGNED_ANY,
	TICKET_ASSIGNED_NONE,
	TICKET_ASSIGNED_AGENT
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
	VA_AUTOMATIC, /* email_in: its incoming_email was automatic mail */
	VA_AUTHOR_USERNAME,
	VA_AUTHOR_NAME,
	VA_OUT_ID, /* email_out: its outgoing_email row, if any */
	VA_OUT_STATUS,
	VA_OUT_ERROR,
	VA_OUT_KIND,
	VA_NCOLS
};

/* Which page of a ticket's actions (store_ticket_actions()). */
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
	VAT_CONTENT, /* only store_ticket_attachment() */
	VAT_NCOLS
};

int  store_ticket_list(struct db *, const struct ticket_filter *,
     struct db_res *, struct err *);
int  store_ticket_count(struct db *, const struct ticket_filter *, long long *n,
     struct err *);
int  store_ticket_get(struct db *, uint64_t id, struct db_res *, struct err *);
int  store_ticket_actions(struct db *, const struct action_page *,
     struct action_rows *, struct err *);
void store_ticket_actions_free(struct action_rows *);
int  store_ticket_action_body(struct db *, uint64_t ticket, uint64_t id,
     struct db_res *, struct err *);
int  store_ticket_attachment(struct db *, uint64_t ticket, uint64_t id,
     struct db_res *, struct err *);
int  store_ticket_action_one(struct db *, uint64_t ticket, uint64_t id,
     struct action_rows *, struct err *);

/* A PATCH of a ticket: the fields to change (NULL / 0: leave as it is). */
struct ticket_change {
	const char *status;
	const char *priority;
	int         set_category; /* category given (NULL: none) */
	const char *category;
	int         set_assignee; /* assignee given (0: unassign) */
	uint64_t    assignee;
};

/* What a ticket held before a change, for the audit line. */
struct ticket_before {
	char     status[16];
	char     priority[16];
	char     category[401];
	int      has_category;
	uint64_t assignee;
};

int store_ticket_update(struct db *, uint64_t id, const struct ticket_change *,
    uint64_t agent_id, struct ticket_before *, struct err *);
int store_ticket_note(struct db *, uint64_t ticket, uint64_t agent_id,
    const char *body, uint64_t *id, struct err *);

#endif
