"""Health, and the API while the database is down.

The test that stops MariaDB is marked stops_db (run after every other test,
see conftest.py; the file name sorts last too) and starts it again even
when it fails.
"""
import time

import pytest

from pd_helpers import freshen


def wait_health(anon, status, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        r = anon.get("/api/health")
        if r.status_code == status:
            return r
        assert time.monotonic() < deadline, (r.status_code, r.text)
        time.sleep(0.1)


COUNTS = {"health", "database", "mailboxes_watched", "mailboxes_failing", "mails_needing_attention"}


def assert_up(r):
    """200 ok, or 200 degraded when mail needs attention (other tests
    leave quarantined mail behind); the counts agree with the verdict."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert COUNTS | {"status"} <= set(body), body
    assert body["database"] == "ok" and body["mailboxes_failing"] == 0, body
    want = "degraded" if body["mails_needing_attention"] else "ok"
    assert body["status"] == body["health"] == want, body
    return body


def new_mailbox(stack, admin_key, pd, status, minutes):
    """A mailbox in status whose last success was minutes ago: (id, name)."""
    mid = admin_key.post("/api/mailboxes", json=pd.mailbox_input()).json()["id"]
    name = admin_key.get("/api/mailboxes/%d" % mid).json()["name"]
    stack.sql("UPDATE mailbox SET status = '%s', connected_at = UTC_TIMESTAMP() - INTERVAL 1 DAY, "
              "last_success_at = UTC_TIMESTAMP() - INTERVAL %d MINUTE, last_error = "
              "'Token refresh refused: AADSTS50173 for help@contoso.com in Inbox/Secret' "
              "WHERE id = %d" % (status, minutes, mid))
    return mid, name


def test_health_ok(stack, anon):
    freshen(stack)
    body = assert_up(anon.get("/api/health"))
    assert "mailboxes" not in body  # no details without credentials


def test_health_503_names_a_mailbox_not_scanned_for_5_minutes(stack, anon, admin_key, pd):
    mid, name = new_mailbox(stack, admin_key, pd, "connected", 4)
    try:
        freshen(stack, keep=[mid])
        assert_up(anon.get("/api/health"))  # 4 minutes: still fine
        stack.sql("UPDATE mailbox SET last_success_at = UTC_TIMESTAMP() - INTERVAL 6 MINUTE "
                  "WHERE id = %d" % mid)
        p = pd.check_problem(anon.get("/api/health"), 503)
        assert (p["health"], p["database"], p["mailboxes_failing"]) == ("down", "ok", 1), p
        assert "mailboxes" not in p
        p = pd.check_problem(admin_key.get("/api/health"), 503)
        mine = [m for m in p["mailboxes"] if m["id"] == mid]
        assert mine == [{"id": mid, "name": name, "status": "connected", "failing": True,
                         "reason": "not_scanned", "minutes_since_success": 6,
                         "last_error": "Token refresh refused: AADSTS50173 for "
                                       "help@contoso.com in Inbox/Secret",
                         "mails_needing_attention": 0}], p["mailboxes"]
        assert name in p["detail"] and "AADSTS50173" in p["detail"]
        stack.sql("UPDATE mailbox SET last_success_at = UTC_TIMESTAMP() WHERE id = %d" % mid)
        assert_up(anon.get("/api/health"))
    finally:
        stack.sql("UPDATE mailbox SET status = 'not_connected' WHERE id = %d" % mid)


@pytest.mark.parametrize("status", ["needs_reauth", "error"])
def test_health_503_for_a_stopped_mailbox_and_tells_strangers_only_counts(
        stack, anon, admin_key, admin_cookie, pd, status):
    """Issue 9: a mailbox left in needs_reauth 6 minutes after its last
    success kept health 200 (only status 'connected' was looked at), and
    the 503 named mailboxes, ids and error text to anyone."""
    mid, name = new_mailbox(stack, admin_key, pd, status, 6)
    try:
        freshen(stack, keep=[mid])
        r = anon.get("/api/health")
        p = pd.check_problem(r, 503)
        assert p["health"] == "down" and p["mailboxes_failing"] == 1, p
        assert p["mailboxes_watched"] >= 1
        assert set(p) == COUNTS | {"type", "title", "status", "detail", "request_id"}, p
        for secret in (name, "AADSTS50173", "contoso", "Inbox/Secret", "reauth", "(id "):
            assert secret not in r.text, (secret, r.text)
        # With credentials (an API key, a portal session): which and why.
        for who in (admin_key, admin_cookie):
            p = pd.check_problem(who.get("/api/health"), 503)
            mine = [m for m in p["mailboxes"] if m["id"] == mid]
            assert len(mine) == 1, p["mailboxes"]
            assert (mine[0]["name"], mine[0]["status"], mine[0]["failing"], mine[0]["reason"]) == \
                (name, status, True, status)
            assert "AADSTS50173" in mine[0]["last_error"]
            assert name in p["detail"]
        # Bad credentials are ignored, not refused: the answer for anyone.
        bad = pd.Client(stack, {"Authorization": "Bearer pdk_" + "A" * 43}).get("/api/health")
        assert bad.status_code == 503 and name not in bad.text
        # Recently successful, the stopped mailbox still fails health.
        stack.sql("UPDATE mailbox SET last_success_at = UTC_TIMESTAMP() WHERE id = %d" % mid)
        assert pd.check_problem(anon.get("/api/health"), 503)["mailboxes_failing"] == 1
        # Disconnected on purpose (or never connected) it does not count.
        stack.sql("UPDATE mailbox SET status = 'disconnected' WHERE id = %d" % mid)
        body = assert_up(admin_key.get("/api/health"))
        assert mid not in [m["id"] for m in body["mailboxes"]]
    finally:
        stack.sql("UPDATE mailbox SET status = 'not_connected' WHERE id = %d" % mid)


def test_quarantined_mail_makes_health_degraded(stack, anon, admin_key, pd):
    from test_api_mailbox_attention import add_row
    mid, name = new_mailbox(stack, admin_key, pd, "connected", 0)
    try:
        freshen(stack)
        before = assert_up(anon.get("/api/health"))
        add_row(stack, mid, pd.unique("graph"), 1, "quarantined", failures=5, error="kept failing")
        add_row(stack, mid, pd.unique("graph"), 1, "failed", state="failed", failures=1,
                error="once")
        r = anon.get("/api/health")
        body = assert_up(r)
        assert (body["status"], body["health"]) == ("degraded", "degraded"), body
        assert body["mails_needing_attention"] == before["mails_needing_attention"] + 2
        assert body["mailboxes_watched"] == before["mailboxes_watched"]
        assert name not in r.text and "kept failing" not in r.text
        mine = [m for m in assert_up(admin_key.get("/api/health"))["mailboxes"] if m["id"] == mid]
        assert mine == [{"id": mid, "name": name, "status": "connected", "failing": False,
                         "reason": None, "minutes_since_success": 0, "last_error": mine[0]["last_error"],
                         "mails_needing_attention": 2}], mine
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
            assert (p["database"], p["health"]) == ("unreachable", "down")
            assert "mailboxes_watched" not in p
            assert "database" in p["detail"].lower()
        for _ in range(6):
            pd.check_problem(admin_key.get("/api/mailboxes"), 503)
        pd.check_problem(admin_key.post("/api/mailboxes", json=pd.mailbox_input()), 503)
    finally:
        stack.start_db()
    freshen(stack)
    assert_up(wait_health(anon, 200))
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
