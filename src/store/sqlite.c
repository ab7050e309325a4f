/*
 * sqlite.c - the SQLite store (see store.h).
 *
 * Layout:
 *   entries(seq PRIMARY KEY, time, kind, subject, actor, body, leaf_hash)
 *   nodes(key PRIMARY KEY, hash): key = (last leaf index << 6) | level, so
 *     walking nodes by key visits them in the order the tree completes them
 *     and verification can stream entries and nodes side by side.  The
 *     ledger decides which levels it keeps (see EV_TILE_LEVEL in ledger.c).
 * Every statement is prepared once per connection and bound, never built
 * from strings.
 */
#include "store/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"

enum {
	S_LAST,
	S_INSERT,
	S_PUT_NODE,
	S_GET_NODE,
	S_GET_LEAF,
	S_GET,
	S_TIME_AT,
	S_LEAVES,
	S__MAX
};

static const char *const stmt_sql[S__MAX] = {
	[S_LAST] = "SELECT seq, time FROM entries ORDER BY seq DESC LIMIT 1",
	[S_INSERT] = "INSERT INTO entries(seq, time, kind, subject, actor, body, leaf_hash) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_PUT_NODE] = "INSERT INTO nodes(key, hash) VALUES (?1, ?2)",
	[S_GET_NODE] = "SELECT hash FROM nodes WHERE key = ?1",
	[S_GET_LEAF] = "SELECT leaf_hash FROM entries WHERE seq = ?1",
	[S_GET] = "SELECT seq, time, kind, subject, actor, body, leaf_hash FROM entries "
		  "WHERE seq = ?1",
	[S_TIME_AT] = "SELECT time FROM entries WHERE seq = ?1",
	[S_LEAVES] = "SELECT seq, leaf_hash FROM entries WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
};

struct ev_store {
	sqlite3 *db;
	sqlite3_stmt *st[S__MAX];
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS entries("
	" seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,"
	" subject TEXT NOT NULL, actor TEXT NOT NULL, body TEXT NOT NULL,"
	" leaf_hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS entries_kind ON entries(kind);"
	"CREATE INDEX IF NOT EXISTS entries_subject ON entries(subject);"
	"CREATE TABLE IF NOT EXISTS nodes(key INTEGER PRIMARY KEY, hash BLOB NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries"
	" BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries"
	" BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS nodes_no_update BEFORE UPDATE ON nodes"
	" BEGIN SELECT RAISE(ABORT, 'tree nodes are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS nodes_no_delete BEFORE DELETE ON nodes"
	" BEGIN SELECT RAISE(ABORT, 'tree nodes are append-only'); END;"
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('format', 'evident-ledger-1');";

static const char *const triggers[] = {
	"entries_no_update", "entries_no_delete", "nodes_no_update", "nodes_no_delete",
};

static int
db_err(struct ev_store *st, struct ev_err *err, const char *what)
{
	int rc = sqlite3_errcode(st->db);
	int code = EV_EIO;

	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		code = EV_EBUSY;
	else if (rc == SQLITE_CONSTRAINT)
		code = EV_EDENIED;
	else if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		code = EV_ECORRUPT;
	else if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM)
		code = EV_EIO;
	return ev_errf(err, code, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

static int
open_db(const char *path, int flags, sqlite3 **db, struct ev_err *err)
{
	int rc = sqlite3_open_v2(path, db, flags, NULL);

	if (rc != SQLITE_OK) {
		ev_errf(err, EV_EIO, "store: cannot open %s: %s", path,
		    *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return EV_EIO;
	}
	sqlite3_busy_timeout(*db, 10000);
	sqlite3_extended_result_codes(*db, 0);
	return EV_OK;
}

int
ev_store_create(const char *path, struct ev_err *err)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	if ((rc = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db, err)) != EV_OK)
		return rc;
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
		rc = ev_errf(err, EV_EIO, "store: cannot create schema in %s: %s", path,
		    msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		return rc;
	}
	sqlite3_close(db);
	return EV_OK;
}

/* 1 when the directory holding path can be written by this process. */
static int
dir_writable(const char *path)
{
	char *dir = ev_xstrdup(path), *slash = strrchr(dir, '/');
	int ok;

	if (slash == NULL)
		ok = access(".", W_OK) == 0;
	else if (slash == dir)
		ok = access("/", W_OK) == 0;
	else {
		*slash = '\0';
		ok = access(dir, W_OK) == 0;
	}
	free(dir);
	return ok;
}

int
ev_store_open(const char *path, int readonly, struct ev_store **out, struct ev_err *err)
{
	struct ev_store *st = ev_xcalloc(1, sizeof(*st));
	/* One connection per thread: SQLite's own mutexes would only cost time. */
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	sqlite3_stmt *s = NULL;
	struct ev_buf uri = EV_BUF_INIT;
	int rc;

	/*
	 * A reader of a directory it cannot write (an assessor's copy on read-only
	 * media) cannot create SQLite's -shm file; open the store as immutable then.
	 * That is safe only because nothing can write there either, and a cleanly
	 * closed store has no -wal file left to miss.
	 */
	if (readonly && !dir_writable(path)) {
		ev_buf_adds(&uri, "file:");
		for (const char *c = path; *c; c++) {
			if (*c == '?' || *c == '#' || *c == '%')
				ev_buf_addf(&uri, "%%%02X", (unsigned)(unsigned char)*c);
			else
				ev_buf_addc(&uri, *c);
		}
		ev_buf_adds(&uri, "?immutable=1");
		flags |= SQLITE_OPEN_URI;
	}
	rc = open_db(uri.p ? uri.p : path, flags, &st->db, err);
	ev_buf_free(&uri);
	if (rc != EV_OK) {
		free(st);
		return rc;
	}
	/* synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss. */
	if (sqlite3_exec(st->db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
		"PRAGMA mmap_size=1073741824; PRAGMA wal_autocheckpoint=16384;", NULL,
		NULL, NULL) != SQLITE_OK) {
		rc = db_err(st, err, "pragma");
		goto fail;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'format'", -1, &s,
		NULL) != SQLITE_OK) {
		rc = ev_errf(err, EV_ECORRUPT, "store: %s is not an evident store: %s", path,
		    sqlite3_errmsg(st->db));
		goto fail;
	}
	if (sqlite3_step(s) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(s, 0), "evident-ledger-1") != 0) {
		rc = ev_errf(err, EV_ECORRUPT, "store: %s has an unknown format", path);
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	for (int i = 0; i < S__MAX; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
			&st->st[i], NULL) != SQLITE_OK) {
			rc = db_err(st, err, "prepare");
			goto fail;
		}
	}
	*out = st;
	return EV_OK;
fail:
	sqlite3_finalize(s);
	ev_store_close(st);
	return rc;
}

void
ev_store_close(struct ev_store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < S__MAX; i++)
		sqlite3_finalize(st->st[i]);
	/* close_v2: projectors may still hold prepared statements on this connection. */
	sqlite3_close_v2(st->db);
	free(st);
}

struct sqlite3 *
ev_store_db(struct ev_store *st)
{
	return st->db;
}

int
ev_store_begin(struct ev_store *st, struct ev_err *err)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(st, err, "begin");
	return EV_OK;
}

int
ev_store_commit(struct ev_store *st, struct ev_err *err)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = db_err(st, err, "commit");
		ev_store_rollback(st);
		return rc;
	}
	return EV_OK;
}

void
ev_store_rollback(struct ev_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
ev_store_last(struct ev_store *st, uint64_t *seq, int64_t *time_us, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_LAST];
	int rc = sqlite3_step(s);

	*seq = 0;
	*time_us = 0;
	if (rc == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(s, 0);
		*time_us = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, "read last entry");
	return EV_OK;
}

int
ev_store_insert_entry(struct ev_store *st, const struct ev_entry *e, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_INSERT];
	int rc;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)e->seq);
	sqlite3_bind_int64(s, 2, e->time_us);
	sqlite3_bind_text(s, 3, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, e->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, e->body, (int)e->body_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, e->leaf_hash, EV_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return db_err(st, err, "insert entry");
	return EV_OK;
}

static sqlite3_int64
node_key(unsigned level, uint64_t idx)
{
	uint64_t last = ((idx + 1) << level) - 1;

	return (sqlite3_int64)(last << 6 | level);
}

int
ev_store_put_node(struct ev_store *st, unsigned level, uint64_t idx,
    const uint8_t hash[EV_HASH_LEN], struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_PUT_NODE];
	int rc;

	sqlite3_bind_int64(s, 1, node_key(level, idx));
	sqlite3_bind_blob(s, 2, hash, EV_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_err(st, err, "insert tree node");
	return EV_OK;
}

int
ev_store_get_node(struct ev_store *st, unsigned level, uint64_t idx,
    uint8_t out[EV_HASH_LEN], struct ev_err *err)
{
	sqlite3_stmt *s;
	int rc, ret = EV_OK;

	if (level == 0) {
		s = st->st[S_GET_LEAF];
		sqlite3_bind_int64(s, 1, (sqlite3_int64)(idx + 1));
	} else {
		s = st->st[S_GET_NODE];
		sqlite3_bind_int64(s, 1, node_key(level, idx));
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == EV_HASH_LEN) {
		memcpy(out, sqlite3_column_blob(s, 0), EV_HASH_LEN);
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		ret = ev_errf(err, EV_ECORRUPT,
		    "store: tree node level %u index %llu is missing or malformed", level,
		    (unsigned long long)idx);
	} else {
		ret = db_err(st, err, "read tree node");
	}
	sqlite3_reset(s);
	return ret;
}

int
ev_store_get_leaves(struct ev_store *st, uint64_t first_seq, size_t n,
    uint8_t out[][EV_HASH_LEN], struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_LEAVES];
	size_t i = 0;
	int rc, ret = EV_OK;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)first_seq);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)n);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(s, 0) != first_seq + i ||
		    sqlite3_column_bytes(s, 1) != EV_HASH_LEN) {
			ret = ev_errf(err, EV_ECORRUPT, "store: entry %llu is missing or malformed",
			    (unsigned long long)(first_seq + i));
			break;
		}
		memcpy(out[i++], sqlite3_column_blob(s, 1), EV_HASH_LEN);
	}
	if (ret == EV_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(st, err, "read leaf hashes");
	else if (ret == EV_OK && i != n)
		ret = ev_errf(err, EV_ECORRUPT, "store: entry %llu is missing",
		    (unsigned long long)(first_seq + i));
	sqlite3_reset(s);
	return ret;
}

static void
row_entry(sqlite3_stmt *s, struct ev_entry *e)
{
	e->seq = (uint64_t)sqlite3_column_int64(s, 0);
	e->time_us = sqlite3_column_int64(s, 1);
	e->kind = (const char *)sqlite3_column_text(s, 2);
	e->subject = (const char *)sqlite3_column_text(s, 3);
	e->actor = (const char *)sqlite3_column_text(s, 4);
	e->body = (const char *)sqlite3_column_text(s, 5);
	e->body_len = (size_t)sqlite3_column_bytes(s, 5);
	e->leaf_hash = sqlite3_column_blob(s, 6);
	if (e->kind == NULL)
		e->kind = "";
	if (e->subject == NULL)
		e->subject = "";
	if (e->actor == NULL)
		e->actor = "";
	if (e->body == NULL)
		e->body = "";
	if (sqlite3_column_bytes(s, 6) != EV_HASH_LEN)
		e->leaf_hash = NULL;
}

int
ev_store_get(struct ev_store *st, uint64_t seq, ev_entry_cb cb, void *arg,
    struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_GET];
	struct ev_entry e;
	int rc, ret;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row_entry(s, &e);
		ret = cb(&e, arg);
	} else if (rc == SQLITE_DONE) {
		ret = ev_errf(err, EV_ENOTFOUND, "no entry %llu", (unsigned long long)seq);
	} else {
		ret = db_err(st, err, "read entry");
	}
	sqlite3_reset(s);
	return ret;
}

int
ev_store_time_at(struct ev_store *st, uint64_t seq, int64_t *time_us, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_TIME_AT];
	int rc, ret = EV_OK;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*time_us = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		ret = ev_errf(err, EV_ENOTFOUND, "no entry %llu", (unsigned long long)seq);
	else
		ret = db_err(st, err, "read entry time");
	sqlite3_reset(s);
	return ret;
}

int
ev_store_scan(struct ev_store *st, const struct ev_query *q, ev_entry_cb cb, void *arg,
    struct ev_err *err)
{
	struct ev_buf sql = EV_BUF_INIT;
	sqlite3_stmt *s = NULL;
	struct ev_entry e;
	int rc, ret = EV_OK, bind = 1;
	size_t klen = q->kind ? strlen(q->kind) : 0;
	int kind_prefix = klen && (q->kind[klen - 1] == '.' || q->kind[klen - 1] == '*');

	ev_buf_adds(&sql, "SELECT seq, time, kind, subject, actor, body, leaf_hash FROM entries"
			  " WHERE seq >= ?1 AND seq <= ?2");
	if (q->kind) {
		/* A prefix match is a range on the kind index: [prefix, prefix + 0xff). */
		ev_buf_adds(&sql, kind_prefix ? " AND kind >= ?3 AND kind < ?4" : " AND kind = ?3");
	}
	if (q->subject)
		ev_buf_adds(&sql, " AND subject = ?5");
	ev_buf_adds(&sql, q->descending ? " ORDER BY seq DESC" : " ORDER BY seq");
	if (q->limit)
		ev_buf_adds(&sql, " LIMIT ?6");
	if (sqlite3_prepare_v2(st->db, sql.p, -1, &s, NULL) != SQLITE_OK) {
		ret = db_err(st, err, "prepare scan");
		goto out;
	}
	sqlite3_bind_int64(s, bind++, (sqlite3_int64)q->from_seq);
	sqlite3_bind_int64(s, bind++,
	    q->to_seq ? (sqlite3_int64)q->to_seq : (sqlite3_int64)INT64_MAX);
	if (q->kind) {
		size_t plen = kind_prefix && q->kind[klen - 1] == '*' ? klen - 1 : klen;
		sqlite3_bind_text(s, 3, q->kind, (int)plen, SQLITE_TRANSIENT);
		if (kind_prefix) {
			char *hi = ev_xmalloc(plen + 2);
			memcpy(hi, q->kind, plen);
			hi[plen] = '\x7f';
			hi[plen + 1] = '\0';
			sqlite3_bind_text(s, 4, hi, -1, free);
		}
	}
	if (q->subject)
		sqlite3_bind_text(s, 5, q->subject, -1, SQLITE_STATIC);
	if (q->limit)
		sqlite3_bind_int64(s, 6, (sqlite3_int64)q->limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_entry(s, &e);
		if (q->since_us && e.time_us < q->since_us)
			continue;
		if (q->until_us && e.time_us > q->until_us)
			continue;
		if ((ret = cb(&e, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_err(st, err, "scan");
out:
	sqlite3_finalize(s);
	ev_buf_free(&sql);
	return ret;
}

struct ev_store_walk {
	struct ev_store *st;
	sqlite3_stmt *entries;
	sqlite3_stmt *nodes;
};

int
ev_store_walk_open(struct ev_store *st, struct ev_store_walk **w, struct ev_err *err)
{
	struct ev_store_walk *x = ev_xcalloc(1, sizeof(*x));

	x->st = st;
	if (sqlite3_prepare_v2(st->db,
		"SELECT seq, time, kind, subject, actor, body, leaf_hash FROM entries ORDER BY seq",
		-1, &x->entries, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT key, hash FROM nodes ORDER BY key", -1, &x->nodes,
		NULL) != SQLITE_OK) {
		int rc = db_err(st, err, "prepare verification walk");
		ev_store_walk_close(x);
		return rc;
	}
	*w = x;
	return EV_OK;
}

int
ev_store_walk_entry(struct ev_store_walk *w, struct ev_entry *e)
{
	int rc = sqlite3_step(w->entries);

	if (rc == SQLITE_ROW) {
		row_entry(w->entries, e);
		return 1;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

int
ev_store_walk_node(struct ev_store_walk *w, unsigned *level, uint64_t *idx,
    const uint8_t **hash, size_t *hash_len)
{
	int rc = sqlite3_step(w->nodes);

	if (rc == SQLITE_ROW) {
		uint64_t key = (uint64_t)sqlite3_column_int64(w->nodes, 0);
		*level = (unsigned)(key & 63);
		*idx = (key >> 6) >> *level;
		*hash = sqlite3_column_blob(w->nodes, 1);
		*hash_len = (size_t)sqlite3_column_bytes(w->nodes, 1);
		return 1;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

void
ev_store_walk_close(struct ev_store_walk *w)
{
	if (w == NULL)
		return;
	sqlite3_finalize(w->entries);
	sqlite3_finalize(w->nodes);
	free(w);
}

int
ev_store_check_triggers(struct ev_store *st, struct ev_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret = EV_OK;

	if (sqlite3_prepare_v2(st->db,
		"SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?1", -1, &s,
		NULL) != SQLITE_OK)
		return db_err(st, err, "prepare trigger check");
	for (size_t i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++) {
		sqlite3_bind_text(s, 1, triggers[i], -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW) {
			ret = ev_errf(err, EV_ECORRUPT,
			    "store: append-only trigger %s is missing: the store was altered "
			    "outside evident",
			    triggers[i]);
			break;
		}
	}
	sqlite3_finalize(s);
	return ret;
}
