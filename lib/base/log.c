/*
 * log: the log prefix, level and file are the only process-wide state here.
 *
 * With a log_file, the file is the process's stderr (descriptor 2), so
 * whatever else writes to stderr (sanitizer reports, libraries) lands in
 * the same file.  SIGHUP asks for a reopen (after logrotate renamed the
 * file): the handler only sets a flag, and the next log line opens the path
 * anew and moves it onto descriptor 2 before it is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static char           log_prog[32] = "postdesk";
static char           log_req[40];
static enum log_level log_level = LOG_INFO;
static char           log_path[4096];
static int            log_reopen_failed; /* said so already */

static volatile sig_atomic_t log_reopen_wanted;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void line_out(enum log_level level, const char *msg);

void
log_init(const char *prog)
{
	snprintf(log_prog, sizeof log_prog, "%s", prog);
}

/*
 * Open path for appending (created 0640) and make it descriptor 2.
 * Returns 0, or -1 with errno (descriptor 2 unchanged).
 */
static int
open_as_stderr(const char *path)
{
	int fd, saved;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (fd == STDERR_FILENO) /* stderr was closed: keep it across exec */
		return fcntl(fd, F_SETFD, 0) == -1 ? -1 : 0;
	fflush(stderr);
	if (dup2(fd, STDERR_FILENO) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

/* Append stderr to path.  Returns 0, or -1 with errno (stderr unchanged). */
int
log_open(const char *path)
{
	if (strlen(path) >= sizeof log_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (open_as_stderr(path) == -1)
		return -1;
	snprintf(log_path, sizeof log_path, "%s", path);
	log_reopen_failed = 0;
	return 0;
}

static void
on_reopen_signal(int sig)
{
	(void)sig;
	log_reopen_wanted = 1;
}

/*
 * Make sig (SIGHUP) ask for a reopen instead of ending the process.
 * SA_RESTART: a FastCGI worker blocked in accept() goes on waiting.
 */
int
log_reopen_on(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_reopen_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(sig, &sa, NULL);
}

/*
 * The reopen a signal asked for.  A failure keeps the old file and says so
 * there once (until a reopen works again), not on every line.
 */
static void
reopen_if_asked(void)
{
	char msg[4200];

	if (!log_reopen_wanted)
		return;
	log_reopen_wanted = 0;
	if (log_path[0] == '\0')
		return;
	if (open_as_stderr(log_path) == 0) {
		log_reopen_failed = 0;
		return;
	}
	if (log_reopen_failed)
		return;
	log_reopen_failed = 1;
	snprintf(msg, sizeof msg,
	    "cannot reopen log_file %s: %s; still writing to the file "
	    "open before",
	    log_path, strerror(errno));
	line_out(LOG_ERROR, msg);
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

/*
 * One line, one write(): several programs append to one log file, and
 * O_APPEND keeps a single write whole.
 */
static void
line_out(enum log_level level, const char *msg)
{
	char      out[1280], ts[32];
	time_t    now = time(NULL);
	struct tm tm;
	int       n;
	size_t    len, off = 0;
	ssize_t   w;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(out, sizeof out, "%s %s[%ld]: %s%s%s %s\n", ts, log_prog,
	    (long)getpid(), level_names[level], log_req[0] ? " req=" : "",
	    log_req, msg);
	if (n < 0)
		return;
	len = (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
	out[len - 1] = '\n';
	fflush(stderr);
	while (off < len) {
		w = write(STDERR_FILENO, out + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char    line[1024];
	va_list ap;

	reopen_if_asked();
	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	line_out(level, line);
}
