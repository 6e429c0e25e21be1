"""/api/incoming-emails: the incoming email log (filters, cursor paging), one
logged mail with its decision trace and Graph JSON, and Reprocess (the
stored mail through the current rules again, as the next attempt).

Data is made the real way, with Desk (tests/pd_helpers.py): a mailbox
connected to the fake Microsoft cloud, mail in its Inbox, postdesk-scan.
"""
import pytest

from pd_helpers import HOSTILE, Desk, schema_checker


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login)
    d.mails = {
        "a": d.send("Order 1001 " + HOSTILE, "frank@example.com", body="Where is my order?"),
        "b": d.send("Newsletter November", "news@lists.example.com", body="Deals",
                    headers=[{"name": "Precedence", "value": "bulk"}]),
        "c": d.send("Invoice question", "gina@example.com", body="Invoice 7 is wrong"),
        "self": d.send("Note to self", d.address, body="loop"),
    }
    d.scan()
    rows = d.admin.get("/api/incoming-emails?mailbox=%d" % d.mid).json()["items"]
    assert len(rows) == 4, rows
    d.rows = {}
    for key, m in d.mails.items():
        d.rows[key] = next(r for r in rows if r["message_id"] == m["internet_message_id"])
    return d


def log(desk, client=None, **params):
    return desk.list("/api/incoming-emails", client, **params)


@pytest.fixture(scope="module")
def check_schema(stack):
    return schema_checker(stack)


def test_list_newest_first_with_outcomes(desk, check_schema):
    r = desk.admin.get("/api/incoming-emails?mailbox=%d" % desk.mid)
    check_schema("GET", "/api/incoming-emails", r)
    items = r.json()["items"]
    assert [x["id"] for x in items] == sorted((x["id"] for x in items), reverse=True)
    a, b, s = desk.rows["a"], desk.rows["b"], desk.rows["self"]
    assert a["outcome"] == "ticket_created" and a["ticket_id"] and a["attempt"] == 1
    assert a["from"]["address"] == "frank@example.com"
    assert a["subject"] == "Order 1001 " + HOSTILE
    assert a["mailbox"]["id"] == desk.mid and a["mailbox"]["name"].startswith("Desk-")
    assert a["state"] == "done" and a["rule"] is None and a["automatic"] is None
    assert b["automatic"] and "precedence" in b["automatic"].lower()
    assert s["outcome"] == "suppressed_loop" and s["ticket_id"] is None
    assert r.json()["next_cursor"] is None


def test_filters(desk, pd):
    ids = lambda **p: [x["id"] for x in log(desk, **p)["items"]]
    assert ids(outcome="suppressed_loop") == [desk.rows["self"]["id"]]
    assert ids(q="invoice") == [desk.rows["c"]["id"]]
    assert ids(q="lists.example") == [desk.rows["b"]["id"]]
    assert ids(q=desk.mails["a"]["internet_message_id"]) == [desk.rows["a"]["id"]]
    assert ids(q="100%") == []
    day = desk.rows["a"]["created_at"][:10]
    assert len(ids(since=day, until=day)) == 4
    assert ids(until="2001-01-01") == [] and ids(since="2999-01-01") == []
    assert len(ids(since=desk.rows["c"]["created_at"])) >= 1
    other = desk.admin.post("/api/mailboxes", json=pd.mailbox_input()).json()["id"]
    assert ids(mailbox=other) == []


def test_paging(desk):
    seen, cursor = [], None
    for _ in range(10):
        p = {"limit": 3}
        if cursor:
            p["cursor"] = cursor
        page = log(desk, **p)
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    every = [x["id"] for x in log(desk)["items"]]
    assert seen == every and len(every) >= 4


@pytest.mark.parametrize("query", ["outcome=lost", "since=yesterday", "until=2026-13-01", "limit=0",
                                   "limit=500", "cursor=abc", "mailbox=-1", "since=2026-11-26T25:00:00Z"])
def test_bad_parameters_are_400(desk, pd, query):
    pd.check_problem(desk.admin.get("/api/incoming-emails?" + query), 400)


def test_detail_has_trace_and_graph_json(desk, check_schema):
    row = desk.rows["a"]
    r = desk.admin.get("/api/incoming-emails/%d" % row["id"])
    check_schema("GET", "/api/incoming-emails/{id}", r)
    d = r.json()
    assert d["source"]["subject"] == "Order 1001 " + HOSTILE
    assert d["source"]["internetMessageId"] == desk.mails["a"]["internet_message_id"]
    assert d["source"]["from"]["emailAddress"]["address"] == "frank@example.com"
    assert "new ticket %d" % row["ticket_id"] in d["trace"]
    assert desk.address in d["to"] and len(d["sha256"]) == 64
    assert d["graph_id"] == desk.mails["a"]["immutable_id"]


def test_reprocess_with_a_rule_added_afterwards(desk, stack, check_schema):
    row = desk.rows["c"]
    rule = desk.admin.post("/api/rules", json={
        "name": "Bin invoices", "mailbox_id": desk.mid, "position": 5,
        "conditions": [{"field": "subject", "op": "contains", "value": "invoice"}],
        "actions": {"ignore": True}})
    assert rule.status_code == 201, rule.text
    rule = rule.json()
    try:
        r = desk.admin.post("/api/incoming-emails/%d/reprocess" % row["id"])
        check_schema("POST", "/api/incoming-emails/{id}/reprocess", r)
        assert r.status_code == 201
        new = r.json()
        assert r.headers["Location"] == "/api/incoming-emails/%d" % new["id"]
        assert new["id"] > row["id"] and new["attempt"] == 2
        assert new["outcome"] == "ignored_by_rule" and new["ticket_id"] is None
        assert new["rule"] == {"id": rule["id"], "name": "Bin invoices"}
        assert new["graph_id"] == row["graph_id"] and new["state"] == "done"
        assert "attachments" in new["trace"] and "not fetched again" in new["trace"]
        assert new["source"] == desk.admin.get("/api/incoming-emails/%d" % row["id"]).json()["source"]
        # the first row is untouched; the log shows both
        first = desk.admin.get("/api/incoming-emails/%d" % row["id"]).json()
        assert first["outcome"] == "ticket_created" and first["attempt"] == 1
        assert [x["id"] for x in log(desk, q="invoice")["items"]] == [new["id"], row["id"]]
        entry = next(e for e in desk.admin.get("/api/audit-log?limit=200").json()["items"]
                     if e["action"] == "incoming_email.reprocess" and e["target"]["id"] == row["id"])
        assert entry["target"]["type"] == "incoming_email"
        assert entry["detail"] == {"new_id": new["id"], "outcome": "ignored_by_rule"}
        # once more: attempt 3
        again = desk.admin.post("/api/incoming-emails/%d/reprocess" % row["id"]).json()
        assert again["attempt"] == 3
    finally:
        desk.admin.delete("/api/rules/%d" % rule["id"])


def test_reprocess_without_rules_threads_into_the_ticket(desk):
    row = desk.rows["a"]
    new = desk.admin.post("/api/incoming-emails/%d/reprocess" % row["id"]).json()
    assert new["outcome"] == "ticket_updated" and new["ticket_id"] == row["ticket_id"], new
    t = desk.admin.get("/api/tickets/%d" % row["ticket_id"]).json()
    assert [a["incoming_email_id"] for a in t["actions"] if a["kind"] == "email_in"] == [row["id"], new["id"]]


def test_reprocess_and_detail_404(desk, pd):
    pd.check_problem(desk.admin.post("/api/incoming-emails/999999999/reprocess"), 404)
    pd.check_problem(desk.admin.get("/api/incoming-emails/999999999"), 404)
    pd.check_problem(desk.admin.get("/api/incoming-emails/x1"), 404)


def test_admins_only(desk, stack, pd, anon):
    agent = pd.Client(stack)
    agent.login(*pd.new_agent(stack, "agent"))
    rid = desk.rows["a"]["id"]
    pd.check_problem(agent.get("/api/incoming-emails"), 403)
    pd.check_problem(agent.get("/api/incoming-emails/%d" % rid), 403)
    pd.check_problem(agent.post("/api/incoming-emails/%d/reprocess" % rid), 403)
    pd.check_problem(anon.get("/api/incoming-emails"), 401)
    pd.check_problem(anon.post("/api/incoming-emails/%d/reprocess" % rid), 401)
    c = pd.Client(stack)
    c.login(*pd.new_agent(stack, "admin"))
    del c.http.headers["X-CSRF-Token"]
    pd.check_problem(c.post("/api/incoming-emails/%d/reprocess" % rid), 403)
