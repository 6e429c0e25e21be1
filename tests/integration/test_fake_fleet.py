"""The fleet benchmark's tools do what they say (docs/scaling.md "The fleet
benchmark"): the fake's added Graph latency and its counters
(tests/fakes/fake_fleet.py), and the Poisson arrivals (tests/bench/arrivals.py).

Self-contained: the fake in-process on port 0, no postdesk stack.
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import arrivals  # noqa: E402
import fake_microsoft  # noqa: E402
from test_fake_microsoft import Client, connect  # noqa: E402

LATENCY_MS = 150


@pytest.fixture(scope="module")
def fake():
    f = fake_microsoft.FakeMicrosoft(port=0, quiet=True, graph_latency_ms=LATENCY_MS).start()
    yield f
    f.stop()


@pytest.fixture
def world(fake):
    """Tenant contoso with one app and users alice and bob, and an access token of each."""
    c = Client(fake)
    c.ctl("reset")
    c.t = c.ctl("tenants", {"domains": ["contoso.onmicrosoft.com"]})
    app = c.ctl("apps", {"tenant": c.t["id"], "redirect_uris": ["https://localhost:8443/azure/auth"]})
    c.cid, c.secret = app["client_id"], app["secrets"][0]["value"]
    for name in ("alice", "bob"):
        c.ctl("users", {"tenant": c.t["id"], "address": name + "@contoso.onmicrosoft.com"})
    c.alice = connect(c, user="alice@contoso.onmicrosoft.com")["access_token"]
    c.bob = connect(c, user="bob@contoso.onmicrosoft.com")["access_token"]
    return c


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


def test_latency_is_added_to_each_graph_round_trip_not_to_login(world):
    c = world
    before = c.ctl("fleet", method="GET")
    assert before["graph_latency_ms"] == LATENCY_MS
    # the two sign-ins above went to the login endpoints: no Graph, no delay
    assert before["delayed"] == 0 and before["round_trips"] == 0
    r, secs = timed(lambda: c.graph("/me/mailFolders/inbox/messages", c.alice))
    assert r.status == 200, r.body
    assert secs >= LATENCY_MS / 1000
    r, secs = timed(lambda: c.graph("/me/messages", "not.a.token"))
    assert r.status == 401      # the latency comes first, as Graph's round trip does
    assert secs >= LATENCY_MS / 1000
    after = c.ctl("fleet", method="GET")
    assert after["delayed"] == 2 and after["round_trips"] == 2 and after["requests"] == 2
    assert after["by_user"] == {"alice@contoso.onmicrosoft.com": 1, "-": 1}
    assert after["inflight"] == 0


def test_a_batch_is_one_round_trip_with_each_inner_request_counted(world):
    c = world
    body = {"requests": [{"id": str(i), "method": "GET", "url": "/me/mailFolders/inbox/messages"}
                         for i in range(3)]}
    r, secs = timed(lambda: c.graph("/$batch", c.bob, method="POST", body=body))
    assert r.status == 200 and sorted(x["status"] for x in r.json["responses"]) == [200] * 3
    assert secs >= LATENCY_MS / 1000
    n = c.ctl("fleet", method="GET")
    assert n["delayed"] == 1 and n["round_trips"] == 1
    assert n["requests"] == 3      # the inner ones, not the envelope: as Graph's throttling counts
    assert n["by_user"] == {"bob@contoso.onmicrosoft.com": 3}


def test_concurrent_round_trips_sleep_side_by_side(world):
    """Four requests (Graph's per-mailbox concurrency) are all in their
    latency at once: the sleep holds no lock that serialises them."""
    c = world
    c.ctl("latency", {"graph_ms": 1500})
    go, out = threading.Barrier(4), []

    def one():
        go.wait()
        out.append(c.graph("/me/mailFolders/inbox/messages", c.alice).status)
    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.7)             # well inside the 1.5 s: all four asleep
    mid = c.ctl("fleet", method="GET")   # the control API takes the fake's lock
    for t in threads:
        t.join()
    assert out == [200] * 4
    assert mid["inflight"] == 4
    assert c.ctl("fleet", method="GET")["inflight_max"] == 4


def test_latency_changes_by_control_and_reset_restores_the_start_value(world):
    c = world
    assert c.ctl("latency", {"graph_ms": 0})["graph_latency_ms"] == 0
    assert c.graph("/me/mailFolders/inbox/messages", c.alice).status == 200
    n = c.ctl("fleet", method="GET")
    assert n["delayed"] == 0 and n["round_trips"] == 1
    assert c.req("POST", "/_control/latency", {"graph_ms": -1}).status == 400
    c.ctl("reset")
    n = c.ctl("fleet", method="GET")
    assert n["graph_latency_ms"] == LATENCY_MS and n["round_trips"] == 0 and n["by_user"] == {}


def test_command_line_option(tmp_path):
    port_file = tmp_path / "port"
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "fakes", "fake_microsoft.py"), "--port", "0",
                          "--port-file", str(port_file), "--quiet", "--graph-latency-ms", "40"])
    try:
        for _ in range(100):
            if port_file.exists():
                break
            time.sleep(0.05)
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%s/_control/fleet" % port_file.read_text().strip(),
                                    timeout=10) as r:
            assert json.loads(r.read())["graph_latency_ms"] == 40
    finally:
        p.terminate()
        assert p.wait(timeout=10) == 0


def test_schedule_is_a_seeded_poisson_process_over_the_mailboxes():
    rate, seconds, boxes = 5.0, 600, 10
    plan = arrivals.schedule(rate, seconds, boxes, seed=3)
    times = [t for t, _ in plan]
    assert times == sorted(times) and 0 < times[0] and times[-1] < seconds
    # 3,000 expected; the seed fixes the draw, the bounds are 5 standard deviations
    assert abs(len(plan) - rate * seconds) < 5 * (rate * seconds) ** 0.5
    gaps = [b - a for a, b in zip([0.0] + times, times)]
    mean = statistics.fmean(gaps)
    assert abs(mean - 1 / rate) < 0.1 / rate
    # exponential gaps: standard deviation equal to the mean (a fixed pace would give 0)
    assert 0.9 < statistics.pstdev(gaps) / mean < 1.1
    per_box = [sum(1 for _, i in plan if i == b) for b in range(boxes)]
    assert min(per_box) > 0.8 * len(plan) / boxes and max(per_box) < 1.2 * len(plan) / boxes
    assert arrivals.schedule(rate, seconds, boxes, seed=3) == plan
    assert arrivals.schedule(rate, seconds, boxes, seed=4) != plan
    assert arrivals.schedule(0, seconds, boxes) == []


def test_deliver_puts_each_mail_in_its_inbox_at_its_moment(world):
    c = world
    addresses = ["alice@contoso.onmicrosoft.com", "bob@contoso.onmicrosoft.com"]
    plan = [(0.0, 1), (0.2, 0), (0.3, 1)]
    start = time.time() + 0.1
    got = arrivals.deliver(c.fake.url, plan, addresses, start)
    assert [a.address for a in got] == [addresses[1], addresses[0], addresses[1]]
    for a, (offset, _) in zip(got, plan):
        assert a.due == start + offset and a.at >= a.due
    for addr in addresses:
        inbox = [f for f in c.ctl("mailboxes/" + addr, method="GET")["folders"]
                 if f["wellKnownName"] == "inbox"][0]
        want = {(a.immutable_id, arrivals.subject_of(a.n)) for a in got if a.address == addr}
        assert {(m["immutableId"], m["subject"]) for m in inbox["messages"]} == want
    stop = threading.Event()
    stop.set()
    assert arrivals.deliver(c.fake.url, [(5.0, 0)], addresses, time.time(), stop) == []


def test_the_bench_runs_the_cron_templates_scanner_command():
    """The fleet benchmark's cron is packaging/postdesk.cron.in's line, this build's binary."""
    import fleet
    argv = fleet.cron_argv()
    assert argv[0] == fleet.BIN + "/postdesk-scan"
    assert not any(w.startswith((">", "@")) or w in ("&&", "2>&1") for w in argv), argv
