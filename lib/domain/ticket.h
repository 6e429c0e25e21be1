/*
 * ticket: what agents do with tickets through the API — the list, one
 * ticket with the newest page of its conversation, older pages, a
 * status change, a body or an attachment to download.  Answers are JSON
 * written into a buf (lib/domain/view.c); lib/store/ticket_view.c reads the
 * rows.
 */
#ifndef POSTDESK_TICKET_H
#define POSTDESK_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "adapt/db.h"
#include "base/err.h"
#include "domain/paging.h"
#include "store/ticket_view.h"

/* A ticket's status: ticket_status_names[] is its column value and its
 * name in the API. */
enum ticket_status {
	TICKET_NEW,
	TICKET_OPEN,
	TICKET_PENDING,
	TICKET_RESOLVED,
	TICKET_CLOSED,
	TICKET_NSTATUS
};

extern const char *const ticket_status_names[TICKET_NSTATUS];

/* A ticket's priority (ticket.priority). */
enum ticket_priority {
	PRIORITY_LOW,
	PRIORITY_NORMAL,
	PRIORITY_HIGH,
	PRIORITY_URGENT,
	TICKET_NPRIORITY
};

extern const char *const ticket_priority_names[TICKET_NPRIORITY];

/* Characters of a category (ticket.category) and of an internal note. */
#define TICKET_CATEGORY_MAX 100
#define TICKET_NOTE_MAX     100000

/* Bytes to send: a body or an attachment, with its name and type. */
struct ticket_file {
	struct db_res r;
	const char   *name; /* NULL for a body */
	const char   *type;
	const char   *data;
	size_t        len;
};

int  ticket_status_parse(const char *, enum ticket_status *);
int  ticket_list(struct db *, const struct ticket_filter *, struct buf *,
     struct err *);
int  ticket_show(struct db *, uint64_t id, struct buf *, struct err *);
int  ticket_messages(struct db *, const struct action_page *, struct buf *,
     struct err *);
int  ticket_priority_parse(const char *, enum ticket_priority *);
int  ticket_update(struct db *, uint64_t id, const struct ticket_change *,
     uint64_t agent_id, struct ticket_before *, struct err *);
int  ticket_note(struct db *, uint64_t id, uint64_t agent_id, const char *body,
     struct buf *, struct err *);
int  ticket_agent_active(struct db *, uint64_t id, int *yes, struct err *);
int  ticket_agents(struct db *, struct buf *, struct err *);
int  ticket_body(struct db *, uint64_t ticket, uint64_t action,
     struct ticket_file *, struct err *);
int  ticket_attachment(struct db *, uint64_t ticket, uint64_t id,
     struct ticket_file *, struct err *);
void ticket_file_free(struct ticket_file *);

#endif
