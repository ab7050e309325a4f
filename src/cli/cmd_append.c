/*
 * cmd_append.c - `evident append`: one entry from options, or JSON lines
 * {"kind","subject","actor","body"} from standard input in batches.  A seq is
 * printed only after the transaction holding it is durable, so a printed seq
 * is a promise.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/json.h"

static int
append_stdin(struct ev_cli *cli, struct ev_ledger *l, size_t batch)
{
	struct ev_entry_in *in = ev_xcalloc(batch, sizeof(*in));
	json_t **objs = ev_xcalloc(batch, sizeof(*objs));
	char **bodies = ev_xcalloc(batch, sizeof(*bodies));
	struct ev_err err = { 0 };
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	uint64_t lineno = 0, last = 0, total = 0;
	int rc = 0, eof = 0;
	const char *actor = ev_cli_default_actor(cli);

	while (!eof) {
		len = getline(&line, &cap, stdin);
		if (len < 0) {
			eof = 1;
		} else {
			lineno++;
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			if (len == 0)
				continue;
			json_error_t je;
			json_t *o = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &je);
			const char *k = o ? ev_json_str(o, "kind") : NULL;
			const char *s = o ? ev_json_str(o, "subject") : NULL;
			const char *a = o ? ev_json_str(o, "actor") : NULL;
			json_t *b = o ? json_object_get(o, "body") : NULL;
			if (o == NULL || !json_is_object(o)) {
				ev_errf(&err, EV_EINVAL, "line %llu: malformed JSON: %s",
				    (unsigned long long)lineno, o ? "not an object" : je.text);
				json_decref(o);
				rc = -1;
			} else if (!k || !s || !json_is_object(b)) {
				ev_errf(&err, EV_EINVAL,
				    "line %llu: needs string \"kind\" and \"subject\" and an object "
				    "\"body\"",
				    (unsigned long long)lineno);
				json_decref(o);
				rc = -1;
			} else {
				bodies[n] = ev_json_dump(b);
				if (bodies[n] == NULL) {
					ev_errf(&err, EV_EINVAL, "line %llu: cannot serialise body",
					    (unsigned long long)lineno);
					json_decref(o);
					rc = -1;
				} else {
					objs[n] = o;
					in[n].kind = k;
					in[n].subject = s;
					in[n].actor = a ? a : actor;
					in[n].body = bodies[n];
					in[n].body_len = strlen(bodies[n]);
					n++;
				}
			}
			if (rc != 0)
				break;
		}
		if (n == batch || (eof && n > 0)) {
			if (ev_ledger_append(l, in, n, &last, &err) != EV_OK) {
				rc = -1;
				break;
			}
			total += n;
			printf("%llu\n", (unsigned long long)last);
			fflush(stdout);
			for (size_t i = 0; i < n; i++) {
				json_decref(objs[i]);
				free(bodies[i]);
			}
			n = 0;
			if (ev_cli_progress_wanted(cli))
				ev_cli_progress("append", total, 0);
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_decref(objs[i]);
		free(bodies[i]);
	}
	if (total && ev_cli_progress_wanted(cli))
		fputc('\n', stderr);
	free(line);
	free(in);
	free(objs);
	free(bodies);
	if (rc != 0) {
		if (total)
			fprintf(stderr,
			    "evident: append: %llu entries up to seq %llu were recorded; "
			    "nothing from the failing batch\n",
			    (unsigned long long)total, (unsigned long long)last);
		return ev_cli_fail(cli, &err);
	}
	return 0;
}

int
cmd_append(struct ev_cli *cli, int argc, char **argv)
{
	const char *kind = NULL, *subject = NULL, *body = NULL, *batch_s = NULL;
	int use_stdin = 0, npos, status, rc;
	uint64_t seq, batch = 10000;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	const struct ev_opt opts[] = {
		{ "kind", "K", "entry kind, dotted lower-case (incident.opened)", &kind, NULL, NULL },
		{ "subject", "S", "what the entry is about (inc-2026-0007)", &subject, NULL, NULL },
		{ "body", "JSON", "the entry body, a JSON object", &body, NULL, NULL },
		{ "stdin", NULL, "read JSON lines {\"kind\",\"subject\",\"actor\",\"body\"}", NULL,
		    &use_stdin, NULL },
		{ "batch", "N", "entries per transaction with --stdin (default 10000)", &batch_s,
		    NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident append --kind K --subject S [--actor A] --body JSON\n"
		"       evident append --stdin [--batch N]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (batch_s && (ev_cli_u64(batch_s, &batch) != 0 || batch == 0 || batch > 1000000))
		return ev_cli_usage(cli, "--batch must be a number from 1 to 1000000");
	if (use_stdin && (kind || subject || body))
		return ev_cli_usage(cli, "--stdin reads every field from its input; drop --kind, "
					 "--subject and --body");
	if (!use_stdin && (!kind || !subject || !body))
		return ev_cli_usage(cli, "needs --kind, --subject and --body (or --stdin)");
	if ((rc = ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err)) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (use_stdin) {
		rc = append_stdin(cli, l, (size_t)batch);
	} else {
		struct ev_entry_in in = { kind, subject, ev_cli_default_actor(cli), body, 0 };
		if (ev_ledger_append(l, &in, 1, &seq, &err) != EV_OK) {
			rc = ev_cli_fail(cli, &err);
		} else {
			printf("%llu\n", (unsigned long long)seq);
			rc = 0;
		}
	}
	ev_ledger_close(l);
	return rc;
}
