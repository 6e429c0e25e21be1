/*
 * page: the HTML pages postdesk-oauth answers with when a sign-in cannot
 * go back to the portal (cgi-bin/oauth.c): in the portal's look (its
 * app.css and connect.css, which the Content-Security-Policy of
 * nginx/postdesk-headers.conf allows as 'self'; no inline style), saying
 * what happened, what to do and linking back.  Every text is escaped.
 */
#ifndef POSTDESK_PAGE_H
#define POSTDESK_PAGE_H

#include "base/buf.h"
#include "web/web.h"

struct web_page {
	const char *title;      /* <title> and <h1> */
	const char *what;       /* what happened, a sentence */
	const char *said;       /* Microsoft's own words, or NULL */
	const char *todo;       /* what to do now */
	const char *href;       /* the link back */
	const char *link;       /* its text */
	const char *request_id; /* shown as the reference, or NULL */
};

void web_page_render(struct buf *, const struct web_page *);
void web_page(struct call *, int status, const struct web_page *);

#endif
