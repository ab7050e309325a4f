/*
 * projector.c - ev_incident_projector: the incident tables, derived from the
 * incident.* entries (and from the clock alerts and webhook deliveries the
 * scheduler records), inside the append transaction.
 *
 * The projector is also where the workflow rules hold, so that no way of
 * appending (CLI, server, raw `evident append`) can skip them: an entry on
 * an unknown or closed incident, an approval by the owner or without a
 * pending review, a close without an approved review are refused, and the
 * refusal aborts the append.  It reads nothing but the entry and its own
 * tables, so replaying the ledger (ev_ledger_rebuild) gives the same rows.
 *
 * Stage rule (also in docs/incidents.md): the stage is the furthest stage
 * any recorded step belongs to, never moving back:
 *   incident.opened                                  detect-triage
 *   incident.classified, .assessed, .escalated       classify-escalate
 *   incident.action containment|eradication|
 *     communication|decision                         respond-document
 *   incident.notified                                report-notify
 *   incident.action recovery, incident.continuity    recover-preserve
 *   incident.review, incident.review_approved        review-correct
 *   incident.closed                                  closed
 * incident.assigned changes the owner, not the stage.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "incident/internal.h"
#include "util/json.h"
#include "util/timeutil.h"

static const char *const stage_names[] = {
	"", "detect-triage", "classify-escalate", "respond-document", "report-notify",
	"recover-preserve", "review-correct", "closed",
};

const char *
ev_inc_stage_name(int rank)
{
	if (rank < 1 || rank > EV_STAGE_CLOSED)
		return "unknown";
	return stage_names[rank];
}

int
ev_incident_stage_valid(const char *s)
{
	for (int i = 1; i <= EV_STAGE_CLOSED; i++)
		if (s && strcmp(s, stage_names[i]) == 0)
			return 1;
	return 0;
}

const char *
ev_inc_clock_state(int64_t now, int64_t due, int64_t warn, int stopped)
{
	if (stopped)
		return "stopped";
	if (now > due)
		return "overdue";
	if (now >= warn)
		return "due-soon";
	return "running";
}

/* ---- prepared statements ---- */

static int
bind_va(sqlite3_stmt *st, const char *types, va_list ap)
{
	for (int i = 0; types && types[i]; i++) {
		int rc;
		switch (types[i]) {
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'u':
			rc = sqlite3_bind_int64(st, i + 1, (sqlite3_int64)va_arg(ap, uint64_t));
			break;
		default: {
			const char *s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, i + 1);
			break;
		}
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

int
ev_inc_query(sqlite3 *db, sqlite3_stmt **st, struct ev_err *err, const char *sql,
    const char *types, ...)
{
	va_list ap;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return ev_errf(err, EV_EIO, "incident projection: %s", sqlite3_errmsg(db));
	va_start(ap, types);
	rc = bind_va(*st, types, ap);
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return ev_errf(err, EV_EIO, "incident projection: %s", sqlite3_errmsg(db));
	}
	return EV_OK;
}

int
ev_inc_exec(sqlite3 *db, struct ev_err *err, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return ev_errf(err, EV_EIO, "incident projection: %s", sqlite3_errmsg(db));
	va_start(ap, types);
	rc = bind_va(st, types, ap);
	va_end(ap);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		ev_errf(err, EV_EIO, "incident projection: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return EV_EIO;
	}
	sqlite3_finalize(st);
	return EV_OK;
}

const char *
ev_inc_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

/* ---- schema ---- */

static const char *const tables[] = {
	"incidents", "incident_alerts", "incident_classifications", "incident_assessments",
	"incident_timeline", "incident_clocks", "incident_notices", "incident_actions",
	"incident_reviews", "clock_alerts", "webhook_deliveries",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS incidents("
	" id TEXT PRIMARY KEY, year INTEGER NOT NULL, num INTEGER NOT NULL,"
	" title TEXT NOT NULL, opened_seq INTEGER NOT NULL, opened_at INTEGER NOT NULL,"
	" opened_by TEXT NOT NULL, aware_at INTEGER NOT NULL, aware_given INTEGER NOT NULL,"
	" reported_by TEXT, channel TEXT, owner TEXT NOT NULL,"
	" severity TEXT, category TEXT, significant TEXT NOT NULL DEFAULT 'undetermined',"
	" significance_seq INTEGER, stage_rank INTEGER NOT NULL, stage TEXT NOT NULL,"
	" continuity TEXT, review_seq INTEGER, approved_seq INTEGER, approved_by TEXT,"
	" closed_seq INTEGER, closed_at INTEGER, updated_seq INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS incidents_year ON incidents(year, num);"
	"CREATE TABLE IF NOT EXISTS incident_alerts("
	" incident TEXT NOT NULL, alert_seq INTEGER NOT NULL, PRIMARY KEY(incident, alert_seq));"
	"CREATE TABLE IF NOT EXISTS incident_classifications("
	" seq INTEGER PRIMARY KEY, incident TEXT NOT NULL, time INTEGER NOT NULL,"
	" actor TEXT NOT NULL, source TEXT NOT NULL, severity TEXT, category TEXT,"
	" significant TEXT NOT NULL, reason TEXT, criteria TEXT, criteria_version TEXT);"
	"CREATE INDEX IF NOT EXISTS incident_classifications_inc ON incident_classifications(incident);"
	"CREATE TABLE IF NOT EXISTS incident_assessments("
	" seq INTEGER PRIMARY KEY, incident TEXT NOT NULL, time INTEGER NOT NULL,"
	" actor TEXT NOT NULL, criteria TEXT NOT NULL, version TEXT NOT NULL,"
	" answers TEXT NOT NULL, met TEXT NOT NULL, missing TEXT NOT NULL, derived TEXT NOT NULL,"
	" override TEXT, reason TEXT, significant TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS incident_timeline("
	" seq INTEGER PRIMARY KEY, incident TEXT NOT NULL, time INTEGER NOT NULL,"
	" actor TEXT NOT NULL, kind TEXT NOT NULL, stage TEXT NOT NULL, summary TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS incident_timeline_inc ON incident_timeline(incident);"
	"CREATE TABLE IF NOT EXISTS incident_clocks("
	" incident TEXT NOT NULL, clock TEXT NOT NULL, profile TEXT NOT NULL,"
	" version TEXT NOT NULL, title TEXT NOT NULL, basis TEXT NOT NULL,"
	" condition TEXT NOT NULL, duration TEXT NOT NULL, due_soon TEXT,"
	" started INTEGER NOT NULL, due INTEGER NOT NULL, warn INTEGER NOT NULL,"
	" start_seq INTEGER NOT NULL, stopped INTEGER, stop_seq INTEGER, stop_kind TEXT,"
	" stop_reason TEXT, PRIMARY KEY(incident, clock));"
	"CREATE TABLE IF NOT EXISTS incident_notices("
	" seq INTEGER PRIMARY KEY, incident TEXT NOT NULL, time INTEGER NOT NULL,"
	" sent_at INTEGER NOT NULL, actor TEXT NOT NULL, recipient TEXT NOT NULL,"
	" clock TEXT NOT NULL, ref TEXT NOT NULL, note TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS incident_actions("
	" seq INTEGER PRIMARY KEY, incident TEXT NOT NULL, time INTEGER NOT NULL,"
	" actor TEXT NOT NULL, type TEXT NOT NULL, note TEXT NOT NULL,"
	" evidence_sha256 TEXT, evidence_name TEXT, evidence_size INTEGER);"
	"CREATE TABLE IF NOT EXISTS incident_reviews("
	" seq INTEGER PRIMARY KEY, incident TEXT NOT NULL, time INTEGER NOT NULL,"
	" actor TEXT NOT NULL, root_cause TEXT NOT NULL, actions TEXT NOT NULL,"
	" vulnerability_exposure TEXT NOT NULL, no_remediation_basis TEXT,"
	" approved_seq INTEGER, approved_by TEXT, approved_at INTEGER);"
	"CREATE TABLE IF NOT EXISTS clock_alerts("
	" alert_seq INTEGER PRIMARY KEY, incident TEXT NOT NULL, clock TEXT NOT NULL,"
	" state TEXT NOT NULL, due INTEGER NOT NULL, time INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS clock_alerts_key ON clock_alerts(incident, clock, state);"
	"CREATE TABLE IF NOT EXISTS webhook_deliveries("
	" seq INTEGER PRIMARY KEY, alert_seq INTEGER NOT NULL, url TEXT NOT NULL,"
	" attempt INTEGER NOT NULL, status INTEGER NOT NULL, ok INTEGER NOT NULL,"
	" time INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS webhook_deliveries_alert ON webhook_deliveries(alert_seq, url);";

static int
setup(sqlite3 *db, struct ev_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		ev_errf(err, EV_EIO, "incident projection: %s", msg ? msg : "schema");
		sqlite3_free(msg);
		return EV_EIO;
	}
	return EV_OK;
}

static int
reset(sqlite3 *db, struct ev_err *err)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[96];
		char *msg = NULL;
		/* Table names are the constants above, never input. */
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", tables[i]);
		if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
			ev_errf(err, EV_EIO, "incident projection: %s", msg ? msg : "drop");
			sqlite3_free(msg);
			return EV_EIO;
		}
	}
	return setup(db, err);
}

/* ---- the incident row ---- */

struct inc {
	int found;
	int stage;
	int closed;
	char owner[EV_ACTOR_MAX + 1];
	char significant[16];
	int64_t aware_at;
	int64_t review_seq;
	int64_t approved_seq;
};

static int
load(sqlite3 *db, const char *id, struct inc *in, struct ev_err *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(in, 0, sizeof(*in));
	if ((rc = ev_inc_query(db, &st, err,
		 "SELECT stage_rank, closed_seq IS NOT NULL, owner, significant, aware_at,"
		 " coalesce(review_seq, 0), coalesce(approved_seq, 0) FROM incidents WHERE id = ?",
		 "t", id)) != EV_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		in->found = 1;
		in->stage = sqlite3_column_int(st, 0);
		in->closed = sqlite3_column_int(st, 1);
		snprintf(in->owner, sizeof(in->owner), "%s", ev_inc_col(st, 2));
		snprintf(in->significant, sizeof(in->significant), "%s", ev_inc_col(st, 3));
		in->aware_at = sqlite3_column_int64(st, 4);
		in->review_seq = sqlite3_column_int64(st, 5);
		in->approved_seq = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	return EV_OK;
}

static int
advance(sqlite3 *db, const char *id, int rank, uint64_t seq, struct ev_err *err)
{
	return ev_inc_exec(db, err,
	    "UPDATE incidents SET stage_rank = max(stage_rank, ?1),"
	    " stage = CASE WHEN ?1 > stage_rank THEN ?2 ELSE stage END, updated_seq = ?3"
	    " WHERE id = ?4",
	    "itut", (int64_t)rank, ev_inc_stage_name(rank), seq, id);
}

static int
timeline(sqlite3 *db, const struct ev_entry *e, int rank, const char *summary,
    struct ev_err *err)
{
	return ev_inc_exec(db, err,
	    "INSERT INTO incident_timeline(seq, incident, time, actor, kind, stage, summary)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "utittt" "t", e->seq, e->subject, (int64_t)e->time_us, e->actor, e->kind,
	    ev_inc_stage_name(rank), summary);
}

static int
need_str(const json_t *b, const char *key, const char **out, const struct ev_entry *e,
    struct ev_err *err)
{
	const char *s = ev_json_str(b, key);

	*out = s ? s : "";
	if (s == NULL || *s == '\0')
		return ev_errf(err, EV_EINVAL, "%s %s: body needs a non-empty \"%s\"", e->kind,
		    e->subject, key);
	return EV_OK;
}

static int
opt_time(const json_t *b, const char *key, int64_t *out, int64_t dflt, const struct ev_entry *e,
    struct ev_err *err)
{
	const char *s = ev_json_str(b, key);

	*out = dflt;
	if (s == NULL)
		return EV_OK;
	if (ev_time_parse(s, out) != 0)
		return ev_errf(err, EV_EINVAL, "%s %s: \"%s\" is not a time", e->kind, e->subject,
		    key);
	return EV_OK;
}

/* ---- clocks ---- */

static int64_t
warn_time(int64_t started, int64_t due, const char *due_soon)
{
	int64_t w = 0;

	if (due_soon && strchr(due_soon, '%')) {
		double p = strtod(due_soon, NULL);
		w = (int64_t)((double)(due - started) * p / 100.0);
	} else if (due_soon && ev_duration_add(0, due_soon, &w) == 0) {
		/* w is the window as elapsed time from the epoch */
	} else {
		w = (due - started) / 100 * EV_DUE_SOON_PERCENT;
	}
	return due - w;
}

/* Apply the clock starts and stops an entry carries ("clocks": {"start":[], "stop":[]}). */
static int
apply_clocks(sqlite3 *db, const struct ev_entry *e, const json_t *b, int64_t aware_at,
    int64_t notice_at, struct ev_err *err)
{
	const json_t *c = json_object_get(b, "clocks"), *v;
	size_t i;
	int rc;

	if (c == NULL)
		return EV_OK;
	if (!json_is_object(c))
		return ev_errf(err, EV_EINVAL, "%s %s: \"clocks\" must be an object", e->kind,
		    e->subject);
	json_array_foreach(json_object_get(c, "stop"), i, v) {
		const char *name = ev_json_str(v, "clock"), *why = ev_json_str(v, "reason");
		const char *k = ev_json_str(v, "kind");
		if (name == NULL || why == NULL || k == NULL)
			return ev_errf(err, EV_EINVAL, "%s %s: clocks.stop[%zu] needs clock, kind, reason",
			    e->kind, e->subject, i);
		if ((rc = ev_inc_exec(db, err,
			 "UPDATE incident_clocks SET stopped = ?, stop_seq = ?, stop_kind = ?,"
			 " stop_reason = ? WHERE incident = ? AND clock = ? AND stopped IS NULL",
			 "iuttt" "t", strcmp(k, "notice") == 0 ? notice_at : (int64_t)e->time_us,
			 e->seq, k, why, e->subject, name)) != EV_OK)
			return rc;
	}
	json_array_foreach(json_object_get(c, "start"), i, v) {
		const char *name = ev_json_str(v, "clock"), *dur = ev_json_str(v, "duration");
		const char *from = ev_json_str(v, "from");
		int64_t started, due;
		if (name == NULL || dur == NULL || from == NULL || !ev_json_str(v, "profile") ||
		    !ev_json_str(v, "version") || !ev_json_str(v, "title") ||
		    !ev_json_str(v, "basis") || !ev_json_str(v, "condition"))
			return ev_errf(err, EV_EINVAL,
			    "%s %s: clocks.start[%zu] needs clock, profile, version, title, basis, "
			    "condition, duration, from",
			    e->kind, e->subject, i);
		started = strcmp(from, "notice") == 0 ? notice_at : aware_at;
		if (ev_duration_add(started, dur, &due) != 0)
			return ev_errf(err, EV_EINVAL, "%s %s: clock %s: bad duration %s", e->kind,
			    e->subject, name, dur);
		if ((rc = ev_inc_exec(db, err,
			 "INSERT OR REPLACE INTO incident_clocks(incident, clock, profile, version,"
			 " title, basis, condition, duration, due_soon, started, due, warn, start_seq)"
			 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			 "ttttttttt" "iiiu", e->subject, name, ev_json_str(v, "profile"),
			 ev_json_str(v, "version"), ev_json_str(v, "title"), ev_json_str(v, "basis"),
			 ev_json_str(v, "condition"), dur, ev_json_str(v, "due_soon"), started, due,
			 warn_time(started, due, ev_json_str(v, "due_soon")), e->seq)) != EV_OK)
			return rc;
	}
	return EV_OK;
}

/* ---- one entry per kind ---- */

static int
id_parts(const char *id, int64_t *year, int64_t *num)
{
	if (!ev_incident_id_valid(id))
		return -1;
	*year = strtoll(id + 4, NULL, 10);
	*num = strtoll(id + 9, NULL, 10);
	return 0;
}

static int
apply_opened(sqlite3 *db, const struct ev_entry *e, const json_t *b, struct ev_err *err)
{
	const char *title;
	int64_t year, num, aware;
	const json_t *alerts = json_object_get(b, "alerts"), *a;
	size_t i;
	int rc;
	struct ev_buf sum = EV_BUF_INIT;

	if (id_parts(e->subject, &year, &num) != 0)
		return ev_errf(err, EV_EINVAL, "incident.opened: subject '%s' is not an incident id "
		    "(inc-YYYY-NNNN)", e->subject);
	if ((rc = need_str(b, "title", &title, e, err)) != EV_OK)
		return rc;
	if ((rc = opt_time(b, "aware_at", &aware, e->time_us, e, err)) != EV_OK)
		return rc;
	if ((rc = ev_inc_exec(db, err,
		 "INSERT INTO incidents(id, year, num, title, opened_seq, opened_at, opened_by,"
		 " aware_at, aware_given, reported_by, channel, owner, stage_rank, stage, updated_seq)"
		 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 "tiitui" "tiittt" "itu", e->subject, year, num, title, e->seq, (int64_t)e->time_us,
		 e->actor, aware, (int64_t)(ev_json_str(b, "aware_at") != NULL),
		 ev_json_str(b, "reported_by"), ev_json_str(b, "channel"), e->actor,
		 (int64_t)EV_STAGE_DETECT, ev_inc_stage_name(EV_STAGE_DETECT), e->seq)) != EV_OK)
		return rc;
	json_array_foreach(alerts, i, a) {
		if (!json_is_integer(a) || json_integer_value(a) <= 0)
			return ev_errf(err, EV_EINVAL, "incident.opened: alerts must be seqs");
		if ((rc = ev_inc_exec(db, err,
			 "INSERT OR IGNORE INTO incident_alerts(incident, alert_seq) VALUES (?, ?)",
			 "ti", e->subject, (int64_t)json_integer_value(a))) != EV_OK)
			return rc;
	}
	ev_buf_addf(&sum, "opened: %s", title);
	if (json_array_size(alerts))
		ev_buf_addf(&sum, " (from %zu alert%s)", json_array_size(alerts),
		    json_array_size(alerts) == 1 ? "" : "s");
	rc = timeline(db, e, EV_STAGE_DETECT, sum.p, err);
	ev_buf_free(&sum);
	if (rc == EV_OK)
		rc = apply_clocks(db, e, b, aware, e->time_us, err);
	return rc;
}

static int
set_significance(sqlite3 *db, const struct ev_entry *e, const char *sig, struct ev_err *err)
{
	return ev_inc_exec(db, err,
	    "UPDATE incidents SET significant = ?, significance_seq = ? WHERE id = ?", "tut", sig,
	    e->seq, e->subject);
}

static int
apply_classified(sqlite3 *db, const struct ev_entry *e, const json_t *b, const struct inc *in,
    struct ev_err *err)
{
	const char *sev, *cat, *sig, *reason;
	struct ev_buf sum = EV_BUF_INIT;
	int rc;

	if ((rc = need_str(b, "severity", &sev, e, err)) != EV_OK ||
	    (rc = need_str(b, "category", &cat, e, err)) != EV_OK ||
	    (rc = need_str(b, "significant", &sig, e, err)) != EV_OK ||
	    (rc = need_str(b, "reason", &reason, e, err)) != EV_OK)
		return rc;
	if ((rc = ev_inc_exec(db, err,
		 "INSERT INTO incident_classifications(seq, incident, time, actor, source, severity,"
		 " category, significant, reason) VALUES (?, ?, ?, ?, 'classify', ?, ?, ?, ?)",
		 "utit" "tttt", e->seq, e->subject, (int64_t)e->time_us, e->actor, sev, cat, sig,
		 reason)) != EV_OK)
		return rc;
	if ((rc = ev_inc_exec(db, err, "UPDATE incidents SET severity = ?, category = ? WHERE id = ?",
		 "ttt", sev, cat, e->subject)) != EV_OK)
		return rc;
	if ((rc = set_significance(db, e, sig, err)) != EV_OK)
		return rc;
	ev_buf_addf(&sum, "classified: severity %s, category %s, significant %s: %s", sev, cat,
	    sig, reason);
	rc = timeline(db, e, EV_STAGE_CLASSIFY, sum.p, err);
	ev_buf_free(&sum);
	if (rc == EV_OK)
		rc = apply_clocks(db, e, b, in->aware_at, e->time_us, err);
	return rc;
}

static int
apply_assessed(sqlite3 *db, const struct ev_entry *e, const json_t *b, const struct inc *in,
    struct ev_err *err)
{
	const char *crit, *ver, *derived, *sig;
	const char *ovr = ev_json_str(b, "override"), *reason = ev_json_str(b, "reason");
	char *answers = NULL, *met = NULL, *missing = NULL;
	struct ev_buf sum = EV_BUF_INIT;
	int rc;

	if ((rc = need_str(b, "criteria", &crit, e, err)) != EV_OK ||
	    (rc = need_str(b, "version", &ver, e, err)) != EV_OK ||
	    (rc = need_str(b, "derived", &derived, e, err)) != EV_OK ||
	    (rc = need_str(b, "significant", &sig, e, err)) != EV_OK)
		return rc;
	if (!json_is_object(json_object_get(b, "answers")))
		return ev_errf(err, EV_EINVAL, "incident.assessed %s: body needs \"answers\"",
		    e->subject);
	answers = ev_json_dump(json_object_get(b, "answers"));
	met = json_object_get(b, "met") ? ev_json_dump(json_object_get(b, "met")) : NULL;
	missing = json_object_get(b, "missing") ? ev_json_dump(json_object_get(b, "missing")) : NULL;
	rc = ev_inc_exec(db, err,
	    "INSERT INTO incident_assessments(seq, incident, time, actor, criteria, version,"
	    " answers, met, missing, derived, override, reason, significant)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "utit" "ttttt" "tttt", e->seq, e->subject, (int64_t)e->time_us, e->actor, crit, ver,
	    answers, met ? met : "[]", missing ? missing : "[]", derived, ovr, reason, sig);
	free(answers);
	free(met);
	free(missing);
	if (rc != EV_OK)
		return rc;
	/* An undetermined assessment records the answers but changes no decision. */
	if (strcmp(sig, "undetermined") != 0) {
		ev_buf_reset(&sum);
		ev_buf_addf(&sum, "significance assessed under %s %s%s%s", crit, ver,
		    ovr ? ": overridden: " : "", ovr && reason ? reason : "");
		if ((rc = ev_inc_exec(db, err,
			 "INSERT INTO incident_classifications(seq, incident, time, actor, source,"
			 " significant, reason, criteria, criteria_version)"
			 " VALUES (?, ?, ?, ?, 'assess', ?, ?, ?, ?)",
			 "utit" "tttt", e->seq, e->subject, (int64_t)e->time_us, e->actor, sig, sum.p,
			 crit, ver)) != EV_OK)
			goto out;
		if ((rc = set_significance(db, e, sig, err)) != EV_OK)
			goto out;
	}
	ev_buf_reset(&sum);
	ev_buf_addf(&sum, "assessed under %s %s: derived %s, significant %s", crit, ver, derived,
	    sig);
	if (ovr)
		ev_buf_addf(&sum, " (override %s: %s)", ovr, reason ? reason : "");
	if ((rc = timeline(db, e, EV_STAGE_CLASSIFY, sum.p, err)) != EV_OK)
		goto out;
	rc = apply_clocks(db, e, b, in->aware_at, e->time_us, err);
out:
	ev_buf_free(&sum);
	return rc;
}

static int
apply_simple(sqlite3 *db, const struct ev_entry *e, const json_t *b, const struct inc *in,
    int *rank, struct ev_err *err)
{
	struct ev_buf sum = EV_BUF_INIT;
	const char *a, *c, *d;
	int rc = EV_OK;

	if (strcmp(e->kind, "incident.escalated") == 0) {
		if ((rc = need_str(b, "to", &a, e, err)) == EV_OK &&
		    (rc = need_str(b, "reason", &c, e, err)) == EV_OK)
			ev_buf_addf(&sum, "escalated to %s: %s", a, c);
		*rank = EV_STAGE_CLASSIFY;
	} else if (strcmp(e->kind, "incident.assigned") == 0) {
		if ((rc = need_str(b, "owner", &a, e, err)) == EV_OK) {
			ev_buf_addf(&sum, "assigned to %s (was %s)", a, in->owner);
			rc = ev_inc_exec(db, err, "UPDATE incidents SET owner = ? WHERE id = ?", "tt", a,
			    e->subject);
		}
		*rank = 0;
	} else if (strcmp(e->kind, "incident.action") == 0) {
		const json_t *ev = json_object_get(b, "evidence");
		if ((rc = need_str(b, "type", &a, e, err)) == EV_OK &&
		    (rc = need_str(b, "note", &c, e, err)) == EV_OK) {
			*rank = strcmp(a, "recovery") == 0 ? EV_STAGE_RECOVER : EV_STAGE_RESPOND;
			ev_buf_addf(&sum, "action (%s): %s", a, c);
			if (ev)
				ev_buf_addf(&sum, " [evidence %s sha256:%s]", ev_json_str(ev, "name"),
				    ev_json_str(ev, "sha256"));
			rc = ev_inc_exec(db, err,
			    "INSERT INTO incident_actions(seq, incident, time, actor, type, note,"
			    " evidence_sha256, evidence_name, evidence_size)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    "utit" "tttti", e->seq, e->subject, (int64_t)e->time_us, e->actor, a, c,
			    ev ? ev_json_str(ev, "sha256") : NULL, ev ? ev_json_str(ev, "name") : NULL,
			    (int64_t)(ev ? json_integer_value(json_object_get(ev, "size")) : 0));
		}
	} else if (strcmp(e->kind, "incident.continuity") == 0) {
		*rank = EV_STAGE_RECOVER;
		if ((rc = need_str(b, "state", &a, e, err)) == EV_OK &&
		    (rc = need_str(b, "note", &c, e, err)) == EV_OK) {
			d = ev_json_str(b, "plan");
			if (strcmp(a, "activated") == 0)
				ev_buf_addf(&sum, "continuity plan %s activated: %s", d ? d : "?", c);
			else
				ev_buf_addf(&sum, "service restored: %s", c);
			rc = ev_inc_exec(db, err, "UPDATE incidents SET continuity = ? WHERE id = ?",
			    "tt", a, e->subject);
		}
	} else {
		return ev_errf(err, EV_EINVAL, "unknown incident entry kind %s", e->kind);
	}
	if (rc == EV_OK)
		rc = timeline(db, e, *rank ? *rank : in->stage, sum.p, err);
	ev_buf_free(&sum);
	return rc;
}

static int
apply_notified(sqlite3 *db, const struct ev_entry *e, const json_t *b, const struct inc *in,
    struct ev_err *err)
{
	const char *to, *clock, *ref, *note;
	int64_t sent;
	struct ev_buf sum = EV_BUF_INIT;
	int rc;

	if ((rc = need_str(b, "to", &to, e, err)) != EV_OK ||
	    (rc = need_str(b, "clock", &clock, e, err)) != EV_OK ||
	    (rc = need_str(b, "ref", &ref, e, err)) != EV_OK ||
	    (rc = need_str(b, "note", &note, e, err)) != EV_OK ||
	    (rc = opt_time(b, "sent_at", &sent, e->time_us, e, err)) != EV_OK)
		return rc;
	if ((rc = ev_inc_exec(db, err,
		 "INSERT INTO incident_notices(seq, incident, time, sent_at, actor, recipient,"
		 " clock, ref, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 "utii" "ttttt", e->seq, e->subject, (int64_t)e->time_us, sent, e->actor, to, clock,
		 ref, note)) != EV_OK)
		return rc;
	ev_buf_addf(&sum, "notified %s (clock %s, ref %s): %s", to, clock, ref, note);
	rc = timeline(db, e, EV_STAGE_REPORT, sum.p, err);
	ev_buf_free(&sum);
	if (rc == EV_OK)
		rc = apply_clocks(db, e, b, in->aware_at, sent, err);
	return rc;
}

static int
apply_review(sqlite3 *db, const struct ev_entry *e, const json_t *b, struct ev_err *err)
{
	const char *rc_, *vx;
	const json_t *acts = json_object_get(b, "actions");
	char *acts_s;
	struct ev_buf sum = EV_BUF_INIT;
	int rc;

	if ((rc = need_str(b, "root_cause", &rc_, e, err)) != EV_OK ||
	    (rc = need_str(b, "vulnerability_exposure", &vx, e, err)) != EV_OK)
		return rc;
	if (!json_is_array(acts) || json_array_size(acts) == 0)
		return ev_errf(err, EV_EINVAL, "incident.review %s: needs at least one corrective action",
		    e->subject);
	acts_s = ev_json_dump(acts);
	rc = ev_inc_exec(db, err,
	    "INSERT INTO incident_reviews(seq, incident, time, actor, root_cause, actions,"
	    " vulnerability_exposure, no_remediation_basis) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	    "utit" "tttt", e->seq, e->subject, (int64_t)e->time_us, e->actor, rc_, acts_s, vx,
	    ev_json_str(b, "no_remediation_basis"));
	free(acts_s);
	if (rc != EV_OK)
		return rc;
	if ((rc = ev_inc_exec(db, err,
		 "UPDATE incidents SET review_seq = ?, approved_seq = NULL, approved_by = NULL"
		 " WHERE id = ?",
		 "ut", e->seq, e->subject)) != EV_OK)
		return rc;
	ev_buf_addf(&sum, "post-incident review: root cause: %s; %zu corrective action%s", rc_,
	    json_array_size(acts), json_array_size(acts) == 1 ? "" : "s");
	rc = timeline(db, e, EV_STAGE_REVIEW, sum.p, err);
	ev_buf_free(&sum);
	return rc;
}

static int
apply_approved(sqlite3 *db, const struct ev_entry *e, const struct inc *in, struct ev_err *err)
{
	struct ev_buf sum = EV_BUF_INIT;
	int rc;

	if (in->review_seq == 0)
		return ev_errf(err, EV_ESTATE,
		    "%s has no post-incident review to approve (record one with 'incident review')",
		    e->subject);
	if (in->approved_seq != 0)
		return ev_errf(err, EV_ESTATE, "the review of %s (entry %lld) is already approved",
		    e->subject, (long long)in->review_seq);
	if (strcmp(e->actor, in->owner) == 0)
		return ev_errf(err, EV_EDENIED,
		    "%s owns %s: the review must be approved by someone other than the incident "
		    "owner",
		    e->actor, e->subject);
	if ((rc = ev_inc_exec(db, err,
		 "UPDATE incident_reviews SET approved_seq = ?, approved_by = ?, approved_at = ?"
		 " WHERE seq = ?",
		 "uti" "i", e->seq, e->actor, (int64_t)e->time_us, in->review_seq)) != EV_OK ||
	    (rc = ev_inc_exec(db, err,
		 "UPDATE incidents SET approved_seq = ?, approved_by = ? WHERE id = ?", "utt", e->seq,
		 e->actor, e->subject)) != EV_OK)
		return rc;
	ev_buf_addf(&sum, "review (entry %lld) approved by %s", (long long)in->review_seq, e->actor);
	rc = timeline(db, e, EV_STAGE_REVIEW, sum.p, err);
	ev_buf_free(&sum);
	return rc;
}

static int
apply_closed(sqlite3 *db, const struct ev_entry *e, const json_t *b, const struct inc *in,
    struct ev_err *err)
{
	struct ev_buf sum = EV_BUF_INIT;
	const char *note = ev_json_str(b, "note");
	int rc;

	if (in->review_seq == 0 || in->approved_seq == 0)
		return ev_errf(err, EV_ESTATE,
		    "cannot close %s: %s (EN 319 401 7.9: no incident closes without its "
		    "post-incident review; record one with 'incident review', then have someone "
		    "other than the owner approve it with 'incident review --approve')",
		    e->subject,
		    in->review_seq == 0 ? "no post-incident review is recorded"
					: "its post-incident review is not approved");
	if ((rc = ev_inc_exec(db, err,
		 "UPDATE incidents SET closed_seq = ?, closed_at = ? WHERE id = ?", "uit", e->seq,
		 (int64_t)e->time_us, e->subject)) != EV_OK)
		return rc;
	/* Clocks still running when the incident closes stop with it. */
	if ((rc = ev_inc_exec(db, err,
		 "UPDATE incident_clocks SET stopped = ?, stop_seq = ?, stop_kind = 'closed',"
		 " stop_reason = 'incident closed' WHERE incident = ? AND stopped IS NULL",
		 "iut", (int64_t)e->time_us, e->seq, e->subject)) != EV_OK)
		return rc;
	ev_buf_addf(&sum, "closed%s%s", note ? ": " : "", note ? note : "");
	rc = timeline(db, e, EV_STAGE_CLOSED, sum.p, err);
	ev_buf_free(&sum);
	return rc;
}

static int
apply_incident(sqlite3 *db, const struct ev_entry *e, const json_t *b, struct ev_err *err)
{
	struct inc in;
	int rc, rank = 0;

	if ((rc = ev_inc_check_body(e->kind, b, 1, err)) != EV_OK)
		return rc;
	if ((rc = load(db, e->subject, &in, err)) != EV_OK)
		return rc;
	if (strcmp(e->kind, "incident.opened") == 0) {
		if (in.found)
			return ev_errf(err, EV_EEXIST, "incident %s already exists", e->subject);
		return apply_opened(db, e, b, err);
	}
	if (!in.found)
		return ev_errf(err, EV_ENOTFOUND, "no incident %s", e->subject);
	if (in.closed)
		return ev_errf(err, EV_ESTATE, "incident %s is closed: nothing more is recorded on it",
		    e->subject);
	if (strcmp(e->kind, "incident.classified") == 0) {
		rank = EV_STAGE_CLASSIFY;
		rc = apply_classified(db, e, b, &in, err);
	} else if (strcmp(e->kind, "incident.assessed") == 0) {
		rank = EV_STAGE_CLASSIFY;
		rc = apply_assessed(db, e, b, &in, err);
	} else if (strcmp(e->kind, "incident.notified") == 0) {
		rank = EV_STAGE_REPORT;
		rc = apply_notified(db, e, b, &in, err);
	} else if (strcmp(e->kind, "incident.review") == 0) {
		rank = EV_STAGE_REVIEW;
		rc = apply_review(db, e, b, err);
	} else if (strcmp(e->kind, "incident.review_approved") == 0) {
		rank = EV_STAGE_REVIEW;
		rc = apply_approved(db, e, &in, err);
	} else if (strcmp(e->kind, "incident.closed") == 0) {
		rank = EV_STAGE_CLOSED;
		rc = apply_closed(db, e, b, &in, err);
	} else {
		rc = apply_simple(db, e, b, &in, &rank, err);
	}
	if (rc != EV_OK)
		return rc;
	if (rank)
		return advance(db, e->subject, rank, e->seq, err);
	return ev_inc_exec(db, err, "UPDATE incidents SET updated_seq = ? WHERE id = ?", "ut", e->seq,
	    e->subject);
}

/* alert.raised entries of the clock scheduler (rule clock.due / clock.overdue). */
static int
apply_alert(sqlite3 *db, const struct ev_entry *e, const json_t *b, struct ev_err *err)
{
	const char *rule = ev_json_str(b, "rule"), *inc = ev_json_str(b, "incident");
	const char *clock = ev_json_str(b, "clock"), *due = ev_json_str(b, "due");
	int64_t due_us;

	if (rule == NULL || strncmp(rule, "clock.", 6) != 0)
		return EV_OK;
	if (inc == NULL || clock == NULL || due == NULL || ev_time_parse(due, &due_us) != 0)
		return ev_errf(err, EV_EINVAL, "alert.raised %s: needs incident, clock and due", rule);
	return ev_inc_exec(db, err,
	    "INSERT INTO clock_alerts(alert_seq, incident, clock, state, due, time)"
	    " VALUES (?, ?, ?, ?, ?, ?)",
	    "uttt" "ii", e->seq, inc, clock, strcmp(rule, "clock.overdue") == 0 ? "overdue" : "due-soon",
	    due_us, (int64_t)e->time_us);
}

static int
apply_delivery(sqlite3 *db, const struct ev_entry *e, const json_t *b, struct ev_err *err)
{
	const char *url = ev_json_str(b, "url");
	const json_t *alert = json_object_get(b, "alert"), *att = json_object_get(b, "attempt");

	if (url == NULL || !json_is_integer(alert) || !json_is_integer(att))
		return ev_errf(err, EV_EINVAL, "webhook.delivery: needs url, alert and attempt");
	return ev_inc_exec(db, err,
	    "INSERT INTO webhook_deliveries(seq, alert_seq, url, attempt, status, ok, time)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "uiti" "iii", e->seq, (int64_t)json_integer_value(alert), url,
	    (int64_t)json_integer_value(att), (int64_t)json_integer_value(json_object_get(b, "status")),
	    (int64_t)json_is_true(json_object_get(b, "ok")), (int64_t)e->time_us);
}

static int
apply(sqlite3 *db, const struct ev_entry *e, struct ev_err *err)
{
	int inc = strncmp(e->kind, "incident.", 9) == 0;
	int alert = strcmp(e->kind, "alert.raised") == 0;
	int hook = strcmp(e->kind, "webhook.delivery") == 0;
	json_t *b;
	int rc;

	if (!inc && !alert && !hook)
		return EV_OK;
	/*
	 * Only the scheduler's clock alerts concern incidents; ingest raises alerts
	 * by the thousand, so skip the others before paying for a parse.  Bodies are
	 * canonical, so the member is spelt exactly so when present.
	 */
	if (alert && memmem(e->body, e->body_len, "\"rule\":\"clock.", 14) == NULL)
		return EV_OK;
	b = ev_json_parse_object(e->body, e->body_len, err);
	if (b == NULL)
		return EV_EINVAL;
	if (inc)
		rc = apply_incident(db, e, b, err);
	else if (alert)
		rc = apply_alert(db, e, b, err);
	else
		rc = apply_delivery(db, e, b, err);
	json_decref(b);
	return rc;
}

const struct ev_projector ev_incident_projector = {
	"incidents", "", setup, reset, apply, NULL, NULL, NULL,
};
