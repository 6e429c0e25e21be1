/*
 * test_mailbox: validating mailbox input (create and PATCH), the API
 * representation and what to register in Azure.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapt/jsonx.h"
#include "domain/mailbox.h"
#include "domain/mailbox_state.h"
#include "base/xmalloc.h"
#include "test.h"

#define CLIENT "0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab"
#define TENANT "11111111-2222-3333-4444-555555555555"
#define SECRET "Abc8Q~k2Lm.9xYz_0123456789-abcdefGHIJKLmn"
#define VALID                                                                  \
	"\"name\": \"Support\", \"client_id\": \"" CLIENT "\", "               \
	"\"tenant_id\": \"" TENANT "\", \"secret\": \"" SECRET "\""

static json_t *errors;

/*
 * Apply the JSON object text to mb; returns the number of errors, which
 * are left in the global errors array (emptied first).  The secret, if
 * any, goes to *secret (NULL: discarded).
 */
static int
apply(struct mailbox *mb, const char *text, int creating, char **secret)
{
	json_t *in = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	char   *s = NULL;
	int     n;

	if (in == NULL) {
		fprintf(stdout, "bad test JSON: %s\n", text);
		exit(2);
	}
	json_array_clear(errors);
	n = mailbox_apply_json(mb, in, creating, &s, errors);
	json_decref(in);
	if (secret != NULL)
		*secret = s;
	else
		xfree_secret(s);
	return n;
}

/* mb (zeroed or filled before) back to the defaults. */
static void
fresh(struct mailbox *mb)
{
	mailbox_cleanup(mb);
	mailbox_defaults(mb);
}

/* Create a mailbox from VALID plus extra members (", ..." or ""). */
static int
create(struct mailbox *mb, const char *extra)
{
	char text[2048];

	fresh(mb);
	snprintf(text, sizeof text, "{" VALID "%s}", extra);
	return apply(mb, text, 1, NULL);
}

/* True if errors holds one for field whose message contains part. */
static int
has_error(const char *field, const char *part)
{
	for (size_t i = 0; i < json_array_size(errors); i++) {
		json_t     *e = json_array_get(errors, i);
		const char *f = jsonx_str(e, "field");
		const char *m = jsonx_str(e, "message");

		if (f != NULL && m != NULL && strcmp(f, field) == 0 &&
		    strstr(m, part) != NULL)
			return 1;
	}
	return 0;
}

static void
test_create(void)
{
	struct mailbox mb = { 0 };
	char          *secret = NULL;

	fresh(&mb);
	CHECK_INT(apply(&mb, "{" VALID "}", 1, &secret), 0);
	CHECK_STR(secret, SECRET);
	CHECK_STR(mb.name, "Support");
	CHECK_STR(mb.client_id, CLIENT);
	CHECK_STR(mb.tenant_id, TENANT);
	CHECK_STR(mb.secret_last4, "KLmn");
	CHECK_STR(mb.type, "office365");
	CHECK_STR(mailbox_cloud_name(mb.cloud), "global");
	CHECK_STR(processed_action_name(mb.processed_action),
	    "move_to_deleted_items");
	CHECK_STR(mailbox_first_scan_name(mb.first_scan), "new_only");
	CHECK_INT(mb.ack_enabled, 1);
	CHECK_STR(mb.shared_address, "");
	xfree_secret(secret);

	/* All four are required when creating. */
	fresh(&mb);
	CHECK_INT(apply(&mb, "{}", 1, &secret), 4);
	CHECK(secret == NULL);
	CHECK(has_error("name", "Required"));
	CHECK(has_error("client_id", "Required"));
	CHECK(has_error("tenant_id", "Required"));
	CHECK(has_error("secret", "Required"));

	fresh(&mb);
	CHECK_INT(apply(&mb,
	              "{\"name\": \"S\", \"client_id\": \"" CLIENT "\", "
	              "\"tenant_id\": \"" TENANT "\"}",
	              1, &secret),
	    1);
	CHECK(has_error("secret", "Required"));
	CHECK(secret == NULL);

	/* Any error: no secret is handed back. */
	CHECK(create(&mb, ", \"cloud\": \"mars\"") > 0);
	fresh(&mb);
	CHECK(apply(&mb, "{" VALID ", \"colour\": 1}", 1, &secret) > 0);
	CHECK(secret == NULL);
	CHECK(has_error("colour", "Unknown field"));
	mailbox_cleanup(&mb);
}

static void
test_secret(void)
{
	struct mailbox mb = { 0 };
	char           text[300];

	CHECK_INT(create(&mb, ""), 0);
	fresh(&mb);
	CHECK_INT(apply(&mb,
	              "{\"name\": \"S\", \"client_id\": \"" CLIENT
	              "\", \"tenant_id\": \"" TENANT "\", "
	              "\"secret\": \"9f8e7d6c-1a2b-4c3d-8e9f-0123456789AB\"}",
	              1, NULL),
	    1);
	CHECK(has_error("secret", "Secret ID"));
	CHECK_STR(mb.secret_last4, "");

	fresh(&mb);
	CHECK_INT(apply(&mb, "{\"secret\": \"abc def\"}", 0, NULL), 1);
	CHECK(has_error("secret", "space"));
	CHECK_INT(apply(&mb, "{\"secret\": \" abcdef\"}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"secret\": \"abc\\tdef\"}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"secret\": \"abc\\u00e9def\"}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"secret\": \"\"}", 0, NULL), 1);
	CHECK(has_error("secret", "16 to 255"));
	CHECK_INT(apply(&mb, "{\"secret\": null}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"secret\": 12345}", 0, NULL), 1);
	CHECK(has_error("secret", "string"));
	CHECK_STR(mb.secret_last4, "");

	memcpy(text, "{\"secret\": \"", 12);
	memset(text + 12, 'k', 255);
	memcpy(text + 12 + 255, "\"}", 3);
	CHECK_INT(apply(&mb, text, 0, NULL), 0); /* 255 characters */
	memcpy(text + 12 + 255, "k\"}", 4);
	CHECK_INT(apply(&mb, text, 0, NULL), 1); /* 256 */
	CHECK(has_error("secret", "16 to 255"));
	CHECK_INT(apply(&mb, "{\"secret\": \"abcdefghijk2345\"}", 0, NULL),
	    1); /* 15 characters: too short to be an Azure secret Value */
	CHECK(has_error("secret", "16 to 255"));
	CHECK_INT(apply(&mb, "{\"secret\": \"abcdefghijkl2345\"}", 0, NULL), 0);
	CHECK_STR(mb.secret_last4, "2345");
	mailbox_cleanup(&mb);
}

static void
test_ids(void)
{
	struct mailbox mb = { 0 };

	CHECK_INT(create(&mb, ""), 0);
	CHECK_INT(apply(&mb, "{\"client_id\": \"not-a-guid\"}", 0, NULL), 1);
	CHECK(has_error("client_id", "Application (client) ID"));
	CHECK_STR(mb.client_id, CLIENT); /* unchanged */
	CHECK_INT(apply(&mb, "{\"client_id\": \"" CLIENT "x\"}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"tenant_id\": \"contoso\"}", 0, NULL), 1);
	CHECK(has_error("tenant_id", "Directory (tenant) ID"));
	CHECK_INT(apply(&mb, "{\"tenant_id\": \"a b.com\"}", 0, NULL), 1);
	CHECK_STR(mb.tenant_id, TENANT);

	/* GUIDs and domains are stored in lower case. */
	CHECK_INT(
	    apply(&mb,
	        "{\"client_id\": \"0B5E9E3C-1A2B-4C3D-8E9F-0123456789AB\","
	        " \"tenant_id\": \"Contoso.OnMicrosoft.com\"}",
	        0, NULL),
	    0);
	CHECK_STR(mb.client_id, CLIENT);
	CHECK_STR(mb.tenant_id, "contoso.onmicrosoft.com");
	mailbox_cleanup(&mb);
}

static void
test_shared(void)
{
	struct mailbox mb = { 0 };

	CHECK_INT(create(&mb, ", \"shared_address\": \"Help@Contoso.COM\""), 0);
	CHECK_STR(mb.shared_address, "help@contoso.com");
	CHECK_INT(apply(&mb, "{\"shared_address\": \"help\"}", 0, NULL), 1);
	CHECK(has_error("shared_address", "full address"));
	CHECK_STR(mb.shared_address, "help@contoso.com");
	CHECK_INT(apply(&mb, "{\"shared_address\": \"\\\"h\\\"@x.com\"}", 0,
	              NULL),
	    1);
	CHECK_INT(apply(&mb, "{\"shared_address\": null}", 0, NULL), 0);
	CHECK_STR(mb.shared_address, "");
	CHECK_INT(apply(&mb, "{\"shared_address\": \"a@b.io\"}", 0, NULL), 0);
	CHECK_INT(apply(&mb, "{\"shared_address\": \"\"}", 0, NULL), 0);
	CHECK_STR(mb.shared_address, "");
	mailbox_cleanup(&mb);
}

static void
test_processed(void)
{
	struct mailbox mb = { 0 };

	CHECK_INT(create(&mb, ", \"processed_action\": \"move_to_folder\""), 1);
	CHECK(has_error("processed_folder", "folder"));

	CHECK_INT(create(&mb,
	              ", \"processed_action\": \"move_to_folder\", "
	              "\"processed_folder\": \"Done\""),
	    0);
	CHECK_STR(processed_action_name(mb.processed_action), "move_to_folder");
	CHECK_STR(mb.processed_folder, "Done");

	/* Clearing the folder while moving to it is refused. */
	CHECK_INT(apply(&mb, "{\"processed_folder\": null}", 0, NULL), 1);
	CHECK(has_error("processed_folder", "folder"));
	mailbox_set_text(&mb.processed_folder, "Done");

	/* Another action drops the folder. */
	CHECK_INT(apply(&mb, "{\"processed_action\": \"mark_read\"}", 0, NULL),
	    0);
	CHECK_STR(processed_action_name(mb.processed_action), "mark_read");
	CHECK_STR(mb.processed_folder, "");
	CHECK_INT(apply(&mb, "{\"processed_folder\": \"Kept?\"}", 0, NULL), 0);
	CHECK_STR(mb.processed_folder, "");

	CHECK_INT(apply(&mb, "{\"processed_action\": \"delete\"}", 0, NULL), 1);
	CHECK(has_error("processed_action", "move_to_folder"));
	CHECK_STR(processed_action_name(mb.processed_action), "mark_read");
	CHECK(apply(&mb,
	          "{\"processed_action\": \"move_to_folder\", "
	          "\"processed_folder\": \"a\\u0001b\"}",
	          0, NULL) >= 1);
	CHECK(has_error("processed_folder", "255"));
	mailbox_cleanup(&mb);
}

static void
test_fields(void)
{
	struct mailbox mb = { 0 };
	char           text[1024];

	CHECK_INT(create(&mb, ""), 0);
	CHECK_INT(apply(&mb, "{\"name\": 5}", 0, NULL), 1);
	CHECK(has_error("name", "Must be a string."));
	CHECK_INT(apply(&mb, "{\"name\": null}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"ack_enabled\": \"yes\"}", 0, NULL), 1);
	CHECK(has_error("ack_enabled", "true or false"));
	CHECK_INT(apply(&mb, "{\"ack_enabled\": 0}", 0, NULL), 1);
	CHECK_INT(mb.ack_enabled, 1);
	CHECK_INT(apply(&mb, "{\"ack_enabled\": false}", 0, NULL), 0);
	CHECK_INT(mb.ack_enabled, 0);
	CHECK_INT(apply(&mb, "{\"secret_expires_on\": 20270101}", 0, NULL), 1);
	CHECK(has_error("secret_expires_on", "string or null"));
	CHECK_INT(apply(&mb, "{\"cloud\": [\"global\"]}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"cloud\": \"mars\"}", 0, NULL), 1);
	CHECK(has_error("cloud", "global, usgov_l4, usgov_l5, china"));
	CHECK_INT(apply(&mb, "{\"cloud\": \"usgov_l5\"}", 0, NULL), 0);
	CHECK_STR(mailbox_cloud_name(mb.cloud), "usgov_l5");
	CHECK_INT(apply(&mb, "{\"type\": \"imap\"}", 0, NULL), 1);
	CHECK(has_error("type", "office365"));
	CHECK_INT(apply(&mb, "{\"first_scan\": \"all\"}", 0, NULL), 0);
	CHECK_STR(mailbox_first_scan_name(mb.first_scan), "all");
	CHECK_INT(apply(&mb, "{\"first_scan\": \"some\"}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"id\": 3, \"status\": \"connected\"}", 0, NULL),
	    2);
	CHECK(has_error("id", "Unknown field"));
	CHECK(has_error("status", "Unknown field"));
	CHECK_STR(mailbox_status_name(mb.status), "not_connected");

	/* Names: 1 to 100 characters, no edge spaces or controls. */
	CHECK_INT(apply(&mb, "{\"name\": \"\"}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"name\": \" Support\"}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"name\": \"Support \"}", 0, NULL), 1);
	CHECK_INT(apply(&mb, "{\"name\": \"Sup\\nport\"}", 0, NULL), 1);
	CHECK_STR(mb.name, "Support");
	memcpy(text, "{\"name\": \"", 10);
	for (size_t i = 0; i < 100; i++)
		memcpy(text + 10 + 2 * i, "\xc3\xa9", 2);
	memcpy(text + 210, "\"}", 3);
	CHECK_INT(apply(&mb, text, 0, NULL), 0); /* 100 characters */
	CHECK_INT(strlen(mb.name), 200);
	memcpy(text + 210, "x\"}", 4);
	CHECK_INT(apply(&mb, text, 0, NULL), 1); /* 101 */
	CHECK(has_error("name", "1 to 100"));
	mailbox_cleanup(&mb);
}

static void
today_plus(char out[11], int days)
{
	time_t    t = time(NULL) + (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void
test_expiry(void)
{
	struct mailbox mb = { 0 };
	char           text[128], day[11];

	CHECK_INT(create(&mb, ", \"secret_expires_on\": \"9999-12-31\""), 0);
	CHECK_STR(mb.secret_expires_on, "9999-12-31");
	CHECK_INT(create(&mb, ", \"secret_expires_on\": \"2001-01-01\""), 1);
	CHECK(has_error("secret_expires_on", "passed"));

	today_plus(day, -2);
	snprintf(text, sizeof text, "{\"secret_expires_on\": \"%s\"}", day);
	CHECK_INT(apply(&mb, text, 0, NULL), 1);
	CHECK(has_error("secret_expires_on", "passed"));
	today_plus(day, 2);
	snprintf(text, sizeof text, "{\"secret_expires_on\": \"%s\"}", day);
	CHECK_INT(apply(&mb, text, 0, NULL), 0);
	CHECK_STR(mb.secret_expires_on, day);

	CHECK_INT(apply(&mb, "{\"secret_expires_on\": \"2027-02-30\"}", 0,
	              NULL),
	    1);
	CHECK(has_error("secret_expires_on", "YYYY-MM-DD"));
	CHECK_INT(apply(&mb, "{\"secret_expires_on\": \"31.12.2030\"}", 0,
	              NULL),
	    1);
	CHECK_STR(mb.secret_expires_on, day);
	CHECK_INT(apply(&mb, "{\"secret_expires_on\": null}", 0, NULL), 0);
	CHECK_STR(mb.secret_expires_on, "");
	mailbox_cleanup(&mb);
}

static void
test_patch(void)
{
	struct mailbox mb = { 0 }, before;
	char          *secret = NULL;

	CHECK_INT(create(&mb,
	              ", \"shared_address\": \"help@contoso.com\", "
	              "\"cloud\": \"china\", \"ack_enabled\": false"),
	    0);
	memcpy(&before, &mb, sizeof mb);
	CHECK_INT(apply(&mb, "{}", 0, &secret), 0);
	CHECK(secret == NULL);
	CHECK(memcmp(&mb, &before, sizeof mb) == 0);

	CHECK_INT(apply(&mb, "{\"name\": \"Helpdesk\"}", 0, &secret), 0);
	CHECK(secret == NULL);
	CHECK_STR(mb.name, "Helpdesk");
	CHECK_STR(mb.client_id, before.client_id);
	CHECK_STR(mb.tenant_id, before.tenant_id);
	CHECK_STR(mb.secret_last4, before.secret_last4);
	CHECK_STR(mb.shared_address, "help@contoso.com");
	CHECK_STR(mailbox_cloud_name(mb.cloud), "china");
	CHECK_INT(mb.ack_enabled, 0);

	CHECK_INT(apply(&mb, "{\"secret\": \"new-secret~value9\"}", 0, &secret),
	    0);
	CHECK_STR(secret, "new-secret~value9");
	CHECK_STR(mb.secret_last4, "lue9");
	CHECK_STR(mb.name, "Helpdesk");
	xfree_secret(secret);
	mailbox_cleanup(&mb);
}

/* True if the array v holds the string s. */
static int
array_has(json_t *v, const char *s)
{
	for (size_t i = 0; i < json_array_size(v); i++)
		if (strcmp(json_string_value(json_array_get(v, i)), s) == 0)
			return 1;
	return 0;
}

/* The written representation, parsed back (strictly) for checking. */
static json_t *
written(const struct mailbox *mb, const struct config *cfg)
{
	struct buf b;
	struct jw  w;
	json_t    *o;

	buf_init(&b, 0);
	jw_init(&w, &b);
	if (mb != NULL)
		mailbox_write(&w, mb, cfg);
	else
		mailbox_azure_setup(&w, cfg);
	o = json_loads(b.data, JSON_REJECT_DUPLICATES, NULL);
	CHECK(o != NULL);
	buf_cleanup(&b);
	return o;
}

static void
test_to_json(void)
{
	struct config  cfg;
	struct mailbox mb = { 0 };
	struct buf     b;
	json_t        *o, *uris, *perms;

	memset(&cfg, 0, sizeof cfg);
	cfg.portal_url = "https://desk.example.com";
	CHECK_INT(create(&mb, ", \"secret_expires_on\": \"9999-01-31\""), 0);
	mb.id = 17;

	o = written(&mb, &cfg);
	buf_init(&b, 0);
	CHECK_INT(jsonx_dump(o, &b), 0);
	CHECK(strstr(b.data, SECRET) == NULL);
	CHECK(strstr(b.data, "Abc8Q") == NULL);
	CHECK(json_object_get(o, "secret") == NULL);
	CHECK(json_is_true(json_object_get(o, "secret_set")));
	CHECK_STR(jsonx_str(o, "secret_last4"), "KLmn");
	CHECK_INT(json_integer_value(json_object_get(o, "id")), 17);
	CHECK_STR(jsonx_str(o, "name"), "Support");
	CHECK_STR(jsonx_str(o, "secret_expires_on"), "9999-01-31");
	CHECK(json_is_null(json_object_get(o, "shared_address")));
	CHECK(json_is_null(json_object_get(o, "processed_folder")));
	CHECK(json_is_true(json_object_get(o, "ack_enabled")));

	uris = json_object_get(o, "redirect_uris");
	CHECK_INT(json_array_size(uris), 2);
	CHECK_STR(json_string_value(json_array_get(uris, 0)),
	    "https://desk.example.com/azure/auth");
	CHECK_STR(json_string_value(json_array_get(uris, 1)),
	    "https://desk.example.com/auth/account/azureresponse");

	perms = json_object_get(o, "permissions");
	CHECK(array_has(perms, "Mail.ReadWrite"));
	CHECK(array_has(perms, "Mail.Send"));
	CHECK(array_has(perms, "offline_access"));
	CHECK(!array_has(perms, "Mail.ReadWrite.Shared"));
	CHECK(!array_has(perms, "Mail.Send.Shared"));
	json_decref(o);

	CHECK_INT(apply(&mb, "{\"shared_address\": \"help@contoso.com\"}", 0,
	              NULL),
	    0);
	o = written(&mb, &cfg);
	CHECK_STR(jsonx_str(o, "shared_address"), "help@contoso.com");
	perms = json_object_get(o, "permissions");
	CHECK(array_has(perms, "Mail.ReadWrite.Shared"));
	CHECK(array_has(perms, "Mail.Send.Shared"));
	CHECK(array_has(perms, "Mail.ReadWrite"));
	json_decref(o);
	buf_cleanup(&b);
	mailbox_cleanup(&mb);
}

static void
test_azure_setup(void)
{
	struct config cfg;
	json_t       *o;

	memset(&cfg, 0, sizeof cfg);
	cfg.portal_url = "http://127.0.0.1:8443/desk";
	o = written(NULL, &cfg);
	CHECK_STR(json_string_value(
	              json_array_get(json_object_get(o, "redirect_uris"), 0)),
	    "http://127.0.0.1:8443/desk/azure/auth");
	if (CHECK(o != NULL)) {
		CHECK_INT(json_array_size(json_object_get(o, "redirect_uris")),
		    2);
		CHECK_INT(json_array_size(json_object_get(o, "clouds")), 4);
		CHECK(!array_has(json_object_get(json_object_get(o,
		                                     "permissions"),
		                     "licensed"),
		    "Mail.Send.Shared"));
		CHECK(
		    array_has(json_object_get(json_object_get(o, "permissions"),
		                  "shared"),
		        "Mail.Send.Shared"));
	}
	json_decref(o);
}

/* The quarantine folder (sql/0008_isolation.sql), checked in
 * lib/domain/mailbox.c. */
static void
test_quarantine(void)
{
	struct mailbox mb = { 0 };

	CHECK_INT(create(&mb, ""), 0);
	CHECK_STR(mb.quarantine_folder, "Postdesk quarantine");
	CHECK_INT(apply(&mb, "{\"quarantine_folder\": \"He\\u0001ld\"}", 0,
	              NULL),
	    1);
	CHECK(has_error("quarantine_folder", "control"));
	CHECK_INT(apply(&mb, "{\"quarantine_folder\": \"  Held \\t\"}", 0,
	              NULL),
	    0);
	CHECK_STR(mb.quarantine_folder, "Held");
	CHECK_INT(apply(&mb, "{\"quarantine_folder\": \"   \"}", 0, NULL), 1);
	CHECK(has_error("quarantine_folder", "1 to 255"));
	CHECK_INT(apply(&mb, "{\"quarantine_folder\": null}", 0, NULL), 1);
	CHECK(has_error("quarantine_folder", "string"));
	CHECK_INT(apply(&mb, "{\"quarantine_folder\": \"jUNK eMAIL\"}", 0,
	              NULL),
	    1);
	CHECK(has_error("quarantine_folder", "Outlook's own"));
	CHECK_STR(mb.quarantine_folder, "Held");
	/* 255 two-byte characters fit; 256 do not */
	{
		struct buf b;

		buf_init(&b, 600);
		buf_puts(&b, "{\"quarantine_folder\": \"");
		for (int i = 0; i < 256; i++)
			buf_puts(&b, "\xc3\xa9");
		buf_puts(&b, "\"}");
		CHECK_INT(apply(&mb, b.data, 0, NULL), 1);
		b.len -= 4; /* one character and the close */
		buf_puts(&b, "\"}");
		CHECK_INT(apply(&mb, b.data, 0, NULL), 0);
		buf_cleanup(&b);
	}
	CHECK_INT((int)jsonx_u8len(mb.quarantine_folder), 255);
	/* not the processed folder, whichever of the two changes */
	CHECK_INT(apply(&mb,
	              "{\"processed_action\": \"move_to_folder\", "
	              "\"processed_folder\": \"Done\", "
	              "\"quarantine_folder\": \"DONE\"}",
	              0, NULL),
	    1);
	CHECK(has_error("quarantine_folder", "the same"));
	mailbox_cleanup(&mb);
}

/* The state machine and the reauthorisation rule (lib/domain/mailbox_state.c).
 */
static void
test_state(void)
{
	struct mailbox old = { 0 }, mb = { 0 };

	CHECK_INT(mailbox_next_status(MAILBOX_NOT_CONNECTED,
	              MAILBOX_EV_CONNECTED),
	    MAILBOX_CONNECTED);
	CHECK_INT(mailbox_next_status(MAILBOX_CONNECTED,
	              MAILBOX_EV_REFRESH_REFUSED),
	    MAILBOX_NEEDS_REAUTH);
	CHECK_INT(mailbox_next_status(MAILBOX_NEEDS_REAUTH,
	              MAILBOX_EV_DISCONNECT),
	    MAILBOX_DISCONNECTED);
	CHECK_INT(mailbox_next_status(MAILBOX_NOT_CONNECTED,
	              MAILBOX_EV_SETTINGS_CHANGED),
	    -1);
	CHECK_INT(mailbox_next_status(MAILBOX_DISCONNECTED,
	              MAILBOX_EV_SETTINGS_CHANGED),
	    -1);
	CHECK_INT(mailbox_next_status(MAILBOX_CONNECTED,
	              MAILBOX_EV_SETTINGS_CHANGED),
	    MAILBOX_NEEDS_REAUTH);

	old.status = MAILBOX_CONNECTED;
	snprintf(old.client_id, sizeof old.client_id, "%s", CLIENT);
	mb = old;
	CHECK(!mailbox_needs_reauth(&old, &mb, 0));
	CHECK(mailbox_needs_reauth(&old, &mb, 1));
	snprintf(mb.shared_address, sizeof mb.shared_address, "a@b.example");
	CHECK(mailbox_needs_reauth(&old, &mb, 0));
	old.status = MAILBOX_DISCONNECTED;
	CHECK(!mailbox_needs_reauth(&old, &mb, 1));
	CHECK_STR(mailbox_status_name(MAILBOX_NEEDS_REAUTH), "needs_reauth");
	CHECK_INT(mailbox_status_parse("disconnected", &old.status), 0);
	CHECK_INT(old.status, MAILBOX_DISCONNECTED);
	CHECK_INT(mailbox_cloud_parse("mars", &old.cloud), -1);
}

int
main(void)
{
	test_state();
	errors = json_array();
	test_create();
	test_secret();
	test_ids();
	test_shared();
	test_processed();
	test_quarantine();
	test_fields();
	test_expiry();
	test_patch();
	test_to_json();
	test_azure_setup();
	json_decref(errors);
	return TEST_DONE();
}
