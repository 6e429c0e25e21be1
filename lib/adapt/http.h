/*
 * http: outgoing HTTPS with libcurl — one long-lived easy handle per
 * process (keep-alive, CA cache), timeouts, no redirects, body caps.
 * Nothing else in postdesk calls curl_*.
 */
#ifndef POSTDESK_HTTP_H
#define POSTDESK_HTTP_H

#include <stddef.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"

#define HTTP_MAX_HEADERS 8

struct http;

struct http_resp {
	long       status;
	struct buf body;
	long       retry_after; /* seconds from Retry-After, -1 if absent */
	char       request_id[64];
	char       content_type[128];
	char       location[2048];
	char       date[64]; /* the Date header, "" if absent */
};

struct http_req {
	const char *method; /* "GET", "POST", "PATCH" ... */
	const char *url;
	const char *headers[HTTP_MAX_HEADERS]; /* "Name: value", NULL-ended */
	const char *body;
	size_t      body_len;
	size_t      max_body; /* response cap; 0 = 4 MiB */
	/* If set, a 2xx body goes here in pieces instead of into resp.body;
	 * returning -1 aborts the transfer (E_UNAVAILABLE). */
	int (*sink)(void *ctx, const char *p, size_t n);
	void *sink_ctx;
	/* Ended at once by http_abort() (E_UNAVAILABLE).  Not the token
	 * endpoint's calls: a refresh whose answer was dropped would leave a
	 * rotated-out refresh token stored. */
	int abortable;
};

struct http *http_new(const struct config *, struct err *);
void         http_free(struct http *);
int          http_do(struct http *, const struct http_req *, struct http_resp *,
             struct err *);
void         http_resp_cleanup(struct http_resp *);
void         http_set_deadline(struct http *, long ms);
void         http_set_ca_file(struct http *, const char *path);
int          http_has_deadline(const struct http *);
long         http_budget_ms(const struct http *);
void         http_abort(void);
int          http_aborted(void);

#endif
