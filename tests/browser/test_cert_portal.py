"""Certificate credentials in the portal (issue 14 item 2), in headless
Chromium at 1400 and 390 px against the stack and the fake Microsoft cloud:
a new mailbox on a certificate (no secret field), generating its
certificate, the thumbprint, expiry and .cer download, an upload refused
field by field, a certificate Azure does not know refused at sign-in with
Microsoft's code and what to do, and then connected on the certificate
alone.  axe-core audits every state (tests/browser/conftest.py)."""
import base64
import hashlib
import secrets


class World:
    """A tenant whose app has no client secret, and a licensed user."""

    def __init__(self, stack, fake, admin_login):
        self.stack, self.fake = stack, fake
        dom = "p%s.onmicrosoft.com" % secrets.token_hex(4)
        self.tenant = fake.ctl("tenants", {"domains": [dom]})["id"]
        app = fake.ctl("apps", {"tenant": self.tenant, "secrets": [], "redirect_uris": [
            stack.base + "/azure/auth", stack.base + "/auth/account/azureresponse"]})
        self.client_id = app["client_id"]
        self.user = "cert@" + dom
        fake.ctl("users", {"tenant": self.tenant, "address": self.user, "display_name": "Cert"})
        fake.ctl("signin", {"tenant": self.tenant, "user": self.user, "mode": "approve"})
        self.api = stack.session()
        self.api.login(*admin_login)

    def get(self, mid):
        r = self.api.get("/api/mailboxes/%d" % mid)
        assert r.status_code == 200, r.text
        return r.json()

    def upload_to_azure(self, der):
        self.fake.ctl("apps/certificates", {"client_id": self.client_id, "replace": True,
                                            "cert_der_b64": base64.b64encode(der).decode()})


def authorize(ui, mid):
    ui.d.execute_script("window.__beforeAuthorize = true")
    ui.click("#mb-authorize")
    ui.until(lambda: ui.d.execute_script("return !window.__beforeAuthorize"),
             "the browser left the portal for Microsoft")
    ui.until(lambda: ui.d.current_url.endswith("/#/mailboxes/%d" % mid), "back on the mailbox page")
    ui.present("#mb-status .badge")


def test_mailbox_on_a_certificate(admin_ui, width, fake, stack, admin_login):
    ui = admin_ui
    w = World(stack, fake, admin_login)
    name = "Cert " + secrets.token_hex(4)
    ui.go("#/mailboxes/new")
    ui.fill_mailbox(name, client_id=w.client_id, tenant_id=w.tenant, secret=None)
    assert ui.visible("#mb-secret-field")
    ui.click("#mb-credential-certificate")
    ui.gone("#mb-secret-field")
    assert not ui.el("#mb-secret-expires-field").is_displayed()
    assert "upload its .cer in Azure" in ui.visible("#mb-credential-help").text
    ui.shot("cert-new")
    ui.click("#mb-save")
    ui.until(lambda: "/#/mailboxes/" in ui.d.current_url and not ui.d.current_url.endswith("/new"),
             "on the new mailbox's page")
    mid = int(ui.d.current_url.rsplit("/", 1)[1])
    ui.text_in("#mb-cert-title", "Certificate")
    assert "No certificate yet" in ui.visible("#mb-cert-missing").text
    assert ui.el("#mb-credential-certificate").is_selected()
    assert w.get(mid)["secret_set"] is False

    # Generate: the page shows what Azure will list
    ui.select("#mb-cert-size", "3072")
    ui.click("#mb-cert-generate")
    ui.visible("#mb-cert-thumbprint")
    mb = w.get(mid)
    assert ui.el("#mb-cert-thumbprint").text == mb["certificate"]["thumbprint"]
    assert ui.el("#mb-cert-subject").text == "CN=postdesk " + name
    assert ui.el("#mb-cert-expires").text == mb["certificate"]["expires_at"][:10]
    assert ui.el("#mb-cert-expires").get_attribute("data-state") == "ok"
    assert ui.el("#mb-cert-download").get_attribute("href").endswith(
        "/api/mailboxes/%d/certificate.cer" % mid)
    assert "Certificates & secrets" in ui.el("#mb-cert-steps").text
    ui.no_overflow()
    ui.shot("cert-generated")
    der = w.api.get("/api/mailboxes/%d/certificate.cer" % mid).content
    assert hashlib.sha1(der).hexdigest().upper() == mb["certificate"]["thumbprint"]

    # An upload is checked field by field; nothing changes
    ui.click("#mb-cert-upload-details > summary")
    ui.type("#mb-cert-key", "not a key")
    ui.type("#mb-cert-pem", "not a certificate")
    ui.click("#mb-cert-upload")
    assert "PEM" in ui.field_error("key_pem").text
    ui.no_overflow()
    ui.shot("cert-upload-refused")
    assert w.get(mid)["certificate"]["thumbprint"] == mb["certificate"]["thumbprint"]

    # Azure holds another certificate: Microsoft refuses, the page says what to do
    other = World(stack, fake, admin_login)
    other_mid = other.api.post("/api/mailboxes", json={
        "name": "Other " + secrets.token_hex(4), "client_id": other.client_id,
        "tenant_id": other.tenant, "credential_type": "certificate"}).json()["id"]
    other.api.request("PUT", "/api/mailboxes/%d/credential" % other_mid,
                      json={"type": "certificate", "generate": True})
    w.upload_to_azure(other.api.get("/api/mailboxes/%d/certificate.cer" % other_mid).content)
    authorize(ui, mid)
    err = ui.visible("#mb-last-error")
    assert "AADSTS700027" in err.text
    assert "Certificates & secrets" in ui.el("#mb-last-error-guidance").text
    assert ui.el("#mb-status").text == "Not connected"
    ui.shot("cert-refused")

    # The right certificate in Azure: connected, no secret anywhere
    w.upload_to_azure(der)
    authorize(ui, mid)
    ui.text_in("#mb-status", "Connected as " + w.user)
    assert ui.els("#mb-last-error") == []
    assert "A new certificate needs authorizing again" in ui.visible("#mb-cert-reauth").text
    ui.no_overflow()
    ui.shot("cert-connected")
    for m in (mid, other_mid):
        stack.sql("UPDATE mailbox SET status = 'not_connected' WHERE id = %d" % m)
