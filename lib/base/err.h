/*
 * err: the error a fallible function hands back to its caller.
 *
 * msg is safe to show a client; detail is for the log only (it may name
 * tables, errno strings or remote error codes, never secrets).
 */
#ifndef POSTDESK_ERR_H
#define POSTDESK_ERR_H

enum err_code {
	E_OK = 0,
	E_INVALID,     /* bad input: 400/422 */
	E_NOTFOUND,    /* 404 */
	E_CONFLICT,    /* 409 */
	E_CHANGED,     /* 412: changed since the caller read it */
	E_AUTH,        /* 401 */
	E_FORBIDDEN,   /* 403 */
	E_TOOLARGE,    /* 413 */
	E_UNSUPPORTED, /* 415 */
	E_RATELIMIT,   /* 429 */
	E_UNAVAILABLE, /* 503: a dependency is down */
	E_DB,          /* database failure: 500 */
	E_CONFIG,      /* configuration problem */
	E_INTERNAL     /* anything else: 500 */
};

struct err {
	enum err_code code;
	char          msg[256];
	char          detail[512];
};

void err_clear(struct err *);
void err_set(struct err *, enum err_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void err_detail(struct err *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int err_http_status(enum err_code);

#endif
