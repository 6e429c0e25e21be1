-- 0010: token refresh without a database lock across the call to
-- Microsoft (lib/domain/mailbox_token.c).  refresh_gen counts every change of the
-- stored refresh token (a refresh, a connection, a disconnection): a
-- refresher saves its rotated token only if the count is still the one
-- it read (compare-and-swap).  refresh_lease_until: a refresh of this
-- mailbox is under way until then; taken by a conditional UPDATE before
-- the call and cleared after it, so two processes never send the same
-- refresh token (strict rotation would refuse the second).
-- refresh_leased_at: when it was taken (a web request waits only for a
-- refresh that started less than a second ago).

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS refresh_gen         BIGINT UNSIGNED NOT NULL
        DEFAULT 0,
    ADD COLUMN IF NOT EXISTS refresh_lease_until DATETIME(3)     NULL,
    ADD COLUMN IF NOT EXISTS refresh_leased_at   DATETIME(3)     NULL;
