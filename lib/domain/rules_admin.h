/*
 * rules_admin: the email rules as admins edit them through the API —
 * list, show, create, change, delete — over the email_rule rows of
 * lib/store/rule.c.  Answers are JSON written into a buf.
 *
 * Concurrent edits (docs/ARCHITECTURE.md, "Concurrent edits"): a change
 * reads the row, applies the fields given and writes it back only if it
 * is still at the version read; when another write came first it reads
 * again (RULES_UPDATE_TRIES times, then E_CONFLICT), unless If-Match pins
 * a version: then E_CHANGED with the current one.
 */
#ifndef POSTDESK_RULES_ADMIN_H
#define POSTDESK_RULES_ADMIN_H

#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "adapt/db.h"
#include "base/err.h"

#define RULES_UPDATE_TRIES 5
#define RULES_INVALID      "Some fields need attention; see errors."

int rules_admin_list(struct db *, struct buf *, struct err *);
int rules_admin_show(struct db *, uint64_t id, struct buf *, uint64_t *version,
    struct err *);
int rules_admin_version(struct db *, uint64_t id, uint64_t *version,
    struct err *);
int rules_admin_create(struct db *, json_t *in, json_t *errors, uint64_t *id,
    struct err *);
int rules_admin_update(struct db *, uint64_t id, json_t *in,
    const char *if_match, json_t *errors, uint64_t *version, struct err *);
int rules_admin_delete(struct db *, uint64_t id, struct err *);

#endif
