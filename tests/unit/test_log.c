/*
 * test_log: the log file and its reopen on SIGHUP (lib/base/log.c).  The
 * log file becomes descriptor 2, so the test keeps the real stderr aside
 * and puts it back at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "test.h"

static char dir[64];

/* The file's whole text (static buffer; "" when missing). */
static const char *
slurp(const char *name)
{
	static char text[8192];
	char        path[128];
	FILE       *f;
	size_t      n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	text[0] = '\0';
	f = fopen(path, "r");
	if (f == NULL)
		return text;
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static int
count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void
test_open_mode_and_line(void)
{
	char        p[128];
	struct stat st;

	path_of(p, sizeof p, "a.log");
	umask(022);
	CHECK(log_open(p) == 0);
	log_info("first %d", 1);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0640);
	CHECK(strstr(slurp("a.log"), " test_log[") != NULL);
	CHECK(strstr(slurp("a.log"), "]: info first 1\n") != NULL);
	log_set_request("r1");
	log_warn("two\nlines");
	log_set_request(NULL);
	CHECK(strstr(slurp("a.log"), "]: warn req=r1 two lines\n") != NULL);
	/* stderr itself is the file (sanitizer reports land there too) */
	fprintf(stderr, "raw stderr\n");
	CHECK(strstr(slurp("a.log"), "raw stderr\n") != NULL);
}

static void
test_reopen_after_rename(void)
{
	char from[128], to[128];

	path_of(from, sizeof from, "a.log");
	path_of(to, sizeof to, "a.log.1");
	CHECK(rename(from, to) == 0);
	log_info("before the signal");
	CHECK(strstr(slurp("a.log.1"), "before the signal") != NULL);
	CHECK(log_reopen_on(SIGHUP) == 0);
	CHECK(raise(SIGHUP) == 0); /* would end the test without the handler */
	log_info("after the signal");
	CHECK(strstr(slurp("a.log"), "after the signal") != NULL);
	CHECK(strstr(slurp("a.log.1"), "after the signal") == NULL);
	fprintf(stderr, "raw after\n");
	CHECK(strstr(slurp("a.log"), "raw after\n") != NULL);
}

/* A reopen that fails keeps the old file and says so there once. */
static void
test_reopen_failure(void)
{
	char        sub[96], p[128], moved[96];
	const char *t;

	snprintf(sub, sizeof sub, "%s/sub", dir);
	snprintf(moved, sizeof moved, "%s/gone", dir);
	CHECK(mkdir(sub, 0700) == 0);
	snprintf(p, sizeof p, "%s/b.log", sub);
	CHECK(log_open(p) == 0);
	CHECK(rename(sub, moved) == 0); /* the path's directory is gone */
	raise(SIGHUP);
	log_info("kept one");
	raise(SIGHUP);
	log_info("kept two");
	t = slurp("gone/b.log");
	CHECK(strstr(t, "kept one") != NULL && strstr(t, "kept two") != NULL);
	CHECK_INT(count(t, "]: error cannot reopen log_file "), 1);
	/* once the path works again, the reopen does too */
	CHECK(rename(moved, sub) == 0);
	raise(SIGHUP);
	log_info("back");
	CHECK(strstr(slurp("sub/b.log"), "back") != NULL);
}

int
main(void)
{
	static const char *const files[] = { "a.log", "a.log.1", "sub/b.log" };
	int                      saved = dup(STDERR_FILENO);
	char                     p[128];

	snprintf(dir, sizeof dir, "/tmp/pd-log-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	log_init("test_log");
	test_open_mode_and_line();
	test_reopen_after_rename();
	test_reopen_failure();
	dup2(saved, STDERR_FILENO);
	close(saved);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof p, "%s/sub", dir);
	rmdir(p);
	rmdir(dir);
	return test_done();
}
