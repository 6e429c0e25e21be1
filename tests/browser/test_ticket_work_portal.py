"""Working a ticket in Chromium (issue 12, item 4): priority and category,
internal notes (never mailed), assignment and "Assigned to me", the
"Automatic" badge and filter, an outgoing failure shown where it happened in
the conversation, and the incoming log's acknowledgement following the
outgoing queue.  Each test runs at 1400 px and at 390 px (no horizontal
overflow there) and saves a screenshot of each state it checks to
build/screenshots/.  Mail is made the real way: a mailbox connected to the
fake Microsoft cloud, postdesk-scan.
"""
import secrets

import pytest

from pd_helpers import Desk

DESK_TIMEOUT = 30  # s a request: the browser tests' sanitizer stack is slow


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    """Three tickets tagged with one random word: a customer's (its
    acknowledgement sent), an auto-reply's (marked automatic, no
    acknowledgement) and one whose acknowledgement Microsoft refused."""
    d = Desk(stack, fake_server, admin_login, timeout=DESK_TIMEOUT)
    r = d.admin.request("PATCH", "/api/mailboxes/%d" % d.mid, json={"ack_enabled": True})
    assert r.status_code == 200, r.text
    d.tag = "wk" + secrets.token_hex(4)
    d.send("Printer jams " + d.tag, {"name": "Cust", "address": "cust-%s@example.com" % d.tag},
           body="It jams on every page.")
    d.send("Automatic reply: Out of office " + d.tag, {"name": "Away", "address": "away-%s@example.com" % d.tag},
           body="I am out until Monday.", headers=[{"name": "Auto-Submitted", "value": "auto-replied"}])
    d.scan()
    d.ctl("faults", {"path": r"/sendMail$", "status": 403, "code": "ErrorSendAsDenied", "count": 1})
    d.send("VPN down " + d.tag, {"name": "Other", "address": "other-%s@example.com" % d.tag}, body="No VPN.")
    d.scan()
    by_subject = {t["subject"]: t for t in d.tickets(q=d.tag)["items"]}
    d.customer = by_subject["Printer jams " + d.tag]
    d.automatic = by_subject["Automatic reply: Out of office " + d.tag]
    d.refused = by_subject["VPN down " + d.tag]
    d.incoming = {e["subject"]: e for e in d.list("/api/incoming-emails", q=d.tag)["items"]}
    return d


@pytest.fixture
def ui(admin_ui, width):
    admin_ui.width = width
    return admin_ui


def check_layout(ui, name):
    """The screenshot; no sideways scrolling at any width."""
    ui.shot(name)
    ui.no_overflow()


def sent_log(desk):
    return [e for e in desk.fake.log("sent_log") if e["mailbox"] == desk.address]


def open_ticket(ui, t):
    ui.go("#/tickets")
    ui.go("#/tickets/%d" % t["id"])
    ui.text_in("#page-title", t["subject"])
    ui.visible("#conversation")


def list_tickets(ui, desk, **filters):
    """The list filtered through the filter bar: subjects shown."""
    ui.go("#/tickets")
    ui.visible("#ticket-filters")
    for css, value in (("#tk-assigned", filters.get("assigned", "")),
                       ("#tk-automatic", filters.get("automatic", ""))):
        ui.select(css, value)
    ui.type("#tk-q", desk.tag)
    ui.click("#tk-apply")
    ui.until(lambda: "q=" + desk.tag in ui.d.current_url)
    ui.until(lambda: ui.els("#ticket-table") or ui.els("#ticket-empty"))
    return [e.text for e in ui.els("#ticket-table .ticket-link")]


def row_of(ui, t):
    return ui.visible('#ticket-table .ticket-row[data-id="%d"]' % t["id"])


def test_priority_and_category_show_in_the_list(ui, desk):
    t = desk.customer
    priority, category = ("urgent", "Billing wide") if ui.width > 500 else ("high", "Billing narrow")
    open_ticket(ui, t)
    ui.select("#tk-priority", priority)
    ui.type("#tk-category", category)
    ui.click("#tk-save-work")
    ui.text_in("#flash", "Saved")
    ui.until(lambda: ui.el("#ticket-priority .badge").get_attribute("data-priority") == priority)
    assert ui.el("#ticket-category").text == category
    # the change is an event line of the conversation
    ui.until(lambda: any(category in e.text for e in ui.els("#conversation .conv-event")))
    check_layout(ui, "ticket_work-priority-saved")
    assert desk.admin.get("/api/tickets/%d" % t["id"]).json()["category"] == category
    assert "Printer jams " + desk.tag in list_tickets(ui, desk)
    row = row_of(ui, t)
    assert row.find_element("css selector", ".cell-priority .badge").get_attribute("data-priority") == priority
    assert row.find_element("css selector", ".tk-category").text == category
    check_layout(ui, "ticket_work-list-priority")


def test_note_is_internal_and_never_mailed(ui, desk):
    t = desk.customer
    text = "Called the customer %s at %d px; do not mail this." % (desk.tag, ui.width)
    open_ticket(ui, t)
    ui.visible("#ticket-outgoing-table")
    outgoing_before = len(desk.list("/api/outgoing-emails", ticket=t["id"])["items"])
    mailed_before = len(sent_log(desk))
    assert ui.el("#mode-reply").get_attribute("aria-pressed") == "true"
    assert not ui.el("#note-form").is_displayed()
    ui.click("#mode-note")
    assert ui.el("#mode-note").get_attribute("aria-pressed") == "true"
    ui.gone("#reply-form")
    assert "not mailed" in ui.visible("#note-body-help").text
    ui.click("#note-add")  # empty: refused in the page, at the field
    assert ui.field_error("body").text == "Write the note first."
    ui.type("#note-body", text)
    ui.click("#note-add")
    ui.text_in("#flash", "not mailed")
    ui.until(lambda: any(text in e.text for e in ui.els("#conversation .conv-note")))
    note = [e for e in ui.els("#conversation .conv-item") if text in e.text][-1]
    assert note.get_attribute("data-kind") == "note"
    assert "Internal note — not mailed" in note.text and "Portal Tester" in note.text
    check_layout(ui, "ticket_work-note")
    # no outgoing mail: not on the ticket, not in Outgoing Email, not at Microsoft
    desk.scan()
    assert len(desk.list("/api/outgoing-emails", ticket=t["id"])["items"]) == outgoing_before
    ui.go("#/outgoing?ticket=%d" % t["id"])
    ui.visible("#outgoing-table")
    assert len(ui.els("#outgoing-table .outgoing-row")) == outgoing_before
    assert text not in ui.el("#outgoing-table").text
    assert len(sent_log(desk)) == mailed_before


def test_assign_to_me_and_filter_assigned_to_me(ui, desk):
    t = desk.customer
    r = desk.admin.patch("/api/tickets/%d" % t["id"], json={"assignee_id": None})
    assert r.status_code == 200, r.text
    open_ticket(ui, t)
    assert ui.el("#ticket-assignee").text == "Unassigned"
    ui.click("#tk-assign-me")
    ui.text_in("#flash", "assigned to Portal Tester")
    ui.text_in("#ticket-assignee", "Portal Tester")
    assert ui.el("#tk-assignee option:checked").text == "Portal Tester (me)"
    assert ui.els("#tk-assign-me") == []  # already mine
    check_layout(ui, "ticket_work-assigned")
    assert list_tickets(ui, desk, assigned="me") == ["Printer jams " + desk.tag]
    assert "assigned=me" in ui.d.current_url
    assert row_of(ui, t).find_element("css selector", ".cell-assignee").text == "Portal Tester"
    check_layout(ui, "ticket_work-list-mine")
    unassigned = list_tickets(ui, desk, assigned="none")
    assert "Printer jams " + desk.tag not in unassigned and "VPN down " + desk.tag in unassigned


def test_automatic_badge_and_filter(ui, desk):
    auto = "Automatic reply: Out of office " + desk.tag
    assert list_tickets(ui, desk, automatic="true") == [auto]
    row = row_of(ui, desk.automatic)
    assert row.find_element("css selector", ".tk-automatic").text == "Automatic"
    check_layout(ui, "ticket_work-list-automatic")
    people = list_tickets(ui, desk, automatic="false")
    assert auto not in people and "Printer jams " + desk.tag in people
    assert not ui.els("#ticket-table .tk-automatic")
    # in the conversation the mail is marked automatic, not as the customer's
    open_ticket(ui, desk.automatic)
    first = ui.el("#conversation .conv-item")
    assert "conv-auto" in first.get_attribute("class").split()
    assert first.find_element("css selector", ".conv-kind").text == "Automatic mail"
    assert ui.el("#ticket-meta .tk-automatic").text == "Automatic"
    check_layout(ui, "ticket_work-automatic")


def test_failed_acknowledgement_shows_not_sent(ui, desk):
    t = desk.refused
    open_ticket(ui, t)
    ack = ui.visible('#conversation .conv-item[data-kind="email_out"]')
    assert ack.find_element("css selector", ".conv-kind").text == "Acknowledgement"
    delivery = ack.find_element("css selector", ".conv-delivery")
    assert delivery.get_attribute("data-status") == "failed"
    assert delivery.text.startswith("Not sent: ") and "ErrorSendAsDenied" in delivery.text
    link = delivery.find_element("css selector", ".conv-outgoing-link")
    assert link.get_attribute("href").endswith("#/outgoing?ticket=%d" % t["id"])
    # the customer's mail is told apart from it
    first = ui.el("#conversation .conv-item")
    assert first.find_element("css selector", ".conv-kind").text == "Customer"
    check_layout(ui, "ticket_work-not-sent")
    ui.click("#conversation .conv-outgoing-link")
    row = ui.visible("#outgoing-table .outgoing-row")
    assert row.get_attribute("data-status") == "failed" and "Acknowledgement" in row.text
    # and a sent one says so
    open_ticket(ui, desk.customer)
    sent = ui.visible('#conversation .conv-item[data-kind="email_out"] .conv-delivery')
    assert sent.get_attribute("data-status") == "sent"


def test_incoming_log_acknowledgement_follows_the_queue(ui, desk):
    sent = desk.incoming["Printer jams " + desk.tag]
    ui.go("#/incoming/%d" % sent["id"])
    badge = ui.visible("#in-ack .badge")
    assert badge.get_attribute("data-status") == "sent" and badge.text == "Sent"
    assert "queued" not in ui.el("#in-ack").text.lower()
    check_layout(ui, "ticket_work-incoming-ack-sent")
    refused = desk.incoming["VPN down " + desk.tag]
    ui.go("#/incoming/%d" % refused["id"])
    ui.until(lambda: ui.els("#in-ack .badge")
             and ui.el("#in-ack .badge").get_attribute("data-status") == "failed")
    assert "Not sent" in ui.el("#in-ack").text
    # an automatic mail's acknowledgement was never queued: the reason shows
    auto = desk.incoming["Automatic reply: Out of office " + desk.tag]
    ui.go("#/incoming/%d" % auto["id"])
    ui.text_in("#in-ack", "suppressed")


def test_refused_change_shows_at_its_field(ui, desk):
    """The API's 422 for a category over 100 characters (typed past the
    input's maxlength) is shown under Category; nothing is saved."""
    t = desk.refused
    open_ticket(ui, t)
    ui.set_value("#tk-category", "x" * 101)
    ui.click("#tk-save-work")
    err = ui.field_error("category")
    assert err.text
    assert ui.el("#tk-category").get_attribute("aria-invalid") == "true"
    assert ui.visible("#tk-work-error").text
    check_layout(ui, "ticket_work-refused-category")
    assert desk.admin.get("/api/tickets/%d" % t["id"]).json()["category"] is None


def incoming_row(ui, e):
    return ui.visible('#incoming-table .incoming-row[data-id="%d"]' % e["id"])


def ack_status(ui, e):
    """The acknowledgement's status under the outcome of e's row (None: no line)."""
    lines = incoming_row(ui, e).find_elements("css selector", ".cell-outcome .in-ack-line")
    if not lines:
        return None
    badge = lines[0].find_element("css selector", ".badge")
    assert lines[0].get_attribute("data-status") == badge.get_attribute("data-status")
    return badge.get_attribute("data-status")


def test_incoming_list_shows_the_acknowledgement(ui, desk, stack):
    """The log's rows carry the acknowledgement's state from the outgoing
    queue: queued while Microsoft throttles, sent once it went out, failed
    when refused; none for automatic mail (its page says why)."""
    subject = "Queued %s %d" % (desk.tag, ui.width)
    desk.ctl("faults", {"path": r"/sendMail$", "status": 429, "retry_after": 3600, "count": 1})
    desk.send(subject, {"name": "Wait", "address": "wait-%s@example.com" % desk.tag}, body="Hi.")
    desk.scan()
    (queued,) = desk.list("/api/incoming-emails", q=subject)["items"]
    assert queued["acknowledgement"]["status"] == "queued", queued

    ui.go("#/incoming?mailbox=%d&q=%s" % (desk.mid, desk.tag))
    ui.visible("#incoming-table")
    assert ack_status(ui, queued) == "queued"
    line = incoming_row(ui, queued).find_element("css selector", ".in-ack-line")
    assert line.text.split() == ["Acknowledgement", "Queued"]
    assert ack_status(ui, desk.incoming["Printer jams " + desk.tag]) == "sent"
    assert ack_status(ui, desk.incoming["VPN down " + desk.tag]) == "failed"
    assert ack_status(ui, desk.incoming["Automatic reply: Out of office " + desk.tag]) is None
    check_layout(ui, "ticket_work-incoming-list-ack-queued")

    # the queue sends it: the list follows
    stack.sql("UPDATE outgoing_email SET next_attempt_at = UTC_TIMESTAMP() WHERE id = %d"
              % queued["acknowledgement"]["outgoing_id"])
    desk.scan()
    ui.go("#/tickets")
    ui.visible("#ticket-table")
    ui.go("#/incoming?mailbox=%d&q=%s" % (desk.mid, desk.tag))
    ui.until(lambda: ack_status(ui, queued) == "sent", "the row shows the acknowledgement sent")
    check_layout(ui, "ticket_work-incoming-list-ack-sent")


def test_agent_works_a_ticket(portal, agent_login, desk, width):
    """A plain agent (not an admin): lands on Tickets with no admin page in
    the navigation, changes priority and category, adds an internal note,
    assigns the ticket to itself and finds it under "Assigned to: me"."""
    ui = portal
    ui.width = width
    subject = "Agent work %s %d" % (desk.tag, width)
    desk.send(subject, {"name": "Cara", "address": "cara-%s@example.com" % desk.tag}, body="Help.")
    desk.scan()
    (t,) = desk.tickets(q=subject)["items"]

    ui.login(*agent_login)
    ui.until(lambda: ui.d.current_url.endswith("/#/tickets"), "the agent lands on Tickets")
    ui.visible("#ticket-table")
    assert ui.el("#nav-tickets").get_attribute("aria-current") == "page"
    assert ui.els("#nav-mailboxes, #nav-rules, #nav-incoming") == []
    check_layout(ui, "ticket_work-agent-home")

    open_ticket(ui, t)
    assert ui.el("#ticket-assignee").text == "Unassigned"
    ui.select("#tk-priority", "high")
    ui.type("#tk-category", "Agent category %d" % width)
    ui.click("#tk-save-work")
    ui.text_in("#flash", "Saved")
    ui.until(lambda: ui.el("#ticket-priority .badge").get_attribute("data-priority") == "high")
    assert ui.el("#ticket-category").text == "Agent category %d" % width

    note = "Agent note %s at %d px." % (desk.tag, width)
    ui.click("#mode-note")
    ui.type("#note-body", note)
    ui.click("#note-add")
    ui.text_in("#flash", "not mailed")
    ui.until(lambda: any(note in e.text for e in ui.els("#conversation .conv-note")))

    ui.click("#tk-assign-me")
    ui.text_in("#flash", "assigned to")
    ui.until(lambda: ui.el("#tk-assignee option:checked").text.endswith("(me)"))
    assert ui.els("#tk-assign-me") == []
    check_layout(ui, "ticket_work-agent-ticket")

    after = desk.admin.get("/api/tickets/%d" % t["id"]).json()
    assert after["priority"] == "high" and after["category"] == "Agent category %d" % width
    assert after["assignee"]["username"] == agent_login[0]
    assert ui.el("#ticket-assignee").text == (after["assignee"]["name"] or agent_login[0])
    mine = list_tickets(ui, desk, assigned="me")
    assert subject in mine and "Printer jams " + desk.tag not in mine
    assert "assigned=me" in ui.d.current_url
    check_layout(ui, "ticket_work-agent-mine")
