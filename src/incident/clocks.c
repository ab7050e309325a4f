/*
 * clocks.c - the clock scheduler pass (ev_clocks_tick): raise due-soon and
 * overdue alerts once per clock and state, and deliver them to webhooks
 * with libcurl, every attempt recorded.
 *
 * Both halves read what they must do from the projection (clock_alerts,
 * webhook_deliveries), which is itself derived from the entries this file
 * writes, so running the pass twice, or from two processes, or after a
 * crash, neither raises an alert twice nor re-delivers one that a webhook
 * has already accepted.  A webhook URL is recorded without its user
 * information, query and fragment, where secrets usually travel.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "incident/internal.h"
#include "util/json.h"
#include "util/timeutil.h"

/* ---- raising ---- */

static int
alert_exists(sqlite3 *db, const char *inc, const char *clock, const char *state, int64_t due,
    int *exists, struct ev_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*exists = 0;
	if ((rc = ev_inc_query(db, &st, err,
		 "SELECT 1 FROM clock_alerts WHERE incident = ? AND clock = ? AND state = ?"
		 " AND due = ?",
		 "ttti", inc, clock, state, due)) != EV_OK)
		return rc;
	*exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return EV_OK;
}

static int
raise_alerts(struct ev_ledger *l, int64_t now, int64_t due_soon_us, unsigned *raised,
    struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	json_t *clocks = NULL, *c;
	size_t i;
	int rc;

	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	if ((rc = ev_clocks_list(l, now, due_soon_us, 0, &clocks, err)) != EV_OK)
		goto fail;
	json_array_foreach(clocks, i, c) {
		const char *state = ev_json_str(c, "state"), *inc = ev_json_str(c, "incident");
		const char *clock = ev_json_str(c, "clock"), *due = ev_json_str(c, "due");
		int overdue = strcmp(state, "overdue") == 0, exists;
		int64_t due_us;
		struct ev_buf title = EV_BUF_INIT, why = EV_BUF_INIT;
		json_t *b;
		char *text;
		struct ev_entry_in in;

		if (!overdue && strcmp(state, "due-soon") != 0)
			continue;
		ev_time_parse(due, &due_us);
		if ((rc = alert_exists(db, inc, clock, state, due_us, &exists, err)) != EV_OK)
			goto fail;
		if (exists)
			continue;
		ev_buf_addf(&title, "%s: %s %s", inc, ev_json_str(c, "title"),
		    overdue ? "is overdue" : "is due soon");
		ev_buf_addf(&why, "clock %s of %s started %s, due %s (%s)", clock, inc,
		    ev_json_str(c, "started"), due, ev_json_str(c, "basis"));
		b = json_object();
		json_object_set_new(b, "rule", json_string(overdue ? "clock.overdue" : "clock.due"));
		json_object_set_new(b, "title", json_string(title.p));
		json_object_set_new(b, "severity", json_string(overdue ? "critical" : "high"));
		json_object_set_new(b, "why", json_string(why.p));
		json_object_set_new(b, "incident", json_string(inc));
		json_object_set_new(b, "clock", json_string(clock));
		json_object_set_new(b, "due", json_string(due));
		json_object_set_new(b, "state", json_string(state));
		json_object_set_new(b, "tags", json_array());
		json_object_set_new(b, "log_seq", json_array());
		ev_buf_free(&title);
		ev_buf_free(&why);
		text = ev_json_dump(b);
		json_decref(b);
		in.kind = "alert.raised";
		in.subject = "alerts";
		in.actor = "system";
		in.body = text;
		in.body_len = strlen(text);
		rc = ev_ledger_append(l, &in, 1, NULL, err);
		free(text);
		if (rc != EV_OK)
			goto fail;
		if (raised)
			(*raised)++;
	}
	json_decref(clocks);
	return ev_ledger_commit(l, err);
fail:
	json_decref(clocks);
	ev_ledger_rollback(l);
	return rc;
}

/* ---- delivering ---- */

/* The URL as recorded: scheme, host, port and path only.  NULL when not http(s). */
static char *
safe_url(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *out = NULL, *res = NULL;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto out;
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	curl_url_set(u, CURLUPART_OPTIONS, NULL, 0);
	curl_url_set(u, CURLUPART_QUERY, NULL, 0);
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
		res = strdup(out);
out:
	curl_free(scheme);
	curl_free(out);
	curl_url_cleanup(u);
	return res;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* POST payload; returns the HTTP status (0 when no response) and fills errbuf. */
static long
post(const char *url, const char *payload, long timeout_ms, char errbuf[CURL_ERROR_SIZE])
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	long status = 0;
	CURLcode cc;

	errbuf[0] = '\0';
	if (c == NULL) {
		snprintf(errbuf, CURL_ERROR_SIZE, "curl_easy_init failed");
		return 0;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: evident-clocks");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else if (errbuf[0] == '\0')
		snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static int
record_attempt(struct ev_ledger *l, const char *url, int64_t alert, unsigned attempt,
    long status, int ok, const char *error, struct ev_err *err)
{
	json_t *b = json_object();
	struct ev_entry_in in;
	char *text;
	int rc;

	json_object_set_new(b, "url", json_string(url));
	json_object_set_new(b, "alert", json_integer(alert));
	json_object_set_new(b, "attempt", json_integer(attempt));
	json_object_set_new(b, "status", json_integer(status));
	json_object_set_new(b, "ok", json_boolean(ok));
	if (!ok && error && *error)
		json_object_set_new(b, "error", json_string(error));
	text = ev_json_dump(b);
	json_decref(b);
	in.kind = "webhook.delivery";
	in.subject = "alerts";
	in.actor = "system";
	in.body = text;
	in.body_len = strlen(text);
	rc = ev_ledger_append(l, &in, 1, NULL, err);
	free(text);
	return rc;
}

static void
sleep_seconds(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/*
 * Clock alerts that have not reached url, whose clock still runs, and that
 * are the latest of their clock (a due-soon alert never delivered is stale
 * once the overdue one is raised).
 */
static int
pending(struct ev_ledger *l, const char *url, json_t **out, struct ev_err *err)
{
	sqlite3 *db = ev_ledger_db(l);
	sqlite3_stmt *st;
	json_t *arr = json_array();
	char t[EV_TIME_STRLEN];
	int rc;

	if ((rc = ev_inc_query(db, &st, err,
		 "SELECT a.alert_seq, a.incident, a.clock, a.state, a.due, a.time, k.title"
		 " FROM clock_alerts a JOIN incident_clocks k"
		 "  ON k.incident = a.incident AND k.clock = a.clock"
		 " WHERE k.stopped IS NULL"
		 " AND NOT EXISTS (SELECT 1 FROM clock_alerts b WHERE b.incident = a.incident"
		 "  AND b.clock = a.clock AND b.alert_seq > a.alert_seq)"
		 " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w"
		 "  WHERE w.alert_seq = a.alert_seq AND w.url = ? AND w.ok = 1)"
		 " ORDER BY a.alert_seq",
		 "t", url)) != EV_OK) {
		json_decref(arr);
		return rc;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();
		const char *state = ev_inc_col(st, 3);
		json_object_set_new(o, "alert", json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(o, "rule",
		    json_string(strcmp(state, "overdue") == 0 ? "clock.overdue" : "clock.due"));
		json_object_set_new(o, "incident", json_string(ev_inc_col(st, 1)));
		json_object_set_new(o, "clock", json_string(ev_inc_col(st, 2)));
		json_object_set_new(o, "state", json_string(state));
		ev_time_format(sqlite3_column_int64(st, 4), t);
		json_object_set_new(o, "due", json_string(t));
		ev_time_format(sqlite3_column_int64(st, 5), t);
		json_object_set_new(o, "raised", json_string(t));
		json_object_set_new(o, "title", json_string(ev_inc_col(st, 6)));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	*out = arr;
	return EV_OK;
}

static int
deliver(struct ev_ledger *l, const char *url, const struct ev_clock_config *cfg,
    unsigned *delivered, struct ev_err *err)
{
	char *safe = safe_url(url);
	json_t *todo = NULL, *a;
	size_t i;
	int rc;
	unsigned tries = cfg->tries ? cfg->tries : 3;
	double backoff = cfg->backoff > 0 ? cfg->backoff : 1.0;
	long timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;

	if (safe == NULL)
		return ev_errf(err, EV_EINVAL, "webhook URL must be http:// or https://");
	if ((rc = pending(l, safe, &todo, err)) != EV_OK)
		goto out;
	json_array_foreach(todo, i, a) {
		char *payload = ev_json_dump(a);
		double wait = backoff;
		for (unsigned t = 1; t <= tries; t++) {
			char eb[CURL_ERROR_SIZE];
			long status = post(url, payload, timeout, eb);
			int ok = status >= 200 && status < 300;
			rc = record_attempt(l, safe, json_integer_value(json_object_get(a, "alert")), t,
			    status, ok, eb, err);
			if (rc != EV_OK || ok) {
				if (ok && delivered)
					(*delivered)++;
				break;
			}
			if (t < tries) {
				sleep_seconds(wait);
				wait *= 2;
			}
		}
		free(payload);
		if (rc != EV_OK)
			goto out;
	}
out:
	json_decref(todo);
	free(safe);
	return rc;
}

int
ev_clocks_tick(struct ev_ledger *l, int64_t now, const struct ev_clock_config *cfg,
    unsigned *raised, unsigned *delivered, struct ev_err *err)
{
	static int curl_ready;
	int rc;

	if (raised)
		*raised = 0;
	if (delivered)
		*delivered = 0;
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		char *s = safe_url(cfg->webhooks[i]);
		if (s == NULL)
			return ev_errf(err, EV_EINVAL, "webhook %zu: URL must be http:// or https://",
			    i + 1);
		free(s);
	}
	if ((rc = raise_alerts(l, now, cfg->due_soon_us, raised, err)) != EV_OK)
		return rc;
	if (cfg->nwebhooks && !curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return ev_errf(err, EV_EIO, "libcurl initialisation failed");
		curl_ready = 1;
	}
	for (size_t i = 0; i < cfg->nwebhooks; i++)
		if ((rc = deliver(l, cfg->webhooks[i], cfg, delivered, err)) != EV_OK)
			return rc;
	return EV_OK;
}
