/*
 * view: the API's JSON for tickets, their conversation and attachments,
 * and the incoming email log, from store_view rows; and the opaque paging
 * cursors.  Every string from mail goes out as JSON data, never as markup:
 * escaping is the portal's job (textContent).
 */
#ifndef POSTDESK_VIEW_H
#define POSTDESK_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db.h"
#include "store_view.h"

json_t *view_ticket(const struct db_res *, size_t row);
json_t *view_conversation(const struct action_rows *, uint64_t ticket);
json_t *view_actions_cursor(const struct action_rows *);
json_t *view_incoming(const struct db_res *, size_t row, int detail);
int     view_status_valid(const char *);
int     view_outcome_valid(const char *);
void    view_ticket_cursor(const struct db_res *, size_t row, char *out,
       size_t outsz);
int view_ticket_cursor_parse(const char *, long long *unix_time, uint64_t *id);
int view_time_parse(const char *in, int end_of_day, char out[21]);
int view_limit_parse(const char *, long *limit);
int view_text_ok(const char *, size_t max);

#endif
