/*
 * api_connect: Authorize Application, Disconnect and Test connection.
 */
#include "api.h"
#include "domain/mailbox_connect.h"
#include "adapt/jsonx.h"
#include "domain/mailbox.h"
#include "domain/mailbox_state.h"

/* POST /api/mailboxes/{id}/authorize -> {"authorize_url": ...} */
int
api_mailbox_authorize(struct call *c)
{
	struct buf url, b;
	struct jw  w;
	struct err err;
	uint64_t   id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	buf_init(&url, 1024);
	if (mailbox_connect_start(c->app, &c->who, id, &url, &err) == -1) {
		buf_cleanup(&url);
		return web_error(c, &err);
	}
	buf_init(&b, url.len + 64);
	jw_init(&w, &b);
	jw_open(&w, '{');
	jw_key(&w, "authorize_url");
	jw_str(&w, url.data);
	jw_key(&w, "expires_in");
	jw_int(&w, 600);
	jw_close(&w, '}');
	web_json_text(c, 200, &b);
	buf_cleanup(&b);
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
	int            rc;

	if (web_id(c, 0, &id) == -1)
		return -1;
	if (mailbox_disconnect(c->app, id, &err) == -1 ||
	    mailbox_get(c->app, id, &mb, &err) == -1)
		return web_error(c, &err);
	web_audit(c, "mailbox.disconnect", "mailbox", id, NULL);
	rc = api_mailbox_answer(c, 200, &mb);
	mailbox_cleanup(&mb);
	return rc;
}

/* POST /api/mailboxes/{id}/test -> {"passed", "checks": [...]} */
int
api_mailbox_test(struct call *c)
{
	struct mailbox_connect_report rep;
	struct http                  *h;
	struct err                    err;
	struct buf                    b;
	struct jw                     w;
	uint64_t                      id;

	if (web_id(c, 0, &id) == -1)
		return -1;
	h = app_http_request(c->app, &err);
	if (h == NULL || mailbox_connect_test(c->app, h, id, &rep, &err) == -1)
		return web_error(c, &err);
	buf_init(&b, 1024);
	jw_init(&w, &b);
	mailbox_connect_report_write(&w, &rep);
	web_json_text(c, 200, &b);
	buf_cleanup(&b);
	return 0;
}
