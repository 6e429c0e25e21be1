"""Browser tests: selenium + headless Chromium against the running stack.

The `stack` fixture (tests/conftest.py) starts MariaDB, nginx and the FastCGI
programs; here we add a fresh Chromium per test and a small page helper.

Run with Debian's python: /usr/bin/python3 -m pytest -q tests/browser
"""
import re
import secrets
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 20  # seconds; explicit waits only, never sleeps (sanitizer builds are slow)

# API answers the tests provoke on purpose; Chromium logs each as a SEVERE
# "Failed to load resource" network entry. Anything else SEVERE (a missing
# asset, a script error, a 5xx) is a failure.
EXPECTED_STATUS = re.compile(
    r"^\S+/api/\S* - Failed to load resource: the server responded with a status of "
    r"(401|403|404|409|412|422|429)\b")


def unique(prefix):
    return prefix + secrets.token_hex(4)


class Console:
    """Collects the browser console; CSP violations and errors fail the test."""

    def __init__(self, chromium):
        self.driver = chromium
        self.entries = []

    def drain(self):
        try:
            self.entries.extend(self.driver.get_log("browser"))
        except Exception:  # chromium already gone
            pass
        return self.entries

    def problems(self):
        bad = []
        for e in self.drain():
            msg = e.get("message", "")
            if "Content Security Policy" in msg or "Content-Security-Policy" in msg:
                bad.append(e)
            elif e.get("level") == "SEVERE" and not EXPECTED_STATUS.search(msg):
                bad.append(e)
        return bad


@pytest.fixture
def chromium():
    profile = tempfile.mkdtemp(prefix="pd-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--ignore-certificate-errors", "--window-size=1280,900",
                "--user-data-dir=" + profile):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Portal:
    """The portal as a user sees it: routes, the login form, the mailbox form."""

    def __init__(self, chromium, base):
        self.d = chromium
        self.base = base.rstrip("/")
        self.console = Console(chromium)
        self.wait = WebDriverWait(chromium, WAIT)

    # -- navigation and waiting
    def open(self, route=""):
        self.d.get(self.base + "/" + (("#" + route) if route else ""))

    def go(self, route):
        """Change the hash route inside the loaded app (no page load)."""
        self.d.execute_script("location.hash = arguments[0]", route)

    def el(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def els(self, css):
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def present(self, css):
        return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def gone(self, css):
        return self.wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, css)))

    def text_in(self, css, text):
        return self.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))

    def until(self, fn, message=""):
        return self.wait.until(lambda _d: fn(), message)

    def click(self, css):
        el = self.visible(css)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    # -- forms
    def type(self, css, text):
        el = self.visible(css)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        el.send_keys(Keys.CONTROL, "a")
        el.send_keys(Keys.DELETE)
        if text:
            el.send_keys(text)
        return el

    def set_value(self, css, value):
        """For inputs whose typing depends on the locale (type=date)."""
        el = self.present(css)
        self.d.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el, value)

    def select(self, css, value):
        Select(self.visible(css)).select_by_value(value)

    # -- journeys
    def login(self, username, password):
        self.open("/login")
        self.type("#login-username", username)
        self.type("#login-password", password)
        self.click("#login-submit")

    def login_ok(self, username, password):
        self.login(username, password)
        self.present("#logout")

    def field_error(self, field):
        return self.visible('.field-error[data-field="%s"]' % field)

    def fill_mailbox(self, name, client_id="0b5e1c2d-4f3a-4b6c-9d8e-1f2a3b4c5d6e",
                     tenant_id="contoso.onmicrosoft.com", secret="Xy8Q~portal-test-Value.a1b2",
                     shared="", expires=None):
        self.present("#mailbox-form")
        self.type("#mb-name", name)
        self.type("#mb-client-id", client_id)
        self.type("#mb-tenant-id", tenant_id)
        if secret is not None:
            self.type("#mb-secret", secret)
        if expires is not None:
            self.set_value("#mb-secret-expires", expires)
        self.type("#mb-shared-address", shared)

    # -- hostile mail content shows as text
    def no_alert(self):
        """No script from mail content ran (it would have opened an alert)."""
        try:
            self.d.switch_to.alert
        except NoAlertPresentException:
            return
        raise AssertionError("a script from mail content ran (alert open)")

    def no_injected_markup(self, *extra):
        """No element from mail content in <main>: img[src=x], script, and extra (CSS)."""
        css = ", ".join(('main img[src="x"]', "main script") + extra)
        assert self.d.find_elements(By.CSS_SELECTOR, css) == []

    def assert_console_clean(self):
        bad = self.console.problems()
        assert not bad, "browser console:\n" + "\n".join(
            "%s %s" % (e.get("level"), e.get("message")) for e in bad)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _save_failure(p, name):
    """A screenshot and the page's text, to see what the test saw."""
    out = tempfile.mkdtemp(prefix="pd-browser-fail-")
    try:
        p.d.save_screenshot("%s/%s.png" % (out, name))
        with open("%s/%s.txt" % (out, name), "w", encoding="utf-8") as f:
            f.write(p.d.current_url + "\n\n" + p.d.find_element(By.TAG_NAME, "body").text + "\n\n")
            for e in p.console.drain():
                f.write("%s %s\n" % (e.get("level"), e.get("message")))
        print("\nbrowser state of %s kept in %s" % (name, out))
    except Exception as e:  # the browser may be gone
        print("\ncould not save the browser state: %s" % e)


@pytest.fixture
def portal(request, stack, chromium):
    p = Portal(chromium, stack.base)
    yield p
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        _save_failure(p, request.node.name)
    # Every page a test visited must be free of CSP violations and errors.
    p.assert_console_clean()


PASSWORD = "portal-test-pw-" + secrets.token_hex(4)


@pytest.fixture(scope="session")
def admin_login(stack):
    """(username, password) of an admin agent made for the browser tests."""
    username = unique("ptadmin")
    stack.admin("create-agent", username, "--role", "admin", "--name", "Portal Tester",
                input=PASSWORD + "\n")
    return username, PASSWORD


@pytest.fixture(scope="session")
def agent_login(stack):
    """(username, password) of an agent without the admin role."""
    username = unique("ptagent")
    stack.admin("create-agent", username, "--role", "agent", input=PASSWORD + "\n")
    return username, PASSWORD


@pytest.fixture
def admin_ui(portal, admin_login):
    """The portal, signed in as the admin."""
    portal.login_ok(*admin_login)
    return portal



# --- the fake Microsoft cloud (tests/fakes/fake_microsoft.py) -------------------
# The browser tests' stack talks to the fake exactly like tests/integration's:
# a session `fake_server`, `stack_env` pointing login_url and graph_url at it,
# and a per-test `fake` (reset first) to drive its control API.

from pd_helpers import fake, fake_server, stack_env  # noqa: E402,F401
