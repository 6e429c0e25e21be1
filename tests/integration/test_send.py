"""Sending (issue 5): acknowledgements and agent replies through the fake.

Each test makes its own tenant and connected mailbox (the real authorize +
callback flow), puts customer mail in the fake's Inbox, runs the real
`postdesk-scan --once --mailbox ID` as cron would (it reads the Inbox, then
sends what is queued), and checks what the fake's sent log received, the
outgoing queue (SQL and GET /api/outgoing-emails) and the incoming email
log's `ack`.  Senders are unique per test: the acknowledgement rate limit
counts per address across mailboxes.
"""
import base64
import re
import secrets
import signal
import subprocess
import time
import urllib.parse

import pytest

from pd_helpers import TenantWorld, closing_factory, connect_mailbox, keep_stderr, scan_env

SUMMARY = re.compile(r"^mailbox (\d+): found (\d+), ticketed (\d+), updated (\d+), "
                     r"ignored (\d+), errors (\d+), (\d+) ms, sent (\d+), send failed (\d+), "
                     r"intake failed (\d+), quarantined (\d+)$")
SEND_PATH = r"/sendMail$"


class World(TenantWorld):
    """One tenant + app; mailboxes postdesk has connected in it."""

    def __init__(self, stack, fake, pd, admin_login):
        super().__init__(stack, fake, pd, admin_login)
        self.users = {}

    def add_mailbox(self, local="help", shared=None, send_as=True, **fields):
        """Create a user (and a shared mailbox it may use), a postdesk
        mailbox for it, and connect it.  Returns (id, sending address)."""
        user = "%s@%s" % (local, self.domain)
        self.fake.ctl("users", {"tenant": self.tenant, "address": user,
                                "display_name": local.title()})
        body = {"name": self.pd.unique("Send"), "client_id": self.client_id,
                "tenant_id": self.tenant, "secret": self.secret}
        address = user
        if shared:
            address = "%s@%s" % (shared, self.domain)
            self.fake.ctl("shared_mailboxes", {"tenant": self.tenant, "address": address})
            self.fake.ctl("delegations", {"shared": address, "user": user,
                                          "full_access": True, "send_as": send_as})
            body["shared_address"] = address
        body.update(fields)
        r = self.browser.post("/api/mailboxes", json=body)
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        self.mailboxes.append(mid)
        self.users[mid] = user
        self.connect(mid)
        return mid, address

    def connect(self, mid):
        self.fake.ctl("signin", {"tenant": self.tenant, "user": self.users[mid],
                                 "mode": "approve"})
        connect_mailbox(self.stack, self.browser, mid)

    def mail(self, to, **kw):
        """Customer mail into the Inbox of address to."""
        kw.setdefault("subject", "Help " + secrets.token_hex(3))
        kw.setdefault("from", "bob@example.com")
        kw.setdefault("to", [to])
        kw.setdefault("body_text", "Please help.")
        return self.fake.ctl("messages", dict(kw, mailbox=to))


@pytest.fixture
def world(stack, fake, pd, admin_login):
    yield from closing_factory(lambda: World(stack, fake, pd, admin_login))


def sender():
    return "cust-%s@example.com" % secrets.token_hex(4)


def scan(stack, mid, *args, env=None, ok=True):
    argv = [str(stack.bin / "postdesk-scan"), "--once", "--mailbox", str(mid)] + list(args)
    r = subprocess.run(argv, env=scan_env(stack, env), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    keep_stderr(stack, r.stderr)
    if ok:
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r


def summary(r, mid):
    for line in r.stdout.splitlines():
        m = SUMMARY.match(line)
        if m and int(m.group(1)) == mid:
            k = ("found", "ticketed", "updated", "ignored", "errors", "ms", "sent", "send_failed",
                 "intake_failed", "quarantined")
            return dict(zip(k, map(int, m.groups()[1:])))
    return None


def sent(fake, **match):
    """sendMail entries of the fake's sent log (auto-replies left out)."""
    return [e for e in fake.log("sent_log") if e["kind"] != "auto_reply"
            and all(e.get(k) == v for k, v in match.items())]


def header(entry, name):
    vals = [h["value"] for h in entry["headers"] if h["name"].lower() == name.lower()]
    return vals[0] if vals else None


def outgoing(stack, mid, cols="id, kind, status, attempts, to_addrs, subject"):
    return stack.sql("SELECT %s FROM outgoing_email WHERE mailbox_id = %d ORDER BY id" % (cols, mid))


def due_now(stack, mid):
    """Make waiting mail due (tests don't sit out the backoff)."""
    stack.sql("UPDATE outgoing_email SET next_attempt_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
              "WHERE mailbox_id = %d" % mid)


def ticket_of(stack, graph_id):
    rows = stack.sql("SELECT ticket_id, id FROM incoming_email WHERE graph_id = '%s' "
                     "ORDER BY id" % graph_id)
    return int(rows[0][0]), int(rows[0][1])


def incoming(w, ledger_id):
    r = w.browser.get("/api/incoming-emails/%d" % ledger_id)
    assert r.status_code == 200, r.text
    return r.json()


def reply(w, ticket, **body):
    body.setdefault("body", "We are on it.")
    r = w.browser.post("/api/tickets/%d/reply" % ticket, json=body)
    assert r.status_code == 202, r.text
    return r.json()


def api_out(w, **q):
    r = w.browser.get("/api/outgoing-emails", params=q)
    assert r.status_code == 200, r.text
    return r.json()["items"]


# --- acknowledgements ---------------------------------------------------------------

def test_new_ticket_is_acknowledged_threaded_and_auto_submitted(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox()
    cust = sender()
    m = w.mail(addr, subject="Printer <on> fire", **{"from": {"name": "Bob", "address": cust}})
    r = scan(stack, mid)
    assert summary(r, mid)["ticketed"] == 1 and summary(r, mid)["sent"] == 1, r.stdout
    ticket, ledger = ticket_of(stack, m["immutable_id"])
    [e] = sent(fake)
    assert e["mailbox"] == addr and e["from"] == addr and e["signed_in"] == addr
    assert e["to"] == [cust] and e["cc"] == []
    assert e["mime"] is True
    assert e["subject"] == "[#%d] Printer <on> fire" % ticket, e["subject"]
    assert header(e, "In-Reply-To") == m["internet_message_id"]
    assert header(e, "References") == m["internet_message_id"]
    assert header(e, "Auto-Submitted") == "auto-replied"
    assert header(e, "Message-ID") == e["internet_message_id"]
    # the mailbox's name is the sender's display name
    name = stack.sql("SELECT name FROM mailbox WHERE id = %d" % mid)[0][0]
    assert header(e, "From") in ('"%s" <%s>' % (name, addr), "%s <%s>" % (name, addr)), header(e, "From")
    # the HTML part escapes the customer's subject
    assert e["body"]["contentType"] == "html"
    assert "Printer &lt;on&gt; fire" in e["body"]["content"], e["body"]
    assert "<on>" not in e["body"]["content"]
    row = outgoing(stack, mid, "kind, status, attempts, message_id, ticket_id, "
                               "incoming_email_id, sent_at IS NOT NULL")
    assert row == [["ack", "sent", "1", e["internet_message_id"], str(ticket), str(ledger), "1"]]
    # the log reads the acknowledgement from the queue: sent, not "queued"
    assert incoming(w, ledger)["ack"] == "sent"
    assert incoming(w, ledger)["acknowledgement"]["status"] == "sent"
    # the copy in Sent Items
    sent_items = {f["displayName"]: f["messages"]
                  for f in fake.get("mailboxes/" + addr)["folders"]}["Sent Items"]
    assert [s["internetMessageId"] for s in sent_items] == [e["internet_message_id"]]
    # the ticket shows the acknowledgement as an outgoing action
    t = w.browser.get("/api/tickets/%d" % ticket).json()
    assert [a["kind"] for a in t["actions"]][-1] == "email_out"
    assert t["actions"][-1]["message_id"] == e["internet_message_id"]

    # the customer's answer threads into the ticket: no second acknowledgement
    m2 = w.mail(addr, subject="Re: [#%d] Printer <on> fire" % ticket,
                headers=[{"name": "In-Reply-To", "value": e["internet_message_id"]}],
                **{"from": cust})
    r = scan(stack, mid)
    assert summary(r, mid)["updated"] == 1 and summary(r, mid)["sent"] == 0, r.stdout
    t2, ledger2 = ticket_of(stack, m2["immutable_id"])
    assert t2 == ticket
    assert incoming(w, ledger2)["ack"] is None
    assert len(sent(fake)) == 1


def test_custom_templates_and_acks_off(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_subject="We got it: {subject}",
                              ack_body="Ticket {ticket} <b>{subject}</b>\nBye")
    cust = sender()
    m = w.mail(addr, subject="A & B", **{"from": cust})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    [e] = sent(fake)
    # no {ticket} in the template: the tag is put in front anyway
    assert "[#%d]" % ticket in e["subject"] and e["subject"].endswith("We got it: A & B")
    html = e["body"]["content"]
    assert "Ticket %d &lt;b&gt;A &amp; B&lt;/b&gt;" % ticket in html, html
    r = w.browser.patch("/api/mailboxes/%d" % mid, json={"ack_enabled": False})
    assert r.status_code == 200, r.text
    m = w.mail(addr, **{"from": cust})
    scan(stack, mid)
    _, ledger = ticket_of(stack, m["immutable_id"])
    assert incoming(w, ledger)["ack"].startswith("not sent: acknowledgements are off")
    assert len(sent(fake)) == 1


@pytest.mark.parametrize("kind", ["auto_reply", "bulk", "own_mailbox", "rule"])
def test_no_ack_for_automatic_mail(world, stack, fake, kind):
    w = world()
    mid, addr = w.add_mailbox()
    kw = {"from": sender()}
    if kind == "auto_reply":
        kw["headers"] = [{"name": "Auto-Submitted", "value": "auto-replied"}]
        why = "suppressed: automatic mail (Auto-Submitted: auto-replied)"
    elif kind == "bulk":
        kw["headers"] = [{"name": "Precedence", "value": "bulk"}]
        why = "suppressed: automatic mail (Precedence: bulk)"
    elif kind == "own_mailbox":
        # from another connected mailbox: a ticket, never an acknowledgement
        _, other = w.add_mailbox(local="other")
        kw["from"] = other
        why = "suppressed: automatic mail (from connected mailbox %s)" % other
        # from the mailbox itself: not even a ticket (so nothing to acknowledge)
        own = w.mail(addr, **{"from": addr})
    else:
        r = w.browser.post("/api/rules", json={
            "name": w.pd.unique("No ack"), "mailbox_id": mid,
            "conditions": [{"field": "subject", "op": "contains", "value": "quiet please"}],
            "actions": {"no_ack": True}})
        assert r.status_code == 201, r.text
        kw["subject"] = "quiet please " + secrets.token_hex(2)
        why = "suppressed by rule %d" % r.json()["id"]
    m = w.mail(addr, **kw)
    r = scan(stack, mid)
    assert summary(r, mid)["ticketed"] == 1, r.stdout
    _, ledger = ticket_of(stack, m["immutable_id"])
    assert incoming(w, ledger)["ack"] == why
    assert sent(fake) == [] and outgoing(stack, mid) == []
    listed = w.browser.get("/api/incoming-emails", params={"mailbox": mid}).json()["items"]
    assert [i["ack"] for i in listed if i["outcome"] == "ticket_created"] == [why]
    if kind == "own_mailbox":
        [self_mail] = [i for i in listed if i["graph_id"] == own["immutable_id"]]
        assert (self_mail["outcome"], self_mail["ticket_id"], self_mail["ack"]) == (
            "suppressed_loop", None, None), self_mail


def test_sixth_mail_in_an_hour_from_one_sender_is_not_acknowledged(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox()
    cust = sender()
    ms = [w.mail(addr, subject="Mail %d" % i, **{"from": cust}) for i in range(6)]
    other = w.mail(addr, **{"from": sender()})
    r = scan(stack, mid)
    assert summary(r, mid)["ticketed"] == 7 and summary(r, mid)["sent"] == 6, r.stdout
    acks = [incoming(w, ticket_of(stack, m["immutable_id"])[1])["ack"] for m in ms]
    assert acks[:5] == ["sent"] * 5
    assert acks[5] == ("suppressed: 5 acknowledgements to %s in the last hour (limit 5)" % cust)
    assert incoming(w, ticket_of(stack, other["immutable_id"])[1])["ack"] == "sent"
    assert len(sent(fake, to=[cust])) == 5
    # the limit is per mailbox setting
    r = w.browser.patch("/api/mailboxes/%d" % mid, json={"ack_per_hour": 6})
    assert r.status_code == 200 and r.json()["ack_per_hour"] == 6
    m = w.mail(addr, **{"from": cust})
    scan(stack, mid)
    assert incoming(w, ticket_of(stack, m["immutable_id"])[1])["ack"] == "sent"
    assert len(sent(fake, to=[cust])) == 6


# --- where mail goes out from -------------------------------------------------------

def test_shared_mailbox_sends_as_itself(world, stack, fake):
    w = world()
    mid, shared = w.add_mailbox(local="alice", shared="help")
    assert shared.startswith("help@")
    cust = sender()
    m = w.mail(shared, **{"from": cust})
    scan(stack, mid)
    [e] = sent(fake)
    assert e["from"] == shared and e["sender"] == shared
    assert e["mailbox"] == shared and e["signed_in"] == w.users[mid]
    posts = [g for g in fake.log("graph_log") if re.search(SEND_PATH, g["path"])]
    assert [urllib.parse.unquote(g["path"]) for g in posts] == [
        "/v1.0/users/%s/sendMail" % shared], posts
    folders = {f["displayName"]: f["messages"] for f in fake.get("mailboxes/" + shared)["folders"]}
    assert [s["internetMessageId"] for s in folders["Sent Items"]] == [e["internet_message_id"]]
    own = {f["displayName"]: f["messages"] for f in fake.get("mailboxes/" + w.users[mid])["folders"]}
    assert own["Sent Items"] == []
    ticket, _ = ticket_of(stack, m["immutable_id"])
    reply(w, ticket)
    scan(stack, mid)
    assert [x["from"] for x in sent(fake)] == [shared, shared]


def test_send_as_missing_fails_with_guidance(world, stack, fake):
    w = world()
    mid, shared = w.add_mailbox(local="alice", shared="help", send_as=False)
    m = w.mail(shared, **{"from": sender()})
    r = scan(stack, mid)
    assert summary(r, mid)["send_failed"] == 1, r.stdout
    assert sent(fake) == []
    [o] = api_out(w, mailbox=mid)
    assert o["status"] == "failed" and o["attempts"] == 1
    assert "ErrorSendAsDenied" in o["last_error"]
    assert "Send as" in o["guidance"] or "Send As" in o["guidance"], o
    # failed mail is not tried again by later runs
    scan(stack, mid)
    assert api_out(w, mailbox=mid)[0]["attempts"] == 1
    # once Send As is granted, Retry sends it
    fake.ctl("delegations", {"shared": shared, "user": w.users[mid], "full_access": True,
                             "send_as": True})
    r = w.browser.post("/api/outgoing-emails/%d/retry" % o["id"])
    assert r.status_code == 200 and r.json() == {"id": o["id"], "status": "queued"}, r.text
    scan(stack, mid)
    [o] = api_out(w, mailbox=mid)
    assert o["status"] == "sent" and o["last_error"] is None and o["guidance"] is None
    assert len(sent(fake)) == 1 and sent(fake)[0]["from"] == shared
    assert m


# --- agent replies ------------------------------------------------------------------

def test_agent_reply_threads_under_the_latest_customer_mail(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    cust = sender()
    m1 = w.mail(addr, subject="VPN down", **{"from": cust})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m1["immutable_id"])
    m2 = w.mail(addr, subject="Re: [#%d] VPN down" % ticket, **{"from": cust})
    scan(stack, mid)
    assert ticket_of(stack, m2["immutable_id"])[0] == ticket
    out = reply(w, ticket, body="Try turning it off and on again.\nÄrger? Schreib uns.")
    assert out["status"] == "queued" and out["ticket_id"] == ticket
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 1, r.stdout
    [e] = sent(fake)
    assert e["to"] == [cust] and e["from"] == addr
    assert e["subject"] == "[#%d] Re: VPN down" % ticket, e["subject"]
    assert header(e, "In-Reply-To") == m2["internet_message_id"]
    refs = header(e, "References").split()
    assert refs[-1] == m2["internet_message_id"] and m1["internet_message_id"] in refs, refs
    assert header(e, "Auto-Submitted") is None
    assert "Ärger" in e["body"]["content"]
    [o] = api_out(w, ticket=ticket)
    assert (o["id"], o["kind"], o["status"], o["to"]) == (out["id"], "reply", "sent", cust)
    assert o["message_id"] == e["internet_message_id"] and o["sent_at"]
    t = w.browser.get("/api/tickets/%d" % ticket).json()
    last = t["actions"][-1]
    assert (last["kind"], last["to"], last["message_id"]) == ("email_out", cust,
                                                             e["internet_message_id"])


def test_reply_with_cc_and_attachment(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    m = w.mail(addr, **{"from": sender()})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    data = bytes(range(256)) * 40
    reply(w, ticket, body="See the log.", cc=["carol@example.com", "dave@example.org"],
          attachments=[{"name": "Überblick log.bin", "content_type": "application/octet-stream",
                        "content_base64": base64.b64encode(data).decode()}])
    scan(stack, mid)
    [e] = sent(fake)
    assert e["cc"] == ["carol@example.com", "dave@example.org"]
    assert e["attachments"] == ["Überblick log.bin"]
    msg = fake.get("mailboxes/" + addr)
    [copy] = {f["displayName"]: f["messages"] for f in msg["folders"]}["Sent Items"]
    assert copy["internetMessageId"] == e["internet_message_id"]
    row = stack.sql("SELECT cc_addrs, (SELECT COUNT(*) FROM outgoing_attachment a WHERE "
                    "a.outgoing_email_id = o.id) FROM outgoing_email o WHERE mailbox_id = %d" % mid)
    assert row == [["carol@example.com, dave@example.org", "1"]]


def test_reply_input_errors(world, stack, fake, pd):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    m = w.mail(addr, **{"from": sender()})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    path = "/api/tickets/%d/reply" % ticket
    for body, field in [({}, "body"), ({"body": "  \n"}, "body"), ({"body": "x", "cc": "a@b.c"}, "cc"),
                        ({"body": "x", "cc": ["not an address"]}, "cc"),
                        ({"body": "x", "to": ["x@example.com"]}, "to"),
                        ({"body": "x", "attachments": [{"name": "a"}]}, "attachments"),
                        ({"body": "x", "attachments": [{"name": "a", "content_type": "text/plain",
                                                        "content_base64": "%%%"}]}, "attachments")]:
        p = pd.check_problem(w.browser.post(path, json=body), 422)
        assert field in [e["field"] for e in p["errors"]], (body, p)
    big = base64.b64encode(b"\0" * (2 * 1024 * 1024 + 1)).decode()
    r = w.browser.post(path, json={"body": "x", "attachments": [
        {"name": "big.bin", "content_type": "application/octet-stream", "content_base64": big}]})
    assert r.status_code in (413, 422), r.status_code
    pd.check_problem(w.browser.post("/api/tickets/999999999/reply", json={"body": "x"}), 404)
    assert outgoing(stack, mid) == []


# --- Graph's answers ----------------------------------------------------------------

def test_throttled_429_then_success_sends_once(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox()
    w.mail(addr, **{"from": sender()})
    # a short Retry-After is waited out within the run
    fake.ctl("faults", {"path": SEND_PATH, "status": 429, "count": 1, "retry_after": 1})
    t0 = time.time()
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 1, r.stdout
    assert time.time() - t0 >= 1
    assert len(sent(fake)) == 1
    assert outgoing(stack, mid, "status, attempts") == [["sent", "1"]]
    posts = [g for g in fake.log("graph_log") if re.search(SEND_PATH, g["path"])]
    assert [g["status"] for g in posts] == [429, 202]


def test_throttled_beyond_the_run_waits_in_the_queue(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox()
    w.mail(addr, **{"from": sender()})
    fake.ctl("faults", {"path": SEND_PATH, "status": 429, "count": 1, "retry_after": 3600})
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 0, r.stdout
    [row] = outgoing(stack, mid, "status, attempts, last_error, next_attempt_at > "
                                 "UTC_TIMESTAMP() + INTERVAL 3500 SECOND")
    assert row[0] == "queued" and row[1] == "1" and "429" in row[2] and row[3] == "1", row
    [o] = api_out(w, mailbox=mid)
    assert o["status"] == "queued" and "Throttled" in o["last_error"]
    r = scan(stack, mid)  # Retry-After is honoured: nothing tried
    assert sent(fake) == [] and outgoing(stack, mid, "attempts") == [["1"]]
    due_now(stack, mid)
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 1, r.stdout
    assert len(sent(fake)) == 1
    assert outgoing(stack, mid, "status, attempts") == [["sent", "2"]]
    posts = [g for g in fake.log("graph_log") if re.search(SEND_PATH, g["path"])]
    assert [g["status"] for g in posts] == [429, 202]


def test_timeout_after_graph_accepted_is_not_sent_twice(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox()
    w.mail(addr, **{"from": sender()})
    fake.ctl("faults", {"path": SEND_PATH, "delay_ms": 3500, "count": 1})
    r = scan(stack, mid, env={"POSTDESK_HTTP_TIMEOUT": "2"})
    assert summary(r, mid)["sent"] == 0, r.stdout
    [row] = outgoing(stack, mid, "status, attempts, last_error, "
                                 "next_attempt_at >= UTC_TIMESTAMP() + INTERVAL 20 SECOND")
    assert row[0] == "sending" and row[1] == "1" and "Sent Items" in row[2] and row[3] == "1", row
    time.sleep(2.5)  # the fake finishes the send it accepted
    assert len(sent(fake)) == 1
    # not due yet: a run now leaves it alone
    r = scan(stack, mid)
    assert outgoing(stack, mid, "status")[0] == ["sending"] and len(sent(fake)) == 1
    due_now(stack, mid)
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 1, r.stdout
    assert outgoing(stack, mid, "status, attempts") == [["sent", "1"]]
    assert len(sent(fake)) == 1
    looks = [g for g in fake.log("graph_log") if "sentitems" in g["path"].lower()]
    assert looks and "internetMessageId" in looks[-1]["query"]


def test_503_is_looked_up_then_sent_once(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox()
    w.mail(addr, **{"from": sender()})
    fake.ctl("faults", {"path": SEND_PATH, "status": 503, "count": 1})
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 0, r.stdout
    assert outgoing(stack, mid, "status")[0] == ["sending"]
    assert sent(fake) == []
    due_now(stack, mid)
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 1, r.stdout
    assert len(sent(fake)) == 1
    assert outgoing(stack, mid, "status, attempts") == [["sent", "2"]]
    log = [(g["path"], g["status"]) for g in fake.log("graph_log")
           if re.search(SEND_PATH, g["path"]) or "sentitems" in g["path"].lower()]
    assert [s for _, s in log] == [503, 200, 202], log


def test_too_large_413_fails_clearly_and_retry_sends(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    m = w.mail(addr, **{"from": sender()})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    reply(w, ticket, attachments=[{"name": "scan.pdf", "content_type": "application/pdf",
                                   "content_base64": base64.b64encode(b"%PDF" * 1000).decode()}])
    fake.ctl("faults", {"path": SEND_PATH, "status": 413, "count": 1})
    r = scan(stack, mid)
    assert summary(r, mid)["send_failed"] == 1, r.stdout
    [o] = api_out(w, status="failed", mailbox=mid)
    assert o["status"] == "failed" and "too large" in o["last_error"].lower(), o
    assert "attachment" in o["last_error"]
    scan(stack, mid)
    assert sent(fake) == [] and api_out(w, mailbox=mid)[0]["attempts"] == 1
    r = w.browser.post("/api/outgoing-emails/%d/retry" % o["id"])
    assert r.status_code == 200, r.text
    assert w.browser.post("/api/outgoing-emails/%d/retry" % o["id"]).status_code == 409
    audit = w.browser.get("/api/audit-log").json()["items"]
    assert any(a["action"] == "outgoing_email.retry" for a in audit)
    scan(stack, mid)
    [o] = api_out(w, mailbox=mid)
    assert o["status"] == "sent" and o["attempts"] == 2
    assert len(sent(fake)) == 1 and sent(fake)[0]["attachments"] == ["scan.pdf"]


def test_needs_reauthorisation_holds_the_queue_and_reconnecting_sends_it(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    cust = sender()
    m = w.mail(addr, **{"from": cust})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    first = reply(w, ticket, body="first")
    fake.ctl("users/revoke_sessions", {"user": w.users[mid]})
    scan(stack, mid, ok=False)
    assert stack.sql("SELECT status FROM mailbox WHERE id = %d" % mid) == [["needs_reauth"]]
    second = reply(w, ticket, body="second")
    items = {o["id"]: o for o in api_out(w, mailbox=mid)}
    assert items[first["id"]]["status"] == "held", items
    assert items[second["id"]]["status"] == "held", items
    assert "reauthoriz" in items[first["id"]]["last_error"]
    assert sent(fake) == []
    # the scanner leaves a mailbox that needs reauthorising alone
    scan(stack, mid, ok=False)
    assert sent(fake) == []
    w.connect(mid)
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 2, r.stdout
    bodies = [e["body"]["content"] for e in sent(fake)]
    assert "first" in bodies[0] and "second" in bodies[1], bodies
    assert [o["status"] for o in api_out(w, mailbox=mid)] == ["sent", "sent"]
    assert len(sent(fake)) == 2


def test_scanner_killed_mid_send_never_duplicates(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox()
    for i in range(3):
        w.mail(addr, subject="Kill %d" % i, **{"from": sender()})
    fake.ctl("faults", {"path": SEND_PATH, "delay_ms": 2500, "count": 1})
    argv = [str(stack.bin / "postdesk-scan"), "--once", "--mailbox", str(mid)]
    p = subprocess.Popen(argv, env=scan_env(stack), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        if any(f["hits"] for f in fake.get("faults")["faults"]) or \
                [f for f in fake.get("faults")["faults"]] == []:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    out, err = p.communicate(timeout=30)
    keep_stderr(stack, err)
    assert p.returncode == -signal.SIGKILL
    time.sleep(2.8)  # the fake completes the send it was given
    statuses = [r[0] for r in outgoing(stack, mid, "status")]
    assert len(statuses) == 3 and "sending" in statuses, statuses
    # the dead scanner's lease runs out; clean runs settle everything
    stack.sql("UPDATE mailbox SET lease_until = NULL WHERE id = %d" % mid)
    for _ in range(2):
        due_now(stack, mid)
        scan(stack, mid)
    rows = outgoing(stack, mid, "status, message_id")
    assert [r[0] for r in rows] == ["sent"] * 3, rows
    log = sent(fake)
    assert len(log) == len(rows) == 3
    assert sorted(e["internet_message_id"] for e in log) == sorted(r[1] for r in rows)


# --- loops --------------------------------------------------------------------------

def test_bad_auto_responder_loop_stops_at_the_rate_limit(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_per_hour=3)
    robot = "ooo-%s@%s" % (secrets.token_hex(3), w.domain)
    fake.ctl("users", {"tenant": w.tenant, "address": robot, "display_name": "Robot"})
    fake.ctl("users/auto_reply", {"user": robot, "auto_submitted": False,
                                  "subject": "Out of office"})
    w.mail(addr, subject="Hello", **{"from": robot})
    for _ in range(7):
        scan(stack, mid)
    acks = sent(fake, to=[robot])
    autos = [e for e in fake.log("sent_log") if e["kind"] == "auto_reply"]
    assert len(acks) == 3 and len(autos) == 3, (len(acks), len(autos))
    rows = stack.sql("SELECT subject, ack FROM incoming_email WHERE mailbox_id = %d ORDER BY id"
                     % mid)
    assert [r[1] for r in rows] == ["queued"] * 3 + [
        "suppressed: 3 acknowledgements to %s in the last hour (limit 3)" % robot], rows
    assert [r[0] for r in rows] == ["Hello"] + ["Out of office"] * 3
    listed = w.browser.get("/api/incoming-emails", params={"mailbox": mid}).json()["items"]
    assert sum(1 for i in listed if (i["ack"] or "").startswith("suppressed:")) == 1


def test_well_behaved_auto_responder_and_two_mailboxes_do_not_loop(world, stack, fake):
    w = world()
    a, addr_a = w.add_mailbox(local="one")
    b, addr_b = w.add_mailbox(local="two")
    robot = "ooo-%s@%s" % (secrets.token_hex(3), w.domain)
    fake.ctl("users", {"tenant": w.tenant, "address": robot, "display_name": "Robot"})
    fake.ctl("users/auto_reply", {"user": robot})
    w.mail(addr_a, subject="Hello from a robot", **{"from": robot})
    # mailbox one writes to mailbox two: two's acknowledgement lands in one's inbox
    w.mail(addr_b, subject="From one", **{"from": addr_a})
    for _ in range(4):
        scan(stack, a)
        scan(stack, b)
    acks = sent(fake)
    assert len(acks) == 1 and acks[0]["to"] == [robot], [(e["from"], e["to"]) for e in acks]
    ra = stack.sql("SELECT subject, outcome, ack FROM incoming_email WHERE mailbox_id = %d "
                   "ORDER BY id" % a)
    assert ra[0][2] == "queued" and ra[1][0].startswith("Automatic reply: [#"), ra
    assert ra[1][1] == "ticket_updated" and ra[1][2] == "NULL", ra
    rb = stack.sql("SELECT ack FROM incoming_email WHERE mailbox_id = %d" % b)
    assert rb == [["suppressed: automatic mail (from connected mailbox %s)" % addr_a]], rb


# --- the outgoing API ---------------------------------------------------------------

def test_outgoing_api_filters_paging_and_roles(world, stack, fake, pd):
    w = world()
    mid, addr = w.add_mailbox()
    mid2, addr2 = w.add_mailbox(local="other")
    ms = [w.mail(addr, **{"from": sender()}) for _ in range(3)]
    w.mail(addr2, **{"from": sender()})
    fake.ctl("faults", {"path": SEND_PATH, "status": 403, "code": "ErrorAccessDenied", "count": 1})
    scan(stack, mid)
    scan(stack, mid2)
    mine = api_out(w, mailbox=mid)
    assert len(mine) == 3 and [o["id"] for o in mine] == sorted((o["id"] for o in mine),
                                                                 reverse=True)
    assert {o["mailbox_id"] for o in mine} == {mid}
    assert [o["status"] for o in mine].count("failed") == 1
    assert [o["status"] for o in api_out(w, mailbox=mid, status="failed")] == ["failed"]
    assert len(api_out(w, mailbox=mid, status="sent")) == 2
    assert api_out(w, mailbox=mid, status="held") == []
    t0, _ = ticket_of(stack, ms[0]["immutable_id"])
    [one] = api_out(w, ticket=t0)
    assert one["ticket_id"] == t0 and one["kind"] == "ack"
    keys = {"id", "mailbox", "mailbox_id", "ticket_id", "kind", "to", "cc", "subject", "status", "attempts",
            "next_attempt_at", "last_error", "guidance", "created_at", "sent_at", "message_id"}
    assert set(one) == keys
    # paging
    r = w.browser.get("/api/outgoing-emails", params={"mailbox": mid, "limit": 2}).json()
    assert len(r["items"]) == 2 and isinstance(r["next_cursor"], str)
    r2 = w.browser.get("/api/outgoing-emails", params={"mailbox": mid, "limit": 2,
                                                       "cursor": r["next_cursor"]}).json()
    assert [o["id"] for o in r["items"] + r2["items"]] == [o["id"] for o in mine]
    assert r2["next_cursor"] is None
    for bad in ({"status": "bogus"}, {"mailbox": "x"}, {"limit": "201"}, {"cursor": "-1"}):
        pd.check_problem(w.browser.get("/api/outgoing-emails", params=bad), 400)
    # roles: agents read the queue and reply, only admins retry
    user, pw = pd.new_agent(stack, "agent")
    agent = pd.Client(stack)
    agent.login(user, pw)
    assert agent.get("/api/outgoing-emails", params={"mailbox": mid}).status_code == 200
    failed = [o for o in mine if o["status"] == "failed"][0]
    pd.check_problem(agent.post("/api/outgoing-emails/%d/retry" % failed["id"]), 403)
    r = agent.post("/api/tickets/%d/reply" % t0, json={"body": "from an agent"})
    assert r.status_code == 202, r.text
    pd.check_problem(pd.Client(stack).get("/api/outgoing-emails"), 401)
    pd.check_problem(w.browser.post("/api/outgoing-emails/999999999/retry"), 409)
    # a cookie request without the CSRF token is refused
    nocsrf = pd.Client(stack)
    nocsrf.login(user, pw)
    del nocsrf.http.headers["X-CSRF-Token"]
    pd.check_problem(nocsrf.post("/api/tickets/%d/reply" % t0, json={"body": "x"}), 403)


# --- hostile input ------------------------------------------------------------------

def test_long_subject_and_odd_message_id_still_make_a_ticket_and_an_ack(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox()
    cust = sender()
    long_subject = "Ä" + "x" * 1990
    m1 = w.mail(addr, subject=long_subject, **{"from": cust})
    m2 = w.mail(addr, subject="odd id", internet_message_id="<ü.%s@exämple.com>" % secrets.token_hex(3),
                **{"from": cust})
    m3 = w.mail(addr, subject="Line\r\nBcc: victim@example.com\r\nX-Evil: 1", **{"from": cust})
    r = scan(stack, mid)
    assert summary(r, mid)["ticketed"] == 3 and summary(r, mid)["errors"] == 0, r.stdout
    for m in (m1, m2, m3):
        _, ledger = ticket_of(stack, m["immutable_id"])
        assert incoming(w, ledger)["ack"] == "sent", m
    log = sent(fake)
    assert len(log) == 3 and all(e["bcc"] == [] for e in log), log
    assert not [e for e in log if header(e, "X-Evil") or header(e, "Bcc")]
    assert log[0]["subject"].endswith("x" * 100)
    assert all(len(e["subject"]) <= 998 for e in log)
    # a reply on the long-subject ticket: "Re: " and the tag still fit
    ticket, _ = ticket_of(stack, m1["immutable_id"])
    reply(w, ticket)
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 1, r.stdout
    e = sent(fake)[-1]
    assert e["subject"].startswith("[#%d] Re: Ä" % ticket) and len(e["subject"]) == 998


# --- send-only runs and a refused token on the send itself ----------------------------

def test_send_only_sends_without_reading_the_inbox(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    m = w.mail(addr, **{"from": sender()})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    reply(w, ticket)
    waiting = w.mail(addr, **{"from": sender()})
    r = scan(stack, mid, "--send-only")
    s = summary(r, mid)
    assert (s["found"], s["ticketed"], s["sent"]) == (0, 0, 1), r.stdout
    assert len(sent(fake)) == 1
    inbox = {f["displayName"]: f["messages"] for f in fake.get("mailboxes/" + addr)["folders"]}["Inbox"]
    assert [x["immutableId"] for x in inbox] == [waiting["immutable_id"]]


def test_refused_token_on_send_holds_every_queued_mail(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    m = w.mail(addr, **{"from": sender()})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    ids = [reply(w, ticket, body="reply %d" % i)["id"] for i in range(3)]
    fake.ctl("users/revoke_sessions", {"user": w.users[mid]})
    r = scan(stack, mid, "--send-only", ok=False)
    assert sent(fake) == []
    assert stack.sql("SELECT status FROM mailbox WHERE id = %d" % mid) == [["needs_reauth"]]
    got = {o["id"]: o for o in api_out(w, mailbox=mid)}
    assert [got[i]["status"] for i in ids] == ["held"] * 3, (got, r.stdout)
    w.connect(mid)
    scan(stack, mid, "--send-only")
    assert [o["status"] for o in api_out(w, mailbox=mid)] == ["sent"] * 3
    assert len(sent(fake)) == 3


def test_reply_on_a_ticket_whose_mailbox_is_gone(world, stack, fake, pd):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    m = w.mail(addr, **{"from": sender()})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    stack.sql("UPDATE mailbox SET status = 'not_connected' WHERE id = %d" % mid)
    r = w.browser.delete("/api/mailboxes/%d" % mid)
    assert r.status_code == 204, r.text
    p = pd.check_problem(w.browser.post("/api/tickets/%d/reply" % ticket, json={"body": "x"}), 409)
    assert "mailbox" in p["detail"] or "mailbox" in p["title"], p


def test_attachments_of_the_full_2_mib_go_out(world, stack, fake):
    w = world()
    mid, addr = w.add_mailbox(ack_enabled=False)
    m = w.mail(addr, **{"from": sender()})
    scan(stack, mid)
    ticket, _ = ticket_of(stack, m["immutable_id"])
    data = secrets.token_bytes(1024 * 1024)
    reply(w, ticket, attachments=[
        {"name": "a.bin", "content_type": "application/octet-stream",
         "content_base64": base64.b64encode(data).decode()},
        {"name": "b.bin", "content_type": "application/octet-stream",
         "content_base64": base64.b64encode(data[::-1]).decode()}])
    r = scan(stack, mid)
    assert summary(r, mid)["sent"] == 1, (r.stdout, api_out(w, mailbox=mid))
    [e] = sent(fake)
    assert e["attachments"] == ["a.bin", "b.bin"]
