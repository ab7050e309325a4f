/*
 * cmd_token.c - `evident token`: API tokens for scripts and Prometheus.
 * `create --user NAME` prints the token once (send it as "Authorization:
 * Bearer TOKEN"); only its SHA-256 is stored.  The ledger records
 * token.created / token.revoked with the token id, never the secret.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "http/http.h"
#include "util/timeutil.h"

static void
list_cb(const char *id, const char *user, int64_t created_us, int revoked, void *arg)
{
	struct ev_cli *cli = arg;
	char t[EV_TIME_STRLEN];

	ev_time_format(created_us, t);
	if (cli->json)
		printf("{\"created\":\"%s\",\"id\":\"%s\",\"revoked\":%s,\"user\":\"%s\"}\n", t, id,
		    revoked ? "true" : "false", user);
	else
		printf("%s  %-24s %s%s\n", id, user, t, revoked ? "  revoked" : "");
}

int
cmd_token(struct ev_cli *cli, int argc, char **argv)
{
	const char *user = NULL, *sub;
	int npos, status, rc;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	char token[EV_TOKEN_LEN + 1] = "", id[EV_TOKEN_ID_LEN + 1] = "";
	const struct ev_opt opts[] = {
		{ "user", "NAME", "create: the user the token acts as", &user, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident token create --user NAME | revoke ID | list", &npos, &status))
		return status;
	if (npos < 1)
		return ev_cli_usage(cli, "needs a subcommand: create, revoke, list");
	sub = argv[1];
	if (strcmp(sub, "create") == 0) {
		if (npos != 1 || !user)
			return ev_cli_usage(cli, "create needs --user NAME and no argument");
	} else if (strcmp(sub, "revoke") == 0) {
		if (npos != 2 || strlen(argv[2]) != EV_TOKEN_ID_LEN)
			return ev_cli_usage(cli, "revoke needs a token ID (%d hex characters)",
			    EV_TOKEN_ID_LEN);
	} else if (strcmp(sub, "list") == 0) {
		if (npos != 1)
			return ev_cli_usage(cli, "list takes no argument");
	} else
		return ev_cli_usage(cli, "unknown subcommand '%s' (create, revoke, list)", sub);
	if (ev_cli_open(cli, 0, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (strcmp(sub, "create") == 0)
		rc = ev_token_create(l, user, ev_cli_default_actor(cli), token, id, &err);
	else if (strcmp(sub, "revoke") == 0)
		rc = ev_token_revoke(l, argv[2], ev_cli_default_actor(cli), &err);
	else
		rc = ev_token_list(l, list_cb, cli, &err);
	ev_ledger_close(l);
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	if (token[0]) {
		/* The one place the token is shown. */
		if (cli->json)
			printf("{\"id\":\"%s\",\"token\":\"%s\",\"user\":\"%s\"}\n", id, token, user);
		else
			printf("%s\n", token);
		OPENSSL_cleanse(token, sizeof(token));
	}
	return 0;
}
