/*
 * err: filling and mapping struct err.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

void
err_clear(struct err *err)
{
	err->code = E_OK;
	err->msg[0] = '\0';
	err->detail[0] = '\0';
}

/* Set the code and the client-safe message; the detail is cleared. */
void
err_set(struct err *err, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->detail[0] = '\0';
}

/* Set the log-only detail, keeping code and message. */
void
err_detail(struct err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof err->detail, fmt, ap);
	va_end(ap);
}

/* The HTTP status that answers an error of this code. */
int
err_http_status(enum err_code code)
{
	switch (code) {
	case E_OK:
		return 200;
	case E_INVALID:
		return 422;
	case E_NOTFOUND:
		return 404;
	case E_CONFLICT:
		return 409;
	case E_CHANGED:
		return 412;
	case E_AUTH:
		return 401;
	case E_FORBIDDEN:
		return 403;
	case E_TOOLARGE:
		return 413;
	case E_UNSUPPORTED:
		return 415;
	case E_RATELIMIT:
		return 429;
	case E_UNAVAILABLE:
		return 503;
	case E_DB:
	case E_CONFIG:
	case E_INTERNAL:
		break;
	}
	return 500;
}
