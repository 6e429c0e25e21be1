"""postdesk on a real 3-node MariaDB Galera cluster (scripts/galera.sh;
docs/scaling.md "MariaDB Galera").  Runs in `make test-cluster` (marker
`cluster`), not in `make test-integration`.

The module starts one cluster on free loopback ports and three API stacks
(tests/conftest.py Stack: nginx, the FastCGI programs) whose programs use it
through db_host — a list of the three nodes, each stack's starting at
another node (A: 1, B: 2, C: 3) — and share one secret.key, like API hosts
of one installation.  Then: the migrations, mail through the scanner into
tickets, a certification conflict forced on purpose and retried, strict
refresh-token rotation while the three nodes refresh one mailbox at once,
and a node killed and brought back while the API keeps answering.
"""
import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import pd_helpers

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parent.parent.parent
GALERA_SH = ROOT / "scripts" / "galera.sh"

_spec = importlib.util.spec_from_file_location("pd_root_conftest", ROOT / "tests" / "conftest.py")
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)


def _ports_free(ports):
    socks = []
    try:
        for p in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
            socks.append(s)
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def _pick_base():
    # galera.sh: node N uses base+N, base+10+N, base+20+N, base+30+N.
    for _ in range(200):
        base = secrets.randbelow(25000) + 30000
        if _ports_free([base + off + n for off in (0, 10, 20, 30) for n in (1, 2, 3)]):
            return base
    raise RuntimeError("no free block of ports for the cluster")


class Cluster:
    def __init__(self, tmp):
        self.dir = Path(tmp) / "galera"
        self.run = "/tmp/glr-" + secrets.token_hex(4)
        self.base = _pick_base()
        self.password = secrets.token_hex(16)
        self.env = dict(os.environ, POSTDESK_GALERA_DIR=str(self.dir), POSTDESK_GALERA_RUN=self.run,
                        POSTDESK_GALERA_PORT=str(self.base))

    def sh(self, *args, timeout=240):
        r = subprocess.run([str(GALERA_SH), *args], env=self.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0, "galera.sh %s: exit %d\n%s%s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr[-4000:])
        return r.stdout

    def hosts(self, first):
        order = [first] + [n for n in (1, 2, 3) if n != first]
        return ",".join("127.0.0.1:%d" % (self.base + n) for n in order)

    def client(self, node):
        return ["mariadb", "--no-defaults", "--socket=%s/n%d.sock" % (self.run, node), "-uroot"]

    def sql(self, query, node=1):
        r = subprocess.run(self.client(node) + ["postdesk", "-N", "-B", "-e", query],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("SQL on node %d failed: %s\n%s" % (node, query, r.stderr))
        return [line.split("\t") for line in r.stdout.splitlines()]

    def status(self, name, node):
        return int(self.sql("SHOW GLOBAL STATUS LIKE '%s'" % name, node)[0][1])

    def sync(self, node):
        """Wait (in the server) until node has applied every write the
        cluster committed before now."""
        self.sql("SET SESSION wsrep_sync_wait = 1; SELECT 1", node)


class GaleraStack(_root.Stack):
    """A stack whose programs use the cluster; sql() asks a node of it."""

    cluster = None
    node = 1

    def sql(self, query):
        self.cluster.sync(self.node)
        return self.cluster.sql(query, self.node)


@pytest.fixture(scope="module")
def cluster():
    tmp = tempfile.mkdtemp(prefix="galera-test-")
    os.chmod(tmp, 0o711)
    c = Cluster(tmp)
    t0 = time.monotonic()
    try:
        c.sh("start")
        c.sh("setup-db", c.password)
    except Exception:
        subprocess.run([str(GALERA_SH), "stop"], env=c.env, capture_output=True, timeout=120)
        raise
    c.start_seconds = time.monotonic() - t0
    yield c
    subprocess.run([str(GALERA_SH), "stop"], env=c.env, capture_output=True, timeout=120)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def stacks(request, cluster, fake_server):
    """Stacks A, B and C (dict), their db_host starting at node 1, 2, 3."""
    made = {}
    try:
        for name, node in (("A", 1), ("B", 2), ("C", 3)):
            env = {"POSTDESK_LOGIN_URL": fake_server.url, "POSTDESK_GRAPH_URL": fake_server.url,
                   "POSTDESK_DB_SOCKET": "", "POSTDESK_DB_HOST": cluster.hosts(node),
                   "POSTDESK_DB_PASSWORD": cluster.password, "POSTDESK_LOG_LEVEL": "debug"}
            if made:  # one installation: every API host seals with one key
                env["POSTDESK_KEY_FILE"] = str(made["A"].var / "secret.key")
            s = GaleraStack(tempfile.mkdtemp(prefix="pd-test-galera%s-" % name), workers=2,
                            extra_env=env)
            s.cluster, s.node = cluster, node
            made[name] = s
            s.start()
    except Exception:
        for s in made.values():
            _root._stop_and_check(s, keep=True)
        raise
    yield made
    failed = request.session.testsfailed > 0
    problems = [p for p in (_root._stop_and_check(s, keep=failed) for s in made.values()) if p]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def admin_login_g(stacks):
    return pd_helpers.new_agent(stacks["A"], "admin")


@pytest.fixture(scope="module")
def desk(stacks, fake_server, admin_login_g):
    """A connected mailbox at the fake (pd_helpers.Desk), made through A."""
    return pd_helpers.Desk(stacks["A"], fake_server, admin_login_g)


def _client(stack, admin_login):
    c = pd_helpers.Client(stack, timeout=60)
    c.login(*admin_login)
    return c


def _scan(stack, cluster, mid, node):
    """postdesk-scan --once for mailbox mid, its db_host starting at node."""
    env = dict(stack.env, POSTDESK_CONF=stack.conf, POSTDESK_DB_HOST=cluster.hosts(node))
    r = subprocess.run([str(stack.bin / "postdesk-scan"), "--once", "--mailbox", str(mid)],
                       env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    pd_helpers.keep_stderr(stack, r.stderr)
    assert r.returncode == 0, (r.returncode, r.stderr[-3000:])
    return r


def test_cluster_and_migrations(cluster, stacks):
    for n in (1, 2, 3):
        assert cluster.status("wsrep_cluster_size", n) == 3
        assert cluster.sql("SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'", n)[0][1] == "Synced"
    versions = [cluster.sql("SELECT GROUP_CONCAT(version ORDER BY version) FROM schema_migrations",
                            n) for n in (1, 2, 3)]
    assert versions[0] == versions[1] == versions[2]
    assert "15" in versions[0][0][0].split(","), versions
    # the rules of tests/integration/test_galera_rules.py, on the cluster
    assert cluster.sql(
        "SELECT t.table_name FROM information_schema.TABLES t LEFT JOIN "
        "information_schema.TABLE_CONSTRAINTS c ON c.table_schema = t.table_schema "
        "AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY' "
        "WHERE t.table_schema = 'postdesk' AND c.constraint_name IS NULL", 2) == []
    print("\ncluster started in %.1f s" % cluster.start_seconds)


def test_mail_becomes_tickets_through_other_nodes(cluster, stacks, desk, admin_login_g):
    subjects = ["Galera %d %s" % (i, secrets.token_hex(3)) for i in range(3)]
    for s in subjects:
        desk.send(s, "customer@example.org")
    _scan(stacks["A"], cluster, desk.mid, node=2)  # the scanner writes through node 2
    c = _client(stacks["C"], admin_login_g)       # the API reads through node 3
    cluster.sync(3)
    r = c.get("/api/tickets?mailbox=%d&limit=50" % desk.mid)
    assert r.status_code == 200, r.text
    got = sorted(t["subject"] for t in r.json()["items"])
    assert got == sorted(subjects)
    # one ledger row per message, each done
    rows = cluster.sql("SELECT COUNT(*), COUNT(DISTINCT graph_id), SUM(state = 'done') "
                       "FROM incoming_email WHERE mailbox_id = %d" % desk.mid, 1)
    assert rows == [["3", "3", "3"]]
    # a second scan through node 3 finds nothing new
    _scan(stacks["A"], cluster, desk.mid, node=3)
    assert cluster.sql("SELECT COUNT(*) FROM incoming_email WHERE mailbox_id = %d" % desk.mid, 1) \
        == [["3"]]


def _wait(what, cond, seconds=60):
    # a bound on a wait for an event, not a timing assertion
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_certification_conflict_is_retried(cluster, stacks, desk, admin_login_g):
    """A ticket update through node 1 holds the ticket row and waits (for
    the assignee's agent row, locked by a client of node 1) when node 2
    commits a change to the same ticket: Galera aborts the update (1213),
    db_txn() runs it again, and both changes end up in the ticket."""
    a = stacks["A"]
    tid = int(cluster.sql("SELECT MIN(id) FROM ticket WHERE mailbox_id = %d" % desk.mid, 1)[0][0])
    agent = int(cluster.sql("SELECT id FROM agent WHERE username = '%s'" % admin_login_g[0], 1)[0][0])
    cluster.sql("UPDATE ticket SET status = 'open', priority = 'normal', assignee_id = NULL "
                "WHERE id = %d" % tid, 1)
    c = _client(a, admin_login_g)  # signing in writes the agent row: before the lock
    aborts = cluster.status("wsrep_local_bf_aborts", 1)
    holder = subprocess.Popen(cluster.client(1) + ["postdesk", "-N", "-B", "--unbuffered"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write("BEGIN; SELECT id FROM agent WHERE id = %d FOR UPDATE;\n" % agent)
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == str(agent)
        out = {}
        t = threading.Thread(target=lambda: out.update(r=c.patch(
            "/api/tickets/%d" % tid, json={"status": "pending", "assignee_id": agent})))
        t.start()
        _wait("the update to wait for the agent row", lambda: cluster.sql(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'",
            1) != [["0"]])
        cluster.sql("UPDATE ticket SET priority = 'high' WHERE id = %d" % tid, 2)
        _wait("node 1 to abort the update", lambda: cluster.status("wsrep_local_bf_aborts", 1) > aborts)
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        t.join(120)
        assert not t.is_alive()
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()
    r = out["r"]
    assert r.status_code == 200, r.text
    cluster.sync(3)
    assert cluster.sql("SELECT status, priority, assignee_id FROM ticket WHERE id = %d" % tid, 3) \
        == [["pending", "high", str(agent)]]
    # one action per change, none twice from the aborted run
    assert sorted(cluster.sql("SELECT kind, COUNT(*) FROM ticket_action WHERE ticket_id = %d "
                              "AND kind IN ('status', 'assignment') GROUP BY kind" % tid, 3)) \
        == [["assignment", "1"], ["status", "1"]]
    assert "transaction tried again (1213)" in a.logs()


def test_refresh_races_keep_strict_rotation(cluster, stacks, desk, admin_login_g):
    """Test connection refreshes the access token for real; six at a time
    through the three nodes, eight times over: the fake refuses and counts
    every rotated-out refresh token presented again."""
    fake = pd_helpers.Fake(desk.url)
    before = fake.get("state")["refresh_reuse"]
    clients = [_client(stacks[n], admin_login_g) for n in ("A", "A", "B", "B", "C", "C")]
    grants0 = [e for e in fake.log("token_log") if e["grant_type"] == "refresh_token"]
    answers = []
    for _ in range(8):
        barrier = threading.Barrier(len(clients))

        def one(c):
            barrier.wait()
            answers.append(c.post("/api/mailboxes/%d/test" % desk.mid))
        threads = [threading.Thread(target=one, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert len(answers) == 48
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers if r.status_code != 200]
    grants = [e for e in fake.log("token_log") if e["grant_type"] == "refresh_token"][len(grants0):]
    assert fake.get("state")["refresh_reuse"] == before
    assert [e for e in grants if e["status"] != 200] == []
    assert len(grants) >= 8  # every round refreshed at least once
    passed = sum(1 for r in answers if r.json()["passed"])
    assert passed >= 8
    for n in (1, 2, 3):
        cluster.sync(n)
        assert cluster.sql("SELECT status FROM mailbox WHERE id = %d" % desk.mid, n) == [["connected"]]
    # the mailbox still works: a new mail through the scanner
    desk.send("After the races", "customer@example.org")
    _scan(stacks["B"], cluster, desk.mid, node=2)
    assert cluster.sql("SELECT COUNT(*) FROM ticket WHERE mailbox_id = %d AND subject = "
                       "'After the races'" % desk.mid, 1) == [["1"]]
    print("\n%d refreshes, %d of 48 tests passed" % (len(grants), passed))


def test_node_killed_and_rejoined_while_api_answers(cluster, stacks, desk, admin_login_g):
    a = stacks["A"]
    c = _client(a, admin_login_g)
    stop = threading.Event()
    codes = []

    def reader():
        while not stop.is_set():
            codes.append(c.get("/api/tickets?mailbox=%d" % desk.mid).status_code)

    t = threading.Thread(target=reader)
    t.start()
    try:
        _wait("a first answer", lambda: len(codes) > 3)
        cluster.sh("kill-node", "1")  # the node A's programs use
        n0 = len(codes)
        _wait("answers without node 1", lambda: len(codes) > n0 + 10)
        # writes go on through the two nodes left (a quorum of three)
        r = c.post("/api/tickets/%d/notes" % int(cluster.sql(
            "SELECT MIN(id) FROM ticket WHERE mailbox_id = %d" % desk.mid, 2)[0][0]),
            json={"body": "written while node 1 is down"})
        assert r.status_code == 201, r.text
        cluster.sh("start-node", "1")  # rejoins (IST) and waits for Synced
        n1 = len(codes)
        _wait("answers after the rejoin", lambda: len(codes) > n1 + 10)
    finally:
        stop.set()
        t.join(60)
    assert set(codes) == {200}, [x for x in codes if x != 200]
    assert cluster.status("wsrep_cluster_size", 1) == 3
    cluster.sync(1)
    assert cluster.sql("SELECT COUNT(*) FROM ticket_action WHERE body = "
                       "'written while node 1 is down'", 1) == [["1"]]
    # mail still flows, the scanner starting at the node that was killed
    desk.send("After the rejoin", "customer@example.org")
    _scan(a, cluster, desk.mid, node=1)
    assert cluster.sql("SELECT COUNT(*) FROM ticket WHERE subject = 'After the rejoin'", 3) == [["1"]]


def test_node_refusing_clients_is_left_for_the_next(cluster, stacks, desk, admin_login_g):
    """A node that is up but not ready for clients answers 1047 (as one
    not Synced, or cut off from the quorum, does): the programs move to the
    next node of db_host instead of failing.  Nodes 1 and 2 refuse clients,
    so A's programs (db_host 1, 2, 3), wherever they are now, end up on 3."""
    a = stacks["A"]
    c = _client(a, admin_login_g)
    assert c.get("/api/tickets?mailbox=%d" % desk.mid).status_code == 200
    tid = int(cluster.sql("SELECT MIN(id) FROM ticket WHERE mailbox_id = %d" % desk.mid, 3)[0][0])
    try:
        for n in (1, 2):
            cluster.sql("SET GLOBAL wsrep_reject_queries = ALL", n)
        r = subprocess.run(cluster.client(2) + ["-e", "SELECT COUNT(*) FROM postdesk.ticket"],
                           capture_output=True, text=True, timeout=60)
        assert "1047" in r.stderr, r.stderr  # what A's programs now meet on nodes 1 and 2
        for _ in range(6):  # both workers
            r = c.get("/api/tickets?mailbox=%d" % desk.mid)
            assert r.status_code == 200, r.text
        r = c.post("/api/tickets/%d/notes" % tid, json={"body": "written while 1 and 2 refuse"})
        assert r.status_code == 201, r.text
    finally:
        for n in (1, 2):
            subprocess.run(cluster.client(n) + ["-e", "SET GLOBAL wsrep_reject_queries = NONE"],
                           capture_output=True, timeout=60)
    assert "database connection lost (1047)" in a.logs()
    cluster.sync(1)
    assert cluster.sql("SELECT COUNT(*) FROM ticket_action WHERE body = "
                       "'written while 1 and 2 refuse'", 1) == [["1"]]
