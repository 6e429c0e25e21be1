/*
 * fuzz_rules: libFuzzer target for the email rules (lib/domain/rules.c,
 * lib/domain/rules_json.c) — hostile rule JSON as the API takes it and as the
 * email_rule columns hold it, then every valid rule run on a hostile
 * message (Graph JSON through msg_parse, NULs allowed).  Whatever they
 * hold: validation never crashes or leaks; a valid rule stored and read
 * back (rules_to_row / rules_from_row) is the same rule; the verdict's
 * priority is one of the four words or "", its category at most 100
 * bytes; the trace is UTF-8; no pattern makes glob matching slow (the
 * -timeout of scripts/fuzz.sh).
 *
 * Input: {"rules": [API rule objects], "stored": [[conditions text,
 * actions text], ...]}, a NUL, then the Graph message JSON.  The
 * database of lib/domain/rules.c (rules_load) is never reached: stubs below.
 * Seeds: tests/fuzz/corpus/rules.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mail/msg.h"
#include "domain/rules.h"
#include "store/store.h"

#define MAX_RULES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
store_rule_list(struct db *db, int enabled_only, struct email_rule **rows,
    size_t *n, struct err *err)
{
	(void)db, (void)enabled_only, (void)rows, (void)n, (void)err;
	abort();
}

void
store_rule_free(struct email_rule *rows, size_t n)
{
	(void)rows, (void)n;
	abort();
}

static void
check_utf8(const char *s)
{
	json_t *j = json_string(s);

	if (j == NULL)
		abort();
	json_decref(j);
}

/* Stored and read back, r is the same rule. */
static void
check_row(const struct rule *r)
{
	struct email_rule row;
	struct rule       back;
	struct err        err;
	json_t           *a, *b;

	if (rules_to_row(r, &row, &err) == -1)
		abort();
	if (rules_from_row(&row, &back, &err) == -1)
		abort();
	a = rules_to_json(r);
	b = rules_to_json(&back);
	if (a == NULL || b == NULL || !json_equal(a, b))
		abort();
	json_decref(a);
	json_decref(b);
	rules_cleanup(&back);
	free(row.conditions);
	free(row.actions);
}

/* Parse the API rule objects and stored columns of doc into rules. */
static size_t
load(json_t *doc, struct rule *rules)
{
	json_t *v, *errors;
	size_t  n = 0, i;

	json_array_foreach (json_object_get(doc, "rules"), i, v) {
		if (n == MAX_RULES)
			break;
		errors = json_array();
		rules_defaults(&rules[n]);
		if (rules_parse_json(v, 1, &rules[n], errors) !=
		    (int)json_array_size(errors))
			abort();
		if (json_array_size(errors) == 0) {
			rules[n].id = n + 1;
			check_row(&rules[n]);
			n++;
		} else {
			rules_cleanup(&rules[n]);
		}
		json_decref(errors);
	}
	json_array_foreach (json_object_get(doc, "stored"), i, v) {
		const char *c = json_string_value(json_array_get(v, 0));
		const char *a = json_string_value(json_array_get(v, 1));
		struct err  err;

		if (n == MAX_RULES || c == NULL || a == NULL)
			break;
		rules_defaults(&rules[n]);
		rules[n].id = n + 1;
		rules[n].name = strdup("stored");
		if (rules_parse_text(c, a, &rules[n], &err) == 0) {
			check_row(&rules[n]);
			n++;
		} else {
			check_utf8(err.msg);
			rules_cleanup(&rules[n]);
		}
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prio[] = { "", "low", "normal", "high",
		"urgent" };
	struct fuzz_fields       ff;
	struct rule              rules[MAX_RULES];
	struct rules_verdict     vd;
	struct msg               m;
	struct err               err;
	struct buf               trace;
	json_t                  *doc, *mj;
	size_t                   n = 0;
	int                      ok = 0;

	fuzz_fields(&ff, data, size, 2);
	doc = json_loads(ff.f[0], 0, NULL);
	mj = json_loadb(ff.f[1], ff.len[1], JSON_ALLOW_NUL, NULL);
	if (doc != NULL)
		n = load(doc, rules);
	if (msg_parse(mj, &m, &err) == 0) {
		buf_init(&trace, 256);
		rules_apply(rules, n, 1, &m, &vd, &trace);
		check_utf8(trace.data);
		for (size_t i = 0; i < 5; i++)
			ok = ok || strcmp(vd.priority, prio[i]) == 0;
		if (!ok || strlen(vd.category) > 100)
			abort();
		check_utf8(vd.category);
		buf_reset(&trace);
		rules_describe(&vd, &trace);
		check_utf8(trace.data);
		buf_cleanup(&trace);
	}
	msg_cleanup(&m);
	for (size_t i = 0; i < n; i++)
		rules_cleanup(&rules[i]);
	json_decref(doc);
	json_decref(mj);
	fuzz_fields_free(&ff);
	return 0;
}
