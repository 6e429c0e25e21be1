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


def test_health_ok(anon):
    r = anon.get("/api/health")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"status": "ok", "database": "ok"}


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
    assert wait_health(anon, 200).json() == {"status": "ok", "database": "ok"}
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
