/*
 * merkle.c - RFC 9162 Merkle tree: hashing, proofs, verification, frontier.
 *
 * The recursive definitions of RFC 9162 2.1.1 (MTH), 2.1.3.1 (PATH) and
 * 2.1.4.1 (SUBPROOF) are followed exactly; every range they recurse into is
 * either a complete aligned subtree (one source read) or is split again, so
 * a proof needs O(log n) reads.  One SHA-256 context is reused per thread:
 * fetching the algorithm per hash would cost more than the hash itself.
 */
/*
 * OpenSSL 3 marks the direct SHA256_* functions deprecated in favour of EVP,
 * but EVP's per-call set-up costs as much as hashing a 300-byte leaf; the
 * ledger hashes millions of small inputs, so it uses the direct API.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "ledger/merkle.h"

#include <assert.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct ev_sha256 *)0)->ctx),
    "struct ev_sha256 too small for SHA256_CTX");

void
ev_sha256_init(struct ev_sha256 *h)
{
	SHA256_Init((SHA256_CTX *)h->ctx);
}

void
ev_sha256_update(struct ev_sha256 *h, const void *data, size_t n)
{
	SHA256_Update((SHA256_CTX *)h->ctx, data, n);
}

void
ev_sha256_final(struct ev_sha256 *h, uint8_t out[EV_HASH_LEN])
{
	SHA256_Final(out, (SHA256_CTX *)h->ctx);
}

/* Not SHA256(): in OpenSSL 3 the one-shot call fetches EVP under a lock. */
void
ev_sha256(const void *data, size_t n, uint8_t out[EV_HASH_LEN])
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, data, n);
	SHA256_Final(out, &c);
}

void
ev_merkle_leaf_hash(const void *leaf, size_t n, uint8_t out[EV_HASH_LEN])
{
	static const uint8_t zero = 0x00;
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, &zero, 1);
	SHA256_Update(&c, leaf, n);
	SHA256_Final(out, &c);
}

void
ev_merkle_node_hash(const uint8_t l[EV_HASH_LEN], const uint8_t r[EV_HASH_LEN],
    uint8_t out[EV_HASH_LEN])
{
	uint8_t buf[1 + 2 * EV_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l, EV_HASH_LEN);
	memcpy(buf + 1 + EV_HASH_LEN, r, EV_HASH_LEN);
	ev_sha256(buf, sizeof(buf), out);
}

void
ev_merkle_empty_root(uint8_t out[EV_HASH_LEN])
{
	ev_sha256("", 0, out);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;

	assert(n >= 2);
	while (k << 1 < n)
		k <<= 1;
	return k;
}

static int
is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

static unsigned
log2u(uint64_t n)
{
	unsigned l = 0;

	while (n >>= 1)
		l++;
	return l;
}

int
ev_merkle_range_root(const struct ev_merkle_src *src, uint64_t begin, uint64_t end,
    uint8_t out[EV_HASH_LEN])
{
	uint64_t n = end - begin;
	uint8_t l[EV_HASH_LEN], r[EV_HASH_LEN];
	int rc;

	assert(end > begin);
	if (is_pow2(n) && begin % n == 0) {
		unsigned level = log2u(n);
		return src->get(src->arg, level, begin >> level, out);
	}
	uint64_t k = split_point(n);
	if ((rc = ev_merkle_range_root(src, begin, begin + k, l)) != 0)
		return rc;
	if ((rc = ev_merkle_range_root(src, begin + k, end, r)) != 0)
		return rc;
	ev_merkle_node_hash(l, r, out);
	return 0;
}

/* Proofs list siblings from the leaf up; the recursions find them top-down. */
static void
reverse(uint8_t proof[][EV_HASH_LEN], size_t cnt)
{
	for (size_t i = 0; i < cnt / 2; i++) {
		uint8_t t[EV_HASH_LEN];
		memcpy(t, proof[i], EV_HASH_LEN);
		memcpy(proof[i], proof[cnt - 1 - i], EV_HASH_LEN);
		memcpy(proof[cnt - 1 - i], t, EV_HASH_LEN);
	}
}

/* PATH(m, D[a:b]): siblings are collected top-down, then reversed. */
int
ev_merkle_inclusion_proof(const struct ev_merkle_src *src, uint64_t idx, uint64_t size,
    uint8_t proof[][EV_HASH_LEN], size_t *n)
{
	uint64_t a = 0, b = size;
	size_t cnt = 0;
	int rc;

	assert(idx < size);
	while (b - a > 1) {
		uint64_t k = split_point(b - a);
		assert(cnt < EV_MERKLE_MAX_PROOF);
		if (idx - a < k) {
			rc = ev_merkle_range_root(src, a + k, b, proof[cnt++]);
			b = a + k;
		} else {
			rc = ev_merkle_range_root(src, a, a + k, proof[cnt++]);
			a = a + k;
		}
		if (rc)
			return rc;
	}
	reverse(proof, cnt);
	*n = cnt;
	return 0;
}

/* SUBPROOF(m, D[a:b], flag), iteratively; siblings collected then reversed. */
int
ev_merkle_consistency_proof(const struct ev_merkle_src *src, uint64_t size1,
    uint64_t size2, uint8_t proof[][EV_HASH_LEN], size_t *n)
{
	uint64_t m = size1, a = 0, b = size2;
	int flag = 1, rc;
	size_t cnt = 0;

	assert(size1 > 0 && size1 <= size2);
	if (size1 == size2) {
		*n = 0;
		return 0;
	}
	for (;;) {
		if (m == b - a) {
			if (!flag) {
				if ((rc = ev_merkle_range_root(src, a, b, proof[cnt++])) != 0)
					return rc;
			}
			break;
		}
		uint64_t k = split_point(b - a);
		assert(cnt < EV_MERKLE_MAX_PROOF);
		if (m <= k) {
			rc = ev_merkle_range_root(src, a + k, b, proof[cnt++]);
			b = a + k;
		} else {
			rc = ev_merkle_range_root(src, a, a + k, proof[cnt++]);
			m -= k;
			a += k;
			flag = 0;
		}
		if (rc)
			return rc;
	}
	reverse(proof, cnt);
	*n = cnt;
	return 0;
}

static int
fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -1;
}

static int
hash_ok(struct ev_bytes b)
{
	return b.p != NULL && b.len == EV_HASH_LEN;
}

int
ev_merkle_verify_inclusion(uint64_t idx, uint64_t size, struct ev_bytes leaf_hash,
    const struct ev_bytes *proof, size_t n, struct ev_bytes root, const char **why)
{
	uint8_t r[EV_HASH_LEN];
	uint64_t fn = idx, sn;

	if (idx >= size)
		return fail(why, "leaf index is not below the tree size");
	if (!hash_ok(leaf_hash))
		return fail(why, "leaf hash is not 32 bytes");
	if (!hash_ok(root))
		return fail(why, "root is not 32 bytes");
	sn = size - 1;
	memcpy(r, leaf_hash.p, EV_HASH_LEN);
	for (size_t i = 0; i < n; i++) {
		if (!hash_ok(proof[i]))
			return fail(why, "proof element is not 32 bytes");
		if (sn == 0)
			return fail(why, "proof is longer than the tree allows");
		if ((fn & 1) || fn == sn) {
			ev_merkle_node_hash(proof[i].p, r, r);
			if (!(fn & 1)) {
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			ev_merkle_node_hash(r, proof[i].p, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return fail(why, "proof is shorter than the tree requires");
	if (memcmp(r, root.p, EV_HASH_LEN) != 0)
		return fail(why, "computed root does not match");
	return 0;
}

int
ev_merkle_verify_consistency(uint64_t size1, uint64_t size2, struct ev_bytes root1,
    struct ev_bytes root2, const struct ev_bytes *proof, size_t n, const char **why)
{
	uint8_t empty[EV_HASH_LEN], fr[EV_HASH_LEN], sr[EV_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;
	struct ev_bytes first;

	ev_merkle_empty_root(empty);
	if (size2 < size1)
		return fail(why, "second size is smaller than the first");
	if (size1 == size2) {
		if (n != 0)
			return fail(why, "proof must be empty for equal sizes");
		if (root1.len != root2.len || (root1.len && memcmp(root1.p, root2.p, root1.len)))
			return fail(why, "roots differ for equal sizes");
		if (size1 == 0 && (!hash_ok(root1) || memcmp(root1.p, empty, EV_HASH_LEN)))
			return fail(why, "root of the empty tree is not SHA-256 of nothing");
		return 0;
	}
	if (size1 == 0) {
		if (n != 0)
			return fail(why, "proof must be empty from the empty tree");
		if (!hash_ok(root1) || memcmp(root1.p, empty, EV_HASH_LEN))
			return fail(why, "root of the empty tree is not SHA-256 of nothing");
		if (!hash_ok(root2))
			return fail(why, "second root is not 32 bytes");
		return 0;
	}
	if (!hash_ok(root1) || !hash_ok(root2))
		return fail(why, "root is not 32 bytes");
	if (n == 0)
		return fail(why, "proof is empty");
	for (size_t k = 0; k < n; k++)
		if (!hash_ok(proof[k]))
			return fail(why, "proof element is not 32 bytes");
	/* RFC 9162 2.1.4.2: a power-of-two first tree is its own first node. */
	if (is_pow2(size1)) {
		first = root1;
	} else {
		first = proof[0];
		i = 1;
	}
	fn = size1 - 1;
	sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, first.p, EV_HASH_LEN);
	memcpy(sr, first.p, EV_HASH_LEN);
	for (; i < n; i++) {
		if (sn == 0)
			return fail(why, "proof is longer than the trees allow");
		if ((fn & 1) || fn == sn) {
			ev_merkle_node_hash(proof[i].p, fr, fr);
			ev_merkle_node_hash(proof[i].p, sr, sr);
			if (!(fn & 1)) {
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			ev_merkle_node_hash(sr, proof[i].p, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return fail(why, "proof is shorter than the trees require");
	if (memcmp(fr, root1.p, EV_HASH_LEN) != 0)
		return fail(why, "first root does not match");
	if (memcmp(sr, root2.p, EV_HASH_LEN) != 0)
		return fail(why, "second root does not match");
	return 0;
}

int
ev_merkle_frontier_push(struct ev_merkle_frontier *f, const uint8_t leaf_hash[EV_HASH_LEN],
    ev_merkle_emit_fn emit, void *arg)
{
	uint8_t carry[EV_HASH_LEN];
	unsigned level = 0;
	uint64_t s = f->size;
	int rc;

	memcpy(carry, leaf_hash, EV_HASH_LEN);
	while (s & ((uint64_t)1 << level)) {
		ev_merkle_node_hash(f->h[level], carry, carry);
		level++;
		if (emit && (rc = emit(arg, level, s >> level, carry)) != 0)
			return rc;
	}
	memcpy(f->h[level], carry, EV_HASH_LEN);
	f->size = s + 1;
	return 0;
}

void
ev_merkle_frontier_root(const struct ev_merkle_frontier *f, uint8_t out[EV_HASH_LEN])
{
	unsigned level;
	int have = 0;

	if (f->size == 0) {
		ev_merkle_empty_root(out);
		return;
	}
	for (level = 0; level < 64; level++) {
		if (!(f->size & ((uint64_t)1 << level)))
			continue;
		if (!have) {
			memcpy(out, f->h[level], EV_HASH_LEN);
			have = 1;
		} else {
			ev_merkle_node_hash(f->h[level], out, out);
		}
	}
}

int
ev_merkle_frontier_load(struct ev_merkle_frontier *f, const struct ev_merkle_src *src,
    uint64_t size)
{
	int rc;

	memset(f, 0, sizeof(*f));
	for (unsigned level = 0; level < 64; level++) {
		if (!(size & ((uint64_t)1 << level)))
			continue;
		uint64_t start = size >> (level + 1) << (level + 1);
		if ((rc = src->get(src->arg, level, start >> level, f->h[level])) != 0)
			return rc;
	}
	f->size = size;
	return 0;
}
