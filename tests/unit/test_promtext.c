/*
 * test_promtext: the Prometheus text format writer (lib/base/promtext.c) —
 * HELP and TYPE lines, label values escaped (backslash, double quote, line
 * feed; UTF-8 kept), numbers — and the shared request counters
 * (lib/base/reqcount.c) counted by several processes at once.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/promtext.h"
#include "base/reqcount.h"
#include "test.h"

static void
test_lines(void)
{
	struct buf        b;
	struct prom_label l[2] = { { "mailbox_id", "7" },
		{ "mailbox", "Sup\"port\\ \xc3\xa9\nx" } };

	buf_init(&b, 64);
	prom_head(&b, "postdesk_x_total", "counter", "A \\ help\nline \"q\".");
	CHECK_STR(b.data,
	    "# HELP postdesk_x_total A \\\\ help\\nline \"q\".\n"
	    "# TYPE postdesk_x_total counter\n");
	buf_reset(&b);
	prom_u64(&b, "postdesk_x_total", l, 2, 18446744073709551615ULL);
	CHECK_STR(b.data,
	    "postdesk_x_total{mailbox_id=\"7\",mailbox=\"Sup\\\"port\\\\ "
	    "\xc3\xa9\\nx\"} 18446744073709551615\n");
	buf_reset(&b);
	prom_u64(&b, "postdesk_up", NULL, 0, 1);
	CHECK_STR(b.data, "postdesk_up 1\n");
	buf_reset(&b);
	prom_f64(&b, "s_sum", l, 1, 1.5);
	CHECK_STR(b.data, "s_sum{mailbox_id=\"7\"} 1.5\n");
	buf_reset(&b);
	prom_f64(&b, "s", NULL, 0, INFINITY);
	prom_f64(&b, "s", NULL, 0, -INFINITY);
	prom_f64(&b, "s", NULL, 0, NAN);
	CHECK_STR(b.data, "s +Inf\ns -Inf\ns NaN\n");
	buf_reset(&b);
	prom_label_value(&b, NULL);
	prom_label_value(&b, "a\\\"\n");
	CHECK_STR(b.data, "a\\\\\\\"\\n");
	buf_cleanup(&b);
}

struct seen {
	char     key[REQCOUNT_KEY];
	int      status;
	uint64_t n;
	int      count;
};

static void
collect(void *ctx, const char *key, int status, uint64_t n)
{
	struct seen *s = ctx;

	if (strcmp(key, s->key) == 0 && status == s->status) {
		s->n = n;
		s->count++;
	}
}

static uint64_t
counted(const struct reqcount *rc, const char *key, int status)
{
	struct seen s = { .status = status };

	snprintf(s.key, sizeof s.key, "%s", key);
	reqcount_each(rc, collect, &s);
	return s.count == 1 ? s.n : 0;
}

/* Four processes count into one file: nothing is lost, keys are shared. */
static void
test_reqcount(void)
{
	char             path[] = "/tmp/test_reqcount.XXXXXX";
	int              fd = mkstemp(path);
	struct reqcount *rc;
	struct err       err;
	char             key[REQCOUNT_KEY + 8];

	close(fd);
	for (int p = 0; p < 4; p++) {
		if (fork() == 0) {
			struct reqcount *c = reqcount_open(path, &err);

			for (int i = 0; c != NULL && i < 5000; i++) {
				reqcount_add(reqcount_slot(c, "GET /api/x"),
				    200);
				reqcount_add(reqcount_slot(c, "GET /api/x"),
				    i % 2 ? 404 : 599);
			}
			reqcount_add(reqcount_slot(c, "POST /api/y"), 201);
			reqcount_close(c);
			_exit(c == NULL);
		}
	}
	for (int p = 0; p < 4; p++) {
		int st;

		wait(&st);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	rc = reqcount_open(path, &err);
	if (!CHECK(rc != NULL))
		return;
	CHECK_INT(counted(rc, "GET /api/x", 200), 20000);
	CHECK_INT(counted(rc, "GET /api/x", 404), 10000);
	CHECK_INT(counted(rc, "GET /api/x", 599), 10000);
	CHECK_INT(counted(rc, "POST /api/y", 201), 4);
	/* out of range statuses and keys too long are not counted */
	reqcount_add(reqcount_slot(rc, "GET /api/x"), 600);
	reqcount_add(reqcount_slot(rc, "GET /api/x"), 99);
	reqcount_add(NULL, 200);
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	CHECK(reqcount_slot(rc, key) == NULL);
	/* the table fills up, then says so */
	for (int i = 0; i < REQCOUNT_SLOTS - 2; i++) {
		snprintf(key, sizeof key, "GET /r/%d", i);
		CHECK(reqcount_slot(rc, key) != NULL);
	}
	CHECK(reqcount_slot(rc, "GET /one/too/many") == NULL);
	CHECK(reqcount_slot(rc, "GET /api/x") != NULL);
	reqcount_close(rc);
	/* a file of another layout is refused, not overwritten */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "something else, longer than eight", 33) == 33);
	close(fd);
	CHECK(reqcount_open(path, &err) == NULL);
	CHECK(strstr(err.msg, "remove it") != NULL);
	unlink(path);
}

int
main(void)
{
	test_lines();
	test_reqcount();
	return TEST_DONE();
}
