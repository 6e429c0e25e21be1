/*
 * attach: list a message's attachments without their content and keep
 * the file attachments that fit the per-message cap (what is left out is
 * said in left_out, for the incoming email log's trace; the ticket is created
 * either way); then stream each kept file's raw bytes (/$value) to a sink.
 * Names, types and content ids are cut to their columns on a character
 * boundary, and left_out says so.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mail/attach.h"
#include "adapt/jsonx.h"
#include "base/url.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

/* attachment.name, content_type, content_id are VARCHAR(255) */
#define ATTACH_TEXT_MAX 255

/*
 * The string at key, cut to max bytes on a character boundary; a cut is
 * said in notes (when given).
 */
static char *
jstr(json_t *o, const char *key, size_t max, struct buf *notes)
{
	const char *s = json_string_value(json_object_get(o, key));
	int         cut;
	char       *r = utf8_ndup(s ? s : "", max, &cut);

	if (cut && notes != NULL)
		buf_printf(notes, "%san attachment's %s cut to %zu bytes",
		    notes->len ? "; " : "", key, max);
	return r;
}

static void
left(struct buf *out, const char *name, const char *why)
{
	buf_printf(out, "%sleft out %.*s (%s)", out->len ? "; " : "",
	    (int)utf8_cut(name, strlen(name), 100), name, why);
}

/* Name, type and content id of a kept attachment, cut to their columns. */
static void
texts(json_t *a, struct attachment *at, struct buf *notes)
{
	at->id = jstr(a, "id", 1024, NULL);
	at->content_type = jstr(a, "contentType", ATTACH_TEXT_MAX, notes);
	at->content_id = jstr(a, "contentId", ATTACH_TEXT_MAX, notes);
}

/*
 * An attached Outlook item (a forwarded mail, an invitation, a contact) is
 * kept as the MIME Graph gives for it at /$value: a message as .eml, an
 * event as .ics, a contact as .vcf.  Its bytes are streamed later.
 */
static int
is_item(json_t *a)
{
	const char *type = json_string_value(json_object_get(a, "@odata.type"));

	return type != NULL &&
	    strcmp(type, "#microsoft.graph.itemAttachment") == 0 &&
	    json_string_value(json_object_get(a, "id")) != NULL;
}

static void
keep_item(json_t *a, struct attachment *at, char *name, struct buf *notes)
{
	const char *ct = json_string_value(json_object_get(a, "contentType"));
	json_int_t  size = json_integer_value(json_object_get(a, "size"));
	const char *ext = ".eml", *type = "message/rfc822";
	struct buf  b;
	size_t      room, n;

	if (ct != NULL && strncmp(ct, "text/calendar", 13) == 0) {
		ext = ".ics";
		type = "text/calendar";
	} else if (ct != NULL &&
	    (strncmp(ct, "text/vcard", 10) == 0 ||
	        strncmp(ct, "text/x-vcard", 12) == 0)) {
		ext = ".vcf";
		type = "text/vcard";
	}
	if (name[0] == '\0') {
		free(name);
		name = xstrdup("attached item");
	}
	/* the name and its extension together fit attachment.name */
	room = ATTACH_TEXT_MAX - strlen(ext);
	n = utf8_cut(name, strlen(name), room);
	if (n < strlen(name))
		buf_printf(notes, "%san attachment's name cut to %zu bytes",
		    notes->len ? "; " : "", room);
	buf_init(&b, n + 8);
	buf_append(&b, name, n);
	buf_puts(&b, ext);
	free(name);
	at->id = jstr(a, "id", 1024, NULL);
	at->is_item = 1;
	at->data = NULL; /* the slot may hold a file left out before */
	at->len = 0;
	at->name = b.data;
	at->content_type = xstrdup(type);
	at->content_id = xstrdup("");
	at->size = size > 0 ? (size_t)size : 0;
}

static void
message_url(struct buf *url, const struct attach_ctx *ax, const char *mid)
{
	buf_printf(url, "%s/messages/", ax->base);
	url_encode(url, mid);
	buf_puts(url, "/attachments");
}

/*
 * The file attachments of message mid that fit the cap, in *out (caller
 * frees with attach_free()).  Returns 0, or -1 with *ge/err when Graph
 * failed (the caller retries the message later).
 */
int
attach_list(const struct attach_ctx *ax, const char *mid,
    struct attachment **out, size_t *n, struct buf *left_out,
    struct graph_error *ge, struct err *err)
{
	struct graph_call gc = { .method = "GET", .token = ax->token };
	struct http_resp  resp;
	struct buf        url;
	json_t           *list, *arr, *a;
	size_t            total = 0, i;
	int               rc;

	*out = NULL;
	*n = 0;
	buf_init(&url, 512);
	message_url(&url, ax, mid);
	buf_puts(&url, "?$select=id,name,contentType,size,isInline,contentId");
	gc.url = url.data;
	/* Should Graph send contentBytes anyway, base64 of the cap fits. */
	gc.max_body = ax->cap / 3 * 4 + (1u << 20);
	rc = graph_call(ax->http, &gc, &resp, ge, err);
	buf_cleanup(&url);
	list = rc == 0 ? jsonx_load_graph(resp.body.data, resp.body.len) : NULL;
	http_resp_cleanup(&resp);
	if (rc == -1)
		return -1;
	if (!json_is_object(list)) {
		json_decref(list);
		err_set(err, E_UNAVAILABLE, "Graph answered malformed JSON");
		return -1;
	}
	arr = json_object_get(list, "value");
	*out = xcalloc(json_array_size(arr), sizeof **out);
	json_array_foreach (arr, i, a) {
		const char *type =
		    json_string_value(json_object_get(a, "@odata.type"));
		json_int_t size =
		    json_integer_value(json_object_get(a, "size"));
		char *name = jstr(a, "name", ATTACH_TEXT_MAX, left_out);
		struct attachment *at = &(*out)[*n];

		if (is_item(a) && size >= 0 &&
		    total + (size_t)size <= ax->cap) {
			total += (size_t)size;
			keep_item(a, at, name, left_out);
			name = NULL;
			(*n)++;
		} else if (type == NULL ||
		    strcmp(type, "#microsoft.graph.fileAttachment") != 0 ||
		    json_string_value(json_object_get(a, "id")) == NULL) {
			left(left_out, name, "not a file attachment");
		} else if (size < 0 || total + (size_t)size > ax->cap) {
			left(left_out, name, "over the size cap");
		} else {
			total += (size_t)size;
			texts(a, at, left_out);
			at->name = name;
			name = NULL;
			at->is_inline =
			    json_is_true(json_object_get(a, "isInline"));
			at->size = (size_t)size;
			(*n)++;
		}
		free(name);
	}
	json_decref(list);
	return 0;
}

/*
 * The attachments the message listing brought along ($expand), decoded:
 * file attachments whose bytes fit the cap are kept in *out (caller frees
 * with attach_free()); the rest is said in left_out.  The bytes are
 * removed from arr once decoded.  Returns 0, or -1 when arr is not an
 * array (the caller then asks Graph for them).
 */
int
attach_from_listing(json_t *arr, size_t cap, struct attachment **out, size_t *n,
    struct buf *left_out)
{
	size_t  total = 0, i;
	json_t *a;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return -1;
	*out = xcalloc(json_array_size(arr), sizeof **out);
	json_array_foreach (arr, i, a) {
		const char *type =
		    json_string_value(json_object_get(a, "@odata.type"));
		const char *b64 = jsonx_str(a, "contentBytes");
		char       *name = jstr(a, "name", ATTACH_TEXT_MAX, left_out);
		struct attachment *at = &(*out)[*n];
		size_t             max = b64 ? strlen(b64) / 4 * 3 + 3 : 0;

		if (is_item(a)) {
			/* bytes streamed from /$value, within the cap then */
			keep_item(a, at, name, left_out);
			name = NULL;
			(*n)++;
		} else if (type == NULL ||
		    strcmp(type, "#microsoft.graph.fileAttachment") != 0 ||
		    b64 == NULL) {
			left(left_out, name, "not a file attachment");
		} else {
			/* the listing page's own cap bounds this allocation */
			at->data = xmalloc(max + 1);
			if (sodium_base642bin(at->data, max + 1, b64,
			        strlen(b64), "\r\n", &at->len, NULL,
			        sodium_base64_VARIANT_ORIGINAL) != 0) {
				left(left_out, name,
				    "its bytes are not base64");
				free(at->data);
				at->data = NULL;
				at->len = 0;
			} else if (total + at->len > cap) {
				left(left_out, name, "over the size cap");
				free(at->data);
				at->data = NULL;
				at->len = 0;
			} else {
				total += at->len;
				texts(a, at, left_out);
				at->name = name;
				name = NULL;
				at->is_inline = json_is_true(
				    json_object_get(a, "isInline"));
				at->size = at->len;
				(*n)++;
			}
		}
		free(name);
		/* decoded: the incoming email log keeps the listing without the
		 * bytes */
		json_object_del(a, "contentBytes");
	}
	return 0;
}

/*
 * Stream attachment a's bytes to sink.  Returns 0, or -1 with *ge/err
 * (E_TOOLARGE when the bytes exceed the cap after all, E_UNAVAILABLE when
 * the sink refused them).
 */
int
attach_stream(const struct attach_ctx *ax, const char *mid,
    const struct attachment *a, attach_sink sink, void *ctx,
    struct graph_error *ge, struct err *err)
{
	struct graph_call gc = { .method = "GET", .token = ax->token };
	struct http_resp  resp;
	struct buf        url;
	int               rc;

	buf_init(&url, 512);
	message_url(&url, ax, mid);
	buf_putc(&url, '/');
	url_encode(&url, a->id);
	buf_puts(&url, "/$value");
	gc.url = url.data;
	gc.max_body = ax->cap;
	gc.sink = sink;
	gc.sink_ctx = ctx;
	rc = graph_call(ax->http, &gc, &resp, ge, err);
	http_resp_cleanup(&resp);
	buf_cleanup(&url);
	return rc;
}

void
attach_free(struct attachment *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].id);
		free(a[i].name);
		free(a[i].content_type);
		free(a[i].content_id);
		free(a[i].data);
	}
	free(a);
}
