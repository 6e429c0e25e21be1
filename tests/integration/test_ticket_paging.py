"""Bounded answers (issue 9): a ticket's conversation comes in pages, newest
page first, with a cursor to older ones; a page holds at most `limit`
actions and about 1 MiB of bodies, a body over 256 KiB comes cut and whole
from its own route.  The big ticket — 300 messages of 1 MiB, what a sender
can grow with `[#id]` subjects — is built straight in the database; no
answer about it may be large, nor take a postdesk-api worker above 64 MiB.
"""
import os
from pathlib import Path

import pytest
import requests

from pd_helpers import schema_checker

MIB = 1024 * 1024
BODY_MAX = 256 * 1024
PAGE_BYTES = MIB
N_BIG = 300
RSS_MAX_KB = 64 * 1024
ROOT = Path(__file__).resolve().parent.parent.parent


def build_big(stack):
    """A ticket of N_BIG 1 MiB actions: even ids ASCII, odd ids '€' (3 bytes),
    so that a cut at 256 KiB falls inside a character.  Returns its id."""
    tag = os.urandom(4).hex()
    stack.sql("INSERT INTO end_user (email, name, created_at) VALUES "
              "('big-%s@example.com', 'Big', UTC_TIMESTAMP())" % tag)
    stack.sql("INSERT INTO ticket (end_user_id, subject, created_at, updated_at) SELECT id, "
              "'Big %s', UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM end_user "
              "WHERE email = 'big-%s@example.com'" % (tag, tag))
    tid = int(stack.sql("SELECT id FROM ticket WHERE subject = 'Big %s'" % tag)[0][0])
    for first in range(1, N_BIG + 1, 50):
        stack.sql(
            "INSERT INTO ticket_action (ticket_id, kind, from_addr, to_addrs, subject, body, "
            "created_at) SELECT %d, 'email_in', 'big@example.com', REPEAT('to@example.com, ', "
            "2000), CONCAT('[#%d] part ', seq), CONCAT(seq, ':', IF(seq %% 2 = 0, "
            "REPEAT('x', %d), REPEAT('€', %d))), UTC_TIMESTAMP() FROM seq_%d_to_%d"
            % (tid, tid, MIB, MIB // 3, first, first + 49))
    return tid


@pytest.fixture(scope="module")
def big(stack):
    tid = build_big(stack)
    yield tid
    stack.sql("DELETE FROM ticket_action WHERE ticket_id = %d" % tid)


def worker_pids(stack):
    with open(stack.run / "api.pid") as f:
        return [int(p) for p in f.read().split()]


def vm_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for %d" % (field, pid))


def check_page(actions, limit):
    assert 1 <= len(actions) <= limit
    ids = [a["id"] for a in actions]
    assert ids == sorted(ids), "oldest first within a page"
    assert sum(len(a["body"].encode()) for a in actions) <= PAGE_BYTES
    for a in actions:
        assert len(a["body"].encode()) <= BODY_MAX and a["body_size"] > MIB
        assert a["body_truncated"] is True
        assert a["body_url"].endswith("/messages/%d/body" % a["id"])
        assert len(a["to"]) == 16384  # addresses cut too


def test_big_ticket_is_answered_in_bounded_pages(big, admin_key, stack):
    pids = worker_pids(stack)
    check = schema_checker(stack)
    r = admin_key.get("/api/tickets/%d" % big, timeout=60)
    check("GET", "/api/tickets/{id}", r)
    assert len(r.content) < 2 * MIB, len(r.content)
    t = r.json()
    assert t["message_count"] == N_BIG
    first = t["actions"]
    check_page(first, 20)
    newest = int(stack.sql("SELECT MAX(id) FROM ticket_action WHERE ticket_id = %d" % big)[0][0])
    assert first[-1]["id"] == newest
    # A cut falls on a character: the '€' bodies are whole characters.
    odd = [a for a in first if a["body"].split(":")[0].isdigit() and int(a["body"].split(":")[0]) % 2]
    assert odd and all(set(a["body"].split(":", 1)[1]) == {"€"} for a in odd)

    seen, cursor, pages, biggest = [a["id"] for a in first], t["actions_next_cursor"], 1, len(r.content)
    while cursor:
        r = admin_key.get("/api/tickets/%d/messages?cursor=%s&limit=100" % (big, cursor), timeout=60)
        check("GET", "/api/tickets/{id}/messages", r)
        biggest = max(biggest, len(r.content))
        page = r.json()
        check_page(page["items"], 100)
        assert max(a["id"] for a in page["items"]) < min(seen)
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
        assert pages <= N_BIG
    assert sorted(seen) == sorted(set(seen)) and len(seen) == N_BIG
    assert biggest < 2 * MIB, biggest

    # The whole body, from its own route, as text.
    a = first[0]
    r = admin_key.get(a["body_url"], timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "nosniff" in r.headers["X-Content-Type-Options"] and "sandbox" in r.headers["Content-Security-Policy"]
    assert len(r.content) == a["body_size"] and r.content.decode().startswith(a["body"])

    assert pids == worker_pids(stack)  # no worker died on the way


def test_no_worker_goes_above_64_mib_on_the_big_ticket(new_stack):
    """Memory is measured on the release build (make test builds it too): a
    sanitizer build keeps freed memory in quarantine, so its RSS says nothing
    about what a request loads."""
    s = new_stack(workers=2, bin_dir=ROOT / "build")
    s.start()
    key = s.admin("create-api-key", "rss-" + os.urandom(3).hex(), "--role", "admin").stdout.strip()
    tid = build_big(s)

    def get(path):
        r = requests.get(s.base + path, headers={"Authorization": "Bearer " + key},
                         verify=s.cacert, timeout=60)
        assert r.status_code == 200, r.text
        return r

    t = get("/api/tickets/%d" % tid).json()
    cursor, pages = t["actions_next_cursor"], 1
    while cursor:
        page = get("/api/tickets/%d/messages?cursor=%s&limit=100" % (tid, cursor)).json()
        for a in page["items"][:3]:
            assert len(get(a["body_url"]).content) == a["body_size"]
        cursor, pages = page["next_cursor"], pages + 1
    assert pages > 3
    hwm = {pid: vm_kb(pid, "VmHWM") for pid in worker_pids(s)}
    print("\npostdesk-api VmHWM after the big ticket (release build): %s kB" % hwm)
    assert max(hwm.values()) < RSS_MAX_KB, hwm


def test_small_pages_walk_every_action_once(big, admin_key):
    seen, cursor = [], ""
    while True:
        page = admin_key.get("/api/tickets/%d/messages?limit=3&cursor=%s" % (big, cursor),
                             timeout=60).json()
        assert len(page["items"]) == 3 or page["next_cursor"] is None
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == N_BIG


def test_a_small_ticket_is_one_page_of_whole_bodies(stack, admin_key):
    tag = os.urandom(4).hex()
    stack.sql("INSERT INTO end_user (email, name, created_at) VALUES "
              "('small-%s@example.com', '', UTC_TIMESTAMP())" % tag)
    stack.sql("INSERT INTO ticket (end_user_id, subject, created_at, updated_at) SELECT id, "
              "'Small %s', UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM end_user "
              "WHERE email = 'small-%s@example.com'" % (tag, tag))
    tid = int(stack.sql("SELECT id FROM ticket WHERE subject = 'Small %s'" % tag)[0][0])
    stack.sql("INSERT INTO ticket_action (ticket_id, kind, body, created_at) SELECT %d, 'note', "
              "CONCAT('note ', seq), UTC_TIMESTAMP() FROM seq_1_to_3" % tid)
    t = admin_key.get("/api/tickets/%d" % tid).json()
    assert [a["body"] for a in t["actions"]] == ["note 1", "note 2", "note 3"]
    assert t["actions_next_cursor"] is None
    assert all(a["body_truncated"] is False and a["body_url"] is None for a in t["actions"])
    assert [a["body_size"] for a in t["actions"]] == [6, 6, 6]
    page = admin_key.get("/api/tickets/%d/messages?limit=2" % tid).json()
    assert [a["body"] for a in page["items"]] == ["note 2", "note 3"] and page["next_cursor"]
    rest = admin_key.get("/api/tickets/%d/messages?limit=2&cursor=%s" % (tid, page["next_cursor"])).json()
    assert [a["body"] for a in rest["items"]] == ["note 1"] and rest["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "cursor=abc", "cursor=1.2", "cursor=-1"])
def test_messages_rejects_bad_parameters(big, admin_key, pd, query):
    pd.check_problem(admin_key.get("/api/tickets/%d/messages?%s" % (big, query)), 400)


def test_messages_of_unknown_ticket_or_action_are_404(big, admin_key, pd, stack):
    pd.check_problem(admin_key.get("/api/tickets/999999999/messages"), 404)
    pd.check_problem(admin_key.get("/api/tickets/%d/messages/999999999/body" % big), 404)
    other = stack.sql("SELECT MIN(id) FROM ticket_action WHERE ticket_id <> %d" % big)[0][0]
    if other not in (None, "NULL"):  # an action of another ticket is not this one's
        pd.check_problem(admin_key.get("/api/tickets/%d/messages/%s/body" % (big, other)), 404)
