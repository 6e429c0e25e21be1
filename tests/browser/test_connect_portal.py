"""The mailbox page's Connection panel in headless Chromium, against the
real stack talking to the fake Microsoft cloud (tests/browser/conftest.py).

Authorize Application really leaves the portal: the browser goes to the
fake's authorize URL (which auto-approves, or refuses in `signin` cancel
mode), comes back through the stack's OAuth callback and lands on the
mailbox page.  Every test also fails on a CSP violation or a console error
(the `portal` fixture).
"""
import pytest
from selenium.common.exceptions import StaleElementReferenceException


@pytest.fixture
def world(new_world):
    return lambda **kw: new_world("Connect", **kw)


def attr_is(ui, css, name, value):
    """Wait until css's attribute is value; the panel redraws, so an element
    found a moment ago may be gone (stale): look again."""
    def check():
        try:
            return ui.el(css).get_attribute(name) == value
        except StaleElementReferenceException:
            return False
    ui.until(check, "%s[%s=%s]" % (css, name, value))


def open_mailbox(ui, w):
    ui.go("#/mailboxes/%d" % w.id)
    ui.present("#mb-connection")
    ui.text_in("#mb-connection-title", "Connection")
    return ui.visible("#mb-authorize")


def authorize(ui, w):
    """Click Authorize Application / Reauthorize and wait until the browser is
    back on the mailbox page (a fresh page load from the callback)."""
    ui.d.execute_script("window.__beforeAuthorize = true")
    ui.click("#mb-authorize")
    ui.until(lambda: ui.d.execute_script("return !window.__beforeAuthorize"),
             "the browser left the portal for Microsoft")
    ui.until(lambda: ui.d.current_url.endswith("/#/mailboxes/%d" % w.id),
             "back on the mailbox page")
    ui.present("#mb-status .badge")


def test_connect_test_disconnect(admin_ui, world, fake, stack):
    w = world(inbox=3)
    w.mailbox()
    btn = open_mailbox(admin_ui, w)
    assert btn.text == "Authorize Application"
    assert admin_ui.el("#mb-status").text == "Not connected"
    checklist = admin_ui.visible("#mb-checklist").text
    assert "redirect URIs" in checklist and "Grant admin consent" in checklist
    assert admin_ui.el("#mb-ms-error-hint").get_attribute("open") is not None  # open before a first connect
    hint = admin_ui.visible("#mb-ms-error-hint").text
    assert "If Microsoft showed an error page instead of coming back here, look for the AADSTS code" in hint
    for code in ("AADSTS50011", "AADSTS700016", "AADSTS90002", "AADSTS90094"):
        assert code in hint, code

    authorize(admin_ui, w)
    # The browser really went to the fake's authorize endpoint.
    (entry,) = fake.log("authorize_log")
    assert entry["outcome"] == "code for " + w.user, entry
    assert entry["query"]["redirect_uri"] == stack.base + "/azure/auth"

    admin_ui.text_in("#mb-status", "Connected as " + w.user)
    assert admin_ui.el("#mb-status .badge").get_attribute("data-status") == "connected"
    account = admin_ui.visible("#mb-connection-account").text
    assert account.startswith("Connected as " + w.user + " since ")
    assert admin_ui.el("#mb-inbox-count").text == "3"
    policy = admin_ui.el("#mb-first-scan-policy")
    assert "3 messages are already in the Inbox. Only mail arriving from now on becomes tickets." in policy.text
    assert admin_ui.el("#mb-authorize").text == "Reauthorize"
    assert admin_ui.els("#mb-last-error") == []
    assert admin_ui.els("#mb-checklist") == []

    # First scan: switch to importing the 3, with a confirmation; then back.
    admin_ui.click("#mb-first-scan-switch")
    assert "3 messages" in admin_ui.visible("#confirm-dialog").text
    admin_ui.click("#confirm-cancel")
    admin_ui.gone("#confirm-dialog")
    assert w.get()["first_scan"] == "new_only"
    admin_ui.click("#mb-first-scan-switch")
    admin_ui.click("#confirm-first-scan")
    admin_ui.gone("#confirm-dialog")
    attr_is(admin_ui, "#mb-first-scan-policy", "data-policy", "all")
    assert "All 3 messages already in the Inbox will become tickets" in admin_ui.el("#mb-first-scan-policy").text
    assert w.get()["first_scan"] == "all"
    admin_ui.el("#mb-connection").screenshot("/tmp/pd-connect-first-scan-all.png")
    assert admin_ui.el("#mb-first-scan").get_attribute("value") == "all"  # the form follows
    admin_ui.click("#mb-first-scan-switch")
    admin_ui.click("#confirm-first-scan")
    attr_is(admin_ui, "#mb-first-scan-policy", "data-policy", "new_only")
    assert w.get()["first_scan"] == "new_only"

    # Test connection: every check passed.
    admin_ui.click("#mb-test")
    admin_ui.text_in("#mb-test-summary", "checks passed")
    checks = admin_ui.els("#mb-test-result .test-check")
    assert len(checks) == 3 and all(c.get_attribute("data-passed") == "true" for c in checks)
    assert "All 3 checks passed." == admin_ui.el("#mb-test-summary").text
    assert "3 messages" in checks[1].text
    admin_ui.el("#mb-connection").screenshot("/tmp/pd-connect-test-passed.png")

    # Disconnect, with a confirmation.
    admin_ui.click("#mb-disconnect")
    assert w.name in admin_ui.visible("#confirm-dialog").text
    admin_ui.click("#confirm-disconnect")
    admin_ui.gone("#confirm-dialog")
    admin_ui.text_in("#mb-status", "Disconnected")
    assert w.get()["status"] == "disconnected"
    assert admin_ui.el("#mb-authorize").text == "Reauthorize"
    assert admin_ui.els("#mb-test, #mb-disconnect") == []
    assert admin_ui.els("#mb-test-result") == []
    admin_ui.el("#mb-connection").screenshot("/tmp/pd-connect-disconnected.png")

    # Reauthorize: connected again, same mailbox.
    authorize(admin_ui, w)
    admin_ui.text_in("#mb-status", "Connected as " + w.user)
    admin_ui.el("#mb-connection").screenshot("/tmp/pd-connect-connected.png")


def test_failed_sign_in_shows_error_and_guidance(admin_ui, world, fake):
    w = world()
    w.mailbox()
    fake.ctl("signin", {"tenant": w.tenant, "mode": "cancel"})
    open_mailbox(admin_ui, w)
    authorize(admin_ui, w)
    err = admin_ui.visible("#mb-last-error")
    assert err.get_attribute("role") == "alert"
    api_err = w.get()["last_error"]
    assert api_err and api_err["guidance"], api_err
    assert "AADSTS65004" in err.text
    assert api_err["message"] in err.text
    assert "What to do: " + api_err["guidance"] in err.text
    assert "refused" in admin_ui.el("#mb-last-error-title").text
    assert admin_ui.el("#mb-status").text == "Not connected"
    assert admin_ui.el("#mb-authorize").text == "Authorize Application"
    admin_ui.visible("#mb-checklist")
    admin_ui.el("#mb-connection").screenshot("/tmp/pd-connect-cancelled.png")

    # Signing in properly afterwards connects and clears the error.
    fake.ctl("signin", {"tenant": w.tenant, "mode": "approve"})
    authorize(admin_ui, w)
    admin_ui.text_in("#mb-status", "Connected as " + w.user)
    assert admin_ui.els("#mb-last-error") == []


def test_failed_check_shows_title_and_guidance(admin_ui, world, fake):
    w = world(shared=True, inbox=2)
    w.mailbox()
    open_mailbox(admin_ui, w)
    assert w.shared in admin_ui.visible("#mb-checklist-shared").text
    assert "Microsoft 365 admin center" in admin_ui.el("#mb-checklist-shared").text
    authorize(admin_ui, w)
    admin_ui.text_in("#mb-status", "Connected as " + w.user)
    assert "2 messages are already in the Inbox of " + w.shared in admin_ui.el("#mb-first-scan-policy").text

    fake.ctl("delegations/revoke", {"shared": w.shared, "user": w.user})
    admin_ui.click("#mb-test")
    admin_ui.text_in("#mb-test-summary", "checks failed")
    failed = admin_ui.els("#mb-test-result .test-check[data-passed=false]")
    assert failed, admin_ui.el("#mb-test-result").text
    res = w.api.post("/api/mailboxes/%d/test" % w.id).json()
    bad = [c for c in res["checks"] if not c["passed"]]
    assert len(failed) == len(bad)
    text = failed[0].text
    assert bad[0]["title"] in text and "What to do: " + bad[0]["guidance"] in text
    assert bad[0]["detail"] in text
    # The test recorded the error: it is on the page too.
    admin_ui.visible("#mb-last-error")
    assert "ErrorAccessDenied" in admin_ui.el("#mb-last-error").text
    admin_ui.el("#mb-connection").screenshot("/tmp/pd-connect-test-failed.png")


def test_refused_refresh_needs_reauthorisation(admin_ui, world, fake):
    w = world()
    w.mailbox()
    open_mailbox(admin_ui, w)
    authorize(admin_ui, w)
    admin_ui.text_in("#mb-status", "Connected as " + w.user)
    fake.ctl("users/revoke_sessions", {"user": w.user})
    admin_ui.click("#mb-test")
    admin_ui.text_in("#mb-test-summary", "checks failed")
    first = admin_ui.el("#mb-test-result .test-check:first-child")
    assert first.get_attribute("data-passed") == "false" and "What to do: " in first.text
    admin_ui.text_in("#mb-status", "Needs reauthorization")
    err = admin_ui.visible("#mb-last-error")
    assert "AADSTS50173" in err.text and "What to do: " in err.text
    assert err.get_attribute("role") == "alert"
    assert admin_ui.el("#mb-authorize").text == "Reauthorize"
    assert admin_ui.els("#mb-test") == []  # a test needs a working connection
    admin_ui.el("#mb-connection").screenshot("/tmp/pd-connect-needs-reauth.png")
    # Reauthorize fixes it.
    authorize(admin_ui, w)
    admin_ui.text_in("#mb-status", "Connected as " + w.user)
    assert admin_ui.els("#mb-last-error") == []


def test_new_mailbox_shows_checklist(admin_ui):
    admin_ui.go("#/mailboxes/new")
    admin_ui.present("#mb-connection")
    assert admin_ui.el("#mb-status").text == "Not connected"
    assert "Authorize Application" in admin_ui.el("#mb-connection").text
    assert admin_ui.els("#mb-authorize") == []
    admin_ui.visible("#mb-checklist")
    assert admin_ui.els("#mb-ms-error-hint")
