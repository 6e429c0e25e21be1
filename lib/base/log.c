/*
 * log: the log prefix and level are the only process-wide state here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static char           log_prog[32] = "postdesk";
static char           log_req[40];
static enum log_level log_level = LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *prog)
{
	snprintf(log_prog, sizeof log_prog, "%s", prog);
}

/* Append stderr to path.  Returns 0, or -1 (stderr unchanged). */
int
log_open(const char *path)
{
	if (freopen(path, "a", stderr) == NULL)
		return -1;
	setvbuf(stderr, NULL, _IOLBF, 0);
	return 0;
}

/* Set the level by name; returns -1 for an unknown name. */
int
log_set_level_name(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0];
	     i++) {
		if (strcmp(name, level_names[i]) == 0) {
			log_level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* Tag following lines with a request id; NULL or "" clears it. */
void
log_set_request(const char *id)
{
	snprintf(log_req, sizeof log_req, "%s", id ? id : "");
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char      line[1024], ts[32];
	va_list   ap;
	time_t    now = time(NULL);
	struct tm tm;

	if (level > log_level)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_req[0])
		fprintf(stderr, "%s %s[%ld]: %s req=%s %s\n", ts, log_prog,
		    (long)getpid(), level_names[level], log_req, line);
	else
		fprintf(stderr, "%s %s[%ld]: %s %s\n", ts, log_prog,
		    (long)getpid(), level_names[level], line);
}
