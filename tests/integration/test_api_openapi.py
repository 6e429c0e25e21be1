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
    ("PATCH", "/api/mailboxes/{id}", 412), ("PATCH", "/api/rules/{id}", 412),
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


def access():
    """(method, path) -> (level, csrf) from `postdesk-api --access`."""
    binary = os.path.join(os.environ.get("POSTDESK_BIN", os.path.join(ROOT, "build")), "postdesk-api")
    out = subprocess.run([binary, "--access"], capture_output=True, text=True, check=True).stdout
    return {(m, p): (level, csrf) for m, p, level, csrf in (line.split(" ") for line in out.splitlines())}


def test_security_matches_route_access(doc):
    table = access()
    public = {k for k, (level, _) in table.items() if level == "public"}
    assert public == {("GET", "/api/health"), ("GET", "/api/openapi.json"), ("POST", "/api/session"),
                      ("GET", "/api/sso"), ("GET", "/api/sso/start"), ("GET", "/api/sso/callback"),
                      ("POST", "/api/graph/notify"), ("POST", "/api/graph/lifecycle")}
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie",
                                  "name": "__Host-pd_session"}
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token"
    assert schemes["apiKey"]["type"] == "http" and schemes["apiKey"]["scheme"] == "bearer"
    for method, path, op in operations(doc):
        sec = op.get("security", doc.get("security"))
        if (method, path) == ("GET", "/api/health"):  # credentials optional: they add details
            assert sec == [{}, {"session": []}, {"apiKey": []}], sec
            continue
        if (method, path) in public:
            assert sec == [], (method, path)
            continue
        assert {"apiKey": []} in sec, (method, path)
        cookie = [s for s in sec if "session" in s]
        assert cookie, (method, path)
        assert ("csrf" in cookie[0]) == (table[(method, path)][1] == "csrf"), (method, path)
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
    # credential_type only when creating (PUT …/credential changes it); the
    # secret is required unless it is "certificate" (tests/integration/test_cert.py)
    assert set(schemas["MailboxCreate"]["properties"]) == writable | {"credential_type"}
    assert set(schemas["MailboxUpdate"]["properties"]) == writable
    assert set(schemas["MailboxCreate"]["required"]) == {"name", "client_id", "tenant_id"}
    assert "required" not in schemas["MailboxUpdate"]
    for k in ("cloud", "processed_action", "first_scan"):
        assert real[k] in mb["properties"][k]["enum"]
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "request_id"}
    assert {"errors", "guidance"} <= set(problem["properties"])
    assert deref(doc, problem["properties"]["errors"]["items"])["required"] == ["field", "message"]


def check_schema(doc, schema, value, where="$"):
    """A small validator for the parts of JSON Schema the document uses."""
    schema = deref(doc, schema)
    if value is None:
        assert schema.get("nullable"), "%s: null not allowed" % where
        return
    kind = schema.get("type")
    pytype = {"object": dict, "array": list, "string": str, "boolean": bool}.get(kind)
    if kind == "integer":
        assert type(value) is int, (where, value)
    elif pytype is not None:
        assert isinstance(value, pytype), (where, value)
    if "enum" in schema:
        assert value in schema["enum"], (where, value)
    if kind == "string":
        assert len(value) >= schema.get("minLength", 0), (where, value)
        assert len(value) <= schema.get("maxLength", len(value)), (where, value)
        if "pattern" in schema:
            assert re.search(schema["pattern"], value), (where, value)
    if kind == "integer" and "minimum" in schema:
        assert value >= schema["minimum"], (where, value)
    if kind == "array":
        assert len(value) >= schema.get("minItems", 0), where
        assert len(value) <= schema.get("maxItems", len(value)), where
        for i, v in enumerate(value):
            check_schema(doc, schema["items"], v, "%s[%d]" % (where, i))
    if kind == "object":
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            assert k in value, "%s: %s missing" % (where, k)
        for k, v in value.items():
            if k in props:
                assert not props[k].get("writeOnly"), "%s.%s is write-only" % (where, k)
                check_schema(doc, props[k], v, where + "." + k)
            else:
                assert schema.get("additionalProperties", True) is not False, "%s.%s undocumented" % (where, k)


def test_answers_match_their_documented_schemas(doc, stack, pd, admin_key, admin_login):
    c = pd.Client(stack)
    seen = [("POST", "/api/session", c.post("/api/session", json=dict(zip(("username", "password"),
                                                                          admin_login))))]
    c.http.headers["X-CSRF-Token"] = seen[0][2].json()["csrf_token"]
    mb = admin_key.post("/api/mailboxes", json=pd.mailbox_input(
        shared_address="help@contoso.com", secret_expires_on="2099-01-01",
        processed_action="move_to_folder", processed_folder="Done"))
    mid = mb.json()["id"]
    item = "/api/mailboxes/%d" % mid
    seen += [
        ("POST", "/api/mailboxes", mb),
        ("GET", "/api/health", c.get("/api/health")),
        ("GET", "/api/session", c.get("/api/session")),
        ("GET", "/api/session", admin_key.get("/api/session")),
        ("GET", "/api/azure-setup", c.get("/api/azure-setup")),
        ("GET", "/api/mailboxes", c.get("/api/mailboxes")),
        ("GET", "/api/mailboxes/{id}", c.get(item)),
        ("PATCH", "/api/mailboxes/{id}", c.patch(item, json={"cloud": "china"})),
        ("POST", "/api/mailboxes/{id}/authorize", c.post(item + "/authorize")),
        ("POST", "/api/mailboxes/{id}/test", c.post(item + "/test")),
        ("POST", "/api/mailboxes/{id}/disconnect", c.post(item + "/disconnect")),
        ("GET", "/api/audit-log", c.get("/api/audit-log?limit=200")),
        ("POST", "/api/mailboxes", c.post("/api/mailboxes", json={"name": ""})),
        ("POST", "/api/mailboxes", c.post("/api/mailboxes", json=pd.mailbox_input(
            name=admin_key.get(item).json()["name"]))),
        ("GET", "/api/mailboxes/{id}", c.get("/api/mailboxes/abc")),
        ("POST", "/api/session", c.post("/api/session", json={"username": "x", "password": "y"})),
        ("PATCH", "/api/session", None),
    ]
    seen[-1] = ("DELETE", "/api/mailboxes", c.delete("/api/mailboxes"))
    for method, path, r in seen:
        ops = doc["paths"].get(path, {})
        if method.lower() not in ops:  # 405: any operation of the path documents it
            op = next(v for k, v in ops.items() if k in METHODS)
        else:
            op = ops[method.lower()]
        assert str(r.status_code) in op["responses"], (method, path, r.status_code)
        resp = deref(doc, op["responses"][str(r.status_code)])
        ctype = r.headers.get("Content-Type")
        assert list(resp.get("content", {})) == [ctype], (method, path, r.status_code, ctype)
        check_schema(doc, resp["content"][ctype]["schema"], r.json(), "%s %s %d" % (method, path, r.status_code))
        for h in resp["headers"]:
            assert h in r.headers, (method, path, r.status_code, h)
    assert c.delete(item).status_code == 204
