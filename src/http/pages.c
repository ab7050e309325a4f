/*
 * pages.c - the web UI: server-rendered HTML pages and the forms that post
 * back to them.  No framework, no external resources: one stylesheet and one
 * small script served from this file (/static/app.css, /static/app.js), so
 * the Content-Security-Policy can forbid everything else.
 *
 * Every value that reaches HTML goes through ev_html_esc.  Every form carries
 * the session's CSRF token (server.c checks it before any handler runs).
 * Pages read through the libraries' views and write by appending entries
 * through the same functions the JSON API uses.
 */
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts.h"
#include "http/internal.h"
#include "incident/incident.h"
#include "ingest/ingest.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

void
ev_html_esc(struct ev_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': ev_buf_adds(b, "&amp;"); break;
		case '<': ev_buf_adds(b, "&lt;"); break;
		case '>': ev_buf_adds(b, "&gt;"); break;
		case '"': ev_buf_adds(b, "&quot;"); break;
		case '\'': ev_buf_adds(b, "&#39;"); break;
		default: ev_buf_addc(b, *s);
		}
	}
}

static void
esc_json(struct ev_buf *b, const json_t *v)
{
	if (json_is_string(v))
		ev_html_esc(b, json_string_value(v));
	else if (json_is_null(v) || !v)
		ev_buf_adds(b, "");
	else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		ev_html_esc(b, s);
		free(s);
	}
}

static void
page_begin(struct ev_http_req *rq, struct ev_http_resp *rs, const char *title)
{
	struct ev_buf *b = &rs->body;

	rs->status = 200;
	rs->type = "text/html; charset=utf-8";
	ev_buf_reset(b);
	ev_buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		       "<title>");
	ev_html_esc(b, title);
	ev_buf_adds(b, " - evident</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
		       "<script src=\"/static/app.js\" defer></script></head><body>");
	if (rq->authed) {
		ev_buf_adds(b, "<header><nav><a class=\"brand\" href=\"/\">evident</a>"
			       "<a href=\"/\">Dashboard</a><a href=\"/alerts\">Alerts</a>"
			       "<a href=\"/incidents\">Incidents</a><a href=\"/compliance\">Compliance</a>"
			       "<a href=\"/ledger\">Ledger</a>"
			       "</nav><div class=\"who\"><span id=\"whoami\">");
		ev_html_esc(b, rq->who.user);
		ev_buf_adds(b, " (");
		ev_html_esc(b, rq->who.role);
		ev_buf_adds(b, ")</span><form method=\"post\" action=\"/logout\" class=\"inline\">"
			       "<input type=\"hidden\" name=\"csrf\" value=\"");
		ev_html_esc(b, rq->who.csrf);
		ev_buf_adds(b, "\"><button type=\"submit\">Sign out</button></form></div></header>");
	}
	ev_buf_adds(b, "<main><h1>");
	ev_html_esc(b, title);
	ev_buf_adds(b, "</h1>");
}

static void
page_end(struct ev_http_resp *rs)
{
	ev_buf_adds(&rs->body, "</main></body></html>\n");
}

static void
csrf_field(struct ev_http_req *rq, struct ev_buf *b)
{
	ev_buf_adds(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	ev_html_esc(b, rq->who.csrf);
	ev_buf_adds(b, "\">");
}

static void
notice(struct ev_buf *b, const char *cls, const char *msg)
{
	ev_buf_addf(b, "<p class=\"%s\" role=\"status\">", cls);
	ev_html_esc(b, msg);
	ev_buf_adds(b, "</p>");
}

/* A table of an array of objects: the given columns (key, heading), empty cells for nulls. */
static void
json_table(struct ev_buf *b, const json_t *arr, const char *const *cols, const char *id)
{
	size_t i;
	json_t *row;

	if (!json_array_size(arr)) {
		ev_buf_adds(b, "<p class=\"muted\">None.</p>");
		return;
	}
	ev_buf_addf(b, "<table%s%s%s><thead><tr>", id ? " id=\"" : "", id ? id : "", id ? "\"" : "");
	for (const char *const *c = cols; *c; c += 2) {
		ev_buf_adds(b, "<th>");
		ev_html_esc(b, c[1]);
		ev_buf_adds(b, "</th>");
	}
	ev_buf_adds(b, "</tr></thead><tbody>");
	json_array_foreach(arr, i, row) {
		ev_buf_adds(b, "<tr>");
		for (const char *const *c = cols; *c; c += 2) {
			ev_buf_adds(b, "<td>");
			esc_json(b, json_object_get(row, c[0]));
			ev_buf_adds(b, "</td>");
		}
		ev_buf_adds(b, "</tr>");
	}
	ev_buf_adds(b, "</tbody></table>");
}

/* ---- static assets ---- */

static const char css[] =
	":root{--fg:#1b1f24;--muted:#5b6470;--bg:#f6f7f9;--card:#fff;--line:#d9dde3;"
	"--accent:#1d4ed8;--bad:#b91c1c;--warn:#b45309;--ok:#15803d}"
	"*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:var(--fg);"
	"background:var(--bg)}header{display:flex;justify-content:space-between;align-items:center;"
	"background:#111827;color:#fff;padding:.5rem 1rem}header a{color:#e5e7eb;margin-right:1rem;"
	"text-decoration:none}header a.brand{font-weight:700;color:#fff}.who{display:flex;gap:.5rem;"
	"align-items:center}main{max-width:72rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem}"
	"h2{font-size:1.1rem;margin-top:1.5rem}table{border-collapse:collapse;width:100%;"
	"background:var(--card)}th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;"
	"vertical-align:top;word-break:break-word}th{background:#eef1f5}.grid{display:grid;"
	"grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}.card{background:var(--card);"
	"border:1px solid var(--line);border-radius:6px;padding:.75rem 1rem}.big{font-size:1.8rem;"
	"font-weight:700}.muted{color:var(--muted)}.error{color:var(--bad);font-weight:600}"
	".ok{color:var(--ok);font-weight:600}.overdue{color:var(--bad);font-weight:700}"
	".due-soon{color:var(--warn);font-weight:700}form.inline{display:inline}label{display:block;"
	"margin:.4rem 0 .1rem}input,select,textarea{font:inherit;padding:.3rem;width:100%;"
	"max-width:32rem}button{font:inherit;padding:.3rem .8rem;cursor:pointer}"
	".stages{display:flex;gap:0;margin:1rem 0;flex-wrap:wrap}.stages span{padding:.3rem .7rem;"
	"border:1px solid var(--line);background:#fff}.stages span.done{background:#dcfce7}"
	".stages span.current{background:var(--accent);color:#fff;font-weight:700}"
	"pre{background:#fff;border:1px solid var(--line);padding:.5rem;overflow:auto}"
	"svg text{font:11px system-ui,sans-serif}.sw-alert{color:#f59e0b}.sw-inc{color:#b91c1c}\n";

static const char js[] =
	"'use strict';\n"
	"// Live countdowns: every element with data-due=\"RFC 3339\" shows the time left.\n"
	"function fmt(ms){var s=Math.abs(Math.round(ms/1000)),d=Math.floor(s/86400),"
	"h=Math.floor(s%86400/3600),m=Math.floor(s%3600/60),x=s%60;"
	"var t=(d?d+'d ':'')+String(h).padStart(2,'0')+':'+String(m).padStart(2,'0')+':'+"
	"String(x).padStart(2,'0');return ms<0?'overdue by '+t:t+' left';}\n"
	"function tick(){document.querySelectorAll('[data-due]').forEach(function(e){"
	"var ms=Date.parse(e.getAttribute('data-due'))-Date.now();e.textContent=fmt(ms);"
	"e.classList.toggle('overdue',ms<0);});}\n"
	"document.addEventListener('DOMContentLoaded',function(){tick();setInterval(tick,1000);});\n";

void
ev_page_css(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	rs->status = 200;
	rs->type = "text/css; charset=utf-8";
	ev_buf_adds(&rs->body, css);
}

void
ev_page_favicon(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	rs->status = 204; /* browsers ask; there is nothing to show */
	rs->type = "image/x-icon";
}

void
ev_page_js(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	rs->status = 200;
	rs->type = "text/javascript; charset=utf-8";
	ev_buf_adds(&rs->body, js);
}

/* ---- sign-in, sign-out, password ---- */

static void
login_form(struct ev_http_req *rq, struct ev_http_resp *rs, unsigned status, const char *msg)
{
	struct ev_buf *b = &rs->body;

	page_begin(rq, rs, "Sign in");
	rs->status = status;
	if (msg)
		notice(b, "error", msg);
	ev_buf_adds(b, "<form method=\"post\" action=\"/login\" id=\"login\">"
		       "<label for=\"user\">User</label><input id=\"user\" name=\"user\" "
		       "autocomplete=\"username\" required>"
		       "<label for=\"password\">Password</label><input id=\"password\" "
		       "name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
		       "<p><button type=\"submit\">Sign in</button></p></form>");
	page_end(rs);
}

void
ev_page_login(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	login_form(rq, rs, 200, NULL);
}

void
ev_page_login_post(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	const struct ev_http_config *cfg = ev_http_cfg(rq->srv);
	struct ev_limiter *lim = ev_http_login_limiter(rq->srv);
	struct ev_principal p;
	struct ev_err err = { 0 };
	const char *user, *pw;
	char akey[96], ukey[96], sid[65];
	int64_t now = ev_time_now_us();

	if (ev_http_parse_form(rq) != 0) {
		login_form(rq, rs, 400, "The form could not be read.");
		return;
	}
	user = ev_http_form(rq, "user");
	pw = ev_http_form(rq, "password");
	snprintf(akey, sizeof(akey), "addr:%s", rq->addr);
	snprintf(ukey, sizeof(ukey), "user:%.80s", user ? user : "");
	if (ev_limiter_over(lim, akey, now) || (user && ev_limiter_over(lim, ukey, now))) {
		login_form(rq, rs, 429, "Too many failed sign-ins. Wait and try again.");
		rs->retry_after = cfg->login_window_s;
		return;
	}
	if (!user || !pw || ev_auth_password(rq->l, user, pw, &p, &err) != EV_OK) {
		ev_limiter_add(lim, akey, now);
		if (user && ev_user_name_ok(user))
			ev_limiter_add(lim, ukey, now);
		login_form(rq, rs, 401, "Wrong user or password.");
		return;
	}
	if (ev_auth_session_create(rq->l, &p, now, cfg->session_ttl_s, sid, &err) != EV_OK) {
		login_form(rq, rs, 500, "Could not start a session.");
		return;
	}
	ev_limiter_clear(lim, ukey);
	snprintf(rs->cookie, sizeof(rs->cookie),
	    "evident_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u%s", sid,
	    cfg->session_ttl_s, ev_http_tls(rq->srv) ? "; Secure" : "");
	ev_http_redirect(rs, p.must_change ? "/password" : "/");
}

void
ev_page_logout(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	if (rq->who.via_session)
		ev_auth_session_delete(rq->l, rq->who.session_hash, NULL);
	snprintf(rs->cookie, sizeof(rs->cookie),
	    "evident_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
	    ev_http_tls(rq->srv) ? "; Secure" : "");
	ev_http_redirect(rs, "/login");
}

static void
password_form(struct ev_http_req *rq, struct ev_http_resp *rs, unsigned status, const char *msg)
{
	struct ev_buf *b = &rs->body;

	page_begin(rq, rs, "Change password");
	rs->status = status;
	if (rq->who.must_change)
		notice(b, "muted", "You signed in with a one-time password: choose your own now.");
	if (msg)
		notice(b, status < 300 ? "ok" : "error", msg);
	ev_buf_adds(b, "<form method=\"post\" action=\"/password\" id=\"password-form\">");
	csrf_field(rq, b);
	ev_buf_addf(b, "<label for=\"current\">Current password</label><input id=\"current\" "
		       "name=\"current\" type=\"password\" autocomplete=\"current-password\" required>"
		       "<label for=\"new\">New password (at least %d characters)</label><input "
		       "id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" "
		       "minlength=\"%d\" required><label for=\"confirm\">New password again</label>"
		       "<input id=\"confirm\" name=\"confirm\" type=\"password\" "
		       "autocomplete=\"new-password\" required>"
		       "<p><button type=\"submit\">Change password</button></p></form>",
	    EV_PASSWORD_MIN, EV_PASSWORD_MIN);
	page_end(rs);
}

void
ev_page_password(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	password_form(rq, rs, 200, NULL);
}

void
ev_page_password_post(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	const char *cur = ev_http_form(rq, "current"), *nw = ev_http_form(rq, "new"),
		   *cf = ev_http_form(rq, "confirm");
	struct ev_principal p;
	struct ev_err err = { 0 };
	char akey[96];
	int64_t now = ev_time_now_us();
	struct ev_limiter *lim = ev_http_login_limiter(rq->srv);

	snprintf(akey, sizeof(akey), "user:%s", rq->who.user);
	if (ev_limiter_over(lim, akey, now)) {
		password_form(rq, rs, 429, "Too many failed attempts. Wait and try again.");
		return;
	}
	if (!cur || !nw || !cf) {
		password_form(rq, rs, 400, "Fill in every field.");
		return;
	}
	if (ev_auth_password(rq->l, rq->who.user, cur, &p, &err) != EV_OK) {
		ev_limiter_add(lim, akey, now);
		password_form(rq, rs, 403, "The current password is wrong.");
		return;
	}
	if (strcmp(nw, cf) != 0) {
		password_form(rq, rs, 400, "The new passwords differ.");
		return;
	}
	if (strcmp(nw, cur) == 0) {
		password_form(rq, rs, 400, "Choose a password different from the current one.");
		return;
	}
	if (ev_user_set_password(rq->l, rq->who.user, nw, rq->who.user, NULL, &err) != EV_OK) {
		password_form(rq, rs, err.code == EV_EINVAL ? 400 : 500, err.msg);
		return;
	}
	ev_http_redirect(rs, "/");
}

/* ---- dashboard ---- */

struct alert_rows {
	json_t *arr;
	size_t open;
	int64_t since;
	unsigned per_day[14];
};

static int
alert_row(const struct ev_alert *a, void *arg)
{
	struct alert_rows *r = arg;
	char t[EV_TIME_STRLEN];

	if (a->raised_us >= r->since) {
		int64_t d = (a->raised_us - r->since) / (86400LL * 1000000);
		if (d >= 0 && d < 14)
			r->per_day[d]++;
	}
	if (a->ack_seq)
		return 0;
	r->open++;
	if (!r->arr)
		return 0;
	ev_time_format(a->raised_us, t);
	json_array_append_new(r->arr,
	    json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)a->id, "raised", t, "severity",
		a->severity ? a->severity : "", "rule", a->rule ? a->rule : "", "title",
		a->title ? a->title : ""));
	return 0;
}

/* An SVG bar chart of alerts and incidents per day over the last 14 days. */
static void
chart(struct ev_buf *b, const unsigned *alerts, const unsigned *incidents, int64_t since)
{
	unsigned max = 1;
	const int W = 700, H = 160, left = 30, bottom = 20;
	double bw = (double)(W - left) / 14.0;

	for (int i = 0; i < 14; i++) {
		if (alerts[i] > max)
			max = alerts[i];
		if (incidents[i] > max)
			max = incidents[i];
	}
	ev_buf_addf(b, "<svg id=\"chart\" role=\"img\" aria-label=\"alerts and incidents per day\" "
		       "viewBox=\"0 0 %d %d\" width=\"100%%\" height=\"%d\" "
		       "xmlns=\"http://www.w3.org/2000/svg\">", W, H, H);
	ev_buf_addf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", left,
	    H - bottom, W, H - bottom);
	ev_buf_addf(b, "<text x=\"0\" y=\"12\">%u</text><text x=\"0\" y=\"%d\">0</text>", max,
	    H - bottom);
	for (int i = 0; i < 14; i++) {
		double x = left + i * bw;
		double ha = (double)alerts[i] / max * (H - bottom - 10);
		double hi = (double)incidents[i] / max * (H - bottom - 10);
		char t[EV_TIME_STRLEN];
		ev_time_format(since + (int64_t)i * 86400LL * 1000000, t);
		ev_buf_addf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			       "fill=\"#f59e0b\"><title>%.10s: %u alerts</title></rect>",
		    x + 2, H - bottom - ha, bw / 2 - 3, ha, t, alerts[i]);
		ev_buf_addf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			       "fill=\"#b91c1c\"><title>%.10s: %u incidents</title></rect>",
		    x + bw / 2, H - bottom - hi, bw / 2 - 3, hi, t, incidents[i]);
		if (i % 2 == 0)
			ev_buf_addf(b, "<text x=\"%.1f\" y=\"%d\">%.5s</text>", x + 2, H - 5, t + 5);
	}
	ev_buf_adds(b, "</svg><p class=\"muted\"><span class=\"sw-alert\">&#9632;</span> "
		       "alerts <span class=\"sw-inc\">&#9632;</span> incidents opened, "
		       "per day (UTC), last 14 days</p>");
}

static int
gap_cb(const struct ev_source_info *s, void *arg)
{
	json_t *arr = arg;
	int64_t now = ev_time_now_us();
	char t[EV_TIME_STRLEN] = "never";

	if (s->last_seen_us && now - s->last_seen_us < 24LL * 3600 * 1000000)
		return 0;
	if (s->last_seen_us)
		ev_time_format(s->last_seen_us, t);
	json_array_append_new(arr, json_pack("{s:s,s:s}", "name", s->name, "last_seen", t));
	return 0;
}

static void
ledger_health(struct ev_http_req *rq, struct ev_buf *b)
{
	struct ev_checkpoint cp;
	struct ev_verify_cache vc;
	uint64_t size = 0;
	char t[EV_TIME_STRLEN];

	ev_ledger_size(rq->l, &size, NULL);
	ev_buf_addf(b, "<div class=\"card\" id=\"ledger-health\"><h2>Ledger</h2>"
		       "<div class=\"big\">%" PRIu64 "</div><div class=\"muted\">entries</div>", size);
	if (ev_ledger_latest_checkpoint(rq->l, &cp, NULL) == EV_OK) {
		ev_time_format(cp.time_us, t);
		ev_buf_addf(b, "<p>Last checkpoint: size %" PRIu64 ", %s (%.1f h ago)</p>", cp.size, t,
		    (double)(ev_time_now_us() - cp.time_us) / 3.6e9);
	} else
		ev_buf_adds(b, "<p class=\"error\">No checkpoint yet.</p>");
	ev_http_verify_get(rq->srv, &vc);
	if (!vc.run)
		ev_buf_adds(b, "<p class=\"muted\">Not verified since the server started.</p>");
	else {
		ev_time_format(vc.at_us, t);
		ev_buf_addf(b, "<p class=\"%s\">Verification %s at %s: ", vc.ok ? "ok" : "error",
		    vc.ok ? "passed" : "FAILED", t);
		ev_html_esc(b, vc.message);
		ev_buf_adds(b, "</p>");
	}
	ev_buf_adds(b, "</div>");
}

void
ev_page_dashboard(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_buf *b = &rs->body;
	struct alert_rows ar = { 0 };
	struct ev_err err = { 0 };
	json_t *inc = NULL, *all_inc = NULL, *clocks = NULL, *gaps = json_array(), *x;
	unsigned inc_days[14] = { 0 };
	int64_t now = ev_time_now_us();
	size_t i;

	ar.arr = json_array();
	ar.since = (now / (86400LL * 1000000) - 13) * 86400LL * 1000000;
	page_begin(rq, rs, "Dashboard");
	if (ev_incident_list(rq->l, 0, NULL, &all_inc, &err) != EV_OK ||
	    ev_clocks_list(rq->l, now, 0, 0, &clocks, &err) != EV_OK ||
	    ev_alerts_list(rq->l, 0, alert_row, &ar, &err) != EV_OK ||
	    ev_sources_list(rq->l, gap_cb, gaps, &err) != EV_OK) {
		notice(b, "error", err.msg);
		goto out;
	}
	inc = json_array();
	json_array_foreach(all_inc, i, x) {
		int64_t t;
		const char *o = ev_json_str(x, "opened_at");
		if (o && ev_time_parse(o, &t) == 0 && t >= ar.since && (t - ar.since) / 86400000000LL < 14)
			inc_days[(t - ar.since) / 86400000000LL]++;
		if (json_is_null(json_object_get(x, "closed_at")))
			json_array_append(inc, x);
	}
	ev_buf_addf(b, "<div class=\"grid\"><div class=\"card\"><h2>Open incidents</h2>"
		       "<div class=\"big\" id=\"open-incidents\">%zu</div></div>"
		       "<div class=\"card\"><h2>Open alerts</h2><div class=\"big\" "
		       "id=\"open-alerts\">%zu</div></div>",
	    json_array_size(inc), ar.open);
	ledger_health(rq, b);
	ev_buf_adds(b, "</div><h2>Open incidents</h2>");
	if (!json_array_size(inc))
		ev_buf_adds(b, "<p class=\"muted\">None.</p>");
	else {
		ev_buf_adds(b, "<table id=\"incidents\"><thead><tr><th>Incident</th><th>Title</th>"
			       "<th>Stage</th><th>Severity</th><th>Clocks</th></tr></thead><tbody>");
		json_array_foreach(inc, i, x) {
			const char *id = ev_json_str(x, "id");
			size_t j;
			json_t *c;
			ev_buf_adds(b, "<tr><td><a href=\"/incidents/");
			ev_html_esc(b, id);
			ev_buf_adds(b, "\">");
			ev_html_esc(b, id);
			ev_buf_adds(b, "</a></td><td>");
			esc_json(b, json_object_get(x, "title"));
			ev_buf_adds(b, "</td><td>");
			esc_json(b, json_object_get(x, "stage"));
			ev_buf_adds(b, "</td><td>");
			esc_json(b, json_object_get(x, "severity"));
			ev_buf_adds(b, "</td><td>");
			json_array_foreach(clocks, j, c) {
				if (strcmp(ev_json_str(c, "incident") ? ev_json_str(c, "incident") : "",
					id ? id : "") != 0)
					continue;
				ev_buf_adds(b, "<div>");
				esc_json(b, json_object_get(c, "clock"));
				ev_buf_adds(b, ": <span class=\"countdown ");
				esc_json(b, json_object_get(c, "state"));
				ev_buf_adds(b, "\" data-due=\"");
				esc_json(b, json_object_get(c, "due"));
				ev_buf_adds(b, "\">due ");
				esc_json(b, json_object_get(c, "due"));
				ev_buf_adds(b, "</span></div>");
			}
			ev_buf_adds(b, "</td></tr>");
		}
		ev_buf_adds(b, "</tbody></table>");
	}
	ev_buf_adds(b, "<h2>Open alerts</h2>");
	{
		static const char *const cols[] = { "id", "Alert", "raised", "Raised", "severity",
			"Severity", "rule", "Rule", "title", "Title", NULL };
		json_table(b, ar.arr, cols, "open-alerts-table");
	}
	ev_buf_adds(b, "<h2>Log sources without lines in the last 24 hours</h2>");
	{
		static const char *const cols[] = { "name", "Source", "last_seen", "Last line", NULL };
		json_table(b, gaps, cols, "coverage-gaps");
	}
	ev_buf_adds(b, "<h2>Alerts and incidents over time</h2>");
	chart(b, ar.per_day, inc_days, ar.since);
out:
	json_decref(inc);
	json_decref(all_inc);
	json_decref(clocks);
	json_decref(gaps);
	json_decref(ar.arr);
	page_end(rs);
}

/* ---- ledger ---- */

static int
cp_row(const struct ev_entry *e, void *arg)
{
	char t[EV_TIME_STRLEN];
	json_t *body = json_loadb(e->body, e->body_len, 0, NULL);

	ev_time_format(e->time_us, t);
	json_array_append_new(arg, json_pack("{s:I,s:s,s:s,s:o,s:o}", "seq", (json_int_t)e->seq,
				       "time", t, "actor", e->actor, "size",
				       json_incref(json_object_get(body, "size")), "root",
				       json_incref(json_object_get(body, "root"))));
	json_decref(body);
	return 0;
}

static int
recent_row(const struct ev_entry *e, void *arg)
{
	char t[EV_TIME_STRLEN];

	ev_time_format(e->time_us, t);
	json_array_append_new(arg, json_pack("{s:I,s:s,s:s,s:s,s:s}", "seq", (json_int_t)e->seq,
				       "time", t, "kind", e->kind, "subject", e->subject, "actor",
				       e->actor));
	return 0;
}

static void
ledger_page(struct ev_http_req *rq, struct ev_http_resp *rs, const char *msg, int bad)
{
	struct ev_buf *b = &rs->body;
	struct ev_query q = { 0 };
	json_t *cps = json_array(), *recent = json_array(), *x;
	size_t i;

	page_begin(rq, rs, "Ledger");
	if (msg)
		notice(b, bad ? "error" : "ok", msg);
	ledger_health(rq, b);
	ev_buf_adds(b, "<p><form method=\"post\" action=\"/ledger/verify\" class=\"inline\" "
		       "id=\"verify-form\">");
	csrf_field(rq, b);
	ev_buf_adds(b, "<button type=\"submit\">Verify now</button></form> ");
	if (ev_http_allowed("POST", "/ledger/checkpoint", rq->who.role_bit)) {
		ev_buf_adds(b, "<form method=\"post\" action=\"/ledger/checkpoint\" class=\"inline\" "
			       "id=\"checkpoint-form\">");
		csrf_field(rq, b);
		ev_buf_adds(b, "<button type=\"submit\">Record a checkpoint</button></form>");
	}
	ev_buf_adds(b, "</p>"
		       "<form method=\"get\" action=\"/entries/0\" id=\"entry-form\" class=\"muted\">"
		       "Entries: see the most recent below, or open <code>/entries/SEQ</code>.</form>"
		       "<h2>Checkpoints</h2>");
	q.kind = "checkpoint";
	q.descending = 1;
	q.limit = 20;
	ev_ledger_scan(rq->l, &q, cp_row, cps, NULL);
	{
		static const char *const cols[] = { "seq", "Entry", "time", "Time", "size", "Size",
			"root", "Root", "actor", "By", NULL };
		json_table(b, cps, cols, "checkpoints");
	}
	ev_buf_adds(b, "<h2>Recent entries</h2>");
	memset(&q, 0, sizeof(q));
	q.descending = 1;
	q.limit = 30;
	ev_ledger_scan(rq->l, &q, recent_row, recent, NULL);
	if (!json_array_size(recent))
		ev_buf_adds(b, "<p class=\"muted\">None.</p>");
	else {
		ev_buf_adds(b, "<table id=\"recent\"><thead><tr><th>Seq</th><th>Time</th><th>Kind</th>"
			       "<th>Subject</th><th>Actor</th></tr></thead><tbody>");
		json_array_foreach(recent, i, x) {
			ev_buf_addf(b, "<tr><td><a href=\"/entries/%" JSON_INTEGER_FORMAT "\">%"
				       JSON_INTEGER_FORMAT "</a></td><td>",
			    json_integer_value(json_object_get(x, "seq")),
			    json_integer_value(json_object_get(x, "seq")));
			esc_json(b, json_object_get(x, "time"));
			ev_buf_adds(b, "</td><td>");
			esc_json(b, json_object_get(x, "kind"));
			ev_buf_adds(b, "</td><td>");
			esc_json(b, json_object_get(x, "subject"));
			ev_buf_adds(b, "</td><td>");
			esc_json(b, json_object_get(x, "actor"));
			ev_buf_adds(b, "</td></tr>");
		}
		ev_buf_adds(b, "</tbody></table>");
	}
	json_decref(cps);
	json_decref(recent);
	page_end(rs);
}

void
ev_page_ledger(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	ledger_page(rq, rs, NULL, 0);
}

void
ev_page_ledger_verify(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_verify_cache c;

	if (ev_http_verify_run(rq, &c) != EV_OK || !c.ok)
		ledger_page(rq, rs, c.message, 1);
	else
		ledger_page(rq, rs, "Verification passed.", 0);
}

void
ev_page_ledger_checkpoint(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_checkpoint cp;
	struct ev_err err = { 0 };
	char msg[128];

	if (ev_ledger_checkpoint(rq->l, rq->who.user, &cp, &err) != EV_OK) {
		ledger_page(rq, rs, err.msg, 1);
		rs->status = 500;
		return;
	}
	snprintf(msg, sizeof(msg), "Checkpoint recorded: size %" PRIu64 ", entry %" PRIu64 ".",
	    cp.size, cp.seq);
	ledger_page(rq, rs, msg, 0);
}

static int
entry_html(const struct ev_entry *e, void *arg)
{
	struct ev_buf *b = arg;
	char t[EV_TIME_STRLEN], h[65];
	json_t *body = json_loadb(e->body, e->body_len, 0, NULL);
	char *pretty = body ? json_dumps(body, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;

	ev_time_format(e->time_us, t);
	ev_hex_encode(e->leaf_hash, 32, h);
	ev_buf_addf(b, "<table id=\"entry\"><tr><th>Seq</th><td>%" PRIu64 "</td></tr><tr><th>Time</th>"
		       "<td>%s</td></tr><tr><th>Kind</th><td>", e->seq, t);
	ev_html_esc(b, e->kind);
	ev_buf_adds(b, "</td></tr><tr><th>Subject</th><td>");
	ev_html_esc(b, e->subject);
	ev_buf_adds(b, "</td></tr><tr><th>Actor</th><td>");
	ev_html_esc(b, e->actor);
	ev_buf_addf(b, "</td></tr><tr><th>Leaf hash</th><td><code>%s</code></td></tr></table>"
		       "<h2>Body</h2><pre>", h);
	ev_html_esc(b, pretty ? pretty : "");
	ev_buf_adds(b, "</pre>");
	free(pretty);
	json_decref(body);
	return 0;
}

void
ev_page_entry(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_buf *b = &rs->body;
	struct ev_err err = { 0 };
	uint8_t leaf[EV_HASH_LEN], root[EV_HASH_LEN], proof[EV_MERKLE_MAX_PROOF][EV_HASH_LEN];
	char hex[65];
	uint64_t seq = 0, size = 0;
	size_t n = 0;
	char *end;

	seq = strtoull(rq->params[0], &end, 10);
	page_begin(rq, rs, "Ledger entry");
	if (*end || seq == 0 || ev_ledger_get(rq->l, seq, entry_html, b, &err) != EV_OK) {
		rs->status = 404;
		notice(b, "error", "No such entry.");
		page_end(rs);
		return;
	}
	if (ev_ledger_size(rq->l, &size, &err) == EV_OK &&
	    ev_ledger_prove_inclusion(rq->l, seq, size, leaf, root, proof, &n, &err) == EV_OK) {
		ev_hex_encode(root, EV_HASH_LEN, hex);
		ev_buf_addf(b, "<h2>Inclusion proof</h2><p>Leaf index %" PRIu64 " in the tree of size %"
			       PRIu64 " with root <code id=\"proof-root\">%s</code> (RFC 9162 audit path, "
			       "%zu hashes):</p><ol id=\"proof\">", seq - 1, size, hex, n);
		for (size_t i = 0; i < n; i++) {
			ev_hex_encode(proof[i], EV_HASH_LEN, hex);
			ev_buf_addf(b, "<li><code>%s</code></li>", hex);
		}
		ev_buf_addf(b, "</ol><p class=\"muted\">JSON: <a href=\"/api/entries/%" PRIu64
			       "?proof=1\">/api/entries/%" PRIu64 "?proof=1</a></p>", seq, seq);
	}
	page_end(rs);
}

/* ---- alerts ---- */

static int
alert_html(const struct ev_alert *a, void *arg)
{
	struct ev_http_req *rq = ((void **)arg)[0];
	struct ev_buf *b = ((void **)arg)[1];
	char t[EV_TIME_STRLEN];
	int can_ack = ev_http_allowed("POST", "/alerts/{id}/ack", rq->who.role_bit);

	ev_time_format(a->raised_us, t);
	ev_buf_addf(b, "<tr id=\"alert-%" PRIu64 "\"><td>%" PRIu64 "</td><td>%s</td><td>", a->id, a->id,
	    t);
	ev_html_esc(b, a->severity);
	ev_buf_adds(b, "</td><td>");
	ev_html_esc(b, a->title);
	ev_buf_adds(b, "<div class=\"muted\">");
	ev_html_esc(b, a->why);
	ev_buf_adds(b, "</div></td><td>");
	if (a->ack_seq) {
		ev_html_esc(b, a->disposition);
		ev_buf_adds(b, " by ");
		ev_html_esc(b, a->ack_by);
		ev_buf_adds(b, ": ");
		ev_html_esc(b, a->note);
	} else if (can_ack) {
		ev_buf_addf(b, "<form method=\"post\" action=\"/alerts/%" PRIu64 "/ack\">", a->id);
		csrf_field(rq, b);
		ev_buf_adds(b, "<select name=\"disposition\" aria-label=\"disposition\">"
			       "<option>false-positive</option><option>benign</option>"
			       "<option>escalated</option></select><input name=\"note\" "
			       "aria-label=\"note\" placeholder=\"note\" required>"
			       "<button type=\"submit\">Acknowledge</button></form>");
	} else
		ev_buf_adds(b, "open");
	ev_buf_adds(b, "</td></tr>");
	return 0;
}

static void
alerts_page(struct ev_http_req *rq, struct ev_http_resp *rs, unsigned status, const char *msg)
{
	struct ev_buf *b = &rs->body;
	struct ev_err err = { 0 };
	const char *all = ev_http_arg(rq, "all");
	void *args[2] = { rq, b };

	page_begin(rq, rs, "Alerts");
	rs->status = status;
	if (msg)
		notice(b, status < 300 ? "ok" : "error", msg);
	ev_buf_adds(b, all ? "<p><a href=\"/alerts\">Open alerts only</a></p>"
			   : "<p><a href=\"/alerts?all=1\">All alerts</a></p>");
	ev_buf_adds(b, "<table id=\"alerts\"><thead><tr><th>Id</th><th>Raised</th><th>Severity</th>"
		       "<th>Alert</th><th>Follow-up</th></tr></thead><tbody>");
	if (ev_alerts_list(rq->l, all == NULL, alert_html, args, &err) != EV_OK)
		notice(b, "error", err.msg);
	ev_buf_adds(b, "</tbody></table>");
	page_end(rs);
}

void
ev_page_alerts(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	alerts_page(rq, rs, 200, NULL);
}

void
ev_page_alert_ack(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_err err = { 0 };
	const char *d = ev_http_form(rq, "disposition"), *note = ev_http_form(rq, "note");
	uint64_t id, seq = 0;
	char *end;

	id = strtoull(rq->params[0], &end, 10);
	if (*end || !d || !note || !ev_alerts_disposition_ok(d) || !*note ||
	    strlen(note) > EV_TEXT_MAX) {
		alerts_page(rq, rs, 400, "Choose a disposition and write a note.");
		return;
	}
	if (ev_alerts_ack(rq->l, id, rq->who.user, d, note, rq->who.user, &seq, &err) != EV_OK) {
		alerts_page(rq, rs, err.code == EV_ENOTFOUND ? 404 : err.code == EV_ESTATE ? 409 : 400,
		    err.msg);
		return;
	}
	ev_http_redirect(rs, "/alerts");
}

/* ---- incidents ---- */

void
ev_page_incidents(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const cols[] = { "id", "Incident", "title", "Title", "stage", "Stage",
		"severity", "Severity", "opened_at", "Opened", "closed_at", "Closed", NULL };
	struct ev_buf *b = &rs->body;
	struct ev_err err = { 0 };
	json_t *all = NULL, *x;
	size_t i;
	int can_open = ev_http_allowed("POST", "/incidents", rq->who.role_bit);

	page_begin(rq, rs, "Incidents");
	if (ev_incident_list(rq->l, 0, NULL, &all, &err) != EV_OK) {
		notice(b, "error", err.msg);
		page_end(rs);
		return;
	}
	if (!json_array_size(all))
		ev_buf_adds(b, "<p class=\"muted\">None.</p>");
	else {
		ev_buf_adds(b, "<table id=\"incident-list\"><thead><tr>");
		for (const char *const *c = cols; *c; c += 2)
			ev_buf_addf(b, "<th>%s</th>", c[1]);
		ev_buf_adds(b, "</tr></thead><tbody>");
		json_array_foreach(all, i, x) {
			ev_buf_adds(b, "<tr><td><a href=\"/incidents/");
			esc_json(b, json_object_get(x, "id"));
			ev_buf_adds(b, "\">");
			esc_json(b, json_object_get(x, "id"));
			ev_buf_adds(b, "</a></td>");
			for (const char *const *c = cols + 2; *c; c += 2) {
				ev_buf_adds(b, "<td>");
				esc_json(b, json_object_get(x, c[0]));
				ev_buf_adds(b, "</td>");
			}
			ev_buf_adds(b, "</tr>");
		}
		ev_buf_adds(b, "</tbody></table>");
	}
	json_decref(all);
	if (can_open) {
		ev_buf_adds(b, "<h2>Open an incident</h2><form method=\"post\" "
			       "action=\"/incidents\" id=\"open-form\">");
		csrf_field(rq, b);
		ev_buf_adds(b, "<label for=\"title\">Title</label><input id=\"title\" name=\"title\" "
			       "required><p><button type=\"submit\">Open</button></p></form>");
	}
	page_end(rs);
}

static const char *const stage_names[] = { "detect-triage", "classify-escalate",
	"respond-document", "report-notify", "recover-preserve", "review-correct", "closed", NULL };

/* The form of each step (who may use it is the route table's business). */
struct form_field {
	const char *name, *label, *opts; /* opts: "a|b|c" for a select, NULL for text */
};
struct step_form {
	const char *step, *title;
	struct form_field f[6];
};

static const struct step_form step_forms[] = {
	{ "classify", "Classify",
	    { { "severity", "Severity", "low|medium|high|critical" },
		{ "category", "Category", NULL },
		{ "significant", "Significant impact", "yes|no|undetermined" },
		{ "reason", "Reason", NULL }, { NULL, NULL, NULL } } },
	{ "escalate", "Escalate",
	    { { "to", "To (role or person)", NULL }, { "reason", "Reason", NULL },
		{ NULL, NULL, NULL } } },
	{ "assign", "Assign owner",
	    { { "owner", "Owner", NULL }, { NULL, NULL, NULL } } },
	{ "act", "Record a response action",
	    { { "type", "Type", "containment|eradication|recovery|communication|decision" },
		{ "note", "What was done and why", NULL }, { NULL, NULL, NULL } } },
	{ "continuity", "Continuity",
	    { { "state", "State", "activated|restored" }, { "plan", "Plan (when activated)", NULL },
		{ "note", "Note", NULL }, { NULL, NULL, NULL } } },
	{ "notify", "Record a notice sent",
	    { { "to", "To", "supervisory-body|csirt|affected-persons|customers|other" },
		{ "clock", "Clock it answers", NULL }, { "ref", "Reference", NULL },
		{ "note", "What was said", NULL }, { NULL, NULL, NULL } } },
	{ "review", "Post-incident review",
	    { { "root_cause", "Root cause", NULL }, { "actions", "Corrective action", NULL },
		{ "vulnerability_exposure", "Vulnerability exposure", NULL }, { NULL, NULL, NULL } } },
	{ "approve", "Approve the review",
	    { { NULL, NULL, NULL } } },
	{ "close", "Close",
	    { { "note", "Closing note", NULL }, { NULL, NULL, NULL } } },
};

static void
incident_page(struct ev_http_req *rq, struct ev_http_resp *rs, unsigned status, const char *msg)
{
	struct ev_buf *b = &rs->body;
	struct ev_err err = { 0 };
	const char *id = rq->params[0], *stage;
	json_t *inc = NULL;
	int reached = 1;

	page_begin(rq, rs, "Incident");
	rs->status = status;
	if (msg)
		notice(b, status < 300 ? "ok" : "error", msg);
	if (!ev_incident_id_valid(id) || ev_incident_show(rq->l, id, ev_time_now_us(), &inc, &err) != EV_OK) {
		rs->status = 404;
		notice(b, "error", "No such incident.");
		page_end(rs);
		return;
	}
	stage = ev_json_str(inc, "stage");
	ev_buf_adds(b, "<h2 id=\"incident-title\">");
	ev_html_esc(b, id);
	ev_buf_adds(b, ": ");
	esc_json(b, json_object_get(inc, "title"));
	ev_buf_adds(b, "</h2><div class=\"stages\" id=\"stage-bar\">");
	for (int i = 0; stage_names[i]; i++) {
		int cur = stage && strcmp(stage, stage_names[i]) == 0;
		ev_buf_addf(b, "<span class=\"%s\">%s</span>", cur ? "current" : reached ? "done" : "",
		    stage_names[i]);
		if (cur)
			reached = 0;
	}
	ev_buf_adds(b, "</div><table><tr><th>Owner</th><td>");
	esc_json(b, json_object_get(inc, "owner"));
	ev_buf_adds(b, "</td></tr><tr><th>Severity</th><td>");
	esc_json(b, json_object_get(inc, "severity"));
	ev_buf_adds(b, "</td></tr><tr><th>Category</th><td>");
	esc_json(b, json_object_get(inc, "category"));
	ev_buf_adds(b, "</td></tr><tr><th>Significant</th><td>");
	esc_json(b, json_object_get(inc, "significant"));
	ev_buf_adds(b, "</td></tr><tr><th>Aware at</th><td>");
	esc_json(b, json_object_get(inc, "aware_at"));
	ev_buf_adds(b, "</td></tr></table><h2>Clocks</h2>");
	{
		json_t *clocks = json_object_get(inc, "clocks"), *c;
		size_t i;
		if (!json_array_size(clocks))
			ev_buf_adds(b, "<p class=\"muted\">None running.</p>");
		else {
			ev_buf_adds(b, "<table id=\"clocks\"><thead><tr><th>Clock</th><th>Due</th>"
				       "<th>State</th><th>Left</th></tr></thead><tbody>");
			json_array_foreach(clocks, i, c) {
				const char *st = ev_json_str(c, "state");
				ev_buf_adds(b, "<tr><td>");
				esc_json(b, json_object_get(c, "clock"));
				ev_buf_adds(b, "<div class=\"muted\">");
				esc_json(b, json_object_get(c, "title"));
				ev_buf_adds(b, "</div></td><td>");
				esc_json(b, json_object_get(c, "due"));
				ev_buf_adds(b, "</td><td>");
				ev_html_esc(b, st);
				ev_buf_adds(b, "</td><td>");
				if (st && strcmp(st, "stopped") != 0) {
					ev_buf_adds(b, "<span class=\"countdown\" data-due=\"");
					esc_json(b, json_object_get(c, "due"));
					ev_buf_adds(b, "\"></span>");
				}
				ev_buf_adds(b, "</td></tr>");
			}
			ev_buf_adds(b, "</tbody></table>");
		}
	}
	ev_buf_adds(b, "<h2>Classification history</h2>");
	{
		static const char *const cols[] = { "time", "Time", "actor", "By", "severity",
			"Severity", "category", "Category", "significant", "Significant", "reason",
			"Reason", NULL };
		json_table(b, json_object_get(inc, "classifications"), cols, "classifications");
	}
	ev_buf_adds(b, "<h2>Timeline</h2>");
	{
		static const char *const cols[] = { "seq", "Entry", "time", "Time", "kind", "Step",
			"actor", "By", "summary", "Summary", NULL };
		json_table(b, json_object_get(inc, "timeline"), cols, "timeline");
	}
	if (stage && strcmp(stage, "closed") != 0) {
		ev_buf_adds(b, "<h2>Actions</h2><div class=\"grid\">");
		for (size_t i = 0; i < sizeof(step_forms) / sizeof(step_forms[0]); i++) {
			const struct step_form *sf = &step_forms[i];
			char pat[64];
			snprintf(pat, sizeof(pat), "/incidents/{id}/%s", sf->step);
			if (!ev_http_allowed("POST", pat, rq->who.role_bit))
				continue;
			ev_buf_addf(b, "<form class=\"card\" method=\"post\" action=\"/incidents/");
			ev_html_esc(b, id);
			ev_buf_addf(b, "/%s\" id=\"form-%s\"><h3>%s</h3>", sf->step, sf->step, sf->title);
			csrf_field(rq, b);
			for (const struct form_field *f = sf->f; f->name; f++) {
				ev_buf_addf(b, "<label for=\"%s-%s\">%s</label>", sf->step, f->name, f->label);
				if (strcmp(sf->step, "notify") == 0 && strcmp(f->name, "clock") == 0) {
					/* The running clocks of this incident: a notice answers one. */
					json_t *ck;
					size_t j;
					ev_buf_addf(b, "<select id=\"%s-%s\" name=\"%s\">", sf->step, f->name,
					    f->name);
					json_array_foreach(json_object_get(inc, "clocks"), j, ck) {
						const char *cs = ev_json_str(ck, "state");
						if (cs && strcmp(cs, "stopped") == 0)
							continue;
						ev_buf_adds(b, "<option>");
						esc_json(b, json_object_get(ck, "clock"));
						ev_buf_adds(b, "</option>");
					}
					ev_buf_adds(b, "</select>");
				} else if (f->opts) {
					char opts[128], *save = NULL;
					snprintf(opts, sizeof(opts), "%s", f->opts);
					ev_buf_addf(b, "<select id=\"%s-%s\" name=\"%s\">", sf->step, f->name,
					    f->name);
					for (char *o = strtok_r(opts, "|", &save); o;
					     o = strtok_r(NULL, "|", &save))
						ev_buf_addf(b, "<option>%s</option>", o);
					ev_buf_adds(b, "</select>");
				} else
					ev_buf_addf(b, "<input id=\"%s-%s\" name=\"%s\">", sf->step, f->name,
					    f->name);
			}
			ev_buf_addf(b, "<p><button type=\"submit\">%s</button></p></form>", sf->title);
		}
		ev_buf_adds(b, "</div>");
	}
	json_decref(inc);
	page_end(rs);
}

void
ev_page_incident(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	incident_page(rq, rs, 200, NULL);
}

void
ev_page_incident_step(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	const char *step;
	const struct step_form *sf = NULL;
	struct ev_err err = { 0 };
	char newid[32], loc[64];
	uint64_t seq;
	json_t *body;
	const char *k;
	json_t *v;
	/* POST /incidents opens one; POST /incidents/{id}/{step} takes a step (the route
	 * table has already checked the role for this very step). */
	int opening = rq->params[0] == NULL;

	if (opening)
		step = "open";
	else {
		step = strrchr(rq->url, '/') + 1;
		for (size_t i = 0; i < sizeof(step_forms) / sizeof(step_forms[0]); i++)
			if (strcmp(step_forms[i].step, step) == 0)
				sf = &step_forms[i];
		if (!sf) {
			incident_page(rq, rs, 404, "No such step.");
			return;
		}
	}
	if (ev_http_parse_form(rq) != 0) {
		incident_page(rq, rs, 400, "The form could not be read.");
		return;
	}
	/* Form fields become the step's JSON body; empty fields are left out. */
	body = json_object();
	json_object_foreach(rq->form, k, v) {
		const char *s = json_string_value(v);
		if (strcmp(k, "csrf") == 0 || !s || !*s)
			continue;
		if (strcmp(k, "actions") == 0)
			json_object_set_new(body, k, json_pack("[s]", s));
		else
			json_object_set_new(body, k, json_string(s));
	}
	if (!opening && !ev_incident_id_valid(rq->params[0])) {
		json_decref(body);
		incident_page(rq, rs, 404, "No such incident.");
		return;
	}
	if (ev_api_incident_record(rq, step, opening ? NULL : rq->params[0], body, newid, &seq,
		&err) != EV_OK) {
		json_decref(body);
		if (opening) {
			page_begin(rq, rs, "Incidents");
			rs->status = 400;
			notice(&rs->body, "error", err.msg);
			page_end(rs);
		} else
			incident_page(rq, rs, err.code == EV_ENOTFOUND ? 404 : err.code == EV_EIO ? 500
			    : err.code == EV_EINVAL ? 400 : 409, err.msg);
		return;
	}
	json_decref(body);
	snprintf(loc, sizeof(loc), "/incidents/%s", newid);
	ev_http_redirect(rs, loc);
}

/* ---- public report ---- */

static void
report_form(struct ev_http_req *rq, struct ev_http_resp *rs, unsigned status, const char *msg,
    int bad)
{
	struct ev_buf *b = &rs->body;

	page_begin(rq, rs, "Report a security problem");
	rs->status = status;
	if (msg)
		notice(b, bad ? "error" : "ok", msg);
	ev_buf_adds(b, "<p>Tell us about a security problem or incident affecting our trust "
		       "services. No account is needed. You get a reference number.</p>"
		       "<form method=\"post\" action=\"/report\" id=\"report-form\">"
		       "<label for=\"contact\">How to reach you (optional)</label>"
		       "<input id=\"contact\" name=\"contact\" maxlength=\"256\">"
		       "<label for=\"description\">What happened</label>"
		       "<textarea id=\"description\" name=\"description\" rows=\"8\" maxlength=\"8192\" "
		       "required></textarea><p><button type=\"submit\">Send report</button></p></form>");
	page_end(rs);
}

void
ev_page_report(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	report_form(rq, rs, 200, NULL, 0);
}

void
ev_page_report_post(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_limiter *lim = ev_http_report_limiter(rq->srv);
	const char *desc, *contact;
	char key[96], actor[80], ahash[65], ref[32], msg[160], *text;
	struct ev_err err = { 0 };
	uint64_t seq = 0;
	int64_t now = ev_time_now_us();
	json_t *body;

	snprintf(key, sizeof(key), "report:%s", rq->addr);
	if (ev_limiter_over(lim, key, now)) {
		report_form(rq, rs, 429, "Too many reports from your address. Try again later.", 1);
		rs->retry_after = 3600;
		return;
	}
	if (ev_http_parse_form(rq) != 0 || !(desc = ev_http_form(rq, "description")) || !*desc ||
	    strlen(desc) > EV_TEXT_MAX) {
		report_form(rq, rs, 400, "Describe what happened (up to 8192 characters).", 1);
		return;
	}
	contact = ev_http_form(rq, "contact");
	if (contact && strlen(contact) > 256) {
		report_form(rq, rs, 400, "The contact is too long.", 1);
		return;
	}
	{
		const char *kk;
		json_t *vv;
		json_object_foreach(rq->form, kk, vv) {
			if (strcmp(kk, "description") != 0 && strcmp(kk, "contact") != 0) {
				report_form(rq, rs, 400, "Unknown form field.", 1);
				return;
			}
		}
	}
	ev_limiter_add(lim, key, now);
	/* The reporter's address is kept as a hash: enough to group, not to identify. */
	ev_auth_sha256_hex(rq->addr, strlen(rq->addr), ahash);
	snprintf(actor, sizeof(actor), "public:%.16s", ahash);
	if (ev_auth_random_hex(6, ref + 4) != 0) {
		report_form(rq, rs, 500, "Could not take the report.", 1);
		return;
	}
	memcpy(ref, "rpt-", 4);
	body = json_pack("{s:s,s:s}", "reference", ref, "description", desc);
	if (contact && *contact)
		json_object_set_new(body, "contact", json_string(contact));
	text = ev_json_dump(body);
	json_decref(body);
	{
		/* The report, and an alert so that monitoring triages it (EN 319 401 7.9.1). */
		struct ev_buf ab = EV_BUF_INIT;
		struct ev_entry_in in[2];
		ev_buf_adds(&ab, "{\"group\":null,\"log_seq\":[],\"reference\":");
		ev_buf_add_json_str(&ab, ref, strlen(ref));
		ev_buf_adds(&ab, ",\"rule\":\"public-report\",\"severity\":\"medium\",\"source\":null,"
				 "\"tags\":[\"report\"],\"title\":\"Public report received\","
				 "\"why\":\"a report arrived through the public reporting page\"}");
		in[0] = (struct ev_entry_in){ "report.received", "reports", actor, text, 0 };
		in[1] = (struct ev_entry_in){ "alert.raised", "alerts", "rule:public-report", ab.p, ab.len };
		if (ev_ledger_append(rq->l, in, 2, &seq, &err) != EV_OK) {
			free(text);
			ev_buf_free(&ab);
			report_form(rq, rs, 500, "Could not take the report.", 1);
			return;
		}
		ev_buf_free(&ab);
	}
	free(text);
	snprintf(msg, sizeof(msg), "Thank you. Your reference number is %s (entry %" PRIu64 ").", ref,
	    seq - 1);
	report_form(rq, rs, 201, msg, 0);
}

/* ---- compliance ---- */

/*
 * The requirement index as a table: each EN 319 401 requirement, its control
 * and owner, its status, and links to the ledger entries that evidence it
 * (the most recent ten).  ?clause=7.9 narrows to a clause.
 */
void
ev_page_compliance(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_buf *b = &rs->body;
	struct ev_err err = { 0 };
	const char *clause = ev_http_arg(rq, "clause");
	json_t *idx = ev_http_compliance_index(rq, &err), *reqs, *r, *tot, *v;
	const char *k;
	size_t i, n;

	page_begin(rq, rs, "Compliance: EN 319 401 requirements");
	if (idx == NULL) {
		notice(b, "error", err.msg[0] ? err.msg : "the requirement index could not be built");
		page_end(rs);
		return;
	}
	tot = json_object_get(json_object_get(idx, "summary"), "total");
	ev_buf_adds(b, "<div class=\"grid\" id=\"compliance-summary\">");
	json_object_foreach(tot, k, v) {
		ev_buf_adds(b, "<div class=\"card\"><div class=\"big\">");
		esc_json(b, v);
		ev_buf_adds(b, "</div>");
		ev_html_esc(b, k);
		ev_buf_adds(b, "</div>");
	}
	ev_buf_adds(b, "</div><form method=\"get\" action=\"/compliance\"><label for=\"clause\">"
		       "Clause</label><input id=\"clause\" name=\"clause\" value=\"");
	ev_html_esc(b, clause ? clause : "");
	ev_buf_adds(b, "\" placeholder=\"e.g. 7.9\"> <button type=\"submit\">Show</button></form>");
	reqs = json_object_get(idx, "requirements");
	ev_buf_adds(b, "<table id=\"requirements\"><thead><tr><th>Requirement</th><th>Clause</th>"
		       "<th>Topic</th><th>Status</th><th>Control</th><th>Owner</th><th>Latest</th>"
		       "<th>Evidence</th></tr></thead><tbody>");
	n = 0;
	json_array_foreach(reqs, i, r) {
		const char *c = json_string_value(json_object_get(r, "clause"));
		const char *st = json_string_value(json_object_get(r, "status"));
		json_t *ev = json_object_get(r, "evidence"), *seq;
		size_t j, len = clause ? strlen(clause) : 0;

		if (clause && !(c && strncmp(c, clause, len) == 0 && (c[len] == '\0' || c[len] == '.')))
			continue;
		n++;
		ev_buf_adds(b, "<tr><td title=\"");
		esc_json(b, json_object_get(r, "narrative"));
		ev_buf_adds(b, "\">");
		esc_json(b, json_object_get(r, "id"));
		ev_buf_adds(b, "</td><td>");
		esc_json(b, json_object_get(r, "clause"));
		ev_buf_adds(b, "</td><td>");
		esc_json(b, json_object_get(r, "topic"));
		ev_buf_addf(b, "</td><td class=\"%s\">",
		    st && strcmp(st, "evidenced") == 0 ? "ok"
		    : st && (strcmp(st, "missing") == 0 || strcmp(st, "unmapped") == 0) ? "overdue"
		    : st && strcmp(st, "stale") == 0 ? "due-soon" : "muted");
		ev_html_esc(b, st ? st : "");
		if (json_object_get(r, "reason")) {
			ev_buf_adds(b, ": ");
			esc_json(b, json_object_get(r, "reason"));
		}
		ev_buf_adds(b, "</td><td>");
		esc_json(b, json_object_get(r, "control"));
		ev_buf_adds(b, "</td><td>");
		esc_json(b, json_object_get(r, "owner"));
		ev_buf_adds(b, "</td><td>");
		esc_json(b, json_object_get(r, "latest"));
		ev_buf_adds(b, "</td><td>");
		/* the ten most recent evidence entries, newest last as the index lists them */
		j = json_array_size(ev) > 10 ? json_array_size(ev) - 10 : 0;
		for (; j < json_array_size(ev); j++) {
			seq = json_array_get(ev, j);
			if (!json_is_integer(seq))
				continue;
			ev_buf_addf(b, "<a href=\"/entries/%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT
				       "</a> ",
			    json_integer_value(seq), json_integer_value(seq));
		}
		ev_buf_adds(b, "</td></tr>");
	}
	ev_buf_adds(b, "</tbody></table>");
	if (n == 0)
		ev_buf_adds(b, "<p class=\"muted\">No requirement in that clause.</p>");
	json_decref(idx);
	page_end(rs);
}
