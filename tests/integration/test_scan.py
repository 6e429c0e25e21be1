"""The scanner (issue 4): postdesk-scan against the fake Microsoft cloud.

Each test makes its own tenant, user and connected mailbox (the real
authorize + callback flow), puts mail in the fake's Inbox through the
control API, runs the real `postdesk-scan --once --mailbox ID` as cron
would, and checks the database (tickets, the incoming email log) and the
fake's folders.  Mailboxes are disconnected when their test ends, so a
scanner run without --mailbox only meets the mailboxes of that test (and
some of other files' tests, which are never asserted on).
"""
import base64
import os
import random
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest

from pd_helpers import TenantWorld, closing_factory, connect_mailbox, keep_stderr, scan_env

SUMMARY = re.compile(r"^mailbox (\d+): found (\d+), ticketed (\d+), updated (\d+), "
                     r"ignored (\d+), errors (\d+), (\d+) ms(?:, [^,]+)*$")
LIST_PATH = r"/mailFolders/inbox/messages$"


class World(TenantWorld):
    """One tenant + app + licensed user whose mailbox postdesk has connected."""

    def __init__(self, stack, fake, pd, admin_login, **mailbox_fields):
        super().__init__(stack, fake, pd, admin_login)
        self.address = None
        self.mid = None
        if mailbox_fields is not None:
            self.mid, self.address = self.add_mailbox(**mailbox_fields)

    def add_mailbox(self, local="help", **fields):
        """Create a user, a postdesk mailbox for it, and connect it."""
        address = "%s@%s" % (local, self.domain)
        self.fake.ctl("users", {"tenant": self.tenant, "address": address,
                                "display_name": local.title()})
        body = {"name": self.pd.unique("Scan"), "client_id": self.client_id,
                "tenant_id": self.tenant, "secret": self.secret}
        body.update(fields)
        r = self.browser.post("/api/mailboxes", json=body)
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        self.mailboxes.append(mid)
        self.fake.ctl("signin", {"tenant": self.tenant, "user": address, "mode": "approve"})
        connect_mailbox(self.stack, self.browser, mid)
        return mid, address

    def mail(self, mailbox=None, **kw):
        """Put a message in an Inbox (default: this world's mailbox)."""
        kw.setdefault("subject", "Help " + secrets.token_hex(3))
        kw.setdefault("from", "bob@example.com")
        kw.setdefault("to", [mailbox or self.address])
        kw.setdefault("body_text", "Please help.")
        return self.fake.ctl("messages", dict(kw, mailbox=mailbox or self.address))

    def folders(self, mailbox=None):
        """{display name: [message snapshot, ...]} of a mailbox in the fake."""
        snap = self.fake.get("mailboxes/" + (mailbox or self.address))
        return {f["displayName"]: f["messages"] for f in snap["folders"]}

    def inbox(self, mailbox=None):
        return self.folders(mailbox)["Inbox"]

    def ledger(self, mid=None, cols="graph_id, attempt, outcome, state, ticket_id, trace"):
        return self.stack.sql("SELECT %s FROM incoming_email WHERE mailbox_id = %d ORDER BY id"
                              % (cols, mid or self.mid))

    def tickets(self, mid=None):
        return self.stack.sql("SELECT id, subject FROM ticket WHERE mailbox_id = %d ORDER BY id"
                              % (mid or self.mid))


@pytest.fixture
def world(stack, fake, pd, admin_login):
    yield from closing_factory(lambda **fields: World(stack, fake, pd, admin_login, **fields))


def scan(stack, *args, env=None, timeout=120, mailbox=None):
    """Run postdesk-scan --once [--mailbox ID] ARGS; returns CompletedProcess."""
    argv = [str(stack.bin / "postdesk-scan"), "--once"]
    if mailbox is not None:
        argv += ["--mailbox", str(mailbox)]
    r = subprocess.run(argv + list(args), env=scan_env(stack, env), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    keep_stderr(stack, r.stderr)
    return r


def start_scan(stack, mailbox=None, env=None):
    argv = [str(stack.bin / "postdesk-scan"), "--once"]
    if mailbox is not None:
        argv += ["--mailbox", str(mailbox)]
    return subprocess.Popen(argv, env=scan_env(stack, env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def summary(r, mid):
    """The summary line of mailbox mid as a dict (None if there is none)."""
    for line in r.stdout.splitlines():
        m = SUMMARY.match(line)
        if m and int(m.group(1)) == mid:
            k = ("found", "ticketed", "updated", "ignored", "errors", "ms")
            return dict(zip(k, map(int, m.groups()[1:])))
    return None


def ok_scan(w, **kw):
    r = scan(w.stack, mailbox=w.mid, **kw)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r


def exactly_once(w, sent):
    """Every sent message: one ledger row, done, attempt 1; one ticket each;
    the Inbox empty and Deleted Items holding them all."""
    rows = w.ledger(cols="graph_id, attempt, state, ticket_id, outcome")
    by_id = {}
    for gid, attempt, state, ticket, outcome in rows:
        by_id.setdefault(gid, []).append((attempt, state, ticket, outcome))
    want = {m["immutable_id"] for m in sent}
    assert set(by_id) == want, (len(by_id), len(want), len(set(by_id) & want),
                                sorted(set((r[2], r[4]) for r in rows)))
    for gid, rs in by_id.items():
        assert rs == [("1", "done", rs[0][2], "ticket_created")], (gid, rs)
    tickets = w.tickets()
    assert len(tickets) == len(sent), (len(tickets), len(sent))
    assert sorted(r[2] for rs in by_id.values() for r in rs) == sorted(t[0] for t in tickets)
    actions = w.stack.sql("SELECT COUNT(*), COUNT(DISTINCT incoming_email_id) FROM ticket_action "
                          "a JOIN ticket t ON t.id = a.ticket_id WHERE t.mailbox_id = %d AND "
                          "a.kind = 'email_in'" % w.mid)
    assert actions == [[str(len(sent)), str(len(sent))]], actions
    f = w.folders()
    assert f["Inbox"] == [], f["Inbox"]
    assert {m["immutableId"] for m in f["Deleted Items"]} == want


# --- the basics ---------------------------------------------------------------------

def test_messages_become_tickets_and_leave_the_inbox(world, stack, fake):
    w = world(first_scan="all")
    sent = [w.mail(subject="Printer %d" % i, body_text="Body %d" % i,
                   cc=["carol@example.com"] if i == 0 else [])
            for i in range(7)]
    r = ok_scan(w)
    assert summary(r, w.mid) == dict(found=7, ticketed=7, updated=0, ignored=0, errors=0,
                                     ms=summary(r, w.mid)["ms"]), r.stdout
    assert len(r.stdout.splitlines()) == 1, r.stdout
    exactly_once(w, sent)
    assert [t[1] for t in w.tickets()] == ["Printer %d" % i for i in range(7)]  # oldest first
    row = stack.sql("SELECT a.body, a.from_addr, a.cc_addrs, e.from_addr, e.subject, "
                    "e.internet_message_id, e.size > 0, LENGTH(e.sha256), e.source LIKE '{%%' "
                    "FROM ticket_action a JOIN incoming_email e ON e.id = a.incoming_email_id "
                    "WHERE e.graph_id = '%s'" % sent[0]["immutable_id"])
    assert row == [["Body 0", "bob@example.com", "carol@example.com", "bob@example.com",
                    "Printer 0", sent[0]["internet_message_id"], "1", "32", "1"]], row
    # every Graph call asked for immutable ids; the list for text bodies
    log = fake.log("graph_log")
    assert all('IdType="ImmutableId"' in " ".join(e["prefer"]) for e in log), log
    lists = [e for e in log if re.search(LIST_PATH, e["path"])]
    assert lists and all('outlook.body-content-type="text"' in " ".join(e["prefer"])
                         for e in lists)
    q = lists[0]["query"]
    assert "%24orderby=receivedDateTime%20asc" in q or "$orderby=receivedDateTime" in q, q
    assert "count=true" in q, q
    # the moves went in one $batch
    assert [e["path"] for e in log if e["path"].endswith("$batch")] == ["/v1.0/$batch"]
    assert stack.sql("SELECT last_success_at IS NOT NULL, messages_waiting, lease_until "
                     "FROM mailbox WHERE id = %d" % w.mid) == [["1", "0", "NULL"]]  # drained
    # a second run finds nothing and creates nothing
    r = ok_scan(w)
    assert summary(r, w.mid)["found"] == 0
    assert len(w.tickets()) == 7


def test_many_messages_page_and_batch(world, stack, fake):
    w = world(first_scan="all")
    sent = [w.mail(subject="Bulk %d" % i) for i in range(57)]  # two pages, three batches
    r = ok_scan(w)
    assert summary(r, w.mid)["ticketed"] == 57, r.stdout
    exactly_once(w, sent)
    batches = [e for e in fake.log("graph_log") if e["path"].endswith("$batch")]
    assert len(batches) >= 3 and all(e["status"] == 200 for e in batches), batches


def test_usage_and_exit_codes(stack):
    r = subprocess.run([str(stack.bin / "postdesk-scan"), "--help"], capture_output=True,
                       text=True, env=scan_env(stack))
    assert r.returncode == 0 and "--once" in r.stdout and "--mailbox" in r.stdout
    for bad in (["--bogus"], ["--mailbox"], ["--mailbox", "x"], ["--mailbox", "0"]):
        r = scan(stack, *bad)
        assert r.returncode == 2, (bad, r.returncode, r.stderr)
        assert "postdesk-scan" in r.stderr
    r = subprocess.run([str(stack.bin / "postdesk-scan"), "--once"], capture_output=True,
                       text=True, env=dict(scan_env(stack), POSTDESK_CONF="/nonexistent.conf"))
    keep_stderr(stack, r.stderr)
    assert r.returncode == 2, (r.returncode, r.stderr)


def test_first_scan_new_only_skips_older_mail_all_imports_it(world, stack, fake):
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    w = world()  # new_only is the default
    before = w.mail(subject="Before connecting", received=old)
    after = w.mail(subject="After connecting")
    r = ok_scan(w)
    assert summary(r, w.mid)["ticketed"] == 1, r.stdout
    assert [t[1] for t in w.tickets()] == ["After connecting"]
    assert [m["immutableId"] for m in w.inbox()] == [before["immutable_id"]]
    list_q = [e["query"] for e in fake.log("graph_log") if re.search(LIST_PATH, e["path"])][0]
    assert "receivedDateTime%20ge%20" in list_q or "receivedDateTime ge" in list_q, list_q
    assert "1970" not in list_q
    assert after  # listed after the floor

    w2 = world(first_scan="all")
    w2.mail(subject="Old one", received=old)
    w2.mail(subject="New one")
    ok_scan(w2)
    assert [t[1] for t in w2.tickets()] == ["Old one", "New one"]
    assert w2.inbox() == []


# --- threading ------------------------------------------------------------------------

def outcome_of(w, immutable_id):
    rows = w.stack.sql("SELECT outcome, ticket_id, trace FROM incoming_email WHERE "
                       "mailbox_id = %d AND graph_id = '%s' ORDER BY attempt"
                       % (w.mid, immutable_id))
    assert rows, immutable_id
    return rows[-1]


def test_replies_thread_by_tag_references_and_conversation(world, stack):
    w = world(first_scan="all")
    first = w.mail(subject="VPN broken", cc=["carol@example.com"])
    ok_scan(w)
    (tid, _), = w.tickets()
    tag = w.mail(subject="RE: [#%s] VPN broken" % tid, body_text="still broken")
    irt = w.mail(subject="something else", headers=[{"name": "In-Reply-To",
                                                      "value": first["internet_message_id"]}])
    refs = w.mail(subject="other", headers=[{"name": "References", "value":
                                             "<unknown@x> " + first["internet_message_id"]}])
    conv = w.mail(subject="again", conversation_id=first["conversation_id"])
    cc_reply = w.mail(subject="RE: [#%s] VPN broken" % tid, **{"from": "carol@example.com"})
    stranger = w.mail(subject="RE: [#%s] VPN broken" % tid, **{"from": "eve@evil.example"})
    stranger_irt = w.mail(subject="hello", **{"from": "mallory@evil.example"},
                          headers=[{"name": "In-Reply-To",
                                    "value": first["internet_message_id"]}])
    r = ok_scan(w)
    s = summary(r, w.mid)
    assert (s["found"], s["updated"], s["ticketed"]) == (7, 5, 2), r.stdout
    for m, how in ((tag, "ticket tag [#%s]" % tid), (irt, "In-Reply-To/References"),
                   (refs, "In-Reply-To/References"), (conv, "conversationId"),
                   (cc_reply, "ticket tag")):
        outcome, ticket, trace = outcome_of(w, m["immutable_id"])
        assert (outcome, ticket) == ("ticket_updated", tid), (how, outcome, ticket, trace)
        assert "threaded to ticket %s by %s" % (tid, how) in trace, trace
    for m, who in ((stranger, "eve@evil.example"), (stranger_irt, "mallory@evil.example")):
        outcome, ticket, trace = outcome_of(w, m["immutable_id"])
        assert outcome == "ticket_created" and ticket != tid, (outcome, ticket, trace)
        assert "ticket %s matched by" % tid in trace and "%s never took part" % who in trace, \
            trace
    n = stack.sql("SELECT COUNT(*) FROM ticket_action WHERE ticket_id = %s" % tid)
    assert n == [["6"]], n
    # the stranger's ticket is theirs
    who = stack.sql("SELECT u.email FROM ticket t JOIN end_user u ON u.id = t.end_user_id "
                    "WHERE t.id = %s" % outcome_of(w, stranger["immutable_id"])[1])
    assert who == [["eve@evil.example"]]


# --- processed-mail actions -----------------------------------------------------------

def test_mark_read_leaves_mail_read_in_the_inbox(world, fake):
    w = world(first_scan="all", processed_action="mark_read")
    sent = [w.mail() for _ in range(3)]
    r = ok_scan(w)
    assert summary(r, w.mid)["ticketed"] == 3
    inbox = w.inbox()
    assert {m["immutableId"] for m in inbox} == {m["immutable_id"] for m in sent}
    assert all(m["isRead"] for m in inbox), inbox
    assert [x[3] for x in w.ledger()] == ["done"] * 3
    # processed mail is not taken in again (the ledger decides, not isRead),
    # and listings start from the read floor, not from the first connection
    floor = w.stack.sql("SELECT DATE_FORMAT(read_floor, '%%Y-%%m-%%dT%%H:%%i:%%sZ') FROM mailbox "
                        "WHERE id = %d" % w.mid)[0][0]
    w.mail(subject="Another")
    r = ok_scan(w)
    assert summary(r, w.mid)["ticketed"] == 1, r.stdout
    assert len(w.tickets()) == 4
    q = urllib.parse.unquote([e["query"] for e in fake.log("graph_log")
                              if re.search(LIST_PATH, e["path"])][-1])
    assert "isRead" not in q.split("$filter=")[1], q
    assert "receivedDateTime ge " + floor in q, (floor, q)


def test_move_to_folder(world, fake, stack):
    w = world(first_scan="all", processed_action="move_to_folder",
              processed_folder="Handled by postdesk")
    w.mail()
    # the folder does not exist yet: a clear error, nothing moved
    r = scan(stack, mailbox=w.mid)
    assert r.returncode == 1, (r.stdout, r.stderr)
    err = stack.sql("SELECT last_error FROM mailbox WHERE id = %d" % w.mid)[0][0]
    assert "Handled by postdesk" in err and "not found" in err, err
    assert len(w.inbox()) == 1 and w.tickets() == []
    fake.ctl("folders", {"mailbox": w.address, "display_name": "Handled by postdesk"})
    sent = [w.mail() for _ in range(2)]
    r = ok_scan(w)
    assert summary(r, w.mid)["ticketed"] == 3, r.stdout
    f = w.folders()
    assert f["Inbox"] == [] and f["Deleted Items"] == []
    assert {m["immutable_id"] for m in sent} <= {m["immutableId"] for m in
                                                 f["Handled by postdesk"]}
    assert len(f["Handled by postdesk"]) == 3


def test_folder_names_with_quotes(world, fake):
    w = world(first_scan="all", processed_action="move_to_folder", processed_folder="Bob's done")
    fake.ctl("folders", {"mailbox": w.address, "display_name": "Bob's done"})
    w.mail()
    ok_scan(w)
    assert len(w.folders()["Bob's done"]) == 1


# --- attachments ----------------------------------------------------------------------

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode()


def test_attachments_stored_with_inline_content_id(world, stack):
    w = world(first_scan="all")
    m = w.mail(subject="Screenshot", attachments=[
        {"name": "log.txt", "content_type": "text/plain", "content": "line 1\nline 2\n"},
        {"name": "shot.png", "content_type": "image/png", "content_b64": PNG,
         "is_inline": True, "content_id": "image001.png@01DA"}])
    ok_scan(w)
    rows = stack.sql(
        "SELECT t.name, t.content_type, t.size, COALESCE(t.content_id, ''), t.is_inline, "
        "HEX(t.content) FROM attachment t JOIN ticket_action a ON a.id = t.ticket_action_id "
        "JOIN incoming_email e ON e.id = a.incoming_email_id WHERE e.graph_id = '%s' "
        "ORDER BY t.name" % m["immutable_id"])
    png = base64.b64decode(PNG)
    assert rows == [
        ["log.txt", "text/plain", "14", "", "0", b"line 1\nline 2\n".hex().upper()],
        ["shot.png", "image/png", str(len(png)), "image001.png@01DA", "1", png.hex().upper()],
    ], [r[:5] for r in rows]


def test_an_inline_only_image_is_kept(world, stack, fake):
    """Graph says hasAttachments: false when the only attachments are
    inline; they come with the listing ($expand) all the same."""
    w = world(first_scan="all")
    m = w.mail(subject="Signature only", attachments=[
        {"name": "logo.png", "content_type": "image/png", "content_b64": PNG,
         "is_inline": True, "content_id": "logo@01DA"}])
    ok_scan(w)
    rows = stack.sql(
        "SELECT t.name, COALESCE(t.content_id, ''), t.is_inline, t.size FROM attachment t "
        "JOIN ticket_action a ON a.id = t.ticket_action_id JOIN incoming_email e ON "
        "e.id = a.incoming_email_id WHERE e.graph_id = '%s'" % m["immutable_id"])
    assert rows == [["logo.png", "logo@01DA", "1", str(len(base64.b64decode(PNG)))]], rows
    # no request of its own for the attachment, and the ledger keeps no bytes
    assert not any("/attachments" in e["path"] for e in fake.log("graph_log"))
    src = stack.sql("SELECT source FROM incoming_email WHERE graph_id = '%s'"
                    % m["immutable_id"])[0][0]
    assert "logo.png" in src and "contentBytes" not in src


def test_oversize_attachment_left_out_ticket_still_created(world, stack):
    w = world(first_scan="all")
    big = base64.b64encode(os.urandom(1536 * 1024)).decode()
    m = w.mail(subject="Big file", attachments=[
        {"name": "small.txt", "content": "small"},
        {"name": "huge.bin", "content_b64": big}])
    r = ok_scan(w, env={"POSTDESK_ATTACHMENT_MAX_MB": "1"})
    assert summary(r, w.mid)["ticketed"] == 1
    outcome, ticket, trace = outcome_of(w, m["immutable_id"])
    assert outcome == "ticket_created" and ticket != "NULL"
    assert "left out huge.bin (over the size cap)" in trace, trace
    names = stack.sql("SELECT t.name FROM attachment t JOIN ticket_action a ON "
                      "a.id = t.ticket_action_id WHERE a.ticket_id = %s" % ticket)
    assert names == [["small.txt"]]
    assert w.inbox() == []


# --- put back, rules, loops -----------------------------------------------------------

def test_mail_moved_back_to_the_inbox_is_processed_again(world, fake, stack):
    w = world(first_scan="all")
    m = w.mail(subject="Lost ticket")
    ok_scan(w)
    fake.ctl("messages/move", {"mailbox": w.address, "id": m["immutable_id"],
                               "folder": "inbox"})
    assert len(w.inbox()) == 1
    r = ok_scan(w)
    assert summary(r, w.mid)["found"] == 1
    rows = w.ledger(cols="attempt, state, outcome, trace")
    assert [r[:2] for r in rows] == [["1", "done"], ["2", "done"]], rows
    assert "attempt 2: the message was put back in the Inbox" in rows[1][3], rows[1][3]
    assert rows[1][2] in ("ticket_created", "ticket_updated")
    assert w.inbox() == []
    # and a third time
    fake.ctl("messages/move", {"mailbox": w.address, "id": m["immutable_id"]})
    ok_scan(w)
    assert [r[0] for r in w.ledger(cols="attempt")] == ["1", "2", "3"]


def test_ignore_rule_bins_the_mail_but_logs_and_moves_it(world, stack):
    w = world(first_scan="all")
    stack.sql("INSERT INTO email_rule (name, mailbox_id, position, enabled, match_mode, "
              "conditions, actions, created_at, updated_at) VALUES ('drop newsletters', %d, 1, "
              "1, 'all', '[{\"field\": \"subject\", \"op\": \"contains\", \"value\": "
              "\"newsletter\"}]', '{\"ignore\": true}', UTC_TIMESTAMP(), UTC_TIMESTAMP())"
              % w.mid)
    rule = stack.sql("SELECT MAX(id) FROM email_rule")[0][0]
    try:
        news = w.mail(subject="Weekly NEWSLETTER")
        real = w.mail(subject="Real problem")
        r = ok_scan(w)
        s = summary(r, w.mid)
        assert (s["ticketed"], s["ignored"]) == (1, 1), r.stdout
        row = stack.sql("SELECT outcome, rule_id, ticket_id, state, trace FROM incoming_email "
                        "WHERE graph_id = '%s'" % news["immutable_id"])[0]
        assert row[:4] == ["ignored_by_rule", rule, "NULL", "done"], row
        assert "ignored by rule %s" % rule in row[4], row
        assert outcome_of(w, real["immutable_id"])[0] == "ticket_created"
        assert w.inbox() == [] and len(w.folders()["Deleted Items"]) == 2
    finally:
        stack.sql("DELETE FROM email_rule WHERE id = %s" % rule)


def test_automatic_mail_is_marked_and_own_mail_suppressed(world, stack):
    w = world(first_scan="all")
    cases = {
        "auto": w.mail(headers=[{"name": "Auto-Submitted", "value": "auto-replied"}]),
        "not-auto": w.mail(headers=[{"name": "Auto-Submitted", "value": "no"}]),
        "bulk": w.mail(headers=[{"name": "Precedence", "value": "bulk"}]),
        "suppress": w.mail(headers=[{"name": "X-Auto-Response-Suppress", "value": "All"}]),
        "daemon": w.mail(**{"from": "MAILER-DAEMON@mx.example.com"}),
        "own": w.mail(**{"from": w.address}),
    }
    r = ok_scan(w)
    got = {}
    for k, m in cases.items():
        got[k] = stack.sql("SELECT outcome, COALESCE(automatic, ''), ticket_id IS NULL, state "
                           "FROM incoming_email WHERE graph_id = '%s'" % m["immutable_id"])[0]
    assert got["auto"][:3] == ["ticket_created", "Auto-Submitted: auto-replied", "0"], got
    assert got["not-auto"][:3] == ["ticket_created", "", "0"], got
    assert got["bulk"][1] == "Precedence: bulk", got
    assert "X-Auto-Response-Suppress" in got["suppress"][1], got
    assert got["daemon"][1] == "from mailer-daemon@mx.example.com", got
    assert got["own"][0] == "suppressed_loop" and got["own"][2] == "1", got
    assert "from connected mailbox" in got["own"][1], got
    assert all(g[3] == "done" for g in got.values()), got
    assert summary(r, w.mid)["ticketed"] == 5
    assert w.inbox() == []


def test_mail_from_another_connected_mailbox_is_automatic_but_ticketed(world, stack):
    w = world(first_scan="all")
    mid2, other = w.add_mailbox(local="sales", first_scan="all")
    m = w.mail(**{"from": other})
    ok_scan(w)
    row = stack.sql("SELECT outcome, automatic FROM incoming_email WHERE graph_id = '%s'"
                    % m["immutable_id"])
    assert row == [["ticket_created", "from connected mailbox %s" % other]], row


# --- exactly once, whatever happens --------------------------------------------------

def expire_lease(stack, mid):
    """What 90 seconds do to a killed scanner's lease."""
    stack.sql("UPDATE mailbox SET lease_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND "
              "WHERE id = %d" % mid)


def test_sigkill_at_random_points_still_exactly_once(world, stack, fake):
    w = world(first_scan="all")
    sent = [w.mail(subject="Crash %d" % i) for i in range(6)]
    # slow Graph down so every kill lands mid-flight: listing, moving
    fake.ctl("faults", {"path": LIST_PATH, "delay_ms": 250, "count": None})
    fake.ctl("faults", {"path": r"/move$", "delay_ms": 100, "count": None})
    fake.ctl("faults", {"path": r"\$batch$", "delay_ms": 250, "count": None})
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    killed = 0
    for i in range(22):
        # new mail keeps arriving between crashes, so every run has work
        sent += [w.mail(subject="Run %d.%d" % (i, k)) for k in range(2)]
        p = start_scan(stack, mailbox=w.mid)
        time.sleep(rng.uniform(0.1, 1.5))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        out, err = p.communicate(timeout=60)
        keep_stderr(stack, err)
        assert p.returncode in (0, -signal.SIGKILL), (seed, p.returncode, out, err)
        expire_lease(stack, w.mid)
        # a message never gets two ledger rows, even between crashes
        dup = stack.sql("SELECT graph_id, COUNT(*) FROM incoming_email WHERE mailbox_id = %d "
                        "GROUP BY graph_id HAVING COUNT(*) > 1" % w.mid)
        assert dup == [], (seed, dup)
    # most runs must really be killed mid-flight (timing varies with load)
    assert killed >= 8, (seed, killed)
    fake._call("DELETE", "faults")
    r = ok_scan(w)
    assert summary(r, w.mid)["errors"] == 0, r.stdout
    exactly_once(w, sent)


def test_leases_a_live_holder_blocks_a_dead_one_is_taken_over(world, stack, fake):
    w = world(first_scan="all")
    w.mail()
    # a scanner on another host holds the lease: this run skips the mailbox
    stack.sql("UPDATE mailbox SET lease_owner = 'elsewhere:1', lease_until = "
              "UTC_TIMESTAMP(3) + INTERVAL 60 SECOND WHERE id = %d" % w.mid)
    r = ok_scan(w)
    assert summary(r, w.mid) is None, r.stdout
    assert w.tickets() == [] and len(w.inbox()) == 1
    expire_lease(stack, w.mid)  # ... until it expires
    r = ok_scan(w)
    assert summary(r, w.mid)["ticketed"] == 1
    # a scanner on this host killed mid-pass: the next run takes over at once
    w.mail()
    fake.ctl("faults", {"path": LIST_PATH, "delay_ms": 3000, "count": 1})
    p = start_scan(stack, mailbox=w.mid)
    deadline = time.monotonic() + 20
    while not any(re.search(LIST_PATH, e["path"]) and e["status"] is None
                  for e in fake.log("graph_log")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    p.kill()
    keep_stderr(stack, p.communicate()[1])
    lease = stack.sql("SELECT lease_owner IS NOT NULL, lease_until > UTC_TIMESTAMP(3) "
                      "FROM mailbox WHERE id = %d" % w.mid)
    assert lease == [["1", "1"]], lease
    r = ok_scan(w)
    assert summary(r, w.mid)["ticketed"] == 1, r.stdout
    assert "which is gone" in stack.logs()
    assert stack.sql("SELECT lease_until FROM mailbox WHERE id = %d" % w.mid) == [["NULL"]]


def test_two_scanners_at_once_share_without_duplicates(world, stack, fake):
    w = world(first_scan="all")
    sent = [w.mail(subject="Pair %d" % i) for i in range(30)]
    fake.ctl("faults", {"path": r"\$batch$", "delay_ms": 150, "count": None})
    procs = [start_scan(stack, mailbox=w.mid) for _ in range(2)]
    procs += [start_scan(stack) for _ in range(1)]  # and one over every mailbox
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        keep_stderr(stack, err)
        outs.append(out)
        assert p.returncode in (0, 1), (p.returncode, out, err)
    fake._call("DELETE", "faults")
    # one of them did the work; the others skipped the leased mailbox
    lines = [o for o in outs if ("mailbox %d:" % w.mid) in o]
    assert len(lines) >= 1, outs
    ok_scan(w)
    exactly_once(w, sent)
    assert stack.sql("SELECT lease_until FROM mailbox WHERE id = %d" % w.mid) == [["NULL"]]


def test_throttling_storms_and_503s_on_the_list_still_complete(world, stack, fake):
    w = world(first_scan="all")
    sent = [w.mail() for _ in range(4)]
    fake.ctl("faults", {"path": LIST_PATH, "status": 503, "count": 2})  # backoff with jitter
    fake.ctl("faults", {"path": LIST_PATH, "status": 429, "retry_after": 1, "count": 3})
    fake.ctl("faults", {"path": r"/move$", "status": 429, "retry_after": 1, "count": 2})
    t0 = time.monotonic()
    r = ok_scan(w)
    took = time.monotonic() - t0
    exactly_once(w, sent)
    statuses = [e["status"] for e in fake.log("graph_log") if re.search(LIST_PATH, e["path"])]
    assert statuses[:5] == [503, 503, 429, 429, 429] and 200 in statuses, statuses
    assert took >= 6.5, took  # backoff 1-2 s, 2-4 s; Retry-After: 1 s, 3 times + the moves
    assert "waiting 1 s as Graph asked" in stack.logs()
    assert summary(r, w.mid)["errors"] == 0


def test_unending_503s_fail_the_mailbox_clearly(world, stack, fake):
    w = world(first_scan="all")
    w.mail()
    fake.ctl("faults", {"path": LIST_PATH, "status": 503, "retry_after": 1, "count": None})
    r = scan(stack, mailbox=w.mid, env={"POSTDESK_SCAN_SECONDS": "6"})
    fake._call("DELETE", "faults")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert summary(r, w.mid)["errors"] >= 1
    err = stack.sql("SELECT last_error FROM mailbox WHERE id = %d" % w.mid)[0][0]
    assert err.startswith("Scan failed"), err
    assert w.tickets() == []
    ok_scan(w)
    assert len(w.tickets()) == 1


def test_token_expiring_mid_run_is_refreshed_once(world, stack, fake):
    w = world(first_scan="all")
    sent = [w.mail() for _ in range(60)]
    fake.ctl("faults", {"path": r"\$batch$", "delay_ms": 300, "count": 1})
    before = len([e for e in fake.log("token_log") if e["grant_type"] == "refresh_token"])
    p = start_scan(stack, mailbox=w.mid)
    deadline = time.monotonic() + 30
    while not any(e["path"].endswith("$batch") for e in fake.log("graph_log")):
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.02)
    # postdesk still believes its token is good for an hour
    fake.ctl("access_tokens/expire", {"user": w.address})
    out, err = p.communicate(timeout=120)
    keep_stderr(stack, err)
    assert p.returncode == 0, (out, err)
    refreshes = [e for e in fake.log("token_log") if e["grant_type"] == "refresh_token"]
    assert len(refreshes) - before == 1, refreshes
    assert 401 in [e["status"] for e in fake.log("graph_log")]
    exactly_once(w, sent)
    assert stack.sql("SELECT status FROM mailbox WHERE id = %d" % w.mid) == [["connected"]]


def test_revoked_token_needs_reauth_other_mailbox_still_scanned(world, stack, fake):
    w = world(first_scan="all")
    mid2, addr2 = w.add_mailbox(local="sales", first_scan="all")
    w.mail(subject="to help")
    w.mail(mailbox=addr2, subject="to sales")
    fake.ctl("users/revoke_sessions", {"user": w.address})
    r = scan(stack)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert summary(r, mid2)["ticketed"] == 1, r.stdout
    assert summary(r, w.mid)["errors"] >= 1, r.stdout
    row = stack.sql("SELECT status, last_error_code, last_error, last_error_guidance "
                    "FROM mailbox WHERE id = %d" % w.mid)[0]
    assert row[0] == "needs_reauth", row
    assert "50173" in row[1] + row[2], row
    assert "Authorize" in row[3] or "authori" in row[3].lower(), row
    assert w.tickets() == [] and len(w.inbox()) == 1
    assert len(w.tickets(mid2)) == 1
    # a needs_reauth mailbox is not scanned again (no refresh storm)
    n = len(fake.log("token_log"))
    r = scan(stack, mailbox=w.mid)
    assert summary(r, w.mid) is None and len(fake.log("token_log")) == n


def test_malformed_graph_json_never_crashes_the_scanner(world, stack, fake):
    w = world(first_scan="all")
    good = [w.mail(subject="Good %d" % i) for i in range(3)]
    odd = w.mail(subject="odd one")
    huge = w.mail(subject="huge one")
    page = {"@odata.count": 99, "value": [
        {"id": odd["immutable_id"], "subject": 42, "from": "not an object",
         "sender": {"emailAddress": {"address": ["x"]}}, "toRecipients": {"a": 1},
         "ccRecipients": [None, 7], "body": "plain", "receivedDateTime": 12,
         "internetMessageHeaders": "nope", "hasAttachments": "yes", "conversationId": None},
        {"id": huge["immutable_id"], "subject": "\u00e9" * 300000,
         "from": {"emailAddress": {"name": "N" * 100000, "address": "Big@Example.com"}},
         "body": {"content": "B" * (2 << 20)}, "internetMessageId": "<" + "i" * 5000 + ">"},
        {"subject": "no id at all"},
        {"id": 12345},
        {"id": "../../etc/passwd"},
        "a string, not a message",
        None,
    ]}
    fake.ctl("faults", {"path": LIST_PATH, "body": page, "count": 1})
    r = ok_scan(w)
    s = summary(r, w.mid)
    assert s["errors"] >= 5, r.stdout
    o = outcome_of(w, odd["immutable_id"])
    assert o[0] == "rejected", o  # no usable sender
    assert "subject is not a string" in o[2] and "not an array" in o[2], o[2]
    h = stack.sql("SELECT outcome, CHAR_LENGTH(subject), from_addr, trace FROM incoming_email "
                  "WHERE graph_id = '%s'" % huge["immutable_id"])[0]
    assert h[0] == "ticket_created" and int(h[1]) <= 998 and h[2] == "big@example.com", h[:3]
    assert "subject cut" in h[3], h[3]
    assert "without a usable id" in stack.logs()
    # the good ones went through on the next listing, in the same run
    for m in good:
        assert outcome_of(w, m["immutable_id"])[0] == "ticket_created"
    assert w.inbox() == []


@pytest.mark.parametrize("body", ["<html>Service Unavailable</html>", "{\"value\": 5}",
                                  "[1, 2]", "{\"value\": [", ""])
def test_garbage_list_answers_fail_cleanly(world, stack, fake, body):
    w = world(first_scan="all")
    w.mail()
    fake.ctl("faults", {"path": LIST_PATH, "body": body, "count": 1})
    r = scan(stack, mailbox=w.mid)
    assert r.returncode in (0, 1), (r.returncode, r.stderr)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr
    ok_scan(w)
    assert len(w.tickets()) == 1 and w.inbox() == []


def test_garbage_attachment_and_batch_answers(world, stack, fake):
    w = world(first_scan="all")
    m = w.mail(attachments=[{"name": "a.txt", "content": "a"}])
    fake.ctl("faults", {"path": r"/attachments$", "body": {"value": [
        {"@odata.type": "#microsoft.graph.fileAttachment", "id": 5, "name": ["x"]},
        {"@odata.type": 7}, None, {"@odata.type": "#microsoft.graph.fileAttachment",
                                   "id": "AAMkAGAtt" + "x" * 40, "name": "ghost", "size": -4}]},
        "count": 1})
    fake.ctl("faults", {"path": r"\$batch$", "body": {"responses": [
        {"id": 7, "status": "201"}, None, {"id": m["immutable_id"]}]}, "count": 1})
    r = scan(stack, mailbox=w.mid)
    assert r.returncode in (0, 1), (r.returncode, r.stderr)
    ok_scan(w)
    rows = w.ledger(cols="state")
    assert rows and rows[-1] == ["done"], rows
    assert w.inbox() == [] and len(w.tickets()) == 1


@pytest.mark.stops_db
def test_database_stopped_mid_run(world, stack, fake):
    w = world(first_scan="all")
    sent = [w.mail() for _ in range(5)]
    fake.ctl("faults", {"path": LIST_PATH, "delay_ms": 2500, "count": 1})
    p = start_scan(stack, mailbox=w.mid)
    deadline = time.monotonic() + 20
    while not any(re.search(LIST_PATH, e["path"]) for e in fake.log("graph_log")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        stack.stop_db()
        out, err = p.communicate(timeout=120)
        keep_stderr(stack, err)
    finally:
        stack.start_db()
    assert p.returncode == 1, (p.returncode, out, err)
    assert summary(subprocess.CompletedProcess([], 1, out, err), w.mid)["errors"] >= 1, out
    assert "Sanitizer" not in err
    assert re.search(r"mailbox %d: scan failed: database error" % w.mid, stack.logs()), \
        stack.logs()[-3000:]
    expire_lease(stack, w.mid)
    r = ok_scan(w)
    exactly_once(w, sent)
    assert summary(r, w.mid)["errors"] == 0


def test_a_move_whose_answer_was_lost_is_finished_not_repeated(world, stack, fake):
    """The crash window between the $batch answer and the ledger update:
    the mail left the Inbox but its row still says stored."""
    w = world(first_scan="all")
    m = w.mail(subject="Lost answer")
    ok_scan(w)
    stack.sql("UPDATE incoming_email SET state = 'stored' WHERE graph_id = '%s'"
              % m["immutable_id"])
    ok_scan(w)
    assert w.ledger(cols="attempt, state") == [["1", "done"]]
    assert "no longer in the Inbox" in stack.logs()
    # put back by a person afterwards: a new attempt, not a silent move
    fake.ctl("messages/move", {"mailbox": w.address, "id": m["immutable_id"]})
    ok_scan(w)
    rows = w.ledger(cols="attempt, state, trace")
    assert [r[:2] for r in rows] == [["1", "done"], ["2", "done"]], rows
    assert "put back in the Inbox" in rows[1][2]


def test_big_text_bodies_do_not_block_the_mailbox(world, stack):
    w = world(first_scan="all")
    for i in range(5):
        w.mail(subject="Log %d" % i, body_text=("x" * 1023 + "\n") * 1000)
    r = scan(stack, mailbox=w.mid)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert len(w.tickets()) == 5 and w.inbox() == []
