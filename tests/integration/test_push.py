"""Push (issue 14 item 1, docs/push.md): Graph change notifications against
the fake's subscriptions (tests/fakes/fake_push.py).

The stack's portal_url is https://localhost:PORT, which push = auto leaves
alone (not public); the scanner runs here with POSTDESK_PUSH=on, and the
fake calls the stack's HTTPS with its certificate.
"""
import secrets
import subprocess
import time

import pytest

from pd_helpers import TenantWorld, closing_factory, connect_mailbox, keep_stderr, scan_env

PUSH_ENV = {"POSTDESK_PUSH": "on"}


class World(TenantWorld):
    def __init__(self, stack, fake, pd, admin_login, shared=False):
        super().__init__(stack, fake, pd, admin_login, prefix="p")
        self.address = "help@" + self.domain
        fake.ctl("users", {"tenant": self.tenant, "address": self.address, "display_name": "Help"})
        body = {"name": pd.unique("Push"), "client_id": self.client_id, "tenant_id": self.tenant,
                "secret": self.secret, "first_scan": "all", "ack_enabled": False}
        signer = self.address
        if shared:
            signer = "agent@" + self.domain
            fake.ctl("users", {"tenant": self.tenant, "address": signer})
            fake.ctl("shared_mailboxes", {"tenant": self.tenant, "address": "shared@" + self.domain})
            fake.ctl("delegations", {"shared": "shared@" + self.domain, "user": signer,
                                     "full_access": True, "send_as": True})
            body["shared_address"] = "shared@" + self.domain
            self.address = "shared@" + self.domain
        r = self.browser.post("/api/mailboxes", json=body)
        assert r.status_code == 201, r.text
        self.mid = r.json()["id"]
        self.mailboxes.append(self.mid)
        fake.ctl("signin", {"tenant": self.tenant, "user": signer, "mode": "approve"})
        connect_mailbox(stack, self.browser, self.mid)

    def mail(self, **kw):
        kw.setdefault("subject", "Help " + secrets.token_hex(4))
        kw.setdefault("from", "bob@example.com")
        kw.setdefault("to", [self.address])
        kw.setdefault("body_text", "Please help.")
        return self.fake.ctl("messages", dict(kw, mailbox=self.address))

    def scan(self, env=None):
        r = subprocess.run([str(self.stack.bin / "postdesk-scan"), "--once", "--mailbox", str(self.mid)],
                           env=scan_env(self.stack, dict(PUSH_ENV, **(env or {}))),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        keep_stderr(self.stack, r.stderr)
        assert r.returncode == 0, r.stderr
        return r

    def row(self):
        rows = self.stack.sql("SELECT COALESCE(subscription_id, ''), state, COALESCE(last_error, ''), "
                              "notifications, missed FROM graph_subscription WHERE mailbox_id = %d" % self.mid)
        return [rows[0][0], rows[0][1], rows[0][2], int(rows[0][3]), int(rows[0][4])] if rows else None

    def due_in(self):
        """Seconds until the mailbox is due (negative: overdue), and push_kick."""
        r = self.stack.sql("SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), scan_due) / 1e6, push_kick "
                           "FROM mailbox WHERE id = %d" % self.mid)[0]
        return float(r[0]), int(r[1])

    def tickets(self):
        return self.stack.sql("SELECT subject FROM ticket WHERE mailbox_id = %d ORDER BY id" % self.mid)


@pytest.fixture
def world(stack, fake, pd, admin_login):
    fake.ctl("push/config", {"cacert": stack.cacert, "jitter_ms": [10, 50], "drop": 0, "duplicate": 0})
    yield from closing_factory(lambda **kw: World(stack, fake, pd, admin_login, **kw))


def the_sub(w):
    subs = [s for s in w.fake.get("push/subscriptions")["items"]
            if s["notificationUrl"] == w.stack.base + "/api/graph/notify"]
    row = w.row()
    assert row is not None and row[0], row
    mine = [s for s in subs if s["id"] == row[0]]
    assert len(mine) == 1, (row, subs)
    return mine[0]


def notify(w, sub_id, client_state, path="/api/graph/notify", **extra):
    item = {"subscriptionId": sub_id, "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z",
            "changeType": "created", "clientState": client_state, "tenantId": w.tenant,
            "resource": "Users/x/Messages/y", "resourceData": {"id": "y"}}
    item.update(extra)
    return w.fake.ctl("push/post", {"url": w.stack.base + path, "body": {"value": [item]}})["status"]


def test_subscription_made_with_the_handshake_and_sealed(world, stack):
    w = world()
    w.scan()
    sub = the_sub(w)
    assert sub["resource"] == "me/mailFolders('inbox')/messages"
    assert sub["changeType"] == "created"
    assert sub["lifecycleNotificationUrl"] == stack.base + "/api/graph/lifecycle"
    assert sub["immutable"], "asked with Prefer: IdType=ImmutableId"
    assert w.row()[1] == "active"
    # the clientState is random, sealed at rest and never in the API's answers
    cs = sub["clientState"]
    assert len(cs) >= 32
    sealed = stack.sql("SELECT HEX(client_state_sealed) FROM graph_subscription WHERE mailbox_id = %d"
                       % w.mid)[0][0]
    assert cs.encode().hex().upper() not in sealed
    assert cs not in w.browser.get("/api/mailboxes/%d" % w.mid).text
    assert cs not in (stack.log_dir / "postdesk-scan.log").read_text(errors="replace")
    # a healthy subscription: polled every push_poll_interval (60 s), not scan_interval
    due, _ = w.due_in()
    assert due > 30, due
    # the next visit leaves it alone (renewed daily)
    n = len(w.fake.log("graph_log"))
    w.scan()
    assert not [e for e in w.fake.log("graph_log")[n:] if "subscriptions" in e["path"]]


def test_validation_token_echoed_exactly(world, stack, anon):
    token = "Validation: Testing reachability Request-Id: 1 &+%/? é"
    for path in ("/api/graph/notify", "/api/graph/lifecycle"):
        r = anon.http.post(stack.base + path, params={"validationToken": token},
                           headers={"Content-Type": "text/plain"}, data=b"", verify=stack.cacert)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        assert r.content.decode() == token


def test_notification_makes_due_forged_refused(world, stack):
    w = world()
    w.scan()
    sub = the_sub(w)
    stack.sql("UPDATE mailbox SET scan_due = UTC_TIMESTAMP() + INTERVAL 1 HOUR WHERE id = %d" % w.mid)
    # wrong clientState, unknown subscription, no clientState: 403, no effect
    assert notify(w, sub["id"], "x" * len(sub["clientState"])) == 403
    assert notify(w, sub["id"], sub["clientState"][:-1]) == 403
    assert notify(w, "0b0b0b0b-0000-4000-8000-000000000000", sub["clientState"]) == 403
    assert notify(w, sub["id"], None) == 403
    due, kick = w.due_in()
    assert due > 3000 and kick == 0
    assert w.row()[3] == 0
    log = (stack.log_dir / "postdesk-api.log").read_text(errors="replace")
    assert "wrong clientState" in log and "unknown subscription" in log
    assert sub["clientState"] not in log
    # the genuine one: due at once
    assert notify(w, sub["id"], sub["clientState"]) == 202
    due, kick = w.due_in()
    assert due <= 0 and kick == 1
    assert w.row()[3] == 1


def test_replayed_and_duplicate_notifications_harmless(world, stack):
    w = world()
    w.scan()
    sub = the_sub(w)
    w.mail(subject="Once only")
    time.sleep(0.5)  # the fake's notification (jitter ≤ 50 ms) lands
    w.scan()
    for _ in range(3):  # replayed
        assert notify(w, sub["id"], sub["clientState"]) == 202
        w.scan()
    assert w.tickets() == [["Once only"]]


def test_lifecycle_reauthorize_removed_missed(world, stack):
    w = world()
    w.scan()
    sub = the_sub(w)
    # reauthorizationRequired: renewed at the next visit (PATCH)
    assert w.fake.ctl("push/lifecycle", {"id": sub["id"], "event": "reauthorizationRequired"})["status"] == 202
    assert w.row()[1] == "renew"
    assert w.due_in()[0] <= 0
    w.scan()
    again = the_sub(w)
    assert again["id"] == sub["id"] and again["renewals"] == 1
    assert w.row()[1] == "active"
    # missed: a visit at once (the listing is the catch-up), counted
    assert w.fake.ctl("push/lifecycle", {"id": sub["id"], "event": "missed"})["status"] == 202
    assert w.row()[4] == 1 and w.due_in()[0] <= 0
    # subscriptionRemoved: polling meanwhile, a new one at the next visit
    assert w.fake.ctl("push/lifecycle", {"id": sub["id"], "event": "subscriptionRemoved"})["status"] == 202
    row = w.row()
    assert row[1] == "recreate" and row[0] == ""
    # the old subscription's notifications are now refused
    assert notify(w, sub["id"], sub["clientState"]) == 403
    w.scan()
    new = the_sub(w)
    assert new["id"] != sub["id"] and new["clientState"] != sub["clientState"]
    # a forged lifecycle event changes nothing
    assert w.fake.ctl("push/post", {"url": stack.base + "/api/graph/lifecycle", "body": {"value": [
        {"subscriptionId": new["id"], "clientState": "forged", "lifecycleEvent": "subscriptionRemoved"}]}}
    )["status"] == 403
    assert w.row()[1] == "active"


def test_renewed_daily_and_recreated_when_gone(world, stack):
    w = world()
    w.scan()
    sub = the_sub(w)
    stack.sql("UPDATE graph_subscription SET renewed_at = UTC_TIMESTAMP() - INTERVAL 25 HOUR "
              "WHERE mailbox_id = %d" % w.mid)
    w.scan()
    assert the_sub(w)["renewals"] == 1
    # gone at Graph (expired): the PATCH meets 404 and a new one is made
    w.fake.ctl("push/expire", {"id": sub["id"]})
    stack.sql("UPDATE graph_subscription SET renewed_at = UTC_TIMESTAMP() - INTERVAL 25 HOUR "
              "WHERE mailbox_id = %d" % w.mid)
    w.scan()
    assert the_sub(w)["id"] != sub["id"]


def test_failed_create_says_why_and_polls(world, stack):
    w = world()
    w.fake.ctl("push/config", {"cacert": "/nonexistent"})  # the handshake cannot reach us
    w.scan()
    row = w.row()
    assert row[1] == "failed" and "validation" in row[2], row
    due, _ = w.due_in()
    assert due <= 10, "unhealthy push: normal polling"


def test_shared_mailbox_stays_on_polling(world, stack):
    w = world(shared=True)
    w.scan()
    row = w.row()
    assert row[1] == "off" and "Shared mailbox" in row[2], row
    assert not [s for s in w.fake.get("push/subscriptions")["items"]
                if s["notificationUrl"].startswith(stack.base)]
    assert w.due_in()[0] <= 10
    m = w.browser.get("/api/mailboxes/%d" % w.mid).json()
    assert m["push"]["state"] == "off" and "Shared mailbox" in m["push"]["detail"]


def test_disconnect_deletes_the_subscription(world, stack):
    w = world()
    w.scan()
    sub = the_sub(w)
    r = w.browser.post("/api/mailboxes/%d/disconnect" % w.mid)
    assert r.status_code == 200
    assert sub["id"] not in [s["id"] for s in w.fake.get("push/subscriptions")["items"]]
    assert w.row() is None


def test_drops_and_duplicates_every_mail_once(world, stack):
    """A scanner of its own (--loop); the fake drops and repeats notifications;
    polling (every 3 s here) brings in what a dropped notification left."""
    w = world()
    w.scan()
    w.fake.ctl("push/config", {"drop": 0.3, "duplicate": 0.3, "jitter_ms": [10, 300]})
    env = dict(PUSH_ENV, POSTDESK_PUSH_POLL_INTERVAL="3", POSTDESK_SCAN_SECONDS="60")
    p = subprocess.Popen([str(stack.bin / "postdesk-scan"), "--mailbox", str(w.mid)],
                         env=scan_env(stack, env), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        subjects = ["Mail %02d" % i for i in range(12)]
        for s in subjects:
            w.mail(subject=s)
            time.sleep(0.2)
        deadline = time.time() + 45
        while time.time() < deadline and len(w.tickets()) < len(subjects):
            time.sleep(0.5)
    finally:
        p.terminate()
        _, err = p.communicate(timeout=30)
        keep_stderr(stack, err)
    assert sorted(t[0] for t in w.tickets()) == subjects
    log = w.fake.log("push/log")
    assert any(e["kind"] == "dropped" for e in log) or len(log) > len(subjects)


def test_idle_mailbox_with_push_is_polled_slowly(world, stack):
    """A scanner run (the pool, as cron starts it) leaves an idle mailbox with
    healthy push alone for push_poll_interval, and a notification brings it
    back at once."""
    w = world()
    w.scan()
    n0 = len(w.fake.log("graph_log"))
    env = dict(PUSH_ENV, POSTDESK_SCAN_SECONDS="6")
    p = subprocess.Popen([str(stack.bin / "postdesk-scan"), "--mailbox", str(w.mid)],
                         env=scan_env(stack, env), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = p.communicate(timeout=60)
    keep_stderr(stack, err)
    mine = [e for e in w.fake.log("graph_log")[n0:] if e["user"] == w.address]
    assert mine == [], mine


def test_missed_brings_a_catch_up_visit(world, stack):
    """Notifications lost (drop 100 %) and polling far away (600 s): the mail
    waits until Graph says it missed some; then a visit takes it in."""
    w = world()
    w.scan(env={"POSTDESK_PUSH_POLL_INTERVAL": "600"})
    sub = the_sub(w)
    w.fake.ctl("push/config", {"drop": 1.0})
    env = dict(PUSH_ENV, POSTDESK_PUSH_POLL_INTERVAL="600", POSTDESK_SCAN_SECONDS="40")
    p = subprocess.Popen([str(stack.bin / "postdesk-scan"), "--mailbox", str(w.mid)],
                         env=scan_env(stack, env), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        w.mail(subject="Lost notification")
        assert any(e["kind"] == "dropped" for e in w.fake.log("push/log"))
        due, _ = w.due_in()
        assert due > 500 and w.tickets() == []  # nothing makes it due before the poll
        assert w.fake.ctl("push/lifecycle", {"id": sub["id"], "event": "missed"})["status"] == 202
        deadline = time.time() + 30
        while time.time() < deadline and not w.tickets():
            time.sleep(0.2)
        assert w.tickets() == [["Lost notification"]]
    finally:
        p.terminate()
        _, err = p.communicate(timeout=30)
        keep_stderr(stack, err)
