"""The Debian package (make deb, scripts/deb.sh, packaging/): built here,
read with dpkg-deb, unpacked into a temporary root and checked there —
every file's place, owner and mode, no placeholder left, the conffiles and
md5sums, the programs' version, lintian with only the overrides of
packaging/deb/lintian-overrides, systemd-analyze verify on the units (in a
root of their own: systemd does not run here), and the maintainer scripts
run for real in a mount namespace whose /etc, /var/log and /run are
copies, so the user postdesk they make, the key and the logs land in the
copies and this machine is left as it was.
"""
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
VERSION = re.search(r'#define POSTDESK_VERSION "([^"]+)"',
                    (ROOT / "lib/base/version.h").read_text()).group(1)
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                      check=True).stdout.strip()
DEB = ROOT / "build" / ("postdesk_%s_%s.deb" % (VERSION, ARCH))
COMPILED = ["usr/bin/postdesk-admin", "usr/bin/postdesk-scan",
            "usr/lib/postdesk/postdesk-api", "usr/lib/postdesk/postdesk-oauth"]
PROGRAMS = COMPILED + ["usr/bin/postdesk-backup", "usr/bin/postdesk-restore"]
UNITS = ["postdesk-api.socket", "postdesk-api.service", "postdesk-oauth.socket",
         "postdesk-oauth.service", "postdesk-scan.service", "postdesk-scan.timer"]
UNIT_DIR = "usr/lib/systemd/system"
PLACEHOLDER = re.compile(r"@[A-Z][A-Z_]*@")


def run(*cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    return subprocess.run([str(c) for c in cmd], **kw)


@pytest.fixture(scope="module")
def deb():
    r = run("make", "--no-print-directory", "deb", cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    yield DEB
    # make deb built the programs with PREFIX=/usr's defaults: build them
    # again as a plain "make" does, for the tests after this one.
    run("make", "--no-print-directory", "all", cwd=ROOT)


@pytest.fixture(scope="module")
def tree(deb):
    """The package unpacked: {root, control: DEBIAN/ unpacked}."""
    d = Path(tempfile.mkdtemp(prefix="pddeb-"))
    root, control = d / "root", d / "DEBIAN"
    assert run("dpkg-deb", "-x", deb, root).returncode == 0
    assert run("dpkg-deb", "-e", deb, control).returncode == 0
    yield {"dir": d, "root": root, "control": control}
    shutil.rmtree(d, ignore_errors=True)


def fields(deb):
    out = run("dpkg-deb", "-f", deb).stdout
    parsed, key = {}, None
    for line in out.splitlines():
        if line.startswith(" ") and key:
            parsed[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            parsed[key] = value.strip()
    return parsed


def test_control(deb):
    f = fields(deb)
    assert f["Package"] == "postdesk"
    assert f["Version"] == VERSION
    assert f["Architecture"] == ARCH
    assert re.match(r".+ <[^@ ]+@[^@ ]+>$", f["Maintainer"]), f["Maintainer"]
    depends = [d.strip().split(" ")[0] for d in f["Depends"].split(",")]
    for lib in ("libc6", "libmariadb3", "libjansson4", "libsodium23", "libcurl4",
                "libfcgi0ldbl", "adduser"):
        assert lib in depends, f["Depends"]
    assert "nginx | httpd" in f["Recommends"]
    assert "cron | systemd-sysv" in f["Recommends"]
    assert f["Section"] and f["Priority"] and f["Description"]
    assert int(f["Installed-Size"]) > 500


def contents(deb):
    """[(mode string, owner, path)] of the data archive (dpkg-deb --contents)."""
    rows = []
    for line in run("dpkg-deb", "--contents", deb).stdout.splitlines():
        parts = line.split(None, 5)
        rows.append((parts[0], parts[1], parts[5].split(" -> ")[0].lstrip(".")))
    return rows


def test_every_file_owned_by_root_with_its_mode(deb):
    rows = contents(deb)
    assert rows
    programs = {"/" + p for p in PROGRAMS}
    for mode, owner, path in rows:
        assert owner == "root/root", (path, owner)
        if mode.startswith("d"):
            assert mode == "drwxr-xr-x", (path, mode)
        elif path in programs:
            assert mode == "-rwxr-xr-x", (path, mode)
        else:
            assert mode == "-rw-r--r--", (path, mode)


def test_files_in_their_places(tree):
    root = tree["root"]
    expected = PROGRAMS + [
        "etc/postdesk/postdesk.conf.example", "etc/cron.d/postdesk",
        "etc/nginx/snippets/postdesk.conf", "etc/nginx/snippets/postdesk-headers.conf",
        "etc/nginx/conf.d/postdesk-upstream.conf", "usr/share/postdesk/portal/index.html",
        "usr/share/doc/postdesk/copyright", "usr/share/doc/postdesk/changelog.gz",
        "usr/share/man/man8/postdesk-admin.8.gz", "usr/share/man/man8/postdesk-scan.8.gz",
        "usr/share/man/man8/postdesk-backup.8.gz", "usr/share/man/man8/postdesk-restore.8.gz",
        "etc/logrotate.d/postdesk", "usr/lib/tmpfiles.d/postdesk.conf",
        "usr/share/lintian/overrides/postdesk",
    ] + [UNIT_DIR + "/" + u for u in UNITS]
    for p in expected:
        assert (root / p).is_file(), p
    sql = sorted(p.name for p in (root / "usr/share/postdesk/sql").iterdir())
    assert sql == sorted(p.name for p in (ROOT / "sql").glob("*.sql"))
    portal = {p.relative_to(ROOT / "nginx/portal") for p in (ROOT / "nginx/portal").rglob("*")
              if p.is_file()}
    assert portal == {p.relative_to(root / "usr/share/postdesk/portal")
                      for p in (root / "usr/share/postdesk/portal").rglob("*") if p.is_file()}
    # What the postinst makes, owned by postdesk, is not in the package.
    for p in ("etc/postdesk/postdesk.conf", "etc/postdesk/secret.key", "var"):
        assert not (root / p).exists(), p
    # Nothing outside the places a package may write.
    tops = {p.name for p in root.iterdir()}
    assert tops <= {"etc", "usr"}, tops


def text_files(root):
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.endswith(".gz") and "/portal/" not in str(p):
            data = p.read_bytes()
            if b"\0" not in data:
                yield p, data.decode("utf-8")


def test_no_placeholder_left(tree):
    for p, text in text_files(tree["root"]):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.lstrip().startswith(("#", ".\\\"")):
                assert not PLACEHOLDER.search(line), "%s:%d: %s" % (p, n, line)
    for p in tree["control"].iterdir():
        assert not PLACEHOLDER.search(p.read_text()), p


def test_paths_named_are_the_packages(tree):
    """Every program a unit, the cron line or the snippet names is in the package,
    where the configuration says."""
    root = tree["root"]
    named = set()
    for p, text in text_files(root / "etc"):
        named |= set(re.findall(r"(/usr/[\w/.-]+)", text))
    for u in UNITS:
        text = (root / UNIT_DIR / u).read_text()
        named |= set(re.findall(r"^Exec\w+=(/usr/[\w/.-]+)", text, re.M))
        for conf in re.findall(r"POSTDESK_CONF=(\S+)", text):
            assert conf == "/etc/postdesk/postdesk.conf", (u, conf)
    assert "/usr/bin/postdesk-scan" in named
    assert "/usr/lib/postdesk/postdesk-api" in named
    for path in named:
        assert (root / path.lstrip("/")).exists(), path


def test_conffiles_and_md5sums(tree):
    root, control = tree["root"], tree["control"]
    conffiles = (control / "conffiles").read_text().split()
    under_etc = sorted("/" + str(p.relative_to(root)) for p in (root / "etc").rglob("*")
                       if p.is_file())
    assert sorted(conffiles) == under_etc
    assert "/etc/cron.d/postdesk" in conffiles
    assert "/etc/nginx/snippets/postdesk.conf" in conffiles
    sums = {}
    for line in (control / "md5sums").read_text().splitlines():
        digest, path = line.split("  ", 1)
        sums[path] = digest
    others = {str(p.relative_to(root)) for p in root.rglob("*")
              if p.is_file() and not str(p.relative_to(root)).startswith("etc/")}
    assert set(sums) == others
    for path, digest in sums.items():
        assert hashlib.md5((root / path).read_bytes()).hexdigest() == digest, path


def test_programs_stripped_and_say_the_version(tree):
    for p in COMPILED:
        sections = run("readelf", "-S", tree["root"] / p).stdout
        assert ".symtab" in sections or ".text" in sections, p  # an ELF file
        assert ".symtab" not in sections and ".debug_info" not in sections, p
    for p in COMPILED:
        r = run(tree["root"] / p, "--version")
        assert r.stdout.strip() == "%s %s" % (Path(p).name, VERSION), r


def test_changelog_names_the_version(tree):
    import gzip
    first = gzip.decompress((tree["root"] / "usr/share/doc/postdesk/changelog.gz")
                            .read_bytes()).decode().splitlines()[0]
    assert first.startswith("postdesk (%s) " % VERSION), first


def test_maintainer_scripts_are_sh_with_set_e(tree):
    for name in ("postinst", "prerm", "postrm"):
        p = tree["control"] / name
        assert stat.S_IMODE(p.stat().st_mode) == 0o755, name
        text = p.read_text()
        assert text.startswith("#!/bin/sh\n"), name
        assert re.search(r"^set -e$", text, re.M), name
        r = run("sh", "-n", p)
        assert r.returncode == 0, r.stderr


def test_lintian_clean_with_only_the_explained_overrides(deb):
    r = run("lintian", "--pedantic", "--display-info", "--fail-on",
            "error,warning,info,pedantic", deb)
    said = [l for l in (r.stdout + r.stderr).splitlines()
            if l and "running with root privileges" not in l]
    assert r.returncode == 0 and not said, "\n".join(said)
    # Each override has its one-line reason above it and is used.
    lines = (ROOT / "packaging/deb/lintian-overrides").read_text().splitlines()
    overrides = [i for i, l in enumerate(lines) if l.startswith("postdesk: ")]
    assert overrides
    for i in overrides:  # the reason: the comment above it (or above its group)
        j = i - 1
        while j > 0 and lines[j].startswith("postdesk: "):
            j -= 1
        assert lines[j].startswith("# "), lines[i]
    r = run("lintian", "--pedantic", "--display-info", "--show-overrides", deb)
    shown = [l for l in r.stdout.splitlines() if l.startswith("O: ")]
    assert len(shown) == len(overrides), r.stdout


def test_units_pass_systemd_analyze_verify(tree):
    """In a root of their own holding the package and this machine's units
    (sysinit.target and the rest): systemd-analyze checks every key, that
    each Exec program exists there, and that the units load together."""
    root = tree["dir"] / "verify"
    shutil.copytree(tree["root"], root, symlinks=True)
    shutil.copytree("/usr/lib/systemd/system", root / UNIT_DIR, symlinks=True,
                    dirs_exist_ok=True)
    for link in ("bin", "lib"):
        (root / link).symlink_to("usr/" + link)
    shutil.copy2("/usr/bin/kill", root / "usr/bin/kill")
    r = run("systemd-analyze", "verify", "--man=no", "--root=%s" % root,
            *["/" + UNIT_DIR + "/" + u for u in UNITS])
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr
    sock = (root / UNIT_DIR / "postdesk-api.socket").read_text()
    for line in ("ListenStream=/run/postdesk/api.sock", "SocketUser=postdesk",
                 "SocketGroup=www-data", "SocketMode=0660"):
        assert line in sock.splitlines(), line
    svc = (root / UNIT_DIR / "postdesk-api.service").read_text().splitlines()
    for line in ("User=postdesk", "Group=postdesk", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ReadWritePaths=/var/log/postdesk /run/postdesk",
                 "PrivateTmp=yes"):
        assert line in svc, line
    assert any(l.startswith("ExecStart=/usr/lib/postdesk/postdesk-api --workers ") for l in svc)


# --- the maintainer scripts, run for real in a mount namespace
class Sandbox:
    """/etc, /var/log, /run and /usr/lib/tmpfiles.d replaced, in a private
    mount namespace, by copies under one temporary directory; fake
    systemctl and deb-systemd-invoke that write down how they were called."""

    def __init__(self, base, tree):
        self.base = base
        self.etc, self.log, self.run, self.tmpfiles = (base / n for n in
                                                       ("etc", "log", "run", "tmpfiles"))
        shutil.copytree("/etc", self.etc, symlinks=True)
        shutil.copytree(tree["root"] / "etc", self.etc, symlinks=True, dirs_exist_ok=True)
        # A machine the package was never on: no user postdesk yet.
        for db in ("passwd", "group", "shadow", "gshadow"):
            f = self.etc / db
            if f.exists():
                f.write_text("".join(l for l in f.read_text().splitlines(True)
                                     if not l.startswith("postdesk:")))
        self.log.mkdir()
        self.run.mkdir()
        shutil.copytree("/usr/lib/tmpfiles.d", self.tmpfiles, symlinks=True)
        pkg_tmpfiles = tree["root"] / "usr/lib/tmpfiles.d"
        if pkg_tmpfiles.is_dir():
            shutil.copytree(pkg_tmpfiles, self.tmpfiles, dirs_exist_ok=True)
        self.fakes = base / "fakes"
        self.fakes.mkdir()
        self.calls = base / "calls"
        for tool in ("systemctl", "deb-systemd-invoke"):
            f = self.fakes / tool
            f.write_text('#!/bin/sh\necho "%s $*" >>%s\n' % (tool, self.calls))
            f.chmod(0o755)
        self.scripts = tree["control"]

    def script(self, name, *args, systemd=False):
        """Run DEBIAN/name ARGS in the namespace; returns CompletedProcess."""
        inner = ("set -e; for d in etc:/etc log:/var/log run:/run tmpfiles:/usr/lib/tmpfiles.d; do"
                 ' mount --bind "$B/${d%%:*}" "${d#*:}"; done; %s'
                 ' exec "$@"') % ("mkdir -p /run/systemd/system;" if systemd else "")
        env = dict(os.environ, B=str(self.base),
                   PATH="%s:/usr/sbin:/usr/bin:/sbin:/bin" % self.fakes)
        return run("unshare", "--mount", "--propagation", "private", "sh", "-c", inner, "sh",
                   self.scripts / name, *args, env=env, timeout=120)

    def ids(self, name, db):
        for line in (self.etc / db).read_text().splitlines():
            parts = line.split(":")
            if parts[0] == name:
                return parts
        return None

    def owner(self, path):
        st = path.stat()
        user = next(l.split(":")[0] for l in (self.etc / "passwd").read_text().splitlines()
                    if l.split(":")[2] == str(st.st_uid))
        group = next(l.split(":")[0] for l in (self.etc / "group").read_text().splitlines()
                     if l.split(":")[2] == str(st.st_gid))
        return "%o %s:%s" % (stat.S_IMODE(st.st_mode), user, group)

    def called(self):
        return self.calls.read_text().splitlines() if self.calls.exists() else []


@pytest.fixture
def sandbox(tree):
    base = Path(tempfile.mkdtemp(prefix="pdsb-"))
    yield Sandbox(base, tree)
    shutil.rmtree(base, ignore_errors=True)


def test_postinst_makes_user_config_key_logs_once(sandbox):
    sb = sandbox
    assert sb.ids("postdesk", "passwd") is None
    r = sb.script("postinst", "configure", "")
    assert r.returncode == 0, r.stdout + r.stderr
    user = sb.ids("postdesk", "passwd")
    assert user, "no user postdesk"
    assert int(user[2]) < 1000 and user[5] == "/nonexistent", user
    assert user[3] == sb.ids("postdesk", "group")[2]
    conf, key = sb.etc / "postdesk/postdesk.conf", sb.etc / "postdesk/secret.key"
    assert sb.owner(conf) == "640 root:postdesk"
    assert conf.read_text() == (sb.etc / "postdesk/postdesk.conf.example").read_text()
    assert sb.owner(key) == "640 root:postdesk"
    assert len(key.read_bytes()) == 32
    assert sb.owner(sb.log / "postdesk") == "750 postdesk:adm"
    assert sb.owner(sb.log / "postdesk/postdesk.log") == "640 postdesk:adm"
    rundir = sb.run / "postdesk"
    assert rundir.is_dir() and sb.owner(rundir).split(" ")[1] == "postdesk:www-data"
    assert not list((sb.etc / "postdesk").glob("*.new"))
    assert sb.called() == []  # no systemd here

    # Again (an upgrade, systemd running): nothing that exists is replaced.
    key_bytes = key.read_bytes()
    conf.write_text(conf.read_text() + "db_password = mine\n")
    conf.chmod(0o600)
    r = sb.script("postinst", "configure", VERSION, systemd=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert key.read_bytes() == key_bytes
    assert conf.read_text().endswith("db_password = mine\n")
    assert sb.owner(conf) == "600 root:postdesk"
    assert sb.ids("postdesk", "passwd") == user
    assert sb.called() == ["systemctl --system daemon-reload",
                           "deb-systemd-invoke restart postdesk-api.service "
                           "postdesk-oauth.service"]


def test_prerm_stops_and_purge_removes_only_what_postinst_made(sandbox):
    sb = sandbox
    assert sb.script("postinst", "configure", "").returncode == 0
    r = sb.script("prerm", "remove", systemd=True)
    assert r.returncode == 0, r.stderr
    assert sb.called()[0].startswith("deb-systemd-invoke stop postdesk-scan.timer")
    r = sb.script("postrm", "remove")
    assert r.returncode == 0, r.stderr
    assert (sb.etc / "postdesk/secret.key").exists()  # remove keeps the configuration
    # dpkg removes the conffiles before postrm purge.
    for f in ("postdesk/postdesk.conf.example",):
        (sb.etc / f).unlink()
    r = sb.script("postrm", "purge")
    assert r.returncode == 0, r.stderr
    assert not (sb.etc / "postdesk").exists()
    assert not (sb.log / "postdesk").exists()
    assert sb.ids("postdesk", "passwd"), "purge keeps the system user"


def test_cron_line_stands_aside_while_the_timer_is_enabled(tree, sandbox):
    """The cron line's command, with a stand-in for postdesk-scan, run with
    and without the timer's enable link in the namespace's /etc."""
    sb = sandbox
    line = [l for l in (tree["root"] / "etc/cron.d/postdesk").read_text().splitlines()
            if l and not l.startswith("#") and not re.match(r"^\w+=", l)]
    assert len(line) == 1, line
    fields_ = line[0].split(None, 6)
    assert fields_[:5] == ["*"] * 5 and fields_[5] == "postdesk", line
    marker = sb.base / "ran"
    fake = sb.base / "postdesk-scan"
    fake.write_text("#!/bin/sh\necho ran >>%s\n" % marker)
    fake.chmod(0o755)
    command = fields_[6].replace("/usr/bin/postdesk-scan", str(fake))
    assert command != fields_[6]
    wants = sb.etc / "systemd/system/timers.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for enabled in (False, True, False):
        link = wants / "postdesk-scan.timer"
        if enabled:
            link.symlink_to("/usr/lib/systemd/system/postdesk-scan.timer")
        elif link.is_symlink():
            link.unlink()
        marker.unlink(missing_ok=True)
        (sb.log / "postdesk").mkdir(exist_ok=True)
        r = sb.script("postinst", "configure", "")  # a runnable script to exec; sets up logs
        assert r.returncode == 0
        r = run("unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$B/etc" /etc && mount --bind "$B/log" /var/log && sh -c "$1"',
                "sh", command, env=dict(os.environ, B=str(sb.base)), timeout=60)
        assert marker.exists() != enabled, (enabled, r.stdout, r.stderr)
