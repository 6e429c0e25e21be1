"""postdesk-api and postdesk-oauth without spawn-fcgi: the built-in pool
(--workers N, lib/adapt/prefork.c) and systemd's socket activation (the
listening socket on fd 3 with LISTEN_PID/LISTEN_FDS, lib/adapt/fcgi.c), as
packaging/systemd/postdesk-api.service runs them.

No stack: the programs start without a database (it is connected on first
use), and GET /api/openapi.json needs none, so a FastCGI request made here
on the socket shows a worker serving.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from procs import alive, children

ROOT = Path(__file__).resolve().parent.parent.parent
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")

BIN = Path(os.environ.get("POSTDESK_BIN") or ROOT / "build")


# --- a minimal FastCGI client (the records of the FastCGI specification)
def _record(kind, content, req_id=1):
    return struct.pack(">BBHHBB", 1, kind, req_id, len(content), 0, 0) + content


def _pair(name, value):
    def length(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    name, value = name.encode(), value.encode()
    return length(len(name)) + length(len(value)) + name + value


def fcgi_get(sock_path, path, timeout=10):
    """GET path from the responder on sock_path; returns its whole output."""
    params = b"".join(_pair(k, v) for k, v in (
        ("REQUEST_METHOD", "GET"), ("DOCUMENT_URI", path), ("QUERY_STRING", ""),
        ("REMOTE_ADDR", "127.0.0.1"), ("SERVER_PROTOCOL", "HTTP/1.1")))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall(_record(1, struct.pack(">HB5x", 1, 0)) + _record(4, params) +
              _record(4, b"") + _record(5, b""))
    data, out = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    while len(data) >= 8:
        _, kind, _, n, pad, _ = struct.unpack(">BBHHBB", data[:8])
        if kind == 6:
            out += data[8:8 + n]
        data = data[8 + n + pad:]
    return out.decode("utf-8", "replace")


# --- processes
def wait_for(cond, timeout=10, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


@pytest.fixture
def world():
    """A configuration, key and short socket directory of its own."""
    d = Path(tempfile.mkdtemp(prefix="pdpf-", dir="/tmp"))
    key = d / "secret.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    log = d / "postdesk.log"
    conf = d / "postdesk.conf"
    conf.write_text("portal_url = https://localhost:1\nkey_file = %s\nlog_file = %s\n"
                    % (key, log))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTDESK_", "LISTEN_"))}
    env["POSTDESK_CONF"] = str(conf)
    yield {"dir": d, "env": env, "log": log, "sock": str(d / "api.sock")}
    text = log.read_text(errors="replace") if log.exists() else ""
    shutil.rmtree(d, ignore_errors=True)
    assert not any(m in text for m in SANITIZER_MARKERS), text


def listening(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    return s


def stop(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_pool_serves_replaces_a_dead_worker_and_stops_on_sigterm(world):
    lsock = listening(world["sock"])
    proc = subprocess.Popen([str(BIN / "postdesk-api"), "--workers", "3"], stdin=lsock,
                            env=world["env"])
    lsock.close()
    try:
        first = wait_for(lambda: len(children(proc.pid)) == 3 and children(proc.pid),
                         what="3 workers")
        out = fcgi_get(world["sock"], "/api/openapi.json")
        assert out.startswith("Status: 200"), out[:300]
        assert '"openapi"' in out

        os.kill(first[0], signal.SIGKILL)
        now = wait_for(lambda: (len(children(proc.pid)) == 3 and first[0] not in
                                children(proc.pid) and children(proc.pid)),
                       what="the killed worker replaced")
        assert set(first[1:]) <= set(now)
        assert fcgi_get(world["sock"], "/api/openapi.json").startswith("Status: 200")

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        wait_for(lambda: not any(alive(p) for p in now), what="every worker ended")
    finally:
        stop(proc)
    log = world["log"].read_text()
    assert "prefork: 3 workers" in log
    assert "worker %d killed by signal 9" % first[0] in log


def _socket_activated(world, *args, fds="1"):
    """Start postdesk-api as systemd would: socket on fd 3, stdin /dev/null,
    LISTEN_PID its own pid (sh execs it, keeping the pid)."""
    lsock = listening(world["sock"])
    script = 'exec 3<&0 0</dev/null; LISTEN_PID=$$ LISTEN_FDS=%s exec "$@"' % fds
    proc = subprocess.Popen(["/bin/sh", "-c", script, "sh", str(BIN / "postdesk-api"), *args],
                            stdin=lsock, env=world["env"])
    lsock.close()
    return proc


def test_socket_from_systemd_one_process(world):
    proc = _socket_activated(world)
    try:
        out = wait_for(lambda: _try_get(world["sock"]), what="an answer")
        assert out.startswith("Status: 200"), out[:300]
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    finally:
        stop(proc)


def test_socket_from_systemd_with_a_pool(world):
    proc = _socket_activated(world, "--workers", "2")
    try:
        workers = wait_for(lambda: len(children(proc.pid)) == 2 and children(proc.pid),
                           what="2 workers")
        assert _try_get(world["sock"]).startswith("Status: 200")
        # The socket moved from fd 3 to fd 0 before the workers were forked.
        for w in workers:
            sock = os.readlink("/proc/%d/fd/0" % w)
            assert sock.startswith("socket:"), sock
            fd3 = "/proc/%d/fd/3" % w
            assert not os.path.lexists(fd3) or os.readlink(fd3) != sock
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        stop(proc)


def test_socket_from_systemd_refuses_two_sockets(world):
    proc = _socket_activated(world, fds="2")
    try:
        assert proc.wait(10) == 2
    finally:
        stop(proc)
    assert "more than one socket" in world["log"].read_text()


def test_workers_option_is_checked(world):
    for bad in (["--workers"], ["--workers", "0"], ["--workers", "65"], ["--workers", "x"],
                ["--nope"]):
        r = subprocess.run([str(BIN / "postdesk-oauth"), *bad], env=world["env"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, bad
        assert "usage: postdesk-oauth [--workers N" in r.stderr
    r = subprocess.run([str(BIN / "postdesk-oauth"), "--version"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0
    assert r.stdout.startswith("postdesk-oauth ")


def _try_get(path):
    try:
        return fcgi_get(path, "/api/openapi.json", timeout=5)
    except OSError:
        return None


def test_sighup_reaches_the_workers_which_reopen_the_log(world):
    """logrotate renames the log and signals the pool's parent (systemctl
    reload): the workers live on and write to a new file."""
    lsock = listening(world["sock"])
    proc = subprocess.Popen([str(BIN / "postdesk-api"), "--workers", "2"], stdin=lsock,
                            env=world["env"])
    lsock.close()
    try:
        workers = wait_for(lambda: len(children(proc.pid)) == 2 and children(proc.pid),
                           what="2 workers")
        rotated = world["log"].with_suffix(".log.1")
        world["log"].rename(rotated)
        proc.send_signal(signal.SIGHUP)
        for _ in range(4):  # reaches every worker, whichever takes it
            assert fcgi_get(world["sock"], "/api/openapi.json").startswith("Status: 200")
        text = wait_for(lambda: world["log"].exists() and world["log"].read_text(),
                        what="a new log file")
        assert "GET /api/openapi.json -> 200" in text, text
        assert children(proc.pid) == workers and proc.poll() is None
        assert "killed by signal" not in rotated.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        rotated.unlink()
    finally:
        stop(proc)
