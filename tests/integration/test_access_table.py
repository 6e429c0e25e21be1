"""One access table (issue 9): `postdesk-api --access` prints the route
table of cgi-bin/api.c with each route's level and CSRF rule; this test
drives every cell against the running stack: every route with no
credential, an agent session, an admin session, an agent key and an admin
key, and each session write with and without its CSRF token.

Ids in paths name nothing (999999999), and bodies are empty objects, so no
call changes anything: an answer the access level allows is any status but
401 and 403 (a 404 or 422 from the handler is fine)."""
import os
import subprocess
from pathlib import Path

import pytest

from pd_helpers import Client, check_problem, new_agent, new_api_key

ROOT = Path(__file__).resolve().parent.parent.parent
NOBODY = "999999999"
DENIED = (401, 403)


def access_table():
    binary = Path(os.environ.get("POSTDESK_BIN") or ROOT / "build") / "postdesk-api"
    out = subprocess.run([str(binary), "--access"], capture_output=True, text=True,
                         check=True).stdout
    rows = [line.split(" ") for line in out.splitlines()]
    assert rows and all(len(r) == 4 for r in rows), out
    for method, path, level, csrf in rows:
        # monitor: as agent, or a client address in metrics_allow (empty here)
        assert level in ("public", "agent", "admin", "monitor") and csrf in ("csrf", "-"), \
            (method, path)
    return rows


TABLE = access_table()


def concrete(path):
    return "/".join(NOBODY if p.startswith("{") else p for p in path.split("/"))


def call(client, method, path, csrf=True):
    headers = {}
    if client.csrf is not None and csrf:
        headers["X-CSRF-Token"] = client.csrf
    kw = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
    # Client sends the token on every request once logged in: drop it here.
    saved = client.http.headers.pop("X-CSRF-Token", None)
    try:
        return client.request(method, concrete(path), headers=headers, **kw)
    finally:
        if saved is not None:
            client.http.headers["X-CSRF-Token"] = saved


def allowed(r, path):
    assert r.status_code not in DENIED, (r.status_code, r.text)
    assert r.status_code < 500 or path == "/api/health", (r.status_code, r.text)


class Creds:
    """The five credentials; sessions are made again after DELETE /api/session."""

    def __init__(self, stack):
        self.stack = stack
        self.logins = {role: new_agent(stack, role) for role in ("agent", "admin")}
        self.keys = {role: Client(stack, {"Authorization": "Bearer " + new_api_key(stack, role)[1]})
                     for role in ("agent", "admin")}

        self.sessions = {}

    def session(self, role):
        """A signed-in client of role, kept until forget()."""
        if role not in self.sessions:
            c = Client(self.stack)
            c.login(*self.logins[role])
            self.sessions[role] = c
        return self.sessions[role]

    def forget(self, role):
        self.sessions.pop(role, None)


@pytest.fixture(scope="module")
def creds(stack):
    return Creds(stack)


def test_the_table_is_the_route_table(stack):
    binary = Path(os.environ.get("POSTDESK_BIN") or ROOT / "build") / "postdesk-api"
    routes = subprocess.run([str(binary), "--routes"], capture_output=True, text=True,
                            check=True).stdout.split("\n")
    assert [" ".join(r[:2]) for r in TABLE] == [r for r in routes if r]
    # lib/web/web.c: a session must send its CSRF token exactly on the writes
    # that need credentials.
    for method, path, level, csrf in TABLE:
        assert (csrf == "csrf") == (level != "public" and method != "GET"), (method, path)


@pytest.mark.parametrize("method,path,level,csrf", TABLE, ids=lambda v: str(v))
def test_no_credential(anon, method, path, level, csrf):
    r = call(anon, method, path)
    if level == "public":
        allowed(r, path)
    else:
        check_problem(r, 401)


@pytest.mark.parametrize("role", ["agent", "admin"])
@pytest.mark.parametrize("method,path,level,csrf", TABLE, ids=lambda v: str(v))
def test_api_key(creds, role, method, path, level, csrf):
    r = call(creds.keys[role], method, path)
    if level == "admin" and role == "agent":
        check_problem(r, 403)
    else:
        allowed(r, path)


@pytest.mark.parametrize("role", ["agent", "admin"])
@pytest.mark.parametrize("method,path,level,csrf", TABLE, ids=lambda v: str(v))
def test_session(creds, role, method, path, level, csrf):
    s = creds.session(role)
    if csrf == "csrf":
        check_problem(call(s, method, path, csrf=False), 403)
    r = call(s, method, path)
    if (method, path) == ("DELETE", "/api/session"):
        creds.forget(role)  # signed out
    if level == "admin" and role == "agent":
        check_problem(r, 403)
    else:
        allowed(r, path)
