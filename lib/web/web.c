/*
 * web: the request pipeline shared by postdesk-api and postdesk-oauth:
 * match -> authenticate -> authorise (role, CSRF) -> handler.  Errors never
 * leak internals: E_DB/E_INTERNAL answers say only "internal error" and the
 * request id, while the log line carries the detail.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/prefork.h"
#include "base/etag.h"
#include "adapt/jsonx.h"
#include "base/addrlist.h"
#include "base/log.h"
#include "store/store.h"
#include "base/utf8.h"
#include "base/valid.h"
#include "base/version.h"
#include "web/web.h"
#include "base/xmalloc.h"

static const char *
status_title(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Invalid input";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static const char *
status_slug(int status)
{
	switch (status) {
	case 400:
		return "urn:postdesk:problem:bad-request";
	case 401:
		return "urn:postdesk:problem:unauthorized";
	case 403:
		return "urn:postdesk:problem:forbidden";
	case 404:
		return "urn:postdesk:problem:not-found";
	case 405:
		return "urn:postdesk:problem:method-not-allowed";
	case 409:
		return "urn:postdesk:problem:conflict";
	case 412:
		return "urn:postdesk:problem:changed";
	case 413:
		return "urn:postdesk:problem:too-large";
	case 415:
		return "urn:postdesk:problem:unsupported-media-type";
	case 422:
		return "urn:postdesk:problem:validation";
	case 429:
		return "urn:postdesk:problem:rate-limited";
	case 503:
		return "urn:postdesk:problem:unavailable";
	default:
		return "urn:postdesk:problem:internal";
	}
}

static void
send_json(struct req *r, int status, const char *ctype, json_t *body)
{
	static const char failed[] = "{\"title\":\"Internal Server Error\","
	                             "\"status\":500}";
	struct buf        b;

	buf_init(&b, 16384);
	if (jsonx_dump(body, &b) == -1)
		resp_send(r, 500, "application/problem+json", failed,
		    sizeof failed - 1);
	else
		resp_send(r, status, ctype, b.data, b.len);
	buf_cleanup(&b);
}

/* Answer with body as JSON (reference stolen; NULL answers no content). */
int
web_json(struct call *c, int status, json_t *body)
{
	if (body == NULL) {
		resp_send(c->req, status, NULL, NULL, 0);
		return 0;
	}
	send_json(c->req, status, "application/json", body);
	json_decref(body);
	return 0;
}

/* Answer with JSON text already written (lib/adapt/jsonx.c's jw writer). */
int
web_json_text(struct call *c, int status, const struct buf *b)
{
	resp_send(c->req, status, "application/json", b->data, b->len);
	return 0;
}

/*
 * The answer of a domain call that wrote JSON into b: b with status when
 * rc is not -1, else err's problem.  b is released either way; returns rc.
 */
int
web_reply(struct call *c, int status, int rc, struct buf *b,
    const struct err *err)
{
	if (rc == -1)
		web_error(c, err);
	else
		web_json_text(c, status, b);
	buf_cleanup(b);
	return rc;
}

/*
 * Open an RFC 9457 problem in w: type, title, status, detail and
 * request_id; the caller may add members, then web_problem_end().  A
 * detail that is not UTF-8 (it never should be) is left out.
 */
void
web_problem_begin(struct call *c, struct jw *w, int status, const char *detail)
{
	jw_open(w, '{');
	jw_key(w, "type");
	jw_str(w, status_slug(status));
	jw_key(w, "title");
	jw_str(w, status_title(status));
	jw_key(w, "status");
	jw_int(w, status);
	if (detail == NULL || !utf8_valid(detail, strlen(detail)))
		return;
	jw_key(w, "detail");
	jw_str(w, detail);
	jw_key(w, "request_id");
	jw_str(w, c->req->request_id);
}

/* Close the problem in w and send it.  Returns -1. */
int
web_problem_end(struct call *c, struct jw *w, int status)
{
	jw_close(w, '}');
	if (status == 401) /* RFC 9110: a 401 names a scheme to use */
		resp_header(c->req, "WWW-Authenticate",
		    "Bearer realm=\"postdesk\"");
	resp_send(c->req, status, "application/problem+json", w->b->data,
	    w->b->len);
	return -1;
}

/*
 * Answer with a problem, plus the members of extra (stolen, may be NULL).
 * Returns -1 so handlers can "return web_problem(...)".
 */
int
web_problem(struct call *c, int status, const char *detail, json_t *extra)
{
	struct buf  b;
	struct jw   w;
	const char *key;
	json_t     *v;

	buf_init(&b, 512);
	jw_init(&w, &b);
	web_problem_begin(c, &w, status, detail);
	json_object_foreach (extra, key, v) {
		jw_key(&w, key);
		jw_json(&w, v);
	}
	json_decref(extra);
	web_problem_end(c, &w, status);
	buf_cleanup(&b);
	return -1;
}

/*
 * The one 422 answer: detail and the field errors collected with
 * jsonx_field_error() (stolen).  Returns -1.
 */
int
web_invalid(struct call *c, const char *detail, json_t *errors)
{
	struct buf b;
	struct jw  w;

	buf_init(&b, 512);
	jw_init(&w, &b);
	web_problem_begin(c, &w, 422, detail);
	jw_key(&w, "errors");
	jw_json(&w, errors);
	json_decref(errors);
	web_problem_end(c, &w, 422);
	buf_cleanup(&b);
	return -1;
}

/* Answer status with no body (204). */
int
web_empty(struct call *c, int status)
{
	resp_send(c->req, status, NULL, NULL, 0);
	return 0;
}

/* Answer for err; internal detail goes to the log only.  Returns -1. */
int
web_error(struct call *c, const struct err *err)
{
	int status = err_http_status(err->code);

	if (status >= 500) {
		log_err("%s", err->detail[0] ? err->detail : err->msg);
		if (status == 503)
			return web_problem(c, 503,
			    "The database is unavailable. Try again shortly.",
			    NULL);
		return web_problem(c, 500,
		    "An internal error occurred. Quote the request id when "
		    "reporting it.",
		    NULL);
	}
	return web_problem(c, status, err->msg, NULL);
}

/*
 * Read and parse the JSON object body into *obj (caller decrefs).  On
 * failure answers 415, 413 or 400 and returns -1.
 */
int
web_body(struct call *c, json_t **obj)
{
	return web_body_cap(c, WEB_BODY_MAX, obj);
}

/* web_body for the few routes that take more than 64 KiB (attachments). */
int
web_body_cap(struct call *c, size_t cap, json_t **obj)
{
	struct err  err;
	const char *ct = c->req->content_type;

	*obj = NULL;
	if (ct == NULL || strncmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';'))
		return web_problem(c, 415,
		    "Send the request body as Content-Type: application/json.",
		    NULL);
	if (req_read_body(c->req, cap, &err) == -1)
		return web_problem(c, 413, err.msg, NULL);
	*obj = jsonx_parse_object(c->req->body.data, c->req->body.len, &err);
	if (*obj == NULL)
		return web_problem(c, 400, err.msg, NULL);
	return 0;
}

/* Path parameter i as an id; answers 404 and returns -1 if malformed. */
int
web_id(struct call *c, size_t i, uint64_t *id)
{
	if (i >= c->req->nparams || !valid_id(c->req->params[i], id))
		return web_problem(c, 404, "No such resource.", NULL);
	return 0;
}

/* Send ETag for a row at version (lib/base/etag.c) with the coming answer. */
void
web_etag(struct call *c, uint64_t version)
{
	char tag[ETAG_MAX];

	etag_format(tag, version);
	resp_header(c->req, "ETag", tag);
}

/*
 * Answer 412: the row changed since the caller read it (If-Match names
 * another version); the ETag sent is the current one.  Returns -1.
 */
int
web_changed(struct call *c, uint64_t version)
{
	web_etag(c, version);
	return web_problem(c, 412,
	    "Changed elsewhere: someone saved a change after you loaded "
	    "this. Reload to see it, then make your change again.",
	    NULL);
}

/* The audit detail of a change: the names of the fields given. */
json_t *
web_fields_of(json_t *in)
{
	json_t     *fields = json_array();
	const char *key;
	json_t     *v;

	json_object_foreach (in, key, v) {
		json_array_append_new(fields, json_string(key));
	}
	return json_pack("{s:o}", "fields", fields);
}

/*
 * Write one audit log entry for a configuration change by the caller
 * (detail stolen, may be NULL; must never hold secrets).  A failure is
 * logged: the change itself already happened.
 */
void
web_audit(struct call *c, const char *action, const char *target_type,
    uint64_t target_id, json_t *detail)
{
	struct audit_entry e = { 0 };
	struct buf         b;
	struct err         err;

	buf_init(&b, 256);
	if (detail != NULL)
		jsonx_dump(detail, &b);
	e.actor_type = c->who.kind == WHO_APIKEY ? "api_key" : "agent";
	e.actor_id = c->who.id;
	e.actor_name = c->who.name;
	e.action = action;
	e.target_type = target_type;
	e.target_id = target_id;
	e.detail = detail ? b.data : NULL;
	e.request_id = c->req->request_id;
	if (store_audit_add(c->app->db, &e, &err) == -1)
		log_err("audit log not written for %s: %s", action, err.detail);
	json_decref(detail);
	buf_cleanup(&b);
}

/*
 * True if route rt matches method and path; path parameters ({x}
 * segments) are copied into r->params when r is not NULL.  method NULL
 * matches any method; HEAD matches GET routes (nginx drops the body).
 */
int
web_route_match(const struct route *rt, const char *method, const char *path,
    struct req *r)
{
	const char *p = rt->pattern, *q = path;
	const char *seg[REQ_MAX_PARAMS];
	size_t      seglen[REQ_MAX_PARAMS], np = 0;

	if (method != NULL && strcmp(rt->method, method) != 0 &&
	    (strcmp(method, "HEAD") != 0 || strcmp(rt->method, "GET") != 0))
		return 0;
	while (*p && *q) {
		if (*p == '{') {
			const char *qe = strchr(q, '/');
			size_t      n = qe ? (size_t)(qe - q) : strlen(q);

			if (n == 0 || np == REQ_MAX_PARAMS)
				return 0;
			seg[np] = q;
			seglen[np++] = n;
			q += n;
			p = strchr(p, '}') + 1;
		} else if (*p++ != *q++) {
			return 0;
		}
	}
	if (*p || *q)
		return 0;
	if (r != NULL) {
		for (size_t i = 0; i < np; i++)
			r->params[i] = xstrndup(seg[i], seglen[i]);
		r->nparams = np;
	}
	return 1;
}

static int
not_allowed(struct call *c, const struct route *rt, size_t n)
{
	struct buf allow;
	int        any = 0;

	buf_init(&allow, 64);
	for (size_t i = 0; i < n; i++) {
		if (!web_route_match(&rt[i], NULL, c->req->path, NULL))
			continue;
		buf_printf(&allow, "%s%s", any ? ", " : "", rt[i].method);
		any = 1;
	}
	if (!any) {
		buf_cleanup(&allow);
		return web_problem(c, 404, "No such resource.", NULL);
	}
	resp_header(c->req, "Allow", allow.data);
	buf_cleanup(&allow);
	return web_problem(c, 405, "This method is not allowed here.", NULL);
}

/*
 * True if a portal session must send its CSRF token (X-CSRF-Token) on
 * route rt: every route that needs credentials and may change state.  API
 * keys never need it (lib/domain/authn.c).
 */
int
web_route_csrf(const struct route *rt)
{
	return rt->access != ROUTE_PUBLIC && strcmp(rt->method, "GET") != 0;
}

/* The name of an access level, as `postdesk-api --access` prints it. */
const char *
web_access_name(enum route_access a)
{
	switch (a) {
	case ROUTE_PUBLIC:
		return "public";
	case ROUTE_AGENT:
		return "agent";
	case ROUTE_ADMIN:
		return "admin";
	case ROUTE_MONITOR:
		return "monitor";
	}
	return "?";
}

/* Who is calling: the route's prefetch for an API key, else authn. */
static int
authenticate(struct call *c, const struct route *rt, struct err *err)
{
	unsigned char hash[CRED_HASH_BYTES];

	if (rt->prefetch != NULL && authn_apikey_hash(c->req, hash))
		return rt->prefetch(c, hash, err);
	return authn_request(c->app, c->req, &c->who, err);
}

static int
authorise(struct call *c, const struct route *rt)
{
	struct err err;

	if (rt->access == ROUTE_PUBLIC)
		return 0;
	if (rt->access == ROUTE_MONITOR &&
	    addrlist_match(&c->app->cfg.metrics_allow, c->req->remote_addr))
		return 0;
	if (authenticate(c, rt, &err) == -1)
		return web_error(c, &err);
	if (web_route_csrf(rt) && !authn_csrf_ok(&c->who, c->req))
		return web_problem(c, 403,
		    "Missing or wrong CSRF token (X-CSRF-Token). Reload the "
		    "page and try again.",
		    NULL);
	if (rt->access == ROUTE_ADMIN && !authn_is_admin(&c->who))
		return web_problem(c, 403,
		    "This needs an administrator (role admin).", NULL);
	return 0;
}

/*
 * Count the answer of route i (n: no route) in this host's counters: one
 * atomic add; the route's slot is looked up on its first request only.
 */
static void
count(struct web_counts *wc, const struct route *rt, size_t i, size_t n,
    int status)
{
	char key[REQCOUNT_KEY];

	if (wc == NULL || wc->rc == NULL)
		return;
	if (wc->slot[i] == NULL) {
		snprintf(key, sizeof key, "%s %s", i < n ? rt[i].method : "*",
		    i < n ? rt[i].pattern : "(none)");
		wc->slot[i] = reqcount_slot(wc->rc, key);
	}
	reqcount_add(wc->slot[i], status);
}

/* Route r through table rt and answer it.  Logs one line per request. */
void
web_dispatch(struct app *app, struct req *r, const struct route *rt, size_t n,
    struct web_counts *wc)
{
	struct call c = { .app = app,
		.req = r,
		.counts = wc != NULL ? wc->rc : NULL };
	size_t      i;

	for (i = 0; i < n; i++)
		if (web_route_match(&rt[i], r->method, r->path, r))
			break;
	if (i == n)
		not_allowed(&c, rt, n);
	else if (authorise(&c, &rt[i]) == 0)
		rt[i].fn(&c);
	if (c.prefetched != NULL)
		c.prefetched_free(c.prefetched);
	count(wc, rt, i, n, r->status);
	log_info("%s %s -> %d%s%s", r->method, r->path, r->status,
	    c.who.kind != WHO_NONE ? " by " : "",
	    c.who.kind != WHO_NONE ? c.who.name : "");
}

/* Open the request counters of metrics_file ("" = none); a file that
 * cannot be used costs the metrics, never the requests. */
static void
counts_open(struct web_counts *wc, const struct config *cfg, size_t n)
{
	struct err err;

	wc->rc = NULL;
	wc->slot = xcalloc(n + 1, sizeof *wc->slot);
	if (cfg->metrics_file[0] == '\0')
		return;
	wc->rc = reqcount_open(cfg->metrics_file, &err);
	if (wc->rc == NULL)
		log_warn("requests are not counted for /api/metrics: %s",
		    err.msg);
}

/*
 * The options every FastCGI program takes: none (one process: spawn-fcgi
 * runs several), --workers N (a pool of N: lib/adapt/prefork.c), or
 * --version.  Returns the number of workers (0: no pool), or -1 after
 * printing what is wrong (-2 after --version).
 */
static int
serve_options(const char *prog, int argc, char **argv)
{
	unsigned n = 0;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", prog, POSTDESK_VERSION);
		return -2;
	}
	if (argc == 1 ||
	    (argc == 3 && strcmp(argv[1], "--workers") == 0 &&
	        prefork_parse(argv[2], &n) == 0))
		return (int)n;
	fprintf(stderr,
	    "usage: %s [--workers N (1-%d)] | --version\n"
	    "  a FastCGI responder: its listening socket on stdin "
	    "(spawn-fcgi) or from systemd's socket activation\n",
	    prog, PREFORK_MAX);
	return -1;
}

/*
 * The whole life of a FastCGI program: start up, answer requests through
 * the route table until spawn-fcgi, systemd or the stack sends SIGTERM,
 * clean up.  With --workers, the process started becomes the pool's
 * parent after start-up (configuration and key read once, errors seen
 * before any fork) and only its workers serve.  Returns the exit status
 * (2 when it cannot start).
 */
int
web_serve(const char *prog, const struct route *rt, size_t n, int argc,
    char **argv)
{
	struct app        app;
	struct err        err;
	struct fcgi      *f;
	struct req        r;
	struct web_counts wc;
	int               workers = serve_options(prog, argc, argv);

	if (workers < 0)
		return workers == -2 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	if (app_init(&app, prog, &err) == -1) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		app_cleanup(&app);
		return 2;
	}
	if (fcgi_listen_socket() == -1) {
		log_err("systemd passed more than one socket (LISTEN_FDS)");
		app_cleanup(&app);
		return 2;
	}
	if (workers > 0) {
		int rc = prefork_run((unsigned)workers);

		if (rc != 1) {
			app_cleanup(&app);
			return rc == 0 ? 0 : 2;
		}
	}
	f = fcgi_open();
	if (f == NULL) {
		log_err("cannot initialise FastCGI (is stdin a socket?)");
		app_cleanup(&app);
		return 2;
	}
	counts_open(&wc, &app.cfg, n);
	log_info("ready");
	while (fcgi_accept(f, &r) == 0) {
		web_dispatch(&app, &r, rt, n, &wc);
		fcgi_finish(f, &r);
	}
	log_info("stopping");
	reqcount_close(wc.rc);
	free(wc.slot);
	fcgi_close(f);
	app_cleanup(&app);
	return 0;
}
