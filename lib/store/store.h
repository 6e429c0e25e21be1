/*
 * store: the SQL of postdesk, one lib/store/<table>.c per table (named for
 * it, its functions store_<table>_...).  This header declares the small
 * tables' functions; incoming, outgoing, ticket, ticket_view and
 * mailbox_scan have headers of their own.  Each function runs prepared
 * statements through adapt/db.c and fills plain structs.  Short text columns
 * land in fixed arrays sized from the schema (ASCII where n is small; the
 * copy helper, store/row.c, refuses anything that does not fit); long ones
 * (a mailbox's error texts and acknowledgement) are heap strings.
 */
#ifndef POSTDESK_STORE_H
#define POSTDESK_STORE_H

#include <stdint.h>

#include "adapt/cred.h"
#include "adapt/db.h"
#include "base/err.h"
#include "model/mailbox_types.h"

/* --- agents and sessions (store/agent.c), sign-in attempts
 * (store/login_attempt.c) --------------------------------------------- */

struct agent {
	uint64_t id;
	char     username[257];
	char     display_name[401];
	char     role[8];
	char     password_hash[CRED_PWHASH_MAX];
	int      disabled;
};

int store_agent_create(struct db *, const char *username,
    const char *display_name, const char *role, const char *pwhash,
    uint64_t *id, struct err *);
int store_agent_by_username(struct db *, const char *username, struct agent *,
    struct err *);
int store_agent_by_oid(struct db *, const char *oid, struct agent *,
    struct err *);
int store_agent_by_id(struct db *, uint64_t id, struct agent *, struct err *);
int store_agent_link_oid(struct db *, uint64_t id, const char *oid, int *won,
    struct err *);
int store_agent_count(struct db *, long long *n, struct err *);
int store_agent_active(struct db *, uint64_t id, int *yes, struct err *);
int store_agent_list(struct db *, struct db_res *, struct err *);
int store_agent_set_password(struct db *, uint64_t id, const char *pwhash,
    struct err *);

/* A session joined with its agent, as authentication needs it. */
struct session {
	uint64_t     id;
	char         csrf[CRED_TOKEN_MAX];
	int          touch_due; /* last_seen older than a minute */
	struct agent agent;
};

int store_session_create(struct db *, const unsigned char *token_hash,
    uint64_t agent_id, const char *csrf, long max_hours,
    const char *remote_addr, struct err *);
int store_session_lookup(struct db *, const unsigned char *token_hash,
    long idle_minutes, struct session *, struct err *);
int store_session_touch(struct db *, uint64_t id, struct err *);
int store_session_delete(struct db *, const unsigned char *token_hash,
    struct err *);
int store_session_delete_agent(struct db *, uint64_t agent_id, struct err *);
int store_login_attempt_record(struct db *, const char *username,
    const char *addr, int ok, struct err *);
/* Recent failed sign-ins (store_login_attempt_failures()). */
struct login_failures {
	long long pair;       /* this username from this address, since
	                         its last success, within a day */
	long long pair_age;   /* seconds since the newest of those */
	long long addr;       /* any username from this address, 15 min */
	long long addr_retry; /* seconds until the oldest of those ages out */
};

int store_login_attempt_failures(struct db *, const char *username,
    const char *addr, struct login_failures *, struct err *);
int store_login_attempt_prune(struct db *, long idle_minutes, long limit,
    struct err *);

/* --- API keys (store/api_key.c) -------------------------------------- */

struct api_key {
	uint64_t id;
	char     name[401];
	char     role[8];
	char     prefix[17];
	char     created_at[21];
	char     last_used_at[21];
	char     revoked_at[21];
	int      touch_due;
};

int store_api_key_create(struct db *, const char *name, const char *role,
    const char *prefix, const unsigned char *hash, uint64_t *id, struct err *);
int store_api_key_lookup(struct db *, const unsigned char *hash,
    struct api_key *, struct err *);
int store_api_key_touch(struct db *, uint64_t id, struct err *);
int store_api_key_list(struct db *, struct api_key **keys, size_t *n,
    struct err *);
int store_api_key_revoke(struct db *, uint64_t id, struct err *);

/* --- mailboxes (store/mailbox.c) ------------------------------------- */

/*
 * An incoming_email row "e" that needs attention: the latest attempt of a
 * mail that was quarantined, or that failed and still waits in the Inbox
 * (a person may have taken it out), with no Retry pending.  The incoming
 * log's attention filter (store/ticket_view.c).
 * sql/0011_mailbox_attention.sql's triggers count the same rows into
 * mailbox.attention on every write of incoming_email, which the mailbox reads
 * and health read: change both.
 */
#define STORE_LATEST_ATTEMPT                                                   \
	"NOT EXISTS (SELECT 1 FROM incoming_email n WHERE n.mailbox_id = "     \
	"e.mailbox_id AND n.graph_id = e.graph_id AND n.attempt > e.attempt)"
#define STORE_NEEDS_ATTENTION                                                  \
	"(e.outcome IN ('failed', 'quarantined') AND e.retry_requested = 0 "   \
	"AND (e.outcome = 'quarantined' OR e.state = 'failed') "               \
	"AND " STORE_LATEST_ATTEMPT ")"

int store_mailbox_insert(struct db *, const struct mailbox *,
    const struct buf *sealed_secret, uint64_t *id, struct err *);
int store_mailbox_update(struct db *, const struct mailbox *,
    const struct buf *sealed_secret, struct err *);
int store_mailbox_get(struct db *, uint64_t id, struct mailbox *, struct err *);
int store_mailbox_list(struct db *, struct mailbox **, size_t *, struct err *);
int store_mailbox_list_for_key(struct db *, const unsigned char *hash,
    struct api_key *, struct mailbox **, size_t *, struct err *);
int store_mailbox_delete(struct db *, uint64_t id, struct err *);

/* --- connections: tokens (store/mailbox_token.c), OAuth state
 * (store/oauth_state.c) ----------------------------------------------- */

/* What connecting and refreshing need of a mailbox, secrets sealed. */
struct mailbox_creds {
	uint64_t            id;
	enum mailbox_status status;
	char                client_id[37];
	char       tenant[254]; /* connected tenant if known, else tenant_id */
	char       tenant_id[254]; /* as configured (authorize goes there) */
	char       cloud[16];
	char       shared_address[255];
	char       account[321];
	struct buf secret;       /* sealed */
	struct buf refresh;      /* sealed, empty if none */
	struct buf access;       /* sealed, empty if none */
	int        access_fresh; /* valid for 5 more minutes */
	uint64_t   gen;          /* refresh_gen: changes of the refresh token */
	long long  lease_age_ms; /* a refresh under way for so long, or -1 */
	enum mailbox_credential credential;
	struct buf              cert_key; /* sealed PEM, empty if none */
	char                   *cert_pem; /* "" if none */
};

struct oauth_state {
	uint64_t   id;
	uint64_t   mailbox_id;
	uint64_t   session_id; /* 0: not bound to a session */
	struct buf verifier;   /* sealed */
	char       redirect_uri[601];
	int        used;
	int        expired;
};

struct connection {
	const struct buf *refresh; /* sealed */
	const struct buf *access;  /* sealed */
	long              expires_in;
	const char       *account;
	const char       *oid;
	const char       *tenant;
	long long         inbox_count;
};

int  store_mailbox_token_get(struct db *, uint64_t id, struct mailbox_creds *,
     struct err *);
void store_mailbox_token_cleanup(struct mailbox_creds *);
int  store_oauth_state_add(struct db *, const unsigned char *hash,
     uint64_t mailbox, uint64_t session_id, const struct buf *verifier,
     const char *redirect, const char *created_by, struct err *);
int  store_oauth_state_get(struct db *, const unsigned char *hash,
     struct oauth_state *, struct err *);
int  store_oauth_state_use(struct db *, uint64_t id, int *won, struct err *);
void store_oauth_state_cleanup(struct oauth_state *);
int  store_mailbox_token_connect(struct db *, uint64_t id, enum mailbox_status,
     const struct connection *, struct err *);
int  store_mailbox_token_lease(struct db *, uint64_t id, uint64_t gen,
     long seconds, int *won, struct err *);
int  store_mailbox_token_release(struct db *, uint64_t id, uint64_t gen,
     struct err *);
int  store_mailbox_token_save(struct db *, uint64_t id, uint64_t gen,
     const struct buf *refresh, const struct buf *access, long expires_in,
     int *won, struct err *);
int  store_mailbox_token_refused(struct db *, uint64_t id, uint64_t gen,
     enum mailbox_status, int *won, struct err *);
int  store_mailbox_set_status(struct db *, uint64_t id, enum mailbox_status,
     int forget_tokens, struct err *);
int  store_mailbox_set_error(struct db *, uint64_t id, const char *code,
     const char *message, const char *guidance, struct err *);

/* --- credentials (store/mailbox_cred.c) ------------------------------ */

/* A certificate credential to store (lib/domain/mailbox_cred.c). */
struct mailbox_cert_row {
	const struct buf *key_sealed;
	const char       *cert_pem;
	const char       *thumbprint; /* SHA-1, upper-case hex */
	const char       *subject;
	const char       *expires_at; /* "YYYY-MM-DD HH:MM:SS" UTC */
};

int store_mailbox_cred_certificate(struct db *, uint64_t id,
    const struct mailbox_cert_row *, struct err *);
int store_mailbox_cred_secret_chosen(struct db *, uint64_t id, struct err *);
int store_mailbox_cred_cert_pem(struct db *, uint64_t id, struct buf *pem,
    struct err *);

/* --- email rules (store/rule.c) -------------------------------------- */

/* An email_rule row; conditions and actions are JSON text (owned). */
struct email_rule {
	uint64_t id;
	char     name[401];
	uint64_t mailbox_id;        /* 0: every mailbox */
	char     mailbox_name[401]; /* its name; "" when it is gone */
	int      position;
	int      enabled;
	char     match[4]; /* "all" or "any" */
	char    *conditions;
	char    *actions;
	char     created_at[21];
	char     updated_at[21];
	uint64_t version; /* sql/0009: bumped by every update */
};

void store_rule_cleanup(struct email_rule *);
void store_rule_free(struct email_rule *, size_t n);
int  store_rule_list(struct db *, int enabled_only, struct email_rule **,
     size_t *, struct err *);
int store_rule_get(struct db *, uint64_t id, struct email_rule *, struct err *);
int store_rule_insert(struct db *, const struct email_rule *, uint64_t *id,
    struct err *);
int store_rule_update(struct db *, const struct email_rule *, struct err *);
int store_rule_delete(struct db *, uint64_t id, struct err *);
int store_rule_next_position(struct db *, int *position, struct err *);
/* Columns of a store_incoming_recent() row (SQL_INCOMING_RECENT). */
enum incoming_recent_col {
	IR_ID,
	IR_MAILBOX_ID,
	IR_CREATED,
	IR_RECEIVED,
	IR_SUBJECT,
	IR_FROM,
	IR_OUTCOME,
	IR_RULE_ID,
	IR_MAILBOX_NAME,
	IR_NCOLS
};

/* --- audit log (store/audit.c) -------------------------------------- */

struct audit_entry {
	const char *actor_type; /* agent api_key cli system */
	uint64_t    actor_id;
	const char *actor_name;
	const char *action;
	const char *target_type;
	uint64_t    target_id;
	const char *detail; /* JSON text, never secrets */
	const char *request_id;
};

int store_audit_add(struct db *, const struct audit_entry *, struct err *);

/* Columns of a store_audit_list() row (SQL_AUDIT_LIST). */
enum audit_col {
	AU_ID,
	AU_AT,
	AU_ACTOR_TYPE,
	AU_ACTOR_ID,
	AU_ACTOR_NAME,
	AU_ACTION,
	AU_TARGET_TYPE,
	AU_TARGET_ID,
	AU_DETAIL,
	AU_REQUEST_ID,
	AU_NCOLS
};

int store_audit_list(struct db *, long limit, struct db_res *, struct err *);

/* --- migrations (store/migrate.c) -------------------------------------- */

int store_migrate_prepare(struct db *, struct err *);
int store_migrate_applied(struct db *, unsigned version, int *applied,
    struct err *);
int store_migrate_record(struct db *, unsigned version, const char *name,
    struct err *);

/* Who holds the migration lock: a random name, and the host and process. */
struct migrate_lock {
	char      holder[201];
	char      host[256];
	long long pid;
};

int store_migrate_lock_prepare(struct db *, struct err *);
int store_migrate_lock(struct db *, const struct migrate_lock *, long seconds,
    const char *stale, int *won, struct err *);
int store_migrate_renew(struct db *, const char *holder, long seconds,
    int *held, struct err *);
int store_migrate_unlock(struct db *, const char *holder, struct err *);
int store_migrate_holder(struct db *, struct migrate_lock *, struct err *);
int store_migrate_versions(struct db *, unsigned **versions, size_t *n,
    struct err *);

/* --- the server's settings and clock (store/server.c) ------------------ */

/* What postdesk-admin doctor asks of the MariaDB server. */
struct server_facts {
	long long max_allowed_packet; /* bytes, the global value */
	long long now;                /* UNIX_TIMESTAMP() */
	int       log_bin;            /* writes a binary log */
	int       trust_creators;     /* log_bin_trust_function_creators */
	long long triggers;           /* on incoming_email, visible to us */
};

int store_server_facts(struct db *, struct server_facts *, struct err *);

/* --- helpers (store/row.c) ------------------------------------------- */

int store_row_copy(char *dst, size_t dstsz, const struct db_res *, size_t row,
    size_t col, struct err *);
int store_copy_time(char *dst, size_t dstsz, const struct db_res *, size_t row,
    size_t col, struct err *);

/* DATETIME col as "YYYY-MM-DDTHH:MM:SSZ" in SQL (read sides that answer
 * rows as they are). */
#define STORE_ISO(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"
char *store_row_like(const char *q);

/* One group of a count by mailbox and an enum column (GET /api/metrics). */
struct mail_count {
	uint64_t  mailbox_id;
	int       value; /* the enum's value */
	long long n;
};

int store_row_counts(struct db *, const char *sql,
    int (*value_of)(const char *), struct mail_count **, size_t *n,
    struct err *);
int store_row_count(struct db *, const char *sql, const struct db_param *,
    size_t np, long long *n, struct err *);
int store_row_one(int rc, struct db_res *, const char *what, uint64_t id,
    struct err *);

#endif
