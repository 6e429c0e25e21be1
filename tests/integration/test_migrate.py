"""Migrations (issue 9): `postdesk-admin migrate` survives being stopped
between any two statements, and several started at once on an empty
database all succeed with the right schema (lib/domain/migrate.c: the lock of
lib/store/migrate.c, statements that may run twice).

Each test migrates databases of its own (pdm_<hex>) in the session stack's
MariaDB and drops them afterwards."""
import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SQL_DIR = ROOT / "sql"
STOPPED = 3  # lib/domain/migrate.c's exit status after POSTDESK_MIGRATE_STOP_AFTER


def statements(path):
    """lib/domain/migrate.c's migrate_split(): -- lines dropped, a statement ends
    with ';' at the end of a line."""
    out, cur = [], []
    for line in Path(path).read_text().splitlines():
        s = line.strip()
        if not s or s.startswith("--"):
            continue
        cur.append(s)
        if s.endswith(";"):
            out.append("\n".join(cur)[:-1])
            cur = []
    assert not cur, path
    return out


def files():
    return sorted(p for p in SQL_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


ALL = [st for f in files() for st in statements(f)]


class Databases:
    """Fresh databases in the stack's MariaDB, and migrate runs on them."""

    def __init__(self, stack):
        self.stack, self.made = stack, []

    def root(self, sql, db=""):
        r = subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % self.stack.run,
                            "-uroot", "-N", "-B", *([db] if db else []), "-e", sql],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (sql, r.stderr)
        return [line.split("\t") for line in r.stdout.splitlines()]

    def new(self):
        name = "pdm_" + secrets.token_hex(4)
        grants = " ".join("GRANT ALL PRIVILEGES ON %s.* TO 'postdesk'@'%s';" % (name, h)
                          for h in ("localhost", "127.0.0.1"))
        self.root("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; %s"
                  % (name, grants))
        self.made.append(name)
        return name

    def env(self, db, **extra):
        env = dict(self.stack.env, POSTDESK_CONF=self.stack.conf, POSTDESK_DB_NAME=db,
                   POSTDESK_SQL_DIR=str(SQL_DIR))
        env.pop("POSTDESK_MIGRATE_STOP_AFTER", None)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, db, **extra):
        return subprocess.Popen([str(self.stack.bin / "postdesk-admin"), "migrate"],
                                env=self.env(db, **extra), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def migrate(self, db, **extra):
        p = self.start(db, **extra)
        out, err = p.communicate(timeout=120)
        if err:  # for the sanitizer check at the end of the session
            self.stack.log_dir.mkdir(parents=True, exist_ok=True)
            with open(self.stack.log_dir / "postdesk-admin.log", "a") as f:
                f.write(err)
        return p.returncode, out, err

    def schema(self, db):
        """Every table's SHOW CREATE TABLE (AUTO_INCREMENT counters left
        out), and the versions recorded."""
        tables = [r[0] for r in self.root("SHOW TABLES", db)]
        out = {}
        for t in tables:
            ddl = self.root("SHOW CREATE TABLE `%s`" % t, db)[0][1]
            out[t] = re.sub(r" AUTO_INCREMENT=\d+", "", ddl)
        versions = self.root("SELECT version FROM schema_migrations ORDER BY version", db)
        return out, [v[0] for v in versions]

    def drop_all(self):
        for name in self.made:
            self.root("DROP DATABASE IF EXISTS %s" % name)


@pytest.fixture
def dbs(stack):
    d = Databases(stack)
    yield d
    d.drop_all()


@pytest.fixture(scope="module")
def reference(stack):
    """The schema one uninterrupted migrate makes."""
    d = Databases(stack)
    db = d.new()
    rc, out, err = d.migrate(db)
    assert rc == 0, (out, err)
    yield d.schema(db)
    d.drop_all()


def test_every_statement_may_run_twice():
    """The rule that makes a stopped migrate resumable, checked on the files."""
    bad = []
    for f in files():
        for st in statements(f):
            flat = " ".join(st.split()).upper()
            for m in re.finditer(r"\b(CREATE TABLE|ADD COLUMN|ADD KEY|ADD INDEX|ADD UNIQUE KEY|"
                                 r"ADD CONSTRAINT|ADD FOREIGN KEY)\b(?! IF NOT EXISTS)", flat):
                bad.append((f.name, m.group(0), flat[:80]))
            for m in re.finditer(r"\b(DROP TABLE|DROP COLUMN|DROP KEY|DROP INDEX|"
                                 r"DROP FOREIGN KEY|DROP CONSTRAINT)\b(?! IF EXISTS)", flat):
                bad.append((f.name, m.group(0), flat[:80]))
            if re.search(r"\b(RENAME|CHANGE COLUMN|INSERT INTO)\b", flat):
                bad.append((f.name, "not repeatable", flat[:80]))
    assert bad == []


def test_rerun_after_a_partial_file(dbs, reference):
    """A crash after some statements of a file, before it was recorded: the
    next migrate runs the file again (old code: 1050 Table exists / 1060
    Duplicate column)."""
    for n in (2, len(statements(files()[0])) + 1):
        db = dbs.new()
        for st in ALL[:n]:
            dbs.root(st, db)
        rc, out, err = dbs.migrate(db)
        assert rc == 0, (n, out, err)
        assert dbs.schema(db) == reference


def test_stopped_after_any_statement_then_run_again(dbs, reference):
    """POSTDESK_MIGRATE_STOP_AFTER=N: the process ends after N statements
    as a crash would, lock held and the file unrecorded; the next migrate
    takes the dead process's lock at once and completes."""
    assert len(ALL) > 10
    for n in range(1, len(ALL) + 1):
        db = dbs.new()
        rc, out, err = dbs.migrate(db, POSTDESK_MIGRATE_STOP_AFTER=n)
        assert rc == STOPPED, (n, rc, out, err)
        holder = dbs.root("SELECT holder FROM schema_migration_lock", db)
        assert holder[0][0] != "NULL", (n, holder)
        t0 = time.monotonic()
        rc, out, err = dbs.migrate(db)
        assert rc == 0, (n, out, err)
        assert time.monotonic() - t0 < 30, "waited for a dead process's lock"
        assert dbs.schema(db) == reference, n
        dbs.root("DROP DATABASE %s" % db)


def test_several_at_once_on_an_empty_database(dbs, reference):
    for _ in range(3):
        db = dbs.new()
        procs = [dbs.start(db) for _ in range(3)]
        results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
        for out, err, rc in results:
            assert rc == 0, (out, err)
        assert sum(out.count("applied ") for out, _, _ in results) == len(files()), results
        assert dbs.schema(db) == reference
        dbs.root("DROP DATABASE %s" % db)


def test_waits_for_a_live_holder_until_it_expires(dbs, reference):
    """A lock held by a process elsewhere (another host) is waited for, and
    taken once it expires."""
    db = dbs.new()
    rc, out, err = dbs.migrate(db)
    assert rc == 0, (out, err)
    dbs.root("UPDATE schema_migration_lock SET holder = 'elsewhere/1/x', host = 'elsewhere', "
             "pid = 1, expires_at = UTC_TIMESTAMP() + INTERVAL 3 SECOND", db)
    t0 = time.monotonic()
    rc, out, err = dbs.migrate(db)
    took = time.monotonic() - t0
    assert rc == 0, (out, err)
    assert "waiting for another migrate (elsewhere/1/x)" in out
    assert 2 <= took < 30, took
    assert dbs.root("SELECT holder FROM schema_migration_lock", db) == [["NULL"]]


def test_two_files_with_one_number_stop_migrate(dbs, tmp_path):
    for f in files():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "0001_again.sql").write_text("SELECT 1;\n")
    db = dbs.new()
    rc, out, err = dbs.migrate(db, POSTDESK_SQL_DIR=tmp_path)
    assert rc != 0 and "two migrations numbered 0001" in err, (out, err)
