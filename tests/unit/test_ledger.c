/*
 * test_ledger.c - the ledger library (ledger.h) against an independent
 * recomputation of its tree.
 *
 * 1000 entries are appended through two handles on the same directory in
 * turns, in batches of varying size, so that each handle must notice the
 * other's appends (its cached frontier is stale).  The leaves are then
 * rebuilt from the scanned fields (ev_entry_leaf, not the stored leaf hash)
 * and every tree root 1..1000, inclusion proofs and consistency proofs
 * around the 16-leaf tile boundaries are checked against them.  Also:
 * transactions and rollback, an invalid entry in a batch, scans, read-only
 * handles and checkpoints with their signatures.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "unit.h"
#include "util/buf.h"

#define N 1000

static uint8_t leaves[N + 8][EV_HASH_LEN]; /* recomputed from the fields */
static int64_t times[N + 8];
static uint64_t nleaves;

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
collect(const struct ev_entry *e, void *arg)
{
	struct ev_buf b = EV_BUF_INIT;
	int *bad = arg;

	if (e->seq != nleaves + 1 || e->seq > N + 8) {
		(*bad)++;
		return 1;
	}
	ev_entry_leaf(e, &b);
	ev_merkle_leaf_hash(b.p, b.len, leaves[nleaves]);
	if (e->leaf_hash == NULL || memcmp(e->leaf_hash, leaves[nleaves], EV_HASH_LEN) != 0)
		(*bad)++;
	times[nleaves] = e->time_us;
	nleaves++;
	ev_buf_free(&b);
	return 0;
}

static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static void
mth(uint64_t a, uint64_t b, uint8_t out[EV_HASH_LEN])
{
	uint8_t l[EV_HASH_LEN], r[EV_HASH_LEN];
	uint64_t k;

	if (b - a == 1) {
		memcpy(out, leaves[a], EV_HASH_LEN);
		return;
	}
	k = split(b - a);
	mth(a, a + k, l);
	mth(a + k, b, r);
	ev_merkle_node_hash(l, r, out);
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

static int
append_n(struct ev_ledger *l, unsigned first, unsigned n, uint64_t *last, struct ev_err *err)
{
	struct ev_entry_in in[64];
	char body[64][96], subj[64][32];

	if (n > 64)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = first + i;
		snprintf(body[i], sizeof(body[i]), "{\"k\":%u, \"msg\":\"event %u\", \"tags\":[\"a\",\"b\"]}",
		    k, k * 31 % 977);
		snprintf(subj[i], sizeof(subj[i]), "src-%u", k % 5);
		in[i].kind = k % 4 == 0 ? "test.alpha" : k % 4 == 1 ? "test.beta" : "note";
		in[i].subject = subj[i];
		in[i].actor = k % 2 ? "alice" : "rule:test";
		in[i].body = body[i];
		in[i].body_len = 0;
	}
	return ev_ledger_append(l, in, n, last, err);
}

int
main(void)
{
	char tmp[256], dir[300];
	struct ev_err err = { 0 };
	struct ev_ledger *l1 = NULL, *l2 = NULL, *ro = NULL;
	uint64_t last = 0, size = 0;
	unsigned done = 0, turn = 0, batch_sizes[] = { 1, 2, 3, 7, 16, 17, 31, 64 };
	int bad = 0, ok;

	snprintf(tmp, sizeof(tmp), "%s/evident-ledger.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		CHECK(0, "temporary directory");
		UNIT_END();
	}
	snprintf(dir, sizeof(dir), "%s/data", tmp);
	CHECK(ev_ledger_init(dir, "test.example/evident", &err) == EV_OK, "init %s", err.msg);
	CHECK(ev_ledger_init(dir, "test.example/evident", &err) == EV_EEXIST, "init again: EV_EEXIST (%s)", err.msg);
	CHECK(ev_ledger_open(dir, 0, &l1, &err) == EV_OK && ev_ledger_open(dir, 0, &l2, &err) == EV_OK,
	    "two handles on one directory %s", err.msg);
	if (l1 == NULL || l2 == NULL)
		UNIT_END();

	/* Two writers in turns: each append must start from the other's last seq. */
	ok = 1;
	while (done < N) {
		unsigned n = batch_sizes[turn % 8];
		if (n > N - done)
			n = N - done;
		if (append_n(turn % 2 ? l2 : l1, done + 1, n, &last, &err) != EV_OK ||
		    last != done + n) {
			printf("# turn %u: %s (last %llu, want %u)\n", turn, err.msg,
			    (unsigned long long)last, done + n);
			ok = 0;
			break;
		}
		done += n;
		turn++;
	}
	CHECK(ok, "%u entries appended by two handles in %u alternating batches", done, turn);
	CHECK(ev_ledger_size(l1, &size, &err) == EV_OK && size == N, "size is %d", N);

	/* Leaves rebuilt from the fields; times never go back. */
	struct ev_query q = { 0 };
	CHECK(ev_ledger_scan(l1, &q, collect, &bad, &err) == EV_OK && nleaves == N && bad == 0,
	    "every stored leaf hash is SHA-256(0x00 || canonical leaf) of its fields (%d bad)", bad);
	ok = 1;
	for (uint64_t i = 1; i < nleaves; i++)
		if (times[i] < times[i - 1])
			ok = 0;
	CHECK(ok, "times never decrease along seq");

	/* Every root 1..N, from the store, against the frontier and the recursion. */
	{
		struct ev_merkle_frontier f;
		uint8_t want[EV_HASH_LEN], got[EV_HASH_LEN], naive[EV_HASH_LEN];
		int roots_ok = 1, naive_ok = 1;
		memset(&f, 0, sizeof(f));
		for (uint64_t s = 1; s <= N; s++) {
			ev_merkle_frontier_push(&f, leaves[s - 1], NULL, NULL);
			ev_merkle_frontier_root(&f, want);
			if (ev_ledger_root(l2, s, got, &err) != EV_OK || memcmp(got, want, EV_HASH_LEN))
				roots_ok = 0;
			if (s % 97 == 0 || s == N || (s >= 14 && s <= 36)) {
				mth(0, s, naive);
				if (memcmp(naive, want, EV_HASH_LEN))
					naive_ok = 0;
			}
		}
		CHECK(roots_ok, "ev_ledger_root of every size 1..%d matches the recomputed tree", N);
		CHECK(naive_ok, "and the RFC 9162 recursion, on a sample of sizes");
		ev_ledger_root(l1, 0, got, &err);
		ev_merkle_empty_root(want);
		CHECK(memcmp(got, want, EV_HASH_LEN) == 0, "the root of size 0 is SHA-256 of nothing");
		CHECK(ev_ledger_root(l1, N + 1, got, &err) == EV_EINVAL,
		    "a root beyond the ledger is refused (%s)", err.msg);
	}

	/* Proofs around the tile boundaries (16 leaves) and at the edges. */
	{
		static const uint64_t sizes[] = { 1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 48, 255, 256,
			257, 511, 512, 513, 999, 1000 };
		const size_t ns = sizeof(sizes) / sizeof(sizes[0]);
		uint8_t proof[EV_MERKLE_MAX_PROOF][EV_HASH_LEN], lh[EV_HASH_LEN], r1[EV_HASH_LEN],
		    r2[EV_HASH_LEN], want[EV_HASH_LEN];
		struct ev_bytes pb[EV_MERKLE_MAX_PROOF];
		int incl_ok = 1, cons_ok = 1, tamper_ok = 1;
		size_t n, count_i = 0, count_c = 0;
		for (size_t a = 0; a < ns; a++) {
			uint64_t s = sizes[a];
			for (uint64_t seq = 1; seq <= s; seq += (seq < 40 || s - seq < 40) ? 1 : 37) {
				count_i++;
				if (ev_ledger_prove_inclusion(l1, seq, s, lh, r1, proof, &n, &err) != EV_OK) {
					incl_ok = 0;
					continue;
				}
				mth(0, s, want);
				as_bytes(proof, n, pb);
				if (memcmp(lh, leaves[seq - 1], EV_HASH_LEN) || memcmp(r1, want, EV_HASH_LEN) ||
				    ev_merkle_verify_inclusion(seq - 1, s, b32(lh), pb, n, b32(want), NULL))
					incl_ok = 0;
				if (n > 0) {
					proof[n / 2][seq % EV_HASH_LEN] ^= 1;
					if (ev_merkle_verify_inclusion(seq - 1, s, b32(lh), pb, n, b32(want),
						NULL) == 0)
						tamper_ok = 0;
				}
			}
			for (size_t b = a; b < ns; b++) {
				count_c++;
				if (ev_ledger_prove_consistency(l2, s, sizes[b], r1, r2, proof, &n, &err) !=
				    EV_OK) {
					cons_ok = 0;
					continue;
				}
				as_bytes(proof, n, pb);
				mth(0, s, want);
				if (memcmp(r1, want, EV_HASH_LEN) ||
				    ev_merkle_verify_consistency(s, sizes[b], b32(want), b32(r2), pb, n, NULL))
					cons_ok = 0;
				mth(0, sizes[b], want);
				if (memcmp(r2, want, EV_HASH_LEN))
					cons_ok = 0;
			}
		}
		CHECK(incl_ok, "%zu inclusion proofs (sizes across tile boundaries) name the recomputed "
			       "leaf and root and verify", count_i);
		CHECK(tamper_ok, "each of them fails with one bit changed");
		CHECK(cons_ok, "%zu consistency proofs between those sizes verify against the "
			       "recomputed roots", count_c);
		CHECK(ev_ledger_prove_inclusion(l1, N + 1, 0, lh, r1, proof, &n, &err) == EV_ENOTFOUND,
		    "inclusion of an entry beyond the ledger: EV_ENOTFOUND (%s)", err.msg);
		CHECK(ev_ledger_prove_inclusion(l1, 10, 5, lh, r1, proof, &n, &err) == EV_EINVAL,
		    "inclusion of entry 10 in the tree of size 5: EV_EINVAL (%s)", err.msg);
		CHECK(ev_ledger_prove_consistency(l1, 5, N + 1, r1, r2, proof, &n, &err) == EV_EINVAL,
		    "consistency to a size beyond the ledger: EV_EINVAL (%s)", err.msg);
		CHECK(ev_ledger_prove_consistency(l1, 0, 5, r1, r2, proof, &n, &err) == EV_EINVAL,
		    "consistency from size 0: EV_EINVAL");
	}

	/* Transactions: rollback leaves nothing, and the next append carries on. */
	{
		uint64_t s1 = 0, s2 = 0, s3 = 0;
		CHECK(ev_ledger_begin(l1, &err) == EV_OK && append_n(l1, 2001, 5, &last, &err) == EV_OK &&
			last == N + 5,
		    "inside a transaction, 5 appends reach seq %d", N + 5);
		CHECK(ev_ledger_begin(l1, &err) == EV_ESTATE, "a second begin: EV_ESTATE");
		ev_ledger_rollback(l1);
		CHECK(ev_ledger_size(l1, &s1, &err) == EV_OK && s1 == N, "after rollback the size is %d again", N);
		CHECK(append_n(l1, 3001, 2, &last, &err) == EV_OK && last == N + 2,
		    "the next append after a rollback is seq %d..%d", N + 1, N + 2);
		CHECK(ev_ledger_commit(l1, &err) == EV_ESTATE, "commit without begin: EV_ESTATE");
		CHECK(ev_ledger_begin(l2, &err) == EV_OK && append_n(l2, 4001, 3, &last, &err) == EV_OK &&
			ev_ledger_commit(l2, &err) == EV_OK && last == N + 5,
		    "begin, append 3, commit on the other handle: up to %d", N + 5);
		CHECK(ev_ledger_size(l1, &s2, &err) == EV_OK && s2 == N + 5, "both see %d", N + 5);

		/* One bad entry in a batch: the whole batch is refused. */
		struct ev_entry_in in[3] = {
			{ "note", "s", "a", "{\"ok\":1}", 0 },
			{ "Bad Kind", "s", "a", "{\"ok\":2}", 0 },
			{ "note", "s", "a", "{\"ok\":3}", 0 },
		};
		CHECK(ev_ledger_append(l1, in, 3, &last, &err) == EV_EINVAL, "a batch with a bad kind: "
									  "EV_EINVAL (%s)", err.msg);
		in[1].kind = "note";
		in[1].body = "{\"ok\":";
		CHECK(ev_ledger_append(l1, in, 3, &last, &err) == EV_EINVAL,
		    "a batch with a malformed body: EV_EINVAL (%s)", err.msg);
		in[1].body = "{\"dup\":1,\"dup\":2}";
		CHECK(ev_ledger_append(l1, in, 3, &last, &err) == EV_EINVAL,
		    "a batch with duplicate keys: EV_EINVAL (%s)", err.msg);
		CHECK(ev_ledger_size(l2, &s3, &err) == EV_OK && s3 == N + 5, "none of them wrote anything");
		in[1].body = "{\"b\":2,\"a\":1}";
		CHECK(ev_ledger_append(l1, in, 3, &last, &err) == EV_OK && last == N + 8,
		    "the corrected batch is seq %d..%d", N + 6, N + 8);
	}

	/* Scans and gets. */
	{
		struct ev_query qq = { 0 };
		int cnt_bad = 0;
		nleaves = 0;
		CHECK(ev_ledger_scan(l2, &qq, collect, &cnt_bad, &err) == EV_OK && nleaves == N + 8 &&
			cnt_bad == 0,
		    "all %d entries rescan with good leaf hashes", N + 8);
		CHECK(ev_ledger_get(l1, N + 9, collect, &cnt_bad, &err) == EV_ENOTFOUND,
		    "get of a seq beyond the end: EV_ENOTFOUND (%s)", err.msg);
	}

	/* Checkpoints. */
	{
		struct ev_checkpoint cp, latest;
		uint8_t pub[32];
		CHECK(ev_ledger_checkpoint(l2, "system", &cp, &err) == EV_OK && cp.seq == N + 9 &&
			cp.size == N + 8,
		    "checkpoint: entry %d covering 1..%d (%s)", N + 9, N + 8, err.msg);
		CHECK(ev_ledger_latest_checkpoint(l1, &latest, &err) == EV_OK && latest.seq == cp.seq &&
			latest.size == cp.size && memcmp(latest.root, cp.root, EV_HASH_LEN) == 0 &&
			memcmp(latest.sig, cp.sig, 64) == 0,
		    "the other handle reads it back as the latest");
		CHECK(ev_ledger_public_key(l1, pub, &err) == EV_OK && ev_checkpoint_verify_sig(&cp, pub) == 0,
		    "its signature verifies with the installation key");
		cp.size++;
		CHECK(ev_checkpoint_verify_sig(&cp, pub) != 0, "and not for another size");
		cp.size--;
		cp.root[0] ^= 1;
		CHECK(ev_checkpoint_verify_sig(&cp, pub) != 0, "nor for another root");
	}

	/* Read-only handles read but never write. */
	CHECK(ev_ledger_open(dir, EV_LEDGER_READONLY, &ro, &err) == EV_OK, "read-only open");
	if (ro) {
		struct ev_verify_stats st;
		CHECK(append_n(ro, 1, 1, &last, &err) == EV_EDENIED, "append on a read-only handle: "
								     "EV_EDENIED");
		CHECK(ev_ledger_begin(ro, &err) == EV_EDENIED, "begin on a read-only handle: EV_EDENIED");
		CHECK(ev_ledger_verify(ro, NULL, NULL, &st, &err) == EV_OK && st.entries == N + 9 &&
			st.checkpoints == 1,
		    "verify: %llu entries, %llu checkpoint (%s)", (unsigned long long)st.entries,
		    (unsigned long long)st.checkpoints, err.msg);
		ev_ledger_close(ro);
	}
	ev_ledger_close(l1);
	ev_ledger_close(l2);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	UNIT_END();
}
