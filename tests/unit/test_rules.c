/*
 * test_rules: email rules — every field and op, all/any, glob, headers,
 * case, mailbox scope, the actions and their order, the trace, stored
 * rows with bad JSON, and validating API input.
 */
#include <stdlib.h>
#include <string.h>

#include "adapt/jsonx.h"
#include "domain/rules.h"
#include "store/store.h"
#include "base/xmalloc.h"
#include "test.h"

/* A realistic Graph message (docs/graph-contract.md 4.3). */
static const char MSG_JSON[] =
    "{\"id\": \"AAMkAGI2-1\", \"subject\": \"Your Weekly NEWSLETTER [#12]\","
    " \"body\": {\"contentType\": \"text\", \"content\": \"Hello,\\nplease "
    "find the Invoice attached.\\nRegards\"},"
    " \"from\": {\"emailAddress\": {\"name\": \"Shop News\", \"address\": "
    "\"News@Shop.Example.com\"}},"
    " \"toRecipients\": [{\"emailAddress\": {\"address\": "
    "\"help@contoso.com\"}}, {\"emailAddress\": {\"address\": "
    "\"sales@contoso.com\"}}],"
    " \"ccRecipients\": [{\"emailAddress\": {\"address\": "
    "\"boss@contoso.com\"}}],"
    " \"internetMessageHeaders\": [{\"name\": \"X-Mailer\", \"value\": "
    "\"MassMail 5.1\"}, {\"name\": \"x-mailer\", \"value\": \"second\"}, "
    "{\"name\": \"List-Id\", \"value\": \"<news.shop.example.com>\"}]}";

static struct msg m;
static json_t    *errors;

static void
load_msg(void)
{
	json_t    *o = json_loads(MSG_JSON, 0, NULL);
	struct err err;

	if (o == NULL || msg_parse(o, &m, &err) == -1) {
		printf("bad test message\n");
		exit(2);
	}
	json_decref(o);
}

/* Parse one rule from JSON text (must be valid) with id and position. */
static void
make(struct rule *r, uint64_t id, const char *text)
{
	json_t *in = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	rules_defaults(r);
	json_array_clear(errors);
	if (in == NULL || rules_parse_json(in, 1, r, errors) != 0) {
		printf("bad test rule: %s\n", text);
		if (in != NULL)
			printf("%s\n", json_dumps(errors, 0));
		exit(2);
	}
	json_decref(in);
	r->id = id;
	r->position = (int)id;
}

/* Does one condition {field, [header,] op, value} match the message? */
static int
cond(const char *field_op_value)
{
	struct rule          r;
	struct rules_verdict v;
	char                 text[1024];

	snprintf(text, sizeof text, "{\"name\": \"t\", \"conditions\": [{%s}]}",
	    field_op_value);
	make(&r, 1, text);
	rules_apply(&r, 1, 1, &m, &v, NULL);
	rules_cleanup(&r);
	return v.rule_id == 1;
}

static void
test_ops_and_fields(void)
{
	CHECK(cond("\"field\": \"subject\", \"op\": \"contains\", "
	           "\"value\": \"newsletter\""));
	CHECK(!cond("\"field\": \"subject\", \"op\": \"contains\", "
	            "\"value\": \"invoice\""));
	CHECK(cond("\"field\": \"subject\", \"op\": \"equals\", "
	           "\"value\": \"your weekly newsletter [#12]\""));
	CHECK(!cond("\"field\": \"subject\", \"op\": \"equals\", "
	            "\"value\": \"your weekly newsletter\""));
	CHECK(cond("\"field\": \"subject\", \"op\": \"ends_with\", "
	           "\"value\": \"[#12]\""));
	CHECK(!cond("\"field\": \"subject\", \"op\": \"ends_with\", "
	            "\"value\": \"weekly\""));
	CHECK(cond("\"field\": \"from\", \"op\": \"ends_with\", "
	           "\"value\": \"@SHOP.example.com\""));
	CHECK(cond("\"field\": \"from\", \"op\": \"equals\", "
	           "\"value\": \"news@shop.example.com\""));
	CHECK(!cond("\"field\": \"from\", \"op\": \"contains\", "
	            "\"value\": \"Shop News\"")); /* the address, not name */
	CHECK(cond("\"field\": \"to\", \"op\": \"equals\", "
	           "\"value\": \"sales@contoso.com\"")); /* second of two */
	CHECK(!cond("\"field\": \"to\", \"op\": \"equals\", "
	            "\"value\": \"boss@contoso.com\""));
	CHECK(cond("\"field\": \"cc\", \"op\": \"equals\", "
	           "\"value\": \"boss@contoso.com\""));
	CHECK(!cond("\"field\": \"cc\", \"op\": \"contains\", "
	            "\"value\": \"help\""));
	CHECK(cond("\"field\": \"body\", \"op\": \"contains\", "
	           "\"value\": \"INVOICE ATTACHED\""));
	CHECK(!cond("\"field\": \"body\", \"op\": \"equals\", "
	            "\"value\": \"hello\""));
}

static void
test_glob(void)
{
	CHECK(cond("\"field\": \"subject\", \"op\": \"glob\", "
	           "\"value\": \"*newsletter*\""));
	CHECK(cond("\"field\": \"subject\", \"op\": \"glob\", "
	           "\"value\": \"your weekly ?????????? [#*]\""));
	CHECK(!cond("\"field\": \"subject\", \"op\": \"glob\", "
	            "\"value\": \"newsletter*\"")); /* whole string */
	CHECK(cond("\"field\": \"from\", \"op\": \"glob\", "
	           "\"value\": \"*@*.example.com\""));
	CHECK(!cond("\"field\": \"from\", \"op\": \"glob\", "
	            "\"value\": \"*@example.com\""));
	CHECK(cond("\"field\": \"to\", \"op\": \"glob\", "
	           "\"value\": \"s?les@*\""));
	CHECK(cond("\"field\": \"body\", \"op\": \"glob\", "
	           "\"value\": \"hello*regards\""));
	/* brackets are plain characters, not fnmatch classes */
	CHECK(cond("\"field\": \"subject\", \"op\": \"glob\", "
	           "\"value\": \"*[#12]\""));
	CHECK(!cond("\"field\": \"subject\", \"op\": \"glob\", "
	            "\"value\": \"*[#1]\""));
}

static void
test_header(void)
{
	CHECK(cond("\"field\": \"header\", \"header\": \"x-MAILER\", "
	           "\"op\": \"contains\", \"value\": \"massmail\""));
	/* the first header of that name only */
	CHECK(!cond("\"field\": \"header\", \"header\": \"X-Mailer\", "
	            "\"op\": \"equals\", \"value\": \"second\""));
	CHECK(cond("\"field\": \"header\", \"header\": \"List-Id\", "
	           "\"op\": \"glob\", \"value\": \"<*.example.com>\""));
	CHECK(!cond("\"field\": \"header\", \"header\": \"X-Absent\", "
	            "\"op\": \"glob\", \"value\": \"*\""));
}

/* Apply the rules to the message for mailbox mb; returns the verdict. */
static struct rules_verdict
run(struct rule *rs, size_t n, uint64_t mb, struct buf *trace)
{
	struct rules_verdict v;

	rules_apply(rs, n, mb, &m, &v, trace);
	return v;
}

static void
test_all_any(void)
{
	struct rule          r[2];
	struct rules_verdict v;
	struct buf           t;

	make(&r[0], 1,
	    "{\"name\": \"both\", \"match\": \"all\", \"conditions\": ["
	    "{\"field\": \"subject\", \"op\": \"contains\", \"value\": "
	    "\"weekly\"}, {\"field\": \"from\", \"op\": \"contains\", "
	    "\"value\": \"nobody\"}]}");
	make(&r[1], 2,
	    "{\"name\": \"either\", \"match\": \"any\", \"conditions\": ["
	    "{\"field\": \"from\", \"op\": \"contains\", \"value\": "
	    "\"nobody\"}, {\"field\": \"subject\", \"op\": \"contains\", "
	    "\"value\": \"weekly\"}], \"actions\": {\"priority\": \"low\"}}");
	buf_init(&t, 256);
	v = run(r, 2, 1, &t);
	CHECK_INT(v.rule_id, 2);
	CHECK_STR(v.priority, "low");
	CHECK(strstr(t.data,
	          "rule 1 \"both\": no match (from contains "
	          "\"nobody\" failed)") != NULL);
	CHECK(strstr(t.data,
	          "rule 2 \"either\": matched (subject contains "
	          "\"weekly\") -> priority low") != NULL);
	buf_cleanup(&t);
	/* all with both true */
	free(r[0].conds[1].value);
	r[0].conds[1].value = xstrdup("shop");
	buf_init(&t, 256);
	v = run(r, 1, 1, &t);
	CHECK_INT(v.rule_id, 1);
	CHECK(strstr(t.data,
	          "matched (subject contains \"weekly\" and from "
	          "contains \"shop\") -> no actions") != NULL);
	buf_cleanup(&t);
	/* any with none true */
	free(r[1].conds[1].value);
	r[1].conds[1].value = xstrdup("monthly");
	buf_init(&t, 256);
	v = run(&r[1], 1, 1, &t);
	CHECK_INT(v.rule_id, 0);
	CHECK(strstr(t.data, "no match (none of 2 conditions)") != NULL);
	CHECK(strstr(t.data, "no rule matched -> create ticket") != NULL);
	buf_cleanup(&t);
	rules_cleanup(&r[0]);
	rules_cleanup(&r[1]);
}

#define SUBJ_NEWS                                                              \
	"\"conditions\": [{\"field\": \"subject\", \"op\": \"contains\", "     \
	"\"value\": \"newsletter\"}]"

static void
test_scope(void)
{
	struct rule          r;
	struct rules_verdict v;
	struct buf           t;

	make(&r, 7, "{\"name\": \"mb2\", \"mailbox_id\": 2, " SUBJ_NEWS "}");
	buf_init(&t, 128);
	v = run(&r, 1, 1, &t);
	CHECK_INT(v.rule_id, 0);
	CHECK(strstr(t.data, "rule 7 \"mb2\": skipped (only for mailbox 2)") !=
	    NULL);
	v = run(&r, 1, 2, NULL);
	CHECK_INT(v.rule_id, 7);
	r.enabled = 0;
	buf_reset(&t);
	v = run(&r, 1, 2, &t);
	CHECK_INT(v.rule_id, 0);
	CHECK(strstr(t.data, "skipped (disabled)") != NULL);
	buf_cleanup(&t);
	rules_cleanup(&r);
}

static void
test_actions_and_order(void)
{
	struct rule          r[4];
	struct rules_verdict v;
	struct buf           t;
	const char          *bin, *vip;

	make(&r[0], 10,
	    "{\"name\": \"Tag\", " SUBJ_NEWS ", \"actions\": {\"priority\": "
	    "\"high\", \"category\": \"Marketing\", \"no_ack\": true}}");
	make(&r[1], 11,
	    "{\"name\": \"Later\", " SUBJ_NEWS ", \"actions\": {\"priority\": "
	    "\"urgent\"}}");
	make(&r[2], 12,
	    "{\"name\": \"Bin newsletters\", " SUBJ_NEWS
	    ", \"actions\": {\"ignore\": true, \"stop\": true}}");
	make(&r[3], 13,
	    "{\"name\": \"Stopper\", " SUBJ_NEWS ", \"actions\": "
	    "{\"stop\": true}}");
	/* Tag, Later (overrides priority), Bin: ignore ends it. */
	buf_init(&t, 256);
	v = run(r, 3, 1, &t);
	CHECK(v.ignore);
	CHECK_INT(v.rule_id, 12);
	CHECK_STR(v.priority, "urgent");
	CHECK_STR(v.category, "Marketing");
	CHECK(v.no_ack);
	bin = strstr(t.data,
	    "rule 12 \"Bin newsletters\": matched (subject "
	    "contains \"newsletter\") -> ignore, stop\n");
	CHECK(bin != NULL);
	CHECK(strstr(t.data,
	          "-> priority high, category \"Marketing\", no "
	          "ack\n") != NULL);
	CHECK(strstr(t.data, "verdict: ignore") != NULL);
	/* Position beats array order and id: Stopper first ends it all. */
	r[3].position = 0;
	buf_reset(&t);
	v = run(r, 4, 1, &t);
	CHECK_INT(v.rule_id, 13);
	CHECK(!v.ignore && v.priority[0] == '\0' && !v.no_ack);
	CHECK(strstr(t.data, "rule 10") == NULL);
	CHECK(strstr(t.data, "-> stop\nverdict: create ticket") != NULL);
	/* Same position: the lower id first. */
	r[0].position = r[1].position = 5;
	r[3].position = 99;
	buf_reset(&t);
	v = run(r, 2, 1, &t);
	vip = strstr(t.data, "rule 10");
	CHECK(vip != NULL && strstr(t.data, "rule 11") > vip);
	CHECK_INT(v.rule_id, 10); /* the first that matched */
	CHECK_STR(v.priority, "urgent");
	buf_reset(&t);
	rules_describe(&v, &t);
	CHECK_STR(t.data,
	    "create ticket with priority urgent, category "
	    "Marketing, no acknowledgement");
	buf_cleanup(&t);
	for (size_t i = 0; i < 4; i++)
		rules_cleanup(&r[i]);
}

static void
test_no_rules_and_rows(void)
{
	struct rules_verdict v;
	struct buf           t;
	struct email_rule    row = { 0 };
	struct rule          r;
	struct err           err;

	buf_init(&t, 64);
	v = run(NULL, 0, 1, &t);
	CHECK_INT(v.rule_id, 0);
	CHECK_STR(t.data, "no rules -> create ticket");
	buf_cleanup(&t);

	row.id = 4;
	snprintf(row.name, sizeof row.name, "Stored");
	snprintf(row.match, sizeof row.match, "any");
	row.enabled = 1;
	row.conditions = xstrdup("[{\"field\": \"to\", \"op\": \"equals\", "
	                         "\"value\": \"help@contoso.com\"}]");
	row.actions = xstrdup("{\"no_ack\": true}");
	CHECK(rules_from_row(&row, &r, &err) == 0);
	CHECK(!r.match_all && r.nconds == 1 && r.no_ack && r.id == 4);
	rules_cleanup(&r);
	free(row.actions);
	row.actions = xstrdup("{\"no_ack\": tru");
	CHECK(rules_from_row(&row, &r, &err) == -1);
	CHECK_INT(err.code, E_INVALID);
	rules_cleanup(&r);
	free(row.actions);
	row.actions = xstrdup("{\"explode\": true}");
	CHECK(rules_from_row(&row, &r, &err) == -1);
	CHECK(strstr(err.msg, "actions.explode") != NULL);
	rules_cleanup(&r);
	free(row.conditions);
	row.conditions = xstrdup("[{\"field\": \"header\", \"op\": \"equals\", "
	                         "\"value\": \"x\"}]");
	free(row.actions);
	row.actions = xstrdup("{}");
	CHECK(rules_from_row(&row, &r, &err) == -1);
	rules_cleanup(&r);
	store_rule_cleanup(&row);
}

static void
test_round_trip(void)
{
	struct rule       r, back;
	struct email_rule row;
	struct err        err;
	json_t           *j;

	make(&r, 3,
	    "{\"name\": \"Hdr\", \"match\": \"any\", \"mailbox_id\": 5, "
	    "\"enabled\": false, \"conditions\": [{\"field\": \"header\", "
	    "\"header\": \"X-Spam\", \"op\": \"equals\", \"value\": \"yes\"}],"
	    " \"actions\": {\"category\": \"Spam\", \"stop\": true}}");
	CHECK(rules_to_row(&r, &row, &err) == 0);
	CHECK_STR(row.match, "any");
	CHECK(row.mailbox_id == 5 && !row.enabled);
	CHECK(rules_from_row(&row, &back, &err) == 0);
	j = rules_to_json(&back);
	CHECK_STR(jsonx_str(j, "match"), "any");
	CHECK_STR(jsonx_str(json_array_get(json_object_get(j, "conditions"), 0),
	              "header"),
	    "X-Spam");
	CHECK(json_is_null(
	    json_object_get(json_object_get(j, "actions"), "priority")));
	CHECK_STR(jsonx_str(json_object_get(j, "actions"), "category"), "Spam");
	CHECK(json_integer_value(json_object_get(j, "mailbox_id")) == 5);
	json_decref(j);
	rules_cleanup(&back);
	rules_cleanup(&r);
	store_rule_cleanup(&row);
}

/* Parse text (creating or not) into r; returns the number of errors. */
static int
parse(struct rule *r, const char *text, int creating)
{
	json_t *in = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	int     n;

	if (in == NULL) {
		printf("bad test JSON: %s\n", text);
		exit(2);
	}
	json_array_clear(errors);
	n = rules_parse_json(in, creating, r, errors);
	json_decref(in);
	return n;
}

static int
has_field(const char *field)
{
	for (size_t i = 0; i < json_array_size(errors); i++)
		if (strcmp(jsonx_str(json_array_get(errors, i), "field"),
		        field) == 0)
			return 1;
	return 0;
}

/* 21 conditions: one too many. */
static int
too_many(struct rule *r)
{
	struct buf b;
	int        n;

	buf_init(&b, 2048);
	buf_puts(&b, "{\"conditions\": [");
	for (int i = 0; i < 21; i++)
		buf_printf(&b,
		    "%s{\"field\": \"to\", \"op\": \"equals\", "
		    "\"value\": \"a%d@b.c\"}",
		    i ? ", " : "", i);
	buf_puts(&b, "]}");
	n = parse(r, b.data, 0);
	buf_cleanup(&b);
	return n;
}

static void
test_parse_errors(void)
{
	struct rule r;
	char        big[700];

	rules_defaults(&r);
	CHECK_INT(parse(&r, "{}", 1), 2);
	CHECK(has_field("name") && has_field("conditions"));
	CHECK_INT(parse(&r, "{}", 0), 0); /* PATCH: nothing required */
	CHECK(parse(&r,
	          "{\"name\": \"\", \"mailbox_id\": 0, \"position\": \"1\", "
	          "\"enabled\": 1, \"match\": \"some\", \"conditions\": [], "
	          "\"actions\": [], \"colour\": \"red\"}",
	          1) == 8);
	CHECK(has_field("name") && has_field("mailbox_id") &&
	    has_field("position") && has_field("enabled") &&
	    has_field("match") && has_field("conditions") &&
	    has_field("actions") && has_field("colour"));
	CHECK(
	    parse(&r,
	        "{\"name\": \"x\", \"conditions\": [{\"field\": \"header\", "
	        "\"op\": \"like\", \"value\": \"\"}, {\"field\": \"subject\", "
	        "\"header\": \"X\", \"op\": \"equals\", \"value\": \"a\", "
	        "\"extra\": 1}, 7, {\"field\": \"date\", \"op\": \"equals\", "
	        "\"value\": \"a\"}]}",
	        1) == 7);
	CHECK(has_field("conditions[0].header") &&
	    has_field("conditions[0].op") && has_field("conditions[0].value") &&
	    has_field("conditions[1].header") &&
	    has_field("conditions[1].extra") && has_field("conditions[2]") &&
	    has_field("conditions[3].field"));
	CHECK(r.nconds == 0); /* nothing half-applied */
	CHECK(parse(&r,
	          "{\"actions\": {\"ignore\": \"yes\", \"priority\": \"asap\", "
	          "\"category\": 5, \"no_ack\": null, \"stop\": 1, \"bcc\": "
	          "true}}",
	          0) == 6);
	CHECK(has_field("actions.ignore") && has_field("actions.priority") &&
	    has_field("actions.category") && has_field("actions.no_ack") &&
	    has_field("actions.stop") && has_field("actions.bcc"));
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	{
		char text[1024];

		snprintf(text, sizeof text,
		    "{\"conditions\": [{\"field\": \"body\", \"op\": "
		    "\"contains\", \"value\": \"%s\"}]}",
		    big);
		CHECK(parse(&r, text, 0) == 1 &&
		    has_field("conditions[0].value"));
		big[500] = '\0';
		snprintf(text, sizeof text,
		    "{\"conditions\": [{\"field\": \"body\", \"op\": "
		    "\"contains\", \"value\": \"%s\"}]}",
		    big);
		CHECK(parse(&r, text, 0) == 0 && r.nconds == 1);
	}
	CHECK(too_many(&r) == 1 && has_field("conditions"));
	CHECK(
	    parse(&r, "{\"mailbox_id\": null, \"position\": 1000001}", 0) == 1);
	CHECK(has_field("position"));
	CHECK(parse(&r,
	          "{\"name\": \"Ok\", \"mailbox_id\": 3, \"position\": "
	          "20, \"enabled\": false, \"match\": \"any\", "
	          "\"actions\": {\"priority\": \"high\", \"category\": "
	          "null}}",
	          0) == 0);
	CHECK(r.mailbox_id == 3 && r.position == 20 && !r.enabled &&
	    !r.match_all && strcmp(r.priority, "high") == 0 &&
	    r.category == NULL && strcmp(r.name, "Ok") == 0);
	rules_cleanup(&r);
}

int
main(void)
{
	errors = json_array();
	load_msg();
	test_ops_and_fields();
	test_glob();
	test_header();
	test_all_any();
	test_scope();
	test_actions_and_order();
	test_no_rules_and_rows();
	test_round_trip();
	test_parse_errors();
	msg_cleanup(&m);
	json_decref(errors);
	return TEST_DONE();
}
