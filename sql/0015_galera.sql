-- 0015: uniqueness guarded by keys, never by SELECT-then-INSERT, so it holds
-- on MariaDB Galera too, where SELECT ... FOR UPDATE locks nothing on the
-- other nodes (docs/scaling.md "MariaDB Galera").  Every other "one row per
-- cause" already has its key: incoming_email (mailbox_id, graph_id,
-- attempt), end_user (email), ticket_participant's primary key, and the
-- tickets, actions and attachments an intake writes in the transaction of
-- its incoming_email row.  The acknowledgement of an incoming email had
-- only a plain key: at most one outgoing row per incoming email (replies
-- have none: NULLs never collide).  It replaces 0013's plain key, which
-- served the same lookups.

ALTER TABLE outgoing_email
    ADD UNIQUE KEY IF NOT EXISTS outgoing_cause (incoming_email_id);

ALTER TABLE outgoing_email
    DROP KEY IF EXISTS outgoing_incoming;
