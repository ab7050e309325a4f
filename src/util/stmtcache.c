/*
 * stmtcache.c - prepared statements per connection (see stmtcache.h).
 */
#include "util/stmtcache.h"

#include <assert.h>

static void
forget_locked(struct ev_stmt_cache *c, sqlite3 *db, int finalize)
{
	for (size_t i = 0; i < EV_STMT_CACHE_SLOTS; i++) {
		if (c->slot[i].db != db)
			continue;
		for (size_t j = 0; j < c->nsql; j++) {
			if (finalize)
				sqlite3_finalize(c->slot[i].st[j]);
			c->slot[i].st[j] = NULL;
		}
		c->slot[i].db = NULL;
	}
}

void
ev_stmt_cache_forget(struct ev_stmt_cache *c, sqlite3 *db, int finalize)
{
	pthread_mutex_lock(&c->mu);
	forget_locked(c, db, finalize);
	pthread_mutex_unlock(&c->mu);
}

sqlite3_stmt *
ev_stmt_cache_get(struct ev_stmt_cache *c, sqlite3 *db, size_t q, struct ev_err *err)
{
	sqlite3_stmt *s = NULL;
	int slot = -1, free_slot = -1;

	assert(q < c->nsql && c->nsql <= EV_STMT_CACHE_MAXQ);
	pthread_mutex_lock(&c->mu);
	for (int i = 0; i < EV_STMT_CACHE_SLOTS; i++) {
		if (c->slot[i].db == db)
			slot = i;
		else if (c->slot[i].db == NULL && free_slot < 0)
			free_slot = i;
	}
	if (slot < 0 && free_slot < 0) {
		/* More live connections than slots: prepare without caching. */
		pthread_mutex_unlock(&c->mu);
		ev_errf(err, EV_EIO, "%s: more than %d connections use the statement cache", c->what,
		    EV_STMT_CACHE_SLOTS);
		return NULL;
	}
	if (slot < 0) {
		slot = free_slot;
		c->slot[slot].db = db;
	}
	if (c->slot[slot].st[q] == NULL &&
	    sqlite3_prepare_v3(db, c->sql[q], -1, SQLITE_PREPARE_PERSISTENT, &c->slot[slot].st[q],
		NULL) != SQLITE_OK) {
		ev_errf(err, EV_EIO, "%s: prepare: %s", c->what, sqlite3_errmsg(db));
	} else {
		s = c->slot[slot].st[q];
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	pthread_mutex_unlock(&c->mu);
	return s;
}

int
ev_sql_exec(sqlite3 *db, const char *sql, const char *what, struct ev_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ev_errf(err, EV_EIO, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return EV_EIO;
	}
	return EV_OK;
}
