/*
 * cmd_verify.c - `evident verify`: recompute every leaf hash, the whole tree,
 * every checkpoint's root and signature.  Exit 0 when intact, 3 with a line
 * naming the first bad entry or checkpoint otherwise.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "util/buf.h"

static void
progress(uint64_t done, uint64_t total, void *arg)
{
	(void)arg;
	ev_cli_progress("verify", done, total);
}

int
cmd_verify(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_verify_stats st;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct timespec t0, t1;
	int npos, status, rc;
	double secs;

	if (ev_cli_parse(cli, argc, argv, NULL, "evident verify [--json] [--quiet]", &npos,
		&status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (ev_cli_open(cli, EV_LEDGER_READONLY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ev_ledger_verify(l, ev_cli_progress_wanted(cli) ? progress : NULL, NULL, &st, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ev_ledger_close(l);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (cli->json) {
		struct ev_buf b = EV_BUF_INIT;
		ev_buf_addf(&b, "{\"ok\":%s,\"entries\":%llu,\"checkpoints\":%llu,\"leaf_bytes\":%llu,"
				"\"seconds\":%.3f",
		    rc == EV_OK ? "true" : "false", (unsigned long long)st.entries,
		    (unsigned long long)st.checkpoints, (unsigned long long)st.leaf_bytes, secs);
		if (rc != EV_OK) {
			ev_buf_adds(&b, ",\"error\":");
			ev_buf_add_json_str(&b, err.msg, strlen(err.msg));
		}
		ev_buf_adds(&b, "}\n");
		fputs(b.p, stdout);
		ev_buf_free(&b);
	}
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	if (!cli->json)
		printf("ok: %llu entries and %llu checkpoints verified in %.2f s\n",
		    (unsigned long long)st.entries, (unsigned long long)st.checkpoints, secs);
	return 0;
}
