/*
 * mail_states: the states of the mail postdesk takes in and sends, as
 * stored in incoming_email (sql/0003_scan.sql, sql/0008_isolation.sql,
 * sql/0013_ticket_work.sql)
 * and outgoing_email (sql/0006_outbox.sql).  Each enum has one name table
 * (lib/model/mail_states.c): the column's ENUM values, in the same words.
 */
#ifndef POSTDESK_MAIL_ENUMS_H
#define POSTDESK_MAIL_ENUMS_H

/* incoming_email.outcome: what a mail became. */
enum incoming_outcome {
	OUTCOME_TICKET_CREATED,
	OUTCOME_TICKET_UPDATED,
	OUTCOME_IGNORED_BY_RULE,
	OUTCOME_SUPPRESSED_LOOP,
	OUTCOME_REJECTED,
	OUTCOME_ERROR,
	OUTCOME_FAILED,           /* its intake failed: tried again */
	OUTCOME_QUARANTINED,      /* failed intake_attempts times */
	OUTCOME_LOGGED_AUTOMATIC, /* automatic mail a mailbox only logs */
	OUTCOME_COUNT
};

/* incoming_email.state: what is left to do for a mail's row. */
enum incoming_state {
	INCOMING_STORED,        /* committed; the mailbox action is to do */
	INCOMING_DONE,          /* nothing left */
	INCOMING_ACTION_FAILED, /* the mailbox action failed: again */
	INCOMING_FAILED,        /* the intake failed: again when due */
	INCOMING_STATE_COUNT
};

/* outgoing_email.status */
enum outgoing_status {
	OUTGOING_QUEUED,
	OUTGOING_SENDING, /* claimed; outcome unknown until it is settled */
	OUTGOING_SENT,
	OUTGOING_FAILED,
	OUTGOING_HELD, /* the mailbox needs reauthorising */
	OUTGOING_STATUS_COUNT
};

/* outgoing_email.kind */
enum outgoing_kind {
	OUTGOING_ACK,
	OUTGOING_REPLY,
	OUTGOING_KIND_COUNT
};

const char *incoming_outcome_name(enum incoming_outcome);
int         incoming_outcome_parse(const char *, enum incoming_outcome *);
const char *incoming_state_name(enum incoming_state);
int         incoming_state_parse(const char *, enum incoming_state *);
const char *outgoing_status_name(enum outgoing_status);
int         outgoing_status_parse(const char *, enum outgoing_status *);
const char *outgoing_kind_name(enum outgoing_kind);
int         outgoing_kind_parse(const char *, enum outgoing_kind *);

#endif
