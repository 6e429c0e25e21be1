"""`make install` as a Debian admin runs it, tested in a temporary root.

`make install DESTDIR=… PREFIX=/usr` fills a temporary root: every file at
its place with its mode, no placeholder left, and every path the rendered
files name (nginx snippet, configuration example, cron line, tmpfiles
entry) exists in that root. Then the installed layout runs end to end in a
private mount namespace (unshare), so nothing of the host's /usr, /etc,
/var/log or /run changes: the root's /usr and /etc are the lower layers of
overlays on the real ones (writes go to the test's directory), /var/log and
/run are tmpfs. In it `make install PREFIX=/usr` runs as the README says
(it sets up the user postdesk, postdesk.conf, secret.key, the log and run
directories; run twice, it keeps the configuration and key), a private
MariaDB is migrated by the installed postdesk-admin through the compiled-in
defaults, the installed FastCGI programs run under spawn-fcgi as user
postdesk with the README's options, a test nginx includes the installed
snippet, and an admin signs in, creates a mailbox, connects it at the fake
Microsoft cloud (tests/fakes/) and the cron line, run as cron would, scans
it into a ticket. Everything is stopped at the end, even on failure: every
process of the namespace, then MariaDB.
"""
import hashlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from pd_helpers import Client, Fake, connect_mailbox, new_tenant, unique

ROOT = Path(__file__).resolve().parent.parent.parent
PREFIX = "/usr"
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
PLACEHOLDER = re.compile(r"@[A-Z_]+@")
# Mode of every installed file and directory (the portal is checked apart).
FILES = {
    "usr/bin/postdesk-admin": 0o755, "usr/bin/postdesk-scan": 0o755,
    "usr/bin/postdesk-backup": 0o755, "usr/bin/postdesk-restore": 0o755,
    "usr/lib/postdesk/postdesk-api": 0o755, "usr/lib/postdesk/postdesk-oauth": 0o755,
    "etc/postdesk/postdesk.conf.example": 0o644, "etc/cron.d/postdesk": 0o644,
    "etc/nginx/snippets/postdesk.conf": 0o644, "etc/nginx/snippets/postdesk-headers.conf": 0o644,
    "etc/nginx/conf.d/postdesk-upstream.conf": 0o644,
    "usr/lib/tmpfiles.d/postdesk.conf": 0o644, "var/log/postdesk": 0o750,
    "etc/logrotate.d/postdesk": 0o644,
}


def clean_env(**extra):
    """An environment without the caller's make or postdesk settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POSTDESK_", "MAKE", "MFLAGS", "DESTDIR"))}
    env.update(extra)
    return env


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, **kw)
    assert r.returncode == 0, "%s: exit %d\n%s\n%s" % (cmd, r.returncode, r.stdout, r.stderr)
    return r


class Installed:
    """The temporary root, the namespace and the services in it."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.root = tmp / "root"
        self.holder = None
        self.mariadb = None
        self.ns = None

    # -- the namespace
    def enter(self):
        """Start the namespace: overlays and tmpfs, then a process that holds it."""
        for d in ("usr.up", "usr.work", "etc.up", "etc.work"):
            (self.tmp / d).mkdir()
        t, r = self.tmp, self.root
        script = ("set -e\n"
                  "mount -t overlay overlay -o lowerdir={r}/usr:/usr,upperdir={t}/usr.up,"
                  "workdir={t}/usr.work /usr\n"
                  "mount -t overlay overlay -o lowerdir={r}/etc:/etc,upperdir={t}/etc.up,"
                  "workdir={t}/etc.work /etc\n"
                  "mount -t tmpfs -o mode=0755 tmpfs /var/log\n"
                  "mount -t tmpfs -o mode=0755 tmpfs /run\n"
                  "touch {t}/ready\n"
                  "exec sleep infinity\n").format(r=r, t=t)
        self.holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                        "sh", "-c", script], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       start_new_session=True)
        deadline = time.monotonic() + 20
        while not (t / "ready").exists():
            if self.holder.poll() is not None:
                raise AssertionError("unshare failed: %s" % self.holder.stderr.read().decode())
            assert time.monotonic() < deadline, "the namespace did not come up"
            time.sleep(0.05)
        self.ns = os.readlink("/proc/%d/ns/mnt" % self.holder.pid)
        assert self.ns != os.readlink("/proc/self/ns/mnt")

    def ns_run(self, *cmd, check=True, env=None, **kw):
        """Run cmd inside the namespace, as root, with a clean environment."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 300)
        r = subprocess.run(["nsenter", "-t", str(self.holder.pid), "-m", "--", *cmd],
                           env=env or clean_env(PATH=PATH), stdin=subprocess.DEVNULL,
                           cwd="/", **kw)
        if check and r.returncode != 0:
            # With log_file set, a program's own errors are in its log.
            log = subprocess.run(["nsenter", "-t", str(self.holder.pid), "-m", "--", "tail",
                                  "-n", "20", "/var/log/postdesk/postdesk.log"],
                                 capture_output=True, text=True).stdout
            raise AssertionError("%s: exit %d\n%s\n%s\nlog:\n%s"
                                 % (cmd, r.returncode, r.stdout, r.stderr, log))
        return r

    def ns_stat(self, path):
        """(mode, owner, group, size) of path inside the namespace."""
        out = self.ns_run("stat", "-c", "%a %U %G %s", path).stdout.split()
        return int(out[0], 8), out[1], out[2], int(out[3])

    def ns_read(self, path):
        return self.ns_run("cat", path).stdout

    def ns_pids(self):
        pids = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    if os.readlink(p / "ns" / "mnt") == self.ns:
                        pids.append(int(p.name))
                except OSError:
                    pass
        return pids

    # -- MariaDB, on the host (its socket is in the test's directory)
    def start_mariadb(self):
        t = self.tmp
        run(["mariadb-install-db", "--no-defaults", "--datadir=%s/db" % t, "--user=root",
             "--auth-root-authentication-method=socket", "--skip-test-db",
             "--innodb-log-file-size=16M"], timeout=180)
        self.db_sock = "%s/db.sock" % t
        self.mariadb = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--datadir=%s/db" % t, "--socket=" + self.db_sock,
             "--pid-file=%s/mariadb.pid" % t, "--log-error=%s/mariadb.err" % t, "--user=root",
             "--skip-networking", "--skip-name-resolve", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_unicode_ci", "--innodb-log-file-size=16M",
             "--innodb-buffer-pool-size=64M", "--max-allowed-packet=256M"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while subprocess.run(["mariadb-admin", "--no-defaults", "--socket=" + self.db_sock,
                              "ping"], capture_output=True).returncode != 0:
            assert self.mariadb.poll() is None, (t / "mariadb.err").read_text()
            assert time.monotonic() < deadline, "mariadbd did not answer"
            time.sleep(0.1)

    def sql(self, query, db="postdesk"):
        r = run(["mariadb", "--no-defaults", "--socket=" + self.db_sock, "-uroot", "-N", "-B",
                 *([db] if db else []), "-e", query])
        return [line.split("\t") for line in r.stdout.splitlines()]

    # -- the end
    def stop(self):
        """Every process of the namespace, the holder last; then MariaDB."""
        if self.ns:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                pids = [p for p in self.ns_pids() if p != self.holder.pid]
                for p in pids:
                    try:
                        os.kill(p, sig)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + wait
                while [p for p in self.ns_pids() if p != self.holder.pid] and \
                        time.monotonic() < deadline:
                    time.sleep(0.1)
        if self.holder and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait(10)
        if self.mariadb and self.mariadb.poll() is None:
            self.mariadb.terminate()
            try:
                self.mariadb.wait(30)
            except subprocess.TimeoutExpired:
                self.mariadb.kill()
                self.mariadb.wait(10)


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def inst(fake_server):
    tmp = Path(tempfile.mkdtemp(prefix="pdi-", dir="/tmp"))
    # nginx's workers (www-data) make their temp files below it.
    os.chmod(tmp, 0o755)
    i = Installed(tmp)
    try:
        run(["make", "-C", str(ROOT), "--no-print-directory", "install",
             "DESTDIR=%s" % i.root, "PREFIX=" + PREFIX], env=clean_env(), timeout=900)
        # As the README tells the admin (and make install would do).
        if subprocess.run(["getent", "passwd", "postdesk"], capture_output=True).returncode:
            run(["adduser", "--system", "--group", "--home", "/nonexistent",
                 "--no-create-home", "postdesk"])
        i.enter()
        start(i, fake_server)
        yield i
    finally:
        i.stop()
        if os.environ.get("POSTDESK_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)


def start(i, fake_server):
    """The README's "Production install", in the namespace."""
    make = ["make", "-C", str(ROOT), "--no-print-directory", "install", "PREFIX=" + PREFIX]
    i.first_install = i.ns_run(*make, env=clean_env(PATH=PATH)).stdout
    conf = "/etc/postdesk/postdesk.conf"
    i.mode_after_install = {p: i.ns_stat(p) for p in (conf, "/etc/postdesk/secret.key")}
    # The admin's edits, then make install again: they stay.
    i.port = _free_port()
    i.base = "https://localhost:%d" % i.port
    pw = secrets.token_hex(16)
    text = i.ns_read(conf)
    for key, value in (("portal_url", i.base), ("db_socket", "%s/db.sock" % i.tmp),
                       ("db_password", pw), ("login_url", fake_server.url),
                       ("graph_url", fake_server.url), ("scan_seconds", "1")):
        text, n = re.subn(r"(?m)^%s =.*$" % key, "%s = %s" % (key, value), text)
        assert n == 1, key
    (i.tmp / "conf.new").write_text(text)
    # cp onto the existing file keeps its owner and mode, as an editor does.
    i.ns_run("cp", str(i.tmp / "conf.new"), conf)
    i.key_before = i.ns_run("sha256sum", "/etc/postdesk/secret.key").stdout.split()[0]
    i.conf_before = digest(text)
    i.second_install = i.ns_run(*make, env=clean_env(PATH=PATH)).stdout

    i.start_mariadb()
    i.sql("CREATE DATABASE postdesk CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
          "CREATE USER postdesk@localhost IDENTIFIED BY '%s';"
          "GRANT ALL ON postdesk.* TO postdesk@localhost;" % pw, db=None)
    # As root, like the README's commands; the defaults find the
    # configuration and sql_dir.
    i.migrate = i.ns_run("postdesk-admin", "migrate")
    out = i.ns_run("postdesk-admin", "bootstrap-admin").stdout
    i.admin_password = re.search(r"password=(\S+)", out)[1]

    for svc in ("api", "oauth"):
        i.ns_run("spawn-fcgi", "-s", "/run/postdesk/%s.sock" % svc, "-M", "0660",
                 "-u", "postdesk", "-g", "postdesk", "-U", "postdesk", "-G", "www-data",
                 "-F", "2", "-P", "%s/%s.pid" % (i.tmp, svc), "--",
                 "/usr/lib/postdesk/postdesk-%s" % svc)
    nginx(i)
    deadline = time.monotonic() + 20
    while True:
        try:
            r = requests.get(i.base + "/api/health", verify=i.cacert, timeout=5)
            if r.status_code in (200, 503) and r.json().get("database") == "ok":
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "no answer from %s:\n%s" % (
            i.base, i.ns_read("/var/log/postdesk/postdesk.log")[-3000:])
        time.sleep(0.2)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx(i):
    """A test nginx whose server block includes the installed snippet."""
    t = i.tmp
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost", "-keyout", str(t / "tls.key"), "-out", str(t / "tls.pem")])
    i.cacert = str(t / "tls.pem")
    temp = "".join("    %s_temp_path %s/ngx/%s;\n" % (d, t, d)
                   for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (t / "ngx").mkdir()
    (t / "nginx.conf").write_text(
        "user www-data;\nworker_processes 1;\npid %(t)s/nginx.pid;\n"
        "error_log %(t)s/nginx-error.log;\nevents {}\nhttp {\n"
        "    include /etc/nginx/mime.types;\n%(temp)s"
        "    access_log %(t)s/nginx-access.log;\n"
        "    include /etc/nginx/conf.d/postdesk-upstream.conf;\n"
        "    server {\n        listen 127.0.0.1:%(port)d ssl;\n        server_name localhost;\n"
        "        ssl_certificate %(t)s/tls.pem;\n        ssl_certificate_key %(t)s/tls.key;\n"
        "        include /etc/nginx/snippets/postdesk.conf;\n    }\n}\n"
        % {"t": t, "temp": temp, "port": i.port})
    i.ns_run("nginx", "-p", "%s/ngx" % t, "-c", str(t / "nginx.conf"),
             "-e", str(t / "nginx-error.log"))


# --- the temporary root ------------------------------------------------------

def test_every_file_at_its_place(inst):
    root = inst.root
    for rel, mode in FILES.items():
        p = root / rel
        assert p.exists(), rel
        assert stat.S_IMODE(p.stat().st_mode) == mode, (rel, oct(p.stat().st_mode))
    sql = sorted(p.name for p in (ROOT / "sql").glob("*.sql"))
    assert sorted(p.name for p in (root / "usr/share/postdesk/sql").iterdir()) == sql
    for name in sql:
        p = root / "usr/share/postdesk/sql" / name
        assert p.read_bytes() == (ROOT / "sql" / name).read_bytes()
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
    portal = root / "usr/share/postdesk/portal"
    want = sorted(str(p.relative_to(ROOT / "nginx/portal"))
                  for p in (ROOT / "nginx/portal").rglob("*") if p.is_file())
    got = sorted(str(p.relative_to(portal)) for p in portal.rglob("*") if p.is_file())
    assert got == want and "index.html" in got
    for p in portal.rglob("*"):
        assert p.stat().st_mode & 0o005 == (0o005 if p.is_dir() else 0o004), p
    # Made on the machine, not in a package's root: the configuration, the
    # key (secrets), the runtime directory (a tmpfs).
    for rel in ("etc/postdesk/postdesk.conf", "etc/postdesk/secret.key", "run"):
        assert not (root / rel).exists(), rel


def rendered(inst):
    return {rel: (inst.root / rel).read_text() for rel in FILES
            if (inst.root / rel).is_file() and not rel.startswith(("usr/bin", "usr/lib/postdesk"))}


def test_no_placeholder_left(inst):
    for rel, text in rendered(inst).items():
        # "@NAME@" is how the snippet's own comment names its placeholders.
        left = PLACEHOLDER.findall(text.replace("@NAME@", ""))
        assert not left, (rel, left)


def exists_in_root(inst, path):
    return (inst.root / path.lstrip("/")).exists()


def test_the_rendered_files_name_installed_paths(inst):
    snippet = (inst.root / "etc/nginx/snippets/postdesk.conf").read_text()
    directives = "\n".join(line for line in snippet.splitlines()
                           if not line.lstrip().startswith("#"))
    roots = re.findall(r"^\s*root (\S+);", directives, re.M)
    includes = re.findall(r"^\s*include (\S+);", directives, re.M)
    upstreams = (inst.root / "etc/nginx/conf.d/postdesk-upstream.conf").read_text()
    sockets = set(re.findall(r"^\s*server unix:(\S+) ", upstreams, re.M))
    assert roots == ["/usr/share/postdesk/portal"] and exists_in_root(inst, roots[0] + "/index.html")
    assert includes and all(exists_in_root(inst, p) for p in includes), includes
    assert sockets == {"/run/postdesk/api.sock", "/run/postdesk/oauth.sock"}
    # The runtime directory is the tmpfiles entry's (made at boot).
    tmpfiles = (inst.root / "usr/lib/tmpfiles.d/postdesk.conf").read_text()
    assert re.search(r"(?m)^d /run/postdesk 0750 postdesk www-data -$", tmpfiles), tmpfiles

    conf = dict(re.findall(r"(?m)^(\w+) = (.*)$",
                           (inst.root / "etc/postdesk/postdesk.conf.example").read_text()))
    assert conf["key_file"] == "/etc/postdesk/secret.key"
    assert conf["sql_dir"] == "/usr/share/postdesk/sql"
    assert conf["log_file"] == "/var/log/postdesk/postdesk.log"
    assert exists_in_root(inst, conf["sql_dir"] + "/0001_core.sql")
    for key in ("key_file", "log_file"):
        assert exists_in_root(inst, os.path.dirname(conf[key])), key

    cron = (inst.root / "etc/cron.d/postdesk").read_text()
    env, jobs = cron_lines(cron)
    assert env == {"POSTDESK_CONF": "/etc/postdesk/postdesk.conf"}
    assert exists_in_root(inst, os.path.dirname(env["POSTDESK_CONF"]))
    assert len(jobs) == 1 and jobs[0][0] == "postdesk", jobs
    # The program: the command's last word before its output (the guards
    # before it are packaging/postdesk.cron.in's, for the systemd timer).
    prog = jobs[0][1].split(" >>")[0].split()[-1]
    assert prog == "/usr/bin/postdesk-scan" and exists_in_root(inst, prog)
    # Its output goes to the log directory, not to root's mail.
    assert re.search(r">>\s*/var/log/postdesk/\S+\.log 2>&1$", jobs[0][1]), jobs[0][1]


def test_compiled_in_defaults_are_the_install_paths(inst):
    binary = (inst.root / "usr/bin/postdesk-admin").read_bytes()
    for path in ("/etc/postdesk/postdesk.conf", "/etc/postdesk/secret.key",
                 "/usr/share/postdesk/sql", "/var/log/postdesk/postdesk.log"):
        assert path.encode() + b"\0" in binary, path
    assert b"/usr/local/share/postdesk" not in binary
    r = run([str(inst.root / "usr/bin/postdesk-admin"), "--help"], env=clean_env())
    assert "(default /etc/postdesk/postdesk.conf)" in r.stdout


def cron_lines(text):
    """({NAME: value}, [(user, command)]) of a cron.d file."""
    env, jobs = {}, []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.fullmatch(r"([A-Z_]+)=(.*)", line)
        if m:
            env[m[1]] = m[2]
            continue
        fields = line.split(None, 6)
        assert len(fields) == 7, line
        jobs.append((fields[5], fields[6]))
    return env, jobs


# --- the machine, after make install without DESTDIR ---------------------------

def test_install_sets_up_the_machine(inst):
    conf, key = "/etc/postdesk/postdesk.conf", "/etc/postdesk/secret.key"
    assert inst.mode_after_install[conf][:3] == (0o640, "root", "postdesk")
    assert inst.mode_after_install[key] == (0o640, "root", "postdesk", 32)
    assert inst.ns_stat("/var/log/postdesk")[:3] == (0o750, "postdesk", "adm")
    assert inst.ns_stat("/run/postdesk")[:3] == (0o750, "postdesk", "www-data")
    # The log file stays the workers' though root ran postdesk-admin first.
    assert inst.ns_stat("/var/log/postdesk/postdesk.log")[:3] == (0o640, "postdesk", "adm")


def test_a_second_install_keeps_the_configuration_and_key(inst):
    conf, key = "/etc/postdesk/postdesk.conf", "/etc/postdesk/secret.key"
    assert digest(inst.ns_read(conf)) == inst.conf_before
    assert inst.ns_run("sha256sum", key).stdout.split()[0] == inst.key_before
    assert inst.ns_stat(conf)[:3] == (0o640, "root", "postdesk")
    assert inst.ns_stat(key) == (0o640, "root", "postdesk", 32)
    assert "install-system: created" not in inst.second_install, inst.second_install
    assert "install-system: created %s" % key in inst.first_install, inst.first_install


# --- the installed layout at work ---------------------------------------------

def proc_ids(pid):
    status = Path("/proc/%d/status" % pid).read_text()
    uid = re.search(r"(?m)^Uid:\s+(\d+)", status)[1]
    gid = re.search(r"(?m)^Gid:\s+(\d+)", status)[1]
    return int(uid), int(gid)


def test_workers_run_as_postdesk_behind_group_sockets(inst):
    pw = pwd.getpwnam("postdesk")
    for svc in ("api", "oauth"):
        pids = [int(p) for p in (inst.tmp / ("%s.pid" % svc)).read_text().split()]
        assert len(pids) == 2, pids
        for pid in pids:
            assert proc_ids(pid) == (pw.pw_uid, pw.pw_gid), (svc, pid)
            assert os.readlink("/proc/%d/exe" % pid) == "/usr/lib/postdesk/postdesk-%s" % svc
        assert inst.ns_stat("/run/postdesk/%s.sock" % svc)[:3] == (0o660, "postdesk", "www-data")


def test_sign_in_connect_and_scan_end_to_end(inst, fake_server):
    class Where:  # what pd_helpers' Client and connect_mailbox need of a stack
        base, cacert, sql = inst.base, inst.cacert, staticmethod(inst.sql)
    stack = Where()
    admin = Client(stack)
    admin.login("admin", inst.admin_password)
    assert admin.get("/").status_code == 200  # the portal, from DATADIR/portal
    fake = Fake(fake_server)
    domain, tenant, app = new_tenant(stack, fake, "inst")
    address = "desk@" + domain
    fake.ctl("users", {"tenant": tenant, "address": address, "display_name": "Desk"})
    fake.ctl("signin", {"tenant": tenant, "user": address, "mode": "approve"})
    r = admin.post("/api/mailboxes", json={
        "name": unique("Installed"), "client_id": app["client_id"], "tenant_id": tenant,
        "secret": app["secrets"][0]["value"], "first_scan": "all", "ack_enabled": False})
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    connect_mailbox(stack, admin, mid)
    subject = unique("installed")
    fake.ctl("messages", {"mailbox": address, "subject": subject, "from": "eve@example.org",
                          "to": [address], "body_text": "Hello"})

    # The installed cron line, run as cron runs it: its user, its variables.
    env, jobs = cron_lines(inst.ns_read("/etc/cron.d/postdesk"))
    (user, command), = jobs
    inst.ns_run("setpriv", "--reuid", user, "--regid", user, "--init-groups",
                "env", "-i", "PATH=" + PATH, "HOME=/", "SHELL=/bin/sh", "LOGNAME=" + user,
                *["%s=%s" % kv for kv in env.items()], "/bin/sh", "-c", command, timeout=120)

    r = admin.get("/api/tickets?mailbox=%d" % mid)
    assert r.status_code == 200, r.text
    assert [t["subject"] for t in r.json()["items"]] == [subject], r.text
    assert inst.ns_stat("/var/log/postdesk/postdesk-scan.log")[1] == "postdesk"
    summary = inst.ns_read("/var/log/postdesk/postdesk-scan.log")
    assert re.search(r"mailbox %d: found 1, ticketed 1" % mid, summary), summary
    log = inst.ns_read("/var/log/postdesk/postdesk.log")
    for prog in ("postdesk-api", "postdesk-oauth"):
        assert re.search(r"(?m)^\S+ %s\[\d+\]: " % prog, log), (prog, log[-3000:])


def test_admin_errors_reach_the_terminal(inst):
    """The installed configuration logs to a file; postdesk-admin run from
    a terminal (the README's commands) still says there what went wrong,
    and run without one (scripts, cron) writes it to the log."""
    cmd = ["nsenter", "-t", str(inst.holder.pid), "-m", "--", "env", "-i", "PATH=" + PATH,
           "POSTDESK_DB_PASSWORD=wrong", "postdesk-admin", "list-api-keys"]
    master, slave = os.openpty()
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=slave, timeout=60)
        os.close(slave)
        slave = None
        said = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            said += chunk
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    assert r.returncode == 1, (r.returncode, said)
    assert b"postdesk-admin" in said and b"denied" in said.lower(), said
    before = inst.ns_read("/var/log/postdesk/postdesk.log")
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and r.stderr == "", r.stderr
    new = inst.ns_read("/var/log/postdesk/postdesk.log")[len(before):]
    assert re.search(r"postdesk-admin(\[\d+\])?: .*denied", new, re.I), new


def test_a_plain_make_builds_the_default_paths_again(inst):
    """Last: make install PREFIX=/usr left build/ with /usr paths."""
    run(["make", "-C", str(ROOT), "--no-print-directory", "all"], env=clean_env(), timeout=900)
    binary = (ROOT / "build" / "postdesk-admin").read_bytes()
    assert b"/usr/local/share/postdesk/sql\0" in binary
    assert b"/usr/share/postdesk/sql\0" not in binary
