/*
 * attach: list a message's attachments without their content, then fetch
 * each file attachment's raw bytes (/$value) while the message's total
 * stays under the cap.  What is left out is said in left_out, for the
 * ledger's trace; the ticket is created either way.
 */
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "url.h"
#include "xmalloc.h"

static char *
jstr(json_t *o, const char *key, size_t max)
{
	const char *s = json_string_value(json_object_get(o, key));

	return xstrndup(s ? s : "", max);
}

static void
left(struct buf *out, const char *name, const char *why)
{
	buf_printf(out, "%sleft out %.100s (%s)", out->len ? "; " : "", name,
	    why);
}

static int
fetch_one(const struct attach_ctx *ax, const char *mid, json_t *a,
    struct attachment *at, struct graph_error *ge, struct err *err)
{
	struct graph_call gc = { .method = "GET", .token = ax->token };
	struct http_resp  resp;
	struct buf        url;
	int               rc;

	buf_init(&url, 512);
	buf_printf(&url, "%s/messages/", ax->base);
	url_encode(&url, mid);
	buf_puts(&url, "/attachments/");
	url_encode(&url, json_string_value(json_object_get(a, "id")));
	buf_puts(&url, "/$value");
	gc.url = url.data;
	gc.max_body = ax->cap + 1;
	rc = graph_call(ax->http, &gc, &resp, ge, err);
	buf_cleanup(&url);
	if (rc == 0) {
		at->content = resp.body; /* take over */
		memset(&resp.body, 0, sizeof resp.body);
	}
	http_resp_cleanup(&resp);
	return rc;
}

/*
 * Fetch the attachments of message mid into *out (caller frees with
 * attach_free()).  Returns 0, or -1 with *ge/err when Graph failed (the
 * caller retries the message later).
 */
int
attach_fetch(const struct attach_ctx *ax, const char *mid,
    struct attachment **out, size_t *n, struct buf *left_out,
    struct graph_error *ge, struct err *err)
{
	struct buf url;
	json_t    *list, *arr;
	size_t     total = 0, cap;
	int        rc = 0;

	*out = NULL;
	*n = 0;
	buf_init(&url, 512);
	buf_printf(&url, "%s/messages/", ax->base);
	url_encode(&url, mid);
	buf_puts(&url, "/attachments?$select=id,name,contentType,size,"
		       "isInline,contentId");
	list = graph_get_json(ax->http, url.data, ax->token, ge, err);
	buf_cleanup(&url);
	if (list == NULL)
		return -1;
	arr = json_object_get(list, "value");
	cap = json_is_array(arr) ? json_array_size(arr) : 0;
	*out = xcalloc(cap, sizeof **out);
	for (size_t i = 0; rc == 0 && i < cap; i++) {
		json_t     *a = json_array_get(arr, i);
		const char *type =
		    json_string_value(json_object_get(a, "@odata.type"));
		json_int_t  size = json_integer_value(json_object_get(a, "size"));
		char       *name = jstr(a, "name", 255);

		if (type == NULL ||
		    strcmp(type, "#microsoft.graph.fileAttachment") != 0 ||
		    json_string_value(json_object_get(a, "id")) == NULL)
			left(left_out, name, "not a file attachment");
		else if (size < 0 || total + (size_t)size > ax->cap)
			left(left_out, name, "over the size cap");
		else {
			struct attachment *at = &(*out)[*n];

			rc = fetch_one(ax, mid, a, at, ge, err);
			if (rc == -1 && err->code == E_TOOLARGE) {
				left(left_out, name, "over the size cap");
				rc = 0;
			} else if (rc == 0 && total + at->content.len > ax->cap) {
				left(left_out, name, "over the size cap");
				buf_cleanup(&at->content);
			} else if (rc == 0) {
				total += at->content.len;
				at->name = name;
				name = NULL;
				at->content_type = jstr(a, "contentType", 255);
				at->is_inline =
				    json_is_true(json_object_get(a, "isInline"));
				at->content_id = jstr(a, "contentId", 255);
				(*n)++;
			}
		}
		free(name);
	}
	json_decref(list);
	return rc;
}

void
attach_free(struct attachment *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].content_type);
		free(a[i].content_id);
		buf_cleanup(&a[i].content);
	}
	free(a);
}
