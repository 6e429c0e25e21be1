/*
 * mailbox_token: a mailbox's access token, refreshed when due — the one way the
 * scanner, the sender and the connection test get a token.
 */
#ifndef POSTDESK_REFRESH_H
#define POSTDESK_REFRESH_H

#include <stdint.h>

#include "adapt/app.h"
#include "adapt/http.h"

int mailbox_token_access(struct app *, struct http *, uint64_t mailbox,
    const char *stale, char **token, struct err *);

#endif
