/*
 * guidance: the one catalogue that turns a Microsoft error — an OAuth
 * error with its AADSTS code, or a Graph status with its error.code — into
 * a short title and what the admin should do about it.
 */
#ifndef POSTDESK_GUIDANCE_H
#define POSTDESK_GUIDANCE_H

struct guidance {
	const char *key;    /* "AADSTS7000215", "ErrorAccessDenied", ... */
	const char *title;  /* what happened, in a few words */
	const char *action; /* what to do */
	int         reauth; /* the connection is dead until reauthorised */
};

const struct guidance *guidance_oauth(const char *error, long aadsts);
const struct guidance *guidance_graph(long status, const char *code);
const struct guidance *guidance_fallback(void);

#endif
