/*
 * mailbox_state: a mailbox's life — the status state machine (every
 * change of status is decided here), the reauthorisation rule, and the
 * operations the API and the OAuth callback call (they never reach the
 * store themselves).
 */
#ifndef POSTDESK_MAILBOX_STATE_H
#define POSTDESK_MAILBOX_STATE_H

#include <stdint.h>

#include <jansson.h>

#include "adapt/app.h"
#include "domain/authn.h"
#include "microsoft/guidance.h"
#include "model/mailbox_types.h"

enum mailbox_event {
	MAILBOX_EV_CONNECTED,        /* a code redeemed, the Inbox opened */
	MAILBOX_EV_REFRESH_REFUSED,  /* Microsoft refused the refresh token */
	MAILBOX_EV_SETTINGS_CHANGED, /* the credentials of a connection */
	MAILBOX_EV_DISCONNECT        /* an admin pressed Disconnect */
};

int mailbox_next_status(enum mailbox_status from, enum mailbox_event);
int mailbox_needs_reauth(const struct mailbox *old, const struct mailbox *mb,
    int new_secret);

int  mailbox_get(struct app *, uint64_t id, struct mailbox *, struct err *);
int  mailbox_exists(struct app *, uint64_t id, struct err *);
int  mailbox_list(struct app *, struct mailbox **, size_t *, struct err *);
int  mailbox_list_for_key(struct app *, const unsigned char *hash,
     struct principal *, struct mailbox **, size_t *, struct err *);
int  mailbox_create(struct app *, json_t *in, uint64_t *id, json_t *errors,
     struct err *);
int  mailbox_patch(struct app *, uint64_t id, json_t *in, const char *if_match,
     uint64_t *version, json_t *errors, struct err *);
int  mailbox_delete(struct app *, uint64_t id, struct err *);
int  mailbox_credential_changed(struct app *, const struct mailbox *old,
     struct err *);
int  mailbox_disconnect(struct app *, uint64_t id, struct err *);
void mailbox_record_error(struct app *, uint64_t id, const struct guidance *,
    const char *message);

struct connection;
int mailbox_connected(struct app *, uint64_t id, const struct connection *,
    struct err *);
int mailbox_refresh_refused(struct app *, uint64_t id, uint64_t gen,
    const struct guidance *, const char *message, int *won, struct err *);

#endif
