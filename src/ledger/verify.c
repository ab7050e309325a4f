/*
 * verify.c - `evident verify`: recompute the whole ledger from its bytes.
 *
 * One read transaction (a concurrent appender cannot move the ground under
 * us).  Every bundle is decompressed and split, every leaf hashed and taken
 * apart (seq in place, time not going backwards), the tree rebuilt leaf by
 * leaf, and every stored hash compared as the rebuild completes it: the
 * bundle's own hash at height 8, the tile hashes at 16, 24, ...  The tail
 * rows are checked against their own columns and stored leaf hashes.  Every
 * checkpoint entry must carry the root of the entries before it, signed by
 * the installation key; the index must count exactly what the bundles hold;
 * the published checkpoint file must be covered; the append-only triggers
 * must be in place.  The first failure is reported with the entries it
 * concerns.  Where a stored hash covers a whole bundle, a changed entry can
 * be located only to that bundle's 256 entries (level-0 hashes are not
 * stored); a moved, missing or reordered entry is named exactly.
 */
#include "ledger/ledger_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "ledger/keys.h"
#include "util/enc.h"

struct ixrow {
	uint64_t n, count;
	char *kind, *subject;
};

struct vstate {
	struct ev_ledger *l;
	uint64_t stream_end; /* where the next bundle's compressed bytes must start */
	struct ev_err *err;
	struct ev_merkle_frontier fr;
	uint8_t pub[32];
	char key_id_v1[17];
	uint64_t expect; /* next seq */
	int64_t prev_time;
	const uint8_t *bundle_hash; /* the current full bundle's stored hash, or NULL in the tail */
	uint64_t hashes_checked;
	struct ev_verify_stats st;
	struct ixrow *ix;
	size_t nix, capix;
	struct ev_buf scratch, subj;
};

static int
check_node(void *arg, unsigned level, uint64_t idx, const uint8_t hash[32])
{
	struct vstate *v = arg;
	uint64_t first = (idx << level) + 1, last = (idx + 1) << level;
	uint8_t stored[1][32];
	int rc;

	if (level % 8 != 0)
		return EV_OK;
	if (level == 8) {
		if (v->bundle_hash == NULL)
			return ev_errf(v->err, EV_ECORRUPT,
			    "entries %llu..%llu: a full bundle is kept as tail rows",
			    (unsigned long long)first, (unsigned long long)last);
		if (memcmp(v->bundle_hash, hash, 32) != 0)
			return ev_errf(v->err, EV_ECORRUPT,
			    "entries %llu..%llu: the bundle's entries do not match its recorded tree "
			    "hash: an entry in it was changed after it was recorded",
			    (unsigned long long)first, (unsigned long long)last);
		return EV_OK;
	}
	if ((rc = ev_store_hash_get(v->l->st, level / 8, idx, 1, stored, v->err)) != EV_OK) {
		if (rc == EV_ECORRUPT)
			return ev_errf(v->err, EV_ECORRUPT,
			    "entries %llu..%llu: the tree hash (level %u) is missing from the store",
			    (unsigned long long)first, (unsigned long long)last, level / 8);
		return rc;
	}
	if (memcmp(stored[0], hash, 32) != 0)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entries %llu..%llu: the stored tree hash (level %u) does not match the entries",
		    (unsigned long long)first, (unsigned long long)last, level / 8);
	v->hashes_checked++;
	return EV_OK;
}

static int
verify_checkpoint_entry(struct vstate *v, const struct ev_entry *e)
{
	struct ev_checkpoint cp;
	uint8_t root[32];
	const char *why;
	int bad_sig;

	if (ev_checkpoint_parse_entry(e, &cp, &why) != 0)
		return ev_errf(v->err, EV_ECORRUPT, "checkpoint at entry %llu: %s",
		    (unsigned long long)e->seq, why);
	if (cp.size != e->seq - 1)
		return ev_errf(v->err, EV_ECORRUPT,
		    "checkpoint at entry %llu: claims size %llu but must cover entries 1..%llu",
		    (unsigned long long)e->seq, (unsigned long long)cp.size,
		    (unsigned long long)(e->seq - 1));
	ev_merkle_frontier_root(&v->fr, root);
	if (memcmp(root, cp.root, 32) != 0)
		return ev_errf(v->err, EV_ECORRUPT,
		    "checkpoint at entry %llu: root does not match the entries 1..%llu",
		    (unsigned long long)e->seq, (unsigned long long)cp.size);
	if (cp.version == 1 && strcmp(cp.key_id, v->key_id_v1) != 0)
		return ev_errf(v->err, EV_ECORRUPT,
		    "checkpoint at entry %llu: signed by key %s, not the installation key %s",
		    (unsigned long long)e->seq, cp.key_id, v->key_id_v1);
	if (cp.version == 2) {
		struct ev_checkpoint full;
		bad_sig = ev_checkpoint_from_note(cp.note, cp.note_len, v->pub, &full, &why) != 0;
	} else {
		bad_sig = ev_checkpoint_verify_sig(&cp, v->pub) != 0;
		why = "bad signature";
	}
	if (bad_sig)
		return ev_errf(v->err, EV_ECORRUPT, "checkpoint at entry %llu: %s",
		    (unsigned long long)e->seq, why);
	v->st.checkpoints++;
	return EV_OK;
}

/* Count the entry in its bundle's (kind, subject) row; the subject is in v->subj. */
static int
ix_note(struct vstate *v, const struct leaf_meta *m, uint64_t seq)
{
	uint64_t n = (seq - 1) / EV_BUNDLE;
	char *kind;

	for (size_t i = v->nix; i-- > 0 && v->ix[i].n == n;) {
		struct ixrow *r = &v->ix[i];
		if (strlen(r->kind) == m->kind_len && memcmp(r->kind, m->kind, m->kind_len) == 0 &&
		    strcmp(r->subject, v->subj.p) == 0) {
			r->count++;
			return EV_OK;
		}
	}
	if (v->nix == v->capix) {
		v->capix = v->capix ? 2 * v->capix : 256;
		v->ix = ev_xrealloc(v->ix, v->capix * sizeof(*v->ix));
	}
	kind = ev_xmalloc(m->kind_len + 1);
	memcpy(kind, m->kind, m->kind_len);
	kind[m->kind_len] = '\0';
	v->ix[v->nix].n = n;
	v->ix[v->nix].count = 1;
	v->ix[v->nix].kind = kind;
	v->ix[v->nix].subject = ev_xstrdup(v->subj.p);
	v->nix++;
	return EV_OK;
}

/*
 * Check one leaf whose hash (lh) and parts (m, or -1 in mok when it is not a
 * canonical entry) were computed: position, time, the tree, the index, and
 * the checkpoint when it is one.
 */
static int
check_leaf_pre(struct vstate *v, const uint8_t *leaf, size_t n, const uint8_t lh[32],
    const struct leaf_meta *m, int mok, const uint8_t *stored_hash)
{
	int rc;

	if (mok != 0)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entry %llu: malformed: it is not a canonical entry",
		    (unsigned long long)v->expect);
	if (m->seq != v->expect)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entry %llu: missing or out of order (entry %llu is stored in its place)",
		    (unsigned long long)v->expect, (unsigned long long)m->seq);
	if (m->time_us < v->prev_time)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entry %llu: time goes backwards (entries are out of order)",
		    (unsigned long long)m->seq);
	v->prev_time = m->time_us;
	if (stored_hash && memcmp(stored_hash, lh, 32) != 0)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entry %llu: leaf hash mismatch: the entry was changed after it was recorded",
		    (unsigned long long)m->seq);
	if (m->kind_len == 10 && memcmp(m->kind, "checkpoint", 10) == 0) {
		struct ev_entry e;
		if (ev_leaf_decode(leaf, n, &e, &v->scratch) != 0)
			return ev_errf(v->err, EV_ECORRUPT, "entry %llu: malformed",
			    (unsigned long long)m->seq);
		if ((rc = verify_checkpoint_entry(v, &e)) != EV_OK)
			return rc;
	}
	/* The subject as the index keeps it: unescaped (most need no unescaping). */
	ev_buf_reset(&v->subj);
	if (memchr(m->subject_json + 1, '\\', m->subject_json_len - 2) == NULL) {
		ev_buf_add(&v->subj, m->subject_json + 1, m->subject_json_len - 2);
		ev_buf_addc(&v->subj, '\0');
	} else if (ev_json_unescape((const uint8_t *)m->subject_json, 1, m->subject_json_len - 1,
		       &v->subj) != 0) {
		return ev_errf(v->err, EV_ECORRUPT, "entry %llu: malformed subject",
		    (unsigned long long)m->seq);
	}
	if ((rc = ix_note(v, m, m->seq)) != EV_OK)
		return rc;
	if ((rc = ev_merkle_frontier_push(&v->fr, lh, check_node, v)) != 0)
		return rc;
	v->st.leaf_bytes += n;
	v->st.entries++;
	v->expect++;
	return EV_OK;
}

static void
leaf_hash(const uint8_t *leaf, size_t n, uint8_t out[32])
{
	struct ev_sha256 h;

	ev_sha256_init(&h);
	ev_sha256_update(&h, "", 1);
	ev_sha256_update(&h, leaf, n);
	ev_sha256_final(&h, out);
}

static int
check_leaf(struct vstate *v, const uint8_t *leaf, size_t n, const uint8_t *stored_hash)
{
	struct leaf_meta m;
	uint8_t lh[32];
	int mok = ev_leaf_meta(leaf, n, &m);

	leaf_hash(leaf, n, lh);
	return check_leaf_pre(v, leaf, n, lh, &m, mok, stored_hash);
}

/*
 * The bundles are decompressed, split, hashed and taken apart by worker
 * threads (one per core, at most VWORKERS), VRING bundles ahead of the
 * checks, which stay on this thread and in order (the tree, times and
 * checkpoints depend on order).  The store is read here only.
 */
#define VRING 8
#define VWORKERS 4

struct vslot {
	uint64_t n;
	int state; /* 0 free, 1 data read, 2 taken by a worker, 3 ready */
	struct ev_bundle_row row;
	struct ev_buf z;
	struct bundle b;
	int bad;
	const char *why;
	uint8_t lh[EV_BUNDLE][32];
	struct leaf_meta m[EV_BUNDLE];
	int mok[EV_BUNDLE];
};

struct vpool {
	pthread_mutex_t mu;
	pthread_cond_t work, ready;
	struct vslot slot[VRING];
	int stop;
};

static void *
vworker(void *arg)
{
	struct vpool *p = arg;
	ZSTD_DCtx *dctx = ZSTD_createDCtx();

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct vslot *s = NULL;
		for (int i = 0; i < VRING && s == NULL; i++)
			if (p->slot[i].state == 1)
				s = &p->slot[i];
		if (s == NULL) {
			if (p->stop)
				break;
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		s->state = 2;
		pthread_mutex_unlock(&p->mu);
		s->bad = dctx == NULL || ev_bundle_decode(dctx, s->n, s->z.p, s->z.len, s->row.raw_len,
						&s->b, &s->why) != 0;
		if (dctx == NULL)
			s->why = "out of memory";
		for (unsigned i = 0; !s->bad && i < EV_BUNDLE; i++) {
			const uint8_t *leaf = (const uint8_t *)s->b.raw.p + s->b.off[i];
			leaf_hash(leaf, s->b.len[i], s->lh[i]);
			s->mok[i] = ev_leaf_meta(leaf, s->b.len[i], &s->m[i]);
		}
		pthread_mutex_lock(&p->mu);
		s->state = 3;
		pthread_cond_broadcast(&p->ready);
	}
	pthread_mutex_unlock(&p->mu);
	ZSTD_freeDCtx(dctx);
	return NULL;
}

/* Check one decoded bundle, in order. */
static int
check_bundle(struct vstate *v, struct vslot *s)
{
	uint64_t n = s->n;
	int rc;

	if (s->bad)
		return ev_errf(v->err, EV_ECORRUPT, "entries %llu..%llu: the bundle is unreadable: %s",
		    (unsigned long long)(n * EV_BUNDLE + 1), (unsigned long long)((n + 1) * EV_BUNDLE),
		    s->why);
	v->bundle_hash = s->row.hash;
	for (unsigned i = 0; i < EV_BUNDLE; i++)
		if ((rc = check_leaf_pre(v, (const uint8_t *)s->b.raw.p + s->b.off[i], s->b.len[i],
			 s->lh[i], &s->m[i], s->mok[i], NULL)) != EV_OK)
			return rc;
	if (s->mok[0] != 0 || s->mok[EV_BUNDLE - 1] != 0 || s->m[0].time_us != s->row.first_time ||
	    s->m[EV_BUNDLE - 1].time_us != s->row.last_time)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entries %llu..%llu: the bundle's recorded times differ from its entries",
		    (unsigned long long)(n * EV_BUNDLE + 1), (unsigned long long)((n + 1) * EV_BUNDLE));
	/* Bundles follow each other in the stream, with nothing between them. */
	if (s->row.off != v->stream_end)
		return ev_errf(v->err, EV_ECORRUPT,
		    "entries %llu..%llu: the bundle's data is not where the one before it ends",
		    (unsigned long long)(n * EV_BUNDLE + 1), (unsigned long long)((n + 1) * EV_BUNDLE));
	v->stream_end = s->row.off + s->row.len;
	v->st.bundles++;
	return EV_OK;
}

/* Every full bundle, through the worker pool. */
static int
verify_bundles(struct vstate *v, uint64_t full, uint64_t size,
    void (*progress)(uint64_t, uint64_t, void *), void *parg)
{
	struct vpool *p = ev_xcalloc(1, sizeof(*p));
	pthread_t th[VWORKERS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nw = ncpu < 1 ? 1 : ncpu > VWORKERS ? VWORKERS : (int)ncpu, started = 0;
	uint64_t next_read = 0, next_check = 0;
	struct ev_err read_err = { 0 };
	int rc = EV_OK, read_failed = 0;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->ready, NULL);
	for (int i = 0; i < nw; i++)
		if (pthread_create(&th[i], NULL, vworker, p) == 0)
			started++;
	while (next_check < full && rc == EV_OK) {
		/* Keep the ring full: read the next bundles' data from the store. */
		while (!read_failed && next_read < full && next_read - next_check < VRING) {
			struct vslot *s = &p->slot[next_read % VRING];
			int r;
			/* The slot is free: it was checked (state 0). */
			r = ev_store_bundle_get(v->l->st, next_read, &s->row, &s->z, &read_err);
			if (r != EV_OK) {
				read_failed = 1;
				if (r == EV_ENOTFOUND)
					r = ev_errf(&read_err, EV_ECORRUPT, "entries %llu..%llu: the bundle is missing",
					    (unsigned long long)(next_read * EV_BUNDLE + 1),
					    (unsigned long long)((next_read + 1) * EV_BUNDLE));
				/* Report it in order: after the bundles before it are checked. */
				s->n = next_read;
				s->bad = 2;
				pthread_mutex_lock(&p->mu);
				s->state = 3;
				pthread_mutex_unlock(&p->mu);
				next_read++;
				break;
			}
			s->n = next_read;
			s->bad = 0;
			pthread_mutex_lock(&p->mu);
			s->state = started ? 1 : 3;
			pthread_cond_signal(&p->work);
			pthread_mutex_unlock(&p->mu);
			if (!started) { /* no threads: decode here */
				s->bad = ev_bundle_decode(v->l->dctx, s->n, s->z.p, s->z.len, s->row.raw_len,
				    &s->b, &s->why) != 0;
				for (unsigned i = 0; !s->bad && i < EV_BUNDLE; i++) {
					const uint8_t *leaf = (const uint8_t *)s->b.raw.p + s->b.off[i];
					leaf_hash(leaf, s->b.len[i], s->lh[i]);
					s->mok[i] = ev_leaf_meta(leaf, s->b.len[i], &s->m[i]);
				}
			}
			next_read++;
		}
		{
			struct vslot *s = &p->slot[next_check % VRING];
			pthread_mutex_lock(&p->mu);
			while (s->state != 3)
				pthread_cond_wait(&p->ready, &p->mu);
			pthread_mutex_unlock(&p->mu);
			if (s->bad == 2) {
				if (v->err)
					*v->err = read_err;
				rc = read_err.code ? read_err.code : EV_ECORRUPT;
				break;
			}
			rc = check_bundle(v, s);
			pthread_mutex_lock(&p->mu);
			s->state = 0;
			pthread_mutex_unlock(&p->mu);
		}
		next_check++;
		if (progress && (next_check & 63) == 0)
			progress(v->st.entries, size, parg);
	}
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < VRING; i++) {
		ev_buf_free(&p->slot[i].z);
		ev_buf_free(&p->slot[i].b.raw);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->ready);
	free(p);
	return rc;
}

struct tailv {
	struct vstate *v;
	void (*progress)(uint64_t, uint64_t, void *);
	void *parg;
	uint64_t total;
	int rc;
};

static int
tail_cb(const struct ev_tail_row *r, void *arg)
{
	struct tailv *t = arg;
	struct vstate *v = t->v;
	struct leaf_meta m;
	struct ev_buf subj = EV_BUF_INIT;
	int rc;

	if (r->seq != v->expect)
		return ev_errf(v->err, EV_ECORRUPT, "entry %llu: missing (the next stored entry is %llu)",
		    (unsigned long long)v->expect, (unsigned long long)r->seq);
	if (r->leaf_hash == NULL)
		return ev_errf(v->err, EV_ECORRUPT, "entry %llu: its leaf hash is malformed",
		    (unsigned long long)r->seq);
	if (ev_leaf_meta(r->leaf, r->leaf_len, &m) == 0) {
		ev_buf_add_json_str(&subj, r->subject, strlen(r->subject));
		rc = m.seq != r->seq || m.time_us != r->time_us || m.kind_len != strlen(r->kind) ||
		    memcmp(m.kind, r->kind, m.kind_len) != 0 || subj.len != m.subject_json_len ||
		    memcmp(subj.p, m.subject_json, subj.len) != 0;
		ev_buf_free(&subj);
		if (rc)
			return ev_errf(v->err, EV_ECORRUPT,
			    "entry %llu: its stored time, kind or subject differ from its bytes",
			    (unsigned long long)r->seq);
	}
	return check_leaf(v, r->leaf, r->leaf_len, r->leaf_hash);
}

static int
ixcmp(const void *a, const void *b)
{
	const struct ixrow *x = a, *y = b;
	int c;

	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	if ((c = strcmp(x->kind, y->kind)) != 0)
		return c;
	return strcmp(x->subject, y->subject);
}

struct ixcheck {
	struct vstate *v;
	size_t i;
};

static int
ix_cb(const char *kind, const char *subject, uint64_t n, uint64_t count, void *arg)
{
	struct ixcheck *c = arg;
	struct vstate *v = c->v;
	const struct ixrow *r = c->i < v->nix ? &v->ix[c->i] : NULL;

	if (r == NULL || r->n != n || strcmp(r->kind, kind) != 0 || strcmp(r->subject, subject) != 0 ||
	    r->count != count) {
		uint64_t bn = r && r->n < n ? r->n : n;
		return ev_errf(v->err, EV_ECORRUPT,
		    "entries %llu..%llu: the index does not match the entries (kind %s, subject %s): "
		    "queries could miss entries; run evident rebuild",
		    (unsigned long long)(bn * EV_BUNDLE + 1), (unsigned long long)((bn + 1) * EV_BUNDLE),
		    kind, subject);
	}
	c->i++;
	return EV_OK;
}

static int
count_hashes(unsigned level, uint64_t n, const uint8_t *hash, size_t len, void *arg)
{
	uint64_t *c = arg;

	(void)level;
	(void)n;
	(void)hash;
	(void)len;
	(*c)++;
	return EV_OK;
}

/* The published latest checkpoint file must still be covered by the ledger. */
static int
verify_checkpoint_file(struct ev_ledger *l, uint64_t size, const uint8_t pub[32],
    struct ev_err *err)
{
	char path[4096];
	FILE *f;
	char buf[EV_CP_NOTE_MAX];
	size_t n;
	struct ev_checkpoint cp;
	uint8_t root[EV_HASH_LEN];
	const char *why;
	int rc;

	snprintf(path, sizeof(path), "%s/checkpoint", l->dir);
	if ((f = fopen(path, "r")) == NULL)
		return EV_OK; /* no checkpoint yet */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n >= 22 && memcmp(buf, "evident checkpoint v1\n", 22) == 0) {
		/* A format-1 file, left by a migrated ledger. */
		char rooth[80] = "", t[64] = "", sig[128] = "";
		unsigned long long sz = 0, seq = 0;
		int have = 0;
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			if (sscanf(line, "size %llu", &sz) == 1)
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
		memset(&cp, 0, sizeof(cp));
		cp.version = 1;
		cp.size = sz;
		if (have != 31 || ev_hex_decode(rooth, strlen(rooth), cp.root, 32) != 32 ||
		    ev_time_parse(t, &cp.time_us) != 0 ||
		    ev_b64_decode(sig, strlen(sig), cp.sig, 64) != 64)
			return ev_errf(err, EV_ECORRUPT, "checkpoint file: malformed");
		if (ev_checkpoint_verify_sig(&cp, pub) != 0)
			return ev_errf(err, EV_ECORRUPT, "checkpoint file: bad signature");
	} else if (ev_checkpoint_from_note(buf, n, pub, &cp, &why) != 0) {
		return ev_errf(err, EV_ECORRUPT, "checkpoint file: %s", why);
	}
	/* Its entry follows the entries it covers. */
	if (cp.size + 1 > size)
		return ev_errf(err, EV_ECORRUPT,
		    "entry %llu: missing: the latest signed checkpoint (file) covers %llu entries and "
		    "was recorded as entry %llu, the ledger has %llu",
		    (unsigned long long)size + 1, (unsigned long long)cp.size,
		    (unsigned long long)cp.size + 1, (unsigned long long)size);
	if ((rc = ev_ledger_root(l, cp.size, root, err)) != EV_OK)
		return rc;
	if (memcmp(root, cp.root, EV_HASH_LEN) != 0)
		return ev_errf(err, EV_ECORRUPT,
		    "checkpoint file: root of size %llu does not match the ledger",
		    (unsigned long long)cp.size);
	return EV_OK;
}

int
ev_ledger_verify(struct ev_ledger *l, void (*progress)(uint64_t, uint64_t, void *), void *parg,
    struct ev_verify_stats *stats, struct ev_err *err)
{
	struct vstate v;
	struct ev_buf z = EV_BUF_INIT;
	struct bundle b;
	struct tailv tv;
	struct ixcheck ic;
	uint64_t size, full, hashes = 0, want_hashes = 0;
	int64_t t;
	int rc;

	memset(&v, 0, sizeof(v));
	memset(&b, 0, sizeof(b));
	v.l = l;
	v.err = err;
	v.expect = 1;
	if ((rc = ev_key_load_public(l->dir, v.pub, err)) != EV_OK)
		return rc;
	ev_key_id(v.pub, v.key_id_v1);
	if ((rc = ev_store_begin_read(l->st, err)) != EV_OK)
		return rc;
	if ((rc = ev_store_last(l->st, &size, &t, err)) != EV_OK ||
	    (rc = ev_store_bundle_count(l->st, &full, err)) != EV_OK)
		goto out;
	if (full * EV_BUNDLE > size) {
		rc = ev_errf(err, EV_ECORRUPT, "entry %llu: missing: bundles hold entries up to %llu",
		    (unsigned long long)size + 1, (unsigned long long)(full * EV_BUNDLE));
		goto out;
	}
	if ((rc = verify_bundles(&v, full, size, progress, parg)) != EV_OK)
		goto out;
	v.bundle_hash = NULL;
	tv.v = &v;
	rc = ev_store_tail_scan(l->st, full * EV_BUNDLE + 1, tail_cb, &tv, err);
	if (rc != EV_OK)
		goto out;
	if (v.st.entries != size) {
		rc = ev_errf(err, EV_ECORRUPT, "entry %llu: missing: the ledger's size is %llu",
		    (unsigned long long)v.expect, (unsigned long long)size);
		goto out;
	}
	if (v.fr.size != size) {
		rc = ev_errf(err, EV_EIO, "internal: tree size %llu after %llu entries",
		    (unsigned long long)v.fr.size, (unsigned long long)size);
		goto out;
	}
	/* A truncated ledger is caught here: the published checkpoint covers more. */
	if ((rc = verify_checkpoint_file(l, v.st.entries, v.pub, err)) != EV_OK)
		goto out;
	{
		uint64_t ss;
		if ((rc = ev_store_stream_size(l->st, &ss, err)) != EV_OK)
			goto out;
		if (ss != v.stream_end) {
			rc = ev_errf(err, EV_ECORRUPT,
			    "the bundle stream holds %llu bytes, the bundles account for %llu: it was "
			    "written outside evident",
			    (unsigned long long)ss, (unsigned long long)v.stream_end);
			goto out;
		}
	}
	/* No stored tree hash beyond those the rebuild checked. */
	if ((rc = ev_store_hash_scan(l->st, count_hashes, &hashes, err)) != EV_OK)
		goto out;
	for (uint64_t span = (uint64_t)EV_BUNDLE * EV_BUNDLE; span && span <= size;
	     span = span > UINT64_MAX / EV_BUNDLE ? 0 : span * EV_BUNDLE)
		want_hashes += size / span;
	if (hashes != want_hashes || v.hashes_checked != want_hashes) {
		rc = ev_errf(err, EV_ECORRUPT,
		    "the store holds %llu tree hashes above the bundles, the entries make %llu",
		    (unsigned long long)hashes, (unsigned long long)want_hashes);
		goto out;
	}
	if (v.nix)
		qsort(v.ix, v.nix, sizeof(*v.ix), ixcmp);
	ic.v = &v;
	ic.i = 0;
	if ((rc = ev_store_ix_scan(l->st, ix_cb, &ic, err)) != EV_OK)
		goto out;
	if (ic.i != v.nix) {
		rc = ev_errf(err, EV_ECORRUPT,
		    "entries %llu..%llu: the index is missing entries (kind %s, subject %s): run "
		    "evident rebuild",
		    (unsigned long long)(v.ix[ic.i].n * EV_BUNDLE + 1),
		    (unsigned long long)((v.ix[ic.i].n + 1) * EV_BUNDLE), v.ix[ic.i].kind,
		    v.ix[ic.i].subject);
		goto out;
	}
	if (progress)
		progress(v.st.entries, size, parg);
	rc = ev_store_check_triggers(l->st, err);
out:
	ev_store_rollback(l->st);
	ev_buf_free(&z);
	ev_buf_free(&b.raw);
	ev_buf_free(&v.scratch);
	ev_buf_free(&v.subj);
	for (size_t i = 0; i < v.nix; i++) {
		free(v.ix[i].kind);
		free(v.ix[i].subject);
	}
	free(v.ix);
	if (stats)
		*stats = v.st;
	return rc;
}
