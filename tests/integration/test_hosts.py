"""Several hosts on one database (issue 13, item 3; docs/scaling.md,
"Several hosts").

Two hosts share this module's stack (its MariaDB, nginx and postdesk.conf),
each a set of process groups with its own host_id and runtime directory
(tests/pd_hosts.py):

  host a  the stack's own API pool (unix socket) and a scanner, host_id a
  host b  an API pool on a TCP port (listed in POSTDESK_API_BACKENDS, so
          nginx's upstream has both) and a scanner, host_id b

Six mailboxes at the fake Microsoft cloud are connected the real way and
get mail at random moments. Then a backend of the API dies (the API keeps
answering through nginx), and host a dies whole while its scanner holds
leases: host b takes those mailboxes over once the leases run out (not
before: a lease of another host is never taken early), and every mail
becomes one ticket and one acknowledgement, none twice, none lost.
"""
import time

import pytest

import procs
from pd_helpers import mailbox_input, unique
from pd_hosts import Host, HostDeath, Reader, World, access_log, fastcgi_get, in_rotation


@pytest.fixture(scope="module")
def api_port():
    return procs.free_ports(1)[0]


@pytest.fixture(scope="module")
def stack_env(fake_server, api_port):
    """The module's stack: the fake, host b's API in nginx's upstream, a
    pass every second."""
    return {"POSTDESK_LOGIN_URL": fake_server.url, "POSTDESK_GRAPH_URL": fake_server.url,
            "POSTDESK_API_BACKENDS": "127.0.0.1:%d" % api_port,
            "POSTDESK_SCAN_INTERVAL": "1"}


@pytest.fixture(scope="module")
def world(module_stack, fake_server):
    return World(module_stack, fake_server)


@pytest.fixture(scope="module")
def hosts(module_stack, api_port):
    a, b = Host(module_stack, "a"), Host(module_stack, "b")
    b.start_api(api_port)
    yield a, b
    a.stop()
    b.stop()


def test_the_api_answers_through_nginx_when_a_backend_dies(module_stack, hosts, world, api_port):
    stack, (_, b) = module_stack, hosts
    local, remote = "unix:%s/api.sock" % stack.run, "127.0.0.1:%d" % api_port
    in_rotation(stack, world.key, remote)
    for _ in range(20):
        assert world.key.get("/api/mailboxes").status_code == 200
    # Both backends took requests (round robin).
    served = {up for m, path, st, up in access_log(stack) if path == "/api/mailboxes"}
    assert {local, remote} <= served, served

    # Host b's API dies while GETs keep coming: none of them fails.
    reader = Reader(world.key, "/api/mailboxes")
    time.sleep(0.5)
    b.kill_api()
    time.sleep(1.5)
    statuses = reader.stop()
    assert statuses and set(statuses) == {200}, statuses
    # Each GET nginx sent to the dead backend went on to the live one: the
    # log shows both, and the answer came from the stack's socket.
    tried = [up for m, path, st, up in access_log(stack) if remote in up and "," in up]
    assert all(up.endswith(local) for up in tried), tried

    # A POST that never reached a backend (connection refused) is passed
    # on too: the dead one cannot have begun it.
    for _ in range(4):
        r = world.key.post("/api/mailboxes", json=mailbox_input())
        assert r.status_code == 201, r.text
        assert world.key.delete("/api/mailboxes/%d" % r.json()["id"]).status_code == 204

    b.start_api(api_port)


def test_an_api_host_answers_only_its_nginx(module_stack):
    """FastCGI over TCP has no authentication: FCGI_WEB_SERVER_ADDRS
    (libfcgi, docs/scaling.md "API hosts behind one nginx") makes an API
    host close connections from any address but nginx's."""
    host = Host(module_stack, "c")
    try:
        port, other = procs.free_ports(2)
        host.start_api(port, workers=1)  # FCGI_WEB_SERVER_ADDRS=127.0.0.1
        assert b"Status: 200" in fastcgi_get(port, "/api/openapi.json")
        host.stop()
        host = Host(module_stack, "c")
        host.start_api(other, workers=1, env={"FCGI_WEB_SERVER_ADDRS": "10.9.9.9"})
        assert fastcgi_get(other, "/api/openapi.json") == b""
    finally:
        host.stop()


def test_a_dead_hosts_mailboxes_are_taken_over_after_their_leases(module_stack, hosts, world,
                                                                   api_port):
    stack, (a, b) = module_stack, hosts
    if not b.alive():
        b.start_api(api_port)
    run = HostDeath(stack, world, a, b, "127.0.0.1:%d" % api_port, stack.sql, unique("hosts"))
    run.start()
    try:
        run.both_work()
        run.kill_a_holding_leases()
        run.mail_after_death()
    finally:
        run.traffic.stop()
    run.check()
    print("\n" + run.figures())
