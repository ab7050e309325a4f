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
#include "util/jscan.h"
#include "util/json.h"

/*
 * One batch: every line's strings live in one arena (offsets, fixed up to
 * pointers just before the append, because the arena may move as it grows).
 */
struct batch {
	struct ev_buf arena;
	size_t (*off)[4]; /* kind, subject, actor, body offsets; body length below */
	size_t *blen;
	struct ev_entry_in *in;
	size_t n, cap;
};

static void
arena_str(struct ev_buf *a, const char *s, size_t n, size_t *off)
{
	*off = a->len;
	ev_buf_add(a, s, n);
	ev_buf_addc(a, '\0');
}

/* Parse one line into the batch; 0, or EV_EINVAL with err set. */
static int
take_line(struct batch *b, const char *line, size_t len, uint64_t lineno, const char *actor,
    struct ev_err *err)
{
	static const char *const keys[] = { "kind", "subject", "actor", "body" };
	struct ev_jspan sp[4];
	size_t i = b->n;

	if (ev_jscan_members(line, len, keys, 4, sp) == 0 && sp[0].type == 's' &&
	    sp[1].type == 's' && sp[3].type == 'o' && (sp[2].p == NULL || sp[2].type == 's') &&
	    !sp[0].escaped && !sp[1].escaped && !(sp[2].p && sp[2].escaped)) {
		/* Fast path: plain strings, body passed through as its raw text. */
		arena_str(&b->arena, sp[0].p, sp[0].len, &b->off[i][0]);
		arena_str(&b->arena, sp[1].p, sp[1].len, &b->off[i][1]);
		if (sp[2].p)
			arena_str(&b->arena, sp[2].p, sp[2].len, &b->off[i][2]);
		else
			arena_str(&b->arena, actor, strlen(actor), &b->off[i][2]);
		arena_str(&b->arena, sp[3].p, sp[3].len, &b->off[i][3]);
		b->blen[i] = sp[3].len;
		b->n++;
		return EV_OK;
	}
	/* Slow path: escapes, or malformed input that deserves jansson's message. */
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	const char *k = o ? ev_json_str(o, "kind") : NULL;
	const char *s = o ? ev_json_str(o, "subject") : NULL;
	const char *a = o ? ev_json_str(o, "actor") : NULL;
	json_t *body = o ? json_object_get(o, "body") : NULL;
	char *text;
	int rc = EV_OK;

	if (o == NULL || !json_is_object(o)) {
		rc = ev_errf(err, EV_EINVAL, "line %llu: malformed JSON: %s",
		    (unsigned long long)lineno, o ? "not an object" : je.text);
	} else if (!k || !s || !json_is_object(body) ||
	    (json_object_get(o, "actor") && !a)) {
		rc = ev_errf(err, EV_EINVAL,
		    "line %llu: needs strings \"kind\" and \"subject\", an object \"body\" "
		    "and optionally a string \"actor\"",
		    (unsigned long long)lineno);
	} else if ((text = ev_json_dump(body)) == NULL) {
		rc = ev_errf(err, EV_EINVAL, "line %llu: cannot serialise body",
		    (unsigned long long)lineno);
	} else {
		arena_str(&b->arena, k, strlen(k), &b->off[i][0]);
		arena_str(&b->arena, s, strlen(s), &b->off[i][1]);
		arena_str(&b->arena, a ? a : actor, strlen(a ? a : actor), &b->off[i][2]);
		b->blen[i] = strlen(text);
		arena_str(&b->arena, text, b->blen[i], &b->off[i][3]);
		free(text);
		b->n++;
	}
	json_decref(o);
	return rc;
}

static int
flush_batch(struct batch *b, struct ev_ledger *l, uint64_t *last, struct ev_err *err)
{
	for (size_t i = 0; i < b->n; i++) {
		b->in[i].kind = b->arena.p + b->off[i][0];
		b->in[i].subject = b->arena.p + b->off[i][1];
		b->in[i].actor = b->arena.p + b->off[i][2];
		b->in[i].body = b->arena.p + b->off[i][3];
		b->in[i].body_len = b->blen[i];
	}
	return ev_ledger_append(l, b->in, b->n, last, err);
}

static int
append_stdin(struct ev_cli *cli, struct ev_ledger *l, size_t batch)
{
	struct batch b = { EV_BUF_INIT, NULL, NULL, NULL, 0, batch };
	struct ev_err err = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 0, last = 0, total = 0;
	int rc = 0, eof = 0;
	const char *actor = ev_cli_default_actor(cli);

	b.off = ev_xcalloc(batch, sizeof(*b.off));
	b.blen = ev_xcalloc(batch, sizeof(*b.blen));
	b.in = ev_xcalloc(batch, sizeof(*b.in));
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
			if ((rc = take_line(&b, line, (size_t)len, lineno, actor, &err)) != EV_OK)
				break;
		}
		if (b.n == batch || (eof && b.n > 0)) {
			if ((rc = flush_batch(&b, l, &last, &err)) != EV_OK)
				break;
			total += b.n;
			printf("%llu\n", (unsigned long long)last);
			fflush(stdout);
			b.n = 0;
			ev_buf_reset(&b.arena);
			if (ev_cli_progress_wanted(cli))
				ev_cli_progress("append", total, 0);
		}
	}
	if (total && ev_cli_progress_wanted(cli))
		fputc('\n', stderr);
	free(line);
	free(b.off);
	free(b.blen);
	free(b.in);
	ev_buf_free(&b.arena);
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
