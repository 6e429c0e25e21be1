/*
 * seal: box = version (1 byte) || nonce || secretbox(plain).  A fresh
 * random nonce per box; the key never leaves this process's memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "adapt/seal.h"
#include "base/xmalloc.h"

#define SEAL_VERSION 1

/* Initialise libsodium once per process.  Returns 0 or -1. */
int
seal_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

/*
 * Read the key file: exactly 32 bytes, a regular file nobody but its owner
 * and its group can read and only its owner can write: 0640 root:postdesk
 * lets the programs running as user postdesk read a key root owns
 * (docs/ARCHITECTURE.md "Running unprivileged").  Returns 0, or -1 with
 * err naming the file and the problem.
 */
int
seal_key_load(struct seal_key *key, const char *path, struct err *err)
{
	struct stat st;
	ssize_t     n;
	int         fd;
	char        extra;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		err_set(err, E_CONFIG,
		    "configuration key 'key_file': cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(err, E_CONFIG,
		    "configuration key 'key_file': %s is not a regular file",
		    path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 027) != 0) {
		err_set(err, E_CONFIG,
		    "configuration key 'key_file': %s must be readable by its "
		    "owner and group only (chmod 640)",
		    path);
		close(fd);
		return -1;
	}
	n = read(fd, key->k, sizeof key->k);
	if (n != (ssize_t)sizeof key->k || read(fd, &extra, 1) != 0) {
		err_set(err, E_CONFIG,
		    "configuration key 'key_file': %s must hold exactly %d "
		    "bytes (head -c 32 /dev/urandom > %s)",
		    path, SEAL_KEYBYTES, path);
		seal_key_wipe(key);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
seal_key_wipe(struct seal_key *key)
{
	sodium_memzero(key->k, sizeof key->k);
}

/* Seal plain (a NUL-terminated secret) into out, replacing its content. */
void
seal(const struct seal_key *key, const char *plain, struct buf *out)
{
	size_t len = strlen(plain);
	size_t total =
	    1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	unsigned char *p;

	buf_reset(out);
	p = xmalloc(total);
	p[0] = SEAL_VERSION;
	randombytes_buf(p + 1, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(p + 1 + crypto_secretbox_NONCEBYTES,
	    (const unsigned char *)plain, len, p + 1, key->k);
	buf_append(out, p, total);
	free(p);
}

/*
 * Open a box made by seal().  Returns the secret as a new string (caller
 * frees with xfree_secret()), or NULL with err set when the box is damaged
 * or was sealed under another key.
 */
char *
unseal(const struct seal_key *key, const void *box, size_t len, struct err *err)
{
	const unsigned char *b = box;
	size_t               hdr = 1 + crypto_secretbox_NONCEBYTES;
	size_t               plen;
	char                *plain;

	if (len < hdr + crypto_secretbox_MACBYTES || b[0] != SEAL_VERSION) {
		err_set(err, E_INTERNAL, "stored secret is damaged");
		return NULL;
	}
	plen = len - hdr - crypto_secretbox_MACBYTES;
	plain = xmalloc(plen + 1);
	if (crypto_secretbox_open_easy((unsigned char *)plain, b + hdr,
	        len - hdr, b + 1, key->k) != 0) {
		free(plain);
		err_set(err, E_INTERNAL,
		    "stored secret cannot be opened with this key_file");
		return NULL;
	}
	plain[plen] = '\0';
	return plain;
}
