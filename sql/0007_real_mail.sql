-- 0007: real mail — every column mail data reaches holds the largest value
-- the scanner lets through (docs/ARCHITECTURE.md "Column limits"; the caps
-- themselves are enforced in C before the insert).
--
-- Addresses are utf8mb4 (RFC 6531 local parts, U-label domains), compared
-- byte for byte (utf8mb4_bin) as the scanner compares them in C: it lower-
-- cases ASCII letters, and a collation that folded accents or ignored
-- zero-width characters would let "bob\u200b@x" pass for "bob@x" in the
-- participant check.  320 characters * 4 bytes = 1280 bytes of key, under
-- InnoDB's 3072.
ALTER TABLE end_user
    MODIFY email VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
        NOT NULL;

ALTER TABLE ticket_participant
    MODIFY email VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
        NOT NULL;

-- Recipient lists: 500 addresses of 320 bytes each (lib/mail/msg.c caps) are
-- 161,000 bytes, past TEXT's 65,535.  The trace grows with the rules and
-- the attachments of a message.
ALTER TABLE incoming_email
    MODIFY to_addrs MEDIUMTEXT NULL,
    MODIFY cc_addrs MEDIUMTEXT NULL,
    MODIFY trace    MEDIUMTEXT NOT NULL;

ALTER TABLE ticket_action
    MODIFY to_addrs MEDIUMTEXT NULL,
    MODIFY cc_addrs MEDIUMTEXT NULL;

ALTER TABLE outgoing_email
    MODIFY to_addrs MEDIUMTEXT NOT NULL,
    MODIFY cc_addrs MEDIUMTEXT NULL;
