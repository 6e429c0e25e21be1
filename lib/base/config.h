/*
 * config: postdesk.conf (key = value) with POSTDESK_<KEY> overrides.
 */
#ifndef POSTDESK_CONFIG_H
#define POSTDESK_CONFIG_H

#include "base/addrlist.h"
#include "base/err.h"

struct config {
	char           *portal_url;
	char           *login_url;
	char           *graph_url;
	char           *db_socket;
	char           *db_host;
	long            db_port;
	char           *db_name;
	char           *db_user;
	char           *db_password;
	char           *key_file;
	char           *sql_dir;
	char           *log_file;
	char           *log_level;
	long            http_timeout;
	long            session_idle_minutes;
	long            session_max_hours;
	long            login_max_failures;
	long            attachment_max_mb;
	long            scan_seconds;
	long            scan_interval;
	long            scan_workers; /* a run's worker processes; 0 auto */
	long            scan_lease_seconds; /* lib/domain/scanner.c */
	char           *host_id; /* this host in lease owners; "" hostname */
	long            intake_attempts; /* failed intakes before quarantine */
	long            retry_backoff;   /* seconds before the first retry */
	struct addrlist metrics_allow;   /* may read /api/metrics unsigned */
	char           *metrics_file;    /* request counters; "" = none */
	char           *push;            /* auto, on, off (docs/push.md) */
	long            push_poll_interval; /* polls while push is healthy */
};

int         config_load(struct config *, const char *path, struct err *);
int         config_load_default(struct config *, struct err *);
const char *config_path(void);
int         config_set(struct config *, const char *key, const char *value,
            struct err *);
int         config_validate(const struct config *, struct err *);
void        config_cleanup(struct config *);
int         config_url_ok(const char *url);

#endif
