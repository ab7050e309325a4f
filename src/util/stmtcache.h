/*
 * stmtcache.h - prepared statements kept per SQLite connection, for
 * projectors that run the same few statements for every entry.
 *
 * A projector's apply runs inside a write transaction, which SQLite grants
 * one connection at a time, but HTTP workers own connections in several
 * threads: the mutex keeps the table itself safe, and a connection's
 * statements are used only by the thread inside its transaction.  A new
 * connection (projector setup) forgets whatever a closed one at the same
 * address left; detach and reset finalise the live connection's own.
 */
#ifndef EV_UTIL_STMTCACHE_H
#define EV_UTIL_STMTCACHE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

#include "util/err.h"

/*
 * Connections that write in one process: the web server's workers (at most
 * 64, src/http/config.c), its verifier, serve's intake and its scheduler.
 * Past that ev_stmt_cache_get refuses rather than evict a live connection's
 * statements unfinalised (which would keep that connection from closing).
 */
#define EV_STMT_CACHE_SLOTS 72
#define EV_STMT_CACHE_MAXQ 8

struct ev_stmt_cache {
	pthread_mutex_t mu;
	const char *what;          /* for error messages: "alerts" */
	const char *const *sql;    /* the statements, by index */
	size_t nsql;               /* at most EV_STMT_CACHE_MAXQ */
	struct {
		sqlite3 *db;
		sqlite3_stmt *st[EV_STMT_CACHE_MAXQ];
	} slot[EV_STMT_CACHE_SLOTS];
};

#define EV_STMT_CACHE_INIT(what, sql, nsql) { PTHREAD_MUTEX_INITIALIZER, what, sql, nsql, { { 0 } } }

/* Statement q for db, prepared on first use, reset and unbound; NULL with err set. */
sqlite3_stmt *ev_stmt_cache_get(struct ev_stmt_cache *c, sqlite3 *db, size_t q, struct ev_err *err);
/* Drop db's statements; finalise them only when db is a live connection. */
void ev_stmt_cache_forget(struct ev_stmt_cache *c, sqlite3 *db, int finalize);

/* Run constant SQL (schema statements, never input); EV_EIO "WHAT: message" on failure. */
int ev_sql_exec(sqlite3 *db, const char *sql, const char *what, struct ev_err *err);

#endif
