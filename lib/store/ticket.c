/*
 * ticket: the SQL behind ingest's tickets (the incoming email log
 * itself is store_incoming.c).  Every function runs inside the
 * caller's transaction when there is one.
 */
#include <string.h>

#include "store/store.h"
#include "store/ticket.h"
#include "base/xmalloc.h"

static const char SQL_END_USER[] =
    "INSERT INTO end_user (email, name, created_at) "
    "VALUES (?, ?, UTC_TIMESTAMP()) ON DUPLICATE KEY UPDATE "
    "id = LAST_INSERT_ID(id), name = IF(name = '', VALUES(name), name)";
static const char SQL_TICKET_CREATE[] =
    "INSERT INTO ticket (mailbox_id, end_user_id, subject, priority, "
    "category, conversation_id, automatic, created_at, updated_at) "
    "VALUES (?, ?, ?, COALESCE(?, 'normal'), ?, ?, ?, UTC_TIMESTAMP(), "
    "UTC_TIMESTAMP())";
static const char SQL_TICKET_TOUCH[] =
    "UPDATE ticket SET updated_at = UTC_TIMESTAMP(), status = "
    "IF(status IN ('resolved', 'closed', 'pending'), 'open', status) "
    "WHERE id = ?";
static const char SQL_TICKET_EXISTS[] =
    "SELECT COUNT(*) FROM ticket WHERE id = ?";
static const char SQL_TICKET_BY_MSGID[] =
    "SELECT ticket_id FROM ticket_action WHERE internet_message_id = ? "
    "ORDER BY id DESC LIMIT 1";
static const char SQL_TICKET_BY_CONV[] =
    "SELECT id FROM ticket WHERE conversation_id = ? "
    "ORDER BY id DESC LIMIT 1";
static const char SQL_PARTICIPANT_ADD[] =
    "INSERT IGNORE INTO ticket_participant (ticket_id, email) VALUES (?, ?)";
static const char SQL_PARTICIPANT_IS[] =
    "SELECT COUNT(*) FROM ticket_participant WHERE ticket_id = ? "
    "AND email = ?";
static const char SQL_ACTION_ADD[] =
    "INSERT INTO ticket_action (ticket_id, kind, incoming_email_id, "
    "agent_id, from_addr, to_addrs, cc_addrs, subject, body, "
    "internet_message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, UTC_TIMESTAMP())";
static const char SQL_ATTACHMENT_ADD[] =
    "INSERT INTO attachment (ticket_action_id, name, content_type, size, "
    "content_id, is_inline, content) VALUES (?, ?, ?, 0, ?, ?, ?)";
static const char SQL_ATTACHMENT_RETYPE[] =
    "UPDATE attachment SET name = ?, content_type = ? WHERE id = ?";
static const char SQL_ATTACHMENT_SIZE[] =
    "UPDATE attachment SET size = LENGTH(content) WHERE id = ?";

static struct db_param
opt_id(uint64_t id)
{
	return id ? db_int((long long)id) : db_null();
}

static int
insert(struct db *db, const char *sql, const struct db_param *p, size_t n,
    uint64_t *id, struct err *err)
{
	struct db_exec_info info;

	if (db_exec(db, sql, p, n, &info, err) == -1)
		return -1;
	if (id != NULL)
		*id = info.insert_id;
	return 0;
}

static int
one_id(struct db *db, const char *sql, const struct db_param *p, size_t n,
    uint64_t *out, struct err *err)
{
	struct db_res r;

	if (db_query(db, sql, p, n, &r, err) == -1)
		return -1;
	*out = r.nrows ? (uint64_t)db_res_int(&r, 0, 0) : 0;
	db_res_free(&r);
	return 0;
}

/* Find or create the end user with this address. */
int
store_ticket_end_user(struct db *db, const char *email, const char *name,
    uint64_t *id, struct err *err)
{
	struct db_param p[] = { db_str(email), db_str(name) };

	return insert(db, SQL_END_USER, p, 2, id, err);
}

int
store_ticket_create(struct db *db, const struct new_ticket *t, uint64_t *id,
    struct err *err)
{
	struct db_param p[] = { opt_id(t->mailbox_id),
		db_int((long long)t->end_user_id), db_str(t->subject),
		db_str(t->priority), db_str(t->category),
		t->conversation_id && t->conversation_id[0]
		    ? db_str(t->conversation_id)
		    : db_null(),
		db_int(t->automatic != 0) };

	return insert(db, SQL_TICKET_CREATE, p, DB_NPARAMS(p), id, err);
}

/* A new message on a ticket: bump it, reopen it if it was done. */
int
store_ticket_touch(struct db *db, uint64_t id, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_exec(db, SQL_TICKET_TOUCH, p, 1, NULL, err);
}

int
store_ticket_exists(struct db *db, uint64_t id, int *exists, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	uint64_t        n;

	if (one_id(db, SQL_TICKET_EXISTS, p, 1, &n, err) == -1)
		return -1;
	*exists = n > 0;
	return 0;
}

/* The ticket a stored message id belongs to; *ticket 0 if none. */
int
store_ticket_by_message_id(struct db *db, const char *message_id,
    uint64_t *ticket, struct err *err)
{
	struct db_param p[] = { db_str(message_id) };

	return one_id(db, SQL_TICKET_BY_MSGID, p, 1, ticket, err);
}

int
store_ticket_by_conversation(struct db *db, const char *conversation_id,
    uint64_t *ticket, struct err *err)
{
	struct db_param p[] = { db_str(conversation_id) };

	return one_id(db, SQL_TICKET_BY_CONV, p, 1, ticket, err);
}

int
store_ticket_participant_add(struct db *db, uint64_t ticket, const char *email,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)ticket), db_str(email) };

	if (email == NULL || email[0] == '\0')
		return 0;
	return db_exec(db, SQL_PARTICIPANT_ADD, p, 2, NULL, err);
}

int
store_ticket_participant_is(struct db *db, uint64_t ticket, const char *email,
    int *yes, struct err *err)
{
	struct db_param p[] = { db_int((long long)ticket), db_str(email) };
	uint64_t        n;

	if (one_id(db, SQL_PARTICIPANT_IS, p, 2, &n, err) == -1)
		return -1;
	*yes = n > 0;
	return 0;
}

int
store_ticket_action_add(struct db *db, const struct new_action *a, uint64_t *id,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)a->ticket_id),
		db_str(a->kind), opt_id(a->incoming_email_id),
		opt_id(a->agent_id), db_str(a->from), db_str(a->to),
		db_str(a->cc), db_str(a->subject), db_str(a->body),
		a->message_id && a->message_id[0] ? db_str(a->message_id)
		                                  : db_null() };

	return insert(db, SQL_ACTION_ADD, p, DB_NPARAMS(p), id, err);
}

/*
 * Begin inserting an attachment whose content is then streamed with
 * db_stream_write(); finish with store_ticket_attachment_close().
 */
struct db_stream *
store_ticket_attachment_open(struct db *db, const struct new_attachment *a,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)a->action_id),
		db_str(a->name), db_str(a->content_type),
		a->content_id && a->content_id[0] ? db_str(a->content_id)
		                                  : db_null(),
		db_int(a->is_inline), db_null() };

	return db_stream_open(db, SQL_ATTACHMENT_ADD, p, DB_NPARAMS(p), 5, err);
}

/*
 * Insert the streamed attachment (keep) or drop it; records its size and
 * its id in *id (when given).
 */
int
store_ticket_attachment_close(struct db *db, struct db_stream *s, int keep,
    uint64_t *id, struct err *err)
{
	struct db_exec_info info;
	struct db_param     p[1];

	if (db_stream_close(s, keep, &info, err) == -1 || !keep)
		return keep ? -1 : 0;
	if (id != NULL)
		*id = info.insert_id;
	p[0] = db_int((long long)info.insert_id);
	return db_exec(db, SQL_ATTACHMENT_SIZE, p, 1, NULL, err);
}

/* Give attachment id another name and type (an item found to be .ics). */
int
store_ticket_attachment_retype(struct db *db, uint64_t id, const char *name,
    const char *content_type, struct err *err)
{
	struct db_param p[] = { db_str(name), db_str(content_type),
		db_int((long long)id) };

	return db_exec(db, SQL_ATTACHMENT_RETYPE, p, 3, NULL, err);
}
