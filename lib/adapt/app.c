/*
 * app: start-up of a program — log, configuration, libsodium, key, DB.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "adapt/app.h"
#include "base/log.h"

/*
 * Initialise everything a program needs.  Returns 0, or -1 with err saying
 * which setting is wrong (the caller prints it and exits).  The database
 * is connected lazily, so a program starts even while MariaDB is down.
 */
int
app_init(struct app *app, const char *prog, struct err *err)
{
	const char *logf;

	memset(app, 0, sizeof *app);
	log_init(prog);
	/* Before anything else: a SIGHUP (logrotate) must not end us. */
	if (log_reopen_on(SIGHUP) == -1) {
		err_set(err, E_INTERNAL, "cannot handle SIGHUP: %s",
		    strerror(errno));
		return -1;
	}
	if (config_load_default(&app->cfg, err) == -1)
		return -1;
	logf = app->cfg.log_file;
	if (logf[0] != '\0' && log_open(logf) == -1) {
		err_set(err, E_CONFIG,
		    "configuration key 'log_file': cannot open %s: %s", logf,
		    strerror(errno));
		return -1;
	}
	log_set_level_name(app->cfg.log_level);
	if (seal_init() == -1) {
		err_set(err, E_INTERNAL, "libsodium failed to initialise");
		return -1;
	}
	if (seal_key_load(&app->key, app->cfg.key_file, err) == -1)
		return -1;
	app->db = db_new(&app->cfg);
	return 0;
}

/* The process's HTTP client, made on first use (NULL with err). */
struct http *
app_http(struct app *app, struct err *err)
{
	if (app->http == NULL)
		app->http = http_new(&app->cfg, err);
	return app->http;
}

/*
 * The HTTP client for one web request: its calls to Microsoft together
 * end within APP_REQUEST_HTTP_MS from now (NULL with err).
 */
struct http *
app_http_request(struct app *app, struct err *err)
{
	struct http *h = app_http(app, err);

	if (h != NULL)
		http_set_deadline(h, APP_REQUEST_HTTP_MS);
	return h;
}

void
app_cleanup(struct app *app)
{
	http_free(app->http);
	app->http = NULL;
	db_free(app->db);
	app->db = NULL;
	seal_key_wipe(&app->key);
	config_cleanup(&app->cfg);
}
