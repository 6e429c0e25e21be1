"""Mail arriving at random mailboxes at random moments (the fleet benchmark).

schedule() draws the arrivals of a Poisson process: exponential gaps of mean
1/rate seconds, each arrival at a mailbox drawn uniformly, from a seeded
generator so a run can be repeated.  deliver() puts them in the fake
Microsoft cloud's Inboxes (POST /_control/messages) at those moments and
records when each one was there.
"""
from __future__ import annotations

import json
import random
import time
import urllib.request


def schedule(rate, seconds, mailboxes, seed=13):
    """[(offset in seconds from the start, mailbox index)], offsets ascending,
    all below `seconds`: a Poisson process of `rate` arrivals a second over
    `mailboxes` mailboxes."""
    if rate <= 0 or seconds <= 0 or mailboxes <= 0:
        return []
    rng = random.Random(seed)
    out, t = [], rng.expovariate(rate)
    while t < seconds:
        out.append((t, rng.randrange(mailboxes)))
        t += rng.expovariate(rate)
    return out


class Arrival:
    __slots__ = ("n", "address", "due", "at", "immutable_id")

    def __init__(self, n, address, due):
        self.n, self.address, self.due = n, address, due
        self.at = None             # wall-clock time the message was in the Inbox
        self.immutable_id = None


def subject_of(n):
    return "Fleet mail %d" % n


def deliver(fake_url, plan, addresses, start, stop=None):
    """Put each planned message in its mailbox's Inbox at wall-clock time
    start + offset (later if the fake answers late); returns the Arrivals.
    `at` is taken when the fake has answered, i.e. when a scan can see it.
    stop: a threading.Event that ends the delivery early."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    out = []
    for n, (offset, index) in enumerate(plan):
        a = Arrival(n, addresses[index], start + offset)
        wait = a.due - time.time()
        if wait > 0 and stop is not None and stop.wait(wait):
            break
        if wait > 0 and stop is None:
            time.sleep(wait)
        body = {"mailbox": a.address, "subject": subject_of(n),
                "body_text": "Hello, this is mail %d of the fleet benchmark.\n" % n,
                "from": "customer%d@example.net" % n, "to": [a.address]}
        rq = urllib.request.Request(fake_url + "/_control/messages", data=json.dumps(body).encode(),
                                    method="POST", headers={"Content-Type": "application/json"})
        with opener.open(rq, timeout=30) as r:
            a.immutable_id = json.loads(r.read())["immutable_id"]
        a.at = time.time()
        out.append(a)
    return out
