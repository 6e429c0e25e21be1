/*
 * ticket: the agents' side of tickets (lib/domain/ticket.h).  Lists page with
 * lib/domain/paging.c; a conversation is read a page at a time by
 * store_ticket_actions(), so no answer loads unbounded data.
 */
#include <string.h>

#include "domain/ticket.h"
#include "domain/view.h"

const char *const ticket_status_names[TICKET_NSTATUS] = {
	[TICKET_NEW] = "new",
	[TICKET_OPEN] = "open",
	[TICKET_PENDING] = "pending",
	[TICKET_RESOLVED] = "resolved",
	[TICKET_CLOSED] = "closed",
};

/* The status named s; returns 0, or -1 if s names none. */
int
ticket_status_parse(const char *s, enum ticket_status *out)
{
	for (int i = 0; s != NULL && i < TICKET_NSTATUS; i++) {
		if (strcmp(s, ticket_status_names[i]) == 0) {
			*out = (enum ticket_status)i;
			return 0;
		}
	}
	return -1;
}

static const struct page_view TICKET_PAGE = {
	.row = view_ticket,
	.id_col = VT_ID,
	.at_col = VT_UPDATED_UNIX,
};

/* {"items": [ticket…], "next_cursor", "total"} of the tickets f selects. */
int
ticket_list(struct db *db, const struct ticket_filter *f, struct buf *out,
    struct err *err)
{
	struct db_res r;
	long long     total;

	if (store_ticket_count(db, f, &total, err) == -1 ||
	    store_ticket_list(db, f, &r, err) == -1)
		return -1;
	page_write(out, &r, f->limit, &TICKET_PAGE, total);
	return 0;
}

/* The cursor of the page older than rows: null when there is none. */
static void
actions_cursor(struct jw *w, const struct action_rows *rows)
{
	struct page_key k = { .at = 0, .id = rows->older };

	page_cursor_write(w, rows->older != 0 ? &k : NULL);
}

/* Ticket id with the newest page of its conversation. */
int
ticket_show(struct db *db, uint64_t id, struct buf *out, struct err *err)
{
	struct action_page pg = { .ticket = id, .limit = VIEW_ACTIONS_DEFAULT };
	struct action_rows rows;
	struct db_res      t;
	struct jw          w;

	if (store_ticket_get(db, id, &t, err) == -1)
		return -1;
	if (store_ticket_actions(db, &pg, &rows, err) == -1) {
		db_res_free(&t);
		return -1;
	}
	jw_init(&w, out);
	view_ticket_open(&w, &t, 0);
	jw_key(&w, "actions");
	view_conversation(&w, &rows, id);
	jw_key(&w, "actions_next_cursor");
	actions_cursor(&w, &rows);
	jw_close(&w, '}');
	db_res_free(&t);
	store_ticket_actions_free(&rows);
	return 0;
}

/* {"items": [action…], "next_cursor"}: page pg of a ticket's actions. */
int
ticket_messages(struct db *db, const struct action_page *pg, struct buf *out,
    struct err *err)
{
	struct action_rows rows;
	struct db_res      t;
	struct jw          w;

	if (store_ticket_get(db, pg->ticket, &t, err) == -1)
		return -1;
	db_res_free(&t);
	if (store_ticket_actions(db, pg, &rows, err) == -1)
		return -1;
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "items");
	view_conversation(&w, &rows, pg->ticket);
	jw_key(&w, "next_cursor");
	actions_cursor(&w, &rows);
	jw_close(&w, '}');
	store_ticket_actions_free(&rows);
	return 0;
}

/* Set ticket id's status (adds a status action); old gets the previous. */
int
ticket_set_status(struct db *db, uint64_t id, enum ticket_status st,
    uint64_t agent_id, char old[16], struct err *err)
{
	return store_ticket_set_status(db, id, ticket_status_names[st],
	    agent_id, old, err);
}

/* The whole body of action on ticket, as text. */
int
ticket_body(struct db *db, uint64_t ticket, uint64_t action,
    struct ticket_file *f, struct err *err)
{
	memset(f, 0, sizeof *f);
	if (store_ticket_action_body(db, ticket, action, &f->r, err) == -1)
		return -1;
	f->type = "text/plain; charset=utf-8";
	f->data = db_res_str(&f->r, 0, 0);
	f->len = f->data ? db_res_len(&f->r, 0, 0) : 0;
	if (f->data == NULL)
		f->data = "";
	return 0;
}

/* Attachment id of ticket: its bytes, name and declared type. */
int
ticket_attachment(struct db *db, uint64_t ticket, uint64_t id,
    struct ticket_file *f, struct err *err)
{
	memset(f, 0, sizeof *f);
	if (store_ticket_attachment(db, ticket, id, &f->r, err) == -1)
		return -1;
	f->name = db_res_str(&f->r, 0, VAT_NAME);
	f->type = db_res_str(&f->r, 0, VAT_TYPE);
	f->data = db_res_str(&f->r, 0, VAT_CONTENT);
	f->len = db_res_len(&f->r, 0, VAT_CONTENT);
	return 0;
}

void
ticket_file_free(struct ticket_file *f)
{
	db_res_free(&f->r);
}
