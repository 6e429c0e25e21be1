/*
 * ticket: the agents' side of tickets (lib/domain/ticket.h).  Lists page with
 * lib/domain/paging.c; a conversation is read a page at a time by
 * store_ticket_actions(), so no answer loads unbounded data.
 */
#include <string.h>

#include "domain/ticket.h"
#include "domain/view.h"
#include "store/store.h"

const char *const ticket_status_names[TICKET_NSTATUS] = {
	[TICKET_NEW] = "new",
	[TICKET_OPEN] = "open",
	[TICKET_PENDING] = "pending",
	[TICKET_RESOLVED] = "resolved",
	[TICKET_CLOSED] = "closed",
};

const char *const ticket_priority_names[TICKET_NPRIORITY] = {
	[PRIORITY_LOW] = "low",
	[PRIORITY_NORMAL] = "normal",
	[PRIORITY_HIGH] = "high",
	[PRIORITY_URGENT] = "urgent",
};

/* The priority named s; returns 0, or -1 if s names none. */
int
ticket_priority_parse(const char *s, enum ticket_priority *out)
{
	for (int i = 0; s != NULL && i < TICKET_NPRIORITY; i++) {
		if (strcmp(s, ticket_priority_names[i]) == 0) {
			*out = (enum ticket_priority)i;
			return 0;
		}
	}
	return -1;
}

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

/*
 * Change what c gives of ticket id (values already valid), each change an
 * action by agent_id and all in one transaction; before gets the old values.
 */
int
ticket_update(struct db *db, uint64_t id, const struct ticket_change *c,
    uint64_t agent_id, struct ticket_before *before, struct err *err)
{
	return store_ticket_update(db, id, c, agent_id, before, err);
}

/*
 * An internal note on ticket id by agent_id (0: an API key): an action of
 * kind "note", never mailed (no outgoing_email row).  out gets the action
 * as the conversation shows it.
 */
int
ticket_note(struct db *db, uint64_t id, uint64_t agent_id, const char *body,
    struct buf *out, struct err *err)
{
	struct action_rows rows;
	struct jw          w;
	uint64_t           aid;

	if (store_ticket_note(db, id, agent_id, body, &aid, err) == -1 ||
	    store_ticket_action_one(db, id, aid, &rows, err) == -1)
		return -1;
	jw_init(&w, out);
	view_action(&w, &rows, 0, id);
	store_ticket_actions_free(&rows);
	return 0;
}

/* *yes: agent id exists and is not disabled (may be assigned tickets). */
int
ticket_agent_active(struct db *db, uint64_t id, int *yes, struct err *err)
{
	return store_agent_active(db, id, yes, err);
}

/* {"items": [{id, username, name, role}]}: the active agents, by name. */
int
ticket_agents(struct db *db, struct buf *out, struct err *err)
{
	struct db_res r;
	struct jw     w;

	if (store_agent_list(db, &r, err) == -1)
		return -1;
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "items");
	jw_open(&w, '[');
	for (size_t i = 0; i < r.nrows; i++) {
		jw_open(&w, '{');
		jw_key(&w, "id");
		jw_int(&w, db_res_int(&r, i, 0));
		jw_key(&w, "username");
		jw_str(&w, db_res_str(&r, i, 1));
		jw_key(&w, "name");
		jw_str(&w, db_res_str(&r, i, 2));
		jw_key(&w, "role");
		jw_str(&w, db_res_str(&r, i, 3));
		jw_key(&w,
		    "microsoft"); /* signs in with Microsoft (sql/0017) */
		jw_bool(&w, db_res_int(&r, i, 4) != 0);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	db_res_free(&r);
	return 0;
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
