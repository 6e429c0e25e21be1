"""make demo (scripts/demo.sh): the stack against the fake Microsoft cloud,
a mailbox connected through the fake's sign-in, mail arriving by itself.

Runs scripts/demo.sh as a newcomer would (its own state directory, runtime
directory and ports; a fast feeder), reads the admin login it prints, and
checks through the API that the mailbox is connected and mail becomes
tickets, replies and attachments included; that the out-of-office replies
are marked automatic and not acknowledged; that Ctrl-C (SIGINT) stops every
process it started; that a second run reuses the state and connects the
mailbox again (the fake forgot everything); and that a run after a kill -9
clears what the killed one left running."""
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from procs import free_ports, processes

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO = ROOT / "scripts" / "demo.sh"
AWAY = "jonas.berg@fabrikam.example"  # scripts/demo_feed.py: out of office
OOO = "lucas.martin@woodgrove.example"  # scripts/demo_feed.py: auto-reply, no tag
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")


def descendants(root):
    """root and every process below it."""
    kids = {}
    for p in processes():
        kids.setdefault(p.ppid, []).append(p.pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def live(pids, pgroups):
    """Live (non-zombie) processes among pids or in these process groups."""
    return [p.pid for p in processes() if p.state != "Z" and (p.pid in pids or p.pgrp in pgroups)]


class Demo:
    """One scripts/demo.sh run in the foreground of its own session."""

    def __init__(self, tmp, run, ports):
        self.var = tmp / "var"
        self.run = run
        self.base = "https://localhost:%d" % ports[0]
        self.out_file = tmp / ("demo-%s.out" % secrets.token_hex(3))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("POSTDESK_") or k == "POSTDESK_BIN"}
        env.update(POSTDESK_VAR=str(self.var), POSTDESK_RUN=run,
                   POSTDESK_HTTPS_PORT=str(ports[0]), POSTDESK_HTTP_PORT=str(ports[1]),
                   POSTDESK_WORKERS="2", POSTDESK_DEMO_INTERVAL="0.5",
                   POSTDESK_SCAN_INTERVAL="1")
        # A terminal's Ctrl-C: SIGINT must not arrive ignored (as it does
        # in a background job of a script), or the script cannot trap it.
        self.proc = subprocess.Popen(
            [str(DEMO)], env=env, stdin=subprocess.DEVNULL, stdout=open(self.out_file, "w"),
            stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.http = requests.Session()

    def output(self):
        return self.out_file.read_text(errors="replace")

    def wait_for(self, what, check, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "demo.sh exited (%s) waiting for %s:\n%s" % (
                self.proc.returncode, what, self.output())
            got = check()
            if got:
                return got
            time.sleep(0.5)
        raise AssertionError("no %s within %d s; demo output:\n%s" % (what, timeout, self.output()))

    def banner(self):
        return re.search(r"login:\s+admin / (\S+)", self.output())

    def login(self, password):
        r = self.http.post(self.base + "/api/session", json={"username": "admin", "password": password},
                           verify=str(self.var / "tls" / "cert.pem"), timeout=30)
        assert r.status_code == 200, r.text
        self.http.headers["X-CSRF-Token"] = r.json()["csrf_token"]

    def get(self, path):
        r = self.http.get(self.base + path, verify=str(self.var / "tls" / "cert.pem"), timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def mailbox(self):
        return next(m for m in self.get("/api/mailboxes")["items"] if m["name"] == "Demo Support")

    def processes(self):
        """(pids below demo.sh, process groups of the stack's daemons)."""
        groups = []
        for f in Path(self.run).glob("*.pid"):
            groups += [int(p) for p in f.read_text().split() if p.isdigit()]
        return descendants(self.proc.pid), groups

    def interrupt(self):
        """Ctrl-C; returns demo.sh's exit status."""
        os.kill(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=90)

    def kill(self):
        """After a failure: demo.sh's session (the fake, the feeder), then the stack."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        subprocess.run([str(ROOT / "scripts" / "stack.sh"), "stop"], timeout=60,
                       capture_output=True,
                       env=dict(os.environ, POSTDESK_VAR=str(self.var), POSTDESK_RUN=self.run))


def stops_cleanly(demo):
    pids, groups = demo.processes()
    assert len(pids) >= 3, pids  # demo.sh, the fake, the feeder
    assert len(groups) >= 5, groups  # mariadb, api, oauth, nginx, scanner
    assert demo.interrupt() == 0, demo.output()
    deadline = time.monotonic() + 10
    while live(pids, groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not live(pids, groups), (live(pids, groups), demo.output())
    assert "demo: stopped" in demo.output()


def no_sanitizer_reports(var):
    for p in (var / "log").rglob("*"):
        if p.is_file():
            text = p.read_text(errors="replace")
            assert not any(m in text for m in SANITIZER_MARKERS), (p, text[-5000:])


def test_demo_runs_stops_and_runs_again():
    # Not pytest's tmp_path: its parents are 0700, and a stack started as
    # root runs its programs as another user, who must pass through (the
    # same mode as tests/conftest.py's stacks).
    tmp_path = Path(tempfile.mkdtemp(prefix="pd-test-demo-"))
    os.chmod(tmp_path, 0o711)
    run = "/tmp/pdt-demo-" + secrets.token_hex(3)
    made = []

    def start():
        made.append(Demo(tmp_path, run, free_ports(2)))
        return made[-1]

    demo = start()
    try:
        password = first_run(demo)
        stops_cleanly(demo)
        demo = start()
        second_run(demo, password)
        # kill -9 of demo.sh alone: the next run clears what it left.
        pids, groups = demo.processes()
        os.kill(demo.proc.pid, signal.SIGKILL)
        demo.proc.wait(timeout=10)
        assert live(pids, groups)
        demo = start()
        demo.wait_for("banner", demo.banner)
        assert not live(pids, groups), live(pids, groups)
        demo.login(password)
        demo.wait_for("the mailbox connected", lambda: demo.mailbox()["status"] == "connected")
        stops_cleanly(demo)
    except BaseException:
        for d in made:
            d.kill()
        shutil.rmtree(tmp_path / "var" / "db", ignore_errors=True)
        print("demo test: logs kept in %s" % tmp_path)
        raise
    no_sanitizer_reports(demo.var)
    shutil.rmtree(tmp_path)


def first_run(demo):
    m = demo.wait_for("banner", demo.banner)
    out = demo.output()
    assert "FAKE Microsoft cloud" in out and demo.base + "/" in out, out
    demo.login(m.group(1))
    assert demo.mailbox()["status"] == "connected"
    mid = demo.mailbox()["id"]

    def incoming():
        return demo.get("/api/incoming-emails?limit=200&mailbox=%d" % mid)["items"]

    def everything_seen():
        rows = incoming()
        tickets = demo.get("/api/tickets?limit=200&mailbox=%d" % mid)["items"]
        replies = [r for r in rows if r["subject"].startswith("RE: [#")
                   and r["outcome"] == "ticket_updated"]
        ooo = [r for r in rows if r["from"]["address"] == OOO]
        away = [r for r in rows if r["from"]["address"] == AWAY and r["automatic"]]
        if len(tickets) >= 3 and replies and ooo and away:
            return rows, tickets
        return None

    rows, tickets = demo.wait_for("3 tickets, a reply, both kinds of auto-reply", everything_seen)
    assert demo.mailbox()["status"] == "connected"
    # An auto-reply without the ticket tag opens a ticket but is not
    # acknowledged: without the loop protection it would be.
    outgoing = demo.get("/api/outgoing-emails?limit=200&mailbox=%d" % mid)["items"]
    ooo = [r for r in rows if r["from"]["address"] == OOO]
    for r in ooo:
        assert r["automatic"], r
        assert r["outcome"] == "ticket_created" and r["ack"].startswith("suppressed: automatic"), r
    assert not [o for o in outgoing if o["to"] == OOO], outgoing
    # Jonas's out-of-office answers the acknowledgement of his mail; it is
    # marked automatic and makes nothing go out.
    for r in rows:
        if r["from"]["address"] == AWAY and r["automatic"]:
            assert r["ack"] is None or r["ack"].startswith("suppressed"), r
    # Ordinary mail is acknowledged, so the check above means something.
    assert [o for o in outgoing if o["kind"] == "ack" and o["to"] not in (OOO,)], outgoing
    # The feeder's attachments arrive on the tickets.
    files = []
    for t in tickets[:30]:
        for a in demo.get("/api/tickets/%d" % t["id"])["actions"]:
            files += [f["name"] for f in a["attachments"]]
    assert set(files) & {"screenshot.png", "vpn-client.log", "invoice-2026-1187.csv"}, files
    return m.group(1)


def second_run(demo, password):
    m = demo.wait_for("banner", demo.banner)
    assert m.group(1) == password  # the same admin, shown again
    demo.login(password)
    # The fake forgot the tokens: the demo connected the mailbox again (a
    # scan that still used the old ones may ask for that once more).
    demo.wait_for("the mailbox connected", lambda: demo.mailbox()["status"] == "connected")
    assert len(demo.get("/api/mailboxes")["items"]) == 1
    mid = demo.mailbox()["id"]
    before = len(demo.get("/api/tickets?limit=200&mailbox=%d" % mid)["items"])
    assert before >= 3
    # New mail keeps coming in on the reconnected mailbox.
    demo.wait_for("new tickets after the restart",
                  lambda: len(demo.get("/api/tickets?limit=200&mailbox=%d" % mid)["items"]) >= before + 2)
    assert demo.mailbox()["status"] == "connected"
