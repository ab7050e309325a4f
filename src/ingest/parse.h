/*
 * parse.h - log line parsers: RFC 5424 syslog, RFC 3164 (BSD) syslog as real
 * daemons write it, and JSON lines.
 *
 * A line that does not parse is never dropped: ev_parse_line still fills
 * out->ev with the raw line (and no fields), sets out->ok = 0 and says why in
 * out->error; the caller stores it raw, flagged, and counts it.
 */
#ifndef EV_INGEST_PARSE_H
#define EV_INGEST_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/event.h"

enum ev_log_format {
	EV_FMT_AUTO = 0, /* detect per line: JSON object, RFC 5424, else RFC 3164 */
	EV_FMT_RFC5424,
	EV_FMT_RFC3164,
	EV_FMT_JSON,
};

struct ev_parse_opts {
	enum ev_log_format format;
	int64_t now_us;       /* reference "now" for RFC 3164 year inference (0: the clock) */
	const char *timezone; /* IANA zone for RFC 3164 local times (NULL: UTC) */
};

#define EV_PARSE_MAX_FIELDS 256

struct ev_parsed {
	struct ev_event ev;       /* fields point into this struct's storage */
	enum ev_log_format format; /* what the line was parsed as */
	int ok;                    /* 1 parsed; 0 kept raw (see error) */
	char error[160];
	/* storage, owned by the parser; reused across calls */
	struct ev_field fields[EV_PARSE_MAX_FIELDS];
	struct ev_buf store;
};

/* Initialise before first use; free with ev_parsed_free. */
void ev_parsed_init(struct ev_parsed *p);
void ev_parsed_free(struct ev_parsed *p);

/*
 * Parse one line (without its line terminator).  Always returns 0 and fills
 * out; out->ok says whether it parsed.  out->ev.time_us is the event time in
 * UTC when the line carries one.  Lines longer than 64 KiB are kept raw.
 */
int ev_parse_line(const char *line, size_t len, const struct ev_parse_opts *o,
    struct ev_parsed *out);

const char *ev_log_format_name(enum ev_log_format f);

/*
 * The format named "auto", "rfc5424" ("5424"), "rfc3164" ("3164", "bsd",
 * "syslog") or "json" ("jsonl", "journald"): 0 and *f set, or -1.
 * (Added by the parser; not part of the original interface.)
 */
int ev_log_format_parse(const char *name, enum ev_log_format *f);

/*
 * Fields, by format (a field is absent when the line lacks it; NILVALUE "-"
 * in RFC 5424 means absent):
 *
 * RFC 5424: facility, severity (decimal text), timestamp (as received),
 *   host, app, procid, msgid, message (BOM removed; absent when the line
 *   has no MSG part), sd.<SD-ID>.<PARAM-NAME> (escapes \" \\ \] decoded).
 *
 * RFC 3164: facility, severity (only when the line has a PRI), timestamp
 *   (RFC 3339 as received for the ISO variant, otherwise the computed UTC
 *   time as "YYYY-MM-DDThh:mm:ss.ffffffZ"), host, app (the TAG), procid
 *   (the [pid]), message.  Time stamps without a year get the year that
 *   puts them at most ~31 days after opts->now_us; those without an offset
 *   are local times in opts->timezone, read from the tz database files
 *   ($TZDIR or /usr/share/zoneinfo; the TZ environment is never touched); an
 *   unknown zone keeps the line raw.  When the message looks like auditd's
 *   ("type=...", "msg=audit(...)", or app "audit*"), each key=value pair
 *   becomes a field named after its key (type, pid, uid, auid, ses, acct,
 *   exe, hostname, addr, terminal, res, UID, AUID, ...), quotes removed; the
 *   pairs inside msg='...' are lifted to the top level; the outer
 *   msg=audit(SECONDS.MILLIS:SERIAL) stays as field "msg"; keys that are
 *   syslog field names (host, message, ...) are skipped; hex-encoded values
 *   are left encoded; pairs beyond the field table (EV_PARSE_MAX_FIELDS)
 *   are dropped (the raw line keeps them).  Lines of /var/log/audit/audit.log itself
 *   ("[node=H ]type=T msg=audit(...): ...") parse the same way, with host
 *   from node=, message = the text after "): ", the event time from
 *   audit(...), format reported as EV_FMT_RFC3164.
 *
 * JSON: every leaf under its dotted path ("user.name"); strings decoded,
 *   numbers and true/false as their JSON text, arrays as compact JSON text,
 *   null members and empty objects give no field; duplicate names are all
 *   kept (ev_event_get returns the first).  Time from a top-level
 *   "@timestamp", "timestamp", "time" or "ts" in RFC 3339, or journald's
 *   __REALTIME_TIMESTAMP.  journald records also get message, host, app,
 *   procid, severity, facility copied from MESSAGE, _HOSTNAME,
 *   SYSLOG_IDENTIFIER, _PID, PRIORITY, SYSLOG_FACILITY unless the record
 *   already has those names.
 *
 * Every line: more than 64 KiB, a NUL byte or invalid UTF-8 keeps it raw.
 * A trailing CR (or LF) is not part of any field.  out->ev.source is left
 * as the caller set it; out->ev.seq is reset to 0.  ev_parse_line is
 * thread-safe for distinct out structs.
 */

#endif
