/*
 * mailbox: validation speaks the admin's language — where in Azure a value
 * is found, and the most common setup mistake (the Secret ID pasted where
 * the secret Value belongs) is refused before it can break a connection.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "adapt/jsonx.h"
#include "domain/mailbox.h"
#include "domain/push.h"
#include "base/valid.h"
#include "base/xmalloc.h"

static const char *const FIELDS[] = { "name", "type", "client_id", "tenant_id",
	"secret", "secret_expires_on", "shared_address", "cloud",
	"processed_action", "processed_folder", "first_scan", "ack_enabled",
	"ack_subject", "ack_body", "ack_per_hour", "quarantine_folder",
	"automatic_mail", "credential_type", NULL };

/* Folders Outlook keeps for itself (English names, any case). */
static const char *const WELL_KNOWN[] = { "Inbox", "Deleted Items",
	"Sent Items", "Drafts", "Junk Email", "Outbox", "Archive",
	"Conversation History", "Clutter", NULL };
#define QUARANTINE_DEFAULT "Postdesk quarantine"

void
mailbox_defaults(struct mailbox *mb)
{
	memset(mb, 0, sizeof *mb);
	snprintf(mb->type, sizeof mb->type, "office365");
	mb->cloud = MAILBOX_CLOUD_GLOBAL;
	mb->processed_action = PROCESSED_MOVE_TO_DELETED_ITEMS;
	mb->first_scan = MAILBOX_NEW_ONLY;
	mb->status = MAILBOX_NOT_CONNECTED;
	mb->ack_enabled = 1;
	mailbox_set_text(&mb->ack_subject, "[#{ticket}] {subject}");
	mb->ack_per_hour = 5;
	mailbox_set_text(&mb->quarantine_folder, QUARANTINE_DEFAULT);
	mailbox_set_text(&mb->processed_folder, "");
	mailbox_set_text(&mb->ack_body, "");
	mailbox_set_text(&mb->last_error, "");
	mailbox_set_text(&mb->last_error_guidance, "");
}

/* True if errors already holds a message for field. */
static int
has_error(json_t *errors, const char *field)
{
	size_t  i;
	json_t *e;

	json_array_foreach (errors, i, e) {
		if (strcmp(jsonx_str(e, "field"), field) == 0)
			return 1;
	}
	return 0;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * The value of field as a string (or NULL if absent); a present non-string
 * adds an error and sets *bad.  null counts as "" when nullable.
 */
static const char *
get_str(json_t *in, const char *field, int nullable, json_t *errors, int *bad)
{
	json_t *v = json_object_get(in, field);

	*bad = 0;
	if (v == NULL)
		return NULL;
	if (nullable && json_is_null(v))
		return "";
	if (!json_is_string(v)) {
		jsonx_field_error(errors, field, "Must be a string%s.",
		    nullable ? " or null" : "");
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

static void
set(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static void
check_name(struct mailbox *mb, const char *s, json_t *errors)
{
	size_t n = jsonx_u8len(s);

	if (n == 0 || n > 100 || jsonx_has_control(s) ||
	    isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[strlen(s) - 1]))
		jsonx_field_error(errors, "name",
		    "Enter a name of 1 to 100 characters, e.g. \"Support\".");
	else
		set(mb->name, sizeof mb->name, s);
}

static void
check_ids(struct mailbox *mb, const char *client, const char *tenant,
    json_t *errors)
{
	if (client != NULL) {
		if (!valid_guid(client))
			jsonx_field_error(errors, "client_id",
			    "Enter the Application (client) ID from the app's "
			    "Overview page in Azure: a GUID such as "
			    "0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab.");
		else
			set(mb->client_id, sizeof mb->client_id, client);
		lower(mb->client_id);
	}
	if (tenant != NULL) {
		if (!valid_guid(tenant) && !valid_domain(tenant))
			jsonx_field_error(errors, "tenant_id",
			    "Enter the Directory (tenant) ID from the app's "
			    "Overview page (a GUID) or a verified domain such "
			    "as contoso.onmicrosoft.com.");
		else
			set(mb->tenant_id, sizeof mb->tenant_id, tenant);
		lower(mb->tenant_id);
	}
}

/* Returns 1 if the secret is acceptable. */
static int
check_secret(const char *s, json_t *errors)
{
	size_t n = strlen(s);

	if (valid_guid(s)) {
		jsonx_field_error(errors, "secret",
		    "That is the Secret ID, not the secret Value. In Azure, go "
		    "to Certificates & secrets, create a new client secret and "
		    "paste its Value (it is shown only once).");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f) {
			jsonx_field_error(errors, "secret",
			    "The secret Value contains a space or an unusual "
			    "character; copy it again from Azure without "
			    "spaces.");
			return 0;
		}
	}
	if (n < 16 || n > 255) {
		jsonx_field_error(errors, "secret",
		    "Paste the client secret's Value: Azure's are about 40 "
		    "characters (this field takes 16 to 255).");
		return 0;
	}
	return 1;
}

static void
check_expiry(struct mailbox *mb, const char *s, json_t *errors)
{
	char      today[11];
	time_t    now = time(NULL);
	struct tm tm;

	if (s[0] == '\0') {
		mb->secret_expires_on[0] = '\0';
		return;
	}
	gmtime_r(&now, &tm);
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	if (!valid_date(s))
		jsonx_field_error(errors, "secret_expires_on",
		    "Enter the date as YYYY-MM-DD, e.g. 2027-05-31.");
	else if (strcmp(s, today) < 0)
		jsonx_field_error(errors, "secret_expires_on",
		    "This date has passed: the secret has expired. Create a "
		    "new client secret in Azure and paste its Value.");
	else
		set(mb->secret_expires_on, sizeof mb->secret_expires_on, s);
}

static void
check_shared(struct mailbox *mb, const char *s, json_t *errors)
{
	if (s[0] != '\0' && !valid_email(s)) {
		jsonx_field_error(errors, "shared_address",
		    "Enter the shared mailbox's full address, e.g. "
		    "help@contoso.com, or leave it empty for a licensed "
		    "mailbox.");
		return;
	}
	set(mb->shared_address, sizeof mb->shared_address, s);
	lower(mb->shared_address);
}

/* "Must be one of: ..." for field, the names of values 0..n-1. */
static void
enum_error(json_t *errors, const char *field, const char *(*name)(int), int n)
{
	struct buf b;

	buf_init(&b, 128);
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", name(i));
	jsonx_field_error(errors, field, "Must be one of: %s.", b.data);
	buf_cleanup(&b);
}

static const char *
cloud_at(int i)
{
	return mailbox_cloud_name((enum mailbox_cloud)i);
}

static const char *
action_at(int i)
{
	return processed_action_name((enum processed_action)i);
}

static const char *
first_scan_at(int i)
{
	return mailbox_first_scan_name((enum mailbox_first_scan)i);
}

static const char *
automatic_mail_at(int i)
{
	return mailbox_automatic_mail_name((enum mailbox_automatic_mail)i);
}

/*
 * The acknowledgement templates: a subject without {ticket} still gets
 * the ticket tag (outbox prepends it), so only length and control
 * characters are refused; an empty or null body means the default text.
 */
static void
check_ack(struct mailbox *mb, json_t *in, json_t *errors)
{
	const char *s;
	json_t     *v;
	int         bad;

	s = get_str(in, "ack_subject", 0, errors, &bad);
	if (s != NULL) {
		if (jsonx_u8len(s) == 0 || jsonx_u8len(s) > 255 ||
		    jsonx_has_control(s))
			jsonx_field_error(errors, "ack_subject",
			    "Enter a subject of 1 to 255 characters, e.g. "
			    "\"[#{ticket}] {subject}\".");
		else
			mailbox_set_text(&mb->ack_subject, s);
	}
	s = get_str(in, "ack_body", 1, errors, &bad);
	if (s != NULL) {
		if (jsonx_u8len(s) > 5000)
			jsonx_field_error(errors, "ack_body",
			    "Enter a text of up to 5000 characters, or null "
			    "for the default.");
		else
			mailbox_set_text(&mb->ack_body, s);
	}
	v = json_object_get(in, "ack_per_hour");
	if (v != NULL &&
	    (!json_is_integer(v) || json_integer_value(v) < 1 ||
	        json_integer_value(v) > 1000))
		jsonx_field_error(errors, "ack_per_hour",
		    "Enter a whole number from 1 to 1000.");
	else if (v != NULL)
		mb->ack_per_hour = (long)json_integer_value(v);
}

static int
well_known(const char *s)
{
	for (const char *const *w = WELL_KNOWN; *w; w++)
		if (strcasecmp(s, *w) == 0)
			return 1;
	return 0;
}

/*
 * The quarantine folder (sql/0008_isolation.sql): found or created next to
 * the Inbox by lib/domain/ingest_move.c, so never one of Outlook's own folders.
 * Surrounding spaces are trimmed.
 */
static void
check_quarantine(struct mailbox *mb, json_t *in, json_t *errors)
{
	const char *s, *end;
	char        name[1021];
	int         bad;

	s = get_str(in, "quarantine_folder", 0, errors, &bad);
	if (s == NULL)
		return;
	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	if (end - s >= (ptrdiff_t)sizeof name) {
		name[0] = '\0'; /* over 255 characters whatever they are */
		end = s;
	} else {
		memcpy(name, s, (size_t)(end - s));
		name[end - s] = '\0';
	}
	if (end == s || jsonx_u8len(name) > 255 || jsonx_has_control(name))
		jsonx_field_error(errors, "quarantine_folder",
		    "Enter a folder name of 1 to 255 characters without "
		    "control characters, e.g. \"" QUARANTINE_DEFAULT "\".");
	else if (well_known(name))
		jsonx_field_error(errors, "quarantine_folder",
		    "\"%s\" is one of Outlook's own folders: name a folder "
		    "of its own, e.g. \"" QUARANTINE_DEFAULT "\".",
		    name);
	else
		mailbox_set_text(&mb->quarantine_folder, name);
}

static void
check_options(struct mailbox *mb, json_t *in, json_t *errors)
{
	const char *s;
	json_t     *v;
	int         bad;

	s = get_str(in, "type", 0, errors, &bad);
	if (s != NULL && strcmp(s, "office365") != 0)
		jsonx_field_error(errors, "type",
		    "Only \"office365\" (Office 365/Azure) is supported.");
	s = get_str(in, "cloud", 0, errors, &bad);
	if (s != NULL && mailbox_cloud_parse(s, &mb->cloud) == -1)
		enum_error(errors, "cloud", cloud_at, MAILBOX_CLOUD_COUNT);
	s = get_str(in, "processed_action", 0, errors, &bad);
	if (s != NULL && processed_action_parse(s, &mb->processed_action) == -1)
		enum_error(errors, "processed_action", action_at,
		    PROCESSED_ACTION_COUNT);
	s = get_str(in, "processed_folder", 1, errors, &bad);
	if (s != NULL) {
		if (jsonx_u8len(s) > 255 || jsonx_has_control(s))
			jsonx_field_error(errors, "processed_folder",
			    "Enter a folder name of up to 255 characters.");
		else
			mailbox_set_text(&mb->processed_folder, s);
	}
	s = get_str(in, "first_scan", 0, errors, &bad);
	if (s != NULL && mailbox_first_scan_parse(s, &mb->first_scan) == -1)
		enum_error(errors, "first_scan", first_scan_at,
		    MAILBOX_FIRST_SCAN_COUNT);
	s = get_str(in, "automatic_mail", 0, errors, &bad);
	if (s != NULL &&
	    mailbox_automatic_mail_parse(s, &mb->automatic_mail) == -1)
		enum_error(errors, "automatic_mail", automatic_mail_at,
		    MAILBOX_AUTOMATIC_MAIL_COUNT);
	v = json_object_get(in, "ack_enabled");
	if (v != NULL && !json_is_boolean(v))
		jsonx_field_error(errors, "ack_enabled",
		    "Must be true or false.");
	else if (v != NULL)
		mb->ack_enabled = json_is_true(v);
	check_ack(mb, in, errors);
	check_quarantine(mb, in, errors);
}

/*
 * credential_type, only when creating: a mailbox on a certificate is
 * created without a secret and gets its certificate by PUT
 * /api/mailboxes/{id}/credential (lib/domain/mailbox_cred.c), which is
 * also how an existing mailbox changes its credential.
 */
static void
check_credential_type(struct mailbox *mb, json_t *in, int creating,
    json_t *errors)
{
	json_t *v = json_object_get(in, "credential_type");

	if (v == NULL)
		return;
	if (!creating)
		jsonx_field_error(errors, "credential_type",
		    "Change the credential with PUT "
		    "/api/mailboxes/{id}/credential.");
	else if (mailbox_credential_parse(json_string_value(v),
	             &mb->credential) == -1)
		jsonx_field_error(errors, "credential_type",
		    "Must be \"secret\" or \"certificate\".");
	else if (mb->credential == MAILBOX_CRED_CERTIFICATE &&
	    json_object_get(in, "secret") != NULL)
		jsonx_field_error(errors, "secret",
		    "A mailbox on a certificate keeps no client secret: leave "
		    "the secret out.");
}

/*
 * Apply the fields present in in to mb, validating each; when creating,
 * name, client_id, tenant_id and secret are required.  A new secret is
 * returned in *secret (caller frees with xfree_secret()), and its last four
 * characters are set in mb.  Returns the number of field errors added to
 * errors (0: mb is complete and valid).
 */
int
mailbox_apply_json(struct mailbox *mb, json_t *in, int creating, char **secret,
    json_t *errors)
{
	static const char *const required[] = { "name", "client_id",
		"tenant_id", "secret", NULL };
	const char              *name, *client, *tenant, *sec, *exp, *shared;
	int                      bad;

	*secret = NULL;
	jsonx_unknown_fields(in, FIELDS, errors);
	check_credential_type(mb, in, creating, errors);
	if (creating)
		for (const char *const *r = required; *r; r++)
			if (json_object_get(in, *r) == NULL &&
			    !(strcmp(*r, "secret") == 0 &&
			        mb->credential == MAILBOX_CRED_CERTIFICATE))
				jsonx_field_error(errors, *r, "Required.");
	name = get_str(in, "name", 0, errors, &bad);
	if (name != NULL)
		check_name(mb, name, errors);
	client = get_str(in, "client_id", 0, errors, &bad);
	tenant = get_str(in, "tenant_id", 0, errors, &bad);
	check_ids(mb, client, tenant, errors);
	sec = get_str(in, "secret", 0, errors, &bad);
	if (sec != NULL && check_secret(sec, errors)) {
		*secret = xstrdup(sec);
		set(mb->secret_last4, sizeof mb->secret_last4,
		    sec + (strlen(sec) > 4 ? strlen(sec) - 4 : 0));
	}
	exp = get_str(in, "secret_expires_on", 1, errors, &bad);
	if (exp != NULL)
		check_expiry(mb, exp, errors);
	shared = get_str(in, "shared_address", 1, errors, &bad);
	if (shared != NULL)
		check_shared(mb, shared, errors);
	check_options(mb, in, errors);
	if (mb->processed_action == PROCESSED_MOVE_TO_FOLDER &&
	    mb->processed_folder[0] == '\0' &&
	    !has_error(errors, "processed_folder"))
		jsonx_field_error(errors, "processed_folder",
		    "Name the folder processed mail is moved to.");
	if (mb->processed_action != PROCESSED_MOVE_TO_FOLDER)
		mb->processed_folder[0] = '\0';
	if (strcasecmp(mb->processed_folder, mb->quarantine_folder) == 0 &&
	    !has_error(errors, "quarantine_folder") &&
	    !has_error(errors, "processed_folder"))
		jsonx_field_error(errors,
		    json_object_get(in, "quarantine_folder") != NULL
		        ? "quarantine_folder"
		        : "processed_folder",
		    "Processed mail and quarantined mail need folders of "
		    "their own: these two are the same.");
	if (json_array_size(errors) > 0) {
		xfree_secret(*secret);
		*secret = NULL;
	}
	return (int)json_array_size(errors);
}

/* The two redirect URIs to register on the Azure app, as array items. */
static void
redirect_uris(struct jw *w, const struct config *cfg)
{
	static const char *const paths[] = { "/azure/auth",
		"/auth/account/azureresponse" };
	char                     u[2048];
	size_t                   n = strlen(cfg->portal_url), m;

	/* Copied, not snprintf()'d: this runs twice per mailbox listed.
	 * The same cut at sizeof u - 1 bytes. */
	if (n > sizeof u - 1)
		n = sizeof u - 1;
	memcpy(u, cfg->portal_url, n);
	for (size_t i = 0; i < 2; i++) {
		m = strlen(paths[i]);
		if (m > sizeof u - 1 - n)
			m = sizeof u - 1 - n;
		memcpy(u + n, paths[i], m);
		jw_strn(w, u, n + m);
	}
}

/* Delegated Graph permissions to grant (the .Shared ones if shared). */
static void
permissions(struct jw *w, int shared)
{
	jw_open(w, '[');
	for (const char *const *s = mailbox_scopes_licensed; *s; s++)
		jw_str(w, *s);
	for (const char *const *s = mailbox_scopes_shared; shared && *s; s++)
		jw_str(w, *s);
	jw_close(w, ']');
}

/* GET /api/azure-setup: what to register in Azure, and the clouds. */
void
mailbox_azure_setup(struct jw *w, const struct config *cfg)
{
	jw_open(w, '{');
	jw_key(w, "redirect_uris");
	jw_open(w, '[');
	redirect_uris(w, cfg);
	jw_close(w, ']');
	jw_key(w, "permissions");
	jw_open(w, '{');
	jw_key(w, "licensed");
	permissions(w, 0);
	jw_key(w, "shared");
	permissions(w, 1);
	jw_close(w, '}');
	jw_key(w, "clouds");
	jw_open(w, '[');
	for (size_t i = 0; i < MAILBOX_CLOUD_COUNT; i++) {
		jw_open(w, '{');
		jw_key(w, "id");
		jw_str(w, mailbox_clouds[i].id);
		jw_key(w, "name");
		jw_str(w, mailbox_clouds[i].name);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

/* The credential: its type and the certificate (never its key). */
static void
write_credential(struct jw *w, const struct mailbox *mb)
{
	jw_key(w, "credential_type");
	jw_str(w, mailbox_credential_name(mb->credential));
	jw_key(w, "certificate");
	if (mb->cert_thumbprint[0] == '\0') {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	jw_key(w, "thumbprint");
	jw_str(w, mb->cert_thumbprint);
	jw_key(w, "subject");
	jw_str(w, mb->cert_subject);
	jw_key(w, "expires_at");
	jw_str(w, mb->cert_expires_at);
	jw_key(w, "expiring");
	jw_bool(w, mb->cert_expiring);
	jw_close(w, '}');
}

/*
 * Write the API representation of mb to w (the hot path of the mailbox
 * list, so written directly, without a json_t tree).  Never contains the
 * secret.
 */
void
mailbox_write(struct jw *w, const struct mailbox *mb, const struct config *cfg)
{
	int shared = mb->shared_address[0] != '\0';

	jw_open(w, '{');
	jw_key(w, "id");
	jw_int(w, (long long)mb->id);
	jw_key(w, "name");
	jw_str(w, mb->name);
	jw_key(w, "type");
	jw_str(w, mb->type);
	jw_key(w, "client_id");
	jw_str(w, mb->client_id);
	jw_key(w, "tenant_id");
	jw_str(w, mb->tenant_id);
	jw_key(w, "secret_set");
	jw_bool(w, mb->credential == MAILBOX_CRED_SECRET);
	jw_key(w, "secret_last4");
	jw_str(w, mb->secret_last4);
	jw_key(w, "secret_expires_on");
	jw_str_or_null(w, mb->secret_expires_on);
	jw_key(w, "shared_address");
	jw_str_or_null(w, mb->shared_address);
	jw_key(w, "cloud");
	jw_str(w, mailbox_cloud_name(mb->cloud));
	jw_key(w, "processed_action");
	jw_str(w, processed_action_name(mb->processed_action));
	jw_key(w, "processed_folder");
	jw_str_or_null(w, mb->processed_folder);
	jw_key(w, "quarantine_folder");
	jw_str(w, mb->quarantine_folder);
	jw_key(w, "first_scan");
	jw_str(w, mailbox_first_scan_name(mb->first_scan));
	jw_key(w, "automatic_mail");
	jw_str(w, mailbox_automatic_mail_name(mb->automatic_mail));
	jw_key(w, "ack_enabled");
	jw_bool(w, mb->ack_enabled);
	jw_key(w, "ack_subject");
	jw_str(w, mb->ack_subject);
	jw_key(w, "ack_body");
	jw_str_or_null(w, mb->ack_body);
	jw_key(w, "ack_per_hour");
	jw_int(w, mb->ack_per_hour);
	jw_key(w, "status");
	jw_str(w, mailbox_status_name(mb->status));
	jw_key(w, "redirect_uris");
	jw_open(w, '[');
	redirect_uris(w, cfg);
	jw_close(w, ']');
	jw_key(w, "permissions");
	permissions(w, shared);
	jw_key(w, "secret_expiring");
	jw_bool(w, mb->secret_expiring);
	write_credential(w, mb);
	jw_key(w, "push");
	push_write(w, mb, cfg);
	jw_key(w, "connection");
	if (mb->connected_at[0] == '\0') {
		jw_null(w);
	} else {
		jw_open(w, '{');
		jw_key(w, "account");
		jw_str(w, mb->account);
		jw_key(w, "tenant_id");
		jw_str(w, mb->connected_tenant);
		jw_key(w, "connected_at");
		jw_str(w, mb->connected_at);
		jw_key(w, "inbox_count");
		if (mb->inbox_count >= 0)
			jw_int(w, mb->inbox_count);
		else
			jw_null(w);
		jw_close(w, '}');
	}
	jw_key(w, "last_error");
	if (mb->last_error_code[0] == '\0') {
		jw_null(w);
	} else {
		jw_open(w, '{');
		jw_key(w, "code");
		jw_str(w, mb->last_error_code);
		jw_key(w, "message");
		jw_str(w, mb->last_error);
		jw_key(w, "guidance");
		jw_str(w, mb->last_error_guidance);
		jw_key(w, "at");
		jw_str(w, mb->last_error_at);
		jw_close(w, '}');
	}
	jw_key(w, "last_scan_at");
	jw_str_or_null(w, mb->last_scan_at);
	jw_key(w, "last_success_at");
	jw_str_or_null(w, mb->last_success_at);
	jw_key(w, "messages_waiting");
	if (mb->messages_waiting >= 0)
		jw_int(w, mb->messages_waiting);
	else
		jw_null(w);
	jw_key(w, "attention");
	jw_int(w, mb->attention);
	jw_key(w, "created_at");
	jw_str(w, mb->created_at);
	jw_key(w, "updated_at");
	jw_str(w, mb->updated_at);
	jw_close(w, '}');
}
