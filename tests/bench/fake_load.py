"""Does the fake Microsoft cloud keep up with a fleet?  (a tool, not in make bench)

Starts the fake in-process with LOAD_MAILBOXES (1000) tenants, each with an
app and a mailbox user signed in once; then a separate client process (so
the fake has its interpreter to itself, as in the fleet benchmark) keeps
LOAD_CONNECTIONS (32) keep-alive connections busy for LOAD_SECONDS (20)
with the scanner's Inbox listing (lib/domain/ingest.c list_url) of mailbox
after mailbox, with LOAD_LATENCY_MS (150) added by the fake.  Prints the
requests/s reached, what the clients waited beyond the added latency (p50,
p95, max: the fake's own delay, queueing included), the fake's CPU per
request, and with LOAD_PROFILE=1 the fake's 25 most expensive functions
(cProfile of every request-handling thread).

  /usr/bin/python3 tests/bench/fake_load.py
"""
from __future__ import annotations

import base64
import cProfile
import hashlib
import http.client
import io
import json
import os
import pathlib
import pstats
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))

MAILBOXES = int(os.environ.get("LOAD_MAILBOXES", "1000"))
CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "32"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))
LATENCY_MS = int(os.environ.get("LOAD_LATENCY_MS", "150"))
REDIRECT = "https://localhost:8443/azure/auth"
LIST = ("/v1.0/me/mailFolders/inbox/messages?$select=id,receivedDateTime&$top=50&$count=true"
        "&$orderby=receivedDateTime%20asc&$filter=receivedDateTime%20ge%201970-01-01T00%3A00%3A00Z")


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body, headers or {})
    r = conn.getresponse()
    return r.status, r.getheader("Location"), r.read()


def sign_in(port):
    """The world and one access token per mailbox (the code flow, as postdesk does it)."""
    import fake_microsoft
    conn = http.client.HTTPConnection("127.0.0.1", port)
    tenants, apps, users = [], [], []
    for i in range(MAILBOXES):
        tid = "%08d-0000-4000-8000-000000000000" % i
        tenants.append({"id": tid, "domains": ["c%04d.onmicrosoft.com" % i]})
        apps.append({"tenant": tid, "redirect_uris": [REDIRECT]})
        users.append({"tenant": tid, "address": "help@c%04d.onmicrosoft.com" % i})
    _, _, out = request(conn, "POST", "/_control/seed", json.dumps(
        {"tenants": tenants, "apps": apps, "users": users}), {"Content-Type": "application/json"})
    tokens = []
    for t, app in zip(tenants, json.loads(out)["apps"]):
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        q = urllib.parse.urlencode({"client_id": app["client_id"], "response_type": "code",
                                    "redirect_uri": REDIRECT, "scope": "offline_access Mail.ReadWrite Mail.Send",
                                    "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
        _, loc, _ = request(conn, "GET", "/%s/oauth2/v2.0/authorize?%s" % (t["id"], q))
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))["code"]
        _, _, body = request(conn, "POST", "/%s/oauth2/v2.0/token" % t["id"], urllib.parse.urlencode({
            "grant_type": "authorization_code", "client_id": app["client_id"],
            "client_secret": app["secrets"][0]["value"], "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}), {"Content-Type": "application/x-www-form-urlencoded"})
        tokens.append(json.loads(body)["access_token"])
    del fake_microsoft
    return tokens


def client(port, token_file):
    """The load: CONNECTIONS threads, each one keep-alive connection."""
    tokens = json.load(open(token_file))
    waits, lock, nxt = [], threading.Lock(), [0]
    end = time.monotonic() + SECONDS

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while time.monotonic() < end:
            with lock:
                i = nxt[0] = (nxt[0] + 1) % len(tokens)
            t0 = time.monotonic()
            status, _, _ = request(conn, "GET", LIST, headers={"Authorization": "Bearer " + tokens[i]})
            if status != 200:
                raise SystemExit("load: answer %d" % status)
            mine.append(time.monotonic() - t0)
        with lock:
            waits.extend(mine)
    threads = [threading.Thread(target=run) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump(waits, sys.stdout)


def main():
    if len(sys.argv) == 3:
        return client(int(sys.argv[1]), sys.argv[2])
    import fake_microsoft
    profiles, plock = [], threading.Lock()
    if os.environ.get("LOAD_PROFILE") == "1":
        plain = fake_microsoft.RequestHandler.handle_one_request

        def profiled(self):
            p = cProfile.Profile()
            p.enable()
            try:
                plain(self)
            finally:
                p.disable()
                with plock:
                    profiles.append(p)
        fake_microsoft.RequestHandler.handle_one_request = profiled
    fake = fake_microsoft.FakeMicrosoft(port=0, quiet=True).start()
    try:
        t0 = time.monotonic()
        tokens = sign_in(fake.port)
        print("fake load: %d mailboxes signed in in %.1f s" % (MAILBOXES, time.monotonic() - t0))
        fake.state.graph_log.clear()
        profiles.clear()
        fake.fleet.latency_ms = LATENCY_MS
        with tempfile.NamedTemporaryFile("w", suffix=".json") as tf:
            json.dump(tokens, tf)
            tf.flush()
            cpu0, c0 = time.process_time(), fake.fleet.public()
            out = subprocess.run([sys.executable, __file__, str(fake.port), tf.name], capture_output=True,
                                 text=True, check=True).stdout
            cpu, c1 = time.process_time() - cpu0, fake.fleet.public()
        waits = sorted(w - LATENCY_MS / 1000 for w in json.loads(out))
        n = c1["round_trips"] - c0["round_trips"]
        pct = lambda q: waits[min(len(waits) - 1, int(q * len(waits)))] * 1000  # noqa: E731
        print("fake load: %d connections, %d ms latency: %.0f requests/s; beyond the latency p50 %.1f ms, "
              "p95 %.1f ms, max %.1f ms; fake CPU %.2f ms a request (%.2f in Graph handling), %d in flight "
              "at most" % (CONNECTIONS, LATENCY_MS, len(waits) / SECONDS, pct(0.5), pct(0.95), waits[-1] * 1000,
                           cpu * 1000 / n, (c1["cpu_seconds"] - c0["cpu_seconds"]) * 1000 / n,
                           c1["inflight_max"]))
        if profiles:
            s = io.StringIO()
            st = pstats.Stats(profiles[0], stream=s)
            for p in profiles[1:]:
                st.add(p)
            st.sort_stats("tottime").print_stats(25)
            print(s.getvalue())
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
