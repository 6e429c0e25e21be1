"""Tickets (#/tickets), the incoming email log (#/incoming) and the mailbox
list's scan health, in Chromium.  Mail is made the real way (a mailbox
connected to the fake Microsoft cloud, postdesk-scan), and hostile mail
content must show as text: never markup, never a script run.
"""
import re
import secrets

import pytest

from pd_helpers import HOSTILE, Desk

# Desk's admin client: 30 s a request (the browser tests' sanitizer stack is slow).
DESK_TIMEOUT = 30


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login, timeout=DESK_TIMEOUT)
    d.send("Broken " + HOSTILE, {"name": "Mallory " + HOSTILE, "address": "mallory@example.com"},
           body="Look: " + HOSTILE + "\n<script>alert(2)</script>\nsecond line",
           attachments=[{"name": "<b>evil</b>.html", "content_type": "text/html",
                         "content": "<script>alert(3)</script>"}])
    d.scan()
    d.ticket = d.tickets()["items"][0]
    d.incoming = d.admin.get("/api/incoming-emails?mailbox=%d" % d.mid).json()["items"][0]
    return d


def test_ticket_shows_hostile_mail_as_text(admin_ui, desk):
    ui = admin_ui
    ui.go("#/tickets/%d" % desk.ticket["id"])
    ui.text_in("#page-title", "Broken")
    assert ui.el("#page-title").text == "Broken " + HOSTILE
    assert ui.el("#ticket-user").text == "Mallory %s <mallory@example.com>" % HOSTILE
    body = ui.el("#conversation .conv-item .conv-body")
    assert HOSTILE in body.text and "<script>alert(2)</script>" in body.text
    assert body.get_attribute("textContent").endswith("second line")
    link = ui.el("#conversation .attachment-link")
    assert link.text == "<b>evil</b>.html"
    assert re.search(r"/api/tickets/%d/attachments/[0-9]+$" % desk.ticket["id"], link.get_attribute("href"))
    assert link.get_attribute("download") == "<b>evil</b>.html"
    ui.no_injected_markup("main b")
    ui.no_alert()


def test_ticket_list_filters_and_status_change(admin_ui, desk):
    ui = admin_ui
    ui.go("#/tickets")
    ui.visible("#ticket-filters")
    ui.type("#tk-q", "mallory@")
    ui.click("#tk-apply")
    ui.until(lambda: len(ui.els("#ticket-table .ticket-link")) == 1)
    link = ui.el("#ticket-table .ticket-link")
    assert link.text == "Broken " + HOSTILE
    ui.no_injected_markup("main b")
    assert ui.el("#nav-tickets").get_attribute("aria-current") == "page"
    link.click()
    ui.visible("#ticket-status-form")
    ui.select("#tk-set-status", "pending")
    ui.click("#tk-save-status")
    ui.text_in("#flash", "Pending")
    assert ui.el('#ticket-status .badge').get_attribute("data-status") == "pending"
    ui.until(lambda: ui.els("#conversation .conv-status"))
    ui.go("#/tickets?status=pending")
    ui.until(lambda: [e.text for e in ui.els("#ticket-table .ticket-link")] == ["Broken " + HOSTILE])
    ui.no_alert()


def test_incoming_log_detail_and_reprocess(admin_ui, desk):
    ui = admin_ui
    ui.go("#/incoming?mailbox=%d" % desk.mid)
    ui.visible("#incoming-table")
    assert ui.el("#nav-incoming").get_attribute("aria-current") == "page"
    row = ui.el('#incoming-table .incoming-row[data-id="%d"]' % desk.incoming["id"])
    assert "Broken " + HOSTILE in row.text and "Ticket created" in row.text
    ui.no_injected_markup("main b")
    ui.click('#incoming-table .incoming-row[data-id="%d"] .incoming-link' % desk.incoming["id"])
    ui.visible("#in-trace")
    assert ui.el("#in-subject").text == "Broken " + HOSTILE
    assert "new ticket %d" % desk.ticket["id"] in ui.el("#in-trace").text
    assert '"subject": "Broken %s"' % HOSTILE in ui.el("#in-source").text
    ui.click("#in-reprocess")
    ui.text_in("#flash", "attempt 2")
    ui.text_in("#in-attempt", "2")
    assert "not fetched again" in ui.el("#in-trace").text
    ui.no_injected_markup("main b")
    ui.no_alert()


def test_mailbox_list_shows_scan_health(admin_ui, desk):
    ui = admin_ui
    ui.go("#/mailboxes")
    cell = ui.visible('.health[data-id="%d"]' % desk.mid)
    assert "Last scan" in cell.text and "(failed)" not in cell.text
    assert re.search(r"\b[0-9]+ messages? waiting", cell.text), cell.text


def test_long_conversation_pages_and_cut_bodies(admin_ui, stack):
    """Issue 9: the ticket page shows the newest 20 actions; "Older messages"
    puts the earlier ones above them; a body over 256 KiB comes cut and
    "Show the whole message" fetches it whole, as text."""
    tag = "long" + secrets.token_hex(4)
    stack.sql("INSERT INTO end_user (email, name, created_at) VALUES ('%s@example.com', 'Long', "
              "UTC_TIMESTAMP())" % tag)
    stack.sql("INSERT INTO ticket (end_user_id, subject, created_at, updated_at) SELECT id, '%s', "
              "UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM end_user WHERE email = '%s@example.com'" % (tag, tag))
    tid = int(stack.sql("SELECT id FROM ticket WHERE subject = '%s'" % tag)[0][0])
    stack.sql("INSERT INTO ticket_action (ticket_id, kind, from_addr, subject, body, created_at) "
              "SELECT %d, 'email_in', 'long@example.com', CONCAT('part ', seq), CONCAT('body ', seq, "
              "IF(seq = 25, CONCAT(REPEAT('<b>x</b>', 40000), ' the end'), '')), UTC_TIMESTAMP() "
              "FROM seq_1_to_25" % tid)
    ui = admin_ui
    ui.go("#/tickets/%d" % tid)
    ui.until(lambda: len(ui.els("#conversation .conv-item")) == 20)
    subjects = [e.text for e in ui.els("#conversation .conv-subject")]
    assert subjects == ["part %d" % i for i in range(6, 26)]
    last = ui.els("#conversation .conv-item")[-1]
    body = last.find_element("css selector", ".conv-body")
    assert not body.get_attribute("textContent").endswith("the end")
    last.find_element("css selector", ".conv-whole").click()
    ui.until(lambda: body.get_attribute("textContent").endswith("the end"))
    assert len(body.get_attribute("textContent")) == len("body 25") + 8 * 40000 + len(" the end")
    ui.click("#conv-older")
    ui.until(lambda: len(ui.els("#conversation .conv-item")) == 25)
    subjects = [e.text for e in ui.els("#conversation .conv-subject")]
    assert subjects == ["part %d" % i for i in range(1, 26)]
    ui.gone("#conv-older")
    ui.no_injected_markup("main b")
    ui.no_alert()
