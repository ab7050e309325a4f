/*
 * profiles.c - regulatory clock profiles and significance criteria, loaded
 * from YAML (libyaml) into checked JSON values, and ISO 8601 durations.
 *
 * A profile file is data a TSP may write itself, so everything is checked
 * on load: names unique and well-formed, durations parseable, conditions
 * known.  Scalars stay strings in the JSON tree; numbers are parsed where
 * they are used.  Nothing here writes to the ledger.
 */
#include "incident/incident.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/datadir.h"
#include "util/yamljson.h"
#include "util/json.h"
#include "util/timeutil.h"

struct ev_profiles {
	json_t *clocks;   /* array of clock definitions, each with "profile" and "version" */
	json_t *criteria; /* array of criteria profiles */
};

#define PROFILE_FILE_MAX (1u << 20)

/* ---- ISO 8601 durations ---- */

struct dur {
	int64_t years, months, weeks, days, hours, minutes, seconds;
};

static int
dur_parse(const char *s, struct dur *d)
{
	int time_part = 0, any = 0;

	memset(d, 0, sizeof(*d));
	if (s == NULL || *s++ != 'P')
		return -1;
	while (*s) {
		int64_t v = 0;
		int nd = 0;
		if (*s == 'T') {
			if (time_part)
				return -1;
			time_part = 1;
			s++;
			continue;
		}
		while (*s >= '0' && *s <= '9') {
			if (v > 100000000)
				return -1;
			v = v * 10 + (*s++ - '0');
			nd++;
		}
		if (nd == 0)
			return -1;
		switch (*s) {
		case 'Y': if (time_part) return -1; d->years = v; break;
		case 'M': if (time_part) d->minutes = v; else d->months = v; break;
		case 'W': if (time_part) return -1; d->weeks = v; break;
		case 'D': if (time_part) return -1; d->days = v; break;
		case 'H': if (!time_part) return -1; d->hours = v; break;
		case 'S': if (!time_part) return -1; d->seconds = v; break;
		default: return -1;
		}
		s++;
		any = 1;
	}
	return any ? 0 : -1;
}

/*
 * Calendar rule: years and months move the date by calendar months keeping
 * the time of day; a day that does not exist in the target month becomes
 * that month's last day (2026-01-31 + P1M = 2026-02-28).  Weeks, days,
 * hours, minutes and seconds are then added as exact elapsed time (UTC has
 * no daylight saving).
 */
int
ev_duration_add(int64_t t, const char *dur, int64_t *out)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct dur d;
	int64_t secs, days, sod, y, months, fixed;
	unsigned m, day, last;

	if (dur_parse(dur, &d) != 0)
		return -1;
	secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
	int64_t frac = t - secs * 1000000;
	days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	sod = secs - days * 86400;
	months = d.years * 12 + d.months;
	if (months) {
		ev_civil_from_days(days, &y, &m, &day);
		int64_t mi = (int64_t)(m - 1) + months;
		y += mi / 12;
		m = (unsigned)(mi % 12) + 1;
		last = mdays[m - 1];
		if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
			last = 29;
		if (day > last)
			day = last;
		days = ev_days_from_civil(y, m, day);
	}
	fixed = ((d.weeks * 7 + d.days) * 86400 + d.hours * 3600 + d.minutes * 60 + d.seconds);
	*out = ((days * 86400 + sod) + fixed) * 1000000 + frac;
	return 0;
}

/* ---- checks ---- */

static int
name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
			s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static int
percent_ok(const char *s)
{
	char *end;
	double v;

	if (s == NULL)
		return 0;
	v = strtod(s, &end);
	return end != s && strcmp(end, "%") == 0 && v > 0 && v < 100;
}

static int
check_clock(json_t *c, const char *file, size_t i, struct ev_err *err)
{
	const char *name = ev_json_str(c, "name"), *cond = ev_json_str(c, "condition");
	const char *dur = ev_json_str(c, "duration"), *soon = ev_json_str(c, "due_soon");
	const char *basis = ev_json_str(c, "basis");
	int64_t t;
	struct dur d;

	if (!json_is_object(c))
		return ev_errf(err, EV_EINVAL, "%s: clocks[%zu] is not a mapping", file, i);
	if (!name_ok(name))
		return ev_errf(err, EV_EINVAL,
		    "%s: clocks[%zu]: name must be 1-64 characters a-z 0-9 - _ .", file, i);
	if (ev_json_str(c, "title") == NULL)
		return ev_errf(err, EV_EINVAL, "%s: clock %s: needs a title", file, name);
	if (dur == NULL || dur_parse(dur, &d) != 0 || ev_duration_add(0, dur, &t) != 0 || t <= 0)
		return ev_errf(err, EV_EINVAL,
		    "%s: clock %s: duration must be an ISO 8601 duration (PT24H, P1M)", file, name);
	if (soon && !percent_ok(soon) && (dur_parse(soon, &d) != 0))
		return ev_errf(err, EV_EINVAL,
		    "%s: clock %s: due_soon must be a duration (PT6H) or a percentage (25%%)",
		    file, name);
	if (basis == NULL || (strcmp(basis, "law") != 0 && strcmp(basis, "target") != 0))
		return ev_errf(err, EV_EINVAL, "%s: clock %s: basis must be law or target", file,
		    name);
	if (cond == NULL ||
	    !(strcmp(cond, "significant") == 0 || strcmp(cond, "opened") == 0 ||
		strcmp(cond, "vulnerability:critical") == 0 ||
		(strncmp(cond, "notified:", 9) == 0 && name_ok(cond + 9))))
		return ev_errf(err, EV_EINVAL,
		    "%s: clock %s: condition must be significant, opened, notified:CLOCK or "
		    "vulnerability:critical",
		    file, name);
	return EV_OK;
}

static int
check_criteria(json_t *doc, const char *file, struct ev_err *err)
{
	json_t *qs = json_object_get(doc, "questions"), *cs = json_object_get(doc, "criteria");
	size_t i, j;
	json_t *q, *c, *cond;

	if (!name_ok(ev_json_str(doc, "profile")) || ev_json_str(doc, "version") == NULL)
		return ev_errf(err, EV_EINVAL, "%s: needs profile (a name) and version", file);
	if (!json_is_array(qs) || !json_is_array(cs) || json_array_size(cs) == 0)
		return ev_errf(err, EV_EINVAL, "%s: needs lists questions and criteria", file);
	json_array_foreach(qs, i, q) {
		const char *k = ev_json_str(q, "key"), *type = ev_json_str(q, "type");
		if (!name_ok(k) || type == NULL ||
		    (strcmp(type, "number") && strcmp(type, "yes-no") && strcmp(type, "text")))
			return ev_errf(err, EV_EINVAL,
			    "%s: questions[%zu]: needs key and type number|yes-no|text", file, i);
	}
	json_array_foreach(cs, i, c) {
		json_t *any = json_object_get(c, "any"), *all = json_object_get(c, "all");
		json_t *list = any ? any : all;
		if (!name_ok(ev_json_str(c, "id")) || !json_is_array(list) ||
		    json_array_size(list) == 0 || (any && all))
			return ev_errf(err, EV_EINVAL,
			    "%s: criteria[%zu]: needs an id and one list any: or all:", file, i);
		json_array_foreach(list, j, cond) {
			const char *k = ev_json_str(cond, "key"), *op = ev_json_str(cond, "op");
			const char *val = ev_json_str(cond, "value");
			json_t *qq = NULL;
			size_t qi;
			json_t *qv;
			json_array_foreach(qs, qi, qv)
				if (k && strcmp(ev_json_str(qv, "key"), k) == 0)
					qq = qv;
			if (qq == NULL || op == NULL || val == NULL ||
			    (strcmp(op, "gt") && strcmp(op, "ge") && strcmp(op, "eq")))
				return ev_errf(err, EV_EINVAL,
				    "%s: criterion %s: condition %zu needs key (a question), op "
				    "gt|ge|eq and value",
				    file, ev_json_str(c, "id"), j);
		}
	}
	return EV_OK;
}

static int
suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
ev_profiles_load(const char *dir, struct ev_profiles **out, struct ev_err *err)
{
	struct ev_profiles *p = ev_xcalloc(1, sizeof(*p));
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i, j;
	int rc = EV_OK;
	json_t *c;

	p->clocks = json_array();
	p->criteria = json_array();
	if ((d = opendir(dir)) == NULL) {
		rc = ev_errf(err, EV_EIO, "clock profiles %s: %s (see --clocks, $EVIDENT_CLOCKS)",
		    dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !(suffix(de->d_name, ".yaml") || suffix(de->d_name, ".yml")))
			continue;
		if (n >= 1000)
			break;
		names = ev_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = ev_xstrdup(de->d_name);
	}
	closedir(d);
	/* Sorted, so that the same directory always loads in the same order. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && rc == EV_OK; i++) {
		struct ev_buf path = EV_BUF_INIT;
		json_t *doc, *clocks, *crit;
		const char *prof, *ver;

		ev_buf_addf(&path, "%s/%s", dir, names[i]);
		doc = ev_yaml_load_mapping(path.p, names[i], PROFILE_FILE_MAX, err);
		ev_buf_free(&path);
		if (doc == NULL) {
			rc = err ? err->code : EV_EINVAL;
			break;
		}
		prof = ev_json_str(doc, "profile");
		ver = ev_json_str(doc, "version");
		clocks = json_object_get(doc, "clocks");
		crit = json_object_get(doc, "criteria");
		if (clocks && crit) {
			rc = ev_errf(err, EV_EINVAL, "%s: a file holds clocks or criteria, not both",
			    names[i]);
		} else if (clocks) {
			if (!name_ok(prof) || ver == NULL || !json_is_array(clocks)) {
				rc = ev_errf(err, EV_EINVAL,
				    "%s: needs profile (a name), version and a list clocks", names[i]);
			} else {
				json_array_foreach(clocks, j, c) {
					if ((rc = check_clock(c, names[i], j, err)) != EV_OK)
						break;
					if (ev_profiles_clock(p, ev_json_str(c, "name")) != NULL) {
						rc = ev_errf(err, EV_EINVAL,
						    "%s: clock %s is already defined by another profile",
						    names[i], ev_json_str(c, "name"));
						break;
					}
					json_object_set_new(c, "profile", json_string(prof));
					json_object_set_new(c, "version", json_string(ver));
					json_array_append(p->clocks, c);
				}
			}
		} else if (crit) {
			if ((rc = check_criteria(doc, names[i], err)) == EV_OK)
				json_array_append(p->criteria, doc);
		}
		/* Files with neither are left alone (notes, other tools' data). */
		json_decref(doc);
	}
	/* A notified:CLOCK condition must name a clock that exists. */
	if (rc == EV_OK) {
		json_array_foreach(p->clocks, j, c) {
			const char *cond = ev_json_str(c, "condition");
			if (strncmp(cond, "notified:", 9) == 0 && ev_profiles_clock(p, cond + 9) == NULL) {
				rc = ev_errf(err, EV_EINVAL, "clock %s: condition names unknown clock %s",
				    ev_json_str(c, "name"), cond + 9);
				break;
			}
		}
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc != EV_OK) {
		ev_profiles_free(p);
		return rc;
	}
	*out = p;
	return EV_OK;
}

void
ev_profiles_free(struct ev_profiles *p)
{
	if (p == NULL)
		return;
	json_decref(p->clocks);
	json_decref(p->criteria);
	free(p);
}

const json_t *
ev_profiles_clock(const struct ev_profiles *p, const char *name)
{
	size_t i;
	json_t *c;

	if (p == NULL || name == NULL)
		return NULL;
	json_array_foreach(p->clocks, i, c)
		if (strcmp(ev_json_str(c, "name"), name) == 0)
			return c;
	return NULL;
}

const json_t *
ev_profiles_clocks(const struct ev_profiles *p)
{
	return p->clocks;
}

const json_t *
ev_profiles_criteria(const struct ev_profiles *p, const char *name)
{
	size_t i;
	json_t *c;

	if (p == NULL)
		return NULL;
	json_array_foreach(p->criteria, i, c)
		if (name == NULL || strcmp(ev_json_str(c, "profile"), name) == 0)
			return c;
	return NULL;
}


const char *
ev_profiles_default_dir(const char *dir, char *buf, size_t n)
{
	return ev_data_dir(dir, "EVIDENT_CLOCKS", "clocks", buf, n, NULL);
}
