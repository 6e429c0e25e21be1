/*
 * mailbox_cred: a mailbox's credential columns (sql/0016_certificate.sql)
 * — one credential at a time: choosing a certificate forgets the secret,
 * choosing a secret forgets the certificate.  The private key arrives
 * sealed and is never read back here.
 */
#include <string.h>

#include "store/store.h"

static const char SQL_CERT[] =
    "UPDATE mailbox SET credential_type = 'certificate', "
    "cert_key_sealed = ?, cert_pem = ?, cert_thumbprint = ?, "
    "cert_subject = ?, cert_expires_at = ?, secret_sealed = NULL, "
    "secret_last4 = '', secret_expires_on = NULL, "
    "updated_at = UTC_TIMESTAMP(), version = version + 1 WHERE id = ?";
static const char SQL_SECRET_CHOSEN[] =
    "UPDATE mailbox SET credential_type = 'secret', cert_key_sealed = NULL, "
    "cert_pem = NULL, cert_thumbprint = NULL, cert_subject = NULL, "
    "cert_expires_at = NULL WHERE id = ? AND credential_type <> 'secret'";
static const char SQL_CERT_PEM[] = "SELECT cert_pem FROM mailbox WHERE id = ?";

/* Put mailbox id on the certificate of row; E_NOTFOUND if no mailbox. */
int
store_mailbox_cred_certificate(struct db *db, uint64_t id,
    const struct mailbox_cert_row *row, struct err *err)
{
	struct db_param p[] = {
		db_blob(row->key_sealed->data, row->key_sealed->len),
		db_str(row->cert_pem),
		db_str(row->thumbprint),
		db_str(row->subject),
		db_str(row->expires_at),
		db_int((long long)id),
	};
	struct db_exec_info info;

	if (db_exec(db, SQL_CERT, p, DB_NPARAMS(p), &info, err) == -1)
		return -1;
	if (info.affected == 0) {
		err_set(err, E_NOTFOUND, "No mailbox with id %llu.",
		    (unsigned long long)id);
		return -1;
	}
	return 0;
}

/* A secret was just stored for mailbox id: forget its certificate. */
int
store_mailbox_cred_secret_chosen(struct db *db, uint64_t id, struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };

	return db_exec(db, SQL_SECRET_CHOSEN, p, 1, NULL, err);
}

/* The certificate (PEM) of mailbox id into pem; E_NOTFOUND when the
 * mailbox or its certificate is missing. */
int
store_mailbox_cred_cert_pem(struct db *db, uint64_t id, struct buf *pem,
    struct err *err)
{
	struct db_param p[] = { db_int((long long)id) };
	struct db_res   r;
	const char     *s;
	int             rc = -1;

	if (db_query(db, SQL_CERT_PEM, p, 1, &r, err) == -1)
		return -1;
	s = r.nrows ? db_res_str(&r, 0, 0) : NULL;
	if (s == NULL || s[0] == '\0') {
		err_set(err, E_NOTFOUND, "Mailbox %llu has no certificate.",
		    (unsigned long long)id);
	} else {
		buf_append(pem, s, strlen(s));
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}
