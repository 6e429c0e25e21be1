"""Connect a mailbox (issue 3) against the fake Microsoft cloud.

Real HTTPS to the stack, real redirects through the fake's authorize
endpoint, real callbacks on both registered redirect URIs, real SQL to
check what was (not) stored.  Each test makes its own tenant, app, users
and mailbox; the fake is reset before each test (the `fake` fixture).
"""
import concurrent.futures
import html
import json
import secrets
import time
import urllib.parse

import pytest

LICENSED_SCOPES = ["offline_access", "openid", "email", "profile", "Mail.ReadWrite", "Mail.Send"]
SHARED_SCOPES = LICENSED_SCOPES + ["Mail.ReadWrite.Shared", "Mail.Send.Shared"]
CHECK_NAMES = 3  # refresh, Inbox, Deleted Items


class World:
    """One tenant with an app, a licensed user and (optionally) a shared mailbox."""

    def __init__(self, stack, fake, pd, admin_login, shared=False, delegated=True,
                 redirect_uris=None, secret=None, inbox=2, shared_inbox=3):
        self.stack, self.fake, self.pd = stack, fake, pd
        dom = "c%s.onmicrosoft.com" % secrets.token_hex(4)
        self.tenant = fake.ctl("tenants", {"domains": [dom]})["id"]
        uris = redirect_uris if redirect_uris is not None else [
            stack.base + "/azure/auth", stack.base + "/auth/account/azureresponse"]
        app = fake.ctl("apps", {"tenant": self.tenant, "redirect_uris": uris,
                                "secrets": [secret or {}]})
        self.client_id = app["client_id"]
        self.secret = app["secrets"][0]["value"]
        self.secret_id = app["secrets"][0]["id"]
        self.user = "alice@" + dom
        fake.ctl("users", {"tenant": self.tenant, "address": self.user, "display_name": "Alice"})
        for i in range(inbox):
            fake.ctl("messages", {"mailbox": self.user, "subject": "own %d" % i,
                                  "from": "x@example.com", "to": [self.user], "body_text": "hi"})
        self.shared = None
        if shared:
            self.shared = "help@" + dom
            fake.ctl("shared_mailboxes", {"tenant": self.tenant, "address": self.shared})
            for i in range(shared_inbox):
                fake.ctl("messages", {"mailbox": self.shared, "subject": "shared %d" % i,
                                      "from": "y@example.com", "to": [self.shared],
                                      "body_text": "help"})
            if delegated:
                fake.ctl("delegations", {"shared": self.shared, "user": self.user,
                                         "full_access": True, "send_as": True})
        self.browser = pd.Client(stack)
        self.browser.login(*admin_login)

    def mailbox(self, secret=None, **over):
        body = {"name": self.pd.unique("Connect"), "client_id": self.client_id,
                "tenant_id": self.tenant, "secret": secret or self.secret}
        if self.shared:
            body["shared_address"] = self.shared
        body.update(over)
        r = self.browser.post("/api/mailboxes", json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def get(self, mid):
        r = self.browser.get("/api/mailboxes/%d" % mid)
        assert r.status_code == 200, r.text
        return r.json()

    def authorize(self, mid, client=None):
        """POST authorize, follow the URL at the fake: (authorize_url, fake's answer)."""
        c = client or self.browser
        r = c.post("/api/mailboxes/%d/authorize" % mid)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["expires_in"] == 600 and set(body) == {"authorize_url", "expires_in"}, body
        url = body["authorize_url"]
        assert url.startswith(self.fake.url + "/"), url
        return url, c.http.get(url, allow_redirects=False, timeout=20)

    def callback(self, location, client=None):
        c = client or self.browser
        assert location.startswith(self.stack.base + "/"), location
        return c.http.get(location, verify=self.stack.cacert, allow_redirects=False, timeout=30)

    def connect(self, mid, path=None):
        """The whole flow; returns the callback answer."""
        _, r = self.authorize(mid)
        assert r.status_code == 302, (r.status_code, r.text[:500])
        loc = r.headers["Location"]
        if path is not None:
            loc = loc.replace("/azure/auth?", path + "?", 1)
        return self.callback(loc)

    def row(self, mid):
        rows = self.stack.sql(
            "SELECT status, refresh_token_sealed IS NULL, access_token_sealed IS NULL, "
            "account IS NULL FROM mailbox WHERE id = %d" % mid)
        return tuple(rows[0])

    def test(self, mid):
        return self.browser.post("/api/mailboxes/%d/test" % mid)


@pytest.fixture
def world(stack, fake, pd, admin_login):
    return lambda **kw: World(stack, fake, pd, admin_login, **kw)


def query_of(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def assert_back_on_page(w, r, mid):
    assert r.status_code == 302, (r.status_code, r.text[:500])
    assert r.headers["Location"] == "%s/#/mailboxes/%d" % (w.stack.base, mid)


def assert_nothing_stored(w, mid, status="not_connected"):
    assert w.row(mid) == (status, "1", "1", "1")
    m = w.get(mid)
    assert m["status"] == status and m["connection"] is None, m


def assert_bad_state_page(r, words):
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert words in r.text, r.text


def graph_paths(fake):
    """The Graph paths the fake served, percent-decoded."""
    return [urllib.parse.unquote(e["path"]) for e in fake.log("graph_log")]


def token_grants(fake, grant):
    return [e for e in fake.log("token_log") if e["grant_type"] == grant]


# --- the full flow ------------------------------------------------------------------

def test_licensed_mailbox_connects(world, fake, stack):
    w = world(inbox=4)
    mid = w.mailbox()
    url, r = w.authorize(mid)
    q = query_of(url)
    assert urllib.parse.urlsplit(url).path == "/%s/oauth2/v2.0/authorize" % w.tenant
    assert q["client_id"] == w.client_id and q["response_type"] == "code"
    assert q["redirect_uri"] == stack.base + "/azure/auth"
    assert q["prompt"] == "select_account" and q["code_challenge_method"] == "S256"
    assert len(q["code_challenge"]) == 43 and len(q["state"]) >= 43
    assert q["scope"].split() == LICENSED_SCOPES  # no .Shared, no User.Read
    # What the fake received is what postdesk sent.
    (entry,) = fake.log("authorize_log")
    assert entry["query"] == q and entry["outcome"] == "code for " + w.user

    assert r.status_code == 302
    assert query_of(r.headers["Location"])["state"] == q["state"]
    cb = w.callback(r.headers["Location"])
    assert_back_on_page(w, cb, mid)

    m = w.get(mid)
    assert m["status"] == "connected" and m["last_error"] is None, m
    assert m["connection"]["account"] == w.user
    assert m["connection"]["tenant_id"] == w.tenant
    assert m["connection"]["inbox_count"] == 4
    assert m["connection"]["connected_at"]

    (tok,) = fake.log("token_log")
    assert tok["grant_type"] == "authorization_code" and tok["status"] == 200, tok
    assert tok["has_code_verifier"] and tok["client_auth"] == "body"
    assert tok["redirect_uri"] == stack.base + "/azure/auth"
    assert tok["tenant"] == w.tenant and tok["content_type"].startswith(
        "application/x-www-form-urlencoded")
    assert not tok["origin_header"]
    paths = graph_paths(fake)
    assert paths == ["/v1.0/me/mailFolders/inbox"], paths

    # The state was single-use: the same callback again changes nothing.
    again = w.callback(r.headers["Location"])
    assert_bad_state_page(again, "already used")
    assert len(fake.log("token_log")) == 1


def test_shared_mailbox_connects_through_delegation(world, fake):
    w = world(shared=True, inbox=5, shared_inbox=2)
    mid = w.mailbox()
    url, r = w.authorize(mid)
    q = query_of(url)
    assert q["scope"].split() == SHARED_SCOPES
    assert "login_hint" not in q  # the shared address cannot sign in
    assert_back_on_page(w, w.callback(r.headers["Location"]), mid)
    m = w.get(mid)
    assert m["status"] == "connected", m
    assert m["connection"]["account"] == w.user
    assert m["connection"]["inbox_count"] == 2  # the shared Inbox, not Alice's 5
    assert m["shared_address"] == w.shared
    log = fake.log("graph_log")
    assert graph_paths(fake) == ["/v1.0/users/%s/mailFolders/inbox" % w.shared], log
    assert all(e["status"] == 200 for e in log), log

    # Test connection reads the shared mailbox too, never /me.
    r = w.test(mid)
    assert r.status_code == 200 and r.json()["passed"], r.text
    assert not [e for e in fake.log("graph_log") if e["path"].startswith("/v1.0/me")]


def test_second_redirect_uri_works(world, fake):
    w = world()
    mid = w.mailbox()
    r = w.connect(mid, path="/auth/account/azureresponse")
    assert_back_on_page(w, r, mid)
    assert w.get(mid)["status"] == "connected"


# --- errors at the token endpoint ------------------------------------------------------

def test_wrong_secret(world, fake):
    w = world()
    mid = w.mailbox(secret="Wr0ng~" + secrets.token_urlsafe(24))
    assert_back_on_page(w, w.connect(mid), mid)
    m = w.get(mid)
    assert m["last_error"]["code"] == "AADSTS7000215", m
    assert "AADSTS7000215" in m["last_error"]["message"]
    assert "not the Secret ID" in m["last_error"]["guidance"]
    assert_nothing_stored(w, mid)
    (tok,) = fake.log("token_log")
    assert tok["error_code"] == 7000215 and not tok["secret_was_id"]
    assert fake.log("graph_log") == []


def test_secret_id_sent_as_secret(world, fake, pd):
    # Azure's Secret IDs are GUIDs, which the API refuses outright ...
    w = world()
    r = w.browser.post("/api/mailboxes", json={
        "name": pd.unique("Guid"), "client_id": w.client_id, "tenant_id": w.tenant,
        "secret": w.secret_id})
    p = pd.check_problem(r, 422, ["secret"])
    assert "Secret ID" in pd.message_for(p, "secret")
    # ... so give the fake's secret an ID that is not a GUID and send that.
    w = world(secret={"id": "sid-" + secrets.token_hex(12)})
    mid = w.mailbox(secret=w.secret_id)
    assert_back_on_page(w, w.connect(mid), mid)
    m = w.get(mid)
    assert m["last_error"]["code"] == "AADSTS7000215", m
    assert "Value" in m["last_error"]["guidance"]
    (tok,) = fake.log("token_log")
    assert tok["secret_was_id"] and tok["error_code"] == 7000215
    assert_nothing_stored(w, mid)


def test_expired_secret(world, fake):
    w = world()
    mid = w.mailbox()
    fake.ctl("secrets/expire", {"client_id": w.client_id})
    assert_back_on_page(w, w.connect(mid), mid)
    m = w.get(mid)
    assert m["last_error"]["code"] == "AADSTS7000222", m
    assert "expired" in m["last_error"]["message"].lower() or "AADSTS7000222" in m["last_error"]["message"]
    assert "new client secret" in m["last_error"]["guidance"]
    assert_nothing_stored(w, mid)


def test_unregistered_redirect_uri_shows_microsofts_page(world, fake, stack):
    w = world(redirect_uris=["https://elsewhere.example/azure/auth"])
    mid = w.mailbox()
    _, r = w.authorize(mid)
    assert r.status_code == 400 and "Location" not in r.headers
    assert "AADSTS50011" in r.text
    assert fake.log("authorize_log")[0]["outcome"] == "page AADSTS50011"
    assert fake.log("token_log") == []
    assert_nothing_stored(w, mid)
    assert w.get(mid)["last_error"] is None
    # The page shows both URIs to register.
    uris = w.get(mid)["redirect_uris"]
    assert uris == [stack.base + "/azure/auth", stack.base + "/auth/account/azureresponse"]


def test_user_cancels(world, fake):
    w = world()
    mid = w.mailbox()
    fake.ctl("signin", {"tenant": w.tenant, "mode": "cancel"})
    _, r = w.authorize(mid)
    assert r.status_code == 302 and query_of(r.headers["Location"])["error"] == "access_denied"
    assert_back_on_page(w, w.callback(r.headers["Location"]), mid)
    m = w.get(mid)
    err = m["last_error"]
    assert err["code"] in ("AADSTS65004", "access_denied"), err
    assert "AADSTS65004" in err["message"] and err["guidance"] and err["at"]
    assert_nothing_stored(w, mid)
    assert fake.log("token_log") == []


def test_pkce_mismatch(world, fake):
    """A code from one authorization redeemed with another's verifier: 50148."""
    w = world()
    mid = w.mailbox()
    _, first = w.authorize(mid)
    _, second = w.authorize(mid)
    code1 = query_of(first.headers["Location"])["code"]
    state2 = query_of(second.headers["Location"])["state"]
    loc = "%s/azure/auth?%s" % (w.stack.base, urllib.parse.urlencode({"code": code1, "state": state2}))
    assert_back_on_page(w, w.callback(loc), mid)
    m = w.get(mid)
    assert m["last_error"]["code"] == "AADSTS50148", m
    assert "PKCE" in m["last_error"]["title"] if "title" in m["last_error"] else True
    (tok,) = fake.log("token_log")
    assert tok["has_code_verifier"] and tok["error_code"] == 50148
    assert_nothing_stored(w, mid)


def test_code_replayed_with_a_fresh_state(world, fake):
    """A code already redeemed is refused (54005/50148); the connection stays as it was."""
    w = world()
    mid = w.mailbox()
    _, r = w.authorize(mid)
    code = query_of(r.headers["Location"])["code"]
    assert_back_on_page(w, w.callback(r.headers["Location"]), mid)
    _, r2 = w.authorize(mid)
    state2 = query_of(r2.headers["Location"])["state"]
    loc = "%s/azure/auth?%s" % (w.stack.base, urllib.parse.urlencode({"code": code, "state": state2}))
    assert_back_on_page(w, w.callback(loc), mid)
    refused = token_grants(fake, "authorization_code")[-1]
    assert refused["error_code"] in (54005, 50148), refused
    m = w.get(mid)
    assert m["last_error"]["code"] in ("AADSTS54005", "AADSTS50148"), m
    assert m["status"] == "connected"  # the earlier connection is untouched
    assert w.test(mid).json()["passed"]


# --- state ------------------------------------------------------------------------------

def test_state_expired(world, fake, stack):
    w = world()
    mid = w.mailbox()
    _, r = w.authorize(mid)
    stack.sql("UPDATE oauth_state SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 DAY "
              "WHERE mailbox_id = %d" % mid)
    assert_bad_state_page(w.callback(r.headers["Location"]), "expired")
    assert fake.log("token_log") == []
    assert_nothing_stored(w, mid)
    assert w.get(mid)["last_error"] is None


def test_state_from_another_portal_session(world, fake, stack, pd, admin_login):
    w = world()
    mid = w.mailbox()
    _, r = w.authorize(mid)
    loc = r.headers["Location"]
    other = pd.Client(stack)
    other.login(*admin_login)
    assert_bad_state_page(w.callback(loc, client=other), "another portal session")
    # Nobody signed in at all: also foreign.
    assert_bad_state_page(w.callback(loc, client=pd.Client(stack)), "another portal session")
    assert fake.log("token_log") == []
    assert_nothing_stored(w, mid)
    # The browser that started it still can.
    assert_back_on_page(w, w.callback(loc), mid)
    assert w.get(mid)["status"] == "connected"


def test_state_unknown_or_missing(world, fake, stack):
    w = world()
    mid = w.mailbox()
    _, r = w.authorize(mid)
    code = query_of(r.headers["Location"])["code"]
    for q in ({"code": code, "state": secrets.token_urlsafe(32)}, {"code": code},
              {"code": code, "state": ""}, {"error": "access_denied", "state": "x"}):
        cb = w.callback("%s/azure/auth?%s" % (stack.base, urllib.parse.urlencode(q)))
        assert cb.status_code == 400, (q, cb.status_code)
        assert "Location" not in cb.headers
    assert fake.log("token_log") == []
    assert_nothing_stored(w, mid)
    assert w.get(mid)["last_error"] is None


def assert_portal_page(r, stack):
    """postdesk-oauth's page in the portal's look: its stylesheets (allowed by
    the CSP nginx sends), no inline style or script, never cached."""
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", r.headers
    assert "style-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"
    body = r.text
    assert '<link rel="stylesheet" href="/app.css">' in body
    assert '<link rel="stylesheet" href="/connect.css">' in body
    assert "style=" not in body and "<style" not in body and "<script" not in body
    assert '<div class="login-card callback-card">' in body
    assert "<h1 class=\"login-title\" id=\"page-title\">This sign-in cannot be used</h1>" in body
    assert ('<p class="callback-todo" id="callback-todo"><strong>What to do: </strong>Nothing was '
            "changed. Go back to the mailbox and press Authorize Application to start again") in body
    assert '<p class="problem-ref">Reference: %s</p>' % r.headers["X-Request-Id"] in body
    for css in ("/app.css", "/connect.css"):
        assert stack.session().get(css).status_code == 200


def test_bad_state_page_links_back_to_the_mailbox(world, fake, stack):
    w = world()
    name = 'Desk <b>"bold"</b> & co'
    mid = w.mailbox(name=name)
    _, r = w.authorize(mid)
    stack.sql("UPDATE oauth_state SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 DAY "
              "WHERE mailbox_id = %d" % mid)
    cb = w.callback(r.headers["Location"])
    assert cb.status_code == 400
    assert_portal_page(cb, stack)
    assert '<p class="problem-title">This sign-in link has expired (after 10 minutes).</p>' in cb.text
    assert "Microsoft said" not in cb.text
    assert ('<a class="btn btn-primary" id="callback-back" href="%s/#/mailboxes/%d">'
            "Back to the mailbox \u201c%s\u201d</a>" % (stack.base, mid, html.escape(name, quote=True))) in cb.text
    assert "<b>" not in cb.text
    # Used already: the same page, same link.
    _, r = w.authorize(mid)
    loc = r.headers["Location"]
    assert w.callback(loc).status_code == 302
    again = w.callback(loc)
    assert again.status_code == 400 and "already used" in again.text
    assert "/#/mailboxes/%d\"" % mid in again.text


def test_bad_state_page_with_microsofts_error(world, fake, stack):
    """Microsoft's refusal on a sign-in postdesk does not know: its words
    (escaped) and a link to Mailbox Setup."""
    w = world()
    mid = w.mailbox()
    desc = 'AADSTS65004: User declined <img src=x onerror=alert(1)> "consent".\r\nTrace ID: 1'
    q = {"state": secrets.token_urlsafe(32), "error": "access_denied", "error_description": desc}
    cb = w.callback("%s/auth/account/azureresponse?%s" % (stack.base, urllib.parse.urlencode(q)))
    assert cb.status_code == 400
    assert_portal_page(cb, stack)
    assert '<p class="problem-title">This sign-in link is unknown.</p>' in cb.text
    assert ('<p class="problem-detail" id="callback-said">Microsoft said: AADSTS65004: User declined '
            "&lt;img src=x onerror=alert(1)&gt; &quot;consent&quot;.</p>") in cb.text
    assert "Trace ID" not in cb.text  # one line of it
    assert ('<a class="btn btn-primary" id="callback-back" href="%s/#/mailboxes">Back to Mailbox '
            "Setup</a>" % stack.base) in cb.text
    assert_nothing_stored(w, mid)
    # A mailbox deleted meanwhile: Mailbox Setup too.
    _, r = w.authorize(mid)
    assert w.browser.delete("/api/mailboxes/%d" % mid).status_code == 204
    gone = w.callback(r.headers["Location"])
    assert gone.status_code == 400
    assert 'href="%s/#/mailboxes">Back to Mailbox Setup</a>' % stack.base in gone.text


def test_api_key_authorization_is_not_bound_to_a_session(world, fake, stack, api_key, pd):
    """An authorize_url made for a tool (API key) may be opened by any browser."""
    w = world()
    mid = w.mailbox()
    tool = pd.Client(stack, {"Authorization": "Bearer " + api_key})
    _, r = w.authorize(mid, client=tool)
    assert_back_on_page(w, w.callback(r.headers["Location"], client=pd.Client(stack)), mid)
    assert w.get(mid)["status"] == "connected"


# --- shared mailboxes -----------------------------------------------------------------

def test_shared_mailbox_without_delegation_is_refused(world, fake):
    w = world(shared=True, delegated=False)
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    m = w.get(mid)
    err = m["last_error"]
    assert err["code"] == "ErrorAccessDenied", err
    assert "Microsoft 365 admin center" in err["guidance"], err
    assert w.shared in err["message"]
    assert_nothing_stored(w, mid)
    log = fake.log("graph_log")
    assert graph_paths(fake) == ["/v1.0/users/%s/mailFolders/inbox" % w.shared], log
    assert log[0]["status"] == 403
    # The delegate's own mailbox was never read instead.
    assert not [e for e in log if e["path"].startswith("/v1.0/me")]


def test_shared_delegation_revoked_after_connecting(world, fake):
    w = world(shared=True)
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    fake.ctl("delegations/revoke", {"shared": w.shared, "user": w.user})
    r = w.test(mid)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["passed"] is False
    refresh, inbox, deleted = res["checks"]
    assert refresh["passed"] and not inbox["passed"] and not deleted["passed"], res
    assert w.shared in inbox["check"] and "ErrorAccessDenied" in inbox["detail"]
    assert "Microsoft 365 admin center" in inbox["guidance"] and inbox["title"]
    m = w.get(mid)
    assert m["last_error"]["code"] == "ErrorAccessDenied", m
    assert not [e for e in fake.log("graph_log") if e["path"].startswith("/v1.0/me")]


# --- refresh ---------------------------------------------------------------------------

def test_test_connection_passes(world, fake):
    w = world(inbox=3)
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    r = w.test(mid)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["passed"] is True and len(res["checks"]) == CHECK_NAMES, res
    for c in res["checks"]:
        assert set(c) >= {"check", "passed", "detail"} and c["passed"], c
        assert c.get("guidance") is None
    assert "3 messages" in res["checks"][1]["detail"]
    assert graph_paths(fake)[1:] == [
        "/v1.0/me/mailFolders/inbox", "/v1.0/me/mailFolders/deleteditems"]
    assert w.get(mid)["last_error"] is None


def test_revoked_refresh_token(world, fake, stack):
    w = world()
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    fake.ctl("users/revoke_sessions", {"user": w.user})
    r = w.test(mid)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["passed"] is False and not res["checks"][0]["passed"], res
    assert res["checks"][0]["guidance"]
    m = w.get(mid)
    assert m["status"] == "needs_reauth", m
    assert m["last_error"]["message"].startswith(
        "Connection failed refreshing the access token for mailbox %d: AADSTS50173" % mid), m
    assert m["last_error"]["code"] == "AADSTS50173" and m["last_error"]["guidance"]
    # No retry storm: one refused refresh, and a test now answers 409.
    refused = [e for e in token_grants(fake, "refresh_token") if e["status"] != 200]
    assert len(refused) == 1 and refused[0]["error_code"] == 50173
    assert w.test(mid).status_code == 409
    assert len(token_grants(fake, "refresh_token")) == 1


def test_refresh_tokens_rotate(world, fake, stack):
    w = world()
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    sealed = []
    for _ in range(3):
        r = w.test(mid)
        assert r.status_code == 200 and r.json()["passed"], r.text
        sealed.append(stack.sql("SELECT HEX(refresh_token_sealed) FROM mailbox WHERE id = %d" % mid)[0][0])
    # The fake rotates strictly: a reused refresh token would be refused (70000).
    grants = token_grants(fake, "refresh_token")
    assert len(grants) == 3 and all(e["status"] == 200 for e in grants), grants
    assert len(set(sealed)) == 3
    # The rotated token is stored: the next refresh works with it.
    assert w.test(mid).json()["passed"]


def test_concurrent_refreshes(world, fake, stack):
    w = world()
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    stack.sql("UPDATE mailbox SET access_expires_at = UTC_TIMESTAMP() - INTERVAL 1 HOUR "
              "WHERE id = %d" % mid)
    fake.ctl("access_tokens/expire", {"user": w.user})

    def one(_):
        c = w.pd.Client(stack)
        c.http.cookies.update(w.browser.http.cookies)
        c.http.headers["X-CSRF-Token"] = w.browser.csrf
        return c.post("/api/mailboxes/%d/test" % mid, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        answers = list(ex.map(one, range(6)))
    for r in answers:
        assert r.status_code == 200 and r.json()["passed"], r.text
    grants = token_grants(fake, "refresh_token")
    assert grants and all(e["status"] == 200 for e in grants), grants
    assert not [e for e in fake.log("token_log") if e["error_code"] == 70000]
    assert w.get(mid)["status"] == "connected"


def test_slow_token_endpoint_blocks_nothing_else(world, fake, stack):
    """Issue 9: the token endpoint answers after 25 s and four Test connection
    calls are in flight.  No lock is held across the call and a request waits
    for no one's slow refresh, so the API keeps answering within a second, a
    PATCH of that mailbox goes through, and the tests end by the request's
    10 s deadline for Microsoft — without any refresh token sent twice."""
    w = world()
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    asked = len(fake.log("token_log"))
    # 503 after the delay: the late answer rotates no token behind our back.
    fake.ctl("faults", {"path": "/oauth2/v2.0/token$", "delay_ms": 25000, "status": 503,
                        "count": None})

    def one(_):
        c = w.pd.Client(stack)
        c.http.cookies.update(w.browser.http.cookies)
        c.http.headers["X-CSRF-Token"] = w.browser.csrf
        t0 = time.monotonic()
        r = c.post("/api/mailboxes/%d/test" % mid, timeout=90)
        return r, time.monotonic() - t0

    anon = w.pd.Client(stack)
    slowest = 0.0
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        calls = [ex.submit(one, i) for i in range(4)]
        time.sleep(2)  # the four are at the stack; one is waiting on Microsoft
        for n in range(3):
            for client, method, path, body in (
                    (anon, "GET", "/api/health", None), (anon, "GET", "/", None),
                    (w.browser, "GET", "/api/mailboxes", None),
                    (w.browser, "PATCH", "/api/mailboxes/%d" % mid, {"name": w.pd.unique("Slow")})):
                t0 = time.monotonic()
                r = client.request(method, path, json=body, timeout=30)
                took = time.monotonic() - t0
                slowest = max(slowest, took)
                assert r.status_code in (200, 503), (path, r.status_code, r.text[:300])
                assert took < 1.0, (path, took)
            time.sleep(1)
        answers = [f.result() for f in calls]
    print("\nslowest answer while Microsoft was slow: %.3f s" % slowest)
    details = []
    for r, took in answers:
        assert r.status_code == 200, r.text
        res = r.json()
        assert res["passed"] is False and not res["checks"][0]["passed"], res
        assert "try again" in res["checks"][0]["guidance"].lower()
        details.append(res["checks"][0]["detail"])
        assert took < 20, took
    assert sum("under way" in d for d in details) == 3, details
    assert len(fake.log("token_log")) == asked + 1  # one refresher, no queue
    assert w.get(mid)["status"] == "connected"
    fake._call("DELETE", "faults")
    assert w.test(mid).json()["passed"]


# --- disconnect, reauthorise, changes -------------------------------------------------------

def audit_actions(w, mid):
    r = w.browser.get("/api/audit-log?limit=200")
    assert r.status_code == 200, r.text
    out = []
    for e in r.json()["items"]:
        t = e.get("target") or {}
        if isinstance(t, dict) and t.get("id") == mid or t == "mailbox:%d" % mid:
            out.append(e["action"])
    return out[::-1]


def test_disconnect_and_reauthorise(world, fake, stack):
    w = world()
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    r = w.browser.post("/api/mailboxes/%d/disconnect" % mid)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "disconnected" and r.json()["id"] == mid
    assert w.row(mid)[:3] == ("disconnected", "1", "1")
    assert stack.sql("SELECT access_expires_at IS NULL FROM mailbox WHERE id = %d" % mid) == [["1"]]
    r = w.test(mid)
    w.pd.check_problem(r, 409)

    url, r = w.authorize(mid)
    assert query_of(url).get("login_hint") == w.user  # the account is known now
    assert_back_on_page(w, w.callback(r.headers["Location"]), mid)
    m = w.get(mid)
    assert m["status"] == "connected" and m["id"] == mid and m["connection"]["account"] == w.user
    assert w.test(mid).json()["passed"]
    actions = audit_actions(w, mid)
    assert actions.count("mailbox.connect") == 2, actions
    assert actions.count("mailbox.authorize") == 2, actions
    assert "mailbox.disconnect" in actions, actions


@pytest.mark.parametrize("field", ["client_id", "tenant_id", "secret", "shared_address"])
def test_changing_credentials_requires_reauthorising(world, fake, field):
    w = world()
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    # An unrelated change keeps the connection.
    r = w.browser.patch("/api/mailboxes/%d" % mid, json={"ack_enabled": False})
    assert r.status_code == 200 and r.json()["status"] == "connected", r.text
    value = {"client_id": "11111111-2222-4333-8444-555555555555",
             "tenant_id": "other.onmicrosoft.com",
             "secret": "N3w~" + secrets.token_urlsafe(24),
             "shared_address": "help@other.example"}[field]
    r = w.browser.patch("/api/mailboxes/%d" % mid, json={field: value})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "needs_reauth", r.json()


# --- secrets and tokens stay secret ------------------------------------------------------

def test_secrets_and_tokens_never_leak(world, fake, stack):
    bodies = []
    w = world(shared=True)
    mid = w.mailbox()
    url, r = w.authorize(mid)
    code = query_of(r.headers["Location"])["code"]
    cb = w.callback(r.headers["Location"])
    bodies += [cb.text, json.dumps(w.get(mid))]
    for path in ("/test", "/test"):
        bodies.append(w.browser.post("/api/mailboxes/%d%s" % (mid, path)).text)
    bodies.append(w.browser.get("/api/mailboxes").text)
    bodies.append(w.browser.get("/api/audit-log").text)
    assert stack.sql("SELECT COUNT(*) FROM mailbox WHERE refresh_token_sealed IS NOT NULL "
                     "AND access_token_sealed IS NOT NULL AND id = %d" % mid) == [["1"]]
    # Failures too: wrong secret, revoked sessions.
    w2 = world()
    mid2 = w2.mailbox(secret="Wr0ng~" + secrets.token_urlsafe(24))
    w2.connect(mid2)
    bodies.append(json.dumps(w2.get(mid2)))
    fake.ctl("users/revoke_sessions", {"user": w.user})
    bodies.append(w.test(mid).text)
    bodies.append(json.dumps(w.get(mid)))

    secret_values = [s["value"] for t in fake.get("state")["tenants"]
                     for a in t["apps"] for s in a["secrets"]]
    assert w.secret in secret_values and w2.secret in secret_values
    logs = stack.logs()
    for s in secret_values:
        for b in bodies:
            assert s not in b
        assert s not in logs
    assert code not in logs and "code=" not in logs, [
        line for line in logs.splitlines() if "code=" in line][:3]
    assert "refresh_token" not in logs and "access_token" not in logs
    assert "EwBIA8l6" not in logs and "1.AQkA" not in logs  # the fake's token prefixes
    for b in bodies:
        assert "EwBIA8l6" not in b and "1.AQkA" not in b and code not in b
    # Tokens are sealed in the database: never plain text.
    plain = stack.sql(
        "SELECT COUNT(*) FROM mailbox WHERE INSTR(refresh_token_sealed, '1.AQkA') "
        "OR INSTR(access_token_sealed, 'EwBIA8l6') OR INSTR(refresh_token_sealed, 'eyJ') "
        "OR INSTR(access_token_sealed, 'eyJ') OR INSTR(secret_sealed, '8Q~')")
    assert plain == [["0"]]


# --- more edges ------------------------------------------------------------------------------

@pytest.mark.parametrize("minutes, refreshes", [(4, 2), (10, 1)])
def test_refresh_five_minutes_before_expiry(world, fake, stack, minutes, refreshes):
    """Test connection uses the stored token if fresh, then forces one refresh:
    a token expiring within 5 minutes is refreshed first."""
    w = world()
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    stack.sql("UPDATE mailbox SET access_expires_at = UTC_TIMESTAMP() + INTERVAL %d MINUTE "
              "WHERE id = %d" % (minutes, mid))
    r = w.test(mid)
    assert r.status_code == 200 and r.json()["passed"], r.text
    assert len(token_grants(fake, "refresh_token")) == refreshes


def test_reauthorise_after_revocation(world, fake):
    w = world()
    mid = w.mailbox()
    assert_back_on_page(w, w.connect(mid), mid)
    fake.ctl("users/revoke_sessions", {"user": w.user})
    assert w.test(mid).json()["passed"] is False
    assert w.get(mid)["status"] == "needs_reauth"
    assert_back_on_page(w, w.connect(mid), mid)
    m = w.get(mid)
    assert m["status"] == "connected" and m["last_error"] is None, m
    assert w.test(mid).json()["passed"]


def test_token_endpoint_unavailable(world, fake):
    w = world()
    mid = w.mailbox()
    fake.ctl("faults", {"path": "/oauth2/v2.0/token$", "status": 503, "count": 1})
    assert_back_on_page(w, w.connect(mid), mid)
    m = w.get(mid)
    assert m["last_error"] and m["last_error"]["guidance"], m
    assert_nothing_stored(w, mid)
    # At refresh: the check fails, but the connection is not given up.
    assert_back_on_page(w, w.connect(mid), mid)
    assert w.get(mid)["status"] == "connected"
    fake.ctl("faults", {"path": "/oauth2/v2.0/token$", "status": 503, "count": 1})
    res = w.test(mid).json()
    assert res["passed"] is False and not res["checks"][0]["passed"], res
    assert "try again" in res["checks"][0]["guidance"].lower()
    assert w.get(mid)["status"] == "connected"
    assert w.test(mid).json()["passed"]


def test_mailbox_deleted_during_sign_in(world, fake, stack):
    w = world()
    mid = w.mailbox()
    _, r = w.authorize(mid)
    assert w.browser.delete("/api/mailboxes/%d" % mid).status_code == 204
    cb = w.callback(r.headers["Location"])
    assert cb.status_code == 400, (cb.status_code, cb.text[:300])
    assert fake.log("token_log") == []


def test_tenant_given_as_domain(world, fake, stack):
    w = world()
    domain = fake.get("state")["tenants"][0]["domains"][0]
    mid = w.mailbox(tenant_id=domain)
    url, r = w.authorize(mid)
    assert urllib.parse.urlsplit(url).path.startswith("/%s/" % domain)
    assert_back_on_page(w, w.callback(r.headers["Location"]), mid)
    m = w.get(mid)
    assert m["status"] == "connected" and m["connection"]["tenant_id"] == w.tenant, m
    assert m["tenant_id"] == domain
    assert w.test(mid).json()["passed"]
