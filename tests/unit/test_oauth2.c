/*
 * test_oauth2: PKCE (RFC 7636), the authorize URL and scopes, reading the
 * token endpoint's answers (success, Microsoft's error shapes, malformed
 * ones), id_token claims, and the clouds with the configuration override.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/config.h"
#include "microsoft/oauth2.h"
#include "test.h"
#include "base/url.h"

#define B64URL                                                                 \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define AUTHORIZE                                                              \
	"https://login.example/contoso.onmicrosoft.com/oauth2/v2.0/authorize?"

static void
test_pkce(void)
{
	char ver[OAUTH2_VERIFIER_MAX], chal[OAUTH2_CHALLENGE_MAX];
	char ver2[OAUTH2_VERIFIER_MAX], again[OAUTH2_CHALLENGE_MAX];

	/* RFC 7636 appendix B. */
	oauth2_challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	    chal);
	CHECK_STR(chal, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");

	oauth2_pkce(ver, chal);
	CHECK_INT(strlen(ver), 64);
	/* RFC 7636 4.1: unreserved characters; base64url uses a subset. */
	CHECK(strspn(ver, B64URL) == 64);
	CHECK_INT(strlen(chal), 43);
	CHECK(strspn(chal, B64URL) == 43);
	oauth2_challenge_of(ver, again);
	CHECK_STR(again, chal);
	oauth2_pkce(ver2, again);
	CHECK(strcmp(ver, ver2) != 0);
	CHECK(strcmp(chal, again) != 0);
}

static void
test_scopes(void)
{
	struct buf b;

	buf_init(&b, 64);
	oauth2_scopes(&b, 0);
	CHECK_STR(b.data,
	    "offline_access openid email profile Mail.ReadWrite Mail.Send");
	buf_reset(&b);
	oauth2_scopes(&b, 1);
	CHECK_STR(b.data,
	    "offline_access openid email profile Mail.ReadWrite Mail.Send "
	    "Mail.ReadWrite.Shared Mail.Send.Shared");
	CHECK(strstr(b.data, "User.Read") == NULL);
	buf_cleanup(&b);
}

/* The decoded value of name in the query of url, or NULL. */
static char *
query_of(const char *url, const char *name)
{
	const char *q = strchr(url, '?');

	return q ? url_query_get(q + 1, name) : NULL;
}

static int
has(const char *url, const char *name, const char *expect)
{
	char *v = query_of(url, name);
	int   ok = v != NULL && strcmp(v, expect) == 0;

	free(v);
	return ok;
}

static void
test_authorize_url(void)
{
	struct oauth2_cloud cloud = { "https://login.example", "https://g" };
	struct buf          b;
	char               *v;

	buf_init(&b, 256);
	oauth2_authorize_url(&b, &cloud, "contoso.onmicrosoft.com",
	    "0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab",
	    "https://pd.example:8443/azure/auth",
	    "offline_access openid Mail.Send", "st&a=te+/", "E9Mel_-x",
	    "alice+help@contoso.com");
	CHECK(strncmp(b.data, AUTHORIZE, strlen(AUTHORIZE)) == 0);
	/* Every value percent-encoded: no raw separators inside values. */
	CHECK(strstr(b.data,
	          "redirect_uri=https%3A%2F%2Fpd.example%3A8443%2Fazure%"
	          "2Fauth") != NULL);
	CHECK(strstr(b.data, "scope=offline_access%20openid%20Mail.Send") !=
	    NULL);
	CHECK(strstr(b.data, "state=st%26a%3Dte%2B%2F") != NULL);
	CHECK(strstr(b.data, "login_hint=alice%2Bhelp%40contoso.com") != NULL);
	CHECK(has(b.data, "client_id", "0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab"));
	CHECK(has(b.data, "response_type", "code"));
	CHECK(
	    has(b.data, "redirect_uri", "https://pd.example:8443/azure/auth"));
	CHECK(has(b.data, "scope", "offline_access openid Mail.Send"));
	CHECK(has(b.data, "state", "st&a=te+/"));
	CHECK(has(b.data, "code_challenge", "E9Mel_-x"));
	CHECK(has(b.data, "code_challenge_method", "S256"));
	CHECK(has(b.data, "prompt", "select_account"));
	CHECK(has(b.data, "login_hint", "alice+help@contoso.com"));
	CHECK(strstr(b.data, "User.Read") == NULL);
	CHECK(strchr(b.data, ' ') == NULL);

	/* No login hint: no empty parameter. */
	buf_reset(&b);
	oauth2_authorize_url(&b, &cloud, "t", "c", "https://r", "s", "st", "ch",
	    NULL);
	v = query_of(b.data, "login_hint");
	CHECK(v == NULL);
	free(v);
	CHECK(strstr(b.data, "login_hint") == NULL);
	CHECK(strstr(b.data, "&&") == NULL);
	buf_cleanup(&b);
}

/* Parse body (as a token endpoint answer with HTTP status). */
static int
parse(const char *body, long status, struct oauth2_tokens *t,
    struct oauth2_error *oe, struct err *err)
{
	return oauth2_parse_tokens(body, strlen(body), status, t, oe, err);
}

static void
test_tokens_ok(void)
{
	struct oauth2_tokens t;
	struct oauth2_error  oe;
	struct err           err;

	if (CHECK(parse("{\"token_type\":\"Bearer\",\"scope\":\"Mail.Send\","
	                "\"expires_in\":3599,\"ext_expires_in\":3599,"
	                "\"access_token\":\"AT\",\"refresh_token\":\"RT\","
	                "\"id_token\":\"a.b.c\"}",
	              200, &t, &oe, &err) == 0)) {
		CHECK_STR(t.access_token, "AT");
		CHECK_STR(t.refresh_token, "RT");
		CHECK_STR(t.id_token, "a.b.c");
		CHECK_STR(t.scope, "Mail.Send");
		CHECK_INT(t.expires_in, 3599);
		oauth2_tokens_cleanup(&t);
		CHECK(t.access_token == NULL);
	}
	/* Some clouds send expires_in as a string; no refresh token. */
	if (CHECK(parse("{\"access_token\":\"AT\",\"expires_in\":\"3600\"}",
	              200, &t, &oe, &err) == 0)) {
		CHECK_INT(t.expires_in, 3600);
		CHECK(t.refresh_token == NULL);
		CHECK(t.id_token == NULL);
		oauth2_tokens_cleanup(&t);
	}
}

static void
test_tokens_errors(void)
{
	struct oauth2_tokens t;
	struct oauth2_error  oe;
	struct err           err;

	/* Microsoft's error JSON: the first of error_codes. */
	CHECK(
	    parse("{\"error\":\"invalid_client\",\"error_description\":"
	          "\"AADSTS7000215: Invalid client secret provided.\\r\\n"
	          "Trace ID: x\\r\\nCorrelation ID: y\",\"error_codes\":"
	          "[7000215, 1],\"trace_id\":\"tr\",\"correlation_id\":\"co\"}",
	        401, &t, &oe, &err) == -1);
	CHECK_INT(err.code, E_AUTH);
	CHECK_STR(oe.error, "invalid_client");
	CHECK_INT(oe.code, 7000215);
	CHECK_STR(oe.description,
	    "AADSTS7000215: Invalid client secret provided.");
	CHECK_STR(oe.trace_id, "tr");
	CHECK_STR(oe.correlation_id, "co");
	CHECK(t.access_token == NULL);

	/* No error_codes: the code from "AADSTS…" in the description. */
	CHECK(parse("{\"error\":\"invalid_grant\",\"error_description\":"
	            "\"AADSTS50173: The provided grant has expired.\"}",
	          400, &t, &oe, &err) == -1);
	CHECK_INT(err.code, E_AUTH);
	CHECK_INT(oe.code, 50173);
	/* Neither: code 0. */
	CHECK(parse("{\"error\":\"invalid_grant\",\"error_description\":"
	            "\"bad\"}",
	          400, &t, &oe, &err) == -1);
	CHECK_INT(oe.code, 0);
	CHECK_STR(oe.error, "invalid_grant");
	/* An error status without "error": still an error. */
	CHECK(parse("{\"access_token\":\"AT\",\"expires_in\":1}", 400, &t, &oe,
	          &err) == -1);
	CHECK_INT(err.code, E_AUTH);
	CHECK(t.access_token == NULL);
	/* "error" with 200: an error. */
	CHECK(parse("{\"error\":\"server_error\"}", 200, &t, &oe, &err) == -1);
	CHECK_STR(oe.error, "server_error");

	/* 5xx: unavailable, with or without JSON. */
	CHECK(parse("{\"error\":\"temporarily_unavailable\",\"error_codes\":"
	            "[90033]}",
	          503, &t, &oe, &err) == -1);
	CHECK_INT(err.code, E_UNAVAILABLE);
	CHECK_INT(oe.code, 90033);
	CHECK(parse("<html>Service Unavailable</html>", 502, &t, &oe, &err) ==
	    -1);
	CHECK_INT(err.code, E_UNAVAILABLE);

	/* Malformed answers. */
	CHECK(parse("{\"access_token\":\"AT\",", 200, &t, &oe, &err) == -1);
	CHECK_INT(err.code, E_UNAVAILABLE);
	CHECK(parse("", 200, &t, &oe, &err) == -1);
	CHECK_INT(err.code, E_UNAVAILABLE);
	CHECK(parse("[\"access_token\"]", 200, &t, &oe, &err) == -1);
	CHECK_INT(err.code, E_UNAVAILABLE);
	CHECK(parse("{\"expires_in\":3599,\"refresh_token\":\"RT\"}", 200, &t,
	          &oe, &err) == -1);
	CHECK_INT(err.code, E_UNAVAILABLE);
	CHECK(t.refresh_token == NULL);
	CHECK(parse("{\"access_token\":\"\",\"expires_in\":3599}", 200, &t, &oe,
	          &err) == -1);
	CHECK(parse("{\"access_token\":5,\"expires_in\":3599}", 200, &t, &oe,
	          &err) == -1);
	CHECK(parse("{\"access_token\":\"AT\"}", 200, &t, &oe, &err) == -1);
	CHECK(parse("{\"access_token\":\"AT\",\"expires_in\":\"soon\"}", 200,
	          &t, &oe, &err) == -1);
	CHECK(parse("{\"access_token\":\"AT\",\"expires_in\":-5}", 200, &t, &oe,
	          &err) == -1);
	CHECK_INT(err.code, E_UNAVAILABLE);
	CHECK(t.access_token == NULL);
	/* NUL inside the body: not JSON. */
	CHECK(oauth2_parse_tokens("{\"a\0\":1}", 8, 200, &t, &oe, &err) == -1);
}

/* A JWT "h.<payload>.s" with payload as base64url (no padding). */
static char *
jwt(const char *payload)
{
	size_t n = strlen(payload);
	size_t size = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char  *s = malloc(20 + size + 1);

	if (s == NULL)
		abort();
	memcpy(s, "eyJhbGciOiJub25lIn0.", 20);
	sodium_bin2base64(s + 20, size, (const unsigned char *)payload, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = strlen(s);
	memcpy(s + n, ".", 2);
	return s;
}

#define CLIENT "0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab"

static int
claims(const char *payload, struct oauth2_claims *c, struct err *err)
{
	char *t = jwt(payload);
	int   rc = oauth2_parse_claims(t, CLIENT, c, err);

	free(t);
	return rc;
}

static void
test_claims(void)
{
	struct oauth2_claims c;
	struct err           err;

	if (CHECK(claims("{\"aud\":\"" CLIENT "\",\"tid\":\"T\",\"oid\":\"O\","
	                 "\"preferred_username\":\"alice@contoso.com\","
	                 "\"email\":\"other@contoso.com\",\"name\":\"Alice\"}",
	              &c, &err) == 0)) {
		CHECK_STR(c.tid, "T");
		CHECK_STR(c.oid, "O");
		CHECK_STR(c.username, "alice@contoso.com");
		CHECK_STR(c.name, "Alice");
	}
	/* The audience compares case-insensitively (a GUID). */
	CHECK(claims("{\"aud\":\"0B5E9E3C-1A2B-4C3D-8E9F-0123456789AB\"}", &c,
	          &err) == 0);
	/* No preferred_username: email. */
	if (CHECK(claims("{\"aud\":\"" CLIENT "\",\"email\":\"bob@x.com\"}", &c,
	              &err) == 0))
		CHECK_STR(c.username, "bob@x.com");
	if (CHECK(claims("{\"aud\":\"" CLIENT "\"}", &c, &err) == 0))
		CHECK_STR(c.username, "");

	/* Issued to another app, or no audience. */
	CHECK(claims("{\"aud\":\"11111111-2222-3333-4444-555555555555\","
	             "\"preferred_username\":\"mallory@x.com\"}",
	          &c, &err) == -1);
	CHECK_STR(c.username, "");
	CHECK(claims("{\"preferred_username\":\"a@x.com\"}", &c, &err) == -1);
	CHECK(claims("{\"aud\":[\"" CLIENT "\"]}", &c, &err) == -1);
	CHECK(claims("[1]", &c, &err) == -1);
	CHECK(claims("{\"aud\":", &c, &err) == -1);

	/* Not a JWT; bad base64. */
	CHECK(oauth2_parse_claims("", CLIENT, &c, &err) == -1);
	CHECK(oauth2_parse_claims("abc", CLIENT, &c, &err) == -1);
	CHECK(oauth2_parse_claims("a.b", CLIENT, &c, &err) == -1);
	CHECK(oauth2_parse_claims("a..c", CLIENT, &c, &err) == -1);
	CHECK(oauth2_parse_claims("a.e*J!.c", CLIENT, &c, &err) == -1);
	CHECK(oauth2_parse_claims("a.eyJ+YXVkIjoi.c", CLIENT, &c, &err) == -1);
	CHECK_INT(err.code, E_UNAVAILABLE);
}

static void
test_clouds(void)
{
	char                ms_login[] = "https://login.microsoftonline.com";
	char                ms_graph[] = "https://graph.microsoft.com";
	char                fake[] = "http://127.0.0.1:9999";
	struct config       cfg;
	struct oauth2_cloud c;

	memset(&cfg, 0, sizeof cfg);
	cfg.login_url = ms_login;
	cfg.graph_url = ms_graph;
	if (CHECK(oauth2_cloud_of(&cfg, "global", &c) == 0)) {
		CHECK_STR(c.login, "https://login.microsoftonline.com");
		CHECK_STR(c.graph, "https://graph.microsoft.com");
	}
	if (CHECK(oauth2_cloud_of(&cfg, "usgov_l4", &c) == 0)) {
		CHECK_STR(c.login, "https://login.microsoftonline.us");
		CHECK_STR(c.graph, "https://graph.microsoft.us");
	}
	if (CHECK(oauth2_cloud_of(&cfg, "usgov_l5", &c) == 0)) {
		CHECK_STR(c.login, "https://login.microsoftonline.us");
		CHECK_STR(c.graph, "https://dod-graph.microsoft.us");
	}
	if (CHECK(oauth2_cloud_of(&cfg, "china", &c) == 0)) {
		CHECK_STR(c.login, "https://login.chinacloudapi.cn");
		CHECK_STR(c.graph, "https://microsoftgraph.chinacloudapi.cn");
	}
	CHECK(oauth2_cloud_of(&cfg, "germany", &c) == -1);
	CHECK(oauth2_cloud_of(&cfg, "", &c) == -1);
	CHECK(oauth2_cloud_of(&cfg, "Global", &c) == -1);

	/* An override of either URL applies to every cloud. */
	cfg.login_url = fake;
	for (int i = 0; i < 4; i++) {
		static const char *ids[] = { "global", "usgov_l4", "usgov_l5",
			"china" };

		if (CHECK(oauth2_cloud_of(&cfg, ids[i], &c) == 0)) {
			CHECK_STR(c.login, fake);
			CHECK_STR(c.graph, ms_graph);
		}
	}
	cfg.login_url = ms_login;
	cfg.graph_url = fake;
	if (CHECK(oauth2_cloud_of(&cfg, "china", &c) == 0)) {
		CHECK_STR(c.login, ms_login);
		CHECK_STR(c.graph, fake);
	}
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	test_pkce();
	test_scopes();
	test_authorize_url();
	test_tokens_ok();
	test_tokens_errors();
	test_claims();
	test_clouds();
	return TEST_DONE();
}
