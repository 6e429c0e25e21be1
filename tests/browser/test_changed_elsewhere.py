"""The mailbox and rule edit forms send If-Match with the version they
loaded: when someone else saved meanwhile, saving says "Changed elsewhere —
reload" and overwrites nothing (issue 9)."""
import pytest

from pd_helpers import Client, mailbox_input, unique

MESSAGE = "Changed elsewhere — reload"


@pytest.fixture
def key(stack, api_key):
    return Client(stack, {"Authorization": "Bearer " + api_key})


def test_mailbox_form(admin_ui, key):
    r = key.post("/api/mailboxes", json=mailbox_input())
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    admin_ui.go("#/mailboxes/%d" % mid)
    admin_ui.visible("#mb-name")
    other = unique("Elsewhere")
    assert key.patch("/api/mailboxes/%d" % mid, json={"name": other}).status_code == 200
    admin_ui.type("#mb-name", unique("Mine"))
    admin_ui.click("#mb-save")
    admin_ui.text_in("main", MESSAGE)
    admin_ui.visible(".problem-reload")
    assert key.get("/api/mailboxes/%d" % mid).json()["name"] == other
    key.delete("/api/mailboxes/%d" % mid)


def test_rule_form(admin_ui, key):
    r = key.post("/api/rules", json={"name": unique("Form"), "actions": {"priority": "high"},
                                     "conditions": [{"field": "subject", "op": "contains", "value": "x"}]})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    admin_ui.go("#/rules/%d" % rid)
    admin_ui.visible("#rule-form #rule-name")
    assert key.patch("/api/rules/%d" % rid, json={"name": "Elsewhere"}).status_code == 200
    admin_ui.type("#rule-name", "Mine")
    admin_ui.click("#rule-save")
    admin_ui.text_in("#form-error", MESSAGE)
    assert key.get("/api/rules/%d" % rid).json()["name"] == "Elsewhere"
    key.delete("/api/rules/%d" % rid)
