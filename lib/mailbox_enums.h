/*
 * mailbox_enums: settings of a mailbox row that more than the mailbox
 * module reads.  processed_action (sql/0001_core.sql) is what the scanner
 * does with a mail once it is taken in (lib/ingest_act.c).
 */
#ifndef POSTDESK_MAILBOX_ENUMS_H
#define POSTDESK_MAILBOX_ENUMS_H

enum processed_action {
	PROCESSED_MOVE_TO_DELETED_ITEMS,
	PROCESSED_MOVE_TO_FOLDER, /* mailbox.processed_folder */
	PROCESSED_MARK_READ,      /* stays in the Inbox, marked read */
	PROCESSED_ACTION_COUNT
};

const char *processed_action_name(enum processed_action);
int         processed_action_parse(const char *, enum processed_action *);

#endif
