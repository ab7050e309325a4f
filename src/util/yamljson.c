/*
 * yamljson.c - YAML data files read as JSON (see yamljson.h).
 */
#include "util/yamljson.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "util/buf.h"

static int
read_file(const char *path, const char *name, size_t max, struct ev_buf *out, struct ev_err *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;
	int rc = EV_OK;

	if (f == NULL)
		return ev_errf(err, errno == ENOENT ? EV_ENOTFOUND : EV_EIO, "%s: %s", name,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > max) {
			rc = ev_errf(err, EV_EINVAL, "%s: larger than %zu bytes", name, max);
			break;
		}
		ev_buf_add(out, chunk, n);
	}
	if (rc == EV_OK && ferror(f))
		rc = ev_errf(err, EV_EIO, "%s: %s", name, strerror(errno));
	fclose(f);
	return rc;
}


static json_t *ynode(yaml_parser_t *p, yaml_event_t *ev, int depth, const char *file,
    struct ev_err *err);

static json_t *
ynext(yaml_parser_t *p, int depth, const char *file, struct ev_err *err)
{
	yaml_event_t ev;
	json_t *v;

	if (!yaml_parser_parse(p, &ev)) {
		ev_errf(err, EV_EINVAL, "%s:%zu: YAML: %s", file, p->problem_mark.line + 1,
		    p->problem ? p->problem : "syntax error");
		return NULL;
	}
	v = ynode(p, &ev, depth, file, err);
	yaml_event_delete(&ev);
	return v;
}

static json_t *
ynode(yaml_parser_t *p, yaml_event_t *ev, int depth, const char *file, struct ev_err *err)
{
	size_t line = ev->start_mark.line + 1;
	json_t *v = NULL, *k, *x;

	if (depth > 32) {
		ev_errf(err, EV_EINVAL, "%s:%zu: nested too deeply", file, line);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (v == NULL)
			ev_errf(err, EV_EINVAL, "%s:%zu: not UTF-8 text", file, line);
		return v;
	case YAML_SEQUENCE_START_EVENT:
		v = json_array();
		for (;;) {
			yaml_event_t e;
			if (!yaml_parser_parse(p, &e)) {
				ev_errf(err, EV_EINVAL, "%s:%zu: YAML: %s", file,
				    p->problem_mark.line + 1, p->problem ? p->problem : "syntax error");
				json_decref(v);
				return NULL;
			}
			if (e.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&e);
				return v;
			}
			x = ynode(p, &e, depth + 1, file, err);
			yaml_event_delete(&e);
			if (x == NULL) {
				json_decref(v);
				return NULL;
			}
			json_array_append_new(v, x);
		}
	case YAML_MAPPING_START_EVENT:
		v = json_object();
		for (;;) {
			yaml_event_t e;
			if (!yaml_parser_parse(p, &e)) {
				ev_errf(err, EV_EINVAL, "%s:%zu: YAML: %s", file,
				    p->problem_mark.line + 1, p->problem ? p->problem : "syntax error");
				json_decref(v);
				return NULL;
			}
			if (e.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&e);
				return v;
			}
			size_t kl = e.start_mark.line + 1;
			k = e.type == YAML_SCALAR_EVENT ? ynode(p, &e, depth + 1, file, err) : NULL;
			yaml_event_delete(&e);
			if (k == NULL) {
				if (err && err->code == EV_OK)
					ev_errf(err, EV_EINVAL, "%s:%zu: keys must be scalars", file, kl);
				json_decref(v);
				return NULL;
			}
			if (json_object_get(v, json_string_value(k))) {
				ev_errf(err, EV_EINVAL, "%s:%zu: duplicate key '%s'", file, kl,
				    json_string_value(k));
				json_decref(k);
				json_decref(v);
				return NULL;
			}
			if ((x = ynext(p, depth + 1, file, err)) == NULL) {
				json_decref(k);
				json_decref(v);
				return NULL;
			}
			json_object_set_new(v, json_string_value(k), x);
			json_decref(k);
		}
	case YAML_ALIAS_EVENT:
		ev_errf(err, EV_EINVAL, "%s:%zu: aliases are not supported; repeat the value", file,
		    line);
		return NULL;
	default:
		ev_errf(err, EV_EINVAL, "%s:%zu: unexpected YAML event", file, line);
		return NULL;
	}
}

json_t *
ev_yaml_load_mapping(const char *path, const char *name, size_t max_bytes, struct ev_err *err)
{
	struct ev_buf text = EV_BUF_INIT;
	yaml_parser_t p;
	yaml_event_t ev;
	json_t *doc = NULL;
	int done = 0;

	if (read_file(path, name, max_bytes, &text, err) != EV_OK)
		return NULL;
	if (!yaml_parser_initialize(&p)) {
		ev_buf_free(&text);
		ev_errf(err, EV_ENOMEM, "%s: cannot start the YAML parser", name);
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)(text.p ? text.p : ""), text.len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			ev_errf(err, EV_EINVAL, "%s:%zu: YAML: %s", name, p.problem_mark.line + 1,
			    p.problem ? p.problem : "syntax error");
			json_decref(doc);
			doc = NULL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_SCALAR_EVENT:
			if (doc) {
				ev_errf(err, EV_EINVAL, "%s: one YAML document only", name);
				json_decref(doc);
				doc = NULL;
				done = 1;
				break;
			}
			if ((doc = ynode(&p, &ev, 0, name, err)) == NULL)
				done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	ev_buf_free(&text);
	if (doc && !json_is_object(doc)) {
		ev_errf(err, EV_EINVAL, "%s: the top level must be a mapping", name);
		json_decref(doc);
		doc = NULL;
	} else if (doc == NULL && err && err->code == EV_OK) {
		ev_errf(err, EV_EINVAL, "%s: empty", name);
	}
	return doc;
}

