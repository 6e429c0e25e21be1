/*
 * page: postdesk-oauth's own HTML pages (see page.h).  The markup uses the
 * classes of the portal's sign-in card (nginx/portal/app.css) so the page
 * looks like the portal without a stylesheet of its own.
 */
#include <string.h>

#include "web/page.h"

/* <tag class="cls">text</tag>, text escaped; nothing when text is empty. */
static void
element(struct buf *b, const char *tag, const char *cls, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return;
	buf_printf(b, "<%s class=\"%s\">", tag, cls);
	buf_html(b, text);
	buf_printf(b, "</%s>", tag);
}

void
web_page_render(struct buf *b, const struct web_page *pg)
{
	buf_puts(b,
	    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><meta name=\"color-scheme\" content=\"light\">"
	    "<title>");
	buf_html(b, pg->title);
	buf_puts(b,
	    " · postdesk</title>"
	    "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">"
	    "<link rel=\"stylesheet\" href=\"/app.css\">"
	    "<link rel=\"stylesheet\" href=\"/connect.css\"></head><body>"
	    "<main class=\"login-page\" id=\"main\">"
	    "<div class=\"login-card callback-card\">"
	    "<div class=\"login-brand\"><img class=\"brand-logo-lg\" "
	    "src=\"/favicon.svg\" alt=\"\" width=\"40\" height=\"40\">"
	    "<span class=\"brand-name\">postdesk</span></div>"
	    "<h1 class=\"login-title\" id=\"page-title\">");
	buf_html(b, pg->title);
	buf_puts(b, "</h1><div class=\"problem\" id=\"callback-problem\">");
	element(b, "p", "problem-title", pg->what);
	if (pg->said != NULL && pg->said[0] != '\0') {
		buf_puts(b,
		    "<p class=\"problem-detail\" id=\"callback-said\">"
		    "Microsoft said: ");
		buf_html(b, pg->said);
		buf_puts(b, "</p>");
	}
	if (pg->request_id != NULL && pg->request_id[0] != '\0') {
		buf_puts(b, "<p class=\"problem-ref\">Reference: ");
		buf_html(b, pg->request_id);
		buf_puts(b, "</p>");
	}
	buf_puts(b,
	    "</div><p class=\"callback-todo\" id=\"callback-todo\">"
	    "<strong>What to do: </strong>");
	buf_html(b, pg->todo);
	buf_puts(b,
	    "</p><p><a class=\"btn btn-primary\" id=\"callback-back\" "
	    "href=\"");
	buf_html(b, pg->href);
	buf_puts(b, "\">");
	buf_html(b, pg->link);
	buf_puts(b, "</a></p></div></main></body></html>\n");
}

void
web_page(struct call *c, int status, const struct web_page *pg)
{
	struct buf b;

	buf_init(&b, 2048);
	web_page_render(&b, pg);
	resp_send(c->req, status, "text/html; charset=utf-8", b.data, b.len);
	buf_cleanup(&b);
}
