/*
 * etag: the strong entity tags of versioned rows (mailboxes, email rules)
 * and the If-Match precondition of RFC 9110 section 13.1.1.
 */
#ifndef POSTDESK_ETAG_H
#define POSTDESK_ETAG_H

#include <stdint.h>

#define ETAG_MAX 24 /* "18446744073709551615" and the NUL */

void etag_format(char out[ETAG_MAX], uint64_t version);
int  etag_pinned(const char *if_match);
int  etag_matches(const char *if_match, uint64_t version);

#endif
