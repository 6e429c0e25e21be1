/*
 * doctor: postdesk-admin doctor — checks an install from the configuration
 * to the scans and prints one line per check: ok, warn or FAIL, what is
 * wrong and what to do (README.md, "Checking an install").
 */
#ifndef POSTDESK_DOCTOR_H
#define POSTDESK_DOCTOR_H

#include <stddef.h>
#include <stdio.h>

struct doctor_opts {
	const char *ca_file; /* CAs for portal_url; NULL: the system's */
	const char *user;    /* the programs' user; NULL: postdesk if it
	                        exists, else whoever runs doctor */
};

/* Run every check; returns 0 when none failed, 1 otherwise (2: no such
 * user as o->user, said on out). */
int doctor_run(const struct doctor_opts *, FILE *out);

enum doctor_level {
	DOCTOR_OK,
	DOCTOR_WARN,
	DOCTOR_FAIL
};

/* Who the programs run as; dedicated: a user of their own, neither root
 * nor whoever runs doctor. */
struct doctor_runas {
	unsigned uid, gid;
	int      dedicated;
	char     user[64], group[64];
};

/* A file's owner and mode as stat() gives them. */
struct doctor_file {
	const char *path;
	unsigned    mode; /* permission bits */
	unsigned    uid, gid;
	int         secret; /* the key, or a configuration with db_password */
};

enum doctor_level doctor_file_verdict(const struct doctor_file *,
    const struct doctor_runas *, char *why, size_t whysz, char *fix,
    size_t fixsz);
int doctor_date_skew(const char *http_date, long long now, long long *skew);

#endif
