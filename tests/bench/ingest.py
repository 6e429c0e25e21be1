"""Ingest benchmark (make bench): one scanner run over 10,000 messages.

A private stack and the fake Microsoft cloud (tests/fakes) on loopback; a
mailbox connected through the real authorize flow; BENCH_MESSAGES messages
(default 10,000; 5 % with an attachment, one of them 20 MiB) in its Inbox;
then one `postdesk-scan --once` run.  Prints messages/s, Graph HTTP round
trips per message, Graph requests per message (each request inside a
$batch counts, as Graph's throttling counts it), SQL statements per
message (MariaDB's Questions counter) and the scanner's peak RSS.  Goals
(issue 4): <= 0.10 round trips, <= 1.05 requests per message, <= 24 MiB.
BENCH_HOSTILE_PERCENT (default 2) of the messages are hostile mail from
tests/gen_hostile.py (seed BENCH_HOSTILE_SEED, default 8); after the measured
run the scanner runs again (POSTDESK_RETRY_BACKOFF=0) until failed mail has
used its intake_attempts, and the bench reports how the hostile mail ended and
how many mails were quarantined (issue 8: only what truly cannot be stored).
Figures only: nothing here passes or fails on speed.
"""
import base64
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
sys.path.insert(0, str(ROOT / "tests"))
import fake_microsoft  # noqa: E402
import gen_hostile  # noqa: E402

N = int(os.environ.get("BENCH_MESSAGES", "10000"))
BIG_MIB = int(os.environ.get("BENCH_BIG_MIB", "20"))
HOSTILE_PERCENT = float(os.environ.get("BENCH_HOSTILE_PERCENT", "2"))
HOSTILE_SEED = int(os.environ.get("BENCH_HOSTILE_SEED", "8"))
ATTEMPTS = 5           # intake_attempts (POSTDESK_INTAKE_ATTEMPTS), its default
DESK = "desk@bench.onmicrosoft.com"


def is_hostile(i):
    """Every (100 / HOSTILE_PERCENT)th message, never one with the bench's attachment."""
    if HOSTILE_PERCENT <= 0:
        return False
    step = max(1, round(100 / HOSTILE_PERCENT))
    return i % step == 13 % step and i % 20 != 7


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    tmp = tempfile.mkdtemp(prefix="pdingest.")
    os.chmod(tmp, 0o711)  # as root the stack's programs run as postdesk, nginx's as www-data
    fake = fake_microsoft.FakeMicrosoft(port=0, quiet=True).start()
    https = free_port()
    env = dict(os.environ, POSTDESK_VAR=tmp + "/var", POSTDESK_RUN="/tmp/pdi-%d" % os.getpid(),
               POSTDESK_BIN=str(ROOT / "build"), POSTDESK_HTTPS_PORT=str(https),
               POSTDESK_HTTP_PORT=str(free_port()), POSTDESK_WORKERS="2", POSTDESK_SCANNER="0",
               POSTDESK_LOGIN_URL=fake.url, POSTDESK_GRAPH_URL=fake.url)
    stack = [str(ROOT / "scripts" / "stack.sh")]
    subprocess.run(stack + ["start"], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        run(fake, env, https)
    finally:
        subprocess.run(stack + ["stop"], env=env, stdout=subprocess.DEVNULL)
        fake.stop()
        subprocess.run(["rm", "-rf", tmp])


def ctl(fake, path, body=None):
    r = requests.post(fake.url + "/_control/" + path, json=body or {}) if body is not None \
        else requests.get(fake.url + "/_control/" + path)
    r.raise_for_status()
    return r.json()


def sql(env, query):
    out = subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % env["POSTDESK_RUN"],
                          "-uroot", "postdesk", "-N", "-B", "-e", query],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def connect(fake, env, base):
    conf = env["POSTDESK_VAR"] + "/postdesk.conf"
    tenant = ctl(fake, "tenants", {"domains": ["bench.onmicrosoft.com"]})
    app = ctl(fake, "apps", {"tenant": tenant["id"],
                             "redirect_uris": [base + "/azure/auth", base + "/auth/account/azureresponse"]})
    ctl(fake, "users", {"tenant": tenant["id"], "address": "desk@bench.onmicrosoft.com"})
    key = subprocess.run([env["POSTDESK_BIN"] + "/postdesk-admin", "create-api-key", "bench"],
                         env=dict(env, POSTDESK_CONF=conf), capture_output=True, text=True,
                         check=True).stdout.strip()
    s = requests.Session()
    s.trust_env = False
    s.verify = env["POSTDESK_VAR"] + "/tls/cert.pem"
    s.headers["Authorization"] = "Bearer " + key
    mb = s.post(base + "/api/mailboxes", json={
        "name": "Bench", "client_id": app["client_id"], "tenant_id": tenant["id"],
        "secret": app["secrets"][0]["value"], "first_scan": "all",
        "ack_enabled": False}).json()  # ingest alone: no acknowledgements
    url = s.post(base + "/api/mailboxes/%d/authorize" % mb["id"]).json()["authorize_url"]
    back = requests.get(url, allow_redirects=False).headers["Location"]
    query = urllib.parse.urlsplit(back).query
    r = s.get(base + "/azure/auth?" + query, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert s.get(base + "/api/mailboxes/%d" % mb["id"]).json()["status"] == "connected"
    return mb["id"]


def seed(fake):
    """Put the mix in the Inbox; returns (the hostile messages' immutable ids, the generator)."""
    hostile_ids = []
    small = base64.b64encode(os.urandom(30 * 1024)).decode()
    big = base64.b64encode(os.urandom(BIG_MIB << 20)).decode()
    gen = gen_hostile.Generator(HOSTILE_SEED, DESK)
    batch, hostile = [], []
    for i in range(N):
        if is_hostile(i):
            m = dict(gen.message(), mailbox=DESK)
            batch.append(m)
            hostile.append(len(batch) - 1)
            if len(batch) == 250:
                hostile_ids += [r["immutable_id"] for k, r in enumerate(ctl(fake, "seed", {"messages": batch})
                                                                         ["messages"]) if k in hostile]
                batch, hostile = [], []
            continue
        m = {"mailbox": "desk@bench.onmicrosoft.com", "subject": "Request %d" % i,
             "body_text": "Hello, message %d.\n" % i + "x" * 600,
             "from": "user%d@customer.example" % (i % 500), "to": ["desk@bench.onmicrosoft.com"]}
        if i % 20 == 7:
            m["attachments"] = [{"name": "a%d.bin" % i, "content_type": "application/octet-stream",
                                 "content_b64": big if i == 7 else small}]
        batch.append(m)
        if len(batch) == 250:
            hostile_ids += [r["immutable_id"] for k, r in enumerate(ctl(fake, "seed", {"messages": batch})
                                                                     ["messages"]) if k in hostile]
            batch, hostile = [], []
    if batch:
        hostile_ids += [r["immutable_id"] for k, r in enumerate(ctl(fake, "seed", {"messages": batch})
                                                                 ["messages"]) if k in hostile]
    return hostile_ids, gen


def latency(fake, env, mid):
    """Cron's way: a scanner run starts every minute (here: two minutes of
    it); mail arrives at random moments; how long until it is a ticket?"""
    import random
    conf = dict(env, POSTDESK_CONF=env["POSTDESK_VAR"] + "/postdesk.conf")
    minutes = int(os.environ.get("BENCH_LATENCY_MINUTES", "2"))
    t_end = time.monotonic() + 60 * minutes
    runs, arrivals, rng = [], {}, random.Random(7)
    next_run = time.monotonic()
    while time.monotonic() < t_end:
        now = time.monotonic()
        if now >= next_run:  # the cron line: * * * * * postdesk-scan
            runs.append(subprocess.Popen([env["POSTDESK_BIN"] + "/postdesk-scan", "--mailbox",
                                          str(mid)], env=conf, stdout=subprocess.DEVNULL))
            next_run += 60
        subject = "Latency %d" % len(arrivals)
        ctl(fake, "messages", {"mailbox": "desk@bench.onmicrosoft.com", "subject": subject,
                               "body_text": "ping", "from": "late@customer.example",
                               "to": ["desk@bench.onmicrosoft.com"]})
        arrivals[subject] = time.time()
        time.sleep(rng.uniform(0.5, 4.0))
    # the next minute's run picks up the last arrivals, as cron would
    time.sleep(max(0.0, next_run - time.monotonic()))
    runs.append(subprocess.Popen([env["POSTDESK_BIN"] + "/postdesk-scan", "--once", "--mailbox",
                                  str(mid)], env=conf, stdout=subprocess.DEVNULL))
    for p in runs:
        p.wait(timeout=120)
    made = {}
    for line in subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % env["POSTDESK_RUN"],
                                "-uroot", "postdesk", "-N", "-B", "-e",
                                "SET time_zone = '+00:00'; SELECT subject, "
                                "UNIX_TIMESTAMP(created_at) FROM ticket WHERE "
                                "mailbox_id = %d AND subject LIKE 'Latency %%'" % mid],
                               capture_output=True, text=True, check=True).stdout.splitlines():
        subject, at = line.split("\t")
        made[subject] = float(at)
    lat = sorted(made[s] - arrivals[s] for s in arrivals if s in made)
    if not lat:
        print("  latency: no ticket was made")
        return
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("  latency, cron every minute: %d mails, %d tickets, p50 %.1f s, p95 %.1f s, max %.1f s"
          "   (goal p95 <= 15 s)" % (len(arrivals), len(lat), p(0.5), p(0.95), lat[-1]))


def run(fake, env, https):
    base = "https://localhost:%d" % https
    mid = connect(fake, env, base)
    t0 = time.monotonic()
    hostile_ids, gen = seed(fake)
    print("Ingest benchmark: %d messages (%d with attachments, one of %d MiB; %d hostile, seed %d), "
          "seeded in %.1f s" % (N, len(range(7, N, 20)), BIG_MIB, len(hostile_ids), HOSTILE_SEED,
                                time.monotonic() - t0))
    log0 = len(ctl(fake, "graph_log")["entries"])
    q0 = int(sql(env, "SHOW GLOBAL STATUS LIKE 'Questions'")[1])
    scan_env = dict(env, POSTDESK_CONF=env["POSTDESK_VAR"] + "/postdesk.conf", POSTDESK_SCAN_SECONDS="3600")
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M", env["POSTDESK_BIN"] + "/postdesk-scan",
                        "--once", "--mailbox", str(mid)], env=scan_env, capture_output=True, text=True)
    secs = time.monotonic() - t0
    q1 = int(sql(env, "SHOW GLOBAL STATUS LIKE 'Questions'")[1])
    entries = ctl(fake, "graph_log")["entries"][log0:]
    rss = int(re.search(r"maxrss_kb=(\d+)", p.stderr).group(1))
    tickets = int(sql(env, "SELECT COUNT(*) FROM ticket WHERE mailbox_id = %d" % mid)[0])
    inbox = [f for f in ctl(fake, "mailboxes/desk@bench.onmicrosoft.com")["folders"]
             if f.get("wellKnownName") == "inbox"][0]
    # inner $batch requests carry their envelope's client-request-id
    trips = len({e.get("client_request_id") for e in entries})
    reqs = sum(1 for e in entries if not e["path"].endswith("/$batch"))
    print("  scanner: %s" % p.stdout.strip())
    print("  tickets %d, Inbox left %d, scanner exit %d" % (tickets, len(inbox["messages"]), p.returncode))
    print("  %-34s %10.0f" % ("messages/s", N / secs))
    print("  %-34s %10.3f   (goal <= 0.10)" % ("Graph round trips per message", trips / N))
    print("  %-34s %10.3f   (goal <= 1.05)" % ("Graph requests per message", reqs / N))
    print("  %-34s %10.2f" % ("SQL statements per message", (q1 - q0 - 1) / N))
    print("  %-34s %10.1f   (goal <= 24 MiB)" % ("peak RSS MiB", rss / 1024))
    settle(env, scan_env, mid, hostile_ids, gen)
    if os.environ.get("BENCH_LATENCY_MINUTES", "2") != "0":
        latency(fake, env, mid)


def settle(env, scan_env, mid, hostile_ids, gen):
    """Runs until failed mail has used its attempts; how the hostile mail ended."""
    if not hostile_ids:
        return
    runs = 0
    for runs in range(1, ATTEMPTS + 1):
        subprocess.run([env["POSTDESK_BIN"] + "/postdesk-scan", "--once", "--mailbox", str(mid)],
                       env=dict(scan_env, POSTDESK_RETRY_BACKOFF="0",
                                POSTDESK_INTAKE_ATTEMPTS=str(ATTEMPTS)),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if sql(env, "SELECT COUNT(*) FROM incoming_email WHERE mailbox_id = %d AND outcome "
                    "IN ('failed', 'error')" % mid) == ["0"]:
            break
    rows = subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % env["POSTDESK_RUN"],
                           "-uroot", "postdesk", "-N", "-B", "-e",
                           "SELECT e.graph_id, e.outcome FROM incoming_email e JOIN (SELECT graph_id, "
                           "MAX(id) id FROM incoming_email WHERE mailbox_id = %d GROUP BY graph_id) l "
                           "ON l.id = e.id" % mid], capture_output=True, text=True, check=True).stdout
    last = dict(line.split("\t") for line in rows.splitlines())
    ends = {}
    for g in hostile_ids:
        ends[last.get(g, "no row")] = ends.get(last.get(g, "no row"), 0) + 1
    quarantined = int(sql(env, "SELECT COUNT(*) FROM incoming_email WHERE mailbox_id = %d AND "
                               "outcome = 'quarantined'" % mid)[0])
    unreadable = gen.kinds["unreadable item"]
    print("  hostile mail after %d more runs: %s" % (runs, ", ".join("%s %d" % kv for kv in sorted(ends.items()))))
    print("  %-34s %10d   (goal: only what cannot be stored; %d unreadable items in the mix)"
          % ("mails quarantined", quarantined, unreadable))


if __name__ == "__main__":
    main()
