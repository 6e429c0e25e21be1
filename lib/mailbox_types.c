/*
 * mailbox_types: the name tables of lib/mailbox_types.h.
 */
#include <stdlib.h>
#include <string.h>

#include "mailbox_types.h"
#include "xmalloc.h"

const char *const mailbox_status_names[] = { "not_connected", "connected",
	"error", "needs_reauth", "disconnected", NULL };
const char *const mailbox_read_action_names[] = { "move_to_deleted_items",
	"move_to_folder", "mark_read", NULL };
const char *const mailbox_first_scan_names[] = { "new_only", "all", NULL };
const char *const mailbox_cloud_names[] = { "global", "usgov_l4", "usgov_l5",
	"china", NULL };

/* clang-format off */
const struct mailbox_cloud_info mailbox_clouds[MAILBOX_CLOUD_COUNT] = {
	{ "global",   "Global (Microsoft 365, GCC)", "https://login.microsoftonline.com", "https://graph.microsoft.com" },
	{ "usgov_l4", "US Government L4 (GCC High)", "https://login.microsoftonline.us",  "https://graph.microsoft.us" },
	{ "usgov_l5", "US Government L5 (DoD)",      "https://login.microsoftonline.us",  "https://dod-graph.microsoft.us" },
	{ "china",    "China (21Vianet)",            "https://login.chinacloudapi.cn",    "https://microsoftgraph.chinacloudapi.cn" },
};
/* clang-format on */

/* Identity comes from the id_token, so User.Read (for /me) is not
 * needed; offline_access brings the refresh token. */
const char *const mailbox_scopes_licensed[] = { "offline_access", "openid",
	"email", "profile", "Mail.ReadWrite", "Mail.Send", NULL };
const char *const mailbox_scopes_shared[] = { "Mail.ReadWrite.Shared",
	"Mail.Send.Shared", NULL };

/* The index of s in the NULL-terminated name table names, or -1. */
int
mailbox_enum_of(const char *const *names, const char *s)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
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
