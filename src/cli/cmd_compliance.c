/*
 * cmd_compliance.c - `evident compliance` (the requirement index: control,
 * owner, latest evidence and status of every EN 319 401 requirement, with
 * a summary by clause) and `evident cadence` (done, due and overdue
 * evidence of every control with a cadence; --raise alerts overdue items
 * once per item and period).  Both read the catalogue and mapping from
 * --compliance DIR, $EVIDENT_COMPLIANCE, ../compliance next to the binary
 * or /usr/share/evident/compliance.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "compliance/compliance.h"
#include "util/json.h"
#include "util/timeutil.h"

static void
print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (s)
		puts(s);
	free(s);
}

static int
load(struct ev_cli *cli, const char *dir_opt, const char *mapping, struct ev_compliance **c)
{
	struct ev_err err = { 0 };
	char dir[4096];

	if (ev_compliance_load(ev_compliance_default_dir(dir_opt, dir, sizeof(dir)), mapping, c,
		&err) != EV_OK)
		return ev_cli_fail(cli, &err);
	return 0;
}

int
cmd_compliance(struct ev_cli *cli, int argc, char **argv)
{
	const char *now_s = NULL, *dir = NULL, *mapping = NULL, *clause = NULL;
	int npos, status, rc = 0, unmapped = 0;
	int64_t now = ev_time_now_us();
	struct ev_compliance *c = NULL;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *idx = NULL, *r;
	size_t i;
	const struct ev_opt opts[] = {
		{ "now", "T", "evaluate at T instead of now", &now_s, NULL, NULL },
		{ "clause", "C", "only requirements of clause C (7.9 includes 7.9.1 ...)", &clause,
		    NULL, NULL },
		{ "compliance", "DIR", "catalogue and mapping directory", &dir, NULL, NULL },
		{ "mapping", "FILE", "control mapping (default DIR/controls.yaml)", &mapping, NULL,
		    NULL },
		{ "unmapped", NULL, "only list requirements without a control or evidence query "
				    "(exit 1 when there are any)", NULL, &unmapped, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident compliance [--now T] [--clause C] [--compliance DIR] [--mapping FILE] "
		"[--unmapped] [--json]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (now_s && (rc = ev_cli_time(cli, "now", now_s, &now)) != 0)
		return rc;
	if ((rc = load(cli, dir, mapping, &c)) != 0)
		return rc;
	if (unmapped) {
		json_t *u = ev_compliance_unmapped(c), *v;
		if (cli->json)
			print_json(u);
		else
			json_array_foreach(u, i, v)
				puts(json_string_value(v));
		rc = json_array_size(u) ? 1 : 0;
		json_decref(u);
		ev_compliance_free(c);
		return rc;
	}
	if (ev_cli_open(cli, EV_LEDGER_READONLY | EV_LEDGER_NOKEY, &l, &err) != EV_OK ||
	    ev_compliance_index(l, c, now, &idx, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (clause) {
		json_t *keep = json_array();
		size_t cl = strlen(clause);
		json_array_foreach(json_object_get(idx, "requirements"), i, r) {
			const char *rc_ = ev_json_str(r, "clause");
			if (strncmp(rc_, clause, cl) == 0 && (rc_[cl] == '\0' || rc_[cl] == '.'))
				json_array_append(keep, r);
		}
		json_object_set_new(idx, "requirements", keep);
	}
	if (cli->json) {
		print_json(idx);
	} else {
		json_t *tot = json_object_get(json_object_get(idx, "summary"), "total");
		json_array_foreach(json_object_get(idx, "requirements"), i, r) {
			const char *st = ev_json_str(r, "status");
			printf("%-12s %-7s %-15s %-22s %-24s %s\n", ev_json_str(r, "id"),
			    ev_json_str(r, "clause"), st,
			    ev_json_str(r, "control") ? ev_json_str(r, "control") : "-",
			    ev_json_str(r, "owner") ? ev_json_str(r, "owner") : "-",
			    strcmp(st, "not-applicable") == 0 ? ev_json_str(r, "reason")
			    : ev_json_str(r, "latest")       ? ev_json_str(r, "latest")
			    : strcmp(st, "evidenced") == 0   ? "(no record needed yet: no trigger, or in grace)"
							     : "");
		}
		printf("total %lld: %lld evidenced, %lld stale, %lld missing, %lld not applicable, "
		       "%lld unmapped\n",
		    (long long)json_integer_value(json_object_get(tot, "total")),
		    (long long)json_integer_value(json_object_get(tot, "evidenced")),
		    (long long)json_integer_value(json_object_get(tot, "stale")),
		    (long long)json_integer_value(json_object_get(tot, "missing")),
		    (long long)json_integer_value(json_object_get(tot, "not-applicable")),
		    (long long)json_integer_value(json_object_get(tot, "unmapped")));
	}
out:
	json_decref(idx);
	ev_ledger_close(l);
	ev_compliance_free(c);
	return rc;
}

int
cmd_cadence(struct ev_cli *cli, int argc, char **argv)
{
	const char *now_s = NULL, *dir = NULL, *mapping = NULL;
	int npos, status, rc = 0, raise = 0;
	int64_t now = ev_time_now_us();
	struct ev_compliance *c = NULL;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *items = NULL, *it;
	unsigned raised = 0;
	size_t i;
	const struct ev_opt opts[] = {
		{ "now", "T", "evaluate at T instead of now", &now_s, NULL, NULL },
		{ "raise", NULL, "raise a cadence alert for each overdue item (once per period)", NULL,
		    &raise, NULL },
		{ "compliance", "DIR", "catalogue and mapping directory", &dir, NULL, NULL },
		{ "mapping", "FILE", "control mapping (default DIR/controls.yaml)", &mapping, NULL,
		    NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident cadence [--now T] [--raise] [--compliance DIR] [--mapping FILE] [--json]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (now_s && (rc = ev_cli_time(cli, "now", now_s, &now)) != 0)
		return rc;
	if ((rc = load(cli, dir, mapping, &c)) != 0)
		return rc;
	if (ev_cli_open(cli, raise ? EV_LEDGER_NOKEY : EV_LEDGER_READONLY | EV_LEDGER_NOKEY, &l,
		&err) != EV_OK ||
	    (raise && ev_cadence_raise(l, c, now, &raised, &err) != EV_OK) ||
	    ev_cadence_list(l, c, now, &items, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		if (raise) {
			json_t *o = json_pack("{s:O,s:i}", "items", items, "raised", (int)raised);
			print_json(o);
			json_decref(o);
		} else {
			print_json(items);
		}
	} else {
		json_array_foreach(items, i, it)
			printf("%-26s %-8s %-13s last %-28s due %-28s %s\n", ev_json_str(it, "item"),
			    ev_json_str(it, "state"), ev_json_str(it, "cadence"),
			    ev_json_str(it, "last") ? ev_json_str(it, "last") : "never",
			    ev_json_str(it, "due") ? ev_json_str(it, "due") : "-",
			    ev_json_str(it, "owner"));
		if (raise)
			printf("%u alert%s raised\n", raised, raised == 1 ? "" : "s");
	}
out:
	json_decref(items);
	ev_ledger_close(l);
	ev_compliance_free(c);
	return rc;
}
