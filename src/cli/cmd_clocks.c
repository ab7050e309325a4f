/*
 * cmd_clocks.c - `evident clocks`: the regulatory clocks of every incident,
 * evaluated now or at --now T; `--raise` runs one scheduler pass
 * (ev_clocks_tick: alerts and webhook deliveries, the same function the
 * server runs periodically); `--list` shows the clock profiles loaded.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "incident/incident.h"
#include "registers/registers.h"
#include "util/json.h"
#include "util/timeutil.h"

static int
seconds(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (s == NULL)
		return 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int
list_profiles(struct ev_cli *cli, const char *clocks_dir)
{
	struct ev_profiles *p = NULL;
	struct ev_err err = { 0 };
	char dir[4096];
	const json_t *c;
	size_t i;

	if (ev_profiles_load(ev_profiles_default_dir(clocks_dir, dir, sizeof(dir)), &p, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (cli->json) {
		char *s = json_dumps(ev_profiles_clocks(p), JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			puts(s);
		free(s);
	} else {
		printf("profiles from %s\n", dir);
		json_array_foreach((json_t *)ev_profiles_clocks(p), i, c)
			printf("%-24s %-8s %-6s %-24s %s (%s %s)\n", ev_json_str(c, "name"),
			    ev_json_str(c, "duration"), ev_json_str(c, "basis"),
			    ev_json_str(c, "condition"), ev_json_str(c, "title"),
			    ev_json_str(c, "profile"), ev_json_str(c, "version"));
	}
	ev_profiles_free(p);
	return 0;
}

int
cmd_clocks(struct ev_cli *cli, int argc, char **argv)
{
	const char *now_s = NULL, *soon_s = NULL, *tries_s = NULL, *backoff_s = NULL;
	const char *timeout_s = NULL, *clocks_dir = NULL;
	struct ev_strv hooks = { NULL, 0 };
	int all = 0, raise = 0, list = 0, npos, status, rc = 0;
	int64_t now = ev_time_now_us(), soon = 0;
	struct ev_clock_config cfg = { NULL, 0, 3, 1.0, 10000, 0 };
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *clocks = NULL, *v;
	size_t i;
	uint64_t n;
	double d;
	const struct ev_opt opts[] = {
		{ "now", "T", "evaluate at T instead of now", &now_s, NULL, NULL },
		{ "all", NULL, "include stopped clocks", NULL, &all, NULL },
		{ "due-soon", "D", "due-soon window for every clock (ISO 8601, e.g. PT6H); default "
				   "per clock, 25% of its duration",
		    &soon_s, NULL, NULL },
		{ "raise", NULL, "raise clock.due / clock.overdue alerts and deliver them", NULL,
		    &raise, NULL },
		{ "webhook", "URL", "POST alerts to URL (with --raise); repeatable", NULL, NULL, &hooks },
		{ "webhook-tries", "N", "delivery attempts per pass (default 3)", &tries_s, NULL, NULL },
		{ "webhook-backoff", "S", "seconds before the 2nd attempt, doubled after (default 1)",
		    &backoff_s, NULL, NULL },
		{ "webhook-timeout", "S", "seconds per request (default 10)", &timeout_s, NULL, NULL },
		{ "list", NULL, "list the clock definitions of the profiles", NULL, &list, NULL },
		{ "clocks", "DIR", "profile directory (with --list)", &clocks_dir, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident clocks [--now T] [--all] [--due-soon D] [--json]\n"
		"       evident clocks --raise [--now T] [--webhook URL...] [--webhook-tries N] "
		"[--webhook-backoff S] [--webhook-timeout S]\n"
		"       evident clocks --list [--clocks DIR]",
		&npos, &status)) {
		free(hooks.v);
		return status;
	}
	if (npos) {
		rc = ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
		goto out;
	}
	if (list) {
		rc = list_profiles(cli, clocks_dir);
		goto out;
	}
	if (now_s && (rc = ev_cli_time(cli, "now", now_s, &now)) != 0)
		goto out;
	if (soon_s && (ev_duration_add(0, soon_s, &soon) != 0 || soon <= 0)) {
		rc = ev_cli_usage(cli, "--due-soon must be an ISO 8601 duration (PT6H)");
		goto out;
	}
	if (hooks.n && !raise) {
		rc = ev_cli_usage(cli, "--webhook delivers alerts: it needs --raise");
		goto out;
	}
	if (tries_s && (ev_cli_u64(tries_s, &n) != 0 || n < 1 || n > 10)) {
		rc = ev_cli_usage(cli, "--webhook-tries must be 1 to 10");
		goto out;
	}
	if (tries_s)
		cfg.tries = (unsigned)n;
	if (seconds(backoff_s, 0.0, 600.0, &cfg.backoff) != 0) {
		rc = ev_cli_usage(cli, "--webhook-backoff must be 0 to 600 seconds");
		goto out;
	}
	d = 10;
	if (seconds(timeout_s, 0.1, 600.0, &d) != 0) {
		rc = ev_cli_usage(cli, "--webhook-timeout must be 0.1 to 600 seconds");
		goto out;
	}
	cfg.timeout_ms = (long)(d * 1000);
	cfg.webhooks = hooks.v;
	cfg.nwebhooks = hooks.n;
	cfg.due_soon_us = soon;
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (raise) {
		unsigned raised = 0, delivered = 0;
		unsigned vraised = 0;
		if (ev_clocks_tick(l, now, &cfg, &raised, &delivered, &err) != EV_OK ||
		    ev_registers_vuln_tick(l, now, &vraised, &err) != EV_OK) {
			rc = ev_cli_fail(cli, &err);
			goto out;
		}
		raised += vraised;
		if (cli->json)
			printf("{\"delivered\":%u,\"raised\":%u}\n", delivered, raised);
		else
			printf("%u alert%s raised, %u deliver%s\n", raised, raised == 1 ? "" : "s",
			    delivered, delivered == 1 ? "y" : "ies");
		goto out;
	}
	if (ev_clocks_list(l, now, soon, all, &clocks, &err) != EV_OK ||
	    ev_registers_vuln_clocks_append(l, now, all, clocks, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		json_t *arr = json_array();
		char *s;
		json_array_foreach(clocks, i, v)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "incident",
			    ev_json_str(v, "incident"), "clock", ev_json_str(v, "clock"), "started",
			    ev_json_str(v, "started"), "due", ev_json_str(v, "due"), "state",
			    ev_json_str(v, "state")));
		s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s)
			puts(s);
		free(s);
		json_decref(arr);
	} else {
		json_array_foreach(clocks, i, v)
			printf("%s\t%s\t%s\tdue %s\t%s\n", ev_json_str(v, "incident"),
			    ev_json_str(v, "clock"), ev_json_str(v, "state"), ev_json_str(v, "due"),
			    ev_json_str(v, "title"));
	}
out:
	json_decref(clocks);
	ev_ledger_close(l);
	free(hooks.v);
	return rc;
}
