-- 0001: agents, sessions, login attempts, API keys, mailboxes, audit log.
-- Times are UTC (every connection sets time_zone = '+00:00').

CREATE TABLE IF NOT EXISTS agent (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username      VARCHAR(64)  NOT NULL,
    display_name  VARCHAR(100) NOT NULL,
    role          ENUM('admin', 'agent') NOT NULL,
    password_hash VARCHAR(128) NOT NULL,
    disabled      TINYINT(1)   NOT NULL DEFAULT 0,
    created_at    DATETIME     NOT NULL,
    updated_at    DATETIME     NOT NULL,
    UNIQUE KEY agent_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS session (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_hash   BINARY(32)   NOT NULL,
    agent_id     BIGINT UNSIGNED NOT NULL,
    csrf_token   CHAR(43)     NOT NULL,
    created_at   DATETIME     NOT NULL,
    last_seen_at DATETIME     NOT NULL,
    expires_at   DATETIME     NOT NULL,
    remote_addr  VARCHAR(45)  NULL,
    UNIQUE KEY session_token (token_hash),
    KEY session_agent (agent_id),
    CONSTRAINT session_agent_fk FOREIGN KEY (agent_id) REFERENCES agent (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS login_attempt (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username    VARCHAR(64)  NOT NULL,
    remote_addr VARCHAR(45)  NOT NULL,
    ok          TINYINT(1)   NOT NULL,
    at          DATETIME     NOT NULL,
    KEY login_attempt_user (username, at),
    KEY login_attempt_addr (remote_addr, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS api_key (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name         VARCHAR(100) NOT NULL,
    role         ENUM('admin', 'agent') NOT NULL,
    prefix       VARCHAR(16)  NOT NULL,
    key_hash     BINARY(32)   NOT NULL,
    created_at   DATETIME     NOT NULL,
    last_used_at DATETIME     NULL,
    revoked_at   DATETIME     NULL,
    UNIQUE KEY api_key_hash (key_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS mailbox (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name              VARCHAR(100) NOT NULL,
    type              ENUM('office365') NOT NULL DEFAULT 'office365',
    client_id         CHAR(36)     NOT NULL,
    tenant_id         VARCHAR(253) NOT NULL,
    secret_sealed     VARBINARY(600) NOT NULL,
    secret_last4      VARCHAR(4)   NOT NULL,
    secret_expires_on DATE         NULL,
    shared_address    VARCHAR(254) NULL,
    cloud             ENUM('global', 'usgov_l4', 'usgov_l5', 'china')
                      NOT NULL DEFAULT 'global',
    processed_action  ENUM('move_to_deleted_items', 'move_to_folder',
                           'mark_read') NOT NULL DEFAULT 'move_to_deleted_items',
    processed_folder  VARCHAR(255) NULL,
    first_scan        ENUM('new_only', 'all') NOT NULL DEFAULT 'new_only',
    ack_enabled       TINYINT(1)   NOT NULL DEFAULT 1,
    status            ENUM('not_connected', 'connected', 'error',
                           'needs_reauth', 'disconnected')
                      NOT NULL DEFAULT 'not_connected',
    created_at        DATETIME     NOT NULL,
    updated_at        DATETIME     NOT NULL,
    UNIQUE KEY mailbox_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS audit_log (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at          DATETIME     NOT NULL,
    actor_type  ENUM('agent', 'api_key', 'cli', 'system') NOT NULL,
    actor_id    BIGINT UNSIGNED NULL,
    actor_name  VARCHAR(100) NOT NULL,
    action      VARCHAR(64)  NOT NULL,
    target_type VARCHAR(32)  NULL,
    target_id   BIGINT UNSIGNED NULL,
    detail      TEXT         NULL,
    request_id  VARCHAR(40)  NULL,
    KEY audit_log_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
