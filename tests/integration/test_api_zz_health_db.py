"""Health, and the API while the database is down.

The test that stops MariaDB is marked stops_db (run after every other test,
see conftest.py; the file name sorts last too) and starts it again even
when it fails.
"""
import time

import pytest


def wait_health(anon, status, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        r = anon.get("/api/health")
        if r.status_code == status:
            return r
        assert time.monotonic() < deadline, (r.status_code, r.text)
        time.sleep(0.1)


OK = {"status": "ok", "database": "ok", "stale_mailboxes": []}


def freshen(stack):
    """Mailboxes other tests connected count as scanned just now."""
    stack.sql("UPDATE mailbox SET last_success_at = UTC_TIMESTAMP() "
              "WHERE status = 'connected'")


def test_health_ok(stack, anon):
    freshen(stack)
    r = anon.get("/api/health")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == OK


def test_health_503_names_a_mailbox_not_scanned_for_5_minutes(stack, anon, admin_key, pd):
    freshen(stack)
    mid = admin_key.post("/api/mailboxes", json=pd.mailbox_input()).json()["id"]
    name = admin_key.get("/api/mailboxes/%d" % mid).json()["name"]
    try:
        stack.sql("UPDATE mailbox SET status = 'connected', connected_at = "
                  "UTC_TIMESTAMP() - INTERVAL 4 MINUTE WHERE id = %d" % mid)
        assert anon.get("/api/health").json() == OK  # 4 minutes: still fine
        stack.sql("UPDATE mailbox SET connected_at = UTC_TIMESTAMP() - "
                  "INTERVAL 6 MINUTE, last_error = 'Scan failed: 403 "
                  "ErrorAccessDenied' WHERE id = %d" % mid)
        p = pd.check_problem(anon.get("/api/health"), 503)
        assert p["database"] == "ok"
        assert p["stale_mailboxes"] == [{"id": mid, "name": name, "minutes_since_success": 6,
                                         "last_error": "Scan failed: 403 ErrorAccessDenied"}]
        assert name in p["detail"] and "ErrorAccessDenied" in p["detail"]
        stack.sql("UPDATE mailbox SET last_success_at = UTC_TIMESTAMP() "
                  "WHERE id = %d" % mid)
        assert anon.get("/api/health").json() == OK
    finally:
        stack.sql("UPDATE mailbox SET status = 'not_connected' WHERE id = %d" % mid)


@pytest.mark.stops_db
def test_database_down_is_503_then_recovers(stack, anon, admin_key, pd):
    assert admin_key.get("/api/mailboxes").status_code == 200
    stack.stop_db()
    try:
        # Every worker must notice: ask more times than there are workers.
        for _ in range(6):
            p = pd.check_problem(anon.get("/api/health"), 503)
            assert p["type"] == "urn:postdesk:problem:unavailable"
            assert p["database"] == "unreachable"
            assert "database" in p["detail"].lower()
        for _ in range(6):
            pd.check_problem(admin_key.get("/api/mailboxes"), 503)
        pd.check_problem(admin_key.post("/api/mailboxes", json=pd.mailbox_input()), 503)
    finally:
        stack.start_db()
    freshen(stack)
    assert wait_health(anon, 200).json() == OK
    # Each worker reconnects on its own.
    for _ in range(8):
        assert admin_key.get("/api/mailboxes").status_code == 200
        assert anon.get("/api/health").status_code == 200
    r = admin_key.post("/api/mailboxes", json=pd.mailbox_input())
    assert r.status_code == 201, r.text


@pytest.mark.stops_db
def test_no_sanitizer_reports_in_the_logs(stack, pd):
    """Runs after everything else: the programs are built with ASan+UBSan
    and their stderr goes to the logs."""
    logs = pd.text_of(stack.logs())
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        assert marker not in logs
