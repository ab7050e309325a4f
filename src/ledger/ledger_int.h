/*
 * ledger_int.h - what the ledger's own files share (ledger.c: appends and
 * checkpoints; read.c: entries, scans and proofs from bundles; verify.c:
 * verification and rebuild; migrate.c; tlog.c: the tile resources).
 * Nothing outside src/ledger includes this.
 */
#ifndef EV_LEDGER_INT_H
#define EV_LEDGER_INT_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "ledger/note.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeutil.h"

#define EV_LEAF_MAX 65535u /* a bundle entry has a 2-byte length */
#define EV_ZSTD_LEVEL 1    /* measured: ~20x on log bundles at ~550 MB/s (see DESIGN.md) */
#define BC_SLOTS 4         /* decompressed bundles kept for reads */
#define LH_SLOTS 4         /* leaf-hash tiles kept for proofs */
#define HT_SLOTS 256       /* full hash tiles (level >= 1) kept for proofs, 16 KiB each */

/* A decompressed bundle: the bytes and where each of its entries starts. */
struct bundle {
	uint64_t n;
	int valid;
	uint64_t used; /* LRU stamp */
	struct ev_buf raw;
	uint32_t off[EV_BUNDLE]; /* offset of each leaf (after its 2-byte length) */
	uint16_t len[EV_BUNDLE];
};

struct lhtile {
	uint64_t n;
	int valid;
	uint64_t used;
	uint8_t h[EV_BUNDLE][32];
};

/*
 * A full hash tile of level >= 1 (its 256 hashes never change once stored)
 * with every node above them: node[h] holds the 256 >> h subtree hashes of
 * height h inside the tile, so a proof step is one lookup.
 */
struct httile {
	unsigned level;
	uint64_t t;
	int valid;
	uint64_t used;
	uint8_t node[2 * EV_BUNDLE - 1][32]; /* heights 0..8, laid out one after another */
};

/* Entries appended in this transaction, counted per (kind, subject, bundle) for the index. */
struct ixacc {
	char *kind, *subject;
	uint64_t n, count;
};

struct ev_ledger {
	char *dir;
	int flags;
	struct ev_store *st;
	EVP_PKEY *key;
	char origin[EV_ORIGIN_MAX + 1];
	int in_tx;
	int lock_fd;       /* DATA/ledger.lock, opened on the first append (-1: not yet) */
	int lease_held;    /* this handle holds the append lease */
	int lease_external; /* a stream holds it for this handle: appends do not take or drop it */
	int bodies_checked; /* set by the stream around an append of checked bodies */

	/* Writer state, valid while state_ok: it mirrors the store at size. */
	int state_ok;
	uint64_t size;
	int64_t last_time;
	struct ev_merkle_frontier fr;
	struct ev_buf pb;   /* the partial bundle's encoded entries (2-byte length + leaf) */
	int64_t pb_first;   /* time of its first entry */
	size_t pb_count;
	uint8_t pb_hash[32]; /* level-8 node emitted when the bundle completed */
	int pb_hash_set;
	uint64_t full_upto; /* entries up to this seq go into bundles written by this append */

	struct ixacc *ix;
	size_t nix, capix;

	struct ev_buf body, leaf, zbuf;
	void *cctx, *dctx; /* ZSTD_CCtx, ZSTD_DCtx */

	struct bundle bc[BC_SLOTS];
	struct lhtile lh[LH_SLOTS];
	struct httile *ht; /* HT_SLOTS, allocated by the first proof that needs one */
	uint64_t tick;

	struct ev_err src_err;
	int64_t tcache_us;
	char tcache[EV_TIME_STRLEN];
};

/* ---- leaves (read.c) ---- */

/* The cheap parts of a leaf, without decoding strings (verify's hot path). */
struct leaf_meta {
	uint64_t seq;
	int64_t time_us;
	const char *kind; /* not NUL-terminated: kind_len bytes (kinds need no escapes) */
	size_t kind_len;
	const char *subject_json; /* the subject's JSON string, quotes included */
	size_t subject_json_len;
};
int ev_leaf_meta(const uint8_t *leaf, size_t n, struct leaf_meta *m);
/* Decode a whole leaf: strings unescaped into scratch (which the entry then points into). */
int ev_leaf_decode(const uint8_t *leaf, size_t n, struct ev_entry *e, struct ev_buf *scratch);

/* Unescape the JSON string p[a..b) (without its quotes) onto out, with a NUL; -1 if malformed. */
int ev_json_unescape(const uint8_t *p, size_t a, size_t b, struct ev_buf *out);
/* Decompress bundle data into b (raw, offsets) with a ZSTD_DCtx; -1 with why when malformed. */
int ev_bundle_decode(void *dctx, uint64_t n, const void *data, size_t len, uint64_t raw_len,
    struct bundle *b, const char **why);
/* The decompressed bundle n from the cache or the store. */
int ev_bundle_load(struct ev_ledger *l, uint64_t n, struct bundle **out, struct ev_err *err);
/* The 256 leaf hashes of full bundle n (cached). */
int ev_bundle_leaf_hashes(struct ev_ledger *l, uint64_t n, const uint8_t (**out)[32],
    struct ev_err *err);
/* Forget every cached bundle (after a rollback: a bundle written and undone). */
void ev_read_cache_clear(struct ev_ledger *l);

/* A source of complete-subtree hashes over the store (for merkle.c). */
struct ev_merkle_src ev_ledger_src(struct ev_ledger *l);
int ev_ledger_src_fail(struct ev_ledger *l, int rc, struct ev_err *err);

/* ---- appends (ledger.c) ---- */
uint64_t ev_ledger_leaf_hash(struct ev_ledger *l, const struct ev_entry *e, uint8_t out[32]);
/*
 * Append entries with given seq and time (the migration: bytes already
 * canonical, no projectors).  Inside a store transaction.
 */
int ev_ledger_append_raw(struct ev_ledger *l, const struct ev_entry *e, size_t n,
    struct ev_err *err);
/* Finish an append: write the index counts (inside the transaction). */
int ev_ledger_flush_ix(struct ev_ledger *l, struct ev_err *err);
/* Bring the writer state to the store's current size (inside a transaction). */
int ev_ledger_sync_state(struct ev_ledger *l, struct ev_err *err);

/* ---- the append lease (ledger.c) ---- */
/*
 * Every appender holds DATA/ledger.lock (flock, exclusive) from before it
 * reads the tree size until its commit, so that a stream (stream.c) can
 * number entries ahead of the commit: while it holds the lease, nobody else
 * appends.  Waiting is bounded by EV_LEASE_WAIT_MS.
 */
#define EV_LEASE_WAIT_MS 10000
int ev_lease_acquire(struct ev_ledger *l, struct ev_err *err);
void ev_lease_release(struct ev_ledger *l);

/* ---- checkpoints (ledger.c) ---- */
int ev_checkpoint_parse_entry(const struct ev_entry *e, struct ev_checkpoint *cp,
    const char **why);

#endif
