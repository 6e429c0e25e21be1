-- 0011: a mailbox's attention count kept on its row, so that reading
-- mailboxes (GET /api/mailboxes, health) does not count incoming_email
-- rows: that correlated count was 40% of the list's statement.
-- attention = the mailbox's incoming_email rows that need an admin: the
-- latest attempt of a mail that was quarantined, or that failed and still
-- waits in the Inbox, with no Retry asked for.  The predicate is
-- STORE_NEEDS_ATTENTION of lib/store/store.h, which the incoming log's
-- attention filter uses (tests/integration/test_api_mailbox_attention.py
-- checks that both pick the same rows).  The triggers recount the
-- mailbox in the statement that changes one of its rows, whoever writes
-- (scanner, API, a person with a SQL client), so the count is exact when
-- the write commits.  outcome IN (...) first: a range of the
-- incoming_attention key (mailbox_id, outcome), not every row of the
-- mailbox.  Every statement may be run again (lib/domain/migrate.c).

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS attention INT UNSIGNED NOT NULL DEFAULT 0;

CREATE TRIGGER IF NOT EXISTS incoming_attention_insert
    AFTER INSERT ON incoming_email FOR EACH ROW
    IF NEW.outcome IN ('failed', 'quarantined')
        OR EXISTS (SELECT 1 FROM incoming_email o
            WHERE o.mailbox_id = NEW.mailbox_id
            AND o.graph_id = NEW.graph_id AND o.attempt < NEW.attempt) THEN
        UPDATE mailbox SET attention = (SELECT COUNT(*) FROM incoming_email e
            WHERE e.mailbox_id = mailbox.id
            AND e.outcome IN ('failed', 'quarantined') AND e.retry_requested = 0
            AND (e.outcome = 'quarantined' OR e.state = 'failed')
            AND NOT EXISTS (SELECT 1 FROM incoming_email n
                WHERE n.mailbox_id = e.mailbox_id AND n.graph_id = e.graph_id
                AND n.attempt > e.attempt))
        WHERE mailbox.id = NEW.mailbox_id; END IF;

-- A write can change the count only when the row is or was failed or
-- quarantined, or when it makes another attempt of its mail the latest
-- or no longer the latest: the triggers recount only then, so the usual
-- intake (a ticket_created row, its state and trace notes) costs nothing:
-- the test is an IF around the UPDATE, so such a write neither opens nor
-- locks the mailbox row.  The body's inner semicolon is mid-line, where
-- lib/domain/migrate.c does not split.
CREATE TRIGGER IF NOT EXISTS incoming_attention_update
    AFTER UPDATE ON incoming_email FOR EACH ROW
    IF NOT (OLD.mailbox_id <=> NEW.mailbox_id
             AND OLD.graph_id <=> NEW.graph_id
             AND OLD.attempt <=> NEW.attempt)
        OR ((OLD.outcome IN ('failed', 'quarantined')
             OR NEW.outcome IN ('failed', 'quarantined'))
            AND NOT (OLD.outcome <=> NEW.outcome
                     AND OLD.state <=> NEW.state
                     AND OLD.retry_requested <=> NEW.retry_requested)) THEN
        UPDATE mailbox SET attention = (SELECT COUNT(*) FROM incoming_email e
            WHERE e.mailbox_id = mailbox.id
            AND e.outcome IN ('failed', 'quarantined') AND e.retry_requested = 0
            AND (e.outcome = 'quarantined' OR e.state = 'failed')
            AND NOT EXISTS (SELECT 1 FROM incoming_email n
                WHERE n.mailbox_id = e.mailbox_id AND n.graph_id = e.graph_id
                AND n.attempt > e.attempt))
        WHERE mailbox.id IN (OLD.mailbox_id, NEW.mailbox_id); END IF;

CREATE TRIGGER IF NOT EXISTS incoming_attention_delete
    AFTER DELETE ON incoming_email FOR EACH ROW
    IF OLD.outcome IN ('failed', 'quarantined')
        OR EXISTS (SELECT 1 FROM incoming_email o
            WHERE o.mailbox_id = OLD.mailbox_id
            AND o.graph_id = OLD.graph_id AND o.attempt < OLD.attempt) THEN
        UPDATE mailbox SET attention = (SELECT COUNT(*) FROM incoming_email e
            WHERE e.mailbox_id = mailbox.id
            AND e.outcome IN ('failed', 'quarantined') AND e.retry_requested = 0
            AND (e.outcome = 'quarantined' OR e.state = 'failed')
            AND NOT EXISTS (SELECT 1 FROM incoming_email n
                WHERE n.mailbox_id = e.mailbox_id AND n.graph_id = e.graph_id
                AND n.attempt > e.attempt))
        WHERE mailbox.id = OLD.mailbox_id; END IF;

-- The rows written before the triggers (after them, so none is missed).
UPDATE mailbox SET attention = (SELECT COUNT(*) FROM incoming_email e
    WHERE e.mailbox_id = mailbox.id
    AND e.outcome IN ('failed', 'quarantined') AND e.retry_requested = 0
    AND (e.outcome = 'quarantined' OR e.state = 'failed')
    AND NOT EXISTS (SELECT 1 FROM incoming_email n
        WHERE n.mailbox_id = e.mailbox_id AND n.graph_id = e.graph_id
        AND n.attempt > e.attempt));
