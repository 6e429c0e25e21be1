/*
 * postdesk-oauth: the FastCGI responder for the two redirect URIs the
 * guide registers in Azure, /azure/auth and /auth/account/azureresponse.
 * Both run the same handler.  Until a mailbox authorization is started
 * from the portal (issue #3), every state is unknown, so the callback
 * answers with a clear page and changes nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "web.h"

static int
oauth_callback(struct call *c)
{
	char *state = req_query(c->req, "state");
	char *error = req_query(c->req, "error");
	int   status = 400;

	if (error != NULL)
		web_html(c, status, "Microsoft sign-in did not complete",
		    "Microsoft returned an error and no mailbox was changed. "
		    "Start again from Mailbox Setup.");
	else if (state == NULL)
		web_html(c, status, "This link is incomplete",
		    "The sign-in response has no state parameter. Start the "
		    "authorization again from Mailbox Setup.");
	else
		web_html(c, status, "This sign-in link is unknown or expired",
		    "No mailbox authorization is waiting for this response; "
		    "nothing was changed. Start again from Mailbox Setup.");
	free(state);
	free(error);
	return 0;
}

/* clang-format off */
static const struct route routes[] = {
	{ "GET", "/azure/auth",                  oauth_callback, ROUTE_PUBLIC },
	{ "GET", "/auth/account/azureresponse",  oauth_callback, ROUTE_PUBLIC },
};
/* clang-format on */

#define NROUTES (sizeof routes / sizeof routes[0])

int
main(int argc, char **argv)
{
	struct app   app;
	struct err   err;
	struct fcgi *f;
	struct req   r;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: postdesk-oauth (run under spawn-fcgi)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (app_init(&app, "postdesk-oauth", &err) == -1) {
		fprintf(stderr, "postdesk-oauth: %s\n", err.msg);
		app_cleanup(&app);
		return 2;
	}
	f = fcgi_open();
	if (f == NULL) {
		log_err("cannot initialise FastCGI (is stdin a socket?)");
		app_cleanup(&app);
		return 2;
	}
	while (fcgi_accept(f, &r) == 0) {
		web_dispatch(&app, &r, routes, NROUTES);
		fcgi_finish(f, &r);
	}
	fcgi_close(f);
	app_cleanup(&app);
	return 0;
}
