/*
 * cmd_user.c - `evident user`: the people who may use the web UI and the
 * API, and their trusted roles.  `add` prints a one-time password once (the
 * first sign-in must replace it); `passwd` sets a password read from stdin,
 * or with --one-time issues a new one-time password.  Each change is a
 * ledger entry (user.added, user.role_changed, user.password_set) naming
 * who made it; the credentials themselves stay out of the ledger.
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "http/http.h"
#include "util/timeutil.h"

static const char synopsis[] =
	"evident user add NAME --role ROLE | role NAME --role ROLE | passwd NAME [--one-time] | list";

static void
list_cb(const char *name, const char *role, int one_time, int64_t created_us, void *arg)
{
	struct ev_cli *cli = arg;
	char t[EV_TIME_STRLEN];

	ev_time_format(created_us, t);
	if (cli->json)
		printf("{\"created\":\"%s\",\"name\":\"%s\",\"one_time_password\":%s,\"role\":\"%s\"}\n",
		    t, name, one_time ? "true" : "false", role);
	else
		printf("%-24s %-18s %s%s\n", name, role, t, one_time ? "  (one-time password)" : "");
}

int
cmd_user(struct ev_cli *cli, int argc, char **argv)
{
	const char *role = NULL, *sub;
	int one_time = 0, npos, status, rc;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	char pw[EV_ONETIME_PW_LEN + 1] = "", line[EV_PASSWORD_MAX + 2];
	const struct ev_opt opts[] = {
		{ "role", "ROLE", "viewer|monitoring|incident-manager|responder|compliance|continuity|admin",
		    &role, NULL, NULL },
		{ "one-time", NULL, "passwd: issue a new one-time password instead of reading one",
		    NULL, &one_time, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts, synopsis, &npos, &status))
		return status;
	if (npos < 1)
		return ev_cli_usage(cli, "needs a subcommand: add, role, passwd, list");
	sub = argv[1];
	if (strcmp(sub, "list") == 0) {
		if (npos != 1)
			return ev_cli_usage(cli, "list takes no argument");
	} else if (strcmp(sub, "add") == 0 || strcmp(sub, "role") == 0 || strcmp(sub, "passwd") == 0) {
		if (npos != 2)
			return ev_cli_usage(cli, "%s needs exactly one user NAME", sub);
		if (strcmp(sub, "passwd") != 0 && !role)
			return ev_cli_usage(cli, "%s needs --role ROLE", sub);
		if (role && !ev_role_bit(role))
			return ev_cli_usage(cli, "unknown role '%s' (viewer, monitoring, incident-manager, "
						 "responder, compliance, continuity, admin)", role);
		if (!ev_user_name_ok(argv[2]))
			return ev_cli_usage(cli, "user name must be 1 to %d of a-z 0-9 . _ -",
			    EV_USER_NAME_MAX);
	} else
		return ev_cli_usage(cli, "unknown subcommand '%s' (add, role, passwd, list)", sub);

	if (strcmp(sub, "passwd") == 0 && !one_time) {
		/* From a terminal: prompt, and do not echo the password. */
		struct termios old, quiet;
		int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
		char *got;
		if (tty) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			fprintf(stderr, "new password for %s: ", argv[2]);
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
		got = fgets(line, sizeof(line), stdin);
		if (tty) {
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
			fputc('\n', stderr);
		}
		if (!got)
			return ev_cli_usage(cli, "passwd reads the new password from the first line of stdin");
		line[strcspn(line, "\r\n")] = '\0';
	}
	if (ev_cli_open(cli, 0, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (strcmp(sub, "list") == 0)
		rc = ev_user_list(l, list_cb, cli, &err);
	else if (strcmp(sub, "add") == 0)
		rc = ev_user_add(l, argv[2], role, ev_cli_default_actor(cli), pw, &err);
	else if (strcmp(sub, "role") == 0)
		rc = ev_user_set_role(l, argv[2], role, ev_cli_default_actor(cli), &err);
	else
		rc = ev_user_set_password(l, argv[2], one_time ? NULL : line, ev_cli_default_actor(cli),
		    pw, &err);
	ev_ledger_close(l);
	OPENSSL_cleanse(line, sizeof(line));
	if (rc != EV_OK)
		return ev_cli_fail(cli, &err);
	if (pw[0]) {
		/* The one place the one-time password is shown. */
		if (cli->json)
			printf("{\"one_time_password\":\"%s\",\"user\":\"%s\"}\n", pw, argv[2]);
		else
			printf("%s\n", pw);
		OPENSSL_cleanse(pw, sizeof(pw));
	}
	return 0;
}
