/*
 * postdesk-oauth: the FastCGI responder for the two redirect URIs the
 * guide registers in Azure, /azure/auth and /auth/account/azureresponse.
 * Both run the same handler: check the state, redeem the code (lib/
 * domain/mailbox_connect.c), and send the browser back to the mailbox page,
 * which shows "connected as ..." or the error with its guidance.  A bad state
 * gets a plain page and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/mailbox_connect.h"
#include "base/log.h"
#include "web/web.h"

static int
oauth_callback(struct call *c)
{
	struct mailbox_connect_callback cb = { 0 };
	struct mailbox_connect_result   res = { 0 };
	struct principal                who;
	struct err                      err;
	struct http                    *h;
	char                           *state = req_query(c->req, "state");
	char                           *code = req_query(c->req, "code");
	char                           *error = req_query(c->req, "error");
	char *desc = req_query(c->req, "error_description");
	char  loc[1200];
	int   rc = -1;

	if (authn_request(c->app, c->req, &who, &err) == 0)
		cb.session_id = who.session_id;
	cb.state = state;
	cb.code = code;
	cb.error = error;
	cb.error_description = desc;
	h = app_http_request(c->app, &err);
	if (h != NULL)
		rc = mailbox_connect_finish(c->app, h, &cb, &res, &err);
	if (rc == -1) {
		log_err("callback: %s", err.detail[0] ? err.detail : err.msg);
		web_html(c, 500, "Something went wrong",
		    "postdesk could not complete the sign-in. Nothing was "
		    "changed; try Authorize Application again.");
	} else if (res.outcome == MAILBOX_CONNECT_BAD_STATE) {
		web_html(c, 400, "This sign-in cannot be used", res.message);
	} else {
		snprintf(loc, sizeof loc, "%s/#/mailboxes/%llu",
		    c->app->cfg.portal_url, (unsigned long long)res.mailbox_id);
		resp_header(c->req, "Location", loc);
		resp_send(c->req, 302, NULL, NULL, 0);
		log_info("mailbox %llu: %s", (unsigned long long)res.mailbox_id,
		    res.outcome == MAILBOX_CONNECT_OK ? "connected"
		                                      : "sign-in failed");
	}
	free(state);
	if (code != NULL)
		explicit_bzero(code, strlen(code));
	free(code);
	free(error);
	free(desc);
	return 0;
}

/* clang-format off */
static const struct route routes[] = {
	{ "GET", "/azure/auth",                  oauth_callback, ROUTE_PUBLIC, NULL },
	{ "GET", "/auth/account/azureresponse",  oauth_callback, ROUTE_PUBLIC, NULL },
};
/* clang-format on */

#define NROUTES (sizeof routes / sizeof routes[0])

int
main(int argc, char **argv)
{
	return web_serve("postdesk-oauth", routes, NROUTES, argc, argv);
}
