/*
 * audit: the audit log's API side (lib/domain/audit.h).
 */
#include <string.h>

#include "domain/audit.h"
#include "adapt/jsonx.h"
#include "store/store.h"
#include "base/utf8.h"

/* Column col of row i as a string, or null. */
static void
str(struct jw *w, const char *key, const struct db_res *r, size_t i, size_t col)
{
	const char *s = db_res_str(r, i, col);

	jw_key(w, key);
	if (s == NULL || !utf8_valid(s, strlen(s)))
		jw_null(w);
	else
		jw_str(w, s);
}

/* {"type", "id", "name"} of the actor, {"type", "id"} of the target
 * (name 0: no name column). */
static void
who(struct jw *w, const char *key, const struct db_res *r, size_t i,
    size_t type, size_t id, size_t name)
{
	jw_key(w, key);
	jw_open(w, '{');
	str(w, "type", r, i, type);
	jw_key(w, "id");
	jw_int(w, db_res_int(r, i, id));
	if (name != 0)
		str(w, "name", r, i, name);
	jw_close(w, '}');
}

static void
entry(struct jw *w, const struct db_res *r, size_t i)
{
	const char *d = db_res_str(r, i, AU_DETAIL);
	json_t     *detail = d ? json_loads(d, 0, NULL) : NULL;

	jw_open(w, '{');
	jw_key(w, "id");
	jw_int(w, db_res_int(r, i, AU_ID));
	str(w, "at", r, i, AU_AT);
	who(w, "actor", r, i, AU_ACTOR_TYPE, AU_ACTOR_ID, AU_ACTOR_NAME);
	str(w, "action", r, i, AU_ACTION);
	who(w, "target", r, i, AU_TARGET_TYPE, AU_TARGET_ID, 0);
	jw_key(w, "detail");
	jw_json(w, detail);
	json_decref(detail);
	str(w, "request_id", r, i, AU_REQUEST_ID);
	jw_close(w, '}');
}

/* {"items": [entry…]}: the newest limit entries. */
int
audit_list(struct db *db, long limit, struct buf *out, struct err *err)
{
	struct db_res r;
	struct jw     w;

	if (store_audit_list(db, limit, &r, err) == -1)
		return -1;
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "items");
	jw_open(&w, '[');
	for (size_t i = 0; i < r.nrows; i++)
		entry(&w, &r, i);
	jw_close(&w, ']');
	jw_close(&w, '}');
	db_res_free(&r);
	return 0;
}
