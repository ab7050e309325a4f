/*
 * store.h - where the ledger keeps its entries and tree hashes (format 2).
 *
 * The ledger is stored the way tiled transparency logs store theirs
 * (c2sp.org/tlog-tiles): entries in *bundles* of EV_BUNDLE consecutive
 * entries, the Merkle tree as *tile hashes*.  What the store holds:
 *
 *   bundles      one row per full bundle N (entries 256N+1 .. 256N+256): its
 *                first and last entry time, its uncompressed size, its hash
 *                (the Merkle tree hash of its 256 leaves = entry N of the
 *                level-1 tiles), and where its bytes are in the bundle
 *                stream.  Written once.
 *   bundle_stream the bundles (2-byte big-endian length + leaf bytes, 256
 *                times), each zstd-compressed, one after the other, in
 *                chunks of 4040 bytes.  Only appended to.
 *   tail         the entries of the partial bundle, one row each (leaf bytes,
 *                leaf hash, and the time, kind and subject for queries); a
 *                tail row leaves only when the bundle holding it is written.
 *   hashes       tile hashes of level >= 2: the Merkle tree hash of the
 *                256^L leaves of each complete subtree at that height.
 *   ix           which bundles hold entries of a (kind, subject): the index
 *                `log --kind/--subject` uses to skip bundles.  Derived,
 *                rebuildable, checked by verify.
 *   meta         format and origin.
 *
 * Level-0 tiles (leaf hashes) are not kept: they are 32 bytes an entry,
 * about a third of a typical log line, and are recomputed from a bundle in
 * one decompression when a proof or a mirror needs them.
 *
 * The store knows rows, not meaning: it never computes a hash and never
 * decides what is valid; the ledger does.  Append-only is enforced by the
 * database itself: triggers abort UPDATE and DELETE of bundles, bundle data
 * and hashes, UPDATE of tail rows, and DELETE of a tail row unless its bundle
 * exists.  Every statement is prepared once per connection and bound.
 */
#ifndef EV_STORE_STORE_H
#define EV_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/buf.h"
#include "util/err.h"

#define EV_BUNDLE 256u
#define EV_STORE_FORMAT "evident-ledger-2"
#define EV_STORE_FORMAT_V1 "evident-ledger-1"

struct ev_store;
struct sqlite3;

/* Create a format-2 store with the given origin; EV_EEXIST if path exists. */
int ev_store_create(const char *path, const char *origin, struct ev_err *err);
/*
 * Open a store.  EV_ESTATE with a message naming `evident migrate` when it
 * holds a format-1 ledger (allow_v1 lets the migration open it).
 */
int ev_store_open(const char *path, int readonly, int allow_v1, struct ev_store **out,
    struct ev_err *err);
void ev_store_close(struct ev_store *st);
struct sqlite3 *ev_store_db(struct ev_store *st);
/* The store's format: 1 or 2. */
int ev_store_format(const struct ev_store *st);

/* BEGIN IMMEDIATE (waits for other writers up to the busy timeout). */
int ev_store_begin(struct ev_store *st, struct ev_err *err);
/* A read transaction (BEGIN DEFERRED): a consistent view for verify and rebuild. */
int ev_store_begin_read(struct ev_store *st, struct ev_err *err);
int ev_store_commit(struct ev_store *st, struct ev_err *err);
void ev_store_rollback(struct ev_store *st);

/* meta values (NUL-terminated text); EV_ENOTFOUND when the key is absent. */
int ev_store_meta_get(struct ev_store *st, const char *key, struct ev_buf *out,
    struct ev_err *err);
int ev_store_meta_set(struct ev_store *st, const char *key, const char *value,
    struct ev_err *err);

/* Tree size (the highest seq) and the time of that entry (0, 0 when empty). */
int ev_store_last(struct ev_store *st, uint64_t *size, int64_t *time_us, struct ev_err *err);

/* ---- the partial bundle ---- */
struct ev_tail_row {
	uint64_t seq;
	int64_t time_us;
	const char *kind, *subject;
	const uint8_t *leaf;
	size_t leaf_len;
	const uint8_t *leaf_hash; /* 32 bytes, or NULL when the row's is malformed */
};
int ev_store_tail_put(struct ev_store *st, const struct ev_tail_row *r, struct ev_err *err);
/* Rows with seq >= from_seq, by seq; cb's non-zero return stops and is returned. */
int ev_store_tail_scan(struct ev_store *st, uint64_t from_seq,
    int (*cb)(const struct ev_tail_row *r, void *arg), void *arg, struct ev_err *err);
/* Leaf hashes of tail entries first_seq .. first_seq+n-1 (EV_ECORRUPT on a gap). */
int ev_store_tail_hashes(struct ev_store *st, uint64_t first_seq, size_t n, uint8_t out[][32],
    struct ev_err *err);
/* Remove the tail rows of bundle n (its bundle row must exist). */
int ev_store_tail_drop(struct ev_store *st, uint64_t n, struct ev_err *err);

/* ---- full bundles ---- */
struct ev_bundle_row {
	uint64_t n;
	int64_t first_time, last_time;
	uint64_t raw_len;
	uint8_t hash[32];
	uint64_t off, len; /* where its compressed bytes are in the bundle stream */
};
int ev_store_bundle_put(struct ev_store *st, const struct ev_bundle_row *b, const void *data,
    size_t len, struct ev_err *err);
/* Bytes in the bundle stream (the end of the last bundle's data, when intact). */
int ev_store_stream_size(struct ev_store *st, uint64_t *size, struct ev_err *err);
/* Number of full bundles. */
int ev_store_bundle_count(struct ev_store *st, uint64_t *count, struct ev_err *err);
/* The row of bundle n and (data non-NULL) its compressed bytes; EV_ENOTFOUND. */
int ev_store_bundle_get(struct ev_store *st, uint64_t n, struct ev_bundle_row *b,
    struct ev_buf *data, struct ev_err *err);
/* Rows of bundles n0 .. n0+count-1 in order (EV_ECORRUPT on a gap). */
int ev_store_bundle_rows(struct ev_store *st, uint64_t n0, size_t count,
    struct ev_bundle_row *out, struct ev_err *err);

/* ---- tile hashes of level >= 2 ---- */
int ev_store_hash_put(struct ev_store *st, unsigned level, uint64_t n,
    const uint8_t hash[32], struct ev_err *err);
/* Hashes n0 .. n0+count-1 of a level in order (EV_ECORRUPT on a gap). */
int ev_store_hash_get(struct ev_store *st, unsigned level, uint64_t n0, size_t count,
    uint8_t out[][32], struct ev_err *err);
/* Every stored hash, by level then n (verify). */
int ev_store_hash_scan(struct ev_store *st,
    int (*cb)(unsigned level, uint64_t n, const uint8_t *hash, size_t len, void *arg),
    void *arg, struct ev_err *err);

/* ---- the (kind, subject) -> bundle index ---- */
int ev_store_ix_add(struct ev_store *st, const char *kind, const char *subject, uint64_t n,
    uint64_t count, struct ev_err *err);
/*
 * Bundles n in [n_lo, n_hi] holding entries of kind (exact, or a prefix when
 * kind_prefix) and subject (NULL: any), ascending, each once, into out.
 */
int ev_store_ix_bundles(struct ev_store *st, const char *kind, int kind_prefix,
    const char *subject, uint64_t n_lo, uint64_t n_hi, uint64_t **out, size_t *nout,
    struct ev_err *err);
/* Every index row, by bundle (verify). */
int ev_store_ix_scan(struct ev_store *st,
    int (*cb)(const char *kind, const char *subject, uint64_t n, uint64_t count, void *arg),
    void *arg, struct ev_err *err);
/* Drop every index row (before a rebuild of it). */
int ev_store_ix_clear(struct ev_store *st, struct ev_err *err);

/* EV_ECORRUPT when an append-only trigger is missing. */
int ev_store_check_triggers(struct ev_store *st, struct ev_err *err);

/* Map the last SQLite error of db to an ev_code with a message. */
int ev_store_db_err(struct sqlite3 *db, struct ev_err *err, const char *what);

#endif
