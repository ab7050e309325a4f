/*
 * server.c - the HTTP server: libmicrohttpd setup, the route table (the one
 * place where access is decided), authentication, CSRF, body limits, and the
 * pool of ledger handles the worker threads borrow.
 *
 * Threading: MHD runs an internal polling thread and cfg.threads workers
 * (MHD_OPTION_THREAD_POOL_SIZE); a request is handled entirely on one worker.
 * SQLite handles are opened SQLITE_OPEN_NOMUTEX and must never be used by two
 * threads at once, so a request takes a handle from the pool when its body is
 * complete and returns it before its response is queued.  The pool opens at
 * most cfg.threads handles, lazily, and closes them all in ev_http_stop after
 * MHD has joined its threads.
 *
 * Every request passes, in this order: route lookup (404/405), the public
 * report switch (404 when off), the Origin of a browser's POST (403),
 * authentication (401; pages redirect to
 * /login), body size (413), the one-time password gate (403; pages redirect
 * to /password), the role matrix (403), CSRF for POSTs from a cookie session
 * (403), and only then the handler.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "http/internal.h"
#include "incident/incident.h"
#include "util/enc.h"
#include "util/timeutil.h"

/* Role bits, in the order of ev_roles[]. */
#define VIEW (1u << 0)
#define MON (1u << 1)
#define IM (1u << 2)
#define RESP (1u << 3)
#define COMP (1u << 4)
#define CONT (1u << 5)
#define ADM (1u << 6)
#define ANY (VIEW | MON | IM | RESP | COMP | CONT | ADM)

#define F_PUBLIC 0x1  /* no authentication */
#define F_REPORT 0x2  /* public, and only when public_report is on */
#define F_PAGE 0x4    /* HTML: unauthenticated goes to /login, errors are pages */
#define F_ONETIME 0x8 /* allowed while the one-time password is still in use */

struct route {
	const char *method;
	const char *path; /* segments; "{name}" matches one segment */
	unsigned roles;
	unsigned flags;
	ev_http_handler fn;
};

/*
 * THE ROLE MATRIX.  docs/api.md lists it; `evident http --routes` prints it;
 * tests/e2e/t70 walks it to check that nothing but the public rows answers
 * without credentials.  Add a route here and nowhere else.
 */
static const struct route routes[] = {
	{ "GET", "/healthz", 0, F_PUBLIC, ev_api_healthz },
	{ "GET", "/static/app.css", 0, F_PUBLIC, ev_page_css },
	{ "GET", "/static/app.js", 0, F_PUBLIC, ev_page_js },
	{ "GET", "/favicon.ico", 0, F_PUBLIC, ev_page_favicon },
	{ "GET", "/login", 0, F_PUBLIC | F_PAGE, ev_page_login },
	{ "POST", "/login", 0, F_PUBLIC | F_PAGE, ev_page_login_post },
	{ "GET", "/report", 0, F_REPORT | F_PAGE, ev_page_report },
	{ "POST", "/report", 0, F_REPORT | F_PAGE, ev_page_report_post },
	{ "POST", "/logout", ANY, F_PAGE | F_ONETIME, ev_page_logout },
	{ "GET", "/password", ANY, F_PAGE | F_ONETIME, ev_page_password },
	{ "POST", "/password", ANY, F_PAGE | F_ONETIME, ev_page_password_post },
	{ "GET", "/", ANY, F_PAGE, ev_page_dashboard },
	{ "GET", "/ledger", ANY, F_PAGE, ev_page_ledger },
	{ "POST", "/ledger/verify", ANY, F_PAGE, ev_page_ledger_verify },
	{ "POST", "/ledger/checkpoint", MON | COMP | ADM, F_PAGE, ev_page_ledger_checkpoint },
	{ "GET", "/entries/{seq}", ANY, F_PAGE, ev_page_entry },
	{ "GET", "/alerts", ANY, F_PAGE, ev_page_alerts },
	{ "POST", "/alerts/{id}/ack", MON | IM | ADM, F_PAGE, ev_page_alert_ack },
	{ "GET", "/incidents", ANY, F_PAGE, ev_page_incidents },
	{ "GET", "/incidents/{id}", ANY, F_PAGE, ev_page_incident },
	{ "GET", "/compliance", ANY, F_PAGE, ev_page_compliance },
	{ "POST", "/incidents", MON | IM | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/classify", IM | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/escalate", IM | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/assign", IM | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/act", RESP | IM | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/continuity", CONT | IM | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/notify", COMP | IM | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/review", IM | COMP | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/approve", IM | COMP | ADM, F_PAGE, ev_page_incident_step },
	{ "POST", "/incidents/{id}/close", IM | ADM, F_PAGE, ev_page_incident_step },
	{ "GET", "/metrics", ANY, 0, ev_api_metrics },
	{ "GET", "/api/whoami", ANY, F_ONETIME, ev_api_whoami },
	{ "GET", "/api/entries", ANY, 0, ev_api_entries },
	{ "POST", "/api/entries", ADM, 0, ev_api_append },
	{ "GET", "/api/entries/{seq}", ANY, 0, ev_api_entry },
	{ "GET", "/api/verify", ANY, 0, ev_api_verify_get },
	{ "POST", "/api/verify", MON | COMP | ADM, 0, ev_api_verify_post },
	{ "GET", "/api/checkpoints", ANY, 0, ev_api_checkpoints },
	{ "GET", "/tlog/{path*}", ANY, 0, ev_api_tlog },
	{ "POST", "/api/checkpoints", MON | COMP | ADM, 0, ev_api_checkpoint_post },
	{ "GET", "/api/proofs/inclusion", ANY, 0, ev_api_prove_inclusion },
	{ "GET", "/api/proofs/consistency", ANY, 0, ev_api_prove_consistency },
	{ "GET", "/api/alerts", ANY, 0, ev_api_alerts },
	{ "GET", "/api/alerts/{id}", ANY, 0, ev_api_alert },
	{ "POST", "/api/alerts/{id}/ack", MON | IM | ADM, 0, ev_api_alert_ack },
	{ "GET", "/api/incidents", ANY, 0, ev_api_incidents },
	{ "POST", "/api/incidents", MON | IM | ADM, 0, ev_api_incident_open },
	{ "GET", "/api/incidents/{id}", ANY, 0, ev_api_incident },
	{ "POST", "/api/incidents/{id}/classify", IM | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/assess", IM | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/escalate", IM | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/assign", IM | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/act", RESP | IM | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/continuity", CONT | IM | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/notify", COMP | IM | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/review", IM | COMP | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/approve", IM | COMP | ADM, 0, ev_api_incident_step },
	{ "POST", "/api/incidents/{id}/close", IM | ADM, 0, ev_api_incident_step },
	{ "GET", "/api/clocks", ANY, 0, ev_api_clocks },
	{ "GET", "/api/sources", ANY, 0, ev_api_sources },
	{ "POST", "/api/sources", MON | ADM, 0, ev_api_source_register },
	{ "GET", "/api/rules", ANY, 0, ev_api_rules },
	{ "GET", "/api/compliance", ANY, 0, ev_api_compliance },
	{ "GET", "/api/users", ADM, 0, ev_api_users },
	{ "POST", "/api/users", ADM, 0, ev_api_user_add },
	{ "POST", "/api/users/{name}/role", ADM, 0, ev_api_user_role },
	{ "GET", "/api/tokens", ADM, 0, ev_api_tokens },
	{ "POST", "/api/tokens", ADM, 0, ev_api_token_create },
	{ "POST", "/api/tokens/{id}/revoke", ADM, 0, ev_api_token_revoke },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

struct ev_http {
	struct ev_http_config cfg;
	struct MHD_Daemon *d;
	char bound[128];
	char *cert_pem, *key_pem;
	size_t key_len;
	/* the ledger pool */
	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv;
	struct ev_ledger **free_l;
	size_t nfree, nopen, max_open;
	struct ev_ledger **all_l;
	/* shared state */
	struct ev_limiter *login_lim, *report_lim;
	pthread_mutex_t verify_mu, verify_run_mu;
	struct ev_verify_cache verify;
	pthread_mutex_t prof_mu;
	struct ev_profiles *profiles;
	/* the verification schedule */
	pthread_mutex_t stop_mu;
	pthread_cond_t stop_cv;
	int stopping, verifier_started;
	pthread_t verifier;
};

const struct ev_http_config *
ev_http_cfg(const struct ev_http *h)
{
	return &h->cfg;
}

struct ev_limiter *
ev_http_login_limiter(const struct ev_http *h)
{
	return h->login_lim;
}

struct ev_limiter *
ev_http_report_limiter(const struct ev_http *h)
{
	return h->report_lim;
}

const char *
ev_http_bound(const struct ev_http *h)
{
	return h->bound;
}

int
ev_http_tls(const struct ev_http *h)
{
	return h->cert_pem != NULL;
}

void
ev_http_print_routes(FILE *f)
{
	for (size_t i = 0; i < NROUTES; i++) {
		const struct route *r = &routes[i];
		fprintf(f, "%s %s ", r->method, r->path);
		if (r->flags & F_REPORT)
			fputs("public-report", f);
		else if (r->flags & F_PUBLIC)
			fputs("public", f);
		else {
			int first = 1;
			for (unsigned j = 0; ev_roles[j]; j++)
				if (r->roles & (1u << j)) {
					fprintf(f, "%s%s", first ? "" : ",", ev_roles[j]);
					first = 0;
				}
		}
		fputc('\n', f);
	}
}

int
ev_http_allowed(const char *method, const char *path, unsigned role_bit)
{
	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(routes[i].method, method) == 0 && strcmp(routes[i].path, path) == 0)
			return (routes[i].flags & F_PUBLIC) || (routes[i].roles & role_bit) != 0;
	return 0;
}

/* ---- the ledger pool ---- */

static struct ev_ledger *
pool_get(struct ev_http *h, struct ev_err *err)
{
	struct ev_ledger *l = NULL;

	pthread_mutex_lock(&h->pool_mu);
	while (h->nfree == 0 && h->nopen >= h->max_open)
		pthread_cond_wait(&h->pool_cv, &h->pool_mu);
	if (h->nfree > 0) {
		l = h->free_l[--h->nfree];
	} else if (ev_ledger_open(h->cfg.data_dir, 0, &l, err) == EV_OK) {
		h->all_l[h->nopen++] = l;
	} else {
		l = NULL;
	}
	pthread_mutex_unlock(&h->pool_mu);
	return l;
}

static void
pool_put(struct ev_http *h, struct ev_ledger *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&h->pool_mu);
	h->free_l[h->nfree++] = l;
	pthread_cond_signal(&h->pool_cv);
	pthread_mutex_unlock(&h->pool_mu);
}

/* ---- verification cache and profiles ---- */

void
ev_http_verify_get(struct ev_http *h, struct ev_verify_cache *out)
{
	pthread_mutex_lock(&h->verify_mu);
	*out = h->verify;
	pthread_mutex_unlock(&h->verify_mu);
}

static int
verify_with(struct ev_http *h, struct ev_ledger *l, struct ev_verify_cache *out)
{
	struct ev_verify_stats st = { 0 };
	struct ev_err err = { 0 };
	struct ev_verify_cache c = { 0 };
	int64_t t0;
	int rc;

	/* One verification at a time: a second caller waits and gets a fresh result. */
	pthread_mutex_lock(&h->verify_run_mu);
	t0 = ev_time_now_us();
	rc = ev_ledger_verify(l, NULL, NULL, &st, &err);
	c.run = 1;
	c.ok = rc == EV_OK;
	c.at_us = t0;
	c.seconds = (double)(ev_time_now_us() - t0) / 1e6;
	c.entries = st.entries;
	c.checkpoints = st.checkpoints;
	snprintf(c.message, sizeof(c.message), "%s", rc == EV_OK ? "ok" : err.msg);
	pthread_mutex_lock(&h->verify_mu);
	h->verify = c;
	pthread_mutex_unlock(&h->verify_mu);
	pthread_mutex_unlock(&h->verify_run_mu);
	*out = c;
	return rc == EV_OK || rc == EV_ECORRUPT ? EV_OK : rc;
}

int
ev_http_verify_run(struct ev_http_req *rq, struct ev_verify_cache *out)
{
	return verify_with(rq->srv, rq->l, out);
}

/*
 * The verification schedule: once at start, then every cfg.verify_every_s,
 * on its own read-only handle, so the dashboard and /metrics always have a
 * recent answer.  ev_http_stop wakes it and joins it.
 */
static void *
verify_loop(void *arg)
{
	struct ev_http *h = arg;
	struct ev_ledger *l = NULL;
	struct ev_verify_cache c;
	struct ev_err err = { 0 };
	struct timespec until;

	if (ev_ledger_open(h->cfg.data_dir, EV_LEDGER_READONLY | EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return NULL;
	pthread_mutex_lock(&h->stop_mu);
	while (!h->stopping) {
		pthread_mutex_unlock(&h->stop_mu);
		verify_with(h, l, &c);
		pthread_mutex_lock(&h->stop_mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)h->cfg.verify_every_s;
		while (!h->stopping &&
		    pthread_cond_timedwait(&h->stop_cv, &h->stop_mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&h->stop_mu);
	ev_ledger_close(l);
	return NULL;
}

const struct ev_profiles *
ev_http_profiles(struct ev_http *h, struct ev_err *err)
{
	struct ev_profiles *p;
	char dir[EV_HTTP_PATH_MAX];

	pthread_mutex_lock(&h->prof_mu);
	if (h->profiles == NULL)
		ev_profiles_load(ev_profiles_default_dir(h->cfg.clocks_dir[0] ? h->cfg.clocks_dir : NULL,
				     dir, sizeof(dir)),
		    &h->profiles, err);
	p = h->profiles;
	pthread_mutex_unlock(&h->prof_mu);
	return p;
}

/* ---- request helpers ---- */

const char *
ev_http_arg(struct ev_http_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode an urlencoded component in place; -1 on a bad escape or NUL. */
static int
url_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '+')
			*o++ = ' ';
		else if (*s == '%') {
			int a = hexval((unsigned char)s[1]), b = a < 0 ? -1 : hexval((unsigned char)s[2]);
			if (a < 0 || b < 0 || (a == 0 && b == 0))
				return -1;
			*o++ = (char)(a * 16 + b);
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return 0;
}

int
ev_http_parse_form(struct ev_http_req *rq)
{
	char *copy, *save = NULL;
	json_t *form;

	if (rq->form)
		return 0;
	form = json_object();
	copy = ev_xmalloc(rq->body.len + 1);
	memcpy(copy, rq->body.p ? rq->body.p : "", rq->body.len);
	copy[rq->body.len] = '\0';
	if (strlen(copy) != rq->body.len)
		goto bad;
	for (char *tok = strtok_r(copy, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '='), *v = tok + strlen(tok); /* no '=': an empty value */
		if (eq) {
			*eq = '\0';
			v = eq + 1;
		}
		if (url_decode(tok) || url_decode(v) || !ev_utf8_valid(tok, strlen(tok)) ||
		    !ev_utf8_valid(v, strlen(v)) || json_object_get(form, tok))
			goto bad;
		json_object_set_new(form, tok, json_string(v));
	}
	free(copy);
	rq->form = form;
	return 0;
bad:
	free(copy);
	json_decref(form);
	return -1;
}

const char *
ev_http_form(struct ev_http_req *rq, const char *name)
{
	if (!rq->form && ev_http_parse_form(rq) != 0)
		return NULL;
	return json_string_value(json_object_get(rq->form, name));
}

void
ev_http_json(struct ev_http_resp *rs, unsigned status, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	rs->status = status;
	rs->type = "application/json";
	ev_buf_reset(&rs->body);
	ev_buf_adds(&rs->body, s ? s : "null");
	ev_buf_addc(&rs->body, '\n');
	free(s);
	json_decref(v);
}

void
ev_http_json_error(struct ev_http_resp *rs, unsigned status, const char *code, const char *fmt,
    ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev_http_json(rs, status,
	    json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void
ev_http_json_ev_error(struct ev_http_resp *rs, const struct ev_err *err)
{
	unsigned st = 500;
	const char *code = "internal";

	switch (err->code) {
	case EV_EINVAL: st = 400; code = "invalid"; break;
	case EV_ENOTFOUND: st = 404; code = "not_found"; break;
	case EV_EDENIED: st = 403; code = "denied"; break;
	case EV_EEXIST: st = 409; code = "exists"; break;
	case EV_ESTATE: st = 409; code = "state"; break;
	case EV_EBUSY: st = 503; code = "busy"; break;
	case EV_ECORRUPT: st = 500; code = "corrupt"; break;
	default: break;
	}
	ev_http_json_error(rs, st, code, "%s", err->msg[0] ? err->msg : ev_strerror(err->code));
}

void
ev_http_redirect(struct ev_http_resp *rs, const char *location)
{
	rs->status = 303;
	rs->type = "text/plain; charset=utf-8";
	snprintf(rs->location, sizeof(rs->location), "%s", location);
	ev_buf_reset(&rs->body);
	ev_buf_adds(&rs->body, "see other\n");
}

static void
page_error(struct ev_http_resp *rs, unsigned status, const char *what)
{
	rs->status = status;
	rs->type = "text/html; charset=utf-8";
	ev_buf_reset(&rs->body);
	ev_buf_adds(&rs->body, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			       "<title>evident</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
			       "</head><body><main><h1>");
	ev_buf_addf(&rs->body, "%u</h1><p>", status);
	ev_html_esc(&rs->body, what);
	ev_buf_adds(&rs->body, "</p><p><a href=\"/\">Dashboard</a></p></main></body></html>\n");
}

/* ---- routing ---- */

/* 1 when path matches pattern; params captured into rq. */
static int
match(const char *pattern, const char *path, struct ev_http_req *rq)
{
	size_t np = 0, used = 0;

	for (;;) {
		const char *pe = strchr(pattern + 1, '/'), *se = strchr(path + 1, '/');
		size_t pl, sl;
		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++, path++;
		pe = pe ? pe : pattern + strlen(pattern);
		se = se ? se : path + strlen(path);
		pl = (size_t)(pe - pattern);
		sl = (size_t)(se - path);
		if (pl > 3 && pattern[0] == '{' && pattern[pl - 2] == '*' && pattern[pl - 1] == '}') {
			/* "{name*}": the rest of the path, one parameter (tile paths). */
			size_t rl = strlen(path);
			if (rl == 0 || rl > 128 || np >= EV_HTTP_MAX_PARAMS ||
			    used + rl + 1 > sizeof(rq->param_buf))
				return 0;
			for (size_t i = 0; i < rl; i++) {
				char c = path[i];
				if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
					c == '.'))
					return 0;
				if (c == '.' && i + 1 < rl && path[i + 1] == '.')
					return 0;
			}
			memcpy(rq->param_buf + used, path, rl + 1);
			rq->params[np++] = rq->param_buf + used;
			return 1;
		}
		if (pl > 2 && pattern[0] == '{' && pattern[pl - 1] == '}') {
			if (sl == 0 || sl > 64 || np >= EV_HTTP_MAX_PARAMS ||
			    used + sl + 1 > sizeof(rq->param_buf))
				return 0;
			for (size_t i = 0; i < sl; i++) {
				char c = path[i];
				if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
					return 0;
			}
			memcpy(rq->param_buf + used, path, sl);
			rq->param_buf[used + sl] = '\0';
			rq->params[np++] = rq->param_buf + used;
			used += sl + 1;
		} else if (pl != sl || memcmp(pattern, path, pl) != 0)
			return 0;
		pattern = pe, path = se;
		if (*pattern == '\0' && *path == '\0')
			return 1;
		if (*pattern == '\0' || *path == '\0')
			return 0;
	}
}

static const struct route *
find_route(struct ev_http_req *rq, int *path_found)
{
	*path_found = 0;
	for (size_t i = 0; i < NROUTES; i++) {
		memset(rq->params, 0, sizeof(rq->params));
		if (!match(routes[i].path, rq->url, rq))
			continue;
		*path_found = 1;
		if (strcmp(routes[i].method, rq->method) == 0 ||
		    (strcmp(rq->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
			return &routes[i];
	}
	return NULL;
}

/* The value of cookie name from the Cookie header, copied into out. */
static int
get_cookie(struct ev_http_req *rq, const char *name, char *out, size_t n)
{
	const char *v = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);

	if (!v || strlen(v) >= n)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

/* EV_OK authenticated, EV_EDENIED not, EV_EIO store trouble. */
static int
authenticate(struct ev_http_req *rq, struct ev_err *err)
{
	const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	char sid[80];

	if (auth) {
		if (strncasecmp(auth, "Bearer ", 7) != 0)
			return ev_errf(err, EV_EDENIED, "only Bearer tokens are accepted");
		return ev_auth_token(rq->l, auth + 7, &rq->who, err);
	}
	if (get_cookie(rq, "evident_session", sid, sizeof(sid)) == 0)
		return ev_auth_session(rq->l, sid, ev_time_now_us(), &rq->who, err);
	return ev_errf(err, EV_EDENIED, "authentication required");
}

static int
csrf_ok(struct ev_http_req *rq)
{
	const char *t = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-CSRF-Token");
	const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);

	if (!t && ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		t = ev_http_form(rq, "csrf");
	return t && strlen(t) == 64 && strlen(rq->who.csrf) == 64 &&
	    CRYPTO_memcmp(t, rq->who.csrf, 64) == 0;
}

/*
 * A browser's POST carries Origin; when it does, it must name this server.
 * (SameSite=Strict cookies and CSRF tokens already stop cross-site forms;
 * this also covers the public POSTs, /login and /report, that have no session.)
 */
static int
origin_ok(struct ev_http_req *rq)
{
	const char *o = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *p;

	if (!o)
		return 1;
	if (!host || !(p = strstr(o, "://")))
		return 0;
	return strcmp(p + 3, host) == 0;
}

static void
dispatch(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_err err = { 0 };
	const struct route *r;
	int path_found, page, rc;

	r = find_route(rq, &path_found);
	page = strncmp(rq->url, "/api/", 5) != 0 && strcmp(rq->url, "/metrics") != 0 &&
	    strcmp(rq->url, "/healthz") != 0;
	if (r == NULL) {
		if (path_found)
			ev_http_json_error(rs, 405, "method_not_allowed", "method %s not allowed here",
			    rq->method);
		else if (page)
			page_error(rs, 404, "No such page.");
		else
			ev_http_json_error(rs, 404, "not_found", "no such route");
		return;
	}
	page = (r->flags & F_PAGE) != 0;
	if ((r->flags & F_REPORT) && !rq->srv->cfg.public_report) {
		page_error(rs, 404, "No such page.");
		return;
	}
	if (strcmp(rq->method, "POST") == 0 && !origin_ok(rq)) {
		if (page)
			page_error(rs, 403, "This form was sent from another site.");
		else
			ev_http_json_error(rs, 403, "bad_origin", "the Origin header names another site");
		return;
	}
	if ((rq->l = pool_get(rq->srv, &err)) == NULL) {
		ev_http_json_ev_error(rs, &err);
		return;
	}
	if (!(r->flags & (F_PUBLIC | F_REPORT))) {
		rc = authenticate(rq, &err);
		if (rc != EV_OK) {
			if (rc != EV_EDENIED)
				ev_http_json_ev_error(rs, &err);
			else if (page)
				ev_http_redirect(rs, "/login");
			else
				ev_http_json_error(rs, 401, "unauthenticated", "%s", err.msg);
			return;
		}
		rq->authed = 1;
	}
	if (rq->too_large) {
		if (page)
			page_error(rs, 413, "The request is too large.");
		else
			ev_http_json_error(rs, 413, "too_large", "request body over %zu bytes",
			    rq->srv->cfg.body_max);
		return;
	}
	if (rq->authed) {
		if (rq->who.must_change && !(r->flags & F_ONETIME)) {
			if (page)
				ev_http_redirect(rs, "/password");
			else
				ev_http_json_error(rs, 403, "password_change_required",
				    "the one-time password must be changed first (/password)");
			return;
		}
		if (!(r->roles & rq->who.role_bit)) {
			if (page)
				page_error(rs, 403, "Your role may not do this.");
			else
				ev_http_json_error(rs, 403, "forbidden", "role %s may not %s %s",
				    rq->who.role, r->method, r->path);
			return;
		}
		if (strcmp(rq->method, "POST") == 0 && rq->who.via_session && !csrf_ok(rq)) {
			if (page)
				page_error(rs, 403, "The form is stale or forged (CSRF check failed). "
						    "Reload the page and try again.");
			else
				ev_http_json_error(rs, 403, "csrf", "missing or wrong CSRF token");
			return;
		}
	}
	r->fn(rq, rs);
}

/* ---- MHD glue ---- */

static void
add_headers(struct ev_http *h, struct MHD_Response *resp, const struct ev_http_resp *rs)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    rs->cache_control ? rs->cache_control : "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	/* same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on POSTs */
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
	    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	if (h->cert_pem)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (rs->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rs->location);
	if (rs->cookie[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rs->cookie);
	if (rs->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (rs->retry_after) {
		char v[16];
		snprintf(v, sizeof(v), "%u", rs->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
}

static enum MHD_Result
send_resp(struct ev_http *h, struct MHD_Connection *conn, struct ev_http_resp *rs)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(rs->body.len, rs->body.p ? rs->body.p : (char *)"",
	    MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	add_headers(h, resp, rs);
	ret = MHD_queue_response(conn, rs->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct ev_http *h = cls;
	struct ev_http_req *rq = *con_cls;
	struct ev_http_resp rs;
	enum MHD_Result ret;

	if (rq == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		rq = ev_xcalloc(1, sizeof(*rq));
		rq->srv = h;
		rq->conn = conn;
		rq->method = method;
		rq->url = url;
		snprintf(rq->addr, sizeof(rq->addr), "unknown");
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				    rq->addr, sizeof(rq->addr));
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6,
				    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, rq->addr,
				    sizeof(rq->addr));
		}
		if (cl && strtoull(cl, NULL, 10) > h->cfg.body_max)
			rq->too_large = 1;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		rq->received += *upload_size;
		if (!rq->too_large && rq->body.len + *upload_size <= h->cfg.body_max)
			ev_buf_add(&rq->body, upload, *upload_size);
		else {
			rq->too_large = 1;
			ev_buf_free(&rq->body);
		}
		*upload_size = 0;
		/* A client streaming far past the limit is cut off rather than read forever. */
		return rq->received > 4 * h->cfg.body_max + (1u << 20) ? MHD_NO : MHD_YES;
	}
	memset(&rs, 0, sizeof(rs));
	rs.status = 200;
	rs.type = "application/json";
	dispatch(rq, &rs);
	pool_put(h, rq->l);
	rq->l = NULL;
	ret = send_resp(h, conn, &rs);
	ev_buf_free(&rs.body);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct ev_http_req *rq = *con_cls;

	if (rq) {
		if (rq->l)
			pool_put(rq->srv, rq->l);
		ev_buf_free(&rq->body);
		json_decref(rq->form);
		free(rq);
		*con_cls = NULL;
	}
}

static int
read_file(const char *path, char **out, size_t *len, struct ev_err *err)
{
	FILE *f = fopen(path, "rb");
	struct ev_buf b = EV_BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return ev_errf(err, EV_ENOTFOUND, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1u << 20))
		ev_buf_add(&b, chunk, n);
	fclose(f);
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (b.len == 0 || b.len >= (1u << 20)) {
		if (b.p)
			OPENSSL_cleanse(b.p, b.len);
		ev_buf_free(&b);
		return ev_errf(err, EV_EINVAL, "%s: empty or too large for a PEM file", path);
	}
	*len = b.len;
	*out = ev_buf_detach(&b);
	return EV_OK;
}

/* Parse "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl, struct ev_err *err)
{
	char host[128];
	const char *colon;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return ev_errf(err, EV_EINVAL, "listen address '%s': expected [V6]:PORT", s);
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return ev_errf(err, EV_EINVAL, "listen address '%s': expected HOST:PORT", s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || port > 65535)
		return ev_errf(err, EV_EINVAL, "listen address '%s': bad port", s);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*sl = sizeof(struct sockaddr_in6);
	} else
		return ev_errf(err, EV_EINVAL, "listen address '%s': host must be an IP address", s);
	return EV_OK;
}

static void
free_server(struct ev_http *h)
{
	for (size_t i = 0; i < h->nopen; i++)
		ev_ledger_close(h->all_l[i]);
	free(h->all_l);
	free(h->free_l);
	ev_limiter_free(h->login_lim);
	ev_limiter_free(h->report_lim);
	ev_profiles_free(h->profiles);
	free(h->cert_pem);
	if (h->key_pem)
		OPENSSL_cleanse(h->key_pem, h->key_len);
	free(h->key_pem);
	pthread_mutex_destroy(&h->pool_mu);
	pthread_cond_destroy(&h->pool_cv);
	pthread_mutex_destroy(&h->verify_mu);
	pthread_mutex_destroy(&h->verify_run_mu);
	pthread_mutex_destroy(&h->prof_mu);
	pthread_mutex_destroy(&h->stop_mu);
	pthread_cond_destroy(&h->stop_cv);
	free(h);
}

int
ev_http_start(const struct ev_http_config *cfg, struct ev_http **out, struct ev_err *err)
{
	struct ev_http *h = ev_xcalloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	struct ev_ledger *l = NULL;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	size_t cert_len = 0;
	int rc;

	*out = NULL;
	h->cfg = *cfg;
	pthread_mutex_init(&h->pool_mu, NULL);
	pthread_cond_init(&h->pool_cv, NULL);
	pthread_mutex_init(&h->verify_mu, NULL);
	pthread_mutex_init(&h->verify_run_mu, NULL);
	pthread_mutex_init(&h->prof_mu, NULL);
	pthread_mutex_init(&h->stop_mu, NULL);
	pthread_cond_init(&h->stop_cv, NULL);
	if (h->cfg.threads == 0)
		h->cfg.threads = 4;
	if (h->cfg.body_max == 0)
		h->cfg.body_max = 65536;
	h->max_open = h->cfg.threads;
	h->all_l = ev_xcalloc(h->max_open, sizeof(*h->all_l));
	h->free_l = ev_xcalloc(h->max_open, sizeof(*h->free_l));
	h->login_lim = ev_limiter_new(h->cfg.login_failures ? h->cfg.login_failures : 5,
	    (int64_t)(h->cfg.login_window_s ? h->cfg.login_window_s : 900) * 1000000);
	h->report_lim = ev_limiter_new(h->cfg.report_per_hour ? h->cfg.report_per_hour : 5,
	    3600LL * 1000000);
	if (h->cfg.session_ttl_s == 0)
		h->cfg.session_ttl_s = 8 * 3600;

	if ((rc = parse_listen(h->cfg.listen, &ss, &sl, err)) != EV_OK)
		goto fail;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (!!h->cfg.tls_cert[0] != !!h->cfg.tls_key[0]) {
		rc = ev_errf(err, EV_EINVAL, "TLS needs both a certificate and a key");
		goto fail;
	}
	if (h->cfg.tls_cert[0]) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			rc = ev_errf(err, EV_EINVAL, "this libmicrohttpd has no TLS support");
			goto fail;
		}
		if ((rc = read_file(h->cfg.tls_cert, &h->cert_pem, &cert_len, err)) != EV_OK ||
		    (rc = read_file(h->cfg.tls_key, &h->key_pem, &h->key_len, err)) != EV_OK)
			goto fail;
		flags |= MHD_USE_TLS;
	}
	/* One handle now: the store must open, and the credential tables must exist. */
	if ((rc = ev_ledger_open(h->cfg.data_dir, 0, &l, err)) != EV_OK)
		goto fail;
	if ((rc = ev_auth_setup(l, err)) != EV_OK) {
		ev_ledger_close(l);
		goto fail;
	}
	h->all_l[h->nopen++] = l;
	h->free_l[h->nfree++] = l;

	if (h->cert_pem)
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)h->cfg.threads,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		    MHD_OPTION_HTTPS_MEM_CERT, h->cert_pem,
		    MHD_OPTION_HTTPS_MEM_KEY, h->key_pem,
		    MHD_OPTION_END);
	else
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)h->cfg.threads,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		    MHD_OPTION_END);
	if (!h->d) {
		rc = ev_errf(err, EV_EIO, "cannot listen on %s (address in use, or bad TLS files)",
		    h->cfg.listen);
		goto fail;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	{
		char host[INET6_ADDRSTRLEN];
		unsigned port = di ? di->port : 0;
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
			snprintf(h->bound, sizeof(h->bound), "%s:%u", host, port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
			snprintf(h->bound, sizeof(h->bound), "[%s]:%u", host, port);
		}
	}
	if (h->cfg.verify_every_s > 0 && pthread_create(&h->verifier, NULL, verify_loop, h) == 0)
		h->verifier_started = 1;
	*out = h;
	return EV_OK;
fail:
	free_server(h);
	return rc;
}

void
ev_http_stop(struct ev_http *h)
{
	if (!h)
		return;
	if (h->verifier_started) {
		pthread_mutex_lock(&h->stop_mu);
		h->stopping = 1;
		pthread_cond_signal(&h->stop_cv);
		pthread_mutex_unlock(&h->stop_mu);
		pthread_join(h->verifier, NULL);
	}
	if (h->d)
		MHD_stop_daemon(h->d); /* joins every worker: no handle is in use after this */
	free_server(h);
}
