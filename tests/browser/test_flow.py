"""The Authorize flow and role-aware navigation (issue 12, items 2 and 5),
in headless Chromium against the real stack and the fake Microsoft cloud.

- Authorize Application, Back from Microsoft: the page restored from the
  back-forward cache has the button enabled again and the mailbox read
  afresh; a reload too.
- A new mailbox lands on its own page with "Next: Authorize Application".
- postdesk-oauth's error page is styled (app.css under the CSP), says what
  happened and what to do, and links back to the mailbox.
- An agent lands on Tickets and sees no admin page in the navigation; an
  admin address shows "needs an admin" without console errors.
- A secret Microsoft refused is not shown as a green "Secret set".

New states are checked at 1400 and 390 px (no sideways scrolling) and
saved to build/screenshots/<name>-<width>.png.
"""
import secrets
import urllib.parse

import pytest
from selenium.common.exceptions import StaleElementReferenceException


# --------------------------------------------------------------- helpers

def forget_console(ui, *fragments):
    """Drop console entries about pages outside the portal this test visits
    on purpose (Microsoft's error page, the callback's 400)."""
    ui.console.entries = [e for e in ui.console.drain()
                          if not any(f in e.get("message", "") for f in fragments)]


def fresh(ui, css, fn, what):
    """Wait until fn(element) holds; the panel redraws (stale elements)."""
    def check():
        try:
            els = ui.els(css)
            return bool(els) and fn(els[0])
        except StaleElementReferenceException:
            return False
    ui.until(check, what)


@pytest.fixture
def world(new_world):
    return new_world("Flow")


def at_mailbox(ui, mid):
    ui.until(lambda: ui.d.current_url.endswith("/#/mailboxes/%d" % mid), "on the mailbox page")
    ui.present("#mb-status .badge")


def away_to_microsoft(ui, fake):
    """Click Authorize Application; wait for Microsoft's (the fake's) page."""
    ui.click("#mb-authorize")
    ui.until(lambda: ui.d.current_url.startswith(fake.url + "/"), "at Microsoft")
    ui.until(lambda: ui.d.title == "Sign in to your account", "Microsoft's page shown")


# ------------------------------------------------------- Authorize after Back

def test_authorize_after_back(admin_ui, world, fake, stack):
    mid = world.mailbox()
    # Microsoft stops at its own page (an admin must approve): the user presses Back.
    fake.ctl("signin", {"tenant": world.tenant, "mode": "admin_approval"})
    admin_ui.go("#/mailboxes/%d" % mid)
    at_mailbox(admin_ui, mid)
    assert admin_ui.el("#mb-first-scan").get_attribute("value") == "new_only"
    admin_ui.d.execute_script("window.__pdBeforeMicrosoft = true")
    away_to_microsoft(admin_ui, fake)
    # Meanwhile the mailbox changes elsewhere: the page must show it after Back.
    assert world.api.patch("/api/mailboxes/%d" % mid, json={"first_scan": "all"}).status_code == 200

    admin_ui.d.back()
    at_mailbox(admin_ui, mid)
    # Restored from the back-forward cache (the script's state survived), not reloaded.
    assert admin_ui.d.execute_script("return window.__pdBeforeMicrosoft === true"), \
        "the page was not restored from the back-forward cache"
    fresh(admin_ui, "#mb-authorize", lambda b: b.is_enabled() and b.text == "Authorize Application",
          "the Authorize button is usable again")
    fresh(admin_ui, "#mb-first-scan", lambda s: s.get_attribute("value") == "all",
          "the mailbox was read again")
    forget_console(admin_ui, fake.url)
    admin_ui.shot("flow-after-back")

    # A normal reload after Back works the same.
    away_to_microsoft(admin_ui, fake)
    admin_ui.d.back()
    at_mailbox(admin_ui, mid)
    admin_ui.d.refresh()
    at_mailbox(admin_ui, mid)
    assert admin_ui.d.execute_script("return window.__pdBeforeMicrosoft === undefined")
    fresh(admin_ui, "#mb-authorize", lambda b: b.is_enabled(), "enabled after a reload")
    forget_console(admin_ui, fake.url)

    # And the button works again: this time Microsoft lets the user in.
    fake.ctl("signin", {"tenant": world.tenant, "mode": "approve"})
    admin_ui.click("#mb-authorize")
    admin_ui.text_in("#mb-status", "Connected as " + world.user)
    assert world.get()["status"] == "connected"
    assert [e["outcome"] for e in fake.log("authorize_log")] == [
        "page AADSTS90094", "page AADSTS90094", "code for " + world.user]


# --------------------------------------------------- after creating a mailbox

def test_new_mailbox_lands_on_next_step(admin_ui, world, fake, width):
    admin_ui.go("#/mailboxes/new")
    name = "Flow new " + secrets.token_hex(3)
    admin_ui.fill_mailbox(name, client_id=world.client_id, tenant_id=world.tenant, secret=world.secret)
    admin_ui.click("#mb-save")
    admin_ui.until(lambda: "/#/mailboxes/" in admin_ui.d.current_url
                   and not admin_ui.d.current_url.endswith("/new"), "on the new mailbox's page")
    mid = int(admin_ui.d.current_url.rsplit("/", 1)[1])
    assert admin_ui.visible("#flash").text == "Mailbox “%s” created. Next: Authorize Application." % name
    step = admin_ui.visible("#mb-next-step")
    nxt = admin_ui.el("#mb-next-authorize")
    assert nxt.text == "Next: Authorize Application"
    assert "btn-primary" in nxt.get_attribute("class").split()
    # It is the first thing under the heading, above the form.
    assert admin_ui.d.execute_script(
        "return arguments[0].compareDocumentPosition(document.getElementById('mailbox-form'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING", step)
    assert admin_ui.el("#mb-status").text == "Not connected"
    admin_ui.no_overflow()
    admin_ui.shot("flow-next-step")

    admin_ui.click("#mb-next-authorize")
    at_mailbox(admin_ui, mid)
    admin_ui.text_in("#mb-status", "Connected as " + world.user)
    admin_ui.gone("#mb-next-step")
    assert admin_ui.el("#mb-authorize").text == "Reauthorize"


# ------------------------------------------------------ the callback's page

def callback_url(world, mid):
    """A real callback URL for mid (Microsoft approved), started by the API."""
    r = world.api.post("/api/mailboxes/%d/authorize" % mid)
    assert r.status_code == 200, r.text
    at_ms = world.api.get(r.json()["authorize_url"], allow_redirects=False, timeout=20)
    assert at_ms.status_code == 302, at_ms.text[:300]
    return at_ms.headers["Location"]


def test_callback_error_page(admin_ui, world, fake, stack, width):
    mid = world.mailbox(name="Flow <b>page</b> " + secrets.token_hex(3))
    loc = callback_url(world, mid)
    stack.sql("UPDATE oauth_state SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 DAY "
              "WHERE mailbox_id = %d" % mid)
    admin_ui.d.get(loc)
    admin_ui.text_in("h1", "This sign-in cannot be used")
    assert admin_ui.d.title == "This sign-in cannot be used · postdesk"
    assert "expired" in admin_ui.el("#callback-problem").text
    assert "press Authorize Application to start again" in admin_ui.el("#callback-todo").text
    back = admin_ui.el("#callback-back")
    assert back.text == "Back to the mailbox “%s”" % world.name  # escaped: shown as text
    assert admin_ui.els("main b") == []
    assert back.get_attribute("href") == "%s/#/mailboxes/%d" % (stack.base, mid)
    # The portal's stylesheets applied (the CSP allows them; a violation fails the test).
    card = admin_ui.el(".login-card")
    assert card.value_of_css_property("border-radius") == "12px"
    assert "btn-primary" in back.get_attribute("class")
    assert back.value_of_css_property("background-color") == "rgba(36, 88, 198, 1)"
    admin_ui.no_overflow()
    admin_ui.shot("flow-callback-error")
    forget_console(admin_ui, "/azure/auth")

    # Microsoft's error on an unknown sign-in: its words, escaped, and Mailbox Setup.
    q = {"state": "nope", "error": "access_denied",
         "error_description": "AADSTS65004: User declined <script>alert(1)</script> to consent."}
    admin_ui.d.get("%s/auth/account/azureresponse?%s" % (stack.base, urllib.parse.urlencode(q)))
    admin_ui.text_in("#callback-said", "Microsoft said: AADSTS65004: User declined <script>alert(1)</script>")
    admin_ui.no_alert()
    assert "unknown" in admin_ui.el("#callback-problem").text
    back = admin_ui.el("#callback-back")
    assert back.text == "Back to Mailbox Setup"
    assert back.get_attribute("href") == stack.base + "/#/mailboxes"
    admin_ui.no_overflow()
    admin_ui.shot("flow-callback-unknown")
    forget_console(admin_ui, "/auth/account/azureresponse")

    # The link goes back to the mailbox, where Authorize Application starts again.
    admin_ui.d.get(loc)
    admin_ui.click("#callback-back")
    at_mailbox(admin_ui, mid)
    fresh(admin_ui, "#mb-authorize", lambda b: b.is_enabled(), "Authorize Application offered")
    forget_console(admin_ui, "/azure/auth")


# -------------------------------------------------------- role-aware navigation

def test_agent_lands_on_tickets(portal, agent_login, width):
    portal.login(*agent_login)
    portal.until(lambda: portal.d.current_url.endswith("/#/tickets"), "the agent lands on Tickets")
    portal.present("#logout")
    assert portal.el("#nav-tickets").get_attribute("aria-current") == "page"
    assert portal.els("#nav-mailboxes, #nav-rules, #nav-incoming") == []
    assert portal.el("#nav-outgoing").text == "Outgoing Email"  # agents may read the queue
    assert portal.el(".brand").get_attribute("href").endswith("#/tickets")
    portal.no_overflow()
    portal.shot("flow-agent-home")

    for route, name in (("#/mailboxes", "Mailbox Setup"), ("#/mailboxes/new", "Mailbox Setup"),
                        ("#/rules", "Email Rules"), ("#/incoming", "Incoming Email Log"),
                        ("#/incoming/1", "Incoming Email Log")):
        portal.go(route)
        portal.text_in("#needs-admin", name + " needs an admin")
        assert portal.el("#page-title").text == name
        assert portal.el("#home-link").text == "Go to Tickets"
    portal.no_overflow()
    portal.shot("flow-agent-needs-admin")
    portal.click("#home-link")
    portal.until(lambda: portal.d.current_url.endswith("/#/tickets"), "back on Tickets")
    # portal's teardown: no console error (no admin route was requested).


def test_admin_lands_on_mailbox_setup(portal, admin_login):
    portal.login_ok(*admin_login)
    portal.until(lambda: portal.d.current_url.endswith("/#/mailboxes"), "the admin lands on Mailbox Setup")
    for nav in ("#nav-tickets", "#nav-mailboxes", "#nav-rules", "#nav-incoming", "#nav-outgoing"):
        portal.present(nav)
    portal.go("#/nowhere")
    portal.text_in("#main", "There is nothing at this address")
    assert portal.el("#home-link").text == "Go to Mailbox Setup"


# ----------------------------------------------------------- refused secret

def test_refused_secret_is_not_green(admin_ui, world, fake, width):
    mid = world.mailbox(secret="Wr0ng~" + secrets.token_urlsafe(20))
    admin_ui.go("#/mailboxes/%d" % mid)
    at_mailbox(admin_ui, mid)
    status = admin_ui.visible("#mb-secret-status")
    assert status.get_attribute("data-state") == "set"
    green = status.value_of_css_property("background-color")
    admin_ui.click("#mb-authorize")
    at_mailbox(admin_ui, mid)
    admin_ui.visible("#mb-last-error")
    assert world.get()["last_error"]["code"] == "AADSTS7000215"
    status = admin_ui.visible("#mb-secret-status")
    assert status.get_attribute("data-state") == "refused"
    assert status.text.startswith("Secret refused by Microsoft, ends …")
    assert "AADSTS7000215" in status.text
    assert status.value_of_css_property("background-color") != green
    assert "secret-expired" in status.get_attribute("class").split()
    admin_ui.no_overflow()
    admin_ui.shot("flow-secret-refused")

    # A new secret saved afterwards is not called refused before it is tried.
    admin_ui.type("#mb-secret", world.secret)
    admin_ui.click("#mb-save")
    admin_ui.until(lambda: admin_ui.d.current_url.endswith("/#/mailboxes"), "saved")
    admin_ui.go("#/mailboxes/%d" % mid)
    at_mailbox(admin_ui, mid)
    assert admin_ui.visible("#mb-secret-status").get_attribute("data-state") == "set"
