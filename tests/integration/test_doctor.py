"""postdesk-admin doctor against a stack of this module's own: healthy (exit 0,
every line ok, a mailbox connected through the fake passes Test connection),
then broken one way at a time (exit 1 and the line that says so), each
restored afterwards; and postdesk-admin's --help and exit codes."""
import os
import pwd
import re
import select
import shutil
import socket
import subprocess
import time

import pytest

import pd_helpers as pd

LINE = re.compile(r"^(ok  |warn|FAIL) [^ :][^:]*: .+$")


def program_user(stack):
    """The user the stack's postdesk-api runs as (root, or a user it drops to)."""
    pid = (stack.run / "api.pid").read_text().split()[0]
    with open("/proc/%s/status" % pid) as f:
        uid = [ln.split()[2] for ln in f if ln.startswith("Uid:")][0]  # effective
    return pwd.getpwuid(int(uid)).pw_name


def doctor(stack, *args, env=None, cacert=True):
    """Run postdesk-admin doctor --user (the stack's) [--cacert]; returns (exit
    status, check lines, stdout)."""
    argv = [str(stack.bin / "postdesk-admin"), "doctor", "--user", program_user(stack)]
    if cacert:
        argv += ["--cacert", stack.cacert]
    e = dict(stack.env, POSTDESK_CONF=stack.conf)
    e.update(env or {})
    r = subprocess.run(argv + list(args), env=e, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    keep(stack, r.stderr)
    lines = r.stdout.splitlines()
    assert lines and re.fullmatch(r"\d+ checks? failed", lines[-1]), r.stdout
    for line in lines[:-1]:
        assert LINE.match(line), line
    fails = sum(line.startswith("FAIL ") for line in lines)
    assert lines[-1].split()[0] == str(fails), r.stdout
    return r.returncode, lines[:-1], r.stdout


def keep(stack, text):
    """stderr to the log dir, for the sanitizer check."""
    if text:
        stack.log_dir.mkdir(parents=True, exist_ok=True)
        with open(stack.log_dir / "postdesk-admin.log", "a") as f:
            f.write(text)


def line_of(lines, level, check, *words):
    """The one line of this level and check that has every word."""
    found = [ln for ln in lines if ln.startswith("%-4s %s: " % (level, check))
             and all(w in ln for w in words)]
    assert found, (level, check, words, lines)
    return found[0]


@pytest.fixture(scope="module")
def desk(module_stack, fake_server):
    """A mailbox connected through the fake and scanned once."""
    login = pd.new_agent(module_stack, "admin")
    d = pd.Desk(module_stack, fake_server, login)
    d.scan()
    return d


def test_healthy_stack_all_ok(module_stack, desk):
    rc, lines, out = doctor(module_stack)
    assert rc == 0, out
    assert all(ln.startswith("ok ") for ln in lines), out
    checks = {ln[5:].split(":")[0] for ln in lines}
    for c in ("configuration", "configuration file", "key file", "database", "migrations",
              "max_allowed_packet", "triggers", "clock", "portal", "redirect URI", "scans"):
        assert c in checks, (c, out)
    name = desk.admin.get("/api/mailboxes/%d" % desk.mid).json()["name"]
    line_of(lines, "ok", "mailbox %s (id %d)" % (name, desk.mid), "Test connection passed")
    line_of(lines, "ok", "redirect URI", "/azure/auth")
    line_of(lines, "ok", "redirect URI", "/auth/account/azureresponse")
    line_of(lines, "ok", "scans", "1 mailbox scanned")


def test_without_the_ca_the_portal_fails(module_stack, desk):
    """A normal client's TLS verification: the stack's certificate is its own."""
    rc, lines, out = doctor(module_stack, cacert=False, env={"CURL_CA_BUNDLE": ""})
    assert rc == 1, out
    line_of(lines, "FAIL", "portal", "--cacert")
    # CURL_CA_BUNDLE does what --cacert does.
    rc, lines, out = doctor(module_stack, cacert=False,
                            env={"CURL_CA_BUNDLE": module_stack.cacert})
    assert rc == 0, out


def test_world_readable_key_file(module_stack, desk):
    key = module_stack.var / "secret.key"
    mode = os.stat(key).st_mode & 0o7777
    os.chmod(key, 0o644)
    try:
        rc, lines, out = doctor(module_stack)
    finally:
        os.chmod(key, mode)
    assert rc == 1, out
    ln = line_of(lines, "FAIL", "key file", str(key), "0644", "readable by everyone")
    assert ln.endswith("-- chmod 0640 %s" % key), ln
    line_of(lines, "warn", "mailboxes", "not tested")
    assert doctor(module_stack)[0] == 0


def test_world_readable_configuration_with_password(module_stack, desk):
    conf = module_stack.conf
    mode = os.stat(conf).st_mode & 0o7777
    os.chmod(conf, 0o644)
    try:
        rc, lines, out = doctor(module_stack)
    finally:
        os.chmod(conf, mode)
    assert rc == 1, out
    line_of(lines, "FAIL", "configuration file", conf, "readable by everyone", "chmod 0640")


def test_wrong_db_password(module_stack, desk):
    rc, lines, out = doctor(module_stack, env={"POSTDESK_DB_PASSWORD": "wrong-password"})
    assert rc == 1, out
    line_of(lines, "FAIL", "database", "1045", "Access denied", "db_password")
    assert "wrong-password" not in out
    # Nothing that needs the database claims to be ok.
    assert not [ln for ln in lines if ln.startswith(("ok   migrations", "ok   scans", "ok   mailbox"))]


def test_bad_configuration_key(module_stack, desk):
    rc, lines, out = doctor(module_stack, env={"POSTDESK_SCAN_INTERVAL": "0"})
    assert rc == 1, out
    line_of(lines, "FAIL", "configuration", "scan_interval", "-- correct that key")
    rc, lines, out = doctor(module_stack, env={"POSTDESK_CONF": "/nonexistent/postdesk.conf"})
    assert rc == 1 and len(lines) == 1, out
    line_of(lines, "FAIL", "configuration", "/nonexistent/postdesk.conf",
            "-- create it from postdesk.conf.example")


def test_unapplied_migration(module_stack, desk, tmp_path):
    sql = tmp_path / "sql"
    shutil.copytree(pd.__file__.rsplit("/tests/", 1)[0] + "/sql", sql)
    (sql / "0099_extra.sql").write_text("SELECT 1;\n")
    rc, lines, out = doctor(module_stack, env={"POSTDESK_SQL_DIR": str(sql)})
    assert rc == 1, out
    ln = line_of(lines, "FAIL", "migrations", "not applied", "0099_extra.sql")
    assert ln.endswith("-- postdesk-admin migrate"), ln
    # A migration the database has and the directory lacks.
    (sql / "0099_extra.sql").unlink()
    (sql / "0011_mailbox_attention.sql").unlink()
    rc, lines, out = doctor(module_stack, env={"POSTDESK_SQL_DIR": str(sql)})
    assert rc == 1, out
    line_of(lines, "FAIL", "migrations", "migration 0011")


def test_small_max_allowed_packet(module_stack, desk):
    module_stack.sql("SET GLOBAL max_allowed_packet = 16777216")
    try:
        rc, lines, out = doctor(module_stack)
    finally:
        module_stack.sql("SET GLOBAL max_allowed_packet = 268435456")
    assert rc == 1, out
    line_of(lines, "FAIL", "max_allowed_packet", "16 MiB", "-- set max_allowed_packet = 64M")


def test_missing_trigger(module_stack, desk):
    """sql/0011's triggers gone (or invisible without TRIGGER): FAIL, and a
    migrate of 0011 again (its statements may run twice) restores them."""
    module_stack.sql("DROP TRIGGER incoming_attention_insert")
    try:
        rc, lines, out = doctor(module_stack)
    finally:
        module_stack.sql("DELETE FROM schema_migrations WHERE version = 11")
        module_stack.admin("migrate")
    assert rc == 1, out
    line_of(lines, "FAIL", "triggers", "2 of the 3", "GRANT TRIGGER")
    assert doctor(module_stack)[0] == 0


def test_clock_off_from_microsoft(module_stack, desk):
    """The fake's Date follows its clock: minutes off FAIL, seconds warn."""
    try:
        desk.fake.ctl("clock/advance", {"seconds": 300})
        rc, lines, out = doctor(module_stack)
        assert rc == 1, out
        ln = line_of(lines, "FAIL", "clock", " s from %s" % desk.url, "Microsoft refuses tokens")
        assert re.search(r"is -(299|300|301) s from", ln), ln  # Date has whole seconds
        desk.fake.ctl("clock/advance", {"seconds": -270})
        rc, lines, out = doctor(module_stack)
        assert rc == 0, out
        ln = line_of(lines, "warn", "clock", " s from %s" % desk.url)
        assert re.search(r"is -(29|30|31) s from", ln), ln
    finally:
        desk.fake.ctl("clock/advance", {"seconds": -30})
    assert doctor(module_stack)[0] == 0


def test_portal_url_nobody_listens(module_stack, desk):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # free: nothing listens there
    rc, lines, out = doctor(module_stack,
                            env={"POSTDESK_PORTAL_URL": "https://localhost:%d" % port})
    assert rc == 1, out
    line_of(lines, "FAIL", "portal", "localhost:%d/api/health" % port)
    line_of(lines, "FAIL", "redirect URI", "localhost:%d/azure/auth" % port)
    line_of(lines, "FAIL", "redirect URI", "localhost:%d/auth/account/azureresponse" % port)


def test_portal_that_is_not_postdesk(module_stack, desk):
    """Something answers at portal_url, but not postdesk (here the portal's
    static files, which answer any path with the single-page app)."""
    rc, lines, out = doctor(module_stack,
                            env={"POSTDESK_PORTAL_URL": module_stack.base + "/elsewhere"})
    assert rc == 1, out
    line_of(lines, "FAIL", "portal", "/elsewhere/api/health", "not postdesk's answer")
    line_of(lines, "FAIL", "redirect URI", "/elsewhere/azure/auth", "not postdesk's answer")


def test_mailbox_whose_secret_is_refused(module_stack, desk):
    """Last: Test connection fails with the mailbox page's guidance."""
    name = desk.admin.get("/api/mailboxes/%d" % desk.mid).json()["name"]
    client_id = desk.admin.get("/api/mailboxes/%d" % desk.mid).json()["client_id"]
    desk.fake.ctl("secrets/expire", {"client_id": client_id})
    try:
        rc, lines, out = doctor(module_stack)
        assert rc == 1, out
        ln = line_of(lines, "FAIL", "mailbox %s (id %d)" % (name, desk.mid))
        # What the mailbox page says: the expired secret's own guidance.
        assert "AADSTS7000222" in ln.split(" -- ")[0], ln
        assert "secret" in ln.split(" -- ")[1].lower(), ln
        line_of(lines, "FAIL", "scans", "(id %d): needs_reauth" % desk.mid, "Reauthorize")
    finally:
        r = desk.admin.post("/api/mailboxes/%d/disconnect" % desk.mid)
        assert r.status_code == 200, r.text


# --- --help and exit codes ----------------------------------------------------

def admin(stack, *args, input=None):
    r = subprocess.run([str(stack.bin / "postdesk-admin"), *args],
                       env=dict(stack.env, POSTDESK_CONF=stack.conf), input=input,
                       stdin=None if input is not None else subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    keep(stack, r.stderr)
    return r


COMMANDS = ("doctor", "migrate", "bootstrap-admin", "create-agent", "reset-password",
            "create-api-key", "list-api-keys", "revoke-api-key")


def test_help_lists_every_command_on_one_line(module_stack):
    r = admin(module_stack, "--help")
    assert r.returncode == 0 and r.stderr == "", r
    for c in COMMANDS:
        assert len([ln for ln in r.stdout.splitlines() if ln.startswith("  %s " % c)]) == 1, \
            (c, r.stdout)
    assert r.stdout == admin(module_stack, "-h").stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(module_stack, command):
    r = admin(module_stack, command, "--help")
    assert r.returncode == 0 and r.stderr == "", r
    assert r.stdout.startswith("usage: postdesk-admin %s" % command), r.stdout
    if command in ("create-agent", "reset-password"):
        text = " ".join(r.stdout.split())
        for words in ("on a terminal", "without echo", "first line of standard input",
                      "generated and printed"):
            assert words in text, (words, r.stdout)


@pytest.mark.parametrize("args", [("bogus",), ("migrate", "extra"), ("doctor", "--nope"),
                                  ("create-agent", "x", "--bad"), ("list-api-keys", "1"),
                                  ()])
def test_bad_usage_is_one_line_and_exit_2(module_stack, args):
    r = admin(module_stack, *args)
    assert r.returncode == 2, r
    assert r.stdout == "", r
    if args:
        assert len(r.stderr.splitlines()) == 1, r.stderr


def test_password_sources_match_the_help(module_stack):
    """stdin's first line is the password; empty stdin generates and prints one."""
    user = pd.unique("pw")
    r = admin(module_stack, "create-agent", user, input="given-password-1\nignored\n")
    assert r.returncode == 0 and r.stdout == "", r
    pd.Client(module_stack).login(user, "given-password-1")
    user2 = pd.unique("pw")
    r = admin(module_stack, "create-agent", user2)  # stdin: /dev/null
    assert r.returncode == 0, r
    m = re.fullmatch(r"username=(\S+) password=(\S+)\n", r.stdout)
    assert m and m.group(1) == user2, r.stdout
    pd.Client(module_stack).login(user2, m.group(2))
    r = admin(module_stack, "reset-password", user, input="\n")
    assert r.returncode == 0, r
    m = re.fullmatch(r"username=(\S+) password=(\S+)\n", r.stdout)
    assert m, r.stdout
    pd.Client(module_stack).login(user, m.group(2))
    r = admin(module_stack, "create-agent", pd.unique("pw"), input="short\n")
    assert r.returncode == 1 and "at least 8" in r.stderr, r


def test_password_prompted_on_a_terminal_without_echo(module_stack):
    """On a terminal: asked twice, not echoed; two different answers fail."""
    def on_tty(user, *answers):
        master, slave = os.openpty()
        p = subprocess.Popen([str(module_stack.bin / "postdesk-admin"), "create-agent", user],
                             env=dict(module_stack.env, POSTDESK_CONF=module_stack.conf),
                             stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        os.close(slave)
        for a in answers:
            time.sleep(0.3)  # after the prompt switched echo off
            os.write(master, (a + "\n").encode())
        out, err = p.communicate(timeout=60)
        echoed = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            echoed += chunk
        os.close(master)
        keep(module_stack, err)
        return p.returncode, out, err, echoed.decode("utf-8", "replace")

    user = pd.unique("tty")
    rc, out, err, echoed = on_tty(user, "typed-password-1", "typed-password-1")
    assert rc == 0 and out == "", (rc, out, err)
    assert "New password" in err and "typed-password-1" not in echoed + err, (err, echoed)
    pd.Client(module_stack).login(user, "typed-password-1")
    rc, out, err, _ = on_tty(pd.unique("tty"), "typed-password-1", "typed-password-2")
    assert rc == 1 and "differ" in err, (rc, out, err)
    user = pd.unique("tty")
    rc, out, err, _ = on_tty(user, "")
    assert rc == 0, (rc, out, err)
    m = re.fullmatch(r"username=(\S+) password=(\S+)\n", out)
    assert m, out
    pd.Client(module_stack).login(user, m.group(2))
