/*
 * ingest_pass: the state of one pass over a mailbox, shared by domain/ingest.c
 * (listing and deciding) and domain/ingest_move.c (the actions on Graph: moves,
 * marks, folders).  Internal to those two files.
 */
#ifndef POSTDESK_INGEST_PASS_H
#define POSTDESK_INGEST_PASS_H

#include <stddef.h>
#include <stdint.h>

#include "domain/ingest.h"
#include "model/limits.h"

/* A committed message whose processed-mail action is still to be done. */
struct pending {
	uint64_t    incoming_id;
	char       *graph_id;
	const char *dest; /* folder id or well-known name; NULL: mark read */
	size_t      size; /* the body's bytes: Graph answers a move with it */
};

struct pass {
	const struct ingest_env  *env;
	const struct scan_target *t;
	struct ingest_stats      *st;
	struct mbx               *m;
	char                     *dest;  /* processed mail; NULL: mark read */
	char                     *qdest; /* quarantine folder, when needed */
	struct pending            pend[INGEST_PAGE_SIZE];
	size_t                    npend;
	uint64_t *seen; /* incoming_email rows listed this pass */
	size_t    nseen;
	int       partial;    /* a page held too many */
	char      newest[21]; /* the latest receivedDateTime listed */
	char      floor[21];  /* listings start here ("" for all) */
	size_t    worked;     /* messages taken in, finished or failed */
	long long started;    /* clock_mono_ms() at the pass's start */
};

void   ingest_pend(struct pass *, uint64_t incoming_id, const char *graph_id,
      const char *dest, size_t size);
size_t ingest_run_actions(struct pass *);
void   ingest_finish_unlisted(struct pass *);
int    ingest_destination(struct pass *, struct err *);
int    ingest_quarantine_folder(struct pass *, struct err *);
void   ingest_bring_back(struct pass *);

#endif
