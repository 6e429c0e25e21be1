/*
 * mailbox_types: the mailbox row and the closed sets of values it holds —
 * the connection status, what happens to processed mail, where the first
 * scan starts, the Microsoft clouds and the Graph scopes — each written
 * once, with the one name table that SQL binding, JSON and validation use.
 * Data only (below the store and the domain, so both can use it).
 */
#ifndef POSTDESK_MAILBOX_TYPES_H
#define POSTDESK_MAILBOX_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* What the scanner does with a mail once it is taken in (processed_action,
 * sql/0001_core.sql; lib/domain/ingest_move.c). */
enum processed_action {
	PROCESSED_MOVE_TO_DELETED_ITEMS,
	PROCESSED_MOVE_TO_FOLDER, /* mailbox.processed_folder */
	PROCESSED_MARK_READ,      /* stays in the Inbox, marked read */
	PROCESSED_ACTION_COUNT
};

const char *processed_action_name(enum processed_action);
int         processed_action_parse(const char *, enum processed_action *);

/* The connection status (sql/0001_core.sql's ENUM); the transitions
 * between them are lib/domain/mailbox_state.c's. */
enum mailbox_status {
	MAILBOX_NOT_CONNECTED,
	MAILBOX_CONNECTED,
	MAILBOX_ERROR,
	MAILBOX_NEEDS_REAUTH,
	MAILBOX_DISCONNECTED,
	MAILBOX_STATUS_COUNT
};

/* Where the first scan of a mailbox starts (first_scan).  What is done
 * with processed mail is lib/model/mailbox_types.h's processed_action. */
enum mailbox_first_scan {
	MAILBOX_NEW_ONLY,
	MAILBOX_SCAN_ALL,
	MAILBOX_FIRST_SCAN_COUNT
};

/* What automatic mail (auto-replies, bulk, loops: lib/mail/autoreply.c)
 * becomes: a ticket marked automatic, or only its incoming log row. */
enum mailbox_automatic_mail {
	MAILBOX_AUTOMATIC_TICKET,
	MAILBOX_AUTOMATIC_LOG_ONLY,
	MAILBOX_AUTOMATIC_MAIL_COUNT
};

/* How a mailbox's app proves itself to Microsoft's token endpoint: a
 * client secret, or a certificate whose key signs a client assertion
 * (credential_type, sql/0016_certificate.sql; lib/microsoft/oauth2.c). */
enum mailbox_credential {
	MAILBOX_CRED_SECRET,
	MAILBOX_CRED_CERTIFICATE,
	MAILBOX_CREDENTIAL_COUNT
};

/* The national clouds: their id (the cloud column), the name the portal
 * shows, and the login and Graph base URLs (docs/graph-contract.md). */
enum mailbox_cloud {
	MAILBOX_CLOUD_GLOBAL,
	MAILBOX_CLOUD_USGOV_L4,
	MAILBOX_CLOUD_USGOV_L5,
	MAILBOX_CLOUD_CHINA,
	MAILBOX_CLOUD_COUNT
};

struct mailbox_cloud_info {
	const char *id, *name, *login, *graph;
};

/* Indexed by enum mailbox_cloud: its id is the cloud's name. */
extern const struct mailbox_cloud_info mailbox_clouds[MAILBOX_CLOUD_COUNT];

/* Each enum's one name table, to bind, print and parse (lib/model/enum_name.h):
 * _name() of a value, _parse() 0 or -1 for a string that is none. */
const char *mailbox_status_name(enum mailbox_status);
int         mailbox_status_parse(const char *, enum mailbox_status *);
const char *mailbox_first_scan_name(enum mailbox_first_scan);
int         mailbox_first_scan_parse(const char *, enum mailbox_first_scan *);
const char *mailbox_automatic_mail_name(enum mailbox_automatic_mail);
int mailbox_automatic_mail_parse(const char *, enum mailbox_automatic_mail *);
const char *mailbox_credential_name(enum mailbox_credential);
int         mailbox_credential_parse(const char *, enum mailbox_credential *);
const char *mailbox_cloud_name(enum mailbox_cloud);
int         mailbox_cloud_parse(const char *, enum mailbox_cloud *);

/* The delegated Graph permissions: every mailbox's, and the .Shared ones
 * a shared mailbox adds (NULL-terminated). */
extern const char *const mailbox_scopes_licensed[];
extern const char *const mailbox_scopes_shared[];

/*
 * A mailbox row as the API shows it.  Short bounded columns are arrays
 * sized from the schema; the long free texts are heap strings, never NULL
 * once filled (mailbox_defaults() or the store), freed by
 * mailbox_cleanup().
 */
struct mailbox {
	uint64_t                id;
	char                    name[401];
	char                    type[16];
	char                    client_id[37];
	char                    tenant_id[254];
	char                    secret_last4[17];
	char                    secret_expires_on[11]; /* "" when not set */
	char                    shared_address[255];   /* "" when not shared */
	enum mailbox_cloud      cloud;
	enum processed_action   processed_action;
	char                   *processed_folder; /* "" unless moved there */
	enum mailbox_first_scan first_scan;
	int                     ack_enabled;
	enum mailbox_status     status;
	char                    created_at[21];
	char                    updated_at[21];
	/* connection (sql/0002) */
	char      account[321];
	char      connected_tenant[65];
	char      connected_at[21];
	long long inbox_count; /* -1 when unknown */
	char      last_error_code[65];
	char     *last_error;
	char     *last_error_guidance;
	char      last_error_at[21];
	int       secret_expiring; /* expires within 14 days */
	char      push_state[12];  /* graph_subscription.state, "" no row */
	char      push_error[501];
	char      push_expires_at[21];
	char      push_last_notification[21];
	/* scan health (sql/0003) */
	char      last_scan_at[21];
	char      last_success_at[21];
	long long messages_waiting; /* -1 before the first scan */
	/* acknowledgements (sql/0006) */
	char *ack_subject;
	char *ack_body; /* "" = the default text */
	long  ack_per_hour;
	/* isolation (sql/0008) */
	char     *quarantine_folder;
	long long attention; /* failed or quarantined mails to look at */
	/* lost updates (sql/0009): bumped by every write of the settings */
	uint64_t version;
	/* ticket work (sql/0013) */
	enum mailbox_automatic_mail automatic_mail;
	/* certificate credentials (sql/0016) */
	enum mailbox_credential credential;
	char                    cert_thumbprint[41]; /* "" when none */
	char                    cert_subject[256];
	char                    cert_expires_at[21];
	int                     cert_expiring; /* expires within 14 days */
};

void mailbox_set_text(char **dst, const char *src);
void mailbox_cleanup(struct mailbox *);
void mailbox_list_free(struct mailbox *, size_t n);

#endif
