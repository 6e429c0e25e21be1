"""Fixtures for the API tests (tests/integration/test_api_*.py).

The `stack` fixture (tests/conftest.py) runs the whole stack; here we add
HTTPS clients for the three kinds of caller (a portal session, an API key,
nobody), agents of both roles, mailboxes, and the checks every problem
answer must pass.  Every agent, key and mailbox has a unique name, so the
tests do not depend on each other or on their order.
"""
import re
import secrets
import subprocess
import types

import pytest
import requests

# A GUID in upper case: the API stores it in lower case.
CLIENT_ID = "0B5E9E3C-1A2B-4C3D-8E9F-0123456789AB"
TENANT_ID = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"

# What an error answer must never show: SQL, library or sanitizer output,
# source locations, column names of secrets.
LEAK = re.compile(r"(?i)(mysql|mariadb|\bsql\b|select\s|insert\s+into|update\s+mailbox|"
                  r"traceback|addresssanitizer|runtime error|segmentation|\w+\.c:\d+|"
                  r"secret_sealed|password_hash|token_hash|errno)")


def pytest_configure(config):
    config.addinivalue_line("markers", "stops_db: stops the database; runs after every other test")


def pytest_collection_modifyitems(items):
    """Tests that stop the database run last (a stable sort keeps the rest)."""
    items.sort(key=lambda item: item.get_closest_marker("stops_db") is not None)


def unique(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(4))


def text_of(out):
    """stack.admin()/stack.sql()/stack.logs() output as one string."""
    if isinstance(out, subprocess.CompletedProcess):
        out = out.stdout
    if isinstance(out, bytes):
        return out.decode("utf-8", "replace")
    if isinstance(out, dict):
        return "\n".join(text_of(v) for v in out.values())
    if isinstance(out, (list, tuple)):
        return "\n".join(text_of(v) if not isinstance(v, (str, int, float, type(None)))
                         else str(v) for v in out)
    return "" if out is None else str(out)


class Client:
    """One caller over real HTTPS; headers given here go on every request."""

    def __init__(self, stack, headers=None):
        self.base = stack.base
        self.http = requests.Session()
        self.cacert = stack.cacert
        self.http.headers.update(headers or {})
        self.csrf = None

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 20)
        # Per request: REQUESTS_CA_BUNDLE in the environment would override
        # a session-wide verify.
        kw.setdefault("verify", self.cacert)
        kw.setdefault("allow_redirects", False)
        return self.http.request(method, self.base + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username, password):
        """Sign in; afterwards X-CSRF-Token goes on every request."""
        r = self.post("/api/session", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf_token"]
        self.http.headers["X-CSRF-Token"] = self.csrf
        return r


def check_problem(r, status, fields=None):
    """Assert r is an application/problem+json answer with this status.

    fields: the exact set of errors[].field expected (422).  Returns the
    parsed problem.
    """
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type") == "application/problem+json", r.headers
    p = r.json()
    for k in ("type", "title", "status", "detail", "request_id"):
        assert k in p, (k, p)
    assert p["status"] == status and type(p["status"]) is int, p
    assert p["type"].startswith("urn:postdesk:problem:"), p
    for k in ("title", "detail", "request_id"):
        assert isinstance(p[k], str) and p[k].strip(), (k, p)
    assert r.headers.get("X-Request-Id") == p["request_id"], (r.headers, p)
    assert not LEAK.search(r.text), r.text
    if status == 401:
        assert r.headers.get("WWW-Authenticate") == 'Bearer realm="postdesk"', r.headers
    if status == 422:
        assert isinstance(p["errors"], list) and p["errors"], p
    if "errors" in p:
        assert status in (409, 422), p
        for e in p["errors"]:
            assert set(e) == {"field", "message"}, e
            assert isinstance(e["field"], str) and e["field"], e
            assert isinstance(e["message"], str) and e["message"].strip(), e
    if fields is not None:
        assert sorted(e["field"] for e in p["errors"]) == sorted(fields), p["errors"]
    return p


def message_for(problem, field):
    """The message(s) for one field of a 422 problem, joined."""
    msgs = [e["message"] for e in problem["errors"] if e["field"] == field]
    assert msgs, (field, problem)
    return " ".join(msgs)


def mailbox_input(**over):
    """A valid create body with a unique name; keyword arguments override."""
    body = {"name": unique("Support"), "client_id": CLIENT_ID, "tenant_id": TENANT_ID,
            "secret": "Qx8~" + secrets.token_urlsafe(24)}
    body.update(over)
    return body


def new_agent(stack, role, password=None):
    """Create an agent with a known password; returns (username, password)."""
    username = unique("it-" + role)
    password = password or secrets.token_urlsafe(18)
    stack.admin("create-agent", username, "--role", role, input=password + "\n")
    return username, password


def new_api_key(stack, role="admin"):
    """Create an API key; returns (name, key)."""
    name = unique("it-key-" + role)
    key = text_of(stack.admin("create-api-key", name, "--role", role)).strip()
    assert re.fullmatch(r"pdk_[A-Za-z0-9_-]{43}", key), key
    return name, key


@pytest.fixture
def client(stack):
    """A factory of clients: client(headers=None)."""
    return lambda headers=None: Client(stack, headers)


@pytest.fixture
def anon(stack):
    return Client(stack)


@pytest.fixture(scope="session")
def admin_login(stack):
    """(username, password) of an admin agent made for these tests."""
    return new_agent(stack, "admin")


@pytest.fixture(scope="session")
def admin_cookie(stack, admin_login):
    """An admin signed in to the portal: cookie + X-CSRF-Token."""
    c = Client(stack)
    c.login(*admin_login)
    return c


@pytest.fixture(scope="session")
def admin_key(stack):
    """An admin API key client (Authorization: Bearer)."""
    _, key = new_api_key(stack, "admin")
    return Client(stack, {"Authorization": "Bearer " + key})


@pytest.fixture
def make_mailbox(admin_key):
    """Create a mailbox through the API: make_mailbox(**fields) -> body."""
    def make(**over):
        r = admin_key.post("/api/mailboxes", json=mailbox_input(**over))
        assert r.status_code == 201, r.text
        return r.json()
    return make


@pytest.fixture(scope="session")
def pd():
    """The helpers above, for the test modules (two conftest.py files share
    one module name, so tests cannot import from here)."""
    return types.SimpleNamespace(
        CLIENT_ID=CLIENT_ID, TENANT_ID=TENANT_ID, LEAK=LEAK, Client=Client,
        unique=unique, text_of=text_of, check_problem=check_problem,
        message_for=message_for, mailbox_input=mailbox_input,
        new_agent=new_agent, new_api_key=new_api_key)


# --- the fake Microsoft cloud (tests/fakes/fake_microsoft.py) -------------------

import json as _json  # noqa: E402
import os as _os  # noqa: E402
import sys as _sys  # noqa: E402
import urllib.request as _urlreq  # noqa: E402

_sys.path.insert(0, _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "fakes"))
import fake_microsoft as _fake_microsoft  # noqa: E402


class Fake:
    """The fake's control API: fake.ctl("tenants", {...}), fake.log("token_log")."""

    def __init__(self, server):
        self.server = server
        self.url = server.url

    def _call(self, method, name, body=None):
        data = None if body is None else _json.dumps(body).encode()
        rq = _urlreq.Request(self.url + "/_control/" + name, data=data, method=method,
                             headers={"Content-Type": "application/json"})
        # A direct opener: no proxy from the environment for a loopback URL.
        opener = _urlreq.build_opener(_urlreq.ProxyHandler({}))
        with opener.open(rq, timeout=20) as r:
            return _json.loads(r.read() or b"null")

    def ctl(self, name, body=None):
        return self._call("POST", name, body if body is not None else {})

    def get(self, name):
        return self._call("GET", name)

    def log(self, name):
        return self.get(name)["entries"]


@pytest.fixture(scope="session")
def fake_server():
    """The fake Microsoft login + Graph server, for the whole session."""
    server = _fake_microsoft.FakeMicrosoft(port=0, quiet=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack_env(fake_server):
    """The session stack (tests/conftest.py) talks to the fake."""
    return {"POSTDESK_LOGIN_URL": fake_server.url, "POSTDESK_GRAPH_URL": fake_server.url}


@pytest.fixture
def fake(stack, fake_server):
    """The fake, forgotten before each test (tenants, logs, faults); also stack.fake."""
    stack.fake = fake_server
    f = Fake(fake_server)
    f.ctl("reset")
    return f
