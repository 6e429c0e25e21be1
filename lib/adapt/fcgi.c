/*
 * fcgi: libfcgi's accept loop, request copying and response writing.
 * libfcgi's FCGX_FPrintF has its own printf that does not know %zu: we
 * format with snprintf and write with FCGX_PutStr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "adapt/cred.h"
#include "adapt/fcgi.h"
#include "base/log.h"
#include "base/url.h"
#include "base/xmalloc.h"

struct fcgi {
	FCGX_Request fr;
};

/*
 * libfcgi listens on fd 0 (spawn-fcgi's way); systemd's socket activation
 * (packaging/systemd/postdesk-api.socket.in) passes the socket as fd 3 with
 * LISTEN_PID and LISTEN_FDS.  When those name this process and one socket,
 * move it to fd 0 and drop the variables, so the workers a pool forks
 * (lib/adapt/prefork.c) do not take them for theirs.  Returns 1 when a
 * socket was taken from systemd, 0 when there was none for us, -1 when
 * systemd passed a number of sockets other than one.
 */
int
fcgi_listen_socket(void)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");
	int         rc = 0;

	if (pid == NULL || fds == NULL ||
	    strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	if (strcmp(fds, "1") != 0 || dup2(3, 0) == -1) {
		rc = -1;
	} else {
		close(3);
		rc = 1;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return rc;
}

/* Initialise libfcgi on the listening socket on fd 0. */
struct fcgi *
fcgi_open(void)
{
	struct fcgi *f;

	if (FCGX_Init() != 0)
		return NULL;
	f = xcalloc(1, sizeof *f);
	if (FCGX_InitRequest(&f->fr, 0, 0) != 0) {
		free(f);
		return NULL;
	}
	return f;
}

void
fcgi_close(struct fcgi *f)
{
	if (f == NULL)
		return;
	FCGX_Free(&f->fr, 1);
	free(f);
}

static char *
param_dup(FCGX_Request *fr, const char *name)
{
	const char *v = FCGX_GetParam(name, fr->envp);

	return v ? xstrdup(v) : NULL;
}

static void
request_id(struct req *r, const char *given)
{
	size_t n = given ? strlen(given) : 0;
	int    ok = n >= 8 && n < sizeof r->request_id;

	for (size_t i = 0; ok && i < n; i++)
		ok = strchr("0123456789abcdefABCDEF-", given[i]) != NULL;
	if (ok) {
		memcpy(r->request_id, given, n + 1);
	} else {
		char tok[20];

		cred_random_text(tok, sizeof tok, 12);
		snprintf(r->request_id, sizeof r->request_id, "%s", tok);
	}
}

/*
 * Wait for the next request and copy what we use of it into r.  Returns 0,
 * or -1 when the loop should end (SIGTERM from spawn-fcgi or the stack).
 */
int
fcgi_accept(struct fcgi *f, struct req *r)
{
	const char *m, *cl;
	char       *path;

	memset(r, 0, sizeof *r);
	if (FCGX_Accept_r(&f->fr) < 0)
		return -1;
	r->fr = &f->fr;
	m = FCGX_GetParam("REQUEST_METHOD", f->fr.envp);
	snprintf(r->method, sizeof r->method, "%s", m ? m : "");
	path = param_dup(&f->fr, "DOCUMENT_URI");
	r->path = path ? path : xstrdup("/");
	r->query = param_dup(&f->fr, "QUERY_STRING");
	r->content_type = param_dup(&f->fr, "CONTENT_TYPE");
	cl = FCGX_GetParam("CONTENT_LENGTH", f->fr.envp);
	r->content_length = cl && *cl ? strtoll(cl, NULL, 10) : -1;
	r->cookie = param_dup(&f->fr, "HTTP_COOKIE");
	r->authorization = param_dup(&f->fr, "HTTP_AUTHORIZATION");
	r->csrf_token = param_dup(&f->fr, "HTTP_X_CSRF_TOKEN");
	r->if_match = param_dup(&f->fr, "HTTP_IF_MATCH");
	r->remote_addr = param_dup(&f->fr, "REMOTE_ADDR");
	r->user_agent = param_dup(&f->fr, "HTTP_USER_AGENT");
	request_id(r, FCGX_GetParam("REQUEST_ID", f->fr.envp));
	buf_init(&r->body, 0);
	buf_init(&r->headers, 256);
	log_set_request(r->request_id);
	return 0;
}

/*
 * Read the body, at most cap bytes.  Returns 0, or -1 with E_TOOLARGE when
 * the declared or actual length is over cap.
 */
int
req_read_body(struct req *r, size_t cap, struct err *err)
{
	FCGX_Request *fr = r->fr;
	char          chunk[8192];
	int           n;

	if (r->content_length > (long long)cap) {
		err_set(err, E_TOOLARGE,
		    "Request body is larger than %zu bytes.", cap);
		return -1;
	}
	while ((n = FCGX_GetStr(chunk, sizeof chunk, fr->in)) > 0) {
		if (r->body.len + (size_t)n > cap) {
			err_set(err, E_TOOLARGE,
			    "Request body is larger than %zu bytes.", cap);
			return -1;
		}
		buf_append(&r->body, chunk, (size_t)n);
	}
	return 0;
}

/* The value of cookie name (caller frees), or NULL. */
char *
req_cookie(const struct req *r, const char *name)
{
	size_t nlen = strlen(name);

	if (r->cookie == NULL)
		return NULL;
	for (const char *p = r->cookie; *p;) {
		const char *end;
		size_t      len;

		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return xstrndup(p + nlen + 1, len - nlen - 1);
		p += len;
	}
	return NULL;
}

/* The decoded query parameter (caller frees), or NULL. */
char *
req_query(const struct req *r, const char *name)
{
	return url_query_get(r->query, name);
}

/* Add a response header.  Values must not contain CR or LF. */
void
resp_header(struct req *r, const char *name, const char *value)
{
	if (strpbrk(value, "\r\n") != NULL)
		return;
	buf_printf(&r->headers, "%s: %s\r\n", name, value);
}

/* Send the whole response.  Only the first call per request counts. */
void
resp_send(struct req *r, int status, const char *content_type, const void *body,
    size_t len)
{
	FCGX_Request *fr = r->fr;
	char          head[256];
	int           n;

	if (r->status != 0)
		return;
	r->status = status;
	n = snprintf(head, sizeof head,
	    "Status: %d\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n",
	    status, r->request_id);
	FCGX_PutStr(head, n, fr->out);
	if (content_type != NULL) {
		n = snprintf(head, sizeof head,
		    "Content-Type: %s\r\nContent-Length: %zu\r\n", content_type,
		    len);
		FCGX_PutStr(head, n, fr->out);
	}
	FCGX_PutStr(r->headers.data, (int)r->headers.len, fr->out);
	FCGX_PutStr("\r\n", 2, fr->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, fr->out);
}

static void
req_cleanup(struct req *r)
{
	free(r->path);
	free(r->query);
	free(r->content_type);
	free(r->cookie);
	free(r->authorization);
	free(r->csrf_token);
	free(r->if_match);
	free(r->remote_addr);
	free(r->user_agent);
	for (size_t i = 0; i < r->nparams; i++)
		free(r->params[i]);
	explicit_bzero(r->body.data, r->body.len);
	buf_cleanup(&r->body);
	buf_cleanup(&r->headers);
	memset(r, 0, sizeof *r);
}

/*
 * Finish the request: a handler that sent nothing gets a bare 500, so the
 * client never hangs.  Then free everything of the request.
 */
void
fcgi_finish(struct fcgi *f, struct req *r)
{
	static const char body[] =
	    "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\","
	    "\"status\":500}";

	if (r->status == 0)
		resp_send(r, 500, "application/problem+json", body,
		    sizeof body - 1);
	req_cleanup(r);
	log_set_request(NULL);
	FCGX_Finish_r(&f->fr);
}
