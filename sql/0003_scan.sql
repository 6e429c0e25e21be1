-- 0003: scanning — leases and scan health on mailboxes, end users, tickets,
-- their actions and attachments, email rules, and the incoming email log
-- (the ledger that makes ingest exactly-once).

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS scan_floor       DATETIME     NULL,
    ADD COLUMN IF NOT EXISTS lease_owner      VARCHAR(100) NULL,
    ADD COLUMN IF NOT EXISTS lease_until      DATETIME(3)  NULL,
    ADD COLUMN IF NOT EXISTS last_scan_at     DATETIME     NULL,
    ADD COLUMN IF NOT EXISTS last_success_at  DATETIME     NULL,
    ADD COLUMN IF NOT EXISTS messages_waiting INT          NULL;

CREATE TABLE IF NOT EXISTS end_user (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email      VARCHAR(320) CHARACTER SET ascii NOT NULL,
    name       VARCHAR(255) NOT NULL DEFAULT '',
    created_at DATETIME     NOT NULL,
    UNIQUE KEY end_user_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS ticket (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    mailbox_id      BIGINT UNSIGNED NULL,
    end_user_id     BIGINT UNSIGNED NOT NULL,
    subject         VARCHAR(998) NOT NULL,
    status          ENUM('new', 'open', 'pending', 'resolved', 'closed')
                    NOT NULL DEFAULT 'new',
    priority        ENUM('low', 'normal', 'high', 'urgent')
                    NOT NULL DEFAULT 'normal',
    category        VARCHAR(100) NULL,
    conversation_id VARCHAR(512) CHARACTER SET ascii NULL,
    created_at      DATETIME     NOT NULL,
    updated_at      DATETIME     NOT NULL,
    KEY ticket_status (status, updated_at),
    KEY ticket_mailbox (mailbox_id),
    KEY ticket_conversation (conversation_id(191)),
    CONSTRAINT ticket_end_user_fk FOREIGN KEY (end_user_id)
        REFERENCES end_user (id),
    CONSTRAINT ticket_mailbox_fk FOREIGN KEY (mailbox_id)
        REFERENCES mailbox (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Everyone who took part in a ticket (end user, cc, agents' addresses):
-- a reply is threaded only when its sender is one of them.
CREATE TABLE IF NOT EXISTS ticket_participant (
    ticket_id BIGINT UNSIGNED NOT NULL,
    email     VARCHAR(320) CHARACTER SET ascii NOT NULL,
    PRIMARY KEY (ticket_id, email),
    CONSTRAINT ticket_participant_fk FOREIGN KEY (ticket_id)
        REFERENCES ticket (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS incoming_email (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    mailbox_id          BIGINT UNSIGNED NOT NULL,
    graph_id            VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    attempt             INT UNSIGNED NOT NULL DEFAULT 1,
    internet_message_id VARCHAR(998) CHARACTER SET ascii NULL,
    from_addr           VARCHAR(320) NULL,
    from_name           VARCHAR(255) NULL,
    to_addrs            TEXT         NULL,
    cc_addrs            TEXT         NULL,
    subject             TEXT         NULL,
    received_at         DATETIME     NULL,
    created_at          DATETIME(3)  NOT NULL,
    size                INT UNSIGNED NOT NULL,
    sha256              BINARY(32)   NOT NULL,
    source              MEDIUMTEXT   NOT NULL,
    outcome             ENUM('ticket_created', 'ticket_updated',
                             'ignored_by_rule', 'suppressed_loop',
                             'rejected', 'error') NOT NULL,
    automatic           VARCHAR(100) NULL,
    rule_id             BIGINT UNSIGNED NULL,
    ticket_id           BIGINT UNSIGNED NULL,
    trace               TEXT         NOT NULL,
    state               ENUM('stored', 'done', 'action_failed')
                        NOT NULL DEFAULT 'stored',
    UNIQUE KEY incoming_graph (mailbox_id, graph_id, attempt),
    KEY incoming_created (created_at),
    KEY incoming_msgid (internet_message_id(191)),
    KEY incoming_ticket (ticket_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS ticket_action (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ticket_id           BIGINT UNSIGNED NOT NULL,
    kind                ENUM('email_in', 'email_out', 'note', 'status')
                        NOT NULL,
    incoming_email_id   BIGINT UNSIGNED NULL,
    agent_id            BIGINT UNSIGNED NULL,
    from_addr           VARCHAR(320) NULL,
    to_addrs            TEXT         NULL,
    cc_addrs            TEXT         NULL,
    subject             TEXT         NULL,
    body                MEDIUMTEXT   NULL,
    internet_message_id VARCHAR(998) CHARACTER SET ascii NULL,
    created_at          DATETIME     NOT NULL,
    KEY ticket_action_ticket (ticket_id, id),
    KEY ticket_action_msgid (internet_message_id(191)),
    CONSTRAINT ticket_action_ticket_fk FOREIGN KEY (ticket_id)
        REFERENCES ticket (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS attachment (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ticket_action_id BIGINT UNSIGNED NOT NULL,
    name             VARCHAR(255) NOT NULL,
    content_type     VARCHAR(255) NOT NULL,
    size             INT UNSIGNED NOT NULL,
    content_id       VARCHAR(255) NULL,
    is_inline        TINYINT(1)   NOT NULL DEFAULT 0,
    content          LONGBLOB     NOT NULL,
    KEY attachment_action (ticket_action_id),
    CONSTRAINT attachment_action_fk FOREIGN KEY (ticket_action_id)
        REFERENCES ticket_action (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS email_rule (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name         VARCHAR(100) NOT NULL,
    mailbox_id   BIGINT UNSIGNED NULL,
    position     INT          NOT NULL,
    enabled      TINYINT(1)   NOT NULL DEFAULT 1,
    match_mode   ENUM('all', 'any') NOT NULL DEFAULT 'all',
    conditions   TEXT         NOT NULL,
    actions      TEXT         NOT NULL,
    created_at   DATETIME     NOT NULL,
    updated_at   DATETIME     NOT NULL,
    KEY email_rule_order (position, id),
    CONSTRAINT email_rule_mailbox_fk FOREIGN KEY (mailbox_id)
        REFERENCES mailbox (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
