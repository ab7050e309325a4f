/*
 * store.h - where the ledger keeps its entries and tree nodes.
 *
 * The embedded default is SQLite in the data directory (WAL, synchronous=FULL
 * so an acknowledged commit survives a crash).  The store knows rows, not
 * meaning: it never computes a hash and never decides what is valid; the
 * ledger does.  Entries and nodes are append-only: triggers abort UPDATE and
 * DELETE, so history cannot change through the store's own connection.
 */
#ifndef EV_STORE_STORE_H
#define EV_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/err.h"

struct ev_store;

int ev_store_create(const char *path, struct ev_err *err);
int ev_store_open(const char *path, int readonly, struct ev_store **out, struct ev_err *err);
void ev_store_close(struct ev_store *st);
struct sqlite3 *ev_store_db(struct ev_store *st);

/* BEGIN IMMEDIATE (waits for other writers up to the busy timeout). */
int ev_store_begin(struct ev_store *st, struct ev_err *err);
int ev_store_commit(struct ev_store *st, struct ev_err *err);
void ev_store_rollback(struct ev_store *st);

/* Highest seq and its time (0, 0 when empty). */
int ev_store_last(struct ev_store *st, uint64_t *seq, int64_t *time_us, struct ev_err *err);
int ev_store_insert_entry(struct ev_store *st, const struct ev_entry *e, struct ev_err *err);
/* Internal tree node (level >= 1) covering leaves [idx << level, (idx + 1) << level). */
int ev_store_put_node(struct ev_store *st, unsigned level, uint64_t idx,
    const uint8_t hash[EV_HASH_LEN], struct ev_err *err);
/* Any complete-subtree hash; level 0 is the leaf hash of entry idx + 1. */
int ev_store_get_node(struct ev_store *st, unsigned level, uint64_t idx,
    uint8_t out[EV_HASH_LEN], struct ev_err *err);

/* Leaf hashes of entries first_seq .. first_seq + n - 1 (EV_ECORRUPT on a gap). */
int ev_store_get_leaves(struct ev_store *st, uint64_t first_seq, size_t n,
    uint8_t out[][EV_HASH_LEN], struct ev_err *err);

int ev_store_scan(struct ev_store *st, const struct ev_query *q, ev_entry_cb cb, void *arg,
    struct ev_err *err);
int ev_store_get(struct ev_store *st, uint64_t seq, ev_entry_cb cb, void *arg,
    struct ev_err *err);
/* Time of entry seq; EV_ENOTFOUND when there is none. */
int ev_store_time_at(struct ev_store *st, uint64_t seq, int64_t *time_us, struct ev_err *err);

/* Ordered walks for verification: every entry by seq, every node by completion. */
struct ev_store_walk;
int ev_store_walk_open(struct ev_store *st, struct ev_store_walk **w, struct ev_err *err);
/* 1 with *e filled, 0 at the end, or a negative value on a store error. */
int ev_store_walk_entry(struct ev_store_walk *w, struct ev_entry *e);
/* 1 with the next node, 0 at the end, negative on error. */
int ev_store_walk_node(struct ev_store_walk *w, unsigned *level, uint64_t *idx,
    const uint8_t **hash, size_t *hash_len);
void ev_store_walk_close(struct ev_store_walk *w);

/* EV_ECORRUPT when an append-only trigger is missing. */
int ev_store_check_triggers(struct ev_store *st, struct ev_err *err);

#endif
