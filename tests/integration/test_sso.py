"""Sign in with Microsoft (issue 14, item 3; docs/sso.md) against the fake.

Real HTTPS to the stack, the fake's authorize and token endpoints, id_tokens
signed RS256 by tests/fakes/fake_oidc.py and its JWKS; each bad id_token the
fake can forge must be refused and sign nobody in.  The settings are one row
for the whole stack: the `sso` fixture turns sign-in with Microsoft off again
after each test, so no other test finds the password sign-in refused.
"""
import concurrent.futures
import secrets
import urllib.parse

import pytest

from pd_helpers import Client, check_problem, new_agent

CALLBACK = "/api/sso/callback"


class Sso:
    """A tenant with an app whose redirect URI is the stack's callback, and a user."""

    def __init__(self, stack, fake, admin):
        self.stack, self.fake, self.admin = stack, fake, admin
        self.domain = "sso%s.onmicrosoft.com" % secrets.token_hex(4)
        self.tenant = fake.ctl("tenants", {"domains": [self.domain]})["id"]
        app = fake.ctl("apps", {"tenant": self.tenant, "redirect_uris": [stack.base + CALLBACK]})
        self.client_id = app["client_id"]
        self.secret = app["secrets"][0]["value"]
        self.address = "alice@" + self.domain
        self.oid = fake.ctl("users", {"tenant": self.tenant, "address": self.address,
                                      "display_name": "Alice"})["id"]

    def settings(self, **fields):
        return self.admin.patch("/api/sso/settings", json=fields)

    def enable(self, **over):
        body = {"enabled": True, "mailbox_id": None, "tenant_id": self.tenant,
                "client_id": self.client_id, "secret": self.secret,
                "allow_address_match": False, "require_microsoft": False,
                "break_glass_agent_id": None}
        body.update(over)
        r = self.settings(**body)
        assert r.status_code == 200, r.text
        return r.json()

    def agent(self, username=None, link=True):
        """A new agent (username: the user's address when given); linked to
        the user's object id by SQL when link."""
        if username is None:
            name = new_agent(self.stack, "agent")[0]
        else:
            name = username
            self.stack.admin("create-agent", name, "--role", "agent",
                             input="pw-" + secrets.token_hex(8) + "\n")
        if link:
            self.stack.sql("UPDATE agent SET ms_oid = '%s' WHERE username = '%s'" % (self.oid, name))
        return name

    def start(self, browser):
        r = browser.get("/api/sso/start")
        assert r.status_code == 302, r.text
        return r.headers["Location"]

    def at_microsoft(self, browser, url, forge=None):
        """The fake's authorize answer: the callback path with code and state."""
        if forge:
            self.fake.ctl("oidc/forge", {"mode": forge})
        r = browser.http.get(url, allow_redirects=False, timeout=20)
        assert r.status_code == 302, r.text
        loc = r.headers["Location"]
        assert loc.startswith(self.stack.base + CALLBACK + "?"), loc
        return loc[len(self.stack.base):]

    def sign_in(self, browser=None, forge=None):
        """The whole flow; (browser, the callback's answer)."""
        b = browser or Client(self.stack)
        cb = self.at_microsoft(b, self.start(b), forge)
        return b, b.get(cb)


def outcome(r):
    """'ok' for the portal's home, else the login page's sso_error."""
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    if "#" not in loc:
        return "ok"
    frag = urllib.parse.urlsplit(loc).fragment
    assert frag.startswith("/login?"), loc
    return urllib.parse.parse_qs(frag.split("?", 1)[1])["sso_error"][0]


def session_cookie(r):
    return [c for c in r.headers.get("Set-Cookie", "").split(", ") if c.startswith("__Host-pd_session=")]


@pytest.fixture
def sso(stack, fake, admin_cookie):
    s = Sso(stack, fake, admin_cookie)
    yield s
    r = admin_cookie.patch("/api/sso/settings", json={"enabled": False, "require_microsoft": False,
                                                      "allow_address_match": False})
    assert r.status_code == 200, r.text


def test_sign_in_end_to_end(stack, fake, sso):
    name = sso.agent()
    sso.enable()
    assert Client(stack).get("/api/sso").json() == {"enabled": True, "required": False}
    b = Client(stack)
    url = sso.start(b)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith("%s/%s/oauth2/v2.0/authorize?" % (fake.url, sso.tenant))
    assert q["scope"] == "openid profile email" and q["response_type"] == "code"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["redirect_uri"] == stack.base + CALLBACK and q["client_id"] == sso.client_id
    assert len(q["nonce"]) == 43 and len(q["state"]) == 43 and q["nonce"] != q["state"]
    cb = sso.at_microsoft(b, url)
    r = b.get(cb)
    assert outcome(r) == "ok" and r.headers["Location"] == stack.base + "/"
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(cb).query))["code"]
    logs = "".join(p.read_text(errors="replace") for p in (stack.var / "log").glob("*.log"))
    assert code not in logs and "/api/sso/start" in logs  # the callback is not logged
    assert session_cookie(r) and "HttpOnly" in r.headers["Set-Cookie"]
    tok = fake.log("token_log")[-1]
    assert tok["grant_type"] == "authorization_code" and tok["has_code_verifier"]
    me = b.get("/api/session")
    assert me.status_code == 200, me.text
    assert me.json()["agent"]["username"] == name and me.json()["csrf_token"]
    # the same session as a password's: writes need the CSRF token
    b.http.headers["X-CSRF-Token"] = me.json()["csrf_token"]
    assert b.delete("/api/session").status_code == 204
    assert b.get("/api/session").status_code == 401


@pytest.mark.parametrize("mode", ["forged_signature", "expired", "not_yet_valid", "wrong_audience",
                                  "wrong_nonce", "wrong_issuer", "wrong_tenant", "unknown_kid",
                                  "no_oid"])
def test_bad_id_token_refused(stack, fake, sso, mode):
    sso.agent()
    sso.enable()
    b, r = sso.sign_in(forge=mode)
    assert outcome(r) == "id_token", r.headers
    assert not session_cookie(r)
    assert b.get("/api/session").status_code == 401
    # the next, good token signs in: the refusal was the token's alone
    assert outcome(sso.sign_in()[1]) == "ok"


def test_state_is_single_use_and_bound_to_the_browser(stack, sso):
    sso.agent()
    sso.enable()
    b = Client(stack)
    cb = sso.at_microsoft(b, sso.start(b))
    other = Client(stack)  # no __Host-pd_sso cookie of this sign-in
    assert outcome(other.get(cb)) == "state"
    assert outcome(b.get(cb)) == "state"  # the refused try used it up
    b2 = Client(stack)
    cb2 = sso.at_microsoft(b2, sso.start(b2))
    assert outcome(b2.get(cb2)) == "ok"
    b3 = Client(stack)
    b3.http.cookies.update(b2.http.cookies)
    assert outcome(b3.get(cb2)) == "state"  # replayed
    assert outcome(Client(stack).get(CALLBACK + "?state=nonsense&code=x")) == "state"


def test_one_state_signs_in_once_under_concurrent_callbacks(stack, fake, sso):
    sso.agent()
    sso.enable()
    b = Client(stack)
    cb = sso.at_microsoft(b, sso.start(b))
    clients = [Client(stack) for _ in range(4)]
    for c in clients:
        c.http.cookies.update(b.http.cookies)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        got = sorted(ex.map(lambda c: outcome(c.get(cb)), clients))
    assert got == ["ok", "state", "state", "state"]
    assert len([t for t in fake.log("token_log") if t["grant_type"] == "authorization_code"]) == 1


def test_microsoft_error_and_unknown_account(stack, fake, sso):
    sso.enable()
    assert outcome(sso.sign_in()[1]) == "no_agent"  # nobody linked, no address match
    fake.ctl("signin", {"tenant": sso.tenant, "mode": "cancel"})
    assert outcome(sso.sign_in()[1]) == "denied"


def test_first_sign_in_by_address_only_when_allowed(stack, sso):
    name = sso.address
    sso.agent(username=name, link=False)
    sso.enable(allow_address_match=False)
    assert outcome(sso.sign_in()[1]) == "no_agent"
    assert stack.sql("SELECT ms_oid FROM agent WHERE username = '%s'" % name) == [["NULL"]]
    sso.enable(allow_address_match=True)
    b, r = sso.sign_in()
    assert outcome(r) == "ok"
    assert stack.sql("SELECT ms_oid FROM agent WHERE username = '%s'" % name) == [[sso.oid]]
    assert b.get("/api/session").json()["agent"]["username"] == name
    sso.enable(allow_address_match=False)  # linked now: the object id finds it
    assert outcome(sso.sign_in()[1]) == "ok"
    items = sso.admin.get("/api/agents").json()["items"]
    assert [a["microsoft"] for a in items if a["username"] == name] == [True]


def test_signing_key_rotation_refetches_the_jwks(stack, fake, sso):
    sso.agent()
    sso.enable()
    assert outcome(sso.sign_in()[1]) == "ok"
    before = fake.get("oidc")["jwks_requests"]
    fake.ctl("oidc/rotate")
    assert outcome(sso.sign_in()[1]) == "ok"
    assert fake.get("oidc")["jwks_requests"] > before


def test_require_microsoft_keeps_a_break_glass_admin(stack, sso, admin_login):
    sso.agent()
    other = new_agent(stack, "agent")
    r = sso.settings(**{"enabled": True, "tenant_id": sso.tenant, "client_id": sso.client_id,
                        "secret": sso.secret, "require_microsoft": True, "break_glass_agent_id": None})
    check_problem(r, 422, ["break_glass_agent_id"])
    check_problem(sso.settings(require_microsoft=True), 422,
                  ["require_microsoft", "break_glass_agent_id"])  # still off
    sso.enable()
    check_problem(sso.settings(require_microsoft=True), 422, ["break_glass_agent_id"])
    admin_id = sso.admin.get("/api/session").json()["agent"]["id"]
    agent_id = int(stack.sql("SELECT id FROM agent WHERE username = '%s'" % other[0])[0][0])
    check_problem(sso.settings(require_microsoft=True, break_glass_agent_id=agent_id), 422,
                  ["break_glass_agent_id"])  # not an admin
    sso.enable(require_microsoft=True, break_glass_agent_id=admin_id)
    assert Client(stack).get("/api/sso").json() == {"enabled": True, "required": True}
    r = Client(stack).post("/api/session", json={"username": other[0], "password": other[1]})
    check_problem(r, 403)
    assert "Sign in with Microsoft" in r.json()["detail"] and not session_cookie(r)
    Client(stack).login(*admin_login)  # the break-glass admin still may
    assert outcome(sso.sign_in()[1]) == "ok"


def test_settings_api(stack, sso, client):
    r = sso.settings(secret="s3cret-value-" + secrets.token_hex(4), tenant_id="contoso.com",
                     client_id="x", colour="red")
    check_problem(r, 422, ["tenant_id", "client_id", "colour"])
    check_problem(sso.settings(enabled=True, tenant_id="", client_id="", secret=""), 422,
                  ["tenant_id", "client_id", "secret"])
    check_problem(sso.settings(enabled="yes"), 422, ["enabled"])
    check_problem(sso.settings(mailbox_id=999999999), 422, ["mailbox_id"])
    body = sso.enable()
    assert body["secret_set"] is True and "secret" not in body and sso.secret not in str(body)
    assert body["redirect_uri"] == stack.base + CALLBACK
    got = sso.admin.get("/api/sso/settings").json()
    assert got["tenant_id"] == sso.tenant and got["client_id"] == sso.client_id
    assert sso.secret not in stack.sql("SELECT HEX(secret_sealed) FROM sso_settings")[0][0]
    agent = Client(stack)
    agent.login(*new_agent(stack, "agent"))
    check_problem(agent.get("/api/sso/settings"), 403)
    check_problem(agent.patch("/api/sso/settings", json={"enabled": False}), 403)
    check_problem(Client(stack).get("/api/sso/settings"), 401)
    sso.settings(enabled=False)
    assert Client(stack).get("/api/sso").json() == {"enabled": False, "required": False}
    assert outcome(Client(stack).get("/api/sso/start")) == "off"


def test_a_mailbox_app_signs_in(stack, fake, sso, admin_cookie):
    sso.agent()
    r = admin_cookie.post("/api/mailboxes", json={"name": "SSO " + secrets.token_hex(3),
                                                  "client_id": sso.client_id, "tenant_id": sso.tenant,
                                                  "secret": sso.secret})
    assert r.status_code == 201, r.text
    sso.enable(mailbox_id=r.json()["id"], tenant_id="", client_id="", secret="")
    assert outcome(sso.sign_in()[1]) == "ok"


def test_a_disabled_agent_is_refused_and_never_linked(stack, sso):
    name = sso.agent()
    sso.enable(allow_address_match=True)
    stack.sql("UPDATE agent SET disabled = 1 WHERE username = '%s'" % name)
    assert outcome(sso.sign_in()[1]) == "no_agent"
    stack.sql("UPDATE agent SET ms_oid = NULL WHERE username = '%s'" % name)
    sso.agent(username=sso.address, link=False)
    stack.sql("UPDATE agent SET disabled = 1 WHERE username = '%s'" % sso.address)
    assert outcome(sso.sign_in()[1]) == "no_agent"
    assert stack.sql("SELECT ms_oid FROM agent WHERE username = '%s'" % sso.address) == [["NULL"]]
