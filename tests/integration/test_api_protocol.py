"""HTTP plumbing: problems, request ids, routing, bodies, content types."""
import json
import time

import pytest

from pd_helpers import freshen


def test_unknown_path_is_404_problem(anon, admin_key, pd):
    for path in ("/api/nope", "/api/mailboxes/1/extra", "/api/mailboxes/", "/api/", "/api/health/"):
        p = pd.check_problem(anon.get(path), 404)
        assert p["type"] == "urn:postdesk:problem:not-found"
        pd.check_problem(admin_key.get(path), 404)


@pytest.mark.parametrize("method,path,allow", [
    ("PUT", "/api/mailboxes", "GET, POST"),
    ("DELETE", "/api/mailboxes", "GET, POST"),
    ("POST", "/api/mailboxes/1", "GET, PATCH, DELETE"),
    ("PUT", "/api/mailboxes/1", "GET, PATCH, DELETE"),
    ("PATCH", "/api/session", "POST, GET, DELETE"),
    ("POST", "/api/health", "GET"),
    ("DELETE", "/api/openapi.json", "GET"),
    ("POST", "/api/azure-setup", "GET"),
    ("DELETE", "/api/audit-log", "GET"),
    ("GET", "/api/mailboxes/1/authorize", "POST"),
    ("DELETE", "/api/mailboxes/1/disconnect", "POST"),
    ("PATCH", "/api/mailboxes/1/test", "POST"),
])
def test_wrong_method_is_405_with_allow(anon, pd, method, path, allow):
    r = anon.request(method, path, json={})
    p = pd.check_problem(r, 405)
    assert p["type"] == "urn:postdesk:problem:method-not-allowed"
    assert r.headers["Allow"] == allow


@pytest.mark.parametrize("mid", ["abc", "0", "01", "-1", "1.0", "1e3", "%20", "99999999999999999999",
                                 "999999999999999999"])
def test_bad_or_unknown_id_is_404(admin_key, pd, mid):
    path = "/api/mailboxes/" + mid
    pd.check_problem(admin_key.get(path), 404)
    pd.check_problem(admin_key.patch(path, json={"name": "x"}), 404)
    pd.check_problem(admin_key.delete(path), 404)


@pytest.mark.parametrize("action", ["authorize", "disconnect", "test"])
def test_connect_actions_on_bad_or_unknown_id_are_404(admin_key, pd, action):
    for mid in ("abc", "0", "999999999999999999"):
        pd.check_problem(admin_key.post("/api/mailboxes/%s/%s" % (mid, action)), 404)


def test_connection_test_of_an_unconnected_mailbox_is_409(admin_key, make_mailbox, pd):
    mb = make_mailbox()
    p = pd.check_problem(admin_key.post("/api/mailboxes/%d/test" % mb["id"]), 409)
    assert "not connected" in p["detail"]
    assert admin_key.get("/api/mailboxes/%d" % mb["id"]).json() == mb


def test_ids_need_authentication_first(anon, pd):
    # Unauthenticated callers learn nothing about ids.
    pd.check_problem(anon.get("/api/mailboxes/abc"), 401)
    pd.check_problem(anon.get("/api/mailboxes/1"), 401)


def test_malformed_json_is_400(admin_key, make_mailbox, pd):
    mb = make_mailbox()
    hdr = {"Content-Type": "application/json"}
    for data in ("{", "", "{\"name\": }", "[1, 2]", "\"text\"", "null", "{\"name\": \"a\"} x",
                 b"{\"name\": \"\xff\"}"):
        p = pd.check_problem(admin_key.post("/api/mailboxes", data=data, headers=hdr), 400)
        assert p["type"] == "urn:postdesk:problem:bad-request"
        pd.check_problem(admin_key.patch("/api/mailboxes/%d" % mb["id"], data=data, headers=hdr), 400)


def test_malformed_json_is_not_echoed(admin_key, pd):
    """The parser's complaint must not quote the body: it may hold the secret."""
    secret = "Vq3." + "k9ZxW2mR7pLs"
    hdr = {"Content-Type": "application/json"}
    for data in ('{"name": "x", "secret": "%s' % secret, '{"name": "x", "secret": %s}' % secret,
                 '{"secret": "%s" "name": 1}' % secret):
        p = pd.check_problem(admin_key.post("/api/mailboxes", data=data, headers=hdr), 400)
        assert "not valid JSON" in p["detail"] and "line 1" in p["detail"], p
        assert secret[:8] not in p["detail"] and secret[-8:] not in p["detail"], p


def test_head_is_get_without_a_body(stack, anon, admin_key):
    freshen(stack)  # mailboxes other tests left behind do not decide health
    for c, path in ((anon, "/api/health"), (anon, "/api/openapi.json"), (admin_key, "/api/mailboxes")):
        r = c.request("HEAD", path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.content == b""
        assert r.headers["Content-Type"] == "application/json"
        assert int(r.headers["Content-Length"]) == len(c.get(path).content) or path == "/api/mailboxes"
    assert anon.request("HEAD", "/api/mailboxes").status_code == 401


def test_duplicate_key_is_400(admin_key, make_mailbox, pd):
    body = pd.mailbox_input()
    raw = json.dumps(body)[:-1] + ', "name": "Other"}'
    p = pd.check_problem(admin_key.post("/api/mailboxes", data=raw,
                                        headers={"Content-Type": "application/json"}), 400)
    assert "duplicate" in p["detail"]
    names = [m["name"] for m in admin_key.get("/api/mailboxes").json()["items"]]
    assert body["name"] not in names and "Other" not in names
    mb = make_mailbox()
    p = pd.check_problem(admin_key.patch("/api/mailboxes/%d" % mb["id"], data='{"cloud": "china", "cloud": "global"}',
                                         headers={"Content-Type": "application/json"}), 400)
    assert admin_key.get("/api/mailboxes/%d" % mb["id"]).json()["cloud"] == "global"


def test_body_over_64_kib_is_413(admin_key, anon, make_mailbox, pd):
    big = json.dumps(pd.mailbox_input(processed_folder="x" * (64 * 1024)))
    assert len(big) > 64 * 1024
    p = pd.check_problem(admin_key.post("/api/mailboxes", data=big,
                                        headers={"Content-Type": "application/json"}), 413)
    assert p["type"] == "urn:postdesk:problem:too-large"
    mb = make_mailbox()
    pd.check_problem(admin_key.patch("/api/mailboxes/%d" % mb["id"], data=big,
                                     headers={"Content-Type": "application/json"}), 413)
    pd.check_problem(anon.post("/api/session", data=big, headers={"Content-Type": "application/json"}), 413)
    # Exactly 64 KiB is read (and then judged on its content).
    exact = json.dumps({"name": "x" * (64 * 1024 - 12)})
    assert len(exact) == 64 * 1024
    pd.check_problem(admin_key.patch("/api/mailboxes/%d" % mb["id"], data=exact,
                                     headers={"Content-Type": "application/json"}), 422, ["name"])


def test_body_over_64_kib_without_length_is_413(admin_key, pd):
    def chunks():
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'
    pd.check_problem(admin_key.post("/api/mailboxes", data=chunks(),
                                    headers={"Content-Type": "application/json"}), 413)


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "application/jsonp", "application/json-patch+json",
                                   "multipart/form-data; boundary=x", "text/json"])
def test_wrong_content_type_is_415(admin_key, make_mailbox, pd, ctype):
    body = json.dumps(pd.mailbox_input()).encode()
    headers = {"Content-Type": ctype} if ctype else {}
    p = pd.check_problem(admin_key.post("/api/mailboxes", data=body, headers=headers), 415)
    assert p["type"] == "urn:postdesk:problem:unsupported-media-type"
    mb = make_mailbox()
    pd.check_problem(admin_key.patch("/api/mailboxes/%d" % mb["id"], data=body, headers=headers), 415)


def test_json_with_charset_is_accepted(admin_key, pd):
    r = admin_key.post("/api/mailboxes", data=json.dumps(pd.mailbox_input()).encode(),
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_every_response_has_a_request_id(stack, anon, admin_key, pd):
    ids = set()
    for r in (anon.get("/api/health"), anon.get("/api/openapi.json"), admin_key.get("/api/mailboxes"),
              anon.get("/api/nope"), anon.get("/api/session")):
        rid = r.headers.get("X-Request-Id", "")
        assert len(rid) >= 8 and "," not in rid, r.headers
        ids.add(rid)
    assert len(ids) == 5
    # The same id is in the program's log line for the request.
    rid = pd.check_problem(anon.get("/api/no-such-thing"), 404)["request_id"]
    deadline = time.monotonic() + 5
    while not [line for line in pd.text_of(stack.logs()).splitlines()
               if rid in line and "GET /api/no-such-thing -> 404" in line]:
        assert time.monotonic() < deadline, "request id %s not logged" % rid
        time.sleep(0.05)


def test_json_answers_are_not_cached(admin_key):
    r = admin_key.get("/api/mailboxes")
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"] == "application/json"
