/*
 * test.h: the unit-test harness.  CHECK* record a pass or a failure (with
 * file:line and the expression) and evaluate to 1 or 0, so a test can
 * guard what follows: if (CHECK(p != NULL)) use(p).  TEST_DONE() prints
 * the last line, "N passed, N failed", and is main()'s exit status.
 */
#ifndef POSTDESK_TEST_H
#define POSTDESK_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

static inline int
test_check(int ok, const char *file, int line, const char *expr)
{
	if (ok) {
		test_passed++;
		return 1;
	}
	test_failed++;
	fprintf(stdout, "%s:%d: FAIL: %s\n", file, line, expr);
	fflush(stdout);
	return 0;
}

static inline int
test_check_str(const char *a, const char *b, const char *file, int line,
    const char *ea, const char *eb)
{
	int ok = a != NULL && b != NULL && strcmp(a, b) == 0;

	if (!test_check(ok, file, line, "CHECK_STR"))
		fprintf(stdout, "\t%s == \"%s\"\n\t%s == \"%s\"\n", ea,
		    a ? a : "(null)", eb, b ? b : "(null)");
	return ok;
}

static inline int
test_check_int(long long a, long long b, const char *file, int line,
    const char *ea, const char *eb)
{
	if (!test_check(a == b, file, line, "CHECK_INT"))
		fprintf(stdout, "\t%s == %lld\n\t%s == %lld\n", ea, a, eb, b);
	return a == b;
}

static inline int
test_done(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	fflush(stdout);
	return test_failed != 0 || test_passed == 0;
}

#define CHECK(cond)     test_check((cond) != 0, __FILE__, __LINE__, #cond)
#define CHECK_STR(a, b) test_check_str((a), (b), __FILE__, __LINE__, #a, #b)
#define CHECK_INT(a, b)                                                        \
	test_check_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, \
	    #b)
#define TEST_DONE() test_done()

#endif
