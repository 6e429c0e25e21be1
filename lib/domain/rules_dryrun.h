/*
 * rules_dryrun: POST /api/rules/dry-run's engine — the last incoming
 * emails replayed through a rule set (the stored, enabled rules, or rules
 * an admin is editing), saying what each would become.  Changes nothing.
 */
#ifndef POSTDESK_RULE_DRYRUN_H
#define POSTDESK_RULE_DRYRUN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "adapt/db.h"
#include "base/err.h"
#include "domain/rules.h"

#define DRY_RUN_MAILS 100
#define DRY_RUN_RULES 200

/* A rule set to try; ids from synthetic on were made up for rules given
 * without one (the answer shows null for them). */
struct dry_run {
	struct rule *rs;
	size_t       n;
	uint64_t     synthetic;
};

int  rule_dryrun_parse(json_t *in, struct dry_run *, json_t *errors);
int  rule_dryrun_stored(struct db *, struct dry_run *, struct err *);
int  rule_dryrun_answer(struct db *, const struct dry_run *, struct buf *,
     struct err *);
void rule_dryrun_free(struct dry_run *);

#endif
