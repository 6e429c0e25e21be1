"""The cluster test (issue 13, item 5; docs/scaling.md, "Several hosts" and
"MariaDB Galera"): the same programs on a 3-node Galera cluster
(scripts/galera.sh), two hosts, and a database node and a host killed
mid-run. Marked `cluster`: `make test-cluster` runs it, not `make test`
(it starts three database servers and sits out a scan lease, 90 s);
.ci/run runs it after `make check`.

  host a  the stack's own API pool and a scanner, host_id a, on node 1
          (then 2, 3: db_host lists the nodes in its order)
  host b  an API pool on a TCP port (nginx's upstream has both) and a
          scanner, host_id b, on node 2 (then 3, 1)

The stack's own MariaDB stays unused: every program reaches the cluster
through POSTDESK_DB_HOST, and the test's SQL goes to node 1 (never killed).
Six mailboxes at the fake Microsoft cloud get mail at random moments.
Then, mid-run: node 2 dies (host b goes on through node 3), every access
token expires at the fake (both hosts refresh at once, on different
nodes), host a dies whole while holding leases, and node 2 comes back
(IST). Asserted: every mail one ticket (the ticket and the incoming log)
and one acknowledgement (the fake's sent mail), the API answers through
nginx throughout, no mailbox needs reauthorization, host b takes host a's
mailboxes over only once their leases ran out, and the three nodes agree.
"""
import os
import secrets
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import procs
from pd_helpers import unique
from pd_hosts import Host, HostDeath, World

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parent.parent.parent
GALERA = ROOT / "scripts" / "galera.sh"


def free_base():
    """A base port whose 12 ports scripts/galera.sh uses are all free."""
    for _ in range(50):
        base = 20000 + secrets.randbelow(400) * 100
        ports = [base + o + n for o in (0, 10, 20, 30) for n in (1, 2, 3)]
        try:
            for p in ports:
                socket.create_server(("127.0.0.1", p)).close()
            return base
        except OSError:
            continue
    raise AssertionError("no free port range for the cluster")


class Galera:
    """scripts/galera.sh on private directories and ports."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="pd-cluster-"))
        os.chmod(self.dir, 0o755)  # mkdtemp: 0700, which mariadbd cannot enter here
        self.base = free_base()
        self.env = dict(os.environ, POSTDESK_GALERA_DIR=str(self.dir / "g"),
                        POSTDESK_GALERA_RUN="/tmp/pdg-" + secrets.token_hex(3),
                        POSTDESK_GALERA_PORT=str(self.base))
        self.password = secrets.token_hex(16)
        self.failed = False

    def sh(self, *args, timeout=180):
        r = subprocess.run([str(GALERA), *map(str, args)], env=self.env, capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            self.failed = True
            logs = "".join("\n--- node %d: %s\n%s" % (n, p, "\n".join(
                p.read_text(errors="replace").splitlines()[-15:]))
                for n in (1, 2, 3) for p in [self.dir / "g" / ("node%d" % n) / "mariadb.err"]
                if p.exists())
            raise AssertionError("galera.sh %s: exit %d\n%s%s%s" % (
                " ".join(map(str, args)), r.returncode, r.stdout, r.stderr, logs))
        return r.stdout

    def nodes(self, *order):
        """db_host for a host that tries these nodes in this order."""
        return ",".join("127.0.0.1:%d" % (self.base + n) for n in order)

    def sql(self, query, node=1):
        r = subprocess.run([str(GALERA), "sql", str(node), "postdesk", "-N", "-B", "-e", query],
                           env=self.env, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise AssertionError("SQL on node %d failed: %s\n%s" % (node, query, r.stderr))
        return [line.split("\t") for line in r.stdout.splitlines()]


@pytest.fixture(scope="module")
def galera(request):
    g = Galera()
    try:
        g.sh("start")
        # The migrations create triggers, which a server writing a binary
        # log (Galera's) refuses without this (scripts/galera.sh may set it).
        for n in (1, 2, 3):
            subprocess.run([str(GALERA), "sql", str(n), "-e",
                            "SET GLOBAL log_bin_trust_function_creators = 1"],
                           env=g.env, check=True, capture_output=True, timeout=30)
        g.sh("setup-db", g.password)
        yield g
    finally:
        subprocess.run([str(GALERA), "stop"], env=g.env, capture_output=True, timeout=180)
        if g.failed or request.session.testsfailed or os.environ.get("POSTDESK_KEEP") == "1":
            print("\nGalera cluster's datadirs and logs kept in %s" % g.dir)
        else:
            subprocess.run(["rm", "-rf", str(g.dir)])


@pytest.fixture(scope="module")
def api_port():
    return procs.free_ports(1)[0]


def db_env(galera, *order):
    return {"POSTDESK_DB_SOCKET": "", "POSTDESK_DB_HOST": galera.nodes(*order),
            "POSTDESK_DB_PASSWORD": galera.password}


@pytest.fixture(scope="module")
def stack_env(fake_server, api_port, galera):
    """The stack's programs (host a's API, postdesk-admin, the OAuth
    callbacks) on the cluster, node 1 first."""
    env = {"POSTDESK_LOGIN_URL": fake_server.url, "POSTDESK_GRAPH_URL": fake_server.url,
           "POSTDESK_API_BACKENDS": "127.0.0.1:%d" % api_port, "POSTDESK_SCAN_INTERVAL": "1"}
    env.update(db_env(galera, 1, 2, 3))
    return env


@pytest.fixture(scope="module")
def cluster_stack(module_stack, galera):
    # The stack's helpers (connect_mailbox, ...) query the database through
    # stack.sql: the cluster's, not the stack's own unused MariaDB.
    module_stack.sql = galera.sql
    return module_stack


@pytest.fixture(scope="module")
def hosts(cluster_stack, galera, api_port):
    a = Host(cluster_stack, "a", db_env(galera, 1, 2, 3))
    b = Host(cluster_stack, "b", db_env(galera, 2, 3, 1))
    b.start_api(api_port)
    yield a, b
    a.stop()
    b.stop()


def refresh_grants(fake):
    return [e for e in fake.log("token_log") if e["grant_type"] == "refresh_token"]


def test_mail_once_through_a_dead_node_and_a_dead_host(cluster_stack, galera, hosts, fake_server,
                                                       api_port):
    stack, (a, b) = cluster_stack, hosts
    world = World(stack, fake_server)
    run = HostDeath(stack, world, a, b, "127.0.0.1:%d" % api_port, galera.sql, unique("cluster"))
    run.start()
    try:
        run.both_work()
        # Host b's node dies: b goes on through node 3.
        galera.sh("kill-node", 2)
        # Every access token expires: each host refreshes the tokens of
        # the mailboxes it visits, on its own node, at the same time.
        reuse = world.fake.get("state")["refresh_reuse"]
        refreshes = len(refresh_grants(world.fake))
        world.fake.ctl("access_tokens/expire", {})
        run.kill_a_holding_leases()
        run.mail_after_death(seconds=5)
        # Node 2 comes back while mail flows (IST from the others).
        galera.sh("start-node", 2)
        run.mail_after_death(seconds=2)
    finally:
        run.traffic.stop()
    run.check()
    # Every mailbox refreshed its token, and strict rotation held across
    # the nodes: no rotated-out refresh token was presented again (Microsoft
    # would revoke the grant).
    assert len(refresh_grants(world.fake)) - refreshes >= len(world.addresses)
    assert world.fake.get("state")["refresh_reuse"] == reuse
    # The three nodes hold the same tickets and log.
    counts = [galera.sql("SELECT (SELECT COUNT(*) FROM ticket), (SELECT COUNT(*) FROM "
                         "incoming_email), (SELECT COUNT(*) FROM outgoing_email)", node=n)
              for n in (1, 2, 3)]
    assert counts[0] == counts[1] == counts[2], counts
    print("\n" + run.figures())
