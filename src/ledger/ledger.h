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
 * A leaf is at most EV_LEAF_LIMIT bytes: the C2SP entry bundles it is stored
 * in give each entry a 2-byte length (larger content belongs in an evidence
 * file, recorded by its SHA-256).
 *
 * Storage (store.h): entries in zstd-compressed bundles of 256, the tree as
 * tile hashes, the layout of c2sp.org/tlog-tiles; checkpoints are C2SP signed
 * notes (note.h) under the installation's origin and Ed25519 key.
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
#define EV_LEAF_LIMIT 65535u /* largest leaf (canonical entry) in bytes */

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

/*
 * Create a data directory: store, schema, Ed25519 key (0600).  origin names
 * the ledger in its checkpoints (NULL: ev_origin_default()).  EV_EEXIST if
 * present.
 */
int ev_ledger_init(const char *dir, const char *origin, struct ev_err *err);
/* Open an initialised data directory.  Caller closes with ev_ledger_close. */
int ev_ledger_open(const char *dir, int flags, struct ev_ledger **out, struct ev_err *err);
void ev_ledger_close(struct ev_ledger *l);
const char *ev_ledger_dir(const struct ev_ledger *l);
/* The origin line of this ledger's checkpoints (and its key name). */
const char *ev_ledger_origin(const struct ev_ledger *l);
/* The note verifier key an assessor pins: "ORIGIN+KEYID+BASE64KEY". */
int ev_ledger_vkey(struct ev_ledger *l, struct ev_buf *out, struct ev_err *err);

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

/*
 * A stream: appends handed to a writer thread of the ledger's own (hashing,
 * bundling, compression, projectors, commit), so that the caller prepares
 * the next batch meanwhile.  The stream numbers entries ahead of their commit
 * by holding the append lease (DATA/ledger.lock) from ev_stream_begin until
 * the batches submitted are committed and the caller is not building one;
 * other appenders wait for it (and it lets them in at least every 200 ms).
 *
 *   ev_stream_begin      -> the seq the batch's first entry will get
 *   (build the batch: entries in order, seqs known)
 *   ev_stream_submit     -> queued; returns at once (waits only when
 *                           EV_STREAM_QUEUE batches are in flight)
 *   b->done / ev_stream_wait -> committed (rc EV_OK) or failed
 *
 * A batch is committed durably (or not at all) before b->done is set; the
 * batch's entries and strings must stay valid until then.  After a failure
 * every batch submitted after the failed one is dropped (rc EV_ESTATE); the
 * next ev_stream_begin reports the failure once and starts afresh from the
 * ledger's real size.  ev_stream_fd is readable whenever a batch finishes.
 */
#define EV_STREAM_QUEUE 2
struct ev_stream;
struct ev_stream_batch {
	const struct ev_entry_in *in;
	size_t n;
	/*
	 * 1 when the producer has checked with ev_jscan_canonical() that every
	 * body is canonical JSON: the writer then copies them as they are (intake
	 * does the check on its own thread, off the writer's).
	 */
	int bodies_checked;
	uint64_t first_seq; /* set by ev_stream_submit */
	/* set by the writer when it is done with the batch: */
	int done;
	int rc;
	uint64_t last_seq;
	struct ev_err err;
};
int ev_stream_open(const char *dir, struct ev_stream **out, struct ev_err *err);
/* Waits for every batch in flight, then stops the writer and drops the lease. */
void ev_stream_close(struct ev_stream *s);
int ev_stream_begin(struct ev_stream *s, uint64_t *first_seq, struct ev_err *err);
/* Give up a batch begun but not submitted. */
void ev_stream_abort(struct ev_stream *s);
int ev_stream_submit(struct ev_stream *s, struct ev_stream_batch *b, struct ev_err *err);
/* Wait until b is done; its rc. */
int ev_stream_wait(struct ev_stream *s, struct ev_stream_batch *b);
/* Drop the lease now if nothing is in flight or being built (let others append). */
void ev_stream_idle(struct ev_stream *s);
int ev_stream_fd(const struct ev_stream *s);
/* Read (and clear) the stream's notification fd. */
void ev_stream_drain_fd(const struct ev_stream *s);

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
	const char *grep;        /* only entries whose text contains this (case-sensitive) */
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

/*
 * A signed tree head.  Version 2 (every checkpoint since the ledger moved to
 * bundles and tiles) is a C2SP checkpoint signed note, kept whole in note;
 * version 1 is the older "evident checkpoint v1" text, still verifiable.
 */
#define EV_CP_NOTE_MAX 4096
struct ev_checkpoint {
	uint64_t seq;  /* the checkpoint entry's own seq (0 if not recorded) */
	uint64_t size; /* entries covered: 1..size */
	uint8_t root[EV_HASH_LEN];
	int64_t time_us;
	uint8_t sig[64];
	char key_id[17]; /* v2: the note key ID, 8 hex digits; v1: 16 hex digits */
	int version;
	char origin[256];
	char note[EV_CP_NOTE_MAX]; /* v2: the signed note (text, blank line, signatures) */
	size_t note_len;
};
/* Sign and record a checkpoint of the current tree; its entry follows the covered ones. */
int ev_ledger_checkpoint(struct ev_ledger *l, const char *actor, struct ev_checkpoint *cp,
    struct ev_err *err);
/* The latest recorded checkpoint with size >= min_size (0: the latest); EV_ENOTFOUND if none. */
int ev_ledger_latest_checkpoint(struct ev_ledger *l, struct ev_checkpoint *cp, struct ev_err *err);
/* The text a checkpoint signature covers (v2: the note text without signatures). */
void ev_checkpoint_note(const struct ev_checkpoint *cp, struct ev_buf *out);
/* Parse a C2SP checkpoint note signed by pub (any origin); 0, or -1 with why. */
int ev_checkpoint_from_note(const char *note, size_t n, const uint8_t pub[32],
    struct ev_checkpoint *cp, const char **why);
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
	uint64_t bundles;
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

/*
 * Convert a format-1 data directory (a row per entry) to format 2 (bundles
 * and tiles), in place, or into a new directory `to` (the old one is left as
 * it was).  The leaf bytes are kept, so the root and every checkpoint stay
 * valid; the migration checks each entry against its recorded leaf hash,
 * commits in steps (a killed migration resumes where it stopped), and at the
 * end compares the root and verifies every checkpoint.  progress (may be
 * NULL) is called with entries done and the total.
 */
struct ev_migrate_result {
	uint64_t entries;
	uint64_t checkpoints;
	uint8_t root[EV_HASH_LEN];
	int already; /* the directory was already format 2 */
	int resumed; /* an earlier run had started */
};
int ev_ledger_migrate(const char *dir, const char *to, const char *origin,
    void (*progress)(uint64_t done, uint64_t total, void *), void *parg,
    struct ev_migrate_result *res, struct ev_err *err);

/*
 * The C2SP tlog-tiles resources of the ledger: "checkpoint" (the latest
 * signed checkpoint), "tile/L/N[.p/W]" and "tile/entries/N[.p/W]" (the
 * entry bundle, uncompressed).  A resource is served only when the ledger
 * holds all of it.  *immutable says whether it can be cached for good (full
 * tiles and bundles).  EV_ENOTFOUND for an unknown or unavailable path.
 */
int ev_ledger_tlog_get(struct ev_ledger *l, const char *path, struct ev_buf *out, int *immutable,
    struct ev_err *err);
/*
 * Write the static mirror of the latest checkpoint into dir (created if
 * missing): every tile and bundle it needs that is not there yet, then the
 * checkpoint file last, so a reader never sees a checkpoint whose tiles are
 * missing.  progress as above (bundles done, bundles in all).
 */
struct ev_tiles_stats {
	uint64_t size;
	uint64_t written, kept;
};
int ev_ledger_tiles_export(struct ev_ledger *l, const char *dir,
    void (*progress)(uint64_t, uint64_t, void *), void *parg, struct ev_tiles_stats *st,
    struct ev_err *err);

#endif
