"""Push benchmark (BENCH_ONLY=push make bench; docs/push.md, "Figures").

A private stack and the fake Microsoft cloud (tests/fakes, with its Graph
subscriptions: notifications after 20-400 ms of jitter) on loopback;
BENCH_PUSH_MAILBOXES (5) licensed mailboxes connected through the real
authorize flow.  Then, each with one scanner run of its own:

1. latency with push (push = on, push_poll_interval 60): mail arrives at
   random moments (0.3-2 s apart) in random mailboxes for
   BENCH_PUSH_SECONDS (60); the time from putting it in the Inbox to its
   ticket being in the database (looked for every 50 ms);
2. the same with polling only (push = off, scan_interval 5);
3. idle: no mail for BENCH_PUSH_IDLE_SECONDS (180), Graph requests counted
   at the fake, with push and with polling, as requests per mailbox per
   hour (with push a daily renewal adds 1/24 per hour).

Prints the figures and `uptime` beside them; nothing passes or fails.
"""
import os
import pathlib
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
import fake_microsoft  # noqa: E402

MAILBOXES = int(os.environ.get("BENCH_PUSH_MAILBOXES", "5"))
SECONDS = int(os.environ.get("BENCH_PUSH_SECONDS", "60"))
IDLE = int(os.environ.get("BENCH_PUSH_IDLE_SECONDS", "180"))
DOMAIN = "pushbench.onmicrosoft.com"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctl(fake, path, body=None):
    r = requests.post(fake.url + "/_control/" + path, json=body or {}) if body is not None \
        else requests.get(fake.url + "/_control/" + path)
    r.raise_for_status()
    return r.json()


def sql(env, query):
    return subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % env["POSTDESK_RUN"],
                           "-uroot", "postdesk", "-N", "-B", "-e", query],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def connect(fake, env, base):
    """MAILBOXES licensed mailboxes, connected; {mailbox id: address}."""
    conf = env["POSTDESK_VAR"] + "/postdesk.conf"
    tenant = ctl(fake, "tenants", {"domains": [DOMAIN]})
    app = ctl(fake, "apps", {"tenant": tenant["id"],
                             "redirect_uris": [base + "/azure/auth", base + "/auth/account/azureresponse"]})
    key = subprocess.run([env["POSTDESK_BIN"] + "/postdesk-admin", "create-api-key", "bench"],
                         env=dict(env, POSTDESK_CONF=conf), capture_output=True, text=True,
                         check=True).stdout.strip()
    s = requests.Session()
    s.trust_env = False
    s.verify = env["POSTDESK_VAR"] + "/tls/cert.pem"
    s.headers["Authorization"] = "Bearer " + key
    out = {}
    for i in range(MAILBOXES):
        address = "desk%d@%s" % (i, DOMAIN)
        ctl(fake, "users", {"tenant": tenant["id"], "address": address})
        ctl(fake, "signin", {"tenant": tenant["id"], "user": address, "mode": "approve"})
        mb = s.post(base + "/api/mailboxes", json={
            "name": "Push bench %d" % i, "client_id": app["client_id"], "tenant_id": tenant["id"],
            "secret": app["secrets"][0]["value"], "first_scan": "all", "ack_enabled": False}).json()
        url = s.post(base + "/api/mailboxes/%d/authorize" % mb["id"]).json()["authorize_url"]
        back = requests.get(url, allow_redirects=False).headers["Location"]
        r = s.get(base + "/azure/auth?" + urllib.parse.urlsplit(back).query, allow_redirects=False)
        assert r.status_code == 302, r.text
        out[mb["id"]] = address
    return out


def scanner(env, extra, seconds):
    conf = dict(env, POSTDESK_CONF=env["POSTDESK_VAR"] + "/postdesk.conf", POSTDESK_SCAN_SECONDS=str(seconds))
    conf.update(extra)
    return subprocess.Popen([env["POSTDESK_BIN"] + "/postdesk-scan"], env=conf,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def latency(fake, env, boxes, mode, extra):
    """Mail at random moments during one scanner run; arrival -> ticket seen."""
    tag = "Lat-%s-" % mode
    seen, stop = {}, threading.Event()

    def watch():
        while not stop.is_set():
            for subject in sql(env, "SELECT subject FROM ticket WHERE subject LIKE '%s%%'" % tag):
                seen.setdefault(subject, time.time())
            time.sleep(0.05)
    p = scanner(env, extra, SECONDS + 20)
    time.sleep(3)  # the run's workers are up
    w = threading.Thread(target=watch, daemon=True)
    w.start()
    arrivals, rng = {}, random.Random(11)
    t_end = time.monotonic() + SECONDS
    addresses = list(boxes.values())
    while time.monotonic() < t_end:
        subject = tag + str(len(arrivals))
        address = rng.choice(addresses)
        arrivals[subject] = time.time()
        ctl(fake, "messages", {"mailbox": address, "subject": subject, "body_text": "ping",
                               "from": "late@customer.example", "to": [address]})
        time.sleep(rng.uniform(0.3, 2.0))
    deadline = time.time() + 15
    while time.time() < deadline and len(seen) < len(arrivals):
        time.sleep(0.2)
    stop.set()
    w.join()
    p.terminate()
    p.wait(timeout=60)
    lat = sorted(seen[s] - arrivals[s] for s in arrivals if s in seen)
    if not lat:
        print("  %-8s no ticket was made" % mode)
        return
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]  # noqa: E731
    print("  %-8s arrival -> ticket: %d mails, %d tickets, p50 %.2f s, p95 %.2f s, max %.2f s%s"
          % (mode, len(arrivals), len(lat), q(0.5), q(0.95), lat[-1],
             "   (goal p95 <= 3 s)" if mode == "push" else ""))


def idle(fake, env, boxes, mode, extra):
    """Graph requests of idle mailboxes during one run, per mailbox per hour."""
    users = set(boxes.values())
    p = scanner(env, extra, IDLE + 20)
    time.sleep(5)  # past the run's first visits
    n0 = len(ctl(fake, "graph_log")["entries"])
    time.sleep(IDLE)
    log = ctl(fake, "graph_log")["entries"][n0:]
    p.terminate()
    p.wait(timeout=60)
    n = sum(1 for e in log if e.get("user") in users)
    if os.environ.get("BENCH_PUSH_VERBOSE"):
        from collections import Counter
        for (method, path), k in Counter((e["method"], e["path"].split("/v1.0/")[-1][:60])
                                         for e in log).most_common(8):
            print("      %5d %s %s" % (k, method, path))
    per_hour = n / len(users) * 3600 / IDLE
    renew = " + 1/24 for the daily renewal" if mode == "push" else ""
    print("  %-8s idle: %d Graph requests from %d mailboxes in %d s = %.0f per mailbox per hour%s"
          % (mode, n, len(users), IDLE, per_hour, renew))
    return per_hour


def run(fake, env, https):
    base = "https://localhost:%d" % https
    boxes = connect(fake, env, base)
    ctl(fake, "push/config", {"cacert": env["POSTDESK_VAR"] + "/tls/cert.pem", "jitter_ms": [20, 400]})
    push = {"POSTDESK_PUSH": "on"}
    off = {"POSTDESK_PUSH": "off"}
    # one pass makes the subscriptions (the validation handshake included)
    subprocess.run([env["POSTDESK_BIN"] + "/postdesk-scan", "--once"],
                   env=dict(env, POSTDESK_CONF=env["POSTDESK_VAR"] + "/postdesk.conf", **push),
                   stdout=subprocess.DEVNULL, check=True)
    active = sql(env, "SELECT COUNT(*) FROM graph_subscription WHERE state = 'active'")[0]
    print("Push benchmark: %s mailboxes, %s subscriptions active; load: %s"
          % (len(boxes), active, os.popen("uptime").read().strip()))
    latency(fake, env, boxes, "push", push)
    with_push = idle(fake, env, boxes, "push", push)
    # push = off deletes the subscriptions at its first visits: the polling
    # latency run does that, so the idle count after it is polling alone
    latency(fake, env, boxes, "polling", off)
    without = idle(fake, env, boxes, "polling", off)
    if with_push:
        print("  idle Graph requests, polling / push: %.1f times" % (without / with_push))
    print("  load after: %s" % os.popen("uptime").read().strip())


def main():
    tmp = tempfile.mkdtemp(prefix="pdpush.")
    os.chmod(tmp, 0o711)  # as root the stack's programs run as postdesk, nginx's as www-data
    fake = fake_microsoft.FakeMicrosoft(port=0, quiet=True).start()
    https = free_port()
    env = dict(os.environ, POSTDESK_VAR=tmp + "/var", POSTDESK_RUN="/tmp/pdp-%d" % os.getpid(),
               POSTDESK_BIN=os.environ.get("POSTDESK_BIN", str(ROOT / "build")),
               POSTDESK_HTTPS_PORT=str(https), POSTDESK_HTTP_PORT=str(free_port()), POSTDESK_WORKERS="2",
               POSTDESK_SCANNER="0", POSTDESK_LOGIN_URL=fake.url, POSTDESK_GRAPH_URL=fake.url)
    env.pop("POSTDESK_PORTAL_ROOT", None)  # bench.sh's api_bench copy; the checkout's portal here
    stack = [str(ROOT / "scripts" / "stack.sh")]
    subprocess.run(stack + ["start"], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        run(fake, env, https)
    finally:
        subprocess.run(stack + ["stop"], env=env, stdout=subprocess.DEVNULL)
        fake.stop()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
