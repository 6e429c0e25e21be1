"""Certificate credentials (issue 14 item 2) against the fake Microsoft cloud.

A mailbox runs on a certificate alone: postdesk generates the key pair (or
takes an uploaded PEM pair, checked), the test uploads the .cer to the
fake's app registration as an admin would in Azure, and the token requests
(code redemption and refresh) carry a PS256 client assertion that
tests/fakes/fake_cert.py verifies.  The private key never leaves postdesk:
not in the API, the audit log or the logs.
"""
import base64
import datetime as dt
import hashlib
import json
import secrets
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pd_helpers import connect_mailbox, keep_stderr, scan_env


def pem_pair(bits=2048, days=30, start_days=-1, key=None):
    """An RSA key and a self-signed certificate for it, both PEM."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "uploaded test")])
    now = dt.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=start_days))
            .not_valid_after(now + dt.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    kp = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()
    return kp, cert.public_bytes(serialization.Encoding.PEM).decode(), cert


def key_body(key_pem):
    """The base64 lines of a PEM key: what must never appear anywhere."""
    return [ln for ln in key_pem.splitlines() if not ln.startswith("-----")]


class World:
    """A tenant whose app has NO client secret, a user, and an admin."""

    def __init__(self, stack, fake, pd, admin_login):
        self.stack, self.fake, self.pd = stack, fake, pd
        dom = "k%s.onmicrosoft.com" % secrets.token_hex(4)
        self.tenant = fake.ctl("tenants", {"domains": [dom]})["id"]
        app = fake.ctl("apps", {"tenant": self.tenant, "secrets": [], "redirect_uris": [
            stack.base + "/azure/auth", stack.base + "/auth/account/azureresponse"]})
        assert app["secrets"] == []
        self.client_id = app["client_id"]
        self.user = "desk@" + dom
        fake.ctl("users", {"tenant": self.tenant, "address": self.user, "display_name": "Desk"})
        fake.ctl("signin", {"tenant": self.tenant, "user": self.user, "mode": "approve"})
        self.browser = pd.Client(stack)
        self.browser.login(*admin_login)
        self.mids = []

    def mailbox(self, **over):
        body = {"name": self.pd.unique("Cert"), "client_id": self.client_id,
                "tenant_id": self.tenant, "credential_type": "certificate",
                "first_scan": "all", "ack_enabled": False}
        body.update(over)
        r = self.browser.post("/api/mailboxes", json=body)
        assert r.status_code == 201, r.text
        self.mids.append(r.json()["id"])
        return r.json()

    def put(self, mid, body):
        return self.browser.request("PUT", "/api/mailboxes/%d/credential" % mid, json=body)

    def cer(self, mid):
        r = self.browser.get("/api/mailboxes/%d/certificate.cer" % mid)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == "application/pkix-cert"
        assert ".cer" in r.headers["Content-Disposition"]
        return r.content

    def upload_to_azure(self, der, replace=True):
        return self.fake.ctl("apps/certificates", {
            "client_id": self.client_id, "cert_der_b64": base64.b64encode(der).decode(),
            "replace": replace})

    def get(self, mid):
        r = self.browser.get("/api/mailboxes/%d" % mid)
        assert r.status_code == 200, r.text
        return r.json()

    def close(self):
        for mid in self.mids:
            self.stack.sql("UPDATE mailbox SET status = 'not_connected', lease_until = NULL "
                           "WHERE id = %d" % mid)


@pytest.fixture
def world(stack, fake, pd, admin_login):
    w = World(stack, fake, pd, admin_login)
    yield w
    w.close()


def test_create_on_certificate_needs_no_secret(world, pd):
    mb = world.mailbox()
    assert mb["credential_type"] == "certificate" and mb["secret_set"] is False
    assert mb["certificate"] is None and mb["secret_last4"] == ""
    assert world.stack.sql("SELECT secret_sealed IS NULL FROM mailbox WHERE id = %d"
                           % mb["id"]) == [["1"]]
    # no certificate yet: no .cer
    r = world.browser.get("/api/mailboxes/%d/certificate.cer" % mb["id"])
    pd.check_problem(r, 404)
    # … and no Authorize Application: its token request could not be signed
    r = world.browser.post("/api/mailboxes/%d/authorize" % mb["id"])
    p = pd.check_problem(r, 409)
    assert "no certificate yet" in p["detail"]
    assert world.fake.log("authorize_log") == []
    # a secret beside credential_type certificate is refused; a bad type too
    r = world.browser.post("/api/mailboxes", json={
        "name": pd.unique("Cert"), "client_id": world.client_id, "tenant_id": world.tenant,
        "credential_type": "certificate", "secret": "Qx8~" + secrets.token_urlsafe(24)})
    pd.check_problem(r, 422, ["secret"])
    r = world.browser.post("/api/mailboxes", json={
        "name": pd.unique("Cert"), "client_id": world.client_id, "tenant_id": world.tenant,
        "credential_type": "password"})
    pd.check_problem(r, 422, ["credential_type", "secret"])
    # the type is changed by PUT …/credential, never PATCH
    r = world.browser.patch("/api/mailboxes/%d" % mb["id"], json={"credential_type": "secret"})
    pd.check_problem(r, 422, ["credential_type"])


@pytest.mark.parametrize("bits", [2048, 3072])
def test_generate_and_download(world, bits):
    mb = world.mailbox(name=world.pd.unique("Générée"))
    r = world.put(mb["id"], {"type": "certificate", "generate": True, "key_size": bits})
    assert r.status_code == 200, r.text
    c = r.json()["certificate"]
    assert r.json()["credential_type"] == "certificate"
    der = world.cer(mb["id"])
    cert = x509.load_der_x509_certificate(der)
    assert c["thumbprint"] == hashlib.sha1(der).hexdigest().upper()
    assert cert.public_key().key_size == bits
    assert cert.subject == cert.issuer  # self-signed
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == \
        "postdesk " + mb["name"]
    assert c["subject"] == "CN=postdesk " + mb["name"]
    days = (cert.not_valid_after - dt.datetime.utcnow()).days
    assert 727 <= days <= 730, days
    assert c["expires_at"] == cert.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert c["expiring"] is False
    row = world.stack.sql("SELECT HEX(cert_key_sealed), cert_thumbprint, secret_sealed IS NULL "
                          "FROM mailbox WHERE id = %d" % mb["id"])[0]
    assert row[1] == c["thumbprint"] and row[2] == "1"
    sealed = bytes.fromhex(row[0])
    assert b"PRIVATE KEY" not in sealed and len(sealed) > 1000


def test_upload_checks(world, pd):
    mid = world.mailbox()["id"]
    key, cert, obj = pem_pair()
    r = world.put(mid, {"type": "certificate", "key_pem": key, "cert_pem": cert})
    assert r.status_code == 200, r.text
    der = obj.public_bytes(serialization.Encoding.DER)
    assert r.json()["certificate"]["thumbprint"] == hashlib.sha1(der).hexdigest().upper()
    assert world.cer(mid) == der

    other_key, _, _ = pem_pair()
    cases = [
        ({"key_pem": other_key, "cert_pem": cert}, "cert_pem", "another key"),
        (dict(zip(("key_pem", "cert_pem"), pem_pair(days=-1, start_days=-30)[:2])),
         "cert_pem", "expired"),
        (dict(zip(("key_pem", "cert_pem"), pem_pair(start_days=3)[:2])), "cert_pem", "not valid yet"),
        ({"key_pem": "not a key", "cert_pem": cert}, "key_pem", "PEM"),
        ({"key_pem": key, "cert_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
         "cert_pem", "PEM"),
        ({"key_pem": ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode(), "cert_pem": cert}, "key_pem", "RSA"),
        ({"key_pem": pem_pair(bits=1024)[0], "cert_pem": cert}, "key_pem", "2048"),
        ({"key_pem": key}, "cert_pem", "Required"),
        ({"key_pem": 5, "cert_pem": cert}, "key_pem", "string"),
        ({"key_pem": key, "cert_pem": cert, "key_size": 2048}, "key_size", "generated"),
    ]
    for body, field, words in cases:
        r = world.put(mid, dict(body, type="certificate"))
        p = pd.check_problem(r, 422, [field])
        assert words in pd.message_for(p, field), (field, p)
    for body, field in [({"type": "certificate", "generate": True, "key_size": 1024}, "key_size"),
                        ({"type": "certificate", "generate": True, "key_pem": key}, "generate"),
                        ({"type": "certificate", "generate": False}, "generate"),
                        ({"type": "certificate", "generate": True, "passphrase": "x"}, "passphrase"),
                        ({"type": "token"}, "type"), ({}, "type"),
                        ({"type": "secret"}, "secret")]:
        pd.check_problem(world.put(mid, body), 422, [field])
    pd.check_problem(world.put(999999999, {"type": "certificate", "generate": True}), 404)
    # the refused uploads changed nothing
    assert world.cer(mid) == der


def scan(stack, mid):
    r = subprocess.run([str(stack.bin / "postdesk-scan"), "--once", "--mailbox", str(mid)],
                       env=scan_env(stack), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=120)
    keep_stderr(stack, r.stderr)
    assert r.returncode == 0, r.stderr
    return r


def assertion_entries(fake):
    return [e for e in fake.log("token_log") if e["client_auth"] == "assertion"]


def test_certificate_only_connect_refresh_scan(world, fake, stack):
    mid = world.mailbox()["id"]
    r = world.put(mid, {"type": "certificate", "generate": True})
    assert r.status_code == 200, r.text
    world.upload_to_azure(world.cer(mid))
    connect_mailbox(stack, world.browser, mid)
    (redeem,) = fake.log("token_log")
    assert redeem["grant_type"] == "authorization_code" and redeem["status"] == 200
    assert redeem["client_auth"] == "assertion" and redeem["secret_matched"] is None
    a = redeem["assertion"]
    assert a["alg"] == "PS256" and a["thumbprint"] == r.json()["certificate"]["thumbprint"]
    assert 300 <= a["lifetime"] <= 600 and a["jti_repeat"] is False

    # the access token runs out: the scanner refreshes with a new assertion
    stack.sql("UPDATE mailbox SET access_expires_at = UTC_TIMESTAMP() - INTERVAL 1 HOUR "
              "WHERE id = %d" % mid)
    fake.ctl("access_tokens/expire", {})
    subject = "Printer on fire " + secrets.token_hex(3)
    fake.ctl("messages", {"mailbox": world.user, "subject": subject, "from": "bob@example.com",
                          "to": [world.user], "body_text": "help"})
    scan(stack, mid)
    refresh = [e for e in fake.log("token_log") if e["grant_type"] == "refresh_token"]
    assert refresh and all(e["client_auth"] == "assertion" and e["status"] == 200 for e in refresh)
    assert all(e["assertion"]["jti_repeat"] is False for e in refresh)
    assert stack.sql("SELECT subject FROM ticket WHERE mailbox_id = %d" % mid) == [[subject]]
    assert stack.sql("SELECT status, secret_sealed IS NULL FROM mailbox WHERE id = %d"
                     % mid) == [["connected", "1"]]


def test_wrong_certificate_refused_with_guidance(world, fake, stack):
    mid = world.mailbox()["id"]
    assert world.put(mid, {"type": "certificate", "generate": True}).status_code == 200
    # Azure holds a different certificate than the mailbox's
    _, _, other = pem_pair()
    world.upload_to_azure(other.public_bytes(serialization.Encoding.DER))
    r = world.browser.post("/api/mailboxes/%d/authorize" % mid)
    r = world.browser.http.get(r.json()["authorize_url"], allow_redirects=False, timeout=20)
    r = world.browser.http.get(r.headers["Location"], verify=stack.cacert,
                               allow_redirects=False, timeout=30)
    assert r.status_code == 302 and r.headers["Location"].endswith("/#/mailboxes/%d" % mid)
    m = world.get(mid)
    assert m["status"] == "not_connected"
    assert m["last_error"]["code"] == "AADSTS700027", m
    assert "Certificates & secrets" in m["last_error"]["guidance"]
    assert "Download .cer" in m["last_error"]["guidance"]
    (tok,) = fake.log("token_log")
    assert tok["error_code"] == 700027 and tok["client_auth"] == "assertion"
    assert fake.log("graph_log") == []


def test_changing_credential_needs_reauthorization_and_secret_forgets_cert(world, fake, stack):
    mid = world.mailbox()["id"]
    world.put(mid, {"type": "certificate", "generate": True})
    world.upload_to_azure(world.cer(mid))
    connect_mailbox(stack, world.browser, mid)
    # a new certificate: the connection was made with the old one
    r = world.put(mid, {"type": "certificate", "generate": True})
    assert r.status_code == 200 and r.json()["status"] == "needs_reauth", r.text
    # back to a secret: the certificate is forgotten
    r = world.put(mid, {"type": "secret", "secret": "Qx8~" + secrets.token_urlsafe(24)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["credential_type"] == "secret" and body["certificate"] is None
    assert body["secret_set"] is True
    assert stack.sql("SELECT cert_key_sealed IS NULL, cert_pem IS NULL FROM mailbox WHERE id = %d"
                     % mid) == [["1", "1"]]


def test_key_never_in_output_or_logs(world, stack, pd):
    mid = world.mailbox()["id"]
    key, cert, _ = pem_pair()
    assert world.put(mid, {"type": "certificate", "key_pem": key, "cert_pem": cert}).status_code == 200
    world.put(mid, {"type": "certificate", "key_pem": key, "cert_pem": "bad"})
    seen = [world.browser.get("/api/mailboxes/%d" % mid).text,
            world.browser.get("/api/mailboxes").text,
            world.browser.get("/api/audit-log").text,
            pd.text_of(stack.logs()),
            pd.text_of(stack.sql("SELECT detail FROM audit_log"))]
    audit = [json.loads(d) for (d,) in stack.sql(
        "SELECT detail FROM audit_log WHERE action = 'mailbox.credential' AND target_id = %d" % mid)]
    assert audit == [{"type": "certificate", "generated": False}]
    for line in key_body(key):
        for text in seen:
            assert line not in text


def test_clock_skew_refused_with_guidance(world, fake, stack):
    """An assertion outside its valid time range (this server's clock an hour
    behind Microsoft's): AADSTS700024, and the page says to fix the clock."""
    mid = world.mailbox()["id"]
    world.put(mid, {"type": "certificate", "generate": True})
    world.upload_to_azure(world.cer(mid))
    connect_mailbox(stack, world.browser, mid)
    fake.ctl("clock/advance", {"seconds": 3600})
    stack.sql("UPDATE mailbox SET access_expires_at = UTC_TIMESTAMP() - INTERVAL 1 HOUR "
              "WHERE id = %d" % mid)
    r = subprocess.run([str(stack.bin / "postdesk-scan"), "--once", "--mailbox", str(mid)],
                       env=scan_env(stack), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=120)
    keep_stderr(stack, r.stderr)
    (refused,) = [e for e in fake.log("token_log") if e["grant_type"] == "refresh_token"]
    assert refused["error_code"] == 700024 and refused["client_auth"] == "assertion"
    m = world.get(mid)
    assert m["last_error"]["code"] == "AADSTS700024", m
    assert "clock" in m["last_error"]["guidance"]
    assert m["status"] == "needs_reauth"
