/*
 * migrate.c - `evident migrate`: a format-1 ledger (one SQLite row per
 * entry, tree nodes per 16 leaves) becomes format 2 (bundles and tiles).
 *
 * The entries' leaf bytes do not change: each v1 row is turned back into its
 * canonical leaf and must hash to the leaf hash v1 recorded for it, so the
 * new tree has exactly the old leaves, and therefore the old root at every
 * size, and every recorded checkpoint (signed over those roots) still
 * verifies.  The work is done in steps of MIGRATE_STEP entries, each one
 * transaction that also records how far it got (meta migrate_seq): a killed
 * migration is simply run again.  The last step drops the v1 tables and
 * switches the format in one transaction; then the file is vacuumed, the
 * whole ledger verified with the normal verifier, and the projections
 * rebuilt from it (their tables may have changed shape since).
 *
 * With `to`, the old directory is left untouched: its files are copied, the
 * database through SQLite's backup API into a temporary name renamed at the
 * end (a killed copy is redone), and the copy is migrated in place.
 */
#include "ledger/ledger_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIGRATE_STEP 65536

/* Entries per step: MIGRATE_STEP, or $EVIDENT_MIGRATE_STEP (tests make steps small). */
static long
step_size(void)
{
	const char *e = getenv("EVIDENT_MIGRATE_STEP");
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 && v <= MIGRATE_STEP ? v : MIGRATE_STEP;
}

int ev_ledger_open_store(const char *dir, int flags, int allow_v1, struct ev_ledger **out,
    struct ev_err *err);
int ev_store_add_v2_schema(struct ev_store *st, struct ev_err *err);

static int
copy_file(const char *from, const char *to, mode_t mode, struct ev_err *err)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = EV_OK;
	ssize_t n;

	if (in < 0)
		return ev_errf(err, EV_EIO, "cannot read %s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		rc = ev_errf(err, EV_EIO, "cannot create %s: %s", to, strerror(errno));
		goto done;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = ev_errf(err, EV_EIO, "cannot write %s: %s", to, strerror(errno));
			goto done;
		}
	if (n < 0 || fsync(out) != 0)
		rc = ev_errf(err, EV_EIO, "cannot copy %s: %s", from, strerror(errno));
done:
	close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Copy dir into to: the regular files, then the database through the backup API. */
static int
copy_dir(const char *dir, const char *to, struct ev_err *err)
{
	char src[4096], dst[4096], part[4096];
	DIR *d;
	struct dirent *de;
	sqlite3 *a = NULL, *b = NULL;
	sqlite3_backup *bk;
	int rc = EV_OK;

	if (mkdir(to, 0700) != 0 && errno != EEXIST)
		return ev_errf(err, EV_EIO, "cannot create %s: %s", to, strerror(errno));
	if ((d = opendir(dir)) == NULL)
		return ev_errf(err, EV_EIO, "cannot read %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		size_t nl = strlen(de->d_name);
		if (strncmp(de->d_name, "evident.db", 10) == 0 ||
		    (nl > 4 && strcmp(de->d_name + nl - 4, ".tmp") == 0))
			continue;
		snprintf(src, sizeof(src), "%s/%s", dir, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
		if (stat(src, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if ((rc = copy_file(src, dst, sb.st_mode & 0777, err)) != EV_OK)
			break;
	}
	closedir(d);
	if (rc != EV_OK)
		return rc;
	snprintf(src, sizeof(src), "%s/evident.db", dir);
	snprintf(part, sizeof(part), "%s/evident.db.copy", to);
	snprintf(dst, sizeof(dst), "%s/evident.db", to);
	unlink(part);
	if (sqlite3_open_v2(src, &a, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open_v2(part, &b, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = ev_errf(err, EV_EIO, "cannot open %s for copying: %s", a ? part : src,
		    sqlite3_errmsg(a && b ? b : a));
		goto out;
	}
	sqlite3_busy_timeout(a, 10000);
	if ((bk = sqlite3_backup_init(b, "main", a, "main")) == NULL) {
		rc = ev_errf(err, EV_EIO, "cannot copy %s: %s", src, sqlite3_errmsg(b));
		goto out;
	}
	if (sqlite3_backup_step(bk, -1) != SQLITE_DONE) {
		sqlite3_backup_finish(bk);
		rc = ev_errf(err, EV_EIO, "cannot copy %s: %s", src, sqlite3_errmsg(b));
		goto out;
	}
	sqlite3_backup_finish(bk);
	if (sqlite3_exec(b, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
		rc = ev_errf(err, EV_EIO, "cannot set up %s: %s", part, sqlite3_errmsg(b));
		goto out;
	}
out:
	sqlite3_close(a);
	sqlite3_close(b);
	if (rc == EV_OK && rename(part, dst) != 0)
		rc = ev_errf(err, EV_EIO, "cannot rename %s: %s", part, strerror(errno));
	if (rc == EV_OK)
		chmod(dst, 0600);
	return rc;
}

static int
count_v1(sqlite3 *db, uint64_t *n, struct ev_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = EV_OK;

	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(seq), 0) FROM entries", -1, &s, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW)
		rc = ev_store_db_err(db, err, "read the format-1 entries");
	else
		*n = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc;
}

/* One step: v1 entries after l->size, at most MIGRATE_STEP, into bundles and the tail. */
static int
migrate_step(struct ev_ledger *l, uint64_t *moved, struct ev_err *err)
{
	sqlite3 *db = ev_store_db(l->st);
	sqlite3_stmt *s = NULL;
	struct ev_entry e;
	char seqtxt[32];
	uint64_t from;
	int rc, r;

	*moved = 0;
	if ((rc = ev_store_begin(l->st, err)) != EV_OK)
		return rc;
	if ((rc = ev_ledger_sync_state(l, err)) != EV_OK)
		goto fail;
	from = l->size;
	if (sqlite3_prepare_v2(db,
		"SELECT seq, time, kind, subject, actor, body, leaf_hash FROM entries "
		"WHERE seq > ?1 ORDER BY seq LIMIT ?2",
		-1, &s, NULL) != SQLITE_OK) {
		rc = ev_store_db_err(db, err, "read the format-1 entries");
		goto fail;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(s, 2, step_size());
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		e.seq = (uint64_t)sqlite3_column_int64(s, 0);
		e.time_us = sqlite3_column_int64(s, 1);
		e.kind = (const char *)sqlite3_column_text(s, 2);
		e.subject = (const char *)sqlite3_column_text(s, 3);
		e.actor = (const char *)sqlite3_column_text(s, 4);
		e.body = (const char *)sqlite3_column_text(s, 5);
		e.body_len = (size_t)sqlite3_column_bytes(s, 5);
		e.leaf_hash = sqlite3_column_bytes(s, 6) == 32 ? sqlite3_column_blob(s, 6) : NULL;
		if (!e.kind || !e.subject || !e.actor || !e.body || !e.leaf_hash) {
			rc = ev_errf(err, EV_ECORRUPT,
			    "entry %llu of the format-1 ledger is malformed: run 'evident verify' with "
			    "the version that wrote it",
			    (unsigned long long)e.seq);
			goto fail;
		}
		if ((rc = ev_ledger_append_raw(l, &e, 1, err)) != EV_OK) {
			if (rc == EV_EINVAL) {
				char why[sizeof(err->msg)];
				snprintf(why, sizeof(why), "%.300s", err ? err->msg : "");
				rc = ev_errf(err, EV_ESTATE,
				    "entry %llu cannot be migrated (%s); the ledger is left in format 1",
				    (unsigned long long)e.seq, why);
			} else if (rc == EV_ECORRUPT) {
				char why[sizeof(err->msg)];
				snprintf(why, sizeof(why), "%.300s", err ? err->msg : "");
				rc = ev_errf(err, EV_ECORRUPT,
				    "%s: the format-1 ledger is not intact; nothing was migrated past it",
				    why);
			}
			goto fail;
		}
		(*moved)++;
	}
	if (r != SQLITE_DONE) {
		rc = ev_store_db_err(db, err, "read the format-1 entries");
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	snprintf(seqtxt, sizeof(seqtxt), "%llu", (unsigned long long)l->size);
	if ((rc = ev_ledger_flush_ix(l, err)) != EV_OK ||
	    (rc = ev_store_meta_set(l->st, "migrate_seq", seqtxt, err)) != EV_OK)
		goto fail;
	if ((rc = ev_store_commit(l->st, err)) != EV_OK) {
		l->state_ok = 0;
		return rc;
	}
	return EV_OK;
fail:
	sqlite3_finalize(s);
	ev_store_rollback(l->st);
	l->state_ok = 0;
	return rc;
}

static const char drop_v1[] =
	"DROP TRIGGER IF EXISTS entries_no_update; DROP TRIGGER IF EXISTS entries_no_delete;"
	"DROP TRIGGER IF EXISTS nodes_no_update; DROP TRIGGER IF EXISTS nodes_no_delete;"
	"DROP INDEX IF EXISTS entries_kind; DROP INDEX IF EXISTS entries_subject;"
	"DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS nodes;"
	"DELETE FROM meta WHERE key = 'migrate_seq';"
	"UPDATE meta SET value = '" EV_STORE_FORMAT "' WHERE key = 'format';";

int
ev_ledger_migrate(const char *dir, const char *to, const char *origin,
    void (*progress)(uint64_t, uint64_t, void *), void *parg, struct ev_migrate_result *res,
    struct ev_err *err)
{
	struct ev_ledger *l = NULL;
	struct ev_buf have = EV_BUF_INIT;
	struct ev_verify_stats vs;
	char def[EV_ORIGIN_MAX + 1], path[4096];
	const char *target = dir;
	uint64_t total = 0, moved;
	struct stat sb;
	int rc;

	memset(res, 0, sizeof(*res));
	if (origin && !ev_origin_valid(origin))
		return ev_errf(err, EV_EINVAL, "origin '%s' is not usable", origin);
	if (to) {
		snprintf(path, sizeof(path), "%s/evident.db", to);
		if (stat(path, &sb) == 0) {
			res->resumed = 1; /* an earlier run copied it: go on there */
		} else {
			snprintf(path, sizeof(path), "%s/evident.db", dir);
			if (stat(path, &sb) != 0)
				return ev_errf(err, EV_EIO,
				    "%s is not an evident data directory (no evident.db)", dir);
			if ((rc = copy_dir(dir, to, err)) != EV_OK)
				return rc;
		}
		target = to;
	}
	if ((rc = ev_ledger_open_store(target, 0, 1, &l, err)) != EV_OK)
		return rc;
	if (ev_store_format(l->st) == 2) {
		res->already = 1;
		goto verify;
	}
	if ((rc = ev_store_add_v2_schema(l->st, err)) != EV_OK)
		goto out;
	/* The origin: kept from an earlier, interrupted run; else given; else the default. */
	rc = ev_store_meta_get(l->st, "origin", &have, err);
	if (rc == EV_OK) {
		if (origin && strcmp(origin, have.p) != 0) {
			rc = ev_errf(err, EV_EINVAL,
			    "an earlier run of this migration chose the origin '%s'", have.p);
			goto out;
		}
		snprintf(l->origin, sizeof(l->origin), "%s", have.p);
		res->resumed = 1;
	} else if (rc == EV_ENOTFOUND) {
		if (origin == NULL) {
			ev_origin_default(def);
			origin = def;
		}
		if ((rc = ev_store_meta_set(l->st, "origin", origin, err)) != EV_OK)
			goto out;
		snprintf(l->origin, sizeof(l->origin), "%s", origin);
	} else {
		goto out;
	}
	if ((rc = count_v1(ev_store_db(l->st), &total, err)) != EV_OK)
		goto out;
	for (;;) {
		if ((rc = migrate_step(l, &moved, err)) != EV_OK)
			goto out;
		if (progress)
			progress(l->size, total, parg);
		if (moved == 0)
			break;
	}
	if (l->size != total) {
		rc = ev_errf(err, EV_ECORRUPT,
		    "entry %llu of the format-1 ledger is missing (it has %llu entries)",
		    (unsigned long long)(l->size + 1), (unsigned long long)total);
		goto out;
	}
	if (sqlite3_exec(ev_store_db(l->st), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(ev_store_db(l->st), drop_v1, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(ev_store_db(l->st), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = ev_store_db_err(ev_store_db(l->st), err, "switch to format 2");
		ev_store_rollback(l->st);
		goto out;
	}
	/* Give the space of the old rows back (a killed VACUUM leaves the file as it was). */
	(void)sqlite3_exec(ev_store_db(l->st), "VACUUM", NULL, NULL, NULL);
verify:
	ev_ledger_close(l);
	l = NULL;
	if ((rc = ev_ledger_open(target, EV_LEDGER_NOKEY, &l, err)) != EV_OK)
		goto out;
	if ((rc = ev_ledger_verify(l, NULL, NULL, &vs, err)) != EV_OK)
		goto out;
	/* Projections are derived: rebuild them, in the current shape, from the ledger. */
	if (!res->already && (rc = ev_ledger_rebuild(l, err)) != EV_OK)
		goto out;
	res->entries = vs.entries;
	res->checkpoints = vs.checkpoints;
	rc = ev_ledger_root(l, vs.entries, res->root, err);
out:
	ev_buf_free(&have);
	ev_ledger_close(l);
	return rc;
}
