-- 0016: certificate credentials (issue 14 item 2).  A mailbox authenticates
-- to Microsoft with a client secret (as before) or a certificate: the
-- private key sealed like the secret (lib/adapt/seal.c), the certificate's
-- PEM (public), its SHA-1 thumbprint as Azure lists it, its subject and
-- expiry.  A mailbox on a certificate stores no secret, so secret_sealed
-- may now be NULL.  Every statement may be run again
-- (lib/domain/migrate.c).

ALTER TABLE mailbox
    MODIFY COLUMN secret_sealed VARBINARY(600) NULL;

ALTER TABLE mailbox
    ADD COLUMN IF NOT EXISTS credential_type ENUM('secret', 'certificate')
        NOT NULL DEFAULT 'secret',
    ADD COLUMN IF NOT EXISTS cert_key_sealed  BLOB         NULL,
    ADD COLUMN IF NOT EXISTS cert_pem         TEXT         NULL,
    ADD COLUMN IF NOT EXISTS cert_thumbprint  CHAR(40)     NULL,
    ADD COLUMN IF NOT EXISTS cert_subject     VARCHAR(255) NULL,
    ADD COLUMN IF NOT EXISTS cert_expires_at  DATETIME     NULL;
