/*
 * valid: syntax checks for what admins type: GUIDs, domains, addresses,
 * dates and ids.  Pure functions.
 */
#ifndef POSTDESK_VALID_H
#define POSTDESK_VALID_H

#include <stdint.h>

int valid_guid(const char *);
int valid_domain(const char *);
int valid_email(const char *);
int valid_date(const char *);
int valid_id(const char *, uint64_t *);

#endif
