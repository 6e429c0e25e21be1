/*
 * web: routing and answering for the FastCGI programs — one route table
 * per program, authentication and CSRF before any handler runs, JSON and
 * application/problem+json responses, the audit log of changes.
 */
#ifndef POSTDESK_WEB_H
#define POSTDESK_WEB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "adapt/app.h"
#include "domain/authn.h"
#include "adapt/fcgi.h"
#include "adapt/jsonx.h"
#include "base/reqcount.h"

#define WEB_BODY_MAX (64 * 1024)

struct call {
	struct app      *app;
	struct req      *req;
	struct principal who;
	void            *prefetched; /* a route's prefetch result, or NULL */
	void (*prefetched_free)(void *);
	const struct reqcount *counts; /* this host's request counters */
};

enum route_access {
	ROUTE_PUBLIC, /* anyone */
	ROUTE_AGENT,  /* any signed-in agent or API key */
	ROUTE_ADMIN,  /* role admin */
	ROUTE_MONITOR /* as agent, or a client address in metrics_allow */
};

/* A program's request counters (lib/base/reqcount.c): the file's table and
 * each route's slot, claimed on the route's first request. */
struct web_counts {
	struct reqcount       *rc;
	struct reqcount_slot **slot; /* nroutes + 1: the last for no route */
};

struct route {
	const char *method;
	const char *pattern; /* "/api/mailboxes/{id}" */
	int (*fn)(struct call *);
	enum route_access access;
	/*
	 * Optional: for a request with an API key, look the key up and read
	 * the handler's rows in one statement (the hot list).  Sets c->who
	 * (or fails, E_AUTH for an unknown or revoked key, exactly as
	 * authn_request() would) and may leave rows in c->prefetched;
	 * authorise() then checks the role as for any route.
	 */
	int (*prefetch)(struct call *, const unsigned char *key_hash,
	    struct err *);
};

void web_dispatch(struct app *, struct req *, const struct route *,
    size_t nroutes, struct web_counts *);
int  web_serve(const char *prog, const struct route *, size_t nroutes, int argc,
     char **argv);
int  web_route_match(const struct route *, const char *method, const char *path,
     struct req *);
int  web_route_csrf(const struct route *);
const char *web_access_name(enum route_access);
int         web_json(struct call *, int status, json_t *body);
int         web_json_text(struct call *, int status, const struct buf *);
int         web_reply(struct call *, int status, int rc, struct buf *,
            const struct err *);
int  web_problem(struct call *, int status, const char *detail, json_t *extra);
void web_problem_begin(struct call *, struct jw *, int status,
    const char *detail);
int  web_problem_end(struct call *, struct jw *, int status);
int  web_invalid(struct call *, const char *detail, json_t *errors);
int  web_empty(struct call *, int status);
int  web_error(struct call *, const struct err *);
int  web_body(struct call *, json_t **obj);
int  web_body_cap(struct call *, size_t cap, json_t **obj);
int  web_id(struct call *, size_t i, uint64_t *id);
void web_etag(struct call *, uint64_t version);
int  web_changed(struct call *, uint64_t version);
json_t *web_fields_of(json_t *in);
void    web_audit(struct call *, const char *action, const char *target_type,
       uint64_t target_id, json_t *detail);

#endif
