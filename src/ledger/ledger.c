/*
 * ledger.c - the evidence ledger (see ledger.h).
 *
 * Appends run in one SQLite transaction: read the last seq, extend the
 * in-memory frontier of the Merkle tree, insert each entry with its leaf hash
 * and every internal node it completes, run the projectors, commit.  The
 * frontier is cached between appends and reloaded (O(log n) reads) whenever
 * another process has appended in between.
 *
 * Invariants: seq is dense from 1; time never decreases along seq; a
 * checkpoint entry at seq s covers exactly entries 1..s-1.
 */
#include "ledger/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/keys.h"
#include "ledger/projectors.h"
#include "store/store.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

/*
 * Tiles: the store keeps internal nodes of level >= EV_TILE_LEVEL only; a
 * lower subtree (at most 2^(EV_TILE_LEVEL-1) leaves) is recomputed from its
 * leaf hashes in one range read.  That keeps a proof at O(log n) reads while
 * the store holds n/8 node rows instead of n.
 */
#define EV_TILE_LEVEL 4

struct ev_ledger {
	char *dir;
	int flags;
	struct ev_store *st;
	EVP_PKEY *key;
	int in_tx;
	int fr_valid;
	struct ev_merkle_frontier fr;
	struct ev_buf leaf;
	struct ev_buf body;
	struct ev_err src_err; /* detail of the last failed node read */
	int64_t tcache_us;     /* ev_time_format cache: entries of a batch share a time */
	char tcache[EV_TIME_STRLEN];
};

static char *
path_join(const char *dir, const char *name)
{
	struct ev_buf b = EV_BUF_INIT;

	ev_buf_addf(&b, "%s/%s", dir, name);
	return ev_buf_detach(&b);
}

int
ev_ledger_init(const char *dir, struct ev_err *err)
{
	struct stat sb;
	char *db = path_join(dir, "evident.db");
	int rc;

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
	rc = ev_store_create(db, err);
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

int
ev_ledger_open(const char *dir, int flags, struct ev_ledger **out, struct ev_err *err)
{
	struct ev_ledger *l;
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
	rc = ev_store_open(db, flags & EV_LEDGER_READONLY, &l->st, err);
	free(db);
	if (rc != EV_OK)
		goto fail;
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
	ev_key_free(l->key);
	ev_buf_free(&l->leaf);
	ev_buf_free(&l->body);
	free(l->dir);
	free(l);
}

const char *
ev_ledger_dir(const struct ev_ledger *l)
{
	return l->dir;
}

struct sqlite3 *
ev_ledger_db(struct ev_ledger *l)
{
	return ev_store_db(l->st);
}

static int
src_get(void *arg, unsigned level, uint64_t idx, uint8_t out[EV_HASH_LEN])
{
	struct ev_ledger *l = arg;
	uint8_t h[1u << (EV_TILE_LEVEL - 1)][EV_HASH_LEN];
	size_t n;
	int rc;

	if (level == 0 || level >= EV_TILE_LEVEL)
		return ev_store_get_node(l->st, level, idx, out, &l->src_err);
	n = (size_t)1 << level;
	if ((rc = ev_store_get_leaves(l->st, (idx << level) + 1, n, h, &l->src_err)) != EV_OK)
		return rc;
	for (; n > 1; n /= 2)
		for (size_t i = 0; i < n / 2; i++)
			ev_merkle_node_hash(h[2 * i], h[2 * i + 1], h[i]);
	memcpy(out, h[0], EV_HASH_LEN);
	return EV_OK;
}

static struct ev_merkle_src
store_src(struct ev_ledger *l)
{
	struct ev_merkle_src s = { src_get, l };

	return s;
}

static int
src_fail(struct ev_ledger *l, int rc, struct ev_err *err)
{
	if (err)
		*err = l->src_err;
	return rc ? rc : EV_EIO;
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
 * The leaf hash of e without materialising the whole leaf: the same bytes as
 * ev_entry_leaf, fed to SHA-256 in three pieces (the fields before the body,
 * the body in place, the fields after it).  Returns the leaf length.
 */
static uint64_t
entry_leaf_hash(struct ev_ledger *l, const struct ev_entry *e, uint8_t out[EV_HASH_LEN])
{
	struct ev_sha256 h;
	size_t pre;

	if (e->time_us != l->tcache_us || l->tcache[0] == '\0') {
		ev_time_format(e->time_us, l->tcache);
		l->tcache_us = e->time_us;
	}
	ev_buf_reset(&l->leaf);
	ev_buf_add(&l->leaf, "\0{\"actor\":", 10);
	ev_buf_add_json_str(&l->leaf, e->actor, strlen(e->actor));
	ev_buf_add(&l->leaf, ",\"body\":", 8);
	pre = l->leaf.len;
	ev_buf_add(&l->leaf, ",\"kind\":", 8);
	ev_buf_add_json_str(&l->leaf, e->kind, strlen(e->kind));
	ev_buf_add(&l->leaf, ",\"seq\":", 7);
	ev_buf_add_u64(&l->leaf, e->seq);
	ev_buf_add(&l->leaf, ",\"subject\":", 11);
	ev_buf_add_json_str(&l->leaf, e->subject, strlen(e->subject));
	ev_buf_add(&l->leaf, ",\"time\":\"", 9);
	ev_buf_add(&l->leaf, l->tcache, EV_TIME_STRLEN - 1);
	ev_buf_add(&l->leaf, "\"}", 2);
	ev_sha256_init(&h);
	ev_sha256_update(&h, l->leaf.p, pre);
	ev_sha256_update(&h, e->body, e->body_len);
	ev_sha256_update(&h, l->leaf.p + pre, l->leaf.len - pre);
	ev_sha256_final(&h, out);
	return l->leaf.len - 1 + e->body_len;
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

static int
emit_node(void *arg, unsigned level, uint64_t idx, const uint8_t hash[EV_HASH_LEN])
{
	struct ev_ledger *l = arg;

	if (level < EV_TILE_LEVEL)
		return EV_OK;
	return ev_store_put_node(l->st, level, idx, hash, &l->src_err);
}

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

/* Flush projectors and commit; on any failure everything is rolled back. */
static int
commit_all(struct ev_ledger *l, struct ev_err *err)
{
	int rc = flush_projectors(l, err);

	if (rc != EV_OK) {
		discard_projectors(l);
		ev_store_rollback(l->st);
		l->fr_valid = 0;
		return rc;
	}
	if ((rc = ev_store_commit(l->st, err)) != EV_OK) {
		discard_projectors(l);
		l->fr_valid = 0;
	}
	return rc;
}

/* Bring the cached frontier to the store's current size (inside a transaction). */
static int
sync_frontier(struct ev_ledger *l, uint64_t *last_seq, int64_t *last_time, struct ev_err *err)
{
	struct ev_merkle_src src = store_src(l);
	int rc;

	if ((rc = ev_store_last(l->st, last_seq, last_time, err)) != EV_OK)
		return rc;
	if (l->fr_valid && l->fr.size == *last_seq)
		return EV_OK;
	if ((rc = ev_merkle_frontier_load(&l->fr, &src, *last_seq)) != 0) {
		l->fr_valid = 0;
		return src_fail(l, rc, err);
	}
	l->fr_valid = 1;
	return EV_OK;
}

static int
append_locked(struct ev_ledger *l, const struct ev_entry_in *in, size_t n, uint64_t *last,
    struct ev_err *err)
{
	uint64_t seq;
	int64_t t, now;
	int rc;

	if ((rc = sync_frontier(l, &seq, &t, err)) != EV_OK)
		return rc;
	now = ev_time_now_us();
	for (size_t i = 0; i < n; i++) {
		struct ev_entry e;
		uint8_t lh[EV_HASH_LEN];
		size_t blen = in[i].body_len ? in[i].body_len : (in[i].body ? strlen(in[i].body) : 0);

		if ((rc = check_entry_in(&in[i], err)) != EV_OK)
			return rc;
		ev_buf_reset(&l->body);
		if ((rc = ev_json_canonical(in[i].body, blen, &l->body, err)) != EV_OK)
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
		entry_leaf_hash(l, &e, lh);
		e.leaf_hash = lh;
		if ((rc = ev_store_insert_entry(l->st, &e, err)) != EV_OK)
			return rc;
		if ((rc = ev_merkle_frontier_push(&l->fr, lh, emit_node, l)) != 0)
			return src_fail(l, rc, err);
		if ((rc = run_projectors(l, &e, err)) != EV_OK)
			return rc;
	}
	if (last)
		*last = seq;
	return EV_OK;
}

int
ev_ledger_begin(struct ev_ledger *l, struct ev_err *err)
{
	int rc;

	if (l->flags & EV_LEDGER_READONLY)
		return ev_errf(err, EV_EDENIED, "the ledger is open read-only");
	if (l->in_tx)
		return ev_errf(err, EV_ESTATE, "a transaction is already open");
	if ((rc = ev_store_begin(l->st, err)) != EV_OK)
		return rc;
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
	return rc;
}

void
ev_ledger_rollback(struct ev_ledger *l)
{
	if (!l->in_tx)
		return;
	l->in_tx = 0;
	l->fr_valid = 0;
	discard_projectors(l);
	ev_store_rollback(l->st);
}

int
ev_ledger_append(struct ev_ledger *l, const struct ev_entry_in *in, size_t n,
    uint64_t *last_seq, struct ev_err *err)
{
	int rc, own = !l->in_tx;

	if (l->flags & EV_LEDGER_READONLY)
		return ev_errf(err, EV_EDENIED, "the ledger is open read-only");
	if (own && (rc = ev_store_begin(l->st, err)) != EV_OK)
		return rc;
	rc = append_locked(l, in, n, last_seq, err);
	if (rc != EV_OK) {
		l->fr_valid = 0;
		if (own) {
			discard_projectors(l);
			ev_store_rollback(l->st);
		}
		return rc;
	}
	if (own)
		rc = commit_all(l, err);
	return rc;
}

int
ev_ledger_size(struct ev_ledger *l, uint64_t *size, struct ev_err *err)
{
	int64_t t;

	return ev_store_last(l->st, size, &t, err);
}

/* Smallest seq in [1, n] whose time is >= t (n + 1 when none); time is monotone. */
static int
seq_at_time(struct ev_ledger *l, uint64_t n, int64_t t, uint64_t *out, struct ev_err *err)
{
	uint64_t lo = 1, hi = n + 1;
	int rc;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		int64_t mt;
		if ((rc = ev_store_time_at(l->st, mid, &mt, err)) != EV_OK)
			return rc;
		if (mt < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = lo;
	return EV_OK;
}

int
ev_ledger_scan(struct ev_ledger *l, const struct ev_query *q, ev_entry_cb cb, void *arg,
    struct ev_err *err)
{
	struct ev_query qq = *q;
	uint64_t n, s;
	int64_t t;
	int rc;

	if ((q->since_us || q->until_us) && (rc = ev_store_last(l->st, &n, &t, err)) == EV_OK) {
		/* Narrow the seq range by binary search on time; fall back to filtering. */
		struct ev_err e2;
		if (q->since_us && seq_at_time(l, n, q->since_us, &s, &e2) == EV_OK &&
		    s > qq.from_seq)
			qq.from_seq = s;
		if (q->until_us && q->until_us < INT64_MAX &&
		    seq_at_time(l, n, q->until_us + 1, &s, &e2) == EV_OK) {
			if (s == 0 || s - 1 == 0)
				return EV_OK;
			if (qq.to_seq == 0 || s - 1 < qq.to_seq)
				qq.to_seq = s - 1;
		}
	}
	return ev_store_scan(l->st, &qq, cb, arg, err);
}

int
ev_ledger_get(struct ev_ledger *l, uint64_t seq, ev_entry_cb cb, void *arg,
    struct ev_err *err)
{
	return ev_store_get(l->st, seq, cb, arg, err);
}

void
ev_checkpoint_note(const struct ev_checkpoint *cp, struct ev_buf *out)
{
	char root[2 * EV_HASH_LEN + 1], t[EV_TIME_STRLEN];

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
	ev_buf_free(&note);
	return rc;
}

int
ev_ledger_public_key(struct ev_ledger *l, uint8_t pub[32], struct ev_err *err)
{
	return ev_key_load_public(l->dir, pub, err);
}

/* Parse a checkpoint entry body into cp; -1 with why on any malformation. */
static int
parse_checkpoint(const struct ev_entry *e, struct ev_checkpoint *cp, const char **why)
{
	json_error_t je;
	json_t *v = json_loadb(e->body, e->body_len, 0, &je);
	const char *root, *sig, *kid, *t;
	json_t *size;
	int rc = -1;

	memset(cp, 0, sizeof(*cp));
	*why = "body is not a checkpoint";
	if (v == NULL)
		return -1;
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
	snprintf(cp->key_id, sizeof(cp->key_id), "%s", kid);
	cp->size = (uint64_t)json_integer_value(size);
	cp->seq = e->seq;
	rc = 0;
out:
	json_decref(v);
	return rc;
}

static int
write_latest_checkpoint(struct ev_ledger *l, const struct ev_checkpoint *cp, struct ev_err *err)
{
	struct ev_buf b = EV_BUF_INIT;
	char sig[89];
	char *tmp = path_join(l->dir, "checkpoint.tmp"), *path = path_join(l->dir, "checkpoint");
	int fd, rc = EV_OK;

	ev_checkpoint_note(cp, &b);
	ev_b64_encode(cp->sig, 64, sig);
	ev_buf_addf(&b, "key %s\nsignature %s\nseq %llu\n", cp->key_id, sig,
	    (unsigned long long)cp->seq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, b.p, b.len) != (ssize_t)b.len || fsync(fd) != 0) {
		rc = ev_errf(err, EV_EIO, "cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0)
		rc = ev_errf(err, EV_EIO, "cannot rename %s: %s", tmp, strerror(errno));
out:
	ev_buf_free(&b);
	free(tmp);
	free(path);
	return rc;
}

int
ev_ledger_checkpoint(struct ev_ledger *l, const char *actor, struct ev_checkpoint *cp,
    struct ev_err *err)
{
	struct ev_buf note = EV_BUF_INIT, body = EV_BUF_INIT;
	char root[2 * EV_HASH_LEN + 1], sig[89], t[EV_TIME_STRLEN];
	uint8_t pub[32];
	uint64_t last;
	int64_t lt;
	int rc, own = !l->in_tx;

	if (l->key == NULL)
		return ev_errf(err, EV_EDENIED, "the signing key is not loaded");
	if ((rc = ev_key_load_public(l->dir, pub, err)) != EV_OK) {
		/* The ledger is intact; it is the key file that cannot be used (exit 1, not 3). */
		if (rc == EV_ECORRUPT && err)
			err->code = EV_EIO;
		return rc == EV_ECORRUPT ? EV_EIO : rc;
	}
	if (own && (rc = ev_store_begin(l->st, err)) != EV_OK)
		return rc;
	if ((rc = sync_frontier(l, &last, &lt, err)) != EV_OK)
		goto fail;
	memset(cp, 0, sizeof(*cp));
	cp->size = last;
	ev_merkle_frontier_root(&l->fr, cp->root);
	cp->time_us = ev_time_now_us();
	if (cp->time_us < lt)
		cp->time_us = lt;
	ev_key_id(pub, cp->key_id);
	ev_checkpoint_note(cp, &note);
	if ((rc = ev_key_sign(l->key, note.p, note.len, cp->sig, err)) != EV_OK)
		goto fail;
	/* A signature key.pub cannot check would be recorded for good and never verify. */
	if (ev_key_verify(pub, note.p, note.len, cp->sig) != 0) {
		rc = ev_errf(err, EV_EIO, "signing key %s/key.pem does not match %s/key.pub", l->dir,
		    l->dir);
		goto fail;
	}
	ev_hex_encode(cp->root, EV_HASH_LEN, root);
	ev_b64_encode(cp->sig, 64, sig);
	ev_time_format(cp->time_us, t);
	ev_buf_addf(&body, "{\"key_id\":\"%s\",\"root\":\"%s\",\"signature\":\"%s\",\"size\":%llu,"
			   "\"time\":\"%s\"}",
	    cp->key_id, root, sig, (unsigned long long)cp->size, t);
	struct ev_entry_in in = { "checkpoint", "ledger", actor ? actor : "system", body.p,
		body.len };
	if ((rc = append_locked(l, &in, 1, &cp->seq, err)) != EV_OK)
		goto fail;
	if (own && (rc = commit_all(l, err)) != EV_OK)
		goto out;
	rc = write_latest_checkpoint(l, cp, err);
	goto out;
fail:
	l->fr_valid = 0;
	if (own) {
		discard_projectors(l);
		ev_store_rollback(l->st);
	}
out:
	ev_buf_free(&note);
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

	if (parse_checkpoint(e, f->cp, &f->why) != 0)
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
ev_ledger_root(struct ev_ledger *l, uint64_t size, uint8_t root[EV_HASH_LEN],
    struct ev_err *err)
{
	struct ev_merkle_src src = store_src(l);
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
		return src_fail(l, rc, err);
	return EV_OK;
}

int
ev_ledger_prove_inclusion(struct ev_ledger *l, uint64_t seq, uint64_t size,
    uint8_t leaf_hash[EV_HASH_LEN], uint8_t root[EV_HASH_LEN],
    uint8_t proof[][EV_HASH_LEN], size_t *n, struct ev_err *err)
{
	struct ev_merkle_src src = store_src(l);
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
	if ((rc = ev_store_get_node(l->st, 0, seq - 1, leaf_hash, err)) != EV_OK)
		return rc;
	if ((rc = ev_merkle_inclusion_proof(&src, seq - 1, size, proof, n)) != 0 ||
	    (rc = ev_merkle_range_root(&src, 0, size, root)) != 0)
		return src_fail(l, rc, err);
	return EV_OK;
}

int
ev_ledger_prove_consistency(struct ev_ledger *l, uint64_t size1, uint64_t size2,
    uint8_t root1[EV_HASH_LEN], uint8_t root2[EV_HASH_LEN],
    uint8_t proof[][EV_HASH_LEN], size_t *n, struct ev_err *err)
{
	struct ev_merkle_src src = store_src(l);
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
		return src_fail(l, rc, err);
	return EV_OK;
}

/* Verification: stream entries and nodes side by side (see sqlite.c's node key). */
struct vstate {
	struct ev_store_walk *w;
	struct ev_err *err;
	uint64_t seq;
	int node_pending;
	unsigned nlevel;
	uint64_t nidx;
	const uint8_t *nhash;
	size_t nlen;
};

static int
next_node(struct vstate *v)
{
	int r = ev_store_walk_node(v->w, &v->nlevel, &v->nidx, &v->nhash, &v->nlen);

	v->node_pending = r == 1;
	return r;
}

static int
check_node(void *arg, unsigned level, uint64_t idx, const uint8_t hash[EV_HASH_LEN])
{
	struct vstate *v = arg;
	uint64_t first = (idx << level) + 1, last = (idx + 1) << level;

	if (level < EV_TILE_LEVEL)
		return EV_OK;
	if (!v->node_pending || v->nlevel != level || v->nidx != idx)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entries %llu..%llu: tree node (level %u) is missing from the store",
		    (unsigned long long)first, (unsigned long long)last, level);
	if (v->nlen != EV_HASH_LEN || memcmp(v->nhash, hash, EV_HASH_LEN) != 0)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entries %llu..%llu: stored tree node (level %u) does not match the entries",
		    (unsigned long long)first, (unsigned long long)last, level);
	if (next_node(v) < 0)
		return ev_errf(v->err, EV_EIO, "store: cannot read tree nodes");
	return EV_OK;
}

static int
verify_checkpoint_entry(const struct ev_entry *e, const struct ev_merkle_frontier *fr,
    const uint8_t pub[32], const char *key_id, struct ev_err *err)
{
	struct ev_checkpoint cp;
	uint8_t root[EV_HASH_LEN];
	const char *why;

	if (parse_checkpoint(e, &cp, &why) != 0)
		return ev_errf(err, EV_ECORRUPT, "checkpoint at entry %llu: %s",
		    (unsigned long long)e->seq, why);
	if (cp.size != e->seq - 1)
		return ev_errf(err, EV_ECORRUPT,
		    "checkpoint at entry %llu: claims size %llu but must cover entries 1..%llu",
		    (unsigned long long)e->seq, (unsigned long long)cp.size,
		    (unsigned long long)(e->seq - 1));
	ev_merkle_frontier_root(fr, root);
	if (memcmp(root, cp.root, EV_HASH_LEN) != 0)
		return ev_errf(err, EV_ECORRUPT,
		    "checkpoint at entry %llu: root does not match the entries 1..%llu",
		    (unsigned long long)e->seq, (unsigned long long)cp.size);
	if (strcmp(cp.key_id, key_id) != 0)
		return ev_errf(err, EV_ECORRUPT,
		    "checkpoint at entry %llu: signed by key %s, not the installation key %s",
		    (unsigned long long)e->seq, cp.key_id, key_id);
	if (ev_checkpoint_verify_sig(&cp, pub) != 0)
		return ev_errf(err, EV_ECORRUPT, "checkpoint at entry %llu: bad signature",
		    (unsigned long long)e->seq);
	return EV_OK;
}

/* The published latest checkpoint file must still be covered by the ledger. */
static int
verify_checkpoint_file(struct ev_ledger *l, uint64_t size, const uint8_t pub[32],
    struct ev_err *err)
{
	char *path = path_join(l->dir, "checkpoint");
	FILE *f = fopen(path, "r");
	char line[256], rooth[80] = "", t[64] = "", sig[128] = "";
	unsigned long long n = 0, seq = 0;
	struct ev_checkpoint cp;
	uint8_t root[EV_HASH_LEN];
	int rc = EV_OK, have = 0;

	free(path);
	if (f == NULL)
		return EV_OK; /* no checkpoint yet */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "size %llu", &n) == 1)
			have |= 1;
		else if (sscanf(line, "root %79s", rooth) == 1)
			have |= 2;
		else if (sscanf(line, "time %63s", t) == 1)
			have |= 4;
		else if (sscanf(line, "signature %127s", sig) == 1)
			have |= 8;
		else if (sscanf(line, "seq %llu", &seq) == 1)
			have |= 16;
	}
	fclose(f);
	memset(&cp, 0, sizeof(cp));
	cp.size = n;
	if (have != 31 || ev_hex_decode(rooth, strlen(rooth), cp.root, 32) != 32 ||
	    ev_time_parse(t, &cp.time_us) != 0 || ev_b64_decode(sig, strlen(sig), cp.sig, 64) != 64)
		return ev_errf(err, EV_ECORRUPT, "checkpoint file: malformed");
	if (ev_checkpoint_verify_sig(&cp, pub) != 0)
		return ev_errf(err, EV_ECORRUPT, "checkpoint file: bad signature");
	if (seq > size)
		return ev_errf(err, EV_ECORRUPT,
		    "entry %llu: missing: the latest signed checkpoint (file) was recorded as entry "
		    "%llu covering %llu entries, the ledger has %llu",
		    (unsigned long long)size + 1, seq, n, (unsigned long long)size);
	if ((rc = ev_ledger_root(l, n, root, err)) != EV_OK)
		return rc;
	if (memcmp(root, cp.root, EV_HASH_LEN) != 0)
		return ev_errf(err, EV_ECORRUPT,
		    "checkpoint file: root of size %llu does not match the ledger", n);
	return EV_OK;
}

int
ev_ledger_verify(struct ev_ledger *l, void (*progress)(uint64_t, uint64_t, void *), void *parg,
    struct ev_verify_stats *stats, struct ev_err *err)
{
	struct vstate v = { 0 };
	struct ev_merkle_frontier fr;
	struct ev_verify_stats st = { 0 };
	struct ev_entry e;
	uint8_t pub[32], lh[EV_HASH_LEN];
	char key_id[17];
	uint64_t total, expect = 1;
	int64_t prev_time = 0, t;
	int rc, r;

	memset(&fr, 0, sizeof(fr));
	if ((rc = ev_key_load_public(l->dir, pub, err)) != EV_OK)
		return rc;
	ev_key_id(pub, key_id);
	/* One read transaction: a concurrent appender cannot move the ground under us. */
	sqlite3_exec(ev_store_db(l->st), "BEGIN", NULL, NULL, NULL);
	if ((rc = ev_store_last(l->st, &total, &t, err)) != EV_OK)
		goto out;
	if ((rc = ev_store_walk_open(l->st, &v.w, err)) != EV_OK)
		goto out;
	v.err = err;
	if (next_node(&v) < 0) {
		rc = ev_errf(err, EV_EIO, "store: cannot read tree nodes");
		goto out;
	}
	while ((r = ev_store_walk_entry(v.w, &e)) == 1) {
		if (e.seq != expect) {
			rc = ev_errf(err, EV_ECORRUPT,
			    "entry %llu: missing (the next stored entry is %llu)",
			    (unsigned long long)expect, (unsigned long long)e.seq);
			goto out;
		}
		if (e.time_us < prev_time) {
			rc = ev_errf(err, EV_ECORRUPT,
			    "entry %llu: time goes backwards (entries are out of order)",
			    (unsigned long long)e.seq);
			goto out;
		}
		prev_time = e.time_us;
		st.leaf_bytes += entry_leaf_hash(l, &e, lh);
		if (e.leaf_hash == NULL || memcmp(lh, e.leaf_hash, EV_HASH_LEN) != 0) {
			rc = ev_errf(err, EV_ECORRUPT,
			    "entry %llu: leaf hash mismatch: the entry was changed after it was "
			    "recorded",
			    (unsigned long long)e.seq);
			goto out;
		}
		if (strcmp(e.kind, "checkpoint") == 0) {
			if ((rc = verify_checkpoint_entry(&e, &fr, pub, key_id, err)) != EV_OK)
				goto out;
			st.checkpoints++;
		}
		if ((rc = ev_merkle_frontier_push(&fr, lh, check_node, &v)) != 0)
			goto out;
		expect++;
		st.entries++;
		if (progress && (st.entries & 0xffff) == 0)
			progress(st.entries, total, parg);
	}
	if (r < 0) {
		rc = ev_errf(err, EV_EIO, "store: cannot read entries");
		goto out;
	}
	if (v.node_pending) {
		uint64_t last = ((v.nidx + 1) << v.nlevel);
		rc = ev_errf(err, EV_ECORRUPT,
		    "entry %llu: missing: the tree holds nodes for entries up to %llu",
		    (unsigned long long)expect, (unsigned long long)last);
		goto out;
	}
	if (progress)
		progress(st.entries, total, parg);
	if ((rc = verify_checkpoint_file(l, st.entries, pub, err)) != EV_OK)
		goto out;
	rc = ev_store_check_triggers(l->st, err);
out:
	ev_store_walk_close(v.w);
	sqlite3_exec(ev_store_db(l->st), "COMMIT", NULL, NULL, NULL);
	if (stats)
		*stats = st;
	return rc;
}

int
ev_ledger_rebuild(struct ev_ledger *l, struct ev_err *err)
{
	const struct ev_projector *const *P = ev_projectors_list();
	sqlite3 *db = ev_store_db(l->st);
	struct ev_store_walk *w = NULL;
	struct ev_entry e;
	int rc, r;

	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	for (size_t i = 0; P[i]; i++)
		if ((rc = P[i]->reset(db, err)) != EV_OK)
			goto fail;
	if ((rc = ev_store_walk_open(l->st, &w, err)) != EV_OK)
		goto fail;
	while ((r = ev_store_walk_entry(w, &e)) == 1)
		if ((rc = run_projectors(l, &e, err)) != EV_OK)
			goto fail;
	if (r < 0) {
		rc = ev_errf(err, EV_EIO, "store: cannot read entries");
		goto fail;
	}
	ev_store_walk_close(w);
	return ev_ledger_commit(l, err);
fail:
	ev_store_walk_close(w);
	ev_ledger_rollback(l);
	return rc;
}
