/*
 * proof_latency.c - how long one inclusion proof takes, in process: K
 * random (seq, size = the ledger's size) proofs with
 * ev_ledger_prove_inclusion on a read-only handle, each one checked with the
 * RFC 9162 verifier, timed one by one.  Prints p50, p99 and max in
 * microseconds.  Built and run by bench/ledger.sh; not a test.
 *
 *   proof_latency DATA_DIR [K]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ledger/ledger.h"

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	uint8_t lh[32], root[32], proof[EV_MERKLE_MAX_PROOF][32];
	struct ev_bytes pb[EV_MERKLE_MAX_PROOF];
	uint64_t size, x = 88172645463325252ULL;
	int k = argc > 2 ? atoi(argv[2]) : 10000;
	double *us;

	if (argc < 2 || k <= 0) {
		fprintf(stderr, "usage: proof_latency DATA_DIR [K]\n");
		return 2;
	}
	if (ev_ledger_open(argv[1], EV_LEDGER_READONLY, &l, &err) != EV_OK ||
	    ev_ledger_size(l, &size, &err) != EV_OK || size == 0) {
		fprintf(stderr, "proof_latency: %s\n", err.msg);
		return 1;
	}
	us = malloc((size_t)k * sizeof(*us));
	for (int i = 0; i < k; i++) {
		struct timespec a, b;
		size_t n = 0;
		const char *why;
		uint64_t seq;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		seq = 1 + x % size;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (ev_ledger_prove_inclusion(l, seq, size, lh, root, proof, &n, &err) != EV_OK) {
			fprintf(stderr, "proof_latency: entry %" PRIu64 ": %s\n", seq, err.msg);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
		for (size_t j = 0; j < n; j++) {
			pb[j].p = proof[j];
			pb[j].len = 32;
		}
		if (ev_merkle_verify_inclusion(seq - 1, size, (struct ev_bytes){ lh, 32 }, pb, n,
			(struct ev_bytes){ root, 32 }, &why) != 0) {
			fprintf(stderr, "proof_latency: entry %" PRIu64 ": proof does not verify: %s\n",
			    seq, why);
			return 1;
		}
	}
	qsort(us, (size_t)k, sizeof(*us), cmp);
	printf("%d inclusion proofs in a tree of %" PRIu64 ": p50 %.0f us, p99 %.0f us, max %.0f us\n",
	    k, size, us[k / 2], us[(size_t)k * 99 / 100], us[k - 1]);
	free(us);
	ev_ledger_close(l);
	return 0;
}
