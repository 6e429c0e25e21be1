/*
 * threading: what in a message may tie it to an existing ticket — the ticket
 * tag in the subject and the message ids it replies to.  Pure.
 */
#ifndef POSTDESK_THREAD_H
#define POSTDESK_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "mail/msg.h"

/* Ids looked up per message: every id of a 200-reference thread, and more */
#define THREAD_MAX_REFS 500

uint64_t threading_tag(const char *subject);
void threading_tag_subject(struct buf *, uint64_t ticket, const char *subject);
size_t threading_refs(const struct msg *, char **ids, size_t max);

#endif
