"""Fleet-scale behaviour of the fake Microsoft cloud (fake_microsoft.py).

The fleet benchmark (tests/bench/fleet.py, docs/scaling.md "The fleet
benchmark") runs a thousand mailboxes against the fake with the round-trip
time of the real Graph added.  This module holds what that needs, so that
fake_microsoft.py only has small hooks:

* an added latency on every Graph round trip (`--graph-latency-ms N`, or
  `POST /_control/latency {"graph_ms": N}`): the outer HTTP request sleeps
  N ms before it is served, outside the fake's lock, so concurrent requests
  overlap as they do at Graph; the requests inside a `$batch` add nothing of
  their own (the batch is one round trip);
* request counters (`GET /_control/fleet`): Graph requests per mailbox user
  (every request but a `$batch` envelope counts, inner ones included, as
  Graph's throttling counts them), round trips, latencies applied, the most
  round trips in flight at once, and the CPU time the fake's threads spent
  serving Graph (the fake's own work, without the added sleep), so a
  benchmark can tell whether the fake kept up;
* a listen backlog for many connections opened at once, and TCP_NODELAY
  (Server);
* `POST /_control/reset` puts the latency back to the start-up value and
  zeroes the counters.

Stdlib only, like fake_microsoft.py.  This module does not import
fake_microsoft (run as a script that module is `__main__`, and a second copy
would have its own state); it gets the fake passed in.
"""
from __future__ import annotations

import http.server
import socket
import threading
import time


class Server(http.server.ThreadingHTTPServer):
    """The fake's HTTP server: a thread per connection (keep-alive: the
    handler speaks HTTP/1.1), a listen backlog for a fleet's scanners (the
    default 5 drops connections opened at once, and the client's retry a
    second later looks like a slow Graph), no Nagle delay."""
    request_queue_size = 256
    daemon_threads = True

    def get_request(self):
        # The handler writes an answer's head and body separately: without
        # TCP_NODELAY the body waits for the client's delayed ACK, ~40 ms
        # a round trip that Graph does not have.
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


class Fleet:
    """Latency and counters of one FakeMicrosoft (its attribute `fleet`)."""

    def __init__(self, graph_latency_ms=0):
        self.start_latency_ms = self._ms(graph_latency_ms)
        self.lock = threading.Lock()    # its own: never held while the fake's lock is
        self.reset()

    @staticmethod
    def _ms(value):
        ms = int(value or 0)
        if not 0 <= ms <= 60000:
            raise ValueError("graph latency must be 0..60000 ms")
        return ms

    def reset(self):
        with self.lock:
            self.latency_ms = self.start_latency_ms
            self.by_user: dict[str, int] = {}
            self.round_trips = 0
            self.requests = 0
            self.delayed = 0
            self.inflight = 0
            self.inflight_max = 0
            self.cpu_seconds = 0.0

    def begin(self, req):
        """Called first for every Graph request; sleeps the added latency for
        a round trip (an outer request), not for a $batch's inner requests.
        Returns what end() needs."""
        outer = not getattr(req, "inner", False)
        if outer:
            with self.lock:
                self.inflight += 1
                self.inflight_max = max(self.inflight_max, self.inflight)
                delay = self.latency_ms
                if delay:
                    self.delayed += 1
            if delay:
                time.sleep(delay / 1000)
        return outer, time.thread_time()

    def end(self, req, log, started):
        outer, cpu0 = started
        batch = req.path.endswith("/$batch")
        with self.lock:
            if outer:
                self.inflight -= 1
                self.round_trips += 1
                # an outer request's thread also ran its batch's inner ones
                # (or waited for them): its CPU time is the request's
                self.cpu_seconds += time.thread_time() - cpu0
            if not batch:
                self.requests += 1
                user = (log.get("user") or "-").lower()
                self.by_user[user] = self.by_user.get(user, 0) + 1

    def public(self):
        with self.lock:
            return {"graph_latency_ms": self.latency_ms, "round_trips": self.round_trips,
                    "requests": self.requests, "delayed": self.delayed,
                    "inflight": self.inflight, "inflight_max": self.inflight_max,
                    "cpu_seconds": round(self.cpu_seconds, 6), "by_user": dict(self.by_user)}


def ctl_latency(fake, b):
    """{"graph_ms": N} -> the counters; the latency until the next reset."""
    ms = Fleet._ms(b.get("graph_ms", 0))
    with fake.fleet.lock:
        fake.fleet.latency_ms = ms
    return fake.fleet.public()


def ctl_fleet(fake, b):
    """The counters (see the module's docstring)."""
    return fake.fleet.public()


# merged into fake_microsoft.CONTROL: (method, name) -> fn(fake, body)
CONTROL = {("POST", "latency"): ctl_latency, ("GET", "fleet"): ctl_fleet}
