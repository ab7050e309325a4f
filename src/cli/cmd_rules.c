/*
 * cmd_rules.c - `evident rules lint` and `evident rules test`: the rule
 * author's tools.  lint loads rules and prints every problem as
 * "file:line: message" (unsupported Sigma features are named); test runs
 * rules over a log file, parsed as ingest parses it, and shows which lines
 * match and why.  Neither touches the ledger.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ingest/parse.h"
#include "rules/rules.h"
#include "util/buf.h"

struct lint_ctx {
	struct ev_cli *cli;
	FILE *out;
	size_t n, nunsup;
};

static void
on_diag(const struct ev_rule_diag *d, void *arg)
{
	struct lint_ctx *c = arg;

	c->n++;
	if (d->unsupported)
		c->nunsup++;
	if (c->cli->json) {
		struct ev_buf b = EV_BUF_INIT;
		ev_buf_adds(&b, "{\"file\":");
		ev_buf_add_json_str(&b, d->file ? d->file : "", d->file ? strlen(d->file) : 0);
		ev_buf_addf(&b, ",\"line\":%u,\"message\":", d->line);
		ev_buf_add_json_str(&b, d->message, strlen(d->message));
		ev_buf_addf(&b, ",\"unsupported\":%s}\n", d->unsupported ? "true" : "false");
		fputs(b.p, c->out);
		ev_buf_free(&b);
	} else {
		fprintf(c->out, "%s:%u: %s\n", d->file ? d->file : "?", d->line, d->message);
	}
}

static int
rules_lint(struct ev_cli *cli, int argc, char **argv)
{
	int npos, status, rc;
	struct ev_err err = { 0 };
	struct ev_rules *r = NULL;
	struct lint_ctx c = { cli, stdout, 0, 0 };
	const struct ev_opt opts[] = {
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident rules lint DIR|FILE... [--json]", &npos,
		&status))
		return status;
	if (npos == 0)
		return ev_cli_usage(cli, "rules lint needs a rule file or directory");
	rc = ev_rules_load((const char *const *)argv + 1, (size_t)npos, on_diag, &c, &r, &err);
	if (!cli->quiet && !cli->json)
		fprintf(stderr, "%zu rule%s loaded, %zu problem%s (%zu unsupported feature%s)\n",
		    ev_rules_count(r), ev_rules_count(r) == 1 ? "" : "s", c.n, c.n == 1 ? "" : "s",
		    c.nunsup, c.nunsup == 1 ? "" : "s");
	ev_rules_free(r);
	return rc == EV_OK && c.n == 0 ? 0 : 1;
}

struct test_ctx {
	struct ev_cli *cli;
	uint64_t line;
	size_t matches;
};

static int
on_match(const struct ev_rule_match *m, const struct ev_event *ev, void *arg)
{
	struct test_ctx *t = arg;
	struct ev_buf b = EV_BUF_INIT;

	t->matches++;
	if (t->cli->json) {
		ev_buf_addf(&b, "{\"line\":%llu,\"rule\":", (unsigned long long)t->line);
		ev_buf_add_json_str(&b, m->rule_id, strlen(m->rule_id));
		ev_buf_adds(&b, ",\"title\":");
		ev_buf_add_json_str(&b, m->title, strlen(m->title));
		ev_buf_adds(&b, ",\"level\":");
		ev_buf_add_json_str(&b, m->level, strlen(m->level));
		ev_buf_adds(&b, ",\"why\":");
		ev_buf_add_json_str(&b, m->why ? m->why : "", m->why ? strlen(m->why) : 0);
		ev_buf_adds(&b, ",\"tags\":[");
		for (size_t i = 0; i < m->ntags; i++) {
			if (i)
				ev_buf_addc(&b, ',');
			ev_buf_add_json_str(&b, m->tags[i], strlen(m->tags[i]));
		}
		ev_buf_addc(&b, ']');
		if (m->correlation) {
			ev_buf_adds(&b, ",\"correlation\":true,\"group\":");
			ev_buf_add_json_str(&b, m->group ? m->group : "", m->group ? strlen(m->group) : 0);
			ev_buf_adds(&b, ",\"lines\":[");
			for (size_t i = 0; i < m->nseqs; i++)
				ev_buf_addf(&b, "%s%llu", i ? "," : "", (unsigned long long)m->seqs[i]);
			ev_buf_addc(&b, ']');
		}
		ev_buf_adds(&b, "}\n");
	} else {
		ev_buf_addf(&b, "line %llu: %s%s [%s] %s: %s", (unsigned long long)t->line,
		    m->correlation ? "correlation " : "", m->rule_id, m->level, m->title,
		    m->why ? m->why : "");
		if (m->correlation && m->nseqs) {
			ev_buf_adds(&b, " (lines");
			for (size_t i = 0; i < m->nseqs; i++)
				ev_buf_addf(&b, "%s%llu", i ? "," : " ", (unsigned long long)m->seqs[i]);
			ev_buf_addc(&b, ')');
		}
		ev_buf_addc(&b, '\n');
	}
	fputs(b.p, stdout);
	ev_buf_free(&b);
	(void)ev;
	return 0;
}

static int
test_run(struct ev_cli *cli, char **argv, const char *format, int all, const struct ev_strv *maps)
{
	int rc;
	struct ev_err err = { 0 };
	struct ev_rules *r = NULL;
	struct lint_ctx lc = { cli, stderr, 0, 0 };
	struct test_ctx t = { cli, 0, 0 };
	struct ev_parse_opts po = { 0 };
	struct ev_parsed *ps = NULL;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	for (size_t i = 0; i < maps->n; i++) {
		const char *eq = strchr(maps->v[i], '=');
		if (eq == NULL || eq == maps->v[i] || eq[1] == '\0')
			return ev_cli_usage(cli, "--map-service wants SERVICE=NAME[,NAME...], not '%s'",
			    maps->v[i]);
	}
	if (format) {
		if (strcmp(format, "auto") == 0)
			po.format = EV_FMT_AUTO;
		else if (strcmp(format, "rfc5424") == 0)
			po.format = EV_FMT_RFC5424;
		else if (strcmp(format, "rfc3164") == 0)
			po.format = EV_FMT_RFC3164;
		else if (strcmp(format, "json") == 0)
			po.format = EV_FMT_JSON;
		else
			return ev_cli_usage(cli, "--format must be auto, rfc5424, rfc3164 or json");
	}
	lc.cli = cli;
	{
		int saved = cli->json;
		cli->json = 0; /* load problems go to stderr as text */
		rc = ev_rules_load((const char *const *)argv + 1, 1, on_diag, &lc, &r, &err);
		cli->json = saved;
	}
	if (rc != EV_OK) {
		/* as lint: a rule that does not load is exit 1, not a usage error */
		ev_rules_free(r);
		ev_cli_fail(cli, &err);
		return 1;
	}
	if (ev_rules_count(r) == 0) {
		ev_rules_free(r);
		ev_errf(&err, EV_EINVAL, "no rule in %s", argv[1]);
		return ev_cli_fail(cli, &err);
	}
	ev_rules_show_hidden(r, all);
	for (size_t i = 0; i < maps->n; i++) {
		char *spec = ev_xstrdup(maps->v[i]), *eq = strchr(spec, '='), *save = NULL;
		const char *names[64];
		size_t nn = 0;
		*eq = '\0';
		for (char *tok = strtok_r(eq + 1, ",", &save); tok && nn < 64;
		     tok = strtok_r(NULL, ",", &save))
			names[nn++] = tok;
		ev_rules_map_service(r, spec, names, nn);
		free(spec);
	}
	if (strcmp(argv[2], "-") == 0) {
		f = stdin;
	} else if ((f = fopen(argv[2], "r")) == NULL) {
		ev_rules_free(r);
		ev_errf(&err, errno == ENOENT ? EV_ENOTFOUND : EV_EIO, "%s: %s", argv[2],
		    strerror(errno));
		return ev_cli_fail(cli, &err);
	}
	ps = ev_xmalloc(sizeof(*ps));
	ev_parsed_init(ps);
	while ((len = getline(&line, &cap, f)) >= 0) {
		size_t n = (size_t)len;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		t.line++;
		if (n == 0)
			continue;
		ev_parse_line(line, n, &po, ps);
		ps->ev.seq = t.line; /* correlations name contributing lines by number */
		ev_rules_match(r, &ps->ev, on_match, &t);
	}
	if (f != stdin)
		fclose(f);
	free(line);
	ev_parsed_free(ps);
	free(ps);
	if (!cli->quiet && !cli->json)
		fprintf(stderr, "%llu line%s, %zu match%s\n", (unsigned long long)t.line,
		    t.line == 1 ? "" : "s", t.matches, t.matches == 1 ? "" : "es");
	ev_rules_free(r);
	return 0;
}

static int
rules_test(struct ev_cli *cli, int argc, char **argv)
{
	int npos, status, rc, all = 0;
	const char *format = NULL;
	struct ev_strv maps = { NULL, 0 };
	const struct ev_opt opts[] = {
		{ "all", NULL, "also show rules that only feed a correlation", NULL, &all, NULL },
		{ "format", "F", "log format: auto (default), rfc5424, rfc3164, json", &format, NULL,
		    NULL },
		{ "map-service", "SVC=NAME,...",
		    "rules with logsource.service SVC only see lines from these apps or sources "
		    "(repeatable)",
		    NULL, NULL, &maps },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident rules test RULE FILE [--all] [--format F] [--map-service SVC=NAME,...] "
		"[--json]   (FILE - is stdin)",
		&npos, &status)) {
		free(maps.v);
		return status;
	}
	if (npos != 2)
		rc = ev_cli_usage(cli, "rules test needs a rule (file or directory) and a log file");
	else
		rc = test_run(cli, argv, format, all, &maps);
	free(maps.v);
	return rc;
}

int
cmd_rules(struct ev_cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		FILE *o = argc < 2 ? stderr : stdout;
		fputs("usage: evident rules lint DIR|FILE... [--json]\n"
		      "       evident rules test RULE FILE [--all] [--format F] [--json]\n"
		      "\n"
		      "lint   load Sigma rules, print every problem as file:line: message;\n"
		      "       exit 0 when every rule loads, 1 otherwise\n"
		      "test   run the rules over a log file and show which lines match and why\n",
		    o);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "lint") == 0)
		return rules_lint(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "test") == 0)
		return rules_test(cli, argc - 1, argv + 1);
	return ev_cli_usage(cli, "unknown rules command '%s' (lint, test)", argv[1]);
}
