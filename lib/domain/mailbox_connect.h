/*
 * mailbox_connect: connecting a mailbox to Microsoft 365 — Authorize
 * Application, the callback, token refresh, disconnect and the connection test.
 */
#ifndef POSTDESK_CONNECT_H
#define POSTDESK_CONNECT_H

#include <stdint.h>

#include "adapt/app.h"
#include "domain/authn.h"
#include "adapt/http.h"
#include "adapt/jsonx.h"

struct guidance;

enum mailbox_connect_outcome {
	MAILBOX_CONNECT_OK,
	MAILBOX_CONNECT_BAD_STATE, /* unknown, expired, reused or foreign state
	                            */
	MAILBOX_CONNECT_FAILED /* Microsoft said no; recorded on the mailbox */
};

struct mailbox_connect_callback {
	const char *state;
	const char *code;
	const char *error;
	const char *error_description;
	uint64_t    session_id; /* the browser's session, 0 if none */
};

struct mailbox_connect_result {
	enum mailbox_connect_outcome outcome;
	uint64_t mailbox_id; /* 0 when the state is unknown */
	char     account[321];
	char     message[1000];
};

int mailbox_connect_start(struct app *, const struct principal *,
    uint64_t mailbox, struct buf *url, struct err *);
int mailbox_connect_finish(struct app *, struct http *,
    const struct mailbox_connect_callback *, struct mailbox_connect_result *,
    struct err *);
/* What Test connection found: up to three checks. */
struct mailbox_connect_check {
	char                   name[300];
	int                    passed;
	char                   detail[300];
	const struct guidance *guidance; /* what to do, when failed */
};

struct mailbox_connect_report {
	int                          passed;
	size_t                       n;
	struct mailbox_connect_check checks[3];
};

int  mailbox_connect_test(struct app *, struct http *, uint64_t mailbox,
     struct mailbox_connect_report *, struct err *);
void mailbox_connect_report_write(struct jw *,
    const struct mailbox_connect_report *);

#endif
