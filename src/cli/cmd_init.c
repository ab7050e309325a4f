/*
 * cmd_init.c - `evident init`: create the data directory, its store and the
 * installation's Ed25519 signing key.
 */
#include <stdio.h>

#include "cli/cli.h"

int
cmd_init(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_err err = { 0 };
	int npos, status;

	if (ev_cli_parse(cli, argc, argv, NULL, "evident init [--data DIR]", &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (cli->data_dir == NULL)
		cli->data_dir = "./evident-data";
	if (ev_ledger_init(cli->data_dir, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (cli->json)
		printf("{\"data\":\"%s\",\"initialised\":true}\n", cli->data_dir);
	else
		printf("initialised %s (ledger store and signing key %s/key.pem)\n", cli->data_dir,
		    cli->data_dir);
	return 0;
}
