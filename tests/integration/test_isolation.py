"""Real mail (issue 8): one message never stops a mailbox, and nothing of a
mail is lost.

The real postdesk-scan against the fake Microsoft cloud.  A message the
database refuses is made with a MariaDB trigger that fails the ticket
insert for subjects containing POISON — a stand-in for any refusal that is
the message's own fault; Graph-side failures are the fake's faults.
"""
import re
import time
import subprocess
import urllib.parse

import pytest

from test_scan import World, closing_factory, scan  # noqa: F401 (World for the fixture)

FAST = {"POSTDESK_RETRY_BACKOFF": "0", "POSTDESK_INTAKE_ATTEMPTS": "3"}
TALLY = re.compile(r"^mailbox (\d+): found (\d+), ticketed (\d+), .*, sent (\d+), send failed "
                   r"(\d+), intake failed (\d+), quarantined (\d+)$")
QUARANTINE = "Postdesk quarantine"
LIST_PATH = r"/mailFolders/inbox/messages$"


@pytest.fixture
def world(stack, fake, pd, admin_login):
    yield from closing_factory(lambda **fields: World(stack, fake, pd, admin_login, **fields))


@pytest.fixture
def poison(stack):
    """A trigger that makes the database refuse tickets whose subject says POISON."""
    def sql(statement):
        r = subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % stack.run,
                            "-uroot", "postdesk", "--delimiter=//", "-e", statement],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr

    sql("CREATE TRIGGER poison BEFORE INSERT ON ticket FOR EACH ROW "
        "IF NEW.subject LIKE '%POISON%' THEN SIGNAL SQLSTATE '45000' "
        "SET MESSAGE_TEXT = 'poisoned by the test'; END IF//")
    yield lambda: sql("DROP TRIGGER IF EXISTS poison//")
    sql("DROP TRIGGER IF EXISTS poison//")


def tally(r, mid):
    for line in r.stdout.splitlines():
        m = TALLY.match(line)
        if m and int(m.group(1)) == mid:
            k = ("found", "ticketed", "sent", "send_failed", "intake_failed", "quarantined")
            return dict(zip(k, map(int, m.groups()[1:])))
    raise AssertionError("no summary for mailbox %d in %r" % (mid, r.stdout))


def run(w, env=None, rc=0):
    r = scan(w.stack, mailbox=w.mid, env=env)
    assert r.returncode == rc, (r.returncode, r.stdout, r.stderr)
    return r


def row_of(w, graph_id, cols="attempt, outcome, state, failures, error, ticket_id, trace"):
    rows = w.stack.sql("SELECT %s FROM incoming_email WHERE mailbox_id = %d AND graph_id = '%s' "
                       "ORDER BY attempt" % (cols, w.mid, graph_id))
    assert rows, graph_id
    return rows


def test_a_message_the_database_refuses_never_stops_the_mailbox(world, stack, poison):
    w = world(first_scan="all")
    before = w.mail(subject="Before")
    bad = w.mail(subject="POISON pill")
    after = w.mail(subject="After")
    r = run(w, FAST)
    assert tally(r, w.mid) | {"sent": 0} == dict(found=3, ticketed=2, sent=0, send_failed=0,
                                                 intake_failed=1, quarantined=0), r.stdout
    # the others are tickets in the same run; the bad one waits in the Inbox
    assert sorted(t[1] for t in w.tickets()) == ["After", "Before"]
    assert [m["immutableId"] for m in w.inbox()] == [bad["immutable_id"]]
    (attempt, outcome, state, failures, error, ticket, trace), = row_of(w, bad["immutable_id"])
    assert (attempt, outcome, state, failures, ticket) == ("1", "failed", "failed", "1", "NULL")
    assert "poisoned by the test" in error and "failure 1" in trace, (error, trace)
    assert stack.sql("SELECT last_error FROM mailbox WHERE id = %d" % w.mid) == [["NULL"]]
    # tried again on each run; the third failure quarantines it
    run(w, FAST)
    assert row_of(w, bad["immutable_id"], "failures, outcome") == [["2", "failed"]]
    r = run(w, FAST)
    assert tally(r, w.mid)["quarantined"] == 1, r.stdout
    (attempt, outcome, state, failures, error, ticket, trace), = row_of(w, bad["immutable_id"])
    assert (outcome, state, failures) == ("quarantined", "done", "3")
    assert trace.count("failure ") == 3 and trace.endswith("quarantined"), trace
    f = w.folders()
    assert f["Inbox"] == []
    assert [m["immutableId"] for m in f[QUARANTINE]] == [bad["immutable_id"]]
    assert tally(run(w, FAST), w.mid)["found"] == 0  # the Inbox no longer pays for it
    # the log lists it; Retry after the cause is gone brings it back as a ticket
    items = w.browser.get("/api/incoming-emails", params={"mailbox": w.mid,
                                                         "outcome": "quarantined"}).json()["items"]
    assert [(i["graph_id"], i["failures"], i["retry_requested"]) for i in items] == \
        [(bad["immutable_id"], 3, False)]
    assert "poisoned by the test" in items[0]["error"]
    rp = w.browser.post("/api/incoming-emails/%d/reprocess" % items[0]["id"])
    assert rp.status_code == 409 and "Retry" in rp.json()["detail"], rp.text
    poison()
    rr = w.browser.post("/api/incoming-emails/%d/retry" % items[0]["id"])
    assert rr.status_code == 202 and rr.json()["retry_requested"] is True, rr.text
    r = run(w, FAST)
    assert tally(r, w.mid)["ticketed"] == 1, r.stdout
    rows = row_of(w, bad["immutable_id"], "attempt, outcome, state")
    assert rows == [["1", "quarantined", "done"], ["2", "ticket_created", "done"]], rows
    assert "brought back from quarantine" in row_of(w, bad["immutable_id"], "trace")[1][0]
    f = w.folders()
    assert f["Inbox"] == [] and f[QUARANTINE] == []
    assert sorted(t[1] for t in w.tickets()) == ["After", "Before", "POISON pill"]
    assert before and after
    rr = w.browser.post("/api/incoming-emails/%d/retry" % items[0]["id"])
    assert rr.status_code == 409, rr.text  # no longer the latest attempt


def test_a_failed_message_waits_for_its_backoff_and_retry_brings_it_forward(world, poison):
    w = world(first_scan="all")
    bad = w.mail(subject="POISON again")
    run(w)  # the default backoff: a minute
    (failures, due), = row_of(w, bad["immutable_id"],
                              "failures, next_try_at > UTC_TIMESTAMP() + INTERVAL 50 SECOND")
    assert (failures, due) == ("1", "1")
    r = run(w)
    assert tally(r, w.mid)["intake_failed"] == 0, r.stdout
    assert row_of(w, bad["immutable_id"], "failures")[0] == ["1"]
    ledger = row_of(w, bad["immutable_id"], "id")[0][0]
    rr = w.browser.post("/api/incoming-emails/%s/retry" % ledger)
    assert rr.status_code == 202 and rr.json()["outcome"] == "failed", rr.text
    run(w)
    (failures, wait), = row_of(w, bad["immutable_id"],
                               "failures, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), next_try_at)")
    assert failures == "2" and 200 <= int(wait) <= 240, (failures, wait)  # 60 s x 4
    assert w.browser.post("/api/incoming-emails/999999999/retry").status_code == 404


def test_an_unreadable_page_is_narrowed_to_the_one_broken_message(world, fake):
    w = world(first_scan="all")
    sent = [w.mail(subject="Fine %d" % i) for i in range(3)]
    broken = w.mail(subject="Broken")
    sent.append(w.mail(subject="Fine last"))
    fake.ctl("faults", {"path": LIST_PATH, "method": "GET", "count": 1, "body": "{\"value\": [tru"})
    fake.ctl("faults", {"path": re.escape(broken["immutable_id"].rstrip("=")) + r"[^/]*$",
                        "method": "GET", "count": None, "body": "{\"id\": 12, oops"})
    r = run(w, {"POSTDESK_INTAKE_ATTEMPTS": "1"})
    assert tally(r, w.mid)["ticketed"] == 4 and tally(r, w.mid)["quarantined"] == 1, r.stdout
    assert sorted(t[1] for t in w.tickets()) == ["Fine 0", "Fine 1", "Fine 2", "Fine last"]
    (outcome, error), = row_of(w, broken["immutable_id"], "outcome, error")
    assert outcome == "quarantined" and "malformed" in error, error
    f = w.folders()
    assert f["Inbox"] == [] and [m["subject"] for m in f[QUARANTINE]] == ["Broken"]
    # the next listing is an ordinary one again
    w.mail(subject="Later")
    run(w)
    lists = [e for e in fake.log("graph_log") if re.search(LIST_PATH, e["path"])]
    assert "expand" in lists[-1]["query"], lists[-1]


def test_nul_characters_are_kept_visible_and_stored(world, stack):
    w = world(first_scan="all")
    m = w.mail(subject="Hello\x00World", body_text="line one\x00line two",
               **{"from": {"name": "Bad\x00Name", "address": "nul@example.com"}})
    tail = w.mail(subject="Ordinary")
    run(w)
    subjects = sorted(t[1] for t in w.tickets())
    assert subjects == ["Hello\ufffdWorld", "Ordinary"], subjects
    body = stack.sql("SELECT a.body FROM ticket_action a JOIN incoming_email e ON "
                     "e.id = a.incoming_email_id WHERE e.graph_id = '%s'" % m["immutable_id"])
    assert body == [["line one\ufffdline two"]], body
    (trace, src_id), = row_of(w, m["immutable_id"], "trace, id")
    assert "NUL" in trace, trace
    detail = w.browser.get("/api/incoming-emails/%s" % src_id)
    assert detail.status_code == 200, detail.text
    assert "\\u0000" in detail.text and detail.json()["source"]["subject"] == "Hello\x00World"
    assert tail


def test_a_big_newsletter_keeps_its_body_and_costs_its_neighbours_nothing(world, stack, fake):
    w = world(first_scan="all")
    big = "<p>" + "Newsletter text. " * 300_000 + "</p>"  # ~5 MB
    letter = w.mail(subject="Newsletter", body_text=big)
    small = w.mail(subject="Small", body_text="Small but whole.")
    r = run(w)
    assert tally(r, w.mid)["ticketed"] == 2, r.stdout
    got = dict((s, n) for s, n in stack.sql(
        "SELECT t.subject, LENGTH(a.body) FROM ticket_action a JOIN ticket t ON t.id = a.ticket_id "
        "WHERE t.mailbox_id = %d" % w.mid))
    assert got == {"Newsletter": str(len(big)), "Small": str(len("Small but whole."))}, got
    (trace,), = row_of(w, letter["immutable_id"], "trace")
    assert "too large" not in trace, trace
    assert w.inbox() == [] and small
    # the batch answer carrying the big message was read, not taken for a network error
    assert "$batch of actions failed" not in stack.logs()


def test_a_next_page_link_to_another_host_is_not_followed(world, stack, fake):
    w = world(first_scan="all")
    w.mail(subject="One")
    fake.ctl("faults", {"path": LIST_PATH, "method": "GET", "count": None,
                        "body": {"value": [], "@odata.nextLink":
                                 "https://graph.example.net/v1.0/me/messages?$skip=50"}})
    r = run(w, rc=1)
    assert "next-page link" in r.stderr + stack.logs(), r.stderr
    (err,), = stack.sql("SELECT last_error FROM mailbox WHERE id = %d" % w.mid)
    assert err.startswith("Scan failed"), err


def test_sending_never_waits_on_reading(world, stack, fake):
    w = world(first_scan="all")
    w.mail(subject="Need help", **{"from": "reply-while-broken@example.com"})
    run(w)
    (ticket,), = [t[0] for t in w.tickets()],
    r = w.browser.post("/api/tickets/%s/reply" % ticket, json={"body": "On it."})
    assert r.status_code == 202, r.text
    fake.ctl("faults", {"path": LIST_PATH, "method": "GET", "status": 400, "count": None,
                        "code": "ErrorInvalidRequest"})
    r = run(w, rc=1)  # reading failed ...
    assert tally(r, w.mid)["sent"] == 1, r.stdout  # ... and the reply went out anyway
    sent = [e for e in fake.log("sent_log") if "On it." in str(e.get("body"))]
    assert sent, fake.log("sent_log")


def test_mark_as_read_takes_in_mail_read_before_the_scan_and_never_twice(world, stack, fake):
    w = world(first_scan="all", processed_action="mark_read")
    read = w.mail(subject="Read in Outlook first", is_read=True)
    w.mail(subject="Unread")
    r = run(w)
    assert tally(r, w.mid)["ticketed"] == 2, r.stdout
    assert all(m["isRead"] for m in w.inbox())
    # someone marks a processed mail unread again: still one ticket
    box = fake.server.state.user(w.address).mailbox
    box.message(read["immutable_id"]).is_read = False
    r = run(w)
    assert tally(r, w.mid)["ticketed"] == 0, r.stdout
    assert len(w.tickets()) == 2
    assert [x[0] for x in row_of(w, read["immutable_id"], "attempt")] == ["1"]
    w.mail(subject="New", is_read=True)
    assert tally(run(w), w.mid)["ticketed"] == 1
    q = urllib.parse.unquote([e["query"] for e in fake.log("graph_log")
                              if re.search(LIST_PATH, e["path"])][-1])
    assert "isRead" not in q.split("$filter=")[1], q


def test_forwarded_mail_and_invitations_are_kept_as_files(world, stack):
    w = world(first_scan="all")
    eml = ("From: alice@example.org\r\nTo: bob@example.com\r\nSubject: The original\r\n"
           "Message-ID: <orig@example.org>\r\n\r\nThe forwarded text.\r\n")
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Review\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    m = w.mail(subject="Fwd: The original", attachments=[
        {"name": "The original", "kind": "item", "mime": eml},
        {"name": "Review", "kind": "item", "mime": ics,
         "item": {"@odata.type": "#microsoft.graph.event", "subject": "Review"}},
        {"name": "notes.txt", "content_type": "text/plain", "content": "plain file"}])
    run(w)
    rows = stack.sql("SELECT t.name, t.content_type, LENGTH(t.content) FROM attachment t JOIN "
                     "ticket_action a ON a.id = t.ticket_action_id JOIN incoming_email e ON "
                     "e.id = a.incoming_email_id WHERE e.graph_id = '%s' ORDER BY t.name"
                     % m["immutable_id"])
    got = {r[0]: (r[1], int(r[2])) for r in rows}
    assert got == {"The original.eml": ("message/rfc822", len(eml)),
                   "Review.ics": ("text/calendar", len(ics)),
                   "notes.txt": ("text/plain", len("plain file"))}, got
    (trace,), = row_of(w, m["immutable_id"], "trace")
    assert "left out" not in trace, trace


def test_retry_under_mark_as_read_lists_below_the_read_floor(world, stack, poison):
    w = world(first_scan="all", processed_action="mark_read")
    two_hours_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
    bad = w.mail(subject="POISON from before", received=two_hours_ago)
    w.mail(subject="Fresh")
    r = run(w, {"POSTDESK_INTAKE_ATTEMPTS": "1"})
    assert tally(r, w.mid)["quarantined"] == 1, r.stdout
    above = stack.sql("SELECT read_floor > '%s' FROM mailbox WHERE id = %d"
                      % (two_hours_ago.replace("T", " ").rstrip("Z"), w.mid))
    assert above == [["1"]]  # the floor has moved past the quarantined mail
    poison()
    ledger = row_of(w, bad["immutable_id"], "id")[0][0]
    assert w.browser.post("/api/incoming-emails/%s/retry" % ledger).status_code == 202
    r = run(w)
    assert tally(r, w.mid)["ticketed"] == 1, r.stdout
    assert row_of(w, bad["immutable_id"], "attempt, outcome") == [["1", "quarantined"],
                                                                 ["2", "ticket_created"]]


def test_a_failed_mail_someone_removes_needs_no_attention(world, stack, fake, poison):
    w = world(first_scan="all")
    bad = w.mail(subject="POISON to be deleted")
    run(w)
    assert w.browser.get("/api/mailboxes/%d" % w.mid).json()["attention"] == 1
    fake.ctl("messages/move", {"mailbox": w.address, "id": bad["immutable_id"],
                               "folder": "deleteditems"})
    run(w)
    (outcome, state, trace, ledger), = row_of(w, bad["immutable_id"], "outcome, state, trace, id")
    assert (outcome, state) == ("failed", "done"), (outcome, state)
    assert trace.endswith("the message left the Inbox before it could be taken in"), trace
    assert w.browser.get("/api/mailboxes/%d" % w.mid).json()["attention"] == 0
    r = w.browser.post("/api/incoming-emails/%s/retry" % ledger)
    assert r.status_code == 409 and "left the Inbox" in r.json()["detail"], r.text


def attention(w):
    """The mailbox's attention in its answer and in the list, checked
    against a count of its ledger rows made now."""
    one = w.browser.get("/api/mailboxes/%d" % w.mid).json()["attention"]
    listed = [m["attention"] for m in w.browser.get("/api/mailboxes").json()["items"]
              if m["id"] == w.mid]
    counted = w.stack.sql(
        "SELECT COUNT(*) FROM incoming_email e WHERE e.mailbox_id = %d AND e.retry_requested = 0 "
        "AND (e.outcome = 'quarantined' OR (e.outcome = 'failed' AND e.state = 'failed')) "
        "AND NOT EXISTS (SELECT 1 FROM incoming_email n WHERE n.mailbox_id = e.mailbox_id "
        "AND n.graph_id = e.graph_id AND n.attempt > e.attempt)" % w.mid)
    assert listed == [one] and counted == [[str(one)]], (one, listed, counted)
    return one


def test_attention_is_exact_after_every_pass_and_retry(world, stack, poison):
    """The count kept on the mailbox row (sql/0011_mailbox_attention.sql)
    follows failures, quarantine, Retry and a successful retry."""
    w = world(first_scan="all")
    bad = w.mail(subject="POISON counted")
    assert attention(w) == 0
    run(w, FAST)
    assert attention(w) == 1  # failed, waits in the Inbox
    run(w, FAST)
    run(w, FAST)
    assert row_of(w, bad["immutable_id"], "outcome") == [["quarantined"]]
    assert attention(w) == 1
    ledger = row_of(w, bad["immutable_id"], "id")[0][0]
    assert w.browser.post("/api/incoming-emails/%s/retry" % ledger).status_code == 202
    assert attention(w) == 0  # a Retry is pending
    run(w, FAST)  # brought back, and refused again: the new attempt counts
    assert [r[0] for r in row_of(w, bad["immutable_id"], "outcome")][-1] == "failed"
    assert attention(w) == 1
    poison()
    latest = row_of(w, bad["immutable_id"], "id")[-1][0]
    assert w.browser.post("/api/incoming-emails/%s/retry" % latest).status_code == 202
    run(w, FAST)
    assert [r[0] for r in row_of(w, bad["immutable_id"], "outcome")][-1] == "ticket_created"
    assert attention(w) == 0
