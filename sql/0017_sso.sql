-- 0017: agents sign in with Microsoft (issue 14, docs/sso.md) — an agent's
-- Microsoft object id, the one row of sign-in settings, and the single-use
-- states of sign-ins under way.  Every statement may be run again
-- (lib/domain/migrate.c).

-- The object id (oid) of the Microsoft account an agent signs in with:
-- one account per agent, one agent per account.
ALTER TABLE agent
    ADD COLUMN IF NOT EXISTS ms_oid VARCHAR(64) CHARACTER SET ascii NULL,
    ADD UNIQUE KEY IF NOT EXISTS agent_ms_oid (ms_oid);

-- The app registration sign-in uses: a mailbox's (mailbox_id), or its own
-- client id, tenant and sealed secret.  require_microsoft refuses password
-- sign-in to everyone but break_glass_agent_id.
CREATE TABLE IF NOT EXISTS sso_settings (
    id                   TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    enabled              TINYINT(1) NOT NULL DEFAULT 0,
    mailbox_id           BIGINT UNSIGNED NULL,
    tenant_id            VARCHAR(64)  CHARACTER SET ascii NOT NULL DEFAULT '',
    client_id            VARCHAR(64)  CHARACTER SET ascii NOT NULL DEFAULT '',
    secret_sealed        VARBINARY(1024) NULL,
    allow_address_match  TINYINT(1) NOT NULL DEFAULT 0,
    require_microsoft    TINYINT(1) NOT NULL DEFAULT 0,
    break_glass_agent_id BIGINT UNSIGNED NULL,
    version              BIGINT UNSIGNED NOT NULL DEFAULT 1,
    updated_at           DATETIME NULL,
    CONSTRAINT sso_settings_mailbox_fk FOREIGN KEY (mailbox_id)
        REFERENCES mailbox (id) ON DELETE SET NULL,
    CONSTRAINT sso_settings_agent_fk FOREIGN KEY (break_glass_agent_id)
        REFERENCES agent (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO sso_settings (id) VALUES (1);

-- A sign-in under way: its state (hashed), the browser that started it
-- (the hash of a cookie of its own), the nonce and the sealed PKCE
-- verifier; 10 minutes, used once.
CREATE TABLE IF NOT EXISTS sso_login_state (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    state_hash      BINARY(32) NOT NULL,
    browser_hash    BINARY(32) NOT NULL,
    nonce           CHAR(43) CHARACTER SET ascii NOT NULL,
    verifier_sealed VARBINARY(255) NOT NULL,
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,
    used_at         DATETIME NULL,
    UNIQUE KEY sso_login_state_hash (state_hash),
    KEY sso_login_state_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
