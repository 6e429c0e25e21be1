"""Triage of the hostile-mail corpus: each case ALONE in its own Inbox, then
one ordinary mail; the scanner runs until the case settles (at most
intake_attempts runs).  Not part of `make test` (the whole corpus in one
Inbox is, tests/integration/test_hostile_mail.py); run it to see which cases
fail and why, one test per case:

    make hostile-triage            or
    POSTDESK_BIN=$PWD/build/san /usr/bin/python3 -m pytest -q \
        tests/integration/triage_hostile.py [-k CASE]

A failure names the case, how its row ended, the row's error/trace and the
scanner's log lines of that run.
"""
import secrets

import pytest

import hostile_ledger as L
import hostile_mail as H
from test_hostile_mail import ATTEMPTS, add_rule, case_problems, run_problems
from test_scan import scan, world  # noqa: F401


@pytest.mark.parametrize("c", H.CASES, ids=[c.name for c in H.CASES])
def test_case_alone(world, stack, fake, c):
    w = world(first_scan="all")
    ctx = H.Ctx(mailbox=w.address, tag=secrets.token_hex(4))
    rule = add_rule(w)
    problems, logs = [], []
    try:
        sent = {}
        if c.expect == H.UPDATE:       # the thread's parent first
            p = next(x for x in H.CASES if x.name == "thread_parent")
            sent[p.name] = fake.ctl("messages", dict(p.body(ctx), mailbox=w.address))
        sent[c.name] = fake.ctl("messages", dict(c.body(ctx), mailbox=w.address))
        control = fake.ctl("messages", dict(H.control_mail(ctx), mailbox=w.address))
        ledger = L.Ledger(stack, w.mid)
        env = dict(L.ENV, POSTDESK_INTAKE_ATTEMPTS=str(ATTEMPTS))
        log = stack.log_dir / "postdesk-scan.log"
        for n in range(1, ATTEMPTS + 1):
            start = log.stat().st_size if log.exists() else 0
            r = scan(stack, mailbox=w.mid, env=env, timeout=600)
            with open(log, "rb") as f:
                f.seek(start)
                logs += [ln for ln in f.read().decode("utf-8", "replace").splitlines()
                         if not ln.startswith("fake-microsoft")]
            problems += [p for p in run_problems(r, w, n) if "failed N" not in p]
            chains = ledger.rows()
            if n == 1 and L.final(chains.get(control["immutable_id"], [])) != "ticket_created":
                problems.append("the mail after it is not a ticket after run 1")
            if not w.inbox() and all(L.final(chains.get(m["immutable_id"], [])) in L.FINAL
                                     for m in sent.values()):
                break
        parents = {"references_10000": (chains.get(sent.get("thread_parent", {}).get("immutable_id"))
                                        or [{"ticket_id": None}])[-1]["ticket_id"]}
        problems += case_problems(c, sent[c.name], chains, ledger, w.folders(), parents)
        if w.inbox():
            problems.append("%d left in the Inbox" % len(w.inbox()))
    finally:
        w.browser.delete("/api/rules/%d" % rule)
    assert not problems, "%s [%s]: %s\nscanner log:\n%s" % (
        c.name, c.category, "\n".join(problems), "\n".join(dict.fromkeys(logs))[-3000:])
