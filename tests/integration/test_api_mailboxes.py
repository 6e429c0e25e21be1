"""Mailbox setup: create, read, list, update, delete, and every validation error."""
import datetime

import pytest

MAILBOX_KEYS = {"id", "name", "type", "client_id", "tenant_id", "secret_set", "secret_last4",
                "secret_expires_on", "shared_address", "cloud", "processed_action",
                "processed_folder", "first_scan", "ack_enabled", "ack_subject", "ack_body",
                "ack_per_hour", "quarantine_folder", "attention", "status", "redirect_uris",
                "permissions", "created_at", "updated_at"}
LICENSED = ["offline_access", "openid", "email", "profile", "Mail.ReadWrite", "Mail.Send"]
SHARED = LICENSED + ["Mail.ReadWrite.Shared", "Mail.Send.Shared"]


def sealed(stack, pd, mid):
    return pd.text_of(stack.sql("SELECT HEX(secret_sealed) FROM mailbox WHERE id = %d" % mid)).strip()


def test_create_with_defaults(stack, admin_key, pd):
    body = pd.mailbox_input(secret="abc.DEF~123-wxyz")
    r = admin_key.post("/api/mailboxes", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == "application/json"
    mb = r.json()
    assert r.headers["Location"] == "/api/mailboxes/%d" % mb["id"]
    assert MAILBOX_KEYS <= set(mb) and not [k for k in mb if k in ("secret", "secret_sealed")]
    assert mb["name"] == body["name"]
    assert mb["type"] == "office365"
    assert mb["client_id"] == pd.CLIENT_ID.lower()
    assert mb["tenant_id"] == pd.TENANT_ID.lower()
    assert mb["secret_set"] is True and mb["secret_last4"] == "wxyz"
    assert mb["secret_expires_on"] is None and mb["shared_address"] is None
    assert mb["cloud"] == "global"
    assert mb["processed_action"] == "move_to_deleted_items" and mb["processed_folder"] is None
    assert mb["first_scan"] == "new_only" and mb["ack_enabled"] is True
    assert (mb["ack_subject"], mb["ack_body"], mb["ack_per_hour"]) == ("[#{ticket}] {subject}", None, 5)
    assert mb["quarantine_folder"] == "Postdesk quarantine" and mb["attention"] == 0
    assert mb["status"] == "not_connected"
    assert mb["redirect_uris"] == [stack.base + "/azure/auth", stack.base + "/auth/account/azureresponse"]
    assert mb["permissions"] == LICENSED
    assert mb["created_at"] == mb["updated_at"]
    datetime.datetime.strptime(mb["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    # Read it back, alone and in the list.
    got = admin_key.get(r.headers["Location"])
    assert got.status_code == 200 and got.json() == mb
    items = admin_key.get("/api/mailboxes").json()["items"]
    assert mb in items
    assert [m["id"] for m in items] == sorted(m["id"] for m in items)


def test_create_with_every_field(admin_key, pd):
    expiry = (datetime.date.today() + datetime.timedelta(days=400)).isoformat()
    body = pd.mailbox_input(type="office365", tenant_id="Contoso.onmicrosoft.com",
                            secret_expires_on=expiry, shared_address="Help@Contoso.com",
                            cloud="usgov_l5", processed_action="move_to_folder",
                            processed_folder="Processed/postdesk", first_scan="all", ack_enabled=False)
    r = admin_key.post("/api/mailboxes", json=body)
    assert r.status_code == 201, r.text
    mb = r.json()
    assert mb["tenant_id"] == "contoso.onmicrosoft.com"
    assert mb["secret_expires_on"] == expiry
    assert mb["shared_address"] == "help@contoso.com"
    assert mb["permissions"] == SHARED
    assert (mb["cloud"], mb["processed_action"], mb["processed_folder"], mb["first_scan"],
            mb["ack_enabled"]) == ("usgov_l5", "move_to_folder", "Processed/postdesk", "all", False)
    assert admin_key.get("/api/mailboxes/%d" % mb["id"]).json() == mb


def test_acknowledgement_settings_round_trip(admin_key, pd):
    body = pd.mailbox_input(ack_subject="Ticket {ticket} — {subject} \U0001F4EC",
                            ack_body="Hallo,\n\nTicket #{ticket} (<{subject}>) ist offen.\n",
                            ack_per_hour=1000)
    r = admin_key.post("/api/mailboxes", json=body)
    assert r.status_code == 201, r.text
    mb = r.json()
    assert (mb["ack_subject"], mb["ack_body"], mb["ack_per_hour"]) == (
        body["ack_subject"], body["ack_body"], 1000)
    assert admin_key.get("/api/mailboxes/%d" % mb["id"]).json() == mb
    path = "/api/mailboxes/%d" % mb["id"]
    r = admin_key.patch(path, json={"ack_per_hour": 1, "ack_body": None})
    assert r.status_code == 200, r.text
    assert (r.json()["ack_subject"], r.json()["ack_body"], r.json()["ack_per_hour"]) == (
        body["ack_subject"], None, 1)
    r = admin_key.patch(path, json={"ack_body": "x" * 5000, "ack_subject": "s" * 255})
    assert r.status_code == 200, r.text
    assert r.json()["ack_body"] == "x" * 5000 and r.json()["ack_subject"] == "s" * 255
    r = admin_key.patch(path, json={"ack_body": ""})
    assert r.status_code == 200 and r.json()["ack_body"] is None, r.text


def test_name_of_100_characters_of_4_bytes_each(admin_key, pd):
    name = "\U0001F4EC" * 99 + pd.unique("x")[-1]
    r = admin_key.post("/api/mailboxes", json=pd.mailbox_input(name=name))
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name
    assert admin_key.get(r.headers["Location"]).json()["name"] == name
    pd.check_problem(admin_key.post("/api/mailboxes", json=pd.mailbox_input(name="\U0001F4EC" * 101)),
                     422, ["name"])


def test_update_is_partial_and_keeps_the_secret(stack, admin_key, make_mailbox, pd):
    mb = make_mailbox(secret="first-secret-AAAA", cloud="china")
    path = "/api/mailboxes/%d" % mb["id"]
    box = sealed(stack, pd, mb["id"])
    new_name = pd.unique("Renamed")
    r = admin_key.patch(path, json={"name": new_name})
    assert r.status_code == 200, r.text
    up = r.json()
    assert up["name"] == new_name
    assert {k: v for k, v in up.items() if k not in ("name", "updated_at")} == \
           {k: v for k, v in mb.items() if k not in ("name", "updated_at")}
    assert up["secret_last4"] == "AAAA"
    assert sealed(stack, pd, mb["id"]) == box  # the stored secret is untouched
    assert admin_key.get(path).json() == up
    # A new secret: new last4, new sealed box.
    r = admin_key.patch(path, json={"secret": "second-secret-BBBB"})
    assert r.status_code == 200, r.text
    assert r.json()["secret_last4"] == "BBBB"
    assert sealed(stack, pd, mb["id"]) != box
    # An empty PATCH changes nothing.
    r = admin_key.patch(path, json={})
    assert r.status_code == 200 and r.json()["secret_last4"] == "BBBB" and r.json()["name"] == new_name


def test_update_nullable_fields_and_folder(admin_key, make_mailbox, pd):
    expiry = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    mb = make_mailbox(shared_address="a@contoso.com", secret_expires_on=expiry)
    path = "/api/mailboxes/%d" % mb["id"]
    assert mb["permissions"] == SHARED
    r = admin_key.patch(path, json={"shared_address": None, "secret_expires_on": None})
    assert r.status_code == 200, r.text
    assert r.json()["shared_address"] is None and r.json()["secret_expires_on"] is None
    assert r.json()["permissions"] == LICENSED
    r = admin_key.patch(path, json={"shared_address": "b@contoso.com", "secret_expires_on": ""})
    assert r.json()["shared_address"] == "b@contoso.com" and r.json()["secret_expires_on"] is None
    r = admin_key.patch(path, json={"shared_address": ""})
    assert r.json()["shared_address"] is None
    # A folder needs move_to_folder; another action clears it.
    p = pd.check_problem(admin_key.patch(path, json={"processed_action": "move_to_folder"}), 422,
                         ["processed_folder"])
    assert "folder" in pd.message_for(p, "processed_folder")
    r = admin_key.patch(path, json={"processed_action": "move_to_folder", "processed_folder": "Done"})
    assert r.status_code == 200 and r.json()["processed_folder"] == "Done"
    r = admin_key.patch(path, json={"processed_folder": "Done2"})
    assert r.json()["processed_folder"] == "Done2"
    pd.check_problem(admin_key.patch(path, json={"processed_folder": None}), 422, ["processed_folder"])
    r = admin_key.patch(path, json={"processed_action": "mark_read"})
    assert r.json()["processed_action"] == "mark_read" and r.json()["processed_folder"] is None


def test_delete(admin_key, make_mailbox, pd):
    mb = make_mailbox()
    path = "/api/mailboxes/%d" % mb["id"]
    r = admin_key.delete(path)
    assert r.status_code == 204 and r.content == b""
    pd.check_problem(admin_key.get(path), 404)
    pd.check_problem(admin_key.delete(path), 404)
    pd.check_problem(admin_key.patch(path, json={"name": "x"}), 404)
    assert mb["id"] not in [m["id"] for m in admin_key.get("/api/mailboxes").json()["items"]]
    # The name is free again.
    r = admin_key.post("/api/mailboxes", json=pd.mailbox_input(name=mb["name"]))
    assert r.status_code == 201, r.text


def test_duplicate_name_is_409(admin_key, make_mailbox, pd):
    a = make_mailbox()
    b = make_mailbox()
    p = pd.check_problem(admin_key.post("/api/mailboxes", json=pd.mailbox_input(name=a["name"])), 409)
    assert p["type"] == "urn:postdesk:problem:conflict"
    assert [e["field"] for e in p["errors"]] == ["name"]
    # Names compare case-insensitively (utf8mb4_unicode_ci).
    pd.check_problem(admin_key.post("/api/mailboxes", json=pd.mailbox_input(name=a["name"].upper())), 409)
    pd.check_problem(admin_key.patch("/api/mailboxes/%d" % b["id"], json={"name": a["name"]}), 409)
    assert admin_key.get("/api/mailboxes/%d" % b["id"]).json() == b
    # Renaming to its own name is no conflict.
    assert admin_key.patch("/api/mailboxes/%d" % a["id"], json={"name": a["name"]}).status_code == 200


GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
PAST = "2020-01-01"

# (field, bad value, text the message must contain or None)
BAD = [
    ("name", "", "1 to 100"), ("name", " Support", None), ("name", "Support ", None),
    ("name", "x" * 101, None), ("name", "a\tb", None), ("name", 5, "string"), ("name", None, "string"),
    ("type", "imap", "office365"), ("type", 1, "string"),
    ("client_id", "not-a-guid", "client"), ("client_id", GUID[:-1], None), ("client_id", GUID + "0", None),
    ("client_id", "{%s}" % GUID, None), ("client_id", 123, "string"),
    ("tenant_id", "contoso", "tenant"), ("tenant_id", "bad_domain.com", None), ("tenant_id", "", None),
    ("tenant_id", "contoso.123", None), ("tenant_id", "-contoso.com", None), ("tenant_id", True, "string"),
    ("secret", GUID, "Secret ID"), ("secret", GUID.upper(), "Secret ID"), ("secret", "", None),
    ("secret", "x" * 256, None), ("secret", "x" * 15, "16 to 255"),
    ("secret", "has space" + "x" * 20, "space"), ("secret", "s\u00e9cret" + "x" * 20, None),
    ("secret", "tab\there" + "x" * 20, None),
    ("secret", 42, "string"),
    ("secret_expires_on", "2027-13-01", "YYYY-MM-DD"), ("secret_expires_on", "31/12/2027", "YYYY-MM-DD"),
    ("secret_expires_on", "2027-02-30", None), ("secret_expires_on", "2027-5-1", None),
    ("secret_expires_on", PAST, "passed"), ("secret_expires_on", 20270101, "string"),
    ("shared_address", "not-an-email", "address"), ("shared_address", "a@b", None),
    ("shared_address", "a..b@contoso.com", None), ("shared_address", "a b@contoso.com", None),
    ("shared_address", 5, "string"),
    ("cloud", "azure", "global"), ("cloud", None, "string"),
    ("processed_action", "delete", "move_to_deleted_items"),
    ("processed_folder", "x" * 256, None), ("processed_folder", 7, "string"),
    ("first_scan", "everything", "new_only"),
    ("quarantine_folder", "", "1 to 255"), ("quarantine_folder", "   ", "1 to 255"),
    ("quarantine_folder", "x" * 256, "1 to 255"), ("quarantine_folder", "é" * 256, "1 to 255"),
    ("quarantine_folder", "a\tb", "control"), ("quarantine_folder", "Held\r\nBack", None),
    ("quarantine_folder", None, "string"), ("quarantine_folder", 7, "string"),
    ("quarantine_folder", "Inbox", "Outlook's own"), ("quarantine_folder", " inbox ", "Outlook's own"),
    ("quarantine_folder", "DELETED ITEMS", None), ("quarantine_folder", "Sent Items", None),
    ("quarantine_folder", "drafts", None), ("quarantine_folder", "Junk Email", None),
    ("quarantine_folder", "Outbox", None), ("quarantine_folder", "archive", None),
    ("ack_enabled", "yes", "true or false"), ("ack_enabled", 1, None), ("ack_enabled", None, None),
    ("ack_subject", "", "1 to 255"), ("ack_subject", "s" * 256, None), ("ack_subject", None, None),
    ("ack_subject", "a\r\nBcc: x@evil.test", None), ("ack_subject", 3, "string"),
    ("ack_body", "x" * 5001, "5000"), ("ack_body", 5, "string"),
    ("ack_per_hour", 0, "1 to 1000"), ("ack_per_hour", 1001, None), ("ack_per_hour", "5", None),
    ("ack_per_hour", None, None), ("ack_per_hour", 2.5, None), ("ack_per_hour", True, None),
]


@pytest.mark.parametrize("field,value,text", BAD, ids=["%s=%r" % (f, v)[:40] for f, v, _ in BAD])
def test_bad_field_on_create_is_422_naming_it(admin_key, pd, field, value, text):
    body = pd.mailbox_input(**{field: value})
    before = len(admin_key.get("/api/mailboxes").json()["items"])
    p = pd.check_problem(admin_key.post("/api/mailboxes", json=body), 422, [field])
    assert p["type"] == "urn:postdesk:problem:validation" and p["title"] == "Invalid input"
    if text:
        assert text in pd.message_for(p, field)
    assert len(admin_key.get("/api/mailboxes").json()["items"]) == before


def test_bad_field_on_update_is_422_and_changes_nothing(admin_key, make_mailbox, pd):
    mb = make_mailbox()
    path = "/api/mailboxes/%d" % mb["id"]
    for field, value, text in BAD:
        body = {"name": pd.unique("New"), field: value}
        p = pd.check_problem(admin_key.patch(path, json=body), 422, [field])
        if text:
            assert text in pd.message_for(p, field)
    p = pd.check_problem(admin_key.patch(path, json={"processed_action": "move_to_folder",
                                                     "processed_folder": "x" * 256}),
                         422, ["processed_folder"])
    assert admin_key.get(path).json() == mb


def test_secret_id_message_quotes_the_guide(admin_key, pd):
    p = pd.check_problem(admin_key.post("/api/mailboxes", json=pd.mailbox_input(secret=GUID)),
                         422, ["secret"])
    msg = pd.message_for(p, "secret")
    assert "Secret ID" in msg and "Value" in msg and "new client secret" in msg


def test_missing_required_fields(admin_key, pd):
    p = pd.check_problem(admin_key.post("/api/mailboxes", json={}), 422,
                         ["name", "client_id", "tenant_id", "secret"])
    assert {e["message"] for e in p["errors"]} == {"Required."}
    body = pd.mailbox_input()
    del body["secret"]
    pd.check_problem(admin_key.post("/api/mailboxes", json=body), 422, ["secret"])


def test_unknown_field(admin_key, make_mailbox, pd):
    p = pd.check_problem(admin_key.post("/api/mailboxes", json=pd.mailbox_input(colour="red")),
                         422, ["colour"])
    assert pd.message_for(p, "colour") == "Unknown field."
    for ro in ("id", "secret_last4", "status", "secret_set"):
        pd.check_problem(admin_key.post("/api/mailboxes", json=pd.mailbox_input(**{ro: "x"})), 422, [ro])
    mb = make_mailbox()
    pd.check_problem(admin_key.patch("/api/mailboxes/%d" % mb["id"], json={"status": "connected"}),
                     422, ["status"])


def test_move_to_folder_needs_a_folder(admin_key, pd):
    for folder in ({}, {"processed_folder": ""}, {"processed_folder": None}):
        body = pd.mailbox_input(processed_action="move_to_folder", **folder)
        pd.check_problem(admin_key.post("/api/mailboxes", json=body), 422, ["processed_folder"])


def test_all_errors_at_once(admin_key, pd):
    body = {"name": "", "client_id": "x", "tenant_id": "y", "secret": GUID, "cloud": "mars", "extra": 1}
    pd.check_problem(admin_key.post("/api/mailboxes", json=body), 422,
                     ["name", "client_id", "tenant_id", "secret", "cloud", "extra"])


def test_today_is_not_past(admin_key, pd):
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    r = admin_key.post("/api/mailboxes", json=pd.mailbox_input(secret_expires_on=today))
    assert r.status_code == 201, r.text
    assert r.json()["secret_expires_on"] == today


def test_azure_setup(stack, admin_key, admin_cookie):
    for c in (admin_key, admin_cookie):
        r = c.get("/api/azure-setup")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["redirect_uris"] == [stack.base + "/azure/auth",
                                         stack.base + "/auth/account/azureresponse"]
        assert body["permissions"] == {"licensed": LICENSED, "shared": SHARED}
        assert [c["id"] for c in body["clouds"]] == ["global", "usgov_l4", "usgov_l5", "china"]
        assert all(isinstance(c["name"], str) and c["name"] for c in body["clouds"])


def test_audit_log_records_changes(admin_key, admin_cookie, admin_login, pd):
    r = admin_cookie.post("/api/mailboxes", json=pd.mailbox_input())
    assert r.status_code == 201
    mid = r.json()["id"]
    create_rid = r.headers["X-Request-Id"]
    upd = admin_key.patch("/api/mailboxes/%d" % mid, json={"cloud": "china", "secret": "n3w-s3cret-V4lue"})
    assert upd.status_code == 200
    assert admin_cookie.delete("/api/mailboxes/%d" % mid).status_code == 204
    items = admin_cookie.get("/api/audit-log?limit=200").json()["items"]
    mine = [e for e in items if e["target"] == {"type": "mailbox", "id": mid}]
    assert [e["action"] for e in mine] == ["mailbox.delete", "mailbox.update", "mailbox.create"]
    delete, update, create = mine
    assert create["actor"]["type"] == "agent" and create["actor"]["name"] == admin_login[0]
    assert create["request_id"] == create_rid
    assert sorted(create["detail"]["fields"]) == ["client_id", "name", "secret", "tenant_id"]
    assert update["actor"]["type"] == "api_key"
    assert sorted(update["detail"]["fields"]) == ["cloud", "secret"]
    assert update["request_id"] == upd.headers["X-Request-Id"]
    assert delete["detail"] is None
    assert "n3w-s3cret-V4lue" not in str(items)
    assert items == sorted(items, key=lambda e: -e["id"])  # newest first
    for e in mine:
        datetime.datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%SZ")
    assert len(admin_key.get("/api/audit-log?limit=2").json()["items"]) == 2


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "", "1.5", "01"])
def test_audit_log_bad_limit_is_400(admin_key, pd, limit):
    pd.check_problem(admin_key.get("/api/audit-log?limit=" + limit), 400)
