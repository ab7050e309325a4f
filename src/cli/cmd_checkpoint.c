/*
 * cmd_checkpoint.c - `evident checkpoint`: sign the current tree head with the
 * installation key and record it as an entry (and in DATA/checkpoint).  With
 * --tsa, anchor it too: an RFC 3161 time-stamp token over SHA-256 of the
 * checkpoint note, verified and recorded as a "checkpoint.timestamp" entry
 * (src/pack/tsa.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli/cli.h"
#include "pack/pack.h"
#include "util/enc.h"
#include "util/timeutil.h"

int
cmd_checkpoint(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_checkpoint cp;
	struct ev_anchor_result ar;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	const char *tsa = NULL, *tsa_cert = NULL;
	char root[65], t[EV_TIME_STRLEN], sig[89];
	int npos, status, rc, arc = EV_OK;
	const struct ev_opt opts[] = {
		{ "tsa", "URL", "anchor the checkpoint with an RFC 3161 time-stamp from this TSA", &tsa,
		    NULL, NULL },
		{ "tsa-cert", "FILE", "CA (or TSA) certificate the TSA's signature must chain to",
		    &tsa_cert, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident checkpoint [--tsa URL [--tsa-cert FILE]] [--json]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (tsa_cert && !tsa)
		return ev_cli_usage(cli, "--tsa-cert needs --tsa URL");
	if (ev_cli_open(cli, 0, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_ledger_checkpoint(l, ev_cli_default_actor(cli), &cp, &err);
	if (rc == EV_OK && tsa)
		arc = ev_anchor_checkpoint(l, &cp, tsa, tsa_cert, ev_cli_default_actor(cli), &ar, &err);
	ev_ledger_close(l);
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	ev_hex_encode(cp.root, 32, root);
	ev_time_format(cp.time_us, t);
	ev_b64_encode(cp.sig, 64, sig);
	if (cli->json) {
		printf("{\"seq\":%llu,\"size\":%llu,\"root\":\"%s\",\"time\":\"%s\",\"key_id\":\"%s\","
		       "\"signature\":\"%s\"",
		    (unsigned long long)cp.seq, (unsigned long long)cp.size, root, t, cp.key_id, sig);
		if (cp.version >= 2) {
			/* The C2SP signed note, whole: a checker needs nothing else. */
			json_t *j = json_pack("{s:s,s:s}", "origin", cp.origin, "note", cp.note);
			char *o = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
			if (o && strlen(o) > 2)
				printf(",%.*s", (int)strlen(o) - 2, o + 1);
			free(o);
			json_decref(j);
		}
		if (tsa && arc == EV_OK)
			printf(",\"timestamp\":{\"seq\":%llu,\"gen_time\":\"%s\",\"serial\":\"%s\"}",
			    (unsigned long long)ar.seq, ar.gen_time, ar.serial);
		printf("}\n");
	} else {
		printf("size %llu\nroot %s\ntime %s\n", (unsigned long long)cp.size, root, t);
		if (tsa && arc == EV_OK)
			printf("timestamp %s (serial %s, entry %llu%s)\n", ar.gen_time, ar.serial,
			    (unsigned long long)ar.seq,
			    ar.chain_checked ? "" : "; chain not checked: no --tsa-cert");
	}
	if (arc != EV_OK) {
		fflush(stdout);
		return ev_cli_fail(cli, &err); /* the checkpoint stands; the anchor failed */
	}
	return 0;
}
