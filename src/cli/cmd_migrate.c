/*
 * cmd_migrate.c - `evident migrate`: convert a data directory written by
 * evident before bundles and tiles (format 1) to format 2, in place or into
 * a new directory.  The root and every recorded checkpoint stay valid; the
 * command says so after verifying the result.  Safe to run again after an
 * interruption: it goes on where it stopped.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "ledger/note.h"
#include "util/enc.h"

static void
progress(uint64_t done, uint64_t total, void *arg)
{
	struct ev_cli *cli = arg;

	if (ev_cli_progress_wanted(cli))
		ev_cli_progress("migrate", done, total);
}

int
cmd_migrate(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_err err = { 0 };
	struct ev_migrate_result res;
	const char *to = NULL, *origin = NULL;
	char root[65];
	int npos, status;
	const struct ev_opt opts[] = {
		{ "to", "DIR", "write the converted ledger into DIR and leave the old one as it is",
		    &to, NULL, NULL },
		{ "origin", "NAME", "the ledger's name in its checkpoints (default HOSTNAME/evident)",
		    &origin, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident migrate [--to DIR] [--origin NAME]", &npos,
		&status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (origin && !ev_origin_valid(origin))
		return ev_cli_usage(cli,
		    "--origin '%s': use printable characters without spaces or '+'", origin);
	if (cli->data_dir == NULL)
		cli->data_dir = "./evident-data";
	if (ev_ledger_migrate(cli->data_dir, to, origin, progress, cli, &res, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	ev_hex_encode(res.root, 32, root);
	if (cli->json)
		printf("{\"already\":%s,\"resumed\":%s,\"entries\":%llu,\"checkpoints\":%llu,"
		       "\"root\":\"%s\"}\n",
		    res.already ? "true" : "false", res.resumed ? "true" : "false",
		    (unsigned long long)res.entries, (unsigned long long)res.checkpoints, root);
	else if (res.already)
		printf("%s is already in the current format: %llu entries, root %s\n",
		    to ? to : cli->data_dir, (unsigned long long)res.entries, root);
	else
		printf("migrated %s%s%s: %llu entries, root %s unchanged, %llu checkpoints verified\n",
		    cli->data_dir, to ? " to " : "", to ? to : "", (unsigned long long)res.entries,
		    root, (unsigned long long)res.checkpoints);
	return 0;
}
