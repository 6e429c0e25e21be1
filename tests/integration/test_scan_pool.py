"""A scanner run as a pool of workers over the schedule in the database
(issue 13, docs/scaling.md "Many mailboxes in one scanner").

postdesk-scan without --once: scan_workers processes claim the most
overdue mailbox (mailbox.scan_due, sql/0014_scan_schedule.sql) by one
conditional UPDATE, visit it within a budget and give it back.  These
tests run the real program against the fake Microsoft cloud and assert on
what happened — overlap of the fake's in-flight requests, order of the
incoming email log, the fake's folders — never on how fast.
"""
import os
import re
import signal
import subprocess
import time

from pd_helpers import keep_stderr, scan_env
from test_scan import LIST_PATH, World, closing_factory, ok_scan, scan, summary  # noqa: F401

import pytest


@pytest.fixture
def world(stack, fake, pd, admin_login):
    yield from closing_factory(lambda **fields: World(stack, fake, pd, admin_login, **fields))


def start_run(stack, seconds=60, workers=None, env=None, args=()):
    """postdesk-scan as cron starts it (a run of `seconds`)."""
    e = {"POSTDESK_SCAN_SECONDS": str(seconds), "POSTDESK_SCAN_INTERVAL": "1"}
    if workers is not None:
        e["POSTDESK_SCAN_WORKERS"] = str(workers)
    e.update(env or {})
    return subprocess.Popen([str(stack.bin / "postdesk-scan")] + list(args),
                            env=scan_env(stack, e), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def finish(stack, p, timeout=60):
    out, err = p.communicate(timeout=timeout)
    keep_stderr(stack, err)
    return out, err


def stop(stack, p, timeout=60):
    """SIGTERM the run; (seconds it took to exit, stdout, stderr)."""
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = finish(stack, p, timeout)
    return time.monotonic() - t0, out, err


def wait_for(cond, what, limit=90, run=None):
    """Until cond(); run: the scanner, which must not end meanwhile."""
    deadline = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < deadline, what
        if run is not None and run.poll() is not None:
            out, err = run.communicate()
            pytest.fail("the run ended (%s) before: %s\n%s\n%s" % (run.returncode, what, out, err))
        time.sleep(0.1)


def inbox_of(e):
    """The mailbox (its user's address) of a Graph log entry that lists an
    Inbox, or None."""
    if not re.search(LIST_PATH, e["path"]) or not e["user"]:
        return None
    return e["user"].lower()


def in_flight_listings(fake):
    """Mailboxes whose Inbox listing the fake is answering right now."""
    return {inbox_of(e) for e in fake.log("graph_log")
            if e["status"] is None and inbox_of(e)}


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie of a parent that is gone is reaped by init soon after
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def one_ticket_each(w, mids, sent):
    """Every mail sent to a mailbox: one ledger row, done, one ticket."""
    for mid in mids:
        rows = w.stack.sql("SELECT graph_id, attempt, state, outcome FROM incoming_email "
                           "WHERE mailbox_id = %d ORDER BY id" % mid)
        want = {m["immutable_id"] for m in sent[mid]}
        assert {r[0] for r in rows} == want, (mid, rows)
        assert len(rows) == len(want), (mid, rows)
        assert all(r[1:] == ["1", "done", "ticket_created"] for r in rows), (mid, rows)
        assert len(w.tickets(mid)) == len(want), mid


def test_many_mailboxes_are_served_concurrently(world, stack, fake):
    w = world(first_scan="all")
    mids = {w.mid: w.address}
    for i in range(23):
        mid, address = w.add_mailbox(local="pool%d" % i, first_scan="all")
        mids[mid] = address
    sent = {mid: [w.mail(mailbox=a, subject="Pool %d" % mid)] for mid, a in mids.items()}
    # every listing takes a while: a scanner visiting mailboxes one after
    # another would never have two in flight
    fake.ctl("faults", {"path": LIST_PATH, "delay_ms": 1200, "count": None})
    p = start_run(stack, workers=8)
    try:
        most = set()
        deadline = time.monotonic() + 90
        while len(most) < 6 and time.monotonic() < deadline and p.poll() is None:
            now = in_flight_listings(fake)
            if len(now) > len(most):
                most = now
            time.sleep(0.05)
        # the pool really works several Inboxes at once, never one twice
        assert len(most) >= 6, most
        assert most <= {a.lower() for a in mids.values()}
        wait_for(lambda: all(len(w.tickets(mid)) == 1 for mid in mids), "every mail ticketed")
    finally:
        took, out, err = stop(stack, p)
        fake._call("DELETE", "faults")
    assert "Sanitizer" not in err, err
    one_ticket_each(w, mids, sent)


def test_a_mailbox_with_thousands_waiting_does_not_delay_the_others(world, stack, fake):
    w = world(first_scan="all")
    big = w.mid
    small, small_address = w.add_mailbox(local="small", first_scan="all")
    for i in range(400):
        w.mail(subject="Backlog %d" % i)
    # slow the moves down so that the backlog outlasts any one visit
    fake.ctl("faults", {"path": r"\$batch$", "delay_ms": 300, "count": None})
    # one worker: the big mailbox and the small one must take turns
    p = start_run(stack, workers=1)
    try:
        wait_for(lambda: len(w.tickets(big)) > 0, "the backlog started")
        urgent = w.mail(mailbox=small_address, subject="Urgent")
        wait_for(lambda: len(w.tickets(small)) == 1, "the small mailbox's mail ticketed")
        # ... while the backlog is still far from drained
        left = len(w.inbox())
        assert left > 100, left
        # the budget gave the big mailbox back as due at once: it goes on
        done = len(w.tickets(big))
        wait_for(lambda: len(w.tickets(big)) > done, "the backlog goes on")
    finally:
        took, out, err = stop(stack, p)
        fake._call("DELETE", "faults")
    assert "Sanitizer" not in err, err
    row = stack.sql("SELECT graph_id, state FROM incoming_email WHERE mailbox_id = %d" % small)
    assert row == [[urgent["immutable_id"], "done"]], row
    # what the stop left is finished by the next pass, exactly once
    r = scan(stack, mailbox=big, timeout=300)
    assert r.returncode == 0, (r.stdout, r.stderr)
    rows = stack.sql("SELECT graph_id, COUNT(*) FROM incoming_email WHERE mailbox_id = %d "
                     "GROUP BY graph_id HAVING COUNT(*) > 1" % big)
    assert rows == []
    assert len(w.tickets(big)) == 400
    assert w.inbox() == []


def test_overlapping_runs_share_the_schedule(world, stack, fake):
    w = world(first_scan="all")
    mids = {w.mid: w.address}
    for i in range(5):
        mid, address = w.add_mailbox(local="both%d" % i, first_scan="all")
        mids[mid] = address
    sent = {mid: [] for mid in mids}
    fake.ctl("faults", {"path": LIST_PATH, "delay_ms": 150, "count": None})
    visits = "SELECT id, scans_ok + scans_failed FROM mailbox WHERE id IN (%s) ORDER BY id" \
        % ",".join(map(str, mids))
    before = dict(stack.sql(visits))
    t0 = time.monotonic()
    runs = [start_run(stack, seconds=8, workers=3) for _ in range(2)]
    # mail keeps arriving while both runs work
    while time.monotonic() - t0 < 6:
        for mid, a in mids.items():
            sent[mid].append(w.mail(mailbox=a, subject="Both %d" % mid))
        time.sleep(0.7)
    outs = []
    for p in runs:
        out, err = finish(stack, p)
        assert p.returncode == 0, (p.returncode, out, err)
        assert "Sanitizer" not in err, err
        outs.append(out)
    elapsed = time.monotonic() - t0
    after = dict(stack.sql(visits))
    fake._call("DELETE", "faults")
    # both runs visited mailboxes: they shared the work
    assert all(re.search(r"^mailbox \d+: found", o, re.M) for o in outs), outs
    # whatever arrived in the last second is for the next run
    r = scan(stack)
    assert r.returncode == 0, (r.stdout, r.stderr)
    one_ticket_each(w, mids, sent)
    # no leapfrogging: two runs do not visit a mailbox more often than one
    # would (scan_interval = 1 s after the end of the last visit), yet
    # every mailbox was visited again and again
    for mid in mids:
        n = int(after[str(mid)]) - int(before[str(mid)])
        assert 2 <= n <= elapsed / 1 + 2, (mid, n, elapsed)


def test_sigterm_ends_a_run_within_a_second(world, stack, fake):
    w = world(first_scan="all")
    other, other_address = w.add_mailbox(local="other", first_scan="all")
    w.mail()
    w.mail(mailbox=other_address)
    # Graph hangs on the listing: the workers are mid-request when told
    fake.ctl("faults", {"path": LIST_PATH, "delay_ms": 15000, "count": None})
    p = start_run(stack, workers=2)
    try:
        wait_for(lambda: len(in_flight_listings(fake)) == 2, "both listings under way", run=p)
        workers = children(p.pid)
        assert len(workers) == 2, workers
        took, out, err = stop(stack, p, timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
        fake._call("DELETE", "faults")
    # a correctness bound, not a benchmark: without the abort the run would
    # wait out the 15-s answers (and before, scan_interval after the pass)
    assert took < 5, took
    assert p.returncode == 0, (p.returncode, out, err)
    assert "Sanitizer" not in err, err
    wait_for(lambda: not any(alive(c) for c in workers), "the workers exited", limit=5)
    # the stop is nobody's fault: no error on the mailboxes, no failed mail,
    # and the mailboxes are free and due for the next run at once
    for mid in (w.mid, other):
        row = stack.sql("SELECT COALESCE(last_error, ''), lease_until IS NULL, "
                        "scan_due <= UTC_TIMESTAMP(3) FROM mailbox WHERE id = %d" % mid)
        assert row == [["", "1", "1"]], (mid, row)
        assert stack.sql("SELECT COUNT(*) FROM incoming_email WHERE mailbox_id = %d" % mid) \
            == [["0"]]
    r = scan(stack)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert len(w.tickets()) == 1 and len(w.tickets(other)) == 1


def test_host_id_tells_hosts_apart(world, stack):
    w = world(first_scan="all")
    w.mail()
    # a scanner of "hosta" that no longer runs holds the lease
    dead = 4194303
    stack.sql("UPDATE mailbox SET lease_owner = 'hosta:%d', lease_until = "
              "UTC_TIMESTAMP(3) + INTERVAL 60 SECOND WHERE id = %d" % (dead, w.mid))
    # hostb cannot know whether it runs: it waits for the lease to run out
    r = scan(stack, mailbox=w.mid, env={"POSTDESK_HOST_ID": "hostb"})
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert summary(r, w.mid) is None, r.stdout
    assert w.tickets() == []
    # hosta sees that its own scanner is gone and takes over at once
    r = scan(stack, mailbox=w.mid, env={"POSTDESK_HOST_ID": "hosta"})
    assert summary(r, w.mid)["ticketed"] == 1, r.stdout
    assert "taking over the lease of hosta:%d" % dead in stack.logs()
    # a bad host_id is a configuration error naming the key
    r = scan(stack, mailbox=w.mid, env={"POSTDESK_HOST_ID": "a:b"})
    assert r.returncode == 2 and "host_id" in r.stderr, (r.returncode, r.stderr)


def test_a_run_frees_the_leases_of_its_hosts_dead_workers(world, stack):
    w = world(first_scan="all")
    w.mail()
    dead = 4194302
    stack.sql("UPDATE mailbox SET lease_owner = 'hostc:%d', lease_until = "
              "UTC_TIMESTAMP(3) + INTERVAL 60 SECOND, scan_due = UTC_TIMESTAMP(3) + "
              "INTERVAL 60 SECOND WHERE id = %d" % (dead, w.mid))
    p = start_run(stack, seconds=30, workers=1, env={"POSTDESK_HOST_ID": "hostc"},
                  args=["--mailbox", str(w.mid)])
    try:
        wait_for(lambda: len(w.tickets()) == 1, "the mail of the dead worker's mailbox", limit=20)
    finally:
        took, out, err = stop(stack, p)
    assert "freed the lease of hostc:%d" % dead in stack.logs()


def test_a_worker_killed_mid_visit_is_replaced_and_nothing_is_lost(world, stack, fake):
    w = world(first_scan="all")
    sent = {w.mid: [w.mail(subject="Kill %d" % i) for i in range(5)]}
    fake.ctl("faults", {"path": r"\$batch$", "delay_ms": 2000, "count": 1})
    p = start_run(stack, workers=1)
    try:
        # the worker has taken the mail in and waits on the moves
        wait_for(lambda: any(re.search(r"\$batch$", e["path"]) and e["status"] is None
                             for e in fake.log("graph_log")), "the $batch under way", run=p)
        [victim] = children(p.pid)
        os.kill(victim, signal.SIGKILL)
        # the run starts another worker, which frees the dead one's lease
        wait_for(lambda: [c for c in children(p.pid) if c != victim], "a new worker", run=p)
        wait_for(lambda: w.inbox() == [], "the Inbox drained", run=p)
    finally:
        took, out, err = stop(stack, p)
        fake._call("DELETE", "faults")
    assert "Sanitizer" not in err, err
    assert p.returncode == 1, (p.returncode, out, err)  # a worker died
    logs = stack.logs()
    assert "scanner worker %d died (signal 9)" % victim in logs
    assert "freed the lease of" in logs and ":%d, which is gone" % victim in logs
    one_ticket_each(w, [w.mid], sent)


def test_sighup_to_the_run_reopens_its_workers_logs(world, stack, fake):
    w = world(first_scan="all")
    # every visit fails, so every visit writes a log line
    fake.ctl("faults", {"path": LIST_PATH, "status": 400, "count": None})
    log = stack.log_dir / "postdesk-scan.log"
    p = start_run(stack, workers=1)
    try:
        wait_for(lambda: log.exists() and "mailbox %d: scan failed" % w.mid in log.read_text(),
                 "a worker's line", run=p)
        [worker] = children(p.pid)
        os.rename(log, str(log) + ".old")
        p.send_signal(signal.SIGHUP)  # the run only, as stack.sh reopen-logs does
        wait_for(lambda: log.exists() and re.search(r"postdesk-scan\[%d\]: error mailbox %d: scan "
                                                    r"failed" % (worker, w.mid), log.read_text()),
                 "the worker's line in the new file", run=p)
        assert children(p.pid) == [worker]  # reopened, not restarted
    finally:
        took, out, err = stop(stack, p)
        fake._call("DELETE", "faults")
        if os.path.exists(str(log) + ".old"):
            with open(log, "a") as f:
                f.write(open(str(log) + ".old").read())
    assert "Sanitizer" not in err, err


GENERAL_LOG_LINE = re.compile(r"^(?:\S+ +\S+)?\t+ *(\d+) (\w+)\t(.*)$")


def executed(path):
    """(connection id, statement) of every prepared statement the MariaDB
    general log at path holds, in order."""
    out = []
    with open(path, errors="replace") as fh:
        for line in fh:
            m = GENERAL_LOG_LINE.match(line.rstrip("\n"))
            if m and m.group(2) == "Execute":
                out.append((m.group(1), m.group(3)))
    return out


def test_an_idle_visit_costs_four_statements(world, stack):
    """docs/scaling.md "An idle visit": with nothing in the Inbox, nothing
    queued and no ledger row pending, a visit is the claim, the target row
    (which says whether there is more to do), the mailbox's credentials and
    one UPDATE that records the scan and drops the lease — no outgoing or
    ledger query, no separate lease drop.  (Push's subscription queries come
    on top; docs/scaling.md says how many.)"""
    w = world()
    ok_scan(w)
    stack.sql("UPDATE mailbox SET scan_due = NULL")
    log = stack.run / "general.log"
    stack.sql("SET GLOBAL general_log_file = '%s'; SET GLOBAL log_output = 'FILE'; "
              "SET GLOBAL general_log = 1" % log)
    try:
        out, _ = finish(stack, start_run(stack, seconds=3, workers=1))
    finally:
        stack.sql("SET GLOBAL general_log = 0")
    stmts = executed(log)
    finishes = [c for c, s in stmts if s.startswith("UPDATE mailbox SET last_scan_at")]
    assert finishes, stmts
    worker = finishes[0]
    mine = [s for c, s in stmts if c == worker]
    visits = 0
    for i, s in enumerate(mine):
        if not s.startswith("UPDATE mailbox SET last_scan_at"):
            continue
        claim = max(j for j in range(i) if "LAST_INSERT_ID(id)" in mine[j])
        # push keeps its subscription in step on every visit
        # (lib/domain/push.c): its own statements, not counted here
        window = [w for w in mine[claim:i + 1] if "graph_subscription" not in w]
        assert len(window) <= 4, window
        visits += 1
    assert visits == len(finishes)
    for c, s in stmts:
        assert not s.startswith("UPDATE mailbox SET lease_until = NULL"), s
        if not s.startswith("SELECT id, COALESCE(NULLIF(shared_address"):
            assert "outgoing_email" not in s and "incoming_email" not in s, s
    assert "mailbox %d: found 0" % w.mid in out
