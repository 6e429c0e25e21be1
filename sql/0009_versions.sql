-- 0009: no lost updates.  version counts the changes to the settings of a
-- mailbox or a rule (the fields PATCH can change); the API sends it as the
-- ETag and a PATCH writes only if it is still the version it read
-- (docs/ARCHITECTURE.md "Concurrent edits").  Every statement may be run
-- again (lib/domain/migrate.c).

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS version BIGINT UNSIGNED NOT NULL DEFAULT 1;

ALTER TABLE email_rule
    ADD COLUMN IF NOT EXISTS version BIGINT UNSIGNED NOT NULL DEFAULT 1;
