"""Shared pytest harness: one private postdesk stack per test session.

The session fixture `stack` runs scripts/stack.sh in a temporary directory on
free loopback ports (MariaDB, the FastCGI programs under spawn-fcgi, nginx
with TLS), so tests drive the real thing over HTTPS and real SQL. At the end
it stops the stack and fails the run if a program logged a sanitizer report.

    stack.base        https://localhost:PORT
    stack.http_base   http://localhost:PORT (redirects to HTTPS)
    stack.cacert      the stack's self-signed certificate (requests verify=)
    stack.var/run/conf/env
    stack.admin(*args, input=None, check=True) -> CompletedProcess (text)
    stack.sql(query)  -> rows (lists of str; NULL is "NULL")
    stack.logs()      -> every file in var/log as one string
    stack.stop_db() / stack.start_db()
    stack.session()   -> requests.Session bound to the stack (login(), csrf)

Fixtures: stack, admin_session, api_key, new_stack (a factory of extra
stacks for tests that restart or kill one), module_stack (a stack of one
module's own), stack_env.

Environment: POSTDESK_BIN picks the programs (the Makefile passes build/san;
default build/); other POSTDESK_* variables (e.g. POSTDESK_LOGIN_URL) reach
the programs. A conftest.py further down can override the session fixture
`stack_env` (a dict) to add variables, e.g. the URL of a fake server it
starts. After a failed run the temporary directory keeps the logs (not the
database); POSTDESK_KEEP=1 keeps all of it.

Run with Debian's python (pyenv's has no pytest): /usr/bin/python3 -m pytest
"""
import os
import secrets
import shutil
import string
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from procs import free_ports

ROOT = Path(__file__).resolve().parent.parent
STACK_SH = ROOT / "scripts" / "stack.sh"
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")

# Variables of the caller's environment that would point the test stack at
# the developer's own stack or files.
_NOT_INHERITED = ("POSTDESK_VAR", "POSTDESK_RUN", "POSTDESK_CONF", "POSTDESK_DB_PORT",
                  "POSTDESK_LOG_FILE", "POSTDESK_HTTPS_PORT", "POSTDESK_HTTP_PORT",
                  "POSTDESK_WORKERS", "POSTDESK_SCANNER")


def _rand(n=6):
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


class Stack:
    """A private stack in its own directory and ports; see the module doc."""

    def __init__(self, tmp, bin_dir=None, workers=2, extra_env=None):
        self.tmp = Path(tmp)
        # mkdtemp makes it 0700; as root the stack's programs run as user
        # postdesk and nginx's workers as www-data, who must pass through it
        # (scripts/stack.sh; each file inside keeps its own mode).
        os.chmod(self.tmp, 0o711)
        self.var = self.tmp / "var"
        self.run = Path("/tmp/pdt-" + _rand())
        self.bin = Path(bin_dir or os.environ.get("POSTDESK_BIN") or ROOT / "build")
        self.https_port, self.http_port = free_ports(2)
        self.base = "https://localhost:%d" % self.https_port
        self.http_base = "http://localhost:%d" % self.http_port
        self.cacert = str(self.var / "tls" / "cert.pem")
        self.conf = str(self.var / "postdesk.conf")
        self.log_dir = self.var / "log"
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        # The tests run postdesk-scan themselves, when they mean to; a stack
        # with its own scanner asks for it (extra_env POSTDESK_SCANNER=1).
        env["POSTDESK_SCANNER"] = "0"
        env.update(extra_env or {})
        env.update({
            "POSTDESK_VAR": str(self.var),
            "POSTDESK_RUN": str(self.run),
            "POSTDESK_BIN": str(self.bin),
            "POSTDESK_HTTPS_PORT": str(self.https_port),
            "POSTDESK_HTTP_PORT": str(self.http_port),
            "POSTDESK_WORKERS": str(workers),
        })
        self.env = env
        self.start_output = ""

    # -- the whole stack
    def _stack_sh(self, *args, timeout=120):
        return subprocess.run([str(STACK_SH), *args], env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def start(self):
        """Start (or restart) the stack; raises with stack.sh's output on failure."""
        r = self._stack_sh("start")
        self.start_output = r.stdout
        if r.returncode != 0:
            raise RuntimeError("scripts/stack.sh start failed (exit %d):\n%s\n%s"
                               % (r.returncode, r.stdout, r.stderr))
        return r

    def stop(self):
        return self._stack_sh("stop")

    def status(self):
        return self._stack_sh("status")

    def stop_db(self):
        """Stop only mariadbd (the programs keep running); returns once it is gone."""
        r = self._stack_sh("db-stop")
        assert r.returncode == 0, r.stdout + r.stderr

    def start_db(self):
        """Start mariadbd again; returns once it answers."""
        r = self._stack_sh("db-start")
        assert r.returncode == 0, r.stdout + r.stderr

    # -- tools
    def admin(self, *args, input=None, check=True):
        """Run postdesk-admin ARGS with this stack's configuration.

        input: text for stdin (e.g. a password line); without it stdin is
        /dev/null. check: raise AssertionError on a non-zero exit. Its stderr
        is also appended to var/log/postdesk-admin.log, so the sanitizer
        check at the end covers this program too.
        """
        env = dict(self.env, POSTDESK_CONF=self.conf)
        r = subprocess.run([str(self.bin / "postdesk-admin"), *map(str, args)], env=env,
                           input=input, stdin=None if input is not None else subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        if r.stderr:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with open(self.log_dir / "postdesk-admin.log", "a") as f:
                f.write(r.stderr)
        if check and r.returncode != 0:
            raise AssertionError("postdesk-admin %s: exit %d\nstdout: %s\nstderr: %s"
                                 % (" ".join(map(str, args)), r.returncode, r.stdout, r.stderr))
        return r

    def sql(self, query):
        """Run SQL as MariaDB's root in database postdesk; returns the rows."""
        r = subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % self.run,
                            "-uroot", "postdesk", "-N", "-B", "-e", query],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("SQL failed: %s\n%s" % (query, r.stderr))
        return [line.split("\t") for line in r.stdout.splitlines()]

    def logs(self):
        """Every file under var/log, each after a '==> name <==' line."""
        parts = []
        if self.log_dir.is_dir():
            for p in sorted(self.log_dir.rglob("*")):
                if p.is_file():
                    text = p.read_bytes().decode("utf-8", "replace")
                    parts.append("==> %s <==\n%s" % (p.relative_to(self.log_dir), text))
        return "\n".join(parts)

    def sanitizer_reports(self):
        """The log files (name, text) that hold a sanitizer report."""
        found = []
        if self.log_dir.is_dir():
            for p in sorted(self.log_dir.rglob("*")):
                if p.is_file():
                    text = p.read_bytes().decode("utf-8", "replace")
                    if any(m in text for m in SANITIZER_MARKERS):
                        found.append((p.name, text))
        return found

    # -- HTTP
    def session(self):
        """A requests.Session for this stack (see StackSession)."""
        return StackSession(self)

    def url(self, path):
        return self.base + path

    def set_ports(self, https_port, http_port):
        """Use other ports from the next start() on."""
        self.https_port, self.http_port = https_port, http_port
        self.base = "https://localhost:%d" % https_port
        self.http_base = "http://localhost:%d" % http_port
        self.env.update(POSTDESK_HTTPS_PORT=str(https_port), POSTDESK_HTTP_PORT=str(http_port))

    def pgroups(self):
        """The process-group ids listed in the pid files of the runtime dir."""
        ids = []
        for f in self.run.glob("*.pid"):
            ids += [int(p) for p in f.read_text().split() if p.isdigit()]
        return ids


class StackSession(requests.Session):
    """requests.Session bound to a stack: relative paths ("/api/...") go to
    stack.base, the stack's certificate is trusted, redirects are not
    followed. After login(), X-CSRF-Token goes on every request."""

    def __init__(self, stack):
        super().__init__()
        self.stack = stack
        self.base = stack.base
        self.verify = stack.cacert
        self.csrf = None
        self.agent = None

    def url(self, path):
        return self.base + path if path.startswith("/") else path

    def request(self, method, url, **kw):
        # Per request, since REQUESTS_CA_BUNDLE would override self.verify.
        kw.setdefault("verify", self.stack.cacert)
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        return super().request(method, self.url(url), **kw)

    def login(self, username, password):
        r = self.post("/api/session", json={"username": username, "password": password})
        assert r.status_code == 200, (r.status_code, r.text)
        body = r.json()
        self.csrf = body["csrf_token"]
        self.agent = body["agent"]
        self.headers["X-CSRF-Token"] = self.csrf
        return r


def _stop_and_check(stack, keep):
    """Stop the stack and clean up; returns the failure text (or "").

    keep: False removes the directory; True keeps the logs and the
    configuration but not the database (some 35 MB a run), unless
    POSTDESK_KEEP=1 asks to keep everything. Problems found keep the logs.
    """
    r = stack.stop()
    problems = []
    if r.returncode != 0:
        problems.append("scripts/stack.sh stop failed:\n%s%s" % (r.stdout, r.stderr))
    for name, text in stack.sanitizer_reports():
        problems.append("sanitizer report in %s/%s:\n%s" % (stack.log_dir, name, text[-20000:]))
    if os.environ.get("POSTDESK_KEEP") == "1":
        pass
    elif keep or problems:
        shutil.rmtree(stack.var / "db", ignore_errors=True)
    else:
        shutil.rmtree(stack.tmp, ignore_errors=True)
    return "\n\n".join(problems)


@pytest.fixture(scope="session")
def stack_env():
    """Extra environment for the session stack; override it in a conftest.py."""
    return {}


@pytest.fixture(scope="session")
def stack(request, stack_env):
    tmp = tempfile.mkdtemp(prefix="pd-test-")
    s = Stack(tmp, workers=2, extra_env=stack_env)
    keep = os.environ.get("POSTDESK_KEEP") == "1"
    try:
        t0 = time.monotonic()
        s.start()
        s.start_seconds = time.monotonic() - t0
    except Exception:
        _stop_and_check(s, keep=True)
        raise
    yield s
    failed = request.session.testsfailed > 0
    problems = _stop_and_check(s, keep=keep or failed)
    if keep or failed or problems:
        print("\npostdesk test stack: logs kept in %s" % s.log_dir)
    if problems:
        pytest.fail(problems, pytrace=False)


@pytest.fixture
def new_stack():
    """A factory of extra stacks for tests that must stop, kill or restart
    one: new_stack(workers=1, extra_env=None, bin_dir=None) -> Stack (not started; call
    .start()). Each gets its own directory, ports and runtime dir, and is
    stopped, checked for sanitizer reports and removed after the test."""
    made = []

    def make(workers=1, extra_env=None, bin_dir=None):
        s = Stack(tempfile.mkdtemp(prefix="pd-test-extra-"), bin_dir=bin_dir, workers=workers,
                  extra_env=extra_env)
        made.append(s)
        return s

    yield make
    problems = [_stop_and_check(s, keep=False) for s in made]
    problems = [p for p in problems if p]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def module_stack(request, stack_env):
    """A started stack of the module's own (the session stack's environment),
    for tests that need every mailbox and setting of a stack to be theirs,
    whatever other modules ran before; stopped and checked after the module."""
    s = Stack(tempfile.mkdtemp(prefix="pd-test-mod-"), workers=1, extra_env=stack_env)
    try:
        s.start()
    except Exception:
        _stop_and_check(s, keep=True)
        raise
    yield s
    problems = _stop_and_check(s, keep=request.session.testsfailed > 0)
    if problems:
        pytest.fail(problems, pytrace=False)


@pytest.fixture(scope="session")
def admin_password():
    return "pt-" + secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def admin_session(stack, admin_password):
    """A logged-in requests session of admin agent 'testadmin' (created once).

    s.get("/api/...") etc.; s.csrf is the CSRF token (already sent on every
    request), s.agent the agent object from the login answer.
    """
    stack.admin("create-agent", "testadmin", "--role", "admin", input=admin_password + "\n")
    s = stack.session()
    s.login("testadmin", admin_password)
    return s


@pytest.fixture(scope="session")
def api_key(stack):
    """An admin API key (send as Authorization: Bearer <key>)."""
    r = stack.admin("create-api-key", "pytest-" + secrets.token_hex(4), "--role", "admin")
    key = r.stdout.strip()
    assert key, r
    return key
