/*
 * connect: connecting a mailbox to Microsoft 365 — Authorize Application,
 * the callback, token refresh, disconnect and the connection test.
 */
#ifndef POSTDESK_CONNECT_H
#define POSTDESK_CONNECT_H

#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "authn.h"
#include "http.h"

enum connect_outcome {
	CONNECT_OK,
	CONNECT_BAD_STATE, /* unknown, expired, reused or foreign state */
	CONNECT_FAILED     /* Microsoft said no; recorded on the mailbox */
};

struct connect_callback {
	const char *state;
	const char *code;
	const char *error;
	const char *error_description;
	uint64_t    session_id; /* the browser's session, 0 if none */
};

struct connect_result {
	enum connect_outcome outcome;
	uint64_t             mailbox_id;
	char                 account[321];
	char                 message[1000];
};

int connect_start(struct app *, const struct principal *, uint64_t mailbox,
    struct buf *url, struct err *);
int connect_finish(struct app *, struct http *, const struct connect_callback *,
    struct connect_result *, struct err *);
int connect_disconnect(struct app *, uint64_t mailbox, struct err *);
json_t *connect_test(struct app *, struct http *, uint64_t mailbox,
    struct err *);

#endif
