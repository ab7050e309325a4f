/*
 * ledger.h - the evidence ledger: the one place where evident's facts live.
 *
 * Every fact is an entry (seq, time, kind, subject, actor, body) appended to
 * an RFC 9162 Merkle tree.  Nothing is updated in place: projections (tables
 * people work with: alerts, incidents, registers) are derived from entries by
 * projectors that run inside the append transaction and can be rebuilt from
 * the ledger at any time (ev_ledger_rebuild).
 *
 * Leaf bytes of an entry are its canonical JSON:
 *   {"actor":A,"body":B,"kind":K,"seq":N,"subject":S,"time":"RFC3339Z"}
 * with B the canonical body.  seq counts from 1; the Merkle leaf index of an
 * entry is seq - 1.  Times are UTC microseconds, never decreasing along seq.
 *
 * Ownership: strings passed in are copied; entries passed to callbacks are
 * valid only during the callback.
 */
#ifndef EV_LEDGER_LEDGER_H
#define EV_LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/merkle.h"
#include "util/buf.h"
#include "util/err.h"

struct ev_ledger;
struct sqlite3;

#define EV_KIND_MAX 64
#define EV_SUBJECT_MAX 256
#define EV_ACTOR_MAX 128

/* An entry to append; body is JSON text (any formatting; stored canonical). */
struct ev_entry_in {
	const char *kind;
	const char *subject;
	const char *actor;
	const char *body;
	size_t body_len; /* 0 means strlen(body) */
};

/* An entry as stored; pointers valid only during the callback that gets it. */
struct ev_entry {
	uint64_t seq;
	int64_t time_us;
	const char *kind;
	const char *subject;
	const char *actor;
	const char *body; /* canonical JSON object */
	size_t body_len;
	const uint8_t *leaf_hash; /* 32 bytes */
};

/* Open flags. */
#define EV_LEDGER_READONLY 0x1 /* no writes: verify, log, prove */
#define EV_LEDGER_NOKEY 0x2    /* do not load the signing key */

/* Create a data directory: store, schema, Ed25519 key (0600).  EV_EEXIST if present. */
int ev_ledger_init(const char *dir, struct ev_err *err);
/* Open an initialised data directory.  Caller closes with ev_ledger_close. */
int ev_ledger_open(const char *dir, int flags, struct ev_ledger **out, struct ev_err *err);
void ev_ledger_close(struct ev_ledger *l);
const char *ev_ledger_dir(const struct ev_ledger *l);

/*
 * Append n entries in one durable transaction (all or nothing).  On success
 * *last_seq (may be NULL) is the seq of the last entry; the data is on disk
 * (WAL, synchronous=FULL) before this returns.  Projectors run inside the
 * same transaction.
 */
int ev_ledger_append(struct ev_ledger *l, const struct ev_entry_in *in, size_t n,
    uint64_t *last_seq, struct ev_err *err);

/*
 * Group several appends (and projection reads) in one transaction: begin,
 * then any number of ev_ledger_append, then commit or rollback.  Appends made
 * outside begin/commit are their own transactions.
 */
int ev_ledger_begin(struct ev_ledger *l, struct ev_err *err);
int ev_ledger_commit(struct ev_ledger *l, struct ev_err *err);
void ev_ledger_rollback(struct ev_ledger *l);

/* Number of entries (the current tree size). */
int ev_ledger_size(struct ev_ledger *l, uint64_t *size, struct ev_err *err);

/* Filters for ev_ledger_scan; zero/NULL fields do not filter. */
struct ev_query {
	const char *kind;        /* exact kind, or a prefix when it ends in '.' or '*' */
	const char *subject;     /* exact subject */
	int64_t since_us;        /* time >= since (0: no bound) */
	int64_t until_us;        /* time <= until (0: no bound) */
	uint64_t from_seq;       /* seq >= from (0: from the start) */
	uint64_t to_seq;         /* seq <= to (0: to the end) */
	size_t limit;            /* at most this many (0: all) */
	int descending;          /* newest first */
};
/* Return non-zero from the callback to stop the scan (that value is returned). */
typedef int (*ev_entry_cb)(const struct ev_entry *e, void *arg);
int ev_ledger_scan(struct ev_ledger *l, const struct ev_query *q, ev_entry_cb cb, void *arg,
    struct ev_err *err);
/* One entry by seq; EV_ENOTFOUND when absent. */
int ev_ledger_get(struct ev_ledger *l, uint64_t seq, ev_entry_cb cb, void *arg,
    struct ev_err *err);

/* Canonical leaf bytes of an entry (appended to out). */
void ev_entry_leaf(const struct ev_entry *e, struct ev_buf *out);

/* A signed tree head. */
struct ev_checkpoint {
	uint64_t seq;  /* the checkpoint entry's own seq (0 if not recorded) */
	uint64_t size; /* entries covered: 1..size */
	uint8_t root[EV_HASH_LEN];
	int64_t time_us;
	uint8_t sig[64];
	char key_id[17];
};
/* Sign and record a checkpoint of the current tree; its entry follows the covered ones. */
int ev_ledger_checkpoint(struct ev_ledger *l, const char *actor, struct ev_checkpoint *cp,
    struct ev_err *err);
/* The latest recorded checkpoint with size >= min_size (0: the latest); EV_ENOTFOUND if none. */
int ev_ledger_latest_checkpoint(struct ev_ledger *l, struct ev_checkpoint *cp, struct ev_err *err);
/* The text a checkpoint signature covers. */
void ev_checkpoint_note(const struct ev_checkpoint *cp, struct ev_buf *out);
/* Check a checkpoint signature against a raw 32-byte Ed25519 public key. */
int ev_checkpoint_verify_sig(const struct ev_checkpoint *cp, const uint8_t pub[32]);
/* The installation public key (raw 32 bytes). */
int ev_ledger_public_key(struct ev_ledger *l, uint8_t pub[32], struct ev_err *err);

/* Root of the tree of the given size (size <= current size). */
int ev_ledger_root(struct ev_ledger *l, uint64_t size, uint8_t root[EV_HASH_LEN],
    struct ev_err *err);
/* Proofs, O(log n) store reads.  proof must hold EV_MERKLE_MAX_PROOF hashes. */
int ev_ledger_prove_inclusion(struct ev_ledger *l, uint64_t seq, uint64_t size,
    uint8_t leaf_hash[EV_HASH_LEN], uint8_t root[EV_HASH_LEN],
    uint8_t proof[][EV_HASH_LEN], size_t *n, struct ev_err *err);
int ev_ledger_prove_consistency(struct ev_ledger *l, uint64_t size1, uint64_t size2,
    uint8_t root1[EV_HASH_LEN], uint8_t root2[EV_HASH_LEN],
    uint8_t proof[][EV_HASH_LEN], size_t *n, struct ev_err *err);

/*
 * Verify everything: every leaf hash recomputed from the entry's fields,
 * every stored tree node, every checkpoint's root and signature, time order,
 * seq continuity and the append-only triggers.  EV_ECORRUPT with a message
 * naming the first bad entry or checkpoint.  progress (may be NULL) is called
 * now and then with entries done and the total.
 */
struct ev_verify_stats {
	uint64_t entries;
	uint64_t checkpoints;
	uint64_t leaf_bytes;
};
int ev_ledger_verify(struct ev_ledger *l, void (*progress)(uint64_t done, uint64_t total, void *),
    void *parg, struct ev_verify_stats *st, struct ev_err *err);

/*
 * Projectors keep derived tables in step with the ledger.  Each one is
 * registered once (src/ledger/projectors.c lists them); apply runs for every
 * appended entry whose kind starts with kind_prefix ("" for all), inside the
 * append transaction, and its failure aborts the append.  reset drops and
 * recreates the projector's tables; rebuild = reset + replay of every entry.
 */
struct ev_projector {
	const char *name;
	const char *kind_prefix;
	int (*setup)(struct sqlite3 *db, struct ev_err *err);  /* create tables if missing */
	int (*reset)(struct sqlite3 *db, struct ev_err *err);  /* drop and recreate */
	int (*apply)(struct sqlite3 *db, const struct ev_entry *e, struct ev_err *err);
	/* Optional: release anything kept for this connection (cached statements)
	 * before it closes.  Without it the connection cannot close cleanly and
	 * SQLite leaves its -wal file behind. */
	void (*detach)(struct sqlite3 *db);
	/* Optional: a projector that sums rows in memory during a transaction
	 * writes them here, just before the commit (a failure aborts it) ... */
	int (*flush)(struct sqlite3 *db, struct ev_err *err);
	/* ... and drops them here when the transaction rolls back. */
	void (*discard)(struct sqlite3 *db);
};
/* Replay the whole ledger through every projector, in one transaction. */
int ev_ledger_rebuild(struct ev_ledger *l, struct ev_err *err);
/* The SQLite handle, for projection reads and projector writes only: never entries. */
struct sqlite3 *ev_ledger_db(struct ev_ledger *l);

#endif
