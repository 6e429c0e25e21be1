/*
 * api_system: health, the OpenAPI document, Azure setup facts, audit log.
 */
#include <stdlib.h>

#include "api.h"
#include "jsonx.h"
#include "mailbox.h"
#include "store.h"
#include "valid.h"

/* GET /api/health: 200 when the database answers, 503 with why if not. */
int
api_health(struct call *c)
{
	struct err err;

	if (db_ping(c->app->db, &err) == -1)
		return web_problem(c, 503, "The database is unreachable.",
		    json_pack("{s:s}", "database", "unreachable"));
	return web_json(c, 200,
	    json_pack("{s:s, s:s}", "status", "ok", "database", "ok"));
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
	return web_json(c, 200, mailbox_azure_setup(&c->app->cfg));
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
		    json_pack("{s:I, s:s, s:{s:s, s:I, s:s}, s:s, s:{s:s?, s:I}, "
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
