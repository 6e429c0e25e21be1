/*
 * intake: the incoming_email row and the ticket work commit together or not at
 * all, so a crash leaves either nothing (the message is processed again)
 * or a complete record whose row says "stored" (the scanner only finishes
 * the processed-mail action).  Every decision is written to the row's
 * trace, so the incoming email log explains each mail (docs/ingest.md,
 * "Exactly once, under a crash").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "domain/intake.h"
#include "adapt/jsonx.h"
#include "base/log.h"
#include "mail/autoreply.h"
#include "store/incoming.h"
#include "store/mailbox_scan.h"
#include "store/ticket.h"
#include "mail/threading.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

/* What incoming_email.source keeps of one message (MEDIUMTEXT: 16 MiB). */
#define SOURCE_MAX (8u << 20)

struct decision {
	enum incoming_outcome outcome;
	struct rules_verdict  v;
	struct buf            automatic;
	struct buf            trace;
	uint64_t              ticket; /* existing ticket to update, or 0 */
};

/* Load what a pass's intakes need; free with intake_setup_free(). */
int
intake_setup_load(struct db *db, struct intake_setup *s, struct err *err)
{
	memset(s, 0, sizeof *s);
	if (rules_load(db, &s->rules, &s->nrules, err) == -1 ||
	    store_mailbox_scan_own_addresses(db, &s->own, &s->nown, err) ==
	        -1) {
		intake_setup_free(s);
		return -1;
	}
	return 0;
}

void
intake_setup_free(struct intake_setup *s)
{
	for (size_t i = 0; i < s->nown; i++)
		free(s->own[i]);
	free(s->own);
	rules_free(s->rules, s->nrules);
	memset(s, 0, sizeof *s);
}

/* Append a line; one cut short by snprintf never ends inside a character. */
static void
add_trace(struct decision *d, const char *line)
{
	if (d->trace.len > 0)
		buf_putc(&d->trace, '\n');
	buf_append(&d->trace, line, utf8_cut(line, strlen(line), SIZE_MAX));
}

static int
is_own(const struct intake_ctx *cx, const char *addr)
{
	for (size_t i = 0; i < cx->nown; i++)
		if (strcmp(cx->own[i], addr) == 0)
			return 1;
	return cx->mailbox_address[0] && strcmp(cx->mailbox_address, addr) == 0;
}

/* Take a candidate ticket only if the sender took part in it. */
static int
take_candidate(const struct intake_ctx *cx, const struct msg *m,
    struct decision *d, uint64_t t, const char *how, struct err *err)
{
	char line[400];
	int  yes;

	if (store_ticket_participant_is(cx->db, t, m->from.address, &yes,
	        err) == -1)
		return -1;
	if (yes) {
		d->ticket = t;
		snprintf(line, sizeof line, "threaded to ticket %llu by %s",
		    (unsigned long long)t, how);
	} else {
		snprintf(line, sizeof line,
		    "ticket %llu matched by %s, but %s never took part in it: "
		    "new ticket",
		    (unsigned long long)t, how, m->from.address);
	}
	add_trace(d, line);
	return 1;
}

static int
find_thread(const struct intake_ctx *cx, const struct msg *m,
    struct decision *d, struct err *err)
{
	char    *refs[THREAD_MAX_REFS], how[64];
	size_t   n;
	uint64_t t = threading_tag(m->subject), found = 0;
	int      exists = 0, rc = 0;

	if (t != 0 && store_ticket_exists(cx->db, t, &exists, err) == -1)
		return -1;
	if (exists) {
		snprintf(how, sizeof how, "ticket tag [#%llu]",
		    (unsigned long long)t);
		return take_candidate(cx, m, d, t, how, err) == -1 ? -1 : 0;
	}
	n = threading_refs(m, refs, THREAD_MAX_REFS);
	for (size_t i = 0; rc == 0 && found == 0 && i < n; i++)
		rc = store_ticket_by_message_id(cx->db, refs[i], &found, err);
	for (size_t i = 0; i < n; i++)
		free(refs[i]);
	if (rc == -1)
		return -1;
	if (found != 0)
		return take_candidate(cx, m, d, found, "In-Reply-To/References",
		           err) == -1
		    ? -1
		    : 0;
	if (m->conversation_id[0] &&
	    store_ticket_by_conversation(cx->db, m->conversation_id, &found,
	        err) == -1)
		return -1;
	if (found != 0)
		return take_candidate(cx, m, d, found, "conversationId", err) ==
		        -1
		    ? -1
		    : 0;
	return 0;
}

static int
decide_outcome(const struct intake_ctx *cx, const struct intake_in *in,
    struct decision *d, struct err *err)
{
	const struct msg *m = in->msg;
	char              line[300];

	if (autoreply_is_automatic(m, (const char *const *)cx->own, cx->nown,
	        &d->automatic)) {
		snprintf(line, sizeof line, "automatic: %s", d->automatic.data);
		add_trace(d, line);
	}
	if (d->trace.len > 0)
		buf_putc(&d->trace, '\n');
	rules_apply(cx->rules, cx->nrules, cx->mailbox_id, m, &d->v, &d->trace);
	if (m->from.address[0] &&
	    strcmp(m->from.address, cx->mailbox_address) == 0) {
		d->outcome = OUTCOME_SUPPRESSED_LOOP;
		add_trace(d, "from this mailbox itself: no ticket");
	} else if (d->v.ignore) {
		d->outcome = OUTCOME_IGNORED_BY_RULE;
		snprintf(line, sizeof line, "ignored by rule %llu",
		    (unsigned long long)d->v.rule_id);
		add_trace(d, line);
	} else if (m->from.address[0] == '\0') {
		d->outcome = OUTCOME_REJECTED;
		add_trace(d, "no sender address: no ticket");
	} else if (d->automatic.len > 0 && cx->automatic_log_only) {
		d->outcome = OUTCOME_LOGGED_AUTOMATIC;
		add_trace(d,
		    "automatic mail: this mailbox only logs it "
		    "(automatic_mail = log_only), no ticket");
	} else {
		if (find_thread(cx, m, d, err) == -1)
			return -1;
		d->outcome =
		    d->ticket ? OUTCOME_TICKET_UPDATED : OUTCOME_TICKET_CREATED;
	}
	if (m->notes.len > 0) {
		snprintf(line, sizeof line, "note: %.250s", m->notes.data);
		add_trace(d, line);
	}
	if (in->left_out[0]) {
		snprintf(line, sizeof line, "attachments: %.250s",
		    in->left_out);
		add_trace(d, line);
	}
	return 0;
}

static int
add_participants(const struct intake_ctx *cx, uint64_t t, const struct msg *m,
    struct err *err)
{
	if (store_ticket_participant_add(cx->db, t, m->from.address, err) == -1)
		return -1;
	for (size_t i = 0; i < m->nto; i++)
		if (!is_own(cx, m->to[i].address) &&
		    store_ticket_participant_add(cx->db, t, m->to[i].address,
		        err) == -1)
			return -1;
	for (size_t i = 0; i < m->ncc; i++)
		if (!is_own(cx, m->cc[i].address) &&
		    store_ticket_participant_add(cx->db, t, m->cc[i].address,
		        err) == -1)
			return -1;
	return 0;
}

/* Create or touch the ticket; the end user is the sender. */
static int
ticket_for(const struct intake_ctx *cx, const struct msg *m, struct decision *d,
    uint64_t *t, struct err *err)
{
	struct new_ticket nt = { 0 };
	uint64_t          user;
	char              line[120];

	if (d->ticket != 0) {
		*t = d->ticket;
		return store_ticket_touch(cx->db, *t, err);
	}
	if (store_ticket_end_user(cx->db, m->from.address, m->from.name, &user,
	        err) == -1)
		return -1;
	nt.mailbox_id = cx->mailbox_id;
	nt.end_user_id = user;
	nt.subject = m->subject[0] ? m->subject : "(no subject)";
	nt.priority = d->v.priority[0] ? d->v.priority : NULL;
	nt.category = d->v.category[0] ? d->v.category : NULL;
	nt.conversation_id = m->conversation_id;
	nt.automatic = d->automatic.len > 0;
	if (store_ticket_create(cx->db, &nt, t, err) == -1)
		return -1;
	snprintf(line, sizeof line, "new ticket %llu", (unsigned long long)*t);
	add_trace(d, line);
	return 0;
}

static int
add_action(const struct intake_ctx *cx, const struct intake_in *in, uint64_t t,
    uint64_t incoming_id, struct err *err)
{
	const struct msg *m = in->msg;
	struct new_action a = { 0 };
	struct buf        to, cc;
	uint64_t          id;
	int               rc;

	buf_init(&to, 128);
	buf_init(&cc, 128);
	msg_addr_list(&to, m->to, m->nto);
	msg_addr_list(&cc, m->cc, m->ncc);
	a.ticket_id = t;
	a.kind = "email_in";
	a.incoming_email_id = incoming_id;
	a.from = m->from.address;
	a.to = to.data;
	a.cc = cc.data;
	a.subject = m->subject;
	a.body = m->body;
	a.message_id = m->internet_message_id;
	rc = store_ticket_action_add(cx->db, &a, &id, err);
	for (size_t i = 0; rc == 0 && i < in->natt; i++)
		rc = intake_attachment(cx, in, id, incoming_id, &in->att[i],
		    err);
	buf_cleanup(&to);
	buf_cleanup(&cc);
	return rc;
}

static void
received_iso(char out[21], const char *iso)
{
	/* Only "YYYY-MM-DDTHH:MM:SS" (+ fraction) + "Z" reaches SQL. */
	size_t n = strlen(iso);

	out[0] = '\0';
	if (n >= 20 && iso[4] == '-' && iso[10] == 'T' && iso[n - 1] == 'Z') {
		memcpy(out, iso, 19);
		out[19] = 'Z';
		out[20] = '\0';
	}
}

/*
 * The Graph JSON as received, for the log, in out.  incoming_email.source
 * holds 16 MiB; a source over SOURCE_MAX keeps everything but the body's
 * text, which the ticket's message holds (the trace says so).
 */
static void
source_of(json_t *src, struct buf *out, struct buf *why)
{
	json_t *copy;

	jsonx_dump(src, out);
	if (out->len <= SOURCE_MAX)
		return;
	copy = json_deep_copy(src);
	buf_reset(out);
	buf_printf(why,
	    "the log keeps the Graph JSON without the body's text "
	    "(%zu bytes in all)",
	    out->len);
	json_object_set_new(json_object_get(copy, "body"), "content",
	    json_string("(left out of the log: see the ticket)"));
	json_object_del(copy, "attachments");
	jsonx_dump(copy, out);
	json_decref(copy);
	if (out->len > SOURCE_MAX) {
		buf_reset(out);
		buf_puts(out, "{}");
		buf_reset(why);
		buf_puts(why, "the Graph JSON is too large for the log");
	}
}

static int
record_intake(const struct intake_ctx *cx, const struct intake_in *in,
    struct decision *d, struct intake_result *res, struct err *err)
{
	const struct msg   *m = in->msg;
	struct new_incoming l = { 0 };
	struct buf          to, cc, src, why;
	char                when[21];
	uint64_t            t = 0;
	int                 rc = -1;

	buf_init(&why, 64);
	buf_init(&to, 128);
	buf_init(&cc, 128);
	buf_init(&src, 4096);
	msg_addr_list(&to, m->to, m->nto);
	msg_addr_list(&cc, m->cc, m->ncc);
	source_of(in->source, &src, &why);
	if (why.len > 0)
		add_trace(d, why.data);
	received_iso(when, m->received);
	if ((d->outcome == OUTCOME_TICKET_CREATED ||
	        d->outcome == OUTCOME_TICKET_UPDATED) &&
	    (ticket_for(cx, m, d, &t, err) == -1 ||
	        add_participants(cx, t, m, err) == -1))
		goto out;
	l.mailbox_id = cx->mailbox_id;
	l.graph_id = m->id;
	l.attempt = in->attempt;
	l.message_id = m->internet_message_id;
	l.from = m->from.address;
	l.from_name = m->from.name;
	l.to = to.data;
	l.cc = cc.data;
	l.subject = m->subject;
	l.received = when;
	l.size = src.len;
	crypto_hash_sha256(l.sha256, (const unsigned char *)src.data, src.len);
	l.source = src.data;
	l.outcome = d->outcome;
	l.automatic = d->automatic.len ? d->automatic.data : NULL;
	l.rule_id = d->v.rule_id;
	l.ticket_id = t;
	l.trace = d->trace.data;
	if ((in->replaces != 0 &&
	        store_incoming_delete(cx->db, in->replaces, err) == -1) ||
	    store_incoming_add(cx->db, &l, &res->incoming_id, err) == -1)
		goto out;
	if (t != 0 && add_action(cx, in, t, res->incoming_id, err) == -1)
		goto out;
	if (d->outcome == OUTCOME_TICKET_CREATED && cx->ack != NULL) {
		struct ack_facts f = { .incoming_id = res->incoming_id,
			.ticket_id = t,
			.ticket_subject =
			    m->subject[0] ? m->subject : "(no subject)",
			.automatic =
			    d->automatic.len ? d->automatic.data : NULL,
			.no_ack_rule = d->v.no_ack
			    ? (d->v.rule_id ? d->v.rule_id : 1)
			    : 0 };

		if (sending_ack(cx->db, cx->mailbox_id, cx->ack, m, &f, err) ==
		    -1)
			goto out;
	}
	res->ticket_id = t;
	rc = 0;
out:
	buf_cleanup(&why);
	buf_cleanup(&to);
	buf_cleanup(&cc);
	buf_cleanup(&src);
	return rc;
}

struct intake_run {
	const struct intake_ctx *cx;
	const struct intake_in  *in;
	struct decision         *d;
	struct intake_result    *res;
};

/* One run of the intake transaction; every run starts from scratch. */
static int
intake_txn(struct db *db, void *arg, struct err *err)
{
	struct intake_run *r = arg;
	struct decision   *d = r->d;

	(void)db;
	memset(r->res, 0, sizeof *r->res);
	memset(&d->v, 0, sizeof d->v);
	d->outcome = 0;
	d->ticket = 0;
	buf_reset(&d->automatic);
	buf_reset(&d->trace);
	if (r->in->attempt > 1) {
		char line[200];

		snprintf(line, sizeof line, "attempt %u: %s", r->in->attempt,
		    r->in->again ? r->in->again
		                 : "the message was put back in the Inbox");
		add_trace(d, line);
	}
	if (decide_outcome(r->cx, r->in, d, err) == -1)
		return -1;
	return record_intake(r->cx, r->in, d, r->res, err);
}

/*
 * Decide what message in->msg becomes and record it in one transaction.
 * Returns 0 with res filled, or -1 with err (nothing was written).  Run
 * again on conflicts (db_txn(): on Galera, e.g. two nodes threading mail
 * into one ticket); after an unknown COMMIT outcome it fails with
 * E_UNAVAILABLE instead, which stops the pass: the ledger row (incoming_email,
 * unique per mailbox, message and attempt) tells the next pass whether it
 * was written (then only the action is finished) or not (intake again).
 */
int
intake_message(const struct intake_ctx *cx, const struct intake_in *in,
    struct intake_result *res, struct err *err)
{
	struct decision   d = { 0 };
	struct intake_run r = { cx, in, &d, res };
	int               rc;

	buf_init(&d.automatic, 64);
	buf_init(&d.trace, 512);
	rc = db_txn(cx->db, intake_txn, &r, 0, err);
	if (rc == 0)
		res->outcome = d.outcome;
	buf_cleanup(&d.automatic);
	buf_cleanup(&d.trace);
	return rc;
}

/* Copy s into dst (size bytes), cut on a UTF-8 character boundary. */
static void
copy_cut(char *dst, size_t size, const char *s)
{
	size_t n = utf8_cut(s, strlen(s), size - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * Record that the intake of one message failed (nothing of it was
 * written): its row says failed, how often, why and when to try again —
 * or quarantined, when f->quarantine.  m may be NULL when the message
 * could not be parsed.  A row the database refuses is written again
 * without the mail's own fields, so a failure is never lost.  Returns 0
 * with *incoming_id, or -1 with err.
 */
int
intake_failed(const struct intake_ctx *cx, json_t *source, const struct msg *m,
    const struct intake_failure *f, uint64_t *incoming_id, struct err *err)
{
	struct new_incoming l = { 0 };
	struct buf          src, tr, why;
	char                when[21] = "", error[1000];
	int                 rc, cut;

	buf_init(&src, 4096);
	buf_init(&tr, 256);
	buf_init(&why, 64);
	if (source != NULL)
		source_of(source, &src, &why);
	else
		buf_puts(&src, "{}");
	copy_cut(error, sizeof error, f->error);
	cut = (int)utf8_cut(error, strlen(error), 900);
	if (f->again != NULL)
		buf_printf(&tr, "attempt %u: %s\n", f->attempt, f->again);
	if (f->quarantine)
		buf_printf(&tr, "failure %u: %.*s; quarantined", f->failures,
		    cut, error);
	else
		buf_printf(&tr, "failure %u: %.*s; tried again in %ld s",
		    f->failures, cut, error, f->retry_in);
	l.mailbox_id = cx->mailbox_id;
	l.graph_id = f->graph_id;
	l.attempt = f->attempt;
	if (m != NULL) {
		received_iso(when, m->received);
		l.message_id = m->internet_message_id;
		l.from = m->from.address;
		l.from_name = m->from.name;
		l.subject = m->subject;
	}
	l.received = when;
	l.size = src.len;
	crypto_hash_sha256(l.sha256, (const unsigned char *)src.data, src.len);
	l.source = src.data;
	l.outcome = f->quarantine ? OUTCOME_QUARANTINED : OUTCOME_FAILED;
	l.state = f->quarantine ? INCOMING_STORED : INCOMING_FAILED;
	l.failures = f->failures;
	l.error = error;
	l.retry_in = f->quarantine ? -1 : f->retry_in;
	l.trace = tr.data;
	rc = store_incoming_fail(cx->db, &l, incoming_id, err);
	if (rc == -1 && err->code == E_DB) {
		/* the mail's own fields may be what the database refuses */
		l.message_id = l.from = l.from_name = l.subject = NULL;
		l.received = "";
		l.source = "{}";
		l.size = 2;
		rc = store_incoming_fail(cx->db, &l, incoming_id, err);
	}
	buf_cleanup(&src);
	buf_cleanup(&tr);
	buf_cleanup(&why);
	return rc;
}
