/*
 * ingest: one pass over a mailbox's Inbox (docs/ingest.md).  List
 * oldest first; per message look up its incoming_email row by immutable id:
 *   none                   -> intake (one transaction), then the action;
 *   stored / action_failed -> a crash leftover: only finish the action;
 *   failed                 -> its intake failed before: try again when due;
 *   done                   -> a person put it back, or an admin's Retry
 *                             brought it back from quarantine: intake
 *                             again as attempt + 1.  Under "mark as read"
 *                             a done message was processed: skipped.
 * One message never stops a pass: a failed intake is recorded on that
 * message's own row and the pass goes on; after intake_attempts failures
 * the message is quarantined.  Only a lost database, a refused token or a
 * lost lease stop a pass.  A page that cannot be fetched whole (too large,
 * unreadable JSON) is narrowed: its ids are listed, then each message is
 * fetched alone — with its attachments, else without them (streamed
 * apart), else without its body — so a big or broken message costs only
 * itself, and the next page is listed as usual.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/attach.h"
#include "base/clock.h"
#include "domain/ingest.h"
#include "domain/ingest_pass.h"
#include "domain/intake.h"
#include "base/log.h"
#include "domain/mailbox_graph.h"
#include "domain/scanner.h"
#include "store/incoming.h"
#include "store/mailbox_scan.h"
#include "base/url.h"
#include "base/xmalloc.h"

static const char SELECT[] =
    "id,internetMessageId,conversationId,subject,body,from,sender,"
    "toRecipients,ccRecipients,receivedDateTime,hasAttachments,isRead,"
    "internetMessageHeaders";
/* For one message whose body alone is over the response cap. */
static const char SELECT_SLIM[] =
    "id,internetMessageId,conversationId,subject,from,sender,"
    "toRecipients,ccRecipients,receivedDateTime,hasAttachments,isRead,"
    "internetMessageHeaders";

/* Room for a whole body of MSG_BODY_MAX, JSON-escaped, and the rest. */
#define ALONE_CAP ((size_t)MSG_BODY_MAX * 2 + (1u << 20))

/* How a message is fetched alone, from the most to the least. */
static const struct {
	int         expand;
	int         slim;
	size_t      cap;
	const char *note;
} alone[] = {
	{ .expand = 1, .slim = 0, .cap = HTTP_BODY_CAP, .note = NULL },
	{ .expand = 0, .slim = 0, .cap = ALONE_CAP, .note = NULL },
	{ .expand = 0,
	    .slim = 1,
	    .cap = HTTP_BODY_CAP,
	    .note = "the body is too large to fetch: read it in Outlook" },
};

#define ALONE_LEVELS (sizeof alone / sizeof alone[0])

/* What to do with one listed message, from its incoming_email row. */
enum todo {
	TODO_INTAKE,
	TODO_FINISH,
	TODO_SKIP
};

struct plan {
	enum todo todo;
	unsigned  attempt;
	unsigned  failures;    /* failed intakes of this attempt so far */
	uint64_t  row;         /* the latest incoming_email row, 0 if none */
	int       replaces;    /* the row is a failure this intake replaces */
	int       quarantine;  /* TODO_FINISH: move it to quarantine */
	int       relisted;    /* listed again in this pass: not counted */
	char      again[1100]; /* why this attempt, "" for a first one */
};

static void
list_url(const struct pass *p, struct buf *u, int ids, size_t skip)
{
	struct buf filter;

	const char *floor = p->floor;

	buf_init(&filter, 128);
	buf_printf(&filter, "receivedDateTime ge %s",
	    floor[0] ? floor : "1970-01-01T00:00:00Z");
	buf_printf(u,
	    "%s/mailFolders/inbox/messages?$select=%s&$top=%d"
	    "&$count=true%s&$orderby=",
	    p->m->base.data, ids ? "id,receivedDateTime" : SELECT,
	    INGEST_PAGE_SIZE, ids ? "" : "&$expand=attachments");
	url_encode(u, "receivedDateTime asc");
	buf_puts(u, "&$filter=");
	url_encode(u, filter.data);
	if (skip > 0)
		buf_printf(u, "&$skip=%zu", skip);
	buf_cleanup(&filter);
}

/* A next-page link is followed only to the configured Graph host. */
static int
link_ok(const struct pass *p, const char *link)
{
	size_t n = strlen(p->m->graph);

	return strncmp(link, p->m->graph, n) == 0 && link[n] == '/';
}

static void
stat_outcome(struct ingest_stats *st, enum incoming_outcome outcome)
{
	if (outcome == OUTCOME_TICKET_CREATED)
		st->ticketed++;
	else if (outcome == OUTCOME_TICKET_UPDATED)
		st->updated++;
	else
		st->ignored++;
}

/* Remember the latest receivedDateTime listed (for the read floor). */
static void
note_newest(struct pass *p, json_t *obj)
{
	const char *r =
	    json_string_value(json_object_get(obj, "receivedDateTime"));

	if (r != NULL && strlen(r) >= 20 && strlen(r) < sizeof p->newest &&
	    strcmp(r, p->newest) > 0)
		snprintf(p->newest, sizeof p->newest, "%s", r);
}

static void
mark_seen(struct pass *p, uint64_t incoming_id)
{
	p->seen = xrealloc(p->seen, (p->nseen + 1) * sizeof *p->seen);
	p->seen[p->nseen++] = incoming_id;
}

/* True if this pass already handled incoming_email row id (failed it, say). */
static int
seen_before(const struct pass *p, uint64_t id)
{
	for (size_t i = 0; i < p->nseen; i++)
		if (p->seen[i] == id)
			return 1;
	return 0;
}

static int
plan_of(struct pass *p, const char *graph_id, struct plan *pl, struct err *err)
{
	struct incoming_row row;
	int                 found;

	memset(pl, 0, sizeof *pl);
	pl->todo = TODO_INTAKE;
	pl->attempt = 1;
	if (store_incoming_latest(p->env->app->db, p->t->id, graph_id, &row,
	        &found, err) == -1)
		return -1;
	if (!found)
		return 0;
	pl->row = row.id;
	if (row.state == INCOMING_FAILED) {
		if (seen_before(p, row.id)) {
			pl->todo = TODO_SKIP; /* failed in this very pass */
			pl->relisted = 1;
			return 0;
		}
		if (!row.due) {
			pl->todo = TODO_SKIP;
			p->st->retrying++;
			mark_seen(p, row.id);
			return 0;
		}
		pl->attempt = row.attempt;
		pl->failures = row.failures;
		pl->replaces = 1;
		snprintf(pl->again, sizeof pl->again,
		    "tried again after %u failure%s; the last: %s",
		    row.failures, row.failures == 1 ? "" : "s", row.error);
	} else if (row.state != INCOMING_DONE) {
		/* committed before a crash or a failed action: finish it */
		pl->todo = TODO_FINISH;
		pl->quarantine = row.outcome == OUTCOME_QUARANTINED;
	} else if (row.outcome == OUTCOME_QUARANTINED) {
		pl->attempt = row.attempt + 1;
		snprintf(pl->again, sizeof pl->again,
		    "brought back from quarantine");
	} else if (p->dest == NULL) {
		/* mark as read: the incoming email log, not isRead, says it was
		 * done */
		pl->todo = TODO_SKIP;
	} else {
		pl->attempt = row.attempt + 1;
	}
	return 0;
}

/*
 * How much a move's answer may carry for this message: its JSON as listed
 * (Graph answers a move with the message).
 */
static size_t
answer_size(const json_t *obj)
{
	/* the attachments' bytes were dropped once decoded */
	return obj != NULL ? json_dumpb(obj, NULL, 0, JSON_COMPACT) : 0;
}

/* Queue the action for a committed message (quarantine: move it there). */
static void
queue_action(struct pass *p, uint64_t incoming_id, const char *graph_id,
    int quarantine, size_t size)
{
	struct err err;

	p->worked++;
	if (quarantine && ingest_quarantine_folder(p, &err) == -1) {
		log_err("mailbox %llu: no quarantine folder (%s); the message "
		        "stays in the Inbox until the next pass",
		    (unsigned long long)p->t->id,
		    err.detail[0] ? err.detail : err.msg);
		mark_seen(p, incoming_id);
		return;
	}
	ingest_pend(p, incoming_id, graph_id, quarantine ? p->qdest : p->dest,
	    size);
}

static void
ctx_of(const struct pass *p, struct intake_ctx *cx, struct ack_settings *ack)
{
	const struct ingest_env *env = p->env;

	*ack = (struct ack_settings){ .enabled = p->t->ack_enabled,
		.subject = p->t->ack_subject,
		.body = p->t->ack_body,
		.per_hour = p->t->ack_per_hour,
		.from = p->t->address,
		.connected = 1 };
	*cx = (struct intake_ctx){ .db = env->app->db,
		.mailbox_id = p->t->id,
		.mailbox_address = p->t->address,
		.rules = env->setup->rules,
		.nrules = env->setup->nrules,
		.own = env->setup->own,
		.nown = env->setup->nown,
		.ack = ack,
		.automatic_log_only = p->t->automatic_log_only };
}

/* This intake is the message's last before quarantine. */
static int
last_try(const struct pass *p, const struct plan *pl)
{
	return pl->failures + 1 >= (unsigned)p->env->app->cfg.intake_attempts;
}

static unsigned long
backoff_seconds(long base, unsigned failures)
{
	unsigned long s = (unsigned long)base;

	for (unsigned i = 1; i < failures && s < 86400; i++)
		s *= 4;
	return s < 86400 ? s : 86400;
}

/*
 * The intake of one message failed (why): record it on the message's own
 * row and go on, or quarantine it after intake_attempts failures.
 * Returns -1 (err set) only when the pass must stop: a refused token, or
 * a database that is gone rather than refusing this message.
 */
static int
record_failure(struct pass *p, json_t *obj, const struct msg *m,
    const char *graph_id, const struct plan *pl, const struct err *why,
    struct err *err)
{
	const struct config  *cfg = &p->env->app->cfg;
	struct intake_ctx     cx;
	struct ack_settings   ack;
	struct intake_failure f = { .graph_id = graph_id,
		.attempt = pl->attempt,
		.again = pl->again[0] ? pl->again : NULL,
		.failures = pl->failures + 1 };
	char                  text[600];
	uint64_t              incoming_id;

	/* a refused token stops the pass; so does a stop signal, whose
	 * aborted transfer is no fault of the message */
	if (why->code == E_AUTH || http_aborted()) {
		*err = *why;
		return -1;
	}
	/* The database went away during the intake (lib/adapt/db_txn.c: maybe
	 * during its COMMIT): recording a failure now could overwrite a row
	 * that did commit, so stop; the next pass reads the ledger. */
	if (why->code == E_UNAVAILABLE &&
	    db_errno_gone(db_last_errno(p->env->app->db))) {
		*err = *why;
		return -1;
	}
	if (db_ping(p->env->app->db, err) == -1)
		return -1;
	snprintf(text, sizeof text, "%s",
	    why->detail[0] ? why->detail : why->msg);
	f.error = text;
	f.quarantine = f.failures >= (unsigned)cfg->intake_attempts;
	f.retry_in = (long)backoff_seconds(cfg->retry_backoff, f.failures);
	log_warn("mailbox %llu: message %s: intake failed (%u of %ld)%s: %s",
	    (unsigned long long)p->t->id, graph_id, f.failures,
	    cfg->intake_attempts, f.quarantine ? ", quarantined" : "", text);
	ctx_of(p, &cx, &ack);
	if (intake_failed(&cx, obj, m, &f, &incoming_id, err) == -1)
		return -1;
	p->st->failed++;
	if (!f.quarantine) {
		p->worked++;
		mark_seen(p, incoming_id);
		return 0;
	}
	p->st->quarantined++;
	queue_action(p, incoming_id, graph_id, 1, answer_size(obj));
	return 0;
}

static int
intake_listed(struct pass *p, json_t *obj, const struct msg *m,
    const struct plan *pl, struct err *err)
{
	const struct ingest_env *env = p->env;
	struct intake_ctx        cx;
	struct ack_settings      ack;
	struct attach_ctx        ax = { .http = env->http,
		       .base = p->m->base.data,
		       .token = p->m->token,
		       .cap = (size_t)env->app->cfg.attachment_max_mb << 20 };
	struct attachment       *att = NULL;
	struct intake_in         in = { .source = obj,
		        .msg = m,
		        .attempt = pl->attempt,
		        .again = pl->again[0] ? pl->again : NULL,
		        .ax = &ax,
		        .left_out = "",
		        .replaces = pl->replaces ? pl->row : 0 };
	struct intake_result     res;
	struct graph_error       ge;
	struct buf               left;
	int                      rc = -1;

	ctx_of(p, &cx, &ack);
	buf_init(&left, 64);
	/* listed with $expand=attachments: no request of their own, and
	 * inline images come too (hasAttachments is false for those) */
	in.lenient = last_try(p, pl);
	if (attach_from_listing(json_object_get(obj, "attachments"), ax.cap,
	        &att, &in.natt, &left) == -1 &&
	    m->has_attachments &&
	    attach_list(&ax, m->id, &att, &in.natt, &left, &ge, err) == -1) {
		if (!in.lenient || err->code == E_AUTH)
			goto out;
		/* the last try: the mail without them, and why */
		buf_printf(&left, "%sthe attachments could not be read (%s)",
		    left.len ? "; " : "", err->msg);
	}
	in.att = att;
	in.left_out = left.data;
	if (intake_message(&cx, &in, &res, err) == -1)
		goto out;
	stat_outcome(p->st, res.outcome);
	queue_action(p, res.incoming_id, m->id, 0, answer_size(obj));
	rc = 0;
out:
	attach_free(att, in.natt);
	buf_cleanup(&left);
	return rc;
}

/* Carry out plan pl for the parsed message m; -1 stops the pass. */
static int
carry_out(struct pass *p, json_t *obj, const struct msg *m,
    const struct plan *pl, struct err *err)
{
	struct err why;

	if (pl->todo == TODO_SKIP)
		return 0;
	if (pl->todo == TODO_FINISH) {
		queue_action(p, pl->row, m->id, pl->quarantine,
		    answer_size(obj));
		return 0;
	}
	if (intake_listed(p, obj, m, pl, &why) == 0)
		return 0;
	return record_failure(p, obj, m, m->id, pl, &why, err);
}

/* One listed message (note: why it came without a part, or NULL). */
static int
take_message(struct pass *p, json_t *obj, const char *note, struct err *err)
{
	struct plan pl;
	struct msg  m;
	int         rc;

	note_newest(p, obj);
	if (msg_parse(obj, &m, err) == -1) {
		log_err("mailbox %llu: skipped a message Graph listed without "
		        "a usable id",
		    (unsigned long long)p->t->id);
		p->st->found++;
		p->st->errors++;
		msg_cleanup(&m);
		return 0;
	}
	if (note != NULL)
		buf_printf(&m.notes, "%s%s", m.notes.len ? "; " : "", note);
	rc = plan_of(p, m.id, &pl, err);
	if (rc == 0 && !pl.relisted) {
		p->st->found++;
		rc = carry_out(p, obj, &m, &pl, err);
	}
	msg_cleanup(&m);
	return rc;
}

/*
 * An answer that a message may be to blame for: too large, unreadable
 * JSON, or Graph refusing to read it (a corrupt item gets 500
 * ErrorInternalServerError or 400 ErrorCorruptData on every read).  A
 * refusal that is the mailbox's (401, 403, 429, 503) is not.
 */
static int
message_unreadable(const struct err *err, const struct graph_error *ge)
{
	return err->code == E_TOOLARGE ||
	    strcmp(ge->code, "MalformedResponse") == 0 || ge->status == 400 ||
	    ge->status == 422 || ge->status == 500;
}

/* GET one message by id at step level; NULL with why. */
static json_t *
fetch_alone(struct pass *p, const char *id, size_t level,
    struct graph_error *ge, struct err *why)
{
	struct graph_call gc = { .method = "GET",
		.prefer = "outlook.body-content-type=\"text\"",
		.max_body = alone[level].cap };
	struct buf        url;
	json_t           *o;

	buf_init(&url, 512);
	buf_printf(&url, "%s/messages/", p->m->base.data);
	url_encode(&url, id);
	buf_printf(&url, "?$select=%s%s",
	    alone[level].slim ? SELECT_SLIM : SELECT,
	    alone[level].expand ? "&$expand=attachments" : "");
	gc.url = url.data;
	o = mailbox_graph_call_json(p->m, &gc, 1, ge, why);
	buf_cleanup(&url);
	return o;
}

/* One message of a narrowed page, listed as {"id"}: fetched alone. */
static int
take_message_alone(struct pass *p, json_t *listed, struct err *err)
{
	const char *id = json_string_value(json_object_get(listed, "id"));
	struct graph_error ge = { 0 };
	struct plan        pl;
	struct err         why;
	json_t            *obj = NULL;
	size_t             level;
	int                rc, big = 1;

	if (id == NULL || id[0] == '\0' || strlen(id) > 512 ||
	    strpbrk(id, "/?#% \t\r\n") != NULL)
		return take_message(p, listed, NULL,
		    err); /* counted as unusable */
	note_newest(p, listed);
	if (plan_of(p, id, &pl, err) == -1)
		return -1;
	if (pl.todo != TODO_INTAKE) {
		p->st->found += !pl.relisted;
		if (pl.todo == TODO_FINISH)
			queue_action(p, pl.row, id, pl.quarantine, 0);
		return 0;
	}
	/* step down when too large; when unreadable, to attachments apart,
	 * and on the last try also to the mail without its body */
	for (level = 0; obj == NULL && level < ALONE_LEVELS; level++) {
		obj = fetch_alone(p, id, level, &ge, &why);
		if (obj != NULL)
			break;
		if (why.code != E_TOOLARGE &&
		    !(message_unreadable(&why, &ge) &&
		        (level == 0 || last_try(p, &pl))))
			break;
		big = why.code == E_TOOLARGE;
	}
	if (obj == NULL && ge.status == 404)
		return 0; /* gone since the listing */
	if (obj == NULL && !message_unreadable(&why, &ge)) {
		*err = why; /* Graph itself failing: stop, try next pass */
		return -1;
	}
	if (obj == NULL) {
		p->st->found++;
		return record_failure(p, NULL, NULL, id, &pl, &why, err);
	}
	rc = take_message(p, obj,
	    alone[level].slim && !big
	        ? "the body could not be read from Graph: read it in Outlook"
	        : alone[level].note,
	    err);
	json_decref(obj);
	return rc;
}

/*
 * Has this visit used its budget (struct ingest_env)?  Only after it
 * handled a message, so that every visit makes progress.
 */
static int
budget_spent(const struct pass *p)
{
	const struct ingest_env *env = p->env;

	if (p->worked == 0)
		return 0;
	return (env->visit_mails > 0 &&
	           p->worked >= (size_t)env->visit_mails) ||
	    (env->visit_ms > 0 &&
	        clock_mono_ms() - p->started >= env->visit_ms);
}

/* Take a page's messages in turn; -1 when the pass must stop. */
static int
page_messages(struct pass *p, json_t *page, int narrow, struct err *err)
{
	json_t *arr = json_object_get(page, "value"), *o;
	size_t  i;

	/* what is left in the Inbox, as the newest listing says */
	if (json_is_integer(json_object_get(page, "@odata.count")))
		p->st->waiting = (long)json_integer_value(
		    json_object_get(page, "@odata.count"));
	json_array_foreach (arr, i, o) {
		/* never more than a page, whatever the server sends */
		if (i >= INGEST_PAGE_SIZE) {
			p->partial = 1;
			break;
		}
		/* the rest is left for the next visit: nothing of it is
		 * written yet, and the pass counts as partial */
		if (budget_spent(p)) {
			p->partial = 1;
			p->st->more = 1;
			break;
		}
		if ((narrow ? take_message_alone(p, o, err)
		            : take_message(p, o, NULL, err)) == -1)
			return -1;
	}
	return 0;
}

static int
drain_inbox(struct pass *p, struct err *err)
{
	struct graph_call  gc = { .method = "GET",
		 .prefer = "outlook.body-content-type=\"text\"" };
	struct graph_error ge;
	struct buf         url;
	char              *next = NULL;
	size_t             skip = 0;
	int                narrow = 0, rc = 0;

	buf_init(&url, 1024);
	while (rc == 0) {
		json_t     *page;
		const char *link;
		size_t      n, gone;

		buf_reset(&url);
		if (next != NULL)
			buf_puts(&url, next);
		else
			list_url(p, &url, narrow, skip);
		free(next);
		next = NULL;
		gc.url = url.data;
		page = mailbox_graph_call_json(p->m, &gc, 1, &ge, err);
		if (page == NULL && !narrow && message_unreadable(err, &ge)) {
			log_warn("mailbox %llu: a page of mail %s; taking its "
			         "messages one by one",
			    (unsigned long long)p->t->id,
			    err->code == E_TOOLARGE ? "is too large to fetch"
			                            : "could not be read");
			narrow = 1;
			continue;
		}
		if (page == NULL) {
			rc = -1;
			break;
		}
		n = json_array_size(json_object_get(page, "value"));
		rc = page_messages(p, page, narrow, err);
		gone = ingest_run_actions(p);
		link =
		    json_string_value(json_object_get(page, "@odata.nextLink"));
		if (rc == 0 && link != NULL && !link_ok(p, link)) {
			err_set(err, E_UNAVAILABLE,
			    "Graph's next-page link points away from %s: "
			    "not followed",
			    p->m->graph);
			rc = -1;
		}
		/* nextLink is $skip-based: once anything left the listing, the
		 * next page would skip as many messages — list from the top */
		if (rc == 0 && link != NULL && gone == 0 && !narrow)
			next = xstrdup(link);
		json_decref(page);
		if (rc == -1 || n == 0 || (gone == 0 && link == NULL))
			break;
		if (rc == 0 && !p->st->more && budget_spent(p))
			p->partial = p->st->more = 1;
		if (p->st->more)
			break;
		skip = gone > 0 ? 0 : skip + n;
		narrow = narrow && gone == 0;
		if (scanner_lease_renew(p->env->app->db, p->t->id,
		        p->env->owner, err) == -1)
			rc = -1;
	}
	if (rc == 0 && !p->partial) {
		/* rows made by this pass were listed: only older ones count */
		if (p->t->has_unfinished)
			ingest_finish_unlisted(p);
		if (p->dest == NULL && p->newest[0] &&
		    store_mailbox_scan_read_floor(p->env->app->db, p->t->id,
		        p->newest, err) == -1)
			log_err("mailbox %llu: read floor not saved: %s",
			    (unsigned long long)p->t->id, err->detail);
	}
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
	struct pass p = { .env = env,
		.t = t,
		.st = st,
		.m = m,
		.started = clock_mono_ms() };
	int         rc = -1;

	memset(st, 0, sizeof *st);
	st->waiting = -1;
	/* ISO 8601 in one format: the later floor sorts last */
	snprintf(p.floor, sizeof p.floor, "%s",
	    strcmp(t->read_floor, t->floor) > 0 ? t->read_floor : t->floor);
	if (ingest_destination(&p, err) == 0) {
		if (t->has_retries)
			ingest_bring_back(&p);
		rc = drain_inbox(&p, err);
	}
	for (size_t i = 0; i < p.npend; i++)
		free(p.pend[i].graph_id);
	free(p.seen);
	free(p.dest);
	free(p.qdest);
	return rc;
}
