"""A seeded generator of hostile Graph messages (issue 8, Tests).

    gen = Generator(seed, mailbox)       the same seed and mailbox give the same mail
    gen.message()                        one `POST /_control/messages` body (without
                                         "mailbox"; tests/fakes/README.md "Hostile mail")
    gen.messages(n)                      n of them
    gen.kinds                            {ingredient: how often it was used}

Each message mixes the corpus's ingredients (tests/hostile_mail.py) at random:
RTL and RTL-override, ZWJ emoji, combining marks, NUL and control characters,
lone surrogates, mixed scripts, markup, odd addresses (non-ASCII, CR/LF, the
mailbox itself, none at all), loop headers, long References to earlier mail,
duplicated Message-IDs, odd header names, attachments (zero bytes, traversal and
RTL names, forwarded mail and events as items, references, .ics, inline
images, wrong @odata.type) — and then random mutations of the Graph JSON as
listed (`raw`: a field of the wrong type, null, NUL in any string, dropped
keys) and, rarely, an item Exchange cannot read (`fail_read`).

Sizes are bounded so 1,000 messages fit a test run of about two minutes:
most messages are under 4 KB; 2 % carry up to 300 KB (long bodies, many
recipients or headers, a few bigger attachments).

Python's random.Random(seed) is the only source of randomness (no hash
order, no clock), so a seed replays exactly: POSTDESK_SEED=N.
"""
import base64
import random
from collections import Counter

import hostile_mail as H

RTL = ["שלום", "مرحبا", "ההזמנה לא הגיעה", "طلبي رقم ١٢٣٤", "\u202e", "\u202egnp.exe", "\u2067x\u2069"]
EMOJI = ["👩\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", "👍🏽", "🧑\u200d💻", "😀", "🇩🇪", "\U0001f9d1\U0001f3ff"]
COMBINING = ["e\u0301", "Z\u0337\u0321\u031b", "a" + "\u0300" * 40, "\u0e01\u0e34\u0e4a"]
SCRIPTS = ["pаypаl", "Кириллица", "Ελληνικά", "日本語", "中文", "हिन्दी", "한국어", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𓀀", "ᚠᚢᚦ"]
CONTROL = ["\u0000", "\r\n", "\r", "\n", "\t", "\x01", "\x07", "\x1b[31m", "\x7f", "\x85", "\u2028",
           "\ufeff", "\u200b", "\ufffe", "\uffff", "\U0010ffff", "\ue000"]
SURROGATE = ["\ud83d", "\ude00", "\udcff", "\ud800\ud800"]
MARKUP = [H.XSS, "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
          "{{7*7}}", "${jndi:ldap://x}", "'; DROP TABLE ticket; --", "%s%n%x", "../../etc/passwd",
          "=?utf-8?B?/w==?=", "&lt;b&gt;", "\\", "\"", "[#1]", "[#999999999999]"]
WORDS = ["help", "order", "invoice", "printer", "refund", "urgent", "hello", "thanks", "broken", "RE:", "FW:",
         "AW:", "question", "account", "password", "delivery"]
LOOP_HEADERS = [("Auto-Submitted", "auto-replied"), ("Auto-Submitted", "auto-generated; reason=é"),
                ("Auto-Submitted", "no"), ("Precedence", "bulk"), ("Precedence", "list"),
                ("X-Autoreply", "yes"), ("X-Auto-Response-Suppress", "All"), ("X-Autorespond", "1")]
WRONG = [0, 1, -1, 2 ** 53, 1.5, True, False, None, [], {}, [None], {"a": 1}, "", "\u0000"]
RAW_KEYS = ["subject", "body", "from", "sender", "toRecipients", "ccRecipients", "internetMessageHeaders",
            "internetMessageId", "conversationId", "hasAttachments", "receivedDateTime", "isRead"]
ODATA = ["#microsoft.graph.fileAttachment", "#Microsoft.Graph.FileAttachment", "#microsoft.graph.unknown", None,
         7, ""]
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


class Generator:
    def __init__(self, seed, mailbox, tag=None):
        self.r = random.Random(seed)
        self.mailbox = mailbox
        self.tag = tag if tag is not None else "s%d" % seed
        self.n = 0
        self.msgids = []               # earlier Message-IDs (threading, duplicates)
        self.kinds = Counter()
        self.level = 2

    # -- strings
    def code_point(self):
        r = self.r
        cp = r.choice([r.randrange(0x20, 0x7f), r.randrange(0xa0, 0x800), r.randrange(0x800, 0x10000),
                       r.randrange(0x10000, 0x110000), r.randrange(0, 0x20)])
        return chr(cp)

    def fragment(self):
        """A piece of text; how hostile depends on the message's level (0 plain words,
        1 any well-formed Unicode and markup, 2 also controls, NUL, lone surrogates)."""
        r = self.r
        pools = [WORDS] * 6 if self.level == 0 else \
            [WORDS] * 4 + [RTL, EMOJI, COMBINING, SCRIPTS, MARKUP] if self.level == 1 else \
            [WORDS] * 3 + [RTL, EMOJI, COMBINING, SCRIPTS, MARKUP, CONTROL, SURROGATE, None]
        pool = r.choice(pools)
        if pool is None:
            self.kinds["random code points"] += 1
            return "".join(self.code_point() for _ in range(r.randrange(1, 12)))
        if pool is SURROGATE:
            self.kinds["lone surrogate"] += 1
        elif pool is CONTROL:
            self.kinds["control/NUL"] += 1
        return r.choice(pool)

    def text(self, max_parts=8):
        return " ".join(self.fragment() for _ in range(self.r.randrange(0, max_parts + 1)))

    def big_text(self, limit):
        unit = self.text(6) or "x"
        return (unit * (limit // max(1, len(unit)) + 1))[:self.r.randrange(limit // 2, limit)]

    def address(self):
        r = self.r
        k = r.random() if self.level > 0 else r.random() * 0.6
        if k < 0.55:
            return "c%d.%s@example.com" % (r.randrange(10 ** 6), self.tag)
        if k < 0.65:
            return r.choice(["jörg@bücher.example", "用户@例子.广告", "δοκιμή@παράδειγμα.δοκιμή",
                             "UPPER.%s@EXAMPLE.COM" % self.tag])
        if k < 0.72:
            self.kinds["markup in address"] += 1
            return r.choice(['"><img onerror=alert(1)>@example.com', "<script>@x.example", "a@b@c", "@", ""])
        if k < 0.78:
            self.kinds["control in address"] += 1
            return "cc%d%s@example.com" % (r.randrange(1000), r.choice(CONTROL))
        if k < 0.81:
            self.kinds["from the mailbox"] += 1
            return r.choice([self.mailbox, self.mailbox.upper()])
        if k < 0.84:
            return "MAILER-DAEMON@mx.example.com"
        return "%s@%s.example" % (self.text(2).replace(" ", "") or "x", r.choice(SCRIPTS))

    def person(self):
        return {"name": self.text(3), "address": self.address()}

    # -- parts
    def headers(self, big):
        r = self.r
        hs = []
        for _ in range(r.randrange(0, 4 if not big else 400)):
            hs.append({"name": "X-" + (self.text(1).replace(" ", "") or "H"), "value": self.text(4)})
        if r.random() < 0.12:
            self.kinds["loop header"] += 1
            hs.append(dict(zip(("name", "value"), r.choice(LOOP_HEADERS))))
        if self.msgids and r.random() < 0.15:
            self.kinds["References"] += 1
            refs = ["<r%d.%s@refs.example>" % (i, self.tag) for i in range(r.randrange(0, 300 if big else 20))]
            refs.append(r.choice(self.msgids))
            hs.append({"name": "References", "value": " ".join(refs)})
            if r.random() < 0.5:
                hs.append({"name": "In-Reply-To", "value": r.choice(self.msgids + ["<<>>", ""])})
        if r.random() < 0.05:
            self.kinds["odd header name"] += 1
            hs.append({"name": r.choice(["", " ", "X:Y", "Ü", "X-\u0000", "X-" + "N" * 300]), "value": self.text(2)})
        return hs

    def attachment(self, big):
        r = self.r
        k = r.random()
        name = r.choice(["file.txt", "", "../../etc/passwd", "invoice\u202egnp.exe", "é" * 140 + ".txt",
                         "n" * 300, H.XSS + ".html", self.text(2) + ".bin", "a\u0000b.txt"])
        if k < 0.08:
            self.kinds["forwarded mail item"] += 1
            return {"kind": "item", "name": self.text(3), "content_type": "message/rfc822",
                    "item": {"subject": self.text(4), "from": {"emailAddress": self.person()},
                             "body": {"contentType": r.choice(["text", "html"]), "content": self.text(10)}}}
        if k < 0.12:
            self.kinds["event item"] += 1
            return {"kind": "item", "name": self.text(2), "content_type": None,
                    "item": {"@odata.type": "#microsoft.graph.event", "subject": self.text(3)}}
        if k < 0.15:
            self.kinds["reference attachment"] += 1
            return {"kind": "reference", "name": name, "content_type": None}
        size = r.choice([0, 0, 1, 10, 200, 3000]) if not big else r.randrange(0, 200000)
        data = bytes(r.getrandbits(8) for _ in range(min(size, 4096)))
        data = (data * (size // max(1, len(data)) + 1))[:size] if data else b""
        if size == 0:
            self.kinds["zero-byte attachment"] += 1
        a = {"name": name, "content_type": r.choice(["text/plain", "application/octet-stream", None,
                                                     "text/calendar", "image/png", "message/rfc822", ""]),
             "content_b64": base64.b64encode(data).decode()}
        if r.random() < 0.1:
            self.kinds["inline image"] += 1
            a.update(content_b64=base64.b64encode(PNG).decode(), content_type="image/png", is_inline=True,
                     content_id="img%d@x" % r.randrange(100))
        if r.random() < 0.1:
            self.kinds["attachment mutation"] += 1
            key = r.choice(["@odata.type", "name", "contentType", "size", "contentBytes", "isInline", "id"])
            a["raw"] = {key: r.choice(ODATA) if key == "@odata.type" else r.choice(WRONG + ["%%%"])}
        return a

    def mutate(self, m):
        """Random changes to the Graph JSON as listed."""
        r = self.r
        raw, drop = {}, []
        for _ in range(r.choices([0, 1, 2, 4], [70, 18, 8, 4])[0]):
            key = r.choice(RAW_KEYS)
            k = r.random()
            if k < 0.4:
                self.kinds["wrong type"] += 1
                raw[key] = r.choice(WRONG)
            elif k < 0.55:
                self.kinds["dropped key"] += 1
                drop.append(key)
            elif key == "body":
                self.kinds["NUL in raw string"] += 1
                raw["body"] = {"content": self.text(6) + "\u0000" + self.text(3)}
            elif key in ("from", "sender"):
                raw[key] = {"emailAddress": {"name": r.choice(WRONG + [self.text(2)]),
                                             "address": r.choice(WRONG + [self.address()])}}
            elif key in ("toRecipients", "ccRecipients"):
                raw[key] = [r.choice([None, 7, {"emailAddress": None}, {"emailAddress": self.person()}])
                            for _ in range(r.randrange(0, 5))]
            elif key == "internetMessageHeaders":
                raw[key] = [r.choice([None, "x", {"name": 5}, {"name": "X", "value": None},
                                      {"name": self.text(1), "value": self.text(3)}]) for _ in range(4)]
            else:
                self.kinds["NUL in raw string"] += 1
                raw[key] = self.text(3) + "\u0000"
        if r.random() < 0.02:
            self.kinds["extra @odata.type"] += 1
            raw["@odata.type"] = r.choice(["#microsoft.graph.eventMessageRequest", "#microsoft.graph.message",
                                           "#microsoft.graph.unknown"])
        if raw:
            m["raw"] = raw
        if drop:
            m["drop"] = sorted(set(drop))

    def message(self):
        r = self.r
        self.n += 1
        self.level = r.choices([0, 1, 2], [35, 40, 25])[0]
        big = r.random() < 0.02
        if big:
            self.kinds["big"] += 1
        m = {"subject": self.big_text(r.choice([3000, 100000])) if big and r.random() < 0.3 else self.text(6)}
        k = r.random()
        if k < 0.03:
            self.kinds["no from"] += 1
        elif k < 0.06:
            m["sender"] = self.person()
        else:
            m["from"] = self.person()
        body = self.big_text(300000) if big and r.random() < 0.5 else self.text(30)
        if r.random() < 0.3:
            m["body_html"] = "<html><body><p>%s</p>%s</body></html>" % (body, r.choice(MARKUP))
        else:
            m["body_text"] = body
        m["to"] = [self.mailbox] + [self.person() for _ in range(r.randrange(0, 3 if not big else 3000))]
        m["cc"] = [self.person() for _ in range(r.choice([0, 0, 0, 1, 4]))]
        m["headers"] = self.headers(big)
        m["attachments"] = [self.attachment(big) for _ in range(r.choice([0] * 6 + [1, 1, 2, 5]))]
        if r.random() < 0.05 and self.msgids:
            self.kinds["duplicate Message-ID"] += 1
            m["internet_message_id"] = r.choice(self.msgids)
        else:
            m["internet_message_id"] = r.choice(["<g%d.%s@gen.example>" % (self.n, self.tag)] * 9 +
                                                ["g%d %s ü" % (self.n, self.tag)])
        self.msgids.append(m["internet_message_id"])
        if r.random() < 0.05:
            m["is_read"] = True
        self.mutate(m)
        if r.random() < 0.004:
            self.kinds["unreadable item"] += 1
            m["fail_read"] = {"what": r.choice(["all", "body", "attachments"]),
                              "status": r.choice([500, 400]), "code": "ErrorCorruptData"}
        return m

    def messages(self, n):
        return [self.message() for _ in range(n)]
