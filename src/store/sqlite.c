/*
 * sqlite.c - the SQLite store (see store.h for what it holds and why).
 *
 * One database file in the data directory, WAL journal, synchronous=FULL so
 * an acknowledged commit survives a crash.  Compressed bundles are BLOBs in
 * their own table so that the rows proofs and queries read (bundles,
 * hashes, ix) stay small and many to a page.  The compressed bundles are
 * one byte stream, cut into chunks of STREAM_CHUNK bytes (bundle_stream,
 * row id = chunk number); a bundle row says where its bytes are (off, len).
 * Chunks that size fill their B-tree pages; a bundle per row (6 to 16 KB
 * compressed) spills into overflow pages and wasted a fifth of the space
 * (measured: 7.0 MB of pages for 5.7 MB of bundles, 15 % with smaller
 * parts).  Only the last chunk grows, by appending: a trigger refuses any
 * other change to a chunk.  The -wal and -shm
 * files live beside the database, which is why a writer needs the directory.
 * Faults are injected below this file, in a VFS shim (util/faultvfs.c), so
 * every write and sync SQLite makes can be made to fail in tests.
 */
#include "store/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/faultvfs.h"

enum {
	S_TAIL_LAST,
	S_BUNDLE_LAST,
	S_TAIL_PUT,
	S_TAIL_SCAN,
	S_TAIL_DROP,
	S_BUNDLE_PUT,
	S_BUNDLE_DATA_PUT,
	S_BUNDLE_COUNT,
	S_BUNDLE_GET,
	S_BUNDLE_DATA_GET,
	S_STREAM_APPEND,
	S_STREAM_CHUNK,
	S_STREAM_LAST,
	S_BUNDLE_ROWS,
	S_HASH_PUT,
	S_HASH_GET,
	S_IX_ADD,
	S_META_GET,
	S_META_SET,
	S_TAIL_HASHES,
	S__MAX
};

static const char *const stmt_sql[S__MAX] = {
	[S_TAIL_LAST] = "SELECT seq, time FROM tail ORDER BY seq DESC LIMIT 1",
	[S_BUNDLE_LAST] = "SELECT n, last_time FROM bundles ORDER BY n DESC LIMIT 1",
	[S_TAIL_PUT] = "INSERT INTO tail(seq, time, kind, subject, leaf, leaf_hash) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_TAIL_SCAN] = "SELECT seq, time, kind, subject, leaf, leaf_hash FROM tail "
			"WHERE seq >= ?1 ORDER BY seq",
	[S_TAIL_DROP] = "DELETE FROM tail WHERE seq > ?1 AND seq <= ?2",
	[S_BUNDLE_PUT] = "INSERT INTO bundles(n, first_time, last_time, raw_len, hash, off, len) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_BUNDLE_DATA_PUT] = "INSERT INTO bundle_stream(id, data) VALUES (?1, ?2)",
	[S_BUNDLE_COUNT] = "SELECT coalesce(max(n) + 1, 0) FROM bundles",
	[S_BUNDLE_GET] = "SELECT n, first_time, last_time, raw_len, hash, off, len FROM bundles "
			 "WHERE n = ?1",
	[S_BUNDLE_DATA_GET] = "SELECT id, data FROM bundle_stream WHERE id >= ?1 AND id <= ?2 "
			      "ORDER BY id",
	[S_BUNDLE_ROWS] = "SELECT n, first_time, last_time, raw_len, hash, off, len FROM bundles "
			  "WHERE n >= ?1 ORDER BY n LIMIT ?2",
	[S_STREAM_APPEND] = "UPDATE bundle_stream SET data = ?2 WHERE id = ?1",
	[S_STREAM_CHUNK] = "SELECT data FROM bundle_stream WHERE id = ?1",
	[S_STREAM_LAST] = "SELECT id, length(data) FROM bundle_stream ORDER BY id DESC LIMIT 1",
	[S_HASH_PUT] = "INSERT INTO hashes(level, n, hash) VALUES (?1, ?2, ?3)",
	[S_HASH_GET] = "SELECT n, hash FROM hashes WHERE level = ?1 AND n >= ?2 ORDER BY n LIMIT ?3",
	[S_IX_ADD] = "INSERT INTO ix(kind, subject, n, count) VALUES (?1, ?2, ?3, ?4) "
		     "ON CONFLICT(kind, subject, n) DO UPDATE SET count = count + excluded.count",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
		       "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[S_TAIL_HASHES] = "SELECT seq, leaf_hash FROM tail WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
};

struct ev_store {
	sqlite3 *db;
	int format;
	sqlite3_stmt *st[S__MAX];
};

/* The format-2 ledger tables, created by init and by `evident migrate`. */
static const char schema_v2[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS bundles("
	" n INTEGER PRIMARY KEY, first_time INTEGER NOT NULL, last_time INTEGER NOT NULL,"
	" raw_len INTEGER NOT NULL, hash BLOB NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS bundle_stream(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tail("
	" seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,"
	" subject TEXT NOT NULL, leaf BLOB NOT NULL, leaf_hash BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS hashes(level INTEGER NOT NULL, n INTEGER NOT NULL,"
	" hash BLOB NOT NULL, PRIMARY KEY(level, n)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS ix(kind TEXT NOT NULL, subject TEXT NOT NULL,"
	" n INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(kind, subject, n)) WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS bundles_no_update BEFORE UPDATE ON bundles"
	" BEGIN SELECT RAISE(ABORT, 'bundles are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS bundles_no_delete BEFORE DELETE ON bundles"
	" BEGIN SELECT RAISE(ABORT, 'bundles are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS bundle_stream_append_only BEFORE UPDATE ON bundle_stream"
	" WHEN NEW.id != OLD.id OR length(OLD.data) >= 4040 OR length(NEW.data) > 4040"
	"  OR substr(NEW.data, 1, length(OLD.data)) != OLD.data"
	" BEGIN SELECT RAISE(ABORT, 'bundles are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS bundle_stream_no_delete BEFORE DELETE ON bundle_stream"
	" BEGIN SELECT RAISE(ABORT, 'bundles are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS hashes_no_update BEFORE UPDATE ON hashes"
	" BEGIN SELECT RAISE(ABORT, 'tree hashes are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS hashes_no_delete BEFORE DELETE ON hashes"
	" BEGIN SELECT RAISE(ABORT, 'tree hashes are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS tail_no_update BEFORE UPDATE ON tail"
	" BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS tail_no_delete BEFORE DELETE ON tail"
	" WHEN NOT EXISTS (SELECT 1 FROM bundles WHERE n = (OLD.seq - 1) / 256)"
	" BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;";

static const char *const triggers[] = {
	"bundles_no_update", "bundles_no_delete", "bundle_stream_append_only",
	"bundle_stream_no_delete",
	"hashes_no_update", "hashes_no_delete", "tail_no_update", "tail_no_delete",
};

int
ev_store_db_err(sqlite3 *db, struct ev_err *err, const char *what)
{
	int rc = sqlite3_errcode(db);
	int code = EV_EIO;

	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		code = EV_EBUSY;
	else if (rc == SQLITE_CONSTRAINT)
		code = EV_EDENIED;
	else if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		code = EV_ECORRUPT;
	else if (rc == SQLITE_FULL)
		return ev_errf(err, EV_EIO, "store: %s: the disk is full (%s)", what,
		    sqlite3_errmsg(db));
	return ev_errf(err, code, "store: %s: %s", what, sqlite3_errmsg(db));
}

static int
db_err(struct ev_store *st, struct ev_err *err, const char *what)
{
	return ev_store_db_err(st->db, err, what);
}

static int
open_db(const char *path, int flags, sqlite3 **db, struct ev_err *err)
{
	int rc = sqlite3_open_v2(path, db, flags, ev_faultvfs_name());

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
ev_store_create(const char *path, const char *origin, struct ev_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *msg = NULL;
	int rc;

	if ((rc = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db, err)) != EV_OK)
		return rc;
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; BEGIN;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, schema_v2, NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db,
		"INSERT INTO meta(key, value) VALUES ('format', ?1), ('origin', ?2)", -1, &s,
		NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, EV_STORE_FORMAT, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, origin, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE || sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	sqlite3_finalize(s);
	sqlite3_close(db);
	return EV_OK;
fail:
	rc = ev_errf(err, EV_EIO, "store: cannot create schema in %s: %s", path,
	    msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
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

static int
prepare_all(struct ev_store *st, struct ev_err *err)
{
	for (int i = 0; i < S__MAX; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
			&st->st[i], NULL) != SQLITE_OK)
			return db_err(st, err, "prepare");
	}
	return EV_OK;
}

int
ev_store_open(const char *path, int readonly, int allow_v1, struct ev_store **out,
    struct ev_err *err)
{
	struct ev_store *st = ev_xcalloc(1, sizeof(*st));
	/* One connection per thread: SQLite's own mutexes would only cost time. */
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	sqlite3_stmt *s = NULL;
	struct ev_buf uri = EV_BUF_INIT;
	const char *fmt;
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
	fmt = sqlite3_step(s) == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
	if (fmt && strcmp(fmt, EV_STORE_FORMAT) == 0) {
		st->format = 2;
	} else if (fmt && strcmp(fmt, EV_STORE_FORMAT_V1) == 0) {
		st->format = 1;
		if (!allow_v1) {
			rc = ev_errf(err, EV_ESTATE,
			    "%s holds a format-1 ledger (evident before bundles and tiles): run "
			    "'evident migrate' to convert it; the root and every checkpoint stay the same",
			    path);
			goto fail;
		}
	} else {
		rc = ev_errf(err, EV_ECORRUPT, "store: %s has an unknown format", path);
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (st->format == 2 && (rc = prepare_all(st, err)) != EV_OK)
		goto fail;
	*out = st;
	return EV_OK;
fail:
	sqlite3_finalize(s);
	ev_store_close(st);
	return rc;
}

int
ev_store_format(const struct ev_store *st)
{
	return st->format;
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

/* Used by the migration: add the format-2 tables to a format-1 store and prepare. */
int ev_store_add_v2_schema(struct ev_store *st, struct ev_err *err);
int
ev_store_add_v2_schema(struct ev_store *st, struct ev_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, schema_v2, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = ev_errf(err, EV_EIO, "store: cannot add the format-2 tables: %s",
		    msg ? msg : "?");
		sqlite3_free(msg);
		return rc;
	}
	for (int i = 0; i < S__MAX; i++) {
		sqlite3_finalize(st->st[i]);
		st->st[i] = NULL;
	}
	return prepare_all(st, err);
}

int
ev_store_begin(struct ev_store *st, struct ev_err *err)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(st, err, "begin");
	return EV_OK;
}

int
ev_store_begin_read(struct ev_store *st, struct ev_err *err)
{
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
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

/* Step a statement that returns no row; reset it either way. */
static int
step_done(struct ev_store *st, sqlite3_stmt *s, struct ev_err *err, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return db_err(st, err, what);
	return EV_OK;
}

int
ev_store_meta_get(struct ev_store *st, const char *key, struct ev_buf *out, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_META_GET];
	int rc, ret = EV_OK;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ev_buf_add(out, (const char *)sqlite3_column_text(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
	else if (rc == SQLITE_DONE)
		ret = ev_errf(err, EV_ENOTFOUND, "store: no '%s' setting", key);
	else
		ret = db_err(st, err, "read setting");
	sqlite3_reset(s);
	return ret;
}

int
ev_store_meta_set(struct ev_store *st, const char *key, const char *value, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_META_SET];

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return step_done(st, s, err, "write setting");
}

int
ev_store_last(struct ev_store *st, uint64_t *size, int64_t *time_us, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_TAIL_LAST];
	int rc;

	*size = 0;
	*time_us = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*size = (uint64_t)sqlite3_column_int64(s, 0);
		*time_us = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, "read the last entry");
	if (rc == SQLITE_ROW)
		return EV_OK;
	s = st->st[S_BUNDLE_LAST];
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*size = ((uint64_t)sqlite3_column_int64(s, 0) + 1) * EV_BUNDLE;
		*time_us = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, "read the last bundle");
	return EV_OK;
}

int
ev_store_tail_put(struct ev_store *st, const struct ev_tail_row *r, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_TAIL_PUT];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)r->seq);
	sqlite3_bind_int64(s, 2, r->time_us);
	sqlite3_bind_text(s, 3, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, r->leaf, (int)r->leaf_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, r->leaf_hash, 32, SQLITE_STATIC);
	return step_done(st, s, err, "insert entry");
}

int
ev_store_tail_scan(struct ev_store *st, uint64_t from_seq,
    int (*cb)(const struct ev_tail_row *r, void *arg), void *arg, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_TAIL_SCAN];
	struct ev_tail_row r;
	int rc, ret = EV_OK;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)from_seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.seq = (uint64_t)sqlite3_column_int64(s, 0);
		r.time_us = sqlite3_column_int64(s, 1);
		r.kind = (const char *)sqlite3_column_text(s, 2);
		r.subject = (const char *)sqlite3_column_text(s, 3);
		r.leaf = sqlite3_column_blob(s, 4);
		r.leaf_len = (size_t)sqlite3_column_bytes(s, 4);
		r.leaf_hash = sqlite3_column_bytes(s, 5) == 32 ? sqlite3_column_blob(s, 5) : NULL;
		if (r.kind == NULL)
			r.kind = "";
		if (r.subject == NULL)
			r.subject = "";
		if (r.leaf == NULL)
			r.leaf = (const uint8_t *)"";
		if ((ret = cb(&r, arg)) != 0)
			break;
	}
	if (ret == EV_OK && rc != SQLITE_DONE)
		ret = db_err(st, err, "read entries");
	sqlite3_reset(s);
	return ret;
}

int
ev_store_tail_hashes(struct ev_store *st, uint64_t first_seq, size_t n, uint8_t out[][32],
    struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_TAIL_HASHES];
	size_t i = 0;
	int rc, ret = EV_OK;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)first_seq);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)n);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(s, 0) != first_seq + i ||
		    sqlite3_column_bytes(s, 1) != 32)
			break;
		memcpy(out[i++], sqlite3_column_blob(s, 1), 32);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(st, err, "read leaf hashes");
	else if (i != n)
		ret = ev_errf(err, EV_ECORRUPT, "entry %llu: missing or malformed in the partial bundle",
		    (unsigned long long)(first_seq + i));
	sqlite3_reset(s);
	return ret;
}

int
ev_store_tail_drop(struct ev_store *st, uint64_t n, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_TAIL_DROP];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)(n * EV_BUNDLE));
	sqlite3_bind_int64(s, 2, (sqlite3_int64)((n + 1) * EV_BUNDLE));
	return step_done(st, s, err, "move entries into their bundle");
}

#define STREAM_CHUNK 4040u /* a chunk and its cell fill a 4 KiB page (largest local payload 4061) */

/* Where the stream ends: the byte after the last chunk's last byte. */
static int
stream_end(struct ev_store *st, uint64_t *end, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_STREAM_LAST];
	int rc = sqlite3_step(s);

	*end = 0;
	if (rc == SQLITE_ROW)
		*end = (uint64_t)sqlite3_column_int64(s, 0) * STREAM_CHUNK +
		    (uint64_t)sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, "read bundle data");
	return EV_OK;
}

int
ev_store_stream_size(struct ev_store *st, uint64_t *size, struct ev_err *err)
{
	return stream_end(st, size, err);
}

int
ev_store_bundle_put(struct ev_store *st, const struct ev_bundle_row *b, const void *data,
    size_t len, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_BUNDLE_PUT];
	const char *p = data;
	uint64_t off;
	int rc;

	if ((rc = stream_end(st, &off, err)) != EV_OK)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)b->n);
	sqlite3_bind_int64(s, 2, b->first_time);
	sqlite3_bind_int64(s, 3, b->last_time);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)b->raw_len);
	sqlite3_bind_blob(s, 5, b->hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)off);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)len);
	if ((rc = step_done(st, s, err, "insert bundle")) != EV_OK)
		return rc;
	/* Top up the last chunk (rewritten whole, its old bytes first), then new ones. */
	while (len > 0) {
		uint64_t chunk = off / STREAM_CHUNK, fill = off % STREAM_CHUNK;
		size_t k = STREAM_CHUNK - fill < len ? (size_t)(STREAM_CHUNK - fill) : len;
		if (fill) {
			char buf[STREAM_CHUNK];
			s = st->st[S_STREAM_CHUNK];
			sqlite3_bind_int64(s, 1, (sqlite3_int64)chunk);
			rc = sqlite3_step(s);
			if (rc != SQLITE_ROW || (uint64_t)sqlite3_column_bytes(s, 0) != fill) {
				sqlite3_reset(s);
				return rc == SQLITE_ROW || rc == SQLITE_DONE
				    ? ev_errf(err, EV_ECORRUPT, "store: the bundle stream's last chunk is malformed")
				    : db_err(st, err, "read bundle data");
			}
			memcpy(buf, sqlite3_column_blob(s, 0), (size_t)fill);
			sqlite3_reset(s);
			memcpy(buf + fill, p, k);
			s = st->st[S_STREAM_APPEND];
			sqlite3_bind_int64(s, 1, (sqlite3_int64)chunk);
			sqlite3_bind_blob(s, 2, buf, (int)(fill + k), SQLITE_TRANSIENT);
		} else {
			s = st->st[S_BUNDLE_DATA_PUT];
			sqlite3_bind_int64(s, 1, (sqlite3_int64)chunk);
			sqlite3_bind_blob(s, 2, p, (int)k, SQLITE_STATIC);
		}
		if ((rc = step_done(st, s, err, "write bundle data")) != EV_OK)
			return rc;
		p += k;
		off += k;
		len -= k;
	}
	return EV_OK;
}

int
ev_store_bundle_count(struct ev_store *st, uint64_t *count, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_BUNDLE_COUNT];
	int rc = sqlite3_step(s);

	*count = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? EV_OK : db_err(st, err, "count bundles");
}

static int
bundle_row(sqlite3_stmt *s, struct ev_bundle_row *b)
{
	b->n = (uint64_t)sqlite3_column_int64(s, 0);
	b->first_time = sqlite3_column_int64(s, 1);
	b->last_time = sqlite3_column_int64(s, 2);
	b->raw_len = (uint64_t)sqlite3_column_int64(s, 3);
	b->off = (uint64_t)sqlite3_column_int64(s, 5);
	b->len = (uint64_t)sqlite3_column_int64(s, 6);
	if (sqlite3_column_bytes(s, 4) != 32)
		return -1;
	memcpy(b->hash, sqlite3_column_blob(s, 4), 32);
	return 0;
}

int
ev_store_bundle_get(struct ev_store *st, uint64_t n, struct ev_bundle_row *b,
    struct ev_buf *data, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_BUNDLE_GET];
	int rc, ret = EV_OK;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)n);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (bundle_row(s, b) != 0)
			ret = ev_errf(err, EV_ECORRUPT, "bundle %llu: its hash is malformed",
			    (unsigned long long)n);
	} else if (rc == SQLITE_DONE) {
		ret = ev_errf(err, EV_ENOTFOUND, "no bundle %llu", (unsigned long long)n);
	} else {
		ret = db_err(st, err, "read bundle");
	}
	sqlite3_reset(s);
	if (ret != EV_OK || data == NULL)
		return ret;
	/* The chunks holding [off, off + len), and the slice of them. */
	if (b->len == 0 || b->len > (64u << 20)) {
		return ev_errf(err, EV_ECORRUPT, "entries %llu..%llu: the bundle's recorded length is wrong",
		    (unsigned long long)(n * EV_BUNDLE + 1), (unsigned long long)((n + 1) * EV_BUNDLE));
	}
	s = st->st[S_BUNDLE_DATA_GET];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)(b->off / STREAM_CHUNK));
	sqlite3_bind_int64(s, 2, (sqlite3_int64)((b->off + b->len - 1) / STREAM_CHUNK));
	ev_buf_reset(data);
	{
		uint64_t want = b->off / STREAM_CHUNK, skip = b->off % STREAM_CHUNK, left = b->len;
		while (left > 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *c = sqlite3_column_blob(s, 1);
			uint64_t clen = (uint64_t)sqlite3_column_bytes(s, 1), k;
			if ((uint64_t)sqlite3_column_int64(s, 0) != want || clen <= skip ||
			    (clen != STREAM_CHUNK && clen - skip < left)) {
				rc = SQLITE_CORRUPT;
				break;
			}
			k = clen - skip < left ? clen - skip : left;
			ev_buf_add(data, c + skip, (size_t)k);
			left -= k;
			skip = 0;
			want++;
		}
		if (left > 0 && (rc == SQLITE_CORRUPT || rc == SQLITE_DONE || rc == SQLITE_ROW))
			ret = ev_errf(err, EV_ECORRUPT,
			    "entries %llu..%llu: the bundle's data is missing or cut short",
			    (unsigned long long)(n * EV_BUNDLE + 1),
			    (unsigned long long)((n + 1) * EV_BUNDLE));
		else if (left > 0)
			ret = db_err(st, err, "read bundle data");
	}
	sqlite3_reset(s);
	return ret;
}

int
ev_store_bundle_rows(struct ev_store *st, uint64_t n0, size_t count, struct ev_bundle_row *out,
    struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_BUNDLE_ROWS];
	size_t i = 0;
	int rc, ret = EV_OK;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)n0);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)count);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (bundle_row(s, &out[i]) != 0 || out[i].n != n0 + i) {
			ret = ev_errf(err, EV_ECORRUPT,
			    "entries %llu..%llu: the bundle's tree hash is missing or malformed",
			    (unsigned long long)((n0 + i) * EV_BUNDLE + 1),
			    (unsigned long long)((n0 + i + 1) * EV_BUNDLE));
			break;
		}
		i++;
	}
	if (ret == EV_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(st, err, "read bundles");
	else if (ret == EV_OK && i != count)
		ret = ev_errf(err, EV_ECORRUPT, "entries %llu..%llu: the bundle is missing",
		    (unsigned long long)((n0 + i) * EV_BUNDLE + 1),
		    (unsigned long long)((n0 + i + 1) * EV_BUNDLE));
	sqlite3_reset(s);
	return ret;
}

int
ev_store_hash_put(struct ev_store *st, unsigned level, uint64_t n, const uint8_t hash[32],
    struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_HASH_PUT];

	sqlite3_bind_int(s, 1, (int)level);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)n);
	sqlite3_bind_blob(s, 3, hash, 32, SQLITE_STATIC);
	return step_done(st, s, err, "insert tree hash");
}

int
ev_store_hash_get(struct ev_store *st, unsigned level, uint64_t n0, size_t count,
    uint8_t out[][32], struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_HASH_GET];
	size_t i = 0;
	int rc, ret = EV_OK;

	sqlite3_bind_int(s, 1, (int)level);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)n0);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)count);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(s, 0) != n0 + i ||
		    sqlite3_column_bytes(s, 1) != 32)
			break;
		memcpy(out[i++], sqlite3_column_blob(s, 1), 32);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(st, err, "read tree hashes");
	else if (i != count)
		ret = ev_errf(err, EV_ECORRUPT,
		    "tree hash %llu of level %u is missing or malformed",
		    (unsigned long long)(n0 + i), level);
	sqlite3_reset(s);
	return ret;
}

int
ev_store_hash_scan(struct ev_store *st,
    int (*cb)(unsigned level, uint64_t n, const uint8_t *hash, size_t len, void *arg), void *arg,
    struct ev_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = EV_OK;

	if (sqlite3_prepare_v2(st->db, "SELECT level, n, hash FROM hashes ORDER BY level, n", -1, &s,
		NULL) != SQLITE_OK)
		return db_err(st, err, "prepare");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((ret = cb((unsigned)sqlite3_column_int(s, 0),
			 (uint64_t)sqlite3_column_int64(s, 1), sqlite3_column_blob(s, 2),
			 (size_t)sqlite3_column_bytes(s, 2), arg)) != 0)
			break;
	if (ret == EV_OK && rc != SQLITE_DONE)
		ret = db_err(st, err, "read tree hashes");
	sqlite3_finalize(s);
	return ret;
}

int
ev_store_ix_add(struct ev_store *st, const char *kind, const char *subject, uint64_t n,
    uint64_t count, struct ev_err *err)
{
	sqlite3_stmt *s = st->st[S_IX_ADD];

	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)n);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)count);
	return step_done(st, s, err, "index entries");
}

int
ev_store_ix_bundles(struct ev_store *st, const char *kind, int kind_prefix, const char *subject,
    uint64_t n_lo, uint64_t n_hi, uint64_t **out, size_t *nout, struct ev_err *err)
{
	struct ev_buf sql = EV_BUF_INIT;
	sqlite3_stmt *s = NULL;
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc, ret = EV_OK;

	ev_buf_adds(&sql, "SELECT DISTINCT n FROM ix WHERE n >= ?1 AND n <= ?2");
	if (kind)
		ev_buf_adds(&sql, kind_prefix ? " AND kind >= ?3 AND kind < ?4" : " AND kind = ?3");
	if (subject)
		ev_buf_adds(&sql, " AND subject = ?5");
	ev_buf_adds(&sql, " ORDER BY n");
	if (sqlite3_prepare_v2(st->db, sql.p, -1, &s, NULL) != SQLITE_OK) {
		ret = db_err(st, err, "prepare index query");
		goto out;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)n_lo);
	sqlite3_bind_int64(s, 2, n_hi > INT64_MAX ? INT64_MAX : (sqlite3_int64)n_hi);
	if (kind) {
		size_t klen = strlen(kind);
		sqlite3_bind_text(s, 3, kind, (int)klen, SQLITE_TRANSIENT);
		if (kind_prefix) {
			/* A prefix is the range [prefix, prefix + 0x7f). */
			char *hi = ev_xmalloc(klen + 2);
			memcpy(hi, kind, klen);
			hi[klen] = '\x7f';
			hi[klen + 1] = '\0';
			sqlite3_bind_text(s, 4, hi, -1, free);
		}
	}
	if (subject)
		sqlite3_bind_text(s, 5, subject, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			v = ev_xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = (uint64_t)sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE)
		ret = db_err(st, err, "read index");
out:
	sqlite3_finalize(s);
	ev_buf_free(&sql);
	if (ret != EV_OK) {
		free(v);
		v = NULL;
		n = 0;
	}
	*out = v;
	*nout = n;
	return ret;
}

int
ev_store_ix_scan(struct ev_store *st,
    int (*cb)(const char *kind, const char *subject, uint64_t n, uint64_t count, void *arg),
    void *arg, struct ev_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = EV_OK;

	if (sqlite3_prepare_v2(st->db,
		"SELECT kind, subject, n, count FROM ix ORDER BY n, kind, subject", -1, &s,
		NULL) != SQLITE_OK)
		return db_err(st, err, "prepare");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		const char *sub = (const char *)sqlite3_column_text(s, 1);
		if ((ret = cb(k ? k : "", sub ? sub : "", (uint64_t)sqlite3_column_int64(s, 2),
			 (uint64_t)sqlite3_column_int64(s, 3), arg)) != 0)
			break;
	}
	if (ret == EV_OK && rc != SQLITE_DONE)
		ret = db_err(st, err, "read index");
	sqlite3_finalize(s);
	return ret;
}

int
ev_store_ix_clear(struct ev_store *st, struct ev_err *err)
{
	if (sqlite3_exec(st->db, "DELETE FROM ix", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(st, err, "clear index");
	return EV_OK;
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
