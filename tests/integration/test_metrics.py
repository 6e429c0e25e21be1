"""GET /api/metrics (issue 11 item 5, docs/metrics.md): the Prometheus text
format, parsed with Debian's python3-prometheus-client, and its figures
moving when things happen — a scan, mail arriving, Graph answering 429, a
reply queued and sent, API requests answered by several workers — and who
may read it: credentials, or a client address in metrics_allow."""
import re
import secrets
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pd_helpers import Client, Desk, check_problem, new_agent, new_api_key

LIST_PATH = r"/mailFolders/inbox/messages$"


def parse(r):
    """{(sample name, frozenset of labels): value} of an answer, after
    checking its status, type and every family's HELP and TYPE."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    text = r.text
    for name in re.findall(r"^# TYPE (\S+) ", text, re.M):
        assert re.search(r"^# HELP %s \S" % re.escape(name), text, re.M), name
    samples = {}
    for fam in text_string_to_metric_families(text):
        assert fam.name.startswith("postdesk_"), fam.name
        assert fam.type in ("counter", "gauge", "summary"), (fam.name, fam.type)
        assert fam.documentation, fam.name
        for s in fam.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, key  # each series once
            samples[key] = s.value
    return samples


def value(m, name, **labels):
    """The sample's value; 0 when the series is absent."""
    return m.get((name, frozenset((k, str(v)) for k, v in labels.items())), 0.0)


def has(m, name, **labels):
    return (name, frozenset((k, str(v)) for k, v in labels.items())) in m


@pytest.fixture(scope="module")
def agent_key(stack):
    return Client(stack, {"Authorization": "Bearer " + new_api_key(stack, "agent")[1]})


@pytest.fixture
def desk(stack, fake, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login)
    yield d
    fake._call("DELETE", "faults")
    stack.sql("UPDATE mailbox SET status = 'disconnected' WHERE id = %d" % d.mid)


def scrape(c):
    return parse(c.get("/api/metrics"))


def test_access_and_format(stack, anon, agent_key, admin_key):
    check_problem(anon.get("/api/metrics"), 401)
    check_problem(Client(stack, {"Authorization": "Bearer pdk_" + "x" * 43}).get("/api/metrics"),
                  401)
    m = scrape(agent_key)
    assert value(m, "postdesk_database_up") == 1
    assert scrape(admin_key)
    session = Client(stack)
    session.login(*new_agent(stack, "agent"))
    assert value(scrape(session), "postdesk_database_up") == 1
    r = agent_key.request("HEAD", "/api/metrics")
    assert r.status_code == 200 and r.content == b""
    r = agent_key.post("/api/metrics", json={})
    check_problem(r, 405)


def test_a_scan_counts_and_mail_shows_by_outcome(stack, desk, agent_key):
    mid = desk.mid
    name = stack.sql("SELECT name FROM mailbox WHERE id = %d" % mid)[0][0]
    mb = {"mailbox_id": mid, "mailbox": name}
    before = scrape(agent_key)
    assert value(before, "postdesk_scans_total", result="ok", **mb) == 0
    assert value(before, "postdesk_incoming_emails", outcome="ticket_created", **mb) == 0
    assert has(before, "postdesk_incoming_emails", outcome="ticket_created", **mb)
    desk.send("Printer on fire", "metrics-carol@example.com")
    desk.send("Printer still on fire", "dave@example.com")
    desk.scan()
    m = scrape(agent_key)
    assert value(m, "postdesk_scans_total", result="ok", **mb) == 1
    assert value(m, "postdesk_scans_total", result="failed", **mb) == 0
    assert value(m, "postdesk_scan_duration_seconds_count", **mb) == 1
    assert 0 < value(m, "postdesk_scan_duration_seconds_sum", **mb) < 120
    # at least: the Inbox listing, then the $batch that moves both mails
    assert value(m, "postdesk_graph_requests_total", **mb) >= 2
    assert value(m, "postdesk_graph_throttled_total", **mb) == 0
    assert value(m, "postdesk_incoming_emails", outcome="ticket_created", **mb) == 2
    assert value(m, "postdesk_incoming_emails", outcome="ignored_by_rule", **mb) == 0
    assert 0 <= value(m, "postdesk_mailbox_seconds_since_success", **mb) < 60
    assert value(m, "postdesk_mailbox_status", status="connected", **mb) == 1
    # the figures are the database's: what the columns hold
    row = stack.sql("SELECT scans_ok, graph_requests FROM mailbox WHERE id = %d" % mid)[0]
    assert [int(v) for v in row] == [1, int(value(m, "postdesk_graph_requests_total", **mb))]

    desk.send("Re: Printer on fire", "metrics-carol@example.com")
    desk.scan()
    m2 = scrape(agent_key)
    assert value(m2, "postdesk_scans_total", result="ok", **mb) == 2
    assert value(m2, "postdesk_scan_duration_seconds_count", **mb) == 2
    assert value(m2, "postdesk_graph_requests_total", **mb) > \
        value(m, "postdesk_graph_requests_total", **mb)
    assert value(m2, "postdesk_incoming_emails", outcome="ticket_created", **mb) == 3


def test_throttled_graph_counts_429_and_retries(stack, desk, fake, agent_key):
    mb = {"mailbox_id": desk.mid,
          "mailbox": stack.sql("SELECT name FROM mailbox WHERE id = %d" % desk.mid)[0][0]}
    desk.send("Slow down", "erin@example.com")
    fake.ctl("faults", {"path": LIST_PATH, "status": 429, "retry_after": 1, "count": 2})
    desk.scan()
    m = scrape(agent_key)
    assert value(m, "postdesk_graph_throttled_total", **mb) == 2
    assert value(m, "postdesk_graph_retries_total", **mb) == 2
    assert value(m, "postdesk_scans_total", result="ok", **mb) == 1
    assert value(m, "postdesk_incoming_emails", outcome="ticket_created", **mb) == 1
    # the wait Graph asked for is part of the scan's time
    assert value(m, "postdesk_scan_duration_seconds_sum", **mb) >= 2


def test_outgoing_queue_by_status(stack, desk, agent_key):
    mb = {"mailbox_id": desk.mid,
          "mailbox": stack.sql("SELECT name FROM mailbox WHERE id = %d" % desk.mid)[0][0]}
    desk.send("Need a reply", "frank@example.com")
    desk.scan()
    ticket = desk.tickets()["items"][0]["id"]
    m = scrape(agent_key)
    assert value(m, "postdesk_outgoing_emails", status="queued", **mb) == 0
    assert has(m, "postdesk_outgoing_emails", status="sent", **mb)
    r = desk.admin.post("/api/tickets/%d/reply" % ticket, json={"body": "On it."})
    assert r.status_code == 202, r.text
    m = scrape(agent_key)
    assert value(m, "postdesk_outgoing_emails", status="queued", **mb) == 1
    assert value(m, "postdesk_outgoing_emails", status="sent", **mb) == 0
    desk.scan()
    m = scrape(agent_key)
    assert value(m, "postdesk_outgoing_emails", status="queued", **mb) == 0
    assert value(m, "postdesk_outgoing_emails", status="sent", **mb) == 1


def test_api_requests_counted_across_workers(stack, agent_key):
    """Requests answered by either of the stack's two workers add up in
    one table: the totals are exact, whichever worker is scraped."""
    missing = "/api/tickets/%d" % (10 ** 12 + secrets.randbelow(10 ** 6))
    key = ("postdesk_api_requests_total", {"method": "GET", "route": "/api/tickets/{id}",
                                           "status": "404"})
    ok = ("postdesk_api_requests_total", {"method": "GET", "route": "/api/session",
                                          "status": "200"})
    before = scrape(agent_key)
    sent = {"404": 0, "200": 0}
    lock = threading.Lock()

    def worker():
        c = Client(stack, dict(agent_key.http.headers))
        for _ in range(15):
            assert c.get(missing).status_code == 404
            assert c.get("/api/session").status_code == 200
            with lock:
                sent["404"] += 1
                sent["200"] += 1

    pids = set()
    for _ in range(5):  # until both workers have answered some
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = (stack.log_dir / "postdesk-api.log").read_text(errors="replace")
        pids = set(re.findall(r"postdesk-api\[(\d+)\]: \S+ (?:req=\S+ )?GET %s -> 404"
                              % re.escape(missing), log))
        if len(pids) >= 2:
            break
    assert len(pids) >= 2, pids
    assert sent["404"] >= 90
    # every scrape (each may be answered by either worker) sees every request
    for _ in range(4):
        m = scrape(agent_key)
        assert value(m, key[0], **key[1]) - value(before, key[0], **key[1]) == sent["404"]
        assert value(m, ok[0], **ok[1]) - value(before, ok[0], **ok[1]) == sent["200"]
    assert value(m, "postdesk_api_requests_total", method="GET", route="/api/metrics",
                 status="200") >= 5


def test_metrics_allow(new_stack):
    s = new_stack(workers=1, extra_env={"POSTDESK_METRICS_ALLOW": "192.0.2.0/24, 2001:db8::/32"})
    s.start()
    anon = Client(s)
    check_problem(anon.get("/api/metrics"), 401)  # 127.0.0.1 is not in the list
    # one wrong item stops every program, naming the key
    s.env["POSTDESK_METRICS_ALLOW"] = "127.0.0.1, prometheus.internal"
    r = s.admin("list-api-keys", check=False)
    assert r.returncode == 2, r
    assert "metrics_allow" in r.stderr and "prometheus.internal" in r.stderr, r.stderr
    s.stop()
    s.env["POSTDESK_METRICS_ALLOW"] = "192.0.2.0/24, 127.0.0.0/8"
    s.start()
    m = parse(anon.get("/api/metrics"))
    assert value(m, "postdesk_database_up") == 1
    # other routes still want credentials
    check_problem(anon.get("/api/tickets"), 401)
    # without the database the allowed scraper still gets an answer
    s.stop_db()
    try:
        m = parse(anon.get("/api/metrics"))
        assert value(m, "postdesk_database_up") == 0
        assert value(m, "postdesk_api_requests_total", method="GET", route="/api/metrics",
                     status="200") >= 1
        assert not any(k[0] == "postdesk_scans_total" for k in m)
    finally:
        s.start_db()
