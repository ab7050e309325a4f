/*
 * registers.c - recording register actions, the registers projection, the
 * views, scan-result import, the critical-vulnerability clock and the
 * raise-once alert helper.
 *
 * The projection is the only state: reg_items (one row per item: its
 * register, state, title and, for vulnerabilities, severity and clock),
 * reg_events (every action, by seq) and reg_alerts (rule + key of every
 * alert raised through ev_registers_raise, so an alert is never raised
 * twice, even across processes or after a rebuild).  The projector checks
 * what the recording code checks: a raw append of a malformed register
 * entry is refused and names the entry.
 */
#include "registers/registers.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/json.h"
#include "util/timeutil.h"

#define SEVERITY_VALUES "low|medium|high|critical"
#define NOVAL INT64_MIN /* an 'n' argument that binds NULL */

/* ---- durations ---- */

int
ev_registers_duration_add(int64_t t, const char *dur, int64_t *out)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t v[7] = { 0 }; /* Y M W D h m s */
	int time_part = 0, any = 0;
	const char *s = dur;

	if (s == NULL || *s++ != 'P')
		return -1;
	while (*s) {
		int64_t n = 0;
		int nd = 0, slot;
		if (*s == 'T') {
			if (time_part || s[1] == '\0')
				return -1;
			time_part = 1;
			s++;
			continue;
		}
		while (*s >= '0' && *s <= '9') {
			if (n > 10000000)
				return -1;
			n = n * 10 + (*s++ - '0');
			nd++;
		}
		if (nd == 0)
			return -1;
		switch (*s) {
		case 'Y': slot = time_part ? -1 : 0; break;
		case 'M': slot = time_part ? 5 : 1; break;
		case 'W': slot = time_part ? -1 : 2; break;
		case 'D': slot = time_part ? -1 : 3; break;
		case 'H': slot = time_part ? 4 : -1; break;
		case 'S': slot = time_part ? 6 : -1; break;
		default: slot = -1;
		}
		if (slot < 0)
			return -1;
		v[slot] = n;
		s++;
		any = 1;
	}
	if (!any)
		return -1;
	int64_t secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
	int64_t frac = t - secs * 1000000;
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t sod = secs - days * 86400;
	int64_t months = v[0] * 12 + v[1];
	if (months) {
		int64_t y;
		unsigned m, d, last;
		ev_civil_from_days(days, &y, &m, &d);
		int64_t mi = (int64_t)(m - 1) + months;
		y += mi / 12;
		m = (unsigned)(mi % 12) + 1;
		last = mdays[m - 1];
		if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
			last = 29;
		if (d > last)
			d = last;
		days = ev_days_from_civil(y, m, d);
	}
	int64_t fixed = (v[2] * 7 + v[3]) * 86400 + v[4] * 3600 + v[5] * 60 + v[6];
	*out = (days * 86400 + sod + fixed) * 1000000 + frac;
	return 0;
}

int
ev_registers_duration_parse(const char *s, char *iso, size_t n, int64_t *seconds)
{
	int64_t us;

	if (s == NULL || *s == '\0' || strlen(s) > 40)
		return -1;
	if (s[0] == 'P') {
		if (ev_registers_duration_add(0, s, &us) != 0 || us <= 0)
			return -1;
		snprintf(iso, n, "%s", s);
		*seconds = us / 1000000;
		return 0;
	}
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || v <= 0 || v > 100000000 || (end[0] && end[1]))
		return -1;
	switch (*end) {
	case 's': case '\0': *seconds = v; break;
	case 'm': *seconds = v * 60; break;
	case 'h': *seconds = v * 3600; break;
	case 'd': *seconds = v * 86400; break;
	default: return -1;
	}
	snprintf(iso, n, "PT%lldS", (long long)*seconds);
	if (*seconds % 3600 == 0)
		snprintf(iso, n, "PT%lldH", (long long)(*seconds / 3600));
	else if (*seconds % 60 == 0)
		snprintf(iso, n, "PT%lldM", (long long)(*seconds / 60));
	return 0;
}

/* ---- bodies ---- */

static int
enum_ok(const char *values, const char *v)
{
	size_t n = strlen(v);
	const char *p = values;

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

static int
text_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n <= EV_REG_TEXT_MAX;
}

/* An item id PREFIX-N with the given prefix (any prefix when NULL). */
static int
id_ok(const char *id, const char *prefix)
{
	size_t n = strlen(id), p;
	const char *dash = strrchr(id, '-');

	if (n >= EV_REG_ID_MAX || dash == NULL || dash == id || dash[1] == '\0')
		return 0;
	p = (size_t)(dash - id);
	if (prefix && (strlen(prefix) != p || strncmp(id, prefix, p) != 0))
		return 0;
	for (const char *c = dash + 1; *c; c++)
		if (*c < '0' || *c > '9')
			return 0;
	return dash[1] != '0';
}

static int
add_value(json_t *body, const struct ev_reg_field *f, const struct ev_reg_values *v,
    struct ev_err *err)
{
	const char *s = v->str;

	if (f->type == EV_RF_LIST) {
		json_t *a;
		if (v->nlist > EV_REG_LIST_MAX)
			return ev_errf(err, EV_EINVAL, "--%s: at most %d values", f->opt,
			    EV_REG_LIST_MAX);
		a = json_array();
		for (size_t i = 0; i < v->nlist; i++) {
			if (!text_ok(v->list[i])) {
				json_decref(a);
				return ev_errf(err, EV_EINVAL, "--%s: empty or longer than %d bytes",
				    f->opt, EV_REG_TEXT_MAX);
			}
			json_array_append_new(a, json_string(v->list[i]));
		}
		json_object_set_new(body, f->key, a);
		return EV_OK;
	}
	switch (f->type) {
	case EV_RF_TEXT: {
		json_t *str = text_ok(s) ? json_string(s) : NULL;
		if (str == NULL)
			return ev_errf(err, EV_EINVAL, "--%s: 1 to %d bytes of UTF-8 text", f->opt,
			    EV_REG_TEXT_MAX);
		json_object_set_new(body, f->key, str);
		break;
	}
	case EV_RF_ENUM:
		if (!enum_ok(f->values, s))
			return ev_errf(err, EV_EINVAL, "--%s '%s': must be one of %s", f->opt, s,
			    f->values);
		json_object_set_new(body, f->key, json_string(s));
		break;
	case EV_RF_YESNO:
		if (strcmp(s, "yes") != 0 && strcmp(s, "no") != 0)
			return ev_errf(err, EV_EINVAL, "--%s '%s': must be yes or no", f->opt, s);
		json_object_set_new(body, f->key, json_boolean(s[0] == 'y'));
		break;
	case EV_RF_TIME: {
		int64_t us;
		char t[EV_TIME_STRLEN];
		if (ev_time_parse(s, &us) != 0)
			return ev_errf(err, EV_EINVAL,
			    "--%s '%s': not a time (RFC 3339, YYYY-MM-DD, now-2h)", f->opt, s);
		ev_time_format(us, t);
		json_object_set_new(body, f->key, json_string(t));
		break;
	}
	case EV_RF_DURATION: {
		char iso[48], k[64];
		int64_t secs;
		if (ev_registers_duration_parse(s, iso, sizeof(iso), &secs) != 0)
			return ev_errf(err, EV_EINVAL,
			    "--%s '%s': not a duration (4h, 90m, PT2H30M)", f->opt, s);
		json_object_set_new(body, f->key, json_string(iso));
		snprintf(k, sizeof(k), "%s_s", f->key);
		json_object_set_new(body, k, json_integer(secs));
		break;
	}
	case EV_RF_NUMBER: {
		char *end;
		double lo = 0, hi = 0, d = strtod(s, &end);
		if (f->values)
			sscanf(f->values, "%lf-%lf", &lo, &hi);
		if (end == s || *end || !isfinite(d) || d < lo || d > hi)
			return ev_errf(err, EV_EINVAL, "--%s '%s': a number from %g to %g", f->opt,
			    s, lo, hi);
		json_object_set_new(body, f->key, json_real(d));
		break;
	}
	case EV_RF_REF:
		if (!id_ok(s, f->values))
			return ev_errf(err, EV_EINVAL, "--%s '%s': must be an id %s-N", f->opt, s,
			    f->values);
		json_object_set_new(body, f->key, json_string(s));
		break;
	default:
		return ev_errf(err, EV_EINVAL, "--%s: unknown field type", f->opt);
	}
	return EV_OK;
}

int
ev_registers_body(const struct ev_reg_action *a, const struct ev_reg_values *vals,
    json_t **body, struct ev_err *err)
{
	json_t *b = json_object();
	int rc;

	for (size_t i = 0; a->fields[i].opt; i++) {
		const struct ev_reg_field *f = &a->fields[i];
		int given = f->type == EV_RF_LIST ? vals[i].nlist > 0 : vals[i].str != NULL;
		if (!given) {
			if (f->required) {
				json_decref(b);
				return ev_errf(err, EV_EINVAL, "%s needs --%s (%s)", a->name, f->opt,
				    f->help);
			}
			continue;
		}
		if ((rc = add_value(b, f, &vals[i], err)) != EV_OK) {
			json_decref(b);
			return rc;
		}
	}
	*body = b;
	return EV_OK;
}

/* ---- SQL helpers ---- */

/* Prepare and bind ('t' text or NULL, 'i' int64_t, 'n' int64_t or NOVAL for NULL). */
static int
query(sqlite3 *db, sqlite3_stmt **st, struct ev_err *err, const char *sql, const char *types,
    ...)
{
	va_list ap;
	int rc = SQLITE_OK;

	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return ev_errf(err, EV_EIO, "registers: %s", sqlite3_errmsg(db));
	va_start(ap, types);
	for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
		if (types[i] == 't') {
			const char *s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(*st, i + 1, s, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(*st, i + 1);
		} else {
			int64_t v = va_arg(ap, int64_t);
			rc = types[i] == 'n' && v == NOVAL ? sqlite3_bind_null(*st, i + 1)
							   : sqlite3_bind_int64(*st, i + 1, v);
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		ev_errf(err, EV_EIO, "registers: %s", sqlite3_errmsg(db));
		sqlite3_finalize(*st);
		*st = NULL;
		return EV_EIO;
	}
	return EV_OK;
}

static int
step_done(sqlite3 *db, sqlite3_stmt *st, struct ev_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return ev_errf(err, EV_EIO, "registers: %s", sqlite3_errmsg(db));
	return EV_OK;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? (const char *)s : "";
}

/* ---- projection ---- */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS reg_items("
	" id TEXT PRIMARY KEY, register TEXT NOT NULL, prefix TEXT NOT NULL,"
	" kind TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, actor TEXT NOT NULL,"
	" title TEXT, state TEXT NOT NULL, severity TEXT, discovered INTEGER,"
	" clock_start INTEGER, clock_stop INTEGER, stop_kind TEXT,"
	" last_seq INTEGER NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS reg_items_prefix ON reg_items(prefix);"
	"CREATE INDEX IF NOT EXISTS reg_items_register ON reg_items(register);"
	"CREATE TABLE IF NOT EXISTS reg_events("
	" seq INTEGER PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, time INTEGER NOT NULL,"
	" actor TEXT NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS reg_events_id ON reg_events(id);"
	"CREATE TABLE IF NOT EXISTS reg_alerts("
	" rule TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(rule, key));";

static int
reg_setup(sqlite3 *db, struct ev_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		ev_errf(err, EV_EIO, "registers: %s", msg ? msg : "schema");
		sqlite3_free(msg);
		return EV_EIO;
	}
	return EV_OK;
}

static int
reg_reset(sqlite3 *db, struct ev_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db,
		"DROP TABLE IF EXISTS reg_items; DROP TABLE IF EXISTS reg_events;"
		" DROP TABLE IF EXISTS reg_alerts;",
		NULL, NULL, &msg) != SQLITE_OK) {
		ev_errf(err, EV_EIO, "registers: %s", msg ? msg : "reset");
		sqlite3_free(msg);
		return EV_EIO;
	}
	return reg_setup(db, err);
}

/* The register and action that record kind, or 0. */
static int
find_kind(const char *kind, const struct ev_register **r, const struct ev_reg_action **a)
{
	const struct ev_register *const *all = ev_registers_all();

	for (size_t i = 0; all[i]; i++)
		for (const struct ev_reg_action *x = all[i]->actions; x->name; x++)
			if (strcmp(x->kind, kind) == 0) {
				*r = all[i];
				*a = x;
				return 1;
			}
	return 0;
}

/* Does the body hold every required field with the right JSON type? */
static int
body_shape(const struct ev_reg_action *a, json_t *b, const char **bad)
{
	for (const struct ev_reg_field *f = a->fields; f->opt; f++) {
		json_t *v = json_object_get(b, f->key);
		int ok;
		if (v == NULL) {
			if (f->required) {
				*bad = f->key;
				return 0;
			}
			continue;
		}
		switch (f->type) {
		case EV_RF_LIST: ok = json_is_array(v); break;
		case EV_RF_YESNO: ok = json_is_boolean(v); break;
		case EV_RF_NUMBER: ok = json_is_number(v); break;
		case EV_RF_ENUM: ok = json_is_string(v) && enum_ok(f->values, json_string_value(v)); break;
		case EV_RF_TIME: {
			int64_t us;
			ok = json_is_string(v) && ev_time_parse(json_string_value(v), &us) == 0;
			break;
		}
		default: ok = json_is_string(v) && json_string_length(v) > 0;
		}
		if (!ok) {
			*bad = f->key;
			return 0;
		}
	}
	return 1;
}

struct item {
	int found;
	char reg[32];
	char state[32];
	char severity[16];
	int64_t discovered;
	int has_clock;
};

static int
get_item(sqlite3 *db, const char *id, struct item *it, struct ev_err *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(it, 0, sizeof(*it));
	if ((rc = query(db, &st, err,
		 "SELECT register, state, coalesce(severity, ''), coalesce(discovered, 0),"
		 " clock_start IS NOT NULL FROM reg_items WHERE id = ?",
		 "t", id)) != EV_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		it->found = 1;
		snprintf(it->reg, sizeof(it->reg), "%s", col(st, 0));
		snprintf(it->state, sizeof(it->state), "%s", col(st, 1));
		snprintf(it->severity, sizeof(it->severity), "%s", col(st, 2));
		it->discovered = sqlite3_column_int64(st, 3);
		it->has_clock = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	return EV_OK;
}

static int
apply_alert(sqlite3 *db, const struct ev_entry *e, struct ev_err *err)
{
	json_t *b = ev_json_parse_object(e->body, e->body_len, NULL);
	const char *rule = b ? ev_json_str(b, "rule") : NULL, *key = b ? ev_json_str(b, "key") : NULL;
	sqlite3_stmt *st;
	int rc = EV_OK;

	if (rule && key &&
	    (rc = query(db, &st, err, "INSERT OR IGNORE INTO reg_alerts(rule, key, seq) VALUES (?, ?, ?)",
		 "tti", rule, key, (int64_t)e->seq)) == EV_OK)
		rc = step_done(db, st, err);
	json_decref(b);
	return rc;
}

static int
apply_create(sqlite3 *db, const struct ev_entry *e, const struct ev_register *r,
    const struct ev_reg_action *a, json_t *b, struct ev_err *err)
{
	const char *title = a->title ? ev_json_str(b, a->title) : NULL;
	const char *sev = strcmp(a->kind, "vuln.recorded") == 0 ? ev_json_str(b, "severity") : NULL;
	const char *disc = ev_json_str(b, "discovered_at");
	int64_t discovered = e->time_us;
	struct item it;
	sqlite3_stmt *st;
	int rc;

	if (!id_ok(e->subject, a->prefix))
		return ev_errf(err, EV_EINVAL, "entry %llu: %s needs subject %s-N, not '%s'",
		    (unsigned long long)e->seq, e->kind, a->prefix, e->subject);
	if ((rc = get_item(db, e->subject, &it, err)) != EV_OK)
		return rc;
	if (it.found)
		return ev_errf(err, EV_EEXIST, "entry %llu: %s is already recorded",
		    (unsigned long long)e->seq, e->subject);
	if (disc && ev_time_parse(disc, &discovered) != 0)
		discovered = e->time_us;
	int critical = sev && strcmp(sev, "critical") == 0;
	if ((rc = query(db, &st, err,
		 "INSERT INTO reg_items(id, register, prefix, kind, seq, time, actor, title, state,"
		 " severity, discovered, clock_start, last_seq, body)"
		 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 "ttttiittttnnit", e->subject, r->name, a->prefix, e->kind, (int64_t)e->seq,
		 e->time_us, e->actor, title, a->state, sev, sev ? discovered : NOVAL,
		 critical ? discovered : NOVAL, (int64_t)e->seq, e->body)) != EV_OK)
		return rc;
	return step_done(db, st, err);
}

static int
apply_update(sqlite3 *db, const struct ev_entry *e, const struct ev_register *r,
    const struct ev_reg_action *a, json_t *b, struct ev_err *err)
{
	struct item it;
	sqlite3_stmt *st;
	int rc;
	int stops = strcmp(a->kind, "vuln.mitigated") == 0 || strcmp(a->kind, "vuln.closed") == 0;
	const char *sev = strcmp(a->kind, "vuln.assessed") == 0 ? ev_json_str(b, "severity") : NULL;

	if ((rc = get_item(db, e->subject, &it, err)) != EV_OK)
		return rc;
	if (!it.found || strcmp(it.reg, r->name) != 0)
		return ev_errf(err, EV_ENOTFOUND, "entry %llu: %s: no %s item '%s'",
		    (unsigned long long)e->seq, e->kind, r->name, e->subject);
	if (strcmp(it.state, "closed") == 0)
		return ev_errf(err, EV_ESTATE, "entry %llu: %s is closed",
		    (unsigned long long)e->seq, e->subject);
	if ((rc = query(db, &st, err,
		 "UPDATE reg_items SET state = ?, last_seq = ?,"
		 " severity = coalesce(?, severity),"
		 " clock_start = CASE WHEN ? = 'critical' AND clock_start IS NULL"
		 "   THEN discovered ELSE clock_start END,"
		 " clock_stop = CASE WHEN ? AND clock_stop IS NULL THEN ? ELSE clock_stop END,"
		 " stop_kind = CASE WHEN ? AND stop_kind IS NULL THEN ? ELSE stop_kind END"
		 " WHERE id = ?",
		 "tittiiitt", a->state, (int64_t)e->seq, sev, sev, (int64_t)stops,
		 e->time_us, (int64_t)stops, a->kind, e->subject)) != EV_OK)
		return rc;
	return step_done(db, st, err);
}

static int
reg_apply(sqlite3 *db, const struct ev_entry *e, struct ev_err *err)
{
	const struct ev_register *r;
	const struct ev_reg_action *a;
	const char *bad = NULL;
	json_t *b;
	sqlite3_stmt *st;
	int rc;

	if (strcmp(e->kind, "log") == 0)
		return EV_OK; /* the bulk of the ledger; no register records a log line */
	if (strcmp(e->kind, "alert.raised") == 0) {
		/* Only alerts raised through ev_registers_raise carry a key; skip the rest unparsed. */
		if (memmem(e->body, e->body_len, "\"key\":", 6) == NULL)
			return EV_OK;
		return apply_alert(db, e, err);
	}
	if (!find_kind(e->kind, &r, &a))
		return EV_OK;
	if ((b = ev_json_parse_object(e->body, e->body_len, err)) == NULL)
		return EV_EINVAL;
	if (!body_shape(a, b, &bad)) {
		json_decref(b);
		return ev_errf(err, EV_EINVAL, "entry %llu: %s: member '%s' missing or malformed",
		    (unsigned long long)e->seq, e->kind, bad);
	}
	for (const struct ev_reg_field *f = a->fields; f->opt; f++) {
		const char *ref = f->type == EV_RF_REF ? ev_json_str(b, f->key) : NULL;
		struct item it;
		if (ref == NULL)
			continue;
		if ((rc = get_item(db, ref, &it, err)) != EV_OK) {
			json_decref(b);
			return rc;
		}
		if (!it.found || !id_ok(ref, f->values)) {
			ev_errf(err, EV_ENOTFOUND, "entry %llu: %s: %s '%s' is not recorded",
			    (unsigned long long)e->seq, e->kind, f->key, ref);
			json_decref(b);
			return EV_ENOTFOUND;
		}
	}
	rc = a->prefix ? apply_create(db, e, r, a, b, err) : apply_update(db, e, r, a, b, err);
	json_decref(b);
	if (rc != EV_OK)
		return rc;
	if ((rc = query(db, &st, err,
		 "INSERT INTO reg_events(seq, id, kind, time, actor, body) VALUES (?, ?, ?, ?, ?, ?)",
		 "ittitt", (int64_t)e->seq, e->subject, e->kind, e->time_us, e->actor, e->body)) !=
	    EV_OK)
		return rc;
	return step_done(db, st, err);
}

/*
 * Every entry passes through the filter in reg_apply (kind_prefix ""):
 * register kinds span ten prefixes and alert.raised, and a string compare
 * per entry costs nothing next to the append itself.
 */
const struct ev_projector ev_registers_projector = {
	"registers", "", reg_setup, reg_reset, reg_apply, NULL, NULL, NULL,
};

/* ---- recording ---- */

static int
next_id(sqlite3 *db, const char *prefix, char id[EV_REG_ID_MAX], struct ev_err *err)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	if ((rc = query(db, &st, err, "SELECT count(*) FROM reg_items WHERE prefix = ?", "t",
		 prefix)) != EV_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	snprintf(id, EV_REG_ID_MAX, "%s-%lld", prefix, (long long)n + 1);
	return EV_OK;
}

static int64_t
body_seconds(json_t *b, const char *key)
{
	json_t *v = json_object_get(b, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* Fields an action derives from what was given. */
static int
derive(const struct ev_reg_action *a, json_t *b, int64_t now, struct ev_err *err)
{
	if (strcmp(a->kind, "backup.tested") == 0) {
		int64_t rt = body_seconds(b, "recovery_time_s"), tg = body_seconds(b, "target_s");
		const char *res = ev_json_str(b, "result");
		json_object_set_new(b, "met_target",
		    json_boolean(rt >= 0 && tg >= 0 && rt <= tg && res && strcmp(res, "ok") == 0));
	} else if (strcmp(a->kind, "bcp.recovered") == 0) {
		int64_t s, r, tg = body_seconds(b, "target_s");
		if (ev_time_parse(ev_json_str(b, "started_at"), &s) != 0 ||
		    ev_time_parse(ev_json_str(b, "restored_at"), &r) != 0 || r < s)
			return ev_errf(err, EV_EINVAL, "--restored-at must not be before --started-at");
		json_object_set_new(b, "recovery_time_s", json_integer((r - s) / 1000000));
		json_object_set_new(b, "met_target", json_boolean((r - s) / 1000000 <= tg));
	} else if (strcmp(a->kind, "vuln.recorded") == 0) {
		int64_t d;
		const char *disc = ev_json_str(b, "discovered_at");
		if (disc && ev_time_parse(disc, &d) == 0 && d > now + 300LL * 1000000)
			return ev_errf(err, EV_EINVAL, "--discovered-at is in the future");
	} else if (strcmp(a->kind, "logreview.recorded") == 0) {
		int64_t f, t;
		if (ev_time_parse(ev_json_str(b, "from"), &f) != 0 ||
		    ev_time_parse(ev_json_str(b, "to"), &t) != 0 || t < f)
			return ev_errf(err, EV_EINVAL, "--to must not be before --from");
	}
	return EV_OK;
}

static int
append_one(struct ev_ledger *l, const char *kind, const char *subject, const char *actor,
    json_t *body, uint64_t *seq, struct ev_err *err)
{
	char *text = ev_json_dump(body);
	struct ev_entry_in in;
	int rc;

	if (text == NULL)
		return ev_errf(err, EV_EINVAL, "cannot serialise the entry body");
	in.kind = kind;
	in.subject = subject;
	in.actor = actor;
	in.body = text;
	in.body_len = strlen(text);
	rc = ev_ledger_append(l, &in, 1, seq, err);
	free(text);
	return rc;
}

static int
record_locked(struct ev_ledger *l, const struct ev_register *r, const struct ev_reg_action *a,
    const char *id, const char *actor, json_t *body, char id_out[EV_REG_ID_MAX], uint64_t *seq,
    struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	char nid[EV_REG_ID_MAX];
	struct item it;
	int rc;

	if (a->prefix) {
		if ((rc = next_id(db, a->prefix, nid, err)) != EV_OK)
			return rc;
	} else {
		if (id == NULL || !id_ok(id, NULL))
			return ev_errf(err, EV_EINVAL, "%s %s needs an item id (PREFIX-N)", r->name,
			    a->name);
		if ((rc = get_item(db, id, &it, err)) != EV_OK)
			return rc;
		if (!it.found || strcmp(it.reg, r->name) != 0)
			return ev_errf(err, EV_ENOTFOUND, "no %s item '%s'", r->name, id);
		if (strcmp(it.state, "closed") == 0)
			return ev_errf(err, EV_ESTATE, "%s is closed", id);
		snprintf(nid, sizeof(nid), "%s", id);
	}
	for (const struct ev_reg_field *f = a->fields; f->opt; f++) {
		const char *ref = f->type == EV_RF_REF ? ev_json_str(body, f->key) : NULL;
		if (ref == NULL)
			continue;
		if ((rc = get_item(db, ref, &it, err)) != EV_OK)
			return rc;
		if (!it.found)
			return ev_errf(err, EV_ENOTFOUND, "--%s: %s is not recorded", f->opt, ref);
	}
	if ((rc = derive(a, body, ev_time_now_us(), err)) != EV_OK)
		return rc;
	if ((rc = append_one(l, a->kind, nid, actor, body, seq, err)) != EV_OK)
		return rc;
	if (id_out)
		snprintf(id_out, EV_REG_ID_MAX, "%s", nid);
	return EV_OK;
}

int
ev_registers_record(struct ev_ledger *l, const struct ev_register *r,
    const struct ev_reg_action *a, const char *id, const char *actor, json_t *body,
    char id_out[EV_REG_ID_MAX], uint64_t *seq, struct ev_err *err)
{
	int rc;

	if (actor == NULL || *actor == '\0' || strlen(actor) >= EV_ACTOR_MAX)
		return ev_errf(err, EV_EINVAL, "an actor is needed (--actor)");
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	if ((rc = record_locked(l, r, a, id, actor, body, id_out, seq, err)) != EV_OK) {
		ev_ledger_rollback(l);
		return rc;
	}
	return ev_ledger_commit(l, err);
}

/* ---- views ---- */

static json_t *
item_json(sqlite3_stmt *st)
{
	char t[EV_TIME_STRLEN];
	json_t *o = json_object();
	json_t *body = json_loads(col(st, 7), 0, NULL);

	ev_time_format(sqlite3_column_int64(st, 2), t);
	json_object_set_new(o, "id", json_string(col(st, 0)));
	json_object_set_new(o, "kind", json_string(col(st, 1)));
	json_object_set_new(o, "recorded", json_string(t));
	json_object_set_new(o, "actor", json_string(col(st, 3)));
	json_object_set_new(o, "title", json_string(col(st, 4)));
	json_object_set_new(o, "state", json_string(col(st, 5)));
	json_object_set_new(o, "seq", json_integer(sqlite3_column_int64(st, 6)));
	json_object_set_new(o, "last_seq", json_integer(sqlite3_column_int64(st, 8)));
	json_object_set_new(o, "body", body ? body : json_object());
	return o;
}

#define ITEM_COLS \
	"id, kind, time, actor, coalesce(title, ''), state, seq, body, last_seq"

int
ev_registers_list(struct ev_ledger *l, const struct ev_register *r, int open_only,
    json_t **out, struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *st;
	int rc;

	if ((rc = query(db, &st, err,
		 "SELECT " ITEM_COLS " FROM reg_items WHERE register = ?"
		 " AND (? = 0 OR state <> 'closed') ORDER BY prefix, CAST(substr(id, length(prefix) + 2)"
		 " AS INTEGER)",
		 "ti", r->name, (int64_t)open_only)) != EV_OK)
		return rc;
	*out = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(*out, item_json(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		return ev_errf(err, EV_EIO, "registers: %s", sqlite3_errmsg(db));
	}
	return EV_OK;
}

int
ev_registers_show(struct ev_ledger *l, const char *id, json_t **out, struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *st;
	json_t *o = NULL, *ev;
	int rc;

	if ((rc = query(db, &st, err, "SELECT " ITEM_COLS " FROM reg_items WHERE id = ?", "t",
		 id)) != EV_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		o = item_json(st);
	sqlite3_finalize(st);
	if (o == NULL)
		return ev_errf(err, EV_ENOTFOUND, "no register item '%s'", id);
	if ((rc = query(db, &st, err,
		 "SELECT seq, kind, time, actor, body FROM reg_events WHERE id = ? ORDER BY seq", "t",
		 id)) != EV_OK) {
		json_decref(o);
		return rc;
	}
	ev = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		char t[EV_TIME_STRLEN];
		json_t *x = json_object(), *b = json_loads(col(st, 4), 0, NULL);
		ev_time_format(sqlite3_column_int64(st, 2), t);
		json_object_set_new(x, "seq", json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(x, "kind", json_string(col(st, 1)));
		json_object_set_new(x, "time", json_string(t));
		json_object_set_new(x, "actor", json_string(col(st, 3)));
		json_object_set_new(x, "body", b ? b : json_object());
		json_array_append_new(ev, x);
	}
	sqlite3_finalize(st);
	json_object_set_new(o, "events", ev);
	*out = o;
	return EV_OK;
}

/* ---- scan-result import ---- */

static const char *
severity_of_cvss(double c)
{
	return c >= 9.0 ? "critical" : c >= 7.0 ? "high" : c >= 4.0 ? "medium" : "low";
}

static int
reference_open(sqlite3 *db, const char *ref, int *found, struct ev_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*found = 0;
	if ((rc = query(db, &st, err,
		 "SELECT 1 FROM reg_items WHERE register = 'vuln' AND state <> 'closed'"
		 " AND json_extract(body, '$.reference') = ?",
		 "t", ref)) != EV_OK)
		return rc;
	*found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return EV_OK;
}

/* Turn one finding into a vuln.recorded body. */
static int
finding_body(json_t *f, size_t i, json_t **out, struct ev_err *err)
{
	const char *title = ev_json_str(f, "title"), *sev = ev_json_str(f, "severity");
	json_t *cvss = json_object_get(f, "cvss"), *asset = json_object_get(f, "asset");
	json_t *id = json_object_get(f, "id"), *b, *assets;
	char sevl[16] = "";
	size_t j;
	json_t *a;

	if (!json_is_object(f) || title == NULL || !text_ok(title))
		return ev_errf(err, EV_EINVAL, "finding %zu: needs a \"title\" string", i);
	if (cvss && (!json_is_number(cvss) || json_number_value(cvss) < 0 ||
			json_number_value(cvss) > 10))
		return ev_errf(err, EV_EINVAL, "finding %zu: \"cvss\" must be a number 0 to 10", i);
	if (sev) {
		for (j = 0; sev[j] && j + 1 < sizeof(sevl); j++)
			sevl[j] = (char)(sev[j] >= 'A' && sev[j] <= 'Z' ? sev[j] + 32 : sev[j]);
		sevl[j] = '\0';
		if (strcmp(sevl, "info") == 0 || strcmp(sevl, "informational") == 0)
			snprintf(sevl, sizeof(sevl), "low");
		if (!enum_ok(SEVERITY_VALUES, sevl))
			return ev_errf(err, EV_EINVAL,
			    "finding %zu: severity '%s' is not low, medium, high or critical", i, sev);
	} else if (cvss) {
		snprintf(sevl, sizeof(sevl), "%s", severity_of_cvss(json_number_value(cvss)));
	} else {
		return ev_errf(err, EV_EINVAL, "finding %zu: needs \"severity\" or \"cvss\"", i);
	}
	b = json_object();
	json_object_set_new(b, "title", json_string(title));
	json_object_set_new(b, "severity", json_string(sevl));
	if (cvss)
		json_object_set_new(b, "cvss", json_real(json_number_value(cvss)));
	assets = json_array();
	if (json_is_string(asset) && text_ok(json_string_value(asset)))
		json_array_append(assets, asset);
	else if (json_is_array(asset)) {
		json_array_foreach(asset, j, a) {
			if (!json_is_string(a) || !text_ok(json_string_value(a))) {
				json_decref(assets);
				json_decref(b);
				return ev_errf(err, EV_EINVAL, "finding %zu: asset must be text", i);
			}
			json_array_append(assets, a);
		}
	} else if (asset) {
		json_decref(assets);
		json_decref(b);
		return ev_errf(err, EV_EINVAL, "finding %zu: asset must be text or a list", i);
	}
	json_object_set_new(b, "assets", assets);
	if (json_is_string(id) && text_ok(json_string_value(id)))
		json_object_set_new(b, "reference", json_string(json_string_value(id)));
	else if (json_is_integer(id)) {
		char n[32];
		snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(id));
		json_object_set_new(b, "reference", json_string(n));
	} else if (id) {
		json_decref(b);
		return ev_errf(err, EV_EINVAL, "finding %zu: id must be text or a number", i);
	}
	json_object_set_new(b, "source", json_string("import"));
	*out = b;
	return EV_OK;
}

int
ev_registers_vuln_import(struct ev_ledger *l, const char *json_text, size_t len,
    const char *actor, unsigned *added, unsigned *skipped, struct ev_err *err)
{
	const struct ev_register *r = ev_registers_find("vuln");
	const struct ev_reg_action *a = ev_registers_action(r, "add");
	json_error_t je;
	json_t *doc = json_loadb(json_text, len, JSON_REJECT_DUPLICATES, &je), *f, **bodies = NULL;
	size_t i, n;
	int rc = EV_OK, found;

	*added = *skipped = 0;
	if (doc == NULL)
		return ev_errf(err, EV_EINVAL, "scan results: line %d: %s", je.line, je.text);
	if (!json_is_array(doc) || (n = json_array_size(doc)) > 100000) {
		json_decref(doc);
		return ev_errf(err, EV_EINVAL, "scan results must be a JSON array of findings");
	}
	bodies = ev_xcalloc(n + 1, sizeof(*bodies));
	/* Check every finding before anything is written. */
	json_array_foreach(doc, i, f) {
		if ((rc = finding_body(f, i, &bodies[i], err)) != EV_OK)
			goto out;
	}
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		goto out;
	for (i = 0; i < n; i++) {
		const char *ref = ev_json_str(bodies[i], "reference");
		if (ref) {
			if ((rc = reference_open(ev_ledger_db(l), ref, &found, err)) != EV_OK)
				break;
			if (found) {
				(*skipped)++;
				continue;
			}
		}
		if ((rc = record_locked(l, r, a, NULL, actor, bodies[i], NULL, NULL, err)) != EV_OK)
			break;
		(*added)++;
	}
	if (rc == EV_OK)
		rc = ev_ledger_commit(l, err);
	else
		ev_ledger_rollback(l);
out:
	for (i = 0; i < n; i++)
		json_decref(bodies[i]);
	free(bodies);
	json_decref(doc);
	return rc;
}

/* ---- the critical-vulnerability clock ---- */

int
ev_registers_vuln_clocks(struct ev_ledger *l, int64_t now, int all, json_t **out,
    struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *st;
	int rc;

	if ((rc = query(db, &st, err,
		 "SELECT id, coalesce(title, ''), clock_start, clock_stop, coalesce(stop_kind, ''),"
		 " severity FROM reg_items WHERE register = 'vuln' AND clock_start IS NOT NULL"
		 " ORDER BY clock_start, id",
		 "")) != EV_OK)
		return rc;
	*out = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t start = sqlite3_column_int64(st, 2), due = start + EV_VULN_CLOCK_US;
		int stopped = sqlite3_column_type(st, 3) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 3) <= now;
		char ts[EV_TIME_STRLEN], td[EV_TIME_STRLEN], tx[EV_TIME_STRLEN];
		const char *state;
		json_t *c;

		if (start > now)
			continue;
		if (stopped)
			state = "stopped";
		else if (now > due)
			state = "overdue";
		else if (now >= due - EV_VULN_CLOCK_US / 4)
			state = "due-soon";
		else
			state = "running";
		if (stopped && !all)
			continue;
		ev_time_format(start, ts);
		ev_time_format(due, td);
		c = json_object();
		json_object_set_new(c, "subject", json_string(col(st, 0)));
		json_object_set_new(c, "clock", json_string(EV_VULN_CLOCK));
		json_object_set_new(c, "title", json_string(col(st, 1)));
		json_object_set_new(c, "started", json_string(ts));
		json_object_set_new(c, "due", json_string(td));
		json_object_set_new(c, "duration", json_string("PT48H"));
		json_object_set_new(c, "basis", json_string("EN 319 401 7.9.5"));
		json_object_set_new(c, "state", json_string(state));
		if (stopped) {
			ev_time_format(sqlite3_column_int64(st, 3), tx);
			json_object_set_new(c, "stopped", json_string(tx));
			json_object_set_new(c, "stopped_by", json_string(col(st, 4)));
		}
		json_array_append_new(*out, c);
	}
	sqlite3_finalize(st);
	return EV_OK;
}

int
ev_registers_vuln_clocks_append(struct ev_ledger *l, int64_t now, int all, json_t *clocks,
    struct ev_err *err)
{
	json_t *v = NULL, *c;
	size_t i;
	int rc;

	if ((rc = ev_registers_vuln_clocks(l, now, all, &v, err)) != EV_OK)
		return rc;
	json_array_foreach(v, i, c) {
		json_object_set(c, "incident", json_object_get(c, "subject"));
		json_array_append(clocks, c);
	}
	json_decref(v);
	return EV_OK;
}

int
ev_registers_raise(struct ev_ledger *l, const char *rule, const char *key,
    const char *severity, const char *title, const char *why, json_t *extra, int *raised,
    struct ev_err *err)
{
	sqlite3_stmt *st;
	int rc, exists;
	json_t *b;

	if (raised)
		*raised = 0;
	if ((rc = query(ev_ledger_db(l), &st, err,
		 "SELECT 1 FROM reg_alerts WHERE rule = ? AND key = ?", "tt", rule, key)) != EV_OK)
		return rc;
	exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (exists)
		return EV_OK;
	b = extra ? json_deep_copy(extra) : json_object();
	json_object_set_new(b, "rule", json_string(rule));
	json_object_set_new(b, "key", json_string(key));
	json_object_set_new(b, "severity", json_string(severity));
	json_object_set_new(b, "title", json_string(title));
	json_object_set_new(b, "why", json_string(why));
	json_object_set_new(b, "tags", json_array());
	json_object_set_new(b, "log_seq", json_array());
	rc = append_one(l, "alert.raised", "alerts", "system", b, NULL, err);
	json_decref(b);
	if (rc == EV_OK && raised)
		*raised = 1;
	return rc;
}

int
ev_registers_vuln_tick(struct ev_ledger *l, int64_t now, unsigned *raised, struct ev_err *err)
{
	json_t *clocks = NULL, *c;
	size_t i;
	int rc, one;

	if (raised)
		*raised = 0;
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	if ((rc = ev_registers_vuln_clocks(l, now, 0, &clocks, err)) != EV_OK)
		goto fail;
	json_array_foreach(clocks, i, c) {
		const char *sub = ev_json_str(c, "subject");
		struct ev_buf title = EV_BUF_INIT, why = EV_BUF_INIT;
		json_t *x;
		if (strcmp(ev_json_str(c, "state"), "overdue") != 0)
			continue;
		ev_buf_addf(&title, "%s: critical vulnerability not addressed within 48 h", sub);
		ev_buf_addf(&why, "%s (%s) discovered %s, due %s, no mitigation or plan recorded",
		    sub, ev_json_str(c, "title"), ev_json_str(c, "started"), ev_json_str(c, "due"));
		x = json_pack("{s:s,s:s,s:s}", "subject", sub, "clock", EV_VULN_CLOCK, "due",
		    ev_json_str(c, "due"));
		rc = ev_registers_raise(l, "vuln.overdue", sub, "critical", title.p, why.p, x, &one,
		    err);
		json_decref(x);
		ev_buf_free(&title);
		ev_buf_free(&why);
		if (rc != EV_OK)
			goto fail;
		if (raised)
			*raised += (unsigned)one;
	}
	json_decref(clocks);
	return ev_ledger_commit(l, err);
fail:
	json_decref(clocks);
	ev_ledger_rollback(l);
	return rc;
}
