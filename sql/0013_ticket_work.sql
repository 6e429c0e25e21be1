-- 0013: working a ticket (issue 12) — an assignee, whether automatic mail
-- opened it, actions for priority, category and assignment changes (notes
-- exist since 0003), each mailbox's choice of what automatic mail becomes,
-- and the outcome of automatic mail that only the log keeps.  Every
-- statement may be run again (lib/domain/migrate.c).

ALTER TABLE ticket
    ADD COLUMN IF NOT EXISTS assignee_id BIGINT UNSIGNED NULL,
    ADD COLUMN IF NOT EXISTS automatic   TINYINT(1) NOT NULL DEFAULT 0,
    ADD KEY IF NOT EXISTS ticket_assignee (assignee_id, updated_at),
    ADD KEY IF NOT EXISTS ticket_automatic (automatic, updated_at);

-- An agent who leaves is disabled, not deleted; a deleted one unassigns.
ALTER TABLE ticket
    ADD FOREIGN KEY IF NOT EXISTS ticket_assignee_fk (assignee_id)
        REFERENCES agent (id) ON DELETE SET NULL;

-- Tickets opened before this migration: automatic when the mail that
-- created them was (incoming_email.automatic says why).
UPDATE ticket t SET automatic = 1 WHERE automatic = 0 AND EXISTS (
    SELECT 1 FROM incoming_email e WHERE e.ticket_id = t.id
    AND e.outcome = 'ticket_created' AND e.automatic IS NOT NULL);

ALTER TABLE ticket_action
    MODIFY COLUMN kind ENUM('email_in', 'email_out', 'note', 'status',
                            'priority', 'category', 'assignment') NOT NULL;

-- 'ticket': automatic mail opens a ticket marked automatic (as before);
-- 'log_only': it is only logged, outcome 'logged_automatic'.
ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS automatic_mail ENUM('ticket', 'log_only')
        NOT NULL DEFAULT 'ticket';

ALTER TABLE incoming_email
    MODIFY COLUMN outcome ENUM('ticket_created', 'ticket_updated',
                               'ignored_by_rule', 'suppressed_loop',
                               'rejected', 'error', 'failed',
                               'quarantined', 'logged_automatic') NOT NULL;

-- The incoming log reads each mail's acknowledgement from the queue.
ALTER TABLE outgoing_email
    ADD KEY IF NOT EXISTS outgoing_incoming (incoming_email_id);
