/*
 * test_ingest.c - the ingest pipeline's pieces against real parts: the JSON
 * string writer agrees byte for byte with jansson's canonical dump (so the
 * ledger's fast path takes every body as written), the line splitter across
 * arbitrary chunk boundaries, and the pipeline on a real ledger: seqs known
 * before the append match the stored ones, alerts name the lines that raised
 * them, batches flush on their own at the batch size.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/alerts.h"
#include "ingest/ingest.h"
#include "unit.h"
#include "util/jscan.h"
#include "util/json.h"

static unsigned long long rng = 88172645463325252ULL;

static unsigned
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)rng;
}

static void
test_json_str(void)
{
	int agree = 0, canon_invalid = 0;
	const int N = 6000;

	for (int k = 0; k < N; k++) {
		char s[256];
		/* Half the strings are long runs of plain text with a few specials:
		 * the eight-bytes-at-a-time path of ev_alerts_json_str. */
		int plain = k % 2;
		size_t n = rnd() % (plain ? sizeof(s) : 64);
		struct ev_buf b = EV_BUF_INIT;
		int replaced;

		for (size_t i = 0; i < n; i++) {
			unsigned r = plain && rnd() % 16 ? 0 : rnd() % 10;
			if (r < 5)
				s[i] = (char)(0x20 + rnd() % 95);
			else if (r < 7)
				s[i] = (char)(rnd() % 0x20);
			else if (r < 8)
				s[i] = (char)(rnd() % 256);
			else if (i + 1 < n) { /* a valid two-byte sequence */
				unsigned cp = 0x80 + rnd() % 0x780;
				s[i++] = (char)(0xc0 | (cp >> 6));
				s[i] = (char)(0x80 | (cp & 0x3f));
			} else
				s[i] = '"';
		}
		ev_buf_addc(&b, '{');
		ev_buf_add(&b, "\"k\":", 4);
		replaced = ev_alerts_json_str(&b, s, n);
		ev_buf_addc(&b, '}');
		if (!replaced && memchr(s, 0, n) == NULL) {
			json_t *o = json_object();
			char *d;
			json_object_set_new(o, "k", json_stringn(s, n));
			d = ev_json_dump(o);
			if (d && strcmp(d, b.p) == 0)
				agree++;
			else
				printf("# differs: %s vs %s\n", d ? d : "(null)", b.p);
			free(d);
			json_decref(o);
		} else {
			agree++;
		}
		if (ev_jscan_canonical(b.p, b.len))
			canon_invalid++;
		ev_buf_free(&b);
	}
	CHECK(agree == N, "json string writer agrees with jansson on %d random strings (%d)", N,
	    agree);
	CHECK(canon_invalid == N, "every written object is canonical for the ledger's fast path (%d)",
	    canon_invalid);
}

struct collect {
	char out[8192];
	size_t len;
	int lines;
	size_t fulls[16];
};

static int
collect_line(const char *line, size_t len, size_t full, void *arg)
{
	struct collect *c = arg;

	if (c->lines < 16)
		c->fulls[c->lines] = full;
	c->lines++;
	if (len > 40)
		len = 40;
	memcpy(c->out + c->len, line, len);
	c->len += len;
	c->out[c->len++] = '|';
	c->out[c->len] = '\0';
	return 0;
}

static void
test_lines(void)
{
	const char *in = "one\r\ntwo\n\nthree\nfour";
	int ok = 1;

	for (size_t chunk = 1; chunk <= strlen(in); chunk++) {
		struct ev_lines lb = { 0 };
		struct collect c;
		memset(&c, 0, sizeof(c));
		for (size_t i = 0; i < strlen(in); i += chunk) {
			size_t n = strlen(in) - i < chunk ? strlen(in) - i : chunk;
			ev_lines_feed(&lb, in + i, n, collect_line, &c);
		}
		ev_lines_finish(&lb, collect_line, &c);
		ev_lines_free(&lb);
		if (strcmp(c.out, "one|two|three|four|") != 0) {
			printf("# chunk %zu: %s\n", chunk, c.out);
			ok = 0;
		}
	}
	CHECK(ok, "lines split the same for every chunk size; CR removed, empty lines skipped, "
		  "last line without LF kept");
	{
		size_t big = EV_INGEST_MAX_LINE + 1000;
		char *p = malloc(big + 10);
		struct ev_lines lb = { 0 };
		struct collect c;
		memset(&c, 0, sizeof(c));
		memset(p, 'a', big);
		memcpy(p + big, "\nnext\n", 6);
		for (size_t i = 0; i < big + 6; i += 4000)
			ev_lines_feed(&lb, p + i, big + 6 - i < 4000 ? big + 6 - i : 4000, collect_line,
			    &c);
		ev_lines_free(&lb);
		CHECK(c.lines == 2 && c.fulls[0] == big && c.fulls[1] == 4,
		    "an overlong line is cut but its full length is known (%d lines, %zu)", c.lines,
		    c.fulls[0]);
		free(p);
	}
}

struct seqcheck {
	int log_ok, alerts;
	uint64_t alert_log_seq;
	uint64_t alert_seq;
};

static int
scan_cb(const struct ev_entry *e, void *arg)
{
	struct seqcheck *s = arg;

	if (strcmp(e->kind, "alert.raised") == 0) {
		json_t *b = json_loadb(e->body, e->body_len, 0, NULL);
		json_t *ls = json_object_get(b, "log_seq");
		s->alerts++;
		s->alert_seq = e->seq;
		s->alert_log_seq = (uint64_t)json_integer_value(json_array_get(ls, 0));
		json_decref(b);
	}
	return 0;
}

struct find_raw {
	uint64_t seq;
	char raw[128];
};

static int
raw_cb(const struct ev_entry *e, void *arg)
{
	struct find_raw *f = arg;
	json_t *b = json_loadb(e->body, e->body_len, 0, NULL);
	const char *r = ev_json_str(b, "raw");

	snprintf(f->raw, sizeof(f->raw), "%s", r ? r : "");
	json_decref(b);
	return 0;
}

static void
test_pipeline(void)
{
	char dir[] = "/tmp/evident-unit-ingest.XXXXXX";
	char rulef[600], data[600], cmd[700];

	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct ev_rules *rules = NULL;
	struct ev_ingest *p = NULL;
	struct ev_ingest_opts o;
	struct ev_ingest_stats st;
	struct seqcheck sc = { 0 };
	struct ev_query q = { 0 };
	struct find_raw fr = { 0 };
	const char *paths[1];
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(rulef, sizeof(rulef), "%s/r.yml", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	f = fopen(rulef, "w");
	fputs("title: Needle\nid: needle-rule\nlogsource:\n    product: linux\n"
	      "detection:\n    keywords:\n        - 'needle'\n    condition: keywords\n"
	      "level: high\n",
	    f);
	fclose(f);
	paths[0] = rulef;
	CHECK(ev_ledger_init(data, "test.example/evident", &err) == EV_OK, "init a ledger");
	CHECK(ev_ledger_open(data, EV_LEDGER_NOKEY, &l, &err) == EV_OK, "open it");
	CHECK(ev_rules_load(paths, 1, NULL, NULL, &rules, &err) == EV_OK && rules,
	    "load one rule: %s", err.msg);
	memset(&o, 0, sizeof(o));
	o.rules = rules;
	o.batch = 7;
	ev_ingest_new(l, &o, &p, &err);
	for (int i = 0; i < 20; i++) {
		char line[100];
		snprintf(line, sizeof(line), "Nov 24 10:00:%02d h app[1]: line %d%s", i, i,
		    i == 13 ? " with the needle" : "");
		ev_ingest_line(p, "unit", line, strlen(line), &err);
	}
	/* Pending is queued + in flight: the second batch of 7 may still be committing. */
	CHECK(ev_ingest_pending(p) == 20 - 14 || ev_ingest_pending(p) == 20 - 7,
	    "batches of 7 flushed on their own (%zu pending)", ev_ingest_pending(p));
	CHECK(ev_ingest_flush(p, &err) == EV_OK, "flush the rest");
	ev_ingest_get_stats(p, &st);
	CHECK(st.lines == 20 && st.parsed == 20 && st.alerts == 1 && st.batches == 3,
	    "stats: %llu lines, %llu alerts, %llu batches", (unsigned long long)st.lines,
	    (unsigned long long)st.alerts, (unsigned long long)st.batches);
	ev_ledger_scan(l, &q, scan_cb, &sc, &err);
	CHECK(sc.alerts == 1 && sc.alert_seq == sc.alert_log_seq + 1,
	    "the alert follows its line (alert %llu, line %llu)", (unsigned long long)sc.alert_seq,
	    (unsigned long long)sc.alert_log_seq);
	ev_ledger_get(l, sc.alert_log_seq, raw_cb, &fr, &err);
	CHECK(strstr(fr.raw, "line 13 with the needle") != NULL,
	    "log_seq names the line that raised it: %s", fr.raw);
	CHECK(sc.alert_seq == st.last_seq - 6, "seqs as predicted: 1 registration + 20 lines + 1 alert");

	/* A line queued after the flush waits for the next one. */
	ev_ingest_line(p, "unit", "Nov 24 10:01:00 h app[1]: kept", 30, &err);
	CHECK(ev_ingest_pending(p) == 1, "a line below the batch size waits in the queue");
	CHECK(ev_ingest_flush(p, &err) == EV_OK && ev_ingest_pending(p) == 0,
	    "then it is written");
	ev_ingest_free(p);
	ev_rules_free(rules);
	ev_ledger_close(l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
}

static void
test_duration(void)
{
	int64_t us = 0;

	CHECK(ev_alerts_parse_duration("4h", &us) == 0 && us == 4LL * 3600 * 1000000, "4h");
	CHECK(ev_alerts_parse_duration("90", &us) == 0 && us == 90LL * 1000000, "90 seconds");
	CHECK(ev_alerts_parse_duration("30m", &us) == 0 && us == 1800LL * 1000000, "30m");
	CHECK(ev_alerts_parse_duration("0h", &us) != 0, "zero refused");
	CHECK(ev_alerts_parse_duration("4hours", &us) != 0, "junk refused");
	CHECK(ev_alerts_parse_duration("-1h", &us) != 0, "negative refused");
}

int
main(void)
{
	test_json_str();
	test_lines();
	test_pipeline();
	test_duration();
	UNIT_END();
}
