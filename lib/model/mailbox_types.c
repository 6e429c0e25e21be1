/*
 * mailbox_types: the name tables of lib/model/mailbox_types.h.
 */
#include <stdlib.h>
#include <string.h>

#include "model/enum_name.h"
#include "model/mailbox_types.h"
#include "base/xmalloc.h"
#include "model/mailbox_types.h"

static const char *const STATUS_NAMES[] = {
	[MAILBOX_NOT_CONNECTED] = "not_connected",
	[MAILBOX_CONNECTED] = "connected",
	[MAILBOX_ERROR] = "error",
	[MAILBOX_NEEDS_REAUTH] = "needs_reauth",
	[MAILBOX_DISCONNECTED] = "disconnected",
};
_Static_assert(ENUM_COUNT(STATUS_NAMES) == MAILBOX_STATUS_COUNT,
    "mailbox status names");

static const char *const FIRST_SCAN_NAMES[] = {
	[MAILBOX_NEW_ONLY] = "new_only",
	[MAILBOX_SCAN_ALL] = "all",
};
_Static_assert(ENUM_COUNT(FIRST_SCAN_NAMES) == MAILBOX_FIRST_SCAN_COUNT,
    "first scan names");

static const char *const CREDENTIAL_NAMES[] = {
	[MAILBOX_CRED_SECRET] = "secret",
	[MAILBOX_CRED_CERTIFICATE] = "certificate",
};
_Static_assert(ENUM_COUNT(CREDENTIAL_NAMES) == MAILBOX_CREDENTIAL_COUNT,
    "one name per credential type");

static const char *const AUTOMATIC_MAIL_NAMES[] = {
	[MAILBOX_AUTOMATIC_TICKET] = "ticket",
	[MAILBOX_AUTOMATIC_LOG_ONLY] = "log_only",
};
_Static_assert(ENUM_COUNT(AUTOMATIC_MAIL_NAMES) == MAILBOX_AUTOMATIC_MAIL_COUNT,
    "automatic mail names");

/* clang-format off */
const struct mailbox_cloud_info mailbox_clouds[MAILBOX_CLOUD_COUNT] = {
	[MAILBOX_CLOUD_GLOBAL] =   { "global",   "Global (Microsoft 365, GCC)", "https://login.microsoftonline.com", "https://graph.microsoft.com" },
	[MAILBOX_CLOUD_USGOV_L4] = { "usgov_l4", "US Government L4 (GCC High)", "https://login.microsoftonline.us",  "https://graph.microsoft.us" },
	[MAILBOX_CLOUD_USGOV_L5] = { "usgov_l5", "US Government L5 (DoD)",      "https://login.microsoftonline.us",  "https://dod-graph.microsoft.us" },
	[MAILBOX_CLOUD_CHINA] =    { "china",    "China (21Vianet)",            "https://login.chinacloudapi.cn",    "https://microsoftgraph.chinacloudapi.cn" },
};
/* clang-format on */

/* Identity comes from the id_token, so User.Read (for /me) is not
 * needed; offline_access brings the refresh token. */
const char *const mailbox_scopes_licensed[] = { "offline_access", "openid",
	"email", "profile", "Mail.ReadWrite", "Mail.Send", NULL };
const char *const mailbox_scopes_shared[] = { "Mail.ReadWrite.Shared",
	"Mail.Send.Shared", NULL };

const char *
mailbox_status_name(enum mailbox_status v)
{
	return (unsigned)v < MAILBOX_STATUS_COUNT ? STATUS_NAMES[v] : "";
}

int
mailbox_status_parse(const char *s, enum mailbox_status *v)
{
	int i = enum_index(STATUS_NAMES, MAILBOX_STATUS_COUNT, s);

	if (i >= 0)
		*v = (enum mailbox_status)i;
	return i >= 0 ? 0 : -1;
}

const char *
mailbox_first_scan_name(enum mailbox_first_scan v)
{
	return (unsigned)v < MAILBOX_FIRST_SCAN_COUNT ? FIRST_SCAN_NAMES[v]
	                                              : "";
}

int
mailbox_first_scan_parse(const char *s, enum mailbox_first_scan *v)
{
	int i = enum_index(FIRST_SCAN_NAMES, MAILBOX_FIRST_SCAN_COUNT, s);

	if (i >= 0)
		*v = (enum mailbox_first_scan)i;
	return i >= 0 ? 0 : -1;
}

const char *
mailbox_automatic_mail_name(enum mailbox_automatic_mail v)
{
	return (unsigned)v < MAILBOX_AUTOMATIC_MAIL_COUNT
	    ? AUTOMATIC_MAIL_NAMES[v]
	    : "";
}

int
mailbox_automatic_mail_parse(const char *s, enum mailbox_automatic_mail *v)
{
	int i =
	    enum_index(AUTOMATIC_MAIL_NAMES, MAILBOX_AUTOMATIC_MAIL_COUNT, s);

	if (i >= 0)
		*v = (enum mailbox_automatic_mail)i;
	return i >= 0 ? 0 : -1;
}

const char *
mailbox_cloud_name(enum mailbox_cloud v)
{
	return (unsigned)v < MAILBOX_CLOUD_COUNT ? mailbox_clouds[v].id : "";
}

int
mailbox_cloud_parse(const char *s, enum mailbox_cloud *v)
{
	for (int i = 0; s != NULL && i < MAILBOX_CLOUD_COUNT; i++)
		if (strcmp(s, mailbox_clouds[i].id) == 0) {
			*v = (enum mailbox_cloud)i;
			return 0;
		}
	return -1;
}

/* Replace the heap string *dst by a copy of src (NULL: ""). */
void
mailbox_set_text(char **dst, const char *src)
{
	char *s = xstrdup(src ? src : "");

	free(*dst);
	*dst = s;
}

/* Free mb's heap strings (and set them NULL: cleaning twice is safe). */
void
mailbox_cleanup(struct mailbox *mb)
{
	free(mb->processed_folder);
	free(mb->last_error);
	free(mb->last_error_guidance);
	free(mb->ack_subject);
	free(mb->ack_body);
	free(mb->quarantine_folder);
	mb->processed_folder = mb->last_error = mb->last_error_guidance =
	    mb->ack_subject = mb->ack_body = mb->quarantine_folder = NULL;
}

void
mailbox_list_free(struct mailbox *mbs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mailbox_cleanup(&mbs[i]);
	free(mbs);
}

static const char *const PROCESSED_ACTION_NAMES[] = {
	[PROCESSED_MOVE_TO_DELETED_ITEMS] = "move_to_deleted_items",
	[PROCESSED_MOVE_TO_FOLDER] = "move_to_folder",
	[PROCESSED_MARK_READ] = "mark_read",
};
_Static_assert(ENUM_COUNT(PROCESSED_ACTION_NAMES) == PROCESSED_ACTION_COUNT,
    "processed action names");

const char *
processed_action_name(enum processed_action v)
{
	return (unsigned)v < PROCESSED_ACTION_COUNT ? PROCESSED_ACTION_NAMES[v]
	                                            : "";
}

/* 0, or -1 when s is not a processed action (*v left alone). */
int
processed_action_parse(const char *s, enum processed_action *v)
{
	int i = enum_index(PROCESSED_ACTION_NAMES, PROCESSED_ACTION_COUNT, s);

	if (i >= 0)
		*v = (enum processed_action)i;
	return i >= 0 ? 0 : -1;
}

const char *
mailbox_credential_name(enum mailbox_credential v)
{
	return (unsigned)v < MAILBOX_CREDENTIAL_COUNT ? CREDENTIAL_NAMES[v]
	                                              : "";
}

int
mailbox_credential_parse(const char *s, enum mailbox_credential *v)
{
	int i = enum_index(CREDENTIAL_NAMES, MAILBOX_CREDENTIAL_COUNT, s);

	if (i < 0)
		return -1;
	*v = (enum mailbox_credential)i;
	return 0;
}
