/*
 * api_system: health, the OpenAPI document, Azure setup facts, audit log.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "jsonx.h"
#include "log.h"
#include "mailbox.h"
#include "store.h"
#include "store_scan.h"
#include "valid.h"

/* A mailbox that should be scanning and has not succeeded for this long
 * makes health 503. */
#define HEALTH_SCAN_MINUTES 5

/* What health counts over store_scan_health()'s rows. */
struct health {
	struct scan_health *rows;
	size_t              n;
	long long           watched, failing, attention;
};

/*
 * Why mailbox h stops health ("needs_reauth", "error", "not_scanned"), or
 * NULL: only mailboxes that should be scanning count.
 */
static const char *
health_reason(const struct scan_health *h)
{
	if (!h->watched)
		return NULL;
	if (strcmp(h->status, "needs_reauth") == 0 ||
	    strcmp(h->status, "error") == 0)
		return h->status;
	return h->stale ? "not_scanned" : NULL;
}

static void
health_count(struct health *hs)
{
	hs->watched = hs->failing = hs->attention = 0;
	for (size_t i = 0; i < hs->n; i++) {
		hs->watched += hs->rows[i].watched;
		hs->failing += health_reason(&hs->rows[i]) != NULL;
		hs->attention += hs->rows[i].attention;
	}
}

/* The per-mailbox details: every mailbox watched or with mail needing
 * attention. */
static json_t *
health_details(const struct health *hs)
{
	json_t *a = json_array();

	for (size_t i = 0; i < hs->n; i++) {
		const struct scan_health *h = &hs->rows[i];
		const char               *why = health_reason(h);

		if (!h->watched && h->attention == 0)
			continue;
		json_array_append_new(a,
		    json_pack("{s:I, s:s, s:s, s:b, s:s?, s:o, s:s?, s:I}",
		        "id", (json_int_t)h->id, "name", h->name, "status",
		        h->status, "failing", why != NULL, "reason", why,
		        "minutes_since_success",
		        h->minutes >= 0 ? json_integer(h->minutes)
		                        : json_null(),
		        "last_error", h->last_error[0] ? h->last_error : NULL,
		        "mails_needing_attention", (json_int_t)h->attention));
	}
	return a;
}

/* The problem's detail for a 503; names mailboxes only when detailed. */
static void
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

/* 200 ok/degraded, or a 503 problem: the same members either way. */
static int
health_answer(struct call *c, const struct health *hs, int detailed)
{
	const char *state = hs->failing ? "down"
	    : hs->attention             ? "degraded"
	                                : "ok";
	json_t *body = json_pack("{s:s, s:s, s:I, s:I, s:I}", "health", state,
	    "database", "ok", "mailboxes_watched", (json_int_t)hs->watched,
	    "mailboxes_failing", (json_int_t)hs->failing,
	    "mails_needing_attention", (json_int_t)hs->attention);
	struct buf detail;

	if (detailed)
		json_object_set_new(body, "mailboxes", health_details(hs));
	if (hs->failing == 0) {
		json_object_set_new(body, "status", json_string(state));
		return web_json(c, 200, body);
	}
	buf_init(&detail, 256);
	health_down_text(&detail, hs, detailed);
	web_problem(c, 503, detail.data, body);
	buf_cleanup(&detail);
	return 0;
}

/*
 * GET /api/health, for monitoring (docs/ARCHITECTURE.md, Health): 200
 * "ok", 200 "degraded" when mail needs attention, 503 "down" when the
 * database does not answer or a mailbox that should be scanning is not.
 * Anyone gets the state and counts; a session or API key also gets which
 * mailboxes and why (bad credentials are simply not counted).
 */
int
api_health(struct call *c)
{
	struct health hs;
	struct err    err;
	int           detailed;

	if (db_ping(c->app->db, &err) == -1 ||
	    store_scan_health(c->app->db, HEALTH_SCAN_MINUTES, &hs.rows, &hs.n,
	        &err) == -1) {
		if (err.code != E_UNAVAILABLE)
			log_err("health: %s",
			    err.detail[0] ? err.detail : err.msg);
		return web_problem(c, 503, "The database is unreachable.",
		    json_pack("{s:s, s:s}", "health", "down", "database",
		        "unreachable"));
	}
	health_count(&hs);
	detailed = authn_request(c->app, c->req, &c->who, &err) == 0;
	health_answer(c, &hs, detailed);
	free(hs.rows);
	return 0;
}

/* GET /api/openapi.json */
int
api_openapi(struct call *c)
{
	resp_send(c->req, 200, "application/json", openapi_json,
	    openapi_json_len);
	return 0;
}

/* GET /api/azure-setup */
int
api_azure_setup(struct call *c)
{
	struct buf b;
	struct jw  w;

	buf_init(&b, 1024);
	jw_init(&w, &b);
	mailbox_azure_setup(&w, &c->app->cfg);
	web_json_text(c, 200, &b);
	buf_cleanup(&b);
	return 0;
}

/* GET /api/audit-log?limit=N (1..200, default 50), newest first. */
int
api_audit_list(struct call *c)
{
	struct db_res r;
	struct err    err;
	char         *lim = req_query(c->req, "limit");
	uint64_t      limit = 50;
	json_t       *items;

	if (lim != NULL && (!valid_id(lim, &limit) || limit > 200)) {
		free(lim);
		return web_problem(c, 400, "limit must be 1 to 200.", NULL);
	}
	free(lim);
	if (store_audit_list(c->app->db, (long)limit, &r, &err) == -1)
		return web_error(c, &err);
	items = json_array();
	for (size_t i = 0; i < r.nrows; i++) {
		json_t     *detail = NULL;
		const char *d = db_res_str(&r, i, 8);

		if (d != NULL)
			detail = json_loads(d, 0, NULL);
		json_array_append_new(items,
		    json_pack(
		        "{s:I, s:s, s:{s:s, s:I, s:s}, s:s, s:{s:s?, s:I}, "
		        "s:o, s:s?}",
		        "id", (json_int_t)db_res_int(&r, i, 0), "at",
		        db_res_str(&r, i, 1), "actor", "type",
		        db_res_str(&r, i, 2), "id",
		        (json_int_t)db_res_int(&r, i, 3), "name",
		        db_res_str(&r, i, 4), "action", db_res_str(&r, i, 5),
		        "target", "type", db_res_str(&r, i, 6), "id",
		        (json_int_t)db_res_int(&r, i, 7), "detail",
		        detail ? detail : json_null(), "request_id",
		        db_res_str(&r, i, 9)));
	}
	db_res_free(&r);
	return web_json(c, 200, json_pack("{s:o}", "items", items));
}
