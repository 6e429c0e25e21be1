/*
 * agent: the people who sign in (agents) and the API keys tools use, as
 * the command line (bin/admin.c) manages them.  Every change writes its
 * audit line, by the person who ran the command.
 */
#ifndef POSTDESK_AGENT_H
#define POSTDESK_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "adapt/app.h"
#include "base/err.h"
#include "store/store.h"

struct agent_new {
	const char *username;
	const char *display_name;
	const char *role; /* admin or agent */
	const char *password;
};

/*
 * The functions that change something return 0; 1 when the change was
 * made but its audit line was not written (err says why); -1 with err.
 */
int agent_role_valid(const char *role);
int agent_count(struct db *, long long *n, struct err *);
int agent_create(struct db *, const struct agent_new *, const char *by,
    uint64_t *id, struct err *);
int agent_lookup(struct db *, const char *username, uint64_t *id, struct err *);
int agent_reset_password(struct db *, uint64_t id, const char *password,
    const char *by, struct err *);
int agent_apikey_create(struct app *, const char *name, const char *role,
    const char *by, char *key, size_t keysz, uint64_t *id, struct err *);
int agent_apikey_list(struct db *, struct api_key **, size_t *, struct err *);
int agent_apikey_revoke(struct db *, uint64_t id, const char *by, struct err *);

#endif
