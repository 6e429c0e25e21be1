"""docs/openapi.json is served, describes exactly the routes of
postdesk-api, and documents every error the other tests provoke."""
import json
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

# (method, path, status) the other test_api_* modules assert.
OBSERVED = [
    ("GET", "/api/health", 503),
    ("POST", "/api/session", 400), ("POST", "/api/session", 401), ("POST", "/api/session", 413),
    ("POST", "/api/session", 415), ("POST", "/api/session", 422), ("POST", "/api/session", 429),
    ("GET", "/api/session", 401),
    ("DELETE", "/api/session", 400), ("DELETE", "/api/session", 401), ("DELETE", "/api/session", 403),
    ("GET", "/api/azure-setup", 403),
    ("GET", "/api/mailboxes", 401), ("GET", "/api/mailboxes", 403), ("GET", "/api/mailboxes", 503),
    ("POST", "/api/mailboxes", 400), ("POST", "/api/mailboxes", 401), ("POST", "/api/mailboxes", 403),
    ("POST", "/api/mailboxes", 409), ("POST", "/api/mailboxes", 413), ("POST", "/api/mailboxes", 415),
    ("POST", "/api/mailboxes", 422),
    ("GET", "/api/mailboxes/{id}", 401), ("GET", "/api/mailboxes/{id}", 403),
    ("GET", "/api/mailboxes/{id}", 404),
    ("PATCH", "/api/mailboxes/{id}", 400), ("PATCH", "/api/mailboxes/{id}", 403),
    ("PATCH", "/api/mailboxes/{id}", 404), ("PATCH", "/api/mailboxes/{id}", 409),
    ("PATCH", "/api/mailboxes/{id}", 413), ("PATCH", "/api/mailboxes/{id}", 415),
    ("PATCH", "/api/mailboxes/{id}", 422),
    ("DELETE", "/api/mailboxes/{id}", 403), ("DELETE", "/api/mailboxes/{id}", 404),
    ("POST", "/api/mailboxes/{id}/authorize", 403), ("POST", "/api/mailboxes/{id}/authorize", 404),
    ("POST", "/api/mailboxes/{id}/disconnect", 403), ("POST", "/api/mailboxes/{id}/disconnect", 404),
    ("POST", "/api/mailboxes/{id}/test", 403), ("POST", "/api/mailboxes/{id}/test", 404),
    ("POST", "/api/mailboxes/{id}/test", 409),
    ("GET", "/api/audit-log", 400), ("GET", "/api/audit-log", 403),
]
# 405 is about a path, not an operation: (path, method not on it).
OBSERVED_405 = [("/api/mailboxes", "PUT"), ("/api/mailboxes", "DELETE"), ("/api/mailboxes/{id}", "POST"),
                ("/api/mailboxes/{id}", "PUT"), ("/api/session", "PATCH"), ("/api/health", "POST"),
                ("/api/openapi.json", "DELETE"), ("/api/azure-setup", "POST"), ("/api/audit-log", "DELETE"),
                ("/api/mailboxes/{id}/authorize", "GET"), ("/api/mailboxes/{id}/disconnect", "DELETE"),
                ("/api/mailboxes/{id}/test", "PATCH")]


@pytest.fixture(scope="module")
def doc(stack, pd):
    r = pd.Client(stack).get("/api/openapi.json")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def routes():
    binary = os.path.join(os.environ.get("POSTDESK_BIN", os.path.join(ROOT, "build")), "postdesk-api")
    out = subprocess.run([binary, "--routes"], capture_output=True, text=True, check=True).stdout
    pairs = {tuple(line.split(" ")) for line in out.splitlines()}
    assert pairs and all(len(p) == 2 for p in pairs), out
    return pairs


def deref(doc, obj):
    """Follow a local $ref chain."""
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        assert ref.startswith("#/"), ref
        target = doc
        for part in ref[2:].split("/"):
            target = target[part]
        obj = target
    return obj


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method.upper(), path, op


def test_served_document_is_the_built_one(doc):
    with open(os.path.join(ROOT, "docs", "openapi.json")) as f:
        assert json.load(f) == doc
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] and doc["info"]["version"]


def test_paths_and_methods_equal_the_route_table(doc):
    assert {(m, p) for m, p, _ in operations(doc)} == routes()


def test_every_ref_resolves_and_operations_are_complete(doc):
    def walk(o):
        if isinstance(o, dict):
            if "$ref" in o:
                deref(doc, o)
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(doc)
    ids = set()
    for method, path, op in operations(doc):
        assert op["operationId"] not in ids
        ids.add(op["operationId"])
        assert op["responses"], (method, path)
        for status, resp in op["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", status), (method, path, status)
            resp = deref(doc, resp)
            assert resp["description"]
            assert "X-Request-Id" in resp.get("headers", {}), (method, path, status)
            if int(status) >= 400:
                assert list(resp["content"]) == ["application/problem+json"], (method, path, status)
                assert deref(doc, resp["content"]["application/problem+json"]["schema"]) == \
                    doc["components"]["schemas"]["Problem"]
        for name in re.findall(r"{(\w+)}", path):
            params = doc["paths"][path].get("parameters", []) + op.get("parameters", [])
            assert any(deref(doc, p)["name"] == name and deref(doc, p)["in"] == "path" for p in params)
        if "requestBody" in op:
            schema = deref(doc, op["requestBody"]["content"]["application/json"]["schema"])
            assert schema["additionalProperties"] is False, (method, path)


def test_security_matches_route_access(doc):
    public = {("GET", "/api/health"), ("GET", "/api/openapi.json"), ("POST", "/api/session")}
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie", "name": "pd_session"}
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token"
    assert schemes["apiKey"]["type"] == "http" and schemes["apiKey"]["scheme"] == "bearer"
    for method, path, op in operations(doc):
        sec = op.get("security", doc.get("security"))
        if (method, path) in public:
            assert sec == [], (method, path)
            continue
        assert {"apiKey": []} in sec, (method, path)
        cookie = [s for s in sec if "session" in s]
        assert cookie, (method, path)
        assert ("csrf" in cookie[0]) == (method != "GET"), (method, path)
        assert "401" in op["responses"], (method, path)


def test_every_observed_error_is_documented(doc):
    missing = [(m, p, s) for m, p, s in OBSERVED
               if str(s) not in doc["paths"][p][m.lower()]["responses"]]
    assert not missing, missing
    for path, method in OBSERVED_405:
        item = doc["paths"][path]
        assert method.lower() not in item
        for m in METHODS & set(item):
            resp = deref(doc, item[m]["responses"]["405"])
            assert "Allow" in resp["headers"]


def test_success_headers_are_documented(doc):
    def headers(m, p, s):
        return deref(doc, doc["paths"][p][m]["responses"][s])["headers"]
    assert "Location" in headers("post", "/api/mailboxes", "201")
    assert "Set-Cookie" in headers("post", "/api/session", "200")
    assert "Set-Cookie" in headers("delete", "/api/session", "204")
    assert "Retry-After" in headers("post", "/api/session", "429")


def test_mailbox_schema_matches_the_api(doc, make_mailbox):
    schemas = doc["components"]["schemas"]
    mb = schemas["Mailbox"]
    assert mb["properties"]["secret"]["writeOnly"] is True
    real = make_mailbox()
    readable = {k for k, v in mb["properties"].items() if not v.get("writeOnly")}
    assert readable == set(real) == set(mb["required"])
    writable = {k for k, v in mb["properties"].items() if not v.get("readOnly")}
    assert set(schemas["MailboxCreate"]["properties"]) == writable
    assert set(schemas["MailboxUpdate"]["properties"]) == writable
    assert set(schemas["MailboxCreate"]["required"]) == {"name", "client_id", "tenant_id", "secret"}
    assert "required" not in schemas["MailboxUpdate"]
    for k in ("cloud", "processed_action", "first_scan"):
        assert real[k] in mb["properties"][k]["enum"]
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "request_id"}
    assert {"errors", "guidance"} <= set(problem["properties"])
    assert deref(doc, problem["properties"]["errors"]["items"])["required"] == ["field", "message"]
