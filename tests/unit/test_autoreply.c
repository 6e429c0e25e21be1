/*
 * test_autoreply: which mail is automatic — each header RFC 3834 and
 * Microsoft use, "Auto-Submitted: no" (a person's mail), bounces from
 * mailer-daemon and postmaster, our own connected mailboxes — and the
 * reason given.
 */
#include <stdlib.h>
#include <string.h>

#include "mail/autoreply.h"
#include "base/utf8.h"
#include "base/xmalloc.h"
#include "test.h"

static const char *const OWN[] = { "help@contoso.com", "sales@contoso.com" };

/* Is mail from `from` with one header (NULL: none) automatic? */
static int
automatic(const char *from, const char *name, const char *value,
    const char *reason)
{
	struct msg m;
	struct buf why;
	int        r;

	memset(&m, 0, sizeof m);
	m.from.address = xstrdup(from);
	m.headers = xcalloc(1, sizeof *m.headers);
	if (name != NULL) {
		m.headers[0].name = xstrdup(name);
		m.headers[0].value = xstrdup(value);
		m.nheaders = 1;
	}
	buf_init(&why, 32);
	r = autoreply_is_automatic(&m, OWN, 2, &why);
	if (r && reason != NULL && !CHECK(strstr(why.data, reason) != NULL))
		printf("\treason: %s\n", why.data);
	if (!r)
		CHECK_INT(why.len, 0);
	buf_cleanup(&why);
	free(m.from.address);
	if (name != NULL) {
		free(m.headers[0].name);
		free(m.headers[0].value);
	}
	free(m.headers);
	return r;
}

/* The reason fits incoming_email.automatic and is cut on a boundary. */
static void
test_reason_cut(void)
{
	static const char *const own[] = { "" };
	struct msg               m;
	struct buf               why, v;

	memset(&m, 0, sizeof m);
	buf_init(&v, 512);
	buf_puts(&v, "auto-generated; reason=");
	for (int i = 0; i < 100; i++)
		buf_puts(&v, "\xc3\xa9");
	m.headers = xcalloc(1, sizeof *m.headers);
	m.headers[0].name = xstrdup("Auto-Submitted");
	m.headers[0].value = v.data;
	m.nheaders = 1;
	m.from.address = xstrdup("bob@example.com");
	buf_init(&why, 32);
	buf_puts(&why, "kept:");
	CHECK(autoreply_is_automatic(&m, own, 1, &why));
	/* "Auto-Submitted: " + 59 bytes: byte 60 would split an e-acute */
	CHECK_INT(why.len, 5 + 16 + 59);
	CHECK(utf8_valid(why.data, why.len));
	CHECK(
	    strncmp(why.data, "kept:Auto-Submitted: auto-generated", 35) == 0);
	/* a bounce from a 272-byte mailer-daemon address: 100 bytes */
	free(m.from.address);
	m.from.address = xmalloc(300);
	snprintf(m.from.address, 300, "mailer-daemon@%0250d.example", 0);
	m.nheaders = 0;
	buf_reset(&why);
	CHECK(autoreply_is_automatic(&m, own, 1, &why));
	CHECK_INT(why.len, LOOP_REASON_MAX);
	CHECK(strncmp(why.data, "from mailer-daemon@000", 22) == 0);
	buf_cleanup(&why);
	free(m.from.address);
	free(m.headers[0].name);
	free(m.headers);
	buf_cleanup(&v);
}

int
main(void)
{
	const char *b = "bob@example.com";

	CHECK(!automatic(b, NULL, NULL, NULL));
	CHECK(!automatic(b, "X-Mailer", "Outlook", NULL));
	/* Auto-Submitted */
	CHECK(automatic(b, "Auto-Submitted", "auto-replied",
	    "Auto-Submitted: auto-replied"));
	CHECK(automatic(b, "auto-submitted", "auto-generated", "auto-gen"));
	CHECK(automatic(b, "Auto-Submitted", "auto-notified; owner=x", NULL));
	CHECK(!automatic(b, "Auto-Submitted", "no", NULL));
	CHECK(!automatic(b, "Auto-Submitted", " No ", NULL));
	CHECK(!automatic(b, "Auto-Submitted", "no; comment", NULL));
	CHECK(automatic(b, "Auto-Submitted", "nope", NULL));
	/* Precedence */
	CHECK(automatic(b, "Precedence", "bulk", "Precedence: bulk"));
	CHECK(automatic(b, "Precedence", "JUNK", "Precedence: junk"));
	CHECK(automatic(b, "precedence", "list", "Precedence: list"));
	CHECK(automatic(b, "Precedence", "auto_reply", "auto_reply"));
	CHECK(!automatic(b, "Precedence", "first-class", NULL));
	CHECK(!automatic(b, "Precedence", "bulky", NULL));
	/* Microsoft's and others' auto-reply markers */
	CHECK(automatic(b, "X-Auto-Response-Suppress", "All",
	    "X-Auto-Response-Suppress"));
	CHECK(automatic(b, "X-Autoreply", "yes", "X-Autoreply"));
	CHECK(automatic(b, "X-Autorespond", "yes", NULL));
	/* bounces */
	CHECK(automatic("mailer-daemon@mx.example.com", NULL, NULL,
	    "from mailer-daemon@mx.example.com"));
	CHECK(automatic("MAILER-DAEMON@mx.example.com", NULL, NULL, NULL));
	CHECK(automatic("postmaster@contoso.com", NULL, NULL, "postmaster"));
	CHECK(!automatic("mailer-daemon-fan@x.org", NULL, NULL, NULL));
	CHECK(!automatic("notpostmaster@x.org", NULL, NULL, NULL));
	/* our own mailboxes */
	CHECK(automatic("help@contoso.com", NULL, NULL,
	    "from connected mailbox help@contoso.com"));
	CHECK(automatic("sales@contoso.com", NULL, NULL, NULL));
	CHECK(!automatic("help@contoso.com.evil.org", NULL, NULL, NULL));
	CHECK(!automatic("", NULL, NULL, NULL));
	/* an empty own address never matches an empty sender */
	{
		static const char *const none[] = { "" };
		struct msg               m;
		struct buf               why;

		memset(&m, 0, sizeof m);
		m.from.address = xstrdup("");
		buf_init(&why, 8);
		CHECK(!autoreply_is_automatic(&m, none, 1, &why));
		buf_cleanup(&why);
		free(m.from.address);
	}
	test_reason_cut();
	return TEST_DONE();
}
