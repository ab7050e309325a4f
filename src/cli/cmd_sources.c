/*
 * cmd_sources.c - `evident sources`: the log-source inventory that EN 319
 * 401 7.9.1 asks for (which events are logged, from where), and a coverage
 * view of its categories.
 *
 *   sources add NAME --category C [--category C]... [--description TEXT]
 *   sources list [--json]
 *   sources coverage [--days N] [--now T] [--json]
 *
 * coverage exits 0 even when categories are uncovered: it is a report; the
 * uncovered list is what to act on.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ingest/ingest.h"
#include "util/json.h"
#include "util/timeutil.h"

static void
print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(v);
}

static int
sources_add(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_strv cats = { NULL, 0 };
	const char *desc = NULL;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	uint64_t seq = 0;
	int npos, status;
	const struct ev_opt opts[] = {
		{ "category", "C", "an EN 319 401 7.9.1 log category (repeatable)", NULL, NULL, &cats },
		{ "description", "TEXT", "what the source is", &desc, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident sources add NAME --category C [--category C]... [--description TEXT]\n"
		"categories: network-traffic, user-admin, admin-activity, config-backup,\n"
		"  security-events, resource-use, physical-environmental, network-devices",
		&npos, &status))
		goto out;
	if (npos != 1) {
		status = ev_cli_usage(cli, "sources add needs exactly one source NAME");
		goto out;
	}
	if (cats.n == 0) {
		status = ev_cli_usage(cli, "sources add needs at least one --category");
		goto out;
	}
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK ||
	    ev_sources_register(l, argv[1], cats.v, cats.n, desc, ev_cli_default_actor(cli), &seq,
		&err) != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json)
		printf("{\"seq\":%llu,\"source\":\"%s\"}\n", (unsigned long long)seq, argv[1]);
	else
		printf("%llu\n", (unsigned long long)seq);
	status = 0;
out:
	ev_ledger_close(l);
	free(cats.v);
	return status;
}

static json_t *
source_json(const struct ev_source_info *s)
{
	json_t *o = json_object(), *c = json_array();
	char t[EV_TIME_STRLEN];

	for (size_t i = 0; i < s->ncategories; i++)
		json_array_append_new(c, json_string(s->categories[i]));
	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "description", json_string(s->description ? s->description : ""));
	json_object_set_new(o, "categories", c);
	json_object_set_new(o, "auto", json_boolean(s->auto_registered));
	if (s->registered_us > 0) {
		ev_time_format(s->registered_us, t);
		json_object_set_new(o, "registered", json_string(t));
	} else {
		json_object_set_new(o, "registered", json_null());
	}
	json_object_set_new(o, "lines", json_integer((json_int_t)s->lines));
	if (s->last_seen_us > 0) {
		ev_time_format(s->last_seen_us, t);
		json_object_set_new(o, "last_seen", json_string(t));
	} else {
		json_object_set_new(o, "last_seen", json_null());
	}
	return o;
}

static int
list_json_cb(const struct ev_source_info *s, void *arg)
{
	json_array_append_new(arg, source_json(s));
	return 0;
}

static int
list_text_cb(const struct ev_source_info *s, void *arg)
{
	char t[EV_TIME_STRLEN] = "never";
	struct ev_buf c = EV_BUF_INIT;

	for (size_t i = 0; i < s->ncategories; i++) {
		if (i)
			ev_buf_addc(&c, ',');
		ev_buf_adds(&c, s->categories[i]);
	}
	if (s->last_seen_us > 0)
		ev_time_format(s->last_seen_us, t);
	printf("%-20s %-40s %10llu  %-27s %s%s\n", s->name, c.len ? c.p : "-",
	    (unsigned long long)s->lines, t, s->auto_registered ? "(auto) " : "",
	    s->description ? s->description : "");
	ev_buf_free(&c);
	return 0;
}

static int
sources_list(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	json_t *arr = NULL;
	int npos, status, rc;
	const struct ev_opt opts[] = { { NULL, NULL, NULL, NULL, NULL, NULL } };

	if (ev_cli_parse(cli, argc, argv, opts, "evident sources list [--json]", &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (ev_cli_open(cli, EV_LEDGER_READONLY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (cli->json) {
		arr = json_array();
		rc = ev_sources_list(l, list_json_cb, arr, &err);
		if (rc == EV_OK) {
			json_t *o = json_object();
			json_object_set_new(o, "sources", arr);
			print_json(o);
		} else {
			json_decref(arr);
		}
	} else {
		printf("%-20s %-40s %10s  %-27s %s\n", "NAME", "CATEGORIES", "LINES", "LAST SEEN",
		    "DESCRIPTION");
		rc = ev_sources_list(l, list_text_cb, NULL, &err);
	}
	ev_ledger_close(l);
	return rc == EV_OK ? 0 : ev_cli_fail(cli, &err);
}

struct cov {
	json_t *per_cat[16]; /* arrays of source names, by category index */
	size_t ncat;
};

static int
cov_cb(const struct ev_source_info *s, void *arg)
{
	struct cov *c = arg;

	for (size_t i = 0; i < s->ncategories; i++)
		for (size_t k = 0; k < c->ncat; k++)
			if (strcmp(s->categories[i], ev_source_categories[k]) == 0)
				json_array_append_new(c->per_cat[k], json_string(s->name));
	return 0;
}

static int
sources_coverage(struct ev_cli *cli, int argc, char **argv)
{
	const char *days_s = NULL, *now_s = NULL;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	uint64_t days = 7;
	int64_t now = 0;
	struct cov c;
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "days", "N", "window: the last N days (default 7)", &days_s, NULL, NULL },
		{ "now", "T", "end of the window (default: the clock)", &now_s, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident sources coverage [--days N] [--now T] [--json]", &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (days_s && (ev_cli_u64(days_s, &days) != 0 || days == 0 || days > 36500))
		return ev_cli_usage(cli, "--days must be a number from 1 to 36500");
	if (now_s && (rc = ev_cli_time(cli, "now", now_s, &now)) != 0)
		return rc;
	if (!now_s)
		now = ev_time_now_us();
	memset(&c, 0, sizeof(c));
	for (c.ncat = 0; ev_source_categories[c.ncat] && c.ncat < 16; c.ncat++)
		c.per_cat[c.ncat] = json_array();
	if (ev_cli_open(cli, EV_LEDGER_READONLY, &l, &err) != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto out;
	}
	rc = ev_sources_window(l, now - (int64_t)days * 86400000000LL, now, cov_cb, &c, &err);
	if (rc != EV_OK) {
		status = ev_cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		json_t *o = json_object(), *cats = json_array(), *unc = json_array();
		for (size_t k = 0; k < c.ncat; k++) {
			json_t *e = json_object();
			size_t n = json_array_size(c.per_cat[k]);
			json_object_set_new(e, "category", json_string(ev_source_categories[k]));
			json_object_set(e, "sources", c.per_cat[k]);
			json_object_set_new(e, "covered", json_boolean(n > 0));
			json_array_append_new(cats, e);
			if (n == 0)
				json_array_append_new(unc, json_string(ev_source_categories[k]));
		}
		json_object_set_new(o, "categories", cats);
		json_object_set_new(o, "uncovered", unc);
		json_object_set_new(o, "days", json_integer((json_int_t)days));
		print_json(o);
	} else {
		size_t nunc = 0;
		char t[EV_TIME_STRLEN];
		ev_time_format(now, t);
		printf("log-source coverage, %llu days up to %s (EN 319 401 7.9.1)\n",
		    (unsigned long long)days, t);
		for (size_t k = 0; k < c.ncat; k++) {
			size_t n = json_array_size(c.per_cat[k]);
			printf("  %-24s ", ev_source_categories[k]);
			if (n == 0) {
				printf("UNCOVERED\n");
				nunc++;
				continue;
			}
			for (size_t i = 0; i < n; i++)
				printf("%s%s", i ? ", " : "",
				    json_string_value(json_array_get(c.per_cat[k], i)));
			putchar('\n');
		}
		if (nunc)
			printf("%zu of %zu categories uncovered\n", nunc, c.ncat);
		else
			printf("every category covered\n");
	}
	status = 0;
out:
	for (size_t k = 0; k < c.ncat; k++)
		json_decref(c.per_cat[k]);
	ev_ledger_close(l);
	return status;
}

int
cmd_sources(struct ev_cli *cli, int argc, char **argv)
{
	const char *sub;

	ev_cli_leading_flags(cli, &argc, &argv);
	sub = argc > 1 ? argv[1] : NULL;

	if (sub && strcmp(sub, "add") == 0)
		return sources_add(cli, argc - 1, argv + 1);
	if (sub && strcmp(sub, "list") == 0)
		return sources_list(cli, argc - 1, argv + 1);
	if (sub && strcmp(sub, "coverage") == 0)
		return sources_coverage(cli, argc - 1, argv + 1);
	if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
		printf("usage: evident sources add NAME --category C [--category C]... "
		       "[--description TEXT]\n"
		       "       evident sources list [--json]\n"
		       "       evident sources coverage [--days N] [--now T] [--json]\n");
		return 0;
	}
	return ev_cli_usage(cli, "needs a subcommand: add, list or coverage (see --help)");
}
