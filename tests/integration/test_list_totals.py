"""`total` of the list answers (issue 12, item 1): GET /api/tickets,
/api/incoming-emails and /api/outgoing-emails count the rows their filters
select, the same on every page whatever the cursor, and the answers keep
matching docs/openapi.json.

Data is made the real way (Desk: a mailbox connected to the fake Microsoft
cloud, mail in its Inbox, postdesk-scan); each filter is on this desk's own
mailbox, so other modules' rows on a shared stack do not count.
"""
import pytest

from pd_helpers import Desk, schema_checker


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login)
    r = d.admin.request("PATCH", "/api/mailboxes/%d" % d.mid, json={"ack_enabled": True})
    assert r.status_code == 200, r.text
    for i in range(5):
        d.send("Totals %d %s" % (i, "printer" if i < 2 else "laptop"), "tot%d@example.com" % i)
    d.scan()  # five tickets, five acknowledgements sent
    return d


@pytest.fixture(scope="module")
def check_schema(stack):
    return schema_checker(stack)


def pages(desk, path, limit, **params):
    """Every page of path at limit per page: [(items, total), …]."""
    out, cursor = [], None
    while True:
        q = dict(params, limit=limit)
        if cursor:
            q["cursor"] = cursor
        body = desk.list(path, **q)
        out.append((body["items"], body["total"]))
        cursor = body["next_cursor"]
        if not cursor:
            return out


@pytest.mark.parametrize("path", ["/api/tickets", "/api/incoming-emails", "/api/outgoing-emails"])
def test_total_is_the_same_on_every_page(desk, check_schema, path):
    got = pages(desk, path, 2)
    assert [len(items) for items, _ in got] == [2, 2, 1]
    assert [total for _, total in got] == [5, 5, 5]
    r = desk.admin.get(path + "?mailbox=%d&limit=2" % desk.mid)
    check_schema("GET", path, r)


def test_ticket_total_follows_the_filters(desk):
    assert desk.tickets(q="printer")["total"] == 2
    assert desk.tickets(q="laptop", limit=1)["total"] == 3
    assert desk.tickets(q="nothing-like-this")["total"] == 0
    tid = desk.tickets(q="Totals 4")["items"][0]["id"]
    r = desk.admin.request("PATCH", "/api/tickets/%d" % tid, json={"status": "pending"})
    assert r.status_code == 200, r.text
    assert desk.tickets(status="pending")["total"] == 1
    assert desk.tickets(status="new")["total"] == 4


def test_incoming_total_follows_the_filters(desk):
    log = "/api/incoming-emails"
    assert desk.list(log, q="printer")["total"] == 2
    assert desk.list(log, outcome="ticket_created")["total"] == 5
    assert desk.list(log, outcome="rejected")["total"] == 0
    assert desk.list(log, attention="true")["total"] == 0
    assert desk.list(log, since="2000-01-01", until="2000-01-02")["total"] == 0
    assert desk.list(log, since="2000-01-01")["total"] == 5


def test_outgoing_total_follows_the_filters(desk):
    out = "/api/outgoing-emails"
    assert desk.list(out, status="sent")["total"] == 5
    assert desk.list(out, status="failed")["total"] == 0
    tid = desk.tickets(q="Totals 0")["items"][0]["id"]
    r = desk.admin.post("/api/tickets/%d/reply" % tid, json={"body": "Try again."})
    assert r.status_code == 202, r.text
    assert desk.list(out, ticket=tid)["total"] == 2
    assert desk.list(out, status="queued")["total"] == 1
    assert desk.list(out)["total"] == 6
