/*
 * api_connect: Authorize Application, Disconnect and Test connection.
 */
#include <string.h>

#include "api.h"
#include "connect.h"
#include "jsonx.h"
#include "mailbox.h"
#include "store.h"

/* POST /api/mailboxes/{id}/authorize -> {"authorize_url": ...} */
int
api_mailbox_authorize(struct call *c)
{
	struct buf url;
	struct err err;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	buf_init(&url, 1024);
	if (connect_start(c->app, &c->who, id, &url, &err) == -1) {
		buf_cleanup(&url);
		return web_error(c, &err);
	}
	web_json(c, 200,
	    json_pack("{s:s, s:i}", "authorize_url", url.data, "expires_in",
	        600));
	buf_cleanup(&url);
	return 0;
}

/* POST /api/mailboxes/{id}/disconnect -> the mailbox */
int
api_mailbox_disconnect(struct call *c)
{
	struct mailbox mb;
	struct err     err;
	uint64_t       id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (connect_disconnect(c->app, id, &err) == -1 ||
	    store_mailbox_get(c->app->db, id, &mb, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "mailbox.disconnect", "mailbox", id, NULL);
	return api_mailbox_answer(c, 200, &mb);
}

/* POST /api/mailboxes/{id}/test -> {"passed", "checks": [...]} */
int
api_mailbox_test(struct call *c)
{
	struct http *h;
	struct err   err;
	json_t      *res;
	uint64_t     id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	h = app_http_request(c->app, &err);
	if (h == NULL)
		return web_error(c, &err);
	res = connect_test(c->app, h, id, &err);
	if (res == NULL)
		return web_error(c, &err);
	return web_json(c, 200, res);
}
