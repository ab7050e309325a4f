/*
 * err.h - the one error vocabulary of evident.
 *
 * Every function that can fail returns an int from enum ev_code and, when the
 * caller passes a struct ev_err, writes a one-line detail into it.  The CLI
 * turns the code into an exit status (ev_exit_status) and the detail into one
 * line on stderr; the HTTP layer turns it into a JSON error.  Nothing below
 * the CLI prints.
 */
#ifndef EV_UTIL_ERR_H
#define EV_UTIL_ERR_H

#include <stddef.h>

enum ev_code {
	EV_OK = 0,
	EV_EINVAL,	/* bad input from the caller: usage, malformed JSON, bad time */
	EV_EIO,		/* the operating system or the store failed */
	EV_ECORRUPT,	/* stored data is not what it must be: verification failed */
	EV_ENOTFOUND,	/* no such entry, incident, file */
	EV_EDENIED,	/* not allowed: role, permission, append-only store */
	EV_EEXIST,	/* already there: init on an initialised directory */
	EV_ENOMEM,
	EV_ESTATE,	/* the request is valid but the current state refuses it */
	EV_EBUSY,	/* the store is locked by another writer for too long */
	EV__MAX
};

struct ev_err {
	int code;
	char msg[512];
};

/* Text for a code: "invalid input", "corrupt data", ... never NULL. */
const char *ev_strerror(int code);

/*
 * Record an error: sets e->code and formats the message.  e may be NULL.
 * Returns code, so `return ev_errf(err, EV_EINVAL, "...")` reads naturally.
 */
int ev_errf(struct ev_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clear an error record (code EV_OK, empty message). */
void ev_err_clear(struct ev_err *e);

/* The documented process exit status for a code: 0 ok, 1 error, 2 usage, 3 verify. */
int ev_exit_status(int code);

#endif
