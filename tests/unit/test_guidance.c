/*
 * test_guidance: every AADSTS and Graph error code lib/microsoft/guidance.c
 * promises (docs/graph-contract.md) has its own entry (not the fallback), the
 * OAuth error string is used when the code is unknown, and unknown errors
 * get the general advice.
 */
#include <stdio.h>
#include <string.h>

#include "microsoft/guidance.h"
#include "test.h"

static const long aadsts_codes[] = { 70000, 70008, 700082, 50173, 54005, 50148,
	50011, 7000215, 7000222, 700016, 90002, 65001, 90094, 50076, 50079,
	53003, 50057, 9002313 };

static const char *graph_codes[] = { "ErrorAccessDenied", "ErrorSendAsDenied",
	"MailboxNotEnabledForRESTAPI", "ErrorInvalidUser" };

static int
complete(const struct guidance *g)
{
	return g != NULL && g->key != NULL && g->title != NULL &&
	    g->action != NULL && g->title[0] != '\0' && g->action[0] != '\0';
}

static void
test_aadsts(void)
{
	const struct guidance *g;
	char                   key[32];

	for (size_t i = 0; i < sizeof aadsts_codes / sizeof aadsts_codes[0];
	     i++) {
		snprintf(key, sizeof key, "AADSTS%ld", aadsts_codes[i]);
		g = guidance_oauth("invalid_grant", aadsts_codes[i]);
		if (!CHECK(complete(g)) || !CHECK_STR(g->key, key))
			continue;
		CHECK(g != guidance_fallback());
		/* The code decides, whatever the error string. */
		CHECK(guidance_oauth("invalid_client", aadsts_codes[i]) == g);
		CHECK(guidance_oauth(NULL, aadsts_codes[i]) == g);
	}
}

static void
test_specific_advice(void)
{
	/* The guide's table: Secret ID vs Value, expired secret. */
	CHECK(strstr(guidance_oauth("invalid_client", 7000215)->action,
	          "not the Secret ID") != NULL);
	CHECK(strstr(guidance_oauth("invalid_client", 7000222)->title,
	          "expired") != NULL);
	CHECK(strstr(guidance_oauth("invalid_request", 50011)->action,
	          "redirect URI") != NULL);
	CHECK(strstr(guidance_graph(403, "ErrorAccessDenied")->action,
	          "Microsoft 365 admin center") != NULL);
	CHECK(strstr(guidance_graph(403, "ErrorAccessDenied")->action,
	          "not the Exchange admin console") != NULL);
	/* A refused refresh token makes the connection dead. */
	CHECK(guidance_oauth("invalid_grant", 50173)->reauth);
	CHECK(guidance_oauth("invalid_grant", 9002313)->reauth);
	/* Throttling is not the admin's problem. */
	CHECK(!guidance_graph(429, "ApplicationThrottled")->reauth);
}

static void
test_graph(void)
{
	const struct guidance *g;

	for (size_t i = 0; i < sizeof graph_codes / sizeof graph_codes[0];
	     i++) {
		g = guidance_graph(403, graph_codes[i]);
		if (CHECK(complete(g)))
			CHECK_STR(g->key, graph_codes[i]);
		/* The code decides, not the status. */
		CHECK(guidance_graph(404, graph_codes[i]) == g);
	}
	/* A 401 without a known code: the token was refused. */
	g = guidance_graph(401, "");
	if (CHECK(complete(g)))
		CHECK_STR(g->key, "InvalidAuthenticationToken");
	g = guidance_graph(401, NULL);
	if (CHECK(complete(g)))
		CHECK_STR(g->key, "InvalidAuthenticationToken");
}

static void
test_error_strings(void)
{
	const struct guidance *g;

	/* No AADSTS code (a redirected error): the error string. */
	g = guidance_oauth("access_denied", 0);
	if (CHECK(complete(g)))
		CHECK_STR(g->key, "access_denied");
	/* An unknown code falls back to the error string when known. */
	g = guidance_oauth("invalid_grant", 1234567);
	if (CHECK(complete(g)))
		CHECK_STR(g->key, "invalid_grant");
	g = guidance_oauth("temporarily_unavailable", 0);
	if (CHECK(complete(g)))
		CHECK(!g->reauth);
}

static void
test_fallback(void)
{
	const struct guidance *f = guidance_fallback();

	if (!CHECK(complete(f)))
		return;
	CHECK(strstr(f->action, "Disconnect and then reauthorize") != NULL);
	CHECK(guidance_oauth("no_such_error", 1234567) == f);
	CHECK(guidance_oauth("no_such_error", 0) == f);
	CHECK(guidance_oauth(NULL, 0) == f);
	CHECK(guidance_oauth("", -5) == f);
	CHECK(guidance_graph(500, "NoSuchCode") == f);
	CHECK(guidance_graph(403, NULL) == f);
	CHECK(guidance_graph(0, "") == f);
	/* A prefix of a known key is not that key. */
	CHECK(guidance_graph(403, "ErrorAccess") == f);
	CHECK(guidance_oauth("access", 0) == f);
}

int
main(void)
{
	test_aadsts();
	test_specific_advice();
	test_graph();
	test_error_strings();
	test_fallback();
	return TEST_DONE();
}
