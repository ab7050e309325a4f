/*
 * main.c - `evident COMMAND [OPTIONS]`: global options, then dispatch to
 * cmd_<name> through the table in commands.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#ifndef EV_VERSION
#define EV_VERSION "0.1.0"
#endif

struct ev_command {
	const char *name;
	const char *summary;
	int (*fn)(struct ev_cli *, int, char **);
};

static const struct ev_command commands[] = {
#define EV_CMD(name, summary) { #name, summary, cmd_##name },
#include "cli/commands.h"
#undef EV_CMD
};

static void
usage(FILE *f)
{
	fputs("usage: evident [--data DIR] [--actor NAME] [--json] [--quiet] COMMAND [ARGS]\n"
	      "\n"
	      "evident keeps a trust service provider's operational evidence (logs, alerts,\n"
	      "incidents, compliance records) in an append-only, Merkle-tree ledger that\n"
	      "anyone can verify.\n"
	      "\ncommands:\n",
	    f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].fn)
			fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'evident COMMAND --help' shows a command's options; man evident (docs/evident.1)\n"
	      "has the whole reference.\n"
	      "exit status: 0 ok, 1 error, 2 usage or invalid input, 3 verification failed\n",
	    f);
}

int
main(int argc, char **argv)
{
	struct ev_cli cli;
	int i = 1;

	memset(&cli, 0, sizeof(cli));
	cli.data_dir = getenv("EVIDENT_DATA");
	cli.actor = getenv("EVIDENT_ACTOR");
	/* Global options may come before the command (and after it: see ev_cli_parse). */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0) {
			printf("evident %s\n", EV_VERSION);
			return 0;
		}
		if (strcmp(a, "--json") == 0) {
			cli.json = 1;
		} else if (strcmp(a, "--quiet") == 0) {
			cli.quiet = 1;
		} else if (strcmp(a, "--data") == 0 || strcmp(a, "--actor") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "evident: option %s needs a value\n", a);
				return 2;
			}
			if (a[2] == 'd')
				cli.data_dir = argv[++i];
			else
				cli.actor = argv[++i];
		} else if (strncmp(a, "--data=", 7) == 0) {
			cli.data_dir = a + 7;
		} else if (strncmp(a, "--actor=", 8) == 0) {
			cli.actor = a + 8;
		} else {
			fprintf(stderr, "evident: unknown option '%s' (see evident --help)\n", a);
			return 2;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		if (commands[c].fn == NULL) {
			fprintf(stderr, "evident: command '%s' is not built in this version\n",
			    argv[i]);
			return 1;
		}
		cli.cmd = commands[c].name;
		int rc = commands[c].fn(&cli, argc - i, argv + i);
		if (fflush(stdout) != 0 && rc == 0) {
			fprintf(stderr, "evident: %s: cannot write output\n", cli.cmd);
			rc = 1;
		}
		return rc;
	}
	fprintf(stderr, "evident: unknown command '%s' (see evident --help)\n", argv[i]);
	return 2;
}
