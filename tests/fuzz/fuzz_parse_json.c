/*
 * fuzz_parse_json.c - libFuzzer target: ev_parse_line on arbitrary bytes as
 * JSON lines.  Checks, besides not crashing, that a parsed line's fields all
 * have NUL-terminated names and readable values, and that a refused line has
 * no fields and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ev_parsed parsed;
static int ready;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_parse_opts o = { EV_FMT_JSON, 1795561200000000LL, NULL };
	volatile size_t sink = 0;
	char *line;

	if (!ready) {
		ev_parsed_init(&parsed);
		ready = 1;
	}
	line = malloc(size ? size : 1);
	memcpy(line, data, size);
	ev_parse_line(line, size, &o, &parsed);
	if (!parsed.ok) {
		if (parsed.ev.nfields != 0 || parsed.error[0] == '\0')
			abort();
	} else {
		for (size_t i = 0; i < parsed.ev.nfields; i++) {
			const struct ev_field *f = &parsed.ev.fields[i];
			sink += strlen(f->name);
			for (size_t k = 0; k < f->len; k++)
				sink += (unsigned char)f->value[k];
		}
	}
	(void)sink;
	free(line);
	return 0;
}
