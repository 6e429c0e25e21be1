/*
 * mailbox_cred: how a mailbox's app proves itself to Microsoft — a client
 * secret or a certificate (docs/graph-contract.md section 10): choosing
 * one (PUT /api/mailboxes/{id}/credential), the certificate's .cer, and
 * the unsealed credential of one token request.
 */
#ifndef POSTDESK_MAILBOX_CRED_H
#define POSTDESK_MAILBOX_CRED_H

#include <stdint.h>

#include <jansson.h>

#include "adapt/app.h"
#include "microsoft/oauth2.h"

#define MAILBOX_CERT_DAYS 730 /* a generated certificate: two years */

int mailbox_credential_put(struct app *, uint64_t id, json_t *in,
    json_t *errors, struct err *);
int mailbox_certificate_der(struct app *, uint64_t id, struct buf *der,
    struct err *);

/* A token request's unsealed credential (wiped by _wipe()). */
struct mailbox_grant_keys {
	char *secret;
	char *key_pem;
};

struct mailbox_creds;
int  mailbox_cred_grant(struct app *, const struct mailbox_creds *,
     struct oauth2_grant *, struct mailbox_grant_keys *, struct err *);
void mailbox_grant_keys_wipe(struct mailbox_grant_keys *);

#endif
