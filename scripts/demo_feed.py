#!/usr/bin/python3
"""The demo's world at the fake Microsoft cloud, and its mail (scripts/demo.sh).

    demo_feed.py seed --fake URL --portal URL --cacert FILE --state FILE
        A demo tenant with an app and the support user at the fake (it keeps
        nothing between runs, so this runs on every start, with the ids kept
        in FILE), and customers elsewhere, one of them out of office.
    demo_feed.py connect  (same options)
        The postdesk mailbox "Demo Support", created if missing, connected
        the way a real one is: Authorize Application, the fake's sign-in,
        postdesk-oauth's callback.
    demo_feed.py feed  (same options) [--interval SECONDS]
        Every few seconds a mail from a customer into the demo Inbox: new
        questions, some with an attachment, and now and then a customer's
        answer to postdesk's acknowledgement. Connects the mailbox again
        when postdesk says it needs reauthorisation.

The API key (admin) comes from POSTDESK_DEMO_KEY. Standard library only.
"""
import argparse
import base64
import json
import os
import random
import ssl
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib

MAILBOX_NAME = "Demo Support"
DESK = ("Contoso Support", "support@contoso.example")
DESK_DOMAIN = "contoso.example"
AWAY = "jonas.berg@fabrikam.example"  # answers every mail with an out-of-office
CUSTOMERS = [
    ("Carol Diaz", "carol.diaz@fabrikam.example"),
    ("Ahmed Khan", "ahmed.khan@northwind.example"),
    ("Mei Lin", "mei.lin@tailspin.example"),
    ("Priya Nair", "priya@adatum.example"),
    ("Tom Walsh", "tom.walsh@woodgrove.example"),
    ("Sofia Rossi", "sofia.rossi@litware.example"),
    ("Hannah Schmidt", "h.schmidt@proseware.example"),
    ("Diego Alvarez", "diego@wingtip.example"),
    ("Jonas Berg", AWAY),  # last: tick() picks him by that
]
QUESTIONS = [
    ("Printer on the 3rd floor keeps jamming",
     "Hi,\n\nthe big printer next to the kitchen jams on every second page since "
     "yesterday. We already tried another paper tray.\n\nCould someone have a look?"),
    ("Cannot connect to the VPN since this morning",
     "Hello support,\n\nthe VPN client says \"authentication failed\" although my "
     "password works everywhere else. I work from home today."),
    ("Invoice 2026-1187 shows the wrong VAT",
     "Dear team,\n\ninvoice 2026-1187 charges 21% VAT, our contract says we are "
     "exempt. Please send a corrected invoice."),
    ("Password reset link expired",
     "Hi, the reset link I got yesterday says it has expired. Can you send a new one?"),
    ("New starter on Monday: laptop and accounts",
     "Hello,\n\nAnna Weber starts in Sales next Monday. She needs a laptop, an email "
     "account and access to the CRM.\n\nThanks!"),
    ("Outlook asks for my password every hour",
     "Since the update on Tuesday Outlook keeps asking for my password. Typing it "
     "in works, but only for an hour."),
    ("Order 48213 arrived damaged",
     "Good afternoon,\n\nthe parcel for order 48213 arrived today with a broken "
     "corner and two of the monitors have cracked screens. What now?"),
    ("Access to the Finance shared drive",
     "Hi, I moved to Finance this month and need write access to the Finance drive. "
     "My manager (Liam Chen) agrees."),
    ("Projector in meeting room B shows no signal",
     "The projector in room B says \"no signal\" with every laptop we tried. We have "
     "a customer visit at 14:00."),
    ("Question about our support contract renewal",
     "Hello,\n\nour support contract ends on 31 January. Could you send us an offer "
     "for another two years, with the same response times?"),
]
FOLLOW_UPS = [
    "Thanks for the quick answer. It happened again just now, same as before.",
    "Any news on this? We are still stuck.",
    "Update from our side: restarting did not help.",
    "Thank you, that solved it. You can close the ticket.",
    "One more detail: it only happens on the laptops with the new docking stations.",
]
# Someone whose out-of-office answers a mail the desk sent from Outlook: no
# ticket tag, so it would open a ticket and be acknowledged, and the two
# auto-responders would answer each other for ever, were it not marked
# automatic (Auto-Submitted) and left unanswered.
OOO = ("Lucas Martin", "lucas.martin@woodgrove.example")
# The order of what arrives: "new" a question, "attach" one with a file,
# "away" a question from the customer who is out of office (postdesk's
# acknowledgement brings back an auto-reply), "reply" a customer answering
# an acknowledgement, "ooo" the out-of-office above.
CYCLE = ["new", "attach", "away", "new", "reply", "ooo", "attach", "new", "reply", "new"]


def png(width=96, height=48):
    """A small gradient PNG: a "screenshot" that is a real image."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\0" + bytes(v for x in range(width)
                                  for v in (x * 255 // width, y * 255 // height, 160))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def attachment(rng):
    kind = rng.randrange(3)
    if kind == 0:
        return {"name": "screenshot.png", "content_type": "image/png",
                "content_b64": base64.b64encode(png()).decode()}
    if kind == 1:
        log = "".join("2026-12-03 08:%02d:11 vpn: auth failed (code 691)\n" % m for m in range(12))
        return {"name": "vpn-client.log", "content_type": "text/plain", "content": log}
    csv = "item;qty;price;vat\nMonitor 27\";4;219.00;21%\nDock USB-C;4;129.00;21%\n"
    return {"name": "invoice-2026-1187.csv", "content_type": "text/csv", "content": csv}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


class Demo:
    def __init__(self, a):
        self.fake_url = a.fake.rstrip("/")
        self.portal = a.portal.rstrip("/")
        self.state_file = a.state
        self.key = os.environ.get("POSTDESK_DEMO_KEY", "")
        self.cacert = a.cacert  # made by the stack's first start, after "seed"
        self.opener = None
        self.mid = None

    def web(self, url):
        # No proxy from the environment: both servers are on loopback.
        if not url.startswith("https:"):
            return urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
        if self.opener is None:
            tls = ssl.create_default_context(cafile=self.cacert)
            self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                      urllib.request.HTTPSHandler(context=tls),
                                                      NoRedirect)
        return self.opener

    def http(self, method, url, body=None, headers=None):
        """(status, headers, parsed JSON or None); redirects are not followed."""
        data = None if body is None else json.dumps(body).encode()
        rq = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if data is not None:
            rq.add_header("Content-Type", "application/json")
        try:
            with self.web(url).open(rq, timeout=30) as r:
                status, hdrs, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, raw = e.code, e.headers, e.read()
        try:
            return status, hdrs, json.loads(raw) if raw else None
        except ValueError:
            return status, hdrs, None

    def fake(self, name, body=None):
        method = "GET" if body is None else "POST"
        status, _, out = self.http(method, self.fake_url + "/_control/" + name, body)
        if status != 200:
            raise RuntimeError("fake %s %s: %s %s" % (method, name, status, out))
        return out

    def api(self, method, path, body=None, want=(200,)):
        status, hdrs, out = self.http(method, self.portal + path, body,
                                      {"Authorization": "Bearer " + self.key})
        if status not in want:
            raise RuntimeError("%s %s: %s %s" % (method, path, status, out))
        return out

    # --- the tenant and the mailbox ---------------------------------------------------------------

    def ids(self):
        """The demo tenant's ids and secret, the same on every start."""
        try:
            with open(self.state_file) as f:
                return json.load(f)
        except FileNotFoundError:
            ids = {"tenant_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()),
                   "secret": "Dm0~" + base64.urlsafe_b64encode(os.urandom(27)).decode()}
            tmp = self.state_file + ".tmp"
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                json.dump(ids, f)
            os.replace(tmp, self.state_file)
            return ids

    def seed(self):
        ids = self.ids()
        tid = ids["tenant_id"]
        self.fake("tenants", {"id": tid, "domains": [DESK_DOMAIN]})
        self.fake("apps", {"tenant": tid, "client_id": ids["client_id"], "display_name": "postdesk demo",
                           "secrets": [{"value": ids["secret"]}],
                           "redirect_uris": [self.portal + "/azure/auth",
                                             self.portal + "/auth/account/azureresponse"]})
        self.fake("users", {"tenant": tid, "address": DESK[1], "display_name": DESK[0]})
        self.fake("signin", {"tenant": tid, "user": DESK[1], "mode": "approve"})
        domains = sorted({addr.split("@")[1] for _, addr in CUSTOMERS})
        others = self.fake("tenants", {"domains": domains})["id"]
        for name, addr in CUSTOMERS:
            self.fake("users", {"tenant": others, "address": addr, "display_name": name})
        self.fake("users/auto_reply", {"user": AWAY, "subject": "Out of office",
                                       "body": "I am out of the office until Monday and have "
                                               "no access to my mail."})

    def mailbox(self, ids):
        """The demo mailbox's id: found by name, else created."""
        for m in self.api("GET", "/api/mailboxes")["items"]:
            if m["name"] == MAILBOX_NAME:
                if m["client_id"] != ids["client_id"] or m["tenant_id"] != ids["tenant_id"]:
                    self.api("PATCH", "/api/mailboxes/%d" % m["id"],
                             {k: ids[k] for k in ("client_id", "tenant_id", "secret")})
                return m["id"]
        m = self.api("POST", "/api/mailboxes", {
            "name": MAILBOX_NAME, "client_id": ids["client_id"], "tenant_id": ids["tenant_id"],
            "secret": ids["secret"], "first_scan": "all", "ack_enabled": True,
            "ack_per_hour": 30}, want=(201,))
        return m["id"]

    def connect(self):
        """Authorize Application as an admin's browser does it."""
        if self.mid is None:
            self.mid = self.mailbox(self.ids())
        url = self.api("POST", "/api/mailboxes/%d/authorize" % self.mid)["authorize_url"]
        status, hdrs, _ = self.http("GET", url)  # the fake's sign-in approves
        if status != 302:
            raise RuntimeError("the fake's sign-in answered %s" % status)
        status, _, _ = self.http("GET", hdrs["Location"])  # postdesk-oauth's callback
        m = self.api("GET", "/api/mailboxes/%d" % self.mid)
        if status != 302 or m["status"] != "connected":
            raise RuntimeError("the callback answered %s; mailbox %s: %s"
                               % (status, m["status"], m.get("last_error")))


    # --- mail ----------------------------------------------------------------

    def send(self, who, subject, body, **kw):
        msg = {"mailbox": DESK[1], "subject": subject, "body_text": body,
               "from": {"name": who[0], "address": who[1]}, "to": [{"name": DESK[0], "address": DESK[1]}],
               "internet_message_id": "<%s@%s>" % (uuid.uuid4().hex, who[1].split("@")[1])}
        msg.update(kw)
        self.fake("messages", msg)
        say("mail from %s <%s>: %s%s" % (who[0], who[1], subject,
                                         " (with %s)" % kw["attachments"][0]["name"]
                                         if kw.get("attachments") else ""))

    def reply(self, rng, answered):
        """A customer answers an acknowledgement in their Inbox; False when
        there is none left to answer."""
        for name, addr in rng.sample(CUSTOMERS, len(CUSTOMERS)):
            if addr == AWAY:
                continue
            box = self.fake("mailboxes/" + addr)
            inbox = next(f for f in box["folders"] if f.get("wellKnownName") == "inbox")
            for m in inbox["messages"]:
                if "[#" in m["subject"] and m["internetMessageId"] not in answered:
                    answered.add(m["internetMessageId"])
                    ref = m["internetMessageId"]
                    self.send((name, addr), "RE: " + m["subject"], rng.choice(FOLLOW_UPS),
                              headers=[{"name": "In-Reply-To", "value": ref},
                                       {"name": "References", "value": ref}])
                    return True
        return False

    def out_of_office(self):
        self.send(OOO, "Automatic reply: Planned maintenance on Saturday 06:00-08:00",
                  "I am on holiday until 2 January with no access to email. "
                  "For urgent matters call the front desk.",
                  headers=[{"name": "Auto-Submitted", "value": "auto-replied"},
                           {"name": "X-Auto-Response-Suppress", "value": "All"},
                           {"name": "In-Reply-To", "value": "<%s@%s>" % (uuid.uuid4().hex, DESK_DOMAIN)}])

    def tick(self, i, rng, answered):
        kind = CYCLE[i % len(CYCLE)]
        if kind == "reply" and self.reply(rng, answered):
            return
        if kind == "ooo":
            self.out_of_office()
            return
        who = CUSTOMERS[-1] if kind == "away" else rng.choice(CUSTOMERS[:-1])
        subject, body = rng.choice(QUESTIONS)
        extra = {"attachments": [attachment(rng)]} if kind == "attach" else {}
        self.send(who, subject, "%s\n\n%s" % (body, who[0]), **extra)

    def feed(self, interval):
        self.mid = self.mailbox(self.ids())
        rng, answered = random.Random(), set()
        i = 0
        while True:
            try:
                if self.api("GET", "/api/mailboxes/%d" % self.mid)["status"] == "needs_reauth":
                    # The fake forgot the last run's tokens: a scan that
                    # used them may come after "connect" ran.
                    say("the mailbox needs reauthorisation; connecting it again")
                    self.connect()
                self.tick(i, rng, answered)
            except (OSError, RuntimeError) as e:
                say("could not deliver this one (%s); trying again" % e)
            i += 1
            time.sleep(interval)


def say(text):
    print("demo %s  %s" % (time.strftime("%H:%M:%S"), text), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("seed", "connect", "feed"))
    ap.add_argument("--fake", required=True)
    ap.add_argument("--portal", required=True)
    ap.add_argument("--cacert", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--interval", type=float, default=5.0)
    a = ap.parse_args()
    demo = Demo(a)
    try:
        if a.command == "seed":
            demo.seed()
        elif a.command == "connect":
            demo.connect()
        else:
            demo.feed(max(a.interval, 0.1))
    except (OSError, RuntimeError, KeyError) as e:
        print("demo: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
