/*
 * log: one line per event on stderr (or the configured log file), with the
 * program name, pid and the current request id.  log_reopen_on(SIGHUP)
 * makes the signal reopen the log file before the next line (logrotate).
 */
#ifndef POSTDESK_LOG_H
#define POSTDESK_LOG_H

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG
};

void log_init(const char *prog);
int  log_open(const char *path);
int  log_reopen_on(int sig);
int  log_set_level_name(const char *name);
void log_set_request(const char *id);
void log_msg(enum log_level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
