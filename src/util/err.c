/*
 * err.c - error codes, messages and exit statuses (see err.h).
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const ev_messages[EV__MAX] = {
	[EV_OK] = "ok",
	[EV_EINVAL] = "invalid input",
	[EV_EIO] = "input/output error",
	[EV_ECORRUPT] = "verification failed",
	[EV_ENOTFOUND] = "not found",
	[EV_EDENIED] = "not allowed",
	[EV_EEXIST] = "already exists",
	[EV_ENOMEM] = "out of memory",
	[EV_ESTATE] = "refused in the current state",
	[EV_EBUSY] = "store busy",
};

const char *
ev_strerror(int code)
{
	if (code < 0 || code >= EV__MAX || ev_messages[code] == NULL)
		return "unknown error";
	return ev_messages[code];
}

int
ev_errf(struct ev_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
ev_err_clear(struct ev_err *e)
{
	if (e == NULL)
		return;
	e->code = EV_OK;
	e->msg[0] = '\0';
}

int
ev_exit_status(int code)
{
	switch (code) {
	case EV_OK:
		return 0;
	case EV_EINVAL:
		return 2;
	case EV_ECORRUPT:
		return 3;
	default:
		return 1;
	}
}
