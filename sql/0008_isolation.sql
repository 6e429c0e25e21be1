-- 0008: one message never stops a mailbox.  A message whose intake
-- failed keeps a row of its own (outcome 'failed', state 'failed') with
-- how often it failed, the last error and when to try again; after
-- intake_attempts failures it is quarantined (outcome 'quarantined'),
-- moved to the mailbox's quarantine folder.  retry_requested is an
-- admin's Retry: the scanner brings the mail back to the Inbox.
-- read_floor: under "mark as read", the receivedDateTime below which
-- every listed message was already processed (the ledger decides, not
-- isRead).

ALTER TABLE incoming_email
    MODIFY COLUMN outcome ENUM('ticket_created', 'ticket_updated',
                               'ignored_by_rule', 'suppressed_loop',
                               'rejected', 'error', 'failed',
                               'quarantined') NOT NULL,
    MODIFY COLUMN state ENUM('stored', 'done', 'action_failed', 'failed')
                        NOT NULL DEFAULT 'stored',
    ADD COLUMN IF NOT EXISTS failures        INT UNSIGNED  NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS error           VARCHAR(1000) NULL,
    ADD COLUMN IF NOT EXISTS next_try_at     DATETIME      NULL,
    ADD COLUMN IF NOT EXISTS retry_requested TINYINT(1)    NOT NULL DEFAULT 0,
    ADD KEY IF NOT EXISTS incoming_attention (mailbox_id, outcome);

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS quarantine_folder VARCHAR(255) NOT NULL
        DEFAULT 'Postdesk quarantine',
    ADD COLUMN IF NOT EXISTS read_floor        DATETIME     NULL;
