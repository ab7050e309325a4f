/*
 * test_tamper.c - change the store behind evident's back, hundreds of times
 * at random places, and check that `evident verify` notices every time and
 * names the right entry.
 *
 * A pristine ledger is built once with the library (300 entries, a
 * checkpoint after entry 150 and one at the end, so 302 entries).  Each
 * iteration copies its files (evident.db after a WAL checkpoint, the keys and
 * the checkpoint file) to a fresh directory, drops the append-only triggers
 * with plain sqlite3 calls as an intruder would, changes one thing, and runs
 * the real binary ($EVIDENT --data DIR verify).  Verify must exit 3 with one
 * line on stderr naming the first entry that is wrong:
 *
 *   body       one letter or digit of one entry's body  -> "entry S: "
 *   field      kind/subject/actor letter, time +-1 us or a leaf_hash bit
 *                                                        -> "entry S: "
 *   delete     one entry in the middle                  -> "entry S: missing"
 *   swap       every column but seq of two entries A<B  -> "entry A: "
 *   truncate   the last k entries (and maybe the tree nodes beyond the cut),
 *              DATA/checkpoint still records the latest -> "entry N-k+1: missing"
 *   node       one byte of one stored tree node         -> "entries F..L: stored tree node"
 *   nodedel    one stored tree node                     -> "entries F..L: tree node ... missing"
 *   rehash     a body changed and its leaf hash recomputed, as a smarter
 *              intruder would -> "entries F..L" of the stored tile node over
 *              S or, when S is in the last partial tile before a checkpoint,
 *              "checkpoint at entry C: root does not match" for the first
 *              checkpoint C after S; one in five times it is a checkpoint's
 *              own body, which its signature gives away: "checkpoint at entry S"
 *
 * The random choices come from a fixed seed (printed; TAMPER_SEED=N to
 * change it, TAMPER_ITER=N for more iterations) so any failure reproduces.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "unit.h"
#include "util/buf.h"

extern char **environ;

#define HALF 150                 /* entries before the middle checkpoint */
#define NENTRIES (2 * HALF + 2)  /* 300 entries and two checkpoints */
#define MID_CP (HALF + 1)        /* seq of the middle checkpoint */

static uint64_t rng_state;

/* xorshift64*: small, fast and the same everywhere. */
static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* Uniform in [lo, hi]. */
static uint64_t
rnd_between(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static char workdir[1024];
static const char *evident;

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;
	int rc = 0;

	if (in < 0)
		return errno == ENOENT ? 0 : -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (n < 0)
		rc = -1;
	close(in);
	close(out);
	return rc;
}

static const char *const data_files[] = { "evident.db", "key.pem", "key.pub", "checkpoint" };

static int
copy_ledger(const char *from, const char *to)
{
	char a[4200], b[4200];

	rm_rf(to);
	if (mkdir(to, 0700) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(data_files) / sizeof(data_files[0]); i++) {
		snprintf(a, sizeof(a), "%s/%s", from, data_files[i]);
		snprintf(b, sizeof(b), "%s/%s", to, data_files[i]);
		if (copy_file(a, b, strcmp(data_files[i], "key.pem") == 0 ? 0600 : 0644) != 0)
			return -1;
	}
	return 0;
}

/* Run `$EVIDENT --data DIR --quiet verify`; exit status, stderr into errbuf. */
static int
run_verify(const char *dir, char *errbuf, size_t errlen)
{
	char errpath[4200];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = -1, fd;
	ssize_t n;
	char *argv[] = { (char *)evident, (char *)"--data", (char *)dir, (char *)"--quiet",
		(char *)"verify", NULL };

	snprintf(errpath, sizeof(errpath), "%s/verify.err", workdir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (posix_spawn(&pid, evident, &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		snprintf(errbuf, errlen, "cannot run %s: %s", evident, strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	errbuf[0] = '\0';
	if ((fd = open(errpath, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, errbuf, errlen - 1);
		errbuf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* One line of stderr (ASan/UBSan reports would add more). */
static int
one_line(const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl != NULL && nl[1] == '\0';
}

static int
build_pristine(const char *dir)
{
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct ev_checkpoint cp;
	struct ev_entry_in in[10];
	char bodies[10][160], subjects[10][32];
	static const char *const kinds[] = { "test.login", "test.alert", "note" };
	sqlite3 *db = NULL;
	char path[4200];
	uint64_t last = 0;
	unsigned n = 0;

	if (ev_ledger_init(dir, &err) != EV_OK || ev_ledger_open(dir, 0, &l, &err) != EV_OK) {
		printf("# pristine ledger: %s\n", err.msg);
		return -1;
	}
	for (int half = 0; half < 2; half++) {
		for (unsigned b = 0; b < HALF / 10; b++) {
			for (unsigned i = 0; i < 10; i++, n++) {
				snprintf(subjects[i], sizeof(subjects[i]), "host-%u", n % 7);
				snprintf(bodies[i], sizeof(bodies[i]),
				    "{\"msg\":\"user alice%u failed login from 10.0.%u.%u\",\"n\":%u,"
				    "\"ok\":%s}",
				    n * 7 % 100, n % 256, n * 13 % 256, n, n % 3 ? "false" : "true");
				in[i].kind = kinds[n % 3];
				in[i].subject = subjects[i];
				in[i].actor = n % 2 ? "rule:ssh-bruteforce" : "operator";
				in[i].body = bodies[i];
				in[i].body_len = 0;
			}
			if (ev_ledger_append(l, in, 10, &last, &err) != EV_OK)
				goto fail;
		}
		if (ev_ledger_checkpoint(l, "system", &cp, &err) != EV_OK)
			goto fail;
	}
	ev_ledger_close(l);
	l = NULL;
	CHECK(cp.seq == NENTRIES && cp.size == NENTRIES - 1,
	    "pristine ledger: %d entries, checkpoints at %d and %d", NENTRIES, MID_CP, NENTRIES);
	/* Everything into the main database file, so that copying it copies the ledger. */
	snprintf(path, sizeof(path), "%s/evident.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK) {
		printf("# wal checkpoint: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_close(db);
	return 0;
fail:
	printf("# pristine ledger: %s\n", err.msg);
	ev_ledger_close(l);
	return -1;
}

/* ---- the intruder: plain sqlite3 on a copy ---------------------------------- */

struct row {
	int64_t seq, time;
	char kind[80], subject[300], actor[160];
	char *body;
	uint8_t leaf[EV_HASH_LEN];
};

static int
read_row(sqlite3 *db, int64_t seq, struct row *r)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (sqlite3_prepare_v2(db,
		"SELECT seq, time, kind, subject, actor, body, leaf_hash FROM entries WHERE seq = ?",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, seq);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 6) == EV_HASH_LEN) {
		r->seq = sqlite3_column_int64(s, 0);
		r->time = sqlite3_column_int64(s, 1);
		snprintf(r->kind, sizeof(r->kind), "%s", sqlite3_column_text(s, 2));
		snprintf(r->subject, sizeof(r->subject), "%s", sqlite3_column_text(s, 3));
		snprintf(r->actor, sizeof(r->actor), "%s", sqlite3_column_text(s, 4));
		r->body = ev_xstrdup((const char *)sqlite3_column_text(s, 5));
		memcpy(r->leaf, sqlite3_column_blob(s, 6), EV_HASH_LEN);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Write every column but seq of r into entry seq. */
static int
write_row(sqlite3 *db, int64_t seq, const struct row *r)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
		"UPDATE entries SET time = ?2, kind = ?3, subject = ?4, actor = ?5, body = ?6, "
		"leaf_hash = ?7 WHERE seq = ?1",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, r->time);
	sqlite3_bind_text(s, 3, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->body, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, r->leaf, EV_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 : -1;
	sqlite3_finalize(s);
	return rc;
}

/* Change one random letter or digit of s to another of its class; -1 if none. */
static int
flip_alnum(char *s)
{
	size_t n = strlen(s), cand = 0, pick;

	for (size_t i = 0; i < n; i++)
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			cand++;
	if (cand == 0)
		return -1;
	pick = (size_t)(rnd() % cand);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			continue;
		if (pick-- != 0)
			continue;
		if (c >= 'a' && c <= 'z')
			s[i] = (char)('a' + (c - 'a' + 1 + (int)(rnd() % 25)) % 26);
		else
			s[i] = (char)('0' + (c - '0' + 1 + (int)(rnd() % 9)) % 10);
		return 0;
	}
	return -1;
}

static int
exec1(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		printf("# %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
drop_triggers(sqlite3 *db)
{
	return exec1(db, "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;"
			 "DROP TRIGGER nodes_no_update; DROP TRIGGER nodes_no_delete;");
}

enum kind { T_BODY, T_FIELD, T_DELETE, T_SWAP, T_TRUNCATE, T_NODE, T_NODEDEL, T_REHASH, T__N };
static const char *const kind_name[T__N] = { "body", "field", "delete", "swap", "truncate",
	"node", "nodedel", "rehash" };

/* What the verify message must say. */
struct expect {
	enum { X_ENTRY, X_RANGE, X_COVER } how;
	int64_t seq;            /* X_ENTRY: "entry SEQ: "; X_COVER: anything naming SEQ */
	int64_t first, last;    /* X_RANGE: "entries FIRST..LAST: " */
	const char *contains;   /* and this text, when not NULL */
	char what[200];         /* what was done, for the test line */
};

static int
tamper(const char *dir, enum kind k, struct expect *x)
{
	char path[4200], sql[256];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct row r1, r2;
	int rc = -1;

	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(x, 0, sizeof(*x));
	snprintf(path, sizeof(path), "%s/evident.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	if (drop_triggers(db) != 0)
		goto out;
	switch (k) {
	case T_BODY: {
		int64_t seq = (int64_t)rnd_between(1, NENTRIES);
		if (read_row(db, seq, &r1) != 0 || flip_alnum(r1.body) != 0 ||
		    write_row(db, seq, &r1) != 0)
			goto out;
		x->how = X_ENTRY;
		x->seq = seq;
		x->contains = "leaf hash mismatch";
		snprintf(x->what, sizeof(x->what), "one character of entry %" PRId64 "'s body", seq);
		break;
	}
	case T_FIELD: {
		int64_t seq = (int64_t)rnd_between(1, NENTRIES);
		unsigned f = (unsigned)(rnd() % 6);
		static const char *const fname[] = { "kind", "subject", "actor", "time + 1us",
			"time - 1us", "leaf_hash" };
		if (read_row(db, seq, &r1) != 0)
			goto out;
		if (f == 0)
			flip_alnum(r1.kind);
		else if (f == 1)
			flip_alnum(r1.subject);
		else if (f == 2)
			flip_alnum(r1.actor);
		else if (f == 3)
			r1.time++;
		else if (f == 4)
			r1.time--;
		else
			r1.leaf[rnd() % EV_HASH_LEN] ^= (uint8_t)(1u << (rnd() % 8));
		if (write_row(db, seq, &r1) != 0)
			goto out;
		x->how = X_ENTRY;
		x->seq = seq;
		snprintf(x->what, sizeof(x->what), "the %s of entry %" PRId64, fname[f], seq);
		break;
	}
	case T_DELETE: {
		int64_t seq = (int64_t)rnd_between(1, NENTRIES - 1);
		snprintf(sql, sizeof(sql), "DELETE FROM entries WHERE seq = %" PRId64, seq);
		if (exec1(db, sql) != 0 || sqlite3_changes(db) != 1)
			goto out;
		x->how = X_ENTRY;
		x->seq = seq;
		x->contains = "missing";
		snprintf(x->what, sizeof(x->what), "entry %" PRId64 " deleted", seq);
		break;
	}
	case T_SWAP: {
		int64_t a = (int64_t)rnd_between(1, NENTRIES), b;
		do
			b = (int64_t)rnd_between(1, NENTRIES);
		while (b == a);
		if (a > b) {
			int64_t t = a;
			a = b;
			b = t;
		}
		if (read_row(db, a, &r1) != 0 || read_row(db, b, &r2) != 0 ||
		    exec1(db, "BEGIN") != 0 || write_row(db, a, &r2) != 0 ||
		    write_row(db, b, &r1) != 0 || exec1(db, "COMMIT") != 0)
			goto out;
		x->how = X_ENTRY;
		x->seq = a;
		snprintf(x->what, sizeof(x->what), "entries %" PRId64 " and %" PRId64 " swapped", a, b);
		break;
	}
	case T_TRUNCATE: {
		/* Mostly a few entries, sometimes deep behind the middle checkpoint. */
		int64_t kk = (int64_t)(rnd() % 3 ? rnd_between(1, 12) : rnd_between(1, NENTRIES));
		int64_t keep = NENTRIES - kk;
		int nodes = (int)(rnd() % 2);
		snprintf(sql, sizeof(sql), "DELETE FROM entries WHERE seq > %" PRId64, keep);
		if (exec1(db, sql) != 0 || sqlite3_changes(db) != kk)
			goto out;
		if (nodes) {
			/* Nodes whose last leaf index is at or beyond the cut: key >> 6 >= keep. */
			snprintf(sql, sizeof(sql), "DELETE FROM nodes WHERE (key >> 6) >= %" PRId64,
			    keep);
			if (exec1(db, sql) != 0)
				goto out;
		}
		x->how = X_ENTRY;
		x->seq = keep + 1;
		x->contains = "missing";
		snprintf(x->what, sizeof(x->what),
		    "the last %" PRId64 " entries truncated (to %" PRId64 ")%s", kk, keep,
		    nodes ? " with their tree nodes" : "");
		break;
	}
	case T_NODE:
	case T_NODEDEL: {
		int64_t count = 0, key;
		uint8_t h[EV_HASH_LEN];
		unsigned level;
		uint64_t last;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM nodes", -1, &s, NULL) != SQLITE_OK ||
		    sqlite3_step(s) != SQLITE_ROW)
			goto out;
		count = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		s = NULL;
		if (count < 1 ||
		    sqlite3_prepare_v2(db, "SELECT key, hash FROM nodes ORDER BY key LIMIT 1 OFFSET ?",
			-1, &s, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_int64(s, 1, (int64_t)(rnd() % (uint64_t)count));
		if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_bytes(s, 1) != EV_HASH_LEN)
			goto out;
		key = sqlite3_column_int64(s, 0);
		memcpy(h, sqlite3_column_blob(s, 1), EV_HASH_LEN);
		sqlite3_finalize(s);
		s = NULL;
		level = (unsigned)(key & 63);
		last = (uint64_t)key >> 6;
		x->how = X_RANGE;
		x->first = (int64_t)(last + 2 - (1ULL << level)); /* seq = leaf index + 1 */
		x->last = (int64_t)last + 1;
		if (k == T_NODE) {
			h[rnd() % EV_HASH_LEN] ^= (uint8_t)(1u << (rnd() % 8));
			if (sqlite3_prepare_v2(db, "UPDATE nodes SET hash = ?2 WHERE key = ?1", -1, &s,
				NULL) != SQLITE_OK)
				goto out;
			sqlite3_bind_blob(s, 2, h, EV_HASH_LEN, SQLITE_STATIC);
			x->contains = "does not match";
		} else {
			if (sqlite3_prepare_v2(db, "DELETE FROM nodes WHERE key = ?1", -1, &s, NULL) !=
			    SQLITE_OK)
				goto out;
			x->contains = "missing";
		}
		sqlite3_bind_int64(s, 1, key);
		if (sqlite3_step(s) != SQLITE_DONE || sqlite3_changes(db) != 1)
			goto out;
		snprintf(x->what, sizeof(x->what), "tree node level %u over entries %" PRId64
		    "..%" PRId64 " %s", level, x->first, x->last, k == T_NODE ? "changed" : "deleted");
		break;
	}
	case T_REHASH: {
		/* One in five is a checkpoint entry: its own signature must then give it away. */
		int64_t seq = rnd() % 5 == 0 ? (rnd() % 2 ? MID_CP : NENTRIES)
					     : (int64_t)rnd_between(1, NENTRIES);
		struct ev_entry e;
		struct ev_buf leaf = EV_BUF_INIT;
		if (read_row(db, seq, &r1) != 0 || flip_alnum(r1.body) != 0)
			goto out;
		e.seq = (uint64_t)seq;
		e.time_us = r1.time;
		e.kind = r1.kind;
		e.subject = r1.subject;
		e.actor = r1.actor;
		e.body = r1.body;
		e.body_len = strlen(r1.body);
		e.leaf_hash = NULL;
		ev_entry_leaf(&e, &leaf);
		ev_merkle_leaf_hash(leaf.p, leaf.len, r1.leaf);
		ev_buf_free(&leaf);
		if (write_row(db, seq, &r1) != 0)
			goto out;
		x->how = X_COVER;
		x->seq = seq;
		snprintf(x->what, sizeof(x->what),
		    "entry %" PRId64 "'s body changed and its leaf hash recomputed", seq);
		break;
	}
	default:
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		printf("# tamper %s failed: %s\n", kind_name[k], db ? sqlite3_errmsg(db) : "open");
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(r1.body);
	free(r2.body);
	return rc;
}

/* Does msg (one "evident: verify: ..." line) say what x expects? */
static int
names_it(const char *msg, const struct expect *x)
{
	static const char prefix[] = "evident: verify: ";
	const char *m = msg;
	char want[128];
	long long a, b;
	int64_t c;

	if (strncmp(m, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	m += sizeof(prefix) - 1;
	if (x->contains && strstr(m, x->contains) == NULL)
		return 0;
	switch (x->how) {
	case X_ENTRY:
		snprintf(want, sizeof(want), "entry %" PRId64 ": ", x->seq);
		return strncmp(m, want, strlen(want)) == 0;
	case X_RANGE:
		snprintf(want, sizeof(want), "entries %" PRId64 "..%" PRId64 ": ", x->first, x->last);
		return strncmp(m, want, strlen(want)) == 0;
	case X_COVER:
		/* The entry itself, a checkpoint at it, or a node range over it. */
		snprintf(want, sizeof(want), "entry %" PRId64 ": ", x->seq);
		if (strncmp(m, want, strlen(want)) == 0)
			return 1;
		snprintf(want, sizeof(want), "checkpoint at entry %" PRId64 ": ", x->seq);
		if (strncmp(m, want, strlen(want)) == 0)
			return 1;
		if (sscanf(m, "entries %lld..%lld: ", &a, &b) == 2 && a <= x->seq && x->seq <= b)
			return 1;
		/*
		 * The store keeps tree nodes of whole tiles only (ledger.c, EV_TILE_LEVEL):
		 * an entry in the last, partial tile before a checkpoint is pinned by that
		 * checkpoint's root alone, so the first checkpoint after it must say so.
		 */
		c = x->seq < MID_CP ? MID_CP : NENTRIES;
		snprintf(want, sizeof(want),
		    "checkpoint at entry %" PRId64 ": root does not match the entries 1..%" PRId64,
		    c, c - 1);
		return strncmp(m, want, strlen(want)) == 0;
	}
	return 0;
}

int
main(void)
{
	char pristine[2048], copy[2048], msg[4096];
	const char *seed_s = getenv("TAMPER_SEED"), *iter_s = getenv("TAMPER_ITER");
	uint64_t seed = seed_s ? strtoull(seed_s, NULL, 0) : 0x9162e319401ULL;
	int iters = iter_s ? atoi(iter_s) : 320;
	int counts[T__N] = { 0 };
	int status;

	evident = getenv("EVIDENT");
	CHECK(evident != NULL && access(evident, X_OK) == 0,
	    "EVIDENT names the evident binary (%s)", evident ? evident : "unset");
	if (evident == NULL || access(evident, X_OK) != 0)
		UNIT_END();
	snprintf(workdir, sizeof(workdir), "%s/evident-tamper.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(workdir) == NULL) {
		CHECK(0, "temporary directory: %s", strerror(errno));
		UNIT_END();
	}
	snprintf(pristine, sizeof(pristine), "%s/pristine", workdir);
	snprintf(copy, sizeof(copy), "%s/copy", workdir);
	printf("# seed %#" PRIx64 " (TAMPER_SEED=%#" PRIx64 " reproduces), %d iterations\n", seed,
	    seed, iters);
	rng_state = seed ? seed : 1;

	CHECK(build_pristine(pristine) == 0, "pristine ledger built with the library");
	CHECK(copy_ledger(pristine, copy) == 0 && (status = run_verify(copy, msg, sizeof(msg))) == 0,
	    "a plain copy of the pristine ledger verifies (exit 0) %s", msg);

	/* Dropping a trigger alone is noticed, and named. */
	{
		sqlite3 *db = NULL;
		char p[4300];
		snprintf(p, sizeof(p), "%s/evident.db", copy);
		sqlite3_open(p, &db);
		exec1(db, "DROP TRIGGER nodes_no_delete");
		sqlite3_close(db);
		status = run_verify(copy, msg, sizeof(msg));
		int single = one_line(msg);
		msg[strcspn(msg, "\n")] = '\0';
		CHECK(status == 3 && strstr(msg, "trigger nodes_no_delete is missing") && single,
		    "a dropped append-only trigger alone: exit 3 naming it (exit %d: %s)", status,
		    msg);
	}

	for (int i = 0; i < iters; i++) {
		enum kind k = (enum kind)(i % T__N);
		struct expect x;
		int ok;
		if (copy_ledger(pristine, copy) != 0 || tamper(copy, k, &x) != 0) {
			CHECK(0, "iteration %d (%s): could not tamper with the copy", i, kind_name[k]);
			continue;
		}
		status = run_verify(copy, msg, sizeof(msg));
		ok = status == 3 && one_line(msg) && names_it(msg, &x);
		counts[k]++;
		if (!ok)
			printf("# exit %d, stderr: %s", status, msg[0] ? msg : "(empty)\n");
		CHECK(ok, "tamper %d: %s: verify exits 3 and names it", i, x.what);
	}
	for (int k = 0; k < T__N; k++)
		printf("# %-8s %d iterations\n", kind_name[k], counts[k]);
	rm_rf(workdir);
	UNIT_END();
}
