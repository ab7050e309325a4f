/*
 * cmd_alerts.c - `evident alerts`: what the alarm rules raised, and its
 * follow-up by trusted-role staff (EN 319 401 7.9.1).
 *
 *   alerts [--open] [--json]
 *   alerts ack ID --by NAME --disposition false-positive|benign|escalated --note TEXT
 *   alerts followup [--now T] [--followup-after DURATION]
 *
 * ack refuses an unknown alert (exit 2) and an acknowledged one (exit 2,
 * naming who acknowledged it and when).  followup raises one follow-up alert
 * per alert left open longer than the delay (default 4h, or
 * $EVIDENT_FOLLOWUP_AFTER); run again it raises none for the same alerts.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts.h"
#include "cli/cli.h"
#include "util/timeutil.h"

static json_t *
alert_json(const struct ev_alert *a)
{
	json_t *o = json_object();
	char t[EV_TIME_STRLEN];

	ev_time_format(a->raised_us, t);
	json_object_set_new(o, "id", json_integer((json_int_t)a->id));
	json_object_set_new(o, "raised", json_string(t));
	json_object_set_new(o, "rule", json_string(a->rule ? a->rule : ""));
	json_object_set_new(o, "title", json_string(a->title ? a->title : ""));
	json_object_set_new(o, "severity", json_string(a->severity ? a->severity : ""));
	json_object_set_new(o, "source", a->source ? json_string(a->source) : json_null());
	json_object_set_new(o, "group", a->group ? json_string(a->group) : json_null());
	json_object_set_new(o, "why", json_string(a->why ? a->why : ""));
	json_object_set_new(o, "tags", json_loads(a->tags ? a->tags : "[]", 0, NULL));
	json_object_set_new(o, "log_seq", json_loads(a->log_seq ? a->log_seq : "[]", 0, NULL));
	json_object_set_new(o, "followup_of",
	    a->followup_of ? json_integer((json_int_t)a->followup_of) : json_null());
	json_object_set_new(o, "followup",
	    a->followup_id ? json_integer((json_int_t)a->followup_id) : json_null());
	json_object_set_new(o, "status", json_string(a->ack_seq ? "acknowledged" : "open"));
	if (a->ack_seq) {
		json_t *k = json_object();
		ev_time_format(a->ack_us, t);
		json_object_set_new(k, "seq", json_integer((json_int_t)a->ack_seq));
		json_object_set_new(k, "time", json_string(t));
		json_object_set_new(k, "by", json_string(a->ack_by ? a->ack_by : ""));
		json_object_set_new(k, "disposition",
		    json_string(a->disposition ? a->disposition : ""));
		json_object_set_new(k, "note", json_string(a->note ? a->note : ""));
		json_object_set_new(o, "ack", k);
	} else {
		json_object_set_new(o, "ack", json_null());
	}
	return o;
}

static int
json_cb(const struct ev_alert *a, void *arg)
{
	json_array_append_new(arg, alert_json(a));
	return 0;
}

static int
text_cb(const struct ev_alert *a, void *arg)
{
	char t[EV_TIME_STRLEN];

	ev_time_format(a->raised_us, t);
	printf("%-8llu %s  %-13s %-10s %-36s %s", (unsigned long long)a->id, t,
	    a->ack_seq ? (a->disposition ? a->disposition : "acknowledged") : "OPEN",
	    a->severity ? a->severity : "", a->rule ? a->rule : "", a->title ? a->title : "");
	if (a->source)
		printf(" [%s]", a->source);
	putchar('\n');
	return 0;
}

static int
alerts_list(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	int open_only = 0, npos, status, rc;
	const struct ev_opt opts[] = {
		{ "open", NULL, "only alerts nobody acknowledged yet", NULL, &open_only, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident alerts [--open] [--json]\n"
		"       evident alerts ack ID --by NAME --disposition D --note TEXT\n"
		"       evident alerts followup [--now T] [--followup-after DURATION]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unknown subcommand '%s' (ack, followup, or none to list)",
		    argv[1]);
	if (ev_cli_open(cli, EV_LEDGER_READONLY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (cli->json) {
		json_t *arr = json_array();
		rc = ev_alerts_list(l, open_only, json_cb, arr, &err);
		if (rc == EV_OK) {
			json_t *o = json_object();
			char *s;
			json_object_set_new(o, "alerts", arr);
			s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(o);
		} else {
			json_decref(arr);
		}
	} else {
		rc = ev_alerts_list(l, open_only, text_cb, NULL, &err);
	}
	ev_ledger_close(l);
	return rc == EV_OK ? 0 : ev_cli_fail(cli, &err);
}

static int
alerts_ack(struct ev_cli *cli, int argc, char **argv)
{
	const char *by = NULL, *disp = NULL, *note = NULL;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	uint64_t id, seq = 0;
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "by", "NAME", "who followed the alert up (trusted role)", &by, NULL, NULL },
		{ "disposition", "D", "false-positive, benign or escalated", &disp, NULL, NULL },
		{ "note", "TEXT", "what was checked and why this disposition", &note, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident alerts ack ID --by NAME --disposition false-positive|benign|escalated "
		"--note TEXT",
		&npos, &status))
		return status;
	if (npos != 1)
		return ev_cli_usage(cli, "alerts ack needs exactly one alert ID");
	if (ev_cli_u64(argv[1], &id) != 0 || id == 0)
		return ev_cli_usage(cli, "alert ID '%s' is not a positive number", argv[1]);
	if (!by || !disp || !note)
		return ev_cli_usage(cli, "alerts ack needs --by, --disposition and --note");
	if (!ev_alerts_disposition_ok(disp))
		return ev_cli_usage(cli,
		    "--disposition '%s' is not one of false-positive, benign, escalated", disp);
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_alerts_ack(l, id, by, disp, note, ev_cli_default_actor(cli), &seq, &err);
	ev_ledger_close(l);
	if (rc == EV_ENOTFOUND || rc == EV_ESTATE)
		err.code = EV_EINVAL; /* bad input from the caller: exit 2 */
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	if (cli->json)
		printf("{\"alert\":%llu,\"seq\":%llu}\n", (unsigned long long)id,
		    (unsigned long long)seq);
	else
		printf("%llu\n", (unsigned long long)seq);
	return 0;
}

/* --followup-after, else $EVIDENT_FOLLOWUP_AFTER, else 4h. */
static int
followup_after(struct ev_cli *cli, const char *opt, int64_t *us)
{
	const char *env = getenv("EVIDENT_FOLLOWUP_AFTER");

	*us = EV_ALERTS_FOLLOWUP_DEFAULT_US;
	if (opt == NULL && env && *env) {
		if (ev_alerts_parse_duration(env, us) != 0)
			return ev_cli_usage(cli, "EVIDENT_FOLLOWUP_AFTER '%s' is not a duration "
						 "(4h, 30m, 90s, 2d)",
			    env);
		return 0;
	}
	if (opt && ev_alerts_parse_duration(opt, us) != 0)
		return ev_cli_usage(cli, "--followup-after '%s' is not a duration (4h, 30m, 90s, 2d)",
		    opt);
	return 0;
}

struct fu_print {
	struct ev_cli *cli;
};

static void
fu_cb(uint64_t id, uint64_t fid, void *arg)
{
	struct fu_print *f = arg;

	if (!f->cli->json)
		printf("alert %llu: follow-up alert %llu raised\n", (unsigned long long)id,
		    (unsigned long long)fid);
}

static int
alerts_followup(struct ev_cli *cli, int argc, char **argv)
{
	const char *now_s = NULL, *after_s = NULL;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct fu_print fp = { cli };
	int64_t now, after;
	size_t raised = 0;
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "now", "T", "the time to judge by (default: the clock)", &now_s, NULL, NULL },
		{ "followup-after", "DURATION",
		    "open this long gets a follow-up (default 4h or $EVIDENT_FOLLOWUP_AFTER)", &after_s,
		    NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident alerts followup [--now T] [--followup-after DURATION]", &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if ((rc = followup_after(cli, after_s, &after)) != 0)
		return rc;
	now = ev_time_now_us();
	if (now_s && (rc = ev_cli_time(cli, "now", now_s, &now)) != 0)
		return rc;
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_alerts_followup(l, now, after, &raised, fu_cb, &fp, &err);
	ev_ledger_close(l);
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	if (cli->json)
		printf("{\"raised\":%zu}\n", raised);
	else
		printf("%zu follow-up alerts raised\n", raised);
	return 0;
}

int
cmd_alerts(struct ev_cli *cli, int argc, char **argv)
{
	const char *sub;

	ev_cli_leading_flags(cli, &argc, &argv);
	sub = argc > 1 ? argv[1] : NULL;

	if (sub && strcmp(sub, "ack") == 0)
		return alerts_ack(cli, argc - 1, argv + 1);
	if (sub && strcmp(sub, "followup") == 0)
		return alerts_followup(cli, argc - 1, argv + 1);
	if (sub && strcmp(sub, "list") == 0)
		return alerts_list(cli, argc - 1, argv + 1);
	return alerts_list(cli, argc, argv);
}
