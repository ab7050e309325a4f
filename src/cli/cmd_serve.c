/*
 * cmd_serve.c - `evident serve`: the daemon.  One process, one thread, one
 * poll loop (ev_loop, src/ingest/listen.c) that the daemon's parts register
 * with: syslog listeners and file tails (the intake), the commit timer, the
 * alert follow-up timer, the stats timer.  A later part (HTTP) adds its
 * descriptors and timers to the same loop in serve_setup_* style.
 *
 * Durability: a line is "accepted" once read from a socket or file into the
 * pipeline queue; the queue is committed every --commit-every (200 ms) or
 * when a batch fills.  SIGTERM/SIGINT stop the loop, then everything the
 * kernel still holds for us (datagrams, connections, file tails) is read and
 * committed before exit.  Anything refused is counted in the stats line
 * (every --stats-every, and at shutdown).
 *
 * File tails keep their positions in DATA/tails.state after each commit, so a
 * restarted daemon resumes where it stopped (a file that is new since then is
 * read from its start).  A part that starts threads (HTTP) must start them
 * after ev_loop_new, which blocks SIGTERM/SIGINT for the signalfd: threads
 * inherit the mask, so the signal reaches the loop and not a worker.
 *
 * Beside the loop run two parts with threads of their own, started after
 * ev_loop_new for that reason: the web UI and JSON API (src/http, on
 * --listen, default 127.0.0.1:8319) and the scheduler (src/sched: regulatory
 * clocks and their webhooks, vulnerability clocks, compliance cadence, the
 * daily time-sync check).  On shutdown the web server stops first (no new
 * writes), then intake drains, then the scheduler finishes its duty.
 *
 * Exit: 0 after a clean shutdown, 1 when accepted lines could not be
 * recorded at shutdown (the message says how many), 2 on bad options.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <yaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/alerts.h"
#include "cli/cli.h"
#include "http/http.h"
#include "ingest/ingest.h"
#include "cli/serve_demo.h"
#include "sched/sched.h"
#include "util/timeutil.h"

struct serve {
	struct ev_cli *cli;
	struct ev_ledger *l;
	struct ev_ingest *p;
	struct ev_intake *in;
	int64_t followup_after;
	int64_t started_us;
};

static void
slog(const char *msg, void *arg)
{
	char t[EV_TIME_STRLEN];

	(void)arg;
	ev_time_format(ev_time_now_us(), t);
	fprintf(stderr, "%s evident serve: %s\n", t, msg);
	fflush(stderr);
}

static void
slogf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
slogf(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	slog(msg, NULL);
}

static int
flush(struct serve *s)
{
	struct ev_err err = { 0 };

	if (ev_ingest_pending(s->p) == 0)
		return 0;
	if (ev_ingest_flush(s->p, &err) != EV_OK) {
		ev_intake_flush_failed(s->in, &err);
		return -1;
	}
	if (ev_intake_save_state(s->in) != 0)
		slogf("cannot write the tail positions file (tails may re-read or skip after a restart)");
	return 0;
}

static void
stats_line(struct serve *s, const char *what)
{
	struct ev_ingest_stats is;
	struct ev_intake_stats st;

	ev_ingest_get_stats(s->p, &is);
	ev_intake_get_stats(s->in, &st);
	slogf("%s: received udp %llu, tcp %llu (connections %llu), tail %llu; recorded %llu lines "
	      "(parsed %llu, unparsed %llu), alerts %llu; refused: oversized %llu, connections %llu, "
	      "partial frames %llu; udp kernel drops %llu; store errors %llu; queued %zu",
	    what, (unsigned long long)st.udp_messages, (unsigned long long)st.tcp_frames,
	    (unsigned long long)st.tcp_connections, (unsigned long long)st.tail_lines,
	    (unsigned long long)is.lines, (unsigned long long)is.parsed,
	    (unsigned long long)is.unparsed, (unsigned long long)is.alerts,
	    (unsigned long long)st.refused_oversized, (unsigned long long)st.refused_connections,
	    (unsigned long long)st.refused_partial, (unsigned long long)st.udp_kernel_drops,
	    (unsigned long long)st.ingest_errors, ev_ingest_pending(s->p));
}

static void
commit_timer(struct ev_loop *lp, int64_t now, void *arg)
{
	flush(arg);
}

static void
stats_timer(struct ev_loop *lp, int64_t now, void *arg)
{
	stats_line(arg, "stats");
}

static void
followup_cb(uint64_t id, uint64_t fid, void *arg)
{
	slogf("alert %llu is still open: follow-up alert %llu raised", (unsigned long long)id,
	    (unsigned long long)fid);
}

static void
followup_timer(struct ev_loop *lp, int64_t now, void *arg)
{
	struct serve *s = arg;
	struct ev_err err = { 0 };

	flush(s);
	if (ev_alerts_followup(s->l, now, s->followup_after, NULL, followup_cb, s, &err) != EV_OK)
		slogf("alert follow-up failed (retried next round): %s", err.msg);
}

static int
duration_opt(struct ev_cli *cli, const char *name, const char *v, int64_t *us)
{
	if (v && ev_alerts_parse_duration(v, us) != 0)
		return ev_cli_usage(cli, "--%s '%s' is not a duration (90s, 5m, 4h, 2d)",
		    name, v);
	return 0;
}

/* "[NAME=]ADDR" -> name, addr */
static void
split_named(const char *v, const char *defname, char *name, size_t nlen, const char **addr)
{
	const char *eq = strchr(v, '=');

	if (eq && (size_t)(eq - v) < nlen) {
		memcpy(name, v, (size_t)(eq - v));
		name[eq - v] = '\0';
		*addr = eq + 1;
	} else {
		snprintf(name, nlen, "%s", defname);
		*addr = v;
	}
}


/*
 * --config FILE: a YAML file whose "serve:" mapping holds the same settings
 * as the options (syslog_udp, syslog_tcp, syslog_source, tail, rules,
 * format, timezone, commit_every_ms, batch, max_queue, followup_after,
 * followup_every, stats_every, tail_from_start); lists or single values.
 * Other top-level sections (http: ...) belong to other parts and are left
 * alone.  A key the serve section does not know is an error.  Options given
 * on the command line win over the file.  Values are copied into strs (the
 * caller frees it) so they outlive the YAML document.
 */
struct serve_cfg {
	struct ev_strv *udp, *tcp, *tails, *rules;
	const char **syslog_source, **format, **tz, **commit_ms, **batch, **queue, **after,
	    **fu_every, **stats;
	int *from_start;
	char **strs;
	size_t nstrs;
};

static const char *
keep(struct serve_cfg *c, const char *v)
{
	c->strs = ev_xrealloc(c->strs, (c->nstrs + 1) * sizeof(char *));
	c->strs[c->nstrs] = ev_xstrdup(v);
	return c->strs[c->nstrs++];
}

static int
cfg_value(struct serve_cfg *c, yaml_document_t *doc, const char *key, yaml_node_t *v,
    struct ev_err *err)
{
	static const char *const lists[] = { "syslog_udp", "syslog_tcp", "tail", "rules" };
	struct ev_strv *lv[] = { c->udp, c->tcp, c->tails, c->rules };
	const char *const scal[] = { "syslog_source", "format", "timezone", "commit_every_ms",
		"batch", "max_queue", "followup_after", "followup_every", "stats_every" };
	const char **sv[] = { c->syslog_source, c->format, c->tz, c->commit_ms, c->batch, c->queue,
		c->after, c->fu_every, c->stats };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(key, lists[i]) != 0)
			continue;
		if (lv[i]->n > 0)
			return EV_OK; /* given on the command line */
		if (v->type == YAML_SCALAR_NODE) {
			lv[i]->v = ev_xrealloc(lv[i]->v, (lv[i]->n + 1) * sizeof(char *));
			lv[i]->v[lv[i]->n++] = keep(c, (const char *)v->data.scalar.value);
			return EV_OK;
		}
		if (v->type != YAML_SEQUENCE_NODE)
			return ev_errf(err, EV_EINVAL, "config: serve.%s must be a value or a list", key);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(doc, *it);
			if (e == NULL || e->type != YAML_SCALAR_NODE)
				return ev_errf(err, EV_EINVAL, "config: serve.%s: items must be values", key);
			lv[i]->v = ev_xrealloc(lv[i]->v, (lv[i]->n + 1) * sizeof(char *));
			lv[i]->v[lv[i]->n++] = keep(c, (const char *)e->data.scalar.value);
		}
		return EV_OK;
	}
	if (v->type != YAML_SCALAR_NODE)
		return ev_errf(err, EV_EINVAL, "config: serve.%s must be a single value", key);
	if (strcmp(key, "tail_from_start") == 0) {
		const char *b = (const char *)v->data.scalar.value;
		if (strcmp(b, "true") == 0 || strcmp(b, "yes") == 0)
			*c->from_start = 1;
		else if (strcmp(b, "false") != 0 && strcmp(b, "no") != 0)
			return ev_errf(err, EV_EINVAL, "config: serve.tail_from_start must be true or false");
		return EV_OK;
	}
	for (size_t i = 0; i < sizeof(scal) / sizeof(scal[0]); i++) {
		if (strcmp(key, scal[i]) != 0)
			continue;
		if (*sv[i] == NULL)
			*sv[i] = keep(c, (const char *)v->data.scalar.value);
		return EV_OK;
	}
	return ev_errf(err, EV_EINVAL, "config: unknown key serve.%s", key);
}

static int
load_config(const char *path, struct serve_cfg *c, struct ev_err *err)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *sec = NULL;
	int rc = EV_OK;

	if (f == NULL)
		return ev_errf(err, EV_EINVAL, "config %s: %s", path, strerror(errno));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = ev_errf(err, EV_EINVAL, "config %s:%zu: %s", path, parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "malformed YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
			if (k && k->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k->data.scalar.value, "serve") == 0)
				sec = yaml_document_get_node(&doc, pr->value);
		}
	} else if (root) {
		rc = ev_errf(err, EV_EINVAL, "config %s: the top level must be a mapping", path);
	}
	if (rc == EV_OK && sec && sec->type != YAML_MAPPING_NODE)
		rc = ev_errf(err, EV_EINVAL, "config %s: serve: must be a mapping", path);
	for (yaml_node_pair_t *pr = sec && rc == EV_OK ? sec->data.mapping.pairs.start : NULL;
	     pr && pr < sec->data.mapping.pairs.top && rc == EV_OK; pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			rc = ev_errf(err, EV_EINVAL, "config %s: serve: keys must be names", path);
		else
			rc = cfg_value(c, &doc, (const char *)k->data.scalar.value, v, err);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* 1 when the YAML file has a top-level "NAME:" key (the http: section is read by src/http). */
static int
has_section(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t n = strlen(name);
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, name, n) == 0 && line[n] == ':';
	fclose(f);
	return found;
}

int
cmd_serve(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_strv udp = { NULL, 0 }, tcp = { NULL, 0 }, tails = { NULL, 0 },
		       rules_paths = { NULL, 0 };
	const char *format = NULL, *tz = NULL, *after_s = NULL, *fu_every_s = NULL,
		   *stats_s = NULL, *commit_ms_s = NULL, *batch_s = NULL, *queue_s = NULL,
		   *syslog_source = NULL, *config = NULL, *listen = NULL, *tls_cert = NULL,
		   *tls_key = NULL, *tick_s = NULL, *timesync_server = NULL, *cp_every_s = NULL,
		   *tsa_url = NULL, *tsa_ca = NULL;
	struct ev_strv webhooks = { NULL, 0 };
	int no_http = 0, no_timesync = 0, demo = 0;
	struct ev_http_config hc;
	struct ev_http *http = NULL;
	struct ev_sched_config sc;
	struct ev_sched *sched = NULL;
	int64_t tick_every = 60LL * 1000000, cp_every = 3600LL * 1000000;
	struct serve_cfg cfg;
	int no_udp = 0, no_tcp = 0, no_rules = 0, from_start = 0, npos, status = 0, sig;
	int64_t fu_every = 60LL * 1000000, stats_every = 60LL * 1000000;
	uint64_t commit_ms = 200, batch = EV_INGEST_BATCH, max_queue = 100000;
	struct ev_ingest_opts o;
	struct ev_err err = { 0 };
	struct ev_rules *rules = NULL;
	struct ev_loop *lp = NULL;
	struct serve s;
	char bound[160], name[EV_SOURCE_NAME_MAX + 2];
	const struct ev_opt opts[] = {
		{ "config", "FILE", "YAML file with a serve: section (options win)", &config, NULL,
		    NULL },
		{ "syslog-udp", "[NAME=]ADDR", "syslog UDP listener (repeatable; default "
					     "127.0.0.1:5514)", NULL, NULL, &udp },
		{ "syslog-tcp", "[NAME=]ADDR", "syslog TCP listener, LF or octet-counted frames "
					     "(repeatable; default 127.0.0.1:5514)", NULL, NULL, &tcp },
		{ "no-syslog-udp", NULL, "no UDP listener", NULL, &no_udp, NULL },
		{ "no-syslog-tcp", NULL, "no TCP listener", NULL, &no_tcp, NULL },
		{ "syslog-source", "NAME", "source name of syslog listeners without NAME= "
					    "(default syslog)", &syslog_source, NULL, NULL },
		{ "tail", "SOURCE=PATH", "follow a file (repeatable; survives rotation)", NULL, NULL,
		    &tails },
		{ "tail-from-start", NULL, "read tailed files that exist at start from their "
					   "beginning (default: from their end)", NULL, &from_start,
		    NULL },
		{ "rules", "PATH", "Sigma rule file or directory (repeatable; default: built-in pack)",
		    NULL, NULL, &rules_paths },
		{ "no-rules", NULL, "record lines only", NULL, &no_rules, NULL },
		{ "format", "F", "auto (default), rfc5424, rfc3164 or json", &format, NULL, NULL },
		{ "timezone", "TZ", "IANA zone of RFC 3164 local times (default UTC)", &tz, NULL,
		    NULL },
		{ "commit-every", "MS", "commit queued lines at least this often (default 200)",
		    &commit_ms_s, NULL, NULL },
		{ "batch", "N", "commit when this many lines are queued (default 5000)", &batch_s, NULL,
		    NULL },
		{ "max-queue", "N", "stop reading input at this many uncommitted lines (default "
				    "100000)", &queue_s, NULL, NULL },
		{ "followup-after", "DURATION", "raise a follow-up for alerts open this long "
						"(default 4h or $EVIDENT_FOLLOWUP_AFTER)", &after_s,
		    NULL, NULL },
		{ "followup-every", "DURATION", "how often to look for them (default 60s)",
		    &fu_every_s, NULL, NULL },
		{ "stats-every", "DURATION", "stats line on stderr this often (default 60s)", &stats_s,
		    NULL, NULL },
		{ "listen", "ADDR:PORT", "web UI and JSON API (default $EVIDENT_LISTEN or 127.0.0.1:8319; port 0 picks one)", &listen, NULL,
		    NULL },
		{ "no-http", NULL, "no web UI and API", NULL, &no_http, NULL },
		{ "tls-cert", "FILE", "serve HTTPS with this PEM certificate (and --tls-key)",
		    &tls_cert, NULL, NULL },
		{ "tls-key", "FILE", "the PEM private key for --tls-cert", &tls_key, NULL, NULL },
		{ "webhook", "URL", "POST clock alerts here (repeatable)", NULL, NULL, &webhooks },
		{ "tick-every", "DURATION", "how often clocks and cadence are evaluated (default 60s)",
		    &tick_s, NULL, NULL },
		{ "timesync-server", "HOST:PORT", "SNTP server of the daily time-sync check "
						  "(default: chrony if present, else "
						  "$EVIDENT_NTP_SERVER or pool.ntp.org)",
		    &timesync_server, NULL, NULL },
		{ "no-timesync", NULL, "no daily time-sync check", NULL, &no_timesync, NULL },
		{ "checkpoint-every", "DURATION", "sign a checkpoint this often when the ledger grew "
						  "(default 1h; 0s: never)", &cp_every_s, NULL, NULL },
		{ "tsa", "URL", "anchor each scheduled checkpoint with an RFC 3161 time-stamp",
		    &tsa_url, NULL, NULL },
		{ "tsa-ca", "FILE", "CA certificate the TSA's certificate must chain to", &tsa_ca,
		    NULL, NULL },
		{ "demo", NULL, "record sample log lines, their alerts and an incident once, "
				"so the first page is not empty (not for production ledgers)",
		    NULL, &demo, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	memset(&cfg, 0, sizeof(cfg));
	s.cli = cli;
	if (ev_cli_parse(cli, argc, argv, opts,
		"evident serve [--syslog-udp [NAME=]ADDR]... [--syslog-tcp [NAME=]ADDR]...\n"
		"       [--no-syslog-udp] [--no-syslog-tcp] [--tail SOURCE=PATH]... [--rules PATH]...\n"
		"       [--followup-after DURATION] [--commit-every MS] [--stats-every DURATION]\n"
		"       [--listen ADDR:PORT | --no-http] [--tls-cert FILE --tls-key FILE]\n"
		"       [--webhook URL]... [--tick-every DURATION] [--timesync-server HOST:PORT]\n"
		"       [--no-timesync] [--checkpoint-every DURATION] [--tsa URL [--tsa-ca FILE]]\n"
		"       [--demo] [--config FILE]",
		&npos, &status))
		goto out;
	status = 2;
	if (npos) {
		ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
		goto out;
	}
	if (config) {
		cfg.udp = &udp;
		cfg.tcp = &tcp;
		cfg.tails = &tails;
		cfg.rules = &rules_paths;
		cfg.syslog_source = &syslog_source;
		cfg.format = &format;
		cfg.tz = &tz;
		cfg.commit_ms = &commit_ms_s;
		cfg.batch = &batch_s;
		cfg.queue = &queue_s;
		cfg.after = &after_s;
		cfg.fu_every = &fu_every_s;
		cfg.stats = &stats_s;
		cfg.from_start = &from_start;
		if (load_config(config, &cfg, &err) != EV_OK) {
			status = ev_cli_fail(cli, &err);
			goto out;
		}
	}
	if (syslog_source == NULL)
		syslog_source = "syslog";
	if (format == NULL || strcmp(format, "auto") == 0)
		o.format = EV_FMT_AUTO;
	else if (strcmp(format, "rfc5424") == 0)
		o.format = EV_FMT_RFC5424;
	else if (strcmp(format, "rfc3164") == 0)
		o.format = EV_FMT_RFC3164;
	else if (strcmp(format, "json") == 0)
		o.format = EV_FMT_JSON;
	else {
		ev_cli_usage(cli, "--format must be auto, rfc5424, rfc3164 or json");
		goto out;
	}
	s.followup_after = EV_ALERTS_FOLLOWUP_DEFAULT_US;
	if (!after_s && getenv("EVIDENT_FOLLOWUP_AFTER"))
		after_s = getenv("EVIDENT_FOLLOWUP_AFTER");
	if (duration_opt(cli, "followup-after", after_s, &s.followup_after) ||
	    duration_opt(cli, "followup-every", fu_every_s, &fu_every) ||
	    duration_opt(cli, "stats-every", stats_s, &stats_every) ||
	    duration_opt(cli, "tick-every", tick_s, &tick_every))
		goto out;
	if (cp_every_s && strcmp(cp_every_s, "0") != 0 && strcmp(cp_every_s, "0s") != 0 &&
	    duration_opt(cli, "checkpoint-every", cp_every_s, &cp_every))
		goto out;
	if (cp_every_s && (strcmp(cp_every_s, "0") == 0 || strcmp(cp_every_s, "0s") == 0))
		cp_every = 0;
	if (tsa_ca && !tsa_url) {
		ev_cli_usage(cli, "--tsa-ca goes with --tsa");
		goto out;
	}
	if ((tls_cert == NULL) != (tls_key == NULL)) {
		ev_cli_usage(cli, "--tls-cert and --tls-key go together");
		goto out;
	}
	if (commit_ms_s && (ev_cli_u64(commit_ms_s, &commit_ms) != 0 || commit_ms == 0 ||
			       commit_ms > 60000)) {
		ev_cli_usage(cli, "--commit-every must be 1 to 60000 milliseconds");
		goto out;
	}
	if (batch_s && (ev_cli_u64(batch_s, &batch) != 0 || batch == 0 || batch > 1000000)) {
		ev_cli_usage(cli, "--batch must be a number from 1 to 1000000");
		goto out;
	}
	if (queue_s && (ev_cli_u64(queue_s, &max_queue) != 0 || max_queue < batch ||
			   max_queue > 10000000)) {
		ev_cli_usage(cli, "--max-queue must be at least --batch and at most 10000000");
		goto out;
	}
	if (!ev_source_name_ok(syslog_source)) {
		ev_cli_usage(cli, "--syslog-source '%s' is not a valid source name", syslog_source);
		goto out;
	}
	if (no_rules && rules_paths.n) {
		ev_cli_usage(cli, "--no-rules and --rules contradict each other");
		goto out;
	}
	status = 1;
	if (!no_rules &&
	    ev_ingest_rules_load(rules_paths.v, rules_paths.n, slog, NULL, &rules, &err) != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto out;
	}
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &s.l, &err) != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto out;
	}
	if (demo) {
		char id[64];
		if (ev_serve_demo(s.l, rules, id, sizeof(id), &err) != EV_OK) {
			status = ev_cli_fail(cli, &err);
			goto out;
		}
		if (id[0])
			slogf("demo: sample log recorded, alerts raised, incident %s opened and "
			      "classified significant (its 24-hour clocks run)", id);
		else
			slogf("demo: already recorded in this ledger");
	}
	o.timezone = tz;
	o.rules = rules;
	o.batch = (size_t)batch;
	o.warn = slog;
	ev_ingest_new(s.l, &o, &s.p, &err);
	if (ev_loop_new(&lp, &err) != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto out;
	}
	ev_intake_new(lp, s.p, (size_t)max_queue, slog, NULL, &s.in);
	{
		struct ev_buf sp = EV_BUF_INIT;
		ev_buf_addf(&sp, "%s/tails.state", ev_ledger_dir(s.l));
		ev_intake_tail_state(s.in, sp.p);
		ev_buf_free(&sp);
	}
	if (!no_udp && udp.n == 0) {
		udp.v = ev_xrealloc(udp.v, sizeof(char *));
		udp.v[udp.n++] = "127.0.0.1:5514";
	}
	if (!no_tcp && tcp.n == 0) {
		tcp.v = ev_xrealloc(tcp.v, sizeof(char *));
		tcp.v[tcp.n++] = "127.0.0.1:5514";
	}
	for (size_t i = 0; !no_udp && i < udp.n; i++) {
		const char *addr;
		split_named(udp.v[i], syslog_source, name, sizeof(name), &addr);
		if (ev_intake_udp(s.in, name, addr, bound, sizeof(bound), &err) != EV_OK) {
			status = ev_cli_fail(cli, &err);
			goto out;
		}
		slogf("syslog udp %s (source %s)", bound, name);
	}
	for (size_t i = 0; !no_tcp && i < tcp.n; i++) {
		const char *addr;
		split_named(tcp.v[i], syslog_source, name, sizeof(name), &addr);
		if (ev_intake_tcp(s.in, name, addr, bound, sizeof(bound), &err) != EV_OK) {
			status = ev_cli_fail(cli, &err);
			goto out;
		}
		slogf("syslog tcp %s (source %s)", bound, name);
	}
	for (size_t i = 0; i < tails.n; i++) {
		const char *path;
		if (strchr(tails.v[i], '=') == NULL) {
			status = ev_cli_usage(cli, "--tail needs SOURCE=PATH, got '%s'", tails.v[i]);
			goto out;
		}
		split_named(tails.v[i], "", name, sizeof(name), &path);
		if (ev_intake_tail(s.in, name, path, from_start, &err) != EV_OK) {
			status = ev_cli_fail(cli, &err);
			goto out;
		}
		slogf("tail %s (source %s)", path, name);
	}
	if (!no_http) {
		ev_http_config_defaults(&hc, ev_ledger_dir(s.l));
		if (config && has_section(config, "http") &&
		    ev_http_config_load(config, &hc, &err) != EV_OK) {
			status = ev_cli_fail(cli, &err);
			goto out;
		}
		if (listen == NULL)
			listen = getenv("EVIDENT_LISTEN");
		if (listen)
			snprintf(hc.listen, sizeof(hc.listen), "%s", listen);
		if (tls_cert) {
			snprintf(hc.tls_cert, sizeof(hc.tls_cert), "%s", tls_cert);
			snprintf(hc.tls_key, sizeof(hc.tls_key), "%s", tls_key);
		}
		if (ev_http_start(&hc, &http, &err) != EV_OK) {
			status = ev_cli_fail(cli, &err);
			goto out;
		}
		slogf("web UI and API on %s://%s", ev_http_tls(http) ? "https" : "http",
		    ev_http_bound(http));
	}
	ev_sched_config_defaults(&sc, ev_ledger_dir(s.l));
	sc.tick_us = tick_every;
	sc.webhooks = webhooks.v;
	sc.nwebhooks = webhooks.n;
	sc.timesync = !no_timesync;
	sc.timesync_server = timesync_server;
	sc.checkpoint_every_us = cp_every;
	sc.tsa_url = tsa_url;
	sc.tsa_ca = tsa_ca;
	sc.log = slog;
	if (ev_sched_start(&sc, &sched, &err) != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto out;
	}
	ev_loop_add_timer(lp, (int64_t)commit_ms * 1000, commit_timer, &s);
	ev_loop_add_timer(lp, fu_every, followup_timer, &s);
	ev_loop_add_timer(lp, stats_every, stats_timer, &s);
	slogf("ready: %zu rules, alerts followed up after %llds, pid %ld",
	    rules ? ev_rules_count(rules) : (size_t)0, (long long)(s.followup_after / 1000000),
	    (long)getpid());
	sig = ev_loop_run(lp);
	slogf("stopping (%s): reading what was accepted, committing",
	    sig == 15 ? "SIGTERM" : sig == 2 ? "SIGINT" : "stopped");
	ev_http_stop(http);
	http = NULL;
	ev_intake_drain(s.in);
	status = 0;
	for (int attempt = 0; ev_ingest_pending(s.p) > 0; attempt++) {
		if (flush(&s) == 0)
			continue;
		if (attempt >= 10) {
			slogf("%zu accepted lines could NOT be recorded", ev_ingest_pending(s.p));
			status = 1;
			break;
		}
		sleep(1);
	}
	stats_line(&s, "final");
out:
	ev_http_stop(http);
	ev_sched_stop(sched);
	free(webhooks.v);
	ev_intake_free(s.in);
	ev_loop_free(lp);
	ev_ingest_free(s.p);
	ev_ledger_close(s.l);
	if (rules)
		ev_rules_free(rules);
	for (size_t i = 0; i < cfg.nstrs; i++)
		free(cfg.strs[i]);
	free(cfg.strs);
	free(udp.v);
	free(tcp.v);
	free(tails.v);
	free(rules_paths.v);
	return status;
}
