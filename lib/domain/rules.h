/*
 * rules: ordered email rules, per mailbox or for all, run on every
 * incoming message before anything is created.  Conditions on from, to,
 * cc, subject, body or a header (contains, equals, ends_with, glob; case
 * insensitive), combined with all/any; actions: ignore (bin the mail — it
 * is still logged and moved), set priority / category on the new ticket,
 * don't acknowledge, stop (no later rule runs).
 *
 * JSON shapes (API and the email_rule.conditions / .actions columns):
 *   conditions: [{"field": "from|to|cc|subject|body|header",
 *                 "header": "X-Name" (only with field header),
 *                 "op": "contains|equals|ends_with|glob", "value": "..."}]
 *   actions:    {"ignore": bool, "priority": "low|normal|high|urgent"|null,
 *                "category": "..."|null, "no_ack": bool, "stop": bool}
 *
 * Rules run in order of (position, id).  The first rule that ignores a
 * message ends the evaluation (the mail is binned, nothing later
 * matters); otherwise every matching rule applies its actions in turn (a
 * later priority or category replaces an earlier one) until one with stop.
 */
#ifndef POSTDESK_RULES_H
#define POSTDESK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "adapt/db.h"
#include "adapt/jsonx.h"
#include "mail/msg.h"

enum rule_field {
	RULE_FROM,
	RULE_TO,
	RULE_CC,
	RULE_SUBJECT,
	RULE_BODY,
	RULE_HEADER
};

enum rule_op {
	RULE_CONTAINS,
	RULE_EQUALS,
	RULE_ENDS_WITH,
	RULE_GLOB
};

struct rule_cond {
	enum rule_field field;
	enum rule_op    op;
	char           *header; /* with RULE_HEADER */
	char           *value;
};

struct rule {
	uint64_t          id;
	uint64_t          mailbox_id; /* 0: every mailbox */
	char             *name;
	int               match_all; /* 1: all conditions, 0: any */
	struct rule_cond *conds;
	size_t            nconds;
	int               ignore;
	char              priority[8]; /* "" = leave */
	char             *category;    /* NULL = leave */
	int               no_ack;
	int               stop;
	int               position; /* order: position, then id */
	int               enabled;
};

/* What the rules decided for one message. */
struct rules_verdict {
	uint64_t rule_id; /* the rule that ignored it, else the first that
	                     matched; 0 if none matched */
	int  ignore;
	char priority[8];
	char category[101];
	int  no_ack;
};

void rules_apply(const struct rule *, size_t n, uint64_t    mailbox_id,
    const struct msg *, struct rules_verdict *, struct buf *trace);
int  rules_load(struct db *, struct rule **, size_t *, struct err *);
void rules_free(struct rule *, size_t n);

/* Input validation and the representation (domain/rules_json.c). */
#define RULES_MAX_CONDS 20
#define RULES_VALUE_MAX 500

void    rules_defaults(struct rule *);
void    rules_cleanup(struct rule *);
int     rules_parse_json(json_t *in, int creating, struct rule *out,
        json_t *errors);
int     rules_parse_text(const char *conditions, const char *actions,
        struct rule *out, struct err *);
json_t *rules_conds_to_json(const struct rule *);
json_t *rules_actions_to_json(const struct rule *);
void    rules_write(struct jw *, const struct rule *);
json_t *rules_to_json(const struct rule *);
void    rules_describe(const struct rules_verdict *, struct buf *);

/* Between struct rule and its email_rule row (domain/rules.c). */
struct email_rule;
int rules_from_row(const struct email_rule *, struct rule *, struct err *);
int rules_to_row(const struct rule *, struct email_rule *, struct err *);

#endif
