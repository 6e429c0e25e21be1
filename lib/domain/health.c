/*
 * health: the state of the scanning mailboxes (lib/domain/health.h).  Anyone
 * gets the state and the counts; callers with credentials also get which
 * mailboxes and why.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/health.h"
#include "model/mailbox_types.h"

/*
 * Why mailbox h stops health ("needs_reauth", "error", "not_scanned"), or
 * NULL: only mailboxes that should be scanning count.
 */
const char *
health_reason(const struct scan_health *h)
{
	enum mailbox_status st = MAILBOX_NOT_CONNECTED;

	if (!h->watched)
		return NULL;
	if (mailbox_status_parse(h->status, &st) == 0 &&
	    (st == MAILBOX_NEEDS_REAUTH || st == MAILBOX_ERROR))
		return mailbox_status_name(st);
	return h->stale ? "not_scanned" : NULL;
}

/* Read and count the mailboxes; -1 (E_UNAVAILABLE, E_DB) when the
 * database does not answer. */
int
health_read(struct db *db, struct health *hs, struct err *err)
{
	memset(hs, 0, sizeof *hs);
	if (db_ping(db, err) == -1 ||
	    store_mailbox_scan_health(db, HEALTH_SCAN_MINUTES, &hs->rows,
	        &hs->n, err) == -1)
		return -1;
	for (size_t i = 0; i < hs->n; i++) {
		hs->watched += hs->rows[i].watched;
		hs->failing += health_reason(&hs->rows[i]) != NULL;
		hs->attention += hs->rows[i].attention;
	}
	return 0;
}

void
health_free(struct health *hs)
{
	free(hs->rows);
	hs->rows = NULL;
}

/* "down", "degraded" or "ok". */
const char *
health_state(const struct health *hs)
{
	return hs->failing ? "down" : hs->attention ? "degraded" : "ok";
}

/* One mailbox of the details. */
static void
mailbox(struct jw *w, const struct scan_health *h)
{
	const char *why = health_reason(h);

	jw_open(w, '{');
	jw_key(w, "id");
	jw_int(w, (long long)h->id);
	jw_key(w, "name");
	jw_str(w, h->name);
	jw_key(w, "status");
	jw_str(w, h->status);
	jw_key(w, "failing");
	jw_bool(w, why != NULL);
	jw_key(w, "reason");
	if (why != NULL)
		jw_str(w, why);
	else
		jw_null(w);
	jw_key(w, "minutes_since_success");
	if (h->minutes >= 0)
		jw_int(w, h->minutes);
	else
		jw_null(w);
	jw_key(w, "last_error");
	jw_str_or_null(w, h->last_error);
	jw_key(w, "mails_needing_attention");
	jw_int(w, h->attention);
	jw_close(w, '}');
}

/*
 * The members of the answer (200 body or 503 problem alike); detailed
 * adds "mailboxes": every mailbox watched or with mail needing attention.
 */
void
health_write(struct jw *w, const struct health *hs, int detailed)
{
	jw_key(w, "health");
	jw_str(w, health_state(hs));
	jw_key(w, "database");
	jw_str(w, "ok");
	jw_key(w, "mailboxes_watched");
	jw_int(w, hs->watched);
	jw_key(w, "mailboxes_failing");
	jw_int(w, hs->failing);
	jw_key(w, "mails_needing_attention");
	jw_int(w, hs->attention);
	if (!detailed)
		return;
	jw_key(w, "mailboxes");
	jw_open(w, '[');
	for (size_t i = 0; i < hs->n; i++)
		if (hs->rows[i].watched || hs->rows[i].attention != 0)
			mailbox(w, &hs->rows[i]);
	jw_close(w, ']');
}

/* The problem's detail for a 503; names mailboxes only when detailed. */
void
health_down_text(struct buf *b, const struct health *hs, int detailed)
{
	const char *sep = ":";

	buf_printf(b, "%lld of %lld mailbox%s that should be scanning %s not",
	    hs->failing, hs->watched, hs->watched == 1 ? "" : "es",
	    hs->failing == 1 ? "is" : "are");
	for (size_t i = 0; detailed && i < hs->n; i++) {
		const struct scan_health *h = &hs->rows[i];
		const char               *why = health_reason(h);

		if (why == NULL)
			continue;
		buf_printf(b, "%s %s (id %llu, %s)%s%s", sep, h->name,
		    (unsigned long long)h->id, why,
		    h->last_error[0] ? ": " : "", h->last_error);
		sep = ";";
	}
	buf_printf(b, ".");
}
