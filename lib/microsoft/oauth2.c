/*
 * oauth2: per docs/graph-contract.md sections 1-3 and 9.  Secrets and
 * tokens pass through here but are never logged; the form body that holds
 * the client secret is wiped after use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "adapt/cred.h"
#include "adapt/jose.h"
#include "adapt/x509.h"
#include "model/mailbox_types.h"
#include "microsoft/oauth2.h"
#include "base/url.h"
#include "base/xmalloc.h"

/*
 * The login and Graph base URLs of a cloud.  login_url / graph_url in the
 * configuration describe the global cloud; when either is changed from
 * Microsoft's default (a proxy, or the test fake) it applies to every
 * cloud, so one setting redirects all traffic.  Returns -1 for an unknown
 * cloud id.
 */
int
oauth2_cloud_of(const struct config *cfg, const char *cloud,
    struct oauth2_cloud *out)
{
	const struct mailbox_cloud_info *c = mailbox_clouds;
	int overridden = strcmp(cfg->login_url, c[0].login) != 0 ||
	    strcmp(cfg->graph_url, c[0].graph) != 0;
	enum mailbox_cloud i;

	if (mailbox_cloud_parse(cloud, &i) == -1)
		return -1;
	out->login = overridden || i == 0 ? cfg->login_url : c[i].login;
	out->graph = overridden || i == 0 ? cfg->graph_url : c[i].graph;
	return 0;
}

/* BASE64URL-NOPAD(SHA256(verifier)), RFC 7636 S256. */
void
oauth2_challenge_of(const char *verifier, char challenge[OAUTH2_CHALLENGE_MAX])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)verifier,
	    strlen(verifier));
	sodium_bin2base64(challenge, OAUTH2_CHALLENGE_MAX, h, sizeof h,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A new PKCE pair: a 64-character verifier and its S256 challenge. */
void
oauth2_pkce(char verifier[OAUTH2_VERIFIER_MAX],
    char         challenge[OAUTH2_CHALLENGE_MAX])
{
	cred_random_text(verifier, OAUTH2_VERIFIER_MAX, 48);
	oauth2_challenge_of(verifier, challenge);
}

/*
 * The delegated scopes to request, space-separated (docs/graph-contract.md
 * 1): sign-in, offline access, Mail.ReadWrite and Mail.Send, plus their
 * .Shared forms for a shared mailbox (the lists: lib/model/mailbox_types.c).
 */
void
oauth2_scopes(struct buf *b, int shared)
{
	const char *sep = "";

	for (const char *const *s = mailbox_scopes_licensed; *s; s++, sep = " ")
		buf_printf(b, "%s%s", sep, *s);
	for (const char *const *s = mailbox_scopes_shared; shared && *s; s++)
		buf_printf(b, " %s", *s);
}

static void
param(struct buf *b, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	if (b->data[b->len - 1] != '?')
		buf_putc(b, '&');
	buf_puts(b, name);
	buf_putc(b, '=');
	url_encode(b, value);
}

/* The URL to send the admin's browser to (appended to b). */
void
oauth2_authorize_url(struct buf *b, const struct oauth2_cloud *cloud,
    const char *tenant, const char *client_id, const char *redirect_uri,
    const char *scopes, const char *state, const char *challenge,
    const char *login_hint)
{
	buf_printf(b, "%s/", cloud->login);
	url_encode(b, tenant);
	buf_puts(b, "/oauth2/v2.0/authorize?");
	param(b, "client_id", client_id);
	param(b, "response_type", "code");
	param(b, "redirect_uri", redirect_uri);
	param(b, "response_mode", "query");
	param(b, "scope", scopes);
	param(b, "state", state);
	param(b, "code_challenge", challenge);
	param(b, "code_challenge_method", "S256");
	param(b, "prompt", "select_account");
	param(b, "login_hint", login_hint);
}

static char *
dup_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? xstrdup(s) : NULL;
}

static void
first_line(char *dst, size_t size, const char *s)
{
	size_t n = strcspn(s, "\r\n");

	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void
parse_error(json_t *o, struct oauth2_error *oe)
{
	json_t     *codes = json_object_get(o, "error_codes");
	const char *s;

	s = json_string_value(json_object_get(o, "error"));
	snprintf(oe->error, sizeof oe->error, "%s", s ? s : "unknown_error");
	s = json_string_value(json_object_get(o, "error_description"));
	first_line(oe->description, sizeof oe->description, s ? s : "");
	if (json_is_array(codes) && json_is_integer(json_array_get(codes, 0)))
		oe->code = (long)json_integer_value(json_array_get(codes, 0));
	else if (strncmp(oe->description, "AADSTS", 6) == 0)
		oe->code = strtol(oe->description + 6, NULL, 10);
	s = json_string_value(json_object_get(o, "trace_id"));
	snprintf(oe->trace_id, sizeof oe->trace_id, "%s", s ? s : "");
	s = json_string_value(json_object_get(o, "correlation_id"));
	snprintf(oe->correlation_id, sizeof oe->correlation_id, "%s",
	    s ? s : "");
}

/*
 * Read a token endpoint answer.  Returns 0 with *t filled (caller cleans
 * up), or -1: with E_AUTH and *oe filled when Microsoft refused, or
 * E_UNAVAILABLE when the answer is not what the protocol promises
 * (5xx, malformed JSON, missing access_token).
 */
int
oauth2_parse_tokens(const char *body, size_t len, long status,
    struct oauth2_tokens *t, struct oauth2_error *oe, struct err *err)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	json_t *exp;

	memset(t, 0, sizeof *t);
	memset(oe, 0, sizeof *oe);
	if (!json_is_object(o)) {
		json_decref(o);
		err_set(err, E_UNAVAILABLE,
		    "the token endpoint answered HTTP %ld without JSON",
		    status);
		return -1;
	}
	if (status != 200 || json_object_get(o, "error") != NULL) {
		parse_error(o, oe);
		json_decref(o);
		err_set(err, status >= 500 ? E_UNAVAILABLE : E_AUTH, "%s%s%s",
		    oe->error, oe->description[0] ? ": " : "", oe->description);
		return -1;
	}
	t->access_token = dup_str(o, "access_token");
	t->refresh_token = dup_str(o, "refresh_token");
	t->id_token = dup_str(o, "id_token");
	t->scope = dup_str(o, "scope");
	exp = json_object_get(o, "expires_in");
	if (json_is_integer(exp))
		t->expires_in = (long)json_integer_value(exp);
	else if (json_is_string(exp)) /* some clouds send a string */
		t->expires_in = strtol(json_string_value(exp), NULL, 10);
	json_decref(o);
	if (t->access_token == NULL || t->access_token[0] == '\0' ||
	    t->expires_in <= 0) {
		oauth2_tokens_cleanup(t);
		err_set(err, E_UNAVAILABLE,
		    "the token endpoint's answer lacks access_token or "
		    "expires_in");
		return -1;
	}
	return 0;
}

void
oauth2_tokens_cleanup(struct oauth2_tokens *t)
{
	xfree_secret(t->access_token);
	xfree_secret(t->refresh_token);
	xfree_secret(t->id_token);
	free(t->scope);
	memset(t, 0, sizeof *t);
}

/* How long a client assertion is valid: Microsoft asks for 5-10 minutes
 * after nbf (docs/graph-contract.md section 10). */
#define ASSERTION_SECONDS 600

/* A version-4 UUID from 16 random bytes: the assertion's jti. */
static void
random_uuid(char out[37])
{
	unsigned char r[16];

	randombytes_buf(r, sizeof r);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	for (int i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		snprintf(out + o, 3, "%02x", r[i]);
		o += 2;
	}
}

/*
 * The client assertion of certificate credentials (Microsoft's
 * "certificate credentials", RFC 7523): a JWT signed PS256 whose header
 * names the certificate by its SHA-256 and SHA-1 thumbprints, audience
 * the token endpoint, issuer and subject the client id, a fresh jti, and
 * valid from now for ASSERTION_SECONDS.  Appended to out.
 */
int
oauth2_client_assertion(const char *token_url, const char *client_id,
    const char *key_pem, const char *cert_pem, time_t now, struct buf *out,
    struct err *err)
{
	struct x509_info in;
	json_t          *h, *c;
	char            *hs, *cs, jti[37];
	int              rc;

	if (x509_info_of(cert_pem, &in, err) == -1)
		return -1;
	random_uuid(jti);
	h = json_pack("{s:s, s:s, s:s, s:s}", "alg", jose_alg_name(JOSE_PS256),
	    "typ", "JWT", "x5t#S256", in.x5t_s256, "x5t", in.x5t);
	c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "aud", token_url,
	    "iss", client_id, "sub", client_id, "jti", jti, "nbf",
	    (json_int_t)now, "iat", (json_int_t)now, "exp",
	    (json_int_t)(now + ASSERTION_SECONDS));
	hs = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	cs = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(h);
	json_decref(c);
	rc = jose_sign(JOSE_PS256, hs, cs, key_pem, out, err);
	free(hs);
	free(cs);
	return rc;
}

/* The client's credential in the form: the secret, or an assertion. */
static int
client_auth(struct buf *form, const char *url, const struct oauth2_grant *g,
    struct err *err)
{
	struct buf a;
	int        rc;

	if (g->key_pem == NULL) {
		buf_puts(form, "&client_secret=");
		url_encode(form, g->secret);
		return 0;
	}
	buf_init(&a, 2048);
	rc = oauth2_client_assertion(url, g->client_id, g->key_pem, g->cert_pem,
	    time(NULL), &a, err);
	if (rc == 0) {
		buf_puts(form, "&client_assertion_type=");
		url_encode(form,
		    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
		buf_puts(form, "&client_assertion=");
		url_encode(form, a.data);
	}
	buf_cleanup(&a);
	return rc;
}

/*
 * Redeem a code or a refresh token (g->code decides) at the tenant's token
 * endpoint.  The client authenticates with its secret or, when g->key_pem
 * is set, a client assertion; both travel in the form body, every value
 * form-encoded.  Returns as oauth2_parse_tokens().
 */
int
oauth2_token(struct http *h, const struct oauth2_cloud *cloud,
    const struct oauth2_grant *g, struct oauth2_tokens *t,
    struct oauth2_error *oe, struct err *err)
{
	struct http_req  rq = { 0 };
	struct http_resp resp;
	struct buf       url, form;
	int              rc;

	buf_init(&url, 256);
	buf_init(&form, 1024);
	buf_printf(&url, "%s/", cloud->login);
	url_encode(&url, g->tenant);
	buf_puts(&url, "/oauth2/v2.0/token");
	buf_puts(&form, "client_id=");
	url_encode(&form, g->client_id);
	if (client_auth(&form, url.data, g, err) == -1) {
		memset(oe, 0, sizeof *oe);
		sodium_memzero(form.data, form.len);
		buf_cleanup(&form);
		buf_cleanup(&url);
		return -1;
	}
	if (g->code != NULL) {
		buf_puts(&form, "&grant_type=authorization_code&code=");
		url_encode(&form, g->code);
		buf_puts(&form, "&redirect_uri=");
		url_encode(&form, g->redirect_uri);
		buf_puts(&form, "&code_verifier=");
		url_encode(&form, g->verifier);
	} else {
		buf_puts(&form, "&grant_type=refresh_token&refresh_token=");
		url_encode(&form, g->refresh_token);
	}
	rq.method = "POST";
	rq.url = url.data;
	rq.headers[0] = "Content-Type: application/x-www-form-urlencoded";
	rq.headers[1] = "Accept: application/json";
	rq.body = form.data;
	rq.body_len = form.len;
	rq.max_body = 256 * 1024;
	rc = http_do(h, &rq, &resp, err);
	sodium_memzero(form.data, form.len);
	buf_cleanup(&form);
	buf_cleanup(&url);
	if (rc == 0)
		rc = oauth2_parse_tokens(resp.body.data, resp.body.len,
		    resp.status, t, oe, err);
	else
		memset(oe, 0, sizeof *oe);
	http_resp_cleanup(&resp);
	return rc;
}

static void
claim(json_t *o, const char *key, char *dst, size_t size)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(dst, size, "%s", s ? s : "");
}

/*
 * Decode the id_token received from the token endpoint over TLS (so its
 * signature need not be checked, OIDC Core 3.1.3.7) and check that it was
 * issued to client_id.  Returns 0 or -1 with err.
 */
int
oauth2_parse_claims(const char *id_token, const char *client_id,
    struct oauth2_claims *c, struct err *err)
{
	const char    *p1 = strchr(id_token, '.'), *p2;
	unsigned char *raw;
	size_t         rawlen, n;
	json_t        *o;
	const char    *aud;

	memset(c, 0, sizeof *c);
	p2 = p1 ? strchr(p1 + 1, '.') : NULL;
	if (p2 == NULL) {
		err_set(err, E_UNAVAILABLE, "the id_token is not a JWT");
		return -1;
	}
	n = (size_t)(p2 - p1 - 1);
	raw = xmalloc(n + 1);
	if (sodium_base642bin(raw, n + 1, p1 + 1, n, NULL, &rawlen, NULL,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		free(raw);
		err_set(err, E_UNAVAILABLE, "the id_token is not base64url");
		return -1;
	}
	o = json_loadb((const char *)raw, rawlen, 0, NULL);
	free(raw);
	aud = json_string_value(json_object_get(o, "aud"));
	if (!json_is_object(o) || aud == NULL ||
	    strcasecmp(aud, client_id) != 0) {
		json_decref(o);
		err_set(err, E_UNAVAILABLE,
		    "the id_token was not issued to this app");
		return -1;
	}
	claim(o, "tid", c->tid, sizeof c->tid);
	claim(o, "oid", c->oid, sizeof c->oid);
	claim(o, "preferred_username", c->username, sizeof c->username);
	if (c->username[0] == '\0')
		claim(o, "email", c->username, sizeof c->username);
	claim(o, "name", c->name, sizeof c->name);
	json_decref(o);
	return 0;
}
