/*
 * rules_json: email rules as JSON — validation of API input with one
 * field error per problem (like lib/domain/mailbox.c), parsing of the stored
 * conditions / actions columns with the same checks, and the
 * representation.  Owns every string of a struct rule it fills.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/jsonx.h"
#include "domain/rules.h"
#include "base/xmalloc.h"

static const char *const FIELDS[] = { "name", "mailbox_id", "position",
	"enabled", "match", "conditions", "actions", NULL };
static const char *const COND_KEYS[] = { "field", "header", "op", "value",
	NULL };
static const char *const ACTION_KEYS[] = { "ignore", "priority", "category",
	"no_ack", "stop", NULL };
static const char *const FIELD_NAMES[] = { "from", "to", "cc", "subject",
	"body", "header", NULL };
static const char *const OP_NAMES[] = { "contains", "equals", "ends_with",
	"glob", NULL };
static const char *const PRIORITIES[] = { "low", "normal", "high", "urgent",
	NULL };

/* Index of s in the NULL-terminated list, or -1. */
static int
index_of(const char *s, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return i;
	return -1;
}

/* An RFC 5322 field name: printable ASCII except the colon. */
static int
valid_header_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 200)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == ':')
			return 0;
	return 1;
}

/* Every rule starts like this: for all mailboxes, enabled, match all. */
void
rules_defaults(struct rule *r)
{
	memset(r, 0, sizeof *r);
	r->match_all = 1;
	r->enabled = 1;
}

static void
free_conds(struct rule_cond *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].header);
		free(c[i].value);
	}
	free(c);
}

/* Free what r owns and zero it; r itself is the caller's. */
void
rules_cleanup(struct rule *r)
{
	free(r->name);
	free(r->category);
	free_conds(r->conds, r->nconds);
	memset(r, 0, sizeof *r);
}

static void
cond_error(json_t *errors, size_t i, const char *key, const char *msg)
{
	char field[96];

	if (key != NULL)
		snprintf(field, sizeof field, "conditions[%zu].%.40s", i, key);
	else
		snprintf(field, sizeof field, "conditions[%zu]", i);
	jsonx_field_error(errors, field, "%s", msg);
}

static void
parse_field(json_t *in, size_t i, struct rule_cond *c, json_t *errors)
{
	const char *s = jsonx_str(in, "field");
	int         k = s ? index_of(s, FIELD_NAMES) : -1;
	json_t     *h = json_object_get(in, "header");

	if (k < 0)
		cond_error(errors, i, "field",
		    "Must be one of: from, to, cc, subject, body, header.");
	else
		c->field = (enum rule_field)k;
	if (k == RULE_HEADER) {
		s = json_string_value(h);
		if (s == NULL || !valid_header_name(s))
			cond_error(errors, i, "header",
			    "Name the header, e.g. X-Priority (1 to 200 "
			    "characters, no spaces or colon).");
		else
			c->header = xstrdup(s);
	} else if (h != NULL && !json_is_null(h)) {
		cond_error(errors, i, "header",
		    "Only a condition on field \"header\" names a header.");
	}
}

static void
parse_cond(json_t *in, size_t i, struct rule_cond *c, json_t *errors)
{
	const char *s, *key;
	json_t     *v;
	size_t      n;
	int         k;

	if (!json_is_object(in)) {
		cond_error(errors, i, NULL,
		    "Must be an object with field, op and value.");
		return;
	}
	json_object_foreach (in, key, v) {
		if (index_of(key, COND_KEYS) < 0)
			cond_error(errors, i, key, "Unknown field.");
	}
	parse_field(in, i, c, errors);
	s = jsonx_str(in, "op");
	k = s ? index_of(s, OP_NAMES) : -1;
	if (k < 0)
		cond_error(errors, i, "op",
		    "Must be one of: contains, equals, ends_with, glob.");
	else
		c->op = (enum rule_op)k;
	s = jsonx_str(in, "value");
	n = s ? jsonx_u8len(s) : 0;
	if (n == 0 || n > RULES_VALUE_MAX || jsonx_has_control(s))
		cond_error(errors, i, "value",
		    "Enter the text to look for: 1 to 500 characters on one "
		    "line.");
	else
		c->value = xstrdup(s);
}

static void
parse_conds(json_t *in, struct rule *r, json_t *errors)
{
	size_t            n = json_array_size(in), before, i;
	struct rule_cond *conds;
	json_t           *v;

	if (!json_is_array(in) || n == 0 || n > RULES_MAX_CONDS) {
		jsonx_field_error(errors, "conditions",
		    "Give 1 to 20 conditions.");
		return;
	}
	before = json_array_size(errors);
	conds = xcalloc(n, sizeof *conds);
	json_array_foreach (in, i, v) {
		parse_cond(v, i, &conds[i], errors);
	}
	if (json_array_size(errors) > before) {
		free_conds(conds, n);
		return;
	}
	free_conds(r->conds, r->nconds);
	r->conds = conds;
	r->nconds = n;
}

static int
get_bool(json_t *in, const char *key, const char *field, int *dst,
    json_t *errors)
{
	json_t *v = json_object_get(in, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		jsonx_field_error(errors, field, "Must be true or false.");
		return -1;
	}
	*dst = json_is_true(v);
	return 0;
}

static void
parse_category(json_t *v, struct rule *r, json_t *errors)
{
	const char *s = json_string_value(v);

	if (json_is_null(v) || (s != NULL && s[0] == '\0')) {
		free(r->category);
		r->category = NULL;
	} else if (s == NULL || jsonx_u8len(s) > 100 || strlen(s) > 100 ||
	    jsonx_has_control(s)) {
		jsonx_field_error(errors, "actions.category",
		    "Enter a category of up to 100 characters, or null.");
	} else {
		free(r->category);
		r->category = xstrdup(s);
	}
}

/* The actions object replaces every action (absent keys: off). */
static void
parse_actions(json_t *in, struct rule *r, json_t *errors)
{
	const char *key, *s;
	json_t     *v;
	char        field[64];

	if (!json_is_object(in)) {
		jsonx_field_error(errors, "actions",
		    "Must be an object, e.g. {\"ignore\": true}.");
		return;
	}
	json_object_foreach (in, key, v) {
		if (index_of(key, ACTION_KEYS) >= 0)
			continue;
		snprintf(field, sizeof field, "actions.%.40s", key);
		jsonx_field_error(errors, field, "Unknown action.");
	}
	r->ignore = r->no_ack = r->stop = 0;
	r->priority[0] = '\0';
	free(r->category);
	r->category = NULL;
	get_bool(in, "ignore", "actions.ignore", &r->ignore, errors);
	get_bool(in, "no_ack", "actions.no_ack", &r->no_ack, errors);
	get_bool(in, "stop", "actions.stop", &r->stop, errors);
	v = json_object_get(in, "priority");
	s = json_string_value(v);
	if (s != NULL && index_of(s, PRIORITIES) >= 0)
		snprintf(r->priority, sizeof r->priority, "%s", s);
	else if (v != NULL && !json_is_null(v))
		jsonx_field_error(errors, "actions.priority",
		    "Must be one of: low, normal, high, urgent, or null.");
	v = json_object_get(in, "category");
	if (v != NULL)
		parse_category(v, r, errors);
}

static void
parse_name(json_t *v, struct rule *r, json_t *errors)
{
	const char *s = json_string_value(v);
	size_t      n = s ? jsonx_u8len(s) : 0;

	if (n == 0 || n > 100 || jsonx_has_control(s) || s[0] == ' ' ||
	    s[strlen(s) - 1] == ' ') {
		jsonx_field_error(errors, "name",
		    "Enter a name of 1 to 100 characters, e.g. \"Bin "
		    "newsletters\".");
		return;
	}
	free(r->name);
	r->name = xstrdup(s);
}

static void
parse_scope(json_t *in, struct rule *r, json_t *errors)
{
	json_t    *v = json_object_get(in, "mailbox_id");
	json_int_t i;

	if (v != NULL) {
		i = json_integer_value(v);
		if (json_is_null(v))
			r->mailbox_id = 0;
		else if (!json_is_integer(v) || i <= 0)
			jsonx_field_error(errors, "mailbox_id",
			    "Must be a mailbox id, or null for every "
			    "mailbox.");
		else
			r->mailbox_id = (uint64_t)i;
	}
	v = json_object_get(in, "position");
	if (v != NULL) {
		i = json_integer_value(v);
		if (!json_is_integer(v) || i < 0 || i > 1000000)
			jsonx_field_error(errors, "position",
			    "Must be a whole number from 0 to 1000000.");
		else
			r->position = (int)i;
	}
}

/*
 * Apply the fields present in in to r, validating each (r holds the
 * defaults or the stored rule).  Creating requires name and conditions.
 * Whether mailbox_id names an existing mailbox is for the caller to check.
 * Returns the number of field errors added to errors (0: r is valid); r
 * stays valid for rules_cleanup() either way.
 */
int
rules_parse_json(json_t *in, int creating, struct rule *r, json_t *errors)
{
	json_t     *v;
	const char *s;

	jsonx_unknown_fields(in, FIELDS, errors);
	if (creating) {
		if (json_object_get(in, "name") == NULL)
			jsonx_field_error(errors, "name", "Required.");
		if (json_object_get(in, "conditions") == NULL)
			jsonx_field_error(errors, "conditions", "Required.");
	}
	v = json_object_get(in, "name");
	if (v != NULL)
		parse_name(v, r, errors);
	parse_scope(in, r, errors);
	get_bool(in, "enabled", "enabled", &r->enabled, errors);
	v = json_object_get(in, "match");
	if (v != NULL) {
		s = json_string_value(v);
		if (s != NULL &&
		    (strcmp(s, "all") == 0 || strcmp(s, "any") == 0))
			r->match_all = strcmp(s, "all") == 0;
		else
			jsonx_field_error(errors, "match",
			    "Must be \"all\" or \"any\".");
	}
	v = json_object_get(in, "conditions");
	if (v != NULL)
		parse_conds(v, r, errors);
	v = json_object_get(in, "actions");
	if (v != NULL)
		parse_actions(v, r, errors);
	return (int)json_array_size(errors);
}

/*
 * Fill r's conditions and actions from the JSON text of an email_rule row
 * (the other fields are the caller's).  Returns 0, or -1 with err
 * (E_INVALID, the first problem) when the text is not valid.
 */
int
rules_parse_text(const char *conditions, const char *actions, struct rule *r,
    struct err *err)
{
	json_t      *errors = json_array(), *c, *a, *e;
	json_error_t je;
	int          rc = -1;

	c = json_loads(conditions, JSON_REJECT_DUPLICATES, &je);
	a = json_loads(actions, JSON_REJECT_DUPLICATES, &je);
	if (c == NULL || a == NULL) {
		err_set(err, E_INVALID, "not JSON: %s", je.text);
		goto out;
	}
	parse_conds(c, r, errors);
	parse_actions(a, r, errors);
	e = json_array_get(errors, 0);
	if (e != NULL) {
		err_set(err, E_INVALID, "%s: %s", jsonx_str(e, "field"),
		    jsonx_str(e, "message"));
		goto out;
	}
	rc = 0;
out:
	json_decref(c);
	json_decref(a);
	json_decref(errors);
	return rc;
}

/* The conditions as stored and shown (new reference). */
json_t *
rules_conds_to_json(const struct rule *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->nconds; i++) {
		const struct rule_cond *c = &r->conds[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "field",
		    FIELD_NAMES[c->field], "op", OP_NAMES[c->op], "value",
		    c->value ? c->value : "");

		if (o != NULL && c->field == RULE_HEADER)
			json_object_set_new(o, "header",
			    json_string(c->header ? c->header : ""));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The actions as stored and shown (new reference). */
json_t *
rules_actions_to_json(const struct rule *r)
{
	return json_pack("{s:b, s:o, s:o, s:b, s:b}", "ignore", r->ignore,
	    "priority", r->priority[0] ? json_string(r->priority) : json_null(),
	    "category", r->category ? json_string(r->category) : json_null(),
	    "no_ack", r->no_ack, "stop", r->stop);
}

/*
 * The rule as the API shows it, into w: the object is left open so the
 * caller can add the row's timestamps.
 */
void
rules_write(struct jw *w, const struct rule *r)
{
	json_t *c = rules_conds_to_json(r), *a = rules_actions_to_json(r);

	jw_open(w, '{');
	jw_key(w, "id");
	jw_int(w, (long long)r->id);
	jw_key(w, "name");
	jw_str(w, r->name ? r->name : "");
	jw_key(w, "mailbox_id");
	if (r->mailbox_id != 0)
		jw_int(w, (long long)r->mailbox_id);
	else
		jw_null(w);
	jw_key(w, "position");
	jw_int(w, r->position);
	jw_key(w, "enabled");
	jw_bool(w, r->enabled);
	jw_key(w, "match");
	jw_str(w, r->match_all ? "all" : "any");
	jw_key(w, "conditions");
	jw_json(w, c);
	jw_key(w, "actions");
	jw_json(w, a);
	json_decref(c);
	json_decref(a);
}

/* rules_write() as a json_t, for tests and the fuzzer (new reference). */
json_t *
rules_to_json(const struct rule *r)
{
	struct buf b;
	struct jw  w;
	json_t    *j;

	buf_init(&b, 512);
	jw_init(&w, &b);
	rules_write(&w, r);
	jw_close(&w, '}');
	j = json_loadb(b.data, b.len, 0, NULL);
	buf_cleanup(&b);
	return j;
}

/*
 * What would happen to a mail with this verdict, in words: "ignore",
 * "create ticket", "create ticket with priority high, category Billing,
 * no acknowledgement".
 */
void
rules_describe(const struct rules_verdict *v, struct buf *b)
{
	const char *sep = " with ";

	if (v->ignore) {
		buf_puts(b, "ignore");
		return;
	}
	buf_puts(b, "create ticket");
	if (v->priority[0]) {
		buf_printf(b, "%spriority %s", sep, v->priority);
		sep = ", ";
	}
	if (v->category[0]) {
		buf_printf(b, "%scategory %s", sep, v->category);
		sep = ", ";
	}
	if (v->no_ack)
		buf_printf(b, "%sno acknowledgement", sep);
}
