-- 0012: what the scanner counts for GET /api/metrics (docs/metrics.md),
-- kept on the mailbox row and added to in the statement that already
-- records the end of each scan (lib/store/mailbox_scan.c), so counting
-- costs no statement of its own and every scanner host adds to the same
-- totals.  Never reset: Prometheus takes rates of them.  Every statement
-- may be run again (lib/domain/migrate.c).

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS scans_ok        BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS scans_failed    BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS scan_ms_total   BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS graph_requests  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS graph_throttled BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS graph_retries   BIGINT UNSIGNED NOT NULL DEFAULT 0;
