/*
 * cmd_rebuild.c - `evident rebuild`: drop every projection and replay the
 * whole ledger through the projectors, in one transaction.  The result must
 * equal what the appends built incrementally; if a projector refuses an
 * entry on replay, nothing changes and the entry is named.
 */
#include <stdio.h>

#include "cli/cli.h"

int
cmd_rebuild(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	int npos, status, rc;
	uint64_t n = 0;
	const struct ev_opt opts[] = {
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident rebuild", &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_ledger_rebuild(l, &err);
	if (rc == EV_OK)
		rc = ev_ledger_size(l, &n, &err);
	ev_ledger_close(l);
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	if (!cli->quiet)
		fprintf(stderr, "evident: rebuild: %llu entries replayed\n", (unsigned long long)n);
	return 0;
}
