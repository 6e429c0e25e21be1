"""The scanner's pool and schedule (docs/scaling.md "Many mailboxes in one
scanner") on a real 3-node MariaDB Galera cluster: two runs of two
"hosts" (host_id), each writing through another node, claim mailboxes by
the conditional UPDATE of lib/store/mailbox_scan.c while mail arrives.
Galera fails a conflicting claim at commit (1213): that is "another
scanner got it", never a mail twice.  Runs in `make test-cluster` (marker
`cluster`), with the cluster and stacks of tests/integration/test_galera.py.
"""
import subprocess
import time

import pytest

import pd_helpers
from test_galera import admin_login_g, cluster, stacks  # noqa: F401 (fixtures)

pytestmark = pytest.mark.cluster


def _run(stack, cluster, node, host, seconds):
    """postdesk-scan as cron starts it on "host", through node."""
    env = dict(stack.env, POSTDESK_CONF=stack.conf, POSTDESK_DB_HOST=cluster.hosts(node),
               POSTDESK_HOST_ID=host, POSTDESK_SCAN_SECONDS=str(seconds),
               POSTDESK_SCAN_INTERVAL="1", POSTDESK_SCAN_WORKERS="3")
    return subprocess.Popen([str(stack.bin / "postdesk-scan")], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_hosts_share_the_schedule_through_two_nodes(cluster, stacks, fake_server,  # noqa: F811
                                                         admin_login_g):  # noqa: F811
    desks = [pd_helpers.Desk(stacks["A"], fake_server, admin_login_g) for _ in range(4)]
    sent = {d.mid: [] for d in desks}
    runs = [_run(stacks["A"], cluster, 1, "hosta", 10), _run(stacks["B"], cluster, 2, "hostb", 10)]
    t0 = time.monotonic()
    while time.monotonic() - t0 < 7:
        for d in desks:
            sent[d.mid].append(d.send("Pool %d %d" % (d.mid, len(sent[d.mid])), "c@example.org"))
        time.sleep(0.5)
    for p in runs:
        out, err = p.communicate(timeout=120)
        pd_helpers.keep_stderr(stacks["A"], err)
        assert p.returncode == 0, (p.returncode, out, err[-3000:])
        assert "Sanitizer" not in err, err
        assert "mailbox " in out, out  # both hosts visited mailboxes
    for d in desks:  # what arrived at the very end
        d.scan()
    cluster.sync(3)
    for d in desks:
        rows = cluster.sql("SELECT graph_id, attempt, state FROM incoming_email WHERE "
                           "mailbox_id = %d" % d.mid, 3)
        want = {m["immutable_id"] for m in sent[d.mid]}
        assert sorted(r[0] for r in rows) == sorted(want), (d.mid, rows)
        assert all(r[1:] == ["1", "done"] for r in rows), rows
        assert cluster.sql("SELECT COUNT(*) FROM ticket WHERE mailbox_id = %d" % d.mid, 3) \
            == [[str(len(want))]]
        # free for the next run, due again
        assert cluster.sql("SELECT lease_until IS NULL, scan_due IS NOT NULL FROM mailbox "
                           "WHERE id = %d" % d.mid, 3) == [["1", "1"]]
