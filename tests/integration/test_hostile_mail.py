"""Issue 8, Tests: the hostile-mail corpus (tests/hostile_mail.py) in one Inbox.

The whole corpus goes into one Inbox, oldest first, then ONE ordinary mail.
The real postdesk-scan runs as cron would (POSTDESK_RETRY_BACKOFF=0: a failed
message is tried again on the very next run), at most intake_attempts times.
Promises checked:
  * every run exits 0 and leaves no sanitizer report;
  * the control mail is a ticket after the FIRST run: no message stops a mailbox;
  * every case ends in its expected final state (ticket, update, ignored,
    rejected, quarantined) with a reason in its incoming_email row, and keeps
    what its case says must be kept;
  * nothing is duplicated: one ticket per case that makes one;
  * the Inbox is empty; quarantined mail is in the quarantine folder;
  * no acknowledgement carries a header smuggled in through an address;
  * the API shows all of it as valid JSON, NUL as \\u0000, markup as text.
All problems are gathered and reported at once, case by case.
"""
import json
import re
import secrets

import hostile_ledger as L
import hostile_mail as H
from test_scan import SUMMARY, scan, summary, world  # noqa: F401  (world: the fixture)

ATTEMPTS = 5


def deliver(w, ctx):
    sent = {}
    for c in H.CASES:
        sent[c.name] = w.fake.ctl("messages", dict(c.body(ctx), mailbox=w.address))
    control = w.fake.ctl("messages", dict(H.control_mail(ctx), mailbox=w.address))
    return sent, control


def add_rule(w):
    r = w.browser.post("/api/rules", json={
        "name": "Corpus ignore", "mailbox_id": w.mid, "position": 1,
        "conditions": [{"field": "subject", "op": "contains", "value": H.IGNORE_MARK}],
        "actions": {"ignore": True}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def run_problems(r, w, n):
    out = []
    if r.returncode != 0:
        out.append("run %d: exit %d" % (n, r.returncode))
    if "Sanitizer" in r.stderr or "runtime error:" in r.stderr:
        out.append("run %d: sanitizer report:\n%s" % (n, r.stderr[-4000:]))
    s = [line for line in r.stdout.splitlines() if SUMMARY.match(line)]
    if not s:
        out.append("run %d: no summary line: %r" % (n, r.stdout[-500:]))
    elif not re.search(r"failed \d+, quarantined \d+$", s[0]):
        out.append("run %d: summary without ', failed N, quarantined N': %s" % (n, s[0]))
    return out


def settled(chains, sent, inbox):
    return not inbox and all(L.final(chains.get(m["immutable_id"], [])) in L.FINAL
                             and chains[m["immutable_id"]][-1]["state"] == "done" for m in sent.values())


def case_problems(c, m, chains, ledger, folders, parents):
    """What is wrong with case c (message m), as lines."""
    rows = chains.get(m["immutable_id"], [])
    if not rows:
        return ["no incoming_email row"]
    last, out = rows[-1], []
    if last["outcome"] != c.expect:
        out.append("ends %s/%s (want %s)%s: %s" % (
            last["outcome"], last["state"], c.expect,
            " after %s failures" % last["failures"] if last.get("failures") not in (None, "0") else "",
            L.reason(last)[:400].replace("\n", " | ")))
        return out
    if last["state"] != "done":
        out.append("state %s, not done" % last["state"])
    if not L.reason(last):
        out.append("no reason in the row (trace and error empty)")
    made = [r for r in rows if r["outcome"] == "ticket_created"]
    if c.expect == H.TICKET and (len(made) != 1 or made[0]["ticket_id"] is None):
        out.append("%d ticket_created rows: %s" % (len(made), [r["ticket_id"] for r in made]))
    if c.expect == H.UPDATE:
        parent = parents.get(c.name)
        if made or last["ticket_id"] is None or (parent is not None and last["ticket_id"] != parent):
            out.append("updated ticket %s, want the parent's %s" % (last["ticket_id"], parent))
    if c.expect not in (H.TICKET, H.UPDATE) and last["ticket_id"] is not None:
        out.append("has ticket %s" % last["ticket_id"])
    if c.automatic and not last.get("automatic"):
        out.append("not marked automatic")
    if c.expect == H.QUARANTINE:
        q = {x["immutableId"] for x in folders.get(H.QUARANTINE_FOLDER, [])}
        if m["immutable_id"] not in q:
            out.append("not in the folder %r (folders: %s)" % (H.QUARANTINE_FOLDER, sorted(folders)))
        if not (last.get("error") or "").strip():
            out.append("quarantined without an error")
    if c.check is not None and c.expect in (H.TICKET, H.UPDATE):
        body = ledger.actions([last["id"]]).get(last["id"], (None, ""))
        got = H.Got(row=last, body_len=body[0], body_head=body[1],
                    atts=ledger.attachments([last["id"]]).get(last["id"], []))
        out += c.check(got)
    return out


def api_problems(w, chains, sent):
    """The API gives every logged case and every ticket back as valid JSON."""
    out = []
    for name, m in sent.items():
        rows = chains.get(m["immutable_id"], [])
        if not rows:
            continue
        r = w.browser.get("/api/incoming-emails/%d" % rows[-1]["id"])
        if r.status_code != 200 or not r.headers.get("Content-Type", "").startswith("application/json"):
            out.append("%s: GET /api/incoming-emails/%d: %d %s" % (name, rows[-1]["id"], r.status_code,
                                                                   r.text[:200]))
            continue
        try:
            d = json.loads(r.text)           # strict: a raw control character fails
        except ValueError as e:
            out.append("%s: incoming detail is not valid JSON: %s" % (name, e))
            continue
        if name == "nul_subject":
            if "\\u0000" not in r.text or (d.get("source") or {}).get("subject") != "before\x00after":
                out.append("nul_subject: the stored Graph JSON lost its NUL (want \\u0000): %r"
                           % (d.get("source") or {}).get("subject"))
        t = rows[-1]["ticket_id"]
        if t is None:
            continue
        r = w.browser.get("/api/tickets/%d" % t)
        if r.status_code != 200:
            out.append("%s: GET /api/tickets/%d: %d %s" % (name, t, r.status_code, r.text[:200]))
            continue
        try:
            d = json.loads(r.text)
        except ValueError as e:
            out.append("%s: ticket %d is not valid JSON: %s" % (name, t, e))
            continue
        if name == "script_subject" and d.get("subject") != "Order " + H.XSS:
            out.append("script_subject: the ticket's subject is %r, want the text as sent" % d.get("subject"))
        if name == "nul_subject" and "\x00" in (d.get("subject") or "") and "\\u0000" not in r.text:
            out.append("nul_subject: ticket subject NUL not escaped")
    return out


def test_hostile_corpus(world, stack, fake):
    w = world(first_scan="all")
    ctx = H.Ctx(mailbox=w.address, tag=secrets.token_hex(4))
    rule = add_rule(w)
    problems = ["incoming_email has no column %r (issue 8 isolation)" % c for c in L.missing_columns(stack)]
    runs = []
    try:
        sent, control = deliver(w, ctx)
        env = dict(L.ENV, POSTDESK_INTAKE_ATTEMPTS=str(ATTEMPTS))
        ledger = L.Ledger(stack, w.mid)
        for n in range(1, ATTEMPTS + 1):
            r = scan(stack, mailbox=w.mid, env=env, timeout=900)
            runs.append((summary(r, w.mid), r.stdout.strip()[-300:]))
            problems += run_problems(r, w, n)
            chains = ledger.rows()
            if n == 1:
                c = chains.get(control["immutable_id"], [])
                if L.final(c) != "ticket_created":
                    problems.append("control mail after run 1: %s (a message stopped the mailbox); "
                                    "stderr: %s" % (c and c[-1]["outcome"], r.stderr[-1500:]))
            if settled(chains, dict(sent, control=control), w.inbox()):
                break
        folders = w.folders()
        parents = {"references_10000": (chains.get(sent["thread_parent"]["immutable_id"]) or
                                        [{"ticket_id": None}])[-1]["ticket_id"]}
        per_case = []
        for c in H.CASES:
            for p in case_problems(c, sent[c.name], chains, ledger, folders, parents):
                per_case.append("  %-32s [%s] %s" % (c.name, c.category, p))
        if per_case:
            problems.append("%d of %d cases not as expected after %d runs:\n%s"
                            % (len({x.split()[0] for x in per_case}), len(H.CASES), len(runs),
                               "\n".join(per_case)))
        problems += ["duplicated: " + d for d in L.duplicates(chains)]
        want = sum(1 for c in H.CASES if c.expect == H.TICKET) + 1
        tickets = ledger.tickets()
        if len(tickets) != want:
            problems.append("%d tickets in the mailbox, want %d" % (len(tickets), want))
        inbox = w.inbox()
        if inbox:
            problems.append("%d left in the Inbox: %s" % (len(inbox), [x["subject"][:40] for x in inbox][:20]))
        for e in fake.log("sent_log"):
            hay = json.dumps([e.get("to"), e.get("cc"), e.get("bcc"), e.get("headers")])
            if "victim@evil.example" in hay:
                problems.append("an outgoing mail carries the smuggled Bcc: %s" % hay[:300])
        problems += api_problems(w, chains, sent)
    finally:
        w.browser.delete("/api/rules/%d" % rule)
    assert not problems, "\n".join(problems) + "\nruns: %r" % runs
