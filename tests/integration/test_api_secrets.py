"""The client secret is sealed at rest and never shown: not in any response,
log line, audit entry or database column in clear."""
import secrets


def test_secret_never_leaves(stack, admin_key, admin_cookie, pd):
    first = "Sx7~" + secrets.token_urlsafe(30)
    second = "Ty8." + secrets.token_urlsafe(30)
    bad = "Uz9_" + secrets.token_urlsafe(20) + " tail"  # refused: contains a space
    seen = []

    def call(c, method, path, **kw):
        r = c.request(method, path, **kw)
        seen.append(r)
        return r

    r = call(admin_cookie, "POST", "/api/mailboxes", json=pd.mailbox_input(secret=first))
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    path = "/api/mailboxes/%d" % mid
    assert r.json()["secret_last4"] == first[-4:]
    call(admin_key, "GET", path)
    call(admin_key, "GET", "/api/mailboxes")
    call(admin_key, "PATCH", path, json={"cloud": "china"})
    assert call(admin_key, "PATCH", path, json={"secret": second}).status_code == 200
    pd.check_problem(call(admin_key, "PATCH", path, json={"secret": bad}), 422, ["secret"])
    pd.check_problem(call(admin_key, "POST", "/api/mailboxes",
                          json=pd.mailbox_input(secret=bad, client_id="nope")), 422,
                     ["secret", "client_id"])
    # A failing create (duplicate name) after the secret was accepted.
    name = admin_key.get(path).json()["name"]
    pd.check_problem(call(admin_key, "POST", "/api/mailboxes", json=pd.mailbox_input(name=name, secret=first)),
                     409)
    call(admin_key, "GET", "/api/audit-log?limit=200")
    for r in seen:
        text = r.text + "\n" + "\n".join("%s: %s" % kv for kv in r.headers.items())
        for s in (first, second, bad):
            assert s not in text, (r.request.method, r.url)
            assert s[:-4] not in text
    for r in seen:
        assert "secret" not in r.json() if r.headers["Content-Type"] == "application/json" else True

    # In the database only sealed: neither the box nor any other column
    # holds the secret, in clear or in hex.
    row = pd.text_of(stack.sql("SELECT HEX(secret_sealed), name, client_id, tenant_id, secret_last4, "
                               "shared_address FROM mailbox WHERE id = %d" % mid))
    assert second.encode().hex().upper() not in row.upper()
    assert first.encode().hex().upper() not in row.upper()
    assert second not in row and first not in row
    sealed = row.split()[0]
    assert len(sealed) // 2 >= len(second) + 16  # nonce + MAC + ciphertext
    audit = pd.text_of(stack.sql("SELECT detail, actor_name, action FROM audit_log"))
    for s in (first, second, bad):
        assert s not in audit and s[:-4] not in audit
    # Nor in any log (nginx, the programs, MariaDB).
    logs = pd.text_of(stack.logs())
    assert logs.strip()
    for s in (first, second, bad):
        assert s not in logs and s[:-4] not in logs
    assert admin_key.delete(path).status_code == 204


def test_password_and_tokens_not_logged(stack, client, pd):
    username, password = pd.new_agent(stack, "admin")
    c = client()
    c.login(username, password)
    token = c.http.cookies.get("__Host-pd_session")
    c.post("/api/session", json={"username": username, "password": password + "-wrong"})
    logs = pd.text_of(stack.logs())
    for s in (password, token, c.csrf):
        assert s not in logs
    assert password not in pd.text_of(stack.sql("SELECT username, password_hash FROM agent"))
