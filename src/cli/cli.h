/*
 * cli.h - what every `evident COMMAND` shares: global options, option
 * parsing, error reporting and output helpers.
 *
 * A command is `int cmd_NAME(struct ev_cli *cli, int argc, char **argv)`
 * returning the process exit status (0 ok, 1 error, 2 usage, 3 verification
 * failed).  argv[0] is the command name.  Commands report failure through
 * ev_cli_fail, which prints one line and maps the code to the status.
 */
#ifndef EV_CLI_CLI_H
#define EV_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/err.h"

struct ev_cli {
	const char *data_dir; /* --data, EVIDENT_DATA, or ./evident-data */
	const char *actor;    /* --actor, EVIDENT_ACTOR, or unix:<login> */
	int json;             /* --json */
	int quiet;            /* --quiet: no progress */
	const char *cmd;      /* the command name, for messages */
	char actor_buf[160];
};

/* A list of strings from a repeated option. */
struct ev_strv {
	const char **v;
	size_t n;
};

struct ev_opt {
	const char *name;    /* long name without the leading "--" */
	const char *arg;     /* placeholder for the value ("TIME"), NULL for a flag */
	const char *help;
	const char **str;    /* where a single value goes */
	int *flag;           /* where a flag goes (set to 1) */
	struct ev_strv *list; /* where repeated values go */
};

/*
 * Parse argv[1..] against opts (terminated by a zeroed entry) plus the
 * global options.  Positional arguments are moved to the front of argv after
 * argv[0]; *npos receives their count.  --help prints usage and returns -1
 * with status 0 in *status; a bad option prints a usage error and returns -1
 * with status 2.
 */
int ev_cli_parse(struct ev_cli *cli, int argc, char **argv, const struct ev_opt *opts,
    const char *synopsis, int *npos, int *status);

/* Print "evident: CMD: message" for err and return the exit status for its code. */
int ev_cli_fail(struct ev_cli *cli, const struct ev_err *err);
/* Print a usage error and return 2. */
int ev_cli_usage(struct ev_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Take --json and --quiet that sit between a command and its subcommand
 * ("evident alerts --json ack ...") off the front of argv (argv[0] stays).
 */
void ev_cli_leading_flags(struct ev_cli *cli, int *argc, char ***argv);

/* Open the ledger at cli->data_dir (flags as ev_ledger_open). */
int ev_cli_open(struct ev_cli *cli, int flags, struct ev_ledger **l, struct ev_err *err);

/* The acting name: --actor, $EVIDENT_ACTOR, else unix:<login name>. */
const char *ev_cli_default_actor(struct ev_cli *cli);

/* Parse an unsigned decimal; -1 unless the whole string is a number. */
int ev_cli_u64(const char *s, uint64_t *out);
/* Parse a time option (see timeutil.h) or fail with a usage error naming the option. */
int ev_cli_time(struct ev_cli *cli, const char *opt, const char *s, int64_t *us);

/* 1 when stderr is a terminal and progress is wanted. */
int ev_cli_progress_wanted(struct ev_cli *cli);
/* Draw "\rWHAT: done/total (p%)" at most a few times a second; done==total ends the line. */
void ev_cli_progress(const char *what, uint64_t done, uint64_t total);

/* Print e as one JSON line (the leaf form) or as text columns. */
void ev_cli_print_entry(struct ev_cli *cli, const struct ev_entry *e);

/* The command table (commands.h) declares every cmd_NAME. */
#define EV_CMD(name, summary) \
	int cmd_##name(struct ev_cli *cli, int argc, char **argv) __attribute__((weak));
#include "cli/commands.h"
#undef EV_CMD

#endif
