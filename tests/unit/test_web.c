/*
 * test_web: matching a request against a route.
 */
#include <stdlib.h>
#include <string.h>

#include "web/web.h"
#include "test.h"

static int
handler(struct call *c)
{
	(void)c;
	return 0;
}

static void
free_params(struct req *r)
{
	for (size_t i = 0; i < REQ_MAX_PARAMS; i++) {
		free(r->params[i]);
		r->params[i] = NULL;
	}
	r->nparams = 0;
}

static const struct route LIST = { "GET", "/api/mailboxes", handler,
	ROUTE_AGENT, NULL };
static const struct route ONE = { "PATCH", "/api/mailboxes/{id}", handler,
	ROUTE_ADMIN, NULL };
static const struct route TWO = { "POST",
	"/api/mailboxes/{id}/folders/{folder}", handler, ROUTE_ADMIN, NULL };
static const struct route ROOT = { "GET", "/", handler, ROUTE_PUBLIC, NULL };

static void
test_exact(void)
{
	struct req r;

	memset(&r, 0, sizeof r);
	CHECK(web_route_match(&LIST, "GET", "/api/mailboxes", &r));
	CHECK_INT(r.nparams, 0);
	CHECK(!web_route_match(&LIST, "GET", "/api/mailboxes/", &r));
	CHECK(!web_route_match(&LIST, "GET", "/api/mailbox", &r));
	CHECK(!web_route_match(&LIST, "GET", "/api/mailboxesx", &r));
	CHECK(!web_route_match(&LIST, "GET", "/api/Mailboxes", &r));
	CHECK(!web_route_match(&LIST, "GET", "/api/mailboxes/1", &r));
	CHECK(!web_route_match(&LIST, "GET", "", &r));
	CHECK(!web_route_match(&LIST, "GET", "api/mailboxes", &r));
	CHECK(web_route_match(&ROOT, "GET", "/", &r));
	CHECK(!web_route_match(&ROOT, "GET", "//", &r));
	CHECK(!web_route_match(&ROOT, "GET", "/x", &r));
	CHECK_INT(r.nparams, 0);
	free_params(&r);
}

static void
test_method(void)
{
	struct req r;

	memset(&r, 0, sizeof r);
	CHECK(!web_route_match(&LIST, "POST", "/api/mailboxes", &r));
	CHECK(!web_route_match(&LIST, "get", "/api/mailboxes", &r));
	CHECK(!web_route_match(&LIST, "GE", "/api/mailboxes", &r));
	CHECK(!web_route_match(&LIST, "GETX", "/api/mailboxes", &r));
	CHECK(!web_route_match(&ONE, "GET", "/api/mailboxes/7", &r));
	CHECK(r.params[0] == NULL); /* nothing captured on a miss */
	CHECK_INT(r.nparams, 0);

	/* NULL matches any method (used to build the Allow header). */
	CHECK(web_route_match(&LIST, NULL, "/api/mailboxes", &r));
	CHECK(web_route_match(&ONE, NULL, "/api/mailboxes/7", NULL));
	CHECK(!web_route_match(&ONE, NULL, "/api/mailboxes", NULL));
	free_params(&r);
}

static void
test_params(void)
{
	struct req r;

	memset(&r, 0, sizeof r);
	CHECK(web_route_match(&ONE, "PATCH", "/api/mailboxes/42", &r));
	if (CHECK_INT(r.nparams, 1))
		CHECK_STR(r.params[0], "42");
	free_params(&r);

	/* The parameter is text; checking it is web_id()'s job. */
	CHECK(web_route_match(&ONE, "PATCH", "/api/mailboxes/abc%20d", &r));
	if (CHECK_INT(r.nparams, 1))
		CHECK_STR(r.params[0], "abc%20d");
	free_params(&r);

	CHECK(web_route_match(&TWO, "POST", "/api/mailboxes/9/folders/Inbox",
	    &r));
	if (CHECK_INT(r.nparams, 2)) {
		CHECK_STR(r.params[0], "9");
		CHECK_STR(r.params[1], "Inbox");
	}
	free_params(&r);

	/* Without r nothing is captured, and nothing leaks. */
	CHECK(
	    web_route_match(&TWO, "POST", "/api/mailboxes/9/folders/x", NULL));

	memset(&r, 0, sizeof r);
	CHECK(!web_route_match(&ONE, "PATCH", "/api/mailboxes/", &r));
	CHECK(!web_route_match(&ONE, "PATCH", "/api/mailboxes", &r));
	CHECK(!web_route_match(&ONE, "PATCH", "/api/mailboxes/42/", &r));
	CHECK(!web_route_match(&ONE, "PATCH", "/api/mailboxes/42/x", &r));
	CHECK(!web_route_match(&ONE, "PATCH", "/api/mailboxes//", &r));
	CHECK(!web_route_match(&TWO, "POST", "/api/mailboxes/9/folders/", &r));
	CHECK(!web_route_match(&TWO, "POST", "/api/mailboxes//folders/x", &r));
	CHECK(!web_route_match(&TWO, "POST", "/api/mailboxes/9/folder/x", &r));
	CHECK(
	    !web_route_match(&TWO, "POST", "/api/mailboxes/9/folders/x/y", &r));
	CHECK_INT(r.nparams, 0);
	for (size_t i = 0; i < REQ_MAX_PARAMS; i++)
		CHECK(r.params[i] == NULL);
	free_params(&r);
}

int
main(void)
{
	test_exact();
	test_method();
	test_params();
	return TEST_DONE();
}
