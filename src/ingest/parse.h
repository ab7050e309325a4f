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

#endif
