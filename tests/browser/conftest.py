"""Browser tests: selenium + headless Chromium against the running stack.

The `stack` fixture (tests/conftest.py) starts MariaDB, nginx and the FastCGI
programs; here we add a browser per test (1400 px wide: a fresh tab of the
session's headless Chromium, a new Chromium after a failed test) and a small
page helper, Portal.

Accessibility: Portal runs axe-core (pinned in scripts/deps.sh, installed
into build/tools by `make deps`) with the WCAG 2 A/AA rules and the best
practices on every state of a portal page the test reached: before each
action (open, go, click, type, set_value, select, shot) it audits the page
as the test left it, and once more at the end of a passing test. Each
distinct state is audited once a session (_STATE_JS says what makes a
state), axe is injected once a page load and reports violations only. Any
violation fails the test with the rule, impact, target selector and axe's
summary; no rule is turned off. p.axe() audits the page now, for a state no
later action would see. Pages that are not postdesk's (the fake Microsoft
sign-in) are not audited.

Screenshots: p.shot(name=None) saves the whole page to
build/screenshots/<name or the test's name>-<window width>.png.
Narrow screens: p.resize(390, 844), or the `width` fixture, which runs a test
at 1400 and at 390 px; p.no_overflow() asserts nothing scrolls sideways.

Run with Debian's python: /usr/bin/python3 -m pytest -q tests/browser
"""
import base64
import json
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 20  # seconds; explicit waits only, never sleeps (sanitizer builds are slow)
WIDTH, HEIGHT = 1400, 900  # the window every test starts with
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE_JS = ROOT / "build" / "tools" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"  # deps.sh
# WCAG 2.0, 2.1 and 2.2 levels A and AA, and Deque's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]

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


def launch_chromium():
    """(driver, profile directory) of a new headless Chromium."""
    profile = tempfile.mkdtemp(prefix="pd-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--ignore-certificate-errors",
                "--window-size=%d,%d" % (WIDTH, HEIGHT),
                # No colour transitions (app.css): axe must not measure the
                # contrast of a button half-way through its hover colour.
                "--force-prefers-reduced-motion",
                "--user-data-dir=" + profile):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(30)
    return drv, profile


def fresh_tab(drv):
    """A new tab in place of the old one, as a new browser would give: no
    cookies, history (back-forward cache), session storage or emulation
    left from the test before; the window WIDTH px wide; the console read."""
    old = drv.current_window_handle
    drv.switch_to.new_window("tab")
    fresh = drv.current_window_handle
    drv.switch_to.window(old)
    drv.close()
    drv.switch_to.window(fresh)
    drv.execute_cdp_cmd("Network.clearBrowserCookies", {})
    drv.set_window_size(WIDTH, HEIGHT)
    drv.get_log("browser")


class _Chromium:
    """One Chromium for the session (starting one is a second or more):
    each test gets a fresh tab of it; after a failed test a new Chromium."""
    drv = profile = None

    def get(self):
        if self.drv is not None:
            try:
                fresh_tab(self.drv)
                return self.drv
            except WebDriverException:
                self.stop()
        self.drv, self.profile = launch_chromium()
        return self.drv

    def stop(self):
        if self.drv is not None:
            try:
                self.drv.quit()
            except WebDriverException:
                pass
            shutil.rmtree(self.profile, ignore_errors=True)
        self.drv = self.profile = None


@pytest.fixture(scope="session")
def _chromium_pool():
    pool = _Chromium()
    yield pool
    pool.stop()


@pytest.fixture
def chromium(request, _chromium_pool):
    drv = _chromium_pool.get()
    yield drv
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.passed:  # a failed test may leave anything behind
        _chromium_pool.stop()


_axe_source = None


def axe_source():
    global _axe_source
    if _axe_source is None:
        if not AXE_JS.is_file():
            raise AssertionError("%s is missing: run `make deps` (scripts/deps.sh)" % AXE_JS)
        _axe_source = AXE_JS.read_text(encoding="utf-8")
    return _axe_source


# A page state's key: the route (numbers and query values left out), the
# viewport's width and a hash (FNV-1a) of the DOM's structure. The structure
# is every element's tag and attributes, with numbers left out and the
# values of attributes that only carry content (title, href, value…) cut to
# empty or not, whether it has text of its own, and its children, where a
# run of identical siblings counts as "one" or "several". So a list of 3
# tickets and one of 30, or a ticket page for another ticket, are one state;
# an added, removed, hidden, disabled or restyled element, an empty header
# or a missing label is another. Also whether axe is in the page yet.
_STATE_JS = r"""
const CONTENT = new Set(['title', 'href', 'src', 'value', 'placeholder', 'datetime', 'alt',
  'aria-label', 'content', 'download', 'action']);
const num = (v) => v.replace(/[0-9]+/g, '0');
function sig(e) {
  let s = '<' + e.tagName;
  for (const a of Array.from(e.attributes).sort((x, y) => x.name < y.name ? -1 : 1))
    s += ' ' + a.name + '=' + (CONTENT.has(a.name) ? (a.value.trim() ? '+' : '') : num(a.value));
  let text = false, prev = null, kids = '';
  for (const n of e.childNodes) {
    if (n.nodeType === 3) { text = text || n.data.trim() !== ''; continue; }
    if (n.nodeType !== 1) continue;
    const k = sig(n);
    if (k === prev) { if (!kids.endsWith('*')) kids += '*'; continue; }
    kids += k; prev = k;
  }
  return s + (text ? ' T>' : '>') + kids + '</>';
}
const str = sig(document.documentElement);
let x = 0x811c9dc5;
for (let i = 0; i < str.length; i++) x = Math.imul(x ^ str.charCodeAt(i), 0x01000193);
const route = num(location.hash.replace(/=[^&]*/g, ''));
return [location.href, location.origin + location.pathname + route + ' ' + innerWidth + ' ' +
        (x >>> 0) + ':' + str.length, typeof window.axe === 'object'];
"""

# The states audited clean in this session (the key of _STATE_JS): each is
# audited once, whichever test reaches it first. AXE_RUNS counts the audits
# and the checks (pytest's summary shows them).
_CLEAN_STATES = set()
AXE_RUNS = {"audits": 0, "checks": 0, "seconds": 0.0}

_AXE_RUN_JS = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}))))
  .catch(e => done({error: String(e && e.stack || e)}));
"""


def format_violations(violations, where):
    lines = ["axe-core: %d accessibility violation(s) on %s" % (len(violations), where)]
    for v in violations:
        lines.append("  %s (%s): %s  <%s>" % (v["id"], v["impact"], v["help"], v["url"]))
        for n in v["nodes"][:10]:
            target = " >> ".join(json.dumps(t) if not isinstance(t, str) else t
                                 for t in n["target"])
            lines.append("    " + target)
            lines.extend("      " + line.strip() for line in (n.get("summary") or "").splitlines()
                         if line.strip())
        if len(v["nodes"]) > 10:
            lines.append("    … and %d more" % (len(v["nodes"]) - 10))
    return "\n".join(lines)


class Axe:
    """axe-core in the page: audits each distinct state once a session."""

    def __init__(self, driver, base):
        self.d = driver
        self.base = base
        self.audits = 0  # axe runs by this Portal
        self.checked = 0  # states found clean, now or earlier in the session

    def ours(self, url):
        return url.startswith(self.base + "/")

    def check(self, why=""):
        try:
            url, key, loaded = self.d.execute_script(_STATE_JS)
        except WebDriverException:  # an alert is open, or the page is going away
            return
        if not self.ours(url):  # about:blank, the fake Microsoft's pages
            return
        if key not in _CLEAN_STATES:
            if not loaded:  # once per page load
                self.d.execute_script(axe_source())
            self.audits += 1
            AXE_RUNS["audits"] += 1
            start = time.monotonic()
            found = self.d.execute_async_script(_AXE_RUN_JS, AXE_TAGS)
            AXE_RUNS["seconds"] += time.monotonic() - start
            if isinstance(found, dict):
                raise AssertionError("axe-core failed on %s: %s" % (url, found["error"]))
            if found:
                raise AssertionError(format_violations(found, url + (" (%s)" % why if why else "")))
            _CLEAN_STATES.add(key)
        self.checked += 1
        AXE_RUNS["checks"] += 1


class Portal:
    """The portal as a user sees it: routes, the login form, the mailbox form."""

    def __init__(self, chromium, base, test_name="portal"):
        self.d = chromium
        self.base = base.rstrip("/")
        self.test_name = test_name
        self.console = Console(chromium)
        self.wait = WebDriverWait(chromium, WAIT)
        self.audit = Axe(chromium, self.base)
        chromium.set_script_timeout(WAIT)

    # -- accessibility, screenshots, window size
    def axe(self, why=""):
        """Audit the page as it is now (each distinct state once a session)."""
        self.audit.check(why)

    def shot(self, name=None):
        """The whole page as build/screenshots/<name or test>-<width>.png."""
        self.axe("screenshot")
        width = self.d.execute_script("return window.innerWidth")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / ("%s-%d.png" % (name or self.test_name, width))
        # from the top, so the sticky top bar is drawn where it belongs
        y = self.d.execute_script("const y = scrollY; scrollTo(0, 0); return y")
        png = self.d.execute_cdp_cmd("Page.captureScreenshot",
                                     {"format": "png", "captureBeyondViewport": True})
        self.d.execute_script("scrollTo(0, arguments[0])", y)
        path.write_bytes(base64.b64decode(png["data"]))
        return path

    def resize(self, width, height=HEIGHT):
        """Make the page's viewport (window.innerWidth) exactly width px."""
        self.d.set_window_size(width, height)
        inner = self.d.execute_script("return window.innerWidth")
        if inner != width:  # window decorations: grow the window by the difference
            self.d.set_window_size(2 * width - inner, height)
        self.until(lambda: self.d.execute_script("return window.innerWidth") == width,
                   "the viewport did not become %d px wide" % width)

    def no_overflow(self, css=None):
        """Nothing on the page scrolls sideways; with css, nothing in the
        elements it selects (each within the window, none scrolling sideways)."""
        if css is None:
            sw, iw = self.d.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]")
            assert sw <= iw, "page is %d px wide in a %d px window" % (sw, iw)
            return
        wide = self.d.execute_script("""
            const iw = window.innerWidth;
            return Array.from(document.querySelectorAll(arguments[0]))
              .filter((e) => e.getBoundingClientRect().right > iw || e.scrollWidth > e.clientWidth)
              .map((e) => e.outerHTML.slice(0, 80) + ': ' + e.scrollWidth + ' px wide, right edge at '
                   + Math.round(e.getBoundingClientRect().right) + ' in a ' + iw + ' px window');
        """, css)
        assert self.els(css), "nothing matches " + css
        assert not wide, "\n".join(wide)

    # -- navigation and waiting
    def open(self, route=""):
        self.axe("before open " + route)
        self.d.get(self.base + "/" + (("#" + route) if route else ""))

    def go(self, route):
        """Change the hash route inside the loaded app (no page load)."""
        self.axe("before go " + route)
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
        self.axe("before click " + css)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    # -- forms
    def type(self, css, text):
        el = self.visible(css)
        self.axe("before typing into " + css)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        el.send_keys(Keys.CONTROL, "a")
        el.send_keys(Keys.DELETE)
        if text:
            el.send_keys(text)
        return el

    def set_value(self, css, value):
        """For inputs whose typing depends on the locale (type=date)."""
        el = self.present(css)
        self.axe("before setting " + css)
        self.d.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el, value)

    def select(self, css, value):
        el = self.visible(css)
        self.axe("before selecting in " + css)
        Select(el).select_by_value(value)

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


def pytest_terminal_summary(terminalreporter):
    if AXE_RUNS["checks"]:
        terminalreporter.write_line("axe-core: %(checks)d checks of a page state, %(audits)d audits "
                                    "(each distinct state once a session) taking %(seconds).1f s"
                                    % AXE_RUNS)


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
    p = Portal(chromium, stack.base, getattr(request.node, "originalname", request.node.name))
    yield p
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        _save_failure(p, request.node.name)
    # Every page a test visited must be free of CSP violations and errors.
    p.assert_console_clean()
    # ... and of accessibility violations, the last state included.
    if rep is not None and rep.passed:
        p.axe("at the end of the test")


@pytest.fixture(params=[WIDTH, 390], ids=lambda w: "%dpx" % w)
def width(request, portal):
    """Runs the test twice: in a 1400 px and in a 390 px wide window."""
    portal.resize(request.param)
    return request.param


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


class World:
    """A tenant in the fake with an app registered for this stack (both
    redirect URIs), a licensed user alice with `inbox` messages, optionally
    a shared mailbox delegated to her; mailbox() makes a postdesk mailbox for
    it through the API (as the admin), get() reads it back."""

    def __init__(self, stack, fake, admin_login, label="World", inbox=0, shared=False):
        self.stack, self.fake, self.label = stack, fake, label
        dom = "w%s.onmicrosoft.com" % secrets.token_hex(4)
        self.tenant = fake.ctl("tenants", {"domains": [dom]})["id"]
        app = fake.ctl("apps", {"tenant": self.tenant, "redirect_uris": [
            stack.base + "/azure/auth", stack.base + "/auth/account/azureresponse"]})
        self.client_id = app["client_id"]
        self.secret = app["secrets"][0]["value"]
        self.user = "alice@" + dom
        fake.ctl("users", {"tenant": self.tenant, "address": self.user, "display_name": "Alice"})
        self.shared = None
        if shared:
            self.shared = "help@" + dom
            fake.ctl("shared_mailboxes", {"tenant": self.tenant, "address": self.shared})
            fake.ctl("delegations", {"shared": self.shared, "user": self.user,
                                     "full_access": True, "send_as": True})
        box = self.shared or self.user
        for i in range(inbox):
            fake.ctl("messages", {"mailbox": box, "subject": "already here %d" % i,
                                  "from": "x@example.com", "to": [box], "body_text": "hi"})
        self.api = stack.session()
        self.api.login(*admin_login)
        self.id = None

    def mailbox(self, secret=None, name=None):
        self.name = name or "%s %s" % (self.label, secrets.token_hex(4))
        body = {"name": self.name, "client_id": self.client_id, "tenant_id": self.tenant,
                "secret": secret or self.secret}
        if self.shared:
            body["shared_address"] = self.shared
        r = self.api.post("/api/mailboxes", json=body)
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        return self.id

    def get(self):
        r = self.api.get("/api/mailboxes/%d" % self.id)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def new_world(stack, fake, admin_login):
    """new_world(label, inbox=0, shared=False): a World (above)."""
    return lambda label, **kw: World(stack, fake, admin_login, label, **kw)
