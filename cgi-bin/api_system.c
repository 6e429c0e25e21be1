/*
 * api_system: health, metrics, the OpenAPI document, Azure setup facts,
 * audit log.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "domain/audit.h"
#include "domain/health.h"
#include "adapt/jsonx.h"
#include "base/log.h"
#include "base/promtext.h"
#include "domain/mailbox.h"
#include "domain/metrics.h"
#include "domain/paging.h"

/* 200 ok/degraded, or a 503 problem: the same members either way. */
static int
health_answer(struct call *c, const struct health *hs, int detailed)
{
	struct buf b, detail;
	struct jw  w;

	buf_init(&b, 1024);
	jw_init(&w, &b);
	if (hs->failing == 0) {
		jw_open(&w, '{');
		health_write(&w, hs, detailed);
		jw_key(&w, "status");
		jw_str(&w, health_state(hs));
		jw_close(&w, '}');
		web_json_text(c, 200, &b);
	} else {
		buf_init(&detail, 256);
		health_down_text(&detail, hs, detailed);
		web_problem_begin(c, &w, 503, detail.data);
		health_write(&w, hs, detailed);
		web_problem_end(c, &w, 503);
		buf_cleanup(&detail);
	}
	buf_cleanup(&b);
	return 0;
}

/* 503: the database does not answer. */
static int
health_unreachable(struct call *c)
{
	struct buf b;
	struct jw  w;

	buf_init(&b, 512);
	jw_init(&w, &b);
	web_problem_begin(c, &w, 503, "The database is unreachable.");
	jw_key(&w, "health");
	jw_str(&w, "down");
	jw_key(&w, "database");
	jw_str(&w, "unreachable");
	web_problem_end(c, &w, 503);
	buf_cleanup(&b);
	return -1;
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

	if (health_read(c->app->db, &hs, &err) == -1) {
		if (err.code != E_UNAVAILABLE)
			log_err("health: %s",
			    err.detail[0] ? err.detail : err.msg);
		health_free(&hs);
		return health_unreachable(c);
	}
	detailed = authn_request(c->app, c->req, &c->who, &err) == 0;
	health_answer(c, &hs, detailed);
	health_free(&hs);
	return 0;
}

/*
 * GET /api/metrics, for Prometheus (docs/metrics.md): an agent's session or
 * key, or a client address in metrics_allow (lib/web/web.c's authorise()).
 * Always 200: without the database it says postdesk_database_up 0.
 */
int
api_metrics(struct call *c)
{
	struct buf b;
	struct err err;

	buf_init(&b, 16384);
	if (metrics_write(c->app->db, c->counts, &b, &err) == -1)
		log_err("metrics: %s", err.detail[0] ? err.detail : err.msg);
	resp_send(c->req, 200, PROM_CONTENT_TYPE, b.data, b.len);
	buf_cleanup(&b);
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
	struct buf b;
	struct err err;
	char      *lim = req_query(c->req, "limit");
	long       limit;
	int        rc;

	/* "?limit=" (empty) is a bad limit here, as it always was. */
	rc =
	    page_limit_parse(lim, AUDIT_LIMIT_DEFAULT, AUDIT_LIMIT_MAX, &limit);
	if (lim != NULL && lim[0] == '\0')
		rc = -1;
	free(lim);
	if (rc == -1)
		return web_problem(c, 400, "limit must be 1 to 200.", NULL);
	buf_init(&b, 16384);
	rc = audit_list(c->app->db, limit, &b, &err);
	if (rc == -1)
		web_error(c, &err);
	else
		web_json_text(c, 200, &b);
	buf_cleanup(&b);
	return rc;
}
