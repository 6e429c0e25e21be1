/*
 * ingest: one pass over a mailbox's Inbox (DESIGN.md "Ingest: exactly
 * once, ledger first").  List oldest first; per message look up its
 * ledger row by immutable id:
 *   none             -> intake (one transaction), then the action;
 *   stored / failed  -> a crash leftover: only finish the action;
 *   done             -> a person put it back: intake again, attempt + 1.
 * Actions (move / mark read) go out in $batch requests of at most 20, and
 * only after the commit.  An action whose outcome is unknown (timeout,
 * 5xx on the batch) is not repeated blindly: the message is looked at
 * again on the next listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "ingest.h"
#include "intake.h"
#include "jsonx.h"
#include "log.h"
#include "mbx.h"
#include "store_ticket.h"
#include "url.h"
#include "xmalloc.h"

#define PAGE_SIZE 50
#define BATCH_MAX 20

static const char SELECT[] =
    "id,internetMessageId,conversationId,subject,body,from,sender,"
    "toRecipients,ccRecipients,receivedDateTime,hasAttachments,isRead,"
    "internetMessageHeaders";
/* For one message whose body alone is over the response cap. */
static const char SELECT_SLIM[] =
    "id,internetMessageId,conversationId,subject,from,sender,"
    "toRecipients,ccRecipients,receivedDateTime,hasAttachments,isRead,"
    "internetMessageHeaders";

struct pending {
	uint64_t ledger;
	char    *graph_id;
};

struct pass {
	const struct ingest_env  *env;
	const struct scan_target *t;
	struct ingest_stats      *st;
	struct mbx               *m;
	struct pending            pend[PAGE_SIZE];
	size_t                    npend;
	uint64_t                 *seen; /* ledger rows listed this pass */
	size_t                    nseen;
	int                       partial; /* a page held too many */
	int                       level;   /* how much a listing asks for */
};

/*
 * What a listing asks for.  Pages of 50 with the attachments' bytes
 * ($expand: no request per attachment); when a page is too large to
 * fetch, fewer messages, then one without its attachments (they are then
 * streamed one by one), then one without its body either.
 */
static const struct {
	int         top;
	int         expand;
	int         slim;
	const char *says;
} levels[] = {
	{ PAGE_SIZE, 1, 0, "" },
	{ 10, 1, 0, "10 at a time" },
	{ 1, 1, 0, "one at a time" },
	{ 1, 0, 0, "one at a time, attachments apart" },
	{ 1, 0, 1, "one at a time, without its body" },
};

#define LEVELS (int)(sizeof levels / sizeof levels[0])

static void
first_page_url(const struct pass *p, struct buf *u)
{
	struct buf filter;

	buf_init(&filter, 128);
	if (p->t->floor[0])
		buf_printf(&filter, "receivedDateTime ge %s", p->t->floor);
	else
		buf_puts(&filter, "receivedDateTime ge 1970-01-01T00:00:00Z");
	if (strcmp(p->t->processed_action, "mark_read") == 0)
		buf_puts(&filter, " and isRead eq false");
	buf_printf(u,
	    "%s/mailFolders/inbox/messages?$select=%s&$top=%d"
	    "&$count=true%s&$orderby=",
	    p->m->base.data, levels[p->level].slim ? SELECT_SLIM : SELECT,
	    levels[p->level].top,
	    levels[p->level].expand ? "&$expand=attachments" : "");
	url_encode(u, "receivedDateTime asc");
	buf_puts(u, "&$filter=");
	url_encode(u, filter.data);
	buf_cleanup(&filter);
}

static void
stat_outcome(struct ingest_stats *st, const char *outcome)
{
	if (strcmp(outcome, "ticket_created") == 0)
		st->ticketed++;
	else if (strcmp(outcome, "ticket_updated") == 0)
		st->updated++;
	else
		st->ignored++;
}

static int
intake(struct pass *p, json_t *obj, const struct msg *m, unsigned attempt,
    struct err *err)
{
	const struct ingest_env *env = p->env;
	struct ack_settings      ack = { p->t->ack_enabled, p->t->ack_subject,
		     p->t->ack_body, p->t->ack_per_hour, p->t->address, 1 };
	struct intake_ctx        cx = { env->app->db, p->t->id, p->t->address,
		       env->rules, env->nrules, env->own, env->nown, &ack };
	struct attach_ctx        ax = { env->http, p->m->base.data, p->m->token,
		       (size_t)env->app->cfg.attachment_max_mb << 20 };
	struct attachment       *att = NULL;
	struct intake_in     in = { obj, m, attempt, NULL, NULL, 0, &ax, "" };
	struct intake_result res;
	struct graph_error   ge;
	struct buf           left;
	int                  rc = -1;

	buf_init(&left, 64);
	/* listed with $expand=attachments: no request of their own, and
	 * inline images come too (hasAttachments is false for those) */
	if (attach_from_listing(json_object_get(obj, "attachments"), ax.cap,
	        &att, &in.natt, &left) == -1 &&
	    m->has_attachments &&
	    attach_list(&ax, m->id, &att, &in.natt, &left, &ge, err) == -1)
		goto out;
	in.att = att;
	in.left_out = left.data;
	if (intake_message(&cx, &in, &res, err) == -1)
		goto out;
	stat_outcome(p->st, res.outcome);
	p->pend[p->npend].ledger = res.ledger_id;
	p->pend[p->npend].graph_id = xstrdup(m->id);
	p->npend++;
	rc = 0;
out:
	attach_free(att, in.natt);
	buf_cleanup(&left);
	return rc;
}

/* Look at one listed message; -1 only when the pass must stop. */
static int
one(struct pass *p, json_t *obj, struct err *err)
{
	struct ledger_row row;
	struct msg        m;
	int               found, rc = 0;

	p->st->found++;
	if (msg_parse(obj, &m, err) == -1) {
		log_err("mailbox %llu: skipped a message Graph listed without "
		        "a usable id",
		    (unsigned long long)p->t->id);
		p->st->errors++;
		msg_cleanup(&m);
		return 0;
	}
	if (levels[p->level].slim)
		buf_printf(&m.notes,
		    "%sthe body is too large to fetch: read it "
		    "in Outlook",
		    m.notes.len ? "; " : "");
	if (store_ledger_latest(p->env->app->db, p->t->id, m.id, &row, &found,
	        err) == -1) {
		rc = -1;
	} else if (found && strcmp(row.state, "done") != 0) {
		/* committed before a crash or a failed action: finish it */
		p->pend[p->npend].ledger = row.id;
		p->pend[p->npend].graph_id = xstrdup(m.id);
		p->npend++;
	} else if (intake(p, obj, &m, found ? row.attempt + 1 : 1, err) == -1) {
		p->st->errors++;
		rc = err->code == E_DB || err->code == E_UNAVAILABLE ||
		        err->code == E_AUTH
		    ? -1
		    : 0;
		log_err("mailbox %llu: message not processed: %s",
		    (unsigned long long)p->t->id,
		    err->detail[0] ? err->detail : err->msg);
	}
	msg_cleanup(&m);
	return rc;
}

static json_t *
action_request(const struct pass *p, size_t i, const char *dest)
{
	struct buf url;
	json_t    *r;
	int        read = strcmp(p->t->processed_action, "mark_read") == 0;

	buf_init(&url, 256);
	buf_printf(&url, "%s/messages/", p->m->rel.data);
	url_encode(&url, p->pend[i].graph_id);
	if (!read)
		buf_puts(&url, "/move");
	r = json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}", "id",
	    p->pend[i].graph_id, "method", read ? "PATCH" : "POST", "url",
	    url.data, "headers", "Content-Type", "application/json", "body",
	    read ? json_pack("{s:b}", "isRead", 1)
	         : json_pack("{s:s}", "destinationId", dest));
	buf_cleanup(&url);
	return r;
}

static void
settle(struct pass *p, const char *graph_id, const char *state)
{
	struct err err;

	for (size_t i = 0; i < p->npend; i++) {
		if (p->pend[i].graph_id == NULL ||
		    strcmp(p->pend[i].graph_id, graph_id) != 0)
			continue;
		if (store_ledger_set_state(p->env->app->db, p->pend[i].ledger,
		        state, &err) == -1)
			log_err("mailbox %llu: ledger %llu not marked %s: %s",
			    (unsigned long long)p->t->id,
			    (unsigned long long)p->pend[i].ledger, state,
			    err.detail);
		free(p->pend[i].graph_id);
		p->pend[i].graph_id = NULL;
	}
}

/* Send one $batch of actions [from, to); returns how many settled done. */
static size_t
batch(struct pass *p, size_t from, size_t to, const char *dest,
    long *retry_after)
{
	struct graph_call  gc = { .method = "POST" };
	struct graph_error ge;
	struct err         err;
	struct buf         url, body;
	json_t            *reqs = json_array(), *res, *arr, *r;
	size_t             done = 0, i;

	for (i = from; i < to; i++)
		json_array_append_new(reqs, action_request(p, i, dest));
	buf_init(&url, 128);
	buf_init(&body, 4096);
	buf_printf(&url, "%s/v1.0/$batch", p->m->graph);
	res = json_pack("{s:o}", "requests", reqs);
	jsonx_dump(res, &body);
	json_decref(res);
	gc.url = url.data;
	gc.body = body.data;
	res = mbx_call_json(p->m, &gc, 0, &ge, &err);
	if (res == NULL)
		log_warn("mailbox %llu: $batch of actions failed (%ld %s); "
		         "the messages are looked at again next pass",
		    (unsigned long long)p->t->id, ge.status, ge.code);
	arr = json_object_get(res, "responses");
	json_array_foreach (arr, i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));
		long        st =
		    (long)json_integer_value(json_object_get(r, "status"));

		if (id == NULL)
			continue;
		if ((st >= 200 && st < 300) || st == 404) {
			settle(p, id, "done");
			done++;
		} else if (st == 429) {
			const char *ra = json_string_value(
			    json_object_get(json_object_get(r, "headers"),
			        "Retry-After"));
			long s = ra ? strtol(ra, NULL, 10) : 1;

			if (s > *retry_after)
				*retry_after = s;
		} else {
			log_warn(
			    "mailbox %llu: action on a message failed: %ld",
			    (unsigned long long)p->t->id, st);
			settle(p, id, "action_failed");
		}
	}
	json_decref(res);
	buf_cleanup(&url);
	buf_cleanup(&body);
	return done;
}

/* Run the pending actions; returns how many messages left the Inbox. */
static size_t
act(struct pass *p, const char *dest)
{
	size_t done = 0;
	long   retry_after = -1;

	for (size_t i = 0; i < p->npend; i += BATCH_MAX) {
		size_t end =
		    i + BATCH_MAX < p->npend ? i + BATCH_MAX : p->npend;

		if (retry_after >= 0 && mbx_wait(p->m, retry_after) == -1)
			break;
		retry_after = -1;
		done += batch(p, i, end, dest, &retry_after);
	}
	/* throttled ones stay "stored" and are finished on the next page */
	if (retry_after >= 0)
		mbx_wait(p->m, retry_after);
	if (p->npend > 0)
		p->seen =
		    xrealloc(p->seen, (p->nseen + p->npend) * sizeof *p->seen);
	for (size_t i = 0; i < p->npend; i++) {
		p->seen[p->nseen++] = p->pend[i].ledger;
		free(p->pend[i].graph_id);
	}
	p->npend = 0;
	return done;
}

/*
 * A row still "stored" or "action_failed" whose message a whole pass did
 * not list has left the Inbox: its action went through but a crash lost
 * the answer, or a person moved it.  It is done — so that a later
 * put-back counts as a new attempt, not as a leftover to move again.
 */
static void
finish_unlisted(struct pass *p)
{
	struct db *db = p->env->app->db;
	uint64_t  *ids = NULL;
	size_t     n = 0, j;
	struct err err;

	if (store_ledger_unfinished(db, p->t->id, &ids, &n, &err) == -1)
		log_err("mailbox %llu: unfinished ledger rows not read: %s",
		    (unsigned long long)p->t->id, err.detail);
	for (size_t i = 0; i < n; i++) {
		for (j = 0; j < p->nseen && p->seen[j] != ids[i]; j++)
			;
		if (j < p->nseen)
			continue;
		log_info("mailbox %llu: ledger %llu: the message is no longer "
		         "in the Inbox; done",
		    (unsigned long long)p->t->id, (unsigned long long)ids[i]);
		if (store_ledger_set_state(db, ids[i], "done", &err) == -1)
			log_err("mailbox %llu: ledger %llu not marked done: %s",
			    (unsigned long long)p->t->id,
			    (unsigned long long)ids[i], err.detail);
	}
	free(ids);
}

/* Resolve the destination of processed mail: a well-known name or id. */
static int
destination(struct pass *p, char **dest, struct err *err)
{
	struct graph_call  gc = { .method = "GET" };
	struct graph_error ge;
	struct buf         url, filter;
	json_t            *o, *f;
	const char        *id;

	*dest = NULL;
	if (strcmp(p->t->processed_action, "move_to_deleted_items") == 0) {
		*dest = xstrdup("deleteditems");
		return 0;
	}
	if (strcmp(p->t->processed_action, "move_to_folder") != 0)
		return 0;
	buf_init(&url, 256);
	buf_init(&filter, 128);
	buf_puts(&filter, "displayName eq '");
	for (const char *c = p->t->processed_folder; *c; c++)
		buf_puts(&filter, *c == '\'' ? "''" : (char[]){ *c, 0 });
	buf_putc(&filter, '\'');
	buf_printf(&url,
	    "%s/mailFolders?$select=id,displayName&$filter=", p->m->base.data);
	url_encode(&url, filter.data);
	gc.url = url.data;
	o = mbx_call_json(p->m, &gc, 1, &ge, err);
	buf_cleanup(&url);
	buf_cleanup(&filter);
	f = json_array_get(json_object_get(o, "value"), 0);
	id = json_string_value(json_object_get(f, "id"));
	if (id != NULL)
		*dest = xstrdup(id);
	json_decref(o);
	if (*dest == NULL) {
		err_set(err, E_NOTFOUND,
		    "the folder \"%s\" for processed mail was not found: "
		    "create it in Outlook next to the Inbox",
		    p->t->processed_folder);
		return -1;
	}
	return 0;
}

static int
drain(struct pass *p, const char *dest, struct err *err)
{
	struct graph_call  gc = { .method = "GET",
		 .prefer = "outlook.body-content-type=\"text\"" };
	struct graph_error ge;
	struct buf         url;
	char              *next = NULL;
	int                rc = 0;
	int                won;

	buf_init(&url, 1024);
	while (rc == 0) {
		json_t *page, *arr, *m;
		size_t  i, n, gone;

		buf_reset(&url);
		if (next != NULL)
			buf_puts(&url, next);
		else
			first_page_url(p, &url);
		free(next);
		next = NULL;
		gc.url = url.data;
		page = mbx_call_json(p->m, &gc, 1, &ge, err);
		if (page == NULL && err->code == E_TOOLARGE &&
		    p->level + 1 < LEVELS) {
			/* big mail: ask for less rather than be stuck */
			p->level++;
			log_warn("mailbox %llu: a page of mail is too large; "
			         "listing %s",
			    (unsigned long long)p->t->id,
			    levels[p->level].says);
			continue;
		}
		if (page == NULL) {
			rc = -1;
			break;
		}
		/* what is left in the Inbox, as the newest listing says */
		if (json_is_integer(json_object_get(page, "@odata.count")))
			p->st->waiting = (long)json_integer_value(
			    json_object_get(page, "@odata.count"));
		arr = json_object_get(page, "value");
		n = json_array_size(arr);
		json_array_foreach (arr, i, m) {
			/* never more than a page, whatever the server sends */
			if (i >= PAGE_SIZE)
				p->partial = 1;
			else if (rc == 0)
				rc = one(p, m, err);
		}
		gone = act(p, dest);
		/* nextLink is $skip-based: once anything left the listing, the
		 * next page would skip as many messages — list from the top */
		if (json_string_value(
		        json_object_get(page, "@odata.nextLink")) &&
		    gone == 0)
			next = xstrdup(json_string_value(
			    json_object_get(page, "@odata.nextLink")));
		json_decref(page);
		if (n == 0 || (gone == 0 && next == NULL))
			break;
		if (gone > 0)
			p->level = 0; /* the big one is gone */
		if (store_lease_take(p->env->app->db, p->t->id, p->env->owner,
		        90, &won, err) == -1 ||
		    !won) {
			if (!won)
				err_set(err, E_CONFLICT, "lease lost");
			rc = -1;
			break;
		}
	}
	if (rc == 0 && !p->partial)
		finish_unlisted(p);
	free(p->seen);
	free(next);
	buf_cleanup(&url);
	return rc;
}

/*
 * One pass over mailbox t through session m (opened by the caller, who
 * holds the mailbox's lease).  Returns 0, or -1 with err when the pass
 * failed; what was committed before a failure stays committed and is
 * finished by a later pass.
 */
int
ingest_mailbox(const struct ingest_env *env, const struct scan_target *t,
    struct mbx *m, struct ingest_stats *st, struct err *err)
{
	struct pass p = { .env = env, .t = t, .st = st, .m = m, .level = 0 };
	char       *dest = NULL;
	int         rc = -1;

	memset(st, 0, sizeof *st);
	st->waiting = -1;
	if (destination(&p, &dest, err) == 0)
		rc = drain(&p, dest, err);
	for (size_t i = 0; i < p.npend; i++)
		free(p.pend[i].graph_id);
	free(dest);
	return rc;
}
