"""Backup and restore (docs/operations.md): scripts/postdesk-backup on a
stack with a connected mailbox and tickets, scripts/postdesk-restore into a
fresh stack (its own MariaDB datadir and key file), then: the data is
there, the secrets unseal, the next scan makes no duplicate, mail taken in
after the backup comes back when moved to the Inbox, and a wrong key file
says so.
"""
import os
import secrets
import stat
import subprocess
from pathlib import Path

from pd_helpers import Client, Desk, new_agent

ROOT = Path(__file__).resolve().parent.parent.parent
BACKUP = ROOT / "scripts" / "postdesk-backup"
RESTORE = ROOT / "scripts" / "postdesk-restore"


def run(script, stack, *args):
    return subprocess.run([str(script), *map(str, args)],
                          env=dict(stack.env, POSTDESK_CONF=stack.conf),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


def scan(stack, mid):
    r = subprocess.run([str(stack.bin / "postdesk-scan"), "--once", "--mailbox", str(mid)],
                       env=dict(stack.env, POSTDESK_CONF=stack.conf), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    with open(stack.log_dir / "postdesk-scan.stderr", "a") as f:
        f.write(r.stderr)
    return r


def snapshot(stack):
    """What a restore must bring back, as rows."""
    q = {
        "tickets": "SELECT id, subject, status FROM ticket ORDER BY id",
        "incoming": "SELECT id, graph_id, attempt, outcome, state, ticket_id, HEX(sha256) "
                    "FROM incoming_email ORDER BY id",
        "agents": "SELECT id, username, role, HEX(password_hash) FROM agent ORDER BY id",
        "mailboxes": "SELECT id, name, status, HEX(secret_sealed), HEX(refresh_token_sealed) "
                     "FROM mailbox ORDER BY id",
        "attention": "SELECT id, attention FROM mailbox ORDER BY id",
        "triggers": "SELECT trigger_name FROM information_schema.triggers "
                    "WHERE trigger_schema = 'postdesk' ORDER BY 1",
        "migrations": "SELECT * FROM schema_migrations ORDER BY 1",
    }
    return {k: stack.sql(v) for k, v in q.items()}


def folder_of(desk, immutable_id):
    snap = desk.fake.get("mailboxes/" + desk.address)
    for f in snap["folders"]:
        if any(m["immutableId"] == immutable_id for m in f["messages"]):
            return f["displayName"]
    return None


def server_sql(stack, query):
    """SQL as MariaDB's root, in no database (stack.sql uses postdesk)."""
    r = subprocess.run(["mariadb", "--no-defaults", "--socket=%s/mysql.sock" % stack.run,
                        "-uroot", "-e", query], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (query, r.stderr)


def empty_database(stack):
    """The database as a new install's CREATE DATABASE leaves it."""
    server_sql(stack, "DROP DATABASE postdesk; CREATE DATABASE postdesk "
               "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


def sent(desk):
    """What the mailbox sent (the fake's log)."""
    return [e for e in desk.fake.log("sent_log")
            if e["mailbox"] == desk.address and e["kind"] != "auto_reply"]


def key_of(stack):
    return (stack.var / "secret.key").read_bytes()


def restart(stack):
    stack.stop()
    stack.start()


def test_backup_restore_into_a_fresh_stack(new_stack, fake_server, tmp_path):
    env = {"POSTDESK_LOGIN_URL": fake_server.url, "POSTDESK_GRAPH_URL": fake_server.url}
    a = new_stack(extra_env=env)
    a.start()
    admin = new_agent(a, "admin")
    agent = new_agent(a, "agent")
    d = Desk(a, fake_server, admin)
    # a second mailbox that marks processed mail read instead of moving it
    e = Desk(a, fake_server, admin)
    r = e.admin.patch("/api/mailboxes/%d" % e.mid, json={"processed_action": "mark_read"})
    assert r.status_code == 200, r.text
    e.send("Read before", "erin@example.com")
    assert scan(a, e.mid).returncode == 0
    d.send("First problem", "alice@example.com")
    assert scan(a, d.mid).returncode == 0
    # the crash between the commit and the move: logged, still in the Inbox
    m2 = d.send("Crash window", "bob@example.com")
    assert scan(a, d.mid).returncode == 0
    a.sql("UPDATE incoming_email SET state = 'stored' WHERE graph_id = '%s'" % m2["immutable_id"])
    d.ctl("messages/move", {"mailbox": d.address, "id": m2["immutable_id"]})
    # an agent's reply still queued at the time of the backup
    c = Client(a, timeout=60)
    c.login(*admin)
    t1 = int(a.sql("SELECT MIN(id) FROM ticket WHERE mailbox_id = %d" % d.mid)[0][0])
    r = c.post("/api/tickets/%d/reply" % t1, json={"body": "We are on it."})
    assert r.status_code == 202, r.text
    out_id = r.json()["id"]
    before = snapshot(a)
    assert len(before["tickets"]) == 3 and len(before["triggers"]) == 3, before

    r = run(BACKUP, a, tmp_path / "backups")
    assert r.returncode == 0, r.stderr
    out = Path(r.stdout.strip())
    assert out.parent == tmp_path / "backups" and out.name.startswith("postdesk-"), r.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert sorted(p.name for p in out.iterdir()) == \
        ["SHA256SUMS", "postdesk.conf", "postdesk.sql", "secret.key"]
    for p in out.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert (out / "secret.key").read_bytes() == key_of(a)
    dump = (out / "postdesk.sql").read_text()
    assert dump.count("TRIGGER IF NOT EXISTS incoming_attention_") == 3, dump[-3000:]
    assert dump.rstrip().splitlines()[-1].startswith("-- Dump completed")
    assert (out / "postdesk.conf").read_text() == Path(a.conf).read_text()

    # after the backup: one more mail becomes a ticket and goes to Deleted Items
    m3 = d.send("After the backup", "carol@example.com")
    assert scan(a, d.mid).returncode == 0
    assert folder_of(d, m3["immutable_id"]) == "Deleted Items"
    assert len(sent(d)) == 1  # the reply went out
    e.send("Read after", "frank@example.com")
    assert scan(a, e.mid).returncode == 0
    assert a.sql("SELECT subject FROM ticket WHERE mailbox_id = %d ORDER BY id" % e.mid) == \
        [["Read before"], ["Read after"]]
    # the Inbox as the restore will find it: the crash-window mail still there
    d.ctl("messages/move", {"mailbox": d.address, "id": m2["immutable_id"]})
    a.stop()  # the old server is gone

    # a fresh server: its own datadir and key; the install's empty database
    b = new_stack(extra_env=env)
    b.start()
    assert key_of(b) != key_of(a)
    r = run(RESTORE, b, out)
    assert r.returncode == 1 and "is not empty" in r.stderr, r  # never over live data
    empty_database(b)
    b.stop()
    b.start_db()
    replaced = (b.var / "secret.key").stat()
    r = run(RESTORE, b, out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert key_of(b) == (out / "secret.key").read_bytes()
    st = (b.var / "secret.key").stat()  # the replaced one's owner and mode
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == \
        (stat.S_IMODE(replaced.st_mode), replaced.st_uid, replaced.st_gid)
    assert len(list(b.var.glob("secret.key.replaced-*"))) == 1
    b.start()
    assert snapshot(b) == before

    # agents sign in with their passwords; the mailbox's secrets unseal
    Client(b).login(*agent)
    c = Client(b, timeout=60)
    c.login(*admin)
    r = c.post("/api/mailboxes/%d/test" % d.mid)
    assert r.status_code == 200 and r.json()["passed"] is True, r.text

    # the next scan finishes the crash-window mail and makes no second ticket
    r = scan(b, d.mid)
    assert r.returncode == 0, r.stderr
    assert b.sql("SELECT attempt, state FROM incoming_email WHERE graph_id = '%s'"
                 % m2["immutable_id"]) == [["1", "done"]]
    assert folder_of(d, m2["immutable_id"]) == "Deleted Items"
    assert b.sql("SELECT id, subject FROM ticket ORDER BY id") == \
        [t[:2] for t in before["tickets"]]
    # the reply the old server sent after the backup is found in Sent
    # Items, not sent a second time
    assert len(sent(d)) == 1, sent(d)
    assert b.sql("SELECT status FROM outgoing_email WHERE id = %d" % out_id) == [["sent"]]

    # mail taken in after the backup is not in the restore; moved back to
    # the Inbox, the next scan takes it in
    assert b.sql("SELECT COUNT(*) FROM incoming_email WHERE graph_id = '%s'"
                 % m3["immutable_id"]) == [["0"]]
    d.ctl("messages/move", {"mailbox": d.address, "id": m3["immutable_id"]})
    assert scan(b, d.mid).returncode == 0
    assert b.sql("SELECT subject FROM ticket WHERE mailbox_id = %d ORDER BY id" % d.mid) == \
        [["First problem"], ["Crash window"], ["After the backup"]]
    # under "mark as read" the mail never left the Inbox: the next scan
    # takes in what the restore lacks, and only that
    assert scan(b, e.mid).returncode == 0
    assert b.sql("SELECT subject FROM ticket WHERE mailbox_id = %d ORDER BY id" % e.mid) == \
        [["Read before"], ["Read after"]]

    # a wrong key file: said in words, nothing garbled, nothing lost
    key = key_of(b)
    (b.var / "secret.key").write_bytes(os.urandom(32))
    restart(b)
    c = Client(b, timeout=60)
    c.login(*admin)
    r = c.post("/api/mailboxes/%d/test" % d.mid)
    assert r.status_code == 200 and r.json()["passed"] is False, r.text
    assert "cannot be opened with this key_file" in r.text, r.text
    d.send("While the key was wrong", "dave@example.com")
    r = scan(b, d.mid)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "cannot be opened with this key_file" in r.stderr + b.logs(), r.stderr
    assert b.sql("SELECT COUNT(*) FROM ticket WHERE mailbox_id = %d" % d.mid) == [["3"]]
    # the right key back: the mailbox works again
    (b.var / "secret.key").write_bytes(key)
    restart(b)
    c = Client(b, timeout=60)
    c.login(*admin)
    r = c.post("/api/mailboxes/%d/test" % d.mid)
    assert r.status_code == 200 and r.json()["passed"] is True, r.text
    assert scan(b, d.mid).returncode == 0
    assert b.sql("SELECT COUNT(*) FROM ticket WHERE mailbox_id = %d" % d.mid) == [["4"]]


def test_a_damaged_backup_is_refused(new_stack, tmp_path):
    a = new_stack()
    a.start()
    r = run(BACKUP, a, tmp_path)
    assert r.returncode == 0, r.stderr
    out = Path(r.stdout.strip())
    with open(out / "postdesk.sql", "a") as f:
        f.write("-- " + secrets.token_hex(4) + "\n")
    empty_database(a)
    r = run(RESTORE, a, out)
    assert r.returncode == 1 and "does not match SHA256SUMS" in r.stderr, r
    assert a.sql("SELECT COUNT(*) FROM information_schema.tables "
                 "WHERE table_schema = 'postdesk'") == [["0"]]
