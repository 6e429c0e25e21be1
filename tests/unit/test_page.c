/*
 * test_page: postdesk-oauth's error page (lib/web/page.c): every text
 * escaped, the portal's stylesheets, nothing inline, optional parts left out.
 */
#include <string.h>

#include "base/buf.h"
#include "web/page.h"
#include "test.h"

static int
has(const struct buf *b, const char *s)
{
	return strstr(b->data, s) != NULL;
}

static void
test_escaped(void)
{
	struct web_page pg = { .title = "T<1>",
		.what = "what & <b>why</b>",
		.said = "AADSTS65004: \"declined\" <script>x</script>",
		.todo = "press 'Authorize Application'",
		.href = "https://h/#/mailboxes/7?a=1&b=\"2\"",
		.link = "Back to the mailbox <i>x</i>",
		.request_id = "r<1>" };
	struct buf      b;

	buf_init(&b, 0);
	web_page_render(&b, &pg);
	CHECK(has(&b, "<title>T&lt;1&gt; · postdesk</title>"));
	CHECK(has(&b, "id=\"page-title\">T&lt;1&gt;</h1>"));
	CHECK(has(&b,
	    "<p class=\"problem-title\">what &amp; "
	    "&lt;b&gt;why&lt;/b&gt;</p>"));
	CHECK(has(&b,
	    "Microsoft said: AADSTS65004: &quot;declined&quot; "
	    "&lt;script&gt;x&lt;/script&gt;</p>"));
	CHECK(has(&b,
	    "What to do: </strong>press &#39;Authorize "
	    "Application&#39;</p>"));
	CHECK(has(&b,
	    "href=\"https://h/#/mailboxes/7?a=1&amp;b=&quot;2&quot;\""
	    ">Back to the mailbox &lt;i&gt;x&lt;/i&gt;</a>"));
	CHECK(has(&b, "<p class=\"problem-ref\">Reference: r&lt;1&gt;</p>"));
	CHECK(has(&b, "<link rel=\"stylesheet\" href=\"/app.css\">"));
	CHECK(has(&b, "<link rel=\"stylesheet\" href=\"/connect.css\">"));
	CHECK(!has(&b, "<script"));
	CHECK(!has(&b, "<b>"));
	CHECK(!has(&b, "style="));
	buf_cleanup(&b);
}

static void
test_optional_parts(void)
{
	struct web_page pg = { .title = "T",
		.what = "W",
		.said = "",
		.todo = "D",
		.href = "/#/mailboxes",
		.link = "L" };
	struct buf      b;

	buf_init(&b, 0);
	web_page_render(&b, &pg);
	CHECK(!has(&b, "Microsoft said"));
	CHECK(!has(&b, "Reference"));
	CHECK(has(&b, "<p class=\"problem-title\">W</p>"));
	CHECK(has(&b, "</html>\n"));
	buf_cleanup(&b);
}

int
main(void)
{
	test_escaped();
	test_optional_parts();
	return TEST_DONE();
}
