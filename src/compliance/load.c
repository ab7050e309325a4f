/*
 * load.c - reading the requirement catalogue (TSV) and the control mapping
 * (YAML, libyaml) into checked JSON, with every query normalised (kinds as
 * a list, the cadence's interval, default triggers) so that evaluate.c
 * never has to guess.
 *
 * Both files are edited by people: every problem is reported with the file
 * and the line or key, and nothing half-loaded is returned.
 */
#include "compliance/compliance.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registers/registers.h"
#include "util/datadir.h"
#include "util/yamljson.h"
#include "util/buf.h"
#include "util/json.h"

#define DATA_FILE_MAX (4u << 20)

struct ev_compliance {
	json_t *catalogue; /* array of rows */
	json_t *ids;       /* id -> row index */
	json_t *mapping;
};


const char *
ev_compliance_default_dir(const char *dir, char *buf, size_t n)
{
	return ev_data_dir(dir, "EVIDENT_COMPLIANCE", "compliance", buf, n, NULL);
}

static int
read_file(const char *path, struct ev_buf *out, struct ev_err *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return ev_errf(err, errno == ENOENT ? EV_ENOTFOUND : EV_EIO, "%s: %s", path,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > DATA_FILE_MAX) {
			fclose(f);
			return ev_errf(err, EV_EINVAL, "%s: larger than %u bytes", path, DATA_FILE_MAX);
		}
		ev_buf_add(out, chunk, n);
	}
	fclose(f);
	return EV_OK;
}

/* ---- the catalogue ---- */

static const char *const columns[] = { "id", "clause", "topic", "requirement", "evidence",
	"cadence", "source" };
#define NCOL 7

static int
load_catalogue(struct ev_compliance *c, const char *path, struct ev_err *err)
{
	struct ev_buf text = EV_BUF_INIT;
	char *line, *next;
	size_t lineno = 0;
	int rc, header = 0;

	if ((rc = read_file(path, &text, err)) != EV_OK)
		goto out;
	c->catalogue = json_array();
	c->ids = json_object();
	for (line = text.p ? text.p : ""; line && *line; line = next) {
		char *f[NCOL];
		size_t nf = 0;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		size_t ll = strlen(line);
		if (ll && line[ll - 1] == '\r')
			line[ll - 1] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		for (char *p = line; p && nf < NCOL;) {
			char *tab = strchr(p, '\t');
			if (tab)
				*tab = '\0';
			f[nf++] = p;
			p = tab ? tab + 1 : NULL;
			if (nf == NCOL && p) {
				rc = ev_errf(err, EV_EINVAL, "%s:%zu: more than %d columns", path,
				    lineno, NCOL);
				goto out;
			}
		}
		if (nf != NCOL) {
			rc = ev_errf(err, EV_EINVAL, "%s:%zu: %zu columns, want %d", path, lineno, nf,
			    NCOL);
			goto out;
		}
		if (!header) {
			for (size_t i = 0; i < NCOL; i++)
				if (strcmp(f[i], columns[i]) != 0) {
					rc = ev_errf(err, EV_EINVAL,
					    "%s:%zu: header column %zu is '%s', want '%s'", path,
					    lineno, i + 1, f[i], columns[i]);
					goto out;
				}
			header = 1;
			continue;
		}
		json_t *row = json_object();
		int utf8 = 1;
		for (size_t i = 0; i < NCOL; i++) {
			json_t *v = json_string(f[i]);
			utf8 &= v != NULL;
			json_object_set_new(row, columns[i], v ? v : json_null());
		}
		if (f[0][0] == '\0' || f[1][0] == '\0' || strlen(f[0]) > 64 || !utf8) {
			json_decref(row);
			rc = ev_errf(err, EV_EINVAL, "%s:%zu: needs an id and a clause (UTF-8)", path,
			    lineno);
			goto out;
		}
		if (json_object_get(c->ids, f[0])) {
			json_decref(row);
			rc = ev_errf(err, EV_EINVAL, "%s:%zu: duplicate id %s", path, lineno, f[0]);
			goto out;
		}
		json_object_set_new(c->ids, f[0], json_integer((json_int_t)json_array_size(c->catalogue)));
		json_array_append_new(c->catalogue, row);
	}
	if (!header)
		rc = ev_errf(err, EV_EINVAL, "%s: no header line", path);
out:
	ev_buf_free(&text);
	return rc;
}

/* ---- checking and normalising the mapping ---- */

static int
kind_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n >= EV_KIND_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = k[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
			ch == '-' || ch == '_' || (ch == '*' && i == n - 1)))
			return 0;
	}
	return 1;
}

/* kinds: a string or a list of strings -> a list. */
static int
norm_kinds(json_t *q, const char *where, const char *file, struct ev_err *err)
{
	json_t *k = json_object_get(q, "kinds"), *v;
	size_t i;

	if (k == NULL)
		k = json_object_get(q, "kind");
	if (json_is_string(k)) {
		json_t *a = json_array();
		json_array_append(a, k);
		json_object_set_new(q, "kinds", a);
		json_object_del(q, "kind");
		k = a;
	}
	if (!json_is_array(k) || json_array_size(k) == 0)
		return ev_errf(err, EV_EINVAL, "%s: %s: needs kinds: [entry kinds]", file, where);
	json_array_foreach(k, i, v)
		if (!json_is_string(v) || !kind_ok(json_string_value(v)))
			return ev_errf(err, EV_EINVAL, "%s: %s: '%s' is not an entry kind", file,
			    where, json_is_string(v) ? json_string_value(v) : "?");
	return EV_OK;
}

static int
norm_match(json_t *q, const char *where, const char *file, struct ev_err *err)
{
	json_t *m = json_object_get(q, "match"), *v, *s = json_object_get(q, "subject");
	const char *key;

	if (s && (!json_is_string(s) || json_string_length(s) == 0))
		return ev_errf(err, EV_EINVAL, "%s: %s: subject must be a pattern", file, where);
	if (m == NULL)
		return EV_OK;
	if (!json_is_object(m))
		return ev_errf(err, EV_EINVAL, "%s: %s: match must map body members to values",
		    file, where);
	json_object_foreach(m, key, v)
		if (!json_is_string(v))
			return ev_errf(err, EV_EINVAL, "%s: %s: match.%s must be a scalar", file,
			    where, key);
	return EV_OK;
}

static const char *
interval_of(const char *cadence)
{
	static const char *const words[][2] = {
		{ "daily", "P1D" }, { "weekly", "P7D" }, { "monthly", "P1M" },
		{ "quarterly", "P3M" }, { "yearly", "P1Y" }, { "continuous", "P1D" },
	};
	int64_t t;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(cadence, words[i][0]) == 0)
			return words[i][1];
	if (cadence[0] == 'P' && ev_registers_duration_add(0, cadence, &t) == 0 && t > 0)
		return cadence;
	return NULL;
}

static int
norm_query(json_t *q, const char *where, const char *file, struct ev_err *err)
{
	const char *cad = ev_json_str(q, "cadence"), *within = ev_json_str(q, "within");
	json_t *trig = json_object_get(q, "trigger");
	int64_t t;
	int rc;

	if (!json_is_object(q))
		return ev_errf(err, EV_EINVAL, "%s: %s: an evidence query is a mapping", file, where);
	if ((rc = norm_kinds(q, where, file, err)) != EV_OK ||
	    (rc = norm_match(q, where, file, err)) != EV_OK)
		return rc;
	if (json_object_get(q, "cadence") && cad == NULL)
		return ev_errf(err, EV_EINVAL, "%s: %s: cadence must be a word or a duration", file,
		    where);
	if (within && (ev_registers_duration_add(0, within, &t) != 0 || t <= 0))
		return ev_errf(err, EV_EINVAL, "%s: %s: within must be an ISO 8601 duration", file,
		    where);
	if (cad && (strcmp(cad, "after-change") == 0 || strcmp(cad, "per-incident") == 0)) {
		int change = cad[0] == 'a';
		if (trig == NULL) {
			trig = change ? json_pack("{s:[s],s:{s:s}}", "kinds", "change.recorded", "match",
					    "significant", "true")
				      : json_pack("{s:[s]}", "kinds", "incident.opened");
			json_object_set_new(q, "trigger", trig);
		}
		if (!json_is_object(trig))
			return ev_errf(err, EV_EINVAL, "%s: %s: trigger must be a query", file, where);
		if ((rc = norm_kinds(trig, where, file, err)) != EV_OK ||
		    (rc = norm_match(trig, where, file, err)) != EV_OK)
			return rc;
		if (within == NULL)
			json_object_set_new(q, "within", json_string(change ? "P30D" : "P30D"));
		if (json_object_get(q, "same_subject") == NULL)
			json_object_set_new(q, "same_subject", json_string(change ? "false" : "true"));
	} else if (cad) {
		const char *iv = interval_of(cad);
		if (iv == NULL)
			return ev_errf(err, EV_EINVAL,
			    "%s: %s: cadence '%s' must be daily, weekly, monthly, quarterly, yearly, "
			    "continuous, after-change, per-incident or an ISO 8601 duration (P3M)",
			    file, where, cad);
		json_object_set_new(q, "interval", json_string(iv));
	} else if (trig) {
		return ev_errf(err, EV_EINVAL, "%s: %s: trigger needs cadence after-change or "
		    "per-incident", file, where);
	}
	return EV_OK;
}

static int
check_mapping(struct ev_compliance *c, const char *file, struct ev_err *err)
{
	json_t *m = c->mapping, *controls = json_object_get(m, "controls");
	json_t *reqs = json_object_get(m, "requirements"), *v, *q, *ev;
	const char *key;
	char where[160];
	size_t i;
	int rc;

	if (!json_is_object(controls) || !json_is_object(reqs))
		return ev_errf(err, EV_EINVAL, "%s: needs 'controls' and 'requirements' mappings",
		    file);
	json_object_foreach(controls, key, v) {
		if (!json_is_object(v))
			return ev_errf(err, EV_EINVAL, "%s: control %s must be a mapping", file, key);
		for (const char *const *f = (const char *const[]){ "narrative", "owner",
			 "verification", NULL };
		     *f; f++)
			if (ev_json_str(v, *f) == NULL)
				return ev_errf(err, EV_EINVAL, "%s: control %s needs '%s'", file, key,
				    *f);
		ev = json_object_get(v, "evidence");
		if (!json_is_array(ev) || json_array_size(ev) == 0)
			return ev_errf(err, EV_EINVAL, "%s: control %s needs an evidence list", file,
			    key);
		json_array_foreach(ev, i, q) {
			snprintf(where, sizeof(where), "control %s evidence %zu", key, i + 1);
			if ((rc = norm_query(q, where, file, err)) != EV_OK)
				return rc;
		}
	}
	json_object_foreach(reqs, key, v) {
		json_t *list = v, *x;
		if (json_object_get(c->ids, key) == NULL)
			return ev_errf(err, EV_EINVAL, "%s: requirement %s is not in the catalogue",
			    file, key);
		if (json_is_object(v)) {
			json_t *na = json_object_get(v, "not_applicable");
			if (na) {
				if (!json_is_string(na) || json_string_length(na) == 0)
					return ev_errf(err, EV_EINVAL,
					    "%s: %s: not_applicable needs the reason", file, key);
				continue;
			}
			list = json_object_get(v, "controls");
		}
		if (json_is_string(list)) {
			json_t *a = json_array();
			json_array_append(a, list);
			json_object_set_new(reqs, key, a);
			list = a;
		}
		if (!json_is_array(list) || json_array_size(list) == 0)
			return ev_errf(err, EV_EINVAL,
			    "%s: %s: give a list of controls or not_applicable: REASON", file, key);
		json_array_foreach(list, i, x)
			if (!json_is_string(x) ||
			    json_object_get(controls, json_string_value(x)) == NULL)
				return ev_errf(err, EV_EINVAL, "%s: %s: unknown control '%s'", file,
				    key, json_is_string(x) ? json_string_value(x) : "?");
		if (list != v)
			json_object_set(reqs, key, list);
	}
	return EV_OK;
}

int
ev_compliance_load(const char *dir, const char *mapping, struct ev_compliance **out,
    struct ev_err *err)
{
	struct ev_compliance *c = ev_xcalloc(1, sizeof(*c));
	char path[PATH_MAX];
	int rc;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/requirements.tsv", dir);
	if ((rc = load_catalogue(c, path, err)) != EV_OK)
		goto fail;
	if (mapping == NULL) {
		snprintf(path, sizeof(path), "%s/controls.yaml", dir);
		mapping = path;
	}
	if ((c->mapping = ev_yaml_load_mapping(mapping, mapping, DATA_FILE_MAX, err)) == NULL) {
		rc = err && err->code ? err->code : EV_EINVAL;
		goto fail;
	}
	if ((rc = check_mapping(c, mapping, err)) != EV_OK)
		goto fail;
	*out = c;
	return EV_OK;
fail:
	ev_compliance_free(c);
	return rc;
}

void
ev_compliance_free(struct ev_compliance *c)
{
	if (c == NULL)
		return;
	json_decref(c->catalogue);
	json_decref(c->ids);
	json_decref(c->mapping);
	free(c);
}

const json_t *
ev_compliance_catalogue(const struct ev_compliance *c)
{
	return c->catalogue;
}

const json_t *
ev_compliance_mapping(const struct ev_compliance *c)
{
	return c->mapping;
}

json_t *
ev_compliance_unmapped(const struct ev_compliance *c)
{
	json_t *out = json_array(), *row;
	json_t *reqs = json_object_get(c->mapping, "requirements");
	json_t *controls = json_object_get(c->mapping, "controls");
	size_t i, j;

	json_array_foreach(c->catalogue, i, row) {
		const char *id = ev_json_str(row, "id");
		json_t *m = json_object_get(reqs, id), *x;
		int ok = 0;
		if (json_is_object(m) && json_object_get(m, "not_applicable"))
			ok = 1;
		else if (json_is_array(m))
			json_array_foreach(m, j, x) {
				json_t *ctl = json_object_get(controls, json_string_value(x));
				if (json_array_size(json_object_get(ctl, "evidence")) > 0)
					ok = 1;
			}
		if (!ok)
			json_array_append_new(out, json_string(id));
	}
	return out;
}
