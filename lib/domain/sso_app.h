/*
 * sso_app: the app registration "Sign in with Microsoft" uses, as the
 * settings name it (lib/domain/sso_settings.c) — its own, or a mailbox's.
 * Only lib/domain/sso*.c include this.
 */
#ifndef POSTDESK_SSO_APP_H
#define POSTDESK_SSO_APP_H

#include "adapt/app.h"
#include "microsoft/oauth2.h"

struct sso_app {
	char                tenant[65]; /* a tenant id (GUID) */
	char                client_id[65];
	char               *secret; /* NULL unless asked for */
	struct oauth2_cloud cloud;
	int                 allow_address_match;
};

int sso_app_load(struct app *, int with_secret, struct sso_app *, struct err *);
void sso_app_cleanup(struct sso_app *);

#endif
