/*
 * app: what every postdesk program holds for its whole life — the
 * configuration, the database handle and the sealing key.  The only
 * process-wide state besides the log prefix; passed down explicitly.
 */
#ifndef POSTDESK_APP_H
#define POSTDESK_APP_H

#include "base/config.h"
#include "adapt/db.h"
#include "base/err.h"
#include "adapt/http.h"
#include "adapt/seal.h"

struct app {
	struct config   cfg;
	struct db      *db;
	struct seal_key key;
	struct http    *http; /* created on first use: app_http() */
};

/*
 * What a request answered through nginx may spend on calls to Microsoft,
 * in all: well under the 60 s after which nginx gives up on a FastCGI
 * answer (nginx/postdesk-snippet.conf.in, the locations of both nginx
 * configurations, keeps nginx's default fastcgi_read_timeout).
 */
#define APP_REQUEST_HTTP_MS 10000

int          app_init(struct app *, const char *prog, struct err *);
void         app_cleanup(struct app *);
struct http *app_http(struct app *, struct err *);
struct http *app_http_request(struct app *, struct err *);

#endif
