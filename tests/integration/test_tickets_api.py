"""/api/tickets: the list (filters, cursor paging), a ticket with its
conversation, status changes (audited), attachment downloads with safe
headers, and who may do what.

Data is made the real way: a mailbox connected to the fake Microsoft cloud,
mail put in its Inbox through the fake's control API, and postdesk-scan run
once against it.  The module shares one mailbox (module-scoped `desk`); the
fake is not reset between these tests.
"""
import base64

import pytest

from pd_helpers import HOSTILE, Desk, schema_checker

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def desk(stack, fake_server, admin_login):
    d = Desk(stack, fake_server, admin_login)
    d.mails = {
        "fire": d.send("Printer on fire " + HOSTILE, {"name": "Carol " + HOSTILE, "address": "carol@example.com"},
                       body="Help!\n" + HOSTILE + "<script>alert(2)</script>",
                       cc=["boss@example.com"],
                       attachments=[
                           {"name": "résumé 100% \"final\".html", "content_type": "text/html",
                            "content": "<script>alert(3)</script>"},
                           {"name": "pixel.png", "content_type": "image/png",
                            "content_b64": base64.b64encode(PNG).decode()}]),
        "vpn": d.send("VPN broken", "dave@example.org", body="It drops every 5 minutes."),
        "pw": d.send("Password reset 50%_off", "erin@example.net", body="Locked out."),
    }
    d.scan()
    items = d.tickets()["items"]
    assert len(items) == 3, items
    d.ids = {}
    for key, word in (("fire", "Printer"), ("vpn", "VPN"), ("pw", "Password")):
        d.ids[key] = next(t["id"] for t in items if t["subject"].startswith(word))
    return d


@pytest.fixture(scope="module")
def agent(stack, pd):
    c = pd.Client(stack)
    c.login(*pd.new_agent(stack, "agent"))
    return c


@pytest.fixture(scope="module")
def check_schema(stack):
    return schema_checker(stack)


# --- the list --------------------------------------------------------------------

def test_list_newest_updated_first_with_end_users(desk, check_schema):
    r = desk.admin.get("/api/tickets?mailbox=%d" % desk.mid)
    check_schema("GET", "/api/tickets", r)
    body = r.json()
    assert body["next_cursor"] is None
    items = body["items"]
    keys = [(t["updated_at"], t["id"]) for t in items]
    assert keys == sorted(keys, reverse=True)
    vpn = next(t for t in items if t["id"] == desk.ids["vpn"])
    assert vpn["status"] == "new" and vpn["priority"] == "normal" and vpn["category"] is None
    assert vpn["end_user"]["email"] == "dave@example.org"
    assert vpn["mailbox"]["id"] == desk.mid and vpn["message_count"] == 1


def test_list_filters_by_text_in_subject_or_address(desk):
    assert [t["id"] for t in desk.tickets(q="vpn")["items"]] == [desk.ids["vpn"]]
    assert [t["id"] for t in desk.tickets(q="EXAMPLE.NET")["items"]] == [desk.ids["pw"]]
    # LIKE's wildcards are literal text
    assert [t["id"] for t in desk.tickets(q="50%_off")["items"]] == [desk.ids["pw"]]
    assert [t["id"] for t in desk.tickets(q="%")["items"]] == [desk.ids["pw"]]
    assert [t["id"] for t in desk.tickets(q="t_50")["items"]] == []
    assert desk.tickets(q="P%d")["items"] == []
    assert desk.tickets(q="no such words")["items"] == []


def test_list_filters_by_status_and_mailbox(desk, make_mailbox):
    other = make_mailbox()["id"]
    assert desk.tickets(mailbox=other)["items"] == []
    r = desk.admin.patch("/api/tickets/%d" % desk.ids["pw"], json={"status": "pending"})
    assert r.status_code == 200, r.text
    assert [t["id"] for t in desk.tickets(status="pending")["items"]] == [desk.ids["pw"]]
    assert desk.ids["pw"] not in [t["id"] for t in desk.tickets(status="new")["items"]]
    # the status change bumped it to the top
    assert desk.tickets()["items"][0]["id"] == desk.ids["pw"]


def test_list_pages_with_a_cursor(desk):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = desk.tickets(**params)
        pages += 1
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and len(page["items"]) == 1
        assert pages < 10
    assert sorted(seen) == sorted(desk.ids.values()) and len(seen) == 3
    assert seen == [t["id"] for t in desk.tickets()["items"]]
    two = desk.tickets(limit=2)
    assert len(two["items"]) == 2 and two["next_cursor"]
    rest = desk.tickets(limit=2, cursor=two["next_cursor"])
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


@pytest.mark.parametrize("query", ["status=bogus", "limit=0", "limit=201", "limit=x", "mailbox=abc",
                                   "cursor=nonsense", "cursor=1.", "q=" + "x" * 201])
def test_list_rejects_bad_parameters(desk, pd, query):
    pd.check_problem(desk.admin.get("/api/tickets?" + query), 400)


# --- one ticket ------------------------------------------------------------------

def test_detail_has_the_conversation_and_attachments(desk, check_schema):
    r = desk.admin.get("/api/tickets/%d" % desk.ids["fire"])
    check_schema("GET", "/api/tickets/{id}", r)
    t = r.json()
    assert t["end_user"]["email"] == "carol@example.com"
    assert t["end_user"]["name"] == "Carol " + HOSTILE
    [a] = [a for a in t["actions"] if a["kind"] == "email_in"]
    assert a["from"] == "carol@example.com"
    assert desk.address in a["to"] and a["cc"] == "boss@example.com"
    assert a["subject"] == "Printer on fire " + HOSTILE
    assert a["message_id"] == desk.mails["fire"]["internet_message_id"]
    assert a["incoming_email_id"] and a["created_at"].endswith("Z")
    names = sorted(x["name"] for x in a["attachments"])
    assert names == sorted(["résumé 100% \"final\".html", "pixel.png"])
    for x in a["attachments"]:
        assert x["url"] == "/api/tickets/%d/attachments/%d" % (t["id"], x["id"])
        assert x["inline"] is False and x["size"] > 0


def test_mail_content_is_returned_as_data(desk):
    r = desk.admin.get("/api/tickets/%d" % desk.ids["fire"])
    assert r.headers["Content-Type"] == "application/json"
    t = r.json()
    assert t["subject"] == "Printer on fire " + HOSTILE
    body = t["actions"][0]["body"]
    assert HOSTILE in body and "<script>alert(2)</script>" in body
    listed = next(x for x in desk.tickets()["items"] if x["id"] == desk.ids["fire"])
    assert listed["subject"] == t["subject"]


def test_actions_are_oldest_first_and_a_reply_threads(desk):
    fire = desk.mails["fire"]
    desk.send("Re: Printer on fire [#%d]" % desk.ids["fire"], "carol@example.com", body="Still burning",
              headers=[{"name": "In-Reply-To", "value": fire["internet_message_id"]}])
    desk.scan()
    t = desk.admin.get("/api/tickets/%d" % desk.ids["fire"]).json()
    mails = [a for a in t["actions"] if a["kind"] == "email_in"]
    assert [a["body"] for a in mails][-1] == "Still burning"
    assert [a["id"] for a in t["actions"]] == sorted(a["id"] for a in t["actions"])
    assert t["message_count"] == 2


def test_unknown_and_malformed_ticket_ids(desk, pd):
    for path in ("/api/tickets/999999999", "/api/tickets/abc", "/api/tickets/0", "/api/tickets/01"):
        pd.check_problem(desk.admin.get(path), 404)
    pd.check_problem(desk.admin.patch("/api/tickets/999999999", json={"status": "open"}), 404)


# --- status ----------------------------------------------------------------------

def test_status_change_is_audited_and_shown(desk, stack, check_schema):
    tid = desk.ids["vpn"]
    r = desk.admin.patch("/api/tickets/%d" % tid, json={"status": "resolved"})
    check_schema("PATCH", "/api/tickets/{id}", r)
    t = r.json()
    assert t["status"] == "resolved"
    last = t["actions"][-1]
    assert last["kind"] == "status" and "new" in last["body"] and "resolved" in last["body"]
    assert last["agent_id"] is not None
    log = desk.admin.get("/api/audit-log?limit=200").json()["items"]
    entry = next(e for e in log if e["action"] == "ticket.update" and e["target"]["id"] == tid)
    assert entry["target"]["type"] == "ticket"
    assert entry["detail"] == {"status": {"from": "new", "to": "resolved"}}
    assert stack.sql("SELECT status FROM ticket WHERE id = %d" % tid) == [["resolved"]]
    # the same status again changes nothing
    n = len(t["actions"])
    again = desk.admin.patch("/api/tickets/%d" % tid, json={"status": "resolved"}).json()
    assert len(again["actions"]) == n


@pytest.mark.parametrize("body,fields", [({"status": "done"}, ["status"]), ({"status": 3}, ["status"]),
                                         ({}, ["status"]), ({"status": "open", "priority": "top"}, ["priority"]),
                                         ({"status": None}, ["status"])])
def test_bad_status_is_422(desk, pd, body, fields):
    pd.check_problem(desk.admin.patch("/api/tickets/%d" % desk.ids["vpn"], json=body), 422, fields)


def test_patch_needs_json_and_csrf(desk, pd, stack, admin_login):
    path = "/api/tickets/%d" % desk.ids["vpn"]
    pd.check_problem(desk.admin.patch(path, data="status=open",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    pd.check_problem(desk.admin.patch(path, data="{", headers={"Content-Type": "application/json"}), 400)
    c = pd.Client(stack)
    c.login(*admin_login)
    del c.http.headers["X-CSRF-Token"]
    pd.check_problem(c.patch(path, json={"status": "open"}), 403)


# --- attachments -----------------------------------------------------------------

def attachments(desk):
    t = desk.admin.get("/api/tickets/%d" % desk.ids["fire"]).json()
    return {x["name"]: x for a in t["actions"] for x in a["attachments"]}


def test_attachment_download_is_safe(desk):
    att = attachments(desk)
    html = att["résumé 100% \"final\".html"]
    r = desk.admin.get(html["url"])
    assert r.status_code == 200
    assert r.content == b"<script>alert(3)</script>"
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"] == \
        "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20100%25%20%22final%22.html"
    assert "nosniff" in r.headers["X-Content-Type-Options"]
    assert "sandbox" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Request-Id"]


def test_safe_image_keeps_its_type(desk):
    png = attachments(desk)["pixel.png"]
    r = desk.admin.get(png["url"])
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"] == "attachment; filename*=UTF-8''pixel.png"
    assert "sandbox" in r.headers["Content-Security-Policy"]


def test_attachment_of_another_ticket_is_404(desk, pd):
    png = attachments(desk)["pixel.png"]
    pd.check_problem(desk.admin.get("/api/tickets/%d/attachments/%d" % (desk.ids["vpn"], png["id"])), 404)
    pd.check_problem(desk.admin.get("/api/tickets/%d/attachments/999999999" % desk.ids["fire"]), 404)
    pd.check_problem(desk.admin.get("/api/tickets/%d/attachments/x" % desk.ids["fire"]), 404)


# --- who may ---------------------------------------------------------------------

def test_agents_work_tickets(desk, agent, check_schema):
    r = agent.get("/api/tickets?mailbox=%d" % desk.mid)
    check_schema("GET", "/api/tickets", r)
    assert len(r.json()["items"]) == 3
    assert agent.get("/api/tickets/%d" % desk.ids["pw"]).status_code == 200
    r = agent.patch("/api/tickets/%d" % desk.ids["pw"], json={"status": "open"})
    assert r.status_code == 200 and r.json()["status"] == "open"
    assert agent.get(attachments(desk)["pixel.png"]["url"]).status_code == 200


def test_api_keys_of_both_roles_read_tickets(desk, stack, pd):
    for role in ("agent", "admin"):
        _, key = pd.new_api_key(stack, role)
        c = pd.Client(stack, {"Authorization": "Bearer " + key})
        assert c.get("/api/tickets/%d" % desk.ids["vpn"]).status_code == 200
        r = c.patch("/api/tickets/%d" % desk.ids["vpn"], json={"status": "closed"})
        assert r.status_code == 200, r.text


def test_nobody_gets_nothing(desk, anon, pd):
    for path in ("/api/tickets", "/api/tickets/%d" % desk.ids["vpn"],
                 "/api/tickets/%d/attachments/1" % desk.ids["fire"]):
        pd.check_problem(anon.get(path), 401)
    pd.check_problem(anon.patch("/api/tickets/%d" % desk.ids["vpn"], json={"status": "open"}), 401)


def test_methods_not_allowed(desk, pd):
    r = desk.admin.delete("/api/tickets/%d" % desk.ids["vpn"])
    pd.check_problem(r, 405)
    assert set(r.headers["Allow"].split(", ")) == {"GET", "PATCH"}
    pd.check_problem(desk.admin.post("/api/tickets", json={}), 405)
