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

#endif
