-- 0014: the scanner's schedule in the database, see docs/scaling.md,
-- "Many mailboxes in one scanner".  scan_due: when the mailbox is next to
-- be visited (NULL: at once).  A scanner worker claims the most overdue
-- connected mailbox whose lease is free with one conditional UPDATE
-- (lib/store/mailbox_scan.c; no SELECT ... FOR UPDATE, no GET_LOCK, so it
-- works on Galera too) and, when the visit ends, drops the lease and sets
-- scan_due to now + scan_interval, or to now when the Inbox has more
-- waiting than one visit takes.  So overlapping runs and scanners on
-- other hosts share the mailboxes without visiting one twice in a row.
-- Every statement may be run again (lib/domain/migrate.c).

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS scan_due DATETIME(3) NULL,
    ADD KEY IF NOT EXISTS mailbox_scan_due (status, scan_due);
