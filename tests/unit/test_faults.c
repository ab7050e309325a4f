/*
 * test_faults.c - make every write, sync and rename of an append fail, one at
 * a time, SQLite's way (util/faultvfs.c), and check that the ledger comes
 * out whole.
 *
 * For each operation (a batch of 300 entries that fills a bundle and leaves
 * a tail; a batch that fills two bundles from a partial one; a checkpoint,
 * which also writes and renames DATA/checkpoint) the test first counts the
 * I/O operations it makes on a copy of a base ledger, then for every N from 1
 * to that count runs it again on a fresh copy with the Nth operation failing
 * (once, as an I/O error does; and from N on, as a full disk does).  After
 * each, the ledger is reopened without faults and must hold either the base
 * or the base plus the whole batch, never a part; everything acknowledged
 * (the base, and the batch when the append said ok) must be there; `verify`
 * must pass; and one more append must work.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "unit.h"
#include "util/faultvfs.h"

static char work[1024];

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
copy_tree(const char *from, const char *to)
{
	char cmd[4200];

	rm_rf(to);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", from, to);
	return system(cmd) == 0 ? 0 : -1;
}

static struct ev_entry_in ins[600];
static char bodies[600][96];

static void
make_batch(size_t n, unsigned tag)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(bodies[i], sizeof(bodies[i]), "{\"batch\":%u,\"i\":%zu,\"msg\":\"login failed\"}",
		    tag, i);
		ins[i].kind = i % 5 ? "log" : "alert.raised";
		ins[i].subject = i % 5 ? "bastion" : "alerts";
		ins[i].actor = "test";
		ins[i].body = bodies[i];
		ins[i].body_len = 0;
	}
}

enum op { OP_APPEND300, OP_APPEND512, OP_CHECKPOINT, OP__N };
static const char *const op_name[OP__N] = { "append of 300 (fills a bundle, leaves a tail)",
	"append of 512 (fills two bundles from a partial one)", "checkpoint" };
static const size_t op_count[OP__N] = { 300, 512, 1 };

/* Run op on dir (faults armed by the caller after the open); the ledger's status. */
static int
run_op(const char *dir, enum op op, uint64_t nth, int persist, struct ev_err *err)
{
	struct ev_ledger *l = NULL;
	struct ev_checkpoint cp;
	uint64_t last;
	int rc;

	if ((rc = ev_ledger_open(dir, 0, &l, err)) != EV_OK)
		return rc;
	make_batch(op_count[op], (unsigned)op);
	ev_fault_arm(nth, persist);
	if (op == OP_CHECKPOINT)
		rc = ev_ledger_checkpoint(l, "test", &cp, err);
	else
		rc = ev_ledger_append(l, ins, op_count[op], &last, err);
	ev_fault_arm(0, 0);
	ev_ledger_close(l);
	return rc;
}

static int
size_of(const char *dir, uint64_t *n)
{
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	int rc;

	if ((rc = ev_ledger_open(dir, EV_LEDGER_READONLY, &l, &err)) != EV_OK)
		return rc;
	rc = ev_ledger_size(l, n, &err);
	ev_ledger_close(l);
	return rc;
}

int
main(void)
{
	char base[1100], copy[1100];
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	uint64_t base_size, last;
	int bad_all = 0, cases = 0;

	ev_fault_arm(0, 0); /* register the fault VFS before the first open */
	snprintf(work, sizeof(work), "%s/evident-faults.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(work) == NULL) {
		CHECK(0, "temporary directory: %s", strerror(errno));
		UNIT_END();
	}
	snprintf(base, sizeof(base), "%s/base", work);
	snprintf(copy, sizeof(copy), "%s/copy", work);

	/* The base: 200 entries (a partial bundle) and a checkpoint. */
	CHECK(ev_ledger_init(base, "test.example/faults", &err) == EV_OK &&
		  ev_ledger_open(base, 0, &l, &err) == EV_OK,
	    "base ledger (%s)", err.msg);
	make_batch(200, 9);
	CHECK(ev_ledger_append(l, ins, 200, &last, &err) == EV_OK, "200 entries (%s)", err.msg);
	{
		struct ev_checkpoint cp;
		CHECK(ev_ledger_checkpoint(l, "test", &cp, &err) == EV_OK, "a checkpoint (%s)", err.msg);
	}
	ev_ledger_close(l);
	CHECK(size_of(base, &base_size) == EV_OK && base_size == 201, "base size 201");

	for (int op = 0; op < OP__N; op++) {
		uint64_t total, n;
		int rc;

		/* How many operations does it make? (A huge N: counted, never failing.) */
		copy_tree(base, copy);
		ev_fault_arm(0, 0);
		{
			struct ev_ledger *l2 = NULL;
			struct ev_checkpoint cp;
			ev_ledger_open(copy, 0, &l2, &err);
			make_batch(op_count[op], (unsigned)op);
			ev_fault_arm(UINT64_MAX, 0);
			rc = op == OP_CHECKPOINT ? ev_ledger_checkpoint(l2, "test", &cp, &err)
						 : ev_ledger_append(l2, ins, op_count[op], &last, &err);
			total = ev_fault_count();
			ev_fault_arm(0, 0);
			ev_ledger_close(l2);
		}
		CHECK(rc == EV_OK && total >= 2, "%s: %llu writes, syncs and renames", op_name[op],
		    (unsigned long long)total);

		for (int persist = 0; persist < 2; persist++) {
			int bad = 0, failed = 0;
			for (n = 1; n <= total; n++) {
				struct ev_ledger *l3 = NULL;
				struct ev_verify_stats vs;
				uint64_t after = 0, want_ok = base_size + op_count[op];
				int vrc, arc;

				copy_tree(base, copy);
				rc = run_op(copy, (enum op)op, n, persist, &err);
				if (rc != EV_OK)
					failed++;
				/* Reopen without faults: all or nothing, nothing acknowledged lost. */
				if (size_of(copy, &after) != EV_OK ||
				    (after != base_size && after != want_ok) ||
				    (rc == EV_OK && after != want_ok)) {
					printf("# N=%llu%s: append %s, size after %llu (%s)\n",
					    (unsigned long long)n, persist ? " persistent" : "",
					    rc == EV_OK ? "ok" : "failed", (unsigned long long)after,
					    err.msg);
					bad++;
					continue;
				}
				vrc = ev_ledger_open(copy, 0, &l3, &err);
				if (vrc == EV_OK)
					vrc = ev_ledger_verify(l3, NULL, NULL, &vs, &err);
				make_batch(3, 99);
				arc = vrc == EV_OK ? ev_ledger_append(l3, ins, 3, &last, &err) : vrc;
				if (vrc == EV_OK && arc == EV_OK)
					vrc = ev_ledger_verify(l3, NULL, NULL, &vs, &err);
				ev_ledger_close(l3);
				if (vrc != EV_OK || arc != EV_OK || last != after + 3) {
					printf("# N=%llu%s: after reopening: verify %d, append %d: %s\n",
					    (unsigned long long)n, persist ? " persistent" : "", vrc, arc,
					    err.msg);
					bad++;
				}
				cases++;
			}
			bad_all += bad;
			CHECK(bad == 0 && failed > 0,
			    "%s, %s fault at each of the %llu points: all or nothing, nothing "
			    "acknowledged lost, verify passes, the next append works (%d refused)",
			    op_name[op], persist ? "a persistent (disk full)" : "a single",
			    (unsigned long long)total, failed);
		}
	}
	CHECK(bad_all == 0 && cases > 0, "%d fault cases in all", cases);
	rm_rf(work);
	UNIT_END();
}
