/*
 * test_tamper.c - change the store behind evident's back, hundreds of times
 * at random places, and check that `evident verify` notices every time and
 * names the entries concerned.
 *
 * A pristine ledger is built once with the library: three runs of 200
 * entries each followed by a checkpoint (entries 201, 402, 603), so two full
 * bundles (1..256, 257..512) and 91 tail rows (513..603).  Each iteration
 * copies its files (evident.db after a WAL checkpoint, the keys and the
 * checkpoint file) to a fresh directory, drops the append-only triggers with
 * plain sqlite3 calls as an intruder would, changes one thing (decompressing
 * and recompressing a bundle with zstd where it must), and runs the real
 * binary ($EVIDENT --data DIR verify).  Verify must exit 3 with one line on
 * stderr naming what is wrong:
 *
 *   tailbody   a letter or digit of a tail entry's body  -> "entry S: "
 *   tailfield  a tail row's time, kind, subject or hash  -> "entry S: "
 *   taildel    one tail row in the middle                -> "entry S: missing"
 *   truncate   the last k entries (tail rows, bundles)   -> "entry N-k+1: missing"
 *   bundlebody one character of one entry in a bundle,
 *              recompressed                              -> "entries F..L: " (its bundle:
 *              level-0 hashes are not stored), or the checkpoint it is
 *   bundlebyte one byte of a compressed bundle           -> "entries F..L: ... unreadable"
 *   bundleswap two entries of a bundle swapped           -> "entry A: "
 *   bundlehash one bit of a bundle's recorded hash       -> "entries F..L: "
 *   bundledel  the first bundle's row and data           -> "entries 1..256: "
 *   times      a bundle's recorded first or last time    -> "entries F..L: "
 *   index      one count of the (kind, subject) index    -> "entries F..L: ... index"
 *   rehash     an entry changed and its bundle hash (or tail leaf hash)
 *              recomputed, as a smarter intruder would   -> the first checkpoint after
 *              it: "checkpoint at entry C: root does not match", or its own signature
 *
 * A second, larger ledger (65,600 entries) has one tile hash of level 2;
 * changing it or deleting it is named as "entries 1..65536: ".
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
#include <zstd.h>

extern char **environ;

#define RUN 200                  /* entries between checkpoints */
#define NRUNS 3
#define NENTRIES (NRUNS * (RUN + 1)) /* 603: checkpoints at 201, 402, 603 */
#define NBUNDLES 2               /* full bundles: 1..256, 257..512 */
#define TAIL0 (NBUNDLES * 256 + 1) /* first tail row */
#define BIG 65600                /* the larger ledger: one level-2 tile hash */

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
wal_checkpoint(const char *dir)
{
	sqlite3 *db = NULL;
	char path[4200];
	int rc = 0;

	/* Everything into the main database file, so that copying it copies the ledger. */
	snprintf(path, sizeof(path), "%s/evident.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK) {
		printf("# wal checkpoint: %s\n", sqlite3_errmsg(db));
		rc = -1;
	}
	sqlite3_close(db);
	return rc;
}

/* runs x (run entries + a checkpoint), or with run == 0 one batch of `big` entries and a checkpoint. */
static int
build_ledger(const char *dir, unsigned runs, unsigned run, unsigned big)
{
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct ev_checkpoint cp;
	struct ev_entry_in in[100];
	char bodies[100][160], subjects[100][32];
	static const char *const kinds[] = { "test.login", "test.alert", "note" };
	uint64_t last = 0;
	unsigned n = 0;

	if (ev_ledger_init(dir, "test.example/evident", &err) != EV_OK ||
	    ev_ledger_open(dir, 0, &l, &err) != EV_OK) {
		printf("# ledger: %s\n", err.msg);
		return -1;
	}
	if (run == 0) {
		runs = 1;
		run = big;
	}
	for (unsigned r = 0; r < runs; r++) {
		for (unsigned b = 0; b < run; b += 100) {
			unsigned k = run - b < 100 ? run - b : 100;
			for (unsigned i = 0; i < k; i++, n++) {
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
			if (ev_ledger_append(l, in, k, &last, &err) != EV_OK)
				goto fail;
		}
		if (ev_ledger_checkpoint(l, "system", &cp, &err) != EV_OK)
			goto fail;
	}
	ev_ledger_close(l);
	return wal_checkpoint(dir);
fail:
	printf("# ledger: %s\n", err.msg);
	ev_ledger_close(l);
	return -1;
}

/* ---- the intruder: plain sqlite3 (and zstd) on a copy ---------------------------- */

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
	return exec1(db, "DROP TRIGGER bundles_no_update; DROP TRIGGER bundles_no_delete;"
			 "DROP TRIGGER bundle_stream_append_only; DROP TRIGGER bundle_stream_no_delete;"
			 "DROP TRIGGER hashes_no_update; DROP TRIGGER hashes_no_delete;"
			 "DROP TRIGGER tail_no_update; DROP TRIGGER tail_no_delete;");
}

/* Change one random letter or digit in s[a..b) to another of its class; -1 if none. */
static int
flip_alnum_in(char *s, size_t a, size_t b)
{
	size_t cand = 0, pick;

	for (size_t i = a; i < b; i++)
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			cand++;
	if (cand == 0)
		return -1;
	pick = (size_t)(rnd() % cand);
	for (size_t i = a; i < b; i++) {
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

/* Flip a letter or digit of the body of a leaf (between "body": and ,"kind":). */
static int
flip_body(char *leaf, size_t n)
{
	char *b = memmem(leaf, n, "\"body\":", 7), *k;

	if (b == NULL)
		return -1;
	k = memmem(b, n - (size_t)(b - leaf), ",\"kind\":", 8);
	if (k == NULL)
		return -1;
	return flip_alnum_in(leaf, (size_t)(b - leaf) + 7, (size_t)(k - leaf));
}

/* A bundle decompressed: raw bytes and where each entry starts. */
struct rawb {
	char *raw;
	size_t len;
	size_t off[256], elen[256];
};

static int sql_blob(sqlite3 *db, const char *sql, int64_t key, const void *p, size_t n);

#define CHUNK 4040 /* src/store/sqlite.c STREAM_CHUNK */

/* The compressed bytes of bundle n: its (off, len) in the stream, from the chunks. */
static unsigned char *
stream_read(sqlite3 *db, int64_t n, size_t *len, int64_t *off_out)
{
	sqlite3_stmt *s = NULL;
	int64_t off = -1, l = 0;
	unsigned char *z = NULL;
	size_t got = 0;

	if (sqlite3_prepare_v2(db, "SELECT off, len FROM bundles WHERE n = ?1", -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(s, 1, n);
	if (sqlite3_step(s) == SQLITE_ROW) {
		off = sqlite3_column_int64(s, 0);
		l = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (off < 0 || l <= 0 ||
	    sqlite3_prepare_v2(db, "SELECT id, data FROM bundle_stream WHERE id >= ?1 AND id <= ?2 ORDER BY id",
		-1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(s, 1, off / CHUNK);
	sqlite3_bind_int64(s, 2, (off + l - 1) / CHUNK);
	z = malloc((size_t)l);
	while (sqlite3_step(s) == SQLITE_ROW && got < (size_t)l) {
		const unsigned char *c = sqlite3_column_blob(s, 1);
		size_t cl = (size_t)sqlite3_column_bytes(s, 1), skip = got ? 0 : (size_t)(off % CHUNK), k;
		k = cl - skip < (size_t)l - got ? cl - skip : (size_t)l - got;
		memcpy(z + got, c + skip, k);
		got += k;
	}
	sqlite3_finalize(s);
	*len = got;
	if (off_out)
		*off_out = off;
	return z;
}

/* Overwrite bundle n's bytes in place (same length), chunk by chunk. */
static int
stream_patch(sqlite3 *db, int64_t off, const unsigned char *z, size_t len)
{
	for (size_t done = 0; done < len;) {
		int64_t chunk = (off + (int64_t)done) / CHUNK, at = (off + (int64_t)done) % CHUNK;
		sqlite3_stmt *s = NULL;
		unsigned char buf[CHUNK];
		size_t cl = 0, k;
		int rc = -1;
		if (sqlite3_prepare_v2(db, "SELECT data FROM bundle_stream WHERE id = ?1", -1, &s, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(s, 1, chunk);
			if (sqlite3_step(s) == SQLITE_ROW) {
				cl = (size_t)sqlite3_column_bytes(s, 0);
				memcpy(buf, sqlite3_column_blob(s, 0), cl);
				rc = 0;
			}
		}
		sqlite3_finalize(s);
		if (rc != 0)
			return -1;
		k = cl - (size_t)at < len - done ? cl - (size_t)at : len - done;
		memcpy(buf + at, z + done, k);
		if (sqlite3_prepare_v2(db, "UPDATE bundle_stream SET data = ?2 WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_int64(s, 1, chunk);
		sqlite3_bind_blob(s, 2, buf, (int)cl, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(s);
		if (rc != 0)
			return -1;
		done += k;
	}
	return 0;
}

static int
bundle_read(sqlite3 *db, int64_t n, struct rawb *b)
{
	size_t zl = 0;
	unsigned char *z = stream_read(db, n, &zl, NULL);
	int rc = -1;

	memset(b, 0, sizeof(*b));
	if (z) {
		unsigned long long raw = ZSTD_getFrameContentSize(z, zl);
		if (raw != ZSTD_CONTENTSIZE_ERROR && raw != ZSTD_CONTENTSIZE_UNKNOWN) {
			b->raw = malloc(raw);
			b->len = ZSTD_decompress(b->raw, raw, z, zl);
			if (!ZSTD_isError(b->len) && b->len == raw)
				rc = 0;
		}
	}
	free(z);
	for (size_t i = 0, off = 0; rc == 0 && i < 256; i++) {
		b->elen[i] = (size_t)((unsigned char)b->raw[off] << 8 | (unsigned char)b->raw[off + 1]);
		b->off[i] = off + 2;
		off += 2 + b->elen[i];
	}
	return rc;
}

/*
 * Rewrite bundle n as an intruder who knows the format would: the new
 * compressed bytes appended at the end of the stream (in new chunks), the
 * bundle row pointed at them.
 */
static int
bundle_write(sqlite3 *db, int64_t n, const struct rawb *b)
{
	sqlite3_stmt *s = NULL;
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t bound = ZSTD_compressBound(b->len), zl;
	unsigned char *z = malloc(bound);
	int64_t next = 0;
	int rc = -1;

	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	zl = ZSTD_compress2(c, z, bound, b->raw, b->len);
	if (ZSTD_isError(zl) ||
	    sqlite3_prepare_v2(db, "SELECT coalesce(max(id) + 1, 0) FROM bundle_stream", -1, &s, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(s) == SQLITE_ROW)
		next = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	for (size_t done = 0; done < zl; done += CHUNK) {
		size_t k = zl - done < CHUNK ? zl - done : CHUNK;
		if (sql_blob(db, "INSERT INTO bundle_stream(id, data) VALUES (?1, ?2)",
			next + (int64_t)(done / CHUNK), z + done, k) != 0)
			goto out;
	}
	if (sqlite3_prepare_v2(db, "UPDATE bundles SET off = ?2, len = ?3 WHERE n = ?1", -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, n);
	sqlite3_bind_int64(s, 2, next * CHUNK);
	sqlite3_bind_int64(s, 3, (int64_t)zl);
	rc = sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 : -1;
out:
	sqlite3_finalize(s);
	ZSTD_freeCCtx(c);
	free(z);
	return rc;
}

/* The Merkle tree hash of a decompressed bundle's 256 leaves. */
static void
bundle_root(const struct rawb *b, uint8_t out[32])
{
	uint8_t h[256][32];

	for (int i = 0; i < 256; i++)
		ev_merkle_leaf_hash(b->raw + b->off[i], b->elen[i], h[i]);
	for (int n = 256; n > 1; n /= 2)
		for (int i = 0; i < n / 2; i++)
			ev_merkle_node_hash(h[2 * i], h[2 * i + 1], h[i]);
	memcpy(out, h[0], 32);
}

static int
sql_blob(sqlite3 *db, const char *sql, int64_t key, const void *p, size_t n)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, key);
		sqlite3_bind_blob(s, 2, p, (int)n, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 : -1;
	}
	sqlite3_finalize(s);
	return rc;
}

/* A tail row's leaf (malloc'd) and hash. */
static int
tail_read(sqlite3 *db, int64_t seq, char **leaf, size_t *n, uint8_t hash[32])
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT leaf, leaf_hash FROM tail WHERE seq = ?1", -1, &s, NULL) !=
		SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, seq);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 1) == 32) {
		*n = (size_t)sqlite3_column_bytes(s, 0);
		*leaf = malloc(*n + 1);
		memcpy(*leaf, sqlite3_column_blob(s, 0), *n);
		(*leaf)[*n] = '\0';
		memcpy(hash, sqlite3_column_blob(s, 1), 32);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

enum kind { T_TAILBODY, T_TAILFIELD, T_TAILDEL, T_TRUNCATE, T_BUNDLEBODY, T_BUNDLEBYTE,
	T_BUNDLESWAP, T_BUNDLEHASH, T_BUNDLEDEL, T_TIMES, T_INDEX, T_REHASH, T__N };
static const char *const kind_name[T__N] = { "tailbody", "tailfield", "taildel", "truncate",
	"bundlebody", "bundlebyte", "bundleswap", "bundlehash", "bundledel", "times", "index",
	"rehash" };

/* What the verify message must say. */
struct expect {
	enum { X_ENTRY, X_RANGE, X_COVER } how;
	int64_t seq;            /* X_ENTRY: "entry SEQ: "; X_COVER: anything naming SEQ */
	int64_t first, last;    /* X_RANGE: "entries FIRST..LAST: " */
	const char *contains;   /* and this text, when not NULL */
	char what[200];         /* what was done, for the test line */
};

static void
expect_range(struct expect *x, int64_t bundle, const char *contains)
{
	x->how = X_RANGE;
	x->first = bundle * 256 + 1;
	x->last = bundle * 256 + 256;
	x->contains = contains;
}

static int
tamper(const char *dir, enum kind k, struct expect *x)
{
	char path[4200], sql[256];
	sqlite3 *db = NULL;
	struct rawb b;
	char *leaf = NULL;
	size_t ln = 0;
	uint8_t h[32];
	int rc = -1;

	memset(&b, 0, sizeof(b));
	memset(x, 0, sizeof(*x));
	snprintf(path, sizeof(path), "%s/evident.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	if (drop_triggers(db) != 0)
		goto out;
	switch (k) {
	case T_TAILBODY: {
		int64_t seq = (int64_t)rnd_between(TAIL0, NENTRIES);
		if (tail_read(db, seq, &leaf, &ln, h) != 0 || flip_body(leaf, ln) != 0 ||
		    sql_blob(db, "UPDATE tail SET leaf = ?2 WHERE seq = ?1", seq, leaf, ln) != 0)
			goto out;
		x->how = X_ENTRY;
		x->seq = seq;
		snprintf(x->what, sizeof(x->what), "one character of tail entry %" PRId64 "'s body", seq);
		break;
	}
	case T_TAILFIELD: {
		int64_t seq = (int64_t)rnd_between(TAIL0, NENTRIES);
		unsigned f = (unsigned)(rnd() % 5);
		static const char *const fname[] = { "kind", "subject", "time + 1us", "time - 1us",
			"leaf_hash" };
		static const char *const upd[] = { "kind = 'x' || kind", "subject = subject || 'x'",
			"time = time + 1", "time = time - 1" };
		if (f < 4) {
			snprintf(sql, sizeof(sql), "UPDATE tail SET %s WHERE seq = %" PRId64, upd[f], seq);
			if (exec1(db, sql) != 0 || sqlite3_changes(db) != 1)
				goto out;
		} else {
			if (tail_read(db, seq, &leaf, &ln, h) != 0)
				goto out;
			h[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8));
			if (sql_blob(db, "UPDATE tail SET leaf_hash = ?2 WHERE seq = ?1", seq, h, 32) != 0)
				goto out;
		}
		x->how = X_ENTRY;
		x->seq = seq;
		snprintf(x->what, sizeof(x->what), "the %s of tail entry %" PRId64, fname[f], seq);
		break;
	}
	case T_TAILDEL: {
		int64_t seq = (int64_t)rnd_between(TAIL0, NENTRIES - 1);
		snprintf(sql, sizeof(sql), "DELETE FROM tail WHERE seq = %" PRId64, seq);
		if (exec1(db, sql) != 0 || sqlite3_changes(db) != 1)
			goto out;
		x->how = X_ENTRY;
		x->seq = seq;
		x->contains = "missing";
		snprintf(x->what, sizeof(x->what), "tail entry %" PRId64 " deleted", seq);
		break;
	}
	case T_TRUNCATE: {
		/* Mostly a few tail rows; sometimes everything after the first bundle. */
		int deep = rnd() % 4 == 0;
		int64_t keep = deep ? 256 : (int64_t)rnd_between(TAIL0 - 1, NENTRIES - 1);
		snprintf(sql, sizeof(sql), "DELETE FROM tail WHERE seq > %" PRId64, keep);
		if (exec1(db, sql) != 0)
			goto out;
		if (deep && exec1(db, "DELETE FROM bundles WHERE n >= 1") != 0)
			goto out;
		x->how = X_ENTRY;
		x->seq = keep + 1;
		x->contains = "missing";
		snprintf(x->what, sizeof(x->what), "the entries after %" PRId64 " truncated", keep);
		break;
	}
	case T_BUNDLEBODY:
	case T_REHASH: {
		int64_t n = (int64_t)(rnd() % NBUNDLES), i = (int64_t)(rnd() % 256);
		int in_tail = k == T_REHASH && rnd() % 3 == 0;
		int64_t seq = in_tail ? (int64_t)rnd_between(TAIL0, NENTRIES) : n * 256 + i + 1;
		if (in_tail) {
			/* A tail entry changed and its stored leaf hash recomputed. */
			if (tail_read(db, seq, &leaf, &ln, h) != 0 || flip_body(leaf, ln) != 0)
				goto out;
			ev_merkle_leaf_hash(leaf, ln, h);
			if (sql_blob(db, "UPDATE tail SET leaf = ?2 WHERE seq = ?1", seq, leaf, ln) != 0 ||
			    sql_blob(db, "UPDATE tail SET leaf_hash = ?2 WHERE seq = ?1", seq, h, 32) != 0)
				goto out;
		} else {
			if (bundle_read(db, n, &b) != 0 || flip_body(b.raw + b.off[i], b.elen[i]) != 0 ||
			    bundle_write(db, n, &b) != 0)
				goto out;
			if (k == T_REHASH) {
				bundle_root(&b, h);
				if (sql_blob(db, "UPDATE bundles SET hash = ?2 WHERE n = ?1", n, h, 32) != 0)
					goto out;
			}
		}
		x->how = X_COVER;
		x->seq = seq;
		snprintf(x->what, sizeof(x->what), "entry %" PRId64 "'s body changed%s", seq,
		    k == T_REHASH ? (in_tail ? " and its leaf hash recomputed"
					     : " and its bundle's hash recomputed")
				  : " in its bundle");
		break;
	}
	case T_BUNDLEBYTE: {
		int64_t n = (int64_t)(rnd() % NBUNDLES), off = 0;
		size_t zl = 0;
		unsigned char *z = stream_read(db, n, &zl, &off);
		if (z == NULL || zl < 16) {
			free(z);
			goto out;
		}
		/* After the frame header: the payload or its checksum. */
		z[rnd_between(12, zl - 1)] ^= (uint8_t)(1u << (rnd() % 8));
		rc = stream_patch(db, off, z, zl);
		free(z);
		if (rc != 0)
			goto out;
		rc = -1;
		expect_range(x, n, NULL);
		snprintf(x->what, sizeof(x->what), "one bit of bundle %" PRId64 "'s compressed data", n);
		break;
	}
	case T_BUNDLESWAP: {
		int64_t n = (int64_t)(rnd() % NBUNDLES), i = (int64_t)(rnd() % 256), j;
		struct rawb c;
		do
			j = (int64_t)(rnd() % 256);
		while (j == i);
		if (i > j) {
			int64_t t = i;
			i = j;
			j = t;
		}
		if (bundle_read(db, n, &b) != 0)
			goto out;
		/* Rebuild the bundle with entries i and j exchanged. */
		memset(&c, 0, sizeof(c));
		c.raw = malloc(b.len);
		for (int e = 0; e < 256; e++) {
			int from = e == i ? (int)j : e == j ? (int)i : e;
			c.raw[c.len] = (char)(b.elen[from] >> 8);
			c.raw[c.len + 1] = (char)b.elen[from];
			memcpy(c.raw + c.len + 2, b.raw + b.off[from], b.elen[from]);
			c.len += 2 + b.elen[from];
		}
		rc = bundle_write(db, n, &c);
		free(c.raw);
		if (rc != 0)
			goto out;
		rc = -1;
		x->how = X_ENTRY;
		x->seq = n * 256 + i + 1;
		snprintf(x->what, sizeof(x->what), "entries %" PRId64 " and %" PRId64 " swapped in their bundle",
		    n * 256 + i + 1, n * 256 + j + 1);
		break;
	}
	case T_BUNDLEHASH: {
		int64_t n = (int64_t)(rnd() % NBUNDLES);
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(db, "SELECT hash FROM bundles WHERE n = ?1", -1, &s, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_int64(s, 1, n);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32)
			memcpy(h, sqlite3_column_blob(s, 0), 32);
		sqlite3_finalize(s);
		h[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8));
		if (sql_blob(db, "UPDATE bundles SET hash = ?2 WHERE n = ?1", n, h, 32) != 0)
			goto out;
		expect_range(x, n, "recorded tree hash");
		snprintf(x->what, sizeof(x->what), "one bit of bundle %" PRId64 "'s recorded hash", n);
		break;
	}
	case T_BUNDLEDEL:
		if (exec1(db, "DELETE FROM bundles WHERE n = 0") != 0)
			goto out;
		expect_range(x, 0, "missing");
		snprintf(x->what, sizeof(x->what), "the first bundle deleted");
		break;
	case T_TIMES: {
		int64_t n = (int64_t)(rnd() % NBUNDLES);
		int first = (int)(rnd() % 2);
		snprintf(sql, sizeof(sql), "UPDATE bundles SET %s = %s %s 1 WHERE n = %" PRId64,
		    first ? "first_time" : "last_time", first ? "first_time" : "last_time",
		    rnd() % 2 ? "+" : "-", n);
		if (exec1(db, sql) != 0 || sqlite3_changes(db) != 1)
			goto out;
		expect_range(x, n, "recorded times");
		snprintf(x->what, sizeof(x->what), "bundle %" PRId64 "'s recorded %s time", n,
		    first ? "first" : "last");
		break;
	}
	case T_INDEX: {
		int64_t n = (int64_t)(rnd() % (NBUNDLES + 1));
		/* ix is WITHOUT ROWID: pick a row by its key. */
		snprintf(sql, sizeof(sql),
		    "UPDATE ix SET count = count + 1 WHERE (kind, subject, n) = (SELECT kind, subject, n "
		    "FROM ix WHERE n = %" PRId64 " ORDER BY kind, subject LIMIT 1)", n);
		if (exec1(db, sql) != 0 || sqlite3_changes(db) != 1)
			goto out;
		expect_range(x, n, "index");
		snprintf(x->what, sizeof(x->what), "an index count of bundle %" PRId64, n);
		break;
	}
	default:
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		printf("# tamper %s failed: %s\n", kind_name[k], db ? sqlite3_errmsg(db) : "open");
	sqlite3_close(db);
	free(b.raw);
	free(leaf);
	return rc;
}

/* The first checkpoint at or after seq. */
static int64_t
checkpoint_after(int64_t seq)
{
	for (int64_t c = RUN + 1; c <= NENTRIES; c += RUN + 1)
		if (c >= seq)
			return c;
	return NENTRIES;
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
		/* The entry itself, a checkpoint at it, or a range over it ... */
		snprintf(want, sizeof(want), "entry %" PRId64 ": ", x->seq);
		if (strncmp(m, want, strlen(want)) == 0)
			return 1;
		snprintf(want, sizeof(want), "checkpoint at entry %" PRId64 ": ", x->seq);
		if (strncmp(m, want, strlen(want)) == 0)
			return 1;
		if (sscanf(m, "entries %lld..%lld: ", &a, &b) == 2 && a <= x->seq && x->seq <= b)
			return 1;
		/* ... or, when every stored hash over it was made to agree, the first
		 * checkpoint after it, whose signed root no longer matches. */
		c = checkpoint_after(x->seq);
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
	int iters = iter_s ? atoi(iter_s) : 360;
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

	CHECK(build_ledger(pristine, NRUNS, RUN, 0) == 0,
	    "pristine ledger built with the library: %d entries, checkpoints every %d", NENTRIES,
	    RUN + 1);
	CHECK(copy_ledger(pristine, copy) == 0 && (status = run_verify(copy, msg, sizeof(msg))) == 0,
	    "a plain copy of the pristine ledger verifies (exit 0) %s", msg);

	/* Dropping a trigger alone is noticed, and named. */
	{
		sqlite3 *db = NULL;
		char p[4300];
		snprintf(p, sizeof(p), "%s/evident.db", copy);
		sqlite3_open(p, &db);
		exec1(db, "DROP TRIGGER hashes_no_delete");
		sqlite3_close(db);
		status = run_verify(copy, msg, sizeof(msg));
		int single = one_line(msg);
		msg[strcspn(msg, "\n")] = '\0';
		CHECK(status == 3 && strstr(msg, "trigger hashes_no_delete is missing") && single,
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
		printf("# %-10s %d iterations\n", kind_name[k], counts[k]);

	/* The level-2 tile hash of a larger ledger: changed, then deleted. */
	{
		char big[2100];
		snprintf(big, sizeof(big), "%s/big", workdir);
		CHECK(build_ledger(big, 0, 0, BIG) == 0, "a ledger of %d entries", BIG);
		for (int del = 0; del < 2; del++) {
			sqlite3 *db = NULL;
			char p[4300];
			int ok;
			copy_ledger(big, copy);
			snprintf(p, sizeof(p), "%s/evident.db", copy);
			sqlite3_open(p, &db);
			drop_triggers(db);
			exec1(db, del ? "DELETE FROM hashes WHERE level = 2 AND n = 0"
				      : "UPDATE hashes SET hash = zeroblob(32) WHERE level = 2 AND n = 0");
			sqlite3_close(db);
			status = run_verify(copy, msg, sizeof(msg));
			ok = status == 3 && one_line(msg) &&
			    strstr(msg, "evident: verify: entries 1..65536: ") &&
			    strstr(msg, del ? "missing" : "does not match");
			if (!ok)
				printf("# exit %d, stderr: %s", status, msg);
			CHECK(ok, "the level-2 tile hash over entries 1..65536 %s: named",
			    del ? "deleted" : "changed");
		}
	}
	rm_rf(workdir);
	UNIT_END();
}
