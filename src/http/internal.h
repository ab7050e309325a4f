/*
 * internal.h - what the files of src/http share and nobody else uses:
 * credential checks, sessions, the rate limiter, request and response
 * helpers, and the handlers the route table (server.c) points at.
 */
#ifndef EV_HTTP_INTERNAL_H
#define EV_HTTP_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "util/buf.h"

struct MHD_Connection;

/* ---- auth.c ---- */

/* An authenticated principal. */
struct ev_principal {
	char user[EV_USER_NAME_MAX + 1];
	char role[32];
	unsigned role_bit;
	int via_session;        /* cookie session (POSTs need the CSRF token) */
	int must_change;        /* one-time password still in use */
	char csrf[65];          /* the session's CSRF token (sessions only) */
	char session_hash[65];  /* hex SHA-256 of the session id (sessions only) */
};

/* Bearer token -> principal; EV_EDENIED when unknown, revoked or malformed. */
int ev_auth_token(struct ev_ledger *l, const char *token, struct ev_principal *p,
    struct ev_err *err);
/* Session cookie value -> principal; EV_EDENIED when unknown or expired. */
int ev_auth_session(struct ev_ledger *l, const char *sid, int64_t now_us, struct ev_principal *p,
    struct ev_err *err);
/*
 * Check a password.  EV_OK with *p filled, EV_EDENIED otherwise (the same
 * work is done for an unknown user, so timing does not tell names apart).
 */
int ev_auth_password(struct ev_ledger *l, const char *user, const char *pw, struct ev_principal *p,
    struct ev_err *err);
/* Create a session: sid_out is the cookie value (64 hex). */
int ev_auth_session_create(struct ev_ledger *l, const struct ev_principal *p, int64_t now_us,
    unsigned ttl_s, char sid_out[65], struct ev_err *err);
int ev_auth_session_delete(struct ev_ledger *l, const char *session_hash, struct ev_err *err);
/* Clear the must-change flag of the user's sessions (after a password change). */
int ev_auth_session_changed(struct ev_ledger *l, const char *user, struct ev_err *err);

/* Hex SHA-256 of s. */
void ev_auth_sha256_hex(const void *s, size_t n, char out[65]);
/* n random bytes as lower-case hex into out (2n+1). */
int ev_auth_random_hex(size_t n, char *out);

/*
 * A fixed-size in-memory limiter: at most max events per key in window_us.
 * Thread-safe.  ev_limit_hit returns 1 when the key is already at its limit
 * (and does not count), else counts when add is set and returns 0.
 */
struct ev_limiter;
struct ev_limiter *ev_limiter_new(unsigned max, int64_t window_us);
void ev_limiter_free(struct ev_limiter *lim);
int ev_limiter_over(struct ev_limiter *lim, const char *key, int64_t now_us);
void ev_limiter_add(struct ev_limiter *lim, const char *key, int64_t now_us);
void ev_limiter_clear(struct ev_limiter *lim, const char *key);

/* ---- server.c: requests ---- */

#define EV_HTTP_MAX_PARAMS 4

struct ev_http_req {
	struct ev_http *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	struct ev_buf body;
	int too_large;
	size_t received;    /* body bytes received, kept or not */
	struct ev_ledger *l; /* borrowed from the pool for this request */
	struct ev_principal who;
	int authed;
	const char *params[EV_HTTP_MAX_PARAMS]; /* {name} segments of the route, in order */
	char param_buf[512];
	char addr[64];      /* peer address text */
	json_t *form;       /* parsed urlencoded form (POST pages), or NULL */
};

/* A response under construction. */
struct ev_http_resp {
	unsigned status;
	const char *type; /* content type */
	struct ev_buf body;
	char location[512];
	char cookie[256];
	unsigned retry_after;
	const char *cache_control; /* NULL: no-store */
};

typedef void (*ev_http_handler)(struct ev_http_req *rq, struct ev_http_resp *rs);

/* Configuration and shared state of the running server. */
const struct ev_http_config *ev_http_cfg(const struct ev_http *h);
struct ev_limiter *ev_http_login_limiter(const struct ev_http *h);
struct ev_limiter *ev_http_report_limiter(const struct ev_http *h);

/* 1 when the route table lets role_bit use METHOD PATTERN (the pattern as written there). */
int ev_http_allowed(const char *method, const char *pattern, unsigned role_bit);
/* Query-string argument or NULL. */
const char *ev_http_arg(struct ev_http_req *rq, const char *name);
/* Form field (urlencoded body) or NULL. */
const char *ev_http_form(struct ev_http_req *rq, const char *name);
/* Parse an urlencoded body into rq->form; -1 when malformed. */
int ev_http_parse_form(struct ev_http_req *rq);

/* JSON error {"error":{"code":CODE,"message":MSG}}. */
void ev_http_json_error(struct ev_http_resp *rs, unsigned status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An ev_err as a JSON error: status and code from err->code. */
void ev_http_json_ev_error(struct ev_http_resp *rs, const struct ev_err *err);
/* Set a JSON body from a jansson value (stolen) with status. */
void ev_http_json(struct ev_http_resp *rs, unsigned status, json_t *v);
/* Redirect (303) to location. */
void ev_http_redirect(struct ev_http_resp *rs, const char *location);

/* The verification cache (GET /api/verify serves it, POST refreshes it). */
struct ev_verify_cache {
	int run;            /* 0: never run */
	int ok;
	int64_t at_us;
	double seconds;
	uint64_t entries, checkpoints;
	char message[512];
};
void ev_http_verify_get(struct ev_http *h, struct ev_verify_cache *out);
int ev_http_verify_run(struct ev_http_req *rq, struct ev_verify_cache *out);

/* Load the clock profiles (cached by the server); NULL with err on failure. */
const struct ev_profiles *ev_http_profiles(struct ev_http *h, struct ev_err *err);

/* ---- api.c ---- */
void ev_api_whoami(struct ev_http_req *, struct ev_http_resp *);
void ev_api_entries(struct ev_http_req *, struct ev_http_resp *);
void ev_api_entry(struct ev_http_req *, struct ev_http_resp *);
void ev_api_append(struct ev_http_req *, struct ev_http_resp *);
void ev_api_verify_get(struct ev_http_req *, struct ev_http_resp *);
void ev_api_verify_post(struct ev_http_req *, struct ev_http_resp *);
void ev_api_checkpoints(struct ev_http_req *, struct ev_http_resp *);
void ev_api_tlog(struct ev_http_req *, struct ev_http_resp *);
void ev_api_checkpoint_post(struct ev_http_req *, struct ev_http_resp *);
void ev_api_prove_inclusion(struct ev_http_req *, struct ev_http_resp *);
void ev_api_prove_consistency(struct ev_http_req *, struct ev_http_resp *);
void ev_api_alerts(struct ev_http_req *, struct ev_http_resp *);
void ev_api_alert(struct ev_http_req *, struct ev_http_resp *);
void ev_api_alert_ack(struct ev_http_req *, struct ev_http_resp *);
void ev_api_incidents(struct ev_http_req *, struct ev_http_resp *);
void ev_api_incident(struct ev_http_req *, struct ev_http_resp *);
void ev_api_incident_open(struct ev_http_req *, struct ev_http_resp *);
void ev_api_incident_step(struct ev_http_req *, struct ev_http_resp *);
void ev_api_clocks(struct ev_http_req *, struct ev_http_resp *);
void ev_api_sources(struct ev_http_req *, struct ev_http_resp *);
void ev_api_source_register(struct ev_http_req *, struct ev_http_resp *);
void ev_api_rules(struct ev_http_req *, struct ev_http_resp *);
void ev_api_users(struct ev_http_req *, struct ev_http_resp *);
void ev_api_user_add(struct ev_http_req *, struct ev_http_resp *);
void ev_api_user_role(struct ev_http_req *, struct ev_http_resp *);
void ev_api_tokens(struct ev_http_req *, struct ev_http_resp *);
void ev_api_token_create(struct ev_http_req *, struct ev_http_resp *);
void ev_api_token_revoke(struct ev_http_req *, struct ev_http_resp *);
void ev_api_metrics(struct ev_http_req *, struct ev_http_resp *);
void ev_api_healthz(struct ev_http_req *, struct ev_http_resp *);
/* Validate a JSON body for an incident step (open, classify, ...) as the API does:
 * 0 when it would be accepted, -1 with a 4xx error in rs.  (For the fuzz target.) */
int ev_api_check_body(const char *step, const char *text, size_t len, struct ev_http_resp *rs);
/* Shared with pages.c: an incident step from a JSON object body. */
int ev_api_incident_record(struct ev_http_req *rq, const char *step, const char *id,
    json_t *body, char id_out[32], uint64_t *seq, struct ev_err *err);

/* ---- pages.c ---- */
void ev_page_login(struct ev_http_req *, struct ev_http_resp *);
void ev_page_login_post(struct ev_http_req *, struct ev_http_resp *);
void ev_page_logout(struct ev_http_req *, struct ev_http_resp *);
void ev_page_password(struct ev_http_req *, struct ev_http_resp *);
void ev_page_password_post(struct ev_http_req *, struct ev_http_resp *);
void ev_page_dashboard(struct ev_http_req *, struct ev_http_resp *);
void ev_page_ledger(struct ev_http_req *, struct ev_http_resp *);
void ev_page_ledger_verify(struct ev_http_req *, struct ev_http_resp *);
void ev_page_ledger_checkpoint(struct ev_http_req *, struct ev_http_resp *);
void ev_page_entry(struct ev_http_req *, struct ev_http_resp *);
void ev_page_alerts(struct ev_http_req *, struct ev_http_resp *);
void ev_page_alert_ack(struct ev_http_req *, struct ev_http_resp *);
void ev_page_incidents(struct ev_http_req *, struct ev_http_resp *);
void ev_page_incident(struct ev_http_req *, struct ev_http_resp *);
void ev_page_incident_step(struct ev_http_req *, struct ev_http_resp *);
void ev_page_report(struct ev_http_req *, struct ev_http_resp *);
void ev_page_compliance(struct ev_http_req *, struct ev_http_resp *);
void ev_api_compliance(struct ev_http_req *, struct ev_http_resp *);
/* The requirement index now (compliance/...); NULL with err set on failure. */
json_t *ev_http_compliance_index(struct ev_http_req *rq, struct ev_err *err);
void ev_page_report_post(struct ev_http_req *, struct ev_http_resp *);
void ev_page_css(struct ev_http_req *, struct ev_http_resp *);
void ev_page_js(struct ev_http_req *, struct ev_http_resp *);
void ev_page_favicon(struct ev_http_req *, struct ev_http_resp *);

/* HTML-escape s into b. */
void ev_html_esc(struct ev_buf *b, const char *s);

#endif
