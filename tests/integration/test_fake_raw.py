"""The fake's support for hostile mail (tests/fakes/README.md): `raw` and `drop`
on a message, unreadable items (`fail_read`), item and reference attachments,
folders made through Graph.  Self-contained like test_fake_microsoft.py, whose
client, fixtures and sign-in helpers it reuses.
"""
import base64
import importlib.util
import json
import os

_spec = importlib.util.spec_from_file_location(
    "pd_fake_tests", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_fake_microsoft.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
fake, env = _mod.fake, _mod.env          # fixtures  # noqa: F401
connect, assert_graph_error = _mod.connect, _mod.assert_graph_error

INBOX = "/me/mailFolders/inbox/messages"
SEL = "?$select=subject,body,from,toRecipients,internetMessageHeaders,internetMessageId"


def test_raw_keys_are_merged_as_listed(env):
    c = env
    m = c.ctl("messages", {
        "mailbox": "alice@contoso.com", "subject": "plain", "from": "x@example.com", "body_text": "hello",
        "headers": [{"name": "X-A", "value": "1"}],
        "raw": {"subject": "nul\u0000here", "body": {"content": "b\u0000dy"}, "from": None,
                "toRecipients": [{"emailAddress": {"address": 5}}] * 3,
                "internetMessageHeaders": [{"name": "X:\u0000", "value": None}],
                "@odata.type": "#microsoft.graph.eventMessageRequest", "meetingMessageType": "meetingRequest",
                "isRead": "yes"},
        "drop": ["internetMessageId"]})
    at = connect(c)["access_token"]
    r = c.graph(INBOX + SEL, at, prefer='outlook.body-content-type="text"')
    assert r.status == 200
    assert b"nul\\u0000here" in r.body          # JSON escapes, never a raw NUL byte
    j = r.json["value"][0]
    assert j["subject"] == "nul\u0000here" and j["from"] is None
    assert j["body"] == {"contentType": "text", "content": "b\u0000dy"}     # deep merge
    assert j["toRecipients"][0]["emailAddress"]["address"] == 5
    assert j["internetMessageHeaders"] == [{"name": "X:\u0000", "value": None}]
    assert j["@odata.type"] == "#microsoft.graph.eventMessageRequest" and "internetMessageId" not in j
    assert "isRead" not in j                    # not selected: raw keys of known props stay out
    # without $select: no headers (select-only), the rest merged; by id too
    j = c.graph(INBOX, at).json["value"][0]
    assert "internetMessageHeaders" not in j and j["isRead"] == "yes"
    assert c.graph("/me/messages/" + m["id"], at).json["subject"] == "nul\u0000here"
    # $filter and $orderby look at the real values, not raw ones
    r = c.graph(INBOX + "?$filter=isRead%20eq%20false&$count=true", at)
    assert r.json["@odata.count"] == 1


def test_raw_attachments_replace_the_expanded_list(env):
    c = env
    c.ctl("messages", {"mailbox": "alice@contoso.com", "subject": "a", "from": "x@example.com",
                       "attachments": [{"name": "real.txt", "content": "r"}],
                       "raw": {"attachments": [{"@odata.type": 7, "name": None}]}})
    at = connect(c)["access_token"]
    j = c.graph(INBOX + "?$expand=attachments", at).json["value"][0]
    assert j["attachments"] == [{"@odata.type": 7, "name": None}]
    assert "attachments" not in c.graph(INBOX, at).json["value"][0]


def test_unreadable_items_fail_the_page(env):
    c = env
    c.ctl("messages", {"mailbox": "alice@contoso.com", "subject": "ok", "from": "x@example.com"})
    bad = c.ctl("messages", {"mailbox": "alice@contoso.com", "subject": "corrupt", "from": "x@example.com",
                             "fail_read": {"what": "all", "status": 400, "code": "ErrorCorruptData"}})
    body = c.ctl("messages", {"mailbox": "alice@contoso.com", "subject": "no body", "from": "x@example.com",
                              "fail_read": "body", "attachments": [{"name": "a", "content": "a"}]})
    at = connect(c)["access_token"]
    assert_graph_error(c.graph(INBOX, at), 400, "ErrorCorruptData")
    assert_graph_error(c.graph(INBOX + "?$select=subject", at), 400, "ErrorCorruptData")
    r = c.graph(INBOX + "?$select=id,receivedDateTime&$top=50", at)     # ids only: fine
    assert r.status == 200 and len(r.json["value"]) == 3
    assert_graph_error(c.graph("/me/messages/" + bad["id"], at), 400, "ErrorCorruptData")
    assert c.graph("/me/messages/" + bad["id"] + "?$select=id", at).status == 200
    # "body": everything but the body can be read, the attachments too
    assert_graph_error(c.graph("/me/messages/" + body["id"], at), 500, "ErrorInternalServerError")
    assert c.graph("/me/messages/" + body["id"] + "?$select=subject,from", at).status == 200
    assert c.graph("/me/messages/%s/attachments" % body["id"], at).status == 200
    # moving it works (quarantine)
    f = c.graph("/me/mailFolders", at, method="POST", body={"displayName": "Quarantine"})
    r = c.graph("/me/messages/%s/move" % bad["id"], at, method="POST", body={"destinationId": f.json["id"]})
    assert r.status == 201


def test_item_and_reference_attachments(env):
    c = env
    fwd = {"subject": "Original \u202egnp.exe", "from": {"emailAddress": {"name": "Ö", "address": "o@example.com"}},
           "body": {"contentType": "text", "content": "the forwarded text"}}
    ev = {"@odata.type": "#microsoft.graph.event", "subject": "Meeting",
          "organizer": {"emailAddress": {"address": "boss@example.com"}}}
    m = c.ctl("messages", {"mailbox": "alice@contoso.com", "subject": "fw", "from": "x@example.com",
                           "attachments": [
                               {"kind": "item", "name": "Original", "content_type": "message/rfc822", "item": fwd},
                               {"kind": "item", "name": "Meeting", "content_type": None, "item": ev},
                               {"kind": "item", "name": "raw.eml", "item": {}, "mime_b64":
                                base64.b64encode(b"Subject: \xff\xfe\r\n\r\nbad bytes").decode()},
                               {"kind": "reference", "name": "link", "content_type": None},
                               {"name": "odd", "content": "x", "odata_type": "#microsoft.graph.FileAttachment",
                                "raw": {"size": -1}}]})
    at = connect(c)["access_token"]
    items = c.graph(INBOX + "?$expand=attachments", at).json["value"][0]["attachments"]
    assert [a["@odata.type"] for a in items] == [
        "#microsoft.graph.itemAttachment", "#microsoft.graph.itemAttachment", "#microsoft.graph.itemAttachment",
        "#microsoft.graph.referenceAttachment", "#microsoft.graph.FileAttachment"]
    assert "item" not in items[0] and "contentBytes" not in items[0] and items[1]["contentType"] is None
    assert items[4]["size"] == -1 and base64.b64decode(items[4]["contentBytes"]) == b"x"
    base = "/me/messages/%s/attachments/" % m["id"]
    j = c.graph(base + m["attachment_ids"][0] + "?$expand=microsoft.graph.itemattachment/item", at).json
    assert j["item"]["subject"] == fwd["subject"] and j["item"]["@odata.type"] == "#microsoft.graph.message"
    r = c.graph(base + m["attachment_ids"][0] + "/$value", at)
    assert r.status == 200 and r.headers["content-type"] == "message/rfc822"
    assert b"the forwarded text" in r.body and "Subject: Original \u202egnp.exe".encode() in r.body
    r = c.graph(base + m["attachment_ids"][1] + "/$value", at)
    assert r.headers["content-type"] == "text/calendar" and b"BEGIN:VEVENT" in r.body
    assert c.graph(base + m["attachment_ids"][2] + "/$value", at).body == b"Subject: \xff\xfe\r\n\r\nbad bytes"
    assert_graph_error(c.graph(base + m["attachment_ids"][3] + "/$value", at), 405, "ErrorInvalidRequest")


def test_create_folders(env):
    c = env
    at = connect(c)["access_token"]
    r = c.graph("/me/mailFolders", at, method="POST", body={"displayName": "Postdesk quarantine"})
    assert r.status == 201 and r.json["displayName"] == "Postdesk quarantine", r.body
    assert_graph_error(c.graph("/me/mailFolders", at, method="POST", body={"displayName": "postdesk QUARANTINE"}),
                       409, "ErrorFolderExists")
    assert_graph_error(c.graph("/me/mailFolders", at, method="POST", body={"name": "x"}), 400,
                       "RequestBroker--ParseUri")
    assert_graph_error(c.graph("/me/mailFolders", at, method="POST", body={}), 400, "ErrorInvalidRequest")
    r = c.graph("/me/mailFolders/%s/childFolders" % r.json["id"], at, method="POST", body={"displayName": "Sub"})
    assert r.status == 201
    names = [f["displayName"] for f in c.graph("/me/mailFolders?$top=50", at).json["value"]]
    assert "Postdesk quarantine" in names and "Sub" not in names     # a child, not at the top
    snap = c.ctl("mailboxes/alice@contoso.com", method="GET")
    assert {"Postdesk quarantine", "Sub"} <= {f["displayName"] for f in snap["folders"]}
    # read-only scope: 403
    c.ctl("apps/update", {"client_id": c.cid, "permissions": ["User.Read", "Mail.Read"]})
    ro = connect(c, scope="openid offline_access User.Read Mail.Read")["access_token"]
    r = c.graph("/me/mailFolders", ro, method="POST", body={"displayName": "Nope"})
    assert r.status == 403, (r.status, r.body)
    assert json.loads(r.body)["error"]["code"] == "ErrorAccessDenied"
