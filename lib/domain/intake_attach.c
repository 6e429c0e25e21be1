/*
 * intake_attach: one attachment of a message into the database, inside
 * the intake transaction — bytes that came with the listing, or streamed
 * from Graph (/$value) with send_long_data so a large file never sits in
 * memory whole.  An attached Outlook item is named by what Graph gives
 * for it: iCalendar (.ics), vCard (.vcf), else a mail (.eml).
 */
#include <stdio.h>
#include <string.h>

#include "domain/intake.h"
#include "store/incoming.h"
#include "store/ticket.h"
#include "base/utf8.h"

struct sink {
	struct db_stream *stream;
	struct err        err;
	char              head[512]; /* the first bytes, to tell items apart */
	size_t            nhead;
};

static int
sink_write(void *ctx, const char *p, size_t n)
{
	struct sink *k = ctx;
	size_t       room = sizeof k->head - 1 - k->nhead;

	memcpy(k->head + k->nhead, p, n < room ? n : room);
	k->nhead += n < room ? n : room;
	k->head[k->nhead] = '\0';
	return db_stream_write(k->stream, p, n, &k->err);
}

/* An item whose bytes say iCalendar or vCard gets that name and type. */
static int
retype_item(const struct intake_ctx *cx, const struct attachment *at,
    const struct sink *k, uint64_t id, struct err *err)
{
	const char *ext, *type;
	char        name[256];
	size_t      n = strlen(at->name);

	if (strstr(k->head, "BEGIN:VCALENDAR") != NULL) {
		ext = ".ics";
		type = "text/calendar";
	} else if (strstr(k->head, "BEGIN:VCARD") != NULL) {
		ext = ".vcf";
		type = "text/vcard";
	} else {
		return 0;
	}
	if (n < 4 || strcmp(at->name + n - 4, ".eml") != 0 ||
	    strcmp(at->content_type, type) == 0)
		return 0;
	snprintf(name, sizeof name, "%.*s%s", (int)(n - 4), at->name, ext);
	return store_ticket_attachment_retype(cx->db, id, name, type, err);
}

static int
left_out(const struct intake_ctx *cx, uint64_t incoming_id,
    const struct attachment *at, const char *why, struct err *err)
{
	char line[400];

	snprintf(line, sizeof line, "attachments: left out %.*s (%s)",
	    (int)utf8_cut(at->name, strlen(at->name), 100), at->name, why);
	line[utf8_cut(line, strlen(line), sizeof line)] = '\0';
	return store_incoming_note(cx->db, incoming_id, line, err);
}

/*
 * Stream attachment at of message in into the database.  Bytes over the
 * cap are noted in the trace and dropped; a failed download fails the
 * message (it is tried again whole) — unless this is its last try
 * (in->lenient), when the attachment is left out with the reason instead.
 */
int
intake_attachment(const struct intake_ctx *cx, const struct intake_in *in,
    uint64_t action_id, uint64_t incoming_id, const struct attachment *at,
    struct err *err)
{
	struct new_attachment na = { .action_id = action_id,
		.name = at->name,
		.content_type = at->content_type,
		.content_id = at->content_id,
		.is_inline = at->is_inline };
	struct sink           k = { 0 };
	struct graph_error    ge = { 0 };
	char                  why[300];
	uint64_t              id;
	int                   rc;

	k.stream = store_ticket_attachment_open(cx->db, &na, err);
	if (k.stream == NULL)
		return -1;
	if (at->data != NULL) /* it came with the listing */
		rc = db_stream_write(k.stream, at->data, at->len, &k.err);
	else
		rc = attach_stream(in->ax, in->msg->id, at, sink_write, &k, &ge,
		    err);
	if (rc == -1 && k.err.code != E_OK)
		*err = k.err; /* the database refused the bytes */
	if (rc == -1 &&
	    (err->code == E_TOOLARGE ||
	        (in->lenient && k.err.code == E_OK && err->code != E_AUTH))) {
		snprintf(why, sizeof why, "%s",
		    err->code == E_TOOLARGE ? "over the size cap" : err->msg);
		why[utf8_cut(why, strlen(why), sizeof why)] = '\0';
		return store_ticket_attachment_close(cx->db, k.stream, 0, NULL,
		           err) == -1 ||
		        left_out(cx, incoming_id, at, why, err) == -1
		    ? -1
		    : 0;
	}
	if (rc == -1) {
		store_ticket_attachment_close(cx->db, k.stream, 0, NULL, NULL);
		return -1;
	}
	if (store_ticket_attachment_close(cx->db, k.stream, 1, &id, err) == -1)
		return -1;
	return at->is_item ? retype_item(cx, at, &k, id, err) : 0;
}
