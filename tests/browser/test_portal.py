"""The portal's main journeys in headless Chromium, against the real stack.

Every test also fails on a Content-Security-Policy violation or a console
error on any page it visited (see the `portal` fixture).
"""
import secrets

SECRET = "Xy8Q~portal-test-Value.a1b2"
SECRET_ID = "9f8e7d6c-5b4a-4321-8fed-cba987654321"  # what people paste by mistake


def unique(prefix):
    return prefix + secrets.token_hex(4)


# ------------------------------------------------------------------ session

def test_no_session_shows_login(portal):
    portal.open("/mailboxes")
    portal.visible("#login-username")
    assert portal.d.current_url.endswith("#/login")
    assert portal.el("label[for=login-username]").text == "Username"
    assert portal.el("label[for=login-password]").text == "Password"


def test_wrong_password_shows_error(portal, admin_login):
    username, _ = admin_login
    portal.login(username, "not-the-password")
    error = portal.visible("#login-error .problem")
    assert error.text.strip()
    assert portal.els("#logout") == []
    assert portal.d.current_url.endswith("#/login")
    # The form stays usable: the right password still works afterwards.
    portal.login_ok(*admin_login)


def test_login_shows_agent_role_and_nav(admin_ui, admin_login):
    assert admin_ui.text_in("#agent-name", "Portal Tester")
    assert admin_ui.el("#agent-role").text.lower() == "admin"
    nav = admin_ui.el("#nav-mailboxes")
    assert nav.text == "Mailbox Setup"
    assert nav.get_attribute("aria-current") == "page"
    side = admin_ui.el(".sidenav").text
    assert "configuration" in side.lower() and "Email" in side
    admin_ui.visible("#mailbox-new")


def test_login_returns_to_requested_page(portal, admin_login):
    portal.open("/mailboxes/new")
    portal.visible("#login-username")
    portal.type("#login-username", admin_login[0])
    portal.type("#login-password", admin_login[1])
    portal.click("#login-submit")
    portal.visible("#mb-name")
    assert portal.d.current_url.endswith("#/mailboxes/new")


def test_logout(admin_ui):
    admin_ui.click("#logout")
    admin_ui.visible("#login-username")
    # The session is gone on the server too: a reload stays on the login page.
    admin_ui.open("/mailboxes")
    admin_ui.visible("#login-username")
    assert admin_ui.els("#logout") == []


def test_lost_session_goes_back_to_login(admin_ui):
    admin_ui.present("#mailbox-new")
    admin_ui.d.delete_all_cookies()
    admin_ui.go("#/mailboxes/new")
    admin_ui.visible("#login-username")
    assert "session has ended" in admin_ui.visible("#login-notice").text


def test_agent_role_needs_admin(portal, agent_login):
    portal.login_ok(*agent_login)
    portal.go("#/mailboxes")  # agents land on Tickets (tests/browser/test_flow.py)
    notice = portal.visible("#needs-admin")
    assert "needs an admin" in notice.text
    assert portal.els("#mailbox-new") == []
    portal.go("#/mailboxes/new")
    portal.text_in("#needs-admin", "needs an admin")
    assert portal.els("#mb-name") == []


# ----------------------------------------------------------- Azure panel

def test_redirect_uris_shown_with_copy(admin_ui, stack):
    admin_ui.go("#/mailboxes/new")
    admin_ui.visible("#azure-setup")
    base = stack.base.rstrip("/")
    uris = [e.text for e in admin_ui.els("#azure-setup .redirect-uri")]
    assert uris == [base + "/azure/auth", base + "/auth/account/azureresponse"]
    copy = admin_ui.els("#azure-setup .uri-item .btn-copy")
    assert len(copy) == 2
    copy[0].click()
    admin_ui.until(lambda: copy[0].text != "Copy", "copy button gives feedback")
    assert "Cop" in copy[0].text or "Selected" in copy[0].text
    text = admin_ui.el("#azure-setup").text
    assert "Grant admin consent" in text
    for perm in ("offline_access", "openid", "email", "profile", "Mail.ReadWrite", "Mail.Send"):
        assert admin_ui.els('#perm-licensed [data-permission="%s"]' % perm), perm


def test_shared_permissions_follow_shared_address(admin_ui):
    admin_ui.go("#/mailboxes/new")
    admin_ui.present("#azure-setup")
    admin_ui.gone("#perm-shared-block")
    admin_ui.type("#mb-shared-address", "help@contoso.com")
    block = admin_ui.visible("#perm-shared-block")
    assert "Mail.ReadWrite.Shared" in block.text
    assert "Mail.Send.Shared" in block.text
    admin_ui.visible("#mb-shared-note")
    admin_ui.type("#mb-shared-address", "")
    admin_ui.gone("#perm-shared-block")


def test_form_fields_and_defaults(admin_ui):
    admin_ui.go("#/mailboxes/new")
    admin_ui.present("#mailbox-form")
    for fid in ("mb-name", "mb-type", "mb-client-id", "mb-tenant-id", "mb-secret",
                "mb-secret-expires", "mb-shared-address", "mb-cloud", "mb-processed-action",
                "mb-first-scan", "mb-ack-enabled"):
        assert admin_ui.els("label[for=%s]" % fid), "label for " + fid
    assert admin_ui.el("#mb-secret").get_attribute("type") == "password"
    assert admin_ui.el("#mb-type").get_attribute("value") == "office365"
    assert admin_ui.el("#mb-cloud").get_attribute("value") == "global"
    # The clouds are the server's one table (lib/model/mailbox_types.c), in
    # its order; the page knows only the default.
    clouds = [o.get_attribute("value") for o in admin_ui.els("#mb-cloud option")]
    assert clouds == ["global", "usgov_l4", "usgov_l5", "china"]
    assert admin_ui.el("#mb-processed-action").get_attribute("value") == "move_to_deleted_items"
    assert admin_ui.el("#mb-first-scan").get_attribute("value") == "new_only"
    assert admin_ui.el("#mb-ack-enabled").is_selected()
    admin_ui.gone("#mb-processed-folder")
    admin_ui.select("#mb-processed-action", "move_to_folder")
    admin_ui.visible("#mb-processed-folder")
    admin_ui.gone("#mb-first-scan-warning")
    admin_ui.select("#mb-first-scan", "all")
    assert "becomes a ticket" in admin_ui.visible("#mb-first-scan-warning").text
    assert "Not connected" in admin_ui.el("#mb-status").text
    assert "Authorize Application" in admin_ui.el("#mb-connection").text


# --------------------------------------------------------- validation

def test_secret_id_is_refused_under_the_field(admin_ui):
    admin_ui.go("#/mailboxes/new")
    admin_ui.fill_mailbox(unique("Secret ID test "), secret=SECRET_ID)
    admin_ui.click("#mb-save")
    err = admin_ui.field_error("secret")
    assert "Secret ID" in err.text
    assert admin_ui.visible("#form-error").text.strip()
    assert admin_ui.el("#mb-secret").get_attribute("aria-invalid") == "true"
    assert admin_ui.d.current_url.endswith("#/mailboxes/new")


def test_bad_client_id_is_refused_under_the_field(admin_ui):
    admin_ui.go("#/mailboxes/new")
    admin_ui.fill_mailbox(unique("Client ID test "), client_id="not-a-guid")
    admin_ui.click("#mb-save")
    err = admin_ui.field_error("client_id")
    assert err.text.strip()
    assert err.get_attribute("data-field") == "client_id"
    # The message sits in the Client ID row, under the input.
    row = admin_ui.el("#mb-client-id-field")
    assert err in row.find_elements("css selector", ".field-error")
    assert admin_ui.visible("#form-error").text.strip()


def test_missing_fields_reported_by_server(admin_ui):
    admin_ui.go("#/mailboxes/new")
    admin_ui.present("#mailbox-form")
    admin_ui.click("#mb-save")
    admin_ui.visible("#form-error")
    admin_ui.visible(".field-error")
    fields = {e.get_attribute("data-field") for e in admin_ui.els(".field-error")}
    assert fields and fields <= {"name", "client_id", "tenant_id", "secret"}, fields


# ------------------------------------------------- create / edit / delete

def _create(admin_ui, name, **kw):
    admin_ui.go("#/mailboxes/new")
    admin_ui.fill_mailbox(name, **kw)
    admin_ui.click("#mb-save")
    # A new mailbox opens its own page, Authorize Application next
    # (tests/browser/test_flow.py); the list shows it too.
    assert name in admin_ui.visible("#flash").text
    admin_ui.visible("#mb-next-step")
    admin_ui.go("#/mailboxes")
    return admin_ui.until(lambda: [r for r in admin_ui.els(".mailbox-row") if name in r.text],
                       "new mailbox in the list")[0]


def test_create_mailbox_appears_in_list(admin_ui):
    name = unique("Support ")
    row = _create(admin_ui, name, shared="help@contoso.com", expires="2027-05-01")
    assert row.find_element("css selector", ".mailbox-link").text == name
    assert "Office 365/Azure" in row.text
    assert "help@contoso.com" in row.text
    assert row.find_element("css selector", ".badge").text == "Not connected"
    assert "2027-05-01" in row.text


def test_duplicate_name_is_shown(admin_ui):
    name = unique("Twice ")
    _create(admin_ui, name)
    admin_ui.go("#/mailboxes/new")
    admin_ui.fill_mailbox(name)
    admin_ui.click("#mb-save")
    admin_ui.visible("#form-error")
    assert admin_ui.field_error("name").text.strip()


def test_edit_keeps_secret(admin_ui):
    name = unique("Keep ")
    row = _create(admin_ui, name, expires="2027-05-01")
    row.find_element("css selector", ".mailbox-link").click()
    status = admin_ui.visible("#mb-secret-status").text
    assert "Secret set, ends …" + SECRET[-4:] in status
    assert "expires 2027-05-01" in status
    assert admin_ui.el("#mb-secret").get_attribute("value") == ""
    assert admin_ui.visible("#azure-setup .redirect-uri")

    renamed = name + " renamed"
    admin_ui.type("#mb-name", renamed)
    admin_ui.click("#mb-ack-enabled")
    admin_ui.click("#mb-save")
    admin_ui.visible("#flash")
    row = admin_ui.until(lambda: [r for r in admin_ui.els(".mailbox-row") if renamed in r.text],
                      "renamed mailbox in the list")[0]
    row.find_element("css selector", ".mailbox-link").click()
    status = admin_ui.visible("#mb-secret-status").text
    assert "ends …" + SECRET[-4:] in status
    assert not admin_ui.el("#mb-ack-enabled").is_selected()
    assert admin_ui.el("#mb-name").get_attribute("value") == renamed


def test_edit_shows_server_error(admin_ui):
    name = unique("Edit error ")
    row = _create(admin_ui, name)
    row.find_element("css selector", ".mailbox-link").click()
    admin_ui.visible("#mb-secret-status")
    admin_ui.type("#mb-secret", SECRET_ID)
    admin_ui.click("#mb-save")
    assert "Secret ID" in admin_ui.field_error("secret").text


def test_delete_mailbox(admin_ui):
    name = unique("Delete me ")
    row = _create(admin_ui, name)
    row.find_element("css selector", ".mailbox-link").click()
    admin_ui.click("#mb-delete")
    dialog = admin_ui.visible("#confirm-dialog")
    assert name in dialog.text
    admin_ui.click("#confirm-cancel")
    admin_ui.gone("#confirm-dialog")
    admin_ui.click("#mb-delete")
    admin_ui.click("#confirm-delete")
    assert "deleted" in admin_ui.visible("#flash").text
    admin_ui.present("#mailbox-table, #mailbox-empty")
    assert not [r for r in admin_ui.els(".mailbox-row") if name in r.text]


def test_mail_content_is_escaped(admin_ui):
    name = unique("<img src=x onerror=alert(1)> ")
    row = _create(admin_ui, name)
    assert row.find_element("css selector", ".mailbox-link").text == name
    assert admin_ui.els(".mailbox-row img") == []


# ------------------------------------------------------------------- CSP

def test_csp_is_sent_and_enforced(portal, stack):
    """The console check above only means something if the policy is on."""
    import requests
    for path in ("/", "/app.js", "/app.css"):
        csp = requests.get(stack.base + path, verify=stack.cacert, timeout=10).headers.get(
            "Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, (path, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (path, csp)
    portal.open("/login")
    portal.visible("#login-username")
    portal.d.execute_script(
        "var p = document.createElement('p'); p.setAttribute('style', 'color: red');"
        "document.body.appendChild(p);")
    portal.until(lambda: any("Content Security Policy" in e.get("message", "")
                             for e in portal.console.drain()), "a CSP violation is reported")
    portal.console.entries.clear()  # provoked on purpose


def test_every_portal_script_is_served_like_app_js(stack):
    """The portal is split into scripts (nginx/portal/*.js, index.html loads
    them all): each one is served as JavaScript, revalidated like the rest."""
    import requests
    from pathlib import Path
    portal_dir = Path(__file__).resolve().parents[2] / "nginx" / "portal"
    for js in sorted(portal_dir.glob("*.js")):
        r = requests.get(stack.base + "/" + js.name, verify=stack.cacert, timeout=10)
        assert r.status_code == 200, js.name
        assert "javascript" in r.headers.get("Content-Type", ""), (js.name, r.headers)
        assert r.headers.get("Cache-Control") == "no-cache", (js.name, r.headers)
        assert r.content == js.read_bytes(), js.name

# ---------------------------------------------------------- rate limit

def test_too_many_attempts_shows_retry_after(portal, stack):
    """Last on purpose: it spends the failure budget of a throwaway username."""
    username = unique("ptnobody")
    portal.open("/login")
    for _ in range(30):
        portal.type("#login-username", username)
        portal.type("#login-password", "wrong")
        portal.click("#login-submit")
        portal.visible("#login-error .problem")
        if "Too many attempts" in portal.el("#login-error").text:
            break
        portal.d.execute_script("document.getElementById('login-error').replaceChildren()")
    text = portal.el("#login-error").text
    assert "Too many attempts, try again in" in text
    assert portal.el("#login-submit").get_attribute("disabled") is not None

