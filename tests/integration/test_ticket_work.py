"""Working a ticket through the API (issue 12): priority, category and
assignment by PATCH (each an action and an audit line), internal notes
(never mailed), the agents one may assign, the assigned= and automatic=
filters, what automatic mail becomes per mailbox (automatic_mail), an
outgoing mail's state in the conversation and the acknowledgement's in the
incoming email log, both read from the outgoing queue.

Data is made the real way: mail put into a mailbox of the fake Microsoft
cloud and postdesk-scan run once (tests/pd_helpers.py Desk).
"""
import pytest

from pd_helpers import Desk, schema_checker

AUTO = [{"name": "Auto-Submitted", "value": "auto-replied"}]
SEND_PATH = r"/sendMail$"


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login)
    d.send("Invoice wrong", "fay@example.com", body="Charged twice.")
    d.send("Out of office", "gus@example.com", body="Back Monday.", headers=AUTO)
    d.scan()
    items = d.tickets()["items"]
    d.ids = {next(w for w in ("Invoice", "Out") if t["subject"].startswith(w)): t["id"] for t in items}
    assert set(d.ids) == {"Invoice", "Out"}, items
    d.me = d.admin.get("/api/session").json()["agent"]
    return d


@pytest.fixture(scope="module")
def agent(stack, pd):
    c = pd.Client(stack)
    user, pw = pd.new_agent(stack, "agent")
    c.login(user, pw)
    c.me = c.get("/api/session").json()["agent"]
    return c


@pytest.fixture(scope="module")
def check_schema(stack):
    return schema_checker(stack)


def audit(desk, action, tid):
    log = desk.admin.get("/api/audit-log?limit=200").json()["items"]
    return [e for e in log if e["action"] == action and e["target"]["id"] == tid]


def ticket(desk, tid):
    r = desk.admin.get("/api/tickets/%d" % tid)
    assert r.status_code == 200, r.text
    return r.json()


# --- GET /api/agents -------------------------------------------------------------

def test_agents_lists_the_active_agents_for_any_agent(desk, agent, stack, pd, check_schema):
    r = agent.get("/api/agents")
    check_schema("GET", "/api/agents", r)
    items = r.json()["items"]
    mine = next(a for a in items if a["id"] == agent.me["id"])
    assert mine == {"id": agent.me["id"], "username": agent.me["username"],
                    "name": agent.me["display_name"], "role": "agent", "microsoft": False}
    assert any(a["id"] == desk.me["id"] and a["role"] == "admin" for a in items)
    gone, _ = pd.new_agent(stack, "agent")
    stack.sql("UPDATE agent SET disabled = 1 WHERE username = '%s'" % gone)
    assert gone not in [a["username"] for a in agent.get("/api/agents").json()["items"]]
    pd.check_problem(pd.Client(stack).get("/api/agents"), 401)


# --- priority and category -------------------------------------------------------

def test_priority_change_is_an_action_and_audited(desk, check_schema):
    tid = desk.ids["Invoice"]
    r = desk.admin.patch("/api/tickets/%d" % tid, json={"priority": "urgent"})
    check_schema("PATCH", "/api/tickets/{id}", r)
    t = r.json()
    assert t["priority"] == "urgent" and t["status"] == "new"
    last = t["actions"][-1]
    assert last["kind"] == "priority" and "normal" in last["body"] and "urgent" in last["body"]
    assert last["agent_id"] == desk.me["id"] and last["author"]["username"] == desk.me["username"]
    [entry] = audit(desk, "ticket.update", tid)
    assert entry["detail"] == {"priority": {"from": "normal", "to": "urgent"}}
    # the same value again changes nothing and writes no audit line
    again = desk.admin.patch("/api/tickets/%d" % tid, json={"priority": "urgent"}).json()
    assert len(again["actions"]) == len(t["actions"])
    assert len(audit(desk, "ticket.update", tid)) == 1


def test_category_set_and_cleared(desk, stack):
    tid = desk.ids["Invoice"]
    t = desk.admin.patch("/api/tickets/%d" % tid, json={"category": "Billing é"}).json()
    assert t["category"] == "Billing é"
    assert t["actions"][-1]["kind"] == "category" and "Billing é" in t["actions"][-1]["body"]
    t = desk.admin.patch("/api/tickets/%d" % tid, json={"category": None}).json()
    assert t["category"] is None and t["actions"][-1]["kind"] == "category"
    assert audit(desk, "ticket.update", tid)[0]["detail"] == {"category": {"from": "Billing é", "to": None}}
    assert stack.sql("SELECT category IS NULL FROM ticket WHERE id = %d" % tid) == [["1"]]
    # several fields in one PATCH: one action each, one audit line
    n = len(t["actions"])
    t = desk.admin.patch("/api/tickets/%d" % tid,
                         json={"status": "open", "priority": "low", "category": "x" * 100}).json()
    assert [a["kind"] for a in t["actions"][n:]] == ["status", "priority", "category"]
    assert (t["status"], t["priority"], t["category"]) == ("open", "low", "x" * 100)
    assert audit(desk, "ticket.update", tid)[0]["detail"] == {
        "status": {"from": "new", "to": "open"}, "priority": {"from": "urgent", "to": "low"},
        "category": {"from": None, "to": "x" * 100}}


@pytest.mark.parametrize("body,fields", [
    ({"priority": "top"}, ["priority"]), ({"priority": None}, ["priority"]), ({"priority": 2}, ["priority"]),
    ({"category": "x" * 101}, ["category"]), ({"category": 5}, ["category"]),
    ({"category": "a\tb"}, ["category"]),
    ({"assignee_id": 999999999}, ["assignee_id"]), ({"assignee_id": "1"}, ["assignee_id"]),
    ({"assignee_id": 0}, ["assignee_id"]), ({"assignee_id": True}, ["assignee_id"]),
    ({"priority": "high", "assignee_id": 999999999}, ["assignee_id"]),
    ({"owner": 1}, ["owner"]), ({}, ["status"]),
])
def test_bad_values_are_422_naming_the_field_and_change_nothing(desk, pd, stack, body, fields):
    tid = desk.ids["Out"]
    before = stack.sql("SELECT priority, category, assignee_id, "
                       "(SELECT COUNT(*) FROM ticket_action WHERE ticket_id = %d) "
                       "FROM ticket WHERE id = %d" % (tid, tid))
    pd.check_problem(desk.admin.patch("/api/tickets/%d" % tid, json=body), 422, fields)
    assert stack.sql("SELECT priority, category, assignee_id, "
                     "(SELECT COUNT(*) FROM ticket_action WHERE ticket_id = %d) "
                     "FROM ticket WHERE id = %d" % (tid, tid)) == before


# --- assignment ------------------------------------------------------------------

def test_assignment_and_the_assigned_filters(desk, agent, pd, stack, admin_key, check_schema):
    tid = desk.ids["Invoice"]
    other = desk.ids["Out"]
    r = desk.admin.patch("/api/tickets/%d" % tid, json={"assignee_id": agent.me["id"]})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["assignee"] == {"id": agent.me["id"], "username": agent.me["username"],
                             "name": agent.me["display_name"]}
    last = t["actions"][-1]
    assert last["kind"] == "assignment" and agent.me["username"] in last["body"]
    assert audit(desk, "ticket.update", tid)[0]["detail"] == {
        "assignee_id": {"from": None, "to": agent.me["id"]}}
    # the list shows it, and filters by it
    listed = {x["id"]: x for x in desk.tickets()["items"]}
    assert listed[tid]["assignee"]["id"] == agent.me["id"] and listed[other]["assignee"] is None
    r = agent.get("/api/tickets", params={"assigned": "me", "mailbox": desk.mid})
    check_schema("GET", "/api/tickets", r)
    assert [x["id"] for x in r.json()["items"]] == [tid] and r.json()["total"] == 1
    assert [x["id"] for x in desk.tickets(assigned="me")["items"]] == []
    assert desk.tickets(assigned="none")["total"] == 1
    assert [x["id"] for x in desk.tickets(assigned="none")["items"]] == [other]
    assert [x["id"] for x in desk.tickets(assigned=str(agent.me["id"]))["items"]] == [tid]
    # an agent may assign to themselves; reassigning says who had it
    t = agent.patch("/api/tickets/%d" % other, json={"assignee_id": agent.me["id"]}).json()
    assert t["assignee"]["id"] == agent.me["id"] and t["actions"][-1]["author"]["id"] == agent.me["id"]
    t = desk.admin.patch("/api/tickets/%d" % other, json={"assignee_id": desk.me["id"]}).json()
    assert agent.me["username"] in t["actions"][-1]["body"] and desk.me["username"] in t["actions"][-1]["body"]
    # null unassigns
    t = desk.admin.patch("/api/tickets/%d" % other, json={"assignee_id": None}).json()
    assert t["assignee"] is None and t["actions"][-1]["kind"] == "assignment"
    assert stack.sql("SELECT assignee_id IS NULL FROM ticket WHERE id = %d" % other) == [["1"]]
    # a disabled agent cannot be assigned
    gone, _ = pd.new_agent(stack, "agent")
    gid = int(stack.sql("SELECT id FROM agent WHERE username = '%s'" % gone)[0][0])
    stack.sql("UPDATE agent SET disabled = 1 WHERE id = %d" % gid)
    pd.check_problem(desk.admin.patch("/api/tickets/%d" % other, json={"assignee_id": gid}), 422,
                     ["assignee_id"])
    # the assignee is a foreign key: deleting an agent unassigns (sql/0013)
    assert stack.sql("SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME, DELETE_RULE FROM "
                     "information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'postdesk' "
                     "AND TABLE_NAME = 'ticket' AND REFERENCED_TABLE_NAME = 'agent'") == \
        [["ticket_assignee_fk", "agent", "SET NULL"]]
    # bad filters
    for bad in ("bogus", "0", "-1", "me2"):
        pd.check_problem(desk.admin.get("/api/tickets", params={"assigned": bad}), 400)
    pd.check_problem(admin_key.get("/api/tickets", params={"assigned": "me"}), 400)


# --- automatic -------------------------------------------------------------------

def test_automatic_mark_and_filter(desk, pd):
    auto, human = desk.ids["Out"], desk.ids["Invoice"]
    listed = {x["id"]: x for x in desk.tickets()["items"]}
    assert listed[auto]["automatic"] is True and listed[human]["automatic"] is False
    assert [x["id"] for x in desk.tickets(automatic="true")["items"]] == [auto]
    assert desk.tickets(automatic="true")["total"] == 1 and desk.tickets()["total"] == 2
    assert [x["id"] for x in desk.tickets(automatic="false")["items"]] == [human]
    assert [a["automatic"] for a in ticket(desk, auto)["actions"] if a["kind"] == "email_in"] == [True]
    assert [a["automatic"] for a in ticket(desk, human)["actions"] if a["kind"] == "email_in"] == [False]
    for bad in ("yes", "1", "TRUE"):
        pd.check_problem(desk.admin.get("/api/tickets", params={"automatic": bad}), 400)


# --- notes -----------------------------------------------------------------------

def test_note_is_internal_in_order_and_never_mailed(desk, agent, stack, check_schema):
    tid = desk.ids["Invoice"]
    out_before = stack.sql("SELECT COUNT(*) FROM outgoing_email")
    r = agent.post("/api/tickets/%d/notes" % tid, json={"body": "Called her <b>back</b>; refund due."})
    check_schema("POST", "/api/tickets/{id}/notes", r)
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["kind"] == "note" and note["body"] == "Called her <b>back</b>; refund due."
    assert note["agent_id"] == agent.me["id"]
    assert note["author"] == {"id": agent.me["id"], "username": agent.me["username"],
                              "name": agent.me["display_name"]}
    assert note["from"] is None and note["to"] is None and note["attachments"] == []
    t = ticket(desk, tid)
    assert t["actions"][-1]["id"] == note["id"] and t["actions"][-1]["kind"] == "note"
    assert [a["id"] for a in t["actions"]] == sorted(a["id"] for a in t["actions"])
    page = desk.admin.get("/api/tickets/%d/messages" % tid).json()["items"]
    assert page[-1]["id"] == note["id"]
    assert t["message_count"] == 1  # mails only
    assert stack.sql("SELECT COUNT(*) FROM outgoing_email") == out_before
    assert len(audit(desk, "ticket.note", tid)) == 1
    # a scan sends nothing for it
    desk.scan()
    assert stack.sql("SELECT COUNT(*) FROM outgoing_email") == out_before


def test_note_limits(desk, pd, admin_key):
    tid = desk.ids["Out"]
    path = "/api/tickets/%d/notes" % tid
    for body, fields in (({"body": ""}, ["body"]), ({}, ["body"]), ({"body": 5}, ["body"]),
                         ({"body": "é" * 100001}, ["body"]),
                         ({"body": "ok", "cc": ["x@example.com"]}, ["cc"])):
        pd.check_problem(desk.admin.post(path, json=body), 422, fields)
    r = desk.admin.post(path, json={"body": "é" * 100000})
    assert r.status_code == 201 and r.json()["body"] == "é" * 100000, r.text[:200]
    # an API key's note has no author
    r = admin_key.post(path, json={"body": "From a tool"})
    assert r.status_code == 201 and r.json()["author"] is None and r.json()["agent_id"] is None
    pd.check_problem(desk.admin.post("/api/tickets/999999999/notes", json={"body": "x"}), 404)


# --- the outgoing queue in the conversation and in the incoming log -------------

def test_failed_and_sent_mail_show_where_they_happened(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login)
    r = d.admin.patch("/api/mailboxes/%d" % d.mid, json={"ack_enabled": True})
    assert r.status_code == 200, r.text
    d.fake.ctl("faults", {"path": SEND_PATH, "status": 403, "code": "ErrorAccessDenied", "count": 1})
    d.send("Ack fails", "hal@example.com")
    d.scan()
    d.send("Ack goes out", "ivy@example.com")
    d.scan()
    ids = {t["subject"]: t["id"] for t in d.tickets()["items"]}
    log = {i["ticket_id"]: i for i in d.list("/api/incoming-emails")["items"]}
    fails, goes = ids["Ack fails"], ids["Ack goes out"]
    # the incoming log follows the queue: failed / sent, not "queued"
    assert log[fails]["acknowledgement"]["status"] == "failed" and log[fails]["ack"] == "failed"
    assert log[goes]["acknowledgement"]["status"] == "sent" and log[goes]["ack"] == "sent"
    row = stack.sql("SELECT id, status FROM outgoing_email WHERE incoming_email_id = %d"
                    % log[goes]["id"])
    assert row == [[str(log[goes]["acknowledgement"]["outgoing_id"]), "sent"]]
    # and so does the conversation
    [out] = [a for a in ticket(d, fails)["actions"] if a["kind"] == "email_out"]
    assert out["outgoing"]["status"] == "failed" and out["outgoing"]["kind"] == "ack"
    assert out["outgoing"]["error"]
    assert out["outgoing"]["id"] == log[fails]["acknowledgement"]["outgoing_id"]
    [out] = [a for a in ticket(d, goes)["actions"] if a["kind"] == "email_out"]
    assert out["outgoing"]["status"] == "sent" and out["outgoing"]["error"] is None
    # an agent's reply that fails, then is retried
    r = d.admin.post("/api/tickets/%d/reply" % goes, json={"body": "On it."})
    assert r.status_code == 202, r.text
    oid = r.json()["id"]
    reply = ticket(d, goes)["actions"][-1]
    assert reply["outgoing"] == {"id": oid, "status": "queued", "error": None, "kind": "reply"}
    d.fake.ctl("faults", {"path": SEND_PATH, "status": 403, "code": "ErrorAccessDenied", "count": 1})
    d.scan()
    reply = ticket(d, goes)["actions"][-1]
    assert reply["outgoing"]["status"] == "failed" and reply["outgoing"]["error"], reply
    assert d.admin.post("/api/outgoing-emails/%d/retry" % oid).status_code == 200
    d.scan()
    assert ticket(d, goes)["actions"][-1]["outgoing"]["status"] == "sent"
    # outgoing items name their mailbox like every other item
    o = d.list("/api/outgoing-emails")["items"][0]
    name = d.admin.get("/api/mailboxes/%d" % d.mid).json()["name"]
    assert o["mailbox"] == {"id": d.mid, "name": name} and o["mailbox_id"] == d.mid


# --- what automatic mail becomes, per mailbox -----------------------------------

def test_log_only_mailbox_keeps_automatic_mail_out_of_tickets(stack, fake_server, admin_login, pd):
    d = Desk(stack, fake_server, admin_login)
    r = d.admin.get("/api/mailboxes/%d" % d.mid)
    assert r.json()["automatic_mail"] == "ticket"
    pd.check_problem(d.admin.patch("/api/mailboxes/%d" % d.mid, json={"automatic_mail": "drop"}), 422,
                     ["automatic_mail"])
    r = d.admin.patch("/api/mailboxes/%d" % d.mid, json={"automatic_mail": "log_only"})
    assert r.status_code == 200 and r.json()["automatic_mail"] == "log_only", r.text
    d.send("Automatic reply: away", "jon@example.com", headers=AUTO)
    d.send("Precedence bulk", "news@example.com",
           headers=[{"name": "Precedence", "value": "bulk"}])
    d.send("A person", "kim@example.com")
    d.scan()
    assert [t["subject"] for t in d.tickets()["items"]] == ["A person"]
    log = {i["subject"]: i for i in d.list("/api/incoming-emails")["items"]}
    for subject in ("Automatic reply: away", "Precedence bulk"):
        row = log[subject]
        assert row["outcome"] == "logged_automatic" and row["ticket_id"] is None, row
        assert row["automatic"] and row["acknowledgement"] is None
        detail = d.admin.get("/api/incoming-emails/%d" % row["id"]).json()
        assert "log_only" in detail["trace"], detail["trace"]
    assert log["A person"]["outcome"] == "ticket_created"
    assert [i["id"] for i in d.list("/api/incoming-emails", outcome="logged_automatic")["items"]] == \
        sorted((log[s]["id"] for s in ("Automatic reply: away", "Precedence bulk")), reverse=True)
    # back to "ticket": automatic mail opens a ticket marked automatic again
    d.admin.patch("/api/mailboxes/%d" % d.mid, json={"automatic_mail": "ticket"})
    d.send("Automatic reply: still away", "jon@example.com", headers=AUTO)
    d.scan()
    [t] = d.tickets(automatic="true")["items"]
    assert t["subject"] == "Automatic reply: still away"
