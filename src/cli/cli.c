/*
 * cli.c - option parsing, error lines, progress and entry printing for the
 * commands (see cli.h).
 */
#include "cli/cli.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/timeutil.h"

static const struct ev_opt global_opts[] = {
	{ "data", "DIR", "data directory (default $EVIDENT_DATA or ./evident-data)", NULL, NULL, NULL },
	{ "actor", "NAME", "who acts (default $EVIDENT_ACTOR or unix:LOGIN)", NULL, NULL, NULL },
	{ "json", NULL, "machine-readable output", NULL, NULL, NULL },
	{ "quiet", NULL, "no progress output", NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

static void
print_opts(FILE *f, const struct ev_opt *o)
{
	for (; o && o->name; o++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
		    o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s\n", left, o->help ? o->help : "");
	}
}

static void
usage(FILE *f, const char *synopsis, const struct ev_opt *opts)
{
	fprintf(f, "usage: %s\n", synopsis);
	if (opts && opts->name) {
		fputs("\noptions:\n", f);
		print_opts(f, opts);
	}
	fputs("\nglobal options:\n", f);
	print_opts(f, global_opts);
	fputs("\nexit status: 0 ok, 1 error, 2 usage or invalid input, 3 verification failed\n", f);
}

static int
set_global(struct ev_cli *cli, const char *name, const char *val)
{
	if (strcmp(name, "data") == 0)
		cli->data_dir = val;
	else if (strcmp(name, "actor") == 0)
		cli->actor = val;
	else if (strcmp(name, "json") == 0)
		cli->json = 1;
	else if (strcmp(name, "quiet") == 0)
		cli->quiet = 1;
	else
		return -1;
	return 0;
}

int
ev_cli_parse(struct ev_cli *cli, int argc, char **argv, const struct ev_opt *opts,
    const char *synopsis, int *npos, int *status)
{
	int pos = 1, only_pos = 0;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct ev_opt *o = NULL;
		const char *val = NULL;
		char name[64];
		size_t nlen;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			argv[pos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout, synopsis, opts);
			*status = 0;
			return -1;
		}
		if (a[1] != '-') {
			*status = ev_cli_usage(cli, "unknown option '%s' (options are spelled --long)", a);
			return -1;
		}
		nlen = strcspn(a + 2, "=");
		if (nlen >= sizeof(name)) {
			*status = ev_cli_usage(cli, "unknown option '%s'", a);
			return -1;
		}
		memcpy(name, a + 2, nlen);
		name[nlen] = '\0';
		if (a[2 + nlen] == '=')
			val = a + 3 + nlen;
		for (const struct ev_opt *p = opts; p && p->name; p++)
			if (strcmp(p->name, name) == 0)
				o = p;
		if (o == NULL) {
			for (const struct ev_opt *p = global_opts; p->name; p++)
				if (strcmp(p->name, name) == 0)
					o = p;
		}
		if (o == NULL) {
			*status = ev_cli_usage(cli, "unknown option '--%s' (see --help)", name);
			return -1;
		}
		if (o->arg) {
			if (val == NULL) {
				if (i + 1 >= argc) {
					*status = ev_cli_usage(cli, "option --%s needs a value (%s)",
					    name, o->arg);
					return -1;
				}
				val = argv[++i];
			}
		} else if (val != NULL) {
			*status = ev_cli_usage(cli, "option --%s takes no value", name);
			return -1;
		}
		if (o->str)
			*o->str = val;
		else if (o->flag)
			*o->flag = 1;
		else if (o->list) {
			o->list->v = ev_xrealloc(o->list->v, (o->list->n + 1) * sizeof(char *));
			o->list->v[o->list->n++] = val;
		} else
			set_global(cli, name, val);
	}
	*npos = pos - 1;
	return 0;
}

int
ev_cli_fail(struct ev_cli *cli, const struct ev_err *err)
{
	fprintf(stderr, "evident: %s%s%s\n", cli->cmd ? cli->cmd : "", cli->cmd ? ": " : "",
	    err->msg[0] ? err->msg : ev_strerror(err->code));
	return ev_exit_status(err->code ? err->code : EV_EIO);
}

int
ev_cli_usage(struct ev_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "evident: %s%s", cli->cmd ? cli->cmd : "", cli->cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

void
ev_cli_leading_flags(struct ev_cli *cli, int *argc, char ***argv)
{
	char **v = *argv;
	int n = *argc;

	while (n > 1 && (strcmp(v[1], "--json") == 0 || strcmp(v[1], "--quiet") == 0)) {
		if (v[1][2] == 'j')
			cli->json = 1;
		else
			cli->quiet = 1;
		v[1] = v[0];
		v++;
		n--;
	}
	*argc = n;
	*argv = v;
}

int
ev_cli_open(struct ev_cli *cli, int flags, struct ev_ledger **l, struct ev_err *err)
{
	if (cli->data_dir == NULL)
		cli->data_dir = "./evident-data";
	return ev_ledger_open(cli->data_dir, flags, l, err);
}

int
ev_cli_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
ev_cli_time(struct ev_cli *cli, const char *opt, const char *s, int64_t *us)
{
	if (ev_time_parse(s, us) != 0)
		return ev_cli_usage(cli,
		    "--%s '%s' is not a time (RFC 3339, YYYY-MM-DD, now, now-24h)", opt, s);
	return 0;
}

int
ev_cli_progress_wanted(struct ev_cli *cli)
{
	return !cli->quiet && isatty(STDERR_FILENO);
}

void
ev_cli_progress(const char *what, uint64_t done, uint64_t total)
{
	static struct timespec last;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done < total &&
	    (now.tv_sec - last.tv_sec) * 1000000000L + (now.tv_nsec - last.tv_nsec) < 200000000L)
		return;
	last = now;
	if (total)
		fprintf(stderr, "\r%s: %llu/%llu (%llu%%)", what, (unsigned long long)done,
		    (unsigned long long)total, (unsigned long long)(done * 100 / total));
	else
		fprintf(stderr, "\r%s: %llu", what, (unsigned long long)done);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

void
ev_cli_print_entry(struct ev_cli *cli, const struct ev_entry *e)
{
	struct ev_buf b = EV_BUF_INIT;
	char t[EV_TIME_STRLEN];

	if (cli->json) {
		ev_entry_leaf(e, &b);
		ev_buf_addc(&b, '\n');
	} else {
		ev_time_format(e->time_us, t);
		ev_buf_addf(&b, "%llu\t%s\t%s\t%s\t%s\t", (unsigned long long)e->seq, t, e->kind,
		    e->subject, e->actor);
		ev_buf_add(&b, e->body, e->body_len);
		ev_buf_addc(&b, '\n');
	}
	fwrite(b.p, 1, b.len, stdout);
	ev_buf_free(&b);
}

const char *
ev_cli_default_actor(struct ev_cli *cli)
{
	struct passwd *pw;

	if (cli->actor)
		return cli->actor;
	pw = getpwuid(getuid());
	snprintf(cli->actor_buf, sizeof(cli->actor_buf), "unix:%s", pw ? pw->pw_name : "unknown");
	return cli->actor_buf;
}
