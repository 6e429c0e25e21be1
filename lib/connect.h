/*
 * connect: connecting a mailbox to Microsoft 365 — Authorize Application,
 * the callback, token refresh, disconnect and the connection test.
 */
#ifndef POSTDESK_CONNECT_H
#define POSTDESK_CONNECT_H

#include <stdint.h>

#include "app.h"
#include "authn.h"
#include "http.h"
#include "jsonx.h"

struct guidance;

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
/* What Test connection found: up to three checks. */
struct connect_check {
	char                   name[300];
	int                    passed;
	char                   detail[300];
	const struct guidance *guidance; /* what to do, when failed */
};

struct connect_report {
	int                  passed;
	size_t               n;
	struct connect_check checks[3];
};

int  connect_test(struct app *, struct http *, uint64_t mailbox,
     struct connect_report *, struct err *);
void connect_report_write(struct jw *, const struct connect_report *);

#endif
