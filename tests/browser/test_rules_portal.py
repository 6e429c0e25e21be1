"""Configuration > Email > Email Rules (#/rules): create with a conditions
editor, list in order, reorder, delete, and the dry run table (mail content
shown as text, never markup)."""
import json

import pytest
from selenium.common.exceptions import StaleElementReferenceException


@pytest.fixture
def ui(portal, admin_login, stack):
    stack.sql("DELETE FROM email_rule")
    portal.login_ok(*admin_login)
    portal.go("#/rules")
    portal.visible("#rule-new")
    yield portal
    stack.sql("DELETE FROM email_rule")


def add_mail(stack, subject, sender):
    src = json.dumps({"id": "AAMk-portal-%s" % abs(hash(subject)), "subject": subject,
                      "body": {"contentType": "text", "content": "hi"},
                      "from": {"emailAddress": {"name": "x", "address": sender}},
                      "toRecipients": [], "internetMessageHeaders": []})
    hx = lambda s: "CONVERT(UNHEX('%s') USING utf8mb4)" % s.encode().hex()
    stack.sql("INSERT INTO incoming_email (mailbox_id, graph_id, from_addr, subject, created_at, size, "
              "sha256, source, outcome, trace) VALUES (1, 'portal-%d', %s, %s, UTC_TIMESTAMP(3), 1, "
              "UNHEX(SHA2('x', 256)), %s, 'ticket_created', '')"
              % (abs(hash(subject)), hx(sender), hx(subject), hx(src)))


def create_rule(ui, name, value, header=None):
    ui.click("#rule-new")
    ui.present("#rule-form")
    ui.type("#rule-name", name)
    ui.type("#rule-conditions .cond-row:nth-child(1) .cond-value", value)
    if header:
        ui.click("#cond-add")
        ui.select("#rule-conditions .cond-row:nth-child(2) .cond-field", "header")
        ui.type("#rule-conditions .cond-row:nth-child(2) .cond-header", header)
        ui.type("#rule-conditions .cond-row:nth-child(2) .cond-value", "*")
        ui.select("#rule-match", "any")
    ui.click("#rule-ignore")
    ui.click("#rule-save")
    ui.visible("#rule-table")


def test_nav_create_reorder_delete(ui):
    nav = ui.el("#nav-rules")
    assert nav.text == "Email Rules" and nav.get_attribute("aria-current") == "page"
    create_rule(ui, "Bin newsletters", "newsletter", header="List-Id")
    create_rule(ui, "Second", "sale")

    def names():
        try:
            return [e.text for e in ui.els("#rule-table .rule-link")]
        except StaleElementReferenceException:  # the list was just redrawn
            return None

    ui.until(lambda: names() == ["Bin newsletters", "Second"])
    assert "any of:" in ui.el("#rule-table").text and "header List-Id" in ui.el("#rule-table").text
    ui.click("#rule-table tr:nth-child(2) .rule-up")
    ui.until(lambda: names() == ["Second", "Bin newsletters"])
    ui.click("#rule-table tr:nth-child(1) .rule-delete")
    ui.click("#confirm-delete")
    ui.until(lambda: names() == ["Bin newsletters"])


def test_validation_shows_on_the_condition(ui):
    ui.click("#rule-new")
    ui.type("#rule-name", "Empty value")
    ui.click("#rule-save")
    err = ui.visible("#rule-conditions .field-error")
    assert err.text.startswith("Condition 1: value")


def test_dry_run_table(ui, stack):
    add_mail(stack, "<img src=x onerror=alert(1)> Weekly newsletter", "news@shop.example.com")
    create_rule(ui, "Bin newsletters", "newsletter")
    ui.click("#rules-dry-run")
    ui.visible("#dry-run-table")
    row = ui.el("#dry-run-table tbody tr:first-child")
    assert "<img src=x onerror=alert(1)> Weekly newsletter" in row.text
    assert row.find_elements("css selector", "img") == []
    assert ui.el("#dry-run-table tbody tr:first-child .dry-would").text == "ignore"
    assert ui.el("#dry-run-table tbody tr:first-child .dry-rule").text == "Bin newsletters"
    assert "Nothing was changed" in ui.el("#dry-run-summary").text
