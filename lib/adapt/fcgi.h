/*
 * fcgi: the FastCGI adapter.  A request is copied out of libfcgi's
 * parameters into struct req (they die at FCGX_Finish_r), and the response
 * is written with resp_*().  Nothing else in postdesk calls FCGX_*.
 */
#ifndef POSTDESK_FCGI_H
#define POSTDESK_FCGI_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define REQ_MAX_PARAMS 4

struct req {
	void      *fr; /* FCGX_Request */
	char       method[12];
	char      *path;
	char      *query;
	char      *content_type;
	long long  content_length; /* -1 when absent */
	char      *cookie;
	char      *authorization;
	char      *csrf_token;
	char      *if_match; /* If-Match, NULL when absent */
	char      *remote_addr;
	char      *user_agent;
	char       request_id[40];
	struct buf body;
	struct buf headers; /* response headers, "Name: value\r\n" */
	int        status;  /* response status once sent, else 0 */
	char      *params[REQ_MAX_PARAMS];
	size_t     nparams;
};

struct fcgi;

int          fcgi_listen_socket(void);
struct fcgi *fcgi_open(void);
void         fcgi_close(struct fcgi *);
int          fcgi_accept(struct fcgi *, struct req *);
void         fcgi_finish(struct fcgi *, struct req *);

int   req_read_body(struct req *, size_t cap, struct err *);
char *req_cookie(const struct req *, const char *name);
char *req_query(const struct req *, const char *name);
void  resp_header(struct req *, const char *name, const char *value);
void  resp_send(struct req *, int status, const char *content_type,
     const void *body, size_t len);

#endif
