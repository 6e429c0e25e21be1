/*
 * seal: secrets at rest (client secrets, tokens, PKCE verifiers), sealed
 * with libsodium's secretbox under the 32-byte key in key_file.
 */
#ifndef POSTDESK_SEAL_H
#define POSTDESK_SEAL_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define SEAL_KEYBYTES 32

struct seal_key {
	unsigned char k[SEAL_KEYBYTES];
};

int   seal_init(void);
int   seal_key_load(struct seal_key *, const char *path, struct err *);
void  seal_key_wipe(struct seal_key *);
void  seal(const struct seal_key *, const char *plain, struct buf *out);
char *unseal(const struct seal_key *, const void *box, size_t len,
    struct err *);

#endif
