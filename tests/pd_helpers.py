"""Helpers the integration and browser tests share (importable as
`pd_helpers`: pytest.ini puts tests/ on sys.path).

    Client, unique, text_of, check_problem, message_for, mailbox_input,
    new_agent, new_api_key      the API callers and checks
    Fake, fake_server, stack_env, fake
                                the fake Microsoft cloud (the fixtures are
                                imported by tests/integration/conftest.py
                                and tests/browser/conftest.py)
    new_tenant, connect_mailbox, TenantWorld, closing_factory
                                a tenant and app at the fake, a postdesk
                                mailbox connected to it (the real authorize +
                                callback flow)
    scan_env, keep_stderr       running postdesk-scan
    Desk, HOSTILE               one connected mailbox, mail in, scan once
    openapi_checker, schema_checker
                                answers checked against /api/openapi.json
"""
import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fakes"))
import fake_microsoft  # noqa: E402

# Mail content that must show as text, never run as markup.
HOSTILE = "<img src=x onerror=alert(1)>"

# A GUID in upper case: the API stores it in lower case.
CLIENT_ID = "0B5E9E3C-1A2B-4C3D-8E9F-0123456789AB"
TENANT_ID = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"

# What an error answer must never show: SQL, library or sanitizer output,
# source locations, column names of secrets.
LEAK = re.compile(r"(?i)(mysql|mariadb|\bsql\b|select\s|insert\s+into|update\s+mailbox|"
                  r"traceback|addresssanitizer|runtime error|segmentation|\w+\.c:\d+|"
                  r"secret_sealed|password_hash|token_hash|errno)")


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
    """One caller over real HTTPS; headers given here go on every request.
    timeout: the default per request (seconds)."""

    def __init__(self, stack, headers=None, timeout=20):
        self.base = stack.base
        self.http = requests.Session()
        self.cacert = stack.cacert
        self.http.headers.update(headers or {})
        self.csrf = None
        self.timeout = timeout

    def request(self, method, path, **kw):
        kw.setdefault("timeout", self.timeout)
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


# --- the fake Microsoft cloud (tests/fakes/fake_microsoft.py) -------------------

class Fake:
    """The fake's control API: fake.ctl("tenants", {...}), fake.log("token_log").
    server: the FakeMicrosoft, or just its URL."""

    def __init__(self, server):
        self.server = server
        self.url = server if isinstance(server, str) else server.url

    def _call(self, method, name, body=None):
        data = None if body is None else json.dumps(body).encode()
        rq = urllib.request.Request(self.url + "/_control/" + name, data=data, method=method,
                                    headers={"Content-Type": "application/json"})
        # A direct opener: no proxy from the environment for a loopback URL.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(rq, timeout=20) as r:
            return json.loads(r.read() or b"null")

    def ctl(self, name, body=None):
        return self._call("POST", name, body if body is not None else {})

    def get(self, name):
        return self._call("GET", name)

    def log(self, name):
        return self.get(name)["entries"]


@pytest.fixture(scope="session")
def fake_server():
    """The fake Microsoft login + Graph server, for the whole session."""
    server = fake_microsoft.FakeMicrosoft(port=0, quiet=True).start()
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


# --- a tenant at the fake and postdesk mailboxes connected to it ----------------

def new_tenant(stack, fake, prefix):
    """A tenant (domain PREFIXhex.onmicrosoft.com) with an app whose redirect
    URIs are the stack's; returns (domain, tenant id, app)."""
    domain = "%s%s.onmicrosoft.com" % (prefix, secrets.token_hex(4))
    tenant = fake.ctl("tenants", {"domains": [domain]})["id"]
    app = fake.ctl("apps", {"tenant": tenant, "redirect_uris": [
        stack.base + "/azure/auth", stack.base + "/auth/account/azureresponse"]})
    return domain, tenant, app


def connect_mailbox(stack, client, mid):
    """Connect mailbox mid the real way (authorize, sign-in at the fake, the
    callback); the fake's signin mode must be set to approve first."""
    r = client.post("/api/mailboxes/%d/authorize" % mid)
    assert r.status_code == 200, r.text
    r = client.http.get(r.json()["authorize_url"], allow_redirects=False, timeout=20)
    assert r.status_code == 302, r.text[:300]
    r = client.http.get(r.headers["Location"], verify=stack.cacert, allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text[:300]
    assert stack.sql("SELECT status FROM mailbox WHERE id = %d" % mid) == [["connected"]]


class TenantWorld:
    """One tenant + app at the fake and an admin signed in to postdesk
    (self.browser); close() disconnects the mailboxes made in it."""

    def __init__(self, stack, fake, pd, admin_login, prefix="s"):
        self.stack, self.fake, self.pd = stack, fake, pd
        self.domain, self.tenant, app = new_tenant(stack, fake, prefix)
        self.client_id, self.secret = app["client_id"], app["secrets"][0]["value"]
        self.browser = pd.Client(stack)
        self.browser.login(*admin_login)
        self.mailboxes = []

    def close(self):
        for mid in self.mailboxes:
            self.stack.sql("UPDATE mailbox SET status = 'not_connected', lease_until = NULL "
                           "WHERE id = %d" % mid)


def closing_factory(make_one):
    """For a fixture: `yield from closing_factory(fn)` gives the test
    make(**kw) -> fn(**kw), and close()s all it made after the test."""
    made = []

    def make(**kw):
        w = make_one(**kw)
        made.append(w)
        return w
    yield make
    for w in made:
        w.close()


# --- postdesk-scan ------------------------------------------------------------

def scan_env(stack, extra=None):
    env = dict(stack.env, POSTDESK_CONF=stack.conf,
               POSTDESK_LOG_FILE=str(stack.log_dir / "postdesk-scan.log"))
    env.update(extra or {})
    return env


def keep_stderr(stack, text):
    """The scanner's stderr goes to the log dir, for the sanitizer check."""
    if text:
        stack.log_dir.mkdir(parents=True, exist_ok=True)
        with open(stack.log_dir / "postdesk-scan.stderr", "a") as f:
            f.write(text)


class Desk:
    """One tenant, app and user at the fake; one postdesk mailbox connected to
    it; send() puts mail in its Inbox, scan() runs postdesk-scan once.
    timeout: the default per request of its admin client (seconds)."""

    def __init__(self, stack, fake_server, admin_login, timeout=20):
        # The fake the stack was started with: when integration and browser
        # tests run in one session, each conftest has its own fake_server but
        # the session stack talks to the first one.
        self.stack = stack
        self.url = stack.env.get("POSTDESK_GRAPH_URL") or fake_server.url
        self.fake = Fake(self.url)
        dom, self.tenant, app = new_tenant(stack, self.fake, "t")
        self.address = "desk@" + dom
        self.ctl("users", {"tenant": self.tenant, "address": self.address, "display_name": "Desk"})
        self.ctl("signin", {"tenant": self.tenant, "user": self.address, "mode": "approve"})
        self.admin = Client(stack, timeout=timeout)
        self.admin.login(*admin_login)
        r = self.admin.post("/api/mailboxes", json={
            "name": unique("Desk"), "client_id": app["client_id"], "tenant_id": self.tenant,
            "secret": app["secrets"][0]["value"], "first_scan": "all",
            "ack_enabled": False})  # acknowledgements: tests/integration/test_send.py
        assert r.status_code == 201, r.text
        self.mid = r.json()["id"]
        connect_mailbox(stack, self.admin, self.mid)
        assert self.admin.get("/api/mailboxes/%d" % self.mid).json()["status"] == "connected"

    def ctl(self, name, body):
        return self.fake.ctl(name, body)

    def send(self, subject, frm, body="Hello", **kw):
        msg = {"mailbox": self.address, "subject": subject, "from": frm, "to": [self.address],
               "body_text": body}
        msg.update(kw)
        return self.ctl("messages", msg)

    def scan(self):
        env = dict(self.stack.env, POSTDESK_CONF=self.stack.conf)
        r = subprocess.run([str(self.stack.bin / "postdesk-scan"), "--once", "--mailbox", str(self.mid)],
                           env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        self.stack.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.stack.log_dir / "postdesk-scan.log", "a") as f:
            f.write(r.stderr)
        assert r.returncode == 0, (r.returncode, r.stderr)
        return r

    def list(self, path, client=None, **params):
        """GET path?params (mailbox: this desk's by default) as client (the
        admin by default); asserts 200, returns the body."""
        params.setdefault("mailbox", self.mid)
        r = (client or self.admin).get(path + "?" + urllib.parse.urlencode(params))
        assert r.status_code == 200, r.text
        return r.json()

    def tickets(self, client=None, **params):
        return self.list("/api/tickets", client, **params)


# --- answers against the OpenAPI document ---------------------------------------

def openapi_checker():
    """check_schema() of tests/integration/test_api_openapi.py (a test module
    cannot be imported by name: two directories hold conftest.py)."""
    spec = importlib.util.spec_from_file_location(
        "pd_openapi_checks", os.path.join(HERE, "integration", "test_api_openapi.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.check_schema


def schema_checker(stack):
    """check(method, path, r): r's body matches the schema /api/openapi.json
    gives for that operation and status (a $ref to a shared response is
    followed), and its Content-Type is the one documented."""
    doc = Client(stack).get("/api/openapi.json").json()
    check = openapi_checker()

    def run(method, path, r):
        resp = doc["paths"][path][method.lower()]["responses"][str(r.status_code)]
        while "$ref" in resp:
            resp = doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
        ctype = r.headers["Content-Type"]
        assert list(resp["content"]) == [ctype], (method, path, ctype)
        check(doc, resp["content"][ctype]["schema"], r.json(), "%s %s" % (method, path))
    return run


def freshen(stack, keep=()):
    """Mailboxes other tests left behind do not decide health: connected
    ones count as scanned just now, ones stopped (needs_reauth, error) as
    disconnected on purpose — except the mailboxes in keep."""
    others = " AND id NOT IN (%s)" % ",".join(map(str, keep)) if keep else ""
    stack.sql("UPDATE mailbox SET last_success_at = UTC_TIMESTAMP() "
              "WHERE status = 'connected'" + others)
    stack.sql("UPDATE mailbox SET status = 'disconnected' "
              "WHERE status IN ('needs_reauth', 'error')" + others)
