/*
 * cmd_ingest.c - `evident ingest`: read log lines from files or standard
 * input, record each as a `log` entry, run the alarm rules, record alerts.
 *
 * Rules: every --rules path (file or directory, repeatable); without one,
 * the built-in pack ($EVIDENT_RULES, else ../rules next to the binary, else
 * /usr/share/evident/rules).  --no-rules records lines only.
 *
 * A source not yet in the inventory is registered automatically (no
 * categories; a warning says how to give it some): refusing would lose the
 * lines of a source someone forgot to declare, and the inventory then shows
 * it as covering nothing, which `sources coverage` makes visible.
 *
 * Output: "lines N, parsed N, unparsed N, alerts N" (with --json exactly
 * {"lines":N,"parsed":N,"unparsed":N,"alerts":N}).  Unparsed lines are not an
 * error: they are stored raw and counted.  Exit 1 when the store fails (what
 * was committed before stays: the message says up to which seq).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ingest/ingest.h"

struct feed {
	struct ev_cli *cli;
	struct ev_ingest *p;
	const char *source;
	struct ev_err *err;
	int progress;
};

static void
warn_cb(const char *msg, void *arg)
{
	struct ev_cli *cli = arg;

	fprintf(stderr, "evident: %s: warning: %s\n", cli->cmd, msg);
}

static int
on_line(const char *line, size_t len, size_t full, void *arg)
{
	struct feed *f = arg;

	if (ev_ingest_line_cut(f->p, f->source, line, len, full, f->err) != EV_OK)
		return -1;
	if (f->progress && ev_ingest_pending(f->p) == 0) {
		struct ev_ingest_stats st;
		ev_ingest_get_stats(f->p, &st);
		ev_cli_progress("ingest: lines", st.lines, 0);
	}
	return 0;
}

static int
feed_fd(struct feed *f, int fd, const char *name)
{
	static char buf[1 << 20];
	struct ev_lines lb = { 0 };
	ssize_t n;
	int rc = 0;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ev_errf(f->err, EV_EIO, "read %s: %s", name, strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0) {
			rc = ev_lines_finish(&lb, on_line, f);
			break;
		}
		if ((rc = ev_lines_feed(&lb, buf, (size_t)n, on_line, f)) != 0)
			break;
	}
	ev_lines_free(&lb);
	return rc;
}

static int
parse_format(const char *s, enum ev_log_format *f)
{
	if (s == NULL || strcmp(s, "auto") == 0)
		*f = EV_FMT_AUTO;
	else if (strcmp(s, "rfc5424") == 0)
		*f = EV_FMT_RFC5424;
	else if (strcmp(s, "rfc3164") == 0)
		*f = EV_FMT_RFC3164;
	else if (strcmp(s, "json") == 0)
		*f = EV_FMT_JSON;
	else
		return -1;
	return 0;
}

int
cmd_ingest(struct ev_cli *cli, int argc, char **argv)
{
	const char *source = NULL, *format = NULL, *tz = NULL, *batch_s = NULL, *now_s = NULL;
	struct ev_strv rules_paths = { NULL, 0 };
	int no_rules = 0, npos, status, rc = 0;
	uint64_t batch = EV_INGEST_BATCH;
	struct ev_ingest_opts o;
	struct ev_ingest_stats st;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct ev_rules *rules = NULL;
	struct ev_ingest *p = NULL;
	struct feed f;
	const struct ev_opt opts[] = {
		{ "source", "NAME", "log source the lines come from (the inventory name)", &source,
		    NULL, NULL },
		{ "format", "F", "auto (default), rfc5424, rfc3164 or json", &format, NULL, NULL },
		{ "rules", "PATH", "Sigma rule file or directory (repeatable; default: built-in pack)",
		    NULL, NULL, &rules_paths },
		{ "no-rules", NULL, "record the lines, run no alarm rules", NULL, &no_rules, NULL },
		{ "timezone", "TZ", "IANA zone of RFC 3164 local times (default UTC)", &tz, NULL,
		    NULL },
		{ "batch", "N", "lines per transaction (default 5000)", &batch_s, NULL, NULL },
		{ "now", "T", "reference time for RFC 3164 year inference (default: the clock)",
		    &now_s, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	memset(&o, 0, sizeof(o));
	if (ev_cli_parse(cli, argc, argv, opts,
		"evident ingest --source NAME [--format auto|rfc5424|rfc3164|json]\n"
		"       [--rules DIR|FILE]... [--no-rules] [--timezone TZ] [FILE...]\n"
		"(reads standard input when no FILE is given, or for FILE '-')\n"
		"Default rules: $EVIDENT_RULES, else ../rules next to the binary, else\n"
		"/usr/share/evident/rules.  A source not in the inventory is registered\n"
		"with no categories (and a warning); give it some with 'evident sources add'.\n"
		"Prints \"lines N, parsed N, unparsed N, alerts N\"; unparsed lines are stored raw.",
		&npos, &status))
		goto done_status;
	if (source == NULL) {
		status = ev_cli_usage(cli, "needs --source NAME (see 'evident sources list')");
		goto done_status;
	}
	if (!ev_source_name_ok(source)) {
		status = ev_cli_usage(cli,
		    "source name '%s' must be 1 to %d of A-Z a-z 0-9 . _ : @ / -, starting with a "
		    "letter or digit",
		    source, EV_SOURCE_NAME_MAX);
		goto done_status;
	}
	if (parse_format(format, &o.format) != 0) {
		status = ev_cli_usage(cli, "--format must be auto, rfc5424, rfc3164 or json");
		goto done_status;
	}
	if (batch_s && (ev_cli_u64(batch_s, &batch) != 0 || batch == 0 || batch > 1000000)) {
		status = ev_cli_usage(cli, "--batch must be a number from 1 to 1000000");
		goto done_status;
	}
	if (now_s && (status = ev_cli_time(cli, "now", now_s, &o.now_us)) != 0)
		goto done_status;
	if (no_rules && rules_paths.n) {
		status = ev_cli_usage(cli, "--no-rules and --rules contradict each other");
		goto done_status;
	}
	/* Open every file first: a typo must not leave half the input recorded. */
	for (int i = 1; i <= npos; i++) {
		if (strcmp(argv[i], "-") != 0 && access(argv[i], R_OK) != 0) {
			ev_errf(&err, EV_EINVAL, "cannot read %s: %s", argv[i], strerror(errno));
			status = ev_cli_fail(cli, &err);
			goto done_status;
		}
	}
	if (!no_rules &&
	    ev_ingest_rules_load(rules_paths.v, rules_paths.n, warn_cb, cli, &rules, &err) != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto done_status;
	}
	if ((rc = ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err)) != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto done_status;
	}
	o.timezone = tz;
	o.rules = rules;
	o.batch = (size_t)batch;
	o.warn = warn_cb;
	o.warn_arg = cli;
	o.actor = cli->actor; /* an explicit --actor names who fed the lines; else source:NAME */
	ev_ingest_new(l, &o, &p, &err);
	f.cli = cli;
	f.p = p;
	f.source = source;
	f.err = &err;
	f.progress = ev_cli_progress_wanted(cli);
	if (npos == 0) {
		rc = feed_fd(&f, STDIN_FILENO, "standard input");
	} else {
		for (int i = 1; i <= npos && rc == 0; i++) {
			int fd = strcmp(argv[i], "-") == 0 ? STDIN_FILENO : open(argv[i], O_RDONLY);
			if (fd < 0) {
				ev_errf(&err, EV_EIO, "cannot open %s: %s", argv[i], strerror(errno));
				rc = -1;
				break;
			}
			rc = feed_fd(&f, fd, argv[i]);
			if (fd != STDIN_FILENO)
				close(fd);
		}
	}
	if (rc == 0 && ev_ingest_flush(p, &err) != EV_OK)
		rc = -1;
	ev_ingest_get_stats(p, &st);
	if (f.progress && st.lines)
		ev_cli_progress("ingest: lines", st.lines, st.lines);
	if (rc != 0) {
		if (st.lines)
			fprintf(stderr,
			    "evident: ingest: %llu lines up to seq %llu were recorded; the failing "
			    "batch of %zu lines was not\n",
			    (unsigned long long)st.lines, (unsigned long long)st.last_seq,
			    ev_ingest_pending(p));
		status = ev_cli_fail(cli, &err);
	} else {
		if (cli->json)
			printf("{\"lines\":%llu,\"parsed\":%llu,\"unparsed\":%llu,\"alerts\":%llu}\n",
			    (unsigned long long)st.lines, (unsigned long long)st.parsed,
			    (unsigned long long)st.unparsed, (unsigned long long)st.alerts);
		else
			printf("lines %llu, parsed %llu, unparsed %llu, alerts %llu\n",
			    (unsigned long long)st.lines, (unsigned long long)st.parsed,
			    (unsigned long long)st.unparsed, (unsigned long long)st.alerts);
		if (st.truncated)
			fprintf(stderr, "evident: ingest: %llu lines over %u bytes were stored cut "
					"(flagged \"truncated\")\n",
			    (unsigned long long)st.truncated, EV_INGEST_MAX_LINE);
		status = 0;
	}
done_status:
	ev_ingest_free(p);
	ev_ledger_close(l);
	if (rules)
		ev_rules_free(rules);
	free(rules_paths.v);
	return status;
}
