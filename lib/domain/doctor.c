/*
 * doctor: the checks of postdesk-admin doctor (lib/domain/doctor.h).  Each
 * check is a small function that prints its lines through say(); a check
 * that needs what an earlier one found (the database, the key) is skipped
 * when that failed, since the earlier FAIL already says what to do.
 * Nothing here changes the install, except what Test connection itself
 * does to a mailbox (lib/domain/mailbox_connect.c: a fresh token, and a
 * failed check recorded as the mailbox's last error).
 */
#define _XOPEN_SOURCE 700 /* strptime() */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapt/app.h"
#include "base/log.h"
#include "domain/doctor.h"
#include "domain/health.h"
#include "domain/mailbox_connect.h"
#include "domain/mailbox_state.h"
#include "domain/migrate.h"
#include "store/store.h"

/* README.md, "Production install": large attachments need it. */
#define PACKET_MIN (64LL * 1024 * 1024)
/* The CREATE TRIGGERs of sql/0011_mailbox_attention.sql. */
#define TRIGGERS_0011 3
/* Seconds of clock difference that warn, and that fail: Microsoft
 * refuses tokens whose times are off by minutes. */
#define SKEW_WARN    10
#define SKEW_FAIL    120
#define DB_SKEW_FAIL 60

struct doctor {
	FILE               *out;
	int                 fails;
	const char         *conf; /* the configuration file read */
	struct app          app;
	struct doctor_runas runas;
	int                 key_ok, db_ok;
};

/* One line: LEVEL check: what[ -- fix]; newlines of Microsoft's texts
 * become spaces so that every check stays one line. */
static void say(struct doctor *d, enum doctor_level lv, const char *check,
    const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
say(struct doctor *d, enum doctor_level lv, const char *check, const char *fix,
    const char *fmt, ...)
{
	static const char *const names[] = { "ok", "warn", "FAIL" };
	char                     line[2048];
	va_list                  ap;
	int                      n;

	n = snprintf(line, sizeof line, "%-4s %s: ", names[lv], check);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (fix != NULL && fix[0] != '\0' && lv != DOCTOR_OK) {
		n = (int)strlen(line);
		snprintf(line + n, sizeof line - (size_t)n, " -- %s", fix);
	}
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	fprintf(d->out, "%s\n", line);
	d->fails += lv == DOCTOR_FAIL;
}

/* --- files ------------------------------------------------------------- */

enum id_kind {
	ID_USER,
	ID_GROUP
};

/* The name of user or group id, else its number. */
static void
name_of(enum id_kind kind, unsigned id, char *dst, size_t size)
{
	const char *name = NULL;

	if (kind == ID_USER) {
		struct passwd *pw = getpwuid((uid_t)id);
		name = pw != NULL ? pw->pw_name : NULL;
	} else {
		struct group *gr = getgrgid((gid_t)id);
		name = gr != NULL ? gr->gr_name : NULL;
	}
	if (name != NULL)
		snprintf(dst, size, "%s", name);
	else
		snprintf(dst, size, "%u", id);
}

/* The programs' user: name, else postdesk if it exists, else whoever runs
 * this.  -1 when name is no user. */
static int
runas_find(struct doctor_runas *ra, const char *name)
{
	struct passwd *pw = getpwnam(name != NULL ? name : "postdesk");

	memset(ra, 0, sizeof *ra);
	if (pw == NULL && name != NULL)
		return -1;
	ra->uid = pw ? (unsigned)pw->pw_uid : (unsigned)geteuid();
	ra->gid = pw ? (unsigned)pw->pw_gid : (unsigned)getegid();
	ra->dedicated = ra->uid != 0 && ra->uid != (unsigned)geteuid();
	name_of(ID_USER, ra->uid, ra->user, sizeof ra->user);
	name_of(ID_GROUP, ra->gid, ra->group, sizeof ra->group);
	return 0;
}

/* Can the programs' user read f? */
static int
readable_by(const struct doctor_file *f, const struct doctor_runas *ra)
{
	if (ra->uid == 0)
		return 1;
	if (f->uid == ra->uid)
		return (f->mode & 0400) != 0;
	if (f->gid == ra->gid)
		return (f->mode & 0040) != 0;
	return (f->mode & 0004) != 0;
}

/*
 * The verdict on a file's owner and mode for the programs' user ra: every
 * file must be readable by ra; a secret (the key file, a configuration that
 * holds db_password) must be mode 0640 or stricter, owned by root (or, when
 * there is no user postdesk, by whoever runs the programs), and readable by
 * no group but ra's.  why says what is wrong (or the owner and mode when
 * nothing is), fix what to do.
 */
enum doctor_level
doctor_file_verdict(const struct doctor_file *f, const struct doctor_runas *ra,
    char *why, size_t whysz, char *fix, size_t fixsz)
{
	char        owner[64], group[64];
	const char *want = ra->uid == 0 ? "root" : ra->group;
	unsigned    mode = f->mode & 07777;

	name_of(ID_USER, f->uid, owner, sizeof owner);
	name_of(ID_GROUP, f->gid, group, sizeof group);
	snprintf(why, whysz, "%s is %s:%s mode %04o", f->path, owner, group,
	    mode);
	fix[0] = '\0';
	if (!readable_by(f, ra)) {
		snprintf(why + strlen(why), whysz - strlen(why),
		    ": user %s cannot read it", ra->user);
		snprintf(fix, fixsz, "chown root:%s %s && chmod 0640 %s", want,
		    f->path, f->path);
		return DOCTOR_FAIL;
	}
	if (!f->secret)
		return DOCTOR_OK;
	if ((mode & 0007) != 0 || (mode & ~0640u) != 0) {
		snprintf(why + strlen(why), whysz - strlen(why), ": %s",
		    (mode & 0004) != 0 ? "readable by everyone"
		                       : "more than 0640 allows");
		snprintf(fix, fixsz, "chmod 0640 %s", f->path);
		return DOCTOR_FAIL;
	}
	if ((mode & 0040) != 0 && f->gid != ra->gid) {
		snprintf(why + strlen(why), whysz - strlen(why),
		    ": group %s may read it", group);
		snprintf(fix, fixsz, "chgrp %s %s", want, f->path);
		return DOCTOR_FAIL;
	}
	if (f->uid != 0 && (ra->dedicated || f->uid != ra->uid)) {
		snprintf(why + strlen(why), whysz - strlen(why),
		    ": %s may change it", owner);
		snprintf(fix, fixsz, "chown root:%s %s", want, f->path);
		return f->uid == ra->uid ? DOCTOR_WARN : DOCTOR_FAIL;
	}
	return DOCTOR_OK;
}

/* Say the verdict on path; -1 when it cannot be read at all. */
static int
check_file(struct doctor *d, const char *check, const char *path, int secret)
{
	struct doctor_file f = { .path = path, .secret = secret };
	struct stat        st;
	char               why[700], fix[700];

	if (stat(path, &st) == -1) {
		say(d, DOCTOR_FAIL, check, NULL, "%s: %s", path,
		    strerror(errno));
		return -1;
	}
	f.mode = (unsigned)st.st_mode;
	f.uid = (unsigned)st.st_uid;
	f.gid = (unsigned)st.st_gid;
	say(d,
	    doctor_file_verdict(&f, &d->runas, why, sizeof why, fix,
	        sizeof fix),
	    check, fix, "%s", why);
	return 0;
}

/* Does the file at path set db_password (its own line, not the env)? */
static int
sets_password(const char *path)
{
	FILE *fp = fopen(path, "r");
	char  line[2048];
	int   found = 0;

	if (fp == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, fp) != NULL) {
		char *s = line + strspn(line, " \t");

		if (strncmp(s, "db_password", 11) != 0)
			continue;
		s += 11 + strspn(s + 11, " \t");
		found = *s == '=' && s[1 + strspn(s + 1, " \t\r\n")] != '\0';
	}
	fclose(fp);
	return found;
}

static const char *
config_fix(const char *path)
{
	if (access(path, R_OK) == 0)
		return "correct that key in the file or its POSTDESK_ variable";
	if (errno == ENOENT)
		return "create it from postdesk.conf.example, or set "
		       "POSTDESK_CONF";
	return "run doctor as root";
}

static int
check_config(struct doctor *d)
{
	struct err err;

	d->conf = config_path();
	if (config_load(&d->app.cfg, d->conf, &err) == -1) {
		say(d, DOCTOR_FAIL, "configuration", config_fix(d->conf),
		    "%s: %s", d->conf, err.msg);
		return -1;
	}
	say(d, DOCTOR_OK, "configuration", NULL, "%s loaded", d->conf);
	check_file(d, "configuration file", d->conf, sets_password(d->conf));
	return 0;
}

/* The key file: owner and mode, 32 bytes, and that the programs load it. */
static void
check_key(struct doctor *d)
{
	const char *path = d->app.cfg.key_file;
	char        fix[600], extra;
	struct err  err;
	ssize_t     n;
	int         fd, fails = d->fails;

	snprintf(fix, sizeof fix,
	    "(umask 027; head -c 32 /dev/urandom > %s) && chown root:%s %s",
	    path, d->runas.uid == 0 ? "root" : d->runas.group, path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		say(d, DOCTOR_FAIL, "key file", errno == ENOENT ? fix : NULL,
		    "%s: %s", path, strerror(errno));
		return;
	}
	n = read(fd, d->app.key.k, sizeof d->app.key.k);
	if (n != (ssize_t)sizeof d->app.key.k || read(fd, &extra, 1) != 0)
		say(d, DOCTOR_FAIL, "key file",
		    n <= 0 ? fix
		           : "restore the key from your backup: another key "
		             "cannot unseal the stored secrets",
		    "%s does not hold exactly 32 bytes", path);
	close(fd);
	seal_key_wipe(&d->app.key);
	check_file(d, "key file", path, 1);
	if (d->fails != fails)
		return;
	if (seal_init() == -1 || seal_key_load(&d->app.key, path, &err) == -1) {
		say(d, DOCTOR_FAIL, "key file", NULL, "%s", err.msg);
		return;
	}
	d->key_ok = 1;
}

/* --- the database ------------------------------------------------------ */

static const char *
db_fix(unsigned e)
{
	switch (e) {
	case 1044:
	case 1045:
		return "check db_user and db_password of the configuration and "
		       "the user's GRANT (README.md, Production install)";
	case 1049:
		return "create the database (README.md, Production install)";
	case 2002:
	case 2003:
	case 2005:
	case 2006:
		return "start MariaDB (systemctl start mariadb) or correct "
		       "db_socket, db_host, db_port";
	default:
		return "check the db_ keys of the configuration";
	}
}

static void
check_db(struct doctor *d)
{
	const struct config *c = &d->app.cfg;
	struct err           err;
	char                 where[600];

	if (c->db_socket[0])
		snprintf(where, sizeof where, "socket %s", c->db_socket);
	else
		snprintf(where, sizeof where, "%s:%ld", c->db_host, c->db_port);
	d->app.db = db_new(c);
	if (db_ping(d->app.db, &err) == -1) {
		say(d, DOCTOR_FAIL, "database",
		    db_fix(db_last_errno(d->app.db)),
		    "cannot use database %s as %s at %s: %s", c->db_name,
		    c->db_user, where, err.detail[0] ? err.detail : err.msg);
		return;
	}
	d->db_ok = 1;
	say(d, DOCTOR_OK, "database", NULL, "database %s as %s at %s",
	    c->db_name, c->db_user, where);
}

static void
check_migrations(struct doctor *d)
{
	const char           *dir = d->app.cfg.sql_dir;
	struct migrate_status st;
	struct err            err;
	char                  list[600] = "";
	size_t                n = 0;

	if (migrate_status(d->app.db, dir, &st, &err) == -1) {
		say(d, DOCTOR_FAIL, "migrations",
		    "point sql_dir at the installed migrations", "%s",
		    err.detail[0] && err.code != E_CONFIG ? err.detail
		                                          : err.msg);
		return;
	}
	for (size_t i = 0; i < st.npending; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
		    i ? ", " : "", st.pending[i]);
	if (st.npending > 0)
		say(d, DOCTOR_FAIL, "migrations", "postdesk-admin migrate",
		    "%zu of %zu in %s not applied: %s", st.npending, st.nfiles,
		    dir, list);
	for (size_t i = 0; i < st.nunknown; i++)
		say(d, DOCTOR_FAIL, "migrations",
		    "install the postdesk that made it, or point sql_dir at "
		    "its "
		    "migrations",
		    "the database has migration %04u, which %s lacks",
		    st.unknown[i], dir);
	if (st.npending == 0 && st.nunknown == 0)
		say(d, DOCTOR_OK, "migrations", NULL, "all %zu of %s applied",
		    st.nfiles, dir);
	if (st.npending == 0)
		d->db_ok = 2; /* the schema is what the checks below read */
	migrate_status_free(&st);
}

/* The server's settings, and its clock against ours. */
static void
check_server(struct doctor *d)
{
	struct server_facts f;
	struct err          err;
	long long           skew;

	if (store_server_facts(d->app.db, &f, &err) == -1) {
		say(d, DOCTOR_FAIL, "database", NULL, "%s", err.detail);
		return;
	}
	say(d, f.max_allowed_packet >= PACKET_MIN ? DOCTOR_OK : DOCTOR_FAIL,
	    "max_allowed_packet",
	    "set max_allowed_packet = 64M under [mysqld] "
	    "(/etc/mysql/mariadb.conf.d/50-server.cnf) and restart MariaDB",
	    "%lld MiB (at least 64 MiB, for mail with large attachments)",
	    f.max_allowed_packet / (1024 * 1024));
	if (d->db_ok == 2)
		say(d, f.triggers >= TRIGGERS_0011 ? DOCTOR_OK : DOCTOR_FAIL,
		    "triggers",
		    f.log_bin && !f.trust_creators
		        ? "GRANT TRIGGER to the database user; the server "
		          "writes a binary log, so also set "
		          "log_bin_trust_function_creators = 1; then "
		          "postdesk-admin migrate"
		        : "GRANT TRIGGER to the database user, then "
		          "postdesk-admin migrate",
		    "%lld of the %d triggers of sql/0011 on incoming_email "
		    "visible",
		    f.triggers, TRIGGERS_0011);
	skew = (long long)time(NULL) - f.now;
	say(d,
	    llabs(skew) > DB_SKEW_FAIL    ? DOCTOR_FAIL
	        : llabs(skew) > SKEW_WARN ? DOCTOR_WARN
	                                  : DOCTOR_OK,
	    "clock",
	    "synchronise the clocks of this host and the database server "
	    "(chrony or systemd-timesyncd)",
	    "this host is %+lld s from the database server's", skew);
}

/* --- HTTP -------------------------------------------------------------- */

/*
 * The seconds between now and an HTTP Date ("Sun, 06 Nov 1994 08:49:37
 * GMT", RFC 9110): now minus the date.  -1 if it is not one.
 */
int
doctor_date_skew(const char *date, long long now, long long *skew)
{
	struct tm   tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*skew = now - (long long)timegm(&tm);
	return 0;
}

static int
get(struct http *h, const char *url, struct http_resp *r, struct err *err)
{
	struct http_req rq = { .method = "GET", .url = url };

	return http_do(h, &rq, r, err);
}

static void
check_clock(struct doctor *d)
{
	const char      *url = d->app.cfg.login_url;
	struct http     *h = app_http(&d->app, NULL);
	struct http_resp r;
	struct err       err;
	long long        skew;

	if (h == NULL || get(h, url, &r, &err) == -1) {
		say(d, DOCTOR_FAIL, "clock",
		    "allow outgoing HTTPS to it (firewall, proxy, DNS)",
		    "cannot reach login_url %s: %s", url,
		    h == NULL ? "no HTTP client" : err.msg);
		if (h != NULL)
			http_resp_cleanup(&r);
		return;
	}
	if (doctor_date_skew(r.date, (long long)time(NULL), &skew) == -1)
		say(d, DOCTOR_WARN, "clock", NULL,
		    "%s answered without a Date header", url);
	else
		say(d,
		    llabs(skew) > SKEW_FAIL       ? DOCTOR_FAIL
		        : llabs(skew) > SKEW_WARN ? DOCTOR_WARN
		                                  : DOCTOR_OK,
		    "clock",
		    "set the time right and keep it (chrony or "
		    "systemd-timesyncd): Microsoft refuses tokens when the "
		    "clock is off",
		    "this host is %+lld s from %s", skew, url);
	http_resp_cleanup(&r);
}

/* GET portal_url + path; says whether postdesk answered it (want). */
static void
check_url(struct doctor *d, struct http *h, const char *check, const char *path,
    long status, const char *want, const char *fix)
{
	struct http_resp r;
	struct err       err;
	char             url[1200];

	snprintf(url, sizeof url, "%s%s", d->app.cfg.portal_url, path);
	if (get(h, url, &r, &err) == -1)
		say(d, DOCTOR_FAIL, check,
		    "check DNS, that nginx listens there and that its "
		    "certificate is trusted (--cacert FILE for a private CA)",
		    "GET %s: %s", url, err.msg);
	else if ((status != 0 && r.status != status) || r.body.data == NULL ||
	    strstr(r.body.data, want) == NULL)
		say(d, DOCTOR_FAIL, check, fix,
		    "GET %s answered %ld, but not postdesk's answer", url,
		    r.status);
	else
		say(d, DOCTOR_OK, check, NULL, "%s answers (%ld)", url,
		    r.status);
	http_resp_cleanup(&r);
}

/*
 * portal_url: the API's health answer (200 or 503, both with "health"),
 * and the two redirect URIs, which without a state answer postdesk-oauth's
 * own page (cgi-bin/oauth.c), not nginx's 404 or 502.
 */
static void
check_portal(struct doctor *d, const struct doctor_opts *o)
{
	static const char oauth_fix[] =
	    "include the nginx snippet in the server block of portal_url and "
	    "start postdesk-oauth on its socket";
	struct err   err;
	struct http *h = http_new(&d->app.cfg, &err);

	if (h == NULL) {
		say(d, DOCTOR_FAIL, "portal", NULL, "%s", err.msg);
		return;
	}
	if (o->ca_file != NULL)
		http_set_ca_file(h, o->ca_file);
	check_url(d, h, "portal", "/api/health", 0, "\"health\"",
	    "include the nginx snippet in the server block of portal_url and "
	    "start postdesk-api on its socket");
	check_url(d, h, "redirect URI", "/azure/auth", 400,
	    "This sign-in cannot be used", oauth_fix);
	check_url(d, h, "redirect URI", "/auth/account/azureresponse", 400,
	    "This sign-in cannot be used", oauth_fix);
	http_free(h);
}

/* --- mailboxes and scans ----------------------------------------------- */

/*
 * What the mailbox page says to do after a failed check: the guidance the
 * failure recorded on the mailbox (a refused refresh records Microsoft's
 * own error, more precise than the check's), else the check's.
 */
static void
page_guidance(struct doctor *d, uint64_t id,
    const struct mailbox_connect_check *ck, char *fix, size_t size)
{
	struct mailbox mb;
	struct err     err;

	snprintf(fix, size, "%s: %s",
	    ck->guidance ? ck->guidance->title : "Failed",
	    ck->guidance ? ck->guidance->action : "see the mailbox page");
	if (mailbox_get(&d->app, id, &mb, &err) == 0 &&
	    mb.last_error_guidance[0] != '\0')
		snprintf(fix, size, "%s", mb.last_error_guidance);
	mailbox_cleanup(&mb);
}

/* Test connection of one connected mailbox, with the page's guidance. */
static void
test_mailbox(struct doctor *d, const struct mailbox *mb, const char *check)
{
	struct mailbox_connect_report rep;
	struct err                    err;
	struct http                  *h = app_http(&d->app, &err);
	char                          fix[1200];

	if (h == NULL ||
	    mailbox_connect_test(&d->app, h, mb->id, &rep, &err) == -1) {
		say(d, DOCTOR_FAIL, check, NULL, "Test connection: %s",
		    err.msg);
		return;
	}
	for (size_t i = 0; i < rep.n; i++) {
		const struct mailbox_connect_check *ck = &rep.checks[i];

		if (ck->passed)
			continue;
		page_guidance(d, mb->id, ck, fix, sizeof fix);
		say(d, DOCTOR_FAIL, check, fix, "%s", ck->detail);
		return;
	}
	say(d, DOCTOR_OK, check, NULL,
	    "Test connection passed (token refreshed; Inbox and Deleted Items "
	    "opened)");
}

static void
check_mailbox(struct doctor *d, const struct mailbox *mb)
{
	char check[500];

	snprintf(check, sizeof check, "mailbox %s (id %llu)", mb->name,
	    (unsigned long long)mb->id);
	switch (mb->status) {
	case MAILBOX_CONNECTED:
		test_mailbox(d, mb, check);
		break;
	case MAILBOX_NOT_CONNECTED:
		say(d, DOCTOR_WARN, check,
		    "press Authorize Application on its page", "not connected");
		break;
	case MAILBOX_DISCONNECTED:
		say(d, DOCTOR_OK, check, NULL, "disconnected, not scanned");
		break;
	default:
		say(d, DOCTOR_FAIL, check,
		    mb->last_error_guidance[0] ? mb->last_error_guidance
		                               : "see the mailbox page",
		    "%s: %s", mailbox_status_name(mb->status),
		    mb->last_error[0] ? mb->last_error : "no error recorded");
	}
}

static void
check_mailboxes(struct doctor *d)
{
	struct mailbox *mbs;
	size_t          n;
	struct err      err;

	if (mailbox_list(&d->app, &mbs, &n, &err) == -1) {
		say(d, DOCTOR_FAIL, "mailboxes", NULL, "%s", err.msg);
		return;
	}
	if (n == 0)
		say(d, DOCTOR_WARN, "mailboxes",
		    "add one on the portal's Mailbox Setup page", "none yet");
	for (size_t i = 0; i < n; i++)
		check_mailbox(d, &mbs[i]);
	mailbox_list_free(mbs, n);
}

static const char *
scan_fix(const char *why)
{
	if (strcmp(why, "not_scanned") == 0)
		return "check that postdesk-scan runs every minute (cron or "
		       "its timer) and read its log";
	if (strcmp(why, "needs_reauth") == 0)
		return "press Reauthorize on the mailbox page";
	return "see the last error on the mailbox page";
}

static const char *
since(const struct scan_health *h, char *dst, size_t size)
{
	if (h->minutes < 0)
		return "never scanned successfully";
	snprintf(dst, size, "last success %lld minutes ago", h->minutes);
	return dst;
}

/* Scans: lib/domain/health.c's verdict on each mailbox, as GET /api/health
 * gives it. */
static void
check_scans(struct doctor *d)
{
	struct health hs;
	struct err    err;
	char          ago[64];

	if (health_read(d->app.db, &hs, &err) == -1) {
		say(d, DOCTOR_FAIL, "scans", NULL, "%s", err.msg);
		return;
	}
	for (size_t i = 0; i < hs.n; i++) {
		const struct scan_health *h = &hs.rows[i];
		const char               *why = health_reason(h);

		if (why == NULL)
			continue;
		say(d, DOCTOR_FAIL, "scans", scan_fix(why),
		    "mailbox %s (id %llu): %s, %s%s%s", h->name,
		    (unsigned long long)h->id, why, since(h, ago, sizeof ago),
		    h->last_error[0] ? ": " : "", h->last_error);
	}
	if (hs.failing == 0)
		say(d, DOCTOR_OK, "scans", NULL,
		    "%lld mailbox%s scanned successfully within %d minutes",
		    hs.watched, hs.watched == 1 ? "" : "es",
		    HEALTH_SCAN_MINUTES);
	if (hs.attention > 0)
		say(d, DOCTOR_WARN, "scans",
		    "see the Incoming Email Log (failed, quarantined)",
		    "%lld mails need attention", hs.attention);
	health_free(&hs);
}

int
doctor_run(const struct doctor_opts *o, FILE *out)
{
	struct doctor d = { .out = out };

	if (runas_find(&d.runas, o->user) == -1) {
		fprintf(out, "no such user: %s\n", o->user);
		return 2;
	}
	/* The checks speak for themselves; the log would repeat them. */
	log_set_level_name("error");
	if (check_config(&d) == 0) {
		check_key(&d);
		check_db(&d);
		if (d.db_ok) {
			check_migrations(&d);
			check_server(&d);
		}
		check_portal(&d, o);
		check_clock(&d);
		if (d.db_ok == 2 && d.key_ok)
			check_mailboxes(&d);
		else if (d.db_ok == 2)
			say(&d, DOCTOR_WARN, "mailboxes", NULL,
			    "not tested: the key file cannot be used");
		if (d.db_ok == 2)
			check_scans(&d);
	}
	fprintf(out, "%d check%s failed\n", d.fails, d.fails == 1 ? "" : "s");
	app_cleanup(&d.app);
	return d.fails ? 1 : 0;
}
