/*
 * http: libcurl behind one function.  The easy handle lives as long as
 * the process and CURLOPT_CAPATH is NULL, so
 * libcurl's CA cache works and a reused connection costs ~0.1 ms instead
 * of ~18 ms of bundle parsing.  Only https is allowed, plus http when the
 * configured base URLs point at loopback (the test fake).
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <curl/curl.h>

#include "adapt/http.h"
#include "base/clock.h"
#include "model/limits.h"
#include "base/xmalloc.h"

struct http {
	CURL     *curl;
	long      timeout;
	int       allow_http;
	long long deadline; /* monotonic ms; 0: none (http_set_deadline()) */
	char     *ca_file;  /* trusted CAs instead of the system's, or NULL */
};

/* Set by http_abort() (a signal handler): the process is stopping. */
static volatile sig_atomic_t aborting;

struct sink {
	struct buf            *body;
	size_t                 cap;
	size_t                 seen;
	int                    over;
	int                    refused; /* the caller's sink said stop */
	struct http_resp      *resp;
	const struct http_req *rq;
	CURL                  *curl;
};

/* A handle for cfg's timeouts and base URLs.  NULL with err on failure. */
struct http *
http_new(const struct config *cfg, struct err *err)
{
	static int   inited;
	struct http *h;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			err_set(err, E_INTERNAL, "libcurl failed to start");
			return NULL;
		}
		inited = 1;
	}
	h = xcalloc(1, sizeof *h);
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		err_set(err, E_INTERNAL, "libcurl failed to start");
		return NULL;
	}
	h->timeout = cfg->http_timeout;
	h->allow_http = strncmp(cfg->login_url, "http://", 7) == 0 ||
	    strncmp(cfg->graph_url, "http://", 7) == 0;
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h);
}

/*
 * Every call from now on must end within ms milliseconds from now (a
 * request's whole budget for Microsoft); 0 lifts the deadline.
 */
void
http_set_deadline(struct http *h, long ms)
{
	h->deadline = ms > 0 ? clock_mono_ms() + ms : 0;
}

/*
 * Trust the CA certificates of the PEM file path (NULL: the system's) —
 * for postdesk-admin doctor, which checks a portal that may carry a
 * certificate of a private CA, as the local stack's does.
 */
void
http_set_ca_file(struct http *h, const char *path)
{
	free(h->ca_file);
	h->ca_file = path != NULL ? xstrdup(path) : NULL;
}

/* True while a deadline is set: the caller is someone waiting. */
int
http_has_deadline(const struct http *h)
{
	return h->deadline != 0;
}

/* The most milliseconds the next call may take (0: the deadline passed). */
long
http_budget_ms(const struct http *h)
{
	long long left = h->timeout * 1000L;

	if (h->deadline != 0 && h->deadline - clock_mono_ms() < left)
		left = h->deadline - clock_mono_ms();
	return left > 0 ? (long)left : 0;
}

/*
 * The process is stopping: abortable transfers under way end within
 * libcurl's progress interval and later ones fail at once.  Only sets a
 * flag, so a signal handler may call it.
 */
void
http_abort(void)
{
	aborting = 1;
}

int
http_aborted(void)
{
	return aborting != 0;
}

/* libcurl's progress callback: nonzero ends the transfer. */
static int
on_progress(void *data, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	(void)data;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return aborting != 0;
}

void
http_resp_cleanup(struct http_resp *r)
{
	buf_cleanup(&r->body);
}

static size_t
on_body(char *p, size_t size, size_t n, void *data)
{
	struct sink *s = data;
	size_t       len = size * n;
	long         status = 0;

	s->seen += len;
	if (s->seen > s->cap) {
		s->over = 1;
		return 0;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (s->rq->sink != NULL && status >= 200 && status < 300) {
		if (s->rq->sink(s->rq->sink_ctx, p, len) == -1) {
			s->refused = 1;
			return 0;
		}
		return len;
	}
	buf_append(s->body, p, len);
	return len;
}

static void
header_value(const char *line, size_t len, char *dst, size_t size)
{
	const char *v = memchr(line, ':', len);
	size_t      n;

	if (v == NULL)
		return;
	v++;
	while (v < line + len && isspace((unsigned char)*v))
		v++;
	n = (size_t)(line + len - v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int
header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

static size_t
on_header(char *line, size_t size, size_t n, void *data)
{
	struct sink      *s = data;
	struct http_resp *r = s->resp;
	size_t            len = size * n;
	char              ra[32] = "";

	if (header_is(line, len, "Retry-After")) {
		header_value(line, len, ra, sizeof ra);
		r->retry_after = strtol(ra, NULL, 10);
	} else if (header_is(line, len, "request-id")) {
		header_value(line, len, r->request_id, sizeof r->request_id);
	} else if (header_is(line, len, "Content-Type")) {
		header_value(line, len, r->content_type,
		    sizeof r->content_type);
	} else if (header_is(line, len, "Location")) {
		header_value(line, len, r->location, sizeof r->location);
	} else if (header_is(line, len, "Date")) {
		header_value(line, len, r->date, sizeof r->date);
	}
	return len;
}

static struct curl_slist *
headers_of(const struct http_req *rq)
{
	struct curl_slist *l = NULL, *t;

	for (size_t i = 0; i < HTTP_MAX_HEADERS && rq->headers[i]; i++) {
		t = curl_slist_append(l, rq->headers[i]);
		if (t == NULL) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = t;
	}
	/* libcurl adds "Expect: 100-continue" to large POSTs; Graph and the
	 * login service don't need the extra round trip. */
	t = curl_slist_append(l, "Expect:");
	if (t == NULL)
		curl_slist_free_all(l);
	return t;
}

static int
setup(struct http *h, const struct http_req *rq, struct curl_slist *hdrs,
    struct sink *s)
{
	CURL *c = h->curl;
	long  budget = http_budget_ms(h);
	int   bad = 0;

	if (budget < 1)
		budget = 1; /* 0 would mean no timeout at all */

	curl_easy_reset(c);
	bad |= curl_easy_setopt(c, CURLOPT_URL, rq->url) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	           h->allow_http ? "https,http" : "https") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	           budget < 10000 ? budget : 10000L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, budget) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK;
	if (h->ca_file != NULL)
		bad |=
		    curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	bad |=
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "postdesk/0.1") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
	bad |=
	    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, s) != CURLE_OK;
	bad |=
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, s) != CURLE_OK;
	if (rq->abortable) {
		bad |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION,
		           on_progress) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
	}
	if (rq->body != NULL) {
		bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		           (curl_off_t)rq->body_len) != CURLE_OK;
	} else if (strcmp(rq->method, "GET") == 0) {
		bad |= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	}
	return bad ? -1 : 0;
}

/*
 * Perform rq and fill resp (caller cleans up with http_resp_cleanup()).
 * Any HTTP status is a success here; returns -1 with E_UNAVAILABLE when
 * no response arrived (DNS, connect, TLS, timeout, the deadline of
 * http_set_deadline() passed), E_TOOLARGE when the
 * body was over the cap.  err->msg never contains the URL's query.
 */
int
http_do(struct http *h, const struct http_req *rq, struct http_resp *resp,
    struct err *err)
{
	struct curl_slist *hdrs;
	struct sink        s;
	CURLcode           rc;

	memset(resp, 0, sizeof *resp);
	resp->retry_after = -1;
	buf_init(&resp->body, 4096);
	if (rq->abortable && aborting) {
		err_set(err, E_UNAVAILABLE, "the scanner is stopping");
		return -1;
	}
	if (http_budget_ms(h) == 0) {
		err_set(err, E_UNAVAILABLE,
		    "no time left for the call: the request's deadline for "
		    "Microsoft passed");
		return -1;
	}
	memset(&s, 0, sizeof s);
	s.body = &resp->body;
	s.cap = rq->max_body ? rq->max_body : HTTP_BODY_CAP;
	s.resp = resp;
	s.rq = rq;
	s.curl = h->curl;
	hdrs = headers_of(rq);
	if (hdrs == NULL || setup(h, rq, hdrs, &s) == -1) {
		curl_slist_free_all(hdrs);
		err_set(err, E_INTERNAL, "cannot set up the HTTP request");
		return -1;
	}
	rc = curl_easy_perform(h->curl);
	curl_slist_free_all(hdrs);
	if (s.refused) {
		err_set(err, E_UNAVAILABLE, "the response could not be stored");
		return -1;
	}
	if (s.over) {
		err_set(err, E_TOOLARGE, "response larger than %zu bytes",
		    s.cap);
		return -1;
	}
	if (rc != CURLE_OK) {
		err_set(err, E_UNAVAILABLE, "%s", curl_easy_strerror(rc));
		err_detail(err, "curl error %d", (int)rc);
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	return 0;
}
