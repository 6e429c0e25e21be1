"""No lost updates (issue 9): PATCH /api/mailboxes/{id} and /api/rules/{id}
change only the fields sent even when two edits arrive at once, answer with
an ETag, and honour an optional If-Match (412 when the row changed
meanwhile)."""
import threading

import pytest

from pd_helpers import Client, check_problem, unique

RULE = {"conditions": [{"field": "subject", "op": "contains", "value": "x"}],
        "actions": {"priority": "high"}}

PAIRS = 20


def both_at_once(first, second):
    """Run first() and second() in two threads released together; returns
    their results."""
    gate = threading.Barrier(2)
    out = [None, None]

    def run(i, fn):
        gate.wait()
        out[i] = fn()
    ts = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate((first, second))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


@pytest.fixture
def two_callers(stack, api_key):
    """Two admin API clients, each on its own connection."""
    return [Client(stack, {"Authorization": "Bearer " + api_key}) for _ in range(2)]


@pytest.fixture
def rule(admin_key):
    r = admin_key.post("/api/rules", json=dict(RULE, name=unique("Race")))
    assert r.status_code == 201, r.text
    yield r.json()
    admin_key.delete("/api/rules/%d" % r.json()["id"])


def race(path, a, b, fields):
    """PAIRS times, caller a PATCHes fields[0] and b fields[1] of path at the
    same time; returns the pairs where a change was lost."""
    fa, fb = fields
    lost = []
    for i in range(PAIRS):
        va, vb = fa[1](i), fb[1](i)
        ra, rb = both_at_once(lambda: a.patch(path, json={fa[0]: va}),
                              lambda: b.patch(path, json={fb[0]: vb}))
        assert ra.status_code == 200 and rb.status_code == 200, (ra.text, rb.text)
        now = a.get(path).json()
        if now[fa[0]] != va or now[fb[0]] != vb:
            lost.append((i, now[fa[0]], va, now[fb[0]], vb))
    return lost


def test_parallel_mailbox_patches_lose_nothing(make_mailbox, two_callers):
    mid = make_mailbox()["id"]
    lost = race("/api/mailboxes/%d" % mid, *two_callers,
                (("ack_subject", lambda i: "Pair %d [#{ticket}]" % i),
                 ("ack_per_hour", lambda i: i + 1)))
    assert lost == [], "%d of %d pairs lost a change: %s" % (len(lost), PAIRS, lost)


def test_parallel_rule_patches_lose_nothing(rule, two_callers):
    lost = race("/api/rules/%d" % rule["id"], *two_callers,
                (("name", lambda i: "Race %d" % i), ("position", lambda i: 100 + i)))
    assert lost == [], "%d of %d pairs lost a change: %s" % (len(lost), PAIRS, lost)


def etag_checks(client, path, field, values):
    """GET's ETag, If-Match fresh → 200 with a new ETag, stale → 412 and
    nothing written, "*" → 200, weak → 412, none → 200."""
    r = client.get(path)
    assert r.status_code == 200
    tag = r.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"'), tag

    r = client.patch(path, json={field: values[0]}, headers={"If-Match": tag})
    assert r.status_code == 200, r.text
    fresh = r.headers["ETag"]
    assert fresh != tag and r.json()[field] == values[0]
    assert client.get(path).headers["ETag"] == fresh

    r = client.patch(path, json={field: values[1]}, headers={"If-Match": tag})
    p = check_problem(r, 412)
    assert p["type"] == "urn:postdesk:problem:changed"
    assert "Changed elsewhere" in p["detail"]
    assert r.headers["ETag"] == fresh
    now = client.get(path)
    assert now.json()[field] == values[0] and now.headers["ETag"] == fresh

    r = client.patch(path, json={field: values[1]}, headers={"If-Match": "W/" + fresh})
    check_problem(r, 412)
    r = client.patch(path, json={field: values[1]}, headers={"If-Match": '"1", ' + fresh})
    assert r.status_code == 200, r.text
    r = client.patch(path, json={field: values[2]}, headers={"If-Match": "*"})
    assert r.status_code == 200, r.text
    r = client.patch(path, json={field: values[0]})  # If-Match stays optional
    assert r.status_code == 200 and r.json()[field] == values[0], r.text


def test_mailbox_etag_and_if_match(make_mailbox, admin_key):
    mb = make_mailbox()
    etag_checks(admin_key, "/api/mailboxes/%d" % mb["id"], "ack_per_hour", [7, 8, 9])


def test_rule_etag_and_if_match(rule, admin_key):
    etag_checks(admin_key, "/api/rules/%d" % rule["id"], "name", ["One", "Two", "Three"])


def test_created_answers_carry_the_etag(make_mailbox, admin_key, pd):
    r = admin_key.post("/api/mailboxes", json=pd.mailbox_input())
    assert r.status_code == 201 and r.headers["ETag"] == admin_key.get(r.headers["Location"]).headers["ETag"]
    r = admin_key.post("/api/rules", json=dict(RULE, name=unique("Tag")))
    assert r.status_code == 201 and r.headers["ETag"] == admin_key.get(r.headers["Location"]).headers["ETag"]
    admin_key.delete(r.headers["Location"])


def test_if_match_on_a_missing_row_is_404(admin_key):
    for path in ("/api/mailboxes/999999999", "/api/rules/999999999"):
        r = admin_key.patch(path, json={"name": "x"}, headers={"If-Match": '"1"'})
        check_problem(r, 404)


def test_portal_session_if_match(stack, admin_session, make_mailbox):
    """The portal's way: cookie + CSRF token + If-Match from the GET."""
    path = "/api/mailboxes/%d" % make_mailbox()["id"]
    tag = admin_session.get(path).headers["ETag"]
    assert admin_session.patch(path, json={"ack_per_hour": 3}, headers={"If-Match": tag}).status_code == 200
    r = admin_session.patch(path, json={"ack_per_hour": 4}, headers={"If-Match": tag})
    assert r.status_code == 412, r.text
