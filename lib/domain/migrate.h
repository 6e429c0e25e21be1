/*
 * migrate: applies sql/NNNN_name.sql files in order, once each.
 */
#ifndef POSTDESK_MIGRATE_H
#define POSTDESK_MIGRATE_H

#include <stdio.h>

#include "adapt/db.h"
#include "base/err.h"

int  migrate_run(struct db *, const char *dir, FILE *progress, int *applied,
     struct err *);
int  migrate_split(const char *text, char ***stmts, size_t *n);
void migrate_free(char **stmts, size_t n);

/* How the database stands against the files of a sql directory. */
struct migrate_status {
	char    **pending; /* files not recorded as applied */
	size_t    npending;
	unsigned *unknown; /* versions recorded that no file has */
	size_t    nunknown;
	size_t    nfiles;
};

int  migrate_status(struct db *, const char *dir, struct migrate_status *,
     struct err *);
void migrate_status_free(struct migrate_status *);

#endif
