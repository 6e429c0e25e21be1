"""Graph change notifications for the fake Microsoft cloud (fake_microsoft.py).

The subscriptions API with the real rules (docs/push.md, Microsoft's
"change notifications" pages):

- POST /v1.0/subscriptions {changeType, notificationUrl, lifecycleNotificationUrl,
  resource, expirationDateTime, clientState}: before the 201 the fake POSTs
  `{url}?validationToken=<url-encoded>` (text/plain, empty body) to both URLs and
  needs 200 text/plain with the decoded token exactly within 10 s, else 400
  InvalidRequest.  expirationDateTime must be in the future and at most 10,070
  minutes ahead.  Only the signed-in user's own Inbox ("me/mailFolders('inbox')/
  messages"); another user's (a shared mailbox) answers 403 ExtensionError.
- PATCH /v1.0/subscriptions/{id} {expirationDateTime} -> 200; DELETE -> 204;
  POST /v1.0/subscriptions/{id}/reauthorize -> 204; GET -> 200.  An expired
  subscription is gone (404), by the fake's clock.
- New mail in a subscribed Inbox (control "messages", or mail sent to it) is
  notified from a background thread after a jitter, maybe dropped, maybe
  sent twice (control "push/config").

Control endpoints: push/config {jitter_ms: [lo, hi], drop, duplicate, cacert,
batch}, GET push/subscriptions, push/lifecycle {id, event}, push/post {url,
body} (a forged or replayed POST; answers the status), push/expire {id},
GET push/log (every notification POST the fake made, with its status).
"""
import json
import random
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

MAX_MINUTES = 10070
RESOURCE = "me/mailFolders('inbox')/messages"


class PushState:
    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.RLock()):
            self.subs = {}          # id -> dict
            self.log = []           # notification POSTs made
            self.config = {"jitter_ms": [20, 400], "drop": 0.0, "duplicate": 0.0, "cacert": None}


PUSH = PushState()


def _opener(cacert):
    ctx = ssl.create_default_context(cafile=cacert) if cacert else ssl._create_unverified_context()
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))


def post(url, body, content_type="application/json; charset=utf-8", timeout=10):
    """POST as Graph does; (status, content-type, body bytes)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    rq = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": content_type})
    try:
        with _opener(PUSH.config.get("cacert")).open(rq, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()
    except Exception as e:  # noqa: BLE001 - unreachable, timeout, TLS
        return 0, "", repr(e).encode()


def _validate(url):
    token = "Validation: Testing client application reachability for subscription Request-Id: " + \
        str(uuid.uuid4()) + " &+%/?"
    sep = "&" if "?" in url else "?"
    st, ct, body = post(url + sep + "validationToken=" + urllib.parse.quote(token, safe=""), b"",
                        content_type="text/plain; charset=utf-8", timeout=10)
    return st == 200 and ct.split(";")[0].strip() == "text/plain" and body.decode("utf-8", "replace") == token


def _public(s):
    return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
            "id": s["id"], "resource": s["resource"], "applicationId": s["client_id"],
            "changeType": s["changeType"], "clientState": s["clientState"],
            "notificationUrl": s["notificationUrl"], "lifecycleNotificationUrl": s["lifecycleNotificationUrl"],
            "expirationDateTime": s["expirationDateTime"], "creatorId": s["user_id"],
            "latestSupportedTlsVersion": "v1_2", "notificationContentType": "application/json"}


def install(fm):
    """Register the routes, control endpoints and hooks in fake_microsoft (module fm)."""
    GraphError, route, control, iso, parse_iso = fm.GraphError, fm.route, fm.control, fm.iso, fm.parse_iso

    def now(call):
        return call.fake.state.now()

    def live(call, sid):
        with PUSH.lock:
            s = PUSH.subs.get(sid)
            if s is not None and parse_iso(s["expirationDateTime"]) <= now(call):
                del PUSH.subs[sid]
                s = None
        if s is None or s["user_id"] != call.ctx["user_obj"].id:
            raise GraphError(404, "ResourceNotFound", f"The object was not found. Subscription '{sid}'.")
        return s

    def expiry(call, value):
        try:
            t = parse_iso(value)
        except (TypeError, ValueError):
            raise GraphError(400, "InvalidRequest", "expirationDateTime is not a valid date.")
        if t <= now(call):
            raise GraphError(400, "InvalidRequest", "Subscription expiration can only be in the future.")
        if t > now(call) + MAX_MINUTES * 60 + 60:
            raise GraphError(400, "InvalidRequest",
                             f"Subscription expiration can only be {MAX_MINUTES} minutes in the future.")
        return iso(t)

    @route("POST", r"^/subscriptions")
    def h_subscribe(call):
        b = fm._json_body(call)
        for k in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not isinstance(b.get(k), str) or not b[k]:
                raise GraphError(400, "InvalidRequest", f"Property {k} is required.")
        if b["changeType"] not in ("created", "updated", "deleted", "created,updated"):
            raise GraphError(400, "InvalidRequest", "Invalid changeType.")
        cs = b.get("clientState")
        if cs is not None and (not isinstance(cs, str) or len(cs) > 128):
            raise GraphError(400, "InvalidRequest", "clientState is longer than 128 characters.")
        for k in ("notificationUrl", "lifecycleNotificationUrl"):
            if b.get(k) and not b[k].startswith("https://"):
                raise GraphError(400, "InvalidRequest", f"{k} must be HTTPS.")
        res = b["resource"].strip("/")
        me = call.ctx["user_obj"]
        if res.lower() != RESOURCE.lower():
            if res.lower().startswith("users/"):
                raise GraphError(403, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; "
                                 "Reason: Access is denied. Check credentials and try again.]")
            raise GraphError(400, "InvalidRequest", "Unsupported resource.")
        if not ({"Mail.Read", "Mail.ReadWrite"} & call.ctx["scopes"]):
            raise fm.access_denied()
        exp = expiry(call, b["expirationDateTime"])
        if not _validate(b["notificationUrl"]) or \
                (b.get("lifecycleNotificationUrl") and not _validate(b["lifecycleNotificationUrl"])):
            raise GraphError(400, "InvalidRequest", "Subscription validation request failed. Notification "
                             "endpoint must respond with 200 OK to validation request.")
        s = {"id": str(uuid.uuid4()), "resource": res, "changeType": b["changeType"], "clientState": cs,
             "notificationUrl": b["notificationUrl"], "lifecycleNotificationUrl": b.get("lifecycleNotificationUrl"),
             "expirationDateTime": exp, "user_id": me.id, "tenant_id": call.ctx["tenant_obj"].id,
             "client_id": call.ctx["client_id"], "immutable": call.immutable, "renewals": 0}
        with PUSH.lock:
            PUSH.subs[s["id"]] = s
        return call.response(201, _public(s))

    @route("GET", r"^/subscriptions/(?P<sid>[^/]+)")
    def h_sub_get(call):
        return call.response(200, _public(live(call, call.groups["sid"])))

    @route("PATCH", r"^/subscriptions/(?P<sid>[^/]+)")
    def h_sub_patch(call):
        s = live(call, call.groups["sid"])
        b = fm._json_body(call)
        s["expirationDateTime"] = expiry(call, b.get("expirationDateTime"))
        s["renewals"] += 1
        return call.response(200, _public(s))

    @route("DELETE", r"^/subscriptions/(?P<sid>[^/]+)")
    def h_sub_delete(call):
        live(call, call.groups["sid"])
        with PUSH.lock:
            PUSH.subs.pop(call.groups["sid"], None)
        return fm.Response(204)

    @route("POST", r"^/subscriptions/(?P<sid>[^/]+)/reauthorize")
    def h_sub_reauthorize(call):
        live(call, call.groups["sid"])
        return fm.Response(204)

    def deliver(url, body, sid):
        st, _, _ = post(url, body, timeout=3)
        with PUSH.lock:
            PUSH.log.append({"time": time.time(), "subscription": sid, "url": url, "status": st,
                             "kind": "lifecycle" if "lifecycleEvent" in body["value"][0] else "change"})

    def later(url, body, sid):
        lo, hi = PUSH.config["jitter_ms"]
        delay = random.uniform(lo, hi) / 1000
        threading.Timer(delay, deliver, (url, body, sid)).start()

    def on_new_mail(mailbox, m, now_t):
        """fake_microsoft calls this for every message added to a folder."""
        if m.folder is not mailbox.well_known.get("inbox"):
            return
        with PUSH.lock:
            subs = [s for s in PUSH.subs.values() if s["user_id"] == mailbox.owner.id
                    and parse_iso(s["expirationDateTime"]) > now_t]
            cfg = dict(PUSH.config)
        for s in subs:
            if random.random() < cfg["drop"]:
                PUSH.log.append({"time": time.time(), "subscription": s["id"], "status": None, "kind": "dropped"})
                continue
            mid = m.immutable_id if s["immutable"] else m.id
            item = {"subscriptionId": s["id"], "subscriptionExpirationDateTime": s["expirationDateTime"],
                    "changeType": "created", "resource": f"Users/{s['user_id']}/Messages/{mid}",
                    "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "@odata.id":
                                     f"Users/{s['user_id']}/Messages/{mid}", "id": mid},
                    "clientState": s["clientState"], "tenantId": s["tenant_id"]}
            body = {"value": [item]}
            later(s["notificationUrl"], body, s["id"])
            if random.random() < cfg["duplicate"]:
                later(s["notificationUrl"], body, s["id"])

    fm.NEW_MAIL_HOOKS.append(on_new_mail)
    fm.RESET_HOOKS.append(PUSH.reset)

    @control("POST", "push/config")
    def ctl_push_config(self, b):
        unknown = set(b) - {"jitter_ms", "drop", "duplicate", "cacert"}
        if unknown:
            raise ValueError(f"unknown push config {sorted(unknown)}")
        PUSH.config.update(b)
        return dict(PUSH.config)

    @control("GET", "push/subscriptions")
    def ctl_push_subs(self, b):
        with PUSH.lock:
            return {"items": [dict(s, expired=parse_iso(s["expirationDateTime"]) <= self.state.now())
                              for s in PUSH.subs.values()]}

    @control("GET", "push/log")
    def ctl_push_log(self, b):
        return {"entries": list(PUSH.log)}

    @control("POST", "push/lifecycle")
    def ctl_push_lifecycle(self, b):
        """{id, event: reauthorizationRequired|subscriptionRemoved|missed} -> the status
        postdesk answered; subscriptionRemoved also removes it here."""
        with PUSH.lock:
            s = PUSH.subs[b["id"]]
            if b["event"] == "subscriptionRemoved":
                del PUSH.subs[b["id"]]
        item = {"subscriptionId": s["id"], "subscriptionExpirationDateTime": s["expirationDateTime"],
                "tenantId": s["tenant_id"], "clientState": s["clientState"], "lifecycleEvent": b["event"]}
        # not under the fake's lock: postdesk may call the fake meanwhile
        self.state.lock.release()
        try:
            st, _, _ = post(s["lifecycleNotificationUrl"], {"value": [item]}, timeout=3)
        finally:
            self.state.lock.acquire()
        return {"status": st}

    @control("POST", "push/post")
    def ctl_push_post(self, b):
        """{url, body}: any POST, as a forger or a replay would send it -> {status}."""
        self.state.lock.release()
        try:
            st, _, body = post(b["url"], b["body"], timeout=10)
        finally:
            self.state.lock.acquire()
        return {"status": st, "body": body.decode("utf-8", "replace")}

    @control("POST", "push/expire")
    def ctl_push_expire(self, b):
        with PUSH.lock:
            PUSH.subs.pop(b["id"], None)
        return {"ok": True}

    return PUSH


