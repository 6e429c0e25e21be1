"""Field errors from the API at their fields, in Chromium (issue 12, item 3).

Every form that posts shows a problem+json answer's errors [{field, message}]
under the controls they name (aria-invalid, aria-describedby), with the
field's human label in the form's summary (never a raw path such as
`conditions[0].value`), and gives the first bad control the focus.  The rule
form's cards keep their columns when the summary appears.  Each test runs at
1400 and 390 px (no horizontal overflow) and saves a screenshot of the state
it checks to build/screenshots/<test>-<width>.png.
"""
import os

import pytest

from pd_helpers import Desk

DESK_TIMEOUT = 30  # Desk's admin client; the sanitizer stack is slow


@pytest.fixture
def ui(portal, admin_login, width):
    portal.login_ok(*admin_login)
    return portal


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login, timeout=DESK_TIMEOUT)
    d.send("Printer jam", {"name": "Cust", "address": "cust-%s@example.com" % os.urandom(3).hex()},
           body="It jams.")
    d.scan()
    d.ticket = d.tickets()["items"][0]
    return d


def no_overflow(ui):
    """Nothing on the page reaches past the window's width."""
    w, inner = ui.d.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    wide = ui.d.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter(function (e) {"
        "  return e.getBoundingClientRect().right > innerWidth + 0.5; }).slice(0, 8).map(function (e) {"
        "  return e.tagName + '#' + e.id + '.' + e.className; })")
    assert w <= inner and not wide, "wider than the window (%d > %d px): %s" % (w, inner, wide)


def active_id(ui):
    return ui.d.execute_script("return document.activeElement && document.activeElement.id")


def described_by(ui, control_id):
    ids = (ui.el("#" + control_id).get_attribute("aria-describedby") or "").split()
    return [ui.d.execute_script("var e = document.getElementById(arguments[0]); return e && e.textContent", i)
            for i in ids]


def assert_field_error(ui, control_id, text):
    """text is under the control, which is invalid and described by it."""
    err = ui.visible("#%s-error" % control_id)
    assert text in err.text, err.text
    assert ui.el("#" + control_id).get_attribute("aria-invalid") == "true"
    assert any(text in (d or "") for d in described_by(ui, control_id))
    # under the control: below it, overlapping its column
    c = ui.el("#" + control_id).rect
    e = err.rect
    assert e["y"] >= c["y"] + c["height"] - 1, (c, e)
    assert e["x"] < c["x"] + c["width"] and e["x"] + e["width"] > c["x"], (c, e)
    return err


# ------------------------------------------------------------ reply


def test_reply_bad_cc_shows_under_cc(ui, desk, width, request):
    tid = desk.ticket["id"]
    before = len(desk.list("/api/outgoing-emails", ticket=tid)["items"])
    ui.go("#/tickets/%d" % tid)
    ui.visible("#reply-form")
    # the form's own check: an empty reply, at the body
    ui.click("#reply-send")
    assert_field_error(ui, "reply-body", "Write the reply first.")
    assert active_id(ui) == "reply-body"
    # the API's answer: {"field": "cc", "message": "\"not-an-address\" is not an email address."}
    ui.type("#reply-body", "Hello, try again please.")
    ui.type("#reply-cc", "boss@example.com, not-an-address")
    ui.click("#reply-send")
    err = assert_field_error(ui, "reply-cc", '"not-an-address" is not an email address.')
    ui.gone("#reply-body-error")
    assert ui.el("#reply-body").get_attribute("aria-invalid") is None
    # the message sits in the Cc field, with its label
    field = ui.d.execute_script("return arguments[0].closest('.field')", err)
    assert field.find_element("css selector", "label").text.startswith("Cc")
    assert active_id(ui) == "reply-cc"
    summary = ui.visible("#reply-error").text
    assert 'Cc: "not-an-address" is not an email address.' in summary
    assert "The reply was not sent" in summary
    assert ui.el("#reply-error .problem-field").tag_name == "a"
    assert len(desk.list("/api/outgoing-emails", ticket=tid)["items"]) == before
    no_overflow(ui)
    ui.shot()


def test_status_change_error_at_the_select(ui, desk, width, request):
    ui.go("#/tickets/%d" % desk.ticket["id"])
    ui.visible("#ticket-status-form")
    # An option the API does not know: its 422 names the field "status".
    ui.d.execute_script(
        "var s = document.getElementById('tk-set-status');"
        "s.appendChild(new Option('Archived', 'archived')); s.value = 'archived';")
    ui.click("#tk-save-status")
    assert_field_error(ui, "tk-set-status", "Must be new, open, pending, resolved or closed.")
    assert active_id(ui) == "tk-set-status"
    assert "Status: Must be new" in ui.el("#tk-status-error").text
    no_overflow(ui)
    ui.shot()


# ------------------------------------------------------------ rules


@pytest.fixture
def rules_clean(stack):
    stack.sql("DELETE FROM email_rule")
    yield
    stack.sql("DELETE FROM email_rule")


def card_boxes(ui):
    return ui.d.execute_script(
        "return Array.from(document.querySelectorAll('#rule-form section.card')).map(function (s) {"
        "  var r = s.getBoundingClientRect();"
        "  return [s.querySelector('h2').textContent, Math.round(r.left), Math.round(r.width)]; })")


def test_rule_condition_error_at_the_condition(ui, width, request, rules_clean):
    ui.go("#/rules/new")
    ui.present("#rule-form")
    ui.type("#rule-name", "Bin newsletters")
    ui.click("#cond-add")
    rows = ui.els("#rule-conditions .cond-row")
    assert len(rows) == 2
    first_value = rows[0].find_element("css selector", ".cond-value")
    assert first_value.get_attribute("aria-label") == "Condition 1: value"
    ui.type("#rule-conditions .cond-row:nth-child(2) .cond-value", "newsletter")
    before = card_boxes(ui)
    assert [b[0] for b in before] == ["Rule", "When", "Then"]
    if width >= 1400:  # two columns: Rule and When on the left, Then beside them
        assert before[0][1] == before[1][1] < before[2][1]
    ui.click("#rule-save")
    vid = first_value.get_attribute("id")
    err = assert_field_error(ui, vid, "Enter the text to look for")
    assert err.text.startswith("Condition 1: value")
    # at the first condition, not the second
    assert ui.d.execute_script("return arguments[0].closest('.cond-row')", err) == rows[0]
    assert rows[1].find_elements("css selector", ".field-error") == []
    assert active_id(ui) == vid
    summary = ui.visible("#form-error").text
    assert "The rule was not saved" in summary
    assert "Condition 1: value — Enter the text to look for" in summary
    assert "conditions[" not in ui.el("main").text
    # the summary appeared above the cards; none changed column or width
    assert card_boxes(ui) == before
    assert ui.el("#form-error").rect["y"] < ui.el("#rule-form section.card").rect["y"]
    no_overflow(ui)
    ui.shot()


def test_rule_field_and_dry_run_errors(ui, width, request, rules_clean):
    ui.go("#/rules/new")
    ui.present("#rule-form")
    ui.type("#rule-name", "Positioned")
    ui.type("#rule-conditions .cond-value", "x")
    ui.type("#rule-position", "2000000")
    ui.click("#rule-save")
    assert_field_error(ui, "rule-position", "Must be a whole number from 0 to 1000000.")
    assert active_id(ui) == "rule-position"
    assert "Position: Must be a whole number" in ui.el("#form-error").text
    # the dry run names this rule's fields the same way (rules[i]. stripped)
    ui.type("#rule-position", "")
    ui.type("#rule-conditions .cond-value", "")
    ui.click("#rule-try")
    vid = ui.el("#rule-conditions .cond-value").get_attribute("id")
    assert_field_error(ui, vid, "Enter the text to look for")
    assert active_id(ui) == vid
    assert ui.el("#rule-position").get_attribute("aria-invalid") is None
    text = ui.visible("#form-error").text
    assert "Condition 1: value — " in text and "rules[" not in text
    no_overflow(ui)
    ui.shot()


# ------------------------------------------------------- sign-in, mailbox


def test_sign_in_errors_at_the_fields(portal, width, request):
    ui = portal
    ui.open("/login")
    ui.visible("#login-form")
    ui.click("#login-submit")
    assert_field_error(ui, "login-username", "Enter your username.")
    assert_field_error(ui, "login-password", "Enter your password.")
    assert active_id(ui) == "login-username"
    assert "Username: Enter your username." in ui.el("#login-error").text
    ui.type("#login-username", "someone")
    ui.click("#login-submit")
    ui.gone("#login-username-error")
    assert_field_error(ui, "login-password", "Enter your password.")
    assert active_id(ui) == "login-password"
    assert ui.el("#login-username").get_attribute("aria-invalid") is None
    no_overflow(ui)
    ui.shot()


def test_mailbox_form_first_bad_field_focused(ui, width, request):
    ui.go("#/mailboxes/new")
    ui.present("#mailbox-form")
    ui.type("#mb-name", "Bad ids")
    ui.type("#mb-client-id", "not-a-guid")
    ui.type("#mb-tenant-id", "contoso.onmicrosoft.com")  # leaves the client ID: its local hint shows now
    ui.click("#mb-save")
    ui.visible("#form-error")
    bad = [e.get_attribute("data-field") for e in ui.els("#mailbox-form .field-error[data-field]")]
    assert "client_id" in bad and "name" not in bad, bad
    assert ui.el("#mb-client-id").get_attribute("aria-invalid") == "true"
    # the first bad field in the form's order has the focus
    first = ui.d.execute_script(
        "return document.querySelector('#mailbox-form [aria-invalid=\"true\"]').id")
    assert active_id(ui) == first
    summary = ui.el("#form-error").text
    assert "The mailbox was not saved" in summary and "client_id" not in summary
    no_overflow(ui)
    ui.shot()
