"""Sign in with Microsoft in headless Chromium (docs/sso.md), at 1400 and 390 px.

An admin turns it on in Configuration > Sign-in; the login page then shows
the button, which really leaves the portal for the fake's authorize page
and comes back through /api/sso/callback signed in as the linked agent.
A refused sign-in lands on the login page with the reason.  Every page is
audited by axe (the `portal` fixture) and must not scroll sideways.
"""
import secrets

import pytest

from conftest import PASSWORD, unique


@pytest.fixture
def tenant(stack, fake, admin_login):
    dom = "p%s.onmicrosoft.com" % secrets.token_hex(4)
    tid = fake.ctl("tenants", {"domains": [dom]})["id"]
    app = fake.ctl("apps", {"tenant": tid, "redirect_uris": [stack.base + "/api/sso/callback"]})
    user = fake.ctl("users", {"tenant": tid, "address": "bea@" + dom, "display_name": "Bea"})
    api = stack.session()
    api.login(*admin_login)
    yield {"tenant": tid, "client_id": app["client_id"], "secret": app["secrets"][0]["value"],
           "oid": user["id"]}
    r = api.patch("/api/sso/settings", json={"enabled": False, "require_microsoft": False})
    assert r.status_code == 200, r.text


def test_sign_in_with_microsoft(width, portal, stack, fake, tenant, admin_login):
    agent = unique("ptsso")
    stack.admin("create-agent", agent, "--role", "agent", "--name", "Bea Sso", input=PASSWORD + "\n")
    stack.sql("UPDATE agent SET ms_oid = '%s' WHERE username = '%s'" % (tenant["oid"], agent))

    portal.login_ok(*admin_login)
    portal.go("#/sign-in")
    portal.present("#sso-form")
    assert portal.el("#sso-redirect-uri").text == stack.base + "/api/sso/callback"
    portal.text_in('#sso-agent-table tr[data-agent="%s"]' % agent, "Linked")
    if not portal.el("#sso-enabled").is_selected():
        portal.click("#sso-enabled")
    portal.select("#sso-mailbox", "")
    portal.type("#sso-tenant", "not-a-guid")
    portal.type("#sso-client", tenant["client_id"])
    portal.type("#sso-secret", tenant["secret"])
    portal.click("#sso-save")
    portal.field_error("tenant_id")  # 422 shown at its field
    portal.type("#sso-tenant", tenant["tenant"])
    portal.type("#sso-secret", tenant["secret"])
    portal.click("#sso-save")
    portal.text_in("main", "Sign-in settings saved.")
    assert portal.el("#sso-secret").get_attribute("value") == ""
    portal.no_overflow()
    portal.shot("sso-settings")

    portal.click("#logout")
    portal.present("#login-microsoft")
    portal.no_overflow()
    portal.shot("sso-login")
    portal.click("#login-microsoft")  # to the fake and back through the callback
    portal.present("#logout")
    portal.text_in("#agent-name", "Bea Sso")

    portal.click("#logout")
    fake.ctl("oidc/forge", {"mode": "wrong_nonce"})  # the next id_token is refused
    portal.click("#login-microsoft")
    portal.text_in("#sso-error", "could not be verified")
    portal.present("#login-form")
    portal.no_overflow()
    portal.shot("sso-refused")
