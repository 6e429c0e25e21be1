"""The push line of the mailbox page (docs/push.md) in headless Chromium, at
1400 and 390 px: active with its expiry, a shared mailbox polled and why,
a failed subscription with Microsoft's answer.  The subscriptions are made
by a real scanner pass (POSTDESK_PUSH=on: the stack's portal_url is
https://localhost) against the fake's Graph subscriptions."""
import secrets
import subprocess

import pytest

from pd_helpers import Client, connect_mailbox, keep_stderr, scan_env


class World:
    def __init__(self, stack, fake, admin_login, shared=False):
        self.stack, self.fake = stack, fake
        dom = "pp%s.onmicrosoft.com" % secrets.token_hex(4)
        tenant = fake.ctl("tenants", {"domains": [dom]})["id"]
        app = fake.ctl("apps", {"tenant": tenant, "redirect_uris": [
            stack.base + "/azure/auth", stack.base + "/auth/account/azureresponse"]})
        user = "alice@" + dom
        fake.ctl("users", {"tenant": tenant, "address": user})
        body = {"name": "Push " + secrets.token_hex(4), "client_id": app["client_id"], "tenant_id": tenant,
                "secret": app["secrets"][0]["value"]}
        if shared:
            fake.ctl("shared_mailboxes", {"tenant": tenant, "address": "help@" + dom})
            fake.ctl("delegations", {"shared": "help@" + dom, "user": user, "full_access": True})
            body["shared_address"] = "help@" + dom
        self.api = Client(stack)
        self.api.login(*admin_login)
        r = self.api.post("/api/mailboxes", json=body)
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        fake.ctl("signin", {"tenant": tenant, "user": user, "mode": "approve"})
        connect_mailbox(stack, self.api, self.id)

    def scan(self):
        r = subprocess.run([str(self.stack.bin / "postdesk-scan"), "--once", "--mailbox", str(self.id)],
                           env=scan_env(self.stack, {"POSTDESK_PUSH": "on"}), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        keep_stderr(self.stack, r.stderr)
        assert r.returncode == 0, r.stderr

    def close(self):
        self.stack.sql("UPDATE mailbox SET status = 'not_connected', lease_until = NULL WHERE id = %d" % self.id)


@pytest.fixture
def world(stack, fake, admin_login):
    fake.ctl("push/config", {"cacert": stack.cacert})
    made = []

    def make(**kw):
        made.append(World(stack, fake, admin_login, **kw))
        return made[-1]
    yield make
    for w in made:
        w.close()


def push_line(ui, w, state):
    ui.go("#/mailboxes/%d" % w.id)
    ui.present("#mb-push")
    ui.until(lambda: ui.el("#mb-push").get_attribute("data-state") == state, "push state " + state)
    return ui.el("#mb-push").text


def test_push_active(admin_ui, world, width):
    w = world()
    w.scan()
    text = push_line(admin_ui, w, "active")
    assert text.startswith("Push: active — New mail becomes a ticket within seconds;")
    assert "valid until" in text
    admin_ui.no_overflow()
    admin_ui.shot("push-active")


def test_push_shared_mailbox_is_polled(admin_ui, world, width):
    w = world(shared=True)
    w.scan()
    text = push_line(admin_ui, w, "off")
    assert "Push: off" in text and "Shared mailbox" in admin_ui.el("#mb-push-detail").text
    admin_ui.no_overflow()
    admin_ui.shot("push-shared")


def test_push_failed_says_why(admin_ui, world, fake, width):
    w = world()
    fake.ctl("push/config", {"cacert": "/nonexistent"})  # the handshake cannot reach the stack
    w.scan()
    text = push_line(admin_ui, w, "failed")
    assert "Push: failed" in text and "validation" in admin_ui.el("#mb-push-detail").text
    assert "warning" in admin_ui.el("#mb-push").get_attribute("class")
    admin_ui.no_overflow()
    admin_ui.shot("push-failed")
