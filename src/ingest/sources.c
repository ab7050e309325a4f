/*
 * sources.c - the log-source inventory (see ingest.h): which sources feed
 * evident, which EN 319 401 7.9.1 categories each one covers, and when each
 * last sent a line.
 *
 * Projection tables:
 *   sources(name, description, categories JSON, auto, registered_us, changed_us, seq)
 *     from `source.registered`; an automatic registration never overrides a
 *     registration made by a person.
 *   source_days(source, day, lines, first_us, last_us)
 *     one row per source and UTC day of entry time, from `log` entries.  This
 *     is the append hot path: one prepared UPSERT per line, no JSON parsing.
 */
#include "ingest/ingest.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts.h"
#include "util/stmtcache.h"
#include "util/json.h"

const char *const ev_source_categories[] = {
	"network-traffic",       /* network traffic */
	"user-admin",            /* user and permission administration */
	"admin-activity",        /* administrator activity */
	"config-backup",         /* critical configuration and backup access or changes */
	"security-events",       /* security events */
	"resource-use",          /* resource use */
	"physical-environmental", /* physical and environmental */
	"network-devices",       /* network devices */
	NULL,
};

int
ev_source_category_ok(const char *c)
{
	for (size_t i = 0; c && ev_source_categories[i]; i++)
		if (strcmp(c, ev_source_categories[i]) == 0)
			return 1;
	return 0;
}

int
ev_source_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > EV_SOURCE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (i == 0 && !alnum)
			return 0;
		if (!alnum && !strchr("._:@/-", c))
			return 0;
	}
	return 1;
}

/* ---- statements for the append path, prepared once per connection ---- */

enum { Q_REG, Q_DAY_ADD, Q__MAX };

static const char *const q_sql[Q__MAX] = {
	[Q_DAY_ADD] = "INSERT INTO source_days(source, day, lines, first_us, last_us)"
		      " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(source, day) DO UPDATE SET"
		      " lines = lines + excluded.lines, first_us = min(first_us, excluded.first_us),"
		      " last_us = max(last_us, excluded.last_us)",
	[Q_REG] = "INSERT INTO sources(name, description, categories, auto, registered_us,"
		  " changed_us, seq) VALUES (?1, coalesce(?2, ''), ?3, ?4, ?5, ?5, ?6)"
		  " ON CONFLICT(name) DO UPDATE SET"
		  " description = coalesce(?2, description), categories = ?3, auto = ?4,"
		  " changed_us = ?5, seq = ?6 WHERE ?4 = 0",
};

/* Per-connection statements (see util/stmtcache.h). */
static struct ev_stmt_cache cache = EV_STMT_CACHE_INIT("sources", q_sql, Q__MAX);

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

static const char sources_schema[] =
	"CREATE TABLE IF NOT EXISTS sources(name TEXT PRIMARY KEY, description TEXT NOT NULL,"
	" categories TEXT NOT NULL, auto INTEGER NOT NULL, registered_us INTEGER NOT NULL,"
	" changed_us INTEGER NOT NULL, seq INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS source_days(source TEXT NOT NULL, day INTEGER NOT NULL,"
	" lines INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	" PRIMARY KEY(source, day)) WITHOUT ROWID;";

static int
exec_sql(sqlite3 *db, const char *sql, struct ev_err *err)
{
	return ev_sql_exec(db, sql, "sources", err);
}

static int
sources_setup(sqlite3 *db, struct ev_err *err)
{
	cache_forget(db, 0);
	return exec_sql(db, sources_schema, err);
}

static int
sources_reset(sqlite3 *db, struct ev_err *err)
{
	int rc;

	cache_forget(db, 1);
	if ((rc = exec_sql(db, "DROP TABLE IF EXISTS sources; DROP TABLE IF EXISTS source_days;",
		 err)) != EV_OK)
		return rc;
	return exec_sql(db, sources_schema, err);
}

static int
step_done(sqlite3 *db, sqlite3_stmt *s, struct ev_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return ev_errf(err, EV_EIO, "sources: %s", sqlite3_errmsg(db));
	return EV_OK;
}

/*
 * Line counts per source and day are summed in memory while a transaction
 * runs and written once per (source, day) when it commits (flush), instead
 * of one UPDATE per log line; a rollback drops them (discard).  The table
 * ends exactly as if every line had been counted on its own.
 */
#define PEND_MAX 4096

struct pend {
	sqlite3 *db;
	char *source;
	int64_t day, lines, first_us, last_us;
};
static struct pend *pend;
static size_t npend, cappend;
static pthread_mutex_t pend_mu = PTHREAD_MUTEX_INITIALIZER;

static void
pend_drop_locked(size_t i)
{
	free(pend[i].source);
	pend[i] = pend[--npend];
}

static int
sources_flush(sqlite3 *db, struct ev_err *err)
{
	int rc = EV_OK;

	pthread_mutex_lock(&pend_mu);
	for (size_t i = 0; i < npend;) {
		sqlite3_stmt *s;
		if (pend[i].db != db) {
			i++;
			continue;
		}
		if ((s = stmt_get(db, Q_DAY_ADD, err)) == NULL) {
			rc = EV_EIO;
			break;
		}
		sqlite3_bind_text(s, 1, pend[i].source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, pend[i].day);
		sqlite3_bind_int64(s, 3, pend[i].lines);
		sqlite3_bind_int64(s, 4, pend[i].first_us);
		sqlite3_bind_int64(s, 5, pend[i].last_us);
		if ((rc = step_done(db, s, err)) != EV_OK)
			break;
		pend_drop_locked(i);
	}
	pthread_mutex_unlock(&pend_mu);
	return rc;
}

static void
sources_discard(sqlite3 *db)
{
	pthread_mutex_lock(&pend_mu);
	for (size_t i = 0; i < npend;) {
		if (pend[i].db == db)
			pend_drop_locked(i);
		else
			i++;
	}
	pthread_mutex_unlock(&pend_mu);
}

static int
apply_log(sqlite3 *db, const struct ev_entry *e, struct ev_err *err)
{
	int64_t day = e->time_us / 86400000000LL;
	size_t i, mine = 0;

	pthread_mutex_lock(&pend_mu);
	/* Newest first: a batch nearly always repeats the source of the line before. */
	for (i = npend; i-- > 0;) {
		if (pend[i].db != db)
			continue;
		mine++;
		if (pend[i].day == day && strcmp(pend[i].source, e->subject) == 0)
			break;
	}
	if (i < npend && pend[i].db == db && pend[i].day == day &&
	    strcmp(pend[i].source, e->subject) == 0) {
		pend[i].lines++;
		if (e->time_us < pend[i].first_us)
			pend[i].first_us = e->time_us;
		if (e->time_us > pend[i].last_us)
			pend[i].last_us = e->time_us;
		pthread_mutex_unlock(&pend_mu);
		return EV_OK;
	}
	if (npend == cappend) {
		cappend = cappend ? cappend * 2 : 64;
		pend = ev_xrealloc(pend, cappend * sizeof(*pend));
	}
	pend[npend].db = db;
	pend[npend].source = ev_xstrdup(e->subject);
	pend[npend].day = day;
	pend[npend].lines = 1;
	pend[npend].first_us = pend[npend].last_us = e->time_us;
	npend++;
	pthread_mutex_unlock(&pend_mu);
	/* Very many sources in one transaction: write what is held so far. */
	return mine + 1 >= PEND_MAX ? sources_flush(db, err) : EV_OK;
}

static int
apply_registered(sqlite3 *db, const struct ev_entry *e, struct ev_err *err)
{
	json_t *b = json_loadb(e->body, e->body_len, 0, NULL);
	json_t *cats;
	const char *name, *desc;
	char *cats_s = NULL;
	sqlite3_stmt *s;
	int rc = EV_OK;

	if (b == NULL)
		return EV_OK;
	name = ev_json_str(b, "name");
	if (name == NULL)
		name = e->subject;
	cats = json_object_get(b, "categories");
	cats_s = json_is_array(cats) ? ev_json_dump(cats) : NULL;
	desc = ev_json_str(b, "description");
	if ((s = stmt_get(db, Q_REG, err)) == NULL) {
		rc = EV_EIO;
		goto out;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	if (desc)
		sqlite3_bind_text(s, 2, desc, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_text(s, 3, cats_s ? cats_s : "[]", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, json_is_true(json_object_get(b, "auto")));
	sqlite3_bind_int64(s, 5, e->time_us);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)e->seq);
	rc = step_done(db, s, err);
out:
	free(cats_s);
	json_decref(b);
	return rc;
}

static int
sources_apply(sqlite3 *db, const struct ev_entry *e, struct ev_err *err)
{
	if (e->kind[0] == 'l' && strcmp(e->kind, "log") == 0)
		return apply_log(db, e, err);
	if (e->kind[0] == 's' && strcmp(e->kind, "source.registered") == 0)
		return apply_registered(db, e, err);
	return EV_OK;
}

/* The ledger closes a connection: finalise what the cache holds for it. */
static void
sources_detach(sqlite3 *db)
{
	cache_forget(db, 1);
}

const struct ev_projector ev_sources_projector = {
	"sources", "", sources_setup, sources_reset, sources_apply, sources_detach, sources_flush,
	sources_discard,
};

/* ---- registration ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
ev_sources_register(struct ev_ledger *l, const char *name, const char *const *cats, size_t ncats,
    const char *description, const char *actor, uint64_t *seq, struct ev_err *err)
{
	struct ev_buf b = EV_BUF_INIT;
	const char **sorted = NULL;
	int rc;

	if (!ev_source_name_ok(name))
		return ev_errf(err, EV_EINVAL,
		    "source name '%s' must be 1 to %d of A-Z a-z 0-9 . _ : @ / -, starting with a "
		    "letter or digit",
		    name ? name : "", EV_SOURCE_NAME_MAX);
	for (size_t i = 0; i < ncats; i++)
		if (!ev_source_category_ok(cats[i]))
			return ev_errf(err, EV_EINVAL,
			    "unknown category '%s' (network-traffic, user-admin, admin-activity, "
			    "config-backup, security-events, resource-use, physical-environmental, "
			    "network-devices)",
			    cats[i]);
	if (description && strlen(description) > 1024)
		return ev_errf(err, EV_EINVAL, "description longer than 1024 bytes");
	sorted = ev_xcalloc(ncats + 1, sizeof(*sorted));
	memcpy(sorted, cats, ncats * sizeof(*sorted));
	qsort(sorted, ncats, sizeof(*sorted), cmp_str);
	ev_buf_adds(&b, "{\"auto\":false,\"categories\":[");
	for (size_t i = 0, k = 0; i < ncats; i++) {
		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		if (k++)
			ev_buf_addc(&b, ',');
		ev_alerts_json_str(&b, sorted[i], strlen(sorted[i]));
	}
	ev_buf_addc(&b, ']');
	if (description) {
		ev_buf_adds(&b, ",\"description\":");
		ev_alerts_json_str(&b, description, strlen(description));
	}
	ev_buf_adds(&b, ",\"name\":");
	ev_alerts_json_str(&b, name, strlen(name));
	ev_buf_addc(&b, '}');
	{
		struct ev_entry_in in = { "source.registered", name, actor, b.p, b.len };
		rc = ev_ledger_append(l, &in, 1, seq, err);
	}
	free(sorted);
	ev_buf_free(&b);
	return rc;
}

int
ev_sources_known(struct ev_ledger *l, const char *name)
{
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *s = NULL;
	int r;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sources WHERE name = ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

/* ---- listing ---- */

static int
run_listing(struct ev_ledger *l, const char *sql, int64_t since, int64_t until,
    int (*cb)(const struct ev_source_info *s, void *arg), void *arg, struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *s = NULL;
	const char *cats[16];
	int rc = EV_OK, r;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(db), "no such table") != NULL)
			return EV_OK; /* read-only open before the projector ever ran */
		return ev_errf(err, EV_EIO, "sources: %s", sqlite3_errmsg(db));
	}
	if (since || until) {
		sqlite3_bind_int64(s, 1, since);
		sqlite3_bind_int64(s, 2, until);
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ev_source_info si;
		const char *ct = (const char *)sqlite3_column_text(s, 2);
		json_t *ca = ct ? json_loads(ct, 0, NULL) : NULL;
		size_t n = 0;

		memset(&si, 0, sizeof(si));
		si.name = (const char *)sqlite3_column_text(s, 0);
		si.description = (const char *)sqlite3_column_text(s, 1);
		for (size_t i = 0; json_is_array(ca) && i < json_array_size(ca) && n < 16; i++)
			if (json_is_string(json_array_get(ca, i)))
				cats[n++] = json_string_value(json_array_get(ca, i));
		si.categories = cats;
		si.ncategories = n;
		si.auto_registered = sqlite3_column_int(s, 3);
		si.registered_us = sqlite3_column_int64(s, 4);
		si.lines = (uint64_t)sqlite3_column_int64(s, 5);
		si.last_seen_us = sqlite3_column_int64(s, 6);
		si.window_lines = (uint64_t)sqlite3_column_int64(s, 7);
		rc = cb(&si, arg);
		json_decref(ca);
		if (rc != 0)
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = ev_errf(err, EV_EIO, "sources: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc;
}

/* Registered sources, plus any name that sent log entries without a registration. */
#define SOURCES_ALL                                                                          \
	"(SELECT name, description, categories, auto, registered_us FROM sources UNION ALL"  \
	" SELECT DISTINCT source, '', '[]', 0, 0 FROM source_days"                          \
	" WHERE source NOT IN (SELECT name FROM sources))"

int
ev_sources_list(struct ev_ledger *l, int (*cb)(const struct ev_source_info *s, void *arg),
    void *arg, struct ev_err *err)
{
	return run_listing(l,
	    "SELECT s.name, s.description, s.categories, s.auto, s.registered_us,"
	    " coalesce((SELECT sum(lines) FROM source_days d WHERE d.source = s.name), 0),"
	    " coalesce((SELECT max(last_us) FROM source_days d WHERE d.source = s.name), 0), 0"
	    " FROM " SOURCES_ALL " s ORDER BY s.name",
	    0, 0, cb, arg, err);
}

int
ev_sources_window(struct ev_ledger *l, int64_t since_us, int64_t until_us,
    int (*cb)(const struct ev_source_info *s, void *arg), void *arg, struct ev_err *err)
{
	return run_listing(l,
	    "SELECT s.name, s.description, s.categories, s.auto, s.registered_us,"
	    " coalesce((SELECT sum(lines) FROM source_days d WHERE d.source = s.name), 0),"
	    " coalesce((SELECT max(last_us) FROM source_days d WHERE d.source = s.name), 0),"
	    " w.n FROM " SOURCES_ALL " s JOIN (SELECT source, sum(lines) AS n FROM source_days"
	    " WHERE last_us >= ?1 AND first_us <= ?2 GROUP BY source) w ON w.source = s.name"
	    " ORDER BY s.name",
	    since_us, until_us ? until_us : 1, cb, arg, err);
}
