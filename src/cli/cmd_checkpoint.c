/*
 * cmd_checkpoint.c - `evident checkpoint`: sign the current tree head with the
 * installation key and record it as an entry (and in DATA/checkpoint).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "util/enc.h"
#include "util/timeutil.h"

int
cmd_checkpoint(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_checkpoint cp;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	char root[65], t[EV_TIME_STRLEN], sig[89];
	int npos, status, rc;

	if (ev_cli_parse(cli, argc, argv, NULL, "evident checkpoint [--json]", &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (ev_cli_open(cli, 0, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_ledger_checkpoint(l, ev_cli_default_actor(cli), &cp, &err);
	ev_ledger_close(l);
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	ev_hex_encode(cp.root, 32, root);
	ev_time_format(cp.time_us, t);
	ev_b64_encode(cp.sig, 64, sig);
	if (cli->json)
		printf("{\"seq\":%llu,\"size\":%llu,\"root\":\"%s\",\"time\":\"%s\",\"key_id\":\"%s\","
		       "\"signature\":\"%s\"}\n",
		    (unsigned long long)cp.seq, (unsigned long long)cp.size, root, t, cp.key_id, sig);
	else
		printf("size %llu\nroot %s\ntime %s\n", (unsigned long long)cp.size, root, t);
	return 0;
}
