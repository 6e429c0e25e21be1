/*
 * postdesk-oauth: the FastCGI responder for the two redirect URIs the
 * guide registers in Azure, /azure/auth and /auth/account/azureresponse.
 * Both run the same handler: check the state, redeem the code (lib/
 * domain/mailbox_connect.c), and send the browser back to the mailbox page,
 * which shows "connected as ..." or Microsoft's error with its guidance.
 * A state that cannot be used (unknown, expired, used, another session's)
 * or an internal error gets a page of its own (lib/web/page.c) that says
 * so, says to start again with Authorize Application, links back to the
 * mailbox and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "domain/mailbox_connect.h"
#include "domain/mailbox_state.h"
#include "web/page.h"
#include "web/web.h"

#define TODO_AGAIN                                                             \
	"Nothing was changed. Go back to the mailbox and press Authorize "     \
	"Application to start again, then finish signing in with Microsoft "   \
	"within 10 minutes, in this browser, signed in to postdesk."

/* Microsoft's error of the callback, one line, or NULL. */
static void
said_of(char *dst, size_t size, const char *error, const char *desc)
{
	const char *s = desc != NULL && desc[0] ? desc : error;

	snprintf(dst, size, "%s", s != NULL ? s : "");
	dst[strcspn(dst, "\r\n")] = '\0';
}

/* The page for a sign-in that went nowhere: back to the mailbox when it is
 * known (and still there), else to Mailbox Setup. */
static void
error_page(struct call *c, int status, uint64_t mailbox, struct web_page *pg)
{
	struct mailbox mb = { 0 };
	struct err     err;
	char           href[1200], link[600];

	if (mailbox != 0 && mailbox_get(c->app, mailbox, &mb, &err) == 0) {
		snprintf(href, sizeof href, "%s/#/mailboxes/%llu",
		    c->app->cfg.portal_url, (unsigned long long)mailbox);
		snprintf(link, sizeof link,
		    "Back to the mailbox \u201c%s\u201d", mb.name);
	} else {
		snprintf(href, sizeof href, "%s/#/mailboxes",
		    c->app->cfg.portal_url);
		snprintf(link, sizeof link, "Back to Mailbox Setup");
	}
	mailbox_cleanup(&mb);
	pg->href = href;
	pg->link = link;
	pg->request_id = c->req->request_id;
	web_page(c, status, pg);
}

static int
oauth_callback(struct call *c)
{
	struct mailbox_connect_callback cb = { 0 };
	struct mailbox_connect_result   res = { 0 };
	struct web_page                 pg = { 0 };
	struct principal                who;
	struct err                      err;
	struct http                    *h;
	char                           *state = req_query(c->req, "state");
	char                           *code = req_query(c->req, "code");
	char                           *error = req_query(c->req, "error");
	char *desc = req_query(c->req, "error_description");
	char  loc[1200], said[600];
	int   rc = -1;

	if (authn_request(c->app, c->req, &who, &err) == 0)
		cb.session_id = who.session_id;
	cb.state = state;
	cb.code = code;
	cb.error = error;
	cb.error_description = desc;
	said_of(said, sizeof said, error, desc);
	h = app_http_request(c->app, &err);
	if (h != NULL)
		rc = mailbox_connect_finish(c->app, h, &cb, &res, &err);
	if (rc == -1) {
		log_err("callback: %s", err.detail[0] ? err.detail : err.msg);
		pg.title = "Something went wrong";
		pg.what = "postdesk could not complete the sign-in with "
		          "Microsoft.";
		pg.said = said;
		pg.todo = TODO_AGAIN;
		error_page(c, 500, res.mailbox_id, &pg);
	} else if (res.outcome == MAILBOX_CONNECT_BAD_STATE) {
		pg.title = "This sign-in cannot be used";
		pg.what = res.message;
		pg.said = said;
		pg.todo = TODO_AGAIN;
		error_page(c, 400, res.mailbox_id, &pg);
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
