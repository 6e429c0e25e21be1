/*
 * api: the handlers of postdesk-api, one file per resource.
 */
#ifndef POSTDESK_API_H
#define POSTDESK_API_H

#include "web/web.h"

struct mailbox;

/* docs/openapi.json, embedded at build time (build/gen/openapi.c). */
extern const unsigned char openapi_json[];
extern const unsigned long openapi_json_len;

int api_health(struct call *);
int api_metrics(struct call *);
int api_openapi(struct call *);
int api_push_notify(struct call *);
int api_push_lifecycle(struct call *);
int api_session_create(struct call *);
int api_session_get(struct call *);
int api_session_delete(struct call *);
int api_azure_setup(struct call *);
int api_sso_public(struct call *);
int api_sso_start(struct call *);
int api_sso_callback(struct call *);
int api_sso_settings_get(struct call *);
int api_sso_settings_update(struct call *);
int api_mailbox_list(struct call *);
int api_mailbox_list_prefetch(struct call *, const unsigned char *key_hash,
    struct err *);
int api_mailbox_answer(struct call *, int status, const struct mailbox *);
int api_mailbox_create(struct call *);
int api_mailbox_get(struct call *);
int api_mailbox_update(struct call *);
int api_mailbox_delete(struct call *);
int api_mailbox_credential(struct call *);
int api_mailbox_certificate(struct call *);
int api_audit_list(struct call *);
int api_mailbox_authorize(struct call *);
int api_mailbox_disconnect(struct call *);
int api_mailbox_test(struct call *);
int api_rule_list(struct call *);
int api_rule_create(struct call *);
int api_rule_get(struct call *);
int api_rule_update(struct call *);
int api_rule_delete(struct call *);
int api_rule_dry_run(struct call *);
int api_ticket_list(struct call *);
int api_ticket_get(struct call *);
int api_ticket_update(struct call *);
int api_ticket_attachment(struct call *);
int api_ticket_messages(struct call *);
int api_ticket_message_body(struct call *);
int api_incoming_list(struct call *);
int api_incoming_get(struct call *);
int api_incoming_reprocess(struct call *);
int api_incoming_retry(struct call *);
int api_ticket_reply(struct call *);
int api_ticket_note(struct call *);
int api_agent_list(struct call *);
int api_outgoing_list(struct call *);
int api_outgoing_retry(struct call *);

#endif
