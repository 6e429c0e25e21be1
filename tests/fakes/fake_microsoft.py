#!/usr/bin/python3
"""Fake Microsoft cloud for postdesk's integration tests.

One loopback HTTP server that plays both Microsoft Entra ID (login: authorize +
token endpoints) and Microsoft Graph v1.0 (mail), following
docs/graph-contract.md as strictly as the real services (stricter where the
contract says "a strict test fake ...").  A JSON control API under /_control/
creates tenants, apps, users, mailboxes and messages, injects faults and exposes
logs for assertions.  See tests/fakes/README.md.

Stdlib only (Debian's python3.11).

    python3 tests/fakes/fake_microsoft.py --port 0 --port-file PATH [--seed FILE]

or in-process:

    fake = FakeMicrosoft(port=0).start(); fake.url; ...; fake.stop()
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import html
import http.server
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
import uuid

import fake_cert  # certificate credentials: client assertions (issue 14)
import fake_fleet  # added Graph latency and request counters (the fleet benchmark)
import fake_oidc  # signed id_tokens and the JWKS (tests/fakes/fake_oidc.py)

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_RESOURCES = (
    "https://graph.microsoft.com/",
    "https://graph.microsoft.us/",
    "https://dod-graph.microsoft.us/",
    "https://microsoftgraph.chinacloudapi.cn/",
    GRAPH_APP_ID + "/",
)
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
GRAPH_SCOPES = (
    "User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All",
    "Mail.Read", "Mail.ReadBasic", "Mail.ReadWrite", "Mail.Send",
    "Mail.Read.Shared", "Mail.ReadWrite.Shared", "Mail.Send.Shared",
    "MailboxSettings.Read", "MailboxSettings.ReadWrite",
)
_GRAPH_SCOPE_CANON = {s.lower(): s for s in GRAPH_SCOPES}
DEFAULT_APP_PERMISSIONS = ["User.Read", "Mail.ReadWrite", "Mail.Send",
                           "Mail.ReadWrite.Shared", "Mail.Send.Shared"]
CODE_LIFETIME = 600
RT_INACTIVITY = 90 * 86400
WELL_KNOWN_FOLDERS = [  # (well-known name, display name, visible under msgfolderroot)
    ("inbox", "Inbox", True), ("drafts", "Drafts", True),
    ("sentitems", "Sent Items", True), ("deleteditems", "Deleted Items", True),
    ("junkemail", "Junk Email", True), ("archive", "Archive", True),
    ("outbox", "Outbox", True), ("recoverableitemsdeletions", "Deletions", False),
]
MAX_CONCURRENT = 4


# --------------------------------------------------------------------------- utils

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def guid() -> str:
    return str(uuid.uuid4())


def is_guid(s: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", s or ""))


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso(s: str) -> float:
    if isinstance(s, (int, float)):
        return float(s)
    d = dt.datetime.fromisoformat(s.replace("z", "Z"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return d.timestamp()


def checked_token(prefix: str, nbytes: int = 48) -> str:
    """Opaque token with a checksum, so truncated/garbled values are detectable
    (AADSTS9002313) separately from well-formed but unknown ones (AADSTS70000)."""
    body = secrets.token_urlsafe(nbytes)
    return f"{prefix}{body}.{hashlib.sha256(body.encode()).hexdigest()[:10]}"


def token_well_formed(tok: str, prefix: str) -> bool:
    m = re.fullmatch(re.escape(prefix) + r"([A-Za-z0-9_\-]+)\.([0-9a-f]{10})", tok or "")
    return bool(m) and hashlib.sha256(m.group(1).encode()).hexdigest()[:10] == m.group(2)


def html_to_text(h: str) -> str:
    h = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", "", h)
    h = re.sub(r"(?i)<br\s*/?>", "\n", h)
    h = re.sub(r"(?i)</(p|div|tr|li|h[1-6])\s*>", "\n", h)
    h = re.sub(r"<[^>]*>", "", h)
    h = html.unescape(h)
    h = re.sub(r"[ \t]+\n", "\n", h)
    return re.sub(r"\n{3,}", "\n\n", h).strip()


def strip_unsafe_html(h: str) -> str:
    h = re.sub(r"(?is)<script\b.*?</script\s*>", "", h)
    return re.sub(r"(?i)\s+on[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", "", h)


def parse_prefer(values: list[str]) -> dict:
    """Prefer header(s) -> {lowercased name: value without quotes}."""
    out = {}
    for v in values:
        for part in re.findall(r'(?:[^,"]|"[^"]*")+', v):
            part = part.strip()
            if not part:
                continue
            name, _, val = part.partition("=")
            out[name.strip().lower()] = val.strip().strip('"')
    return out


# ----------------------------------------------------------------------- errors

class OAuthError(Exception):
    def __init__(self, error, code, text, status=None, extra=None):
        super().__init__(f"{error} AADSTS{code}")
        self.error, self.code, self.text = error, code, text
        self.status = status or (401 if error == "invalid_client" else 400)
        self.extra = extra or {}


class PageError(Exception):
    """Error shown on Microsoft's own HTML page (never redirected)."""
    def __init__(self, code, text, status=400):
        super().__init__(f"AADSTS{code}")
        self.code, self.text, self.status = code, text, status


class RedirectError(Exception):
    def __init__(self, error, code, text, subcode=None):
        super().__init__(error)
        self.error, self.code, self.text, self.subcode = error, code, text, subcode


class GraphError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(f"{status} {code}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def access_denied():
    return GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


# ------------------------------------------------------------------------ model

class Secret:
    def __init__(self, id=None, value=None, expires_at=None, **_):
        self.id = id or guid()
        self.value = value or (secrets.token_urlsafe(6)[:3] + "8Q~" + secrets.token_urlsafe(27)[:37])
        self.expires_at = parse_iso(expires_at) if expires_at is not None else time.time() + 730 * 86400

    def public(self):
        return {"id": self.id, "value": self.value, "expires_at": iso(self.expires_at)}


class App:
    def __init__(self, tenant, client_id=None, secrets=None, redirect_uris=None,
                 consented=True, permissions=None, display_name="postdesk", **_):
        self.tenant = tenant
        self.client_id = client_id or guid()
        self.secrets = [Secret(**s) for s in (secrets if secrets is not None else [{}])]
        self.redirect_uris = list(redirect_uris or [])
        self.consented = bool(consented)
        self.permissions = canon_permissions(permissions or DEFAULT_APP_PERMISSIONS)
        self.display_name = display_name

    def public(self):
        return {"tenant": self.tenant.id, "client_id": self.client_id,
                "secrets": [s.public() for s in self.secrets], "redirect_uris": self.redirect_uris,
                "consented": self.consented, "permissions": self.permissions}


def raw_bytes(text: str) -> bytes:
    """UTF-8, but a lone surrogate does not raise: U+DC80..U+DCFF become the byte they
    stand for (surrogateescape: invalid UTF-8 as mail carries it), others their 3-byte
    form (also invalid UTF-8)."""
    out = bytearray()
    for ch in text:
        cp = ord(ch)
        if 0xDC80 <= cp <= 0xDCFF:
            out.append(cp - 0xDC00)
        else:
            out += ch.encode("utf-8", "surrogatepass")
    return bytes(out)


ATTACHMENT_TYPES = {"file": "#microsoft.graph.fileAttachment", "item": "#microsoft.graph.itemAttachment",
                    "reference": "#microsoft.graph.referenceAttachment"}


class Attachment:
    """kind "file" (bytes: content_b64 or content), "item" (an Outlook item: `item` is its
    Graph JSON, a message or an event; `mime`/`mime_b64` what $value answers, made from the
    item when omitted) or "reference" (a cloud link; no bytes, $value is 405).
    odata_type: the @odata.type to show (default by kind); raw: keys merged as listed."""

    def __init__(self, name="file.bin", content_type="application/octet-stream", content_b64=None,
                 content=None, is_inline=False, content_id=None, kind="file", item=None, mime=None,
                 mime_b64=None, odata_type=None, raw=None, **_):
        if kind not in ATTACHMENT_TYPES:
            raise ValueError(f"attachment kind {kind!r}: one of {sorted(ATTACHMENT_TYPES)}")
        self.id = "AAMkAGAtt" + b64url(secrets.token_bytes(30)) + "="
        self.name, self.content_type = name, content_type
        if content_b64 is not None:
            self.data = base64.b64decode(content_b64)
        else:
            self.data = raw_bytes(content or "") if isinstance(content, (str, type(None))) else content
        self.is_inline, self.content_id, self.kind = bool(is_inline), content_id, kind
        self.item = dict(item or {}) if kind == "item" else None
        if self.item is not None:
            self.item.setdefault("@odata.type", "#microsoft.graph.message")
            self.item.setdefault("id", "AAMkAGItm" + b64url(secrets.token_bytes(30)) + "=")
            if mime_b64 is not None:
                self.data = base64.b64decode(mime_b64)
            elif mime is not None:
                self.data = raw_bytes(mime) if isinstance(mime, str) else mime
            else:
                self.data = item_mime(self.item)
        if kind == "reference":
            self.data = b""
        self.odata_type = odata_type
        self.raw = dict(raw or {})
        self.modified = time.time()

    def is_event(self):
        return self.item is not None and "event" in str(self.item.get("@odata.type", "")).lower()

    def value_type(self):
        if self.kind == "item":
            return "text/calendar" if self.is_event() else "message/rfc822"
        return self.content_type or "application/octet-stream"

    def to_graph(self, with_bytes=True, with_item=False):
        d = {"@odata.type": self.odata_type or ATTACHMENT_TYPES[self.kind],
             "id": self.id, "lastModifiedDateTime": iso(self.modified), "name": self.name,
             "contentType": self.content_type, "size": len(self.data) + 180 + len(self.name or "") * 2,
             "isInline": self.is_inline}
        if self.kind == "file":
            d["contentId"] = self.content_id
            d["contentLocation"] = None
            if with_bytes:
                d["contentBytes"] = base64.b64encode(self.data).decode()
        elif self.kind == "item" and with_item:
            d["item"] = self.item
        d.update(self.raw)
        return d


def item_mime(item: dict) -> bytes:
    """What $value answers for an item attachment: an event as iCalendar, anything else
    as an RFC 822 message (the Outlook item's MIME)."""
    def addr(v):
        ea = (v or {}).get("emailAddress") or {}
        return f'"{ea.get("name") or ""}" <{ea.get("address") or ""}>'
    body = item.get("body") or {}
    if "event" in str(item.get("@odata.type", "")).lower():
        lines = ["BEGIN:VCALENDAR", "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
                 "VERSION:2.0", "METHOD:REQUEST", "BEGIN:VEVENT",
                 "UID:" + str(item.get("iCalUId") or item["id"]),
                 "SUMMARY:" + str(item.get("subject") or ""),
                 "DTSTART:20300101T090000Z", "DTEND:20300101T100000Z",
                 "ORGANIZER:mailto:" + str(((item.get("organizer") or {}).get("emailAddress") or {})
                                           .get("address") or ""),
                 "END:VEVENT", "END:VCALENDAR", ""]
        return raw_bytes("\r\n".join(lines))
    head = [("From", addr(item.get("from"))),
            ("To", ", ".join(addr(r) for r in item.get("toRecipients") or [])),
            ("Subject", str(item.get("subject") or "")),
            ("Message-ID", str(item.get("internetMessageId") or f"<{secrets.token_hex(8)}@item.example>")),
            ("Date", "Mon, 01 Jan 2029 09:00:00 +0000"), ("MIME-Version", "1.0"),
            ("Content-Type", "text/html; charset=utf-8" if str(body.get("contentType")).lower() == "html"
             else "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")]
    text = "".join(f"{k}: {v}\r\n" for k, v in head) + "\r\n" + str(body.get("content") or "")
    return raw_bytes(text)


def recipients(v):
    out = []
    for r in v or []:
        if isinstance(r, str):
            out.append({"emailAddress": {"name": r, "address": r}})
        elif "emailAddress" in r:
            out.append(r)
        else:
            out.append({"emailAddress": {"name": r.get("name", r.get("address")), "address": r.get("address")}})
    return out


class Message:
    def __init__(self, mailbox, folder, seq, subject="", body_html=None, body_text=None, sender=None,
                 to=None, cc=None, bcc=None, reply_to=None, received=None, sent=None, headers=None,
                 attachments=None, internet_message_id=None, conversation_id=None, is_read=False,
                 importance="normal", categories=None, is_draft=False, now=None, raw=None, drop=None,
                 fail_read=None, **kw):
        now = now if now is not None else time.time()
        # raw: keys merged into the Graph JSON as listed (deep for body); drop: keys left out
        self.raw, self.drop = dict(raw or {}), list(drop or [])
        if isinstance(fail_read, str):
            fail_read = {"what": fail_read}
        if fail_read is not None and fail_read.get("what") not in ("all", "body", "attachments"):
            raise ValueError("fail_read.what: all, body or attachments")
        self.fail_read = fail_read
        self.seq = seq
        self.immutable_id = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A" + b64url(secrets.token_bytes(33)) + "AAA="
        self.id = self.new_regular_id()
        self.internet_message_id = internet_message_id or f"<{secrets.token_hex(12)}@fake.example>"
        self.conversation_id = conversation_id or ("AAQkA" + b64url(secrets.token_bytes(30)) + "=")
        self.subject = subject
        if body_html is None and body_text is None:
            body_html = ""
        self.body_type = "html" if body_html is not None else "text"
        self.body = body_html if body_html is not None else body_text
        frm = kw.get("from", sender)
        self.from_ = recipients([frm])[0] if frm else None
        self.sender = self.from_ if sender is None else recipients([sender])[0]
        self.to, self.cc, self.bcc = recipients(to), recipients(cc), recipients(bcc)
        self.reply_to = recipients(reply_to)
        self.received = parse_iso(received) if received is not None else now
        self.sent = parse_iso(sent) if sent is not None else self.received - 2
        self.created = self.modified = now
        self.headers = [dict(name=h["name"], value=h["value"]) if isinstance(h, dict) else
                        {"name": h[0], "value": h[1]} for h in (headers or [])]
        if not any(h["name"].lower() == "message-id" for h in self.headers):
            self.headers.insert(0, {"name": "Message-ID", "value": self.internet_message_id})
        self.attachments = [Attachment(**a) for a in (attachments or [])]
        self.is_read, self.is_draft = bool(is_read), bool(is_draft)
        self.importance, self.categories = importance, list(categories or [])
        self.change_key = "CQAAABYAAAD" + b64url(secrets.token_bytes(12))
        self.folder = folder
        self.mailbox = mailbox

    @staticmethod
    def new_regular_id():
        return "AAMkAGI2TG93AAA" + b64url(secrets.token_bytes(45)) + "AAA="

    def html_body(self, allow_unsafe):
        if self.body_type == "html":
            inner = self.body if allow_unsafe else strip_unsafe_html(self.body)
            if re.search(r"(?i)<html", inner):
                return inner
        else:
            inner = "<div>" + html.escape(self.body).replace("\n", "<br>\r\n") + "</div>"
        return ('<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                "</head><body>" + inner + "</body></html>")

    def text_body(self):
        return self.body if self.body_type == "text" else html_to_text(self.body)

    def filter_view(self):
        """The properties $filter and $orderby look at (cheap: no body)."""
        return {"receivedDateTime": iso(self.received), "sentDateTime": iso(self.sent),
                "createdDateTime": iso(self.created), "lastModifiedDateTime": iso(self.modified),
                "isRead": self.is_read, "isDraft": self.is_draft,
                "hasAttachments": any(not a.is_inline for a in self.attachments),
                "subject": self.subject, "importance": self.importance,
                "internetMessageId": self.internet_message_id, "conversationId": self.conversation_id,
                "from": self.from_, "sender": self.sender}

    def check_readable(self, props, attachments):
        """Raise the Graph error of an unreadable (corrupt) item if this read touches
        what fail_read names: props, the message properties read; attachments, whether
        its attachments are read too."""
        f = self.fail_read
        if f is None:
            return
        what = f["what"]
        if (what == "all" and set(props) - LIGHT_PROPS) or \
                (what == "body" and set(props) & {"body", "uniqueBody", "bodyPreview"}) or \
                (what in ("all", "attachments") and attachments):
            raise GraphError(int(f.get("status", 500)), f.get("code", "ErrorInternalServerError"),
                             f.get("message", "An internal server error occurred. The operation failed."))

    def apply_raw(self, out):
        """raw and drop on a Graph JSON answer: keys that were not selected stay out."""
        for k in self.drop:
            out.pop(k, None)
        for k, v in self.raw.items():
            if k in self.drop or k == "attachments" or (k in MESSAGE_PROPS and k not in out):
                continue
            if k in ("body", "uniqueBody") and isinstance(v, dict) and isinstance(out.get(k), dict):
                out[k] = dict(out[k], **v)
            else:
                out[k] = v
        return out

    def to_graph(self, immutable, text_body, allow_unsafe, mailbox_owner):
        text = self.text_body()
        body = ({"contentType": "text", "content": text} if text_body else
                {"contentType": "html", "content": self.html_body(allow_unsafe)})
        mid = self.immutable_id if immutable else self.id
        return {
            "@odata.etag": f'W/"{self.change_key}"',
            "id": mid,
            "createdDateTime": iso(self.created), "lastModifiedDateTime": iso(self.modified),
            "changeKey": self.change_key, "categories": self.categories,
            "receivedDateTime": iso(self.received), "sentDateTime": iso(self.sent),
            "hasAttachments": any(not a.is_inline for a in self.attachments),
            "internetMessageId": self.internet_message_id, "subject": self.subject,
            "bodyPreview": re.sub(r"\s+", " ", text)[:255], "importance": self.importance,
            "parentFolderId": self.folder.id, "conversationId": self.conversation_id,
            "conversationIndex": base64.b64encode(hashlib.sha1(raw_bytes(self.conversation_id)).digest()[:22]).decode(),
            "isDeliveryReceiptRequested": False, "isReadReceiptRequested": False,
            "isRead": self.is_read, "isDraft": self.is_draft,
            "webLink": "https://outlook.office365.com/owa/?ItemID=" + urllib.parse.quote(mid, safe="")
                       + "&exvsurl=1&viewmodel=ReadMessageItem",
            "inferenceClassification": "focused", "body": body,
            "sender": self.sender, "from": self.from_,
            "toRecipients": self.to, "ccRecipients": self.cc, "bccRecipients": self.bcc,
            "replyTo": self.reply_to, "flag": {"flagStatus": "notFlagged"},
            # only with $select:
            "uniqueBody": body, "internetMessageHeaders": self.headers,
        }


SELECT_ONLY = {"uniqueBody", "internetMessageHeaders"}
# what an "ids only" listing may read of an unreadable item (fail_read "all")
LIGHT_PROPS = {"id", "receivedDateTime", "sentDateTime", "createdDateTime", "lastModifiedDateTime",
               "changeKey", "parentFolderId", "isRead", "isDraft", "hasAttachments", "@odata.etag"}
MESSAGE_PROPS = {
    "id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "receivedDateTime",
    "sentDateTime", "hasAttachments", "internetMessageId", "subject", "bodyPreview", "importance",
    "parentFolderId", "conversationId", "conversationIndex", "isDeliveryReceiptRequested",
    "isReadReceiptRequested", "isRead", "isDraft", "webLink", "inferenceClassification", "body",
    "sender", "from", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "flag",
    "uniqueBody", "internetMessageHeaders",
}


class Folder:
    def __init__(self, mailbox, display_name, well_known=None, parent_id=None, hidden=False):
        self.mailbox = mailbox
        self.id = "AAMkAGI2TG93AAEAAA" + b64url(secrets.token_bytes(36)) + "AAA="
        self.display_name, self.well_known = display_name, well_known
        self.parent_id, self.hidden = parent_id, hidden
        self.messages: list[Message] = []

    def to_graph(self):
        return {"id": self.id, "displayName": self.display_name, "parentFolderId": self.parent_id,
                "childFolderCount": sum(1 for f in self.mailbox.folders.values()
                                        if f.parent_id == self.id),
                "unreadItemCount": sum(1 for m in self.messages if not m.is_read),
                "totalItemCount": len(self.messages), "sizeInBytes": 0, "isHidden": self.hidden}


class Mailbox:
    """An Exchange mailbox: folders holding messages; ids per docs/graph-contract.md
    sections 4.5 and 4.6."""

    def __init__(self, owner):
        self.owner = owner
        self.folders: dict[str, Folder] = {}
        self.well_known: dict[str, Folder] = {}
        self.by_id: dict[str, Message] = {}
        self.delegates: dict[str, dict] = {}     # user oid -> {full_access, send_as, send_on_behalf}
        self.seq = 0
        top = Folder(self, "Top of Information Store", "msgfolderroot_parent", parent_id=None)
        root = Folder(self, "", "msgfolderroot", parent_id=top.id)
        top.parent_id = "AAMkAGI2TG93AAEAAA" + b64url(secrets.token_bytes(36)) + "AAA="
        for f in (top, root):
            self.folders[f.id] = f
        self.well_known["msgfolderroot"] = root
        for name, disp, visible in WELL_KNOWN_FOLDERS:
            f = Folder(self, disp, name, parent_id=root.id if visible else top.id, hidden=not visible)
            self.folders[f.id] = f
            self.well_known[name] = f

    def folder(self, ref: str) -> Folder:
        f = self.well_known.get(ref.lower()) if ref.lower() != "msgfolderroot_parent" else None
        if f is None:
            f = self.folders.get(ref)
        if f is None:
            if not re.fullmatch(r"AAMk[A-Za-z0-9_\-]{20,}={0,2}", ref):
                raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return f

    def add_message(self, folder_ref="inbox", now=None, **kw) -> Message:
        f = self.folder(folder_ref)
        self.seq += 1
        m = Message(self, f, self.seq, now=now, **kw)
        f.messages.append(m)
        self.by_id[m.id] = m
        self.by_id[m.immutable_id] = m
        for hook in NEW_MAIL_HOOKS:  # change notifications (fake_push.py)
            hook(self, m, now if now is not None else time.time())
        return m

    def message(self, ref: str) -> Message:
        m = self.by_id.get(ref)
        if m is None:
            if not re.fullmatch(r"AA[A-Za-z0-9_\-]{40,}={0,2}", ref):
                raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return m

    def move(self, m: Message, dest: Folder, now: float) -> Message:
        m.folder.messages.remove(m)
        del self.by_id[m.id]
        m.id = Message.new_regular_id()
        m.change_key = "CQAAABYAAAD" + b64url(secrets.token_bytes(12))
        m.modified = now
        m.folder = dest
        dest.messages.append(m)
        self.by_id[m.id] = m
        return m

    def snapshot(self):
        return {"address": self.owner.address, "folders": [
            dict(f.to_graph(), wellKnownName=f.well_known, messages=[
                {"id": m.id, "immutableId": m.immutable_id, "internetMessageId": m.internet_message_id,
                 "subject": m.subject, "isRead": m.is_read, "receivedDateTime": iso(m.received),
                 "conversationId": m.conversation_id}
                for m in sorted(f.messages, key=lambda m: (m.received, m.seq))])
            for f in self.folders.values() if f.well_known != "msgfolderroot_parent"]}


class User:
    def __init__(self, tenant, address, display_name=None, has_mailbox=True, licensed=True,
                 id=None, shared=False, **_):
        self.tenant = tenant
        self.id = id or guid()
        self.address = address
        self.display_name = display_name or address.split("@")[0]
        self.has_mailbox, self.licensed, self.shared = bool(has_mailbox), bool(licensed), bool(shared)
        self.disabled = shared           # shared mailboxes have sign-in blocked
        self.session_gen = 0             # bumped by "revoke sessions"
        self.consent_gen = 0             # bumped by "revoke consent"
        self.mfa_required = False
        self.mfa_gen = 0
        self.mailbox = Mailbox(self) if self.has_mailbox else None

    @property
    def mail(self):
        return self.address if self.has_mailbox else None

    def mailbox_usable(self):
        return self.mailbox is not None and (self.licensed or self.shared)

    def public(self):
        return {"id": self.id, "tenant": self.tenant.id, "address": self.address,
                "display_name": self.display_name, "has_mailbox": self.has_mailbox,
                "licensed": self.licensed, "shared": self.shared, "disabled": self.disabled,
                "mfa_required": self.mfa_required}


class Tenant:
    def __init__(self, id=None, domains=None, **_):
        self.id = (id or guid()).lower()
        self.domains = [d.lower() for d in (domains or [f"t{self.id[:8]}.onmicrosoft.com"])]
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}    # oid -> user (insertion order)
        self.signin_user = None             # oid
        self.signin_mode = "approve"        # approve | cancel | admin_approval

    def public(self):
        return {"id": self.id, "domains": self.domains, "apps": list(self.apps),
                "users": [u.address for u in self.users.values()],
                "signin_user": self.signin_user, "signin_mode": self.signin_mode}


def canon_graph_scope(s: str):
    return _GRAPH_SCOPE_CANON.get(s.lower())


def canon_permissions(names):
    out = []
    for n in names:
        c = canon_graph_scope(n)
        if c is None:
            raise ValueError(f"unknown Graph permission {n!r} (known: {', '.join(GRAPH_SCOPES)})")
        out.append(c)
    return out


# ------------------------------------------------------------------------ OData

_TOK = re.compile(r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>'(?:[^']|'')*')"
                  r"|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))"
                  r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_/]*))")
FILTER_PROPS = {
    "receivedDateTime": "dt", "sentDateTime": "dt", "createdDateTime": "dt",
    "lastModifiedDateTime": "dt", "isRead": "bool", "isDraft": "bool", "hasAttachments": "bool",
    "subject": "str", "importance": "str", "internetMessageId": "str", "conversationId": "str",
    "from/emailAddress/address": "str", "sender/emailAddress/address": "str",
}
ORDER_PROPS = {"receivedDateTime", "sentDateTime", "createdDateTime", "lastModifiedDateTime",
               "subject", "importance", "isRead", "hasAttachments"}


def _bad(msg):
    return GraphError(400, "BadRequest", msg)


def parse_filter(text):
    """-> (predicate(msg_json) -> bool, [properties in order of appearance])"""
    toks, pos = [], 0
    while pos < len(text):
        m = _TOK.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise _bad(f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup
        toks.append((kind, m.group(kind)))
        pos = m.end()
    props, i = [], [0]

    def peek():
        return toks[i[0]] if i[0] < len(toks) else (None, None)

    def take():
        t = peek()
        i[0] += 1
        return t

    def expr():
        left = and_expr()
        while peek() == ("word", "or"):
            take()
            right = and_expr()
            left = (lambda a, b: lambda m: a(m) or b(m))(left, right)
        return left

    def and_expr():
        left = not_expr()
        while peek() == ("word", "and"):
            take()
            right = not_expr()
            left = (lambda a, b: lambda m: a(m) and b(m))(left, right)
        return left

    def not_expr():
        if peek() == ("word", "not"):
            take()
            inner = not_expr()
            return lambda m: not inner(m)
        if peek()[0] == "lp":
            take()
            e = expr()
            if take()[0] != "rp":
                raise _bad("Invalid filter clause: ')' expected.")
            return e
        kind, prop = take()
        if kind != "word" or prop not in FILTER_PROPS:
            raise _bad(f"Could not find a property named '{prop}' on type 'microsoft.graph.message'.")
        kind, op = take()
        ops = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
               "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}
        if op not in ops:
            raise _bad(f"Invalid filter clause: unknown operator '{op}'.")
        kind, lit = take()
        ptype = FILTER_PROPS[prop]
        if ptype == "dt":
            if kind != "dt":
                raise _bad("A binary operator with incompatible types was detected. Found operand types "
                           f"'Edm.DateTimeOffset' and '{'Edm.String' if kind == 'str' else 'Edm.Int32'}' "
                           f"for operator kind '{op}'.")
            val = parse_iso(lit)
        elif ptype == "bool":
            if lit not in ("true", "false"):
                raise _bad("A binary operator with incompatible types was detected.")
            val = lit == "true"
        else:
            if kind != "str":
                raise _bad("A binary operator with incompatible types was detected.")
            val = lit[1:-1].replace("''", "'")
        props.append(prop)
        fn = ops[op]

        def pred(m):
            v = m
            for part in prop.split("/"):
                v = v.get(part) if isinstance(v, dict) else None
            if v is None:
                return False
            if ptype == "dt":
                v = parse_iso(v)
            elif ptype == "str" and op in ("eq", "ne"):
                return fn(v.lower(), val.lower())
            return fn(v, val)
        return pred

    if not toks:
        raise _bad("Invalid filter clause: empty.")
    pred = expr()
    if i[0] != len(toks):
        raise _bad(f"Invalid filter clause: unexpected '{toks[i[0]][1]}'.")
    return pred, props


# ------------------------------------------------------------------------ state

class Fault:
    def __init__(self, path, status=None, count=1, retry_after=None, delay_ms=0, method=None,
                 code=None, body=None, **_):
        self.path = re.compile(path)
        self.status, self.count, self.retry_after = status, count, retry_after
        self.delay_ms, self.method, self.code = delay_ms or 0, method, code
        self.body = body    # answer this instead (JSON value, or a str sent verbatim)
        self.hits = 0

    def public(self):
        return {"path": self.path.pattern, "status": self.status, "count": self.count,
                "retry_after": self.retry_after, "delay_ms": self.delay_ms,
                "method": self.method, "body": self.body is not None, "hits": self.hits}


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.tenants: dict[str, Tenant] = {}
            self.codes: dict[str, dict] = {}
            self.refresh_tokens: dict[str, dict] = {}
            self.refresh_reuse = 0  # rotated-out refresh tokens presented again (refused)
            self.access_tokens: dict[str, dict] = {}
            self.faults: list[Fault] = []
            self.authorize_log, self.token_log, self.graph_log, self.sent_log = [], [], [], []
            self.clock_offset = 0.0
            self.token_lifetime = 3599
            self.throttle_retry_after = 1
            self.inflight: dict[tuple, int] = {}
            self.oidc = fake_oidc.Oidc()

    def now(self):
        return time.time() + self.clock_offset

    # -- lookups
    def tenant(self, ref, required=True):
        ref = (ref or "").lower()
        t = self.tenants.get(ref)
        if t is None:
            t = next((t for t in self.tenants.values() if ref in t.domains), None)
        if t is None and required:
            raise KeyError(f"unknown tenant {ref!r}")
        return t

    def user(self, ref, tenant=None):
        ref_l = (ref or "").lower()
        for t in ([tenant] if tenant else self.tenants.values()):
            for u in t.users.values():
                if u.id == ref_l or u.address.lower() == ref_l:
                    return u
        raise KeyError(f"unknown user {ref!r}")

    def app(self, client_id):
        for t in self.tenants.values():
            if client_id in t.apps:
                return t.apps[client_id]
        raise KeyError(f"unknown app {client_id!r}")

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if (f.count is None or f.count > 0) and f.path.search(path) and \
                        (f.method is None or f.method.upper() == method):
                    if f.count is not None:
                        f.count -= 1
                    f.hits += 1
                    return f
        return None


# ------------------------------------------------------------------------ server

class Response:
    def __init__(self, status=200, body=b"", headers=None, content_type=None):
        self.status = status
        self.headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            content_type = content_type or "application/json; charset=utf-8"
        elif isinstance(body, str):
            body = body.encode()
        self.body = body
        if content_type:
            self.headers["Content-Type"] = content_type


ROUTES = []   # (method, compiled regex, handler, needs mailbox, access kind)
NEW_MAIL_HOOKS = []  # fn(mailbox, message, now): fake_push.py notifies
RESET_HOOKS = []     # fn(): forget what fake_push.py keeps
MBX = r"^/(?P<mbx>me|users/(?P<who>[^/]+))"


def route(method, pattern, mailbox=None):
    """mailbox: None (directory call) or 'read' / 'write' / 'send' (needs a mailbox)."""
    def deco(fn):
        ROUTES.append((method, re.compile(pattern + "$"), fn, mailbox))
        return fn
    return deco


class FakeMicrosoft:
    def __init__(self, port=0, host="127.0.0.1", quiet=False, graph_latency_ms=0):
        self.state = State()
        self.fleet = fake_fleet.Fleet(graph_latency_ms)
        self.host, self.port, self.quiet = host, port, quiet
        self.httpd = None
        self.thread = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        fake = self

        class Handler(RequestHandler):
            pass
        Handler.fake = fake
        self.httpd = fake_fleet.Server((self.host, self.port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-microsoft", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()

    def log(self, line):
        if not self.quiet:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    # ================================================================ dispatch
    def handle(self, req) -> Response:
        path = req.path
        if path.startswith("/_control/"):
            return self.control(req)
        if path.startswith("/v1.0/") or path == "/v1.0":
            return self.graph(req)
        m = re.fullmatch(r"/([^/]+)/discovery/v2\.0/keys", path)
        if m and req.method == "GET":
            with self.state.lock:
                if self.state.tenant(urllib.parse.unquote(m.group(1)), required=False) is None:
                    return Response(400, {"error": "invalid_tenant"})
                return Response(200, self.state.oidc.jwks())
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/(authorize|token)", path)
        if m:
            tenant_ref = urllib.parse.unquote(m.group(1))
            if m.group(2) == "authorize":
                return self.authorize(req, tenant_ref)
            return self.token(req, tenant_ref)
        return Response(404, "Not Found", content_type="text/plain")

    # ================================================================ login
    def _trace(self, req):
        crid = req.headers.get("client-request-id")
        return guid(), (crid if is_guid(crid or "") else guid()), \
            time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(self.state.now()))

    def error_page(self, req, e: PageError):
        trace, corr, ts = self._trace(req)
        body = ("<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>"
                "<div id=\"error\"><h1>Sign in</h1><p>Sorry, but we&#8217;re having trouble signing you in."
                f"</p><p id=\"aadsts\">AADSTS{e.code}: {html.escape(e.text)}</p>"
                f"<p>Request Id: {trace}<br>Correlation Id: {corr}<br>Timestamp: {ts}</p>"
                "</div></body></html>")
        return Response(e.status, body, content_type="text/html; charset=utf-8")

    def oauth_error(self, req, e: OAuthError):
        trace, corr, ts = self._trace(req)
        body = {"error": e.error,
                "error_description": f"AADSTS{e.code}: {e.text}\r\nTrace ID: {trace}\r\n"
                                     f"Correlation ID: {corr}\r\nTimestamp: {ts}",
                "error_codes": [e.code], "timestamp": ts, "trace_id": trace,
                "correlation_id": corr, "error_uri": f"{self.url}/error?code={e.code}"}
        body.update(e.extra)
        return Response(e.status, body, headers={"Cache-Control": "no-store, no-cache",
                                                  "Pragma": "no-cache"})

    def parse_scopes(self, text, tenant):
        """-> (graph scopes set, oidc scopes set, default?) ; raises ValueError(scope)"""
        graph, oidc, default = set(), set(), False
        for s in (text or "").split():
            low = s.lower()
            if low in OIDC_SCOPES:
                oidc.add(low)
                continue
            name = s
            for prefix in GRAPH_RESOURCES + (self.url + "/",):
                if low.startswith(prefix.lower()):
                    name = s[len(prefix):]
                    break
            if name == ".default" and name != s:
                default = True
                continue
            c = canon_graph_scope(name)
            if c is None:
                raise ValueError(s)
            graph.add(c)
        return graph, oidc, default

    def authorize(self, req, tenant_ref):
        st = self.state
        q = req.query_pairs
        params = {}
        for k, v in q:
            params.setdefault(k, v)
        entry = {"time": iso(st.now()), "tenant": tenant_ref, "query": params,
                 "raw_query": req.raw_query, "outcome": None}
        with st.lock:
            st.authorize_log.append(entry)
        try:
            resp = self._authorize(req, tenant_ref, params, entry)
        except PageError as e:
            entry["outcome"] = f"page AADSTS{e.code}"
            return self.error_page(req, e)
        return resp

    def _authorize(self, req, tenant_ref, p, entry):
        st = self.state
        if req.method not in ("GET", "POST"):
            raise PageError(900561, "The endpoint only accepts GET and POST requests.")
        with st.lock:
            if tenant_ref.lower() in ("common", "organizations", "consumers"):
                try:
                    app = st.app(p.get("client_id", ""))
                except KeyError:
                    raise PageError(700016, f"Application with identifier '{p.get('client_id', '')}' was "
                                    "not found in the directory. This can happen if the application has "
                                    "not been installed by the administrator of the tenant or consented to "
                                    "by any user in the tenant.")
                raise PageError(50194, f"Application '{app.client_id}'({app.display_name}) is not configured "
                                "as a multi-tenant application. Usage of the /common endpoint is not "
                                "supported for such applications created after '10/15/2018'. Use a "
                                "tenant-specific endpoint or configure the application to be multi-tenant.")
            tenant = st.tenant(tenant_ref, required=False)
            if tenant is None:
                raise PageError(90002, f"Tenant '{tenant_ref}' not found. Check to make sure you have the "
                                "correct tenant ID and are signing into the correct cloud. Check with your "
                                "subscription administrator, this may happen if there are no active "
                                "subscriptions for the tenant.")
            cid = p.get("client_id")
            if not cid:
                raise PageError(900144, "The request body must contain the following parameter: 'client_id'.")
            app = tenant.apps.get(cid)
            if app is None:
                raise PageError(700016, f"Application with identifier '{cid}' was not found in the directory "
                                f"'{tenant.domains[0]}'. This can happen if the application has not been "
                                "installed by the administrator of the tenant or consented to by any user in "
                                "the tenant. You may have sent your authentication request to the wrong tenant.")
            if not app.redirect_uris:
                raise PageError(500113, "No reply address is registered for the application.")
            ru = p.get("redirect_uri")
            if ru is None:
                raise PageError(900144, "The request body must contain the following parameter: 'redirect_uri'.")
            if ru not in app.redirect_uris:
                raise PageError(50011, f"The redirect URI '{ru}' specified in the request does not match the "
                                f"redirect URIs configured for the application '{cid}'. Make sure the redirect "
                                "URI sent in the request matches one added to your application in the Azure "
                                "portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more "
                                "about how to fix this.")
            mode = p.get("response_mode", "query")
            state_param = p.get("state")
            try:
                if mode not in ("query", "form_post", "fragment"):
                    raise RedirectError("invalid_request", 900280, f"Provided value '{mode}' for input "
                                        "parameter 'response_mode' is not valid.")
                rt = p.get("response_type")
                if rt is None:
                    raise RedirectError("invalid_request", 900144, "The request body must contain the "
                                        "following parameter: 'response_type'.")
                if rt != "code":
                    raise RedirectError("unsupported_response_type", 700054, f"response_type '{rt}' is not "
                                        "enabled for the application.")
                if not p.get("scope"):
                    raise RedirectError("invalid_request", 900144, "The request body must contain the "
                                        "following parameter: 'scope'.")
                try:
                    gs, oidc, default = self.parse_scopes(p["scope"], tenant)
                except ValueError as e:
                    raise RedirectError("invalid_scope", 70011, f"The provided request must include a 'scope' "
                                        f"input parameter. The provided value for the input parameter 'scope' "
                                        f"is not valid. The scope '{e.args[0]}' does not exist.")
                # Like Entra, the token carries everything consented for this app (the app's
                # configured permissions, admin-consented) plus what was requested (user consent).
                gs |= set(app.permissions)
                prompt = p.get("prompt")
                if prompt is not None and prompt not in ("login", "consent", "select_account", "none"):
                    raise RedirectError("invalid_request", 90023, f"Invalid prompt value '{prompt}'.")
                chal, meth = p.get("code_challenge"), p.get("code_challenge_method")
                if not chal:
                    raise RedirectError("invalid_request", 9002325, "Proof Key for Code Exchange is required "
                                        "for cross-origin authorization code redemption. (This fake requires "
                                        "PKCE S256 on every authorization request.)")
                if meth != "S256":
                    raise RedirectError("invalid_request", 50147, f"The code_challenge_method '{meth}' is "
                                        "not supported by this fake; use S256.")
                if not re.fullmatch(r"[A-Za-z0-9_\-]{43}", chal):
                    raise RedirectError("invalid_request", 50146, "Invalid size of code_challenge parameter.")
                if prompt == "none":
                    raise RedirectError("login_required", 50058, "A silent sign-in request was sent but no "
                                        "user is signed in.")
                if not app.consented or tenant.signin_mode == "admin_approval":
                    raise PageError(90094, f"Need admin approval. {app.display_name} needs permission to access "
                                    "resources in your organization that only an admin can grant. Please ask "
                                    "an admin to grant permission to this app before you can use it.")
                if tenant.signin_mode == "cancel":
                    raise RedirectError("access_denied", 65004, "User declined to consent to access the app.",
                                        subcode="cancel")
                user = tenant.users.get(tenant.signin_user) if tenant.signin_user else next(
                    (u for u in tenant.users.values() if not u.shared), None)
                if user is None:
                    raise PageError(50034, "The user account does not exist in this directory.")
                if user.disabled:
                    raise PageError(50057, "The user account is disabled.")
                code = checked_token("1.AXkA", 96)
                st.codes[code] = {
                    "client_id": cid, "redirect_uri": ru, "tenant": tenant.id, "challenge": chal,
                    "scopes": sorted(gs), "oidc": sorted(oidc), "user": user.id, "nonce": p.get("nonce"),
                    "expires": st.now() + CODE_LIFETIME, "redeemed": False,
                    "mfa_gen": user.mfa_gen, "session_gen": user.session_gen,
                }
                entry["outcome"] = f"code for {user.address}"
                out = [("code", code)]
                if state_param is not None:
                    out.append(("state", state_param))
                out.append(("session_state", guid()))
            except RedirectError as e:
                trace, corr, ts = self._trace(req)
                entry["outcome"] = f"redirect error={e.error} AADSTS{e.code}"
                out = [("error", e.error),
                       ("error_description", f"AADSTS{e.code}: {e.text} Trace ID: {trace} "
                                             f"Correlation ID: {corr} Timestamp: {ts}")]
                if e.subcode:
                    out.append(("error_subcode", e.subcode))
                if state_param is not None:
                    out.append(("state", state_param))
        qs = urllib.parse.urlencode(out, quote_via=urllib.parse.quote)
        if mode == "form_post":
            fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}"/>'
                             for k, v in out)
            body = (f'<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" '
                    f'action="{html.escape(ru)}">{fields}<noscript><p>Script is disabled. Click Submit to '
                    f'continue.</p><input type="submit" value="Submit"/></noscript></form><script '
                    f'language="javascript">document.forms[0].submit();</script></body></html>')
            return Response(200, body, content_type="text/html; charset=utf-8")
        sep = "#" if mode == "fragment" else ("&" if "?" in ru else "?")
        return Response(302, b"", headers={"Location": ru + sep + qs, "Cache-Control": "no-store, no-cache"})

    def token(self, req, tenant_ref):
        st = self.state
        entry = {"time": iso(st.now()), "tenant": tenant_ref, "grant_type": None, "client_id": None,
                 "client_auth": None, "secret_matched": None, "secret_was_id": False, "assertion": None,
                 "has_code_verifier": False, "redirect_uri": None, "scope": None,
                 "origin_header": "Origin" in req.headers, "content_type": req.headers.get("Content-Type"),
                 "status": None, "error": None, "error_code": None}
        with st.lock:
            st.token_log.append(entry)
        fault = st.take_fault(req.method, req.path)
        if fault:
            if fault.delay_ms:
                time.sleep(fault.delay_ms / 1000)
            if fault.status:
                e = OAuthError("temporarily_unavailable" if fault.status in (503, 429) else "server_error",
                               fault.code or 90033 if fault.status == 503 else fault.code or 90100,
                               "A transient error has occurred. Please try again. (injected fault)",
                               status=fault.status)
                r = self.oauth_error(req, e)
                if fault.retry_after is not None:
                    r.headers["Retry-After"] = str(fault.retry_after)
                entry.update(status=fault.status, error=e.error, error_code=e.code)
                return r
        try:
            body = self._token(req, tenant_ref, entry)
            entry["status"] = 200
            return Response(200, body, headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})
        except OAuthError as e:
            entry.update(status=e.status, error=e.error, error_code=e.code)
            return self.oauth_error(req, e)

    def _token(self, req, tenant_ref, entry):
        st = self.state
        if req.method != "POST":
            raise OAuthError("invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. "
                             f"Received a {req.method} request.")
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", 900144, "The request body must contain the following "
                             "parameter: 'grant_type'.")
        if "Origin" in req.headers:
            raise OAuthError("invalid_request", 9002326, "Cross-origin token redemption is permitted only for "
                             "the 'Single-Page Application' client-type. Request origin: "
                             f"'{req.headers['Origin']}'.")
        try:
            pairs = urllib.parse.parse_qsl(req.body.decode("utf-8"), keep_blank_values=True)
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_request", 9002313, "Invalid request. Request is malformed or invalid.")
        f = {}
        for k, v in pairs:
            if k in f:
                raise OAuthError("invalid_request", 9002313, "Invalid request. Request is malformed or "
                                 f"invalid. (parameter '{k}' given twice)")
            f[k] = v
        entry.update(grant_type=f.get("grant_type"), client_id=f.get("client_id"),
                     has_code_verifier="code_verifier" in f, redirect_uri=f.get("redirect_uri"),
                     scope=f.get("scope"))
        basic = None
        auth = req.headers.get("Authorization")
        if auth:
            m = re.fullmatch(r"Basic\s+([A-Za-z0-9+/=]+)", auth.strip())
            try:
                raw = base64.b64decode(m.group(1), validate=True).decode() if m else None
                bid, _, bsec = raw.partition(":")
                basic = (urllib.parse.unquote_plus(bid), urllib.parse.unquote_plus(bsec))
            except Exception:
                raise OAuthError("invalid_request", 9002313, "Invalid request. Request is malformed or "
                                 "invalid. (unparseable Authorization header)")
        with st.lock:
            if tenant_ref.lower() in ("common", "organizations", "consumers"):
                raise OAuthError("invalid_request", 50194, "Application is not configured as a multi-tenant "
                                 "application. Usage of the /common endpoint is not supported for such "
                                 "applications. Use a tenant-specific endpoint.")
            tenant = st.tenant(tenant_ref, required=False)
            if tenant is None:
                raise OAuthError("invalid_request", 90002, f"Tenant '{tenant_ref}' not found. Check to make "
                                 "sure you have the correct tenant ID and are signing into the correct cloud.")
            gt = f.get("grant_type")
            if not gt:
                raise OAuthError("invalid_request", 900144, "The request body must contain the following "
                                 "parameter: 'grant_type'.")
            cid = f.get("client_id")
            if basic and cid and basic[0] != cid:
                raise OAuthError("invalid_request", 9002313, "Invalid request. Request is malformed or invalid. "
                                 "(client_id in body differs from the Authorization header)")
            cid = cid or (basic[0] if basic else None)
            entry["client_id"] = cid
            if not cid:
                raise OAuthError("invalid_request", 900144, "The request body must contain the following "
                                 "parameter: 'client_id'.")
            if basic and "client_secret" in f:
                entry["client_auth"] = "both"
                raise OAuthError("invalid_request", 9002313, "Invalid request. Request is malformed or invalid. "
                                 "(client authentication sent both in the body and in an Authorization header)")
            secret = f.get("client_secret") if "client_secret" in f else (basic[1] if basic else None)
            entry["client_auth"] = "body" if "client_secret" in f else ("basic" if basic else "none")
            app = tenant.apps.get(cid)
            if app is None:
                raise OAuthError("unauthorized_client", 700016, f"Application with identifier '{cid}' was not "
                                 f"found in the directory '{tenant.domains[0]}'. This can happen if the "
                                 "application has not been installed by the administrator of the tenant or "
                                 "consented to by any user in the tenant. You may have sent your authentication "
                                 "request to the wrong tenant.")
            if "client_assertion" in f or "client_assertion_type" in f:
                entry["client_auth"] = "assertion"
                urls = [f"{self.url}/{t}/oauth2/v2.0/token" for t in [tenant_ref, tenant.id] + tenant.domains]
                entry["assertion"] = fake_cert.check_assertion(f, app, urls, st.now(), OAuthError,
                                                               st.__dict__.setdefault("seen_jti", set()))
            elif not secret:
                raise OAuthError("invalid_client", 7000218, "The request body must contain the following "
                                 "parameter: 'client_assertion' or 'client_secret'.")
            match = None if entry["client_auth"] == "assertion" else next(
                (s for s in app.secrets if hmac.compare_digest(s.value.encode(), secret.encode())), None)
            if match is None and entry["client_auth"] != "assertion":
                entry["secret_was_id"] = any(s.id.lower() == secret.lower() for s in app.secrets)
                raise OAuthError("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                                 "being sent in the request is the client secret value, not the client secret "
                                 f"ID, for a secret added to app '{cid}'.")
            entry["secret_matched"] = match.id if match else None
            if match is not None and match.expires_at <= st.now():
                raise OAuthError("invalid_client", 7000222, f"The provided client secret keys for app '{cid}' "
                                 "are expired. Visit the Azure portal to create new keys for your app: "
                                 "https://aka.ms/NewClientSecret, or consider using certificate credentials "
                                 "for added security: https://aka.ms/certCreds.")
            if gt == "authorization_code":
                grant = self._redeem_code(f, tenant, app)
            elif gt == "refresh_token":
                grant = self._redeem_refresh(f, tenant, app)
            else:
                raise OAuthError("unsupported_grant_type", 70003, f"The app requested an unsupported grant "
                                 f"type '{gt}'.")
            return self._issue(grant, tenant, app)

    def _check_user(self, user, grant):
        if user.disabled:
            raise OAuthError("invalid_grant", 50057, "The user account is disabled.")
        if user.session_gen != grant["session_gen"]:
            raise self._revoked(grant)

    def _revoked(self, grant):
        return OAuthError("invalid_grant", 50173, "The provided grant has expired due to it being revoked, a "
                             "fresh auth token is needed. The user might have changed or reset their password. "
                             f"The grant was issued on '{iso(grant.get('issued', 0))}' and the TokensValidFrom "
                             f"date (before which tokens are not valid) for this user is '{iso(self.state.now())}'.")

    def _redeem_code(self, f, tenant, app):
        st = self.state
        code = f.get("code")
        if not code:
            raise OAuthError("invalid_request", 900144, "The request body must contain the following parameter: "
                             "'code'.")
        if not token_well_formed(code, "1.AXkA"):
            raise OAuthError("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        c = st.codes.get(code)
        if c is None:
            raise OAuthError("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.")
        if c["tenant"] != tenant.id:
            raise OAuthError("invalid_grant", 700005, "Provided Authorization Code is intended to use against "
                             "other tenant, thus rejected.")
        if c["client_id"] != app.client_id:
            raise OAuthError("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid. "
                             "The code was issued to a different client.")
        if c["redeemed"]:
            raise OAuthError("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please "
                             "retry with a new valid code or use an existing refresh token.")
        if c["expires"] <= st.now():
            raise OAuthError("invalid_grant", 70008, "The provided authorization code or refresh token has "
                             "expired due to inactivity. Send a new interactive authorization request for this "
                             "user and resource.")
        if f.get("redirect_uri") != c["redirect_uri"]:
            raise OAuthError("invalid_client", 500112, f"The reply address '{f.get('redirect_uri')}' does not "
                             f"match the reply address '{c['redirect_uri']}' provided when requesting "
                             "Authorization code.")
        verifier = f.get("code_verifier")
        if not verifier:
            raise OAuthError("invalid_grant", 50148, "The code_verifier does not match the code_challenge "
                             "supplied in the authorization request for PKCE. (code_verifier missing)")
        if not re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier) or \
                b64url(hashlib.sha256(verifier.encode()).digest()) != c["challenge"]:
            raise OAuthError("invalid_grant", 50148, "The code_verifier does not match the code_challenge "
                             "supplied in the authorization request for PKCE.")
        user = tenant.users.get(c["user"])
        grant = {"user": c["user"], "scopes": c["scopes"], "oidc": c["oidc"], "nonce": c["nonce"],
                 "session_gen": c["session_gen"], "mfa_gen": user.mfa_gen, "consent_gen": user.consent_gen,
                 "issued": st.now()}
        self._check_user(user, grant)
        self._check_scope_param(f, grant, app)
        c["redeemed"] = True
        return grant

    def _check_scope_param(self, f, grant, app):
        if "scope" not in f:
            return
        try:
            gs, oidc, default = self.parse_scopes(f["scope"], None)
        except ValueError as e:
            raise OAuthError("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not "
                             f"valid. The scope '{e.args[0]}' does not exist.")
        extra = gs - set(grant["scopes"])
        if extra:
            raise OAuthError("invalid_grant", 65001, f"The user or administrator has not consented to use the "
                             f"application with ID '{app.client_id}' named '{app.display_name}'. Send an "
                             "interactive authorization request for this user and resource.",
                             extra={"suberror": "consent_required"})

    def _redeem_refresh(self, f, tenant, app):
        st = self.state
        tok = f.get("refresh_token")
        if not tok:
            raise OAuthError("invalid_request", 900144, "The request body must contain the following parameter: "
                             "'refresh_token'.")
        if not token_well_formed(tok, "1.AQkA"):
            raise OAuthError("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        r = st.refresh_tokens.get(tok)
        if r is not None and r["rotated"]:
            st.refresh_reuse += 1
        if r is None or r["rotated"] or r["client_id"] != app.client_id or r["tenant"] != tenant.id:
            raise OAuthError("invalid_grant", 70000, "Provided grant is invalid or malformed.")
        user = tenant.users.get(r["user"])
        if user is None:
            raise OAuthError("invalid_grant", 50034, "The user account does not exist in this directory.")
        # order: revoked (50173) > inactivity (700082) > disabled (50057) > consent (65001) > MFA (50076)
        if user.session_gen != r["session_gen"]:
            raise self._revoked(r)
        if st.now() - r["last_used"] > RT_INACTIVITY:
            raise OAuthError("invalid_grant", 700082, "The refresh token has expired due to inactivity. The "
                             f"token was issued on {iso(r['issued'])} and was inactive for 90.00:00:00.")
        self._check_user(user, r)
        if user.consent_gen != r["consent_gen"]:
            raise OAuthError("invalid_grant", 65001, f"The user or administrator has not consented to use the "
                             f"application with ID '{app.client_id}' named '{app.display_name}'. Send an "
                             "interactive authorization request for this user and resource.",
                             extra={"suberror": "consent_required"})
        if user.mfa_required and r["mfa_gen"] != user.mfa_gen:
            raise OAuthError("invalid_grant", 50076, "Due to a configuration change made by your administrator, "
                             "or because you moved to a new location, you must use multi-factor authentication "
                             f"to access '{GRAPH_APP_ID}'.",
                             extra={"suberror": "basic_action",
                                    "claims": '{"access_token":{"capolids":{"essential":true,"values":["'
                                              + guid() + '"]}}}'})
        self._check_scope_param(f, r, app)
        r["rotated"] = True
        return {k: r[k] for k in ("user", "scopes", "oidc", "nonce", "session_gen", "mfa_gen",
                                  "consent_gen", "issued")}

    def _issue(self, grant, tenant, app):
        st = self.state
        user = tenant.users[grant["user"]]
        now = st.now()
        life = st.token_lifetime
        at = "EwBIA8l6BAAU" + secrets.token_urlsafe(96)
        st.access_tokens[at] = {"client_id": app.client_id, "tenant": tenant.id, "user": user.id,
                                "scopes": set(grant["scopes"]), "expires": now + life,
                                "session_gen": grant["session_gen"]}
        scope = [f"https://graph.microsoft.com/{s}" for s in sorted(grant["scopes"])] + \
            [s for s in ("openid", "profile", "email", "offline_access") if s in grant["oidc"]]
        out = {"token_type": "Bearer", "scope": " ".join(scope), "expires_in": life,
               "ext_expires_in": life, "access_token": at}
        if "offline_access" in grant["oidc"]:
            rt = checked_token("1.AQkA", 160)
            st.refresh_tokens[rt] = dict(grant, client_id=app.client_id, tenant=tenant.id,
                                         last_used=now, rotated=False)
            out["refresh_token"] = rt
        if "openid" in grant["oidc"]:
            claims = {"aud": app.client_id, "iss": f"{self.url}/{tenant.id}/v2.0", "iat": int(now),
                      "nbf": int(now), "exp": int(now) + 3600, "sub": b64url(hashlib.sha256(
                          (user.id + app.client_id).encode()).digest()), "tid": tenant.id,
                      "ver": "2.0", "aio": secrets.token_urlsafe(24)}
            if "profile" in grant["oidc"]:
                claims.update(oid=user.id, preferred_username=user.address, name=user.display_name)
            if "email" in grant["oidc"] and user.mail:
                claims["email"] = user.mail
            if grant.get("nonce"):
                claims["nonce"] = grant["nonce"]
            out["id_token"] = st.oidc.sign(claims)
        return out

    # ================================================================ graph
    def graph_error(self, e: GraphError, rid, crid):
        body = {"error": {"code": e.code, "message": e.message, "innerError": {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.state.now())),
            "request-id": rid, "client-request-id": crid}}}
        return Response(e.status, body, headers=e.headers)

    def graph(self, req) -> Response:
        st = self.state
        started = self.fleet.begin(req)   # the added latency, outside the lock
        rid = guid()
        crid = req.headers.get("client-request-id") or rid
        log = {"time": iso(st.now()), "method": req.method, "path": req.path, "query": req.raw_query,
               "prefer": req.headers.get_all("Prefer") or [], "client_request_id": req.headers.get("client-request-id"),
               "status": None, "error": None, "user": None, "client_id": None}
        with st.lock:
            st.graph_log.append(log)
        try:
            resp = self._graph(req, rid, log)
        except GraphError as e:
            resp = self.graph_error(e, rid, crid)
            log["error"] = e.code
        log["status"] = resp.status
        resp.headers["request-id"] = rid
        resp.headers["client-request-id"] = crid
        self.fleet.end(req, log, started)
        if resp.headers.get("Content-Type", "").startswith("application/json"):
            resp.headers["Content-Type"] = ("application/json;odata.metadata=minimal;odata.streaming=true;"
                                            "IEEE754Compatible=false;charset=utf-8")
        return resp

    def _authenticate(self, req):
        st = self.state
        www = {"WWW-Authenticate": f'Bearer realm="", authorization_uri="{self.url}/common/oauth2/authorize", '
                                   f'client_id="{GRAPH_APP_ID}"'}
        auth = req.headers.get("Authorization") or ""
        m = re.fullmatch(r"Bearer\s+(\S+)\s*", auth, re.I)
        if not auth.strip() or (m is None and auth.strip().lower() == "bearer"):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.", www)
        if m is None:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. "
                             "Invalid authorization scheme.", www)
        with st.lock:
            t = st.access_tokens.get(m.group(1))
            if t is None:
                raise GraphError(401, "InvalidAuthenticationToken",
                                 "IDX14100: JWT is not well formed, there are no dots (.).\n"
                                 "The token needs to be in JWS or JWE Compact Serialization Format."
                                 if "." not in m.group(1) else "Access token validation failure.", www)
            if t["expires"] <= st.now():
                raise GraphError(401, "InvalidAuthenticationToken",
                                 "Access token has expired or is not yet valid.", www)
            tenant = st.tenants[t["tenant"]]
            user = tenant.users.get(t["user"])
            if user is None or user.session_gen != t["session_gen"]:
                raise GraphError(401, "InvalidAuthenticationToken",
                                 "Lifetime validation failed, the token is expired.", www)
            return dict(t, tenant_obj=tenant, user_obj=user)

    def _resolve_mailbox(self, ctx, who, access):
        """-> (mailbox owner User). Checks scopes + Exchange permissions."""
        st = self.state
        me, tenant, scopes = ctx["user_obj"], ctx["tenant_obj"], ctx["scopes"]
        if who is None:
            target = me
        else:
            try:
                target = st.user(who, tenant)
            except KeyError:
                raise GraphError(404, "ErrorInvalidUser", f"The requested user '{who}' is invalid.")
        own = target is me
        if access == "read":
            need = {"Mail.Read", "Mail.ReadWrite"} if own else {"Mail.Read.Shared", "Mail.ReadWrite.Shared"}
        elif access == "write":
            need = {"Mail.ReadWrite"} if own else {"Mail.ReadWrite.Shared"}
        else:
            need = {"Mail.Send"} if own else {"Mail.Send.Shared"}
        if not target.mailbox_usable():
            raise GraphError(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, "
                             "soft-deleted, or is hosted on-premise.")
        if not (scopes & need):
            raise access_denied()
        if not own:
            d = target.mailbox.delegates.get(me.id, {})
            if not d.get("full_access"):
                raise access_denied()
            if access == "send" and not (d.get("send_as") or d.get("send_on_behalf")):
                raise GraphError(403, "ErrorSendAsDenied", "The user account which was used to submit this "
                                 "request does not have the right to send mail on behalf of the specified "
                                 "sending account., Cannot submit message.")
            if not me.mailbox_usable():
                raise access_denied()
        return target

    def _graph(self, req, rid, log):
        st = self.state
        ctx = self._authenticate(req)
        log["user"], log["client_id"] = ctx["user_obj"].address, ctx["client_id"]
        sub = req.path[len("/v1.0"):]
        matched_path = False
        for method, rx, fn, access in ROUTES:
            m = rx.match(sub)
            if not m:
                continue
            matched_path = True
            if method != req.method:
                continue
            groups = {k: (urllib.parse.unquote(v) if v is not None else None) for k, v in m.groupdict().items()}
            prefs = parse_prefer(req.headers.get_all("Prefer") or [])
            call = GraphCall(self, req, ctx, groups, prefs)
            call.prepare()
            if access is None:
                return self._apply_fault(req, call) or fn(call)
            with st.lock:
                owner = self._resolve_mailbox(ctx, groups.get("who"), access)
            key = (ctx["client_id"], owner.id)
            with st.lock:
                if st.inflight.get(key, 0) >= MAX_CONCURRENT:
                    raise GraphError(429, "ApplicationThrottled", "Application is over its MailboxConcurrency "
                                     "limit.", {"Retry-After": str(st.throttle_retry_after)})
                st.inflight[key] = st.inflight.get(key, 0) + 1
            try:
                canned = self._apply_fault(req, call)
                if canned is not None:
                    return canned
                call.owner, call.mailbox = owner, owner.mailbox
                with st.lock:
                    return fn(call)
            finally:
                with st.lock:
                    st.inflight[key] = st.inflight.get(key, 1) - 1  # survives a reset
        if matched_path:
            raise GraphError(405, "Request_BadRequest",
                             f"The HTTP method '{req.method}' is not supported for this resource.")
        seg = next((s for s in sub.split("/") if s), "")
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{seg}'.")

    def _apply_fault(self, req, call=None):
        """Delay and/or raise the injected error; a fault with a body returns
        that Response (status default 200) in place of the real answer."""
        f = self.state.take_fault(req.method, req.path)
        if f is None:
            return None
        if f.delay_ms:
            time.sleep(f.delay_ms / 1000)
        if f.body is not None:
            if isinstance(f.body, str):
                return Response(f.status or 200, f.body.encode(), content_type="application/json")
            return Response(f.status or 200, f.body)
        if f.status:
            codes = {429: ("TooManyRequests", "Too many requests."),
                     500: ("UnknownError", "An internal server error occurred."),
                     502: ("BadGateway", "Bad gateway."),
                     503: ("ServiceNotAvailable", "The service is temporarily unavailable."),
                     504: ("GatewayTimeout", "The gateway timed out.")}
            code, msg = codes.get(f.status, ("UnknownError", "Injected fault."))
            raise GraphError(f.status, f.code or code, msg + " (injected fault)",
                             {"Retry-After": str(f.retry_after)} if f.retry_after is not None else {})

    # ================================================================ control
    def control(self, req) -> Response:
        if req.client_address[0] not in ("127.0.0.1", "::1"):
            return Response(403, {"error": "control API is loopback only"})
        name = req.path[len("/_control/"):].strip("/")
        fn = CONTROL.get((req.method, name))
        if fn is None:
            m = re.fullmatch(r"mailboxes/([^/]+)", name)
            if req.method == "GET" and m:
                fn = lambda self, body: self.ctl_mailbox(urllib.parse.unquote(m.group(1)))  # noqa: E731
            else:
                return Response(404, {"error": f"no control endpoint {req.method} /_control/{name}"})
        try:
            body = json.loads(req.body or b"{}") if req.method != "GET" else dict(req.query_pairs)
            with self.state.lock:
                return Response(200, fn(self, body))
        except (KeyError, ValueError, TypeError, re.error) as e:
            return Response(400, {"error": str(e)})


class GraphCall:
    """What a Graph handler gets: the request, token context, path groups, Prefer."""

    def __init__(self, fake, req, ctx, groups, prefs):
        self.fake, self.req, self.ctx, self.groups, self.prefs = fake, req, ctx, groups, prefs
        self.owner = self.mailbox = None
        self.applied = []

    @property
    def immutable(self):
        v = self.prefs.get("idtype")
        if v == "ImmutableId":
            self.applied.append('IdType="ImmutableId"')
        return v == "ImmutableId"

    @property
    def text_body(self):
        v = self.prefs.get("outlook.body-content-type")
        if v in ("text", "html"):
            self.applied.append(f'outlook.body-content-type="{v}"')
        return v == "text"

    def message_json(self, m, select=None):
        full = m.to_graph(self.immutable_flag, self.text_flag,
                          "outlook.allow-unsafe-html" in self.prefs, self.owner)
        if select is None:
            return m.apply_raw({k: v for k, v in full.items() if k not in SELECT_ONLY})
        out = {"@odata.etag": full["@odata.etag"], "id": full["id"]}
        for s in select:
            out[s] = full[s]
        return m.apply_raw(out)

    def prepare(self):
        self.immutable_flag = self.immutable
        self.text_flag = self.text_body

    def response(self, status, body, headers=None):
        h = dict(headers or {})
        if self.applied:
            h["Preference-Applied"] = ", ".join(dict.fromkeys(self.applied))
        return Response(status, body, h)

    def query(self, allowed):
        """Parse OData system query options; unknown/duplicate -> 400."""
        out = {}
        for k, v in self.req.query_pairs:
            key = k
            if not key.startswith("$"):
                continue
            if key in out:
                raise _bad(f"Query option '{key}' was specified more than once, but it must be specified "
                           "at most once.")
            if key not in allowed:
                raise _bad(f"Query option '{key}' is not allowed. To allow it, set the "
                           "'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.")
            out[key] = v
        return out


def _select(q):
    if "$select" not in q:
        return None
    sel = [s.strip() for s in q["$select"].split(",") if s.strip()]
    for s in sel:
        if s not in MESSAGE_PROPS:
            raise GraphError(400, "RequestBroker--ParseUri", f"Could not find a property named '{s}' on type "
                             "'microsoft.graph.message'.")
    return [s for s in sel if s != "id"]


# ------------------------------------------------------------------ graph routes

@route("GET", r"^/me")
def h_me(call):
    return _user_resource(call, call.ctx["user_obj"])


@route("GET", r"^/users/(?P<who>[^/]+)")
def h_user(call):
    st = call.fake.state
    with st.lock:
        try:
            u = st.user(call.groups["who"], call.ctx["tenant_obj"])
        except KeyError:
            raise GraphError(404, "Request_ResourceNotFound", f"Resource '{call.groups['who']}' does not exist "
                             "or one of its queried reference-property objects are not present.")
    if u is not call.ctx["user_obj"] and not (call.ctx["scopes"] & {"User.ReadBasic.All", "User.Read.All"}):
        raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    return _user_resource(call, u)


def _user_resource(call, u):
    if not (call.ctx["scopes"] & {"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All"}):
        raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    first, _, last = u.display_name.partition(" ")
    return Response(200, {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "businessPhones": [], "displayName": u.display_name, "givenName": first or None,
        "jobTitle": None, "mail": u.mail, "mobilePhone": None, "officeLocation": None,
        "preferredLanguage": "en-US", "surname": last or None, "userPrincipalName": u.address, "id": u.id})


@route("GET", MBX + r"/mailFolders/(?P<folder>[^/]+)", mailbox="read")
def h_folder(call):
    call.query({"$select"})
    f = call.mailbox.folder(call.groups["folder"])
    ctx = "users('" + urllib.parse.quote(call.owner.address) + "')/mailFolders/$entity"
    return call.response(200, dict({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + ctx},
                                   **f.to_graph()))


@route("GET", MBX + r"/mailFolders", mailbox="read")
def h_list_folders(call):
    """The folders under msgfolderroot; $filter supports displayName eq/ne '…'
    (case-insensitive, like Exchange) joined by and/or."""
    q = call.query({"$select", "$filter", "$top", "$skip", "$count"})
    root = call.mailbox.well_known["msgfolderroot"]
    folders = [f for f in call.mailbox.folders.values() if f.parent_id == root.id and not f.hidden]
    if "$filter" in q:
        m = re.fullmatch(r"\s*displayName\s+(eq|ne)\s+'((?:[^']|'')*)'\s*", q["$filter"])
        if not m:
            raise _bad(f"Invalid filter clause: only displayName eq/ne is supported here: "
                       f"'{q['$filter']}'.")
        want = m.group(2).replace("''", "'").lower()
        folders = [f for f in folders if (f.display_name.lower() == want) == (m.group(1) == "eq")]
    sel = None
    if "$select" in q:
        sel = [x.strip() for x in q["$select"].split(",") if x.strip()]
        props = set(folders[0].to_graph()) if folders else {"id", "displayName"}
        for x in sel:
            if x not in props | {"id", "displayName", "parentFolderId"}:
                raise GraphError(400, "RequestBroker--ParseUri", f"Could not find a property named "
                                 f"'{x}' on type 'microsoft.graph.mailFolder'.")
    skip, top = int(q.get("$skip", "0")), int(q.get("$top", "10"))
    out = []
    for f in folders[skip:skip + top]:
        g = f.to_graph()
        out.append({k: v for k, v in g.items() if sel is None or k in sel or k == "id"})
    body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('"
                              + urllib.parse.quote(call.owner.address) + "')/mailFolders"}
    if q.get("$count", "").lower() == "true":
        body["@odata.count"] = len(folders)
    body["value"] = out
    return call.response(200, body)


def _create_folder(call, parent):
    b = _json_body(call)
    for k in b:
        if k not in ("displayName", "isHidden"):
            raise GraphError(400, "RequestBroker--ParseUri", f"Could not find a property named '{k}' on "
                             "type 'microsoft.graph.mailFolder'.")
    name = b.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise GraphError(400, "ErrorInvalidRequest", "The displayName property is required.")
    if not isinstance(b.get("isHidden", False), bool):
        raise _bad("Invalid value for property 'isHidden'.")
    if any(f.parent_id == parent.id and f.display_name.lower() == name.lower()
           for f in call.mailbox.folders.values()):
        raise GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
    f = Folder(call.mailbox, name, parent_id=parent.id, hidden=b.get("isHidden", False))
    call.mailbox.folders[f.id] = f
    ctx = "users('" + urllib.parse.quote(call.owner.address) + "')/mailFolders/$entity"
    return call.response(201, dict({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + ctx},
                                   **f.to_graph()))


@route("POST", MBX + r"/mailFolders", mailbox="write")
def h_create_folder(call):
    return _create_folder(call, call.mailbox.well_known["msgfolderroot"])


@route("POST", MBX + r"/mailFolders/(?P<folder>[^/]+)/childFolders", mailbox="write")
def h_create_child_folder(call):
    return _create_folder(call, call.mailbox.folder(call.groups["folder"]))


@route("GET", MBX + r"/mailFolders/(?P<folder>[^/]+)/messages", mailbox="read")
def h_list_folder(call):
    return _list(call, call.mailbox.folder(call.groups["folder"]).messages)


@route("GET", MBX + r"/messages", mailbox="read")
def h_list_all(call):
    msgs = [m for f in call.mailbox.folders.values() for m in f.messages]
    return _list(call, msgs)


def _expand(q):
    """$expand=attachments or attachments($select=a,b): None, or the
    attachment properties to keep (an empty set keeps all)."""
    if "$expand" not in q:
        return None
    m = re.fullmatch(r"attachments(?:\(\$select=([A-Za-z@.,]+)\))?", q["$expand"].strip())
    if m is None:
        raise _bad(f"Could not find a property named '{q['$expand']}' to expand.")
    return {x for x in (m.group(1) or "").split(",") if x}


def _with_attachments(msg, m, keep):
    items = [a.to_graph() for a in m.attachments]
    if "attachments" in m.raw:      # a test's own list, exactly as given
        msg["attachments"] = m.raw["attachments"]
        return msg
    if keep:
        keep = keep | {"@odata.type", "id"}
        items = [{k: v for k, v in a.items() if k in keep} for a in items]
    msg["attachments"] = items
    return msg


def _list(call, messages):
    call.prepare()
    q = call.query({"$top", "$select", "$filter", "$orderby", "$skip", "$count", "$expand"})
    select = _select(q)
    expand = _expand(q)
    page = 10
    try:
        maxps = call.prefs.get("odata.maxpagesize")
        if maxps is not None:
            page = int(maxps)
            call.applied.append(f"odata.maxpagesize={page}")
        if "$top" in q:
            page = int(q["$top"])
            if not 1 <= page <= 1000:
                raise ValueError
        skip = int(q.get("$skip", "0"))
        if skip < 0:
            raise ValueError
    except ValueError:
        raise _bad("Invalid value for $top or $skip.")
    order = []
    if "$orderby" in q:
        for part in q["$orderby"].split(","):
            bits = part.split()
            if not bits or bits[0] not in ORDER_PROPS or len(bits) > 2 or \
                    (len(bits) == 2 and bits[1].lower() not in ("asc", "desc")):
                raise _bad(f"Invalid $orderby clause '{part.strip()}'.")
            order.append((bits[0], len(bits) == 2 and bits[1].lower() == "desc"))
    full = [(m, m.filter_view()) for m in messages]
    if "$filter" in q:
        pred, fprops = parse_filter(q["$filter"])
        if order and [p for p, _ in order] != fprops[:len(order)]:
            raise GraphError(400, "InefficientFilter", "The restriction or sort order is too complex for this "
                             "operation.")
        full = [(m, j) for m, j in full if pred(j)]
    full.sort(key=lambda mj: mj[0].seq)
    for prop, desc in reversed(order or [("receivedDateTime", True)]):
        full.sort(key=lambda mj: (mj[1][prop] is None, mj[1][prop] if mj[1][prop] is not None else ""),
                  reverse=desc)
    total = len(full)
    chunk = full[skip:skip + page]
    read = select if select is not None else [k for k in MESSAGE_PROPS if k not in SELECT_ONLY]
    for m, _ in chunk:     # one unreadable item fails the whole page, as in Exchange
        m.check_readable(read, expand is not None)
    body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('"
                              + urllib.parse.quote(call.owner.address) + "')/messages"}
    if q.get("$count", "").lower() == "true":
        body["@odata.count"] = total
    body["value"] = [call.message_json(m, select) if expand is None else
                     _with_attachments(call.message_json(m, select), m, expand) for m, _ in chunk]
    if skip + page < total:
        nq = [(k, v) for k, v in q.items() if k != "$skip"]
        if "$top" not in q:
            nq.append(("$top", str(page)))
        nq.append(("$skip", str(skip + page)))
        body["@odata.nextLink"] = call.fake.url + call.req.path + "?" + "&".join(
            urllib.parse.quote(k, safe="") + "=" + urllib.parse.quote(v, safe="") for k, v in nq)
    return call.response(200, body)


@route("GET", MBX + r"/messages/(?P<msg>[^/]+)", mailbox="read")
def h_get_message(call):
    call.prepare()
    q = call.query({"$select", "$expand"})
    expand = _expand(q)
    m = call.mailbox.message(call.groups["msg"])
    sel = _select(q)
    m.check_readable(sel if sel is not None else [k for k in MESSAGE_PROPS if k not in SELECT_ONLY],
                     expand is not None)
    body = call.message_json(m, sel)
    return call.response(200, body if expand is None else _with_attachments(body, m, expand))


@route("POST", MBX + r"/messages/(?P<msg>[^/]+)/move", mailbox="write")
def h_move(call):
    call.prepare()
    try:
        body = json.loads(call.req.body or b"")
        dest_ref = body["destinationId"]
        assert isinstance(dest_ref, str)
    except Exception:
        raise GraphError(400, "ErrorInvalidRequest", "Cannot read the request body.")
    m = call.mailbox.message(call.groups["msg"])
    dest = call.mailbox.folder(dest_ref)
    call.mailbox.move(m, dest, call.fake.state.now())
    return call.response(201, call.message_json(m))


@route("GET", MBX + r"/messages/(?P<msg>[^/]+)/attachments", mailbox="read")
def h_attachments(call):
    call.prepare()
    q = call.query({"$select"})
    m = call.mailbox.message(call.groups["msg"])
    m.check_readable([], True)
    items = [a.to_graph() for a in m.attachments]
    if "$select" in q:  # like Graph: only what was asked, plus type and id
        keep = {x.strip() for x in q["$select"].split(",") if x.strip()} | {"@odata.type", "id"}
        items = [{k: v for k, v in a.items() if k in keep} for a in items]
    return call.response(200, {"value": items})


@route("GET", MBX + r"/messages/(?P<msg>[^/]+)/attachments/(?P<att>[^/]+)", mailbox="read")
def h_attachment(call):
    call.prepare()
    q = call.query({"$select", "$expand"})
    m = call.mailbox.message(call.groups["msg"])
    m.check_readable([], True)
    a = next((a for a in m.attachments if a.id == call.groups["att"]), None)
    if a is None:
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    exp = q.get("$expand", "").strip()
    if exp and exp.lower() != "microsoft.graph.itemattachment/item":
        raise _bad(f"Could not find a property named '{exp}' to expand.")
    d = a.to_graph(with_item=bool(exp))
    if "$select" in q:
        keep = {x.strip() for x in q["$select"].split(",") if x.strip()} | {"@odata.type", "id", "item"}
        d = {k: v for k, v in d.items() if k in keep}
    return call.response(200, d)


@route("GET", MBX + r"/messages/(?P<msg>[^/]+)/attachments/(?P<att>[^/]+)/\$value", mailbox="read")
def h_attachment_value(call):
    m = call.mailbox.message(call.groups["msg"])
    m.check_readable([], True)
    a = next((a for a in m.attachments if a.id == call.groups["att"]), None)
    if a is None:
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    if a.kind == "reference":
        raise GraphError(405, "ErrorInvalidRequest", "The raw content of a reference attachment cannot be "
                         "retrieved.")
    return Response(200, a.data, content_type=a.value_type())


def _json_body(call, required=True):
    ctype = (call.req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if not call.req.body and not required:
        return {}
    if ctype != "application/json":
        raise GraphError(415, "UnsupportedMediaType", f"Content-Type '{ctype}' is not supported; "
                         "send application/json.")
    try:
        b = json.loads(call.req.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type "
                         "header is set and payload is of valid JSON format.")
    if not isinstance(b, dict):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
    return b


PATCHABLE = {"isRead": bool, "categories": list, "importance": str, "flag": dict, "inferenceClassification": str}


@route("PATCH", MBX + r"/messages/(?P<msg>[^/]+)", mailbox="write")
def h_patch_message(call):
    b = _json_body(call)
    m = call.mailbox.message(call.groups["msg"])
    for k, v in b.items():
        if k not in PATCHABLE and not (m.is_draft and k in ("subject", "body", "toRecipients", "ccRecipients",
                                                             "bccRecipients", "internetMessageHeaders")):
            raise GraphError(400, "ErrorInvalidPropertySet", f"The property '{k}' can't be set.")
        if k in PATCHABLE and not isinstance(v, PATCHABLE[k]):
            raise GraphError(400, "BadRequest", f"Invalid value for property '{k}'.")
    for k, v in b.items():
        if k == "isRead":
            m.is_read = v
        elif k == "categories":
            m.categories = list(v)
        elif k == "importance":
            m.importance = v
        elif k == "subject":
            m.subject = v
        elif k == "body":
            m.body_type = "html" if str(v.get("contentType", "text")).lower() == "html" else "text"
            m.body = v.get("content", "")
        elif k in ("toRecipients", "ccRecipients", "bccRecipients"):
            setattr(m, {"toRecipients": "to", "ccRecipients": "cc", "bccRecipients": "bcc"}[k], recipients(v))
        elif k == "internetMessageHeaders":
            m.headers = _x_headers(v) + [h for h in m.headers if h["name"].lower() == "message-id"]
    m.modified = call.fake.state.now()
    m.change_key = "CQAAABYAAAD" + b64url(secrets.token_bytes(12))
    return call.response(200, call.message_json(m))


@route("DELETE", MBX + r"/messages/(?P<msg>[^/]+)", mailbox="write")
def h_delete_message(call):
    m = call.mailbox.message(call.groups["msg"])
    # soft delete: Recoverable Items, not Deleted Items (docs/graph-contract.md 4.5)
    call.mailbox.move(m, call.mailbox.well_known["recoverableitemsdeletions"], call.fake.state.now())
    return Response(204, b"")


def _x_headers(hs):
    out = []
    if not isinstance(hs, list):
        raise GraphError(400, "BadRequest", "internetMessageHeaders must be an array.")
    for h in hs:
        name = str(h.get("name", "")) if isinstance(h, dict) else ""
        if not name.lower().startswith("x-"):
            raise GraphError(400, "InvalidInternetMessageHeader", f"The internet message header name '{name}' "
                             "should start with 'x-' or 'X-'.")
        out.append({"name": name, "value": str(h.get("value", ""))})
    return out


def _check_recipients(v, field):
    if v is None:
        return []
    if not isinstance(v, list):
        raise GraphError(400, "BadRequest", f"Invalid value for '{field}'.")
    for r in v:
        addr = (r.get("emailAddress") or {}).get("address") if isinstance(r, dict) else None
        if not addr or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", addr):
            raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient is not valid., "
                             f"Recipient '{addr}' is not resolved. All recipients must be resolved before a "
                             "message can be submitted.")
    return recipients(v)


def _send(call, draft: dict, saved_folder_owner, save, extra_headers=None, kind="sendMail"):
    """Record an outgoing message, save a copy, deliver to fake mailboxes."""
    st = call.fake.state
    now = st.now()
    me = call.ctx["user_obj"]
    frm = draft.get("from") or {"emailAddress": {"name": saved_folder_owner.display_name,
                                                 "address": saved_folder_owner.address}}
    sender_addr = frm["emailAddress"]["address"].lower()
    if sender_addr != me.address.lower():
        try:
            owner = st.user(sender_addr, call.ctx["tenant_obj"])
        except KeyError:
            owner = None
        d = owner.mailbox.delegates.get(me.id, {}) if owner and owner.mailbox else {}
        if not (d.get("send_as") or d.get("send_on_behalf")):
            raise GraphError(403, "ErrorSendAsDenied", "The user account which was used to submit this request "
                             "does not have the right to send mail on behalf of the specified sending account., "
                             "Cannot submit message.")
        sender = frm if d.get("send_as") else {"emailAddress": {"name": me.display_name, "address": me.address}}
    else:
        sender = frm
    to = draft.get("toRecipients", [])
    cc = draft.get("ccRecipients", [])
    bcc = draft.get("bccRecipients", [])
    if not (to or cc or bcc):
        raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient is required, but none were found.")
    body = draft.get("body") or {"contentType": "text", "content": ""}
    is_html = str(body.get("contentType", "text")).lower() == "html"
    headers = list(extra_headers or []) + draft.get("internetMessageHeaders", [])
    imid = draft.get("internetMessageId") or f"<{secrets.token_hex(16)}@{me.address.split('@')[1]}>"
    fields = dict(subject=draft.get("subject", ""), sender=sender, to=to, cc=cc, bcc=bcc,
                  reply_to=draft.get("replyTo"), headers=headers, internet_message_id=imid,
                  conversation_id=draft.get("conversationId"), attachments=draft.get("attachments", []),
                  is_read=True, received=now, sent=now, **{"from": frm})
    if is_html:
        fields["body_html"] = body.get("content", "")
    else:
        fields["body_text"] = body.get("content", "")
    record = {"time": iso(now), "kind": kind, "mailbox": saved_folder_owner.address, "signed_in": me.address,
              "from": frm["emailAddress"]["address"], "sender": sender["emailAddress"]["address"],
              "to": [r["emailAddress"]["address"] for r in to], "cc": [r["emailAddress"]["address"] for r in cc],
              "bcc": [r["emailAddress"]["address"] for r in bcc], "subject": fields["subject"],
              "body": body, "headers": headers, "internet_message_id": imid,
              "attachments": [a.get("name") for a in fields["attachments"]], "saved_to_sent_items": save,
              "mime": draft.get("_mime")}
    st.sent_log.append(record)
    if save:
        saved_folder_owner.mailbox.add_message("sentitems", now=now, **fields)
    for r in to + cc + bcc:   # deliver to mailboxes that exist in the fake
        try:
            u = st.user(r["emailAddress"]["address"])
        except KeyError:
            continue
        if u.mailbox is not None:
            u.mailbox.add_message("inbox", now=now, **dict(fields, is_read=False))
            _auto_reply(st, u, frm, fields, now)
    return record


def _auto_reply(st, u, frm, fields, now):
    """User u answers a delivered mail automatically (users/auto_reply): to
    the From address, delivered if that is a mailbox in the fake, logged in
    the sent log as kind "auto_reply".  A well-behaved responder marks it
    Auto-Submitted and threads it; a bad one (auto_submitted false) sends a
    fixed subject with no marks at all.  Never chains: an auto-reply
    delivered here triggers nothing."""
    cfg = getattr(u, "auto_reply", None)
    to = frm["emailAddress"]["address"]
    if not cfg or to.lower() == u.address.lower():
        return
    imid = f"<ar.{secrets.token_hex(12)}@{u.address.split('@')[1]}>"
    if cfg["auto_submitted"]:
        subject = "Automatic reply: " + fields["subject"]
        headers = [{"name": "Auto-Submitted", "value": "auto-replied"},
                   {"name": "In-Reply-To", "value": fields["internet_message_id"]}]
    else:
        subject, headers = cfg["subject"], []
    me = {"emailAddress": {"name": u.display_name, "address": u.address}}
    rcpt = [{"emailAddress": {"name": to, "address": to}}]
    st.sent_log.append({"time": iso(now), "kind": "auto_reply", "mailbox": u.address,
                        "signed_in": u.address, "from": u.address, "sender": u.address, "to": [to],
                        "cc": [], "bcc": [], "subject": subject,
                        "body": {"contentType": "text", "content": cfg["body"]}, "headers": headers,
                        "internet_message_id": imid, "attachments": [], "saved_to_sent_items": False,
                        "mime": None})
    try:
        target = st.user(to)
    except KeyError:
        return
    if target.mailbox is not None:
        target.mailbox.add_message("inbox", now=now, subject=subject, body_text=cfg["body"],
                                   sender=me, to=rcpt, cc=[], bcc=[], headers=headers,
                                   internet_message_id=imid, is_read=False, received=now, sent=now,
                                   **{"from": me})


def _draft_from_json(msg):
    if not isinstance(msg, dict):
        raise GraphError(400, "ErrorInvalidRequest", "The 'message' parameter is required.")
    d = {"subject": msg.get("subject", ""), "body": msg.get("body"),
         "toRecipients": _check_recipients(msg.get("toRecipients"), "toRecipients"),
         "ccRecipients": _check_recipients(msg.get("ccRecipients"), "ccRecipients"),
         "bccRecipients": _check_recipients(msg.get("bccRecipients"), "bccRecipients"),
         "replyTo": _check_recipients(msg.get("replyTo"), "replyTo"),
         "internetMessageHeaders": _x_headers(msg.get("internetMessageHeaders", []))}
    if msg.get("from"):
        d["from"] = _check_recipients([msg["from"]], "from")[0]
    atts = []
    for a in msg.get("attachments", []) or []:
        if a.get("@odata.type", "").lower() != "#microsoft.graph.fileattachment":
            raise GraphError(400, "BadRequest", "Only fileAttachment is supported by this fake.")
        try:
            base64.b64decode(a["contentBytes"], validate=True)
        except Exception:
            raise GraphError(400, "ErrorInvalidParameter", "The attachment contentBytes is not valid base64.")
        atts.append({"name": a.get("name", "attachment"), "content_type": a.get("contentType",
                     "application/octet-stream"), "content_b64": a["contentBytes"],
                     "is_inline": a.get("isInline", False), "content_id": a.get("contentId")})
    d["attachments"] = atts
    return d


def _draft_from_mime(raw: bytes):
    import email
    import email.policy
    try:
        mime = base64.b64decode(raw.strip(), validate=True)
    except Exception:
        raise GraphError(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
    msg = email.message_from_bytes(mime, policy=email.policy.default)
    if not msg.get("To") and not msg.get("Cc"):
        raise GraphError(400, "ErrorMimeContentInvalid", "The MIME content is invalid (no recipients).")

    def addrs(h):
        return [{"emailAddress": {"name": a.display_name or a.addr_spec, "address": a.addr_spec}}
                for a in (msg[h].addresses if msg.get(h) else [])]
    part = msg.get_body(preferencelist=("html", "plain"))
    content = part.get_content() if part is not None else ""
    d = {"subject": str(msg.get("Subject", "")),
         "body": {"contentType": "html" if part is not None and part.get_content_subtype() == "html" else "text",
                  "content": content},
         "toRecipients": addrs("To"), "ccRecipients": addrs("Cc"), "bccRecipients": addrs("Bcc"),
         "replyTo": addrs("Reply-To"),
         "internetMessageHeaders": [{"name": k, "value": str(v)} for k, v in msg.items()
                                    if k.lower() not in ("to", "cc", "bcc", "subject", "content-type",
                                                         "mime-version", "content-transfer-encoding")],
         "attachments": [{"name": p.get_filename(), "content_type": p.get_content_type(),
                          "content_b64": base64.b64encode(p.get_content() if isinstance(p.get_content(), bytes)
                                                          else p.get_content().encode()).decode()}
                         for p in msg.iter_attachments()],
         "_mime": True}
    if msg.get("From"):
        d["from"] = addrs("From")[0]
    if msg.get("Message-ID"):
        d["internetMessageId"] = str(msg["Message-ID"])
    return d


@route("POST", MBX + r"/sendMail", mailbox="send")
def h_send_mail(call):
    if len(call.req.body) > 4 * 1024 * 1024:
        raise GraphError(413, "RequestEntityTooLarge", "The request body is too large.")
    ctype = (call.req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype == "text/plain":
        draft, save = _draft_from_mime(call.req.body), True
    else:
        b = _json_body(call)
        draft = _draft_from_json(b.get("message"))
        save = b.get("saveToSentItems", True)
        if not isinstance(save, bool):
            raise GraphError(400, "BadRequest", "saveToSentItems must be a boolean.")
    _send(call, draft, call.owner, save)
    return Response(202, b"")


@route("POST", MBX + r"/messages/(?P<msg>[^/]+)/reply", mailbox="send")
def h_reply(call):
    b = _json_body(call)
    orig = call.mailbox.message(call.groups["msg"])
    comment, msg = b.get("comment"), b.get("message") or {}
    if comment is not None and msg.get("body"):
        raise GraphError(400, "ErrorInvalidRequest", "Comment and body can't both be specified.")
    draft = _draft_from_json(dict(msg, toRecipients=msg.get("toRecipients") or
                                  (orig.reply_to or ([orig.from_] if orig.from_ else []))))
    body = msg.get("body") or {"contentType": "text", "content": comment or ""}
    draft.update(subject=msg.get("subject") or ("RE: " + orig.subject), body=body,
                 conversationId=orig.conversation_id,
                 **({"from": {"emailAddress": {"name": call.owner.display_name, "address": call.owner.address}}}
                    if "from" not in draft else {}))
    refs = " ".join(h["value"] for h in orig.headers if h["name"].lower() == "references")
    extra = [{"name": "In-Reply-To", "value": orig.internet_message_id},
             {"name": "References", "value": (refs + " " + orig.internet_message_id).strip()}]
    _send(call, draft, call.owner, True, extra, kind="reply")
    return Response(202, b"")


class Headers:
    """Case-insensitive header mapping with get_all (for $batch inner requests)."""

    def __init__(self, items):
        self.items = [(str(k), str(v)) for k, v in items]

    def get(self, k, default=None):
        return next((v for n, v in self.items if n.lower() == k.lower()), default)

    def get_all(self, k, default=None):
        vs = [v for n, v in self.items if n.lower() == k.lower()]
        return vs or default

    def __contains__(self, k):
        return self.get(k) is not None

    def __getitem__(self, k):
        return self.get(k)


class _InnerReq:
    inner = True    # a $batch's request: no round trip of its own (fake_fleet.py)

    def __init__(self, outer, method, url, headers, body):
        parts = urllib.parse.urlsplit(url)
        self.method, self.path, self.raw_query = method, "/v1.0" + parts.path, parts.query
        self.query_pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        inner = list(headers.items())
        names = {k.lower() for k, _ in inner}
        for k in ("Authorization", "Prefer", "client-request-id"):
            if k.lower() not in names and outer.headers.get(k) is not None:
                inner.append((k, outer.headers.get(k)))
        self.headers = Headers(inner)
        if body is None:
            self.body = b""
        elif isinstance(body, str):      # non-JSON bodies are base64 in a batch
            try:
                self.body = base64.b64decode(body, validate=True)
            except ValueError:
                self.body = body.encode()
        else:
            self.body = json.dumps(body).encode()
        self.client_address = outer.client_address


@route("POST", r"^/\$batch")
def h_batch(call):
    import random
    from concurrent.futures import ThreadPoolExecutor
    b = _json_body(call)
    reqs = b.get("requests")
    if not isinstance(reqs, list) or not reqs:
        raise GraphError(400, "BadRequest", "Invalid batch payload format.")
    if len(reqs) > 20:
        raise GraphError(400, "BadRequest", "The number of requests in the batch exceeds the limit of 20.")
    ids = []
    for r in reqs:
        if not isinstance(r, dict) or not isinstance(r.get("id"), str) or not r.get("method") or \
                not isinstance(r.get("url"), str):
            raise GraphError(400, "BadRequest", "Invalid batch payload format: id, method and url are required.")
        if r["id"] in ids:
            raise GraphError(400, "BadRequest", f"Batch request id '{r['id']}' is not unique.")
        if "body" in r and "content-type" not in {k.lower() for k in (r.get("headers") or {})}:
            raise GraphError(400, "BadRequest", f"Content-Type header is required for request '{r['id']}' "
                             "with a body.")
        for d in r.get("dependsOn") or []:
            if d not in ids:
                raise GraphError(400, "BadRequest", f"Request '{r['id']}' depends on unknown or later request "
                                 f"'{d}'.")
        ids.append(r["id"])
    results = {}

    def run(r):
        url = r["url"]
        if url.lower().startswith("http"):
            return {"id": r["id"], "status": 400, "headers": {"Content-Type": "application/json"},
                    "body": {"error": {"code": "BadRequest", "message": "The url must be relative."}}}
        if not url.startswith("/"):
            url = "/" + url
        failed = [d for d in r.get("dependsOn") or [] if results.get(d, {}).get("status", 500) >= 400]
        if failed:
            return {"id": r["id"], "status": 424, "headers": {"Content-Type": "application/json"},
                    "body": {"error": {"code": "FailedDependency", "message": "Failed dependency."}}}
        inner = _InnerReq(call.req, r["method"].upper(), url, r.get("headers") or {}, r.get("body"))
        resp = call.fake.graph(inner)
        out = {"id": r["id"], "status": resp.status,
               "headers": {k: v for k, v in resp.headers.items() if k.lower() in
                           ("content-type", "retry-after", "location", "preference-applied")}}
        if resp.status != 204 and resp.body:
            ct = resp.headers.get("Content-Type", "")
            out["body"] = json.loads(resp.body) if ct.startswith("application/json") else \
                base64.b64encode(resp.body).decode()
        return out

    if any(r.get("dependsOn") for r in reqs):
        for r in reqs:
            results[r["id"]] = run(r)
    else:       # Outlook runs up to 4 inner requests in parallel
        with ThreadPoolExecutor(max_workers=MAX_CONCURRENT) as ex:
            for r, res in zip(reqs, ex.map(run, reqs)):
                results[r["id"]] = res
    responses = list(results.values())
    random.shuffle(responses)      # "any order": clients must correlate by id
    return Response(200, {"responses": responses})



# ------------------------------------------------------------------ control API

CONTROL = {}


def control(method, name):
    def deco(fn):
        CONTROL[(method, name)] = fn
        return fn
    return deco


fake_oidc.register(control)


@control("GET", "ping")
def ctl_ping(self, b):
    return {"ok": True, "url": self.url}


@control("POST", "reset")
def ctl_reset(self, b):
    self.state.reset()
    self.fleet.reset()
    for hook in RESET_HOOKS:
        hook()
    return {"ok": True}


@control("POST", "tenants")
def ctl_tenant(self, b):
    t = Tenant(**b)
    if t.id in self.state.tenants:
        raise ValueError(f"tenant {t.id} exists")
    self.state.tenants[t.id] = t
    return t.public()


@control("POST", "apps")
def ctl_app(self, b):
    t = self.state.tenant(b["tenant"])
    app = App(t, **{k: v for k, v in b.items() if k != "tenant"})
    for u in app.redirect_uris:
        if not isinstance(u, str):
            raise ValueError("redirect_uris must be strings")
    t.apps[app.client_id] = app
    return app.public()


@control("POST", "apps/update")
def ctl_app_update(self, b):
    app = self.state.app(b["client_id"])
    if "redirect_uris" in b:
        app.redirect_uris = list(b["redirect_uris"])
    if "consented" in b:
        app.consented = bool(b["consented"])
    if "permissions" in b:
        app.permissions = canon_permissions(b["permissions"])
    if "add_secret" in b:
        app.secrets.append(Secret(**b["add_secret"]))
    return app.public()


@control("POST", "apps/certificates")
def ctl_app_certificate(self, b):
    return fake_cert.ctl_add(self.state.app(b["client_id"]), b)


@control("POST", "secrets/expire")
def ctl_expire_secret(self, b):
    app = self.state.app(b["client_id"])
    for s in app.secrets:
        if b.get("secret_id") in (None, s.id):
            s.expires_at = self.state.now() - 1
    return app.public()


@control("POST", "users")
def ctl_user(self, b):
    t = self.state.tenant(b["tenant"])
    u = User(t, **{k: v for k, v in b.items() if k not in ("tenant", "shared")})
    t.users[u.id] = u
    return u.public()


@control("POST", "shared_mailboxes")
def ctl_shared(self, b):
    t = self.state.tenant(b["tenant"])
    u = User(t, b["address"], b.get("display_name"), has_mailbox=True, licensed=False, id=b.get("id"),
             shared=True)
    t.users[u.id] = u
    return u.public()


@control("POST", "delegations")
def ctl_delegation(self, b):
    shared = self.state.user(b["shared"])
    user = self.state.user(b["user"])
    if shared.mailbox is None:
        raise ValueError(f"{shared.address} has no mailbox")
    d = {"full_access": bool(b.get("full_access", True)), "send_as": bool(b.get("send_as", False)),
         "send_on_behalf": bool(b.get("send_on_behalf", False))}
    if any(d.values()):
        shared.mailbox.delegates[user.id] = d
    else:
        shared.mailbox.delegates.pop(user.id, None)
    return {"shared": shared.address, "user": user.address, **d}


@control("POST", "delegations/revoke")
def ctl_delegation_revoke(self, b):
    return ctl_delegation(self, dict(b, full_access=False, send_as=False, send_on_behalf=False))


@control("POST", "signin")
def ctl_signin(self, b):
    t = self.state.tenant(b["tenant"])
    if b.get("user") is not None:
        t.signin_user = self.state.user(b["user"], t).id
    elif "user" in b:
        t.signin_user = None
    mode = b.get("mode", "approve")
    if mode not in ("approve", "cancel", "admin_approval"):
        raise ValueError("mode must be approve | cancel | admin_approval")
    t.signin_mode = mode
    return t.public()


@control("POST", "users/revoke_sessions")
def ctl_revoke_sessions(self, b):
    u = self.state.user(b["user"])
    u.session_gen += 1
    return u.public()


@control("POST", "users/auto_reply")
def ctl_auto_reply(self, b):
    """{user, enabled=true, auto_submitted=true, subject="Out of office", body}:
    the user answers every mail delivered to it by a send (see _auto_reply)."""
    u = self.state.user(b["user"])
    u.auto_reply = None if not b.get("enabled", True) else {
        "auto_submitted": bool(b.get("auto_submitted", True)),
        "subject": str(b.get("subject", "Out of office")),
        "body": str(b.get("body", "I am away until Monday."))}
    return dict(u.public(), auto_reply=u.auto_reply)


@control("POST", "users/disable")
def ctl_disable(self, b):
    u = self.state.user(b["user"])
    u.disabled = bool(b.get("disabled", True))
    return u.public()


@control("POST", "users/require_mfa")
def ctl_mfa(self, b):
    u = self.state.user(b["user"])
    required = bool(b.get("required", True))
    if required and not u.mfa_required:
        u.mfa_gen += 1
    u.mfa_required = required
    return u.public()


@control("POST", "users/revoke_consent")
def ctl_revoke_consent(self, b):
    u = self.state.user(b["user"])
    u.consent_gen += 1
    return u.public()


@control("POST", "token_lifetime")
def ctl_lifetime(self, b):
    self.state.token_lifetime = int(b["seconds"])
    return {"seconds": self.state.token_lifetime}


@control("POST", "throttle")
def ctl_throttle(self, b):
    self.state.throttle_retry_after = int(b["retry_after"])
    return {"retry_after": self.state.throttle_retry_after}


@control("POST", "clock/advance")
def ctl_clock(self, b):
    self.state.clock_offset += float(b["seconds"])
    return {"offset": self.state.clock_offset, "now": iso(self.state.now())}


@control("POST", "refresh_tokens/age")
def ctl_age(self, b):
    n = 0
    user = self.state.user(b["user"]).id if b.get("user") else None
    for tok, r in self.state.refresh_tokens.items():
        if (b.get("refresh_token") in (None, tok)) and user in (None, r["user"]) and \
                b.get("client_id") in (None, r["client_id"]):
            r["last_used"] -= float(b["seconds"])
            r["issued"] -= float(b["seconds"])
            n += 1
    return {"aged": n}


@control("POST", "access_tokens/expire")
def ctl_expire_at(self, b):
    n = 0
    user = self.state.user(b["user"]).id if b.get("user") else None
    for t in self.state.access_tokens.values():
        if user in (None, t["user"]):
            t["expires"] = self.state.now() - 1
            n += 1
    return {"expired": n}


@control("POST", "faults")
def ctl_fault(self, b):
    f = Fault(**b)
    self.state.faults.append(f)
    return f.public()


@control("GET", "faults")
def ctl_faults(self, b):
    return {"faults": [f.public() for f in self.state.faults]}


@control("DELETE", "faults")
def ctl_clear_faults(self, b):
    self.state.faults.clear()
    return {"ok": True}


MESSAGE_FIELDS = {"mailbox", "folder", "subject", "body_html", "body_text", "from", "sender", "to", "cc", "bcc",
                  "reply_to", "received", "sent", "headers", "attachments", "internet_message_id",
                  "conversation_id", "is_read", "importance", "categories", "is_draft", "raw", "drop",
                  "fail_read"}


@control("POST", "messages")
def ctl_message(self, b):
    unknown = set(b) - MESSAGE_FIELDS
    if unknown:
        raise ValueError(f"unknown message field(s) {sorted(unknown)}; known: {sorted(MESSAGE_FIELDS)}")
    u = self.state.user(b.pop("mailbox"))
    if u.mailbox is None:
        raise ValueError(f"{u.address} has no mailbox")
    m = u.mailbox.add_message(b.pop("folder", "inbox"), now=self.state.now(), **b)
    return {"id": m.id, "immutable_id": m.immutable_id, "internet_message_id": m.internet_message_id,
            "conversation_id": m.conversation_id, "folder_id": m.folder.id,
            "attachment_ids": [a.id for a in m.attachments]}


@control("POST", "folders")
def ctl_folder(self, b):
    """{mailbox, display_name, parent="msgfolderroot"} -> the folder (Graph shape)."""
    u = self.state.user(b["mailbox"])
    if u.mailbox is None:
        raise ValueError(f"{u.address} has no mailbox")
    parent = u.mailbox.folder(b.get("parent") or "msgfolderroot")
    f = Folder(u.mailbox, b["display_name"], parent_id=parent.id)
    u.mailbox.folders[f.id] = f
    return f.to_graph()


@control("POST", "messages/move")
def ctl_move_message(self, b):
    """{mailbox, id (regular or immutable), folder="inbox"}: as a person moving it in
    Outlook (new regular id, same immutable id) -> {id, immutable_id, folder_id}."""
    u = self.state.user(b["mailbox"])
    if u.mailbox is None:
        raise ValueError(f"{u.address} has no mailbox")
    m = u.mailbox.by_id.get(b["id"])
    if m is None:
        raise KeyError(f"no message {b['id']!r} in {u.address}")
    dest = u.mailbox.folder(b.get("folder") or "inbox")
    u.mailbox.move(m, dest, self.state.now())
    return {"id": m.id, "immutable_id": m.immutable_id, "folder_id": dest.id}


@control("GET", "authorize_log")
def ctl_authorize_log(self, b):
    return {"entries": self.state.authorize_log}


@control("GET", "token_log")
def ctl_token_log(self, b):
    return {"entries": self.state.token_log}


@control("GET", "graph_log")
def ctl_graph_log(self, b):
    return {"entries": self.state.graph_log}


@control("GET", "sent_log")
def ctl_sent_log(self, b):
    return {"entries": self.state.sent_log}


@control("GET", "state")
def ctl_state(self, b):
    st = self.state
    return {"tenants": [dict(t.public(), apps=[a.public() for a in t.apps.values()],
                             users=[u.public() for u in t.users.values()]) for t in st.tenants.values()],
            "token_lifetime": st.token_lifetime, "clock_offset": st.clock_offset,
            "faults": [f.public() for f in st.faults], "refresh_reuse": st.refresh_reuse}


@control("POST", "seed")
def ctl_seed(self, b):
    """One call for a whole scenario: {tenants:[], apps:[], users:[], shared_mailboxes:[],
    delegations:[], messages:[]}, each item as for the single endpoints."""
    out = {}
    for key, fn in (("tenants", ctl_tenant), ("apps", ctl_app), ("users", ctl_user),
                    ("shared_mailboxes", ctl_shared), ("delegations", ctl_delegation),
                    ("messages", ctl_message)):
        out[key] = [fn(self, dict(item)) for item in b.get(key, [])]
    return out


def _ctl_mailbox(self, ref):
    with self.state.lock:
        u = self.state.user(ref)
        if u.mailbox is None:
            raise KeyError(f"{u.address} has no mailbox")
        return u.mailbox.snapshot()


FakeMicrosoft.ctl_mailbox = _ctl_mailbox
CONTROL.update(fake_fleet.CONTROL)


# --------------------------------------------------------------- HTTP plumbing

class RequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-microsoft/1"
    sys_version = ""

    def version_string(self):
        return "Microsoft-IIS/10.0 (fake-microsoft)"

    def date_time_string(self, timestamp=None):
        # The Date header follows the fake's clock (clock/advance), as
        # Microsoft's follows its own: postdesk-admin doctor compares it.
        return super().date_time_string(self.fake.state.now() if timestamp is None else timestamp)
    fake: FakeMicrosoft = None

    def log_message(self, fmt, *args):  # silence the default access log
        pass

    def _read_body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        t0 = time.time()
        self.method = self.command
        parts = urllib.parse.urlsplit(self.path)
        self.path_only, self.raw_query = parts.path, parts.query
        try:
            self.query_pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        except ValueError:
            self.query_pairs = []
        self.body = self._read_body()
        req = _Req(self)
        try:
            resp = self.fake.handle(req)
        except Exception as e:  # a bug in the fake: say so loudly, in Graph-ish shape
            import traceback
            traceback.print_exc()
            resp = Response(500, {"error": {"code": "FakeInternalError", "message": repr(e)}})
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(resp.body)
            except (BrokenPipeError, ConnectionResetError):
                # the client stopped reading (e.g. over its size cap): as
                # Graph would, just drop the connection
                self.close_connection = True
                return
        shown = self.path_only if "/oauth2/" in self.path_only else self.path
        self.fake.log(f"fake-microsoft {self.command} {shown} -> {resp.status} "
                      f"{(time.time() - t0) * 1000:.0f}ms")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle


class _Req:
    def __init__(self, h: RequestHandler):
        self.method, self.path, self.raw_query = h.command, h.path_only, h.raw_query
        self.query_pairs, self.headers, self.body = h.query_pairs, h.headers, h.body
        self.client_address = h.client_address


# Change notifications live in their own module beside this one.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_push  # noqa: E402
fake_push.install(sys.modules[__name__])

# ------------------------------------------------------------------------ main

def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake Microsoft login + Graph for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port-file")
    ap.add_argument("--seed", help="JSON file with a /_control/seed body")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--graph-latency-ms", type=int, default=0,
                    help="sleep this long before serving each Graph round trip (fake_fleet.py)")
    a = ap.parse_args(argv)
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("the fake serves loopback only")
    fake = FakeMicrosoft(port=a.port, host=a.host, quiet=a.quiet,
                         graph_latency_ms=a.graph_latency_ms).start()
    if a.seed:
        with open(a.seed) as fh:
            with fake.state.lock:
                ctl_seed(fake, json.load(fh))
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(f"{fake.port}\n")
        os.replace(tmp, a.port_file)
    fake.log(f"fake-microsoft listening on {fake.url}")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
