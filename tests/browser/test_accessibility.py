"""Accessibility, in Chromium: the axe-core hook of the Portal helper
(tests/browser/conftest.py) fails a test on a violation, and the portal's
known trouble spots stay fixed at 1400 and 390 px: the Graph JSON and the
decision trace of an incoming mail scroll from the keyboard, Copy buttons are
named by the words they show, every column of the outgoing table has a header.
"""
import os

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from pd_helpers import Desk

DESK_TIMEOUT = 30  # seconds a request of Desk's admin client (sanitizer stack)


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    """A mail long enough for its Graph JSON to scroll, and a ticket with an
    acknowledgement in the outgoing queue."""
    d = Desk(stack, fake_server, admin_login, timeout=DESK_TIMEOUT)
    r = d.admin.request("PATCH", "/api/mailboxes/%d" % d.mid, json={"ack_enabled": True})
    assert r.status_code == 200, r.text
    cust = "a11y-%s@example.com" % os.urandom(3).hex()
    body = "\n".join("Line %d of a long report about the printer." % i for i in range(120))
    d.send("Printer log", {"name": "Reporter", "address": cust}, body=body)
    d.scan()
    d.incoming = d.list("/api/incoming-emails")["items"][0]
    return d


def test_axe_fails_the_test_on_a_violation(admin_ui):
    ui = admin_ui
    ui.visible("#mailbox-new")
    ui.axe()  # the page as the portal draws it: clean
    assert ui.audit.checked >= 1
    # axe measures colours at rest: no transitions (conftest's chromium fixture)
    assert ui.d.execute_script("return matchMedia('(prefers-reduced-motion: reduce)').matches")
    ui.d.execute_script("document.querySelector('main').insertAdjacentHTML('beforeend',"
                        " '<img id=\"a11y-probe\" src=\"favicon.svg\">')")
    # The next action audits the page first and stops the test with a readable list.
    with pytest.raises(AssertionError) as e:
        ui.go("#/tickets")
    msg = str(e.value)
    assert "image-alt (critical)" in msg, msg
    assert "#a11y-probe" in msg and "alternative text" in msg, msg
    assert "before go #/tickets" in msg, msg
    ui.d.execute_script("document.getElementById('a11y-probe').remove()")


def test_graph_json_scrolls_from_the_keyboard(admin_ui, desk, width):
    ui = admin_ui
    ui.go("#/incoming/%d" % desk.incoming["id"])
    box = ui.visible("#in-source")
    assert "Line 119 of a long report" in box.get_attribute("textContent")
    assert ui.d.execute_script("return arguments[0].scrollHeight > arguments[0].clientHeight", box), \
        "the Graph JSON should be taller than its box for this test"
    for css, name in (("#in-source", "Graph JSON"), ("#in-trace", "Decision trace")):
        el = ui.el(css)
        assert el.get_attribute("tabindex") == "0"
        assert el.get_attribute("role") == "region"
        assert el.accessible_name == name
    # Tab reaches the box, and the arrow keys scroll it.
    ui.d.execute_script("document.getElementById('in-trace').focus()")
    ActionChains(ui.d).send_keys(Keys.TAB).perform()
    assert ui.d.execute_script("return document.activeElement.id") == "in-source"
    ActionChains(ui.d).send_keys(Keys.PAGE_DOWN).perform()
    ui.until(lambda: ui.d.execute_script("return arguments[0].scrollTop", box) > 0,
             "Page Down scrolls the focused Graph JSON")
    ui.no_overflow()
    ui.shot()


def test_copy_buttons_are_named_by_their_text(admin_ui, width):
    ui = admin_ui
    ui.go("#/mailboxes/new")
    ui.visible("#azure-setup")
    perms = ui.el("#azure-setup .copy-row-end .btn-copy")
    assert perms.text == "Copy permission names"
    assert perms.accessible_name == "Copy permission names"
    uri = ui.el("#azure-setup .uri-item .btn-copy")
    assert uri.accessible_name == "Copy redirect URI 1"
    ui.no_overflow()
    ui.shot()
    ui.click("#azure-setup .copy-row-end .btn-copy")
    ui.until(lambda: not perms.accessible_name.startswith("Copy "), "the button says it copied")
    # Its name follows what it shows ("Copied", or "Selected: press Ctrl+C").
    said = ui.d.execute_script("return arguments[0].textContent", perms)
    assert perms.accessible_name == said
    ui.axe("after Copy permission names")


def test_outgoing_table_has_a_header_on_every_column(admin_ui, desk, width):
    ui = admin_ui
    ui.go("#/outgoing?mailbox=%d" % desk.mid)
    ui.visible("#outgoing-table .outgoing-row")
    heads = [th.get_attribute("textContent").strip() for th in ui.els("#outgoing-table thead th")]
    assert len(heads) == 11 and all(heads), heads
    ui.no_overflow()
    ui.shot()


def tour(desk):
    """(name, route, what shows the page is drawn with its data) of every page."""
    tid = desk.tickets()["items"][0]["id"]
    return [
        ("mailboxes", "#/mailboxes", "#mailbox-table"),
        ("mailbox-new", "#/mailboxes/new", "#azure-setup"),
        ("mailbox", "#/mailboxes/%d" % desk.mid, "#mb-connection-account"),
        ("rules", "#/rules", "#rule-table, #rules-empty"),
        ("rule-new", "#/rules/new", "#rule-form"),
        ("tickets", "#/tickets", "#ticket-table"),
        ("ticket", "#/tickets/%d" % tid, "#ticket-outgoing-table"),
        ("incoming", "#/incoming", "#incoming-table"),
        ("incoming-one", "#/incoming/%d" % desk.incoming["id"], "#in-source"),
        ("outgoing", "#/outgoing", "#outgoing-table"),
        ("not-found", "#/no-such-page", "main h1"),
    ]


def test_every_page_is_clean(admin_ui, desk, stack, width):
    """Each page of the portal, the OAuth callback's page and the login page
    pass axe-core (the audit before each go), with nothing wider than the window."""
    ui = admin_ui
    for name, route, ready in tour(desk):
        ui.go(route)
        ui.visible(ready)
        ui.no_overflow()
        ui.shot("%s-%s" % (ui.test_name, name))
    ui.axe()
    # The redirect URI Microsoft sends the browser back to, with a bad state.
    ui.d.get(stack.base + "/auth/account/azureresponse?state=bogus&code=x")
    ui.visible("main h1")
    # its 400 is the answer asked for, not a console error
    ui.console.entries = [e for e in ui.console.drain()
                          if "azureresponse?state=bogus" not in e.get("message", "")]
    ui.no_overflow()
    ui.shot("%s-oauth-callback" % ui.test_name)
    ui.open("/mailboxes")
    ui.click("#logout")
    ui.visible("#login-username")
    ui.no_overflow()
    ui.shot("%s-login" % ui.test_name)
