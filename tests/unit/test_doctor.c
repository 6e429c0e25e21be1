/*
 * test_doctor: the pure parts of postdesk-admin doctor — the verdict on a
 * secret file's owner and mode for the programs' user, and the clock
 * difference from an HTTP Date header.
 */
#include <string.h>

#include "domain/doctor.h"
#include "test.h"

/* The programs run as a user of their own, uid 990 group 990. */
static const struct doctor_runas DEDICATED = { .uid = 990,
	.gid = 990,
	.dedicated = 1,
	.user = "postdesk",
	.group = "postdesk" };
/* A developer's stack: the programs run as whoever started it. */
static const struct doctor_runas OWN = { .uid = 1000,
	.gid = 1000,
	.user = "dev",
	.group = "dev" };
static const struct doctor_runas ROOT = { .user = "root", .group = "root" };

static enum doctor_level
verdict(const struct doctor_runas *ra, unsigned mode, unsigned uid,
    unsigned gid, int secret, char *why, char *fix)
{
	struct doctor_file f = {
		.path = "/etc/postdesk/secret.key",
		.mode = mode,
		.uid = uid,
		.gid = gid,
		.secret = secret,
	};

	return doctor_file_verdict(&f, ra, why, 300, fix, 300);
}

static void
test_secret_modes(void)
{
	char why[300], fix[300];

	/* The install's way: root:postdesk 0640, or stricter for root alone. */
	CHECK_INT(verdict(&DEDICATED, 0640, 0, 990, 1, why, fix), DOCTOR_OK);
	CHECK(strstr(why, "mode 0640") != NULL);
	CHECK_INT(verdict(&ROOT, 0600, 0, 0, 1, why, fix), DOCTOR_OK);
	CHECK_INT(verdict(&ROOT, 0400, 0, 0, 1, why, fix), DOCTOR_OK);
	/* World-readable: fail, and say chmod 0640. */
	CHECK_INT(verdict(&DEDICATED, 0644, 0, 990, 1, why, fix), DOCTOR_FAIL);
	CHECK(strstr(why, "readable by everyone") != NULL);
	CHECK_STR(fix, "chmod 0640 /etc/postdesk/secret.key");
	CHECK_INT(verdict(&ROOT, 0604, 0, 0, 1, why, fix), DOCTOR_FAIL);
	/* More than 0640 without being world-readable: group write, x bits. */
	CHECK_INT(verdict(&DEDICATED, 0660, 0, 990, 1, why, fix), DOCTOR_FAIL);
	CHECK(strstr(why, "more than 0640") != NULL);
	CHECK_INT(verdict(&DEDICATED, 0740, 0, 990, 1, why, fix), DOCTOR_FAIL);
	CHECK_INT(verdict(&DEDICATED, 0642, 0, 990, 1, why, fix), DOCTOR_FAIL);
	/* The same modes are fine for a file that holds no secret. */
	CHECK_INT(verdict(&DEDICATED, 0644, 0, 0, 0, why, fix), DOCTOR_OK);
}

static void
test_secret_owners(void)
{
	char why[300], fix[300];

	/* root:root 0600 with a dedicated user: it cannot read the key. */
	CHECK_INT(verdict(&DEDICATED, 0600, 0, 0, 1, why, fix), DOCTOR_FAIL);
	CHECK(strstr(why, "user postdesk cannot read it") != NULL);
	CHECK(strstr(fix, "chown root:postdesk") != NULL);
	/* Readable by a group other than the programs'. */
	CHECK_INT(verdict(&ROOT, 0640, 0, 4, 1, why, fix), DOCTOR_FAIL);
	CHECK(strstr(fix, "chgrp root") != NULL);
	CHECK_INT(verdict(&DEDICATED, 0640, 990, 0, 1, why, fix),
	    DOCTOR_FAIL); /* group root may read, postdesk owns it */
	/* Owned by the dedicated user: it could change its own key. */
	CHECK_INT(verdict(&DEDICATED, 0600, 990, 990, 1, why, fix),
	    DOCTOR_WARN);
	CHECK(strstr(why, "may change it") != NULL);
	CHECK(strstr(fix, "chown root:postdesk") != NULL);
	/* A developer's own stack: their file, mode 0600. */
	CHECK_INT(verdict(&OWN, 0600, 1000, 1000, 1, why, fix), DOCTOR_OK);
	/* Someone else's file. */
	CHECK_INT(verdict(&OWN, 0600, 1001, 1000, 1, why, fix), DOCTOR_FAIL);
	/* A configuration without a secret still must be readable. */
	CHECK_INT(verdict(&DEDICATED, 0600, 0, 0, 0, why, fix), DOCTOR_FAIL);
}

static void
test_date_skew(void)
{
	long long skew = 0;

	/* 1994-11-06T08:49:37Z is 784111777. */
	CHECK_INT(doctor_date_skew("Sun, 06 Nov 1994 08:49:37 GMT", 784111777,
	              &skew),
	    0);
	CHECK_INT(skew, 0);
	CHECK_INT(doctor_date_skew("Sun, 06 Nov 1994 08:49:37 GMT", 784111900,
	              &skew),
	    0);
	CHECK_INT(skew, 123);
	CHECK_INT(doctor_date_skew("Sun, 06 Nov 1994 08:49:37 GMT", 784111700,
	              &skew),
	    0);
	CHECK_INT(skew, -77);
	CHECK_INT(doctor_date_skew("", 0, &skew), -1);
	CHECK_INT(doctor_date_skew("yesterday", 0, &skew), -1);
	CHECK_INT(doctor_date_skew("Sun, 06 Nov 1994 08:49:37 GMT junk", 0,
	              &skew),
	    -1);
}

int
main(void)
{
	test_secret_modes();
	test_secret_owners();
	test_date_skew();
	return TEST_DONE();
}
