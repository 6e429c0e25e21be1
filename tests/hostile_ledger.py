"""Reading back what postdesk-scan made of hostile mail (shared by
tests/integration/test_hostile_mail.py and test_hostile_random.py).

    Ledger(stack, mid).rows()      {graph_id: [row, ...]} oldest first; a row is a dict
                                   of incoming_email columns, text decoded from HEX
                                   (so NUL, CR, LF and tabs come back exactly)
    final(rows)                    the outcome the chain ends in
    missing_columns(stack)         the isolation columns (issue 8) not in the schema yet
"""
FINAL = ("ticket_created", "ticket_updated", "suppressed_loop", "ignored_by_rule", "rejected",
         "quarantined")
# Issue 8's isolation: a failed message keeps its row: outcome 'failed', these columns.
ISOLATION_COLUMNS = ("failures", "error", "next_try_at")
ENV = {"POSTDESK_RETRY_BACKOFF": "0"}


def unhex(v):
    if v is None or v == "NULL":
        return None
    return bytes.fromhex(v).decode("utf-8", "replace")


def columns(stack):
    return {r[0] for r in stack.sql("SELECT column_name FROM information_schema.columns WHERE "
                                    "table_schema = DATABASE() AND table_name = 'incoming_email'")}


def missing_columns(stack):
    have = columns(stack)
    return [c for c in ISOLATION_COLUMNS if c not in have]


class Ledger:
    TEXT = ("trace", "automatic", "from_addr", "from_name", "to_addrs", "internet_message_id")

    def __init__(self, stack, mid):
        self.stack, self.mid = stack, mid
        have = columns(stack)
        self.text = [c for c in self.TEXT + ("error",) if c in have]
        self.plain = ["id", "graph_id", "attempt", "outcome", "state", "ticket_id"] + \
            [c for c in ("failures", "next_try_at") if c in have]

    def rows(self, subject_chars=400):
        cols = self.plain + ["HEX(%s)" % c for c in self.text] + \
            ["HEX(LEFT(subject, %d))" % subject_chars, "CHAR_LENGTH(subject)"]
        out = {}
        for r in self.stack.sql("SELECT %s FROM incoming_email WHERE mailbox_id = %d ORDER BY id"
                                % (", ".join(cols), self.mid)):
            d = dict(zip(self.plain, r))
            for i, c in enumerate(self.text):
                d[c] = unhex(r[len(self.plain) + i])
            d["subject"] = unhex(r[-2])
            d["subject_chars"] = None if r[-1] == "NULL" else int(r[-1])
            d["ticket_id"] = None if d["ticket_id"] == "NULL" else int(d["ticket_id"])
            d["id"] = int(d["id"])
            out.setdefault(d["graph_id"], []).append(d)
        return out

    def actions(self, incoming_ids):
        """{incoming id: (body chars, first 300 characters)} of the email_in actions."""
        if not incoming_ids:
            return {}
        rows = self.stack.sql("SELECT incoming_email_id, CHAR_LENGTH(body), HEX(LEFT(body, 300)) FROM "
                              "ticket_action WHERE kind = 'email_in' AND incoming_email_id IN (%s)"
                              % ",".join(map(str, incoming_ids)))
        return {int(r[0]): (None if r[1] == "NULL" else int(r[1]), unhex(r[2]) or "") for r in rows}

    def attachments(self, incoming_ids):
        """{incoming id: [{name, content_type, size, is_inline}]}"""
        out = {}
        if not incoming_ids:
            return out
        for r in self.stack.sql("SELECT a.incoming_email_id, HEX(t.name), HEX(t.content_type), t.size, "
                                "t.is_inline FROM attachment t JOIN ticket_action a ON a.id = "
                                "t.ticket_action_id WHERE a.incoming_email_id IN (%s) ORDER BY t.id"
                                % ",".join(map(str, incoming_ids))):
            out.setdefault(int(r[0]), []).append({"name": unhex(r[1]) or "", "content_type": unhex(r[2]) or "",
                                                  "size": int(r[3]), "is_inline": r[4] == "1"})
        return out

    def tickets(self):
        return [int(r[0]) for r in self.stack.sql("SELECT id FROM ticket WHERE mailbox_id = %d" % self.mid)]


def final(rows):
    """The outcome a message's chain of rows ends in (None without rows)."""
    return rows[-1]["outcome"] if rows else None


def reason(row):
    """The words the row gives for its outcome."""
    return ((row.get("error") or "") + " " + (row.get("trace") or "")).strip()


def duplicates(chains):
    """Problems: a message that made more than one ticket."""
    out = []
    for gid, rows in chains.items():
        made = [r for r in rows if r["outcome"] == "ticket_created"]
        if len(made) > 1:
            out.append("%s…: %d tickets made (%s)" % (gid[-12:], len(made), [r["ticket_id"] for r in made]))
    return out


def stuck(chains, attempts):
    """Problems: a chain that ends neither final nor with runs left."""
    out = []
    for gid, rows in chains.items():
        last = rows[-1]
        if last["outcome"] in FINAL and last["state"] == "done":
            continue
        out.append("%s…: ends %s/%s after %s failures: %s" % (
            gid[-12:], last["outcome"], last["state"], last.get("failures", "?"), reason(last)[:300]))
    return out
