/*
 * reqcount: the file is a header and REQCOUNT_SLOTS slots.  A slot is
 * claimed by one compare-and-swap of its state (free -> claiming), its key
 * written, then published (ready) with a release store, so a reader that
 * sees it ready sees its key.  Counting is one relaxed atomic add into
 * shared memory: no lock, no system call on the request path.  The file
 * starts zeroed (ftruncate); the first process stamps the magic number, and
 * a file of another layout is left alone (nothing is counted, a warning
 * says so).  Counters start again from zero when the file is removed (a
 * reboot empties /run): Prometheus treats that as a counter reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/reqcount.h"
#include "base/xmalloc.h"

#define MAGIC 0x70647265710001ULL /* "pdreq", layout 1 */

enum {
	FREE,
	CLAIMING,
	READY
};

struct reqcount_slot {
	uint32_t state;
	char     key[REQCOUNT_KEY];
	uint64_t n[REQCOUNT_STATUSES];
};

struct table {
	uint64_t             magic;
	struct reqcount_slot slot[REQCOUNT_SLOTS];
};

struct reqcount {
	struct table *t;
};

/* Stamp a new (zeroed) file; -1 if it holds another layout. */
static int
stamp(struct table *t)
{
	uint64_t seen = 0;

	return __atomic_compare_exchange_n(&t->magic, &seen, MAGIC, 0,
	           __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
	        seen == MAGIC
	    ? 0
	    : -1;
}

/*
 * Map the file at path, created (mode 0640) and sized when missing.
 * Returns NULL with err when it cannot be used.
 */
struct reqcount *
reqcount_open(const char *path, struct err *err)
{
	struct stat      st;
	struct reqcount *rc;
	void            *p;
	int              fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd == -1 || fstat(fd, &st) == -1)
		goto fail;
	if ((size_t)st.st_size < sizeof(struct table) &&
	    ftruncate(fd, (off_t)sizeof(struct table)) == -1)
		goto fail;
	p = mmap(NULL, sizeof(struct table), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	close(fd);
	if (stamp(p) == -1) {
		munmap(p, sizeof(struct table));
		err_set(err, E_CONFIG,
		    "%s is not a request-counter file of this postdesk "
		    "version: remove it",
		    path);
		return NULL;
	}
	rc = xmalloc(sizeof *rc);
	rc->t = p;
	return rc;
fail:
	err_set(err, E_CONFIG, "request counters %s: %s", path,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return NULL;
}

void
reqcount_close(struct reqcount *rc)
{
	if (rc == NULL)
		return;
	munmap(rc->t, sizeof(struct table));
	free(rc);
}

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The state of s once no claim is under way (a claimer that died mid-way
 * leaves CLAIMING for good: that slot is then skipped). */
static uint32_t
settled(struct reqcount_slot *s)
{
	uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

	for (int i = 0; st == CLAIMING && i < 1000; i++) {
		sched_yield();
		st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	}
	return st;
}

struct reqcount_slot *
reqcount_slot(struct reqcount *rc, const char *key)
{
	uint32_t h = hash(key);

	if (rc == NULL || strlen(key) >= REQCOUNT_KEY)
		return NULL;
	for (uint32_t i = 0; i < REQCOUNT_SLOTS; i++) {
		struct reqcount_slot *s =
		    &rc->t->slot[(h + i) % REQCOUNT_SLOTS];
		uint32_t st = FREE;

		if (__atomic_compare_exchange_n(&s->state, &st, CLAIMING, 0,
		        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			memcpy(s->key, key, strlen(key) + 1);
			__atomic_store_n(&s->state, READY, __ATOMIC_RELEASE);
			return s;
		}
		if (settled(s) == READY && strcmp(s->key, key) == 0)
			return s;
	}
	return NULL;
}

void
reqcount_add(struct reqcount_slot *s, int status)
{
	if (s == NULL || status < REQCOUNT_STATUS_MIN ||
	    status >= REQCOUNT_STATUS_MIN + REQCOUNT_STATUSES)
		return;
	__atomic_fetch_add(&s->n[status - REQCOUNT_STATUS_MIN], 1,
	    __ATOMIC_RELAXED);
}

void
reqcount_each(const struct reqcount *rc,
    void (*fn)(void *ctx, const char *key, int status, uint64_t n), void *ctx)
{
	for (size_t i = 0; rc != NULL && i < REQCOUNT_SLOTS; i++) {
		const struct reqcount_slot *s = &rc->t->slot[i];

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != READY)
			continue;
		for (int j = 0; j < REQCOUNT_STATUSES; j++) {
			uint64_t n =
			    __atomic_load_n(&s->n[j], __ATOMIC_RELAXED);

			if (n != 0)
				fn(ctx, s->key, REQCOUNT_STATUS_MIN + j, n);
		}
	}
}
