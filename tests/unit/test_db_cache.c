/*
 * test_db_cache: the prepared-statement cache of lib/adapt/db.c (lib/
 * adapt/db_cache.c) — hits, least-recently-used eviction instead of growth or
 * leaks, and room for every static SQL text in lib/.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/db_cache.h"
#include "test.h"

static const char A[] = "A", B[] = "B", C[] = "C", D[] = "D";
static int        va, vb, vc, vd;

static void
test_get_put(void)
{
	struct db_cache c;

	db_cache_init(&c, 3);
	CHECK(db_cache_get(&c, A) == NULL);
	CHECK(db_cache_put(&c, A, &va) == NULL);
	CHECK(db_cache_put(&c, B, &vb) == NULL);
	CHECK(db_cache_get(&c, A) == &va);
	CHECK(db_cache_get(&c, B) == &vb);
}

static void
test_evicts_least_recent(void)
{
	struct db_cache c;
	void           *v;

	db_cache_init(&c, 3);
	db_cache_put(&c, A, &va);
	db_cache_put(&c, B, &vb);
	db_cache_put(&c, C, &vc);
	CHECK(db_cache_get(&c, A) == &va); /* B is now the least recent */
	CHECK(db_cache_put(&c, D, &vd) == &vb);
	CHECK_INT((long long)c.evictions, 1);
	CHECK_INT((long long)c.n, 3);
	CHECK(db_cache_get(&c, B) == NULL);
	CHECK(db_cache_get(&c, A) == &va);
	CHECK(db_cache_get(&c, C) == &vc);
	CHECK(db_cache_get(&c, D) == &vd);
	/* pop hands back each value once, then NULL */
	for (int i = 0; i < 3; i++) {
		v = db_cache_pop(&c);
		CHECK(v == &va || v == &vc || v == &vd);
	}
	CHECK(db_cache_pop(&c) == NULL);
}

/* Many more statements than room: the size never grows past cap. */
static void
test_bounded(void)
{
	static char     keys[1000];
	struct db_cache c;
	unsigned long   evicted = 0;

	db_cache_init(&c, 0); /* 0: the full size */
	CHECK_INT((long long)c.cap, DB_CACHE_SIZE);
	for (size_t i = 0; i < sizeof keys; i++)
		if (db_cache_put(&c, &keys[i], &keys[i]) != NULL)
			evicted++;
	CHECK_INT((long long)c.n, DB_CACHE_SIZE);
	CHECK_INT((long long)evicted, (long long)(sizeof keys - DB_CACHE_SIZE));
}

/* The static SQL texts of lib/ and its layer folders: "static const char
 * SQL_..." lines. */
static long
count_sql(const char *dir)
{
	DIR           *d = opendir(dir);
	struct dirent *e;
	char           path[512], line[1024];
	long           n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		FILE  *f;

		if (e->d_type == DT_DIR && e->d_name[0] != '.') {
			long sub;

			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			if ((sub = count_sql(path)) > 0)
				n += sub;
			continue;
		}
		if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL)
			if (strstr(line, "static const char SQL_") != NULL ||
			    strstr(line, "static const char *const SQL_") !=
			        NULL)
				n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Every statement of lib/ fits with room to spare: a cache that evicts
 * in production re-prepares on every request. */
static void
test_room_for_all(void)
{
	long n = count_sql("lib");

	CHECK(n > 50); /* run from the top of the checkout */
	CHECK(n * 2 <= DB_CACHE_SIZE);
	if (n * 2 > DB_CACHE_SIZE)
		printf("lib/ has %ld static SQL texts: raise DB_CACHE_SIZE\n",
		    n);
}

int
main(void)
{
	test_get_put();
	test_evicts_least_recent();
	test_bounded();
	test_room_for_all();
	return TEST_DONE();
}
