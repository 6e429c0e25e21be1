"""The hostile-mail corpus (issue 8, Tests): mail as real customers and real
Graph hand it over, each case with the final state a careful engineer expects.

    CASES                 the cases, in delivery order (a reply follows its parent)
    Ctx(mailbox, tag)     what a case builds against: the Inbox owner, a run tag
    case.body(ctx)        the fake's `POST /_control/messages` body (without
                          "mailbox"; see tests/fakes/README.md "Hostile mail")
    case.expect           ticket_created, ticket_updated, suppressed_loop,
                          ignored_by_rule, rejected or quarantined
    case.automatic        the ledger row must name why the mail is automatic
    case.check(got)       further promises ("nothing of a mail is lost"): a list
                          of problems, empty when kept; got is a Got
    IGNORE_MARK           the subject text the test's rule ignores

The rule of the expectations: a mail with a sender becomes a ticket (or an
update of its thread), whatever its encoding, size, headers, attachments or
markup; mail from the mailbox itself is a loop; mail without any sender is
rejected; a rule may ignore it; only an item Exchange itself cannot read is
quarantined.  Automatic mail (Auto-Submitted, Precedence: bulk, X-Autoreply,
bounces) is ticketed and marked automatic (it gets no acknowledgement), as
tests/integration/test_scan.py has it.
"""
import base64
from dataclasses import dataclass, field

TICKET, UPDATE = "ticket_created", "ticket_updated"
LOOP, RULE, REJECT, QUARANTINE = "suppressed_loop", "ignored_by_rule", "rejected", "quarantined"
FINAL = (TICKET, UPDATE, LOOP, RULE, REJECT, QUARANTINE)
IGNORE_MARK = "[corpus-ignore]"
QUARANTINE_FOLDER = "Postdesk quarantine"

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
RLO = "\u202e"
NUL = "\u0000"
CONTROLS = "".join(chr(c) for c in range(1, 32)) + "\x7f\x85\u2028\u2029\ufeff"


@dataclass
class Ctx:
    mailbox: str                  # the address of the Inbox's owner
    tag: str                      # unique per run (Message-IDs)

    def msgid(self, name):
        return "<%s.%s@corpus.example>" % (name.replace("_", "-"), self.tag)


@dataclass
class Got:
    """What the test read back for one case (its final ledger row)."""
    row: dict                     # incoming_email columns (text as str)
    body_len: int = None          # the ticket action's body, in characters
    body_head: str = ""           # its first 300 characters
    atts: list = field(default_factory=list)   # [{name, content_type, size, is_inline}]


@dataclass
class Case:
    name: str
    category: str
    expect: str
    build: object                 # ctx -> dict
    why: str = ""
    automatic: bool = False
    check: object = None          # Got -> [problem, ...]

    def body(self, ctx):
        b = dict(self.build(ctx))
        b.setdefault("subject", "Corpus " + self.name)
        b.setdefault("from", {"name": "Customer", "address": "customer.%s@example.com"
                              % self.name.replace("_", "-")})
        b.setdefault("to", [ctx.mailbox])
        if "body_html" not in b:
            b.setdefault("body_text", "Hello, this is case %s." % self.name)
        if "internet_message_id" not in b and "internetMessageId" not in b.get("drop", []):
            b["internet_message_id"] = ctx.msgid(self.name)
        return b


CASES = []


def case(name, category, expect, why="", automatic=False, check=None):
    def deco(fn):
        CASES.append(Case(name, category, expect, fn, why, automatic, check))
        return fn
    return deco


def addr(address, name=None):
    return {"name": address if name is None else name, "address": address}


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def file_att(name, data=b"x", ctype="application/octet-stream", **kw):
    return dict(name=name, content_type=ctype, content_b64=b64(data), **kw)


# --- checks (each returns a list of problems) ----------------------------------------

def subject_is(want):
    def check(got):
        s = got.row.get("subject")
        return [] if s == want else ["subject stored as %r, not %r" % ((s or "")[:80], want[:80])]
    return check


def all_of(*checks):
    return lambda got: [p for c in checks for p in c(got)]


def ticket_body(min_chars, head=None):
    def check(got):
        if got.body_len is None:
            return ["no ticket action body"]
        out = []
        if got.body_len < min_chars:
            out.append("body kept %d characters, want at least %d" % (got.body_len, min_chars))
        if head is not None and not got.body_head.startswith(head[:200]):
            out.append("body starts %r, want %r" % (got.body_head[:60], head[:60]))
        return out
    return check


def body_cut_or_whole(total):
    """The body is kept whole, or cut at its end with the trace saying so."""
    def check(got):
        if got.body_len is None:
            return ["no ticket action body"]
        if got.body_len >= total:
            return []
        if got.body_len < 1 << 20:
            return ["body kept only %d of %d characters" % (got.body_len, total)]
        return [] if "cut" in (got.row.get("trace") or "") else \
            ["body cut to %d of %d characters without a word in the trace" % (got.body_len, total)]
    return check


def attachments(n=None, inline=None, name_has=None, ctype=None, size=None):
    def check(got):
        out, atts = [], got.atts
        if n is not None and len(atts) != n:
            out.append("%d attachments kept, want %d" % (len(atts), n))
        if inline is not None and sum(1 for a in atts if a["is_inline"]) != inline:
            out.append("%d inline attachments, want %d" % (sum(1 for a in atts if a["is_inline"]), inline))
        if name_has is not None and not any(name_has in a["name"] for a in atts):
            out.append("no attachment named *%s* (have %r)" % (name_has, [a["name"][:40] for a in atts][:5]))
        if ctype is not None and not any(a["content_type"].lower().startswith(ctype) for a in atts):
            out.append("no attachment of type %s (have %r)" % (ctype, [a["content_type"] for a in atts][:5]))
        if size is not None and sorted(a["size"] for a in atts) != sorted(size):
            out.append("attachment sizes %r, want %r" % (sorted(a["size"] for a in atts)[:5], sorted(size)[:5]))
        return out
    return check


def from_is(want):
    def check(got):
        f = got.row.get("from_addr")
        return [] if f == want else ["from_addr stored as %r, not %r" % (f, want)]
    return check


def no_controls_in_from(got):
    bad = [k for k in ("from_addr", "from_name") if any(c in (got.row.get(k) or "") for c in "\r\n\x00")]
    return ["CR, LF or NUL kept in %s: %r" % (k, got.row.get(k)) for k in bad]


# === encodings ============================================================================

@case("rtl_text", "encodings", TICKET, check=subject_is("שלום, ההזמנה שלי לא הגיעה — طلبي لم يصل"))
def _(ctx):
    return {"subject": "שלום, ההזמנה שלי לא הגיעה — طلبي لم يصل",
            "from": addr("dana@example.co.il", "דנה כהן"),
            "body_text": "שלום,\nההזמנה מספר 1234 לא הגיעה.\nمرحبا، طلبي رقم ١٢٣٤ لم يصل."}


@case("rtl_override_subject", "encodings", TICKET, check=subject_is("Invoice " + RLO + "fdp.exe 2024"))
def _(ctx):
    return {"subject": "Invoice " + RLO + "fdp.exe 2024", "from": addr("rlo@example.com", "Bob" + RLO + "evil"),
            "body_text": "Open " + RLO + "cod.exe please"}


@case("zwj_emoji", "encodings", TICKET,
      check=subject_is("Family 👩\u200d👩\u200d👧\u200d👦 flag 🏳\ufe0f\u200d🌈 thumbs 👍🏽"))
def _(ctx):
    return {"subject": "Family 👩\u200d👩\u200d👧\u200d👦 flag 🏳\ufe0f\u200d🌈 thumbs 👍🏽",
            "from": addr("emoji@example.com", "😀 Smiley 🧑\u200d💻"), "body_text": "🙂" * 2000}


@case("combining_marks", "encodings", TICKET)
def _(ctx):
    zalgo = "Z" + "\u0337\u0321\u031b\u0300\u0301" * 100 + "algo"
    return {"subject": zalgo, "from": addr("zalgo@example.com", "e" + "\u0301" * 300),
            "body_text": zalgo * 20}


@case("mixed_scripts", "encodings", TICKET, check=subject_is("pаypаl ΑΒΓ 中文 हिन्दी ไทย 한국어 ᚠᚢᚦ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"))
def _(ctx):
    return {"subject": "pаypаl ΑΒΓ 中文 हिन्दी ไทย 한국어 ᚠᚢᚦ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "from": addr("mixed@example.com", "Іван 李"),
            "body_text": "Latin, Кириллица, Ελληνικά, 日本語, עברית, العربية, 𓀀𓀁"}


@case("nul_subject", "encodings", TICKET, why="Jansson refuses \\u0000 without JSON_ALLOW_NUL")
def _(ctx):
    return {"raw": {"subject": "before" + NUL + "after"}}


@case("nul_body", "encodings", TICKET)
def _(ctx):
    return {"raw": {"body": {"content": "line one" + NUL + "line two" + NUL * 50 + "end"}}}


@case("nul_from_name", "encodings", TICKET)
def _(ctx):
    return {"raw": {"from": {"emailAddress": {"name": "Eve" + NUL + "Evil", "address": "eve@example.com"}}}}


@case("nul_in_address", "encodings", TICKET, check=all_of(no_controls_in_from, from_is("nul.addr@example.com")),
      why="control characters in an address are removed when it is parsed")
def _(ctx):
    return {"raw": {"from": {"emailAddress": {"name": "Nul", "address": "nul.addr" + NUL + "@example.com"}}}}


@case("nul_in_every_field", "encodings", TICKET)
def _(ctx):
    n = NUL
    return {"raw": {
        "subject": n + "s" + n, "body": {"content": n + "b" + n},
        "from": {"emailAddress": {"name": n + "n" + n, "address": "every" + n + "@example.com"}},
        "toRecipients": [{"emailAddress": {"name": n, "address": ctx.mailbox}}],
        "ccRecipients": [{"emailAddress": {"name": "c" + n, "address": "c" + n + "c@example.com"}}],
        "internetMessageHeaders": [{"name": "X-" + n, "value": n + "v" + n},
                                   {"name": "Message-ID", "value": "<" + n + "@x>"}],
        "conversationId": "conv" + n}, "attachments": [file_att("a" + n + ".txt", b"a\x00b", "text/plain")]}


@case("control_characters", "encodings", TICKET)
def _(ctx):
    return {"subject": "ctl " + CONTROLS + " \x1b[31mred\x1b[0m", "body_text": CONTROLS * 10,
            "from": addr("ctl@example.com", "C" + CONTROLS)}


@case("crlf_header_injection", "encodings", TICKET, check=no_controls_in_from,
      why="a CRLF in an address must never reach an outgoing header")
def _(ctx):
    return {"raw": {"from": {"emailAddress": {"name": "Bob\r\nBcc: victim@evil.example",
                                              "address": "bob.crlf@example.com\r\nBcc: victim@evil.example"}}},
            "subject": "Hello\r\nBcc: victim@evil.example"}


@case("lone_surrogate_subject", "encodings", TICKET,
      why="an emoji cut in half by Exchange arrives as a lone \\ud83d; Jansson refuses it")
def _(ctx):
    return {"raw": {"subject": "Smile \ud83d end"}}


@case("lone_surrogate_body", "encodings", TICKET)
def _(ctx):
    return {"raw": {"body": {"content": "cut here \udc00 and \ud800\ud800 there"}}}


@case("invalid_utf8_attachment_bytes", "encodings", TICKET, check=attachments(n=1, size=[9]))
def _(ctx):
    return {"attachments": [file_att("bad-utf8.txt", b"\xff\xfe\xc3\x28\xed\xa0\x80\xc0\xaf",
                                     "text/plain; charset=utf-8")]}


@case("invalid_utf8_header", "encodings", TICKET,
      why="8-bit header bytes surface as lone surrogates (\\udcff)")
def _(ctx):
    return {"headers": [{"name": "X-Mailer", "value": "Mutt \udcff\udcfe"},
                        {"name": "Subject", "value": "=?utf-8?B?/w==?="}],
            "raw": {"internetMessageHeaders": [{"name": "X-Mailer", "value": "Mutt \udcff\udcfe"},
                                               {"name": "Thread-Topic", "value": "\udcc3("}]}}


@case("mojibake_and_replacement", "encodings", TICKET, check=subject_is("CafÃ© ï»¿ \ufffd\ufffd"))
def _(ctx):
    return {"subject": "CafÃ© ï»¿ \ufffd\ufffd", "body_text": "Ã¤Ã¶Ã¼ \ufffd"}


@case("non_ascii_sender", "encodings", TICKET, check=from_is("jörg@bücher.example"),
      why="issue 8: 1366 Incorrect string value on from_addr")
def _(ctx):
    return {"from": addr("jörg@bücher.example", "Jörg Müller")}


@case("smtputf8_cjk_address", "encodings", TICKET, check=from_is("用户@例子.广告"))
def _(ctx):
    return {"from": addr("用户@例子.广告", "用户"), "cc": ["δοκιμή@παράδειγμα.δοκιμή"]}


@case("noncharacters_private_use", "encodings", TICKET)
def _(ctx):
    return {"subject": "nc \ufffe\uffff\U0010ffff\ue000\U000f0000 end", "body_text": "\ufdd0\ufdef"}


@case("bidi_isolates_zero_width", "encodings", TICKET)
def _(ctx):
    s = "\u2066pay\u2069 \u2067me\u2069 \u200b\u200c\u200d\u2060\u180e"
    return {"subject": s, "from": addr("zw@example.com", s), "body_text": s * 100}


# === sizes ================================================================================

@case("subject_1mb_emoji", "sizes", TICKET, why="1 MB of 4-byte characters: cut on a character boundary")
def _(ctx):
    return {"subject": "😀" * (1 << 18)}


@case("subject_1mb_accents", "sizes", TICKET)
def _(ctx):
    return {"subject": "é" * (1 << 19) + "x"}


@case("body_10mb", "sizes", TICKET, check=body_cut_or_whole(10 << 20))
def _(ctx):
    return {"body_text": ("0123456789abcdef" * 64 + "\n") * (10 << 20 >> 10)}


NEWSLETTER_ROW = "<tr><td style='padding:4px'>Deal of the day</td><td><a href='https://shop.example/x'>" \
                 "Buy now</a></td></tr>\n"


@case("html_newsletter_5mb", "sizes", TICKET, why="issue 8: a 5 MB newsletter became a ticket without its body",
      check=ticket_body(100000, "Newsletter"))
def _(ctx):
    rows = NEWSLETTER_ROW * ((5 << 20) // len(NEWSLETTER_ROW))
    return {"body_html": "<html><body><h1>Newsletter</h1><table>" + rows + "</table></body></html>",
            "from": addr("news@shop.example", "Shop News")}


@case("small_after_big", "sizes", TICKET, check=ticket_body(20, "Small mail after the big one."),
      why="issue 8: the mail after the big one lost its body too")
def _(ctx):
    return {"body_text": "Small mail after the big one."}


@case("recipients_5000", "sizes", TICKET)
def _(ctx):
    return {"to": [ctx.mailbox] + ["r%d@recipients.example" % i for i in range(5000)]}


@case("to_500_long_addresses", "sizes", TICKET, why="issue 8: 1406 Data too long for column 'to_addrs'")
def _(ctx):
    domain = ".".join(["department-of-long-names-%d" % k for k in range(5)]) + ".example.com"
    return {"to": [ctx.mailbox] + [addr("a-very-long-local-part-number-%04d.%s@%s" % (i, "x" * 20, domain),
                                        "Person %d" % i) for i in range(500)]}


@case("cc_2000_hostile_names", "sizes", TICKET)
def _(ctx):
    return {"cc": [addr("cc%d@example.org" % i, XSS + str(i)) for i in range(2000)]}


@case("attachments_300", "sizes", TICKET, check=attachments(n=300))
def _(ctx):
    return {"attachments": [file_att("file-%03d.txt" % i, b"content %d" % i, "text/plain") for i in range(300)]}


@case("zero_byte_attachment", "sizes", TICKET, why="issue 8: 1048 Column 'content' cannot be null",
      check=attachments(n=1, size=[0]))
def _(ctx):
    return {"attachments": [file_att("empty.txt", b"", "text/plain")]}


@case("zero_byte_many_and_nameless", "sizes", TICKET, check=attachments(n=5, size=[0] * 5))
def _(ctx):
    return {"attachments": [file_att("", b""), file_att(".", b""), file_att("empty.bin", b""),
                            file_att("  ", b""), file_att("e.pdf", b"", "application/pdf")]}


@case("attachment_12mb", "sizes", TICKET, check=attachments(n=1, size=[12 << 20]),
      why="under the 25 MB cap: kept, and it costs its neighbours nothing")
def _(ctx):
    return {"attachments": [file_att("scan.pdf", b"%PDF-1.4\n" + b"\xfe" * ((12 << 20) - 9),
                                     "application/pdf")]}


@case("empty_everything", "sizes", TICKET)
def _(ctx):
    return {"subject": "", "body_text": "", "to": []}


@case("whitespace_only", "sizes", TICKET)
def _(ctx):
    return {"subject": " \t \u3000 ", "body_text": "\n\n \t\n", "from": addr("ws@example.com", "   ")}


# === headers ==============================================================================

@case("thread_parent", "headers", TICKET)
def _(ctx):
    return {"subject": "Printer on fire", "from": addr("thread.customer@example.com", "Thread Customer")}


@case("references_10000", "headers", UPDATE, why="issue 8: References cut at 8192 bytes lost the parent (last)")
def _(ctx):
    refs = " ".join("<ref-%04d-%s@mail.example>" % (i, "r" * 20) for i in range(300)) + " " + \
        ctx.msgid("thread_parent")
    assert len(refs) > 10000
    return {"subject": "RE: Printer on fire", "from": addr("thread.customer@example.com", "Thread Customer"),
            "headers": [{"name": "References", "value": refs}]}


@case("in_reply_to_garbage", "headers", TICKET)
def _(ctx):
    return {"headers": [{"name": "In-Reply-To", "value": "<<<>>> <> <" + "x" * 3000 + ">"},
                        {"name": "References", "value": "<" * 5000 + ">" * 5000}]}


@case("missing_from_and_sender", "headers", REJECT, why="nobody to answer: rejected, with the reason")
def _(ctx):
    return {"drop": ["from", "sender"]}


@case("null_from_sender_present", "headers", TICKET, check=from_is("sender.only@example.com"))
def _(ctx):
    return {"raw": {"from": None, "sender": {"emailAddress": {"name": "S", "address": "sender.only@example.com"}}}}


@case("missing_dates", "headers", TICKET)
def _(ctx):
    return {"drop": ["receivedDateTime", "sentDateTime", "createdDateTime"]}


@case("missing_message_id", "headers", TICKET)
def _(ctx):
    return {"drop": ["internetMessageId"], "headers": [{"name": "X-No-Id", "value": "1"}],
            "raw": {"internetMessageHeaders": [{"name": "X-No-Id", "value": "1"}]}}


@case("duplicate_message_id_a", "headers", TICKET)
def _(ctx):
    return {"internet_message_id": ctx.msgid("shared-id"), "subject": "First of two with one Message-ID",
            "from": addr("dup.a@example.com")}


@case("duplicate_message_id_b", "headers", TICKET, why="another sender reusing a Message-ID opens its own ticket")
def _(ctx):
    return {"internet_message_id": ctx.msgid("shared-id"), "subject": "Second of two with one Message-ID",
            "from": addr("dup.b@example.com"),
            "headers": [{"name": "Message-ID", "value": ctx.msgid("shared-id")},
                        {"name": "Message-ID", "value": "<second@dup.example>"}]}


@case("odd_message_id", "headers", TICKET)
def _(ctx):
    return {"internet_message_id": "not angle bracketed, with spaces and ünïcode " + XSS}


@case("message_id_3000_chars", "headers", TICKET)
def _(ctx):
    return {"internet_message_id": "<" + "m" * 3000 + "@long.example>"}


@case("headers_1000", "headers", TICKET)
def _(ctx):
    return {"headers": [{"name": "X-Header-%04d" % i, "value": "value %d %s" % (i, "v" * 50)}
                        for i in range(1000)]}


@case("header_odd_names", "headers", TICKET)
def _(ctx):
    return {"headers": [{"name": "X:Colon", "value": "a"}, {"name": "", "value": "empty name"},
                        {"name": " Leading-Space", "value": "b"}, {"name": "Ü-Header", "value": "ü"},
                        {"name": "X-" + "N" * 5000, "value": "long name"},
                        {"name": "X-Long-Value", "value": "v" * 100000},
                        {"name": "X-Script" + XSS, "value": XSS}]}


@case("header_wrong_types", "headers", TICKET)
def _(ctx):
    return {"raw": {"internetMessageHeaders": [{"name": 5, "value": ["x"]}, None, "string", 7,
                                               {"name": "Subject"}, {"value": "no name"}, []]}}


@case("auto_submitted_long_utf8", "loops", TICKET, automatic=True,
      why="issue 8: %.60s cut the reason inside a character")
def _(ctx):
    return {"headers": [{"name": "Auto-Submitted", "value": "auto-generated; reason=" + "é" * 100}]}


# === Graph's shape =========================================================================

@case("subject_is_a_number", "graph-json", TICKET)
def _(ctx):
    return {"raw": {"subject": 42}}


@case("body_is_a_string", "graph-json", TICKET)
def _(ctx):
    return {"raw": {"body": "plain string, not an object"}}


@case("body_content_wrong_type", "graph-json", TICKET)
def _(ctx):
    return {"raw": {"body": {"contentType": None, "content": 12345}}}


@case("recipients_wrong_types", "graph-json", TICKET)
def _(ctx):
    return {"raw": {"toRecipients": {"a": 1}, "ccRecipients": [None, 7, "x", {"emailAddress": None},
                                                               {"emailAddress": {"address": 9}}]}}


@case("from_address_not_a_string", "graph-json", TICKET, check=from_is("fallback.sender@example.com"))
def _(ctx):
    return {"raw": {"from": {"emailAddress": {"address": ["x"], "name": {"n": 1}}},
                    "sender": {"emailAddress": {"address": "fallback.sender@example.com"}}}}


@case("ids_wrong_types", "graph-json", TICKET)
def _(ctx):
    return {"raw": {"conversationId": 123, "internetMessageId": ["<a@b>"], "receivedDateTime": 1700000000,
                    "hasAttachments": "yes", "isRead": None}}


@case("meeting_request_message", "graph-json", TICKET)
def _(ctx):
    return {"subject": "Invitation: Quarterly review", "body_html": "<p>When: tomorrow</p>",
            "raw": {"@odata.type": "#microsoft.graph.eventMessageRequest", "meetingMessageType": "meetingRequest",
                    "startDateTime": {"dateTime": "2030-01-01T09:00:00.0000000", "timeZone": "UTC"},
                    "endDateTime": {"dateTime": "2030-01-01T10:00:00.0000000", "timeZone": "UTC"},
                    "location": {"displayName": XSS}, "isOutOfDate": False, "type": "singleInstance"}}


@case("unknown_properties", "graph-json", TICKET)
def _(ctx):
    deep = "leaf"
    for i in range(30):
        deep = {"level%d" % i: deep, "list": [None, 1.5e308, -0.0, 2 ** 63 - 1]}
    return {"raw": {"x%02d" % i: (deep if i == 0 else [i, str(i), None, True]) for i in range(50)}}


@case("has_attachments_lies", "graph-json", TICKET)
def _(ctx):
    return {"raw": {"hasAttachments": True}}


# === attachments ==========================================================================

@case("path_traversal_names", "attachments", TICKET, check=attachments(n=5))
def _(ctx):
    return {"attachments": [file_att("../../etc/passwd", b"root:x:0:0"), file_att("..\\..\\win.ini", b"[x]"),
                            file_att("/etc/shadow", b"s"), file_att("C:\\boot.ini", b"b"),
                            file_att("a/../../../tmp/x%00.txt", b"t")]}


@case("rtl_override_name", "attachments", TICKET, check=attachments(n=1, size=[4]))
def _(ctx):
    return {"attachments": [file_att("invoice" + RLO + "gnp.exe", b"MZ\x90\x00", "application/x-msdownload")]}


@case("name_300_bytes", "attachments", TICKET, check=attachments(n=1))
def _(ctx):
    return {"attachments": [file_att("n" * 296 + ".pdf", b"%PDF", "application/pdf")]}


@case("name_200_accented", "attachments", TICKET, check=attachments(n=1),
      why="issue 8: cut at 255 bytes inside a character")
def _(ctx):
    return {"attachments": [file_att("é" * 200 + ".txt", b"accents", "text/plain")]}


@case("forwarded_mail_item", "attachments", TICKET, check=attachments(n=1, name_has=".eml"),
      why="issue 8: a forwarded mail attached as an item was dropped; kept as .eml")
def _(ctx):
    item = {"subject": "Original question", "from": {"emailAddress": {"name": "Orig", "address": "o@example.com"}},
            "toRecipients": [{"emailAddress": {"address": "someone@example.com"}}],
            "body": {"contentType": "text", "content": "The original text."}}
    return {"subject": "FW: Original question", "attachments": [
        {"kind": "item", "name": "Original question", "content_type": "message/rfc822", "item": item}]}


@case("forwarded_item_hostile", "attachments", TICKET, check=attachments(n=1, name_has=".eml"))
def _(ctx):
    item = {"subject": "Inner " + XSS + NUL, "from": {"emailAddress": {"address": "inner@example.com"}},
            "body": {"contentType": "html", "content": "<script>alert(3)</script>"}}
    raw_mime = b"From: <inner@example.com>\r\nSubject: \xff\xfe bad 8-bit\r\n\r\n\x00body\xc3\x28"
    return {"attachments": [{"kind": "item", "name": XSS, "content_type": "message/rfc822", "item": item,
                             "mime_b64": b64(raw_mime)}]}


@case("calendar_event_item", "attachments", TICKET, check=attachments(n=1, ctype="text/calendar"),
      why="calendar invitations are kept")
def _(ctx):
    ev = {"@odata.type": "#microsoft.graph.event", "subject": "Onboarding call",
          "organizer": {"emailAddress": {"address": "boss@example.com"}}}
    return {"attachments": [{"kind": "item", "name": "Onboarding call", "content_type": None, "item": ev}]}


@case("ics_file", "attachments", TICKET, check=attachments(n=1, ctype="text/calendar"))
def _(ctx):
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1@x\r\nSUMMARY:" + XSS +
           "\r\nDTSTART:20300101T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    return {"attachments": [file_att("invite.ics", ics, "text/calendar; method=REQUEST")]}


@case("inline_only_images", "attachments", TICKET, check=attachments(n=3, inline=3))
def _(ctx):
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    return {"body_html": "".join('<img src="cid:img%d@x">' % i for i in range(3)),
            "attachments": [file_att("image%d.png" % i, png, "image/png", is_inline=True,
                                     content_id="img%d@x" % i) for i in range(3)]}


@case("reference_attachment", "attachments", TICKET)
def _(ctx):
    return {"attachments": [{"kind": "reference", "name": "Budget.xlsx", "content_type": None}]}


@case("odata_type_variants", "attachments", TICKET)
def _(ctx):
    return {"attachments": [file_att("a.txt", b"a", "text/plain", odata_type="#Microsoft.Graph.FileAttachment"),
                            file_att("b.txt", b"b", "text/plain", raw={"@odata.type": None}),
                            file_att("c.txt", b"c", "text/plain", odata_type="#microsoft.graph.unknownAttachment")]}


@case("attachment_bad_fields", "attachments", TICKET)
def _(ctx):
    return {"attachments": [file_att("x.bin", b"x", raw={"contentBytes": "%%% not base64 %%%", "size": -1}),
                            file_att("y.bin", b"y", raw={"name": 42, "contentType": ["a"], "isInline": "no"}),
                            file_att("z.bin", b"z", raw={"contentBytes": None, "id": 7})]}


@case("attachment_null_type_empty_name", "attachments", TICKET)
def _(ctx):
    return {"attachments": [dict(file_att("", b"data"), content_type=None)]}


@case("script_file_name", "script", TICKET, check=attachments(n=1))
def _(ctx):
    return {"attachments": [file_att(XSS + ".html", "<html><script>alert(4)</script></html>", "text/html")]}


# === loops ================================================================================

@case("auto_replied", "loops", TICKET, automatic=True)
def _(ctx):
    return {"subject": "Automatic reply: out of office",
            "headers": [{"name": "Auto-Submitted", "value": "auto-replied"}]}


@case("x_autoreply", "loops", TICKET, automatic=True)
def _(ctx):
    return {"headers": [{"name": "X-Autoreply", "value": "yes"}]}


@case("precedence_bulk", "loops", TICKET, automatic=True)
def _(ctx):
    return {"headers": [{"name": "Precedence", "value": "bulk"}]}


@case("mailer_daemon_bounce", "loops", TICKET, automatic=True)
def _(ctx):
    return {"subject": "Undeliverable: " + XSS, "from": addr("MAILER-DAEMON@mx.example.com", "Mail Delivery")}


@case("from_the_mailbox_itself", "loops", LOOP)
def _(ctx):
    return {"from": addr(ctx.mailbox, "Help Desk")}


@case("from_the_mailbox_upper_case", "loops", LOOP)
def _(ctx):
    return {"from": addr(ctx.mailbox.upper(), "HELP")}


# === script in every field ================================================================

@case("script_subject", "script", TICKET, check=subject_is("Order " + XSS))
def _(ctx):
    return {"subject": "Order " + XSS}


@case("script_names_and_addresses", "script", TICKET)
def _(ctx):
    return {"from": addr('"><img src=x onerror=alert(5)>@example.com', XSS),
            "cc": [addr("javascript:alert(6)@example.com", XSS)], "reply_to": [addr("r@example.com", XSS)]}


@case("script_body_html", "script", TICKET)
def _(ctx):
    return {"body_html": ("<p>Hi</p><script>alert(7)</script><iframe src='javascript:alert(8)'></iframe>"
                          "<svg onload=alert(9)></svg><a href='javascript:alert(10)'>x</a>" + XSS)}


@case("script_headers", "script", TICKET)
def _(ctx):
    return {"headers": [{"name": "X-Note", "value": XSS}, {"name": "Reply-To", "value": XSS}]}


@case("ignored_by_rule_hostile", "rules", RULE)
def _(ctx):
    return {"subject": IGNORE_MARK + " " + XSS + NUL, "raw": {"subject": IGNORE_MARK + " " + XSS + NUL}}


@case("ignored_by_rule_rtl", "rules", RULE)
def _(ctx):
    return {"subject": RLO + IGNORE_MARK + " שלום 👩\u200d👩\u200d👧"}


# === what Exchange itself cannot read ======================================================

@case("unreadable_item", "unreadable", QUARANTINE, why="every read of it but its id fails: nothing to store")
def _(ctx):
    return {"fail_read": {"what": "all", "status": 500, "code": "ErrorInternalServerError"}}


@case("corrupt_item", "unreadable", QUARANTINE)
def _(ctx):
    return {"fail_read": {"what": "all", "status": 400, "code": "ErrorCorruptData",
                          "message": "The property value is corrupt."}}


@case("unreadable_body", "unreadable", TICKET, why="the rest can be read: a ticket that says the body is missing")
def _(ctx):
    return {"fail_read": {"what": "body", "status": 500}}


@case("unreadable_attachments", "unreadable", TICKET)
def _(ctx):
    return {"fail_read": {"what": "attachments", "status": 500}, "attachments": [file_att("a.txt", b"a")]}


def control_mail(ctx):
    """The ordinary mail delivered after the whole corpus."""
    return {"subject": "Control mail " + ctx.tag, "from": addr("control.customer@example.com", "Control"),
            "to": [ctx.mailbox], "body_text": "An ordinary question.",
            "internet_message_id": ctx.msgid("control")}


assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"
