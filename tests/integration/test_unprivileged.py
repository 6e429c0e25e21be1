"""Started as root, the stack runs its programs unprivileged (scripts/stack.sh,
README "Running unprivileged"): the FastCGI workers and the scanner as the
system user postdesk, nginx's workers as www-data; postdesk.conf and
secret.key 0640 root:postdesk; the FastCGI sockets postdesk:www-data 0660.

One stack of its own with its scanner (POSTDESK_SCANNER=1) talking to the
fake Microsoft cloud: mail sent to a connected mailbox becomes a ticket
through the scanner running as postdesk. The session stack of the other
tests has no scanner of its own (tests/conftest.py sets POSTDESK_SCANNER=0).
Like `make test`, these tests run as root: only root's stack drops
privileges.
"""
import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time

import pytest

from procs import proc, processes
from pd_helpers import Client, Desk, new_agent, new_api_key, mailbox_input

PROGRAMS = ("postdesk-api", "postdesk-oauth", "postdesk-scan")


def proc_status(pid):
    """/proc/PID/status as a dict of its fields (None when the process is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except FileNotFoundError:
        return None


def stack_processes(s):
    """{pid: comm} of every live process in the stack's process groups."""
    groups = set(s.pgroups())
    return {p.pid: p.comm for p in processes() if p.state != "Z" and p.pgrp in groups}


def ids(status):
    """The real, effective, saved and filesystem uids and gids, and the groups."""
    return ([int(x) for x in status["Uid"].split()], [int(x) for x in status["Gid"].split()],
            sorted(int(x) for x in status["Groups"].split()))


def as_user(user, *cmd):
    """Run cmd as user (with its groups); returns the CompletedProcess."""
    pw = pwd.getpwnam(user)
    return subprocess.run(["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
                           "--init-groups", "--", *cmd],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def unpriv(stack, stack_env):
    """A stack of its own, scanner included, for the module (new_stack's
    live for one test), of the session stack's class (tests/conftest.py;
    not importable by name: two directories hold a conftest.py). Stopped
    and checked for sanitizer reports afterwards."""
    assert os.geteuid() == 0, "run the tests as root, as make test does"
    s = type(stack)(tempfile.mkdtemp(prefix="pd-test-unpriv-"), workers=2,
                    extra_env=dict(stack_env, POSTDESK_SCANNER="1"))
    try:
        s.start()
        yield s
    finally:
        r = s.stop()
        reports = s.sanitizer_reports()
        if r.returncode == 0 and not reports:
            shutil.rmtree(s.tmp, ignore_errors=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not reports, "sanitizer reports in %s: %s" % (s.log_dir, reports)


def test_programs_run_as_postdesk(unpriv):
    pd = pwd.getpwnam("postdesk")
    procs = stack_processes(unpriv)
    seen = {}
    for pid, comm in procs.items():
        status = proc_status(pid)
        if comm in PROGRAMS and status is not None:  # None: it ended meanwhile
            uids, gids, groups = ids(status)
            assert uids == [pd.pw_uid] * 4, (comm, pid, uids)
            assert gids == [pd.pw_gid] * 4, (comm, pid, gids)
            assert groups == [pd.pw_gid], (comm, pid, groups)
            seen[comm] = seen.get(comm, 0) + 1
    # Two workers each (workers=2 for the api; oauth has two), one scanner.
    assert seen == {"postdesk-api": 2, "postdesk-oauth": 2, "postdesk-scan": 1}, procs
    # A system user nobody logs in as.
    assert pd.pw_uid < 1000 and pd.pw_shell in ("/usr/sbin/nologin", "/bin/false"), pd


def test_nginx_workers_run_as_www_data(unpriv):
    www = pwd.getpwnam("www-data")
    master = int((unpriv.run / "nginx.pid").read_text().split()[0])
    assert ids(proc_status(master))[0][0] == 0  # the master binds the ports, reads the TLS key
    workers = [pid for pid, comm in stack_processes(unpriv).items()
               if comm == "nginx" and proc(pid).ppid == master]
    assert workers, stack_processes(unpriv)
    for pid in workers:
        uids, gids, _ = ids(proc_status(pid))
        assert uids == [www.pw_uid] * 4 and gids == [www.pw_gid] * 4, (pid, uids, gids)


def test_sockets_are_postdesk_www_data_0660(unpriv):
    pd, www = pwd.getpwnam("postdesk"), grp.getgrnam("www-data")
    for name in ("api.sock", "oauth.sock"):
        st = os.stat(unpriv.run / name)
        assert stat.S_ISSOCK(st.st_mode), name
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == \
            (pd.pw_uid, www.gr_gid, 0o660), name


def test_secret_files_are_0640_root_postdesk(unpriv):
    gid = grp.getgrnam("postdesk").gr_gid
    for name in ("postdesk.conf", "secret.key"):
        st = os.stat(unpriv.var / name)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, gid, 0o640), name
    # The TLS key stays root's: only nginx's master reads it.
    st = os.stat(unpriv.var / "tls" / "key.pem")
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) & 0o077 == 0


def test_what_postdesk_and_www_data_cannot_do(unpriv):
    key = str(unpriv.var / "secret.key")
    before = (unpriv.var / "secret.key").read_bytes()
    # postdesk reads the key but cannot change it, nor read root's files.
    assert as_user("postdesk", "test", "-r", key).returncode == 0
    r = as_user("postdesk", "sh", "-c", 'printf x >> "$0"', key)
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    assert (unpriv.var / "secret.key").read_bytes() == before
    r = as_user("postdesk", "cat", "--", str(unpriv.var / "tls" / "key.pem"))
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    r = as_user("postdesk", "ls", "--", str(unpriv.var / "db"))
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    # A directory of the state cannot be listed, only passed through.
    assert as_user("postdesk", "ls", str(unpriv.var)).returncode != 0
    # nginx's workers reach the sockets, not the secrets.
    for name in ("postdesk.conf", "secret.key"):
        r = as_user("www-data", "cat", "--", str(unpriv.var / name))
        assert r.returncode != 0 and "Permission denied" in r.stderr, (name, r)
    # Nobody else reaches the sockets.
    r = as_user("nobody", "/usr/bin/python3", "-c",
                "import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])",
                str(unpriv.run / "api.sock"))
    assert r.returncode != 0 and "PermissionError" in r.stderr, r


def test_workers_and_scanner_work(unpriv, fake_server):
    # A request through nginx: the api worker unseals with the 0640 key.
    _, key = new_api_key(unpriv)
    c = Client(unpriv, {"Authorization": "Bearer " + key})
    r = c.post("/api/mailboxes", json=mailbox_input())
    assert r.status_code == 201, r.text
    assert c.get("/api/mailboxes/%d" % r.json()["id"]).json()["secret_set"] is True
    # Connect (postdesk-oauth), then mail becomes a ticket by the scanner
    # loop running as postdesk alone: no test runs postdesk-scan here.
    desk = Desk(unpriv, fake_server, new_agent(unpriv, "admin"))
    desk.send("Sent to the unprivileged scanner", "carol@example.com")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = desk.tickets()["items"]
        if items:
            break
        time.sleep(0.5)
    assert [t["subject"] for t in items] == ["Sent to the unprivileged scanner"]
    # The ticket's intake ran in the scanner, as postdesk (the loop logs
    # its passes on stdout, postdesk-scan.out; its log file only errors).
    scanner = int((unpriv.run / "scanner.pid").read_text())
    assert ids(proc_status(scanner))[0] == [pwd.getpwnam("postdesk").pw_uid] * 4
    assert "error" not in (unpriv.log_dir / "postdesk-scan.log").read_text()


def test_root_and_postdesk_append_to_one_log(unpriv):
    """postdesk-scan run by root (as the tests and an admin do) and by the
    postdesk user append to the same log file, which stays postdesk's. A
    database socket that is not there makes each run log one error."""
    log = unpriv.log_dir / "postdesk-scan.log"
    env = dict(unpriv.env, POSTDESK_CONF=unpriv.conf, POSTDESK_LOG_FILE=str(log),
               POSTDESK_DB_SOCKET=str(unpriv.run / "no-such.sock"))
    scan = [str(unpriv.bin / "postdesk-scan"), "--once"]
    pw = pwd.getpwnam("postdesk")
    for who in ("root", "postdesk"):
        drop = [] if who == "root" else ["setpriv", "--reuid", str(pw.pw_uid), "--regid",
                                         str(pw.pw_gid), "--init-groups", "--"]
        r = subprocess.run(drop + scan, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1, (who, r)
    lines = [ln for ln in log.read_text().splitlines() if "no-such.sock" in ln]
    assert len(lines) == 2, log.read_text()
    st = os.stat(log)
    assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid)


def test_status_shows_who_runs_what(unpriv):
    r = unpriv.status()
    assert r.returncode == 0, r.stdout + r.stderr
    lines = {ln.split()[0]: ln for ln in r.stdout.splitlines()[1:] if ln.strip()}
    for svc in ("api", "oauth", "scanner"):
        assert lines[svc].split()[1] == "up" and lines[svc].rstrip().endswith("as postdesk"), r.stdout
    assert lines["nginx"].rstrip().endswith("as root www-data"), r.stdout
    assert lines["mariadb"].rstrip().endswith("as root"), r.stdout
    assert "postdesk-scan --loop as postdesk" in unpriv.start_output, unpriv.start_output


def test_session_stack_has_no_scanner(stack):
    """tests/conftest.py asks for POSTDESK_SCANNER=0: the tests run the
    scanner themselves, and status says the scanner is off, not down."""
    assert stack.env["POSTDESK_SCANNER"] == "0"
    assert not (stack.run / "scanner.pid").exists()
    assert not [c for c in stack_processes(stack).values() if c == "postdesk-scan"]
    r = stack.status()
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(ln.split()[:2] == ["scanner", "off"] for ln in r.stdout.splitlines()), r.stdout
    assert "not started (POSTDESK_SCANNER=0)" in stack.start_output
