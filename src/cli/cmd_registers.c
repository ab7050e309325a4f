/*
 * cmd_registers.c - the register commands: `evident vuln`, `securitytest`,
 * `change`, `backup`, `bcp`, `risk`, `policy`, `supplier`, `logreview`,
 * `termination`.  One generic driver reads the register table
 * (src/registers/table.c): each action's options are its fields, so a new
 * field needs no CLI code.  Every register also has `list [--open]` and
 * `show ID`; vuln adds `import FILE` and `clocks`.
 *
 * Output: a creating action prints the new id, an action on an item prints
 * the entry's seq; --json prints {"id","seq"}.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "registers/registers.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/timeutil.h"

#define MAX_FIELDS 16

static void
print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (s)
		puts(s);
	free(s);
}

/*
 * Open for reading.  A writable open first creates projection tables that a
 * data directory made before this register existed lacks; a read-only copy
 * (an assessor's) still opens read-only.
 */
static int
open_read(struct ev_cli *cli, struct ev_ledger **l, struct ev_err *err)
{
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, l, err) == EV_OK)
		return EV_OK;
	ev_err_clear(err);
	return ev_cli_open(cli, EV_LEDGER_READONLY | EV_LEDGER_NOKEY, l, err);
}

static int
reg_usage(const struct ev_register *r, FILE *f)
{
	fprintf(f, "usage: evident %s ACTION [OPTIONS]   (%s)\n\nactions:\n", r->name, r->summary);
	for (const struct ev_reg_action *a = r->actions; a->name; a++)
		fprintf(f, "  %-14s %s%s\n", a->name, a->prefix ? "" : "ID: ", a->help);
	fprintf(f, "  %-14s %s\n", "list", "list items ([--open] [--json])");
	fprintf(f, "  %-14s %s\n", "show", "ID: one item and its history");
	if (strcmp(r->name, "vuln") == 0) {
		fprintf(f, "  %-14s %s\n", "import", "FILE: record scan results (JSON array)");
		fprintf(f, "  %-14s %s\n", "clocks", "48 h clocks of critical vulnerabilities");
	}
	fprintf(f, "\n'evident %s ACTION --help' lists an action's options.\n", r->name);
	return 0;
}

static const char *
placeholder(const struct ev_reg_field *f)
{
	switch (f->type) {
	case EV_RF_ENUM: return f->values;
	case EV_RF_TIME: return "T";
	case EV_RF_DURATION: return "DURATION";
	case EV_RF_NUMBER: return "N";
	case EV_RF_YESNO: return "yes|no";
	case EV_RF_REF: return "ID";
	default: return "TEXT";
	}
}

static int
do_action(struct ev_cli *cli, const struct ev_register *r, const struct ev_reg_action *a,
    int argc, char **argv)
{
	struct ev_opt opts[MAX_FIELDS + 1];
	const char *strs[MAX_FIELDS] = { 0 };
	struct ev_strv lists[MAX_FIELDS];
	struct ev_reg_values vals[MAX_FIELDS];
	struct ev_buf syn = EV_BUF_INIT;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *body = NULL;
	char id[EV_REG_ID_MAX] = "";
	uint64_t seq = 0;
	size_t nf = 0;
	int npos, status, rc;

	memset(opts, 0, sizeof(opts));
	memset(lists, 0, sizeof(lists));
	memset(vals, 0, sizeof(vals));
	ev_buf_addf(&syn, "evident %s %s%s", r->name, a->name, a->prefix ? "" : " ID");
	for (; a->fields[nf].opt; nf++) {
		const struct ev_reg_field *f = &a->fields[nf];
		if (nf >= MAX_FIELDS) {
			ev_buf_free(&syn);
			return ev_cli_usage(cli, "too many fields");
		}
		opts[nf].name = f->opt;
		opts[nf].arg = placeholder(f);
		opts[nf].help = f->help;
		if (f->type == EV_RF_LIST)
			opts[nf].list = &lists[nf];
		else
			opts[nf].str = &strs[nf];
		ev_buf_addf(&syn, " %s--%s %s%s%s", f->required ? "" : "[", f->opt, placeholder(f),
		    f->type == EV_RF_LIST ? "..." : "", f->required ? "" : "]");
	}
	rc = ev_cli_parse(cli, argc, argv, opts, syn.p, &npos, &status);
	ev_buf_free(&syn);
	if (rc) {
		rc = status;
		goto out;
	}
	if (a->prefix ? npos != 0 : npos != 1) {
		rc = a->prefix ? ev_cli_usage(cli, "%s %s: unexpected argument '%s'", r->name,
				     a->name, argv[1])
			       : ev_cli_usage(cli, "%s %s needs one item id", r->name, a->name);
		goto out;
	}
	for (size_t i = 0; i < nf; i++) {
		vals[i].str = strs[i];
		vals[i].list = lists[i].v;
		vals[i].nlist = lists[i].n;
	}
	if ((rc = ev_registers_body(a, vals, &body, &err)) != EV_OK) {
		rc = ev_cli_usage(cli, "%s", err.msg);
		goto out;
	}
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK ||
	    ev_registers_record(l, r, a, a->prefix ? NULL : argv[1], ev_cli_default_actor(cli),
		body, id, &seq, &err) != EV_OK) {
		rc = err.code == EV_EINVAL ? ev_cli_usage(cli, "%s", err.msg) : ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json)
		printf("{\"id\":\"%s\",\"seq\":%llu}\n", id, (unsigned long long)seq);
	else if (a->prefix)
		printf("%s\n", id);
	else
		printf("%llu\n", (unsigned long long)seq);
	rc = 0;
out:
	json_decref(body);
	ev_ledger_close(l);
	for (size_t i = 0; i < nf; i++)
		free(lists[i].v);
	return rc;
}

static int
do_list(struct ev_cli *cli, const struct ev_register *r, int argc, char **argv)
{
	int open = 0, npos, status, rc = 0;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *items = NULL, *v;
	size_t i;
	const struct ev_opt opts[] = {
		{ "open", NULL, "leave closed items out", NULL, &open, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};
	char syn[128];

	snprintf(syn, sizeof(syn), "evident %s list [--open] [--json]", r->name);
	if (ev_cli_parse(cli, argc, argv, opts, syn, &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (open_read(cli, &l, &err) != EV_OK ||
	    ev_registers_list(l, r, open, &items, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		print_json(items);
	} else {
		json_array_foreach(items, i, v) {
			json_t *b = json_object_get(v, "body");
			const char *sev = ev_json_str(b, "severity");
			printf("%s\t%s\t%s\t%s%s%s\n", ev_json_str(v, "id"), ev_json_str(v, "state"),
			    ev_json_str(v, "recorded"), sev ? sev : "", sev ? "\t" : "",
			    ev_json_str(v, "title"));
		}
	}
out:
	json_decref(items);
	ev_ledger_close(l);
	return rc;
}

static int
do_show(struct ev_cli *cli, const struct ev_register *r, int argc, char **argv)
{
	int npos, status, rc = 0;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *item = NULL;
	const struct ev_opt opts[] = { { NULL, NULL, NULL, NULL, NULL, NULL } };
	char syn[128];

	snprintf(syn, sizeof(syn), "evident %s show ID", r->name);
	if (ev_cli_parse(cli, argc, argv, opts, syn, &npos, &status))
		return status;
	if (npos != 1)
		return ev_cli_usage(cli, "show needs one item id");
	if (open_read(cli, &l, &err) != EV_OK ||
	    ev_registers_show(l, argv[1], &item, &err) != EV_OK)
		rc = ev_cli_fail(cli, &err);
	else
		print_json(item);
	json_decref(item);
	ev_ledger_close(l);
	return rc;
}

static int
vuln_import(struct ev_cli *cli, int argc, char **argv)
{
	int npos, status, rc = 0;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	struct ev_buf text = EV_BUF_INIT;
	unsigned added = 0, skipped = 0;
	char chunk[8192];
	size_t n;
	FILE *f;
	const struct ev_opt opts[] = { { NULL, NULL, NULL, NULL, NULL, NULL } };

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident vuln import FILE.json   (a JSON array of {\"title\",\"severity\",\"cvss\","
		"\"asset\",\"id\"}; '-' reads stdin)",
		&npos, &status))
		return status;
	if (npos != 1)
		return ev_cli_usage(cli, "import needs one file");
	f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
	if (f == NULL) {
		ev_errf(&err, EV_ENOTFOUND, "%s: cannot open", argv[1]);
		return ev_cli_fail(cli, &err);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (text.len + n > 64u * 1024 * 1024) {
			ev_errf(&err, EV_EINVAL, "%s: larger than 64 MiB", argv[1]);
			break;
		}
		ev_buf_add(&text, chunk, n);
	}
	if (f != stdin)
		fclose(f);
	if (err.code) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK ||
	    ev_registers_vuln_import(l, text.p ? text.p : "", text.len, ev_cli_default_actor(cli),
		&added, &skipped, &err) != EV_OK) {
		rc = err.code == EV_EINVAL ? ev_cli_usage(cli, "%s", err.msg) : ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json)
		printf("{\"added\":%u,\"skipped\":%u}\n", added, skipped);
	else
		printf("%u recorded, %u already open (skipped)\n", added, skipped);
out:
	ev_buf_free(&text);
	ev_ledger_close(l);
	return rc;
}

static int
vuln_clocks(struct ev_cli *cli, int argc, char **argv)
{
	const char *now_s = NULL;
	int all = 0, raise = 0, npos, status, rc = 0;
	int64_t now = ev_time_now_us();
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *clocks = NULL, *v;
	unsigned raised = 0;
	size_t i;
	const struct ev_opt opts[] = {
		{ "now", "T", "evaluate at T instead of now", &now_s, NULL, NULL },
		{ "all", NULL, "include stopped clocks", NULL, &all, NULL },
		{ "raise", NULL, "raise a vuln.overdue alert for each overdue clock (once)", NULL,
		    &raise, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident vuln clocks [--now T] [--all] [--raise] [--json]", &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (now_s && (rc = ev_cli_time(cli, "now", now_s, &now)) != 0)
		return rc;
	if ((raise ? ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) : open_read(cli, &l, &err)) !=
		EV_OK ||
	    (raise && ev_registers_vuln_tick(l, now, &raised, &err) != EV_OK) ||
	    ev_registers_vuln_clocks(l, now, all, &clocks, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		print_json(clocks);
	} else {
		json_array_foreach(clocks, i, v)
			printf("%s\t%s\t%s\tdue %s\t%s\n", ev_json_str(v, "subject"),
			    ev_json_str(v, "clock"), ev_json_str(v, "state"), ev_json_str(v, "due"),
			    ev_json_str(v, "title"));
		if (raise)
			printf("%u alert%s raised\n", raised, raised == 1 ? "" : "s");
	}
out:
	json_decref(clocks);
	ev_ledger_close(l);
	return rc;
}

static int
reg_main(struct ev_cli *cli, int argc, char **argv, const char *name)
{
	const struct ev_register *r = ev_registers_find(name);
	const struct ev_reg_action *a;

	if (r == NULL)
		return ev_cli_usage(cli, "no register '%s'", name);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return argc < 2 ? (reg_usage(r, stderr), 2) : reg_usage(r, stdout);
	if (strcmp(argv[1], "list") == 0)
		return do_list(cli, r, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return do_show(cli, r, argc - 1, argv + 1);
	if (strcmp(name, "vuln") == 0 && strcmp(argv[1], "import") == 0)
		return vuln_import(cli, argc - 1, argv + 1);
	if (strcmp(name, "vuln") == 0 && strcmp(argv[1], "clocks") == 0)
		return vuln_clocks(cli, argc - 1, argv + 1);
	if ((a = ev_registers_action(r, argv[1])) == NULL)
		return ev_cli_usage(cli, "%s: unknown action '%s' (see evident %s --help)", name,
		    argv[1], name);
	return do_action(cli, r, a, argc - 1, argv + 1);
}

#define REGISTER_CMD(n) \
	int cmd_##n(struct ev_cli *cli, int argc, char **argv) { return reg_main(cli, argc, argv, #n); }

REGISTER_CMD(vuln)
REGISTER_CMD(securitytest)
REGISTER_CMD(change)
REGISTER_CMD(backup)
REGISTER_CMD(bcp)
REGISTER_CMD(risk)
REGISTER_CMD(policy)
REGISTER_CMD(supplier)
REGISTER_CMD(logreview)
REGISTER_CMD(termination)
