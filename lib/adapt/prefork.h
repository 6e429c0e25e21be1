/*
 * prefork: a small pool of worker processes for a FastCGI program, so one
 * systemd service (packaging/systemd/postdesk-api.service.in) runs a pool
 * without spawn-fcgi.  The parent forks the workers, which inherit the
 * listening socket on fd 0; it replaces a worker that dies, forwards
 * SIGHUP (log reopen) to the workers, and on SIGTERM or SIGINT ends them
 * all and waits for them.
 */
#ifndef POSTDESK_PREFORK_H
#define POSTDESK_PREFORK_H

#define PREFORK_MAX 64

/*
 * Run n workers (1..PREFORK_MAX).  Returns 1 in a worker, which goes on to
 * serve; in the parent, returns 0 once every worker has ended after
 * SIGTERM or SIGINT, or -1 when not even one worker could be started.
 */
int prefork_run(unsigned n);

/* Parse a --workers value: 0, or -1 if it is not a number in 1..PREFORK_MAX. */
int prefork_parse(const char *text, unsigned *n);

#endif
