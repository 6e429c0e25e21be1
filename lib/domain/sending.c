/*
 * sending: every mail postdesk sends is a row in outgoing_email first,
 * written in the same transaction as what caused it (the ticket for an
 * acknowledgement, the ticket action for a reply), then sent by the
 * scanner while it holds the mailbox's lease.  Mail goes out as MIME
 * through sendMail, with our own Message-ID: that is what threads it
 * (In-Reply-To, References), marks acknowledgements Auto-Submitted, and
 * lets a send with an unknown outcome be looked up in Sent Items before
 * any retry — so nothing is sent twice (docs/sending.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapt/cred.h"
#include "microsoft/guidance.h"
#include "model/limits.h"
#include "base/log.h"
#include "mail/mime.h"
#include "domain/sending.h"
#include "store/incoming.h"
#include "store/outgoing.h"
#include "store/ticket.h"
#include "mail/threading.h"
#include "base/url.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

static const char DEFAULT_ACK[] =
    "Thank you for your message. We have opened ticket #{ticket} for it:\n"
    "\n    {subject}\n\n"
    "We will get back to you soon. Please keep [#{ticket}] in the subject\n"
    "when you write to us about it.\n";

/* Can domain go into a Message-ID (an ASCII column of 255)? */
static int
id_domain(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 200)
		return 0;
	for (; *d; d++)
		if ((unsigned char)*d <= 0x20 || (unsigned char)*d >= 0x7f ||
		    strchr("<>()[]\\\",;:@", *d) != NULL)
			return 0;
	return 1;
}

/*
 * "<pd.RANDOM@domain-of-from>" into out (256 bytes hold any, and it fits
 * outgoing_email.message_id); a domain that is not plain ASCII, or is too
 * long, becomes "postdesk.invalid".
 */
void
sending_message_id(char *out, size_t size, const char *from)
{
	const char *at = strrchr(from, '@');
	char        tok[40];

	cred_random_text(tok, sizeof tok, 18);
	for (char *p = tok; *p; p++)
		if (*p == '_')
			*p = '.';
	snprintf(out, size, "<pd.%s@%s>", tok,
	    at && id_domain(at + 1) ? at + 1 : "postdesk.invalid");
}

/*
 * Expand {ticket} and {subject} in tmpl; html escapes the template and
 * the values (buf_html()) and breaks lines with <br>.
 */
static void
expand_template(struct buf *b, const char *tmpl, uint64_t ticket,
    const char *subject, int html)
{
	for (const char *p = tmpl; *p; p++) {
		if (strncmp(p, "{ticket}", 8) == 0) {
			buf_printf(b, "%llu", (unsigned long long)ticket);
			p += 7;
		} else if (strncmp(p, "{subject}", 9) == 0) {
			if (html)
				buf_html(b, subject);
			else
				buf_puts(b, subject);
			p += 8;
		} else if (html && *p == '\n') {
			buf_puts(b, "<br>\n");
		} else if (html) {
			buf_html_char(b, *p);
		} else {
			buf_putc(b, *p);
		}
	}
}

/* Cut b to the 998 characters outgoing_email.subject holds (UTF-8). */
static void
cap_subject(struct buf *b)
{
	size_t chars = 0;

	for (size_t i = 0; i < b->len; i++) {
		if (((unsigned char)b->data[i] & 0xc0) == 0x80)
			continue;
		if (++chars > 998) {
			b->len = i;
			b->data[i] = '\0';
			return;
		}
	}
}

static void
html_of(struct buf *b, const char *text)
{
	buf_puts(b, "<div style=\"font-family: sans-serif\">");
	expand_template(b, text, 0, "", 1);
	buf_puts(b, "</div>");
}

/* Why not to acknowledge, or NULL to acknowledge. */
static int
ack_refused(struct db *db, const struct ack_settings *s, const struct msg *m,
    const struct ack_facts *f, struct buf *why, struct err *err)
{
	long long n;

	if (!s->enabled) {
		buf_puts(why,
		    "not sent: acknowledgements are off for this "
		    "mailbox");
		return 1;
	}
	if (f->automatic != NULL) {
		buf_printf(why, "suppressed: automatic mail (%.*s)",
		    (int)utf8_cut(f->automatic, strlen(f->automatic), 100),
		    f->automatic);
		return 1;
	}
	if (!mime_addr_ok(m->from.address)) {
		buf_puts(why,
		    "not sent: the sender's address is not one mail can "
		    "be sent to");
		return 1;
	}
	if (f->no_ack_rule != 0) {
		buf_printf(why, "suppressed by rule %llu",
		    (unsigned long long)f->no_ack_rule);
		return 1;
	}
	if (store_outgoing_ack_count(db, m->from.address, &n, err) == -1)
		return -1;
	if (n >= s->per_hour) {
		buf_printf(why,
		    "suppressed: %lld acknowledgements to %.*s in "
		    "the last hour (limit %ld)",
		    n,
		    (int)utf8_cut(m->from.address, strlen(m->from.address),
		        100),
		    m->from.address, s->per_hour);
		return 1;
	}
	return 0;
}

/*
 * Inside intake's transaction, after a mail opened a new ticket: queue an
 * acknowledgement to its sender, or record why not.  Either way the
 * incoming email's "ack" says what happened.
 */
int
sending_ack(struct db *db, uint64_t mailbox, const struct ack_settings *s,
    const struct msg *m, const struct ack_facts *f, struct err *err)
{
	struct new_outgoing o = { 0 };
	struct new_action   a = { 0 };
	struct buf          why, subject, text, html, refs;
	char                mid[256];
	uint64_t            id;
	int                 refused, rc = -1;

	buf_init(&why, 128);
	buf_init(&subject, 256);
	buf_init(&text, 1024);
	buf_init(&html, 1024);
	buf_init(&refs, 256);
	refused = ack_refused(db, s, m, f, &why, err);
	if (refused == -1)
		goto out;
	if (refused) {
		rc = store_incoming_ack(db, f->incoming_id, why.data, err);
		goto out;
	}
	expand_template(&subject, s->subject, f->ticket_id, f->ticket_subject,
	    0);
	if (threading_tag(subject.data) != f->ticket_id) {
		buf_reset(&text);
		threading_tag_subject(&text, f->ticket_id, subject.data);
		buf_reset(&subject);
		buf_puts(&subject, text.data);
		buf_reset(&text);
	}
	cap_subject(&subject);
	expand_template(&text, s->body ? s->body : DEFAULT_ACK, f->ticket_id,
	    f->ticket_subject, 0);
	buf_puts(&html, "<div style=\"font-family: sans-serif\">");
	expand_template(&html, s->body ? s->body : DEFAULT_ACK, f->ticket_id,
	    f->ticket_subject, 1);
	buf_puts(&html, "</div>");
	sending_message_id(mid, sizeof mid, s->from);
	if (m->internet_message_id[0])
		buf_puts(&refs, m->internet_message_id);
	o.mailbox_id = mailbox;
	o.ticket_id = f->ticket_id;
	o.kind = OUTGOING_ACK;
	o.incoming_email_id = f->incoming_id;
	o.to = m->from.address;
	o.subject = subject.data;
	o.text = text.data;
	o.html = html.data;
	o.message_id = mid;
	o.in_reply_to = m->internet_message_id;
	o.references = refs.data;
	o.status = s->connected ? OUTGOING_QUEUED : OUTGOING_HELD;
	a.ticket_id = f->ticket_id;
	a.kind = "email_out";
	a.from = s->from;
	a.to = m->from.address;
	a.subject = subject.data;
	a.body = text.data;
	a.message_id = mid;
	if (store_outgoing_add(db, &o, &id, err) == -1 ||
	    store_ticket_action_add(db, &a, NULL, err) == -1 ||
	    store_incoming_ack(db, f->incoming_id, "queued", err) == -1)
		goto out;
	rc = 0;
out:
	buf_cleanup(&why);
	buf_cleanup(&subject);
	buf_cleanup(&text);
	buf_cleanup(&html);
	buf_cleanup(&refs);
	return rc;
}

static int
reply_rows(struct db *db, uint64_t ticket, uint64_t agent,
    const struct reply_ctx *c, const char *body, const char *cc,
    const struct reply_att *att, size_t natt, uint64_t *id, struct err *err)
{
	struct new_outgoing o = { 0 };
	struct new_action   a = { 0 };
	struct buf          subject, html, re;
	char                mid[256];
	int                 rc = -1;

	buf_init(&subject, 256);
	buf_init(&html, 1024);
	buf_init(&re, 256);
	buf_printf(&re, "%s%s",
	    strncasecmp(c->subject, "re:", 3) == 0 ? "" : "Re: ", c->subject);
	threading_tag_subject(&subject, ticket, re.data);
	cap_subject(&subject);
	html_of(&html, body);
	sending_message_id(mid, sizeof mid, c->from);
	o.mailbox_id = c->mailbox_id;
	o.ticket_id = ticket;
	o.kind = OUTGOING_REPLY;
	o.agent_id = agent;
	o.to = c->end_user;
	o.cc = cc;
	o.subject = subject.data;
	o.text = body;
	o.html = html.data;
	o.message_id = mid;
	o.in_reply_to = c->in_reply_to;
	o.references = c->references;
	o.status = c->connected ? OUTGOING_QUEUED : OUTGOING_HELD;
	a.ticket_id = ticket;
	a.kind = "email_out";
	a.agent_id = agent;
	a.from = c->from;
	a.to = c->end_user;
	a.cc = cc;
	a.subject = subject.data;
	a.body = body;
	a.message_id = mid;
	if (store_outgoing_add(db, &o, id, err) == -1 ||
	    store_ticket_action_add(db, &a, NULL, err) == -1 ||
	    store_ticket_touch(db, ticket, err) == -1)
		goto out;
	for (size_t i = 0; i < natt; i++)
		if (store_outgoing_attachment(db, *id, att[i].name,
		        att[i].content_type, att[i].data, att[i].len,
		        err) == -1)
			goto out;
	rc = 0;
out:
	buf_cleanup(&subject);
	buf_cleanup(&html);
	buf_cleanup(&re);
	return rc;
}

struct reply_args {
	uint64_t                ticket, agent;
	const struct reply_ctx *c;
	const char             *body, *cc;
	const struct reply_att *att;
	size_t                  natt;
	uint64_t               *id;
};

/*
 * The reply's rows, in a transaction db_txn() runs again on conflicts
 * (each run makes a new Message-ID, so nothing of a failed run remains);
 * not after an unknown COMMIT outcome: the reply would be queued twice.
 */
static int
reply_txn(struct db *db, void *arg, struct err *err)
{
	struct reply_args *a = arg;

	return reply_rows(db, a->ticket, a->agent, a->c, a->body, a->cc, a->att,
	    a->natt, a->id, err);
}

/*
 * Queue an agent's reply on ticket (one transaction with its ticket
 * action): to the end user (and cc), from the ticket's mailbox, tagged and
 * threaded under the customer's newest mail.  E_NOTFOUND for an unknown
 * ticket, E_CONFLICT when the ticket has no mailbox to send from or its
 * end user's address cannot receive mail.
 */
int
sending_reply(struct db *db, uint64_t ticket, uint64_t agent, const char *body,
    const char *cc, const struct reply_att *att, size_t natt, uint64_t *id,
    struct err *err)
{
	struct reply_ctx *c = xcalloc(1, sizeof *c);
	struct reply_args a;
	int               rc = -1;

	if (store_outgoing_reply_ctx(db, ticket, c, err) == -1)
		goto out;
	if (c->mailbox_id == 0 || c->from[0] == '\0') {
		err_set(err, E_CONFLICT,
		    "This ticket's mailbox is gone or was never connected, so "
		    "there is no address to reply from.");
		goto out;
	}
	if (!mime_addr_ok(c->end_user)) {
		/* stored as it came, but not an address mail can go to */
		err_set(err, E_CONFLICT,
		    "This ticket's end user address is not one mail can be "
		    "sent to.");
		goto out;
	}
	a.ticket = ticket;
	a.agent = agent;
	a.c = c;
	a.body = body;
	a.cc = cc;
	a.att = att;
	a.natt = natt;
	a.id = id;
	rc = db_txn(db, reply_txn, &a, 0, err);
out:
	free(c);
	return rc;
}

/* Is message_id in the mailbox's Sent Items?  1 yes, 0 no, -1 unknown. */
static int
in_sent_items(struct mbx *m, const char *message_id)
{
	struct graph_call  gc = { .method = "GET" };
	struct graph_error ge;
	struct err         err;
	struct buf         url;
	json_t            *o;
	int                found;

	buf_init(&url, 512);
	buf_printf(&url,
	    "%s/mailFolders/sentitems/messages?$select=id&$filter=",
	    m->base.data);
	url_odata_eq(&url, "internetMessageId", message_id);
	gc.url = url.data;
	o = mailbox_graph_call_json(m, &gc, 1, &ge, &err);
	found =
	    o == NULL ? -1 : json_array_size(json_object_get(o, "value")) > 0;
	json_decref(o);
	buf_cleanup(&url);
	return found;
}

static int
build_mime(struct mbx *m, const char *from, const char *from_name,
    const struct outgoing *o, struct buf *out, struct err *err)
{
	struct mime_msg  mm = { 0 };
	struct mime_att *att = NULL;
	struct db_res    r;
	struct buf       raw;
	int              rc;

	if (store_outgoing_attachments(m->app->db, o->id, &r, err) == -1)
		return -1;
	att = xcalloc(r.nrows, sizeof *att);
	for (size_t i = 0; i < r.nrows; i++) {
		att[i].name = db_res_str(&r, i, 0);
		att[i].content_type = db_res_str(&r, i, 1);
		att[i].data = db_res_str(&r, i, 2);
		att[i].len = db_res_len(&r, i, 2);
	}
	mm.from = from;
	mm.from_name = from_name;
	mm.to = o->to;
	mm.cc = o->cc;
	mm.subject = o->subject;
	mm.message_id = o->message_id;
	mm.in_reply_to = o->in_reply_to;
	mm.references = o->references;
	mm.text = o->text;
	mm.html = o->html[0] ? o->html : NULL;
	mm.auto_reply = o->kind == OUTGOING_ACK;
	mm.att = att;
	mm.natt = r.nrows;
	mm.date = time(NULL);
	buf_init(&raw, 4096);
	rc = mime_build(&raw, &mm, err);
	if (rc == 0)
		mime_base64(out, raw.data, raw.len, 0);
	buf_cleanup(&raw);
	free(att);
	db_res_free(&r);
	return rc;
}

/* Settle one send by Graph's answer. */
static void
settle_send(struct mbx *m, const struct outgoing *o, int rc, long status,
    const struct graph_error *ge, long retry_after, struct sending_stats *st)
{
	struct db *db = m->app->db;
	struct err err;
	char       msg[400];
	long       wait = 30L << (o->attempts < 6 ? o->attempts : 6);
	int        w;

	if (rc == 0) {
		w = store_outgoing_sent(db, o->id, &err);
		st->sent++;
	} else if (status == 401) {
		/* the token refresh failed: the mailbox needs reauthorising */
		w = store_outgoing_later(db, o->id, OUTGOING_HELD, 0,
		    "The mailbox needs reauthorization; this mail is held "
		    "until it is reconnected.",
		    &err);
		if (w == 0)
			w = store_outgoing_hold(db, m->id, &err);
	} else if (status == 429) {
		snprintf(msg, sizeof msg,
		    "Throttled by Microsoft (429); "
		    "trying again.");
		w = store_outgoing_later(db, o->id, OUTGOING_QUEUED,
		    retry_after >= 0 ? retry_after : wait, msg, &err);
		st->retried++;
	} else if (status == 0 || status >= 500) {
		/* maybe accepted: look in Sent Items before sending again */
		snprintf(msg, sizeof msg,
		    "Outcome unknown (%ld %s); checking "
		    "Sent Items before any retry.",
		    status, ge->code);
		w = store_outgoing_later(db, o->id, OUTGOING_SENDING,
		    retry_after >= 0 ? retry_after : wait, msg, &err);
		st->retried++;
	} else {
		const struct guidance *g = guidance_graph(status, ge->code);

		if (status == 413)
			snprintf(msg, sizeof msg,
			    "Too large for Microsoft "
			    "Graph (413): send fewer or "
			    "smaller attachments.");
		else
			snprintf(msg, sizeof msg,
			    "Microsoft refused it: %ld "
			    "%s",
			    status, ge->code);
		w = store_outgoing_fail(db, o->id, msg, g->action, &err);
		st->failed++;
	}
	if (w == -1)
		log_err("outgoing %llu: state not saved: %s",
		    (unsigned long long)o->id, err.detail);
}

static int
send_one(struct mbx *m, const char *from, const char *from_name,
    const struct outgoing *o, struct sending_stats *st, struct err *err)
{
	struct graph_call  gc = { .method = "POST",
		 .content_type = "text/plain" };
	struct graph_error ge;
	struct http_resp   resp;
	struct buf         url, body;
	char               why[256];
	int                won, rc;

	if (o->status == OUTGOING_SENDING) {
		int found = in_sent_items(m, o->message_id);

		if (found == 1) {
			st->sent++;
			return store_outgoing_sent(m->app->db, o->id, err);
		}
		if (found == -1)
			return 0; /* can't tell now: look again later */
	}
	if (store_outgoing_claim(m->app->db, o->id, &won, err) == -1)
		return -1;
	if (!won)
		return 0;
	buf_init(&url, 256);
	buf_init(&body, 8192);
	buf_printf(&url, "%s/sendMail", m->base.data);
	if (build_mime(m, from, from_name, o, &body, err) == -1) {
		buf_cleanup(&url);
		buf_cleanup(&body);
		if (err->code != E_INVALID)
			return -1;
		/* a header the MIME builder refused: never sent, say why */
		snprintf(why, sizeof why, "%s", err->msg);
		st->failed++;
		return store_outgoing_fail(m->app->db, o->id, why,
		    "Correct the address on the ticket, then reply again.",
		    err);
	}
	gc.url = url.data;
	gc.body = body.data;
	rc = mailbox_graph_call(m, &gc, 0, &resp, &ge, err);
	settle_send(m, o, rc, rc == 0 ? 202 : ge.status, &ge, resp.retry_after,
	    st);
	http_resp_cleanup(&resp);
	buf_cleanup(&url);
	buf_cleanup(&body);
	return 0;
}

/*
 * Send what is due for the mailbox of session m (the caller holds its
 * lease), as from.  Held mail of the now-connected mailbox is queued
 * again first.  Returns 0, or -1 with err on a database error.
 */
int
sending_run(struct mbx *m, const char *from, const char *from_name,
    struct sending_stats *st, struct err *err)
{
	struct outgoing *o = NULL;
	size_t           n = 0;
	long             before;
	int              rc = 0;

	memset(st, 0, sizeof *st);
	if (store_outgoing_release(m->app->db, m->id, err) == -1)
		return -1;
	/* batches of SENDING_BATCH until nothing is due, or a batch changed
	 * nothing (mail whose Sent Items lookup could not be made waits) */
	do {
		before = st->sent + st->failed + st->retried;
		if (store_outgoing_due(m->app->db, m->id, &o, &n, err) == -1) {
			store_outgoing_free(o, n);
			return -1;
		}
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = send_one(m, from, from_name, &o[i], st, err);
		store_outgoing_free(o, n);
	} while (rc == 0 && n == SENDING_BATCH &&
	    st->sent + st->failed + st->retried > before &&
	    time(NULL) < m->deadline);
	return rc;
}
