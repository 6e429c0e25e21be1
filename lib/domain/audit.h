/*
 * audit: the audit log as GET /api/audit-log shows it, newest first.
 * (Entries are written by web_audit() in lib/web/web.c.)
 */
#ifndef POSTDESK_AUDIT_H
#define POSTDESK_AUDIT_H

#include "base/buf.h"
#include "adapt/db.h"
#include "base/err.h"

#define AUDIT_LIMIT_DEFAULT 50
#define AUDIT_LIMIT_MAX     200

int audit_list(struct db *, long limit, struct buf *, struct err *);

#endif
