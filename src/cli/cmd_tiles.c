/*
 * cmd_tiles.c - `evident tiles export DIR`: the ledger as a static C2SP
 * tlog-tiles mirror (checkpoint, tile/L/N[.p/W], tile/entries/N[.p/W]) that
 * any web server can serve and any tlog client can check, or that can be
 * copied to an assessor.  Later runs add only what is new.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void
progress(uint64_t done, uint64_t total, void *arg)
{
	struct ev_cli *cli = arg;

	if (ev_cli_progress_wanted(cli))
		ev_cli_progress("tiles", done, total);
}

int
cmd_tiles(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct ev_tiles_stats st;
	int npos, status, rc;

	if (ev_cli_parse(cli, argc, argv, NULL, "evident tiles export DIR", &npos, &status))
		return status;
	if (npos < 1)
		return ev_cli_usage(cli, "missing subcommand: export DIR");
	if (strcmp(argv[1], "export") != 0)
		return ev_cli_usage(cli, "unknown subcommand '%s' (export)", argv[1]);
	if (npos != 2)
		return ev_cli_usage(cli, "tiles export takes one directory");
	if (ev_cli_open(cli, EV_LEDGER_READONLY | EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_ledger_tiles_export(l, argv[2], progress, cli, &st, &err);
	ev_ledger_close(l);
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	if (cli->json)
		printf("{\"size\":%llu,\"written\":%llu,\"kept\":%llu}\n", (unsigned long long)st.size,
		    (unsigned long long)st.written, (unsigned long long)st.kept);
	else
		printf("exported the tree of size %llu to %s: %llu files written, %llu already there\n",
		    (unsigned long long)st.size, argv[2], (unsigned long long)st.written,
		    (unsigned long long)st.kept);
	return 0;
}
