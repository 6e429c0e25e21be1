"""Who may do what: CSRF on cookie requests, API keys, roles."""
import re


def key_id(stack, pd, name):
    for line in pd.text_of(stack.admin("list-api-keys")).splitlines():
        cols = line.split()
        if len(cols) > 1 and cols[1] == name:
            return cols[0], line
    raise AssertionError("no key %s in list-api-keys" % name)


def test_csrf_refused_on_unsafe_methods_with_cookie(stack, client, make_mailbox, admin_login, pd):
    mb = make_mailbox()
    path = "/api/mailboxes/%d" % mb["id"]
    c = client()
    c.login(*admin_login)
    for token in (None, "", "x" * 43, c.csrf[:-1]):
        headers = {"X-CSRF-Token": token}  # None removes the session's header
        p = pd.check_problem(c.post("/api/mailboxes", json=pd.mailbox_input(), headers=headers), 403)
        assert "CSRF" in p["detail"]
        pd.check_problem(c.patch(path, json={"name": pd.unique("Renamed")}, headers=headers), 403)
        pd.check_problem(c.delete(path, headers=headers), 403)
    for action in ("authorize", "disconnect", "test"):
        pd.check_problem(c.post(path + "/" + action, headers={"X-CSRF-Token": None}), 403)
    # Nothing changed, and reads need no token.
    r = c.get(path, headers={"X-CSRF-Token": None})
    assert r.status_code == 200 and r.json()["name"] == mb["name"]
    # Another session's token does not fit this one.
    other = client()
    other.login(*pd.new_agent(stack, "admin"))
    pd.check_problem(c.delete(path, headers={"X-CSRF-Token": other.csrf}), 403)
    # With the right token it works.
    r = c.patch(path, json={"ack_enabled": False})
    assert r.status_code == 200 and r.json()["ack_enabled"] is False
    assert c.delete(path).status_code == 204


def test_api_key_needs_no_csrf_and_sees_itself(admin_key, pd):
    assert "X-CSRF-Token" not in admin_key.http.headers
    r = admin_key.post("/api/mailboxes", json=pd.mailbox_input())
    assert r.status_code == 201, r.text
    me = admin_key.get("/api/session")
    assert me.status_code == 200
    body = me.json()
    assert body["csrf_token"] is None
    assert body["agent"]["kind"] == "api_key" and body["agent"]["role"] == "admin"
    assert admin_key.delete(r.headers["Location"]).status_code == 204


def test_api_key_revoked_gets_401(stack, client, pd):
    name, key = pd.new_api_key(stack, "admin")
    c = client({"Authorization": "Bearer " + key})
    assert c.get("/api/mailboxes").status_code == 200
    kid, line = key_id(stack, pd, name)
    assert key[:12] in line and key not in line  # only the prefix is shown
    stack.admin("revoke-api-key", kid)
    p = pd.check_problem(c.get("/api/mailboxes"), 401)
    assert "revoked" in p["detail"]
    pd.check_problem(c.post("/api/mailboxes", json=pd.mailbox_input()), 401)
    # The key itself is stored only hashed.
    assert key not in pd.text_of(stack.sql("SELECT name, prefix, HEX(key_hash) FROM api_key"))


def test_api_key_last_used_is_recorded(stack, client, pd):
    name, key = pd.new_api_key(stack, "agent")
    _, before = key_id(stack, pd, name)
    assert client({"Authorization": "Bearer " + key}).get("/api/session").status_code == 200
    _, after = key_id(stack, pd, name)
    assert after != before and re.search(r"\d{4}-\d\d-\d\d", after.split(None, 5)[5]), (before, after)


def test_agent_role_may_not_change_configuration(stack, client, pd, make_mailbox, admin_key):
    mb = make_mailbox()
    path = "/api/mailboxes/%d" % mb["id"]
    c = client()
    body = c.login(*pd.new_agent(stack, "agent")).json()
    assert body["agent"]["role"] == "agent"
    assert c.get("/api/session").status_code == 200
    for r in (c.get("/api/mailboxes"), c.get(path), c.get("/api/azure-setup"),
              c.get("/api/audit-log"), c.post("/api/mailboxes", json=pd.mailbox_input()),
              c.patch(path, json={"name": "x"}), c.delete(path), c.post(path + "/authorize"),
              c.post(path + "/disconnect"), c.post(path + "/test")):
        p = pd.check_problem(r, 403)
        assert "administrator" in p["detail"]
    # An agent API key is refused the same way; the mailbox is untouched.
    _, key = pd.new_api_key(stack, "agent")
    k = client({"Authorization": "Bearer " + key})
    pd.check_problem(k.get("/api/mailboxes"), 403)
    pd.check_problem(k.delete(path), 403)
    assert admin_key.get(path).json() == mb
