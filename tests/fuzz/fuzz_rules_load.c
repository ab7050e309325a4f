/*
 * fuzz_rules_load.c - libFuzzer target: arbitrary bytes as a Sigma rule file
 * (ev_rules_load_buffer), then, when anything loaded, one match of a small
 * fixed event and of an event made from the same bytes, so that compiled
 * matchers and correlations run on what the loader accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_match(const struct ev_rule_match *m, const struct ev_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return m->rule_id == NULL; /* touch the match */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_rules *r = NULL;
	struct ev_err err = { 0 };
	struct ev_field f[6] = {
		{ "app", "sshd", 4 },
		{ "message", "Failed password for root from 10.0.0.1 port 22 ssh2", 52 },
		{ "type", "PATH", 4 },
		{ "name", "/etc/audit/auditd.conf", 22 },
		{ "host", "h", 1 },
		{ "raw", (const char *)data, size },
	};
	struct ev_event ev = { f, 6, "Nov 24 h sshd[1]: Failed password for root", 42,
		1790000000000000LL, NULL, 1 };

	ev_rules_load_buffer("fuzz.yml", (const char *)data, size, NULL, NULL, &r, &err);
	if (ev_rules_count(r) > 0) {
		for (int i = 0; i < 3; i++) {
			ev.time_us += 1000000;
			ev_rules_match(r, &ev, on_match, NULL);
		}
		ev.raw = (const char *)data;
		ev.raw_len = size;
		ev_rules_match(r, &ev, on_match, NULL);
	}
	ev_rules_free(r);
	return 0;
}
