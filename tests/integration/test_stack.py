"""The local stack itself (scripts/stack.sh, nginx/nginx.conf.in): TLS,
the HTTP redirect, security headers, request ids, restarts and recovery
after a crash. Scenarios that stop or kill a stack use their own stack in
their own directory and ports, so the session stack is not disturbed."""
import grp
import os
import re
import signal
import socket
import ssl
import time
from pathlib import Path

import pytest
import requests

from pd_helpers import freshen
from procs import free_ports, live_members

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")


def get(stack, path, **kw):
    kw.setdefault("verify", stack.cacert)
    kw.setdefault("timeout", 20)
    kw.setdefault("allow_redirects", False)
    return requests.get(stack.base + path, **kw)


def assert_security_headers(r):
    h = r.headers
    assert h.get("Content-Security-Policy") == CSP, h
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h.get("X-Content-Type-Options") == "nosniff", h
    assert h.get("Referrer-Policy") == "no-referrer", h
    assert h.get("X-Frame-Options") == "DENY", h
    assert h.get("Strict-Transport-Security") == "max-age=31536000", h
    assert h.get("Cross-Origin-Opener-Policy") == "same-origin", h
    assert "camera=()" in h.get("Permissions-Policy", ""), h
    # Each header exactly once (no duplicate from the programs).
    raw = r.raw.headers
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Request-Id"):
        assert len(raw.getlist(name)) == 1, (name, raw.getlist(name))


def test_health_over_https(stack):
    freshen(stack)  # mailboxes other tests left behind do not decide it
    r = get(stack, "/api/health")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    # ok, or degraded when tests before left mail needing attention
    assert r.json()["status"] == r.json()["health"]
    assert r.json()["status"] in ("ok", "degraded")
    assert r.json()["database"] == "ok"


def test_certificate_is_checked(stack):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(stack.base + "/api/health", verify=True, timeout=10)


def test_http_redirects_to_https(stack):
    r = requests.get(stack.http_base + "/api/health?x=1", allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == stack.base + "/api/health?x=1"
    # HSTS means nothing over plain HTTP (RFC 6797 8.1): only HTTPS sends it.
    assert "Strict-Transport-Security" not in r.headers, r.headers
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    r = requests.post(stack.http_base + "/anything", data=b"x", allow_redirects=False,
                      timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == stack.base + "/anything"


def handshake(stack, ctx):
    """TLS-connect to the stack's HTTPS port with ctx: (version, cipher)."""
    host, port = stack.base.split("//")[1].split(":")
    ctx.load_verify_locations(stack.cacert)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=host) as tls:
            return tls.version(), tls.cipher()[0]


def tls12(ciphers):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
    return ctx


# Every TLS 1.2 suite with CBC (SHA-1 or SHA-2 MACs), ECDHE or static RSA.
CBC = ("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:"
       "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:"
       "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:AES128-SHA:AES256-SHA:"
       "AES128-SHA256:AES256-SHA256")


@pytest.mark.parametrize("ciphers", [CBC, "ECDHE-ECDSA-AES128-SHA", "AES128-GCM-SHA256:AES256-GCM-SHA384"])
def test_tls12_without_ecdhe_aead_is_refused(stack, ciphers):
    """Mozilla's "intermediate" profile: no CBC, no SHA-1, no static RSA."""
    with pytest.raises(ssl.SSLError):
        handshake(stack, tls12(ciphers))


@pytest.mark.parametrize("cipher", ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                    "ECDHE-ECDSA-CHACHA20-POLY1305"])
def test_tls12_ecdhe_aead_works(stack, cipher):
    assert handshake(stack, tls12(cipher)) == ("TLSv1.2", cipher)


def test_tls13_gets_aead(stack):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    version, cipher = handshake(stack, ctx)
    assert version == "TLSv1.3" and ("GCM" in cipher or "CHACHA20" in cipher), cipher


@pytest.mark.parametrize("path", ["/", "/index.html", "/api/health", "/api/no-such-thing",
                                  "/azure/auth"])
def test_security_headers(stack, path):
    assert_security_headers(get(stack, path))


def test_security_headers_on_nginx_errors(stack):
    # Over client_max_body_size (4m, nginx/postdesk-snippet.conf.in): nginx
    # answers itself, still with the headers and as a problem document.
    r = requests.post(stack.base + "/api/session", data=b"x" * (4 * 1024 * 1024 + 1),
                      headers={"Content-Type": "application/json"}, verify=stack.cacert,
                      timeout=20)
    assert r.status_code == 413
    assert_security_headers(r)
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["request_id"] == r.headers["X-Request-Id"]
    assert r.json()["status"] == 413 and r.json()["detail"]


def test_request_id(stack):
    ids = set()
    for path in ("/api/health", "/api/health", "/", "/api/no-such-thing"):
        rid = get(stack, path).headers.get("X-Request-Id", "")
        assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
        ids.add(rid)
    assert len(ids) == 4


def test_static_files_revalidate(stack):
    r = get(stack, "/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers.get("Cache-Control") == "no-cache"
    # Unknown paths fall back to the single-page app.
    r2 = get(stack, "/some/portal/route")
    assert r2.status_code == 200 and r2.text == r.text


def test_stack_files(stack):
    var = Path(stack.var)
    assert (var / "secret.key").stat().st_size == 32
    # Started as root: readable by the group the programs run as
    # (tests/integration/test_unprivileged.py checks the rest).
    assert (var / "secret.key").stat().st_mode & 0o777 == 0o640
    assert (var / "secret.key").stat().st_gid == grp.getgrnam("postdesk").gr_gid
    conf = (var / "postdesk.conf").read_text()
    assert "portal_url = %s\n" % stack.base in conf
    # stderr: the stack gives each program its own log (not the install's default)
    assert re.findall(r"^log_file.*$", conf, re.M) == ["log_file ="]
    assert len(str(stack.run) + "/mysql.sock") < 100


def test_database_charset(stack):
    rows = stack.sql("SELECT @@character_set_server, DEFAULT_CHARACTER_SET_NAME, "
                     "DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
                     "WHERE SCHEMA_NAME = 'postdesk'")
    assert rows == [["utf8mb4", "utf8mb4", "utf8mb4_unicode_ci"]]


# --- scenarios on a stack of their own ---------------------------------------

def healthy(s):
    r = requests.get(s.base + "/api/health", verify=s.cacert, timeout=10)
    return r.status_code == 200


def test_restart_keeps_data_and_follows_port(new_stack):
    s = new_stack()
    s.start()
    assert "password:" in s.start_output  # first start: the admin password
    assert healthy(s)
    s.admin("create-agent", "keeper", "--role", "agent", input="keeper-password-1\n")
    r = s._stack_sh("start")  # already running: a no-op
    assert r.returncode == 0 and "already running" in r.stdout, r.stdout + r.stderr
    assert s.stop().returncode == 0
    assert not live_members(s.pgroups())
    # Restart on other ports: same data, portal_url follows the port.
    s.set_ports(*free_ports(2))
    s.start()
    assert "password:" not in s.start_output
    assert "reset-password admin" in s.start_output
    assert healthy(s)
    assert ["keeper"] in s.sql("SELECT username FROM agent")
    assert "portal_url = %s\n" % s.base in Path(s.conf).read_text()
    sess = s.session()
    sess.login("keeper", "keeper-password-1")


def test_recovers_after_kill_9(new_stack):
    s = new_stack()
    s.start()
    old = s.pgroups()
    assert len(old) >= 4  # mariadbd, api, oauth, nginx
    # kill -9 every leader; nginx's workers live on as orphans.
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert live_members(old), "expected orphaned nginx workers"
    t0 = time.monotonic()
    s.start()
    took = time.monotonic() - t0
    assert healthy(s)
    assert not live_members(old), "orphans of the killed stack survived"
    assert took < 30, took
    assert s.stop().returncode == 0
    assert not live_members(s.pgroups() + old)
    # Stopping a stopped stack is fine too.
    r = s.stop()
    assert r.returncode == 0 and "not running" in r.stdout


def test_port_in_use_is_refused(new_stack):
    s = new_stack()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", s.https_port))
    blocker.listen(1)
    try:
        r = s._stack_sh("start")
    finally:
        blocker.close()
    assert r.returncode != 0
    assert "port %d" % s.https_port in r.stderr and "already in use" in r.stderr, r.stderr
    assert not Path(s.run, "mariadb.pid").exists()


def test_login_flood_is_limited_by_nginx(new_stack):
    """nginx's coarse guard: POST /api/session beyond 10/s (burst 20) per
    address gets 429 as a problem document; other requests are not limited.
    (Own stack: the limit would slow down logins of the other tests.)"""
    s = new_stack()
    s.start()
    sess = s.session()
    codes = []
    for i in range(40):
        r = sess.post("/api/session", json={"username": "flood%d" % i, "password": "x" * 12})
        codes.append(r.status_code)
        if r.status_code == 429 and "rate-limited" in r.text:
            assert r.headers["Content-Type"] == "application/problem+json"
            assert r.json()["request_id"] == r.headers["X-Request-Id"]
            assert_security_headers(r)
            break
    else:
        pytest.fail("no 429 from nginx after 40 logins: %s" % codes)
    assert all(sess.get("/api/health").status_code == 200 for _ in range(30))
