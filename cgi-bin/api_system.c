/*
 * api_system: health, the OpenAPI document, Azure setup facts, audit log.
 */
#include <stdlib.h>

#include "api.h"
#include "jsonx.h"
#include "mailbox.h"
#include "store.h"
#include "store_scan.h"
#include "valid.h"

/* A connected mailbox not scanned for this long makes health 503. */
#define HEALTH_SCAN_MINUTES 5

/*
 * GET /api/health: 200 when the database answers and every connected
 * mailbox was scanned successfully in the last 5 minutes; 503 with the
 * reason (and which mailboxes, and why) otherwise.
 */
int
api_health(struct call *c)
{
	struct db_res r;
	struct err    err;
	struct buf    detail;
	json_t       *stale;

	if (db_ping(c->app->db, &err) == -1 ||
	    store_scan_stale(c->app->db, HEALTH_SCAN_MINUTES, &r, &err) == -1)
		return web_problem(c, 503, "The database is unreachable.",
		    json_pack("{s:s}", "database", "unreachable"));
	if (r.nrows == 0) {
		db_res_free(&r);
		return web_json(c, 200,
		    json_pack("{s:s, s:s, s:[]}", "status", "ok", "database",
		        "ok", "stale_mailboxes"));
	}
	stale = json_array();
	buf_init(&detail, 256);
	buf_printf(&detail,
	    "%zu connected mailbox%s not scanned successfully "
	    "for %d minutes:",
	    r.nrows, r.nrows == 1 ? " was" : "es were", HEALTH_SCAN_MINUTES);
	for (size_t i = 0; i < r.nrows; i++) {
		const char *why = db_res_str(&r, i, 3);

		buf_printf(&detail, " %s (id %s, %s min)%s%s",
		    db_res_str(&r, i, 1), db_res_str(&r, i, 0),
		    db_res_str(&r, i, 2), why[0] ? ": " : "", why);
		json_array_append_new(stale,
		    json_pack("{s:I, s:s, s:I, s:s?}", "id",
		        (json_int_t)db_res_int(&r, i, 0), "name",
		        db_res_str(&r, i, 1), "minutes_since_success",
		        (json_int_t)db_res_int(&r, i, 2), "last_error",
		        why[0] ? why : NULL));
	}
	db_res_free(&r);
	web_problem(c, 503, detail.data,
	    json_pack("{s:s, s:o}", "database", "ok", "stale_mailboxes",
	        stale));
	buf_cleanup(&detail);
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
