/*
 * scanner: the lease is a pair of columns on the mailbox row
 * (lib/store/mailbox_scan.c): whoever's conditional UPDATE matched owns the
 * mailbox for scan_lease_seconds (config; SCAN_LEASE_SECONDS by default)
 * and renews it after every page.  A lease whose holder was a scanner on this
 * host that no longer runs (killed, crashed) is taken over at once instead of
 * waiting for it to expire; the owner is "host:pid" so that this can be told.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microsoft/guidance.h"
#include "model/limits.h"
#include "base/log.h"
#include "domain/scanner.h"
#include "store/store.h"
#include "store/outgoing.h"

/* How long a lease lasts unless renewed: config scan_lease_seconds. */
static int lease_seconds = SCAN_LEASE_SECONDS;

/* config.c keeps scan_lease_seconds within 10..3600. */
void
scanner_set_lease(long seconds)
{
	if (seconds > 0 && seconds <= 3600)
		lease_seconds = (int)seconds;
}

/*
 * This process as a lease owner: "host:pid", host being host_id (the
 * configuration key or POSTDESK_HOST_ID) or else the host name, so that two
 * installations on one machine ("hosts" in the tests) are told apart.
 */
void
scanner_owner(const char *host_id, char *owner, size_t size)
{
	char host[64] = "host";

	if (host_id != NULL && host_id[0] != '\0')
		snprintf(host, sizeof host, "%s", host_id);
	else
		gethostname(host, sizeof host - 1);
	snprintf(owner, size, "%s:%ld", host, (long)getpid());
}

/* Connected mailboxes (only one when only != 0) in *t (caller frees). */
int
scanner_targets(struct db *db, uint64_t only, struct scan_target **t, size_t *n,
    struct err *err)
{
	return store_mailbox_scan_targets(db, only, t, n, err);
}

void
scanner_targets_free(struct scan_target *t, size_t n)
{
	store_mailbox_scan_targets_free(t, n);
}

/*
 * Does holder ("host:pid") name a process of this host (the host part of
 * owner, our own lease owner) that is gone?
 */
static int
holder_is_dead(const char *holder, const char *owner)
{
	const char *colon = strrchr(holder, ':');
	const char *mine = strrchr(owner, ':');
	long        pid;

	if (colon == NULL || mine == NULL || colon - holder != mine - owner ||
	    strncmp(holder, owner, (size_t)(mine - owner)) != 0)
		return 0;
	pid = strtol(colon + 1, NULL, 10);
	return pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* The lease of mailbox id is held by someone: take it if they are dead. */
static int
take_from_dead(struct db *db, uint64_t id, const char *owner, int *won,
    struct err *err)
{
	char holder[SCANNER_OWNER_MAX + 1];

	*won = 0;
	if (store_mailbox_scan_owner(db, id, holder, sizeof holder, err) == -1)
		return -1;
	if (!holder_is_dead(holder, owner))
		return 0;
	log_warn("mailbox %llu: taking over the lease of %s, which is gone",
	    (unsigned long long)id, holder);
	return store_mailbox_scan_steal(db, id, holder, owner, lease_seconds,
	    won, err);
}

/*
 * Take mailbox id's lease for owner (or renew it), taking it over from a
 * dead scanner of this host; *won 0 when another scanner has it.
 */
int
scanner_lease_take(struct db *db, uint64_t id, const char *owner, int *won,
    struct err *err)
{
	if (store_mailbox_scan_lease(db, id, owner, lease_seconds, won, err) ==
	    -1)
		return -1;
	return *won ? 0 : take_from_dead(db, id, owner, won, err);
}

/*
 * Claim the most overdue mailbox with a free lease (only that one when
 * only != 0) for owner: *id, or 0 when none is due or another scanner's
 * write won (sql/0014_scan_schedule.sql).
 */
int
scanner_claim(struct db *db, const char *owner, uint64_t only, uint64_t *id,
    struct err *err)
{
	return store_mailbox_scan_claim(db, owner, lease_seconds, only, id,
	    err);
}

/*
 * Free the leases that scanners of this host which no longer run still
 * hold (a worker killed, a run that crashed), so that their mailboxes are
 * due at once instead of when the lease runs out.  Returns how many.
 */
int
scanner_free_dead(struct db *db, const char *owner, struct err *err)
{
	uint64_t *ids = NULL;
	char    **owners = NULL;
	size_t    n = 0;
	int       freed, count = 0;

	if (store_mailbox_scan_leases(db, &ids, &owners, &n, err) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (count >= 0 && holder_is_dead(owners[i], owner)) {
			if (store_mailbox_scan_free(db, ids[i], owners[i],
			        &freed, err) == -1)
				count = -1;
			else if (freed) {
				log_warn("mailbox %llu: freed the lease of %s, "
				         "which is gone",
				    (unsigned long long)ids[i], owners[i]);
				count++;
			}
		}
		free(owners[i]);
	}
	free(owners);
	free(ids);
	return count;
}

/* Renew a lease held: E_CONFLICT when it was lost (the pass must stop). */
int
scanner_lease_renew(struct db *db, uint64_t id, const char *owner,
    struct err *err)
{
	int won;

	if (store_mailbox_scan_lease(db, id, owner, lease_seconds, &won, err) ==
	    -1)
		return -1;
	if (!won) {
		err_set(err, E_CONFLICT, "lease lost");
		return -1;
	}
	return 0;
}

/*
 * The pass over mailbox id is over: record the scan with its figures (ok
 * also sets the last success and the messages waiting, -1 unknown; NULL
 * records nothing) and drop the lease, the mailbox next due in due_in
 * seconds.
 */
void
scanner_finish(struct db *db, uint64_t id, const char *owner,
    const struct scan_figures *f, long due_in)
{
	struct err err;

	if (store_mailbox_scan_finish(db, id, owner, f, due_in, &err) == -1)
		log_err("mailbox %llu: scan state not saved: %s",
		    (unsigned long long)id, err.detail);
}

/*
 * A failed pass: say why on the mailbox page, with guidance.  A refused
 * token is already recorded by the token refresh (lib/domain/mailbox_token.c),
 * which made the mailbox need reauthorising: its queued mail is held instead.
 */
void
scanner_failed(struct app *app, uint64_t id, const struct mbx *m,
    const struct err *why)
{
	const struct guidance *g = m->graph_status
	    ? guidance_graph(m->graph_status, m->graph_code)
	    : guidance_fallback();
	struct err             err;
	char                   msg[600];

	log_err("mailbox %llu: scan failed: %s", (unsigned long long)id,
	    why->detail[0] ? why->detail : why->msg);
	if (why->code == E_AUTH) {
		if (store_outgoing_hold(app->db, id, &err) == -1)
			log_err("mailbox %llu: queue not held: %s",
			    (unsigned long long)id, err.detail);
		return;
	}
	snprintf(msg, sizeof msg, "Scan failed: %s", why->msg);
	if (store_mailbox_set_error(app->db, id, g->key, msg, g->action,
	        &err) == -1)
		log_err("mailbox %llu: error not recorded: %s",
		    (unsigned long long)id, err.detail);
}
