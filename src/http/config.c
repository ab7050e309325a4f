/*
 * config.c - the HTTP server's configuration: defaults, and a YAML file
 * (libyaml document API) of flat "key: value" lines, optionally under an
 * "http:" mapping.  Unknown keys are errors, so a typo never silently leaves
 * a default (say, public_report) in force.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "http/http.h"

void
ev_http_config_defaults(struct ev_http_config *cfg, const char *data_dir)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", data_dir ? data_dir : "evident-data");
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", EV_HTTP_DEFAULT_LISTEN);
	cfg->body_max = 65536;
	cfg->threads = 4;
	cfg->login_failures = 5;
	cfg->login_window_s = 900;
	cfg->report_per_hour = 5;
	cfg->session_ttl_s = 8 * 3600;
	cfg->verify_every_s = 3600;
}

static int
parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

static int
parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int
set_str(char *dst, size_t n, const char *v)
{
	if (strlen(v) >= n)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
set_key(struct ev_http_config *cfg, const char *k, const char *v, struct ev_err *err)
{
	unsigned long long u;
	int bad = 0;

	if (!strcmp(k, "listen"))
		bad = set_str(cfg->listen, sizeof(cfg->listen), v);
	else if (!strcmp(k, "tls_cert"))
		bad = set_str(cfg->tls_cert, sizeof(cfg->tls_cert), v);
	else if (!strcmp(k, "tls_key"))
		bad = set_str(cfg->tls_key, sizeof(cfg->tls_key), v);
	else if (!strcmp(k, "clocks"))
		bad = set_str(cfg->clocks_dir, sizeof(cfg->clocks_dir), v);
	else if (!strcmp(k, "public_report"))
		bad = parse_bool(v, &cfg->public_report);
	else if (!strcmp(k, "body_max")) {
		if (!(bad = parse_uint(v, 1u << 20, &u) || u < 1024))
			cfg->body_max = (size_t)u;
	} else if (!strcmp(k, "threads")) {
		if (!(bad = parse_uint(v, 64, &u) || u == 0))
			cfg->threads = (unsigned)u;
	} else if (!strcmp(k, "login_failures")) {
		if (!(bad = parse_uint(v, 64, &u) || u == 0))
			cfg->login_failures = (unsigned)u;
	} else if (!strcmp(k, "login_window")) {
		if (!(bad = parse_uint(v, 86400, &u) || u == 0))
			cfg->login_window_s = (unsigned)u;
	} else if (!strcmp(k, "report_per_hour")) {
		if (!(bad = parse_uint(v, 64, &u) || u == 0))
			cfg->report_per_hour = (unsigned)u;
	} else if (!strcmp(k, "session_ttl")) {
		if (!(bad = parse_uint(v, 30u * 86400, &u) || u < 60))
			cfg->session_ttl_s = (unsigned)u;
	} else if (!strcmp(k, "verify_every")) {
		if (!(bad = parse_uint(v, 30u * 86400, &u) || (u > 0 && u < 10)))
			cfg->verify_every_s = (unsigned)u;
	} else
		return ev_errf(err, EV_EINVAL, "unknown key '%s'", k);
	return bad ? ev_errf(err, EV_EINVAL, "bad value for %s: '%s'", k, v) : EV_OK;
}

static int
load_mapping(yaml_document_t *doc, yaml_node_t *map, struct ev_http_config *cfg,
    struct ev_err *err)
{
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		int rc;
		if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
			return ev_errf(err, EV_EINVAL, "line %lu: expected key: value",
			    (unsigned long)(k ? k->start_mark.line + 1 : 0));
		if ((rc = set_key(cfg, (const char *)k->data.scalar.value,
			 (const char *)v->data.scalar.value, err)) != EV_OK) {
			char m[sizeof(err->msg)];
			snprintf(m, sizeof(m), "%s", err->msg);
			return ev_errf(err, rc, "line %lu: %s", (unsigned long)k->start_mark.line + 1, m);
		}
	}
	return EV_OK;
}

int
ev_http_config_load(const char *path, struct ev_http_config *cfg, struct ev_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	FILE *f = fopen(path, "rb");
	int rc = EV_OK, have_doc = 0;

	if (!f)
		return ev_errf(err, EV_ENOTFOUND, "%s: %s", path, strerror(errno));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = ev_errf(err, EV_EINVAL, "%s:%lu: %s", path,
		    (unsigned long)parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "YAML error");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		goto out; /* an empty file: defaults */
	if (root->type != YAML_MAPPING_NODE) {
		rc = ev_errf(err, EV_EINVAL, "%s: expected a mapping of key: value", path);
		goto out;
	}
	/* An "http:" section, when present, holds the keys (the serve file may have others). */
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, "http") == 0 && v &&
		    v->type == YAML_MAPPING_NODE) {
			root = v;
			break;
		}
	}
	if ((rc = load_mapping(&doc, root, cfg, err)) != EV_OK) {
		char m[sizeof(err->msg)];
		snprintf(m, sizeof(m), "%s", err->msg);
		ev_errf(err, rc, "%s: %s", path, m);
	}
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}
