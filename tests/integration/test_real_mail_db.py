"""The database never refuses a real mail (issue 8, item 3; and item 6).

Each test puts odd but real mail in the fake's Inbox and runs the real
scanner: every column mail data reaches is walked with the largest and most
hostile value the scanner lets through (docs/ARCHITECTURE.md "Column
limits"), and the mail must become a ticket, with any cut made on a UTF-8
character boundary and said in the decision trace.  Before sql/0007 and the
C caps, each of these failed the message's intake on every run with a
MariaDB error (1366 Incorrect string value, 1406 Data too long, 1048 Column
cannot be null).

Values are compared as HEX() so the mariadb client's character set plays
no part.
"""
import hashlib
import secrets

from test_scan import ok_scan, outcome_of, summary, world  # noqa: F401


def hx(s):
    return s.encode().hex().upper()


def one(stack, query):
    rows = stack.sql(query)
    assert len(rows) == 1, (query, rows)
    return rows[0]


def ticketed(w, m, outcome="ticket_created"):
    """The (ticket id, trace) of mail m, which must have become a ticket."""
    got, ticket, trace = outcome_of(w, m["immutable_id"])
    assert got == outcome and ticket != "NULL", (got, ticket, trace)
    return ticket, trace.replace("\\n", "\n")


def cut(s, limit):
    """s cut to at most limit bytes on a character boundary."""
    b = s.encode()[:limit]
    return b.decode("utf-8", "ignore")


def test_non_ascii_sender_address(world, stack):
    """RFC 6531: jörg@bücher.example is stored whole (end user, participant,
    the log); a different address that only differs by accents is another
    end user (addresses compare byte for byte, as in C)."""
    w = world(first_scan="all")
    addr = "jörg.walk@bücher.example"  # its own: end users are shared across tests
    m1 = w.mail(subject="Umlaute", **{"from": {"name": "Jörg Bücher", "address": addr}})
    m2 = w.mail(subject="No umlauts", **{"from": {"name": "Jorg", "address": "jorg.walk@bucher.example"}})
    r = ok_scan(w)
    assert summary(r, w.mid)["ticketed"] == 2, r.stdout
    t1, _ = ticketed(w, m1)
    t2, _ = ticketed(w, m2)
    assert one(stack, "SELECT HEX(u.email), HEX(u.name) FROM ticket t JOIN end_user u ON "
                      "u.id = t.end_user_id WHERE t.id = %s" % t1) == [hx(addr), hx("Jörg Bücher")]
    assert one(stack, "SELECT HEX(u.email) FROM ticket t JOIN end_user u ON "
                      "u.id = t.end_user_id WHERE t.id = %s" % t2) == [hx("jorg.walk@bucher.example")]
    assert one(stack, "SELECT COUNT(*) FROM ticket_participant WHERE ticket_id = %s AND "
                      "HEX(email) = '%s'" % (t1, hx(addr))) == ["1"]
    assert one(stack, "SELECT HEX(from_addr) FROM incoming_email WHERE graph_id = '%s'"
               % m1["immutable_id"]) == [hx(addr)]
    # a reply from the same address threads by the tag (participant check)
    m3 = w.mail(subject="Re: [#%s] Umlaute" % t1, **{"from": addr})
    ok_scan(w)
    t3, trace = ticketed(w, m3, "ticket_updated")
    assert t3 == t1 and "threaded to ticket %s by ticket tag" % t1 in trace, trace


def test_five_hundred_long_recipients(world, stack):
    """500 To and 500 Cc addresses of 319 bytes each, names of 255 bytes:
    to_addrs is 160,498 bytes, past TEXT's 64 KiB (1406 before)."""
    w = world(first_scan="all")
    fill = "é" * 151
    to = [{"name": cut("Ré" * 200, 255), "address": "r%04d%s@example.com" % (i, fill)}
          for i in range(500)]
    cc = [{"name": "C", "address": "c%04d%s@example.com" % (i, fill)} for i in range(499)]
    cc.append(w.address)
    assert all(len(a["address"].encode()) == 319 for a in to)
    m = w.mail(subject="To everyone", to=to, cc=cc)
    ok_scan(w)
    ticket, _ = ticketed(w, m)
    want = ", ".join(a["address"] for a in to)
    assert len(want.encode()) == 160498
    row = one(stack, "SELECT LENGTH(e.to_addrs), MD5(e.to_addrs), LENGTH(a.to_addrs), "
                     "LENGTH(a.cc_addrs) FROM incoming_email e JOIN ticket_action a ON "
                     "a.incoming_email_id = e.id WHERE e.graph_id = '%s'" % m["immutable_id"])
    assert row[:3] == ["160498", hashlib.md5(want.encode()).hexdigest(), "160498"], row
    assert int(row[3]) > 65535, row
    # every recipient took part (the mailbox itself does not)
    assert one(stack, "SELECT COUNT(*) FROM ticket_participant WHERE ticket_id = %s"
               % ticket) == ["1000"]


def test_zero_byte_attachment(world, stack):
    """A streamed LONGBLOB that gets no bytes was NULL: 1048 before."""
    w = world(first_scan="all")
    m = w.mail(subject="Empty file", attachments=[
        {"name": "empty.txt", "content_type": "text/plain", "content": ""},
        {"name": "one.txt", "content_type": "text/plain", "content": "1"}])
    ok_scan(w)
    ticket, _ = ticketed(w, m)
    rows = stack.sql("SELECT t.name, t.size, t.content IS NULL, LENGTH(t.content) FROM "
                     "attachment t JOIN ticket_action a ON a.id = t.ticket_action_id "
                     "WHERE a.ticket_id = %s ORDER BY t.name" % ticket)
    assert rows == [["empty.txt", "0", "0", "0"], ["one.txt", "1", "0", "1"]], rows


def test_attachment_texts_cut_on_a_character_boundary(world, stack):
    """200 accented letters (400 bytes) as a name; a content type and a
    content id of 300 multi-byte characters: each is cut to 255 bytes on a
    boundary (1366 before: the cut fell inside a character), and the trace
    says so."""
    w = world(first_scan="all")
    name = "é" * 200 + ".txt"
    ctype = "text/" + "€" * 300
    cid = "€" * 300 + "@x"
    m = w.mail(subject="Long names", attachments=[
        {"name": name, "content_type": ctype, "content": "x", "is_inline": True,
         "content_id": cid}])
    ok_scan(w)
    ticket, trace = ticketed(w, m)
    row = one(stack, "SELECT HEX(t.name), HEX(t.content_type), HEX(t.content_id) FROM "
                     "attachment t JOIN ticket_action a ON a.id = t.ticket_action_id "
                     "WHERE a.ticket_id = %s" % ticket)
    assert row == [hx("é" * 127), hx(cut(ctype, 255)), hx("€" * 85)], row
    assert "an attachment's name cut to 255 bytes" in trace, trace
    assert "an attachment's contentType cut to 255 bytes" in trace, trace


def test_auto_submitted_reason_cut_on_a_character_boundary(world, stack):
    """The reason went to incoming_email.automatic cut by %.60s inside a
    character (1366); a bounce from a long mailer-daemon address made a
    reason of 277 bytes for a VARCHAR(100) (1406)."""
    w = world(first_scan="all")
    value = "auto-generated; reason=" + "é" * 100
    m1 = w.mail(subject="Automatic", headers=[{"name": "Auto-Submitted", "value": value}])
    daemon = "mailer-daemon@" + "d" * 250 + ".example"
    m2 = w.mail(subject="Bounce", **{"from": daemon})
    ok_scan(w)
    ticketed(w, m1)
    ticketed(w, m2)
    reason = "Auto-Submitted: " + cut(value, 60)
    assert one(stack, "SELECT HEX(automatic) FROM incoming_email WHERE graph_id = '%s'"
               % m1["immutable_id"]) == [hx(reason)]
    assert one(stack, "SELECT HEX(ack) FROM incoming_email WHERE graph_id = '%s'"
               % m1["immutable_id"]) == [hx("suppressed: automatic mail (%s)" % reason)]
    assert one(stack, "SELECT HEX(automatic) FROM incoming_email WHERE graph_id = '%s'"
               % m2["immutable_id"]) == [hx(("from " + daemon)[:100])]


def test_ten_thousand_character_references_thread_to_the_parent(world, stack):
    """The parent is the last of 200 references in a 10,000-character
    header: before, the value was cut at 8192 bytes and only 80 ids were
    looked at, so the reply opened a new ticket."""
    w = world(first_scan="all")
    parent = w.mail(subject="Original question")
    ok_scan(w)
    ticket, _ = ticketed(w, parent)
    refs = ["<%s.%03d@old.mail.example.com>" % (secrets.token_hex(12), i) for i in range(199)]
    refs.append(parent["internet_message_id"])
    value = "\r\n ".join(refs)
    assert len(value) >= 10000 and len(refs) == 200
    reply = w.mail(subject="Re: Original question, again",
                   headers=[{"name": "References", "value": value},
                            {"name": "In-Reply-To", "value": "<gone@nowhere.example>"}])
    ok_scan(w)
    got, trace = ticketed(w, reply, "ticket_updated")
    assert got == ticket and "by In-Reply-To/References" in trace, trace


def test_crlf_in_an_address_never_reaches_a_header(world, stack, fake):
    """A sender address carrying CR LF + Bcc: the control characters are
    removed when parsing (noted), what is left is no address, so it is
    stored but never written to; a display name with CR LF is stored
    without them.  Nothing went out with a Bcc."""
    w = world(first_scan="all")
    evil = "bob@example.com\r\nBcc: x@evil.example"
    m1 = w.mail(subject="Injected address", **{"from": {"name": "Bob", "address": evil}})
    m2 = w.mail(subject="Injected name", **{"from": {"name": "Carol\r\nBcc: x@evil.example",
                                                      "address": "crlf-name@example.com"}})
    m3 = w.mail(subject="Not an address", **{"from": {"name": "N", "address": "not-an-address"}})
    ok_scan(w)
    _, trace = ticketed(w, m1)
    assert "control characters removed from an address" in trace, trace
    assert one(stack, "SELECT HEX(from_addr), ack FROM incoming_email WHERE graph_id = '%s'"
               % m1["immutable_id"]) == [hx("bob@example.combcc: x@evil.example"),
                                         "not sent: the sender's address is not one mail "
                                         "can be sent to"]
    _, trace = ticketed(w, m2)
    assert "control characters removed from a name" in trace, trace
    assert one(stack, "SELECT from_name, ack FROM incoming_email WHERE graph_id = '%s'"
               % m2["immutable_id"]) == ["CarolBcc: x@evil.example", "queued"]
    t3, _ = ticketed(w, m3)
    assert one(stack, "SELECT ack FROM incoming_email WHERE graph_id = '%s'"
               % m3["immutable_id"])[0].startswith("not sent: the sender's address")
    log = fake.log("sent_log")
    assert log and all(not e["bcc"] and "evil" not in str(e["to"]) for e in log), log
    # an agent's reply to that ticket is refused (409), not queued
    r = w.browser.post("/api/tickets/%s/reply" % t3, json={"body": "Hello"})
    assert r.status_code == 409, r.text
    # a queued mail whose header input still carries CR LF is refused by the
    # MIME builder: failed with the reason, never sent
    stack.sql("INSERT INTO outgoing_email (mailbox_id, kind, to_addrs, subject, body_text, "
              "message_id, status, next_attempt_at, created_at) VALUES (%d, 'reply', "
              "'bob@example.com\\r\\nBcc: x@evil.example', 'Hi', 'Hi', '<pd.t%s@x.example>', "
              "'queued', UTC_TIMESTAMP(), UTC_TIMESTAMP())" % (w.mid, secrets.token_hex(6)))
    before = len(fake.log("sent_log"))
    ok_scan(w)
    assert len(fake.log("sent_log")) == before
    row = stack.sql("SELECT status, last_error FROM outgoing_email WHERE mailbox_id = %d AND "
                    "to_addrs LIKE '%%evil%%'" % w.mid)
    assert row == [["failed", "Not sent: a To address is not an address mail can go to, or "
                              "carries a control character."]], row


def test_largest_hostile_value_in_every_column(world, stack):
    """One mail carrying, in every field, more than its column holds, in
    4-byte characters where a byte cut would split one; a non-ASCII
    Message-ID and conversation id (ASCII columns); 64 KiB headers.  It is
    a ticket; every cut is on a boundary and noted."""
    w = world(first_scan="all")
    fire = "🔥"
    subject = "x" + fire * 400  # 1601 bytes; subject VARCHAR(998)
    name = "y" + fire * 100     # 401 bytes; from_name VARCHAR(255)
    addr = "z" + fire * 100 + "@example.com"  # 413 bytes; VARCHAR(320)
    m = w.mail(subject=subject, body_text=fire * 1000,
               internet_message_id="<ü%s@example.com>" % secrets.token_hex(4),
               conversation_id="AAQk€" + secrets.token_hex(8),
               headers=[{"name": "X-Big", "value": "v" * 70000},
                        {"name": "References", "value": "<ü@x> " * 10000}],
               **{"from": {"name": name, "address": addr}})
    ok_scan(w)
    ticket, trace = ticketed(w, m)
    for note in ("subject cut to 998 bytes", "name cut to 255 bytes",
                 "address cut to 320 bytes", "internetMessageId is not ASCII",
                 "conversationId is not ASCII", "value cut to 65536 bytes"):
        assert note in trace, (note, trace)
    row = one(stack, "SELECT HEX(subject), HEX(from_addr), HEX(from_name), "
                     "internet_message_id FROM incoming_email WHERE graph_id = '%s'"
              % m["immutable_id"])
    assert row == [hx(cut(subject, 998)), hx(cut(addr, 320)), hx(cut(name, 255)), "NULL"], row
    assert one(stack, "SELECT HEX(subject), conversation_id FROM ticket WHERE id = %s"
               % ticket) == [hx(cut(subject, 998)), "NULL"]
    assert one(stack, "SELECT HEX(email) FROM end_user u JOIN ticket t ON "
                      "t.end_user_id = u.id WHERE t.id = %s" % ticket) == [hx(cut(addr, 320))]
