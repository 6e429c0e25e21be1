"""Hosts for the tests of several hosts (tests/integration/test_hosts.py,
tests/integration/test_cluster.py; importable as `pd_hosts`).

A "host" here is what a machine of a real deployment runs, as process
groups of this machine with an identity of their own: its own host_id
(POSTDESK_HOST_ID, the lease owner "host:pid"), its own runtime directory
(pid files, metrics_file), its own log files, optionally its own database
server (POSTDESK_DB_*), and the same postdesk.conf and secret.key as every
other host. It may run an API pool (postdesk-api under spawn-fcgi on a TCP
port, as another machine behind nginx's upstream would: stack.sh's
POSTDESK_API_BACKENDS lists it) and a scanner (postdesk-scan --loop, as cron
or the timer would). kill() is the host dying: SIGKILL to every process of
it at once, nothing shut down in order.

Also the mail traffic of these tests: Traffic puts uniquely named messages
into mailboxes at the fake, and ledger_report() says what became of each.
"""
import os
import pwd
import random
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import procs
from pd_helpers import Client, Fake, connect_mailbox, new_agent, new_api_key, new_tenant, unique

ROOT = Path(__file__).resolve().parent.parent


def _postdesk_ids():
    """(uid, gid) of the user postdesk when we are root (the stack then runs
    its programs as postdesk, scripts/stack.sh), else None."""
    if os.geteuid() != 0:
        return None
    pw = pwd.getpwnam("postdesk")
    return pw.pw_uid, pw.pw_gid


def wait_port(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on 127.0.0.1:%d after %d s" % (port, timeout))


class Host:
    """One host of a deployment, on this machine; see the module doc.

    stack: the tests/conftest.py Stack whose postdesk.conf and key it shares.
    name: its host_id. env: more variables (the database it uses).
    """

    def __init__(self, stack, name, env=None):
        self.stack, self.name = stack, name
        self.run = Path("/tmp/pdh-%s-%s" % (name, secrets.token_hex(3)))
        self.run.mkdir(mode=0o711)
        os.chmod(self.run, 0o711)
        self.ids = _postdesk_ids()
        self.api_port = None
        self.env = dict(stack.env, POSTDESK_CONF=stack.conf, POSTDESK_HOST_ID=name,
                        POSTDESK_METRICS_FILE=str(self.run / "metrics"),
                        POSTDESK_SCAN_LEASE_SECONDS=str(LEASE_SECONDS))
        self.env.update(env or {})
        # Its own logs, in the stack's log dir: the sanitizer check at the
        # end of the test reads them with the rest.
        self.logs = {p: stack.log_dir / ("host-%s-%s.log" % (name, p)) for p in ("api", "scan")}
        for f in list(self.logs.values()) + [self.run / "metrics"]:
            f.touch()
            if self.ids:
                os.chown(f, *self.ids)
            os.chmod(f, 0o640)

    # -- programs
    def start_api(self, port, workers=2, env=None):
        """postdesk-api on 127.0.0.1:port under spawn-fcgi, as the stack
        starts its own (as root: the workers run as postdesk), answering
        only nginx's address as docs/scaling.md recommends; env: more
        variables for it."""
        who = ["-u", "postdesk", "-g", "postdesk"] if self.ids else []
        env = {**self.env, "POSTDESK_LOG_FILE": str(self.logs["api"]),
               "FCGI_WEB_SERVER_ADDRS": "127.0.0.1", **(env or {})}
        r = subprocess.run(
            ["spawn-fcgi", "-a", "127.0.0.1", "-p", str(port), "-F", str(workers),
             "-P", str(self.run / "api.pid"), *who, "--",
             "/bin/sh", "-c", 'exec "$0" 2>>"$POSTDESK_LOG_FILE"',
             str(self.stack.bin / "postdesk-api")],
            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, "spawn-fcgi: %s%s" % (r.stdout, r.stderr)
        self.api_port = port
        wait_port(port)

    def start_scanner(self, *args):
        """postdesk-scan --loop in a process group of its own (as root: as
        postdesk, like the stack's scanner)."""
        drop = []
        if self.ids:
            drop = ["setpriv", "--reuid", "postdesk", "--regid", "postdesk", "--init-groups", "--"]
        env = dict(self.env, POSTDESK_LOG_FILE=str(self.logs["scan"]))
        out = open(self.stack.log_dir / ("host-%s-scan.out" % self.name), "ab")
        p = subprocess.Popen(drop + [str(self.stack.bin / "postdesk-scan"), "--loop", *args],
                             env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             start_new_session=True)
        out.close()
        (self.run / "scan.pid").write_text(str(p.pid))
        self.scanner = p
        return p

    # -- its processes
    def groups(self):
        """The process groups of this host (each pid file's pids lead one)."""
        ids = []
        for f in self.run.glob("*.pid"):
            ids += [int(p) for p in f.read_text().split() if p.isdigit()]
        return ids

    def alive(self):
        return procs.live_members(self.groups())

    def _signal(self, sig):
        for g in self.groups():
            try:
                os.killpg(g, sig)
            except ProcessLookupError:
                pass

    def _wait_gone(self, timeout):
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        self._reap()
        return not self.alive()

    def _reap(self):
        p = getattr(self, "scanner", None)
        if p is not None:
            p.poll()

    def kill(self):
        """The host dies: SIGKILL to all its processes at once."""
        self._signal(signal.SIGKILL)
        assert self._wait_gone(10), "host %s: still alive: %s" % (self.name, self.alive())

    def kill_api(self):
        """Only its API pool dies (SIGKILL)."""
        for p in (self.run / "api.pid").read_text().split():
            try:
                os.killpg(int(p), signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        pids = [int(p) for p in (self.run / "api.pid").read_text().split()]
        while procs.live_members(pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not procs.live_members(pids)

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; removes the runtime dir."""
        if not self.run.is_dir():
            return
        self._signal(signal.SIGTERM)
        if not self._wait_gone(10):
            self._signal(signal.SIGKILL)
            self._wait_gone(10)
        for f in self.run.iterdir():
            f.unlink()
        self.run.rmdir()


def fastcgi_get(port, uri, addr="127.0.0.1"):
    """GET uri from a FastCGI responder on addr:port as nginx would ask it
    (a minimal FastCGI client); returns its output (CGI headers and
    body), b"" when it closes the connection without an answer."""
    def record(rtype, content):
        return bytes([1, rtype, 0, 1, len(content) >> 8, len(content) & 255, 0, 0]) + content

    def pair(k, v):
        return bytes([len(k), len(v)]) + k + v
    params = b"".join(pair(k.encode(), v.encode()) for k, v in {
        "REQUEST_METHOD": "GET", "REQUEST_URI": uri, "DOCUMENT_URI": uri.split("?")[0],
        "SCRIPT_NAME": uri.split("?")[0],
        "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1"}.items())
    out = b""
    with socket.create_connection((addr, port), timeout=10) as s:
        s.sendall(record(1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) + record(4, params) + record(4, b"")
                  + record(5, b""))
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
        while len(buf) >= 8:
            rtype, clen, pad = buf[1], (buf[4] << 8) | buf[5], buf[6]
            if rtype == 6:
                out += buf[8:8 + clen]
            buf = buf[8 + clen + pad:]
    return out


# --- mailboxes, nginx and the API ----------------------------------------------

class World:
    """A tenant at the fake with `mailboxes` users, each connected as a
    postdesk mailbox (acknowledgements on); an admin API key client."""

    def __init__(self, stack, fake_server, mailboxes=6):
        self.stack = stack
        self.fake = Fake(fake_server)
        self.fake.ctl("reset")
        admin = Client(stack)
        admin.login(*new_agent(stack, "admin"))
        self.key = Client(stack, {"Authorization": "Bearer " + new_api_key(stack)[1]})
        domain, tenant, app = new_tenant(stack, self.fake, "h")
        self.addresses = {}
        for i in range(mailboxes):
            address = "desk%d@%s" % (i, domain)
            self.fake.ctl("users", {"tenant": tenant, "address": address, "display_name": "D%d" % i})
            self.fake.ctl("signin", {"tenant": tenant, "user": address, "mode": "approve"})
            r = admin.post("/api/mailboxes", json={
                "name": unique("Host"), "client_id": app["client_id"], "tenant_id": tenant,
                "secret": app["secrets"][0]["value"], "first_scan": "all"})
            assert r.status_code == 201, r.text
            mid = r.json()["id"]
            connect_mailbox(stack, admin, mid)
            self.addresses[mid] = address
        self.ids = ",".join(map(str, self.addresses))


def access_log(stack):
    """(method, path, status, upstream) of every request nginx logged."""
    text = (stack.log_dir / "nginx-access.log").read_text()
    return re.findall(r'"(\w+) (\S+) HTTP/[\d.]+" (\d+) .* up=(.*)$', text, re.M)


def kill_stack_api(stack):
    """Host a's API is the stack's own pool: SIGKILL its process groups."""
    groups = [int(p) for p in (stack.run / "api.pid").read_text().split()]
    for g in groups:
        try:
            os.killpg(g, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while procs.live_members(groups) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not procs.live_members(groups)


def in_rotation(stack, client, backend):
    """Wait until backend answers through nginx: one that failed is out of
    the upstream for fail_timeout (10 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert client.get("/api/health").status_code in (200, 503)
        if any(up == backend for _, _, _, up in access_log(stack)[-4:]):
            return
        time.sleep(0.5)
    raise AssertionError("%s does not answer through nginx" % backend)


class Reader:
    """GET path through nginx over and over in a thread; every status kept."""

    def __init__(self, client, path):
        self.client, self.path = client, path
        self.statuses = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.statuses.append(self.client.get(self.path).status_code)
            time.sleep(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join(30)
        return self.statuses


# --- mail traffic ------------------------------------------------------------

class Traffic:
    """Messages into mailboxes at the fake, each with a unique subject and
    sender (the acknowledgement rate limit is per sender).

    fake: pd_helpers.Fake. addresses: {mailbox id: address at the fake}.
    """

    def __init__(self, fake, addresses, tag):
        self.fake, self.addresses, self.tag = fake, addresses, tag
        self.sent = []          # (mailbox id, subject, sender, monotonic time)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.errors = []

    def send(self, mid):
        n = len(self.sent)
        subject = "%s %d %s" % (self.tag, n, secrets.token_hex(3))
        sender = "c%d-%s@customer.example" % (n, secrets.token_hex(2))
        self.fake.ctl("messages", {"mailbox": self.addresses[mid], "subject": subject,
                                   "from": sender, "to": [self.addresses[mid]],
                                   "body_text": "Please help (%s)." % subject})
        with self.lock:
            self.sent.append((mid, subject, sender, time.monotonic()))
        return subject

    def send_all(self):
        """One message into every mailbox."""
        return [self.send(mid) for mid in self.addresses]

    def start(self, every=0.25, seed=None):
        """Keep sending to random mailboxes, one message every `every` s."""
        rnd = random.Random(seed)

        def loop():
            mids = sorted(self.addresses)
            while not self._stop.wait(every):
                try:
                    self.send(rnd.choice(mids))
                except Exception as e:  # noqa: BLE001 - reported by the test
                    self.errors.append(repr(e))
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        assert not self.errors, self.errors


def ledger_report(sql, traffic):
    """What became of every message sent: {subject: (tickets, ledger rows
    that made or updated a ticket, ledger rows in all)}, from the tickets and
    the incoming email log (sql: a function running a query, returning rows)."""
    tag = traffic.tag.replace("'", "")
    # Counted here, not with GROUP BY: grouping TEXT makes MariaDB write a
    # temporary table to disk, for no gain at this size.
    tickets, ledger = {}, {}
    for (subject,) in sql("SELECT subject FROM ticket WHERE subject LIKE '%s %%'" % tag):
        tickets[subject] = tickets.get(subject, 0) + 1
    for subject, outcome in sql("SELECT subject, outcome FROM incoming_email "
                                "WHERE subject LIKE '%s %%'" % tag):
        took, n = ledger.get(subject, (0, 0))
        ledger[subject] = (took + (outcome in ("ticket_created", "ticket_updated")), n + 1)
    return {s: (tickets.get(s, 0),) + ledger.get(s, (0, 0)) for _, s, _, _ in traffic.sent}


def acks_report(fake, traffic):
    """{subject: acknowledgements the fake delivered to its sender}."""
    count = {s: 0 for _, s, _, _ in traffic.sent}
    by_sender = {sender: s for _, s, sender, _ in traffic.sent}
    for e in fake.log("sent_log"):
        for to in e.get("to", []):
            if to in by_sender and by_sender[to] in e.get("subject", ""):
                count[by_sender[to]] += 1
    return count


# --- a scanner host dies ---------------------------------------------------------

LEASE_SECONDS = 20      # the hosts' scan_lease_seconds (90 by default)


class HostDeath:
    """Hosts a and b scan the world's mailboxes while mail arrives; host a
    dies whole (its scanner and its API: the stack's own pool) while it
    holds leases; check() then asserts what docs/scaling.md promises.
    The steps are methods so that tests/integration/test_cluster.py can kill a
    database node between them.

    sql: runs a query on the database (a Galera node in the cluster test).
    remote: host b's API backend as nginx's log names it.
    """

    def __init__(self, stack, world, a, b, remote, sql, tag):
        self.stack, self.world, self.a, self.b = stack, world, a, b
        self.remote, self.sql = remote, sql
        self.traffic = Traffic(world.fake, world.addresses, tag)
        self.orphans, self.after = [], []
        self.t = {}

    def _owners(self, live=False):
        q = ("SELECT id, lease_owner, lease_until FROM mailbox WHERE id IN (%s) "
             "AND lease_owner IS NOT NULL" % self.world.ids)
        if live:
            q += " AND lease_until > UTC_TIMESTAMP(3)"
        return self.sql(q)

    def start(self):
        in_rotation(self.stack, self.world.key, self.remote)
        # Every listing takes 0.7 s: a visit lasts long enough for host a
        # to die holding leases.
        self.world.fake.ctl("faults", {"path": r"/mailFolders/inbox/messages$", "method": "GET",
                                       "delay_ms": 700, "count": None})
        self.a.start_scanner()
        self.b.start_scanner()
        self.traffic.start(every=0.3, seed=13)

    def both_work(self):
        """Each host has held a lease of these mailboxes."""
        owners = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            owners = {o.split(":")[0] for _, o, _ in self._owners()}
            if {"a", "b"} <= owners:
                return
            time.sleep(0.2)
        raise AssertionError("not both hosts scan: %s" % owners)

    def kill_a_holding_leases(self):
        held = []
        deadline = time.monotonic() + 60
        while not held and time.monotonic() < deadline:
            held = [r for r in self._owners(live=True) if r[1].startswith("a:")]
        self.a.kill()
        kill_stack_api(self.stack)
        self.t["killed"] = time.monotonic()
        self.orphans = [(mid, until) for mid, o, until in self._owners(live=True)
                        if o.startswith("a:")]
        assert self.orphans, "host a died holding no lease (held just before: %s)" % held
        # Its claimed sends wait two minutes before they are due again;
        # the test does not sit that out (whoever sends them looks in Sent
        # Items first: docs/sending.md, "A crash mid-send").
        self.sql("UPDATE outgoing_email SET next_attempt_at = UTC_TIMESTAMP() "
                 "WHERE status = 'sending' AND mailbox_id IN (%s)"
                 % ",".join(mid for mid, _ in self.orphans))

    def mail_after_death(self, seconds=10):
        """Mail to the orphaned mailboxes too; the API answers meanwhile
        (through host b's backend: host a's is dead)."""
        self.after += [(mid, until, self.traffic.send(int(mid))) for mid, until in self.orphans]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            r = self.world.key.get("/api/mailboxes")
            assert r.status_code == 200, r.text
            time.sleep(0.2)

    def check(self):
        sql, traffic = self.sql, self.traffic
        # Within the lease time (and a few passes), every mail is one ticket.
        deadline = time.monotonic() + LEASE_SECONDS + 60
        report = {}
        while time.monotonic() < deadline:
            report = ledger_report(sql, traffic)
            if all(t >= 1 for t, _, _ in report.values()):
                break
            time.sleep(1)
        self.t["all_ticketed"] = time.monotonic()
        missing = [s for s, (t, _, _) in report.items() if t == 0]
        assert not missing, "no ticket within the lease time for %s" % missing
        twice = {s: r for s, r in report.items() if r[0] != 1 or r[1] != 1}
        assert not twice, "mail taken more than once: %s" % twice

        # Host b took the orphaned mailboxes over ...
        for mid, _ in self.orphans:
            owner = sql("SELECT lease_owner FROM mailbox WHERE id = %s" % mid)[0][0]
            assert owner.startswith("b:"), (mid, owner)
        # ... and took in the mail sent to them after the death only once
        # host a's lease had run out: a lease of another host is never
        # taken early (the log's times and lease_until are the database's).
        for mid, until, subject in self.after:
            early = sql("SELECT COUNT(*) FROM incoming_email WHERE mailbox_id = %s "
                        "AND subject = '%s' AND created_at < '%s'" % (mid, subject, until))
            assert early == [["0"]], (mid, subject, until)

        # Every acknowledgement sent once.
        acks = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            acks = acks_report(self.world.fake, traffic)
            if all(n >= 1 for n in acks.values()):
                break
            time.sleep(1)
        assert all(n == 1 for n in acks.values()), {s: n for s, n in acks.items() if n != 1}
        # No mailbox left needing reauthorization (or in error).
        assert sql("SELECT id, status FROM mailbox WHERE id IN (%s) AND status <> 'connected'"
                   % self.world.ids) == []

    def figures(self):
        """What happened, for the report (not asserted: times vary)."""
        return ("host death: %d mails to %d mailboxes, %d orphaned leases; every mail "
                "ticketed %.1f s after the kill" % (
                    len(self.traffic.sent), len(self.world.addresses), len(self.orphans),
                    self.t["all_ticketed"] - self.t["killed"]))
