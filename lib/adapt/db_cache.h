/*
 * db_cache: the prepared-statement cache of lib/adapt/db.c, apart so that it
 * can be tested without a server.  Keys are the addresses of static SQL
 * texts; when full, the least recently used entry is handed back to be
 * closed, so the cache never grows past its size and never leaks.
 */
#ifndef POSTDESK_DB_CACHE_H
#define POSTDESK_DB_CACHE_H

#include <stddef.h>

/* Comfortably above the static SQL texts in lib/ (tests/unit/
 * test_db_cache.c counts them and fails when they come near).  Each
 * worker holds at most this many prepared statements on the server, well
 * under MariaDB's max_prepared_stmt_count (16,382) for a host's pools. */
#define DB_CACHE_SIZE 512

struct db_cache_slot {
	const void        *key;
	void              *val;
	unsigned long long used; /* the tick of the last get or put */
};

struct db_cache {
	size_t               cap; /* <= DB_CACHE_SIZE */
	size_t               n;
	unsigned long long   tick;
	unsigned long        evictions;
	struct db_cache_slot slots[DB_CACHE_SIZE];
};

void  db_cache_init(struct db_cache *, size_t cap);
void *db_cache_get(struct db_cache *, const void *key);
void *db_cache_put(struct db_cache *, const void *key, void *val);
void *db_cache_pop(struct db_cache *);

#endif
