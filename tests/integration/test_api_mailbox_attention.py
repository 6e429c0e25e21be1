"""Mailbox isolation settings (issue 8, "Isolation"): quarantine_folder as a
mailbox field, and `attention` — the mails of a mailbox that need an admin
(failed or quarantined, latest attempt, no Retry asked for) — in every
mailbox answer, and the incoming log's `attention=true` filter that lists
the same rows."""
import json

import pytest


def hexq(s):
    return "CONVERT(UNHEX('%s') USING utf8mb4)" % s.encode().hex()


def add_row(stack, mailbox_id, graph_id, attempt, outcome, state="done", retry=0,
            subject="A mail", failures=0, error=None):
    """One incoming_email row as the scanner writes it; returns its id."""
    src = json.dumps({"id": graph_id, "subject": subject})
    stack.sql(
        "INSERT INTO incoming_email (mailbox_id, graph_id, attempt, from_addr, subject, "
        "received_at, created_at, size, sha256, source, outcome, trace, state, failures, "
        "error, next_try_at, retry_requested) VALUES (%d, '%s', %d, 'someone@example.com', "
        "%s, UTC_TIMESTAMP(), UTC_TIMESTAMP(3), %d, UNHEX(SHA2(%s, 256)), %s, '%s', 'test row', "
        "'%s', %d, %s, %s, %d)"
        % (mailbox_id, graph_id, attempt, hexq(subject), len(src), hexq(src), hexq(src), outcome,
           state, failures, hexq(error) if error else "NULL",
           "UTC_TIMESTAMP() + INTERVAL 1 HOUR" if outcome == "failed" else "NULL", retry))
    return int(stack.sql("SELECT MAX(id) FROM incoming_email WHERE mailbox_id = %d"
                         % mailbox_id)[0][0])


def attention_of(admin_key, mid):
    one = admin_key.get("/api/mailboxes/%d" % mid).json()["attention"]
    listed = [m["attention"] for m in admin_key.get("/api/mailboxes").json()["items"]
              if m["id"] == mid]
    assert listed == [one]
    return one


def test_quarantine_folder_default_round_trip_and_patch(stack, admin_key, make_mailbox, pd):
    mb = make_mailbox()
    assert mb["quarantine_folder"] == "Postdesk quarantine"
    assert pd.text_of(stack.sql("SELECT quarantine_folder FROM mailbox WHERE id = %d"
                                % mb["id"])).strip() == "Postdesk quarantine"
    mb = make_mailbox(quarantine_folder="  Held back  ")
    assert mb["quarantine_folder"] == "Held back"
    path = "/api/mailboxes/%d" % mb["id"]
    for name in ("Quarantäne \U0001F6A7", "é" * 255, "x" * 255, "Inbox quarantine", "Inbox/Held"):
        r = admin_key.patch(path, json={"quarantine_folder": name})
        assert r.status_code == 200, r.text
        assert r.json()["quarantine_folder"] == name
        assert admin_key.get(path).json()["quarantine_folder"] == name
    # other changes keep it
    r = admin_key.patch(path, json={"ack_per_hour": 7})
    assert r.json()["quarantine_folder"] == "Inbox/Held"
    before = admin_key.get(path).json()
    p = pd.check_problem(admin_key.patch(path, json={"quarantine_folder": "Junk email"}), 422,
                         ["quarantine_folder"])
    assert "Junk email" in pd.message_for(p, "quarantine_folder")
    assert admin_key.get(path).json() == before


def test_quarantine_folder_is_not_the_processed_folder(admin_key, make_mailbox, pd):
    body = pd.mailbox_input(processed_action="move_to_folder", processed_folder="Done",
                            quarantine_folder="done")
    pd.check_problem(admin_key.post("/api/mailboxes", json=body), 422, ["quarantine_folder"])
    mb = make_mailbox(processed_action="move_to_folder", processed_folder="Done")
    path = "/api/mailboxes/%d" % mb["id"]
    pd.check_problem(admin_key.patch(path, json={"processed_folder": "Postdesk Quarantine"}), 422,
                     ["processed_folder"])
    # a name used as the processed folder is fine once the action changes
    r = admin_key.patch(path, json={"processed_action": "mark_read", "quarantine_folder": "Done"})
    assert r.status_code == 200, r.text
    assert (r.json()["processed_folder"], r.json()["quarantine_folder"]) == (None, "Done")


def test_attention_counts_latest_failed_and_quarantined_without_retry(stack, admin_key,
                                                                      make_mailbox, pd):
    mb = make_mailbox()
    other = make_mailbox()
    mid = mb["id"]
    assert attention_of(admin_key, mid) == 0
    failed = add_row(stack, mid, "g-failed", 1, "failed", state="failed", failures=2,
                     error="1406 Data too long")
    assert attention_of(admin_key, mid) == 1
    quarantined = add_row(stack, mid, "g-quar", 1, "quarantined", failures=5, error="boom")
    assert attention_of(admin_key, mid) == 2
    # quarantined, then brought back and taken in: the later attempt settles it
    add_row(stack, mid, "g-back", 1, "quarantined", failures=5, error="boom")
    assert attention_of(admin_key, mid) == 3
    add_row(stack, mid, "g-back", 2, "ticket_created")
    # a success, then a later failed attempt (Reprocess/Retry): that one counts
    add_row(stack, mid, "g-again", 1, "ticket_created")
    again = add_row(stack, mid, "g-again", 2, "failed", state="failed", failures=1, error="x")
    # retry asked for: not counted
    add_row(stack, mid, "g-retry", 1, "quarantined", failures=5, retry=1)
    # other outcomes and other mailboxes: not counted
    add_row(stack, mid, "g-error", 1, "error")
    add_row(stack, other["id"], "g-failed", 1, "failed", state="failed", failures=1)
    assert attention_of(admin_key, mid) == 3
    assert attention_of(admin_key, other["id"]) == 1

    # the log lists the same rows
    r = admin_key.get("/api/incoming-emails?mailbox=%d&attention=true" % mid)
    assert r.status_code == 200, r.text
    assert sorted(e["id"] for e in r.json()["items"]) == sorted([failed, quarantined, again])
    assert all(e["latest"] for e in r.json()["items"])
    rows = admin_key.get("/api/incoming-emails?mailbox=%d&limit=200" % mid).json()["items"]
    assert len(rows) == 8 and all(isinstance(e["latest"], bool) for e in rows)
    assert sorted(e["graph_id"] for e in rows if not e["latest"]) == ["g-again", "g-back"]
    r = admin_key.get("/api/incoming-emails?mailbox=%d&attention=false" % mid)
    assert len(r.json()["items"]) == 8
    pd.check_problem(admin_key.get("/api/incoming-emails?attention=yes"), 400)

    # Retry a quarantined mail: it no longer needs attention
    r = admin_key.post("/api/incoming-emails/%d/retry" % quarantined)
    assert r.status_code == 202, r.text
    assert r.json()["retry_requested"] is True
    assert attention_of(admin_key, mid) == 2
    # deleting the mailbox's rows clears it
    stack.sql("DELETE FROM incoming_email WHERE mailbox_id = %d" % mid)
    assert attention_of(admin_key, mid) == 0

