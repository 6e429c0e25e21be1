/*
 * mailbox_state: the one place a mailbox's status changes.  The store
 * writes the status it is given; which status follows which event is
 * the table below.  The operations here are what cgi-bin/api_mailbox.c,
 * cgi-bin/api_connect.c and cgi-bin/oauth.c (through
 * lib/domain/mailbox_connect.c) call: read, validate (lib/domain/mailbox.c),
 * seal, write.
 */
#include <string.h>

#include "domain/authn.h"
#include "base/etag.h"
#include "base/log.h"
#include "domain/mailbox.h"
#include "domain/mailbox_state.h"
#include "domain/push.h"
#include "adapt/seal.h"
#include "store/store.h"
#include "store/outgoing.h"
#include "base/xmalloc.h"

/* PATCH reads again this often when other writes keep coming first. */
#define UPDATE_TRIES 5

#define NOT_CONNECTED MAILBOX_NOT_CONNECTED
#define CONNECTED     MAILBOX_CONNECTED
#define NEEDS_REAUTH  MAILBOX_NEEDS_REAUTH
#define DISCONNECTED  MAILBOX_DISCONNECTED
#define STAY          (-1)

/*
 * The state machine: the status after an event, by the status before it
 * (STAY: the event changes nothing).  A connection made with credentials
 * that have since changed is dead, so the settings event moves a mailbox
 * that has (or had) a connection to needs_reauth; one never connected or
 * disconnected on purpose stays as it is.
 */
static const int NEXT[][4] = {
	/* connected  refresh refused  settings changed  disconnect */
	[MAILBOX_NOT_CONNECTED] = { CONNECTED, NEEDS_REAUTH, STAY,
	    DISCONNECTED },
	[MAILBOX_CONNECTED] = { CONNECTED, NEEDS_REAUTH, NEEDS_REAUTH,
	    DISCONNECTED },
	[MAILBOX_ERROR] = { CONNECTED, NEEDS_REAUTH, NEEDS_REAUTH,
	    DISCONNECTED },
	[MAILBOX_NEEDS_REAUTH] = { CONNECTED, NEEDS_REAUTH, NEEDS_REAUTH,
	    DISCONNECTED },
	[MAILBOX_DISCONNECTED] = { CONNECTED, NEEDS_REAUTH, STAY,
	    DISCONNECTED },
};

/* The status after ev from from, or -1 when it stays. */
int
mailbox_next_status(enum mailbox_status from, enum mailbox_event ev)
{
	return NEXT[from][ev];
}

/*
 * The reauthorisation rule: a connection belongs to the credentials it
 * was made with, so changing the Client ID, Tenant ID, secret or shared
 * address of a mailbox with a connection needs reauthorising.
 */
int
mailbox_needs_reauth(const struct mailbox *old, const struct mailbox *mb,
    int new_secret)
{
	if (mailbox_next_status(old->status, MAILBOX_EV_SETTINGS_CHANGED) ==
	    STAY)
		return 0;
	return new_secret || strcmp(old->client_id, mb->client_id) != 0 ||
	    strcmp(old->tenant_id, mb->tenant_id) != 0 ||
	    strcmp(old->shared_address, mb->shared_address) != 0;
}

static const struct guidance SETTINGS_CHANGED = { "settings_changed",
	"Settings changed",
	"Press Reauthorize and sign in again to connect with the new "
	"settings.",
	1 };

/* Load mailbox id (free with mailbox_cleanup()); E_NOTFOUND if none. */
int
mailbox_get(struct app *app, uint64_t id, struct mailbox *mb, struct err *err)
{
	if (store_mailbox_get(app->db, id, mb, err) == 0)
		return 0;
	mailbox_cleanup(mb);
	return -1;
}

/* 0 if mailbox id exists, else -1 (E_NOTFOUND or a database error). */
int
mailbox_exists(struct app *app, uint64_t id, struct err *err)
{
	struct mailbox mb;
	int            rc = mailbox_get(app, id, &mb, err);

	mailbox_cleanup(&mb);
	return rc;
}

/* Every mailbox by id (free with mailbox_list_free()). */
int
mailbox_list(struct app *app, struct mailbox **mbs, size_t *n, struct err *err)
{
	return store_mailbox_list(app->db, mbs, n, err);
}

/*
 * GET /api/mailboxes by an admin's API key (hash) in one statement: 0
 * with *who the key's principal and every mailbox in *mbs (free with
 * mailbox_list_free()); 1 when that found nothing — an unknown, revoked
 * or agent's key, or no mailbox: lib/domain/authn.c decides as for any request;
 * -1 on a database error.
 */
int
mailbox_list_for_key(struct app *app, const unsigned char *hash,
    struct principal *who, struct mailbox **mbs, size_t *n, struct err *err)
{
	struct api_key k;

	if (store_mailbox_list_for_key(app->db, hash, &k, mbs, n, err) == -1)
		return err->code == E_NOTFOUND ? 1 : -1;
	authn_apikey_principal(app, &k, who);
	return 0;
}

/* A taken name: E_CONFLICT with the field named in errors. */
static int
name_taken(json_t *errors, struct err *err)
{
	jsonx_field_error(errors, "name", "This name is already used.");
	err_set(err, E_CONFLICT, "A mailbox with this name already exists.");
	return -1;
}

/* Validate in over mb; E_INVALID with errors when a field is bad. */
static int
validate(struct mailbox *mb, json_t *in, int creating, char **secret,
    json_t *errors, struct err *err)
{
	if (mailbox_apply_json(mb, in, creating, secret, errors) == 0)
		return 0;
	err_set(err, E_INVALID, "Some fields need attention; see errors.");
	return -1;
}

/*
 * Create a mailbox from the fields of in.  Fails with E_INVALID or
 * E_CONFLICT (a taken name), the fields in errors.
 */
int
mailbox_create(struct app *app, json_t *in, uint64_t *id, json_t *errors,
    struct err *err)
{
	struct mailbox mb;
	struct buf     sealed = { 0 };
	char          *secret = NULL;
	int            rc = -1;

	mailbox_defaults(&mb);
	if (validate(&mb, in, 1, &secret, errors, err) == 0) {
		if (secret != NULL) /* none on a certificate (sql/0016) */
			seal(&app->key, secret, &sealed);
		rc = store_mailbox_insert(app->db, &mb, &sealed, id, err);
		if (rc == -1 && err->code == E_CONFLICT)
			name_taken(errors, err);
	}
	xfree_secret(secret);
	buf_cleanup(&sealed);
	mailbox_cleanup(&mb);
	return rc;
}

/* The settings event on a written mailbox: drop a stale connection. */
static int
settings_changed(struct app *app, const struct mailbox *old,
    const struct mailbox *mb, int new_secret, struct err *err)
{
	int to = mailbox_next_status(old->status, MAILBOX_EV_SETTINGS_CHANGED);

	if (!mailbox_needs_reauth(old, mb, new_secret))
		return 0;
	if (store_mailbox_set_status(app->db, mb->id, (enum mailbox_status)to,
	        1, err) == -1)
		return -1;
	return store_mailbox_set_error(app->db, mb->id, SETTINGS_CHANGED.key,
	    "The Client ID, Tenant ID, secret or shared address changed.",
	    SETTINGS_CHANGED.action, err);
}

/* Write mb (from old) if still at its version: 1 if it moved on. */
static int
write_settings(struct app *app, const struct mailbox *old, struct mailbox *mb,
    const char *secret, json_t *errors, struct err *err)
{
	struct buf sealed = { 0 };
	int        rc;

	if (secret != NULL)
		seal(&app->key, secret, &sealed);
	rc = store_mailbox_update(app->db, mb, secret ? &sealed : NULL, err);
	buf_cleanup(&sealed);
	if (rc == -1 && err->code == E_CHANGED)
		return 1;
	if (rc == -1)
		return err->code == E_CONFLICT ? name_taken(errors, err) : -1;
	/* a new secret is the mailbox's one credential (sql/0016) */
	if (secret != NULL &&
	    store_mailbox_cred_secret_chosen(app->db, mb->id, err) == -1)
		return -1;
	return settings_changed(app, old, mb, secret != NULL, err);
}

/* The credential of mailbox old changed (lib/domain/mailbox_cred.c): a
 * connection made with the old one needs reauthorising, as for a new
 * secret. */
int
mailbox_credential_changed(struct app *app, const struct mailbox *old,
    struct err *err)
{
	return settings_changed(app, old, old, 1, err);
}

/*
 * One read-modify-write: 0 written, 1 another write came first (read
 * again), -1 failed (E_CHANGED with *version when If-Match pinned one).
 */
static int
patch_once(struct app *app, uint64_t id, json_t *in, const char *if_match,
    uint64_t *version, json_t *errors, struct err *err)
{
	struct mailbox mb, old;
	char          *secret = NULL;
	int            rc = -1;

	if (mailbox_get(app, id, &old, err) == -1)
		return -1;
	*version = old.version;
	if (!etag_matches(if_match, old.version)) {
		err_set(err, E_CHANGED, "Mailbox %llu changed meanwhile.",
		    (unsigned long long)id);
	} else {
		mb = old;
		mb.processed_folder = xstrdup(old.processed_folder);
		mb.last_error = xstrdup(old.last_error);
		mb.last_error_guidance = xstrdup(old.last_error_guidance);
		mb.ack_subject = xstrdup(old.ack_subject);
		mb.ack_body = xstrdup(old.ack_body);
		mb.quarantine_folder = xstrdup(old.quarantine_folder);
		if (validate(&mb, in, 0, &secret, errors, err) == 0)
			rc =
			    write_settings(app, &old, &mb, secret, errors, err);
		xfree_secret(secret);
		mailbox_cleanup(&mb);
	}
	mailbox_cleanup(&old);
	if (rc == 1 && etag_pinned(if_match)) {
		if (mailbox_get(app, id, &old, err) == -1)
			return -1;
		*version = old.version;
		mailbox_cleanup(&old);
		err_set(err, E_CHANGED, "Mailbox %llu changed meanwhile.",
		    (unsigned long long)id);
		return -1;
	}
	return rc;
}

/*
 * PATCH: change the fields of in on mailbox id.  Two PATCHes at once both
 * land: the one that finds the version moved on reads again (unless
 * if_match pins a version).  Fails with E_INVALID or E_CONFLICT (fields
 * in errors; E_CONFLICT without them: other writes kept coming first),
 * E_CHANGED with the current *version, E_NOTFOUND.
 */
int
mailbox_patch(struct app *app, uint64_t id, json_t *in, const char *if_match,
    uint64_t *version, json_t *errors, struct err *err)
{
	int rc = 1;

	for (int i = 0; rc == 1 && i < UPDATE_TRIES; i++)
		rc = patch_once(app, id, in, if_match, version, errors, err);
	if (rc == 1) {
		err_set(err, E_CONFLICT,
		    "Other changes to this mailbox kept arriving; try again.");
		rc = -1;
	}
	return rc;
}

/* Delete mailbox id; E_NOTFOUND if there is none. */
int
mailbox_delete(struct app *app, uint64_t id, struct err *err)
{
	return store_mailbox_delete(app->db, id, err);
}

/* Disconnect: forget the tokens; keep the mailbox and its history. */
int
mailbox_disconnect(struct app *app, uint64_t id, struct err *err)
{
	struct mailbox mb;
	int            to;

	if (mailbox_get(app, id, &mb, err) == -1)
		return -1;
	to = mailbox_next_status(mb.status, MAILBOX_EV_DISCONNECT);
	/* before the tokens go: Graph's DELETE needs one */
	push_disconnect(app, id, mailbox_clouds[mb.cloud].id,
	    mb.shared_address);
	mailbox_cleanup(&mb);
	if (store_mailbox_set_status(app->db, id, (enum mailbox_status)to, 1,
	        err) == -1)
		return -1;
	return store_mailbox_set_error(app->db, id, NULL, NULL, NULL, err);
}

/* Record message and g's advice as the mailbox's last error; a failure
 * only logs. */
void
mailbox_record_error(struct app *app, uint64_t id, const struct guidance *g,
    const char *message)
{
	struct err err;

	if (store_mailbox_set_error(app->db, id, g->key, message, g->action,
	        &err) == -1)
		log_err("mailbox %llu: error not recorded: %s",
		    (unsigned long long)id, err.detail);
}

/* A connection was made (lib/domain/mailbox_connect.c): store it, status
 * connected. */
int
mailbox_connected(struct app *app, uint64_t id, const struct connection *cn,
    struct err *err)
{
	int to =
	    mailbox_next_status(MAILBOX_NOT_CONNECTED, MAILBOX_EV_CONNECTED);

	return store_mailbox_token_connect(app->db, id, (enum mailbox_status)to,
	    cn, err);
}

struct refused_args {
	uint64_t               id, gen;
	const struct guidance *g;
	const char            *message;
	int                   *won;
};

static int
refused_txn(struct db *db, void *arg, struct err *err)
{
	struct refused_args *a = arg;
	int                  to =
	    mailbox_next_status(MAILBOX_CONNECTED, MAILBOX_EV_REFRESH_REFUSED);

	*a->won = 0;
	if (store_mailbox_token_refused(db, a->id, a->gen,
	        (enum mailbox_status)to, a->won, err) == -1)
		return -1;
	if (!*a->won)
		return 0;
	if (store_outgoing_hold(db, a->id, err) == -1)
		return -1;
	return store_mailbox_set_error(db, a->id, a->g->key, a->message,
	    a->g->action, err);
}

/*
 * Microsoft refused refresh token generation gen (lib/domain/mailbox_token.c,
 * which refreshes connected mailboxes only): the mailbox needs reauthorising,
 * its tokens are forgotten, its outgoing mail held and g's advice
 * recorded, in one transaction — unless the token changed meanwhile
 * (*won 0, nothing written).  The refresh_gen compare-and-swap makes it
 * safe to run again (a conflict on Galera re-reads the generation); after
 * an unknown COMMIT outcome too: a second run finds the generation moved
 * on and writes nothing (*won 0), and the first run's work stands.
 */
int
mailbox_refresh_refused(struct app *app, uint64_t id, uint64_t gen,
    const struct guidance *g, const char *message, int *won, struct err *err)
{
	struct refused_args a = { id, gen, g, message, won };

	return db_txn(app->db, refused_txn, &a, DB_TXN_REDO_SAFE, err);
}
