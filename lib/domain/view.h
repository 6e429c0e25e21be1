/*
 * view: the API's JSON for tickets, their conversation and attachments,
 * the incoming email log and the outgoing queue, from store rows, written
 * to a jw (lib/adapt/jsonx.c).  Every string from mail goes out as JSON data,
 * never as markup: escaping is the portal's job (textContent).
 */
#ifndef POSTDESK_VIEW_H
#define POSTDESK_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/db.h"
#include "adapt/jsonx.h"
#include "store/ticket_view.h"

void view_ticket(struct jw *, const struct db_res *, size_t row);
void view_ticket_open(struct jw *, const struct db_res *, size_t row);
void view_action(struct jw *, const struct action_rows *, size_t row,
    uint64_t ticket);
void view_conversation(struct jw *, const struct action_rows *,
    uint64_t ticket);
void view_incoming(struct jw *, const struct db_res *, size_t row, int detail);
void view_incoming_item(struct jw *, const struct db_res *, size_t row);
void view_outgoing(struct jw *, const struct db_res *, size_t row);
int  view_time_parse(const char *in, int end_of_day, char out[21]);
int  view_text_ok(const char *, size_t max);

#endif
