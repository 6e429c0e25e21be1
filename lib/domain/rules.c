/*
 * rules: running the email rules on one message, and loading them.  Pure
 * except for rules_load(); every decision is written to the trace, one
 * line per rule, so the incoming email log and the dry run can say why a
 * mail was binned or ticketed.  Letters compare case-insensitively (ASCII);
 * the text a mail carries never goes into the trace, only the rules'.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/jsonx.h"
#include "base/log.h"
#include "domain/rules.h"
#include "store/store.h"
#include "base/xmalloc.h"

static const char *const FIELD_WORDS[] = { "from", "to", "cc", "subject",
	"body", "header" };
static const char *const OP_WORDS[] = { "contains", "equals", "ends_with",
	"glob" };

/* What the conditions look at, lower-cased once per message on demand. */
struct view {
	const struct msg *m;
	char             *subject;
	char             *body;
};

static char *
lower_dup(const char *s)
{
	char *d = xstrdup(s ? s : "");

	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t
u8char(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t        n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	for (size_t i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return i;
	return n;
}

/*
 * Whole-string glob: '*' any run, '?' one character, everything else
 * itself.  Iterative with one backtrack point, so no pattern can make it
 * exponential.
 */
static int
glob_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = ++p;
			resume = s;
		} else if (*p == '?') {
			p++;
			s += u8char(s);
		} else if (*p != '\0' && *p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			resume += u8char(resume);
			s = resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Does hay (lower case) pass op with value? */
static int
op_match(enum rule_op op, const char *hay, const char *value)
{
	char  *v = lower_dup(value);
	size_t hn = strlen(hay), vn = strlen(v);
	int    ok = 0;

	switch (op) {
	case RULE_CONTAINS:
		ok = strstr(hay, v) != NULL;
		break;
	case RULE_EQUALS:
		ok = strcmp(hay, v) == 0;
		break;
	case RULE_ENDS_WITH:
		ok = hn >= vn && strcmp(hay + hn - vn, v) == 0;
		break;
	case RULE_GLOB:
		ok = glob_match(v, hay);
		break;
	}
	free(v);
	return ok;
}

static int
any_addr(const struct msg_addr *a, size_t n, const struct rule_cond *c)
{
	for (size_t i = 0; i < n; i++) {
		char *lc = lower_dup(a[i].address);
		int   ok = op_match(c->op, lc, c->value);

		free(lc);
		if (ok)
			return 1;
	}
	return 0;
}

static int
cond_match(struct view *v, const struct rule_cond *c)
{
	const char *h;
	char       *lc;
	int         ok;

	switch (c->field) {
	case RULE_FROM:
		return any_addr(&v->m->from, 1, c);
	case RULE_TO:
		return any_addr(v->m->to, v->m->nto, c);
	case RULE_CC:
		return any_addr(v->m->cc, v->m->ncc, c);
	case RULE_SUBJECT:
		if (v->subject == NULL)
			v->subject = lower_dup(v->m->subject);
		return op_match(c->op, v->subject, c->value);
	case RULE_BODY:
		if (v->body == NULL)
			v->body = lower_dup(v->m->body);
		return op_match(c->op, v->body, c->value);
	case RULE_HEADER:
		h = msg_header(v->m, c->header ? c->header : "");
		if (h == NULL)
			return 0;
		lc = lower_dup(h);
		ok = op_match(c->op, lc, c->value);
		free(lc);
		return ok;
	}
	return 0;
}

static void
cond_words(struct buf *t, const struct rule_cond *c)
{
	buf_puts(t, FIELD_WORDS[c->field]);
	if (c->field == RULE_HEADER)
		buf_printf(t, " %s", c->header ? c->header : "");
	buf_printf(t, " %s \"%s\"", OP_WORDS[c->op], c->value ? c->value : "");
}

/*
 * Evaluate r's conditions; append "matched (...)" or "no match (...)" to
 * the trace.  Returns 1 on a match.
 */
static int
rule_match(struct view *v, const struct rule *r, struct buf *t)
{
	size_t i;
	int    ok = r->match_all;

	for (i = 0; i < r->nconds; i++) {
		ok = cond_match(v, &r->conds[i]);
		if (ok != r->match_all)
			break; /* all: one failed; any: one matched */
	}
	if (r->nconds == 0)
		ok = 0;
	buf_puts(t, ok ? "matched (" : "no match (");
	if (r->match_all && ok) {
		for (size_t k = 0; k < r->nconds; k++) {
			buf_puts(t, k ? " and " : "");
			cond_words(t, &r->conds[k]);
		}
	} else if (i < r->nconds) {
		cond_words(t, &r->conds[i]); /* the deciding condition */
		buf_puts(t, ok ? "" : " failed");
	} else {
		buf_printf(t, "none of %zu conditions", r->nconds);
	}
	buf_puts(t, ")");
	return ok;
}

/* Apply r's actions to the verdict; " -> ..." in the trace. */
static void
rule_act(const struct rule *r, struct rules_verdict *vd, struct buf *t)
{
	const char *sep = " -> ";

	if (vd->rule_id == 0 || r->ignore)
		vd->rule_id = r->id;
	if (r->ignore) {
		vd->ignore = 1;
		buf_printf(t, "%signore", sep);
		sep = ", ";
	}
	if (r->priority[0]) {
		memcpy(vd->priority, r->priority, sizeof vd->priority);
		buf_printf(t, "%spriority %s", sep, r->priority);
		sep = ", ";
	}
	if (r->category != NULL) {
		snprintf(vd->category, sizeof vd->category, "%s", r->category);
		buf_printf(t, "%scategory \"%s\"", sep, r->category);
		sep = ", ";
	}
	if (r->no_ack) {
		vd->no_ack = 1;
		buf_printf(t, "%sno ack", sep);
		sep = ", ";
	}
	if (r->stop)
		buf_printf(t, "%sstop", sep);
	else if (sep[1] == '-')
		buf_puts(t, " -> no actions");
}

/* Rules in order of (position, id); caller frees the array. */
static const struct rule **
ordered(const struct rule *rules, size_t n)
{
	const struct rule **o = xcalloc(n, sizeof *o);

	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j > 0 &&
		    (o[j - 1]->position > rules[i].position ||
		        (o[j - 1]->position == rules[i].position &&
		            o[j - 1]->id > rules[i].id))) {
			o[j] = o[j - 1];
			j--;
		}
		o[j] = &rules[i];
	}
	return o;
}

/* Run one rule; returns 1 when no later rule may run. */
static int
run_rule(const struct rule *r, uint64_t mailbox_id, struct view *v,
    struct rules_verdict *vd, struct buf *t)
{
	buf_printf(t, "rule %llu \"%s\": ", (unsigned long long)r->id,
	    r->name ? r->name : "");
	if (!r->enabled) {
		buf_puts(t, "skipped (disabled)\n");
		return 0;
	}
	if (r->mailbox_id != 0 && r->mailbox_id != mailbox_id) {
		buf_printf(t, "skipped (only for mailbox %llu)\n",
		    (unsigned long long)r->mailbox_id);
		return 0;
	}
	if (!rule_match(v, r, t)) {
		buf_putc(t, '\n');
		return 0;
	}
	rule_act(r, vd, t);
	buf_putc(t, '\n');
	return r->ignore || r->stop;
}

/*
 * Run the n rules on message m received by mailbox mailbox_id and fill *vd
 * (zeroed first).  Rules of another mailbox and disabled ones are
 * skipped.  One line per rule, then the verdict, is appended to trace
 * (may be NULL).
 */
void
rules_apply(const struct rule *rules, size_t n, uint64_t mailbox_id,
    const struct msg *m, struct rules_verdict *vd, struct buf *trace)
{
	const struct rule **o = ordered(rules, n);
	struct view         v = { .m = m };
	struct buf          t;

	memset(vd, 0, sizeof *vd);
	buf_init(&t, 256);
	for (size_t i = 0; i < n; i++)
		if (run_rule(o[i], mailbox_id, &v, vd, &t))
			break;
	if (vd->rule_id == 0)
		buf_puts(&t, n ? "no rule matched -> " : "no rules -> ");
	else
		buf_puts(&t, "verdict: ");
	rules_describe(vd, &t);
	if (trace != NULL)
		buf_append(trace, t.data, t.len);
	buf_cleanup(&t);
	free(v.subject);
	free(v.body);
	free(o);
}

/*
 * Fill r (caller-owned, release with rules_cleanup(), also after failure)
 * from an email_rule row.  Returns 0, or -1 with err (E_INVALID) when the
 * row's conditions or actions are not valid.
 */
int
rules_from_row(const struct email_rule *row, struct rule *r, struct err *err)
{
	rules_defaults(r);
	r->id = row->id;
	r->mailbox_id = row->mailbox_id;
	r->name = xstrdup(row->name);
	r->position = row->position;
	r->enabled = row->enabled;
	r->match_all = strcmp(row->match, "any") != 0;
	return rules_parse_text(row->conditions, row->actions, r, err);
}

/*
 * Fill row from r for storing; row->conditions and ->actions are new JSON
 * text (release with store_rule_cleanup()).  Returns 0 or -1 (E_INTERNAL).
 */
int
rules_to_row(const struct rule *r, struct email_rule *row, struct err *err)
{
	json_t    *c = rules_conds_to_json(r), *a = rules_actions_to_json(r);
	struct buf bc, ba;
	int        rc = -1;

	memset(row, 0, sizeof *row);
	buf_init(&bc, 256);
	buf_init(&ba, 128);
	if (c == NULL || a == NULL || jsonx_dump(c, &bc) == -1 ||
	    jsonx_dump(a, &ba) == -1) {
		err_set(err, E_INTERNAL, "internal error");
		err_detail(err, "email rule %llu: cannot encode",
		    (unsigned long long)r->id);
	} else {
		row->id = r->id;
		snprintf(row->name, sizeof row->name, "%s", r->name);
		row->mailbox_id = r->mailbox_id;
		row->position = r->position;
		row->enabled = r->enabled;
		snprintf(row->match, sizeof row->match, "%s",
		    r->match_all ? "all" : "any");
		row->conditions = xstrdup(bc.data);
		row->actions = xstrdup(ba.data);
		rc = 0;
	}
	json_decref(c);
	json_decref(a);
	buf_cleanup(&bc);
	buf_cleanup(&ba);
	return rc;
}

/*
 * Load the enabled rules in order into *rules (caller frees with
 * rules_free()).  A row whose JSON is not valid is skipped with a warning
 * in the log; only a database failure fails (-1 with err).
 */
int
rules_load(struct db *db, struct rule **rules, size_t *n, struct err *err)
{
	struct email_rule *rows;
	size_t             nrows;
	struct err         bad;

	*rules = NULL;
	*n = 0;
	if (store_rule_list(db, 1, &rows, &nrows, err) == -1) {
		store_rule_free(rows, nrows);
		return -1;
	}
	*rules = xcalloc(nrows, sizeof **rules);
	for (size_t i = 0; i < nrows; i++) {
		if (rules_from_row(&rows[i], &(*rules)[*n], &bad) == 0) {
			(*n)++;
			continue;
		}
		log_warn("email rule %llu skipped: %s",
		    (unsigned long long)rows[i].id, bad.msg);
		rules_cleanup(&(*rules)[*n]);
	}
	store_rule_free(rows, nrows);
	return 0;
}

/* Free an array of n rules (from rules_load() or built by the caller). */
void
rules_free(struct rule *rules, size_t n)
{
	for (size_t i = 0; rules != NULL && i < n; i++)
		rules_cleanup(&rules[i]);
	free(rules);
}
