/*
 * db_cache: a small LRU map from SQL text addresses to prepared
 * statements (lib/adapt/db_cache.h).  A linear scan: there are about a hundred
 * statements, and one lookup costs far less than the round trip it saves.
 */
#include <string.h>

#include "adapt/db_cache.h"

void
db_cache_init(struct db_cache *c, size_t cap)
{
	memset(c, 0, sizeof *c);
	c->cap = cap > 0 && cap <= DB_CACHE_SIZE ? cap : DB_CACHE_SIZE;
}

/* The value cached for key, or NULL. */
void *
db_cache_get(struct db_cache *c, const void *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->slots[i].key == key) {
			c->slots[i].used = ++c->tick;
			return c->slots[i].val;
		}
	return NULL;
}

/*
 * Cache val under key (not cached yet).  When the cache is full the least
 * recently used entry makes room: its value is returned for the caller to
 * free (and counted in evictions); otherwise NULL.
 */
void *
db_cache_put(struct db_cache *c, const void *key, void *val)
{
	struct db_cache_slot *s;
	void                 *old = NULL;

	if (c->n < c->cap) {
		s = &c->slots[c->n++];
	} else {
		s = &c->slots[0];
		for (size_t i = 1; i < c->n; i++)
			if (c->slots[i].used < s->used)
				s = &c->slots[i];
		old = s->val;
		c->evictions++;
	}
	s->key = key;
	s->val = val;
	s->used = ++c->tick;
	return old;
}

/* Remove and return some value (to close them all), NULL when empty. */
void *
db_cache_pop(struct db_cache *c)
{
	return c->n > 0 ? c->slots[--c->n].val : NULL;
}
