/*
 * cmd_log.c - `evident log`: entries in seq order, filtered.  With --json
 * every line is the entry's canonical leaf, byte for byte what is hashed.
 */
#include <stdio.h>

#include "cli/cli.h"

static int
print_cb(const struct ev_entry *e, void *arg)
{
	ev_cli_print_entry(arg, e);
	return 0;
}

int
cmd_log(struct ev_cli *cli, int argc, char **argv)
{
	const char *kind = NULL, *subject = NULL, *since = NULL, *until = NULL, *limit = NULL;
	const char *grep = NULL;
	int newest = 0, npos, status, rc;
	struct ev_query q = { 0 };
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	uint64_t n;
	const struct ev_opt opts[] = {
		{ "kind", "K", "only this kind (a prefix when it ends in '.' or '*')", &kind, NULL, NULL },
		{ "subject", "S", "only this subject", &subject, NULL, NULL },
		{ "since", "T", "only entries at or after T (RFC 3339, YYYY-MM-DD, now-24h)", &since,
		    NULL, NULL },
		{ "until", "T", "only entries at or before T", &until, NULL, NULL },
		{ "limit", "N", "at most N entries", &limit, NULL, NULL },
		{ "grep", "TEXT", "only entries containing TEXT (in any field; case-sensitive)", &grep,
		    NULL, NULL },
		{ "newest-first", NULL, "newest entries first", NULL, &newest, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident log [--kind K] [--subject S] [--since T] [--until T] [--grep TEXT] [--limit N] "
		"[--json]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	q.kind = kind;
	q.subject = subject;
	q.descending = newest;
	q.grep = grep;
	if (since && (rc = ev_cli_time(cli, "since", since, &q.since_us)) != 0)
		return rc;
	if (until && (rc = ev_cli_time(cli, "until", until, &q.until_us)) != 0)
		return rc;
	if (limit) {
		if (ev_cli_u64(limit, &n) != 0 || n == 0)
			return ev_cli_usage(cli, "--limit must be a positive number");
		q.limit = (size_t)n;
	}
	if (ev_cli_open(cli, EV_LEDGER_READONLY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_ledger_scan(l, &q, print_cb, cli, &err);
	ev_ledger_close(l);
	return rc == EV_OK ? 0 : ev_cli_fail(cli, &err);
}
