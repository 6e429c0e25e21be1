-- 0019: an idle scanner visit asks with its target whether the mailbox has
-- incoming_email rows not yet done (lib/store/mailbox_scan.c, SQL_PENDING;
-- docs/scaling.md, "An idle visit"); this index answers that
-- from the mailbox's few unfinished rows instead of all its rows.
-- Every statement may be run again (lib/domain/migrate.c).

ALTER TABLE incoming_email
    ADD KEY IF NOT EXISTS incoming_unfinished (mailbox_id, state);
