"""Logs: SIGHUP reopens log_file (lib/base/log.c), and the logrotate file
(packaging/postdesk.logrotate.in) rotates a running stack's logs.

The logrotate file's postrotate signals every postdesk program on the
machine by name (pkill). Other stacks run here at the same time (other
test sessions), so this module's stack lives in a PID namespace of its own
(unshare): there pkill, and scripts/stack.sh, see only its processes. The
network and the files are shared, so the tests talk to it as usual.
"""
import grp
import importlib.util
import os
import pwd
import re
import secrets
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from procs import alive

# tests/conftest.py by its path: two directories hold a conftest.py
_spec = importlib.util.spec_from_file_location(
    "pd_root_conftest", Path(__file__).resolve().parent.parent / "conftest.py")
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)
ROOT, Stack, _stop_and_check = _conftest.ROOT, _conftest.Stack, _conftest._stop_and_check
TEMPLATE = ROOT / "packaging" / "postdesk.logrotate.in"
RENDER = ROOT / "scripts" / "render.sh"
PROGS = {"api": "postdesk-api", "oauth": "postdesk-oauth", "scanner": "postdesk-scan"}


class NsStack(Stack):
    """A Stack whose processes run in a new PID (and mount, for /proc)
    namespace; the namespace and all in it die with self.holder."""

    def __init__(self, tmp, **kw):
        super().__init__(tmp, **kw)
        self.holder = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--",
             "/bin/sh", "-c", "while :; do sleep 1; done"],  # the loop reaps orphans
            stdin=subprocess.DEVNULL)
        self.init = self._child_of(self.holder.pid)
        self.ns = os.readlink("/proc/%d/ns/pid" % self.init)

    @staticmethod
    def _child_of(ppid):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for p in Path("/proc").iterdir():
                if p.name.isdigit():
                    try:
                        st = (p / "status").read_text()
                    except OSError:
                        continue
                    if re.search(r"^PPid:\s+%d$" % ppid, st, re.M):
                        return int(p.name)
            time.sleep(0.05)
        raise RuntimeError("unshare started no child")

    def in_ns(self, argv):
        return ["nsenter", "-t", str(self.init), "-p", "-m", "--"] + list(argv)

    def _stack_sh(self, *args, timeout=120):
        return subprocess.run(self.in_ns([str(ROOT / "scripts" / "stack.sh"), *args]),
                              env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)

    def host_pids(self, service):
        """The host's pids of a service (its pid file holds the namespace's)."""
        f = self.run / (service + ".pid")
        want = {int(p) for p in f.read_text().split() if p.isdigit()} if f.exists() else set()
        found = {}
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                if os.readlink(p / "ns" / "pid") != self.ns:
                    continue
                m = re.search(r"^NSpid:\s+(\d+)\s+(\d+)$", (p / "status").read_text(), re.M)
            except OSError:
                continue
            if m and int(m.group(2)) in want:
                found[int(m.group(2))] = int(m.group(1))
        assert len(found) == len(want), (service, want, found)
        return sorted(found.values())

    def close(self):
        # unshare waits out SIGTERM for its child; SIGKILL ends it, and
        # --kill-child then ends the namespace with everything in it
        self.holder.kill()
        self.holder.wait(timeout=10)


@pytest.fixture(scope="module")
def ns_stack():
    s = NsStack(tempfile.mkdtemp(prefix="pd-test-logs-"), workers=2,
                extra_env={"POSTDESK_SCANNER": "1", "POSTDESK_SCAN_INTERVAL": "1"})
    try:
        s.start()
        yield s
    finally:
        problems = _stop_and_check(s, keep=False)
        s.close()
    if problems:
        pytest.fail(problems, pytrace=False)


def read(path):
    try:
        return Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""


def marker_requests(s, n=6):
    """n requests to a unique path; every worker has had some. Returns the
    path (each answer's log line names it)."""
    path = "/api/no-such-" + secrets.token_hex(6)
    c = s.session()
    for _ in range(n):
        assert c.get(path).status_code == 404
    return path


def wait_for(fn, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def test_sighup_reopens_a_workers_log_and_kills_nobody(ns_stack):
    s = ns_stack
    log = s.log_dir / "postdesk-api.log"
    pids = {k: s.host_pids(k) for k in PROGS}
    assert len(pids["api"]) == 2 and len(pids["scanner"]) == 1, pids
    marker_requests(s)
    os.rename(log, str(log) + ".old")
    for p in pids["api"]:
        os.kill(p, signal.SIGHUP)
    path = marker_requests(s)
    new, old = read(log), read(str(log) + ".old")
    assert re.search(r"postdesk-api\[\d+\]: info req=\S+ GET %s -> 404" % path, new), new[-2000:]
    assert path not in old, old[-2000:]
    # each worker reopened: both have lines in the new file
    assert len(set(re.findall(r"postdesk-api\[(\d+)\]: info req=\S+ GET " + path, new))) == 2, new
    st = os.stat(log)
    assert st.st_mode & 0o777 == 0o640, oct(st.st_mode)

    # many SIGHUPs while requests flow: no worker, no scanner ends, every
    # answer is whole (the accept loop goes on)
    c = s.session()
    for i in range(30):
        for p in pids["api"] + pids["oauth"] + pids["scanner"]:
            os.kill(p, signal.SIGHUP)
        r = c.get("/api/health")
        assert r.status_code == 200, (i, r.status_code, r.text)
    for k, v in pids.items():
        assert all(alive(p) for p in v), (k, v)
        assert s.host_pids(k) == v, k
    assert "api      up" in s.status().stdout


def render(s, tmp):
    conf = Path(tmp) / "postdesk.logrotate"
    subprocess.run([str(RENDER), str(TEMPLATE), str(conf), "LOGDIR=%s" % s.log_dir], check=True)
    text = conf.read_text()
    # what production gets: the postdesk user, Debian's log group adm
    for line in ("%s/*.log {" % s.log_dir, "daily", "rotate 14", "compress", "delaycompress",
                 "missingok", "notifempty", "create 0640 postdesk adm", "su postdesk adm"):
        assert re.search(r"^\s*%s$" % re.escape(line), text, re.M), (line, text)
    # this machine may have no user postdesk: rotate as the owner of the
    # stack's log directory, create files as its programs do
    conf.write_text(text.replace("su postdesk adm", "su %s %s" % owner(s.log_dir))
                    .replace("create 0640 postdesk adm", "create 0640 %s %s"
                             % owner(s.log_dir / "postdesk-api.log")))
    return conf, text


def owner(path):
    st = os.stat(path)
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name


def postrotate_of(text):
    return re.search(r"postrotate\n(.*?)\n\s*endscript", text, re.S).group(1).strip()


def test_logrotate_rotates_and_every_program_writes_to_the_new_file(ns_stack, tmp_path):
    s = ns_stack
    conf, text = render(s, tmp_path)
    state = tmp_path / "state"
    logs = {k: s.log_dir / (v + ".log") for k, v in PROGS.items()}
    pids = {k: s.host_pids(k) for k in PROGS}
    # the scanner logs a line each pass while the database is down
    s.stop_db()
    try:
        marker_requests(s)
        s.session().get("/azure/auth")
        wait_for(lambda: "pass failed" in read(logs["scanner"]), "a scanner line")
        r = subprocess.run(s.in_ns(["logrotate", "-v", "-f", "-s", str(state), str(conf)]),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        for k, f in logs.items():
            assert Path(str(f) + ".1").exists(), (k, r.stderr)
            st = os.stat(f)  # made by logrotate's "create", before the signal
            assert st.st_mode & 0o777 == 0o640, (k, oct(st.st_mode))
        path = marker_requests(s)
        s.session().get("/azure/auth?marker=" + path)
        new = read(logs["api"])
        assert path in new and path not in read(str(logs["api"]) + ".1"), new[-2000:]
        assert "GET /azure/auth" in read(logs["oauth"]), read(logs["oauth"])
        wait_for(lambda: "pass failed" in read(logs["scanner"]), "the scanner's next line")
        # nothing more reaches the rotated file once the new one is used
        before = read(str(logs["scanner"]) + ".1")
        time.sleep(2.5)
        assert read(str(logs["scanner"]) + ".1") == before
        assert read(logs["scanner"]).count("pass failed") >= 2
    finally:
        s.start_db()
    for k, v in pids.items():
        assert s.host_pids(k) == v and all(alive(p) for p in v), k

    # the next rotation compresses the day before (delaycompress)
    marker_requests(s)
    r = subprocess.run(s.in_ns(["logrotate", "-f", "-s", str(state), str(conf)]),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert Path(str(logs["api"]) + ".2.gz").exists()
    assert Path(str(logs["api"]) + ".1").exists()
    path = marker_requests(s)
    assert path in read(logs["api"])


def test_postrotate_succeeds_when_no_program_runs():
    """cron's scanner is not always running, nor are the pools: the
    postrotate line must not make logrotate report an error then."""
    with open(TEMPLATE) as f:
        line = postrotate_of(f.read())
    assert "pkill -HUP" in line, line
    # in an empty PID namespace nothing matches
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "/bin/sh", "-c", line],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    bare = line.split("||")[0]
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "/bin/sh", "-c", bare],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r  # pkill: no process matched


def test_stack_reopen_logs(ns_stack):
    s = ns_stack
    log = s.log_dir / "postdesk-api.log"
    marker_requests(s)
    os.rename(log, str(log) + ".moved")
    r = s._stack_sh("reopen-logs")
    assert r.returncode == 0, r.stdout + r.stderr
    # 2 api, 2 oauth, 1 scanner, nginx
    assert "reopened the logs of 6 processes" in r.stdout, r.stdout
    path = marker_requests(s)
    assert path in read(log) and path not in read(str(log) + ".moved")
