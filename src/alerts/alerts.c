/*
 * alerts.c - the alerts projection, acknowledgement and follow-up (see
 * alerts.h).
 *
 * The projector sees only alert.raised and alert.acknowledged entries and
 * must give the same table on replay, so it decides nothing the entries do
 * not say: the first acknowledgement of an alert wins (the CLI refuses a
 * second one before appending, under the write lock), and a follow-up alert
 * marks its original as followed up.  It never fails on an entry that names
 * an unknown alert: such an entry is history and is kept, just not projected.
 *
 * Statements used on the append path are prepared once per connection (see
 * stmt_get); setup and reset forget them for that connection.
 */
#include "alerts/alerts.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jscan.h"
#include "util/json.h"
#include "util/stmtcache.h"
#include "util/timeutil.h"

/* ---- canonical JSON strings ---- */

/* Length of the valid UTF-8 sequence at s[0..n) (as jansson accepts it), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	unsigned cp;

	if (c < 0x80)
		return c ? 1 : 0;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		len = 2;
		cp = c & 0x1f;
	} else if (c < 0xf0) {
		len = 3;
		cp = c & 0x0f;
	} else if (c < 0xf5) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
ev_alerts_json_str(struct ev_buf *b, const char *str, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	int replaced = 0;

	ev_buf_reserve(b, n + 2);
	ev_buf_addc(b, '"');
	while (i < n) {
		unsigned char c;
		size_t k;
		i += ev_json_plain_run(s + i, s + n); /* most of a log line */
		if (i >= n)
			break;
		c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80 && (k = utf8_seq(s + i, n - i)) != 0) {
			i += k;
			continue;
		}
		ev_buf_add(b, str + run, i - run);
		switch (c) {
		case '"': ev_buf_add(b, "\\\"", 2); break;
		case '\\': ev_buf_add(b, "\\\\", 2); break;
		case '\n': ev_buf_add(b, "\\n", 2); break;
		case '\r': ev_buf_add(b, "\\r", 2); break;
		case '\t': ev_buf_add(b, "\\t", 2); break;
		case '\b': ev_buf_add(b, "\\b", 2); break;
		case '\f': ev_buf_add(b, "\\f", 2); break;
		default:
			if (c == 0 || c >= 0x80) {
				ev_buf_add(b, "\xef\xbf\xbd", 3); /* U+FFFD */
				replaced = 1;
			} else {
				char u[6] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15] };
				ev_buf_add(b, u, 6);
			}
		}
		i++;
		run = i;
	}
	ev_buf_add(b, str + run, n - run);
	ev_buf_addc(b, '"');
	return replaced;
}

static void
jstr(struct ev_buf *b, const char *s)
{
	if (s == NULL)
		ev_buf_add(b, "null", 4);
	else
		ev_alerts_json_str(b, s, strlen(s));
}

void
ev_alerts_body(const struct ev_rule_match *m, const struct ev_event *ev, struct ev_buf *b)
{
	ev_buf_add(b, "{\"group\":", 9);
	jstr(b, m->group);
	ev_buf_add(b, ",\"log_seq\":[", 12);
	if (m->nseqs > 0) {
		for (size_t i = 0; i < m->nseqs; i++) {
			if (i)
				ev_buf_addc(b, ',');
			ev_buf_add_u64(b, m->seqs[i]);
		}
	} else {
		ev_buf_add_u64(b, ev->seq);
	}
	ev_buf_add(b, "],\"rule\":", 9);
	jstr(b, m->rule_id ? m->rule_id : "unknown");
	ev_buf_add(b, ",\"severity\":", 12);
	jstr(b, m->level ? m->level : "medium");
	ev_buf_add(b, ",\"source\":", 10);
	jstr(b, ev->source);
	ev_buf_add(b, ",\"tags\":[", 9);
	for (size_t i = 0; i < m->ntags; i++) {
		if (i)
			ev_buf_addc(b, ',');
		jstr(b, m->tags[i] ? m->tags[i] : "");
	}
	ev_buf_add(b, "],\"title\":", 10);
	jstr(b, m->title ? m->title : "");
	ev_buf_add(b, ",\"why\":", 7);
	jstr(b, m->why ? m->why : "");
	ev_buf_addc(b, '}');
}

/* ---- per-connection statement cache ---- */

enum { Q_INSERT, Q_ACK, Q_FOLLOWED, Q_KIND_INS, Q_KIND_REF, Q__MAX };

static const char *const q_sql[Q__MAX] = {
	[Q_INSERT] = "INSERT OR IGNORE INTO alerts(id, raised_us, ref, severity, source,"
		     " grp, followup_of) VALUES (?1,?2,?3,?4,?5,?6,?7)",
	[Q_KIND_INS] = "INSERT OR IGNORE INTO alert_kinds(rule, title, tags) VALUES (?1,?2,?3)",
	[Q_KIND_REF] = "SELECT ref FROM alert_kinds WHERE rule = ?1 AND title = ?2 AND tags = ?3",
	[Q_ACK] = "UPDATE alerts SET ack_seq = ?2, ack_us = ?3, ack_by = ?4, disposition = ?5,"
		  " note = ?6 WHERE id = ?1 AND ack_seq IS NULL",
	[Q_FOLLOWED] = "UPDATE alerts SET followup_id = ?2 WHERE id = ?1 AND followup_id IS NULL",
};

/* Per-connection statements (see util/stmtcache.h). */
static struct ev_stmt_cache cache = EV_STMT_CACHE_INIT("alerts", q_sql, Q__MAX);

static sqlite3_stmt *
stmt_get(sqlite3 *db, int q, struct ev_err *err)
{
	return ev_stmt_cache_get(&cache, db, (size_t)q, err);
}

static void
cache_forget(sqlite3 *db, int finalize)
{
	ev_stmt_cache_forget(&cache, db, finalize);
}

/* ---- the projector ---- */

/*
 * An alert row holds what lists and the follow-up scheduler need; the rule,
 * title and tags, the same for every alert of a rule, are one alert_kinds
 * row; the explanation ("why") and the lines behind it (log_seq) stay in the
 * ledger entry and are read from it when an alert is shown.  (A busy pack raises an alert for one line in
 * eight: repeating those texts per alert made this table larger than the
 * compressed ledger itself.)
 */
static const char alerts_schema[] =
	"CREATE TABLE IF NOT EXISTS alert_kinds("
	" ref INTEGER PRIMARY KEY, rule TEXT NOT NULL, title TEXT NOT NULL, tags TEXT NOT NULL,"
	" UNIQUE(rule, title, tags));"
	"CREATE TABLE IF NOT EXISTS alerts("
	" id INTEGER PRIMARY KEY, raised_us INTEGER NOT NULL, ref INTEGER NOT NULL,"
	" severity TEXT NOT NULL, source TEXT, grp TEXT,"
	" followup_of INTEGER, followup_id INTEGER,"
	" ack_seq INTEGER, ack_us INTEGER, ack_by TEXT, disposition TEXT, note TEXT);"
	/* Open alerts, in id (= time) order: the smallest index that finds them. */
	"CREATE INDEX IF NOT EXISTS alerts_open ON alerts(ack_seq) WHERE ack_seq IS NULL;";

static int
exec_sql(sqlite3 *db, const char *sql, struct ev_err *err)
{
	return ev_sql_exec(db, sql, "alerts", err);
}

static int
alerts_setup(sqlite3 *db, struct ev_err *err)
{
	cache_forget(db, 0); /* a new connection: any cached pointer for this address is stale */
	return exec_sql(db, alerts_schema, err);
}

static int
alerts_reset(sqlite3 *db, struct ev_err *err)
{
	int rc;

	cache_forget(db, 1);
	if ((rc = exec_sql(db, "DROP TABLE IF EXISTS alerts; DROP TABLE IF EXISTS alert_kinds;",
		 err)) != EV_OK)
		return rc;
	return exec_sql(db, alerts_schema, err);
}

static void
bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static int
step_done(sqlite3 *db, sqlite3_stmt *s, struct ev_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return ev_errf(err, EV_EIO, "alerts: %s", sqlite3_errmsg(db));
	return EV_OK;
}

static uint64_t
json_u64(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* The alert_kinds row of (rule, title, tags), made when new. */
static int
kind_ref(sqlite3 *db, const char *rule, int rl, const char *title, int tl, const char *tags,
    int gl, sqlite3_int64 *ref, struct ev_err *err)
{
	sqlite3_stmt *s;
	int rc;

	for (int q = Q_KIND_REF;; q = Q_KIND_REF) {
		if ((s = stmt_get(db, q, err)) == NULL)
			return EV_EIO;
		sqlite3_bind_text(s, 1, rule, rl, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, title, tl, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, tags, gl, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*ref = sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
			return EV_OK;
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return ev_errf(err, EV_EIO, "alerts: %s", sqlite3_errmsg(db));
		/* Not there yet: make it, then read its ref. */
		if ((s = stmt_get(db, Q_KIND_INS, err)) == NULL)
			return EV_EIO;
		sqlite3_bind_text(s, 1, rule, rl, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, title, tl, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, tags, gl, SQLITE_STATIC);
		if ((rc = step_done(db, s, err)) != EV_OK)
			return rc;
		if ((s = stmt_get(db, Q_KIND_REF, err)) == NULL)
			return EV_EIO;
		sqlite3_bind_text(s, 1, rule, rl, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, title, tl, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, tags, gl, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*ref = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return rc == SQLITE_ROW ? EV_OK : ev_errf(err, EV_EIO, "alerts: %s", sqlite3_errmsg(db));
	}
}

static int
apply_raised(sqlite3 *db, const struct ev_entry *e, json_t *b, struct ev_err *err)
{
	sqlite3_stmt *s;
	json_t *tags = json_object_get(b, "tags");
	char *tags_s = json_is_array(tags) ? ev_json_dump(tags) : NULL;
	const char *rule = ev_json_str(b, "rule"), *title = ev_json_str(b, "title");
	uint64_t fo = json_u64(json_object_get(b, "followup_of"));
	sqlite3_int64 ref = 0;
	int rc;

	if (rule == NULL)
		rule = strncmp(e->actor, "rule:", 5) == 0 ? e->actor + 5 : e->actor;
	if ((rc = kind_ref(db, rule, -1, title ? title : "", -1, tags_s ? tags_s : "[]", -1, &ref,
		 err)) != EV_OK)
		goto out;
	if ((s = stmt_get(db, Q_INSERT, err)) == NULL) {
		rc = EV_EIO;
		goto out;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)e->seq);
	sqlite3_bind_int64(s, 2, e->time_us);
	sqlite3_bind_int64(s, 3, ref);
	bind_str(s, 4, ev_json_str(b, "severity") ? ev_json_str(b, "severity") : "medium");
	bind_str(s, 5, ev_json_str(b, "source"));
	bind_str(s, 6, ev_json_str(b, "group"));
	if (fo)
		sqlite3_bind_int64(s, 7, (sqlite3_int64)fo);
	if ((rc = step_done(db, s, err)) != EV_OK)
		goto out;
	if (fo) {
		if ((s = stmt_get(db, Q_FOLLOWED, err)) == NULL) {
			rc = EV_EIO;
			goto out;
		}
		sqlite3_bind_int64(s, 1, (sqlite3_int64)fo);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)e->seq);
		rc = step_done(db, s, err);
	}
out:
	free(tags_s);
	return rc;
}

static int
apply_ack(sqlite3 *db, const struct ev_entry *e, json_t *b, struct ev_err *err)
{
	uint64_t id = json_u64(json_object_get(b, "alert"));
	sqlite3_stmt *s;

	if (id == 0)
		return EV_OK;
	if ((s = stmt_get(db, Q_ACK, err)) == NULL)
		return EV_EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)e->seq);
	sqlite3_bind_int64(s, 3, e->time_us);
	bind_str(s, 4, ev_json_str(b, "by") ? ev_json_str(b, "by") : e->actor);
	bind_str(s, 5, ev_json_str(b, "disposition"));
	bind_str(s, 6, ev_json_str(b, "note"));
	return step_done(db, s, err);
}

/*
 * Fast path for alert.raised: the body is canonical JSON that evident wrote,
 * so the members are found with the allocation-free scanner and bound as
 * they are.  A string with escapes needs decoding: that body takes the
 * jansson path.  Returns 1 when handled, 0 to fall back.
 */
static int
apply_raised_fast(sqlite3 *db, const struct ev_entry *e, int *rc, struct ev_err *err)
{
	static const char *const keys[] = { "rule", "title", "severity", "source", "group", "why",
		"tags", "log_seq", "followup_of" };
	struct ev_jspan sp[9];
	sqlite3_stmt *s;
	uint64_t fo = 0;

	if (ev_jscan_members(e->body, e->body_len, keys, 9, sp) != 0)
		return 0;
	for (int i = 0; i < 6; i++)
		if (sp[i].p && (sp[i].type != 's' || sp[i].escaped) && !(i >= 3 && sp[i].type == 'z'))
			return 0;
	if (!sp[0].p || (sp[6].p && sp[6].type != 'a') || (sp[7].p && sp[7].type != 'a'))
		return 0;
	if (sp[8].p) {
		if (sp[8].type != 'n' || sp[8].len > 19)
			return 0;
		for (size_t i = 0; i < sp[8].len; i++) {
			if (sp[8].p[i] < '0' || sp[8].p[i] > '9')
				return 0;
			fo = fo * 10 + (uint64_t)(sp[8].p[i] - '0');
		}
	}
	{
		sqlite3_int64 ref = 0;
		if ((*rc = kind_ref(db, sp[0].p, (int)sp[0].len, sp[1].p ? sp[1].p : "",
			 sp[1].p ? (int)sp[1].len : 0, sp[6].p ? sp[6].p : "[]",
			 sp[6].p ? (int)sp[6].len : 2, &ref, err)) != EV_OK)
			return 1;
		if ((s = stmt_get(db, Q_INSERT, err)) == NULL) {
			*rc = EV_EIO;
			return 1;
		}
		sqlite3_bind_int64(s, 1, (sqlite3_int64)e->seq);
		sqlite3_bind_int64(s, 2, e->time_us);
		sqlite3_bind_int64(s, 3, ref);
	}
	/* severity, source, group */
	if (sp[2].p && sp[2].type == 's')
		sqlite3_bind_text(s, 4, sp[2].p, (int)sp[2].len, SQLITE_STATIC);
	else
		sqlite3_bind_text(s, 4, "medium", 6, SQLITE_STATIC);
	for (int i = 3; i < 5; i++)
		if (sp[i].p && sp[i].type == 's')
			sqlite3_bind_text(s, i + 2, sp[i].p, (int)sp[i].len, SQLITE_STATIC);
	if (fo)
		sqlite3_bind_int64(s, 7, (sqlite3_int64)fo);
	if ((*rc = step_done(db, s, err)) != EV_OK || !fo)
		return 1;
	if ((s = stmt_get(db, Q_FOLLOWED, err)) == NULL) {
		*rc = EV_EIO;
		return 1;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)fo);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)e->seq);
	*rc = step_done(db, s, err);
	return 1;
}

static int
alerts_apply(sqlite3 *db, const struct ev_entry *e, struct ev_err *err)
{
	int raised = strcmp(e->kind, "alert.raised") == 0;
	json_t *b;
	int rc;

	if (!raised && strcmp(e->kind, "alert.acknowledged") != 0)
		return EV_OK;
	if (raised && apply_raised_fast(db, e, &rc, err))
		return rc;
	if ((b = json_loadb(e->body, e->body_len, 0, NULL)) == NULL)
		return EV_OK; /* the ledger only stores objects; keep going on anything else */
	rc = raised ? apply_raised(db, e, b, err) : apply_ack(db, e, b, err);
	json_decref(b);
	return rc;
}

/* The ledger closes a connection: finalise what the cache holds for it. */
static void
alerts_detach(sqlite3 *db)
{
	cache_forget(db, 1);
}

const struct ev_projector ev_alerts_projector = {
	"alerts", "alert.", alerts_setup, alerts_reset, alerts_apply, alerts_detach, NULL, NULL,
};

/* ---- reading ---- */

/* Column order as row_alert reads it; "why" comes from the ledger (see query_alerts). */
#define ALERT_COLS                                                                          \
	"a.id, a.raised_us, k.rule, k.title, a.severity, a.source, a.grp, NULL, k.tags,"       \
	" NULL, a.followup_of, a.followup_id, a.ack_seq, a.ack_us, a.ack_by,"               \
	" a.disposition, a.note"
#define ALERT_FROM " FROM alerts a JOIN alert_kinds k ON k.ref = a.ref"

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void
row_alert(sqlite3_stmt *s, struct ev_alert *a)
{
	memset(a, 0, sizeof(*a));
	a->id = (uint64_t)sqlite3_column_int64(s, 0);
	a->raised_us = sqlite3_column_int64(s, 1);
	a->rule = col_text(s, 2);
	a->title = col_text(s, 3);
	a->severity = col_text(s, 4);
	a->source = col_text(s, 5);
	a->group = col_text(s, 6);
	a->why = col_text(s, 7);
	a->tags = col_text(s, 8);
	a->log_seq = col_text(s, 9);
	a->followup_of = (uint64_t)sqlite3_column_int64(s, 10);
	a->followup_id = (uint64_t)sqlite3_column_int64(s, 11);
	a->ack_seq = (uint64_t)sqlite3_column_int64(s, 12);
	a->ack_us = sqlite3_column_int64(s, 13);
	a->ack_by = col_text(s, 14);
	a->disposition = col_text(s, 15);
	a->note = col_text(s, 16);
}

/*
 * The "why" and "log_seq" of an alert.raised entry, into out as two
 * NUL-terminated strings (log_seq as its JSON array text).
 */
static int
why_cb(const struct ev_entry *e, void *arg)
{
	static const char *const keys[] = { "why", "log_seq" };
	struct ev_buf *out = arg;
	struct ev_jspan sp[2];

	if (ev_jscan_members(e->body, e->body_len, keys, 2, sp) == 0 &&
	    (!sp[0].p || (sp[0].type == 's' && !sp[0].escaped)) && (!sp[1].p || sp[1].type == 'a')) {
		if (sp[0].p)
			ev_buf_add(out, sp[0].p, sp[0].len);
		ev_buf_addc(out, '\0');
		ev_buf_add(out, sp[1].p ? sp[1].p : "[]", sp[1].p ? sp[1].len : 2);
	} else {
		json_t *b = json_loadb(e->body, e->body_len, 0, NULL);
		const char *w = b ? ev_json_str(b, "why") : NULL;
		json_t *ls = b ? json_object_get(b, "log_seq") : NULL;
		char *lss = json_is_array(ls) ? ev_json_dump(ls) : NULL;
		if (w)
			ev_buf_adds(out, w);
		ev_buf_addc(out, '\0');
		ev_buf_adds(out, lss ? lss : "[]");
		free(lss);
		json_decref(b);
	}
	ev_buf_addc(out, '\0');
	return EV_OK;
}

static int
query_alerts(struct ev_ledger *l, const char *sql, uint64_t id,
    int (*cb)(const struct ev_alert *a, void *arg), void *arg, int *found, struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *s = NULL;
	struct ev_buf why = EV_BUF_INIT;
	int rc = EV_OK, r;

	*found = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		/* A read-only open of a ledger that never ran the projector has no table yet. */
		if (strstr(sqlite3_errmsg(db), "no such table") != NULL)
			return EV_OK;
		return ev_errf(err, EV_EIO, "alerts: %s", sqlite3_errmsg(db));
	}
	if (id)
		sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ev_alert a;
		row_alert(s, &a);
		ev_buf_reset(&why);
		if (ev_ledger_get(l, a.id, why_cb, &why, NULL) == EV_OK && why.p) {
			a.why = why.p;
			a.log_seq = why.p + strlen(why.p) + 1;
		} else {
			a.why = "";
			a.log_seq = "[]";
		}
		(*found)++;
		if (cb && (rc = cb(&a, arg)) != 0)
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = ev_errf(err, EV_EIO, "alerts: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	ev_buf_free(&why);
	return rc;
}

int
ev_alerts_list(struct ev_ledger *l, int open_only, int (*cb)(const struct ev_alert *a, void *arg),
    void *arg, struct ev_err *err)
{
	int found;

	return query_alerts(l,
	    open_only ? "SELECT " ALERT_COLS ALERT_FROM " WHERE a.ack_seq IS NULL ORDER BY a.id"
		      : "SELECT " ALERT_COLS ALERT_FROM " ORDER BY a.id",
	    0, cb, arg, &found, err);
}

int
ev_alerts_get(struct ev_ledger *l, uint64_t id, int (*cb)(const struct ev_alert *a, void *arg),
    void *arg, struct ev_err *err)
{
	int found, rc;

	rc = query_alerts(l, "SELECT " ALERT_COLS ALERT_FROM " WHERE a.id = ?1", id, cb, arg, &found,
	    err);
	if (rc == EV_OK && !found)
		return ev_errf(err, EV_ENOTFOUND, "no alert %llu", (unsigned long long)id);
	return rc;
}

int
ev_alerts_disposition_ok(const char *d)
{
	return d && (strcmp(d, "false-positive") == 0 || strcmp(d, "benign") == 0 ||
			strcmp(d, "escalated") == 0);
}

/* ---- acknowledgement ---- */

struct ack_state {
	uint64_t ack_seq;
	char by[160];
	char when[EV_TIME_STRLEN];
};

static int
ack_probe(const struct ev_alert *a, void *arg)
{
	struct ack_state *st = arg;

	st->ack_seq = a->ack_seq;
	if (a->ack_seq) {
		snprintf(st->by, sizeof(st->by), "%s", a->ack_by ? a->ack_by : "?");
		ev_time_format(a->ack_us, st->when);
	}
	return 0;
}

int
ev_alerts_ack(struct ev_ledger *l, uint64_t id, const char *by, const char *disposition,
    const char *note, const char *actor, uint64_t *seq, struct ev_err *err)
{
	struct ev_buf body = EV_BUF_INIT;
	struct ack_state st = { 0 };
	char subject[40];
	int rc;

	if (!ev_alerts_disposition_ok(disposition))
		return ev_errf(err, EV_EINVAL,
		    "disposition '%s' is not one of false-positive, benign, escalated",
		    disposition ? disposition : "");
	if (by == NULL || *by == '\0' || strlen(by) > 128)
		return ev_errf(err, EV_EINVAL, "--by needs the name of who followed the alert up");
	if (note == NULL || *note == '\0' || strlen(note) > 8192)
		return ev_errf(err, EV_EINVAL, "--note needs the follow-up reasoning (1 to 8192 bytes)");
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	if ((rc = ev_alerts_get(l, id, ack_probe, &st, err)) != EV_OK)
		goto fail;
	if (st.ack_seq) {
		rc = ev_errf(err, EV_ESTATE, "alert %llu was already acknowledged by %s at %s (entry %llu)",
		    (unsigned long long)id, st.by, st.when, (unsigned long long)st.ack_seq);
		goto fail;
	}
	ev_buf_add(&body, "{\"alert\":", 9);
	ev_buf_add_u64(&body, id);
	ev_buf_add(&body, ",\"by\":", 6);
	ev_alerts_json_str(&body, by, strlen(by));
	ev_buf_add(&body, ",\"disposition\":", 15);
	ev_alerts_json_str(&body, disposition, strlen(disposition));
	ev_buf_add(&body, ",\"note\":", 8);
	ev_alerts_json_str(&body, note, strlen(note));
	ev_buf_addc(&body, '}');
	snprintf(subject, sizeof(subject), "alert-%llu", (unsigned long long)id);
	{
		struct ev_entry_in in = { "alert.acknowledged", subject, actor, body.p, body.len };
		if ((rc = ev_ledger_append(l, &in, 1, seq, err)) != EV_OK)
			goto fail;
	}
	ev_buf_free(&body);
	return ev_ledger_commit(l, err);
fail:
	ev_buf_free(&body);
	ev_ledger_rollback(l);
	return rc;
}

/* ---- follow-up ---- */

static void
fmt_duration(int64_t us, char *out, size_t n)
{
	int64_t s = us / 1000000;

	if (s % 3600 == 0)
		snprintf(out, n, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(out, n, "%lldm", (long long)(s / 60));
	else
		snprintf(out, n, "%llds", (long long)s);
}

struct fu_state {
	struct ev_buf bodies;
	size_t *off;
	uint64_t *orig;
	size_t n, cap;
	char after[32];
};

static int
fu_collect(const struct ev_alert *a, void *arg)
{
	struct fu_state *st = arg;
	struct ev_buf *b = &st->bodies;
	char t[EV_TIME_STRLEN], num[24];

	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->off = ev_xrealloc(st->off, st->cap * sizeof(*st->off));
		st->orig = ev_xrealloc(st->orig, st->cap * sizeof(*st->orig));
	}
	st->off[st->n] = b->len;
	st->orig[st->n] = a->id;
	st->n++;
	ev_time_format(a->raised_us, t);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)a->id);
	ev_buf_add(b, "{\"followup_of\":", 15);
	ev_buf_adds(b, num);
	ev_buf_add(b, ",\"group\":null,\"log_seq\":", 24);
	ev_buf_adds(b, a->log_seq && a->log_seq[0] == '[' ? a->log_seq : "[]");
	ev_buf_add(b, ",\"rule\":\"followup\",\"severity\":", 30);
	jstr(b, a->severity);
	ev_buf_add(b, ",\"source\":", 10);
	jstr(b, a->source);
	ev_buf_add(b, ",\"tags\":[\"evident.followup\"],\"title\":", 37);
	{
		struct ev_buf tt = EV_BUF_INIT;
		ev_buf_addf(&tt, "alert %s not acknowledged within %s: %s", num, st->after,
		    a->title ? a->title : "");
		jstr(b, tt.p);
		ev_buf_reset(&tt);
		ev_buf_addf(&tt,
		    "alert %s (rule %s, severity %s) raised at %s has no acknowledgement after %s",
		    num, a->rule ? a->rule : "?", a->severity ? a->severity : "?", t, st->after);
		ev_buf_add(b, ",\"why\":", 7);
		jstr(b, tt.p);
		ev_buf_free(&tt);
	}
	ev_buf_addc(b, '}');
	ev_buf_addc(b, '\0'); /* separate bodies; lengths come from the offsets */
	return 0;
}

int
ev_alerts_followup(struct ev_ledger *l, int64_t now_us, int64_t after_us, size_t *raised,
    void (*cb)(uint64_t id, uint64_t followup_id, void *arg), void *arg, struct ev_err *err)
{
	struct fu_state st;
	struct ev_entry_in *in = NULL;
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *s = NULL;
	uint64_t size = 0, last = 0;
	int rc, r;

	memset(&st, 0, sizeof(st));
	if (raised)
		*raised = 0;
	if (after_us <= 0)
		return ev_errf(err, EV_EINVAL, "the follow-up delay must be positive");
	fmt_duration(after_us, st.after, sizeof(st.after));
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	if (sqlite3_prepare_v2(db,
		"SELECT " ALERT_COLS ALERT_FROM " WHERE a.ack_seq IS NULL AND a.followup_id IS NULL"
		" AND followup_of IS NULL AND raised_us <= ?1 ORDER BY id",
		-1, &s, NULL) != SQLITE_OK) {
		rc = ev_errf(err, EV_EIO, "alerts: %s", sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_bind_int64(s, 1, now_us - after_us);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ev_alert a;
		row_alert(s, &a);
		fu_collect(&a, &st);
	}
	if (r != SQLITE_DONE) {
		rc = ev_errf(err, EV_EIO, "alerts: %s", sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (st.n == 0) {
		ev_ledger_rollback(l);
		goto out;
	}
	if ((rc = ev_ledger_size(l, &size, err)) != EV_OK)
		goto fail;
	in = ev_xcalloc(st.n, sizeof(*in));
	for (size_t i = 0; i < st.n; i++) {
		in[i].kind = "alert.raised";
		in[i].subject = "alerts";
		in[i].actor = "rule:followup";
		in[i].body = st.bodies.p + st.off[i];
		in[i].body_len = strlen(in[i].body);
	}
	if ((rc = ev_ledger_append(l, in, st.n, &last, err)) != EV_OK)
		goto fail;
	if (last != size + st.n) {
		rc = ev_errf(err, EV_EIO, "alerts: follow-up seqs moved (expected %llu, got %llu)",
		    (unsigned long long)(size + st.n), (unsigned long long)last);
		goto fail;
	}
	if ((rc = ev_ledger_commit(l, err)) != EV_OK)
		goto out;
	if (raised)
		*raised = st.n;
	if (cb)
		for (size_t i = 0; i < st.n; i++)
			cb(st.orig[i], size + 1 + i, arg);
	goto out;
fail:
	sqlite3_finalize(s);
	ev_ledger_rollback(l);
out:
	free(in);
	free(st.off);
	free(st.orig);
	ev_buf_free(&st.bodies);
	return rc;
}

/* A duration "4h", "30m", "90s", "2d" or plain seconds; -1 when malformed. */
int
ev_alerts_parse_duration(const char *s, int64_t *us)
{
	uint64_t v = 0;
	const char *p = s;
	int64_t unit = 1000000;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v > 1000000000ULL)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p == 's')
		unit = 1000000LL;
	else if (*p == 'm')
		unit = 60LL * 1000000;
	else if (*p == 'h')
		unit = 3600LL * 1000000;
	else if (*p == 'd')
		unit = 86400LL * 1000000;
	else if (*p != '\0')
		return -1;
	if (*p && p[1] != '\0')
		return -1;
	if (v == 0)
		return -1;
	*us = (int64_t)v * unit;
	return 0;
}

