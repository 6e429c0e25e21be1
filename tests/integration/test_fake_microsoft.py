"""Tests for tests/fakes/fake_microsoft.py (the fake Microsoft login + Graph).

Self-contained: starts the fake in-process on port 0 (one subprocess test checks the
command line).  Run: /usr/bin/python3 -m pytest tests/integration/test_fake_microsoft.py
"""

import base64
import hashlib
import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

FAKES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes")
sys.path.insert(0, FAKES)
import fake_microsoft  # noqa: E402

REDIRECT = "https://localhost:8443/azure/auth"
REDIRECT2 = "https://localhost:8443/auth/account/azureresponse"
PRODUCT_SCOPES = "offline_access openid email profile Mail.ReadWrite Mail.Send Mail.ReadWrite.Shared Mail.Send.Shared"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Client:
    def __init__(self, fake):
        self.fake = fake

    def req(self, method, path, body=None, headers=None):
        if path.startswith("http://"):
            path = path[len(self.fake.url):]
        c = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=30)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body, h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return Resp(r.status, r.getheaders(), data)

    def ctl(self, name, body=None, method="POST"):
        r = self.req(method, "/_control/" + name, body if method != "GET" else None)
        assert r.status == 200, (name, r.status, r.body)
        return r.json

    def graph(self, path, token, prefer=None, method="GET", body=None, headers=None):
        h = {"Authorization": "Bearer " + token, "Accept": "application/json"}
        if prefer:
            h["Prefer"] = prefer
        h.update(headers or {})
        return self.req(method, path if path.startswith("http") else "/v1.0" + path, body, h)

    # -- login helpers
    def authorize(self, tenant, client_id, scope=PRODUCT_SCOPES, redirect_uri=REDIRECT, state="s-1",
                  verifier=None, **extra):
        verifier = verifier or secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        q = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
             "response_mode": "query", "scope": scope, "state": state,
             "code_challenge": challenge, "code_challenge_method": "S256"}
        q.update(extra)
        q = {k: v for k, v in q.items() if v is not None}
        r = self.req("GET", f"/{tenant}/oauth2/v2.0/authorize?" + urllib.parse.urlencode(q))
        return r, verifier

    def token(self, tenant, fields, headers=None):
        h = dict(FORM)
        h.update(headers or {})
        return self.req("POST", f"/{tenant}/oauth2/v2.0/token", urllib.parse.urlencode(fields), h)


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, {k.lower(): v for k, v in headers}, body

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def location_query(self):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.headers["location"]).query))


@pytest.fixture(scope="module")
def fake():
    f = fake_microsoft.FakeMicrosoft(port=0, quiet=True).start()
    yield f
    f.stop()


@pytest.fixture
def env(fake):
    """A fresh world: tenant contoso, one app, users alice (licensed), bob (licensed),
    nomail (no mailbox), shared mailbox help@ with no delegation yet."""
    c = Client(fake)
    c.ctl("reset")
    t = c.ctl("tenants", {"id": "11111111-2222-3333-4444-555555555555",
                          "domains": ["contoso.onmicrosoft.com", "contoso.com"]})
    app = c.ctl("apps", {"tenant": t["id"], "redirect_uris": [REDIRECT, REDIRECT2],
                         "secrets": [{"id": "aaaaaaaa-0000-0000-0000-000000000001", "value": "Abc8Q~good.secret-1"}]})
    alice = c.ctl("users", {"tenant": t["id"], "address": "alice@contoso.com", "display_name": "Alice Admin"})
    bob = c.ctl("users", {"tenant": t["id"], "address": "bob@contoso.com", "display_name": "Bob"})
    nomail = c.ctl("users", {"tenant": t["id"], "address": "nomail@contoso.com", "has_mailbox": False})
    shared = c.ctl("shared_mailboxes", {"tenant": t["id"], "address": "help@contoso.com"})
    c.t, c.app, c.alice, c.bob, c.nomail, c.shared = t, app, alice, bob, nomail, shared
    c.cid, c.secret = app["client_id"], "Abc8Q~good.secret-1"
    return c


def connect(c, tenant=None, scope=PRODUCT_SCOPES, user=None, **kw):
    """Full code flow -> token JSON."""
    tenant = tenant or c.t["id"]
    if user:
        c.ctl("signin", {"tenant": c.t["id"], "user": user})
    r, verifier = c.authorize(tenant, c.cid, scope=scope, **kw)
    assert r.status == 302, r.body
    code = r.location_query["code"]
    tr = c.token(tenant, {"grant_type": "authorization_code", "client_id": c.cid, "client_secret": c.secret,
                          "code": code, "redirect_uri": kw.get("redirect_uri", REDIRECT), "code_verifier": verifier})
    assert tr.status == 200, tr.body
    return tr.json


def refresh(c, rt, tenant=None, **extra):
    f = {"grant_type": "refresh_token", "client_id": c.cid, "client_secret": c.secret, "refresh_token": rt}
    f.update(extra)
    return c.token(tenant or c.t["id"], f)


def jwt_payload(tok):
    parts = tok.split(".")
    assert len(parts) == 3 and all(parts)
    return json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))


def assert_oauth_error(r, error, code, status=None):
    assert r.status == (status or (401 if error == "invalid_client" else 400)), (r.status, r.body)
    j = r.json
    assert j["error"] == error, j
    assert j["error_codes"] == [code], j
    assert j["error_description"].startswith(f"AADSTS{code}: "), j
    for line in ("\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "):
        assert line in j["error_description"]
    for k in ("timestamp", "trace_id", "correlation_id", "error_uri"):
        assert j[k]
    return j


def assert_graph_error(r, status, code):
    assert r.status == status, (r.status, r.body)
    e = r.json["error"]
    assert e["code"] == code, e
    assert e["message"]
    assert set(e["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert r.headers["request-id"] == e["innerError"]["request-id"]
    return e


# ============================================================ authorize endpoint

def test_full_code_flow_with_pkce(env):
    c = env
    r, verifier = c.authorize("contoso.com", c.cid, state="xyz/+= 1", prompt="select_account",
                              login_hint="help@contoso.com", nonce="n-1")
    assert r.status == 302
    loc = r.headers["location"]
    assert loc.startswith(REDIRECT + "?code=")
    q = r.location_query
    assert q["state"] == "xyz/+= 1"
    assert fake_microsoft.is_guid(q["session_state"])
    # token at the GUID path works too (same tenant), Basic auth this time
    basic = base64.b64encode(f"{c.cid}:{urllib.parse.quote(c.secret, safe='')}".encode()).decode()
    tr = c.token(c.t["id"], {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT,
                             "code_verifier": verifier}, {"Authorization": "Basic " + basic})
    assert tr.status == 200, tr.body
    tok = tr.json
    assert tok["token_type"] == "Bearer"
    assert tok["expires_in"] == 3599 and tok["ext_expires_in"] == 3599
    assert tok["access_token"].count(".") == 0            # opaque, not a JWT
    assert tok["refresh_token"]
    scopes = tok["scope"].split()
    for s in ("Mail.ReadWrite", "Mail.Send", "Mail.ReadWrite.Shared", "Mail.Send.Shared", "User.Read"):
        assert f"https://graph.microsoft.com/{s}" in scopes
    for s in ("openid", "profile", "email", "offline_access"):
        assert s in scopes
    claims = jwt_payload(tok["id_token"])
    assert claims["aud"] == c.cid and claims["tid"] == c.t["id"] and claims["ver"] == "2.0"
    assert claims["oid"] == c.alice["id"] and claims["preferred_username"] == "alice@contoso.com"
    assert claims["email"] == "alice@contoso.com" and claims["name"] == "Alice Admin"
    assert claims["nonce"] == "n-1" and claims["exp"] > claims["iat"]
    assert claims["iss"] == f"{c.fake.url}/{c.t['id']}/v2.0"
    log = c.ctl("authorize_log", method="GET")["entries"]
    assert log[-1]["query"]["prompt"] == "select_account"
    assert log[-1]["query"]["login_hint"] == "help@contoso.com"
    assert log[-1]["query"]["scope"] == PRODUCT_SCOPES
    tlog = c.ctl("token_log", method="GET")["entries"][-1]
    assert tlog["client_auth"] == "basic" and tlog["secret_matched"] == "aaaaaaaa-0000-0000-0000-000000000001"
    assert c.secret not in json.dumps(c.ctl("token_log", method="GET"))


def test_form_post_response_mode(env):
    r, _ = env.authorize(env.t["id"], env.cid, response_mode="form_post")
    assert r.status == 200 and b'name="code"' in r.body and b'name="state" value="s-1"' in r.body


def test_sign_in_user_selection_and_id_token_without_mail(env):
    c = env
    tok = connect(c, user="nomail@contoso.com")
    claims = jwt_payload(tok["id_token"])
    assert claims["oid"] == c.nomail["id"] and "email" not in claims
    tok = connect(c, user="bob@contoso.com", scope="openid Mail.Read")
    claims = jwt_payload(tok["id_token"])
    assert "oid" not in claims and "preferred_username" not in claims   # needs 'profile'
    assert "refresh_token" not in tok                                   # no offline_access
    tok = connect(c, scope="offline_access Mail.Read")
    assert "id_token" not in tok and "refresh_token" in tok


@pytest.mark.parametrize("case", ["tenant", "client", "redirect", "redirect_slash"])
def test_authorize_error_pages(env, case):
    c = env
    tenant, cid, ru = c.t["id"], c.cid, REDIRECT
    code = {"tenant": 90002, "client": 700016, "redirect": 50011, "redirect_slash": 50011}[case]
    if case == "tenant":
        tenant = "nosuch.onmicrosoft.com"
    elif case == "client":
        cid = "99999999-9999-9999-9999-999999999999"
    elif case == "redirect":
        ru = "https://evil.example/azure/auth"
    else:
        ru = REDIRECT + "/"
    r, _ = c.authorize(tenant, cid, redirect_uri=ru)
    assert r.status == 400 and "location" not in r.headers
    assert r.headers["content-type"].startswith("text/html")
    assert f"AADSTS{code}".encode() in r.body


def test_authorize_redirected_errors(env):
    c = env
    r, _ = c.authorize(c.t["id"], c.cid, scope="openid Mail.ReadWriteX")
    q = r.location_query
    assert r.status == 302 and q["error"] == "invalid_scope" and q["error_description"].startswith("AADSTS70011")
    assert q["state"] == "s-1"
    r, _ = c.authorize(c.t["id"], c.cid, code_challenge=None, code_challenge_method=None)
    assert r.location_query["error"] == "invalid_request"
    r, _ = c.authorize(c.t["id"], c.cid, code_challenge_method="plain")
    assert r.location_query["error"] == "invalid_request"
    r, _ = c.authorize(c.t["id"], c.cid, response_type="token")
    assert r.location_query["error"] == "unsupported_response_type"


def test_authorize_cancel_and_admin_approval(env):
    c = env
    c.ctl("signin", {"tenant": c.t["id"], "mode": "cancel"})
    r, _ = c.authorize(c.t["id"], c.cid, state="abc")
    q = r.location_query
    assert r.status == 302 and r.headers["location"].startswith(REDIRECT + "?")
    assert q["error"] == "access_denied" and q["error_subcode"] == "cancel" and q["state"] == "abc"
    assert q["error_description"].startswith("AADSTS65004: User declined to consent to access the app.")
    c.ctl("signin", {"tenant": c.t["id"], "mode": "admin_approval"})
    r, _ = c.authorize(c.t["id"], c.cid)
    assert r.status == 400 and b"AADSTS90094" in r.body and "location" not in r.headers
    c.ctl("signin", {"tenant": c.t["id"], "mode": "approve"})
    connect(c)
    app2 = c.ctl("apps", {"tenant": c.t["id"], "redirect_uris": [REDIRECT], "consented": False})
    r, _ = c.authorize(c.t["id"], app2["client_id"])
    assert r.status == 400 and b"AADSTS90094" in r.body


# ============================================================ token endpoint errors

def code_and_verifier(c, tenant=None, **kw):
    r, v = c.authorize(tenant or c.t["id"], c.cid, **kw)
    return r.location_query["code"], v


def code_fields(c, code, v, **over):
    f = {"grant_type": "authorization_code", "client_id": c.cid, "client_secret": c.secret, "code": code,
         "redirect_uri": REDIRECT, "code_verifier": v}
    f.update(over)
    return {k: val for k, val in f.items() if val is not None}


def test_client_auth_errors(env):
    c = env
    code, v = code_and_verifier(c)
    j = assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v, client_secret="wrong")),
                           "invalid_client", 7000215)
    assert "client secret value, not the client secret ID" in j["error_description"]
    r = c.token(c.t["id"], code_fields(c, code, v, client_secret="aaaaaaaa-0000-0000-0000-000000000001"))
    assert_oauth_error(r, "invalid_client", 7000215)
    assert c.ctl("token_log", method="GET")["entries"][-1]["secret_was_id"] is True
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v, client_secret=None)), "invalid_client", 7000218)
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v, client_id="99999999-9999-9999-9999-999999999999")),
                       "unauthorized_client", 700016)
    # body secret and Basic together
    basic = base64.b64encode(f"{c.cid}:{c.secret}".encode()).decode()
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v), {"Authorization": "Basic " + basic}),
                       "invalid_request", 9002313)
    # the code survived all of that and still works
    assert c.token(c.t["id"], code_fields(c, code, v)).status == 200
    # expired secret
    c.ctl("secrets/expire", {"client_id": c.cid})
    code, v = code_and_verifier(c)
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v)), "invalid_client", 7000222)


def test_request_shape_errors(env):
    c = env
    code, v = code_and_verifier(c)
    r = c.req("POST", f"/{c.t['id']}/oauth2/v2.0/token", json.dumps(code_fields(c, code, v)),
              {"Content-Type": "application/json"})
    assert_oauth_error(r, "invalid_request", 900144)
    r = c.token(c.t["id"], code_fields(c, code, v), {"Origin": "https://localhost:8443"})
    assert_oauth_error(r, "invalid_request", 9002326)
    assert_oauth_error(c.token("nosuch.example", code_fields(c, code, v)), "invalid_request", 90002)
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v, grant_type="password")),
                       "unsupported_grant_type", 70003)


def test_code_errors(env):
    c = env
    code, v = code_and_verifier(c)
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code[:-3], v)), "invalid_grant", 9002313)
    garbled = code[:20] + ("A" if code[20] != "A" else "B") + code[21:]
    assert_oauth_error(c.token(c.t["id"], code_fields(c, garbled, v)), "invalid_grant", 9002313)
    assert_oauth_error(c.token(c.t["id"], code_fields(c, fake_microsoft.checked_token("1.AXkA"), v)),
                       "invalid_grant", 70000)
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v, redirect_uri=REDIRECT2)), "invalid_client", 500112)
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, "x" * 43)), "invalid_grant", 50148)
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, None)), "invalid_grant", 50148)
    # other tenant path
    c.ctl("tenants", {"id": "99999999-0000-0000-0000-000000000000", "domains": ["fabrikam.com"]})
    c.ctl("apps", {"tenant": "fabrikam.com", "client_id": c.cid, "redirect_uris": [REDIRECT],
                   "secrets": [{"value": c.secret}]})
    assert_oauth_error(c.token("fabrikam.com", code_fields(c, code, v)), "invalid_grant", 700005)
    assert c.token("contoso.com", code_fields(c, code, v)).status == 200
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v)), "invalid_grant", 54005)
    # expiry after 10 minutes
    code, v = code_and_verifier(c)
    c.ctl("clock/advance", {"seconds": 601})
    assert_oauth_error(c.token(c.t["id"], code_fields(c, code, v)), "invalid_grant", 70008)


# ============================================================ refresh tokens

def test_strict_rotation(env):
    c = env
    tok = connect(c)
    r1 = refresh(c, tok["refresh_token"])
    assert r1.status == 200
    new = r1.json
    assert new["refresh_token"] != tok["refresh_token"] and new["access_token"] != tok["access_token"]
    assert "id_token" in new
    assert_oauth_error(refresh(c, tok["refresh_token"]), "invalid_grant", 70000)
    assert_oauth_error(refresh(c, new["refresh_token"][:-5]), "invalid_grant", 9002313)
    assert refresh(c, new["refresh_token"]).status == 200
    assert_oauth_error(refresh(c, new["refresh_token"]), "invalid_grant", 70000)


def test_refresh_scope_param(env):
    c = env
    tok = connect(c)
    r = refresh(c, tok["refresh_token"], scope="https://graph.microsoft.com/Mail.ReadWrite offline_access")
    assert r.status == 200
    assert_oauth_error(refresh(c, r.json["refresh_token"], scope="Mail.Read.Shared"), "invalid_grant", 65001)


def test_refresh_inactivity_revocation_disable_consent_mfa(env):
    c = env
    rt = connect(c)["refresh_token"]
    c.ctl("refresh_tokens/age", {"user": "alice@contoso.com", "seconds": 89 * 86400})
    r = refresh(c, rt)
    assert r.status == 200        # use resets the inactivity window
    rt = r.json["refresh_token"]
    c.ctl("refresh_tokens/age", {"user": "alice@contoso.com", "seconds": 91 * 86400})
    assert_oauth_error(refresh(c, rt), "invalid_grant", 700082)

    tok = connect(c)
    c.ctl("users/revoke_sessions", {"user": "alice@contoso.com"})
    assert_oauth_error(refresh(c, tok["refresh_token"]), "invalid_grant", 50173)
    assert_graph_error(c.graph("/me", tok["access_token"]), 401, "InvalidAuthenticationToken")

    tok = connect(c)
    c.ctl("users/disable", {"user": "alice@contoso.com"})
    assert_oauth_error(refresh(c, tok["refresh_token"]), "invalid_grant", 50057)
    r, _ = c.authorize(c.t["id"], c.cid)
    assert r.status == 400 and b"AADSTS50057" in r.body
    c.ctl("users/disable", {"user": "alice@contoso.com", "disabled": False})
    assert refresh(c, tok["refresh_token"]).status == 200

    tok = connect(c)
    c.ctl("users/revoke_consent", {"user": "alice@contoso.com"})
    assert_oauth_error(refresh(c, tok["refresh_token"]), "invalid_grant", 65001)
    tok = connect(c)            # interactive reconnect consents again
    assert refresh(c, tok["refresh_token"]).status == 200

    tok = connect(c)
    c.ctl("users/require_mfa", {"user": "alice@contoso.com"})
    j = assert_oauth_error(refresh(c, tok["refresh_token"]), "invalid_grant", 50076)
    assert j["suberror"] == "basic_action" and "claims" in j
    tok = connect(c)            # MFA done interactively
    assert refresh(c, tok["refresh_token"]).status == 200


def test_refresh_token_bound_to_client(env):
    c = env
    tok = connect(c)
    app2 = c.ctl("apps", {"tenant": c.t["id"], "redirect_uris": [REDIRECT], "secrets": [{"value": "other~secret"}]})
    r = c.token(c.t["id"], {"grant_type": "refresh_token", "client_id": app2["client_id"],
                            "client_secret": "other~secret", "refresh_token": tok["refresh_token"]})
    assert_oauth_error(r, "invalid_grant", 70000)


def test_access_token_expiry_and_lifetime(env):
    c = env
    c.ctl("token_lifetime", {"seconds": 5})
    tok = connect(c)
    assert tok["expires_in"] == 5
    assert c.graph("/me", tok["access_token"]).status == 200
    c.ctl("clock/advance", {"seconds": 6})
    e = assert_graph_error(c.graph("/me", tok["access_token"]), 401, "InvalidAuthenticationToken")
    assert "expired" in e["message"]
    new = refresh(c, tok["refresh_token"]).json
    assert c.graph("/me", new["access_token"]).status == 200
    c.ctl("access_tokens/expire", {"user": "alice@contoso.com"})
    assert c.graph("/me", new["access_token"]).status == 401


def test_token_fault_injection(env):
    c = env
    tok = connect(c)
    c.ctl("faults", {"path": "/oauth2/v2.0/token$", "status": 503, "count": 2, "retry_after": 7})
    for _ in range(2):
        r = refresh(c, tok["refresh_token"])
        assert r.status == 503 and r.headers["retry-after"] == "7"
        assert r.json["error"] == "temporarily_unavailable"
    r = refresh(c, tok["refresh_token"])       # failed attempts did not rotate the token
    assert r.status == 200
    c.ctl("faults", {"path": "/token$", "delay_ms": 300})
    t0 = time.time()
    assert refresh(c, r.json["refresh_token"]).status == 200
    assert time.time() - t0 >= 0.3


# ============================================================ Graph: auth, /me

def test_graph_401_shapes(env):
    c = env
    r = c.req("GET", "/v1.0/me/mailFolders/inbox", headers={"client-request-id": "c0ffee00-0000-0000-0000-000000000001"})
    e = assert_graph_error(r, 401, "InvalidAuthenticationToken")
    assert e["message"] == "Access token is empty."
    assert e["innerError"]["client-request-id"] == "c0ffee00-0000-0000-0000-000000000001"
    assert r.headers["www-authenticate"].startswith("Bearer ")
    r = c.graph("/me", "garbage")
    assert_graph_error(r, 401, "InvalidAuthenticationToken")
    assert "www-authenticate" in r.headers
    assert c.req("GET", "/v1.0/me", headers={"Authorization": "Basic eDp5"}).status == 401


def test_me(env):
    c = env
    tok = connect(c)
    r = c.graph("/me", tok["access_token"])
    assert r.status == 200 and r.headers["request-id"]
    me = r.json
    assert me["id"] == c.alice["id"] and me["userPrincipalName"] == "alice@contoso.com"
    assert me["mail"] == "alice@contoso.com" and me["displayName"] == "Alice Admin"
    tok = connect(c, user="nomail@contoso.com")
    assert c.graph("/me", tok["access_token"]).json["mail"] is None
    assert_graph_error(c.graph("/me/mailFolders/inbox", tok["access_token"]), 404, "MailboxNotEnabledForRESTAPI")


def test_me_requires_user_read(env):
    c = env
    app = c.ctl("apps", {"tenant": c.t["id"], "redirect_uris": [REDIRECT], "secrets": [{"value": "s2~x"}],
                         "permissions": ["Mail.ReadWrite", "Mail.Send"]})
    c.cid, c.secret = app["client_id"], "s2~x"
    tok = connect(c, scope="offline_access openid profile Mail.ReadWrite")
    assert "User.Read" not in tok["scope"]
    assert_graph_error(c.graph("/me", tok["access_token"]), 403, "Authorization_RequestDenied")
    assert c.graph("/me/mailFolders/inbox", tok["access_token"]).status == 200
    tok = connect(c, scope="offline_access openid profile Mail.ReadWrite User.Read")
    assert c.graph("/me", tok["access_token"]).status == 200


# ============================================================ Graph: folders, shared

def test_mail_folders(env):
    c = env
    tok = connect(c)
    at = tok["access_token"]
    inbox = c.graph("/me/mailFolders/inbox", at).json
    for k in ("id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount",
              "isHidden"):
        assert k in inbox
    assert inbox["displayName"] == "Inbox" and inbox["totalItemCount"] == 0
    assert inbox["parentFolderId"] not in ("msgfolderroot", "inbox")
    assert c.graph("/me/mailFolders/Inbox", at).json["id"] == inbox["id"]           # case-insensitive
    by_id = c.graph("/me/mailFolders/" + urllib.parse.quote(inbox["id"], safe=""), at).json
    assert by_id["id"] == inbox["id"]
    root = c.graph("/me/mailFolders/" + inbox["parentFolderId"], at).json
    assert root["childFolderCount"] >= 4
    for wk, name in (("deleteditems", "Deleted Items"), ("sentitems", "Sent Items"), ("drafts", "Drafts")):
        assert c.graph(f"/me/mailFolders/{wk}", at).json["displayName"] == name
    assert c.graph("/users/alice@contoso.com/mailFolders/inbox", at).json["id"] == inbox["id"]
    assert c.graph(f"/users/{c.alice['id']}/mailFolders/inbox", at).json["id"] == inbox["id"]
    assert_graph_error(c.graph("/me/mailFolders/nosuchfolder", at), 400, "ErrorInvalidIdMalformed")
    assert_graph_error(c.graph("/me/mailFolders/" + inbox["id"][:-8] + "AAAAAAA=", at), 404, "ErrorItemNotFound")
    assert_graph_error(c.graph("/users/ghost@contoso.com/mailFolders/inbox", at), 404, "ErrorInvalidUser")
    assert_graph_error(c.graph("/users/nomail@contoso.com/mailFolders/inbox", at), 404, "MailboxNotEnabledForRESTAPI")
    assert_graph_error(c.graph("/me/nonsense", at), 400, "BadRequest")


def test_shared_mailbox_delegation(env):
    c = env
    c.ctl("messages", {"mailbox": "help@contoso.com", "subject": "printer", "from": "cust@example.com"})
    at = connect(c)["access_token"]
    path = "/users/help%40contoso.com/mailFolders/inbox"
    e = assert_graph_error(c.graph(path, at), 403, "ErrorAccessDenied")
    assert e["message"] == "Access is denied. Check credentials and try again."
    c.ctl("delegations", {"shared": "help@contoso.com", "user": "alice@contoso.com", "full_access": True,
                          "send_as": True})
    r = c.graph(path, at)
    assert r.status == 200 and r.json["totalItemCount"] == 1
    assert c.graph("/users/help@contoso.com/mailFolders/inbox/messages", at).json["value"][0]["subject"] == "printer"
    # bob has no delegation
    at_bob = connect(c, user="bob@contoso.com")["access_token"]
    assert_graph_error(c.graph(path, at_bob), 403, "ErrorAccessDenied")
    # delegation but token without the .Shared scopes
    app = c.ctl("apps", {"tenant": c.t["id"], "redirect_uris": [REDIRECT], "secrets": [{"value": "s3~x"}],
                         "permissions": ["User.Read", "Mail.ReadWrite", "Mail.Send"]})
    c.cid, c.secret = app["client_id"], "s3~x"
    at2 = connect(c, user="alice@contoso.com", scope="offline_access openid Mail.ReadWrite")["access_token"]
    assert_graph_error(c.graph(path, at2), 403, "ErrorAccessDenied")
    # revoke
    c.ctl("delegations/revoke", {"shared": "help@contoso.com", "user": "alice@contoso.com"})
    assert_graph_error(c.graph(path, at), 403, "ErrorAccessDenied")
    # a shared mailbox cannot sign in
    c.ctl("signin", {"tenant": c.t["id"], "user": "help@contoso.com"})
    r, _ = c.authorize(c.t["id"], c.cid)
    assert r.status == 400 and b"AADSTS50057" in r.body


# ============================================================ Graph: messages

def seed_inbox(c, n, mailbox="alice@contoso.com"):
    ids = []
    for i in range(n):
        ids.append(c.ctl("messages", {
            "mailbox": mailbox, "subject": f"msg {i}", "received": f"2026-11-0{1 + i // 10}T10:{i % 10:02d}:00Z",
            "body_html": f"<p>Hello <b>{i}</b> &amp; bye</p><script>alert(1)</script>",
            "from": {"name": "Cust", "address": f"c{i}@example.com"}, "to": ["alice@contoso.com"],
            "headers": [{"name": "X-Test", "value": str(i)}],
            "attachments": [{"name": "a.txt", "content_type": "text/plain",
                             "content_b64": base64.b64encode(b"hi").decode()}] if i == 0 else []}))
    return ids


def test_list_paging_select_and_order(env):
    c = env
    seeded = seed_inbox(c, 7)
    at = connect(c)["access_token"]
    url = ("/me/mailFolders/inbox/messages?$select=subject,internetMessageId,receivedDateTime,internetMessageHeaders"
           "&$top=3&$orderby=receivedDateTime%20asc&$filter=receivedDateTime%20ge%202026-11-01T00:00:00Z")
    subjects, pages, link = [], 0, url
    while link:
        r = c.graph(link, at)
        assert r.status == 200, r.body
        j = r.json
        pages += 1
        for m in j["value"]:
            assert set(m) == {"@odata.etag", "id", "subject", "internetMessageId", "receivedDateTime",
                              "internetMessageHeaders"}
            assert m["id"] in {s["id"] for s in seeded}           # regular ids without Prefer
        subjects += [m["subject"] for m in j["value"]]
        link = j.get("@odata.nextLink")
        if link:
            assert link.startswith(c.fake.url + "/v1.0/") and "%24skip=" in link and "%24top=3" in link
    assert pages == 3 and subjects == [f"msg {i}" for i in range(7)]
    # default order is receivedDateTime desc, default page 10, no headers without $select
    j = c.graph("/me/mailFolders/inbox/messages", at).json
    assert [m["subject"] for m in j["value"]] == [f"msg {i}" for i in reversed(range(7))]
    assert "internetMessageHeaders" not in j["value"][0] and "@odata.nextLink" not in j
    assert j["value"][0]["body"]["contentType"] == "html" and "<script" not in j["value"][0]["body"]["content"]
    # filter works
    j = c.graph("/me/mailFolders/inbox/messages?$filter=receivedDateTime%20ge%202026-11-01T10:05:00Z&$count=true",
                at).json
    assert j["@odata.count"] == 2


def test_list_inefficient_filter_and_bad_options(env):
    c = env
    seed_inbox(c, 2)
    at = connect(c)["access_token"]
    base = "/me/mailFolders/inbox/messages?"
    assert_graph_error(c.graph(base + "$orderby=receivedDateTime%20asc&$filter=isRead%20eq%20false", at),
                       400, "InefficientFilter")
    assert_graph_error(c.graph(base + "$orderby=receivedDateTime%20asc&$filter=isRead%20eq%20false%20and%20"
                               "receivedDateTime%20ge%202026-01-01T00:00:00Z", at), 400, "InefficientFilter")
    assert c.graph(base + "$orderby=receivedDateTime%20asc&$filter=receivedDateTime%20ge%202026-01-01T00:00:00Z"
                   "%20and%20isRead%20eq%20false", at).status == 200
    assert c.graph(base + "$orderby=receivedDateTime%20asc", at).status == 200
    assert_graph_error(c.graph(base + "$select=subject,nosuch", at), 400, "RequestBroker--ParseUri")
    assert_graph_error(c.graph(base + "$top=0", at), 400, "BadRequest")
    assert_graph_error(c.graph(base + "$filter=receivedDateTime%20ge%20'2026-01-01T00:00:00Z'", at), 400, "BadRequest")
    assert_graph_error(c.graph(base + "$expand=attachments&$bogus=1", at), 400, "BadRequest")


def test_prefer_immutable_id_and_text_body(env):
    c = env
    seeded = seed_inbox(c, 1)[0]
    at = connect(c)["access_token"]
    r = c.graph("/me/mailFolders/inbox/messages", at, prefer='outlook.body-content-type="text", IdType="ImmutableId"')
    assert r.status == 200
    applied = r.headers["preference-applied"]
    assert 'IdType="ImmutableId"' in applied and 'outlook.body-content-type="text"' in applied
    m = r.json["value"][0]
    assert m["id"] == seeded["immutable_id"]
    assert m["body"] == {"contentType": "text", "content": "Hello 0 & bye"}
    assert m["hasAttachments"] is True
    r = c.graph("/me/mailFolders/inbox/messages", at)
    assert "preference-applied" not in r.headers and r.json["value"][0]["id"] == seeded["id"]
    # move: regular id changes, immutable id stays
    r = c.graph(f"/me/messages/{seeded['id']}/move", at, method="POST", body={"destinationId": "deleteditems"})
    assert r.status == 201 and r.json["id"] != seeded["id"]
    assert_graph_error(c.graph(f"/me/messages/{seeded['id']}", at), 404, "ErrorItemNotFound")
    r = c.graph(f"/me/messages/{seeded['immutable_id']}", at, prefer='IdType="ImmutableId"')
    assert r.status == 200 and r.json["id"] == seeded["immutable_id"]
    deleted = c.graph("/me/mailFolders/deleteditems", at).json
    assert r.json["parentFolderId"] == deleted["id"] and deleted["totalItemCount"] == 1
    assert_graph_error(c.graph("/me/messages/AAMk%253D", at), 400, "ErrorInvalidIdMalformed")
    # attachments
    atts = c.graph(f"/me/messages/{seeded['immutable_id']}/attachments", at).json["value"]
    assert atts[0]["@odata.type"] == "#microsoft.graph.fileAttachment" and atts[0]["contentBytes"] == "aGk="
    raw = c.graph(f"/me/messages/{seeded['immutable_id']}/attachments/{atts[0]['id']}/$value", at)
    assert raw.body == b"hi"
    snap = c.ctl("mailboxes/alice@contoso.com", method="GET")
    wk = {f["wellKnownName"]: f for f in snap["folders"]}
    assert len(wk["deleteditems"]["messages"]) == 1 and wk["inbox"]["messages"] == []


def test_four_in_flight_limit(env):
    c = env
    seed_inbox(c, 1)
    c.ctl("messages", {"mailbox": "bob@contoso.com", "subject": "b"})
    at = connect(c)["access_token"]
    at_bob = connect(c, user="bob@contoso.com")["access_token"]
    c.ctl("faults", {"path": "^/v1.0/me/mailFolders/inbox/messages$", "delay_ms": 800, "count": 4})
    results = []

    def call():
        results.append(c.graph("/me/mailFolders/inbox/messages", at))
    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    r5 = c.graph("/me/mailFolders/inbox", at)                 # 5th concurrent on the same mailbox
    other = c.graph("/me/mailFolders/inbox", at_bob)          # another mailbox is not affected
    for t in threads:
        t.join()
    e = assert_graph_error(r5, 429, "ApplicationThrottled")
    assert "MailboxConcurrency" in e["message"] and int(r5.headers["retry-after"]) >= 1
    assert other.status == 200
    assert [r.status for r in results] == [200] * 4
    assert c.graph("/me/mailFolders/inbox", at).status == 200  # slots released


def test_graph_forced_faults(env):
    c = env
    at = connect(c)["access_token"]
    c.ctl("faults", {"path": "/mailFolders/inbox$", "status": 429, "count": 1, "retry_after": 3,
                     "code": "ApplicationThrottled"})
    r = c.graph("/me/mailFolders/inbox", at)
    assert_graph_error(r, 429, "ApplicationThrottled")
    assert r.headers["retry-after"] == "3"
    c.ctl("faults", {"path": "/mailFolders/inbox$", "status": 503, "count": 1})
    assert_graph_error(c.graph("/me/mailFolders/inbox", at), 503, "ServiceNotAvailable")
    assert c.graph("/me/mailFolders/inbox", at).status == 200
    log = c.ctl("graph_log", method="GET")["entries"]
    assert [e["status"] for e in log[-3:]] == [429, 503, 200]


def test_control_api_validation(env):
    c = env
    assert c.req("POST", "/_control/apps", {"tenant": "nosuch"}).status == 400
    assert c.req("POST", "/_control/nosuch", {}).status == 404
    assert c.req("POST", "/_control/messages", {"mailbox": "alice@contoso.com", "body": "x"}).status == 400
    assert c.req("POST", "/_control/apps", {"tenant": c.t["id"], "permissions": ["Mail.Nope"]}).status == 400
    assert c.req("POST", "/_control/faults", {"path": "(("}).status == 400
    state = c.ctl("state", method="GET")
    assert state["tenants"][0]["domains"] == ["contoso.onmicrosoft.com", "contoso.com"]


# ============================================================ command line

def test_command_line(tmp_path):
    port_file = tmp_path / "port"
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"tenants": [{"id": "22222222-2222-2222-2222-222222222222", "domains": ["x.com"]}],
                                "apps": [{"tenant": "x.com", "client_id": "33333333-3333-3333-3333-333333333333",
                                          "redirect_uris": [REDIRECT], "secrets": [{"value": "Top~Secret.Value"}]}],
                                "users": [{"tenant": "x.com", "address": "u@x.com"}]}))
    p = subprocess.Popen([sys.executable, os.path.join(FAKES, "fake_microsoft.py"), "--port", "0",
                          "--port-file", str(port_file), "--seed", str(seed)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if port_file.exists():
                break
            time.sleep(0.05)
        port = int(port_file.read_text())

        class F:
            url = f"http://127.0.0.1:{port}"
        F.port = port
        c = Client(F)
        c.t, c.cid, c.secret = {"id": "22222222-2222-2222-2222-222222222222"}, "33333333-3333-3333-3333-333333333333", \
            "Top~Secret.Value"
        tok = connect(c, tenant="x.com")
        assert c.graph("/me", tok["access_token"]).status == 200
        refresh(c, tok["refresh_token"], tenant="x.com")
    finally:
        p.terminate()
        _, err = p.communicate(timeout=10)
    assert p.returncode == 0
    err = err.decode()
    assert "POST /x.com/oauth2/v2.0/token -> 200" in err and "GET /v1.0/me -> 200" in err
    for secret in ("Top~Secret.Value", tok["access_token"], tok["refresh_token"], "code="):
        assert secret not in err


# ============================================================ Graph: update, delete, send, batch

def test_patch_and_delete(env):
    c = env
    m = seed_inbox(c, 1)[0]
    at = connect(c)["access_token"]
    r = c.graph(f"/me/messages/{m['id']}", at, method="PATCH", body={"isRead": True})
    assert r.status == 200 and r.json["isRead"] is True
    assert c.graph("/me/mailFolders/inbox", at).json["unreadItemCount"] == 0
    assert_graph_error(c.graph(f"/me/messages/{m['id']}", at, method="PATCH", body={"subject": "x"}),
                       400, "ErrorInvalidPropertySet")
    r = c.graph(f"/me/messages/{m['id']}", at, method="PATCH", body="isRead=true",
                headers={"Content-Type": "text/plain"})
    assert r.status == 415
    r = c.graph(f"/me/messages/{m['id']}", at, method="DELETE")
    assert r.status == 204 and r.body == b""
    assert c.graph("/me/mailFolders/deleteditems", at).json["totalItemCount"] == 0   # soft delete elsewhere
    assert c.graph("/me/mailFolders/inbox", at).json["totalItemCount"] == 0


def test_send_mail_json_and_headers(env):
    c = env
    at = connect(c)["access_token"]
    msg = {"subject": "[#1] Re: printer", "body": {"contentType": "HTML", "content": "<p>ok</p>"},
           "toRecipients": [{"emailAddress": {"address": "bob@contoso.com", "name": "Bob"}}],
           "internetMessageHeaders": [{"name": "X-Helpdesk-Ticket", "value": "1"}],
           "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt",
                            "contentType": "text/plain", "contentBytes": "SGk="}]}
    r = c.graph("/me/sendMail", at, method="POST", body={"message": msg, "saveToSentItems": True})
    assert r.status == 202 and r.body == b""
    sent = c.ctl("sent_log", method="GET")["entries"][-1]
    assert sent["to"] == ["bob@contoso.com"] and sent["from"] == "alice@contoso.com"
    assert sent["headers"] == [{"name": "X-Helpdesk-Ticket", "value": "1"}] and sent["attachments"] == ["a.txt"]
    assert c.graph("/me/mailFolders/sentitems", at).json["totalItemCount"] == 1
    snap = c.ctl("mailboxes/bob@contoso.com", method="GET")       # delivered to bob's fake inbox
    assert [m["subject"] for f in snap["folders"] if f["wellKnownName"] == "inbox" for m in f["messages"]] == \
        ["[#1] Re: printer"]
    bad = dict(msg, internetMessageHeaders=[{"name": "In-Reply-To", "value": "<x@y>"}])
    e = assert_graph_error(c.graph("/me/sendMail", at, method="POST", body={"message": bad}),
                           400, "InvalidInternetMessageHeader")
    assert "should start with 'x-' or 'X-'" in e["message"]
    assert_graph_error(c.graph("/me/sendMail", at, method="POST", body={"message": dict(msg, toRecipients=[])}),
                       400, "ErrorInvalidRecipients")


def test_send_mail_mime(env):
    c = env
    at = connect(c)["access_token"]
    mime = ("From: alice@contoso.com\r\nTo: cust@example.com\r\nSubject: [#2] hello\r\n"
            "In-Reply-To: <orig@example.com>\r\nReferences: <orig@example.com>\r\nMessage-ID: <mine@contoso.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nThanks!\r\n")
    r = c.graph("/me/sendMail", at, method="POST", body=base64.b64encode(mime.encode()).decode(),
                headers={"Content-Type": "text/plain"})
    assert r.status == 202, r.body
    sent = c.ctl("sent_log", method="GET")["entries"][-1]
    assert sent["mime"] and sent["internet_message_id"] == "<mine@contoso.com>"
    assert {"name": "In-Reply-To", "value": "<orig@example.com>"} in sent["headers"]
    assert_graph_error(c.graph("/me/sendMail", at, method="POST", body="not base64 !!",
                               headers={"Content-Type": "text/plain"}), 400, "ErrorMimeContentInvalidBase64String")


def test_send_from_shared_mailbox(env):
    c = env
    at = connect(c)["access_token"]
    msg = {"message": {"subject": "ack", "body": {"contentType": "Text", "content": "hi"},
                       "toRecipients": [{"emailAddress": {"address": "cust@example.com"}}]}}
    c.ctl("delegations", {"shared": "help@contoso.com", "user": "alice@contoso.com", "full_access": True})
    assert_graph_error(c.graph("/users/help@contoso.com/sendMail", at, method="POST", body=msg), 403, "ErrorSendAsDenied")
    via_me = dict(msg["message"], **{"from": {"emailAddress": {"address": "help@contoso.com"}}})
    assert_graph_error(c.graph("/me/sendMail", at, method="POST", body={"message": via_me}), 403, "ErrorSendAsDenied")
    c.ctl("delegations", {"shared": "help@contoso.com", "user": "alice@contoso.com", "full_access": True,
                          "send_as": True})
    assert c.graph("/users/help@contoso.com/sendMail", at, method="POST", body=msg).status == 202
    sent = c.ctl("sent_log", method="GET")["entries"][-1]
    assert sent["from"] == sent["sender"] == "help@contoso.com" and sent["mailbox"] == "help@contoso.com"
    assert c.graph("/users/help@contoso.com/mailFolders/sentitems", at).json["totalItemCount"] == 1


def test_reply_threads(env):
    c = env
    m = c.ctl("messages", {"mailbox": "alice@contoso.com", "subject": "printer", "from": "cust@example.com",
                           "internet_message_id": "<q1@example.com>"})
    at = connect(c)["access_token"]
    r = c.graph(f"/me/messages/{m['id']}/reply", at, method="POST", body={"comment": "On it"})
    assert r.status == 202
    sent = c.ctl("sent_log", method="GET")["entries"][-1]
    assert sent["subject"] == "RE: printer" and sent["to"] == ["cust@example.com"]
    assert {"name": "In-Reply-To", "value": "<q1@example.com>"} in sent["headers"]
    both = {"comment": "x", "message": {"body": {"contentType": "text", "content": "y"}}}
    assert_graph_error(c.graph(f"/me/messages/{m['id']}/reply", at, method="POST", body=both),
                       400, "ErrorInvalidRequest")


def test_batch(env):
    c = env
    seeded = seed_inbox(c, 3)
    at = connect(c)["access_token"]
    reqs = [{"id": str(i), "method": "POST", "url": f"/me/messages/{m['immutable_id']}/move",
             "headers": {"Content-Type": "application/json"}, "body": {"destinationId": "deleteditems"}}
            for i, m in enumerate(seeded)]
    reqs.append({"id": "x", "method": "GET", "url": "/me/messages/AAMkNOTFOUNDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx="})
    r = c.graph("/$batch", at, method="POST", body={"requests": reqs}, prefer='IdType="ImmutableId"')
    assert r.status == 200, r.body
    by_id = {x["id"]: x for x in r.json["responses"]}
    assert set(by_id) == {"0", "1", "2", "x"}
    for i, m in enumerate(seeded):
        assert by_id[str(i)]["status"] == 201 and by_id[str(i)]["body"]["id"] == m["immutable_id"]
    assert by_id["x"]["status"] == 404 and by_id["x"]["body"]["error"]["code"] == "ErrorItemNotFound"
    assert c.graph("/me/mailFolders/deleteditems", at).json["totalItemCount"] == 3
    # dependsOn: a failed dependency gives 424
    chain = [{"id": "1", "method": "GET", "url": "/me/messages/AAMkNOTFOUNDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx="},
             {"id": "2", "dependsOn": ["1"], "method": "GET", "url": "/me/mailFolders/inbox"}]
    by_id = {x["id"]: x for x in c.graph("/$batch", at, method="POST", body={"requests": chain}).json["responses"]}
    assert by_id["1"]["status"] == 404 and by_id["2"]["status"] == 424
    too_many = [{"id": str(i), "method": "GET", "url": "/me/mailFolders/inbox"} for i in range(21)]
    assert_graph_error(c.graph("/$batch", at, method="POST", body={"requests": too_many}), 400, "BadRequest")
    dup = [{"id": "1", "method": "GET", "url": "/me"}, {"id": "1", "method": "GET", "url": "/me"}]
    assert_graph_error(c.graph("/$batch", at, method="POST", body={"requests": dup}), 400, "BadRequest")
    nohdr = [{"id": "1", "method": "POST", "url": "/me/messages/x/move", "body": {"destinationId": "inbox"}}]
    assert_graph_error(c.graph("/$batch", at, method="POST", body={"requests": nohdr}), 400, "BadRequest")


def test_batch_inner_requests_count_against_concurrency(env):
    c = env
    seed_inbox(c, 1)
    at = connect(c)["access_token"]
    c.ctl("faults", {"path": "^/v1.0/me/mailFolders/inbox$", "delay_ms": 600, "count": None})
    reqs = [{"id": str(i), "method": "GET", "url": "/me/mailFolders/inbox"} for i in range(4)]
    holder = []
    t = threading.Thread(target=lambda: holder.append(c.graph("/me/mailFolders/inbox", at)))
    t.start()
    time.sleep(0.2)
    r = c.graph("/$batch", at, method="POST", body={"requests": reqs})
    t.join()
    statuses = sorted(x["status"] for x in r.json["responses"])
    assert statuses == [200, 200, 200, 429]
    throttled = next(x for x in r.json["responses"] if x["status"] == 429)
    assert throttled["headers"]["Retry-After"] and throttled["body"]["error"]["code"] == "ApplicationThrottled"
    c.req("DELETE", "/_control/faults")
