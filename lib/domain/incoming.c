/*
 * incoming: the incoming email log's API side (lib/domain/incoming.h).
 * Reprocess runs the stored Graph JSON through lib/domain/intake.c with the
 * current rules, so what the log shows is what intake would do now;
 * attachments are not fetched again.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/incoming.h"
#include "domain/intake.h"
#include "mail/msg.h"
#include "domain/rules.h"
#include "store/incoming.h"
#include "domain/view.h"

static const struct page_view INCOMING_PAGE = {
	.row = view_incoming_item,
	.id_col = VI_ID,
	.at_col = -1,
};

/* {"items": [incoming…], "next_cursor", "total"} of the mails f selects. */
int
incoming_list(struct db *db, const struct incoming_filter *f, struct buf *out,
    struct err *err)
{
	struct db_res r;
	long long     total;

	if (store_incoming_count(db, f, &total, err) == -1 ||
	    store_incoming_list(db, f, &r, err) == -1)
		return -1;
	page_write(out, &r, f->limit, &INCOMING_PAGE, total);
	return 0;
}

/* One mail with to, cc, trace, sha256 and its Graph JSON. */
int
incoming_show(struct db *db, uint64_t id, struct buf *out, struct err *err)
{
	struct db_res r;
	struct jw     w;

	if (store_incoming_get(db, id, &r, err) == -1)
		return -1;
	jw_init(&w, out);
	view_incoming(&w, &r, 0, 1);
	db_res_free(&r);
	return 0;
}

/*
 * Run the logged mail in row r through intake again as the next attempt.
 * The new row keeps the mailbox action where the previous one left it: a
 * mail already moved is done; one still waiting is finished by the
 * scanner as before.
 */
static int
run_again(struct db *db, const struct db_res *r, json_t *src,
    struct intake_result *res, struct err *err)
{
	struct intake_setup set = { 0 };
	struct incoming_row last;
	struct msg          m;
	struct intake_ctx   cx = { 0 };
	struct intake_in    in = { 0 };
	uint64_t            mailbox = (uint64_t)db_res_int(r, 0, VI_MAILBOX_ID);
	int                 found, rc = -1;

	if (msg_parse(src, &m, err) == -1)
		goto out;
	if (store_incoming_latest(db, mailbox, db_res_str(r, 0, VI_GRAPH_ID),
	        &last, &found, err) == -1 ||
	    intake_setup_load(db, &set, err) == -1)
		goto out;
	cx.db = db;
	cx.mailbox_id = mailbox;
	cx.mailbox_address = db_res_str(r, 0, VI_MAILBOX_ADDRESS);
	cx.automatic_log_only = db_res_int(r, 0, VI_LOG_ONLY) != 0;
	cx.rules = set.rules;
	cx.nrules = set.nrules;
	cx.own = set.own;
	cx.nown = set.nown;
	in.source = src;
	in.msg = &m;
	in.attempt = found ? last.attempt + 1 : 1;
	in.again = "reprocessed from the incoming email log";
	in.left_out = "not fetched again (reprocessed from the incoming "
	              "email log; the first attempt's ticket has them)";
	if (intake_message(&cx, &in, res, err) == -1)
		goto out;
	if (found && last.state == INCOMING_DONE &&
	    store_incoming_set_state(db, res->incoming_id, INCOMING_DONE,
	        err) == -1)
		goto out;
	rc = 0;
out:
	msg_cleanup(&m);
	intake_setup_free(&set);
	return rc;
}

/* -1 with why (E_CONFLICT) when row r cannot be reprocessed, else 0. */
static int
reprocess_refused(const struct db_res *r, struct err *err)
{
	enum incoming_outcome o = OUTCOME_ERROR;

	if (db_res_str(r, 0, VI_MAILBOX_NAME) == NULL) {
		err_set(err, E_CONFLICT,
		    "The mailbox this email came from was deleted.");
		return -1;
	}
	incoming_outcome_parse(db_res_str(r, 0, VI_OUTCOME), &o);
	if (o == OUTCOME_FAILED || o == OUTCOME_QUARANTINED) {
		err_set(err, E_CONFLICT,
		    "This mail was never taken in: use Retry, which takes it "
		    "in again from the mailbox.");
		return -1;
	}
	return 0;
}

/*
 * Reprocess mail id: a new log row (*again) from the stored mail through
 * loop detection, the current rules and threading.  E_CONFLICT when the
 * mail cannot be (its mailbox is gone, it never was taken in, the stored
 * JSON is not a message).
 */
int
incoming_reprocess(struct db *db, uint64_t id, struct incoming_again *again,
    struct err *err)
{
	struct intake_result res;
	struct db_res        r;
	json_t              *src = NULL;
	int                  rc = -1;

	if (store_incoming_get(db, id, &r, err) == -1)
		return -1;
	if (reprocess_refused(&r, err) == -1)
		goto out;
	src = json_loadb(db_res_str(&r, 0, VI_SOURCE),
	    db_res_len(&r, 0, VI_SOURCE), JSON_ALLOW_NUL, NULL);
	if (src == NULL || !json_is_object(src)) {
		err_set(err, E_CONFLICT,
		    "The stored message is not a Graph message object.");
		goto out;
	}
	if (run_again(db, &r, src, &res, err) == -1)
		goto out;
	again->id = res.incoming_id;
	again->outcome = res.outcome;
	rc = 0;
out:
	json_decref(src);
	db_res_free(&r);
	return rc;
}

/*
 * Ask the next scan to take mail id in again: a quarantined one comes
 * back to the Inbox, a failed one is tried at once.
 */
int
incoming_retry(struct db *db, uint64_t id, struct err *err)
{
	return store_incoming_retry_request(db, id, err);
}
