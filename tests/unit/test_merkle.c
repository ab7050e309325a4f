/*
 * test_merkle.c - RFC 9162 Merkle tree hashing, proofs and verification
 * against the standard Certificate Transparency test vectors.
 *
 * vectors.json (shared fixtures) holds the eight CT test leaves, the root of
 * every tree size 0..8, the inclusion proof of every leaf and the consistency
 * proof of every pair of sizes up to 8, all hex.  The tree here is kept in
 * memory: leaves are pushed through ev_merkle_frontier_push, whose emitted
 * internal nodes fill a table that serves as the ev_merkle_src, just as the
 * SQLite store does for the real ledger.  Beyond the vectors, every proof of
 * every tree up to 40 leaves is checked against a naive recursive reading of
 * RFC 9162 2.1 and must verify, and must fail with any bit flipped.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/merkle.h"
#include "unit.h"
#include "util/enc.h"

#define MAXLEAVES 64
#define MAXLEVEL 7

/* An in-memory tree: node[level][idx] for complete subtrees, as a store keeps them. */
struct memtree {
	uint8_t node[MAXLEVEL][MAXLEAVES][EV_HASH_LEN];
	int have[MAXLEVEL][MAXLEAVES];
	size_t size;
	struct ev_merkle_frontier fr;
	unsigned long reads;
};

static int
mem_get(void *arg, unsigned level, uint64_t idx, uint8_t out[EV_HASH_LEN])
{
	struct memtree *t = arg;

	t->reads++;
	if (level >= MAXLEVEL || idx >= MAXLEAVES || !t->have[level][idx])
		return -1;
	/* A complete subtree must lie inside the tree: nobody may read past the right edge. */
	if (((idx + 1) << level) > t->size)
		return -2;
	memcpy(out, t->node[level][idx], EV_HASH_LEN);
	return 0;
}

static int
mem_put(void *arg, unsigned level, uint64_t idx, const uint8_t hash[EV_HASH_LEN])
{
	struct memtree *t = arg;

	if (level >= MAXLEVEL || idx >= MAXLEAVES || t->have[level][idx])
		return -1;
	memcpy(t->node[level][idx], hash, EV_HASH_LEN);
	t->have[level][idx] = 1;
	return 0;
}

static int
mem_push(struct memtree *t, const void *leaf, size_t n)
{
	uint8_t lh[EV_HASH_LEN];

	ev_merkle_leaf_hash(leaf, n, lh);
	if (mem_put(t, 0, t->size, lh) != 0)
		return -1;
	t->size++;
	return ev_merkle_frontier_push(&t->fr, lh, mem_put, t);
}

static struct ev_merkle_src
mem_src(struct memtree *t)
{
	struct ev_merkle_src s = { mem_get, t };

	return s;
}

/* Naive RFC 9162 2.1: MTH, PATH and SUBPROOF over the leaf hashes, recursively. */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static void
naive_mth(uint8_t lh[][EV_HASH_LEN], uint64_t a, uint64_t b, uint8_t out[EV_HASH_LEN])
{
	uint8_t l[EV_HASH_LEN], r[EV_HASH_LEN];
	uint64_t k;

	if (b - a == 1) {
		memcpy(out, lh[a], EV_HASH_LEN);
		return;
	}
	k = split(b - a);
	naive_mth(lh, a, a + k, l);
	naive_mth(lh, a + k, b, r);
	ev_merkle_node_hash(l, r, out);
}

static size_t
naive_path(uint8_t lh[][EV_HASH_LEN], uint64_t m, uint64_t a, uint64_t b,
    uint8_t out[][EV_HASH_LEN])
{
	uint64_t k;
	size_t n;

	if (b - a <= 1)
		return 0;
	k = split(b - a);
	if (m < k) {
		n = naive_path(lh, m, a, a + k, out);
		naive_mth(lh, a + k, b, out[n]);
	} else {
		n = naive_path(lh, m - k, a + k, b, out);
		naive_mth(lh, a, a + k, out[n]);
	}
	return n + 1;
}

static size_t
naive_subproof(uint8_t lh[][EV_HASH_LEN], uint64_t m, uint64_t a, uint64_t b, int flag,
    uint8_t out[][EV_HASH_LEN])
{
	uint64_t k;
	size_t n;

	if (m == b - a) {
		if (flag)
			return 0;
		naive_mth(lh, a, b, out[0]);
		return 1;
	}
	k = split(b - a);
	if (m <= k) {
		n = naive_subproof(lh, m, a, a + k, flag, out);
		naive_mth(lh, a + k, b, out[n]);
	} else {
		n = naive_subproof(lh, m - k, a + k, b, 0, out);
		naive_mth(lh, a, a + k, out[n]);
	}
	return n + 1;
}

static int
hex32(const json_t *v, uint8_t out[EV_HASH_LEN])
{
	const char *s = json_string_value(v);

	return s && strlen(s) == 64 && ev_hex_decode(s, 64, out, EV_HASH_LEN) == EV_HASH_LEN
	    ? 0
	    : -1;
}

/* Decode a JSON array of hex hashes into out; -1 on anything else. */
static long
hex_array(const json_t *a, uint8_t out[][EV_HASH_LEN], size_t max)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > max)
		return -1;
	for (i = 0; i < json_array_size(a); i++)
		if (hex32(json_array_get(a, i), out[i]) != 0)
			return -1;
	return (long)i;
}

static void
as_bytes(uint8_t h[][EV_HASH_LEN], size_t n, struct ev_bytes *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i].p = h[i];
		out[i].len = EV_HASH_LEN;
	}
}

static struct ev_bytes
b32(const uint8_t *p)
{
	struct ev_bytes b = { p, EV_HASH_LEN };

	return b;
}

/* Build trees of every size 0..8 from the CT leaves: t[n] holds the first n leaves. */
static struct memtree trees[9];

static void
test_vectors(void)
{
	char path[4096];
	json_error_t je;
	json_t *v, *leaves, *roots, *incl, *cons;
	uint8_t leaf[64];
	size_t leaf_len[8];
	uint8_t leaf_bytes[8][64];

	snprintf(path, sizeof(path), "%s/merkle/vectors.json", unit_fixtures());
	v = json_load_file(path, 0, &je);
	CHECK(v != NULL, "vectors.json loads (%s)", v ? path : je.text);
	if (v == NULL)
		return;
	leaves = json_object_get(v, "leaves_hex");
	roots = json_object_get(v, "roots");
	incl = json_object_get(v, "inclusion");
	cons = json_object_get(v, "consistency");
	CHECK(json_array_size(leaves) == 8 && json_object_size(roots) == 9 &&
		json_array_size(incl) == 36 && json_array_size(cons) == 36,
	    "vectors.json has 8 leaves, 9 roots, 36 inclusion and 36 consistency cases");
	for (size_t i = 0; i < 8 && i < json_array_size(leaves); i++) {
		const char *h = json_string_value(json_array_get(leaves, i));
		long n = h ? ev_hex_decode(h, strlen(h), leaf, sizeof(leaf)) : -1;
		if (n < 0)
			n = 0;
		leaf_len[i] = (size_t)n;
		memcpy(leaf_bytes[i], leaf, (size_t)n);
	}
	for (size_t n = 0; n <= 8; n++) {
		int ok = 1;
		memset(&trees[n], 0, sizeof(trees[n]));
		for (size_t i = 0; i < n; i++)
			ok &= mem_push(&trees[n], leaf_bytes[i], leaf_len[i]) == 0;
		CHECK(ok, "tree of size %zu built through the frontier", n);
	}

	/* Roots 0..8: frontier root, range root from the node source, and the vector. */
	for (size_t n = 0; n <= 8; n++) {
		char key[4];
		uint8_t want[EV_HASH_LEN], got[EV_HASH_LEN], got2[EV_HASH_LEN];
		struct ev_merkle_src src = mem_src(&trees[n]);
		snprintf(key, sizeof(key), "%zu", n);
		int okv = hex32(json_object_get(roots, key), want) == 0;
		ev_merkle_frontier_root(&trees[n].fr, got);
		CHECK(okv && memcmp(got, want, EV_HASH_LEN) == 0,
		    "root of size %zu (frontier) matches the vector", n);
		if (n == 0) {
			ev_merkle_empty_root(got2);
		} else if (ev_merkle_range_root(&src, 0, n, got2) != 0) {
			memset(got2, 0, sizeof(got2));
		}
		CHECK(okv && memcmp(got2, want, EV_HASH_LEN) == 0,
		    "root of size %zu (from stored subtrees) matches the vector", n);
		if (n > 0) {
			struct ev_merkle_frontier f;
			uint8_t got3[EV_HASH_LEN];
			int lr = ev_merkle_frontier_load(&f, &src, n);
			ev_merkle_frontier_root(&f, got3);
			CHECK(lr == 0 && memcmp(got3, want, EV_HASH_LEN) == 0,
			    "frontier of size %zu reloaded from the nodes gives the same root", n);
		}
	}

	/* Inclusion proofs: generated byte for byte, verified, tampered copies rejected. */
	for (size_t c = 0; c < json_array_size(incl); c++) {
		const json_t *o = json_array_get(incl, c);
		uint64_t idx = (uint64_t)json_integer_value(json_object_get(o, "leaf_index"));
		uint64_t size = (uint64_t)json_integer_value(json_object_get(o, "tree_size"));
		uint8_t want[EV_MERKLE_MAX_PROOF][EV_HASH_LEN], got[EV_MERKLE_MAX_PROOF][EV_HASH_LEN];
		uint8_t lh[EV_HASH_LEN], root[EV_HASH_LEN];
		struct ev_bytes pb[EV_MERKLE_MAX_PROOF];
		const char *why = NULL;
		long nw = hex_array(json_object_get(o, "proof"), want, EV_MERKLE_MAX_PROOF);
		size_t ng = 0;
		int ok = nw >= 0 && size >= 1 && size <= 8 && idx < size &&
		    hex32(json_object_get(o, "leaf_hash"), lh) == 0;
		if (ok) {
			struct ev_merkle_src src = mem_src(&trees[size]);
			ok = ev_merkle_inclusion_proof(&src, idx, size, got, &ng) == 0 &&
			    ng == (size_t)nw && memcmp(got, want, ng * EV_HASH_LEN) == 0 &&
			    memcmp(trees[size].node[0][idx], lh, EV_HASH_LEN) == 0;
		}
		CHECK(ok, "inclusion proof of leaf %llu in tree %llu matches the vector",
		    (unsigned long long)idx, (unsigned long long)size);
		if (!ok)
			continue;
		ev_merkle_frontier_root(&trees[size].fr, root);
		as_bytes(got, ng, pb);
		CHECK(ev_merkle_verify_inclusion(idx, size, b32(lh), pb, ng, b32(root), &why) == 0,
		    "inclusion proof of leaf %llu in tree %llu verifies (%s)",
		    (unsigned long long)idx, (unsigned long long)size, why ? why : "ok");
		/* Every single-bit change of the proof, the leaf or the root is refused. */
		int rejected = 1;
		for (size_t e = 0; e < ng + 2; e++) {
			uint8_t *h = e < ng ? got[e] : e == ng ? lh : root;
			for (unsigned bit = 0; bit < 8 * EV_HASH_LEN; bit += 37) {
				h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				if (ev_merkle_verify_inclusion(idx, size, b32(lh), pb, ng, b32(root),
					NULL) == 0)
					rejected = 0;
				h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			}
		}
		if (size > 1 && ev_merkle_verify_inclusion(idx ^ 1, size, b32(lh), pb, ng, b32(root),
				    NULL) == 0 && (idx ^ 1) < size)
			rejected = 0;
		if (ng > 0 && ev_merkle_verify_inclusion(idx, size, b32(lh), pb, ng - 1, b32(root),
				  NULL) == 0)
			rejected = 0;
		CHECK(rejected,
		    "inclusion proof of leaf %llu in tree %llu fails with a flipped bit, another "
		    "index or a shortened proof",
		    (unsigned long long)idx, (unsigned long long)size);
	}

	/* Consistency proofs, likewise. */
	for (size_t c = 0; c < json_array_size(cons); c++) {
		const json_t *o = json_array_get(cons, c);
		uint64_t s1 = (uint64_t)json_integer_value(json_object_get(o, "size1"));
		uint64_t s2 = (uint64_t)json_integer_value(json_object_get(o, "size2"));
		uint8_t want[EV_MERKLE_MAX_PROOF][EV_HASH_LEN], got[EV_MERKLE_MAX_PROOF][EV_HASH_LEN];
		uint8_t r1[EV_HASH_LEN], r2[EV_HASH_LEN];
		struct ev_bytes pb[EV_MERKLE_MAX_PROOF];
		const char *why = NULL;
		long nw = hex_array(json_object_get(o, "proof"), want, EV_MERKLE_MAX_PROOF);
		size_t ng = 0;
		int ok = nw >= 0 && s1 >= 1 && s1 <= s2 && s2 <= 8;
		if (ok) {
			struct ev_merkle_src src = mem_src(&trees[s2]);
			ok = ev_merkle_consistency_proof(&src, s1, s2, got, &ng) == 0 &&
			    ng == (size_t)nw && memcmp(got, want, ng * EV_HASH_LEN) == 0;
		}
		CHECK(ok, "consistency proof %llu -> %llu matches the vector",
		    (unsigned long long)s1, (unsigned long long)s2);
		if (!ok)
			continue;
		ev_merkle_frontier_root(&trees[s1].fr, r1);
		ev_merkle_frontier_root(&trees[s2].fr, r2);
		as_bytes(got, ng, pb);
		CHECK(ev_merkle_verify_consistency(s1, s2, b32(r1), b32(r2), pb, ng, &why) == 0,
		    "consistency proof %llu -> %llu verifies (%s)", (unsigned long long)s1,
		    (unsigned long long)s2, why ? why : "ok");
		int rejected = 1;
		for (size_t e = 0; e < ng + 2; e++) {
			uint8_t *h = e < ng ? got[e] : e == ng ? r1 : r2;
			for (unsigned bit = 0; bit < 8 * EV_HASH_LEN; bit += 37) {
				h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				if (ev_merkle_verify_consistency(s1, s2, b32(r1), b32(r2), pb, ng,
					NULL) == 0)
					rejected = 0;
				h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			}
		}
		if (s1 != s2 &&
		    ev_merkle_verify_consistency(s1, s2, b32(r2), b32(r1), pb, ng, NULL) == 0)
			rejected = 0;
		CHECK(rejected,
		    "consistency proof %llu -> %llu fails with a flipped bit or swapped roots",
		    (unsigned long long)s1, (unsigned long long)s2);
	}
	json_decref(v);
}

/* Every proof of every tree up to 40 leaves agrees with the naive recursion and verifies. */
static void
test_exhaustive(void)
{
	enum { N = 40 };
	static struct memtree t;
	uint8_t lh[N][EV_HASH_LEN];
	uint8_t roots[N + 1][EV_HASH_LEN];
	uint8_t got[EV_MERKLE_MAX_PROOF][EV_HASH_LEN], want[EV_MERKLE_MAX_PROOF][EV_HASH_LEN];
	struct ev_bytes pb[EV_MERKLE_MAX_PROOF];
	int roots_ok = 1, incl_ok = 1, cons_ok = 1, verify_ok = 1, reads_ok = 1;
	char first_bad[128] = "";

	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < N; i++) {
		char leaf[32];
		int n = snprintf(leaf, sizeof(leaf), "leaf %u", i);
		mem_push(&t, leaf, (size_t)n);
		memcpy(lh[i], t.node[0][i], EV_HASH_LEN);
	}
	ev_merkle_empty_root(roots[0]);
	for (uint64_t n = 1; n <= N; n++) {
		uint8_t r[EV_HASH_LEN];
		struct ev_merkle_src src = mem_src(&t);
		t.size = n; /* reads past leaf n are refused by mem_get */
		naive_mth(lh, 0, n, roots[n]);
		if (ev_merkle_range_root(&src, 0, n, r) != 0 || memcmp(r, roots[n], EV_HASH_LEN))
			roots_ok = 0;
	}
	for (uint64_t size = 1; size <= N; size++) {
		struct ev_merkle_src src = mem_src(&t);
		t.size = size;
		for (uint64_t idx = 0; idx < size; idx++) {
			size_t ng = 0, nw = naive_path(lh, idx, 0, size, want);
			t.reads = 0;
			if (ev_merkle_inclusion_proof(&src, idx, size, got, &ng) != 0 || ng != nw ||
			    memcmp(got, want, ng * EV_HASH_LEN) != 0) {
				if (incl_ok)
					snprintf(first_bad, sizeof(first_bad), "inclusion %llu/%llu",
					    (unsigned long long)idx, (unsigned long long)size);
				incl_ok = 0;
				continue;
			}
			/* O(log n): at most two reads per level. */
			if (t.reads > 2 * 7)
				reads_ok = 0;
			as_bytes(got, ng, pb);
			if (ev_merkle_verify_inclusion(idx, size, b32(lh[idx]), pb, ng,
				b32(roots[size]), NULL) != 0)
				verify_ok = 0;
		}
		for (uint64_t s1 = 1; s1 <= size; s1++) {
			size_t ng = 0, nw = s1 == size ? 0 : naive_subproof(lh, s1, 0, size, 1, want);
			t.reads = 0;
			if (ev_merkle_consistency_proof(&src, s1, size, got, &ng) != 0 || ng != nw ||
			    memcmp(got, want, ng * EV_HASH_LEN) != 0) {
				if (cons_ok)
					snprintf(first_bad, sizeof(first_bad), "consistency %llu->%llu",
					    (unsigned long long)s1, (unsigned long long)size);
				cons_ok = 0;
				continue;
			}
			if (t.reads > 2 * 7)
				reads_ok = 0;
			as_bytes(got, ng, pb);
			if (ev_merkle_verify_consistency(s1, size, b32(roots[s1]), b32(roots[size]), pb,
				ng, NULL) != 0)
				verify_ok = 0;
		}
	}
	CHECK(roots_ok, "roots of every size 1..%d from stored subtrees match the naive MTH", N);
	CHECK(incl_ok, "every inclusion proof up to %d leaves matches the naive PATH %s", N,
	    first_bad);
	CHECK(cons_ok, "every consistency proof up to %d leaves matches the naive SUBPROOF %s", N,
	    first_bad);
	CHECK(verify_ok, "every one of those proofs verifies");
	CHECK(reads_ok, "no proof up to %d leaves reads more than 14 stored subtrees", N);
}

/* Malformed inputs are refused, not read past. */
static void
test_malformed(void)
{
	uint8_t h[EV_HASH_LEN] = { 0 }, e[EV_HASH_LEN];
	struct ev_bytes short_h = { h, 31 }, none = { NULL, 0 };
	struct ev_bytes one = { h, EV_HASH_LEN };
	const char *why = NULL;

	ev_merkle_empty_root(e);
	CHECK(ev_merkle_verify_inclusion(0, 1, short_h, NULL, 0, one, &why) != 0,
	    "a 31-byte leaf hash is refused (%s)", why ? why : "");
	CHECK(ev_merkle_verify_inclusion(0, 1, one, NULL, 0, short_h, &why) != 0,
	    "a 31-byte root is refused (%s)", why ? why : "");
	CHECK(ev_merkle_verify_inclusion(1, 1, one, NULL, 0, one, &why) != 0,
	    "a leaf index equal to the tree size is refused (%s)", why ? why : "");
	CHECK(ev_merkle_verify_inclusion(0, 0, one, NULL, 0, one, &why) != 0,
	    "an inclusion proof in the empty tree is refused (%s)", why ? why : "");
	CHECK(ev_merkle_verify_inclusion(0, 1, one, NULL, 0, one, NULL) == 0,
	    "a one-leaf tree's root is its leaf hash, with an empty proof");
	CHECK(ev_merkle_verify_inclusion(0, 1, one, &one, 1, one, &why) != 0,
	    "a proof longer than the tree allows is refused (%s)", why ? why : "");
	CHECK(ev_merkle_verify_consistency(2, 1, one, one, NULL, 0, &why) != 0,
	    "a consistency proof to a smaller tree is refused (%s)", why ? why : "");
	CHECK(ev_merkle_verify_consistency(0, 0, b32(e), b32(e), NULL, 0, NULL) == 0,
	    "empty to empty with SHA-256 of nothing is consistent");
	CHECK(ev_merkle_verify_consistency(0, 5, one, one, NULL, 0, &why) != 0,
	    "from the empty tree the first root must be SHA-256 of nothing (%s)", why ? why : "");
	CHECK(ev_merkle_verify_consistency(3, 3, one, none, NULL, 0, &why) != 0,
	    "equal sizes with different roots are refused (%s)", why ? why : "");
	CHECK(ev_merkle_verify_consistency(3, 5, one, one, NULL, 0, &why) != 0,
	    "an empty proof between different sizes is refused (%s)", why ? why : "");
}

int
main(void)
{
	uint8_t h[EV_HASH_LEN];
	char hex[65];

	ev_merkle_empty_root(h);
	ev_hex_encode(h, EV_HASH_LEN, hex);
	CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
	    "the empty root is SHA-256 of nothing");
	test_vectors();
	test_exhaustive();
	test_malformed();
	UNIT_END();
}
