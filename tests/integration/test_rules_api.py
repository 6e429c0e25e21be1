"""/api/rules: email rules CRUD, validation, audit, and the dry run over the
incoming email log (which must change nothing)."""
import json

import pytest

NEWS = {"name": "Bin newsletters", "match": "any", "position": 10,
        "conditions": [{"field": "header", "header": "List-Id", "op": "glob", "value": "*"},
                       {"field": "subject", "op": "contains", "value": "NEWSLETTER"}],
        "actions": {"ignore": True, "stop": True}}
VIP = {"name": "VIP", "position": 20,
       "conditions": [{"field": "from", "op": "equals", "value": "CEO@contoso.com"}],
       "actions": {"priority": "high", "no_ack": True}}


def graph_message(n, sender, subject, to="help@contoso.com", headers=(), body="Hello"):
    """A message as Graph lists it (docs/graph-contract.md 4.3)."""
    return {
        "id": "AAMkAGI2TG93AAA-%d=" % n,
        "internetMessageId": "<%d.test@mail.example>" % n,
        "conversationId": "AAQkAGI2-conv-%d" % n,
        "subject": subject,
        "receivedDateTime": "2026-11-26T09:%02d:00Z" % (n % 60),
        "hasAttachments": False, "isRead": False,
        "body": {"contentType": "text", "content": body},
        "from": {"emailAddress": {"name": sender.split("@")[0], "address": sender}},
        "sender": {"emailAddress": {"name": sender.split("@")[0], "address": sender}},
        "toRecipients": [{"emailAddress": {"name": "Help", "address": to}}],
        "ccRecipients": [],
        "internetMessageHeaders": [{"name": k, "value": v} for k, v in headers],
    }


def hexq(s):
    return "CONVERT(UNHEX('%s') USING utf8mb4)" % s.encode().hex()


def add_incoming(stack, mailbox_id, source, sender, subject, outcome="ticket_created"):
    """Insert one incoming_email row as the scanner would; returns its id."""
    src = source if isinstance(source, str) else json.dumps(source)
    graph_id = "dry-%s" % abs(hash((src, mailbox_id)))
    stack.sql(
        "INSERT INTO incoming_email (mailbox_id, graph_id, from_addr, subject, received_at, "
        "created_at, size, sha256, source, outcome, trace, state) VALUES "
        "(%d, '%s', %s, %s, UTC_TIMESTAMP(), UTC_TIMESTAMP(3), %d, UNHEX(SHA2(%s, 256)), %s, '%s', "
        "'no rule matched -> create ticket', 'done')"
        % (mailbox_id, graph_id, hexq(sender), hexq(subject), len(src), hexq(src), hexq(src), outcome))
    return int(stack.sql("SELECT MAX(id) FROM incoming_email")[0][0])


def snapshot(stack):
    """What a dry run must leave alone."""
    return (stack.sql("CHECKSUM TABLE incoming_email, email_rule, ticket, end_user"),
            stack.sql("SELECT COUNT(*) FROM audit_log"))


@pytest.fixture
def no_rules(stack):
    stack.sql("DELETE FROM email_rule")
    yield
    stack.sql("DELETE FROM email_rule")


def create(client, body, status=201):
    r = client.post("/api/rules", json=body)
    assert r.status_code == status, r.text
    return r


# --- CRUD -----------------------------------------------------------------

def test_create_get_list_update_delete(admin_key, no_rules):
    r = create(admin_key, NEWS)
    rule = r.json()
    assert r.headers["Location"] == "/api/rules/%d" % rule["id"]
    assert set(rule) == {"id", "name", "mailbox_id", "mailbox", "position", "enabled", "match",
                         "conditions", "actions", "created_at", "updated_at"}
    assert rule["mailbox_id"] is None and rule["mailbox"] is None
    assert rule["enabled"] is True and rule["match"] == "any"
    assert rule["conditions"] == NEWS["conditions"]
    assert rule["actions"] == {"ignore": True, "priority": None, "category": None,
                               "no_ack": False, "stop": True}
    assert admin_key.get(r.headers["Location"]).json() == rule

    # Without a position a rule goes last; the list is in running order.
    last = create(admin_key, {"name": "Last", "conditions": VIP["conditions"]}).json()
    first = create(admin_key, dict(VIP, name="First", position=0)).json()
    assert last["position"] > rule["position"] and last["actions"]["ignore"] is False
    names = [x["name"] for x in admin_key.get("/api/rules").json()["items"]]
    assert names == ["First", "Bin newsletters", "Last"]

    # PATCH changes only the fields given; actions are replaced whole.
    r = admin_key.patch("/api/rules/%d" % last["id"],
                        json={"position": 5, "enabled": False, "actions": {"category": "Sales"}})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["position"] == 5 and got["enabled"] is False and got["name"] == "Last"
    assert got["actions"]["category"] == "Sales" and got["conditions"] == VIP["conditions"]
    names = [x["name"] for x in admin_key.get("/api/rules").json()["items"]]
    assert names == ["First", "Last", "Bin newsletters"]

    assert admin_key.delete("/api/rules/%d" % first["id"]).status_code == 204
    assert admin_key.get("/api/rules/%d" % first["id"]).status_code == 404


def test_rule_for_one_mailbox(admin_key, make_mailbox, no_rules, pd):
    mb = make_mailbox()
    rule = create(admin_key, dict(VIP, mailbox_id=mb["id"])).json()
    # the mailbox as every item shows it: {id, name}
    assert rule["mailbox_id"] == mb["id"] and rule["mailbox"] == {"id": mb["id"], "name": mb["name"]}
    assert admin_key.get("/api/rules").json()["items"][0]["mailbox"] == rule["mailbox"]
    p = pd.check_problem(admin_key.post("/api/rules", json=dict(VIP, mailbox_id=999999)), 422,
                         ["mailbox_id"])
    assert "999999" in pd.message_for(p, "mailbox_id")
    r = admin_key.patch("/api/rules/%d" % rule["id"], json={"mailbox_id": None})
    assert r.status_code == 200 and r.json()["mailbox_id"] is None and r.json()["mailbox"] is None
    # Deleting the mailbox deletes its rules (foreign key).
    r = admin_key.patch("/api/rules/%d" % rule["id"], json={"mailbox_id": mb["id"]})
    assert admin_key.delete("/api/mailboxes/%d" % mb["id"]).status_code == 204
    assert admin_key.get("/api/rules/%d" % rule["id"]).status_code == 404


# --- validation and errors -------------------------------------------------

def test_create_requires_name_and_conditions(admin_key, pd):
    pd.check_problem(admin_key.post("/api/rules", json={}), 422, ["name", "conditions"])


def test_every_field_is_checked(admin_key, pd):
    body = {"name": "", "mailbox_id": 0, "position": -1, "enabled": "yes", "match": "most",
            "conditions": [{"field": "header", "op": "like", "value": ""},
                           {"field": "subject", "op": "equals", "value": "x" * 501},
                           {"field": "date", "op": "equals", "value": "x", "colour": 1}],
            "actions": {"ignore": 1, "priority": "asap", "category": "c" * 101, "forward": "x"},
            "owner": "me"}
    pd.check_problem(admin_key.post("/api/rules", json=body), 422, [
        "name", "mailbox_id", "position", "enabled", "match",
        "conditions[0].header", "conditions[0].op", "conditions[0].value",
        "conditions[1].value", "conditions[2].field", "conditions[2].colour",
        "actions.ignore", "actions.priority", "actions.category", "actions.forward", "owner"])
    pd.check_problem(admin_key.post("/api/rules", json={"name": "n", "conditions": []}), 422,
                     ["conditions"])
    many = [{"field": "to", "op": "equals", "value": "a%d@b.c" % i} for i in range(21)]
    pd.check_problem(admin_key.post("/api/rules", json={"name": "n", "conditions": many}), 422,
                     ["conditions"])
    pd.check_problem(admin_key.post("/api/rules", json={"name": "n", "conditions": "subject"}), 422,
                     ["conditions"])


def test_invalid_patch_changes_nothing(admin_key, no_rules, pd):
    rule = create(admin_key, VIP).json()
    pd.check_problem(admin_key.patch("/api/rules/%d" % rule["id"],
                                     json={"name": "ok", "conditions": [{"field": "x"}]}), 422,
                     ["conditions[0].field", "conditions[0].op", "conditions[0].value"])
    assert admin_key.get("/api/rules/%d" % rule["id"]).json() == rule


def test_not_found_and_protocol_errors(admin_key, pd):
    for path in ("/api/rules/999999", "/api/rules/0", "/api/rules/abc", "/api/rules/01"):
        pd.check_problem(admin_key.get(path), 404)
    pd.check_problem(admin_key.patch("/api/rules/999999", json={"name": "x"}), 404)
    pd.check_problem(admin_key.delete("/api/rules/999999"), 404)
    pd.check_problem(admin_key.post("/api/rules", data="{", headers={"Content-Type": "application/json"}), 400)
    pd.check_problem(admin_key.post("/api/rules", data="name=x",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    pd.check_problem(admin_key.post("/api/rules", json={"name": "x" * 70000}), 413)
    r = admin_key.request("PUT", "/api/rules/1", json={})
    pd.check_problem(r, 405)
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH", "DELETE"}


def test_agents_and_strangers_are_refused(stack, anon, pd):
    pd.check_problem(anon.get("/api/rules"), 401)
    user, pw = pd.new_agent(stack, "agent")
    agent = pd.Client(stack)
    agent.login(user, pw)
    pd.check_problem(agent.get("/api/rules"), 403)
    pd.check_problem(agent.post("/api/rules", json=VIP), 403)
    pd.check_problem(agent.post("/api/rules/dry-run", json={}), 403)


def test_cookie_session_needs_csrf(stack, admin_session, no_rules):
    r = admin_session.post("/api/rules", json=VIP)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = admin_session.delete("/api/rules/%d" % rid, headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    assert admin_session.delete("/api/rules/%d" % rid).status_code == 204


def test_changes_are_audited(admin_key, no_rules):
    rule = create(admin_key, VIP).json()
    admin_key.patch("/api/rules/%d" % rule["id"], json={"enabled": False})
    admin_key.delete("/api/rules/%d" % rule["id"])
    items = admin_key.get("/api/audit-log?limit=20").json()["items"]
    mine = [(e["action"], e["detail"]) for e in items
            if e["target"] == {"type": "email_rule", "id": rule["id"]}]
    assert ("rule.delete", None) in mine
    assert ("rule.update", {"fields": ["enabled"]}) in mine
    created = [d for a, d in mine if a == "rule.create"]
    assert created and set(created[0]["fields"]) == set(VIP)


# --- dry run ----------------------------------------------------------------

@pytest.fixture
def mails(stack, make_mailbox):
    """Five logged mails in two mailboxes; returns (mailbox a, b, {name: id})."""
    a, b = make_mailbox(), make_mailbox()
    ids = {
        "news": add_incoming(stack, a["id"], graph_message(
            1, "news@shop.example.com", "Weekly Newsletter #45",
            headers=[("List-Id", "<news.shop.example.com>"), ("Precedence", "bulk")]),
            "news@shop.example.com", "Weekly Newsletter #45"),
        "vip": add_incoming(stack, a["id"], graph_message(
            2, "ceo@contoso.com", "Printer broken on floor 3"),
            "ceo@contoso.com", "Printer broken on floor 3"),
        "plain": add_incoming(stack, a["id"], graph_message(
            3, "alice@example.org", "Question about my invoice", body="Where is invoice 42?"),
            "alice@example.org", "Question about my invoice"),
        "other": add_incoming(stack, b["id"], graph_message(
            4, "bob@example.org", "printer jammed"), "bob@example.org", "printer jammed"),
        "broken": add_incoming(stack, b["id"], "{\"id\": 17, \"subject\": ",
                               "x@example.org", "broken", outcome="error"),
    }
    return a, b, ids


def results(r):
    assert r.status_code == 200, r.text
    return {i["incoming_email_id"]: i for i in r.json()["items"]}


def test_dry_run_with_given_rules(stack, admin_key, mails, no_rules):
    a, b, ids = mails
    scoped = {"name": "Hardware in A", "mailbox_id": a["id"], "position": 30,
              "conditions": [{"field": "subject", "op": "contains", "value": "printer"}],
              "actions": {"category": "Hardware"}}
    before = snapshot(stack)
    r = admin_key.post("/api/rules/dry-run", json={"rules": [scoped, VIP, NEWS]})
    assert snapshot(stack) == before
    assert r.json()["rules"] == 3
    got = results(r)
    order = [i["incoming_email_id"] for i in r.json()["items"]]
    assert order == sorted(order, reverse=True) and len(order) <= 100

    news = got[ids["news"]]
    assert news["would"] == "ignore" and news["ignore"] is True
    assert news["rule_name"] == "Bin newsletters" and news["rule_id"] is None
    assert news["outcome_then"] == "ticket_created" and news["from"] == "news@shop.example.com"
    assert 'matched (header List-Id glob "*") -> ignore, stop' in news["trace"]
    assert "Hardware" not in news["trace"]  # position 30: never reached

    vip = got[ids["vip"]]
    assert vip["would"] == ("create ticket with priority high, category Hardware, "
                            "no acknowledgement")
    assert vip["rule_name"] == "VIP" and vip["no_ack"] is True and vip["priority"] == "high"
    assert vip["category"] == "Hardware"
    assert 'matched (from equals "CEO@contoso.com") -> priority high, no ack' in vip["trace"]

    plain = got[ids["plain"]]
    assert plain["would"] == "create ticket" and plain["rule_name"] is None
    assert plain["trace"].endswith("no rule matched -> create ticket")

    other = got[ids["other"]]
    assert other["would"] == "create ticket" and other["mailbox_id"] == b["id"]
    assert other["mailbox"] == {"id": b["id"], "name": b["name"]}
    assert got[ids["vip"]]["mailbox"] == {"id": a["id"], "name": a["name"]}
    assert 'skipped (only for mailbox %d)' % a["id"] in other["trace"]

    broken = got[ids["broken"]]
    assert broken["would"] == "unknown" and "not a message" in broken["trace"]
    assert broken["outcome_then"] == "error"


def test_dry_run_with_stored_rules(stack, admin_key, mails, no_rules):
    a, b, ids = mails
    news = create(admin_key, NEWS).json()
    create(admin_key, dict(VIP, enabled=False))
    # A row written behind the API's back with broken JSON is skipped.
    stack.sql("INSERT INTO email_rule (name, position, enabled, match_mode, conditions, actions, "
              "created_at, updated_at) VALUES ('Broken', 1, 1, 'all', '[{\"field\":', '{}', "
              "UTC_TIMESTAMP(), UTC_TIMESTAMP())")
    before = snapshot(stack)
    for r in (admin_key.post("/api/rules/dry-run"), admin_key.post("/api/rules/dry-run", json={}),
              admin_key.post("/api/rules/dry-run", headers={"Content-Type": "application/json"})):
        assert snapshot(stack) == before
        assert r.status_code == 200, r.text
        assert r.json()["rules"] == 1  # enabled and valid only
        got = results(r)
        assert got[ids["news"]]["rule_id"] == news["id"]
        assert got[ids["news"]]["trace"].startswith('rule %d "Bin newsletters"' % news["id"])
        assert got[ids["vip"]]["would"] == "create ticket"
        assert "Broken" not in got[ids["vip"]]["trace"]
    assert "email rule" in stack.logs() and "skipped" in stack.logs()
    # The broken row is still listed, and a PATCH mends it.
    broken = [x for x in admin_key.get("/api/rules").json()["items"] if x["name"] == "Broken"][0]
    assert broken["conditions"] == []
    r = admin_key.patch("/api/rules/%d" % broken["id"], json={"conditions": VIP["conditions"]})
    assert r.status_code == 200, r.text


def test_dry_run_with_edited_stored_rule(admin_key, mails, no_rules):
    a, b, ids = mails
    vip = create(admin_key, VIP).json()
    edited = dict(vip, actions={"priority": "urgent"})
    got = results(admin_key.post("/api/rules/dry-run", json={"rules": [edited]}))
    assert got[ids["vip"]]["rule_id"] == vip["id"]
    assert got[ids["vip"]]["would"] == "create ticket with priority urgent"
    # the stored rule is unchanged
    assert admin_key.get("/api/rules/%d" % vip["id"]).json()["actions"]["priority"] == "high"


def test_dry_run_validation(admin_key, pd):
    pd.check_problem(admin_key.post("/api/rules/dry-run", json={"rules": "all"}), 422, ["rules"])
    pd.check_problem(admin_key.post("/api/rules/dry-run", json={"rulez": []}), 422, ["rulez"])
    pd.check_problem(admin_key.post("/api/rules/dry-run", json={"rules": [
        VIP, {"name": "x"}, 5, dict(VIP, id="7", conditions=[{"field": "from", "op": "is", "value": "a"}])]}),
        422, ["rules[1].conditions", "rules[2]", "rules[3].id", "rules[3].conditions[0].op"])
    pd.check_problem(admin_key.post("/api/rules/dry-run", data="[",
                                    headers={"Content-Type": "application/json"}), 400)


def test_dry_run_with_no_rules_is_create_ticket(admin_key, mails, no_rules):
    a, b, ids = mails
    r = admin_key.post("/api/rules/dry-run", json={"rules": []})
    got = results(r)
    assert r.json()["rules"] == 0
    assert got[ids["news"]]["would"] == "create ticket"
    assert got[ids["news"]]["trace"] == "no rules -> create ticket"
