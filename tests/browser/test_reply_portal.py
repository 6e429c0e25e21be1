"""Sending from the portal, in Chromium: the reply box on a ticket (body, cc,
an attached file read with FileReader), the ticket's outgoing mail and its
status, the Outgoing Email page (filters, guidance, Retry), and the
acknowledgement settings of the mailbox form.  Mail is made and sent the real
way (a mailbox connected to the fake Microsoft cloud, postdesk-scan).
"""
import os

import pytest

from pd_helpers import HOSTILE, Desk

# Desk's admin client: 30 s a request (the browser tests' sanitizer stack is slow).
DESK_TIMEOUT = 30


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login, timeout=DESK_TIMEOUT)
    r = d.admin.request("PATCH", "/api/mailboxes/%d" % d.mid, json={"ack_enabled": True})
    assert r.status_code == 200, r.text
    d.cust = "cust-%s@example.com" % os.urandom(3).hex()
    d.mail = d.send("Laptop " + HOSTILE, {"name": "Cust", "address": d.cust}, body="It is slow.")
    d.scan()  # the ticket, and its acknowledgement sent
    d.ticket = d.tickets()["items"][0]
    return d


def sent_log(desk):
    return [e for e in desk.fake.log("sent_log") if e["mailbox"] == desk.address]


def test_reply_from_the_ticket_page(admin_ui, desk, tmp_path):
    ui = admin_ui
    tid = desk.ticket["id"]
    ui.go("#/tickets/%d" % tid)
    ui.visible("#reply-form")
    assert ui.el("#reply-to").text == desk.cust
    # the acknowledgement is already there, sent
    ui.visible("#ticket-outgoing-table")
    ack = ui.el("#ticket-outgoing-table .outgoing-row")
    assert ack.get_attribute("data-status") == "sent" and "Acknowledgement" in ack.text
    assert "[#%d] Laptop %s" % (tid, HOSTILE) in ack.text
    ui.no_injected_markup()
    # an empty reply is refused in the page
    ui.click("#reply-send")
    ui.visible("#reply-body-error")
    f = tmp_path / "trace log.txt"
    f.write_bytes(b"line one\nline two \xe2\x9c\x93\n")
    ui.type("#reply-body", "Hello,\nplease try the new driver.")
    ui.type("#reply-cc", "boss@example.com, it@example.org")
    ui.el("#reply-files").send_keys(str(f))
    ui.text_in("#reply-chosen", "trace log.txt")
    ui.click("#reply-send")
    ui.text_in("#flash", "Reply queued")
    ui.until(lambda: len(ui.els("#ticket-outgoing-table .outgoing-row")) == 2)
    row = ui.el("#ticket-outgoing-table .outgoing-row")  # newest first
    assert row.get_attribute("data-status") == "queued" and "Reply" in row.text
    assert "boss@example.com" in row.text
    # the conversation shows it as an outgoing action
    last = ui.els("#conversation .conv-item")[-1]
    assert last.get_attribute("data-kind") == "email_out"
    assert "please try the new driver." in last.text
    # the scanner sends it: once, with cc and the file
    desk.scan()
    ui.go("#/tickets")
    ui.go("#/tickets/%d" % tid)
    ui.until(lambda: [r.get_attribute("data-status") for r in ui.els("#ticket-outgoing-table .outgoing-row")]
             == ["sent", "sent"])
    replies = [e for e in sent_log(desk) if e["to"] == [desk.cust] and "new driver" in e["body"]["content"]]
    assert len(replies) == 1, replies
    e = replies[0]
    assert e["cc"] == ["boss@example.com", "it@example.org"]
    assert e["attachments"] == ["trace log.txt"]
    assert "[#%d]" % tid in e["subject"]
    ui.no_alert()


def test_outgoing_page_shows_failures_with_guidance_and_retries(admin_ui, desk):
    ui = admin_ui
    tid = desk.ticket["id"]
    r = desk.admin.post("/api/tickets/%d/reply" % tid, json={"body": "This one fails first."})
    assert r.status_code == 202, r.text
    oid = r.json()["id"]
    desk.ctl("faults", {"path": r"/sendMail$", "status": 403, "code": "ErrorSendAsDenied", "count": 1})
    desk.scan()
    ui.go("#/outgoing")
    ui.visible("#outgoing-filters")
    assert ui.el("#nav-outgoing").get_attribute("aria-current") == "page"
    ui.select("#out-mailbox", str(desk.mid))
    ui.select("#out-status", "failed")
    ui.click("#out-apply")
    ui.until(lambda: "status=failed" in ui.d.current_url)
    row = ui.visible('#outgoing-table .outgoing-row[data-id="%d"]' % oid)
    assert "Failed" in row.text and "ErrorSendAsDenied" in row.text
    assert "Send as" in row.text  # the guidance: grant Send As
    assert all(r.get_attribute("data-status") == "failed" for r in ui.els("#outgoing-table .outgoing-row"))
    # a ticket filter that is not a number is refused in the page
    ui.type("#out-ticket", "abc")
    ui.click("#out-apply")
    ui.visible("#out-ticket-error")
    ui.type("#out-ticket", str(tid))
    ui.select("#out-status", "")
    ui.click("#out-apply")
    ui.until(lambda: "ticket=%d" % tid in ui.d.current_url)
    ui.click("#out-retry-%d" % oid)
    ui.text_in("#flash", "queued again")
    ui.until(lambda: ui.el('#outgoing-table .outgoing-row[data-id="%d"]' % oid)
             .get_attribute("data-status") == "queued")
    assert ui.els("#out-retry-%d" % oid) == []
    desk.scan()
    ui.go("#/outgoing?ticket=%d&status=sent" % tid)
    ui.visible('#outgoing-table .outgoing-row[data-id="%d"]' % oid)
    ui.no_injected_markup()
    ui.no_alert()


def test_mailbox_form_acknowledgement_settings(admin_ui, desk):
    ui = admin_ui
    ui.go("#/mailboxes/%d" % desk.mid)
    ui.visible("#mb-ack-settings")
    assert ui.el("#mb-ack-subject").get_attribute("value") == "[#{ticket}] {subject}"
    assert ui.el("#mb-ack-per-hour").get_attribute("value") == "5"
    # off hides the settings, on shows them again
    ui.click("#mb-ack-enabled")
    ui.gone("#mb-ack-settings")
    ui.click("#mb-ack-enabled")
    ui.visible("#mb-ack-settings")
    ui.type("#mb-ack-subject", "")
    ui.click("#mb-save")
    assert "1 to 255" in ui.field_error("ack_subject").text
    ui.type("#mb-ack-subject", "Re: {subject} (ticket {ticket})")
    ui.type("#mb-ack-body", "We have it: {subject}.\nTicket {ticket}.")
    ui.type("#mb-ack-per-hour", "3")
    ui.click("#mb-save")
    ui.until(lambda: desk.admin.get("/api/mailboxes/%d" % desk.mid).json()["ack_per_hour"] == 3)
    mb = desk.admin.get("/api/mailboxes/%d" % desk.mid).json()
    assert mb["ack_subject"] == "Re: {subject} (ticket {ticket})"
    assert mb["ack_body"] == "We have it: {subject}.\nTicket {ticket}."
    assert mb["ack_enabled"] is True
