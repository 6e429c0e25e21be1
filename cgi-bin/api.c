/*
 * postdesk-api: the FastCGI responder for /api/.  The route table below is
 * the whole API and its access table: `postdesk-api --routes` prints the
 * routes (the OpenAPI test compares them with docs/openapi.json), and
 * `postdesk-api --access` each with who may call it and whether a portal
 * session must send its CSRF token (tests/integration/test_access_table.py
 * drives every cell against the running stack).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"

/* clang-format off */
static const struct route routes[] = {
	{ "GET",    "/api/health",              api_health,         ROUTE_PUBLIC, NULL },
	{ "GET",    "/api/metrics",             api_metrics,        ROUTE_MONITOR, NULL },
	{ "GET",    "/api/openapi.json",        api_openapi,        ROUTE_PUBLIC, NULL },
	{ "POST",   "/api/session",             api_session_create, ROUTE_PUBLIC, NULL },
	{ "POST",   "/api/graph/notify",        api_push_notify,    ROUTE_PUBLIC, NULL },
	{ "POST",   "/api/graph/lifecycle",     api_push_lifecycle, ROUTE_PUBLIC, NULL },
	{ "GET",    "/api/session",             api_session_get,    ROUTE_AGENT, NULL },
	{ "DELETE", "/api/session",             api_session_delete, ROUTE_AGENT, NULL },
	{ "GET",    "/api/sso",                 api_sso_public,     ROUTE_PUBLIC, NULL },
	{ "GET",    "/api/sso/start",           api_sso_start,      ROUTE_PUBLIC, NULL },
	{ "GET",    "/api/sso/callback",        api_sso_callback,   ROUTE_PUBLIC, NULL },
	{ "GET",    "/api/sso/settings",        api_sso_settings_get, ROUTE_ADMIN, NULL },
	{ "PATCH",  "/api/sso/settings",        api_sso_settings_update, ROUTE_ADMIN, NULL },
	{ "GET",    "/api/azure-setup",         api_azure_setup,    ROUTE_ADMIN, NULL },
	{ "GET",    "/api/mailboxes",           api_mailbox_list,   ROUTE_ADMIN, api_mailbox_list_prefetch },
	{ "POST",   "/api/mailboxes",           api_mailbox_create, ROUTE_ADMIN, NULL },
	{ "GET",    "/api/mailboxes/{id}",      api_mailbox_get,    ROUTE_ADMIN, NULL },
	{ "PATCH",  "/api/mailboxes/{id}",      api_mailbox_update, ROUTE_ADMIN, NULL },
	{ "DELETE", "/api/mailboxes/{id}",      api_mailbox_delete, ROUTE_ADMIN, NULL },
	{ "POST",   "/api/mailboxes/{id}/authorize",  api_mailbox_authorize,  ROUTE_ADMIN, NULL },
	{ "POST",   "/api/mailboxes/{id}/disconnect", api_mailbox_disconnect, ROUTE_ADMIN, NULL },
	{ "POST",   "/api/mailboxes/{id}/test",       api_mailbox_test,       ROUTE_ADMIN, NULL },
	{ "PUT",    "/api/mailboxes/{id}/credential", api_mailbox_credential, ROUTE_ADMIN, NULL },
	{ "GET",    "/api/mailboxes/{id}/certificate.cer", api_mailbox_certificate, ROUTE_ADMIN, NULL },
	{ "GET",    "/api/audit-log",           api_audit_list,     ROUTE_ADMIN, NULL },
	{ "GET",    "/api/rules",               api_rule_list,      ROUTE_ADMIN, NULL },
	{ "POST",   "/api/rules",               api_rule_create,    ROUTE_ADMIN, NULL },
	{ "POST",   "/api/rules/dry-run",       api_rule_dry_run,   ROUTE_ADMIN, NULL },
	{ "GET",    "/api/rules/{id}",          api_rule_get,       ROUTE_ADMIN, NULL },
	{ "PATCH",  "/api/rules/{id}",          api_rule_update,    ROUTE_ADMIN, NULL },
	{ "DELETE", "/api/rules/{id}",          api_rule_delete,    ROUTE_ADMIN, NULL },
	{ "GET",    "/api/tickets",             api_ticket_list,    ROUTE_AGENT, NULL },
	{ "GET",    "/api/tickets/{id}",        api_ticket_get,     ROUTE_AGENT, NULL },
	{ "PATCH",  "/api/tickets/{id}",        api_ticket_update,  ROUTE_AGENT, NULL },
	{ "GET",    "/api/tickets/{id}/attachments/{aid}", api_ticket_attachment, ROUTE_AGENT, NULL },
	{ "GET",    "/api/tickets/{id}/messages", api_ticket_messages, ROUTE_AGENT, NULL },
	{ "GET",    "/api/tickets/{id}/messages/{aid}/body", api_ticket_message_body, ROUTE_AGENT, NULL },
	{ "POST",   "/api/tickets/{id}/reply",  api_ticket_reply,   ROUTE_AGENT, NULL },
	{ "POST",   "/api/tickets/{id}/notes",  api_ticket_note,    ROUTE_AGENT, NULL },
	{ "GET",    "/api/agents",              api_agent_list,     ROUTE_AGENT, NULL },
	{ "GET",    "/api/outgoing-emails",     api_outgoing_list,  ROUTE_AGENT, NULL },
	{ "POST",   "/api/outgoing-emails/{id}/retry", api_outgoing_retry, ROUTE_ADMIN, NULL },
	{ "GET",    "/api/incoming-emails",     api_incoming_list,  ROUTE_ADMIN, NULL },
	{ "GET",    "/api/incoming-emails/{id}", api_incoming_get,  ROUTE_ADMIN, NULL },
	{ "POST",   "/api/incoming-emails/{id}/reprocess", api_incoming_reprocess, ROUTE_ADMIN, NULL },
	{ "POST",   "/api/incoming-emails/{id}/retry", api_incoming_retry, ROUTE_ADMIN, NULL },
};
/* clang-format on */

#define NROUTES (sizeof routes / sizeof routes[0])

static void
print_routes(void)
{
	for (size_t i = 0; i < NROUTES; i++)
		printf("%s %s\n", routes[i].method, routes[i].pattern);
}

/* METHOD PATTERN public|agent|admin csrf|-: lib/web/web.c's authorise(). */
static void
print_access(void)
{
	for (size_t i = 0; i < NROUTES; i++)
		printf("%s %s %s %s\n", routes[i].method, routes[i].pattern,
		    web_access_name(routes[i].access),
		    web_route_csrf(&routes[i]) ? "csrf" : "-");
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--routes") == 0) {
		print_routes();
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--access") == 0) {
		print_access();
		return 0;
	}
	return web_serve("postdesk-api", routes, NROUTES, argc, argv);
}
