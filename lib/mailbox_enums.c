/*
 * mailbox_enums: one name table per enum of lib/mailbox_enums.h.
 */
#include "mailbox_enums.h"
#include "enum_name.h"

static const char *const PROCESSED_ACTION_NAMES[] = {
	[PROCESSED_MOVE_TO_DELETED_ITEMS] = "move_to_deleted_items",
	[PROCESSED_MOVE_TO_FOLDER] = "move_to_folder",
	[PROCESSED_MARK_READ] = "mark_read",
};
_Static_assert(ENUM_COUNT(PROCESSED_ACTION_NAMES) == PROCESSED_ACTION_COUNT,
    "processed action names");

const char *
processed_action_name(enum processed_action v)
{
	return (unsigned)v < PROCESSED_ACTION_COUNT ? PROCESSED_ACTION_NAMES[v]
	                                            : "";
}

/* 0, or -1 when s is not a processed action (*v left alone). */
int
processed_action_parse(const char *s, enum processed_action *v)
{
	int i = enum_index(PROCESSED_ACTION_NAMES, PROCESSED_ACTION_COUNT, s);

	if (i >= 0)
		*v = (enum processed_action)i;
	return i >= 0 ? 0 : -1;
}
