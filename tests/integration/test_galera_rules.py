"""What MariaDB Galera needs of the schema and the SQL (docs/scaling.md
"MariaDB Galera"), checked on every run, not only on the cluster of
tests/integration/test_galera.py: after the migrations every table has a
primary key (Galera replicates rows by it; a table without one replicates
badly or not at all), and no SQL of lib/, bin/, cgi-bin/ or sql/ takes
GET_LOCK() or LOCK TABLES (neither locks anything across the nodes)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_table_has_a_primary_key(stack):
    tables = stack.sql("SELECT table_name FROM information_schema.TABLES "
                       "WHERE table_schema = 'postdesk' AND table_type = 'BASE TABLE'")
    assert len(tables) >= 15, tables  # the migrations did run
    without = stack.sql(
        "SELECT t.table_name FROM information_schema.TABLES t "
        "LEFT JOIN information_schema.TABLE_CONSTRAINTS c "
        "ON c.table_schema = t.table_schema AND c.table_name = t.table_name "
        "AND c.constraint_type = 'PRIMARY KEY' "
        "WHERE t.table_schema = 'postdesk' AND t.table_type = 'BASE TABLE' "
        "AND c.constraint_name IS NULL")
    assert without == [], "tables without a primary key: %s" % without


def test_every_table_is_innodb(stack):
    # Galera replicates InnoDB only: a MyISAM or Aria table would stay on
    # the node that wrote it.
    other = stack.sql("SELECT table_name, engine FROM information_schema.TABLES "
                      "WHERE table_schema = 'postdesk' AND table_type = 'BASE TABLE' "
                      "AND engine <> 'InnoDB'")
    assert other == [], other


def _code(path):
    """The file's text without comments (C /* */ and //, SQL --), so a
    comment may name what the code must not do."""
    text = path.read_text(errors="replace")
    if path.suffix in (".c", ".h"):
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"^\s*//.*$", " ", text, flags=re.M)
    else:
        text = re.sub(r"--[^\n]*", " ", text)
    return text


BANNED = re.compile(r"\b(GET_LOCK|RELEASE_LOCK|IS_FREE_LOCK|LOCK\s+TABLES?|UNLOCK\s+TABLES)\b", re.I)


def test_no_named_locks_or_table_locks():
    files = [p for d in ("lib", "bin", "cgi-bin") for p in (ROOT / d).rglob("*.[ch]")]
    files += sorted((ROOT / "sql").glob("*.sql"))
    assert len(files) > 50, files
    found = []
    for p in files:
        for m in BANNED.finditer(_code(p)):
            found.append("%s: %s" % (p.relative_to(ROOT), m.group(0)))
    assert found == [], "\n".join(found)


def test_the_check_sees_what_it_bans(tmp_path):
    # The check above must catch the code it is about, and only that.
    c = tmp_path / "x.c"
    c.write_text('/* GET_LOCK() is not used */\nstatic const char Q[] = "SELECT GET_LOCK(?, 1)";\n')
    s = tmp_path / "x.sql"
    s.write_text("-- no LOCK TABLES here\nLOCK TABLES mailbox WRITE;\n")
    assert [m.group(0) for m in BANNED.finditer(_code(c))] == ["GET_LOCK"]
    assert [m.group(0) for m in BANNED.finditer(_code(s))] == ["LOCK TABLES"]
