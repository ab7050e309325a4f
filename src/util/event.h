/*
 * event.h - a parsed log record as the rules engine sees it.
 *
 * Parsers (src/ingest) produce events; the rules engine (src/rules) matches
 * them.  Every field is a string with a length.  Nested JSON objects are
 * flattened to dotted names ("user.name"); syslog fields use the names
 * below.  An event does not own its strings: they belong to whoever built
 * it and stay valid while the event is being matched.
 *
 * Field names set by the syslog parsers (absent when the line lacks them):
 *   facility, severity (numbers as text), timestamp (RFC 3339 as received),
 *   host, app, procid, msgid, message, and for RFC 5424 structured data
 *   "sd.<SD-ID>.<PARAM-NAME>".  Parsers may add more (e.g. from
 *   "key=value" pairs in auditd lines) under names documented in
 *   src/ingest/ingest.h.
 */
#ifndef EV_UTIL_EVENT_H
#define EV_UTIL_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct ev_field {
	const char *name;
	const char *value;
	size_t len;
};

struct ev_event {
	const struct ev_field *fields;
	size_t nfields;
	const char *raw;     /* the line as received; Sigma keywords search here */
	size_t raw_len;
	int64_t time_us;     /* event time (UTC microseconds), 0 when unknown */
	const char *source;  /* log-source name from the inventory, or NULL */
	uint64_t seq;        /* ledger seq of the recorded line, 0 before recording */
};

/* Value of the first field with this name, or NULL (len set when found). */
const char *ev_event_get(const struct ev_event *ev, const char *name, size_t *len);

#endif
