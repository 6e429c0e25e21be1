"""Fleet benchmark (make bench, BENCH_ONLY=fleet): many mailboxes, the cron line.

A private stack (scripts/stack.sh, no scanner of its own) and the fake
Microsoft cloud (tests/fakes/fake_microsoft.py, its own process so its CPU is
its own) on loopback.  BENCH_MAILBOXES (1000) mailboxes, one per customer
tenant as a managed-service provider has them, each connected the real way
(POST /api/mailboxes, Authorize at the fake, the callback), then one warm-up
`postdesk-scan --once` without latency (first visits are not measured).
Then BENCH_LATENCY_MS (150) is added to every Graph round trip, and the cron
line of packaging/postdesk.cron.in starts a fresh postdesk-scan at every
minute boundary (runs overlap as with cron) while mail arrives at random
mailboxes at random moments: a Poisson process of BENCH_RATE (5) mails a
second for BENCH_SECONDS (180), after BENCH_LEAD (60) seconds of cron alone.
Cron goes on until every mail is a ticket or BENCH_TAIL (300) more seconds
have passed; then the runs still going get SIGTERM.

Prints one table: arrival -> ticket p50/p95/max (incoming_email.created_at,
milliseconds, of the row that made or updated the ticket, against the time
the fake had the mail), mails missing, Graph requests per idle mailbox per
minute against Graph's limit (10,000 requests per 10 minutes per app and
mailbox), scanner CPU (utime+stime of every postdesk-scan run and its
children, from wait4) and peak RSS, MariaDB's and the fake's CPU, and the
load average.  Figures only: nothing passes or fails.

Configuration keys of the scanner pass through the environment as
POSTDESK_<KEY> (e.g. POSTDESK_SCAN_WORKERS=16 where the scanner has it).
"""
from __future__ import annotations

import concurrent.futures
import os
import pathlib
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "bench"))
import arrivals  # noqa: E402

MAILBOXES = int(os.environ.get("BENCH_MAILBOXES", "1000"))
RATE = float(os.environ.get("BENCH_RATE", "5"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "180"))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "150"))
LEAD = float(os.environ.get("BENCH_LEAD", "60"))
TAIL = float(os.environ.get("BENCH_TAIL", "300"))
PERIOD = float(os.environ.get("BENCH_CRON_PERIOD", "60"))   # cron: every minute
SEED = int(os.environ.get("BENCH_SEED", "13"))
THREADS = int(os.environ.get("BENCH_CONNECT_THREADS", "6"))
BIN = os.environ.get("BENCH_BIN", str(ROOT / "build"))
GRAPH_LIMIT_PER_MIN = 10000 / 10     # Graph: 10,000 requests / 10 min / app / mailbox
TCK = os.sysconf("SC_CLK_TCK")
STACK_KEYS = {"POSTDESK_VAR", "POSTDESK_RUN", "POSTDESK_BIN", "POSTDESK_HTTPS_PORT", "POSTDESK_HTTP_PORT",
              "POSTDESK_PORTAL_ROOT", "POSTDESK_CONF"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def cpu_seconds(pid):
    """utime + stime of a live process (its own, not its children's)."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / TCK
    except (OSError, IndexError):
        return 0.0


def cron_argv():
    """The scanner's command line of the installed cron template, with
    @BINDIR@ this build: its `* * * * *` line's last command, without the
    log redirection (the bench keeps the output itself)."""
    for line in (ROOT / "packaging" / "postdesk.cron.in").read_text().splitlines():
        if line.startswith("* * * * *"):
            cmd = line.split("&&")[-1].split(">>")[0]
            return [w.replace("@BINDIR@", BIN) for w in shlex.split(cmd)]
    raise SystemExit("fleet: no '* * * * *' line in packaging/postdesk.cron.in")


class Stack:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="pdfleet.")
        os.chmod(self.tmp, 0o711)  # as root the stack's programs run as postdesk, nginx's as www-data
        port_file = self.tmp + "/fake.port"
        self.fake_log = open(self.tmp + "/fake.log", "w")
        self.fake = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakes" / "fake_microsoft.py"),
                                      "--port", "0", "--port-file", port_file, "--quiet"],
                                     stdout=self.fake_log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        self.fake_url = "http://127.0.0.1:%s" % open(port_file).read().strip()
        self.https = free_port()
        self.run = "/tmp/pdf-%d" % os.getpid()
        # bench.sh's own stack settings are not this stack's
        mine = {k: v for k, v in os.environ.items() if k not in STACK_KEYS}
        self.env = dict(mine, POSTDESK_VAR=self.tmp + "/var", POSTDESK_RUN=self.run,
                        POSTDESK_BIN=BIN, POSTDESK_HTTPS_PORT=str(self.https),
                        POSTDESK_HTTP_PORT=str(free_port()), POSTDESK_WORKERS="4",
                        POSTDESK_SCANNER="0", POSTDESK_LOGIN_URL=self.fake_url,
                        POSTDESK_GRAPH_URL=self.fake_url)
        self.conf = self.env["POSTDESK_VAR"] + "/postdesk.conf"
        self.base = "https://localhost:%d" % self.https
        self.http = requests.Session()
        self.http.trust_env = False
        self.cron = None

    def start(self):
        subprocess.run([str(ROOT / "scripts" / "stack.sh"), "start"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        return self

    def stop(self):
        subprocess.run([str(ROOT / "scripts" / "stack.sh"), "stop"], env=self.env,
                       stdout=subprocess.DEVNULL)
        self.fake.terminate()
        self.fake.wait(timeout=30)
        self.fake_log.close()
        subprocess.run(["rm", "-rf", self.tmp])

    def ctl(self, name, body=None):
        if body is None:
            r = self.http.get(self.fake_url + "/_control/" + name, timeout=60)
        else:
            r = self.http.post(self.fake_url + "/_control/" + name, json=body, timeout=60)
        r.raise_for_status()
        return r.json()

    def sql(self, query):
        out = subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % self.run, "-uroot",
                              "postdesk", "-N", "-B", "-e", "SET time_zone = '+00:00'; " + query],
                             capture_output=True, text=True, check=True).stdout
        return [line.split("\t") for line in out.splitlines()]

    def mariadb_pid(self):
        return int(open(self.run + "/mariadb.pid").read().split()[0])


def seed_tenants(stack):
    """One tenant per customer, each with its app and its help-desk user."""
    tenants, apps, users, out = [], [], [], []
    for i in range(MAILBOXES):
        tid, domain = str(uuid.uuid4()), "customer%04d.onmicrosoft.com" % i
        tenants.append({"id": tid, "domains": [domain]})
        apps.append({"tenant": tid, "redirect_uris": [stack.base + "/azure/auth",
                                                      stack.base + "/auth/account/azureresponse"]})
        users.append({"tenant": tid, "address": "help@" + domain})
        out.append((tid, "help@" + domain))
    made = stack.ctl("seed", {"tenants": tenants, "apps": apps, "users": users})
    return [(tid, addr, app["client_id"], app["secrets"][0]["value"])
            for (tid, addr), app in zip(out, made["apps"])]


def connect_all(stack, world):
    key = subprocess.run([BIN + "/postdesk-admin", "create-api-key", "fleet-bench"],
                         env=dict(stack.env, POSTDESK_CONF=stack.conf), capture_output=True, text=True,
                         check=True).stdout.strip()
    local = threading.local()

    def connect(item):
        i, (tid, addr, client_id, secret) = item
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
            s.trust_env = False
            s.verify = stack.env["POSTDESK_VAR"] + "/tls/cert.pem"
            s.headers["Authorization"] = "Bearer " + key
        r = s.post(stack.base + "/api/mailboxes", json={
            "name": "Customer %04d" % i, "client_id": client_id, "tenant_id": tid, "secret": secret},
            timeout=60)
        r.raise_for_status()
        mid = r.json()["id"]
        url = s.post(stack.base + "/api/mailboxes/%d/authorize" % mid, timeout=60).json()["authorize_url"]
        back = stack.http.get(url, allow_redirects=False, timeout=60).headers["Location"]
        r = s.get(stack.base + "/azure/auth?" + urllib.parse.urlsplit(back).query, allow_redirects=False,
                  timeout=60)
        if r.status_code != 302:
            raise SystemExit("fleet: connecting %s failed: %d %s" % (addr, r.status_code, r.text[:200]))
        return mid

    with concurrent.futures.ThreadPoolExecutor(THREADS) as ex:
        mids = list(ex.map(connect, enumerate(world)))
    connected = int(stack.sql("SELECT COUNT(*) FROM mailbox WHERE status = 'connected'")[0][0])
    if connected != MAILBOXES:
        raise SystemExit("fleet: %d of %d mailboxes connected" % (connected, MAILBOXES))
    return mids


class Cron:
    """Starts the cron line's command at every PERIOD boundary of the wall
    clock; reaps runs with wait4 to get their CPU time and peak RSS."""

    def __init__(self, stack):
        self.argv, self.stack = cron_argv(), stack
        self.env = dict(stack.env, POSTDESK_CONF=stack.conf)
        self.log = open(stack.tmp + "/postdesk-scan.log", "ab")
        self.live, self.done = {}, []     # pid -> start time; [(pid, status, rusage)]
        self.started, self.most_at_once = 0, 0
        self.rss_peak_kb = 0               # the sum over live runs and their children, sampled

    def tick(self):
        p = subprocess.Popen(self.argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.live[p.pid] = time.time()
        self.started += 1
        self.most_at_once = max(self.most_at_once, len(self.live))

    def reap(self, block=False):
        for pid in list(self.live):
            got, status, ru = os.wait4(pid, 0 if block else os.WNOHANG)
            if got == pid:
                del self.live[pid]
                self.done.append((pid, status, ru))

    def sample_rss(self):
        """RSS of the live runs and everything they started (a worker pool)."""
        if not self.live:
            return
        parent = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as fh:
                        parent[int(d)] = int(fh.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    pass
        tree, grew = set(self.live), True
        while grew:
            more = {p for p, pp in parent.items() if pp in tree} - tree
            grew = bool(more)
            tree |= more
        kb = 0
        for p in tree:
            try:
                with open("/proc/%d/status" % p) as fh:
                    kb += next((int(x.split()[1]) for x in fh if x.startswith("VmRSS:")), 0)
            except OSError:
                pass
        self.rss_peak_kb = max(self.rss_peak_kb, kb)

    def stop(self):
        for pid in self.live:
            os.killpg(pid, signal.SIGTERM)
        t_stop = time.time()
        deadline = t_stop + 90
        while self.live and time.time() < deadline:
            self.reap()
            time.sleep(0.2)
        for pid in self.live:
            os.killpg(pid, signal.SIGKILL)
        self.reap(block=True)
        self.log.close()
        return time.time() - t_stop


def tickets(stack):
    """(mailbox id, graph id) -> the time its first incoming_email row with a ticket was written."""
    rows = stack.sql("SELECT mailbox_id, graph_id, UNIX_TIMESTAMP(MIN(created_at)) FROM incoming_email "
                     "WHERE ticket_id IS NOT NULL AND subject LIKE 'Fleet mail %' "
                     "GROUP BY mailbox_id, graph_id")
    return {(int(m), g): float(t) for m, g, t in rows}


def measure(stack, mids, addresses):
    by_address = dict(zip(addresses, mids))
    plan = arrivals.schedule(RATE, SECONDS, MAILBOXES, SEED)
    cron = stack.cron = Cron(stack)
    stack.ctl("latency", {"graph_ms": LATENCY_MS})
    first = (int(time.time() // PERIOD) + 1) * PERIOD
    time.sleep(max(0.0, first - time.time()))
    next_tick, t0 = first, time.time()
    load0 = load()
    db, fk = stack.mariadb_pid(), stack.fake.pid
    cpu0 = (cpu_seconds(db), cpu_seconds(fk))
    got, stop_delivery = [], threading.Event()
    deliverer = threading.Thread(target=lambda: got.extend(arrivals.deliver(
        stack.fake_url, plan, addresses, t0 + LEAD, stop_delivery)), daemon=True)
    deliverer.start()
    window = None               # counters at the start and end of the arrival window
    last_check = 0.0
    made = {}
    end = t0 + LEAD + SECONDS + TAIL
    while True:
        now = time.time()
        if now >= next_tick:
            cron.tick()
            next_tick += PERIOD
        if window is None and now >= t0 + LEAD:
            window = [(now, stack.ctl("fleet"))]
        if len(window or []) == 1 and not deliverer.is_alive():
            window.append((time.time(), stack.ctl("fleet")))
        cron.reap()
        cron.sample_rss()
        if len(window or []) == 2 and now - last_check >= 5:
            last_check = now
            made = tickets(stack)
            if all((by_address[a.address], a.immutable_id) in made for a in got):
                break
        if now >= end:
            break
        time.sleep(0.5)
    stop_delivery.set()
    deliverer.join()
    if len(window) == 1:
        window.append((time.time(), stack.ctl("fleet")))
    t_end = time.time()
    stopped_in = cron.stop()
    cpu1 = (cpu_seconds(db), cpu_seconds(fk))
    made = tickets(stack)
    counters = stack.ctl("fleet")
    report(stack, plan, got, made, by_address, cron, window, t_end - t0, stopped_in,
           (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]), counters, load0)


def pct(values, q):
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def report(stack, plan, got, made, by_address, cron, window, elapsed, stopped_in, cpu, counters, load0):
    lat = sorted(made[(by_address[a.address], a.immutable_id)] - a.at for a in got
                 if (by_address[a.address], a.immutable_id) in made)
    missing = [a for a in got if (by_address[a.address], a.immutable_id) not in made]
    lag = max((a.at - a.due for a in got), default=0.0)
    (w0, c0), (w1, c1) = window
    minutes = (w1 - w0) / 60
    busy = {a.address.lower() for a in got}
    idle = [a for a in by_address if a.lower() not in busy]
    idle_reqs = sum(c1["by_user"].get(a.lower(), 0) - c0["by_user"].get(a.lower(), 0) for a in idle)
    per_idle = idle_reqs / len(idle) / minutes if idle and minutes > 0 else float("nan")
    all_reqs = c1["requests"] - c0["requests"]
    trips = c1["round_trips"] - c0["round_trips"]
    ru_cpu = sum(ru.ru_utime + ru.ru_stime for _, _, ru in cron.done)
    rss = max((ru.ru_maxrss for _, _, ru in cron.done), default=0)
    failed = sum(1 for _, st, _ in cron.done if os.waitstatus_to_exitcode(st) not in (0, -signal.SIGTERM))
    passthrough = " ".join("%s=%s" % kv for kv in sorted(stack.env.items())
                           if kv[0].startswith("POSTDESK_SCAN_"))
    rows = [
        ("mailboxes (connected, one tenant each)", "%d" % MAILBOXES),
        ("Graph latency added per round trip", "%d ms" % LATENCY_MS),
        ("mail: Poisson rate, window", "%.1f/s, %.0f s (after %.0f s of cron alone)" % (RATE, SECONDS, LEAD)),
        ("mails arrived (planned)", "%d (%d), latest %.2f s behind plan" % (len(got), len(plan), lag)),
        ("tickets made / missing", "%d / %d" % (len(lat), len(missing))),
        ("arrival -> ticket p50", "%.1f s" % pct(lat, 0.50)),
        ("arrival -> ticket p95", "%.1f s   (goal <= 15 s)" % pct(lat, 0.95)),
        ("arrival -> ticket max", "%.1f s" % (lat[-1] if lat else float("nan"))),
        ("cron: runs started, most at once", "%d, %d (every %.0f s: %s)" % (
            cron.started, cron.most_at_once, PERIOD, " ".join(cron_argv()))),
        ("runs failed (exit not 0, not our SIGTERM)", "%d; the last stopped %.1f s after SIGTERM" % (
            failed, stopped_in)),
        ("Graph round trips / requests per s", "%.1f / %.1f (arrival window)" % (
            trips / (w1 - w0), all_reqs / (w1 - w0))),
        ("Graph requests per idle mailbox per min", "%.2f over %d idle mailboxes = %.2f %% of Graph's "
         "limit (1,000/min)" % (per_idle, len(idle), 100 * per_idle / GRAPH_LIMIT_PER_MIN)),
        ("scanner CPU (all runs, utime+stime)", "%.1f s in %.0f s = %.0f %% of a core" % (
            ru_cpu, elapsed, 100 * ru_cpu / elapsed)),
        ("scanner peak RSS: one process / all runs", "%.1f MiB / %.1f MiB (sampled)" % (
            rss / 1024, cron.rss_peak_kb / 1024)),
        ("MariaDB CPU", "%.1f s = %.0f %% of a core" % (cpu[0], 100 * cpu[0] / elapsed)),
        ("fake CPU: process / serving Graph", "%.1f s / %.1f s; most round trips at once %d" % (
            cpu[1], counters["cpu_seconds"], counters["inflight_max"])),
        ("load average at start / end (2 cores)", "%s / %s" % (load0, load())),
    ]
    print("Fleet benchmark%s" % ((" (" + passthrough + ")") if passthrough else ""))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print("  %-*s  %s" % (width, k, v))
    for a in missing[:10]:
        print("  missing: %s %s (arrived %s)" % (a.address, arrivals.subject_of(a.n),
                                                time.strftime("%H:%M:%S", time.gmtime(a.at))))


def warm_up(stack):
    t0 = time.time()
    p = subprocess.run([BIN + "/postdesk-scan", "--once"], env=dict(stack.env, POSTDESK_CONF=stack.conf),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.time() - t0, p.returncode


def main():
    stack = Stack()
    try:
        stack.start()
        t0 = time.time()
        world = seed_tenants(stack)
        mids = connect_all(stack, world)
        t1 = time.time()
        warm, rc = warm_up(stack)
        print("Fleet benchmark: %d mailboxes connected in %.1f s (API + Authorize at the fake, %d threads); "
              "warm-up run (no latency) %.1f s, exit %d" % (MAILBOXES, t1 - t0, THREADS, warm, rc),
              flush=True)
        measure(stack, mids, [addr for _, addr, _, _ in world])
    finally:
        if stack.cron is not None and stack.cron.live:   # interrupted: no run outlives the stack
            stack.cron.stop()
        stack.stop()


if __name__ == "__main__":
    main()
