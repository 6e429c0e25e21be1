-- 0018: push (issue 14 item 1, docs/push.md).  One Graph change-notification
-- subscription per licensed mailbox on its Inbox's new messages.
-- client_state_sealed: the random clientState Graph echoes in every
-- notification, sealed like the client secret (lib/adapt/seal.c) and
-- compared in constant time.  state: none (not yet made), active, renew
-- (Graph asked to reauthorize: renew at the next visit), recreate (Graph
-- removed it: make another, polling meanwhile), failed (last_error says
-- why; tried again after retry_at), off (push off or not possible).
-- mailbox.push_kick: a notification came while the mailbox was being
-- visited, so the visit's end makes it due again at once rather than a
-- poll interval later (lib/store/mailbox_scan.c).
-- Every statement may be run again (lib/domain/migrate.c).

CREATE TABLE IF NOT EXISTS graph_subscription (
    mailbox_id           BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    subscription_id      VARCHAR(64)     NULL,
    client_state_sealed  VARBINARY(255)  NULL,
    state                ENUM('none', 'active', 'renew', 'recreate',
                              'failed', 'off') NOT NULL DEFAULT 'none',
    expires_at           DATETIME        NULL,
    renewed_at           DATETIME        NULL,
    retry_at             DATETIME        NULL,
    last_error           VARCHAR(500)    NULL,
    last_notification_at DATETIME(3)     NULL,
    notifications        BIGINT UNSIGNED NOT NULL DEFAULT 0,
    missed               BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created_at           DATETIME        NULL,
    UNIQUE KEY graph_subscription_id (subscription_id),
    CONSTRAINT graph_subscription_mailbox FOREIGN KEY (mailbox_id)
        REFERENCES mailbox (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS push_kick TINYINT(1) NOT NULL DEFAULT 0;
