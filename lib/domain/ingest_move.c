/*
 * ingest_move: what a pass does to messages in Graph once their intake is
 * committed — move them (to Deleted Items, a folder, or the quarantine
 * folder) or mark them read, in $batch requests of at most 20 — and the
 * folders those actions need.  An action whose outcome is unknown
 * (timeout, 5xx, an answer over its cap) is not repeated blindly: the
 * message is looked at again on the next listing (docs/ingest.md, "The
 * actions, in `$batch`").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/ingest_pass.h"
#include "adapt/jsonx.h"
#include "base/log.h"
#include "domain/mailbox_graph.h"
#include "store/incoming.h"
#include "store/mailbox_scan.h"
#include "base/url.h"
#include "base/xmalloc.h"

/* Remember a committed message's action, done with the page's batch. */
void
ingest_pend(struct pass *p, uint64_t incoming_id, const char *graph_id,
    const char *dest, size_t size)
{
	struct pending *q = &p->pend[p->npend++];

	q->incoming_id = incoming_id;
	q->graph_id = xstrdup(graph_id);
	q->dest = dest;
	q->size = size;
}

static json_t *
action_request(const struct pass *p, const struct pending *q)
{
	struct buf url;
	json_t    *r;
	int        read = q->dest == NULL;

	buf_init(&url, 256);
	buf_printf(&url, "%s/messages/", p->m->rel.data);
	url_encode(&url, q->graph_id);
	if (!read)
		buf_puts(&url, "/move");
	r = json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}", "id", q->graph_id,
	    "method", read ? "PATCH" : "POST", "url", url.data, "headers",
	    "Content-Type", "application/json", "body",
	    read ? json_pack("{s:b}", "isRead", 1)
	         : json_pack("{s:s}", "destinationId", q->dest));
	buf_cleanup(&url);
	return r;
}

/* Record the outcome of graph_id's action; returns 1 if it was a move. */
static int
settle_action(struct pass *p, const char *graph_id, enum incoming_state state)
{
	struct err err;
	int        moved = 0;

	for (size_t i = 0; i < p->npend; i++) {
		if (p->pend[i].graph_id == NULL ||
		    strcmp(p->pend[i].graph_id, graph_id) != 0)
			continue;
		if (store_incoming_set_state(p->env->app->db,
		        p->pend[i].incoming_id, state, &err) == -1)
			log_err("mailbox %llu: incoming email %llu not marked "
			        "%s: %s",
			    (unsigned long long)p->t->id,
			    (unsigned long long)p->pend[i].incoming_id,
			    incoming_state_name(state), err.detail);
		moved |= p->pend[i].dest != NULL;
		free(p->pend[i].graph_id);
		p->pend[i].graph_id = NULL;
	}
	return moved;
}

/* Send one $batch of actions [from, to); returns how many were moved. */
static size_t
send_batch(struct pass *p, size_t from, size_t to, long *retry_after)
{
	struct graph_call  gc = { .method = "POST" };
	struct graph_error ge;
	struct err         err;
	struct buf         url, body;
	json_t            *reqs = json_array(), *res, *arr, *r;
	size_t             done = 0, i, bodies = 0;

	for (i = from; i < to; i++) {
		json_array_append_new(reqs, action_request(p, &p->pend[i]));
		bodies += p->pend[i].size;
	}
	buf_init(&url, 128);
	buf_init(&body, 4096);
	buf_printf(&url, "%s/v1.0/$batch", p->m->graph);
	res = json_pack("{s:o}", "requests", reqs);
	jsonx_dump(res, &body);
	json_decref(res);
	gc.url = url.data;
	gc.body = body.data;
	/* a move answers with the whole message: room for the bodies (as
	 * HTML and escaped, up to four times the text) beside the default */
	gc.max_body = HTTP_BODY_CAP + 4 * bodies;
	res = mailbox_graph_call_json(p->m, &gc, 0, &ge, &err);
	if (res == NULL)
		log_warn("mailbox %llu: $batch of actions failed (%ld %s: "
		         "%s); the messages are looked at again next pass",
		    (unsigned long long)p->t->id, ge.status, ge.code, err.msg);
	arr = json_object_get(res, "responses");
	json_array_foreach (arr, i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));
		long        st =
		    (long)json_integer_value(json_object_get(r, "status"));

		if (id == NULL)
			continue;
		if ((st >= 200 && st < 300) || st == 404) {
			done += (size_t)settle_action(p, id, INCOMING_DONE);
		} else if (st == 429) {
			const char *ra = json_string_value(
			    json_object_get(json_object_get(r, "headers"),
			        "Retry-After"));
			long s = ra ? strtol(ra, NULL, 10) : 1;

			p->m->throttled++;
			if (s > *retry_after)
				*retry_after = s;
		} else {
			log_warn(
			    "mailbox %llu: action on a message failed: %ld",
			    (unsigned long long)p->t->id, st);
			settle_action(p, id, INCOMING_ACTION_FAILED);
		}
	}
	json_decref(res);
	buf_cleanup(&url);
	buf_cleanup(&body);
	return done;
}

/*
 * Run the pending actions; returns how many messages left the Inbox (a
 * message marked read stays in it).
 */
size_t
ingest_run_actions(struct pass *p)
{
	size_t done = 0;
	long   retry_after = -1;

	for (size_t i = 0; i < p->npend; i += GRAPH_BATCH_MAX) {
		size_t end = i + GRAPH_BATCH_MAX < p->npend
		    ? i + GRAPH_BATCH_MAX
		    : p->npend;

		if (retry_after >= 0 &&
		    mailbox_graph_wait(p->m, retry_after) == -1)
			break;
		retry_after = -1;
		done += send_batch(p, i, end, &retry_after);
	}
	/* throttled ones stay "stored" and are finished on the next page */
	if (retry_after >= 0)
		mailbox_graph_wait(p->m, retry_after);
	if (p->npend > 0)
		p->seen =
		    xrealloc(p->seen, (p->nseen + p->npend) * sizeof *p->seen);
	for (size_t i = 0; i < p->npend; i++) {
		p->seen[p->nseen++] = p->pend[i].incoming_id;
		free(p->pend[i].graph_id);
		p->pend[i].graph_id = NULL;
	}
	p->npend = 0;
	return done;
}

/*
 * A row still "stored" or "action_failed" whose message a whole pass did
 * not list has left the Inbox: its action went through but a crash lost
 * the answer, or a person moved it.  It is done — so that a later
 * put-back counts as a new attempt, not as a leftover to move again.  So
 * is a failed row whose message someone took out of the Inbox.
 */
void
ingest_finish_unlisted(struct pass *p)
{
	struct db *db = p->env->app->db;
	uint64_t  *ids = NULL;
	size_t     n = 0, j;
	struct err err;

	if (store_incoming_unfinished(db, p->t->id, &ids, &n, &err) == -1)
		log_err(
		    "mailbox %llu: unfinished incoming_email rows not read: %s",
		    (unsigned long long)p->t->id, err.detail);
	for (size_t i = 0; i < n; i++) {
		for (j = 0; j < p->nseen && p->seen[j] != ids[i]; j++)
			;
		if (j < p->nseen)
			continue;
		log_info("mailbox %llu: incoming email %llu: the message is no "
		         "longer "
		         "in the Inbox; done",
		    (unsigned long long)p->t->id, (unsigned long long)ids[i]);
		if (store_incoming_left_inbox(db, ids[i], &err) == -1)
			log_err("mailbox %llu: incoming email %llu not marked "
			        "done: %s",
			    (unsigned long long)p->t->id,
			    (unsigned long long)ids[i], err.detail);
	}
	free(ids);
}

/* The id of the top-level folder called name in *id, or NULL if none. */
static int
find_folder(struct pass *p, const char *name, char **id, struct err *err)
{
	struct graph_call  gc = { .method = "GET" };
	struct graph_error ge;
	struct buf         url;
	json_t            *o, *f;
	const char        *s;

	*id = NULL;
	buf_init(&url, 256);
	buf_printf(&url,
	    "%s/mailFolders?$select=id,displayName&$filter=", p->m->base.data);
	url_odata_eq(&url, "displayName", name);
	gc.url = url.data;
	o = mailbox_graph_call_json(p->m, &gc, 1, &ge, err);
	buf_cleanup(&url);
	if (o == NULL)
		return -1;
	f = json_array_get(json_object_get(o, "value"), 0);
	s = json_string_value(json_object_get(f, "id"));
	if (s != NULL)
		*id = xstrdup(s);
	json_decref(o);
	return 0;
}

/* Resolve where processed mail goes (p->dest; NULL: mark it read). */
int
ingest_destination(struct pass *p, struct err *err)
{
	p->dest = NULL;
	if (p->t->processed_action == PROCESSED_MOVE_TO_DELETED_ITEMS) {
		p->dest = xstrdup("deleteditems");
		return 0;
	}
	if (p->t->processed_action != PROCESSED_MOVE_TO_FOLDER)
		return 0; /* mark as read */
	if (find_folder(p, p->t->processed_folder, &p->dest, err) == -1)
		return -1;
	if (p->dest == NULL) {
		err_set(err, E_NOTFOUND,
		    "the folder \"%s\" for processed mail was not found: "
		    "create it in Outlook next to the Inbox",
		    p->t->processed_folder);
		return -1;
	}
	return 0;
}

/*
 * Resolve the quarantine folder (p->qdest), creating it next to the
 * Inbox when missing — once a pass, and only when a message needs it.
 */
int
ingest_quarantine_folder(struct pass *p, struct err *err)
{
	const char        *name = p->t->quarantine_folder;
	struct graph_call  gc = { .method = "POST" };
	struct graph_error ge;
	struct buf         url, body;
	json_t            *o, *req;
	int                rc;

	if (p->qdest != NULL)
		return 0;
	if (find_folder(p, name, &p->qdest, err) == -1 || p->qdest != NULL)
		return p->qdest != NULL ? 0 : -1;
	buf_init(&url, 256);
	buf_init(&body, 256);
	buf_printf(&url, "%s/mailFolders", p->m->base.data);
	req = json_pack("{s:s}", "displayName", name);
	jsonx_dump(req, &body);
	json_decref(req);
	gc.url = url.data;
	gc.body = body.data;
	o = mailbox_graph_call_json(p->m, &gc, 0, &ge, err);
	if (o != NULL && json_string_value(json_object_get(o, "id")) != NULL)
		p->qdest = xstrdup(json_string_value(json_object_get(o, "id")));
	json_decref(o);
	buf_cleanup(&url);
	buf_cleanup(&body);
	if (p->qdest != NULL) {
		log_info("mailbox %llu: created the quarantine folder \"%s\"",
		    (unsigned long long)p->t->id, name);
		return 0;
	}
	/* made meanwhile by another scanner or a person: look again */
	rc = ge.status == 409 ? find_folder(p, name, &p->qdest, err) : -1;
	if (rc == 0 && p->qdest == NULL) {
		err_set(err, E_UNAVAILABLE,
		    "the quarantine folder \"%s\" could not be created", name);
		rc = -1;
	}
	return rc;
}

/*
 * Quarantined messages an admin asked to retry go back to the Inbox, where
 * this pass's listing finds them and takes them in again.
 */
void
ingest_bring_back(struct pass *p)
{
	struct db                 *db = p->env->app->db;
	struct incoming_retry_row *r = NULL;
	size_t                     n = 0;
	struct err                 err;

	if (store_incoming_retries(db, p->t->id, &r, &n, &err) == -1) {
		log_err("mailbox %llu: retries not read: %s",
		    (unsigned long long)p->t->id, err.detail);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct graph_call  gc = { .method = "POST",
			 .body = "{\"destinationId\":\"inbox\"}" };
		struct graph_error ge;
		struct buf         url;
		json_t            *o;

		buf_init(&url, 256);
		buf_printf(&url, "%s/messages/", p->m->base.data);
		url_encode(&url, r[i].graph_id);
		buf_puts(&url, "/move");
		gc.url = url.data;
		o = mailbox_graph_call_json(p->m, &gc, 0, &ge, &err);
		json_decref(o);
		buf_cleanup(&url);
		if (o == NULL && ge.status != 404) {
			log_warn("mailbox %llu: incoming email %llu not "
			         "brought back "
			         "from quarantine (%ld %s); next pass",
			    (unsigned long long)p->t->id,
			    (unsigned long long)r[i].id, ge.status, ge.code);
			continue;
		}
		if (ge.status == 404)
			store_incoming_note(db, r[i].id,
			    "retry: the message is no longer in the "
			    "quarantine folder",
			    &err);
		/* under mark as read it may now be below the listing floor */
		if (p->dest == NULL && r[i].floor[0] &&
		    strcmp(r[i].floor, p->floor) < 0) {
			memcpy(p->floor, r[i].floor, sizeof p->floor);
			if (store_mailbox_scan_read_floor_lower(db, p->t->id,
			        p->floor, &err) == -1)
				continue; /* retried next pass */
		}
		if (store_incoming_retry_clear(db, r[i].id, &err) == -1)
			log_err(
			    "mailbox %llu: retry of incoming email %llu not "
			    "cleared: %s",
			    (unsigned long long)p->t->id,
			    (unsigned long long)r[i].id, err.detail);
	}
	store_incoming_retries_free(r, n);
}
