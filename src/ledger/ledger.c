/*
 * ledger.c - the evidence ledger: opening, appends, checkpoints (see ledger.h).
 *
 * An append runs inside one store transaction.  It brings the writer state
 * (tree size, last time, the Merkle frontier and the partial bundle) to the
 * store's current size, builds each entry's canonical leaf, hashes it into
 * the frontier and runs the projectors.  Entries that complete a bundle
 * within this append go straight into it (the bundle is compressed and
 * written once, with its tree hash); the rest of the partial bundle becomes
 * tail rows.  Every internal node the frontier completes at a tile boundary
 * (heights 16, 24, ...) is stored as a tile hash; the height-8 node is the
 * bundle's own hash.  A failed append rolls back and drops the cached state,
 * which the next append reloads in O(log n) reads.
 *
 * Invariants: seq is dense from 1; time never decreases along seq; a
 * checkpoint entry at seq s covers exactly entries 1..s-1; bundles are
 * exactly the entries 1..256*B; the tail exactly 256*B+1 .. size.
 */
#include "ledger/ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "ledger/keys.h"
#include "ledger/projectors.h"
#include "util/enc.h"
#include "util/faultvfs.h"
#include "util/json.h"

static char *
path_join(const char *dir, const char *name)
{
	struct ev_buf b = EV_BUF_INIT;

	ev_buf_addf(&b, "%s/%s", dir, name);
	return ev_buf_detach(&b);
}

int
ev_ledger_init(const char *dir, const char *origin, struct ev_err *err)
{
	struct stat sb;
	char *db = path_join(dir, "evident.db");
	char def[EV_ORIGIN_MAX + 1];
	int rc;

	if (origin == NULL) {
		ev_origin_default(def);
		origin = def;
	}
	if (!ev_origin_valid(origin)) {
		rc = ev_errf(err, EV_EINVAL,
		    "origin '%s' is not usable: 1 to %d printable characters without spaces or '+' "
		    "(e.g. ca.example.com/evident)",
		    origin, EV_ORIGIN_MAX);
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = ev_errf(err, EV_EIO, "cannot create data directory %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if (stat(db, &sb) == 0) {
		rc = ev_errf(err, EV_EEXIST, "%s is already an evident data directory", dir);
		goto out;
	}
	if (access(dir, W_OK) != 0) {
		rc = ev_errf(err, EV_EIO, "data directory %s is not writable: %s", dir,
		    strerror(errno));
		goto out;
	}
	/* Key first: a store without a key would be an installation that cannot sign. */
	if ((rc = ev_key_generate(dir, err)) != EV_OK)
		goto out;
	rc = ev_store_create(db, origin, err);
out:
	free(db);
	return rc;
}

static int
setup_projectors(struct ev_ledger *l, struct ev_err *err)
{
	const struct ev_projector *const *P = ev_projectors_list();
	sqlite3 *db = ev_store_db(l->st);
	int rc;

	if ((rc = ev_store_begin(l->st, err)) != EV_OK)
		return rc;
	for (size_t i = 0; P[i]; i++) {
		if ((rc = P[i]->setup(db, err)) != EV_OK) {
			ev_store_rollback(l->st);
			return rc;
		}
	}
	return ev_store_commit(l->st, err);
}

/* Open the store and the codecs; allow_v1 for the migration only. */
int ev_ledger_open_store(const char *dir, int flags, int allow_v1, struct ev_ledger **out,
    struct ev_err *err);
int
ev_ledger_open_store(const char *dir, int flags, int allow_v1, struct ev_ledger **out,
    struct ev_err *err)
{
	struct ev_ledger *l;
	struct ev_buf origin = EV_BUF_INIT;
	struct stat sb;
	char *db;
	int rc;

	if (stat(dir, &sb) != 0)
		return ev_errf(err, EV_EIO, "data directory %s: %s (run 'evident init' first)",
		    dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return ev_errf(err, EV_EIO, "data directory %s is not a directory", dir);
	db = path_join(dir, "evident.db");
	if (stat(db, &sb) != 0) {
		free(db);
		return ev_errf(err, EV_EIO,
		    "%s is not an evident data directory (no evident.db; run 'evident init')",
		    dir);
	}
	/* A writer needs the directory too (SQLite's -wal and -shm files live there). */
	if (!(flags & EV_LEDGER_READONLY) && access(dir, W_OK) != 0) {
		free(db);
		return ev_errf(err, EV_EIO, "data directory %s is not writable: %s", dir,
		    strerror(errno));
	}
	l = ev_xcalloc(1, sizeof(*l));
	l->dir = ev_xstrdup(dir);
	l->flags = flags;
	l->lock_fd = -1;
	rc = ev_store_open(db, flags & EV_LEDGER_READONLY, allow_v1, &l->st, err);
	free(db);
	if (rc != EV_OK)
		goto fail;
	if (ev_store_format(l->st) == 2) {
		if ((rc = ev_store_meta_get(l->st, "origin", &origin, err)) != EV_OK)
			goto fail;
		snprintf(l->origin, sizeof(l->origin), "%s", origin.p ? origin.p : "");
		ev_buf_free(&origin);
	}
	l->cctx = ZSTD_createCCtx();
	l->dctx = ZSTD_createDCtx();
	if (l->cctx == NULL || l->dctx == NULL) {
		rc = ev_errf(err, EV_ENOMEM, "out of memory (zstd)");
		goto fail;
	}
	ZSTD_CCtx_setParameter(l->cctx, ZSTD_c_compressionLevel, EV_ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(l->cctx, ZSTD_c_checksumFlag, 1);
	*out = l;
	return EV_OK;
fail:
	ev_buf_free(&origin);
	ev_ledger_close(l);
	return rc;
}

int
ev_ledger_open(const char *dir, int flags, struct ev_ledger **out, struct ev_err *err)
{
	struct ev_ledger *l = NULL;
	int rc;

	if ((rc = ev_ledger_open_store(dir, flags, 0, &l, err)) != EV_OK)
		return rc;
	if (!(flags & EV_LEDGER_NOKEY) && !(flags & EV_LEDGER_READONLY)) {
		if ((rc = ev_key_load_private(dir, &l->key, err)) != EV_OK)
			goto fail;
	}
	if (!(flags & EV_LEDGER_READONLY) && (rc = setup_projectors(l, err)) != EV_OK)
		goto fail;
	*out = l;
	return EV_OK;
fail:
	ev_ledger_close(l);
	return rc;
}

void
ev_ledger_close(struct ev_ledger *l)
{
	if (l == NULL)
		return;
	if (l->st && l->in_tx)
		ev_store_rollback(l->st);
	if (l->st) {
		const struct ev_projector *const *P = ev_projectors_list();
		for (size_t i = 0; P[i]; i++) {
			if (P[i]->discard)
				P[i]->discard(ev_store_db(l->st));
			if (P[i]->detach)
				P[i]->detach(ev_store_db(l->st));
		}
	}
	ev_store_close(l->st);
	if (l->lock_fd >= 0)
		close(l->lock_fd); /* drops the lease with it */
	ev_key_free(l->key);
	ev_buf_free(&l->pb);
	ev_buf_free(&l->leaf);
	ev_buf_free(&l->body);
	ev_buf_free(&l->zbuf);
	for (size_t i = 0; i < l->nix; i++) {
		free(l->ix[i].kind);
		free(l->ix[i].subject);
	}
	free(l->ix);
	for (int i = 0; i < BC_SLOTS; i++)
		ev_buf_free(&l->bc[i].raw);
	free(l->ht);
	ZSTD_freeCCtx(l->cctx);
	ZSTD_freeDCtx(l->dctx);
	free(l->dir);
	free(l);
}

const char *
ev_ledger_dir(const struct ev_ledger *l)
{
	return l->dir;
}

const char *
ev_ledger_origin(const struct ev_ledger *l)
{
	return l->origin;
}

struct sqlite3 *
ev_ledger_db(struct ev_ledger *l)
{
	return ev_store_db(l->st);
}

int
ev_ledger_vkey(struct ev_ledger *l, struct ev_buf *out, struct ev_err *err)
{
	uint8_t pub[32];
	int rc;

	if ((rc = ev_key_load_public(l->dir, pub, err)) != EV_OK)
		return rc;
	ev_note_vkey(l->origin, EV_NOTE_ED25519, pub, out);
	return EV_OK;
}

void
ev_entry_leaf(const struct ev_entry *e, struct ev_buf *out)
{
	char t[EV_TIME_STRLEN];

	ev_time_format(e->time_us, t);
	ev_buf_reserve(out, e->body_len + 128);
	ev_buf_add(out, "{\"actor\":", 9);
	ev_buf_add_json_str(out, e->actor, strlen(e->actor));
	ev_buf_add(out, ",\"body\":", 8);
	ev_buf_add(out, e->body, e->body_len);
	ev_buf_add(out, ",\"kind\":", 8);
	ev_buf_add_json_str(out, e->kind, strlen(e->kind));
	ev_buf_add(out, ",\"seq\":", 7);
	ev_buf_add_u64(out, e->seq);
	ev_buf_add(out, ",\"subject\":", 11);
	ev_buf_add_json_str(out, e->subject, strlen(e->subject));
	ev_buf_add(out, ",\"time\":\"", 9);
	ev_buf_add(out, t, EV_TIME_STRLEN - 1);
	ev_buf_add(out, "\"}", 2);
}

/*
 * Build e's leaf into l->leaf (with a 0x00 byte in front, the RFC 9162 leaf
 * prefix) and hash it.  Returns the leaf length (without the prefix).
 */
uint64_t
ev_ledger_leaf_hash(struct ev_ledger *l, const struct ev_entry *e, uint8_t out[32])
{
	if (e->time_us != l->tcache_us || l->tcache[0] == '\0') {
		ev_time_format(e->time_us, l->tcache);
		l->tcache_us = e->time_us;
	}
	ev_buf_reset(&l->leaf);
	ev_buf_reserve(&l->leaf, e->body_len + 160);
	ev_buf_add(&l->leaf, "\0{\"actor\":", 10);
	ev_buf_add_json_str(&l->leaf, e->actor, strlen(e->actor));
	ev_buf_add(&l->leaf, ",\"body\":", 8);
	ev_buf_add(&l->leaf, e->body, e->body_len);
	ev_buf_add(&l->leaf, ",\"kind\":", 8);
	ev_buf_add_json_str(&l->leaf, e->kind, strlen(e->kind));
	ev_buf_add(&l->leaf, ",\"seq\":", 7);
	ev_buf_add_u64(&l->leaf, e->seq);
	ev_buf_add(&l->leaf, ",\"subject\":", 11);
	ev_buf_add_json_str(&l->leaf, e->subject, strlen(e->subject));
	ev_buf_add(&l->leaf, ",\"time\":\"", 9);
	ev_buf_add(&l->leaf, l->tcache, EV_TIME_STRLEN - 1);
	ev_buf_add(&l->leaf, "\"}", 2);
	ev_sha256((const uint8_t *)l->leaf.p, l->leaf.len, out);
	return l->leaf.len - 1;
}

static int
valid_kind(const char *k)
{
	size_t n = strlen(k);
	int seg_start = 1;

	if (n == 0 || n > EV_KIND_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (c == '.') {
			if (seg_start)
				return 0;
			seg_start = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
		if (seg_start && i == 0 && !(c >= 'a' && c <= 'z'))
			return 0;
		seg_start = 0;
	}
	return !seg_start;
}

static int
valid_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !ev_utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
check_entry_in(const struct ev_entry_in *in, struct ev_err *err)
{
	if (in->kind == NULL || !valid_kind(in->kind))
		return ev_errf(err, EV_EINVAL,
		    "kind '%s' is not a dotted lower-case name (a-z, 0-9, _ and -, at most %d)",
		    in->kind ? in->kind : "", EV_KIND_MAX);
	if (in->subject == NULL || !valid_text(in->subject, EV_SUBJECT_MAX))
		return ev_errf(err, EV_EINVAL,
		    "subject must be 1 to %d bytes of UTF-8 without control characters",
		    EV_SUBJECT_MAX);
	if (in->actor == NULL || !valid_text(in->actor, EV_ACTOR_MAX))
		return ev_errf(err, EV_EINVAL,
		    "actor must be 1 to %d bytes of UTF-8 without control characters",
		    EV_ACTOR_MAX);
	if (in->body == NULL)
		return ev_errf(err, EV_EINVAL, "body is missing");
	return EV_OK;
}

/* ---- the append lease ---- */

int
ev_lease_acquire(struct ev_ledger *l, struct ev_err *err)
{
	struct timespec ts;
	unsigned waited_us = 0, step = 200;

	if (l->lease_external || l->lease_held)
		return EV_OK;
	if (l->lock_fd < 0) {
		char *path = path_join(l->dir, "ledger.lock");
		l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		free(path);
		if (l->lock_fd < 0)
			return ev_errf(err, EV_EIO, "cannot open %s/ledger.lock: %s", l->dir,
			    strerror(errno));
	}
	/* Poll rather than block: the wait is bounded, and a waiter wakes within ~2 ms. */
	while (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return ev_errf(err, EV_EIO, "cannot lock %s/ledger.lock: %s", l->dir,
			    strerror(errno));
		if (waited_us >= EV_LEASE_WAIT_MS * 1000u)
			return ev_errf(err, EV_EBUSY,
			    "the ledger is busy: another writer has held it for %d s", EV_LEASE_WAIT_MS / 1000);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step * 1000;
		nanosleep(&ts, NULL);
		waited_us += step;
		if (step < 2000)
			step *= 2;
	}
	l->lease_held = 1;
	return EV_OK;
}

void
ev_lease_release(struct ev_ledger *l)
{
	if (l->lease_external || !l->lease_held)
		return;
	flock(l->lock_fd, LOCK_UN);
	l->lease_held = 0;
}

/* ---- projectors ---- */

static int
run_projectors(struct ev_ledger *l, const struct ev_entry *e, struct ev_err *err)
{
	const struct ev_projector *const *P = ev_projectors_list();
	sqlite3 *db = ev_store_db(l->st);
	int rc;

	for (size_t i = 0; P[i]; i++) {
		const char *p = P[i]->kind_prefix;
		if (p && strncmp(e->kind, p, strlen(p)) != 0)
			continue;
		if ((rc = P[i]->apply(db, e, err)) != EV_OK)
			return rc;
	}
	return EV_OK;
}

/* Projectors' pending rows go in just before a commit; a failure aborts it. */
static int
flush_projectors(struct ev_ledger *l, struct ev_err *err)
{
	const struct ev_projector *const *P = ev_projectors_list();
	int rc;

	for (size_t i = 0; P[i]; i++)
		if (P[i]->flush && (rc = P[i]->flush(ev_store_db(l->st), err)) != EV_OK)
			return rc;
	return EV_OK;
}

static void
discard_projectors(struct ev_ledger *l)
{
	const struct ev_projector *const *P = ev_projectors_list();

	for (size_t i = 0; P[i]; i++)
		if (P[i]->discard)
			P[i]->discard(ev_store_db(l->st));
}

/* ---- writer state ---- */

static void
ix_reset(struct ev_ledger *l)
{
	for (size_t i = 0; i < l->nix; i++) {
		free(l->ix[i].kind);
		free(l->ix[i].subject);
	}
	l->nix = 0;
}

/* Forget everything cached about the store (after a rollback or a failure). */
static void
state_drop(struct ev_ledger *l)
{
	l->state_ok = 0;
	ix_reset(l);
	ev_read_cache_clear(l);
}

static int
tail_load_cb(const struct ev_tail_row *r, void *arg)
{
	struct ev_ledger *l = arg;
	uint8_t len[2];

	if (r->leaf_len > EV_LEAF_MAX || r->seq != l->size - (l->size % EV_BUNDLE) + l->pb_count + 1)
		return EV_ECORRUPT;
	if (l->pb_count == 0)
		l->pb_first = r->time_us;
	len[0] = (uint8_t)(r->leaf_len >> 8);
	len[1] = (uint8_t)r->leaf_len;
	ev_buf_add(&l->pb, (const char *)len, 2);
	ev_buf_add(&l->pb, (const char *)r->leaf, r->leaf_len);
	l->pb_count++;
	return EV_OK;
}

int
ev_ledger_sync_state(struct ev_ledger *l, struct ev_err *err)
{
	struct ev_merkle_src src = ev_ledger_src(l);
	uint64_t size;
	int64_t t;
	int rc;

	if ((rc = ev_store_last(l->st, &size, &t, err)) != EV_OK)
		return rc;
	if (l->state_ok && l->size == size)
		return EV_OK;
	state_drop(l);
	l->size = size;
	l->last_time = t;
	if ((rc = ev_merkle_frontier_load(&l->fr, &src, size)) != 0)
		return ev_ledger_src_fail(l, rc, err);
	ev_buf_reset(&l->pb);
	l->pb_count = 0;
	l->pb_first = 0;
	l->pb_hash_set = 0;
	rc = ev_store_tail_scan(l->st, size - size % EV_BUNDLE + 1, tail_load_cb, l, err);
	if (rc == EV_ECORRUPT || (rc == EV_OK && l->pb_count != size % EV_BUNDLE))
		return ev_errf(err, EV_ECORRUPT,
		    "entries %llu..%llu: the partial bundle's rows are missing or out of order; run "
		    "evident verify",
		    (unsigned long long)(size - size % EV_BUNDLE + 1), (unsigned long long)size);
	if (rc != EV_OK)
		return rc;
	l->state_ok = 1;
	return EV_OK;
}

static int
emit_node(void *arg, unsigned level, uint64_t idx, const uint8_t hash[32])
{
	struct ev_ledger *l = arg;

	if (level == 8) {
		memcpy(l->pb_hash, hash, 32);
		l->pb_hash_set = 1;
		return EV_OK;
	}
	if (level % 8 != 0)
		return EV_OK;
	return ev_store_hash_put(l->st, level / 8, idx, hash, &l->src_err);
}

static int
ix_count(struct ev_ledger *l, const char *kind, const char *subject, uint64_t seq)
{
	uint64_t n = (seq - 1) / EV_BUNDLE;

	/* Entries come in seq order: the rows of their bundle are the last ones. */
	for (size_t i = l->nix; i-- > 0 && l->ix[i].n == n;) {
		struct ixacc *a = &l->ix[i];
		if (strcmp(a->kind, kind) == 0 && strcmp(a->subject, subject) == 0) {
			a->count++;
			return EV_OK;
		}
	}
	if (l->nix == l->capix) {
		l->capix = l->capix ? 2 * l->capix : 16;
		l->ix = ev_xrealloc(l->ix, l->capix * sizeof(*l->ix));
	}
	l->ix[l->nix].kind = ev_xstrdup(kind);
	l->ix[l->nix].subject = ev_xstrdup(subject);
	l->ix[l->nix].n = n;
	l->ix[l->nix].count = 1;
	l->nix++;
	return EV_OK;
}

int
ev_ledger_flush_ix(struct ev_ledger *l, struct ev_err *err)
{
	int rc;

	for (size_t i = 0; i < l->nix; i++)
		if ((rc = ev_store_ix_add(l->st, l->ix[i].kind, l->ix[i].subject, l->ix[i].n,
			 l->ix[i].count, err)) != EV_OK)
			return rc;
	ix_reset(l);
	return EV_OK;
}

/* The partial bundle just filled: compress and write it, and drop its tail rows. */
static int
write_bundle(struct ev_ledger *l, int64_t last_time, struct ev_err *err)
{
	struct ev_bundle_row b;
	size_t bound = ZSTD_compressBound(l->pb.len), z;
	int rc;

	if (!l->pb_hash_set)
		return ev_errf(err, EV_EIO, "internal: bundle completed without its tree hash");
	ev_buf_reset(&l->zbuf);
	ev_buf_reserve(&l->zbuf, bound);
	z = ZSTD_compress2(l->cctx, l->zbuf.p, bound, l->pb.p, l->pb.len);
	if (ZSTD_isError(z))
		return ev_errf(err, EV_EIO, "cannot compress a bundle: %s", ZSTD_getErrorName(z));
	b.n = l->size / EV_BUNDLE - 1;
	b.first_time = l->pb_first;
	b.last_time = last_time;
	b.raw_len = l->pb.len;
	memcpy(b.hash, l->pb_hash, 32);
	if ((rc = ev_store_bundle_put(l->st, &b, l->zbuf.p, z, err)) != EV_OK ||
	    (rc = ev_store_tail_drop(l->st, b.n, err)) != EV_OK)
		return rc;
	ev_buf_reset(&l->pb);
	l->pb_count = 0;
	l->pb_hash_set = 0;
	return EV_OK;
}

/*
 * Add one entry whose leaf is in l->leaf (after the 0x00 prefix) with its
 * hash: into the frontier, the partial bundle, and the tail (unless this
 * append fills its bundle).
 */
static int
add_leaf(struct ev_ledger *l, const struct ev_entry *e, const uint8_t lh[32], struct ev_err *err)
{
	const char *leaf = l->leaf.p + 1;
	size_t n = l->leaf.len - 1;
	uint8_t len[2];
	int rc;

	if (n > EV_LEAF_MAX)
		return ev_errf(err, EV_EINVAL,
		    "entry is %zu bytes, over the ledger's limit of %u per entry; record large "
		    "content as an evidence file and its SHA-256 in the entry",
		    n, EV_LEAF_MAX);
	if ((rc = ev_merkle_frontier_push(&l->fr, lh, emit_node, l)) != 0)
		return ev_ledger_src_fail(l, rc, err);
	l->size = e->seq;
	l->last_time = e->time_us;
	if (l->pb_count == 0)
		l->pb_first = e->time_us;
	len[0] = (uint8_t)(n >> 8);
	len[1] = (uint8_t)n;
	ev_buf_add(&l->pb, (const char *)len, 2);
	ev_buf_add(&l->pb, leaf, n);
	l->pb_count++;
	ix_count(l, e->kind, e->subject, e->seq);
	if (l->pb_count == EV_BUNDLE)
		return write_bundle(l, e->time_us, err);
	if (e->seq > l->full_upto) {
		struct ev_tail_row r = { e->seq, e->time_us, e->kind, e->subject,
			(const uint8_t *)leaf, n, lh };
		return ev_store_tail_put(l->st, &r, err);
	}
	return EV_OK;
}

static int
append_locked(struct ev_ledger *l, const struct ev_entry_in *in, size_t n, uint64_t *last,
    struct ev_err *err)
{
	uint64_t seq;
	int64_t t, now;
	int rc;

	if ((rc = ev_ledger_sync_state(l, err)) != EV_OK)
		return rc;
	seq = l->size;
	t = l->last_time;
	l->full_upto = (seq + n) - (seq + n) % EV_BUNDLE;
	now = ev_time_now_us();
	for (size_t i = 0; i < n; i++) {
		struct ev_entry e;
		uint8_t lh[32];
		size_t blen = in[i].body_len ? in[i].body_len : (in[i].body ? strlen(in[i].body) : 0);

		if ((rc = check_entry_in(&in[i], err)) != EV_OK)
			return rc;
		ev_buf_reset(&l->body);
		if (l->bodies_checked && blen <= EV_BODY_MAX)
			ev_buf_add(&l->body, in[i].body, blen);
		else if ((rc = ev_json_canonical(in[i].body, blen, &l->body, err)) != EV_OK)
			return rc;
		seq++;
		if (now > t)
			t = now;
		e.seq = seq;
		e.time_us = t;
		e.kind = in[i].kind;
		e.subject = in[i].subject;
		e.actor = in[i].actor;
		e.body = l->body.p;
		e.body_len = l->body.len;
		ev_ledger_leaf_hash(l, &e, lh);
		e.leaf_hash = lh;
		if ((rc = add_leaf(l, &e, lh, err)) != EV_OK)
			return rc;
		if ((rc = run_projectors(l, &e, err)) != EV_OK)
			return rc;
	}
	if ((rc = ev_ledger_flush_ix(l, err)) != EV_OK)
		return rc;
	if (last)
		*last = seq;
	return EV_OK;
}

int
ev_ledger_append_raw(struct ev_ledger *l, const struct ev_entry *e, size_t n, struct ev_err *err)
{
	int rc;

	if ((rc = ev_ledger_sync_state(l, err)) != EV_OK)
		return rc;
	l->full_upto = (l->size + n) - (l->size + n) % EV_BUNDLE;
	for (size_t i = 0; i < n; i++) {
		uint8_t lh[32];
		if (e[i].seq != l->size + 1 || e[i].time_us < l->last_time)
			return ev_errf(err, EV_ECORRUPT, "entry %llu: out of order",
			    (unsigned long long)e[i].seq);
		ev_ledger_leaf_hash(l, &e[i], lh);
		if (e[i].leaf_hash && memcmp(lh, e[i].leaf_hash, 32) != 0)
			return ev_errf(err, EV_ECORRUPT,
			    "entry %llu: its bytes do not match its recorded leaf hash",
			    (unsigned long long)e[i].seq);
		if ((rc = add_leaf(l, &e[i], lh, err)) != EV_OK)
			return rc;
	}
	return EV_OK;
}

/* Flush projectors and commit; on any failure everything is rolled back. */
static int
commit_all(struct ev_ledger *l, struct ev_err *err)
{
	int rc = flush_projectors(l, err);

	if (rc != EV_OK) {
		discard_projectors(l);
		ev_store_rollback(l->st);
		state_drop(l);
		return rc;
	}
	if ((rc = ev_store_commit(l->st, err)) != EV_OK) {
		discard_projectors(l);
		state_drop(l);
	}
	return rc;
}

int
ev_ledger_begin(struct ev_ledger *l, struct ev_err *err)
{
	int rc;

	if (l->flags & EV_LEDGER_READONLY)
		return ev_errf(err, EV_EDENIED, "the ledger is open read-only");
	if (l->in_tx)
		return ev_errf(err, EV_ESTATE, "a transaction is already open");
	if ((rc = ev_lease_acquire(l, err)) != EV_OK)
		return rc;
	if ((rc = ev_store_begin(l->st, err)) != EV_OK) {
		ev_lease_release(l);
		return rc;
	}
	l->in_tx = 1;
	return EV_OK;
}

int
ev_ledger_commit(struct ev_ledger *l, struct ev_err *err)
{
	int rc;

	if (!l->in_tx)
		return ev_errf(err, EV_ESTATE, "no transaction is open");
	l->in_tx = 0;
	rc = commit_all(l, err);
	ev_lease_release(l);
	return rc;
}

void
ev_ledger_rollback(struct ev_ledger *l)
{
	if (!l->in_tx)
		return;
	l->in_tx = 0;
	state_drop(l);
	discard_projectors(l);
	ev_store_rollback(l->st);
	ev_lease_release(l);
}

int
ev_ledger_append(struct ev_ledger *l, const struct ev_entry_in *in, size_t n,
    uint64_t *last_seq, struct ev_err *err)
{
	int rc, own = !l->in_tx;

	if (l->flags & EV_LEDGER_READONLY)
		return ev_errf(err, EV_EDENIED, "the ledger is open read-only");
	if (own && (rc = ev_lease_acquire(l, err)) != EV_OK)
		return rc;
	if (own && (rc = ev_store_begin(l->st, err)) != EV_OK) {
		ev_lease_release(l);
		return rc;
	}
	rc = append_locked(l, in, n, last_seq, err);
	if (rc != EV_OK) {
		/* Inside a caller's transaction the whole transaction is lost: say so. */
		state_drop(l);
		if (own) {
			discard_projectors(l);
			ev_store_rollback(l->st);
			ev_lease_release(l);
		}
		return rc;
	}
	if (own) {
		rc = commit_all(l, err);
		ev_lease_release(l);
	}
	return rc;
}

int
ev_ledger_size(struct ev_ledger *l, uint64_t *size, struct ev_err *err)
{
	int64_t t;

	return ev_store_last(l->st, size, &t, err);
}

/* ---- checkpoints ---- */

void
ev_checkpoint_note(const struct ev_checkpoint *cp, struct ev_buf *out)
{
	char root[2 * EV_HASH_LEN + 1], t[EV_TIME_STRLEN];

	if (cp->version >= 2) {
		ev_cp_text_format(cp->origin, cp->size, cp->root, cp->time_us, out);
		return;
	}
	ev_hex_encode(cp->root, EV_HASH_LEN, root);
	ev_time_format(cp->time_us, t);
	ev_buf_addf(out, "evident checkpoint v1\nsize %llu\nroot %s\ntime %s\n",
	    (unsigned long long)cp->size, root, t);
}

int
ev_checkpoint_verify_sig(const struct ev_checkpoint *cp, const uint8_t pub[32])
{
	struct ev_buf note = EV_BUF_INIT;
	int rc;

	ev_checkpoint_note(cp, &note);
	rc = ev_key_verify(pub, note.p, note.len, cp->sig);
	if (rc == 0 && cp->version >= 2 &&
	    strtoul(cp->key_id, NULL, 16) != ev_note_key_id(cp->origin, EV_NOTE_ED25519, pub))
		rc = -1;
	ev_buf_free(&note);
	return rc;
}

int
ev_checkpoint_from_note(const char *note, size_t n, const uint8_t pub[32],
    struct ev_checkpoint *cp, const char **why)
{
	struct ev_note_sig *sigs = NULL;
	struct ev_note_vkey k;
	struct ev_cp_text t;
	size_t tl, ns;
	int rc = -1;

	memset(cp, 0, sizeof(*cp));
	if (n >= sizeof(cp->note))
		return *why = "the checkpoint note is too large", -1;
	sigs = ev_xcalloc(EV_NOTE_MAX_SIGS, sizeof(*sigs));
	if (ev_note_split(note, n, &tl, sigs, EV_NOTE_MAX_SIGS, &ns, why) != 0 ||
	    ev_cp_text_parse(note, tl, &t, why) != 0)
		goto out;
	if (!ev_origin_valid(t.origin)) {
		*why = "the checkpoint's origin is not a valid key name";
		goto out;
	}
	snprintf(k.name, sizeof(k.name), "%s", t.origin);
	k.type = EV_NOTE_ED25519;
	memcpy(k.pub, pub, 32);
	k.id = ev_note_key_id(k.name, k.type, pub);
	*why = "the checkpoint is not signed by this installation's key under its origin";
	for (size_t i = 0; i < ns; i++) {
		if (sigs[i].id != k.id || strcmp(sigs[i].name, k.name) != 0)
			continue;
		if (sigs[i].sig_len != 64 || ev_key_verify(pub, note, tl, sigs[i].sig) != 0) {
			*why = "the checkpoint's signature does not verify";
			goto out;
		}
		memcpy(cp->sig, sigs[i].sig, 64);
		rc = 0;
		break;
	}
	if (rc != 0)
		goto out;
	if (t.time_us == 0) {
		rc = -1;
		*why = "the checkpoint has no time line";
		goto out;
	}
	cp->version = 2;
	cp->size = t.size;
	memcpy(cp->root, t.root, 32);
	cp->time_us = t.time_us;
	snprintf(cp->origin, sizeof(cp->origin), "%s", t.origin);
	snprintf(cp->key_id, sizeof(cp->key_id), "%08x", (unsigned)k.id);
	memcpy(cp->note, note, n);
	cp->note[n] = '\0';
	cp->note_len = n;
out:
	free(sigs);
	return rc;
}

/* Parse a checkpoint entry's body (either version) into cp; -1 with why. */
int
ev_checkpoint_parse_entry(const struct ev_entry *e, struct ev_checkpoint *cp, const char **why)
{
	json_error_t je;
	json_t *v = json_loadb(e->body, e->body_len, 0, &je);
	const char *root, *sig, *kid, *t, *note;
	json_t *size;
	int rc = -1;

	memset(cp, 0, sizeof(*cp));
	*why = "body is not a checkpoint";
	if (v == NULL)
		return -1;
	if ((note = ev_json_str(v, "note")) != NULL) {
		/* Version 2: the note is the checkpoint; the other fields are for readers. */
		size_t n = strlen(note);
		struct ev_note_sig sigs[4];
		struct ev_cp_text ct;
		size_t tl, ns;
		if (n >= sizeof(cp->note) ||
		    ev_note_split(note, n, &tl, sigs, 4, &ns, why) != 0 ||
		    ev_cp_text_parse(note, tl, &ct, why) != 0 || ns < 1 || sigs[0].sig_len != 64)
			goto out;
		cp->version = 2;
		cp->size = ct.size;
		memcpy(cp->root, ct.root, 32);
		cp->time_us = ct.time_us;
		snprintf(cp->origin, sizeof(cp->origin), "%s", ct.origin);
		snprintf(cp->key_id, sizeof(cp->key_id), "%08x", (unsigned)sigs[0].id);
		memcpy(cp->sig, sigs[0].sig, 64);
		memcpy(cp->note, note, n);
		cp->note[n] = '\0';
		cp->note_len = n;
		if (strcmp(sigs[0].name, ct.origin) != 0) {
			*why = "the note's signature is not under its origin";
			goto out;
		}
		cp->seq = e->seq;
		rc = 0;
		goto out;
	}
	root = ev_json_str(v, "root");
	sig = ev_json_str(v, "signature");
	kid = ev_json_str(v, "key_id");
	t = ev_json_str(v, "time");
	size = json_object_get(v, "size");
	if (!root || !sig || !kid || !t || !json_is_integer(size) ||
	    json_integer_value(size) < 0)
		goto out;
	if (ev_hex_decode(root, strlen(root), cp->root, EV_HASH_LEN) != EV_HASH_LEN ||
	    strlen(root) != 2 * EV_HASH_LEN) {
		*why = "root is not 64 hex digits";
		goto out;
	}
	if (ev_b64_decode(sig, strlen(sig), cp->sig, 64) != 64) {
		*why = "signature is not 64 bytes of base64";
		goto out;
	}
	if (ev_time_parse(t, &cp->time_us) != 0) {
		*why = "time is malformed";
		goto out;
	}
	cp->version = 1;
	snprintf(cp->key_id, sizeof(cp->key_id), "%s", kid);
	cp->size = (uint64_t)json_integer_value(size);
	cp->seq = e->seq;
	rc = 0;
out:
	json_decref(v);
	return rc;
}

/* Write DATA/checkpoint atomically: temporary file, fsync, rename, fsync of the directory. */
static int
write_latest_checkpoint(struct ev_ledger *l, const struct ev_checkpoint *cp, struct ev_err *err)
{
	char *tmp = path_join(l->dir, "checkpoint.tmp"), *path = path_join(l->dir, "checkpoint");
	int fd, dfd, rc = EV_OK;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ev_fault_hit() || write(fd, cp->note, cp->note_len) != (ssize_t)cp->note_len ||
	    ev_fault_hit() || fsync(fd) != 0) {
		rc = ev_errf(err, EV_EIO, "cannot write %s: %s", tmp,
		    errno ? strerror(errno) : "injected fault");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (ev_fault_hit() || rename(tmp, path) != 0) {
		rc = ev_errf(err, EV_EIO, "cannot rename %s: %s", tmp,
		    errno ? strerror(errno) : "injected fault");
		goto out;
	}
	if ((dfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	free(tmp);
	free(path);
	return rc;
}

int
ev_ledger_checkpoint(struct ev_ledger *l, const char *actor, struct ev_checkpoint *cp,
    struct ev_err *err)
{
	struct ev_buf text = EV_BUF_INIT, body = EV_BUF_INIT;
	char root[2 * EV_HASH_LEN + 1], sig[89], t[EV_TIME_STRLEN];
	uint8_t pub[32];
	uint32_t id;
	int rc, own = !l->in_tx;

	if (l->key == NULL)
		return ev_errf(err, EV_EDENIED, "the signing key is not loaded");
	if ((rc = ev_key_load_public(l->dir, pub, err)) != EV_OK) {
		/* The ledger is intact; it is the key file that cannot be used (exit 1, not 3). */
		if (rc == EV_ECORRUPT && err)
			err->code = EV_EIO;
		return rc == EV_ECORRUPT ? EV_EIO : rc;
	}
	if (own && (rc = ev_lease_acquire(l, err)) != EV_OK)
		return rc;
	if (own && (rc = ev_store_begin(l->st, err)) != EV_OK) {
		ev_lease_release(l);
		return rc;
	}
	if ((rc = ev_ledger_sync_state(l, err)) != EV_OK)
		goto fail;
	memset(cp, 0, sizeof(*cp));
	cp->version = 2;
	cp->size = l->size;
	ev_merkle_frontier_root(&l->fr, cp->root);
	cp->time_us = ev_time_now_us();
	if (cp->time_us < l->last_time)
		cp->time_us = l->last_time;
	snprintf(cp->origin, sizeof(cp->origin), "%s", l->origin);
	id = ev_note_key_id(l->origin, EV_NOTE_ED25519, pub);
	snprintf(cp->key_id, sizeof(cp->key_id), "%08x", (unsigned)id);
	ev_cp_text_format(cp->origin, cp->size, cp->root, cp->time_us, &text);
	if ((rc = ev_key_sign(l->key, text.p, text.len, cp->sig, err)) != EV_OK)
		goto fail;
	/* A signature key.pub cannot check would be recorded for good and never verify. */
	if (ev_key_verify(pub, text.p, text.len, cp->sig) != 0) {
		rc = ev_errf(err, EV_EIO, "signing key %s/key.pem does not match %s/key.pub", l->dir,
		    l->dir);
		goto fail;
	}
	ev_buf_addc(&text, '\n');
	ev_note_sig_line(cp->origin, id, cp->sig, 64, &text);
	if (text.len >= sizeof(cp->note)) {
		rc = ev_errf(err, EV_EINVAL, "the checkpoint note is too long");
		goto fail;
	}
	memcpy(cp->note, text.p, text.len);
	cp->note[text.len] = '\0';
	cp->note_len = text.len;
	ev_hex_encode(cp->root, EV_HASH_LEN, root);
	ev_b64_encode(cp->sig, 64, sig);
	ev_time_format(cp->time_us, t);
	ev_buf_adds(&body, "{\"key_id\":\"");
	ev_buf_adds(&body, cp->key_id);
	ev_buf_adds(&body, "\",\"note\":");
	ev_buf_add_json_str(&body, cp->note, cp->note_len);
	ev_buf_adds(&body, ",\"origin\":");
	ev_buf_add_json_str(&body, cp->origin, strlen(cp->origin));
	ev_buf_addf(&body, ",\"root\":\"%s\",\"signature\":\"%s\",\"size\":%llu,\"time\":\"%s\"}",
	    root, sig, (unsigned long long)cp->size, t);
	struct ev_entry_in in = { "checkpoint", "ledger", actor ? actor : "system", body.p,
		body.len };
	if ((rc = append_locked(l, &in, 1, &cp->seq, err)) != EV_OK)
		goto fail;
	if (own && (rc = commit_all(l, err)) != EV_OK) {
		ev_lease_release(l);
		goto out;
	}
	/* Still under the lease: two checkpoints cannot write the file out of order. */
	rc = write_latest_checkpoint(l, cp, err);
	if (own)
		ev_lease_release(l);
	goto out;
fail:
	state_drop(l);
	if (own) {
		discard_projectors(l);
		ev_store_rollback(l->st);
		ev_lease_release(l);
	}
out:
	ev_buf_free(&text);
	ev_buf_free(&body);
	return rc;
}

struct cp_find {
	struct ev_checkpoint *cp;
	int found;
	const char *why;
};

static int
cp_find_cb(const struct ev_entry *e, void *arg)
{
	struct cp_find *f = arg;

	if (ev_checkpoint_parse_entry(e, f->cp, &f->why) != 0)
		return EV_ECORRUPT;
	f->found = 1;
	return 1;
}

int
ev_ledger_latest_checkpoint(struct ev_ledger *l, struct ev_checkpoint *cp, struct ev_err *err)
{
	struct ev_query q = { 0 };
	struct cp_find f = { NULL, 0, NULL };
	int rc;

	memset(cp, 0, sizeof(*cp)); /* defined output even when none is found */
	f.cp = cp;
	q.kind = "checkpoint";
	q.descending = 1;
	q.limit = 1;
	rc = ev_ledger_scan(l, &q, cp_find_cb, &f, err);
	if (rc == EV_ECORRUPT)
		return ev_errf(err, EV_ECORRUPT, "latest checkpoint entry: %s", f.why);
	if (rc < 0 || (rc != 1 && rc != EV_OK))
		return rc;
	if (!f.found)
		return ev_errf(err, EV_ENOTFOUND, "no checkpoint has been recorded");
	return EV_OK;
}

int
ev_ledger_public_key(struct ev_ledger *l, uint8_t pub[32], struct ev_err *err)
{
	return ev_key_load_public(l->dir, pub, err);
}

int
ev_ledger_root(struct ev_ledger *l, uint64_t size, uint8_t root[EV_HASH_LEN],
    struct ev_err *err)
{
	struct ev_merkle_src src = ev_ledger_src(l);
	uint64_t n;
	int rc;

	if ((rc = ev_ledger_size(l, &n, err)) != EV_OK)
		return rc;
	if (size > n)
		return ev_errf(err, EV_EINVAL, "tree size %llu is larger than the ledger (%llu)",
		    (unsigned long long)size, (unsigned long long)n);
	if (size == 0) {
		ev_merkle_empty_root(root);
		return EV_OK;
	}
	if ((rc = ev_merkle_range_root(&src, 0, size, root)) != 0)
		return ev_ledger_src_fail(l, rc, err);
	return EV_OK;
}

int
ev_ledger_prove_inclusion(struct ev_ledger *l, uint64_t seq, uint64_t size,
    uint8_t leaf_hash[EV_HASH_LEN], uint8_t root[EV_HASH_LEN],
    uint8_t proof[][EV_HASH_LEN], size_t *n, struct ev_err *err)
{
	struct ev_merkle_src src = ev_ledger_src(l);
	uint64_t cur;
	int rc;

	if ((rc = ev_ledger_size(l, &cur, err)) != EV_OK)
		return rc;
	if (size == 0)
		size = cur;
	if (size > cur)
		return ev_errf(err, EV_EINVAL, "tree size %llu is larger than the ledger (%llu)",
		    (unsigned long long)size, (unsigned long long)cur);
	if (seq == 0 || seq > size)
		return ev_errf(err, seq > cur ? EV_ENOTFOUND : EV_EINVAL,
		    "entry %llu is not in the tree of size %llu", (unsigned long long)seq,
		    (unsigned long long)size);
	if ((rc = src.get(src.arg, 0, seq - 1, leaf_hash)) != 0 ||
	    (rc = ev_merkle_inclusion_proof(&src, seq - 1, size, proof, n)) != 0 ||
	    (rc = ev_merkle_range_root(&src, 0, size, root)) != 0)
		return ev_ledger_src_fail(l, rc, err);
	return EV_OK;
}

int
ev_ledger_prove_consistency(struct ev_ledger *l, uint64_t size1, uint64_t size2,
    uint8_t root1[EV_HASH_LEN], uint8_t root2[EV_HASH_LEN],
    uint8_t proof[][EV_HASH_LEN], size_t *n, struct ev_err *err)
{
	struct ev_merkle_src src = ev_ledger_src(l);
	uint64_t cur;
	int rc;

	if ((rc = ev_ledger_size(l, &cur, err)) != EV_OK)
		return rc;
	if (size1 == 0 || size1 > size2 || size2 > cur)
		return ev_errf(err, EV_EINVAL,
		    "sizes must satisfy 0 < size1 <= size2 <= %llu (the ledger size)",
		    (unsigned long long)cur);
	if ((rc = ev_merkle_consistency_proof(&src, size1, size2, proof, n)) != 0 ||
	    (rc = ev_merkle_range_root(&src, 0, size1, root1)) != 0 ||
	    (rc = ev_merkle_range_root(&src, 0, size2, root2)) != 0)
		return ev_ledger_src_fail(l, rc, err);
	return EV_OK;
}

/* ---- rebuild ---- */

struct rebuild {
	struct ev_ledger *l;
	struct ev_err *err;
};

static int
rebuild_cb(const struct ev_entry *e, void *arg)
{
	struct rebuild *r = arg;
	int rc;

	ix_count(r->l, e->kind, e->subject, e->seq);
	if ((rc = run_projectors(r->l, e, r->err)) != EV_OK)
		return rc;
	return EV_OK;
}

int
ev_ledger_rebuild(struct ev_ledger *l, struct ev_err *err)
{
	const struct ev_projector *const *P = ev_projectors_list();
	sqlite3 *db = ev_store_db(l->st);
	struct ev_query q = { 0 };
	struct rebuild r = { l, err };
	int rc;

	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	for (size_t i = 0; P[i]; i++)
		if ((rc = P[i]->reset(db, err)) != EV_OK)
			goto fail;
	/* The (kind, subject) index is derived too: recount it from the entries. */
	if ((rc = ev_store_ix_clear(l->st, err)) != EV_OK)
		goto fail;
	ix_reset(l);
	if ((rc = ev_ledger_scan(l, &q, rebuild_cb, &r, err)) != EV_OK)
		goto fail;
	if ((rc = ev_ledger_flush_ix(l, err)) != EV_OK)
		goto fail;
	return ev_ledger_commit(l, err);
fail:
	ev_ledger_rollback(l);
	return rc;
}
