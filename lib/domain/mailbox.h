/*
 * mailbox: the mailbox configuration as admins and tools see it — input
 * validation shared by the API and the command line, the JSON
 * representation, and what to register in Azure.
 */
#ifndef POSTDESK_MAILBOX_H
#define POSTDESK_MAILBOX_H

#include <jansson.h>

#include "base/config.h"
#include "adapt/jsonx.h"
#include "model/mailbox_types.h"

void mailbox_defaults(struct mailbox *);
int  mailbox_apply_json(struct mailbox *, json_t *in, int creating,
     char **secret, json_t *errors);
void mailbox_write(struct jw *, const struct mailbox *, const struct config *);
void mailbox_azure_setup(struct jw *, const struct config *);

#endif
