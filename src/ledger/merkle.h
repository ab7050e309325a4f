/*
 * merkle.h - RFC 9162 (Certificate Transparency v2) Merkle tree hashing.
 *
 * Pure functions: no store, no I/O.  Proof generation reads complete-subtree
 * hashes through a callback (struct ev_merkle_src), so a proof costs O(log n)
 * reads of whatever keeps those hashes.  Verification follows RFC 9162
 * sections 2.1.3.2 and 2.1.4.2 to the letter.
 */
#ifndef EV_LEDGER_MERKLE_H
#define EV_LEDGER_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define EV_HASH_LEN 32
#define EV_MERKLE_MAX_PROOF 128 /* 2 * 64 levels: the longest proof for 2^64 leaves */

/* SHA-256(0x00 || leaf). */
void ev_merkle_leaf_hash(const void *leaf, size_t n, uint8_t out[EV_HASH_LEN]);
/* SHA-256(0x01 || left || right). */
void ev_merkle_node_hash(const uint8_t l[EV_HASH_LEN], const uint8_t r[EV_HASH_LEN],
    uint8_t out[EV_HASH_LEN]);
/* SHA-256 of nothing: the root of the empty tree. */
void ev_merkle_empty_root(uint8_t out[EV_HASH_LEN]);
/* Plain SHA-256, one shot or streamed. */
void ev_sha256(const void *data, size_t n, uint8_t out[EV_HASH_LEN]);
struct ev_sha256 {
	_Alignas(8) unsigned char ctx[128]; /* an OpenSSL SHA256_CTX (112 bytes) */
};
void ev_sha256_init(struct ev_sha256 *h);
void ev_sha256_update(struct ev_sha256 *h, const void *data, size_t n);
void ev_sha256_final(struct ev_sha256 *h, uint8_t out[EV_HASH_LEN]);

/*
 * A source of complete-subtree hashes: get() writes the hash of the subtree of
 * 2^level leaves starting at leaf idx << level, and returns 0, or non-zero
 * when it cannot (the caller's error is then passed up unchanged).
 */
struct ev_merkle_src {
	int (*get)(void *arg, unsigned level, uint64_t idx, uint8_t out[EV_HASH_LEN]);
	void *arg;
};

/* Root of the leaves [begin, end); end > begin. */
int ev_merkle_range_root(const struct ev_merkle_src *src, uint64_t begin, uint64_t end,
    uint8_t out[EV_HASH_LEN]);
/* Inclusion proof of leaf idx in the tree of size leaves (idx < size). */
int ev_merkle_inclusion_proof(const struct ev_merkle_src *src, uint64_t idx, uint64_t size,
    uint8_t proof[][EV_HASH_LEN], size_t *n);
/* Consistency proof from size1 to size2 (0 < size1 <= size2; empty when equal). */
int ev_merkle_consistency_proof(const struct ev_merkle_src *src, uint64_t size1,
    uint64_t size2, uint8_t proof[][EV_HASH_LEN], size_t *n);

/*
 * Verification.  Hashes come as (pointer, length) so that malformed inputs
 * (a root of the wrong length) are rejected rather than read past.  Return 0
 * when the proof holds, -1 otherwise with a reason in why (may be NULL).
 */
struct ev_bytes {
	const uint8_t *p;
	size_t len;
};
int ev_merkle_verify_inclusion(uint64_t idx, uint64_t size, struct ev_bytes leaf_hash,
    const struct ev_bytes *proof, size_t n, struct ev_bytes root, const char **why);
int ev_merkle_verify_consistency(uint64_t size1, uint64_t size2, struct ev_bytes root1,
    struct ev_bytes root2, const struct ev_bytes *proof, size_t n, const char **why);

/*
 * The right edge of a growing tree: one complete-subtree hash per set bit of
 * size.  Appending a leaf merges equal-sized subtrees; each new internal node
 * is reported through emit (may be NULL) so a store can keep it.
 */
struct ev_merkle_frontier {
	uint64_t size;
	uint8_t h[64][EV_HASH_LEN]; /* h[level] valid when bit level of size is set */
};
typedef int (*ev_merkle_emit_fn)(void *arg, unsigned level, uint64_t idx,
    const uint8_t hash[EV_HASH_LEN]);
int ev_merkle_frontier_push(struct ev_merkle_frontier *f, const uint8_t leaf_hash[EV_HASH_LEN],
    ev_merkle_emit_fn emit, void *arg);
void ev_merkle_frontier_root(const struct ev_merkle_frontier *f, uint8_t out[EV_HASH_LEN]);
/* Load the frontier of a tree of the given size from a hash source. */
int ev_merkle_frontier_load(struct ev_merkle_frontier *f, const struct ev_merkle_src *src,
    uint64_t size);

#endif
