"""Sign-in, sign-out, the session cookie and the sign-in throttle."""
import re
import time

import requests


def cookie_header(r):
    return r.headers.get("Set-Cookie", "")


def test_login_ok_returns_agent_csrf_and_cookie(stack, client, pd):
    username, password = pd.new_agent(stack, "admin")
    c = client()
    r = c.post("/api/session", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"agent", "csrf_token"}
    assert body["agent"]["username"] == username
    assert body["agent"]["role"] == "admin"
    assert body["agent"]["kind"] == "agent"
    assert isinstance(body["agent"]["id"], int) and body["agent"]["id"] > 0
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["csrf_token"])
    # The cookie now identifies the caller; the same csrf token comes back.
    me = c.get("/api/session")
    assert me.status_code == 200, me.text
    assert me.json() == body


def test_cookie_attributes(stack, client, pd):
    username, password = pd.new_agent(stack, "agent")
    r = client().post("/api/session", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    raw = cookie_header(r)
    m = re.match(r"__Host-pd_session=([A-Za-z0-9_-]{43});", raw)
    assert m, raw
    attrs = [a.strip() for a in raw.split(";")[1:]]
    assert "HttpOnly" in attrs and "Secure" in attrs and "SameSite=Lax" in attrs, raw
    assert "Path=/" in attrs, raw
    # __Host-: Secure, Path=/ and no Domain, or browsers drop it.
    assert not [a for a in attrs if a.lower().startswith("domain")], raw
    max_age = [a for a in attrs if a.startswith("Max-Age=")]
    assert max_age and int(max_age[0][8:]) > 0, raw
    # Only the token's hash is stored.
    assert m.group(1) not in pd.text_of(stack.sql("SELECT HEX(token_hash), csrf_token FROM session"))


def test_wrong_password_and_unknown_user_get_the_same_401(stack, anon, pd):
    username, password = pd.new_agent(stack, "agent")
    wrong = anon.post("/api/session", json={"username": username, "password": password + "x"})
    p1 = pd.check_problem(wrong, 401)
    assert "Set-Cookie" not in wrong.headers
    unknown = anon.post("/api/session", json={"username": pd.unique("nobody"), "password": password})
    p2 = pd.check_problem(unknown, 401)
    assert "Set-Cookie" not in unknown.headers
    assert p1["detail"] == p2["detail"] == "Wrong username or password."
    assert p1["type"] == p2["type"] == "urn:postdesk:problem:unauthorized"


def test_login_body_is_validated(anon, pd):
    pd.check_problem(anon.post("/api/session", json={"username": "admin"}), 422, ["password"])
    pd.check_problem(anon.post("/api/session", json={"password": "x"}), 422, ["username"])
    pd.check_problem(anon.post("/api/session", json={"username": "", "password": ""}), 422,
                     ["username", "password"])
    pd.check_problem(anon.post("/api/session", json={"username": 1, "password": ["x"]}), 422,
                     ["username", "password"])
    p = pd.check_problem(anon.post("/api/session",
                                   json={"username": "a", "password": "b", "remember": True}),
                         422, ["remember"])
    assert pd.message_for(p, "remember") == "Unknown field."
    pd.check_problem(anon.post("/api/session", data="username=a&password=b",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    pd.check_problem(anon.post("/api/session", data="{", headers={"Content-Type": "application/json"}), 400)


def test_rate_limit_after_five_failures_for_one_username(stack, anon, pd):
    # A username of its own: the throttle counts failures per username and
    # address (here both the test's).
    username, password = pd.new_agent(stack, "agent")
    for _ in range(5):
        pd.check_problem(anon.post("/api/session", json={"username": username, "password": "wrong"}), 401)
    # Now even the right password is refused, with Retry-After.
    r = anon.post("/api/session", json={"username": username, "password": password})
    p = pd.check_problem(r, 429)
    assert p["type"] == "urn:postdesk:problem:rate-limited"
    assert "Set-Cookie" not in r.headers
    retry = int(r.headers["Retry-After"])
    assert 2 <= retry <= 3, retry  # the first wait: 2 seconds (3 by the clock's seconds)
    assert str(retry) in p["detail"]
    # Other usernames are not affected.
    other, other_pw = pd.new_agent(stack, "agent")
    assert anon.post("/api/session", json={"username": other, "password": other_pw}).status_code == 200


class FromAddress(requests.adapters.HTTPAdapter):
    """Connect from another loopback address (Linux routes all of
    127.0.0.0/8 to lo): nginx's $remote_addr, which the throttle keys on."""

    def __init__(self, addr):
        self.addr = addr
        super().__init__()

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.addr, 0)
        super().init_poolmanager(*args, **kw)


def from_address(client, addr):
    c = client()
    c.http.mount("https://", FromAddress(addr))
    return c


def login(c, username, password):
    return c.post("/api/session", json={"username": username, "password": password})


def test_strangers_failures_do_not_lock_the_owner_out(stack, client, anon, pd):
    """Issue 9: five wrong passwords from anywhere blocked the username,
    even with the right password from the owner's own address."""
    username, password = pd.new_agent(stack, "admin")
    stranger = from_address(client, "127.0.0.2")
    for _ in range(5):
        pd.check_problem(login(stranger, username, "guess"), 401)
    # The owner, from their own address: signed in at once.
    r = login(anon, username, password)
    assert r.status_code == 200, r.text
    assert r.headers["Set-Cookie"].startswith("__Host-pd_session=")
    # The stranger waits, even with the password, and in any case or
    # spacing of the username.
    for variant in (username, username.upper(), " " + username, username.title() + " "):
        r = login(stranger, variant, password)
        pd.check_problem(r, 429)
        assert "Set-Cookie" not in r.headers
    rows = stack.sql("SELECT remote_addr, ok, COUNT(*) FROM login_attempt WHERE username = '%s' "
                     "GROUP BY remote_addr, ok ORDER BY remote_addr" % username)
    assert rows == [["127.0.0.1", "1", "1"], ["127.0.0.2", "0", "5"]], rows


def test_the_same_pair_waits_longer_after_each_failure(stack, client, pd):
    username, password = pd.new_agent(stack, "agent")
    c = from_address(client, "127.0.0.3")
    for _ in range(5):
        pd.check_problem(login(c, username, "wrong"), 401)
    # At least 2 s after the fifth failure, 4 s after the sixth (times are
    # whole seconds: one more at most).
    for least in (2, 4):
        r = login(c, username, password)
        p = pd.check_problem(r, 429)
        assert p["type"] == "urn:postdesk:problem:rate-limited"
        wait = int(r.headers["Retry-After"])
        assert least <= wait <= least + 1, (least, wait)
        assert str(wait) in p["detail"]
        time.sleep(wait + 1)
        if least == 2:
            pd.check_problem(login(c, username, "wrong"), 401)  # after the wait: tried
    # After the wait the right password works, and a success starts over.
    assert login(c, username, password).status_code == 200
    pd.check_problem(login(c, username, "wrong"), 401)
    assert login(c, username, password).status_code == 200


def test_sign_in_prunes_old_attempts_and_dead_sessions(stack, client, pd):
    username, password = pd.new_agent(stack, "agent")
    aid = int(stack.sql("SELECT id FROM agent WHERE username = '%s'" % username)[0][0])
    stack.sql("INSERT INTO login_attempt (username, remote_addr, ok, at) VALUES "
              "('%s', '192.0.2.1', 0, UTC_TIMESTAMP() - INTERVAL 2 DAY), "
              "('%s', '192.0.2.1', 1, UTC_TIMESTAMP() - INTERVAL 25 HOUR), "
              "('%s', '192.0.2.1', 0, UTC_TIMESTAMP() - INTERVAL 23 HOUR)"
              % (username, username, username))

    def session(expires, seen):
        stack.sql("INSERT INTO session (token_hash, agent_id, csrf_token, created_at, "
                  "last_seen_at, expires_at) VALUES (UNHEX(SHA2(UUID(), 256)), %d, "
                  "REPEAT('x', 43), UTC_TIMESTAMP() - INTERVAL 3 DAY, UTC_TIMESTAMP() - "
                  "INTERVAL %s, UTC_TIMESTAMP() + INTERVAL %s)" % (aid, seen, expires))
    session("-1 HOUR", "2 HOUR")      # past its absolute expiry
    session("6 HOUR", "2 HOUR")       # idle longer than session_idle_minutes (60)
    session("6 HOUR", "5 MINUTE")     # live
    # Any sign-in sweeps, even one that fails.
    pd.check_problem(login(client(), pd.unique("nobody"), "x"), 401)
    assert stack.sql("SELECT ok, TIMESTAMPDIFF(HOUR, at, UTC_TIMESTAMP()) FROM login_attempt "
                     "WHERE username = '%s'" % username) == [["0", "23"]]
    assert stack.sql("SELECT COUNT(*) FROM session WHERE agent_id = %d" % aid) == [["1"]]
    assert stack.sql("SELECT COUNT(*) FROM session WHERE expires_at <= UTC_TIMESTAMP() OR "
                     "last_seen_at <= UTC_TIMESTAMP() - INTERVAL 60 MINUTE") == [["0"]]


def test_logout_clears_cookie_and_ends_session(stack, client, pd):
    username, password = pd.new_agent(stack, "admin")
    c = client()
    c.login(username, password)
    token = c.http.cookies.get("__Host-pd_session")
    assert token
    r = c.delete("/api/session")
    assert r.status_code == 204, r.text
    assert r.content == b""
    raw = cookie_header(r)
    assert raw.startswith("__Host-pd_session=;") and "Max-Age=0" in raw, raw
    assert "HttpOnly" in raw and "Secure" in raw, raw
    # The old token no longer works, even if a client kept it.
    replay = client({"Cookie": "__Host-pd_session=" + token})
    pd.check_problem(replay.get("/api/session"), 401)
    pd.check_problem(replay.get("/api/mailboxes"), 401)


def test_logout_needs_csrf_token(stack, client, pd):
    username, password = pd.new_agent(stack, "agent")
    c = client()
    c.login(username, password)
    pd.check_problem(c.delete("/api/session", headers={"X-CSRF-Token": ""}), 403)
    pd.check_problem(c.delete("/api/session", headers={"X-CSRF-Token": "x" * 43}), 403)
    assert c.get("/api/session").status_code == 200  # still signed in


def test_api_key_cannot_sign_out(admin_key, pd):
    p = pd.check_problem(admin_key.delete("/api/session"), 400)
    assert "revoke-api-key" in p["detail"]
    assert admin_key.get("/api/session").status_code == 200


def test_no_or_bad_credentials_get_401(client, pd):
    for headers in ({}, {"Cookie": "__Host-pd_session=" + "A" * 43},
                    {"Cookie": "__Host-pd_session="},
                    {"Authorization": "Bearer pdk_" + "A" * 43},
                    {"Authorization": "Bearer not-a-key"},
                    {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        c = client(headers)
        pd.check_problem(c.get("/api/session"), 401)
        pd.check_problem(c.get("/api/mailboxes"), 401)
        pd.check_problem(c.delete("/api/session"), 401)


def session_sql(stack, username, assignment):
    stack.sql("UPDATE session s JOIN agent a ON a.id = s.agent_id SET %s WHERE a.username = '%s'"
              % (assignment, username))


def test_session_idle_expiry_and_touch(stack, client, pd):
    username, password = pd.new_agent(stack, "agent")
    c = client()
    c.login(username, password)
    # Seen 5 minutes ago: still live, and the visit is recorded.
    session_sql(stack, username, "s.last_seen_at = UTC_TIMESTAMP() - INTERVAL 5 MINUTE")
    assert c.get("/api/session").status_code == 200
    age = pd.text_of(stack.sql(
        "SELECT TIMESTAMPDIFF(SECOND, s.last_seen_at, UTC_TIMESTAMP()) FROM session s "
        "JOIN agent a ON a.id = s.agent_id WHERE a.username = '%s'" % username)).strip()
    assert int(age) < 60, age
    # Idle for a day (the absolute expiry is still ahead): ended.
    session_sql(stack, username, "s.last_seen_at = UTC_TIMESTAMP() - INTERVAL 1 DAY")
    p = pd.check_problem(c.get("/api/session"), 401)
    assert "session has ended" in p["detail"]


def test_session_absolute_expiry(stack, client, pd):
    username, password = pd.new_agent(stack, "agent")
    c = client()
    c.login(username, password)
    session_sql(stack, username, "s.expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND")
    pd.check_problem(c.get("/api/session"), 401)


def test_reset_password_ends_sessions(stack, client, pd):
    username, password = pd.new_agent(stack, "admin")
    c = client()
    c.login(username, password)
    new = password + "-new"
    stack.admin("reset-password", username, input=new + "\n")
    pd.check_problem(c.get("/api/session"), 401)
    pd.check_problem(client().post("/api/session", json={"username": username, "password": password}), 401)
    client().login(username, new)
