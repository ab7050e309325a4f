/*
 * test_compliance.c - the shipped catalogue and default mapping: every row
 * of clauses 7.9 (7.9.1-7.9.5), 7.10 and 7.11 maps to at least one control
 * with at least one evidence query (this test fails on an unmapped row);
 * mapping checks; and the index on a real ledger at chosen dates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compliance/compliance.h"
#include "registers/registers.h"
#include "unit.h"
#include "util/json.h"
#include "util/timeutil.h"

static const char *
root(void)
{
	const char *r = getenv("EVIDENT_ROOT");
	return r ? r : ".";
}

static int
in_scope(const char *clause)
{
	return strcmp(clause, "7.9") == 0 || strncmp(clause, "7.9.", 4) == 0 ||
	    strcmp(clause, "7.10") == 0 || strcmp(clause, "7.11") == 0;
}

static void
shipped_mapping(void)
{
	struct ev_compliance *c = NULL;
	struct ev_err err = { 0 };
	char dir[4096];
	const json_t *cat, *row;
	json_t *reqs, *controls, *u;
	size_t i, j, n79 = 0, bad = 0;

	snprintf(dir, sizeof(dir), "%s/compliance", root());
	CHECK(ev_compliance_load(dir, NULL, &c, &err) == EV_OK, "shipped catalogue and mapping load (%s)",
	    err.msg);
	if (c == NULL)
		return;
	cat = ev_compliance_catalogue(c);
	CHECK(json_array_size(cat) == 119, "the catalogue has 119 requirements (got %zu)",
	    json_array_size(cat));
	reqs = json_object_get(ev_compliance_mapping(c), "requirements");
	controls = json_object_get(ev_compliance_mapping(c), "controls");
	json_array_foreach((json_t *)cat, i, row) {
		const char *id = ev_json_str(row, "id");
		json_t *m = json_object_get(reqs, id), *x;
		int ok = 0;
		if (!in_scope(ev_json_str(row, "clause")))
			continue;
		n79++;
		json_array_foreach(m, j, x) {
			json_t *ctl = json_object_get(controls, json_string_value(x)), *q;
			size_t k;
			json_array_foreach(json_object_get(ctl, "evidence"), k, q)
				if (json_array_size(json_object_get(q, "kinds")) > 0)
					ok = 1;
		}
		if (!ok) {
			bad++;
			printf("# unmapped in 7.9-7.11: %s\n", id);
		}
	}
	CHECK(n79 == 43, "43 rows in clauses 7.9-7.11 (got %zu)", n79);
	CHECK(bad == 0, "every 7.9/7.10/7.11 row has a control with an evidence query (%zu do not)",
	    bad);
	u = ev_compliance_unmapped(c);
	CHECK(json_array_size(u) == 0, "no catalogue row is unmapped (%zu are)", json_array_size(u));
	json_decref(u);
	ev_compliance_free(c);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void
bad_mappings(const char *tmp)
{
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "controls: {}\nrequirements: {NOPE-1: [X]}\n", "not in the catalogue" },
		{ "controls:\n  A: {narrative: n, owner: o, verification: v, evidence: []}\n"
		  "requirements: {}\n", "needs an evidence list" },
		{ "controls:\n  A: {owner: o, verification: v, evidence: [{kinds: [a.b]}]}\n"
		  "requirements: {}\n", "needs 'narrative'" },
		{ "controls:\n  A: {narrative: n, owner: o, verification: v, evidence: [{kinds: [A.B]}]}\n"
		  "requirements: {}\n", "is not an entry kind" },
		{ "controls:\n  A: {narrative: n, owner: o, verification: v, evidence: [{kinds: [a.b], "
		  "cadence: P1X}]}\nrequirements: {}\n", "cadence 'P1X'" },
		{ "controls:\n  A: &x {narrative: n, owner: o, verification: v, evidence: [{kinds: [a]}]}\n"
		  "  B: *x\nrequirements: {}\n", "aliases are not supported" },
		{ "controls:\n  A: {narrative: n, owner: o, verification: v, evidence: [{kinds: [a]}]}\n"
		  "requirements: {C7.11-a: {not_applicable: \"\"}}\n", "not_applicable needs the reason" },
		{ "- a list\n", "top level must be a mapping" },
		{ "controls: [\n", "YAML" },
	};
	char src[4096], path[4096], cmd[8192];

	snprintf(src, sizeof(src), "%s/compliance/requirements.tsv", root());
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/requirements.tsv'", src, tmp);
	CHECK(system(cmd) == 0, "catalogue copied");
	snprintf(path, sizeof(path), "%s/controls.yaml", tmp);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_compliance *c = NULL;
		struct ev_err err = { 0 };
		write_file(path, cases[i].yaml);
		int rc = ev_compliance_load(tmp, NULL, &c, &err);
		CHECK(rc == EV_EINVAL && strstr(err.msg, cases[i].want) != NULL,
		    "bad mapping %zu refused: '%s' (got: %s)", i, cases[i].want, err.msg);
		ev_compliance_free(c);
	}
	write_file(path, "controls: {}\nrequirements: {}\n");
	snprintf(path, sizeof(path), "%s/requirements.tsv", tmp);
	write_file(path, "id\tclause\ttopic\trequirement\tevidence\tcadence\tsource\n"
			 "X-1\t7.1\tt\tr\te\t\ts\nX-1\t7.1\tt\tr\te\t\ts\n");
	struct ev_compliance *c = NULL;
	struct ev_err err = { 0 };
	CHECK(ev_compliance_load(tmp, NULL, &c, &err) == EV_EINVAL && strstr(err.msg, ":3: duplicate id X-1"),
	    "a duplicate catalogue id is refused with its line (%s)", err.msg);
	write_file(path, "id\tclause\ttopic\n");
	CHECK(ev_compliance_load(tmp, NULL, &c, &err) == EV_EINVAL && strstr(err.msg, "columns"),
	    "a short header is refused (%s)", err.msg);
}

static const char *
status_of(json_t *idx, const char *id)
{
	json_t *r;
	size_t i;
	json_array_foreach(json_object_get(idx, "requirements"), i, r)
		if (strcmp(ev_json_str(r, "id"), id) == 0)
			return ev_json_str(r, "status");
	return "?";
}

static void
index_on_ledger(const char *tmp)
{
	struct ev_compliance *c = NULL;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	char dir[4096], data[4096];
	json_t *idx = NULL, *body;
	const struct ev_register *r = ev_registers_find("securitytest");
	int64_t now = ev_time_now_us(), day = 86400LL * 1000000;

	snprintf(dir, sizeof(dir), "%s/compliance", root());
	snprintf(data, sizeof(data), "%s/data", tmp);
	CHECK(ev_compliance_load(dir, NULL, &c, &err) == EV_OK, "mapping loads");
	CHECK(ev_ledger_init(data, "test.example/evident", &err) == EV_OK && ev_ledger_open(data, 0, &l, &err) == EV_OK,
	    "ledger created (%s)", err.msg);
	if (l == NULL || c == NULL)
		return;
	body = json_pack("{s:s,s:s,s:s}", "type", "vulnerability-scan", "scope", "all", "result", "ok");
	CHECK(ev_registers_record(l, r, ev_registers_action(r, "record"), NULL, "unit", body, NULL,
	    NULL, &err) == EV_OK, "a scan recorded (%s)", err.msg);
	json_decref(body);
	CHECK(ev_compliance_index(l, c, now + 10 * day, &idx, &err) == EV_OK, "index at +10 d");
	CHECK(strcmp(status_of(idx, "REQ-7.8-14"), "evidenced") == 0, "scan evidenced at +10 d");
	CHECK(strcmp(status_of(idx, "C7.11-c"), "missing") == 0, "no backup: C7.11-c missing");
	json_decref(idx);
	CHECK(ev_compliance_index(l, c, now + 93 * day, &idx, &err) == EV_OK, "index at +93 d");
	CHECK(strcmp(status_of(idx, "REQ-7.8-14"), "missing") == 0, "scan missing at +93 d");
	CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(idx, "summary"),
	    "total"), "total")) == 119, "summary totals every requirement");
	json_decref(idx);
	CHECK(ev_compliance_index(l, c, now - day, &idx, &err) == EV_OK, "index yesterday");
	CHECK(strcmp(status_of(idx, "REQ-7.8-14"), "missing") == 0,
	    "evidence recorded later does not count for an earlier date");
	json_decref(idx);
	ev_ledger_close(l);
	ev_compliance_free(c);
}

int
main(void)
{
	char tmp[] = "/tmp/evident-unit-compliance.XXXXXX", cmd[256];

	if (mkdtemp(tmp) == NULL)
		return 1;
	shipped_mapping();
	bad_mappings(tmp);
	index_on_ledger(tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp);
	UNIT_END();
}
