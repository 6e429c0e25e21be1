/*
 * autoreply: is a message automatic (an auto-reply, a bounce, a list mail, or
 * mail from one of our own mailboxes)?  Automatic mail is never
 * acknowledged, which is what stops mail loops.  Pure.
 */
#ifndef POSTDESK_LOOP_H
#define POSTDESK_LOOP_H

#include <stddef.h>

#include "base/buf.h"
#include "mail/msg.h"

/* incoming_email.automatic is a VARCHAR(100) */
#define LOOP_REASON_MAX 100

int autoreply_is_automatic(const struct msg *, const char *const *own,
    size_t nown, struct buf *reason);

#endif
