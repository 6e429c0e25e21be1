/*
 * test_seal: sealing and opening secrets, and the key file checks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapt/seal.h"
#include "base/xmalloc.h"
#include "test.h"

static char dir[64];

static void
test_key(struct seal_key *k, unsigned char fill)
{
	memset(k->k, fill, sizeof k->k);
}

/* True if the n bytes at p contain the text s. */
static int
contains(const char *p, size_t n, const char *s)
{
	size_t m = strlen(s);

	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(p + i, s, m) == 0)
			return 1;
	return 0;
}

static void
test_round_trip(void)
{
	struct seal_key k;
	struct buf      box;
	struct err      err;
	char           *plain;

	test_key(&k, 7);
	buf_init(&box, 0);
	seal(&k, "client secret~value.1", &box);
	CHECK_INT(box.len, 1 + 24 + 16 + strlen("client secret~value.1"));
	CHECK_INT((unsigned char)box.data[0], 1);
	CHECK(!contains(box.data, box.len, "client secret"));
	err_clear(&err);
	plain = unseal(&k, box.data, box.len, &err);
	CHECK_STR(plain, "client secret~value.1");
	CHECK_INT(err.code, E_OK);
	xfree_secret(plain);

	/* The empty secret survives too. */
	seal(&k, "", &box);
	CHECK_INT(box.len, 1 + 24 + 16);
	plain = unseal(&k, box.data, box.len, &err);
	CHECK_STR(plain, "");
	xfree_secret(plain);
	buf_cleanup(&box);
	seal_key_wipe(&k);
	CHECK(k.k[0] == 0 && k.k[31] == 0);
}

static void
test_nonces(void)
{
	struct seal_key k;
	struct buf      a, b;

	test_key(&k, 9);
	buf_init(&a, 0);
	buf_init(&b, 0);
	seal(&k, "same", &a);
	seal(&k, "same", &b);
	CHECK_INT(a.len, b.len);
	CHECK(memcmp(a.data + 1, b.data + 1, 24) != 0); /* nonce */
	CHECK(memcmp(a.data + 25, b.data + 25, a.len - 25) != 0);
	buf_cleanup(&a);
	buf_cleanup(&b);
}

static void
test_damage(void)
{
	struct seal_key k, other;
	struct buf      box;
	struct err      err;
	char           *plain;
	int             all_refused = 1;

	test_key(&k, 1);
	test_key(&other, 2);
	buf_init(&box, 0);
	seal(&k, "secret", &box);

	/* Flipping any one byte is noticed. */
	for (size_t i = 0; i < box.len; i++) {
		box.data[i] ^= 0x01;
		err_clear(&err);
		plain = unseal(&k, box.data, box.len, &err);
		all_refused &=
		    plain == NULL && err.code != E_OK && err.msg[0] != '\0';
		free(plain);
		box.data[i] ^= 0x01;
	}
	CHECK(all_refused);
	plain = unseal(&k, box.data, box.len, &err);
	CHECK_STR(plain, "secret"); /* restored box still opens */
	xfree_secret(plain);

	err_clear(&err);
	plain = unseal(&other, box.data, box.len, &err);
	CHECK(plain == NULL);
	CHECK(strstr(err.msg, "key_file") != NULL);

	/* Truncated: short of the header, or of the plaintext. */
	for (size_t len = 0; len < box.len; len++) {
		err_clear(&err);
		plain = unseal(&k, box.data, len, &err);
		all_refused &= plain == NULL && err.code != E_OK;
		free(plain);
	}
	CHECK(all_refused);
	err_clear(&err);
	CHECK(unseal(&k, box.data, 10, &err) == NULL);
	CHECK(strstr(err.msg, "damaged") != NULL);
	buf_cleanup(&box);
}

/* Create dir/name with len bytes and mode; returns the path (static). */
static const char *
key_file(const char *name, size_t len, mode_t mode)
{
	static char   path[128];
	unsigned char bytes[64];
	int           fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (unsigned char)(i * 7 + 3);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write(fd, bytes, len) != (ssize_t)len ||
	    fchmod(fd, mode) == -1) {
		perror(path);
		exit(2);
	}
	close(fd);
	return path;
}

static void
test_key_file(void)
{
	struct seal_key k;
	struct err      err;
	const char     *path;
	char            missing[128];

	path = key_file("good.key", 32, 0600);
	memset(&k, 0, sizeof k);
	err_clear(&err);
	CHECK_INT(seal_key_load(&k, path, &err), 0);
	CHECK_INT(k.k[0], 3);
	CHECK_INT(k.k[31], (31 * 7 + 3) & 0xff);

	path = key_file("owner-only.key", 32, 0400);
	CHECK_INT(seal_key_load(&k, path, &err), 0);

	path = key_file("open.key", 32, 0644);
	err_clear(&err);
	CHECK_INT(seal_key_load(&k, path, &err), -1);
	CHECK_INT(err.code, E_CONFIG);
	CHECK(strstr(err.msg, "chmod") != NULL);
	CHECK(strstr(err.msg, path) != NULL);

	/* 0640 root:postdesk: the group reads the key, only root writes it. */
	path = key_file("group.key", 32, 0640);
	CHECK_INT(seal_key_load(&k, path, &err), 0);
	CHECK_INT(k.k[0], 3);

	path = key_file("group-write.key", 32, 0660);
	err_clear(&err);
	CHECK_INT(seal_key_load(&k, path, &err), -1);
	CHECK(strstr(err.msg, "chmod 640") != NULL);

	path = key_file("other-read.key", 32, 0604);
	err_clear(&err);
	CHECK_INT(seal_key_load(&k, path, &err), -1);
	CHECK(strstr(err.msg, "chmod 640") != NULL);

	path = key_file("short.key", 31, 0600);
	err_clear(&err);
	CHECK_INT(seal_key_load(&k, path, &err), -1);
	CHECK(strstr(err.msg, "32") != NULL);
	CHECK(strstr(err.msg, path) != NULL);

	path = key_file("long.key", 33, 0600);
	CHECK_INT(seal_key_load(&k, path, &err), -1);
	CHECK(strstr(err.msg, "32") != NULL);

	path = key_file("empty.key", 0, 0600);
	CHECK_INT(seal_key_load(&k, path, &err), -1);

	snprintf(missing, sizeof missing, "%s/missing.key", dir);
	err_clear(&err);
	CHECK_INT(seal_key_load(&k, missing, &err), -1);
	CHECK_INT(err.code, E_CONFIG);
	CHECK(strstr(err.msg, missing) != NULL);
	CHECK(strstr(err.msg, "key_file") != NULL);

	/* A directory is not a key file. */
	CHECK_INT(seal_key_load(&k, dir, &err), -1);
	CHECK(strstr(err.msg, dir) != NULL);
	seal_key_wipe(&k);
}

static void
remove_dir(void)
{
	static const char *const names[] = { "good.key", "owner-only.key",
		"open.key", "group.key", "group-write.key", "other-read.key",
		"short.key", "long.key", "empty.key", NULL };
	char                     path[128];

	for (const char *const *n = names; *n; n++) {
		snprintf(path, sizeof path, "%s/%s", dir, *n);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_seal.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	if (!CHECK_INT(seal_init(), 0))
		return TEST_DONE();
	test_round_trip();
	test_nonces();
	test_damage();
	test_key_file();
	remove_dir();
	return TEST_DONE();
}
