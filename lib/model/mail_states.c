/*
 * mail_states: one name table per enum of lib/model/mail_states.h.  A _parse
 * returns 0, or -1 for a string that is not one of the names (the value
 * is then left alone).
 */
#include "model/mail_states.h"
#include "model/enum_name.h"

static const char *const OUTCOME_NAMES[] = {
	[OUTCOME_TICKET_CREATED] = "ticket_created",
	[OUTCOME_TICKET_UPDATED] = "ticket_updated",
	[OUTCOME_IGNORED_BY_RULE] = "ignored_by_rule",
	[OUTCOME_SUPPRESSED_LOOP] = "suppressed_loop",
	[OUTCOME_REJECTED] = "rejected",
	[OUTCOME_ERROR] = "error",
	[OUTCOME_FAILED] = "failed",
	[OUTCOME_QUARANTINED] = "quarantined",
	[OUTCOME_LOGGED_AUTOMATIC] = "logged_automatic",
};
_Static_assert(ENUM_COUNT(OUTCOME_NAMES) == OUTCOME_COUNT, "outcome names");

static const char *const INCOMING_STATE_NAMES[] = {
	[INCOMING_STORED] = "stored",
	[INCOMING_DONE] = "done",
	[INCOMING_ACTION_FAILED] = "action_failed",
	[INCOMING_FAILED] = "failed",
};
_Static_assert(ENUM_COUNT(INCOMING_STATE_NAMES) == INCOMING_STATE_COUNT,
    "incoming state names");

static const char *const OUTGOING_STATUS_NAMES[] = {
	[OUTGOING_QUEUED] = "queued",
	[OUTGOING_SENDING] = "sending",
	[OUTGOING_SENT] = "sent",
	[OUTGOING_FAILED] = "failed",
	[OUTGOING_HELD] = "held",
};
_Static_assert(ENUM_COUNT(OUTGOING_STATUS_NAMES) == OUTGOING_STATUS_COUNT,
    "outgoing status names");

static const char *const OUTGOING_KIND_NAMES[] = {
	[OUTGOING_ACK] = "ack",
	[OUTGOING_REPLY] = "reply",
};
_Static_assert(ENUM_COUNT(OUTGOING_KIND_NAMES) == OUTGOING_KIND_COUNT,
    "outgoing kind names");

/* The name of value v of a table, "" for a value out of range. */
static const char *
name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n ? names[v] : "";
}

const char *
incoming_outcome_name(enum incoming_outcome v)
{
	return name_of(OUTCOME_NAMES, OUTCOME_COUNT, (unsigned)v);
}

int
incoming_outcome_parse(const char *s, enum incoming_outcome *v)
{
	int i = enum_index(OUTCOME_NAMES, OUTCOME_COUNT, s);

	if (i >= 0)
		*v = (enum incoming_outcome)i;
	return i >= 0 ? 0 : -1;
}

const char *
incoming_state_name(enum incoming_state v)
{
	return name_of(INCOMING_STATE_NAMES, INCOMING_STATE_COUNT, (unsigned)v);
}

int
incoming_state_parse(const char *s, enum incoming_state *v)
{
	int i = enum_index(INCOMING_STATE_NAMES, INCOMING_STATE_COUNT, s);

	if (i >= 0)
		*v = (enum incoming_state)i;
	return i >= 0 ? 0 : -1;
}

const char *
outgoing_status_name(enum outgoing_status v)
{
	return name_of(OUTGOING_STATUS_NAMES, OUTGOING_STATUS_COUNT,
	    (unsigned)v);
}

int
outgoing_status_parse(const char *s, enum outgoing_status *v)
{
	int i = enum_index(OUTGOING_STATUS_NAMES, OUTGOING_STATUS_COUNT, s);

	if (i >= 0)
		*v = (enum outgoing_status)i;
	return i >= 0 ? 0 : -1;
}

const char *
outgoing_kind_name(enum outgoing_kind v)
{
	return name_of(OUTGOING_KIND_NAMES, OUTGOING_KIND_COUNT, (unsigned)v);
}

int
outgoing_kind_parse(const char *s, enum outgoing_kind *v)
{
	int i = enum_index(OUTGOING_KIND_NAMES, OUTGOING_KIND_COUNT, s);

	if (i >= 0)
		*v = (enum outgoing_kind)i;
	return i >= 0 ? 0 : -1;
}
