/*
 * mailbox_cred: a mailbox has one credential at a time.  A certificate is
 * generated here (RSA 2048 or 3072, self-signed, CN "postdesk <name>",
 * MAILBOX_CERT_DAYS) or uploaded as PEM and checked (lib/adapt/x509.c);
 * its key is sealed (lib/adapt/seal.c) before it reaches the store, and
 * every plain copy is wiped.  Changing the credential of a connected
 * mailbox asks for reauthorisation, as a new secret does
 * (lib/domain/mailbox_state.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "adapt/jsonx.h"
#include "adapt/seal.h"
#include "adapt/x509.h"
#include "base/utf8.h"
#include "base/xmalloc.h"
#include "domain/mailbox_cred.h"
#include "domain/mailbox_state.h"
#include "store/store.h"

#define PEM_MAX 16384 /* a 4096-bit key's PEM is about 3.3 KB */

static const char *const SECRET_FIELDS[] = { "type", "secret",
	"secret_expires_on", NULL };
static const char *const CERT_FIELDS[] = { "type", "generate", "key_size",
	"key_pem", "cert_pem", NULL };

static void
wipe(struct buf *b)
{
	if (b->data != NULL)
		sodium_memzero(b->data, b->len);
	buf_cleanup(b);
}

static int
invalid(json_t *errors, struct err *err)
{
	if (json_array_size(errors) == 0)
		return 0;
	err_set(err, E_INVALID, "Some fields need attention; see errors.");
	return -1;
}

/* A new key pair for mb: {"generate": true, "key_size": 2048|3072}. */
static int
generate(const struct mailbox *mb, json_t *in, struct buf *key,
    struct buf *cert, json_t *errors, struct err *err)
{
	json_t    *sz = json_object_get(in, "key_size");
	json_int_t bits = 2048;
	char       cn[80];
	size_t     n;

	if (!json_is_true(json_object_get(in, "generate")))
		jsonx_field_error(errors, "generate",
		    "Must be true (or upload key_pem and cert_pem).");
	if (json_object_get(in, "key_pem") || json_object_get(in, "cert_pem"))
		jsonx_field_error(errors, "generate",
		    "Generate a certificate or upload one, not both.");
	if (sz != NULL &&
	    (!json_is_integer(sz) ||
	        (json_integer_value(sz) != 2048 &&
	            json_integer_value(sz) != 3072)))
		jsonx_field_error(errors, "key_size", "Must be 2048 or 3072.");
	else if (sz != NULL)
		bits = json_integer_value(sz);
	if (invalid(errors, err) == -1)
		return -1;
	/* RFC 5280's upper bound of a common name: 64 characters */
	n = utf8_cut(mb->name, strlen(mb->name), 64 - strlen("postdesk "));
	snprintf(cn, sizeof cn, "postdesk %.*s", (int)n, mb->name);
	return x509_generate((int)bits, cn, MAILBOX_CERT_DAYS, key, cert, err);
}

static const char *
pem_field(json_t *in, const char *field, json_t *errors)
{
	json_t *v = json_object_get(in, field);

	if (v == NULL)
		jsonx_field_error(errors, field, "Required.");
	else if (!json_is_string(v))
		jsonx_field_error(errors, field, "Must be a string.");
	else if (json_string_length(v) > PEM_MAX)
		jsonx_field_error(errors, field,
		    "Longer than %d characters: paste only the PEM block.",
		    PEM_MAX);
	else
		return json_string_value(v);
	return NULL;
}

/* An uploaded pair: {"key_pem": …, "cert_pem": …}, checked. */
static int
upload(json_t *in, struct buf *key, struct buf *cert, json_t *errors,
    struct err *err)
{
	const char       *k = pem_field(in, "key_pem", errors);
	const char       *c = pem_field(in, "cert_pem", errors);
	struct x509_info  info;
	enum x509_problem p;

	if (json_object_get(in, "key_size") != NULL)
		jsonx_field_error(errors, "key_size",
		    "Only for a generated certificate.");
	if (invalid(errors, err) == -1)
		return -1;
	p = x509_check(k, c, time(NULL), &info);
	if (p != X509_OK)
		jsonx_field_error(errors,
		    p == X509_BAD_KEY || p == X509_NOT_RSA || p == X509_KEY_SIZE
		        ? "key_pem"
		        : "cert_pem",
		    "%s", x509_problem_text(p));
	if (invalid(errors, err) == -1)
		return -1;
	buf_puts(key, k);
	buf_puts(cert, c);
	return 0;
}

/* Seal and store the pair as mailbox old's credential. */
static int
store_pair(struct app *app, const struct mailbox *old, const struct buf *key,
    const struct buf *cert, struct err *err)
{
	struct x509_info        info;
	struct buf              sealed = { 0 };
	struct mailbox_cert_row row;
	char                    expires[20];
	int                     rc;

	if (x509_info_of(cert->data, &info, err) == -1)
		return -1;
	/* "YYYY-MM-DDTHH:MM:SSZ" as a DATETIME */
	snprintf(expires, sizeof expires, "%.10s %.8s", info.not_after,
	    info.not_after + 11);
	seal(&app->key, key->data, &sealed);
	row.key_sealed = &sealed;
	row.cert_pem = cert->data;
	row.thumbprint = info.sha1_hex;
	row.subject = info.subject;
	row.expires_at = expires;
	rc = store_mailbox_cred_certificate(app->db, old->id, &row, err);
	buf_cleanup(&sealed);
	return rc == 0 ? mailbox_credential_changed(app, old, err) : -1;
}

static int
put_certificate(struct app *app, const struct mailbox *old, json_t *in,
    json_t *errors, struct err *err)
{
	struct buf key, cert;
	int        rc;

	jsonx_unknown_fields(in, CERT_FIELDS, errors);
	buf_init(&key, 4096);
	buf_init(&cert, 2048);
	if (json_object_get(in, "generate") != NULL)
		rc = generate(old, in, &key, &cert, errors, err);
	else
		rc = upload(in, &key, &cert, errors, err);
	if (rc == 0)
		rc = store_pair(app, old, &key, &cert, err);
	wipe(&key);
	buf_cleanup(&cert);
	return rc;
}

/* {"type": "secret", "secret": …, "secret_expires_on": …}: a PATCH of
 * those fields, which forgets the certificate (mailbox_state.c). */
static int
put_secret(struct app *app, uint64_t id, json_t *in, json_t *errors,
    struct err *err)
{
	json_t  *fields;
	uint64_t version;
	int      rc;

	jsonx_unknown_fields(in, SECRET_FIELDS, errors);
	if (json_object_get(in, "secret") == NULL)
		jsonx_field_error(errors, "secret", "Required.");
	if (invalid(errors, err) == -1)
		return -1;
	fields = json_deep_copy(in);
	json_object_del(fields, "type");
	rc = mailbox_patch(app, id, fields, NULL, &version, errors, err);
	json_decref(fields);
	return rc;
}

/*
 * PUT /api/mailboxes/{id}/credential: in is {"type": "secret", …} or
 * {"type": "certificate", "generate": true, …} or {"type":
 * "certificate", "key_pem": …, "cert_pem": …}.  E_NOTFOUND, or E_INVALID
 * with the fields in errors.
 */
int
mailbox_credential_put(struct app *app, uint64_t id, json_t *in, json_t *errors,
    struct err *err)
{
	enum mailbox_credential type;
	struct mailbox          old;
	int                     rc = -1;

	if (mailbox_get(app, id, &old, err) == -1)
		return -1;
	if (mailbox_credential_parse(jsonx_str(in, "type"), &type) == -1) {
		jsonx_field_error(errors, "type",
		    "Must be \"secret\" or \"certificate\".");
		invalid(errors, err);
	} else if (type == MAILBOX_CRED_SECRET) {
		rc = put_secret(app, id, in, errors, err);
	} else {
		rc = put_certificate(app, &old, in, errors, err);
	}
	mailbox_cleanup(&old);
	return rc;
}

/* The certificate of mailbox id as DER (a .cer file); E_NOTFOUND when
 * the mailbox has none. */
int
mailbox_certificate_der(struct app *app, uint64_t id, struct buf *der,
    struct err *err)
{
	struct buf pem;
	int        rc;

	buf_init(&pem, 2048);
	rc = store_mailbox_cred_cert_pem(app->db, id, &pem, err);
	if (rc == 0)
		rc = x509_der_of(pem.data, der, err);
	buf_cleanup(&pem);
	return rc;
}

/*
 * Unseal the credential of c into g for one token request: the secret, or
 * the key and certificate of the client assertion.  E_INVALID when the
 * mailbox has none yet.  Wipe k with mailbox_grant_keys_wipe().
 */
int
mailbox_cred_grant(struct app *app, const struct mailbox_creds *c,
    struct oauth2_grant *g, struct mailbox_grant_keys *k, struct err *err)
{
	memset(k, 0, sizeof *k);
	if (c->credential == MAILBOX_CRED_CERTIFICATE) {
		if (c->cert_key.len == 0 || c->cert_pem[0] == '\0') {
			err_set(err, E_INVALID,
			    "This mailbox has no certificate yet: generate or "
			    "upload one.");
			return -1;
		}
		k->key_pem =
		    unseal(&app->key, c->cert_key.data, c->cert_key.len, err);
		g->key_pem = k->key_pem;
		g->cert_pem = c->cert_pem;
		return k->key_pem ? 0 : -1;
	}
	if (c->secret.len == 0) {
		err_set(err, E_INVALID, "This mailbox has no client secret.");
		return -1;
	}
	k->secret = unseal(&app->key, c->secret.data, c->secret.len, err);
	g->secret = k->secret;
	return k->secret ? 0 : -1;
}

void
mailbox_grant_keys_wipe(struct mailbox_grant_keys *k)
{
	xfree_secret(k->secret);
	xfree_secret(k->key_pem);
	memset(k, 0, sizeof *k);
}
