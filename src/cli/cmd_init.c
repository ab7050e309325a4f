/*
 * cmd_init.c - `evident init`: create the data directory, its store and the
 * installation's Ed25519 signing key, and name the ledger (its origin, the
 * first line of every checkpoint and the name in its verifier key).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ledger/note.h"
#include "util/buf.h"

int
cmd_init(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_err err = { 0 };
	const char *origin = NULL;
	char def[EV_ORIGIN_MAX + 1];
	int npos, status;
	const struct ev_opt opts[] = {
		{ "origin", "NAME",
		    "the ledger's name in its checkpoints and verifier key (default HOSTNAME/evident)",
		    &origin, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident init [--origin NAME] [--data DIR]", &npos,
		&status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (origin && !ev_origin_valid(origin))
		return ev_cli_usage(cli,
		    "--origin '%s': use 1 to %d printable characters without spaces or '+', such as "
		    "ca.example.com/evident",
		    origin, EV_ORIGIN_MAX);
	if (origin == NULL) {
		ev_origin_default(def);
		origin = def;
	}
	if (cli->data_dir == NULL)
		cli->data_dir = "./evident-data";
	if (ev_ledger_init(cli->data_dir, origin, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (cli->json) {
		struct ev_buf b = EV_BUF_INIT;
		ev_buf_adds(&b, "{\"data\":");
		ev_buf_add_json_str(&b, cli->data_dir, strlen(cli->data_dir));
		ev_buf_adds(&b, ",\"initialised\":true,\"origin\":");
		ev_buf_add_json_str(&b, origin, strlen(origin));
		printf("%s}\n", b.p);
		ev_buf_free(&b);
	} else
		printf("initialised %s (ledger store and signing key %s/key.pem; origin %s)\n",
		    cli->data_dir, cli->data_dir, origin);
	return 0;
}
