/*
 * http.h - the web side of `evident serve`: JSON API, users and roles,
 * sessions and API tokens, server-rendered pages, /metrics and /healthz.
 *
 * The server runs on libmicrohttpd with its own threads (an internal polling
 * thread and a pool of cfg.threads workers, MHD_OPTION_THREAD_POOL_SIZE).
 * SQLite handles are opened SQLITE_OPEN_NOMUTEX, so a worker never shares
 * one: each request borrows a ledger handle from a small pool (one handle per
 * worker at most, opened lazily) and gives it back before its response is
 * queued.  The caller's own ledger handle is never touched.
 *
 * Credentials (scrypt password hashes, SHA-256 of API tokens, sessions) live
 * in tables of the store that are NOT part of the ledger and NOT projections
 * (http_users, http_tokens, http_sessions): the ledger, which assessors
 * receive, records only the facts: user.added (name, role), user.role_changed,
 * user.password_set (no hash), token.created / token.revoked (token id, never
 * the secret).  Each fact and its credential row change in one transaction.
 *
 * This header is the whole interface the CLI and `evident serve` use.
 * `evident serve` starts the server after ev_loop_new (whose signal mask the
 * MHD threads must inherit) and stops it after the loop returns:
 *
 *	struct ev_http_config hc;
 *	struct ev_http *http = NULL;
 *	ev_http_config_defaults(&hc, ev_ledger_dir(l));
 *	if (config && ev_http_config_load(config, &hc, &err) != EV_OK)   // its http: section
 *		fail;
 *	if (ev_http_start(&hc, &http, &err) != EV_OK)
 *		fail;
 *	... ev_loop_run(lp) ...
 *	ev_http_stop(http);
 */
#ifndef EV_HTTP_HTTP_H
#define EV_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger/ledger.h"
#include "util/err.h"

#define EV_HTTP_DEFAULT_LISTEN "127.0.0.1:8319"
#define EV_HTTP_PATH_MAX 4096

struct ev_http_config {
	char data_dir[EV_HTTP_PATH_MAX];
	char listen[256];                  /* "HOST:PORT", IPv4 or [IPv6]; port 0 picks one */
	char tls_cert[EV_HTTP_PATH_MAX];   /* PEM files; both or neither ("" = plain HTTP) */
	char tls_key[EV_HTTP_PATH_MAX];
	char clocks_dir[EV_HTTP_PATH_MAX]; /* clock profiles ("" = ev_profiles_default_dir) */
	size_t body_max;                   /* request body limit in bytes (default 65536) */
	int public_report;                 /* serve the public reporting page (default 0) */
	unsigned threads;                  /* worker threads (default 4) */
	unsigned login_failures;           /* failures allowed per address and per user ... */
	unsigned login_window_s;           /* ... in this window (default 5 per 900 s) */
	unsigned report_per_hour;          /* public reports per address per hour (default 5) */
	unsigned session_ttl_s;            /* session lifetime (default 8 h) */
	unsigned verify_every_s;           /* verify the ledger at start and this often (default
	                                      3600; 0: only when asked, POST /api/verify) */
};

/* Fill the defaults above; data_dir copied (may be NULL: "./evident-data"). */
void ev_http_config_defaults(struct ev_http_config *cfg, const char *data_dir);
/*
 * Read a YAML mapping over cfg: listen, tls_cert, tls_key, clocks, body_max,
 * public_report, threads, login_failures, login_window, report_per_hour,
 * session_ttl, verify_every.  A key it does not know is an error (EV_EINVAL naming it);
 * so is a bad value.  An "http:" mapping at the top level is read instead
 * when present, so the serve configuration file can hold it.
 */
int ev_http_config_load(const char *path, struct ev_http_config *cfg, struct ev_err *err);

struct ev_http;
/*
 * Start serving; returns once the socket is bound and the threads run.
 * Caller stops with ev_http_stop (which joins every thread and closes every
 * handle the server opened).  cfg is copied.
 */
int ev_http_start(const struct ev_http_config *cfg, struct ev_http **out, struct ev_err *err);
void ev_http_stop(struct ev_http *h);
/* The address actually bound, "127.0.0.1:PORT" (useful with port 0). */
const char *ev_http_bound(const struct ev_http *h);
/* 1 when serving TLS. */
int ev_http_tls(const struct ev_http *h);

/*
 * The route table, one line per route and method: "METHOD PATH ACCESS" where
 * ACCESS is "public", "public-report" (only when public_report is on) or the
 * comma-separated roles allowed.  This is the one place access is decided.
 */
void ev_http_print_routes(FILE *f);

/* ---- roles, users, tokens (also used by `evident user` / `evident token`) ---- */

#define EV_USER_NAME_MAX 64
#define EV_PASSWORD_MIN 12
#define EV_PASSWORD_MAX 1024
#define EV_TOKEN_ID_LEN 16 /* hex characters of a token id */

/* The trusted roles, NULL-terminated: viewer, monitoring, incident-manager, ... */
extern const char *const ev_roles[];
/* The role's bit (1 << index) or 0 when unknown. */
unsigned ev_role_bit(const char *role);
/* User names: 1..64 of [a-z0-9._-], starting with a letter or digit. */
int ev_user_name_ok(const char *name);

/* Create the credential tables when missing (needs a writable ledger). */
int ev_auth_setup(struct ev_ledger *l, struct ev_err *err);

/*
 * Add a user with a role and a fresh one-time password written to pw_out
 * (NUL-terminated, shown once by the caller; the first sign-in must replace
 * it).  Records user.added.  EV_EEXIST when the user exists.
 */
#define EV_ONETIME_PW_LEN 24
int ev_user_add(struct ev_ledger *l, const char *name, const char *role, const char *actor,
    char pw_out[EV_ONETIME_PW_LEN + 1], struct ev_err *err);
/* Change a user's role; records user.role_changed. */
int ev_user_set_role(struct ev_ledger *l, const char *name, const char *role, const char *actor,
    struct ev_err *err);
/*
 * Set a user's password (EV_PASSWORD_MIN..MAX bytes of UTF-8) or, when pw is
 * NULL, a new one-time password into pw_out.  Records user.password_set
 * (body {"one_time":bool,"user":NAME}: never the password or its hash).
 */
int ev_user_set_password(struct ev_ledger *l, const char *name, const char *pw,
    const char *actor, char pw_out[EV_ONETIME_PW_LEN + 1], struct ev_err *err);
/* Users as JSON lines into cb: {"name","role","one_time","created"}. */
int ev_user_list(struct ev_ledger *l, void (*cb)(const char *name, const char *role,
    int one_time, int64_t created_us, void *arg), void *arg, struct ev_err *err);

/*
 * Create an API token for a user: token_out gets the secret (sent as
 * "Authorization: Bearer TOKEN"; shown once), id_out its public id.  Only
 * SHA-256 of the secret is stored.  Records token.created (id and user).
 */
#define EV_TOKEN_LEN 64 /* "evt_" + id (16 hex) + "_" + 43 base64url chars, and room */
int ev_token_create(struct ev_ledger *l, const char *user, const char *actor,
    char token_out[EV_TOKEN_LEN + 1], char id_out[EV_TOKEN_ID_LEN + 1], struct ev_err *err);
/* Revoke by id; records token.revoked.  EV_ENOTFOUND / EV_ESTATE (already revoked). */
int ev_token_revoke(struct ev_ledger *l, const char *id, const char *actor, struct ev_err *err);
int ev_token_list(struct ev_ledger *l, void (*cb)(const char *id, const char *user,
    int64_t created_us, int revoked, void *arg), void *arg, struct ev_err *err);

#endif
