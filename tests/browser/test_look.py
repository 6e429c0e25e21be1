"""The look of the lists (issue 12, items 1 and 6), in Chromium at 1400 and
390 px: Tickets, Incoming Email Log, Outgoing Email and Mailbox Setup have
no horizontal overflow; a long address or error stays one line with an
ellipsis and the whole value in its title; the count line matches the API's
total; plurals; dates in local time with the UTC one in the title.

Screenshots go to build/screenshots/look-<page>-<width>.png
(PD_SHOT_PREFIX=before- took the "before" ones from main's portal).
"""
import os
import re

import pytest

from pd_helpers import Desk

DESK_TIMEOUT = 30
PREFIX = os.environ.get("PD_SHOT_PREFIX", "")
TZ = "Europe/Berlin"  # local time differs from UTC: +01:00 in January
LONG_ADDR = ("escalations.department.customer-services-team.%s@"
             "subsidiary-company.regional-headquarters.example.com")
LONG_ERROR = ("ErrorSendAsDenied: The user account which was used to submit this request does not "
              "have the right to send mail on behalf of the specified sending account. Cannot "
              "submit message. " + "x" * 40 + "/a-very-long-unbroken-path-with-no-spaces-" + "y" * 60)
OLD_UTC = "2026-01-15 10:30:00"  # shown as 11:30 in Berlin

PAGES = {
    "tickets": ("#/tickets", "#ticket-table"),
    "incoming": ("#/incoming", "#incoming-table"),
    "outgoing": ("#/outgoing", "#outgoing-table"),
    "mailboxes": ("#/mailboxes", "#mailbox-table"),
}


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login, timeout=DESK_TIMEOUT)
    d.name = "Customer Support Escalations %s" % os.urandom(3).hex()
    r = d.admin.request("PATCH", "/api/mailboxes/%d" % d.mid, json={"name": d.name, "ack_enabled": True})
    assert r.status_code == 200, r.text
    d.cust = LONG_ADDR % os.urandom(3).hex()
    d.send("Printer on the third floor prints only blank pages since the update",
           {"name": "", "address": d.cust}, body="Please help.")
    d.send("Second question", {"name": "Bob", "address": "bob-%s@example.com" % os.urandom(3).hex()})
    d.scan()  # two tickets, their acknowledgements sent
    tickets = d.tickets()["items"]
    assert len(tickets) == 2, tickets
    d.ticket = [t for t in tickets if t["end_user"]["email"] == d.cust][0]
    r = d.admin.post("/api/tickets/%d/reply" % d.ticket["id"], json={"body": "Fails."})
    assert r.status_code == 202, r.text
    d.failed = r.json()["id"]
    # A failure whose error is long and partly unbroken, from long ago.
    stack.sql("UPDATE outgoing_email SET status = 'failed', attempts = 1, last_error = '%s', "
              "created_at = '%s' WHERE id = %d" % (LONG_ERROR, OLD_UTC, d.failed))
    return d


def local_zone(ui):
    ui.d.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": TZ})


def test_lists_fit_and_screenshots(admin_ui, desk, width):
    ui = admin_ui
    local_zone(ui)
    for page, (route, table) in PAGES.items():
        ui.go(route + ("?mailbox=%d" % desk.mid if page != "mailboxes" else ""))
        ui.visible(table)
        ui.until(lambda: ui.d.execute_script("return document.readyState") == "complete")
        ui.shot(PREFIX + "look-" + page)
        if not PREFIX:  # the "before" run only records main's look
            ui.no_overflow()
    if PREFIX:
        return
    # the navigation too: every entry within the viewport's width
    for a in ui.els("nav a"):
        if a.is_displayed():
            box = a.rect
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (a.text, box)


def cut_to_one_line(ui, el, whole):
    """el shows whole on one line, cut with an ellipsis, or in full; its
    title (or its own text) holds the whole value."""
    m = ui.d.execute_script(
        "const e = arguments[0], s = getComputedStyle(e);"
        "return {h: e.getBoundingClientRect().height, line: parseFloat(s.lineHeight),"
        " sw: e.scrollWidth, cw: e.clientWidth, overflow: s.textOverflow, ws: s.whiteSpace,"
        " title: e.title, text: e.textContent};", el)
    assert m["text"] == whole
    assert m["title"] == whole
    assert m["ws"] == "nowrap" and m["overflow"] == "ellipsis", m
    assert m["h"] < 1.6 * m["line"], m  # one line
    return m


def test_long_address_and_error_are_one_line_with_the_whole_value_in_the_title(admin_ui, desk, width):
    ui = admin_ui
    ui.go("#/outgoing?mailbox=%d" % desk.mid)
    row = ui.visible('#outgoing-table .outgoing-row[data-id="%d"]' % desk.failed)
    to = row.find_element("css selector", ".cell-to .trunc")
    m = cut_to_one_line(ui, to, desk.cust)
    assert m["sw"] > m["cw"]  # really cut: the address is longer than its cell
    err = row.find_element("css selector", ".cell-error .out-error-text")
    m = cut_to_one_line(ui, err, LONG_ERROR)
    assert m["sw"] > m["cw"]
    # the mailbox name is cut too, never broken inside a word
    mb = row.find_element("css selector", ".cell-mailbox .trunc")
    cut_to_one_line(ui, mb, desk.name)
    if width == 1400:  # a table row, not a stacked card: a bounded height
        for r in ui.els("#outgoing-table .outgoing-row"):
            assert r.rect["height"] < 80, (r.get_attribute("data-id"), r.rect)
    ui.shot("look-outgoing-long")
    # the incoming log: the long sender
    ui.go("#/incoming?mailbox=%d&q=Printer" % desk.mid)
    cell = ui.visible("#incoming-table .incoming-row .cell-from .trunc")
    cut_to_one_line(ui, cell, desk.cust)
    ui.no_overflow()
    # Mailbox Setup: a name wraps between words only
    ui.go("#/mailboxes")
    link = ui.visible('#mailbox-table .mailbox-row[data-id="%d"] .mailbox-link' % desk.mid)
    words = ui.d.execute_script(
        "const r = document.createRange(), n = arguments[0].firstChild, out = [];"
        "let top = null, word = '';"
        "for (let i = 0; i < n.length; i++) { r.setStart(n, i); r.setEnd(n, i + 1);"
        "  const t = Math.round(r.getBoundingClientRect().top);"
        "  if (top !== null && t > top + 2 && n.data[i - 1] !== ' ') out.push(i);"
        "  top = t; }"
        "return out;", link)
    assert words == [], "the mailbox name breaks inside a word at %s" % words
    ui.no_overflow()


def count_text(ui, css):
    return ui.visible(css).text


def test_counts_match_the_data_and_plurals(admin_ui, desk, stack):
    ui = admin_ui
    api = desk.admin
    for route, css, path, one, many in (
            ("#/tickets", "#ticket-count", "/api/tickets", "ticket", "tickets"),
            ("#/incoming", "#incoming-count", "/api/incoming-emails", "mail", "mails"),
            ("#/outgoing", "#outgoing-count", "/api/outgoing-emails", "mail", "mails")):
        total = api.get(path + "?mailbox=%d" % desk.mid).json()["total"]
        assert total > 1
        ui.go("%s?mailbox=%d" % (route, desk.mid))
        ui.until(lambda: count_text(ui, css) == "%d %s" % (total, many), route)
        assert ui.el(css).get_attribute("data-total") == str(total)
    # one of one: singular
    ui.go("#/tickets?mailbox=%d&q=Second" % desk.mid)
    ui.until(lambda: count_text(ui, "#ticket-count") == "1 ticket")
    # Mailbox Setup: plurals in the scan health
    stack.sql("UPDATE mailbox SET messages_waiting = 1 WHERE id = %d" % desk.mid)
    ui.go("#/mailboxes")
    ui.until(lambda: ui.el('.health[data-id="%d"] .health-waiting' % desk.mid).text == "1 message waiting")
    stack.sql("UPDATE mailbox SET messages_waiting = 2 WHERE id = %d" % desk.mid)
    ui.go("#/tickets")
    ui.visible("#ticket-table")
    ui.go("#/mailboxes")
    ui.until(lambda: ui.el('.health[data-id="%d"] .health-waiting' % desk.mid).text == "2 messages waiting")


def test_paging_counts_from_where_the_page_starts(admin_ui, desk):
    """The cursor is opaque: the portal's from= says where a page starts
    ("2–3 of 3 mails" for the page after the first mail)."""
    ui = admin_ui
    body = desk.admin.get("/api/outgoing-emails?mailbox=%d&limit=1" % desk.mid).json()
    total = body["total"]
    ui.go("#/outgoing?mailbox=%d&cursor=%s&from=2" % (desk.mid, body["next_cursor"]))
    ui.until(lambda: count_text(ui, "#outgoing-count") == "2–%d of %d mails" % (total, total))
    assert ui.visible("#out-first").get_attribute("href").endswith("#/outgoing?mailbox=%d" % desk.mid)


def test_empty_states_match_the_filters(admin_ui, desk):
    ui = admin_ui
    ui.go("#/tickets?mailbox=%d&q=no-such-ticket-anywhere" % desk.mid)
    ui.text_in("#ticket-empty .empty-title", "Nothing matches these filters")
    assert ui.els("#ticket-count") == []
    ui.click("#ticket-empty-clear")
    ui.visible("#ticket-table")
    assert ui.d.current_url.endswith("#/tickets")
    ui.go("#/outgoing?mailbox=%d&status=held" % desk.mid)
    ui.text_in("#outgoing-empty .empty-title", "Nothing matches these filters")
    ui.shot("look-outgoing-empty")


def test_dates_are_local_with_utc_in_the_title(admin_ui, desk):
    ui = admin_ui
    local_zone(ui)
    ui.go("#/outgoing?mailbox=%d" % desk.mid)
    cell = ui.visible('#outgoing-table .outgoing-row[data-id="%d"] .cell-time time' % desk.failed)
    assert cell.get_attribute("title") == OLD_UTC + " UTC"
    assert cell.get_attribute("datetime") == OLD_UTC.replace(" ", "T") + "Z"
    # 10:30 UTC is 11:30 in Berlin in January
    assert re.fullmatch(r"15 Jan(uary)?( 2026)?, 11:30", cell.text), cell.text
    recent = ui.el('#outgoing-table .outgoing-row:not([data-id="%d"]) .cell-time time' % desk.failed)
    assert re.fullmatch(r"just now|\d+ min ago", recent.text), recent.text
    assert recent.get_attribute("title").endswith(" UTC")
    # the words for other distances, from a fixed now (Berlin, 2026-03-10 14:02)
    words = ui.d.execute_script(
        "const F = window.postdeskFmt, now = new Date('2026-03-10T13:02:00Z');"
        "return ['2026-03-10T12:57:00Z', '2026-03-10T13:10:00Z', '2026-03-10T08:00:00Z',"
        " '2026-03-09T13:02:00Z', '2026-03-11T07:30:00Z', '2026-02-01T09:05:00Z',"
        " '2025-12-24T18:00:00Z'].map((t) => F.when(t, now))"
        ".concat([F.plural(1, 'message'), F.plural(2, 'message'), F.plural(0, 'mail'),"
        " F.range(1, 50, 312, 'ticket', 'tickets'), F.range(51, 50, 312, 'ticket'), F.range(1, 1, 1, 'ticket')]);")
    assert words == ["5 min ago", "in 8 min", "today 09:00", "yesterday 14:02", "tomorrow 08:30",
                     "1 Feb, 10:05", "24 Dec 2025, 19:00",
                     "1 message", "2 messages", "0 mails",
                     "1–50 of 312 tickets", "51–100 of 312 tickets", "1 ticket"]
    ui.shot("look-dates")


def test_other_pages_fit(admin_ui, desk, width):
    """Every other page at this width: no horizontal overflow either."""
    ui = admin_ui
    inc = desk.admin.get("/api/incoming-emails?mailbox=%d" % desk.mid).json()["items"][0]["id"]
    for name, route, css in (
            ("ticket", "#/tickets/%d" % desk.ticket["id"], "#reply-form"),
            ("incoming-one", "#/incoming/%d" % inc, "#in-trace"),
            ("mailbox-form", "#/mailboxes/%d" % desk.mid, "#mailbox-form"),
            ("mailbox-new", "#/mailboxes/new", "#mailbox-form"),
            ("rules", "#/rules", "main h1")):
        ui.go(route)
        ui.visible(css)
        ui.shot("look-" + name)
        ui.no_overflow()
