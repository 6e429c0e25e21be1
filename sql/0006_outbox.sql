-- 0006: sending — the outgoing queue, its attachments, acknowledgement
-- settings per mailbox, and the acknowledgement decision on each incoming
-- email (so a suppressed acknowledgement shows in the incoming email log).

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS ack_subject  VARCHAR(255) NOT NULL
        DEFAULT '[#{ticket}] {subject}',
    ADD COLUMN IF NOT EXISTS ack_body     TEXT         NULL,
    ADD COLUMN IF NOT EXISTS ack_per_hour INT          NOT NULL DEFAULT 5;

ALTER TABLE incoming_email
    ADD COLUMN IF NOT EXISTS ack VARCHAR(200) NULL;

CREATE TABLE IF NOT EXISTS outgoing_email (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    mailbox_id       BIGINT UNSIGNED NOT NULL,
    ticket_id        BIGINT UNSIGNED NULL,
    kind             ENUM('ack', 'reply') NOT NULL,
    incoming_email_id BIGINT UNSIGNED NULL,
    agent_id         BIGINT UNSIGNED NULL,
    to_addrs         TEXT         NOT NULL,
    cc_addrs         TEXT         NULL,
    subject          VARCHAR(998) NOT NULL,
    body_text        MEDIUMTEXT   NOT NULL,
    body_html        MEDIUMTEXT   NULL,
    message_id       VARCHAR(255) CHARACTER SET ascii NOT NULL,
    in_reply_to      VARCHAR(998) CHARACTER SET ascii NULL,
    references_ids   TEXT         CHARACTER SET ascii NULL,
    status           ENUM('queued', 'sending', 'sent', 'failed', 'held')
                     NOT NULL DEFAULT 'queued',
    attempts         INT UNSIGNED NOT NULL DEFAULT 0,
    next_attempt_at  DATETIME     NOT NULL,
    last_error       VARCHAR(1000) NULL,
    last_error_guidance VARCHAR(1000) NULL,
    created_at       DATETIME     NOT NULL,
    sent_at          DATETIME     NULL,
    UNIQUE KEY outgoing_message_id (message_id),
    KEY outgoing_due (mailbox_id, status, next_attempt_at),
    KEY outgoing_ticket (ticket_id),
    KEY outgoing_ack_rate (kind, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS outgoing_attachment (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    outgoing_email_id BIGINT UNSIGNED NOT NULL,
    name              VARCHAR(255) NOT NULL,
    content_type      VARCHAR(255) NOT NULL,
    content           LONGBLOB     NOT NULL,
    KEY outgoing_attachment_email (outgoing_email_id),
    CONSTRAINT outgoing_attachment_fk FOREIGN KEY (outgoing_email_id)
        REFERENCES outgoing_email (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
