/*
 * incident.c - recording workflow steps (ev_incident_record) and reading
 * incidents back (show, list).
 *
 * ev_incident_record validates the caller's input, decides which regulatory
 * clocks start or stop (from the clock profiles), writes that decision into
 * the entry body and appends it, all in one transaction: either the step
 * and everything it implies is recorded, or nothing is.  The workflow rules
 * themselves (close needs an approved review, ...) are enforced by the
 * projector (projector.c) so that they hold for every writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incident/internal.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

/* Allowed clock skew for times given "in the future" (awareness, sent-at). */
#define FUTURE_SLACK_US (5 * 60 * 1000000LL)

int
ev_incident_id_valid(const char *s)
{
	size_t n;

	if (s == NULL || strncmp(s, "inc-", 4) != 0)
		return 0;
	for (int i = 4; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[8] != '-')
		return 0;
	n = strlen(s + 9);
	if (n < 4 || n > 9)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[9 + i] < '0' || s[9 + i] > '9')
			return 0;
	return 1;
}

/* ---- evidence files ---- */

int
ev_incident_store_evidence(const char *data_dir, const char *path, char sha_hex[65],
    char *name, size_t name_len, uint64_t *size, int *created, struct ev_err *err)
{
	struct ev_buf dir = EV_BUF_INIT, dst = EV_BUF_INIT, tmp = EV_BUF_INIT;
	unsigned char buf[65536], md[32];
	EVP_MD_CTX *ctx = NULL;
	int in = -1, out = -1, rc = EV_OK;
	ssize_t r;
	uint64_t total = 0;
	struct stat sb;
	const char *base = strrchr(path, '/');

	*created = 0;
	base = base ? base + 1 : path;
	if (*base == '\0' || strlen(base) >= name_len)
		return ev_errf(err, EV_EINVAL, "--evidence %s: needs a file name under %zu bytes",
		    path, name_len);
	snprintf(name, name_len, "%s", base);
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ev_errf(err, EV_EINVAL, "--evidence %s: %s", path, strerror(errno));
	if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(in);
		return ev_errf(err, EV_EINVAL, "--evidence %s: not a regular file", path);
	}
	ev_buf_addf(&dir, "%s/evidence", data_dir);
	if (mkdir(dir.p, 0700) != 0 && errno != EEXIST) {
		rc = ev_errf(err, EV_EIO, "%s: %s", dir.p, strerror(errno));
		goto out;
	}
	ev_buf_addf(&tmp, "%s/.tmp-%ld", dir.p, (long)getpid());
	if ((out = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		rc = ev_errf(err, EV_EIO, "%s: %s", tmp.p, strerror(errno));
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = ev_errf(err, EV_EIO, "SHA-256 unavailable");
		goto out;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		if (write(out, buf, (size_t)r) != r) {
			rc = ev_errf(err, EV_EIO, "%s: %s", tmp.p, strerror(errno));
			goto out;
		}
		total += (uint64_t)r;
	}
	if (r < 0) {
		rc = ev_errf(err, EV_EIO, "--evidence %s: %s", path, strerror(errno));
		goto out;
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	ev_hex_encode(md, 32, sha_hex);
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		rc = ev_errf(err, EV_EIO, "%s: %s", tmp.p, strerror(errno));
		goto out;
	}
	out = -1;
	ev_buf_addf(&dst, "%s/%s", dir.p, sha_hex);
	if (stat(dst.p, &sb) == 0) {
		unlink(tmp.p); /* same content is already kept */
	} else if (rename(tmp.p, dst.p) != 0) {
		rc = ev_errf(err, EV_EIO, "%s: %s", dst.p, strerror(errno));
		goto out;
	} else {
		*created = 1;
	}
	*size = total;
out:
	if (out >= 0)
		close(out);
	if (rc != EV_OK && tmp.p)
		unlink(tmp.p);
	if (in >= 0)
		close(in);
	EVP_MD_CTX_free(ctx);
	ev_buf_free(&dir);
	ev_buf_free(&dst);
	ev_buf_free(&tmp);
	return rc;
}

/* ---- clocks to start and stop ---- */

/* The state of one clock row of the incident: 0 absent, 1 running, 2 stopped (kind in k). */
static int
clock_row(sqlite3 *db, const char *id, const char *clock, char *k, size_t klen,
    struct ev_err *err, int *state)
{
	sqlite3_stmt *st;
	int rc;

	*state = 0;
	if ((rc = ev_inc_query(db, &st, err,
		 "SELECT stopped IS NOT NULL, coalesce(stop_kind, '') FROM incident_clocks"
		 " WHERE incident = ? AND clock = ?",
		 "tt", id, clock)) != EV_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*state = sqlite3_column_int(st, 0) ? 2 : 1;
		snprintf(k, klen, "%s", ev_inc_col(st, 1));
	}
	sqlite3_finalize(st);
	return EV_OK;
}

static json_t *
clock_start(const json_t *def, const char *from)
{
	json_t *s = json_object();
	const char *soon = ev_json_str(def, "due_soon");

	json_object_set_new(s, "clock", json_string(ev_json_str(def, "name")));
	json_object_set_new(s, "profile", json_string(ev_json_str(def, "profile")));
	json_object_set_new(s, "version", json_string(ev_json_str(def, "version")));
	json_object_set_new(s, "title", json_string(ev_json_str(def, "title")));
	json_object_set_new(s, "basis", json_string(ev_json_str(def, "basis")));
	json_object_set_new(s, "condition", json_string(ev_json_str(def, "condition")));
	json_object_set_new(s, "duration", json_string(ev_json_str(def, "duration")));
	json_object_set_new(s, "from", json_string(from));
	if (soon)
		json_object_set_new(s, "due_soon", json_string(soon));
	return s;
}

/*
 * Which clocks a step starts and stops.  cond is the condition the step
 * fulfils ("opened", "significant", "notified:CLOCK") or NULL; withdraw=1
 * stops the significance clocks (reclassified significant = no); stop_clock
 * names the clock a notice stops.
 */
static int
plan_clocks(sqlite3 *db, const struct ev_profiles *p, const char *id, const char *cond,
    int withdraw, const char *stop_clock, const char *ref, json_t *body, struct ev_err *err)
{
	json_t *start = json_array(), *stop = json_array(), *def;
	size_t i;
	int rc = EV_OK, state;
	char kind[32];

	if (p != NULL) {
		json_array_foreach((json_t *)ev_profiles_clocks(p), i, def) {
			const char *name = ev_json_str(def, "name"), *c = ev_json_str(def, "condition");
			if ((rc = clock_row(db, id, name, kind, sizeof(kind), err, &state)) != EV_OK)
				goto out;
			if (cond && strcmp(c, cond) == 0) {
				/* Start unless running or answered; restart after a withdrawal. */
				if (state == 0 || (state == 2 && strcmp(kind, "withdrawn") == 0))
					json_array_append_new(start, clock_start(def,
					    strncmp(c, "notified:", 9) == 0 ? "notice" : "awareness"));
			}
			if (withdraw && state == 1 && strcmp(c, "significant") == 0) {
				json_t *s = json_object();
				json_object_set_new(s, "clock", json_string(name));
				json_object_set_new(s, "kind", json_string("withdrawn"));
				json_object_set_new(s, "reason",
				    json_string("reclassified: significant = no"));
				json_array_append_new(stop, s);
			}
		}
	}
	if (stop_clock) {
		if ((rc = clock_row(db, id, stop_clock, kind, sizeof(kind), err, &state)) != EV_OK)
			goto out;
		if (state == 1) {
			json_t *s = json_object();
			struct ev_buf why = EV_BUF_INIT;
			ev_buf_addf(&why, "notice recorded (ref %s)", ref);
			json_object_set_new(s, "clock", json_string(stop_clock));
			json_object_set_new(s, "kind", json_string("notice"));
			json_object_set_new(s, "reason", json_string(why.p));
			ev_buf_free(&why);
			json_array_append_new(stop, s);
		}
	}
	if (json_array_size(start) || json_array_size(stop)) {
		json_t *c = json_object();
		json_object_set(c, "start", start);
		json_object_set(c, "stop", stop);
		json_object_set_new(body, "clocks", c);
	}
out:
	json_decref(start);
	json_decref(stop);
	return rc;
}

/* ---- significance assessment ---- */

/* 1 true, 0 false, -1 unknown (no answer). */
static int
eval_cond(const json_t *cond, const json_t *answers)
{
	const char *k = ev_json_str(cond, "key"), *op = ev_json_str(cond, "op");
	const char *want = ev_json_str(cond, "value"), *got = ev_json_str(answers, k);
	char *end;
	double a, b;

	if (got == NULL)
		return -1;
	a = strtod(got, &end);
	if (end != got && *end == '\0') {
		b = strtod(want, NULL);
		if (strcmp(op, "gt") == 0)
			return a > b;
		if (strcmp(op, "ge") == 0)
			return a >= b;
		return a == b;
	}
	return strcmp(op, "eq") == 0 && strcmp(got, want) == 0;
}

static int
assess(const json_t *crit, json_t *body, struct ev_err *err)
{
	const json_t *answers = json_object_get(body, "answers"), *qs, *c, *cond, *q;
	const char *ovr = ev_json_str(body, "override");
	json_t *met = json_array(), *missing = json_array();
	size_t i, j;
	const char *k;
	json_t *v;
	int any_unknown = 0;

	qs = json_object_get(crit, "questions");
	json_object_foreach((json_t *)answers, k, v) {
		const json_t *found = NULL;
		const char *s = json_string_value(v), *type;
		char *end;
		json_array_foreach(qs, i, q)
			if (strcmp(ev_json_str(q, "key"), k) == 0)
				found = q;
		if (found == NULL) {
			json_decref(met);
			json_decref(missing);
			return ev_errf(err, EV_EINVAL, "--answer %s: not a question of criteria %s (see "
			    "the profile file)", k, ev_json_str(crit, "profile"));
		}
		type = ev_json_str(found, "type");
		if (strcmp(type, "number") == 0 && (strtod(s, &end), end == s || *end != '\0' ||
			s[0] == '-')) {
			json_decref(met);
			json_decref(missing);
			return ev_errf(err, EV_EINVAL, "--answer %s=%s: needs a number", k, s);
		}
		if (strcmp(type, "yes-no") == 0 && strcmp(s, "yes") && strcmp(s, "no")) {
			json_decref(met);
			json_decref(missing);
			return ev_errf(err, EV_EINVAL, "--answer %s=%s: needs yes or no", k, s);
		}
	}
	json_array_foreach(json_object_get(crit, "criteria"), i, c) {
		const json_t *any = json_object_get(c, "any");
		const json_t *list = any ? any : json_object_get(c, "all");
		int res = any ? 0 : 1;
		json_array_foreach(list, j, cond) {
			int r = eval_cond(cond, answers);
			if (any) {
				if (r == 1)
					res = 1;
				else if (r == -1 && res == 0)
					res = -1;
			} else {
				if (r == 0)
					res = 0;
				else if (r == -1 && res == 1)
					res = -1;
			}
		}
		if (res == 1)
			json_array_append_new(met, json_string(ev_json_str(c, "id")));
		if (res == -1) {
			any_unknown = 1;
			json_array_foreach(list, j, cond) {
				const char *key = ev_json_str(cond, "key");
				int dup = 0;
				size_t m;
				json_t *mv;
				if (ev_json_str(answers, key))
					continue;
				json_array_foreach(missing, m, mv)
					if (strcmp(json_string_value(mv), key) == 0)
						dup = 1;
				if (!dup)
					json_array_append_new(missing, json_string(key));
			}
		}
	}
	const char *derived = json_array_size(met) ? "yes" : any_unknown ? "undetermined" : "no";
	json_object_set_new(body, "criteria", json_string(ev_json_str(crit, "profile")));
	json_object_set_new(body, "version", json_string(ev_json_str(crit, "version")));
	json_object_set_new(body, "met", met);
	json_object_set_new(body, "missing", missing);
	json_object_set_new(body, "derived", json_string(derived));
	json_object_set_new(body, "significant", json_string(ovr ? ovr : derived));
	return EV_OK;
}

/* ---- recording ---- */

struct alert_check {
	int ok;
	char kind[EV_KIND_MAX + 1];
};

static int
alert_cb(const struct ev_entry *e, void *arg)
{
	struct alert_check *a = arg;

	snprintf(a->kind, sizeof(a->kind), "%s", e->kind);
	a->ok = strcmp(e->kind, "alert.raised") == 0;
	return 0;
}

static int
check_time(const json_t *body, const char *key, const char *opt, struct ev_err *err)
{
	const char *s = ev_json_str(body, key);
	int64_t t;

	if (s == NULL)
		return EV_OK;
	if (ev_time_parse(s, &t) != 0)
		return ev_errf(err, EV_EINVAL, "--%s '%s' is not a time (RFC 3339, YYYY-MM-DD)", opt,
		    s);
	if (t > ev_time_now_us() + FUTURE_SLACK_US)
		return ev_errf(err, EV_EINVAL, "--%s %s is in the future", opt, s);
	return EV_OK;
}

static int
record_opened(struct ev_ledger *l, const struct ev_profiles *p, json_t *body, char *id,
    struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *st;
	int64_t y, num = 0, now = ev_time_now_us();
	unsigned m, d;
	const json_t *alerts = json_object_get(body, "alerts"), *a;
	size_t i;
	int rc;

	if ((rc = check_time(body, "aware_at", "aware-at", err)) != EV_OK)
		return rc;
	json_array_foreach(alerts, i, a) {
		struct alert_check ac = { 0, "" };
		struct ev_err e2 = { 0 };
		if (!json_is_integer(a) || json_integer_value(a) <= 0)
			return ev_errf(err, EV_EINVAL, "--from-alert needs an alert's entry seq");
		rc = ev_ledger_get(l, (uint64_t)json_integer_value(a), alert_cb, &ac, &e2);
		if (rc == EV_ENOTFOUND)
			return ev_errf(err, EV_EINVAL, "--from-alert %lld: no such ledger entry",
			    (long long)json_integer_value(a));
		if (rc != EV_OK)
			return ev_errf(err, rc, "%s", e2.msg);
		if (!ac.ok)
			return ev_errf(err, EV_EINVAL,
			    "--from-alert %lld: entry is a %s, not an alert.raised",
			    (long long)json_integer_value(a), ac.kind);
	}
	ev_civil_from_days(now / 86400000000LL, &y, &m, &d);
	if ((rc = ev_inc_query(db, &st, err, "SELECT coalesce(max(num), 0) FROM incidents WHERE year = ?",
		 "i", y)) != EV_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		num = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (num >= 999999999)
		return ev_errf(err, EV_ESTATE, "no incident number left for %lld", (long long)y);
	snprintf(id, EV_INCIDENT_ID_MAX, "inc-%04lld-%04lld", (long long)y, (long long)(num + 1));
	return plan_clocks(db, p, id, "opened", 0, NULL, NULL, body, err);
}

static int
incident_row(sqlite3 *db, const char *id, int *closed, struct ev_err *err)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if ((rc = ev_inc_query(db, &st, err,
		 "SELECT closed_seq IS NOT NULL FROM incidents WHERE id = ?", "t", id)) != EV_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		*closed = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	if (!found)
		return ev_errf(err, EV_ENOTFOUND, "no incident %s (see 'evident incident list')", id);
	return EV_OK;
}

static int
prepare(struct ev_ledger *l, const struct ev_profiles *p, const char *kind, const char *id,
    json_t *body, struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	int rc, closed = 0;

	if (!ev_incident_id_valid(id))
		return ev_errf(err, EV_EINVAL, "'%s' is not an incident id (inc-YYYY-NNNN)",
		    id ? id : "");
	if ((rc = incident_row(db, id, &closed, err)) != EV_OK)
		return rc;
	if (closed)
		return ev_errf(err, EV_ESTATE, "incident %s is closed: nothing more is recorded on it",
		    id);
	if (strcmp(kind, "incident.classified") == 0) {
		const char *sig = ev_json_str(body, "significant");
		return plan_clocks(db, p, id, sig && strcmp(sig, "yes") == 0 ? "significant" : NULL,
		    sig && strcmp(sig, "no") == 0, NULL, NULL, body, err);
	}
	if (strcmp(kind, "incident.assessed") == 0) {
		const json_t *crit = ev_profiles_criteria(p, ev_json_str(body, "criteria"));
		const char *sig;
		if (crit == NULL)
			return ev_errf(err, EV_EINVAL, "no significance criteria profile %s in the "
			    "profile directory", ev_json_str(body, "criteria") ? ev_json_str(body, "criteria") : "");
		if ((rc = assess(crit, body, err)) != EV_OK)
			return rc;
		sig = ev_json_str(body, "significant");
		return plan_clocks(db, p, id, strcmp(sig, "yes") == 0 ? "significant" : NULL,
		    strcmp(sig, "no") == 0, NULL, NULL, body, err);
	}
	if (strcmp(kind, "incident.notified") == 0) {
		const char *clock = ev_json_str(body, "clock");
		struct ev_buf cond = EV_BUF_INIT;
		if ((rc = check_time(body, "sent_at", "sent-at", err)) != EV_OK)
			return rc;
		if (clock == NULL || ev_profiles_clock(p, clock) == NULL)
			return ev_errf(err, EV_EINVAL,
			    "--clock %s: no such clock in the profiles (see 'evident clocks --list')",
			    clock ? clock : "");
		ev_buf_addf(&cond, "notified:%s", clock);
		rc = plan_clocks(db, p, id, cond.p, 0, clock, ev_json_str(body, "ref"), body, err);
		ev_buf_free(&cond);
		return rc;
	}
	return EV_OK;
}

int
ev_incident_record(struct ev_ledger *l, const struct ev_profiles *p, const char *kind,
    const char *id, const char *actor, json_t *body, char id_out[EV_INCIDENT_ID_MAX],
    uint64_t *seq, struct ev_err *err)
{
	char newid[EV_INCIDENT_ID_MAX] = "";
	struct ev_entry_in in;
	char *text = NULL;
	int rc;

	if (actor == NULL || *actor == '\0')
		return ev_errf(err, EV_EINVAL, "every step needs an actor (--actor NAME)");
	if ((rc = ev_inc_check_body(kind, body, 0, err)) != EV_OK)
		return rc;
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	if (strcmp(kind, "incident.opened") == 0)
		rc = record_opened(l, p, body, newid, err);
	else
		rc = prepare(l, p, kind, id, body, err);
	if (rc != EV_OK)
		goto fail;
	text = ev_json_dump(body);
	if (text == NULL) {
		rc = ev_errf(err, EV_EINVAL, "cannot serialise the entry body");
		goto fail;
	}
	in.kind = kind;
	in.subject = newid[0] ? newid : id;
	in.actor = actor;
	in.body = text;
	in.body_len = strlen(text);
	if ((rc = ev_ledger_append(l, &in, 1, seq, err)) != EV_OK)
		goto fail;
	if ((rc = ev_ledger_commit(l, err)) != EV_OK)
		goto out;
	if (id_out)
		snprintf(id_out, EV_INCIDENT_ID_MAX, "%s", in.subject);
	goto out;
fail:
	ev_ledger_rollback(l);
out:
	free(text);
	return rc;
}

/* ---- reading back ---- */

static json_t *
time_json(int64_t us)
{
	char t[EV_TIME_STRLEN];

	ev_time_format(us, t);
	return json_string(t);
}

enum col_kind { COL_PLAIN, COL_TIME, COL_JSON };

/* Column i as JSON: NULL -> null, time columns -> RFC 3339, JSON columns -> JSON. */
static json_t *
col_json(sqlite3_stmt *st, int i, enum col_kind kind)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		return json_null();
	case SQLITE_INTEGER:
		if (kind == COL_TIME)
			return time_json(sqlite3_column_int64(st, i));
		return json_integer(sqlite3_column_int64(st, i));
	default: {
		const char *s = ev_inc_col(st, i);
		/* Only the columns the projector stores as JSON (never free text). */
		if (kind == COL_JSON) {
			json_t *v = json_loads(s, 0, NULL);
			if (v)
				return v;
		}
		return json_string(s);
	}
	}
}

static enum col_kind
col_kind(const char *name)
{
	static const char *const t[] = { "time", "opened_at", "aware_at", "closed_at", "started",
		"due", "warn", "stopped", "sent_at", "approved_at", NULL };
	static const char *const j[] = { "answers", "met", "missing", "actions", NULL };

	for (int i = 0; t[i]; i++)
		if (strcmp(name, t[i]) == 0)
			return COL_TIME;
	for (int i = 0; j[i]; i++)
		if (strcmp(name, j[i]) == 0)
			return COL_JSON;
	return COL_PLAIN;
}

/* Rows of a query as an array of objects keyed by column name. */
static int
rows_json(sqlite3 *db, const char *sql, const char *id, json_t **out, struct ev_err *err)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();
	int rc, r;

	if ((rc = ev_inc_query(db, &st, err, sql, id ? "t" : "", id)) != EV_OK) {
		json_decref(arr);
		return rc;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *name = sqlite3_column_name(st, i);
			json_object_set_new(o, name, col_json(st, i, col_kind(name)));
		}
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		json_decref(arr);
		return ev_errf(err, EV_EIO, "incident projection: %s", sqlite3_errmsg(db));
	}
	*out = arr;
	return EV_OK;
}

static int
add_rows(sqlite3 *db, json_t *obj, const char *key, const char *sql, const char *id,
    struct ev_err *err)
{
	json_t *a;
	int rc;

	if ((rc = rows_json(db, sql, id, &a, err)) != EV_OK)
		return rc;
	json_object_set_new(obj, key, a);
	return EV_OK;
}

/* Add a "state" to every clock row, evaluated at now. */
static void
clock_states(json_t *clocks, int64_t now, int64_t due_soon_us)
{
	size_t i;
	json_t *c;

	json_array_foreach(clocks, i, c) {
		int64_t due, warn;
		int stopped = !json_is_null(json_object_get(c, "stopped"));
		ev_time_parse(ev_json_str(c, "due"), &due);
		ev_time_parse(ev_json_str(c, "warn"), &warn);
		if (due_soon_us > 0)
			warn = due - due_soon_us;
		json_object_set_new(c, "state",
		    json_string(ev_inc_clock_state(now, due, warn, stopped)));
		json_object_set_new(c, "due_soon_from", json_string(ev_json_str(c, "warn")));
		json_object_del(c, "warn");
	}
}

int
ev_incident_show(struct ev_ledger *l, const char *id, int64_t now, json_t **out,
    struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	json_t *rows = NULL, *inc;
	int rc;

	if (!ev_incident_id_valid(id))
		return ev_errf(err, EV_EINVAL, "'%s' is not an incident id (inc-YYYY-NNNN)", id);
	if ((rc = rows_json(db,
		 "SELECT id, title, stage, owner, opened_by, opened_at, aware_at, aware_given,"
		 " reported_by, channel, severity, category, significant, continuity,"
		 " review_seq, approved_seq, approved_by, closed_at FROM incidents WHERE id = ?",
		 id, &rows, err)) != EV_OK)
		return rc;
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return ev_errf(err, EV_ENOTFOUND, "no incident %s (see 'evident incident list')", id);
	}
	inc = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	json_object_set_new(inc, "aware_given", json_boolean(json_integer_value(
	    json_object_get(inc, "aware_given"))));
	if ((rc = add_rows(db, inc, "alerts",
		 "SELECT alert_seq FROM incident_alerts WHERE incident = ? ORDER BY alert_seq", id,
		 err)) != EV_OK ||
	    (rc = add_rows(db, inc, "classifications",
		 "SELECT seq, time, actor, source, severity, category, significant, reason,"
		 " criteria, criteria_version FROM incident_classifications WHERE incident = ?"
		 " ORDER BY seq",
		 id, err)) != EV_OK ||
	    (rc = add_rows(db, inc, "assessments",
		 "SELECT seq, time, actor, criteria, version, answers, met, missing, derived,"
		 " override, reason, significant FROM incident_assessments WHERE incident = ?"
		 " ORDER BY seq",
		 id, err)) != EV_OK ||
	    (rc = add_rows(db, inc, "clocks",
		 "SELECT clock, title, basis, profile, version, condition, duration, started, due,"
		 " warn, stopped, stop_reason FROM incident_clocks WHERE incident = ?"
		 " ORDER BY due, clock",
		 id, err)) != EV_OK ||
	    (rc = add_rows(db, inc, "actions",
		 "SELECT seq, time, actor, type, note, evidence_sha256, evidence_name, evidence_size"
		 " FROM incident_actions WHERE incident = ? ORDER BY seq",
		 id, err)) != EV_OK ||
	    (rc = add_rows(db, inc, "notices",
		 "SELECT seq, time, sent_at, actor, recipient, clock, ref, note FROM incident_notices"
		 " WHERE incident = ? ORDER BY seq",
		 id, err)) != EV_OK ||
	    (rc = add_rows(db, inc, "reviews",
		 "SELECT seq, time, actor, root_cause, actions, vulnerability_exposure,"
		 " no_remediation_basis, approved_seq, approved_by, approved_at FROM incident_reviews"
		 " WHERE incident = ? ORDER BY seq",
		 id, err)) != EV_OK ||
	    (rc = add_rows(db, inc, "timeline",
		 "SELECT seq, time, actor, kind, stage, summary FROM incident_timeline"
		 " WHERE incident = ? ORDER BY seq",
		 id, err)) != EV_OK) {
		json_decref(inc);
		return rc;
	}
	clock_states(json_object_get(inc, "clocks"), now, 0);
	*out = inc;
	return EV_OK;
}

int
ev_incident_list(struct ev_ledger *l, int open_only, const char *stage, json_t **out,
    struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	json_t *all, *res, *v;
	size_t i;
	int rc;

	if ((rc = rows_json(db,
		 "SELECT id, title, stage, owner, severity, category, significant, opened_at,"
		 " aware_at, closed_at FROM incidents ORDER BY year, num",
		 NULL, &all, err)) != EV_OK)
		return rc;
	res = json_array();
	json_array_foreach(all, i, v) {
		if (open_only && !json_is_null(json_object_get(v, "closed_at")))
			continue;
		if (stage && strcmp(ev_json_str(v, "stage"), stage) != 0)
			continue;
		json_array_append(res, v);
	}
	json_decref(all);
	*out = res;
	return EV_OK;
}

int
ev_clocks_list(struct ev_ledger *l, int64_t now, int64_t due_soon_us, int all, json_t **out,
    struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	json_t *rows, *res, *v;
	size_t i;
	int rc;

	if ((rc = rows_json(db,
		 "SELECT incident, clock, title, basis, started, due, warn, stopped, stop_reason"
		 " FROM incident_clocks ORDER BY due, incident, clock",
		 NULL, &rows, err)) != EV_OK)
		return rc;
	clock_states(rows, now, due_soon_us);
	res = json_array();
	json_array_foreach(rows, i, v) {
		if (!all && strcmp(ev_json_str(v, "state"), "stopped") == 0)
			continue;
		json_array_append(res, v);
	}
	json_decref(rows);
	*out = res;
	return EV_OK;
}
