-- 0002: connecting mailboxes (OAuth state, sealed tokens, connection facts,
-- the last error with its guidance).

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS account              VARCHAR(320) NULL,
    ADD COLUMN IF NOT EXISTS account_oid          VARCHAR(64)  NULL,
    ADD COLUMN IF NOT EXISTS connected_tenant     VARCHAR(64)  NULL,
    ADD COLUMN IF NOT EXISTS connected_at         DATETIME     NULL,
    ADD COLUMN IF NOT EXISTS refresh_token_sealed BLOB         NULL,
    ADD COLUMN IF NOT EXISTS access_token_sealed  BLOB         NULL,
    ADD COLUMN IF NOT EXISTS access_expires_at    DATETIME     NULL,
    ADD COLUMN IF NOT EXISTS inbox_count          INT          NULL,
    ADD COLUMN IF NOT EXISTS last_error_code      VARCHAR(64)  NULL,
    ADD COLUMN IF NOT EXISTS last_error           VARCHAR(1000) NULL,
    ADD COLUMN IF NOT EXISTS last_error_guidance  VARCHAR(1000) NULL,
    ADD COLUMN IF NOT EXISTS last_error_at        DATETIME     NULL;

CREATE TABLE IF NOT EXISTS oauth_state (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    state_hash      BINARY(32)   NOT NULL,
    mailbox_id      BIGINT UNSIGNED NOT NULL,
    session_id      BIGINT UNSIGNED NULL,
    verifier_sealed VARBINARY(255) NOT NULL,
    redirect_uri    VARCHAR(600) NOT NULL,
    created_by      VARCHAR(100) NOT NULL,
    created_at      DATETIME     NOT NULL,
    expires_at      DATETIME     NOT NULL,
    used_at         DATETIME     NULL,
    UNIQUE KEY oauth_state_hash (state_hash),
    KEY oauth_state_mailbox (mailbox_id),
    CONSTRAINT oauth_state_mailbox_fk FOREIGN KEY (mailbox_id)
        REFERENCES mailbox (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
