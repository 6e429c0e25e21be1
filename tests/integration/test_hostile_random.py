"""Issue 8, Tests: randomised hostile mail (tests/gen_hostile.py).

POSTDESK_HOSTILE_COUNT messages (default 1,000; `make soak`: 100,000) from a
seeded generator go into one Inbox in two waves, each followed by an ordinary
control mail; postdesk-scan runs after each wave and then until everything has
settled (POSTDESK_RETRY_BACKOFF=0), at most intake_attempts + 1 runs after the
last wave.  Invariants:
  * every run exits 0, no sanitizer report;
  * each control mail is a ticket after the run that followed its delivery;
  * every message reaches a final state (ticket, update, ignored, rejected,
    quarantined): nothing stuck, no row left 'failed', the Inbox empty;
  * nothing duplicated: one ledger chain per message, at most one ticket made
    per message, and no ticket without its ledger row.
The seed is random per run unless POSTDESK_SEED is set; it is printed in the
test output and in every failure: replay with POSTDESK_SEED=N.
"""
import os
import secrets

import gen_hostile
import hostile_ledger as L
from test_scan import SUMMARY, scan, world  # noqa: F401  (world: the fixture)

ATTEMPTS = 5
COUNT = int(os.environ.get("POSTDESK_HOSTILE_COUNT") or 1000)
SEED = int(os.environ["POSTDESK_SEED"]) if os.environ.get("POSTDESK_SEED") else secrets.randbits(31)
WAVES = 2
CHUNK = 100


def say(request, text):
    """A line in the test output, captured or not."""
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(text)
    print(text)


def deliver(fake, address, messages):
    out = []
    for i in range(0, len(messages), CHUNK):
        got = fake.ctl("seed", {"messages": [dict(m, mailbox=address) for m in messages[i:i + CHUNK]]})
        out += got["messages"]
    return out


def control(fake, address, tag, k):
    return fake.ctl("messages", {"mailbox": address, "subject": "Control %s %d" % (tag, k),
                                 "from": "control.%d@example.com" % k, "to": [address],
                                 "body_text": "An ordinary question.",
                                 "internet_message_id": "<control.%d.%s@example.com>" % (k, tag)})


def describe(i, body):
    """A failing message, short enough for a report; i is its index (replay)."""
    keys = {k: (v if len(repr(v)) < 160 else repr(v)[:160] + "…") for k, v in body.items()}
    return "message #%d: %r" % (i, keys)


def test_random_hostile_mail(world, stack, fake, request):
    replay = "seed %d (replay: POSTDESK_SEED=%d POSTDESK_HOSTILE_COUNT=%d)" % (SEED, SEED, COUNT)
    say(request, "hostile mail: %d messages, %s" % (COUNT, replay))
    w = world(first_scan="all", ack_enabled=False)
    gen = gen_hostile.Generator(SEED, w.address, tag="s%d" % SEED)
    bodies = gen.messages(COUNT)
    env = dict(L.ENV, POSTDESK_INTAKE_ATTEMPTS=str(ATTEMPTS))
    ledger = L.Ledger(stack, w.mid)
    timeout = 600 + COUNT // 2
    problems = ["incoming_email has no column %r (issue 8 isolation)" % c for c in L.missing_columns(stack)]
    sent, controls, runs = [], [], []

    def run():
        r = scan(stack, mailbox=w.mid, env=env, timeout=timeout)
        line = next((x for x in r.stdout.splitlines() if SUMMARY.match(x)), r.stdout.strip()[-200:])
        runs.append(line)
        if r.returncode != 0:
            problems.append("run %d: exit %d: %s" % (len(runs), r.returncode, r.stderr[-1500:]))
        if "Sanitizer" in r.stderr or "runtime error:" in r.stderr:
            problems.append("run %d: sanitizer report:\n%s" % (len(runs), r.stderr[-4000:]))
        return ledger.rows()

    per_wave = (COUNT + WAVES - 1) // WAVES
    for k in range(WAVES):
        sent += deliver(fake, w.address, bodies[k * per_wave:(k + 1) * per_wave])
        controls.append(control(fake, w.address, gen.tag, k))
        chains = run()
        c = chains.get(controls[-1]["immutable_id"], [])
        if L.final(c) != "ticket_created":
            problems.append("control mail %d is %s after the run that followed it (run %d)"
                            % (k, c and c[-1]["outcome"], len(runs)))
    everything = sent + controls
    for _ in range(ATTEMPTS + 1):
        if not w.inbox() and all(L.final(chains.get(m["immutable_id"], [])) in L.FINAL and
                                 chains[m["immutable_id"]][-1]["state"] == "done" for m in everything):
            break
        chains = run()

    index = {m["immutable_id"]: i for i, m in enumerate(sent)}
    lost = [describe(i, bodies[i]) for i, m in enumerate(sent) if m["immutable_id"] not in chains]
    if lost:
        problems.append("%d messages without any ledger row:\n  %s" % (len(lost), "\n  ".join(lost[:20])))
    stuck = []
    for gid, rows in chains.items():
        last = rows[-1]
        if last["outcome"] in L.FINAL and last["state"] == "done":
            continue
        i = index.get(gid)
        stuck.append("ends %s/%s after %s failures: %s\n    %s" % (
            last["outcome"], last["state"], last.get("failures", "?"), L.reason(last)[:300].replace("\n", " | "),
            describe(i, bodies[i]) if i is not None else gid))
    if stuck:
        problems.append("%d messages stuck after %d runs:\n  %s" % (len(stuck), len(runs), "\n  ".join(stuck[:30])))
    problems += ["duplicated: " + d for d in L.duplicates(chains)[:20]]
    strangers = set(chains) - set(index) - {m["immutable_id"] for m in controls}
    if strangers:
        problems.append("%d ledger chains for messages never sent: %s" % (len(strangers), sorted(strangers)[:5]))
    made = {r["ticket_id"] for rows in chains.values() for r in rows if r["outcome"] == "ticket_created"}
    tickets = set(ledger.tickets())
    if tickets != made:
        problems.append("tickets without a ticket_created row: %s; rows naming no ticket: %s"
                        % (sorted(tickets - made)[:10], sorted(made - tickets)[:10]))
    inbox = w.inbox()
    if inbox:
        problems.append("%d left in the Inbox" % len(inbox))
    outcomes = {}
    for rows in chains.values():
        outcomes[rows[-1]["outcome"]] = outcomes.get(rows[-1]["outcome"], 0) + 1
    say(request, "hostile mail: %d runs; final outcomes %s; ingredients %s"
        % (len(runs), dict(sorted(outcomes.items())), dict(gen.kinds.most_common())))
    assert not problems, "%s\n%s\nruns:\n  %s" % (replay, "\n".join(problems), "\n  ".join(runs))
