/*
 * fuzz_parse_syslog.c - libFuzzer target: ev_parse_line on arbitrary bytes
 * as RFC 5424, RFC 3164 and auto-detected syslog.  The first input byte picks
 * the format and a time zone so that every path (including the local-time
 * conversion) is reached; the rest is the line.  Besides not crashing, the
 * parser must keep its promises: ok=0 means no fields and a reason, ok=1
 * means every field has a NUL-terminated name and a value inside memory we
 * can read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ev_parsed parsed;
static int ready;

static void
check(const char *line, size_t len)
{
	volatile size_t sink = 0;

	if (!parsed.ok) {
		if (parsed.ev.nfields != 0 || parsed.error[0] == '\0')
			abort();
		return;
	}
	if (parsed.ev.raw != line || parsed.ev.raw_len != len)
		abort();
	for (size_t i = 0; i < parsed.ev.nfields; i++) {
		const struct ev_field *f = &parsed.ev.fields[i];
		sink += strlen(f->name);
		for (size_t k = 0; k < f->len; k++)
			sink += (unsigned char)f->value[k];
	}
	(void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ev_log_format fmts[] = { EV_FMT_AUTO, EV_FMT_RFC5424, EV_FMT_RFC3164 };
	static const char *const zones[] = { NULL, "Europe/Berlin", "America/New_York",
		"Australia/Lord_Howe" };
	struct ev_parse_opts o = { EV_FMT_AUTO, 1795561200000000LL, NULL };
	char *line;

	if (!ready) {
		ev_parsed_init(&parsed);
		ready = 1;
	}
	if (size < 1)
		return 0;
	o.format = fmts[data[0] % 3];
	o.timezone = zones[(data[0] >> 2) & 3];
	/* An exact-size copy so that ASan sees any read past the end. */
	line = malloc(size - 1 ? size - 1 : 1);
	memcpy(line, data + 1, size - 1);
	ev_parse_line(line, size - 1, &o, &parsed);
	check(line, size - 1);
	free(line);
	return 0;
}
