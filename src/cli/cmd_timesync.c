/*
 * cmd_timesync.c - `evident timesync check` asks an NTP server (SNTP) or
 * chrony for the clock offset and records it (clock.synced), alerting when
 * it exceeds the threshold; `evident timesync status` checks that a sync
 * was recorded in the last 24 hours and alerts once per missed sync.
 * Exit status of check: 0 recorded within threshold, 1 recorded over the
 * threshold or no answer; of status: 0 recent sync, 1 none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "registers/registers.h"
#include "util/timeutil.h"

static int
threshold(struct ev_cli *cli, const char *s, double *ms)
{
	char *end;

	if (s == NULL)
		return 0;
	*ms = strtod(s, &end);
	if (end == s || *end || !(*ms > 0 && *ms <= 3600000))
		return ev_cli_usage(cli, "--threshold-ms must be 1 to 3600000");
	return 0;
}

static int
check(struct ev_cli *cli, int argc, char **argv)
{
	const char *server = NULL, *thr = NULL, *timeout = NULL;
	int chrony = 0, npos, status, rc, alerted = 0;
	double ms = EV_TIMESYNC_THRESHOLD_MS;
	uint64_t seq = 0, to = 5000;
	struct ev_timesync_result r;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	const struct ev_opt opts[] = {
		{ "server", "HOST:PORT", "ask this NTP server with SNTP (default: chrony when "
					 "installed, else $EVIDENT_NTP_SERVER or pool.ntp.org)",
		    &server, NULL, NULL },
		{ "chrony", NULL, "read chrony's state (chronyc -c tracking)", NULL, &chrony, NULL },
		{ "threshold-ms", "N", "alert above this offset (default 1000)", &thr, NULL, NULL },
		{ "timeout-ms", "N", "wait this long for the answer (default 5000)", &timeout, NULL,
		    NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident timesync check [--server HOST:PORT | --chrony] [--threshold-ms N] "
		"[--timeout-ms N] [--json]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if ((rc = threshold(cli, thr, &ms)) != 0)
		return rc;
	if (timeout && (ev_cli_u64(timeout, &to) != 0 || to < 1 || to > 60000))
		return ev_cli_usage(cli, "--timeout-ms must be 1 to 60000");
	if (server && chrony)
		return ev_cli_usage(cli, "--server and --chrony exclude each other");
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (chrony)
		rc = ev_timesync_chrony(&r, &err);
	else if (server)
		rc = ev_timesync_sntp(server, (long)to, &r, &err);
	else if ((rc = ev_timesync_chrony(&r, &err)) == EV_ENOTFOUND) {
		ev_err_clear(&err);
		rc = ev_timesync_sntp(ev_timesync_default_server(), (long)to, &r, &err);
	}
	if (rc != EV_OK) {
		char key[64];
		int64_t now = ev_time_now_us();
		/* A failed query is itself evidence: alert once per day. */
		snprintf(key, sizeof(key), "failed:%lld", (long long)(now / 86400000000LL));
		ev_registers_raise(l, "timesync", key, "high", "time synchronisation check failed",
		    err.msg, NULL, NULL, NULL);
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (ev_timesync_record(l, &r, ms, ev_cli_default_actor(cli), &seq, &alerted, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json)
		printf("{\"alerted\":%s,\"offset_ms\":%.3f,\"seq\":%llu,\"server\":\"%s\","
		       "\"stratum\":%d}\n",
		    alerted ? "true" : "false", r.offset_ms, (unsigned long long)seq, r.server,
		    r.stratum);
	else
		printf("%s %s: offset %.3f ms, stratum %d, recorded as entry %llu%s\n", r.source,
		    r.server, r.offset_ms, r.stratum, (unsigned long long)seq,
		    alerted ? " (over the threshold: alert raised)" : "");
	rc = alerted ? 1 : 0;
out:
	ev_ledger_close(l);
	return rc;
}

static int
status_cmd(struct ev_cli *cli, int argc, char **argv)
{
	const char *now_s = NULL, *age_s = NULL;
	int npos, status, rc, ok = 0, alerted = 0, no_raise = 0;
	int64_t now = ev_time_now_us(), last = 0, age = 0;
	uint64_t seq = 0;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	char t[EV_TIME_STRLEN] = "never";
	const struct ev_opt opts[] = {
		{ "now", "T", "evaluate at T instead of now", &now_s, NULL, NULL },
		{ "max-age", "DURATION", "longest gap allowed (default PT24H)", &age_s, NULL, NULL },
		{ "no-raise", NULL, "report only, raise no alert", NULL, &no_raise, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident timesync status [--now T] [--max-age DURATION] [--no-raise] [--json]", &npos,
		&status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (now_s && (rc = ev_cli_time(cli, "now", now_s, &now)) != 0)
		return rc;
	if (age_s) {
		char iso[48];
		if (ev_registers_duration_parse(age_s, iso, sizeof(iso), &age) != 0)
			return ev_cli_usage(cli, "--max-age must be a duration (PT24H, 12h)");
		age *= 1000000;
	}
	if (ev_cli_open(cli, no_raise ? EV_LEDGER_READONLY | EV_LEDGER_NOKEY : EV_LEDGER_NOKEY, &l,
		&err) != EV_OK ||
	    ev_timesync_status(l, now, age, !no_raise, &ok, &seq, &last, &alerted, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		ev_ledger_close(l);
		return rc;
	}
	ev_ledger_close(l);
	if (seq)
		ev_time_format(last, t);
	if (cli->json)
		printf("{\"alerted\":%s,\"last\":%s%s%s,\"last_seq\":%llu,\"ok\":%s}\n",
		    alerted ? "true" : "false", seq ? "\"" : "", seq ? t : "null", seq ? "\"" : "",
		    (unsigned long long)seq, ok ? "true" : "false");
	else
		printf("%s: last sync %s%s\n", ok ? "ok" : "STALE", t,
		    alerted ? " (alert raised)" : "");
	return ok ? 0 : 1;
}

int
cmd_timesync(struct ev_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return check(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return status_cmd(cli, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		puts("usage: evident timesync check [--server HOST:PORT | --chrony] [--threshold-ms N]\n"
		     "       evident timesync status [--now T] [--max-age DURATION]\n"
		     "\nEvery check is recorded as a clock.synced entry; an offset over the threshold\n"
		     "(default 1000 ms) or no sync in 24 hours raises a \"timesync\" alert.");
		return 0;
	}
	return ev_cli_usage(cli, "timesync check|status (see evident timesync --help)");
}
