/*
 * guidance: the catalogue.  Entries cover the mistakes an admin makes
 * registering the Azure app and connecting a mailbox, and the AADSTS /
 * Graph codes in docs/graph-contract.md.  Branching is on codes, never on
 * Microsoft's message text.  A Secret ID pasted as the secret (which other
 * tools report as "Length cannot be less than zero") cannot reach
 * Microsoft here: mailbox validation refuses a GUID secret.
 */
#include <stdio.h>
#include <string.h>

#include "microsoft/guidance.h"

#define REAUTH "Press Reauthorize on this mailbox and sign in again."
#define NEW_SECRET                                                             \
	"In Azure, open the app registration > Certificates & secrets, "       \
	"create a new client secret and paste its Value here (the Value, "     \
	"not the Secret ID; it is shown only once), then reauthorize."

#define UPLOAD_CER                                                             \
	"In Azure, open the app registration > Certificates & secrets > "      \
	"Certificates, press Upload certificate and choose the .cer this "     \
	"mailbox's page offers (Download .cer); its thumbprint there must "    \
	"match the one shown here. Then reauthorize."

/* clang-format off */
static const struct guidance aadsts[] = {
	{ "AADSTS700027", "Microsoft does not know this mailbox's certificate "
	  "(the key was not found, or the signature did not verify)",
	  UPLOAD_CER " If Azure lists it, check that it has not expired "
	  "there and that this mailbox uses the app whose Application "
	  "(client) ID is shown here.", 1 },
	{ "AADSTS700024", "The client assertion was outside its valid time "
	  "range", "Check this server's clock (it must be within a few "
	  "minutes of the real time: enable NTP, e.g. systemd-timesyncd), "
	  "then reauthorize.", 1 },
	{ "AADSTS700023", "The client assertion was addressed to another "
	  "token endpoint", "Check the Directory (tenant) ID and the cloud of "
	  "this mailbox, and that login_url in postdesk.conf is Microsoft's "
	  "login address; then reauthorize.", 1 },
	{ "AADSTS700021", "The client assertion named another app",
	  "Check the Application (client) ID of this mailbox against the app "
	  "registration that holds the certificate; then reauthorize.", 1 },
	{ "AADSTS50012", "Microsoft refused the app's credential",
	  "If this mailbox uses a certificate: " UPLOAD_CER " If it uses a "
	  "client secret: " NEW_SECRET, 1 },
	{ "AADSTS50027", "Microsoft could not read the client assertion",
	  "Generate a new certificate for this mailbox, upload its .cer in "
	  "Azure (Certificates & secrets) and reauthorize.", 1 },
	{ "AADSTS9002313", "Microsoft refused the request as malformed",
	  REAUTH " If it keeps failing, " NEW_SECRET, 1 },
	{ "AADSTS70000", "The sign-in grant is no longer valid", REAUTH, 1 },
	{ "AADSTS70008", "The sign-in has expired", REAUTH, 1 },
	{ "AADSTS700082", "The connection expired after 90 days without use",
	  REAUTH " Keep the scanner running so the connection stays alive.", 1 },
	{ "AADSTS50173", "The sign-in was revoked (password change or "
	  "\"revoke sessions\")", REAUTH, 1 },
	{ "AADSTS54005", "This sign-in code was already used",
	  "Press Authorize Application again.", 1 },
	{ "AADSTS50148", "The sign-in did not match the authorization that "
	  "started it (PKCE)", "Press Authorize Application again, and run "
	  "only one authorization per mailbox at a time.", 1 },
	{ "AADSTS501481", "The sign-in did not match the authorization that "
	  "started it (PKCE)", "Press Authorize Application again.", 1 },
	{ "AADSTS50011", "The redirect URI is not registered on the Azure app",
	  "In Azure, open the app registration > Authentication > Web and add "
	  "both redirect URIs shown on this page exactly (https, host, port, "
	  "no trailing slash).", 1 },
	{ "AADSTS500112", "The redirect URI changed between sign-in and token "
	  "redemption", "Check that portal_url in postdesk.conf is the address "
	  "browsers use, and that no proxy rewrites it; then authorize again.",
	  1 },
	{ "AADSTS500113", "The Azure app has no redirect URI",
	  "In Azure, add both redirect URIs shown on this page under "
	  "Authentication > Web.", 1 },
	{ "AADSTS7000215", "The client secret is wrong (often the Secret ID "
	  "instead of its Value)", NEW_SECRET, 1 },
	{ "AADSTS7000222", "The client secret has expired", NEW_SECRET
	  " Enter its new expiry date too, so postdesk can warn you next "
	  "time.", 1 },
	{ "AADSTS7000218", "No client secret or certificate was sent",
	  NEW_SECRET " Or choose Certificate as this mailbox's credential.",
	  1 },
	{ "AADSTS700016", "The app was not found in this tenant",
	  "Check the Application (client) ID and the Directory (tenant) ID "
	  "against the app's Overview page in Azure, and the cloud.", 1 },
	{ "AADSTS90002", "The tenant was not found",
	  "Check the Directory (tenant) ID (or domain) and the cloud of this "
	  "mailbox.", 1 },
	{ "AADSTS65001", "Consent for the app's permissions is missing",
	  "In Azure, open API permissions and press \"Grant admin consent\" "
	  "for all permissions, then reauthorize.", 1 },
	{ "AADSTS65004", "The sign-in was cancelled",
	  "Press Authorize Application again and accept the permissions.", 1 },
	{ "AADSTS90094", "An administrator must approve the app",
	  "A Global Administrator must grant admin consent: Azure > API "
	  "permissions > Grant admin consent. Then authorize again.", 1 },
	{ "AADSTS90095", "An administrator must approve the app",
	  "A Global Administrator must grant admin consent: Azure > API "
	  "permissions > Grant admin consent. Then authorize again.", 1 },
	{ "AADSTS50076", "Multi-factor authentication is now required",
	  REAUTH " Complete the MFA prompt while signing in.", 1 },
	{ "AADSTS50079", "The account must register for multi-factor "
	  "authentication", "Sign in to Microsoft 365 as that user, register "
	  "MFA, then reauthorize.", 1 },
	{ "AADSTS53003", "Blocked by a Conditional Access policy",
	  "Check the Entra sign-in logs and exclude this app or location from "
	  "the policy, then reauthorize.", 1 },
	{ "AADSTS50057", "The account is disabled",
	  "Sign in with an enabled, licensed account (a shared mailbox itself "
	  "cannot sign in: sign in as a delegate and enter the shared "
	  "address).", 1 },
	{ "AADSTS50196", "Microsoft detected a request loop",
	  "Wait a few minutes before trying again.", 0 },
	{ "AADSTS70011", "A requested permission name is invalid",
	  "Check the API permissions of the Azure app.", 1 },
};

static const struct guidance oauth_errors[] = {
	{ "access_denied", "The sign-in was cancelled or blocked",
	  "Press Authorize Application again and accept the permissions. If "
	  "it was blocked, check Conditional Access in Entra.", 1 },
	{ "consent_required", "Consent for the app's permissions is missing",
	  "In Azure, open API permissions and press \"Grant admin consent\".",
	  1 },
	{ "interaction_required", "Microsoft needs an interactive sign-in",
	  REAUTH, 1 },
	{ "invalid_client", "Microsoft refused the app's credentials",
	  NEW_SECRET, 1 },
	{ "invalid_grant", "The sign-in grant is no longer valid", REAUTH, 1 },
	{ "server_error", "Microsoft had a temporary problem",
	  "Try again in a few minutes.", 0 },
	{ "temporarily_unavailable", "Microsoft is temporarily unavailable",
	  "Try again in a few minutes.", 0 },
};

static const struct guidance graph_errors[] = {
	{ "ErrorAccessDenied", "The signed-in user cannot open this mailbox",
	  "For a shared mailbox: in the Microsoft 365 admin center (not the "
	  "Exchange admin console), open the shared mailbox > Manage mailbox "
	  "permissions and add the signing-in licensed user under Read and "
	  "manage (Full Access) and Send as. It can take up to an hour to "
	  "apply; then reauthorize.", 1 },
	{ "ErrorSendAsDenied", "The signed-in user may not send as this "
	  "mailbox", "In the Microsoft 365 admin center, open the shared "
	  "mailbox > Manage mailbox permissions and add the signing-in user "
	  "under Send as. It can take up to an hour to apply.", 0 },
	{ "MailboxNotEnabledForRESTAPI", "The account has no Exchange Online "
	  "mailbox", "Sign in with a licensed user that has a mailbox, or "
	  "check the mailbox's licence.", 1 },
	{ "ErrorInvalidUser", "The mailbox address does not exist in this "
	  "tenant", "Check the shared mailbox address for typos.", 1 },
	{ "ResourceNotFound", "The mailbox address does not exist in this "
	  "tenant", "Check the shared mailbox address for typos.", 1 },
	{ "InvalidAuthenticationToken", "Microsoft Graph refused the access "
	  "token", REAUTH, 1 },
	{ "Authorization_RequestDenied", "A permission is missing",
	  "Grant admin consent for all the app's API permissions in Azure.",
	  1 },
	{ "ApplicationThrottled", "Microsoft is throttling requests",
	  "Nothing to do: postdesk waits as Microsoft asks and continues.", 0 },
	{ "TooManyRequests", "Microsoft is throttling requests",
	  "Nothing to do: postdesk waits as Microsoft asks and continues.", 0 },
};
/* clang-format on */

static const struct guidance fallback = { .key = "unknown",
	.title = "Microsoft reported an error",
	.action = "Disconnect and then reauthorize the mailbox. If the error "
	          "stays, check the app registration in Azure against this "
	          "page.",
	.reauth = 1 };

const struct guidance *
guidance_fallback(void)
{
	return &fallback;
}

/*
 * Guidance for an OAuth error: the AADSTS code wins when known, then the
 * error string; unknown errors get the general advice (disconnect and
 * reauthorize).  Never NULL.
 */
const struct guidance *
guidance_oauth(const char *error, long code)
{
	char key[32];

	snprintf(key, sizeof key, "AADSTS%ld", code);
	for (size_t i = 0; code > 0 && i < sizeof aadsts / sizeof aadsts[0];
	     i++)
		if (strcmp(aadsts[i].key, key) == 0)
			return &aadsts[i];
	for (size_t i = 0;
	     error && i < sizeof oauth_errors / sizeof oauth_errors[0]; i++)
		if (strcmp(oauth_errors[i].key, error) == 0)
			return &oauth_errors[i];
	return &fallback;
}

/* Guidance for a Graph error by error.code; never NULL. */
const struct guidance *
guidance_graph(long status, const char *code)
{
	for (size_t i = 0;
	     code && i < sizeof graph_errors / sizeof graph_errors[0]; i++)
		if (strcmp(graph_errors[i].key, code) == 0)
			return &graph_errors[i];
	if (status == 401)
		return &graph_errors[5];
	return &fallback;
}
