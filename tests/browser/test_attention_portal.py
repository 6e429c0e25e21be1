"""Mail that needs attention (issue 8, "Isolation") in Chromium: the mailbox
list's "N mails need attention" link, the incoming email log filtered to
those mails, failures/error/next try on rows and in the detail view, Retry
(with the session's CSRF token), and the Quarantine folder field of the
mailbox form.  Rows are written as the scanner writes them; their subject,
sender and error are hostile and must show as text.
"""
import json
import re

import pytest

from pd_helpers import HOSTILE, Client, mailbox_input, new_api_key

HELP = ("Mail that fails 5 times is moved here, next to the Inbox, so it never blocks the "
        "mailbox; Retry in the incoming email log brings it back.")


def hexq(s):
    return "CONVERT(UNHEX('%s') USING utf8mb4)" % s.encode().hex()


def add_row(stack, mid, graph_id, attempt, outcome, state="done", failures=0, error=None,
            subject="A mail"):
    src = json.dumps({"id": graph_id, "subject": subject})
    stack.sql(
        "INSERT INTO incoming_email (mailbox_id, graph_id, attempt, from_addr, from_name, "
        "subject, received_at, created_at, size, sha256, source, outcome, trace, state, failures, "
        "error, next_try_at) VALUES (%d, '%s', %d, 'mallory@example.com', %s, %s, "
        "UTC_TIMESTAMP(), UTC_TIMESTAMP(3), %d, UNHEX(SHA2(%s, 256)), %s, '%s', 'test row', '%s', "
        "%d, %s, %s)"
        % (mid, graph_id, attempt, hexq("Mallory " + HOSTILE), hexq(subject), len(src), hexq(src),
           hexq(src), outcome, state, failures, hexq(error) if error else "NULL",
           "'2031-01-02 03:04:05'" if outcome == "failed" else "NULL"))
    return int(stack.sql("SELECT MAX(id) FROM incoming_email WHERE mailbox_id = %d" % mid)[0][0])


@pytest.fixture(scope="module")
def api(stack):
    _, key = new_api_key(stack, "admin")
    return Client(stack, {"Authorization": "Bearer " + key}, timeout=30)


@pytest.fixture
def held(stack, api):
    """A mailbox with one quarantined mail (hostile subject) needing attention,
    and one quarantined earlier but taken in since (not counted)."""
    r = api.post("/api/mailboxes", json=mailbox_input())
    assert r.status_code == 201, r.text
    mb = r.json()
    q = add_row(stack, mb["id"], "held-1", 1, "quarantined", failures=5,
                error="1366 Incorrect string value " + HOSTILE, subject="Stuck " + HOSTILE)
    add_row(stack, mb["id"], "held-2", 1, "quarantined", failures=5, error="old")
    add_row(stack, mb["id"], "held-2", 2, "ticket_created")
    return mb, q


def test_attention_link_filtered_log_and_retry(held, api, admin_ui):
    ui = admin_ui  # signed in after the rows were written: its mailbox list is fresh
    mb, qid = held
    ui.go("#/mailboxes")
    link = ui.visible('.health[data-id="%d"] .health-attention' % mb["id"])
    assert link.text == "1 mail needs attention"
    ui.click('.health[data-id="%d"] .health-attention' % mb["id"])
    ui.until(lambda: "attention=true" in ui.d.current_url)
    assert ui.d.current_url.endswith("#/incoming?mailbox=%d&attention=true" % mb["id"])
    ui.visible("#incoming-table")
    assert ui.el("#in-outcome").get_attribute("value") == "!attention"
    assert ui.el("#in-mailbox").get_attribute("value") == str(mb["id"])
    rows = ui.els("#incoming-table .incoming-row")
    assert [r.get_attribute("data-id") for r in rows] == [str(qid)]
    row = '#incoming-table .incoming-row[data-id="%d"]' % qid
    assert ui.el(row + " .incoming-link").text == "Stuck " + HOSTILE
    assert ui.el(row + " .cell-from").text == "Mallory %s <mallory@example.com>" % HOSTILE
    assert ui.el(row + ' [data-outcome="quarantined"]').text == "Quarantined"
    assert ui.el(row + " .in-isolation").text == "Failed 5 times; moved to the quarantine folder."
    assert ui.el(row + " .in-error").text == "1366 Incorrect string value " + HOSTILE
    ui.no_injected_markup()
    ui.no_alert()

    ui.click(row + " .in-retry")
    ui.text_in(row + " .in-retry-status", "brings this mail back from quarantine")
    assert ui.el(row + " .in-isolation").text == "Retry requested."
    assert ui.els(row + " .in-retry") == []
    got = api.get("/api/incoming-emails/%d" % qid).json()
    assert got["retry_requested"] is True and got["outcome"] == "quarantined"
    assert api.get("/api/mailboxes/%d" % mb["id"]).json()["attention"] == 0
    ui.go("#/mailboxes")
    ui.visible('.health[data-id="%d"]' % mb["id"])
    assert ui.els('.health[data-id="%d"] .health-attention' % mb["id"]) == []
    ui.no_alert()


@pytest.fixture
def failing(stack, api):
    """A mailbox with two failed mails, one with a hostile subject and error."""
    mb = api.post("/api/mailboxes", json=mailbox_input()).json()
    fid = add_row(stack, mb["id"], "fail-1", 1, "failed", state="failed", failures=2,
                  error="parse error " + HOSTILE, subject=HOSTILE)
    add_row(stack, mb["id"], "fail-2", 1, "failed", state="failed", failures=1, error="x")
    return mb, fid


def test_failed_mail_detail_and_retry(failing, api, admin_ui):
    ui = admin_ui
    mb, fid = failing
    ui.go("#/mailboxes")
    assert ui.visible('.health[data-id="%d"] .health-attention' % mb["id"]).text == \
        "2 mails need attention"
    ui.go("#/incoming?mailbox=%d&outcome=failed" % mb["id"])
    row = '#incoming-table .incoming-row[data-id="%d"]' % fid
    ui.visible(row)
    assert ui.el("#in-outcome").get_attribute("value") == "failed"
    # local time (fmt.js); the minutes are the same in every whole-hour zone
    assert re.fullmatch(r"Failed 2 times; next try [12] Jan 2031, \d\d:04\.", ui.el(row + " .in-isolation").text)
    ui.click(row + " .incoming-link")
    ui.text_in("#in-subject", HOSTILE)
    assert ui.el("#in-subject").text == HOSTILE
    assert ui.el("#in-failures").text == "2"
    assert ui.el("#in-error").text == "parse error " + HOSTILE
    assert ui.el("#in-next-try time").get_attribute("title") == "2031-01-02 03:04:05 UTC"
    assert ui.el("#in-retry-requested").text == "Not requested"
    assert ui.els("#in-reprocess") == []
    ui.no_injected_markup()
    ui.click("#in-retry")
    ui.text_in("#flash", "The next scan tries this mail again.")
    got = api.get("/api/incoming-emails/%d" % fid).json()
    assert got["outcome"] == "failed" and got["next_try_at"] < "2031"
    ui.no_alert()


def test_mailbox_form_quarantine_folder(admin_ui, api):
    ui = admin_ui
    ui.go("#/mailboxes/new")
    ui.present("#mailbox-form")
    assert ui.el("#mb-quarantine-folder").get_attribute("value") == "Postdesk quarantine"
    assert ui.el("#mb-quarantine-folder-help").text == HELP
    mb = api.post("/api/mailboxes", json=mailbox_input()).json()
    ui.go("#/mailboxes/%d" % mb["id"])
    ui.present("#mailbox-form")
    ui.until(lambda: ui.el("#mb-quarantine-folder").get_attribute("value") == "Postdesk quarantine")
    ui.type("#mb-quarantine-folder", "Inbox")
    ui.click("#mb-save")
    assert "Outlook's own folders" in ui.field_error("quarantine_folder").text
    ui.type("#mb-quarantine-folder", "  Held by postdesk ")
    ui.click("#mb-save")
    ui.until(lambda: api.get("/api/mailboxes/%d" % mb["id"]).json()["quarantine_folder"]
             == "Held by postdesk")
