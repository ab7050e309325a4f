/*
 * read.c - entries, scans and proof hashes out of bundles and the tail.
 *
 * A leaf is the canonical entry {"actor":A,"body":B,"kind":K,"seq":N,
 * "subject":S,"time":"T"}.  Because it is canonical (written by this
 * program, field order fixed), it can be taken apart without parsing the
 * body: actor from the front; time, subject, seq and kind from the back; the
 * body is what lies between.  Reading from the back is safe because inside a
 * JSON string a quote is always escaped, so the first unescaped quote left
 * of a string's closing quote is its opening one.  A leaf that does not have
 * this shape is reported as malformed (verify names it).
 *
 * Reads go through a small cache of decompressed bundles (a web page that
 * shows fifty alerts touches a handful of bundles) and of leaf-hash tiles
 * (the level-0 tile a proof needs is recomputed from its bundle once).
 * Scans decompress into their own buffer, so a callback may read entries
 * from the same ledger (nested gets and scans are safe).
 */
#include "ledger/ledger_int.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "util/enc.h"

/* ---- leaves ---- */

/* The JSON string ending at p[end] (its closing quote): start of its opening quote, or -1. */
static long
string_start(const uint8_t *p, size_t end)
{
	for (size_t i = end; i-- > 0;) {
		if (p[i] != '"')
			continue;
		size_t bs = 0;
		while (bs < i && p[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return (long)i;
	}
	return -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
hex4(const uint8_t *p, size_t n, size_t i, unsigned *out)
{
	unsigned v = 0;

	if (i + 4 > n)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval(p[i + (size_t)k]);
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return 0;
}

static void
put_utf8(struct ev_buf *b, unsigned cp)
{
	char u[4];

	if (cp < 0x80) {
		ev_buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		ev_buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		ev_buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		ev_buf_add(b, u, 4);
	}
}

/* Unescape the JSON string p[a..b] (quotes excluded) onto out with a NUL; -1 if malformed. */
int
ev_json_unescape(const uint8_t *p, size_t a, size_t b, struct ev_buf *out)
{
	size_t i = a, run = a;

	while (i < b) {
		if (p[i] != '\\') {
			if (p[i] < 0x20 || p[i] == '"')
				return -1;
			i++;
			continue;
		}
		ev_buf_add(out, (const char *)p + run, i - run);
		if (i + 1 >= b)
			return -1;
		switch (p[i + 1]) {
		case '"': ev_buf_addc(out, '"'); break;
		case '\\': ev_buf_addc(out, '\\'); break;
		case '/': ev_buf_addc(out, '/'); break;
		case 'b': ev_buf_addc(out, '\b'); break;
		case 'f': ev_buf_addc(out, '\f'); break;
		case 'n': ev_buf_addc(out, '\n'); break;
		case 'r': ev_buf_addc(out, '\r'); break;
		case 't': ev_buf_addc(out, '\t'); break;
		case 'u': {
			unsigned cp, lo;
			if (hex4(p, b, i + 2, &cp) != 0)
				return -1;
			i += 6;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (i + 6 > b || p[i] != '\\' || p[i + 1] != 'u' ||
				    hex4(p, b, i + 2, &lo) != 0 || lo < 0xdc00 || lo >= 0xe000)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return -1;
			}
			if (cp == 0)
				return -1;
			put_utf8(out, cp);
			run = i;
			continue;
		}
		default:
			return -1;
		}
		i += 2;
		run = i;
	}
	ev_buf_add(out, (const char *)p + run, b - run);
	ev_buf_addc(out, '\0');
	return 0;
}

#define HAS(p, n, at, lit) ((at) + sizeof(lit) - 1 <= (n) && memcmp((p) + (at), lit, sizeof(lit) - 1) == 0)

/* Positions of the fields, from the back; shared by ev_leaf_meta and ev_leaf_decode. */
struct leaf_pos {
	size_t time_at;          /* the 27 characters of the time */
	size_t sub_a, sub_b;     /* subject string: opening and closing quote */
	size_t seq_a, seq_b;     /* digits [seq_a, seq_b) */
	size_t kind_a, kind_b;   /* kind string quotes */
	size_t body_a, body_b;   /* body [body_a, body_b) */
	size_t actor_a, actor_b; /* actor string quotes */
};

static int
leaf_positions(const uint8_t *p, size_t n, struct leaf_pos *lp)
{
	const size_t tl = EV_TIME_STRLEN - 1;
	long q;
	size_t i;

	/* ... ,"time":"YYYY-MM-DDTHH:MM:SS.ffffffZ"} */
	if (n < 60 || p[n - 1] != '}' || p[n - 2] != '"')
		return -1;
	lp->time_at = n - 2 - tl;
	if (!HAS(p, n, lp->time_at - 9, ",\"time\":\""))
		return -1;
	/* ,"subject":"..." */
	lp->sub_b = lp->time_at - 10;
	if (p[lp->sub_b] != '"' || (q = string_start(p, lp->sub_b)) < 12)
		return -1;
	lp->sub_a = (size_t)q;
	if (!HAS(p, n, lp->sub_a - 11, ",\"subject\":"))
		return -1;
	/* ,"seq":N */
	lp->seq_b = lp->sub_a - 11;
	for (i = lp->seq_b; i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9'; i--)
		;
	lp->seq_a = i;
	if (lp->seq_a == lp->seq_b || lp->seq_b - lp->seq_a > 20 || lp->seq_a < 8 ||
	    !HAS(p, n, lp->seq_a - 7, ",\"seq\":"))
		return -1;
	/* ,"kind":"..." */
	lp->kind_b = lp->seq_a - 8;
	if (p[lp->kind_b] != '"' || (q = string_start(p, lp->kind_b)) < 9)
		return -1;
	lp->kind_a = (size_t)q;
	if (!HAS(p, n, lp->kind_a - 8, ",\"kind\":"))
		return -1;
	lp->body_b = lp->kind_a - 8;
	/* {"actor":"...","body": */
	if (!HAS(p, n, 0, "{\"actor\":\""))
		return -1;
	lp->actor_a = 9;
	for (i = 10; i < lp->body_b; i++) {
		if (p[i] == '\\') {
			i++;
			continue;
		}
		if (p[i] == '"')
			break;
	}
	if (i >= lp->body_b)
		return -1;
	lp->actor_b = i;
	if (!HAS(p, n, lp->actor_b + 1, ",\"body\":"))
		return -1;
	lp->body_a = lp->actor_b + 9;
	if (lp->body_a >= lp->body_b || p[lp->body_a] != '{' || p[lp->body_b - 1] != '}')
		return -1;
	return 0;
}

static int
parse_time(const uint8_t *p, size_t at, int64_t *out)
{
	char t[EV_TIME_STRLEN];

	memcpy(t, p + at, EV_TIME_STRLEN - 1);
	t[EV_TIME_STRLEN - 1] = '\0';
	return ev_time_parse(t, out);
}

static uint64_t
parse_seq(const uint8_t *p, size_t a, size_t b)
{
	uint64_t v = 0;

	for (size_t i = a; i < b; i++)
		v = v * 10 + (uint64_t)(p[i] - '0');
	return v;
}

int
ev_leaf_meta(const uint8_t *leaf, size_t n, struct leaf_meta *m)
{
	struct leaf_pos lp;

	if (leaf_positions(leaf, n, &lp) != 0 || parse_time(leaf, lp.time_at, &m->time_us) != 0)
		return -1;
	m->seq = parse_seq(leaf, lp.seq_a, lp.seq_b);
	m->kind = (const char *)leaf + lp.kind_a + 1;
	m->kind_len = lp.kind_b - lp.kind_a - 1;
	m->subject_json = (const char *)leaf + lp.sub_a;
	m->subject_json_len = lp.sub_b - lp.sub_a + 1;
	return 0;
}

int
ev_leaf_decode(const uint8_t *leaf, size_t n, struct ev_entry *e, struct ev_buf *scratch)
{
	struct leaf_pos lp;
	size_t o_actor, o_kind, o_subject, o_body;

	if (leaf_positions(leaf, n, &lp) != 0 || parse_time(leaf, lp.time_at, &e->time_us) != 0)
		return -1;
	e->seq = parse_seq(leaf, lp.seq_a, lp.seq_b);
	ev_buf_reset(scratch);
	ev_buf_reserve(scratch, n + 8);
	o_actor = scratch->len;
	if (ev_json_unescape(leaf, lp.actor_a + 1, lp.actor_b, scratch) != 0)
		return -1;
	o_kind = scratch->len;
	if (ev_json_unescape(leaf, lp.kind_a + 1, lp.kind_b, scratch) != 0)
		return -1;
	o_subject = scratch->len;
	if (ev_json_unescape(leaf, lp.sub_a + 1, lp.sub_b, scratch) != 0)
		return -1;
	o_body = scratch->len;
	ev_buf_add(scratch, (const char *)leaf + lp.body_a, lp.body_b - lp.body_a);
	ev_buf_addc(scratch, '\0');
	e->actor = scratch->p + o_actor;
	e->kind = scratch->p + o_kind;
	e->subject = scratch->p + o_subject;
	e->body = scratch->p + o_body;
	e->body_len = lp.body_b - lp.body_a;
	return 0;
}

/* ---- bundles ---- */

int
ev_bundle_decode(void *dctx, uint64_t n, const void *data, size_t len, uint64_t raw_len,
    struct bundle *b, const char **why)
{
	size_t got, off = 0;

	b->valid = 0;
	if (raw_len > (uint64_t)EV_BUNDLE * (EV_LEAF_MAX + 2) ||
	    ZSTD_getFrameContentSize(data, len) != raw_len)
		return *why = "its compressed data is malformed", -1;
	ev_buf_reset(&b->raw);
	ev_buf_reserve(&b->raw, raw_len + 1);
	got = ZSTD_decompressDCtx(dctx, b->raw.p, raw_len + 1, data, len);
	if (ZSTD_isError(got) || got != raw_len)
		return *why = "its compressed data does not decompress (zstd checksum or format)", -1;
	b->raw.len = got;
	for (unsigned i = 0; i < EV_BUNDLE; i++) {
		const uint8_t *p = (const uint8_t *)b->raw.p;
		if (off + 2 > got)
			return *why = "it holds fewer than 256 entries", -1;
		b->len[i] = (uint16_t)(p[off] << 8 | p[off + 1]);
		b->off[i] = (uint32_t)(off + 2);
		off += 2 + b->len[i];
		if (off > got)
			return *why = "an entry runs past its end", -1;
	}
	if (off != got)
		return *why = "it holds more than 256 entries", -1;
	b->n = n;
	b->valid = 1;
	return 0;
}

void
ev_read_cache_clear(struct ev_ledger *l)
{
	for (int i = 0; i < BC_SLOTS; i++)
		l->bc[i].valid = 0;
	for (int i = 0; i < LH_SLOTS; i++)
		l->lh[i].valid = 0;
	for (int i = 0; l->ht && i < HT_SLOTS; i++)
		l->ht[i].valid = 0;
}

int
ev_bundle_load(struct ev_ledger *l, uint64_t n, struct bundle **out, struct ev_err *err)
{
	struct ev_bundle_row row;
	struct ev_buf z = EV_BUF_INIT;
	struct bundle *slot = &l->bc[0];
	const char *why;
	int rc;

	for (int i = 0; i < BC_SLOTS; i++) {
		if (l->bc[i].valid && l->bc[i].n == n) {
			l->bc[i].used = ++l->tick;
			*out = &l->bc[i];
			return EV_OK;
		}
		if (!l->bc[i].valid || l->bc[i].used < slot->used)
			slot = &l->bc[i];
	}
	if ((rc = ev_store_bundle_get(l->st, n, &row, &z, err)) != EV_OK)
		goto out;
	if (ev_bundle_decode(l->dctx, n, z.p, z.len, row.raw_len, slot, &why) != 0) {
		rc = ev_errf(err, EV_ECORRUPT, "entries %llu..%llu: the bundle is unreadable: %s",
		    (unsigned long long)(n * EV_BUNDLE + 1), (unsigned long long)((n + 1) * EV_BUNDLE),
		    why);
		goto out;
	}
	slot->used = ++l->tick;
	*out = slot;
out:
	ev_buf_free(&z);
	return rc;
}

int
ev_bundle_leaf_hashes(struct ev_ledger *l, uint64_t n, const uint8_t (**out)[32],
    struct ev_err *err)
{
	struct lhtile *slot = &l->lh[0];
	struct bundle *b;
	int rc;

	for (int i = 0; i < LH_SLOTS; i++) {
		if (l->lh[i].valid && l->lh[i].n == n) {
			l->lh[i].used = ++l->tick;
			*out = (const uint8_t(*)[32])l->lh[i].h;
			return EV_OK;
		}
		if (!l->lh[i].valid || l->lh[i].used < slot->used)
			slot = &l->lh[i];
	}
	if ((rc = ev_bundle_load(l, n, &b, err)) != EV_OK)
		return rc;
	for (unsigned i = 0; i < EV_BUNDLE; i++) {
		struct ev_sha256 h;
		ev_sha256_init(&h);
		ev_sha256_update(&h, "", 1);
		ev_sha256_update(&h, b->raw.p + b->off[i], b->len[i]);
		ev_sha256_final(&h, slot->h[i]);
	}
	slot->n = n;
	slot->valid = 1;
	slot->used = ++l->tick;
	*out = (const uint8_t(*)[32])slot->h;
	return EV_OK;
}

/* ---- proof hashes ---- */

/* Merkle tree hash of 2^k hashes (k <= 8), in place. */
static void
reduce(uint8_t (*h)[32], size_t n)
{
	for (; n > 1; n /= 2)
		for (size_t i = 0; i < n / 2; i++)
			ev_merkle_node_hash(h[2 * i], h[2 * i + 1], h[i]);
}

/*
 * Node (height hgt, index i inside the tile) of full hash tile t of level tl
 * from the tile cache, reading and hashing the whole tile on a miss.  *node
 * is NULL when the tile is not full (partial tiles are read each time).
 * Returns 0, or minus an EV_E* code.
 */
static int
tile_node(struct ev_ledger *l, unsigned tl, uint64_t t, unsigned hgt, uint64_t i,
    const uint8_t **node)
{
	uint64_t bundles = 0, have;
	struct httile *slot;
	size_t base = 0;
	int rc;

	*node = NULL;
	if ((rc = ev_store_bundle_count(l->st, &bundles, &l->src_err)) != EV_OK)
		return -rc;
	have = bundles; /* full hashes of level tl: bundles / 256^(tl-1) */
	for (unsigned j = 1; j < tl; j++)
		have /= EV_BUNDLE;
	if (t >= have / EV_BUNDLE)
		return 0;
	if (!l->ht)
		l->ht = ev_xcalloc(HT_SLOTS, sizeof(*l->ht));
	slot = &l->ht[0];
	for (int s = 0; s < HT_SLOTS; s++) {
		if (l->ht[s].valid && l->ht[s].level == tl && l->ht[s].t == t) {
			slot = &l->ht[s];
			goto found;
		}
		if (!l->ht[s].valid || l->ht[s].used < slot->used)
			slot = &l->ht[s];
	}
	slot->valid = 0;
	if (tl == 1) {
		struct ev_bundle_row *rows = ev_xmalloc(EV_BUNDLE * sizeof(*rows));
		rc = ev_store_bundle_rows(l->st, t * EV_BUNDLE, EV_BUNDLE, rows, &l->src_err);
		for (size_t j = 0; rc == EV_OK && j < EV_BUNDLE; j++)
			memcpy(slot->node[j], rows[j].hash, 32);
		free(rows);
	} else {
		rc = ev_store_hash_get(l->st, tl, t * EV_BUNDLE, EV_BUNDLE, slot->node, &l->src_err);
	}
	if (rc != EV_OK)
		return -rc;
	for (size_t w = EV_BUNDLE, from = 0, to = EV_BUNDLE; w > 1; from = to, to += w / 2, w /= 2)
		for (size_t j = 0; j < w / 2; j++)
			ev_merkle_node_hash(slot->node[from + 2 * j], slot->node[from + 2 * j + 1],
			    slot->node[to + j]);
	slot->level = tl;
	slot->t = t;
	slot->valid = 1;
found:
	slot->used = ++l->tick;
	for (unsigned j = 0; j < hgt; j++)
		base += (size_t)EV_BUNDLE >> j;
	*node = slot->node[base + i];
	return 0;
}

/*
 * The hash of the complete subtree of height `level` at index idx:
 *   level >= 8: from tile hashes (bundle hashes for heights 8..15, the hashes
 *               table above), 2^(level % 8) of them reduced;
 *   level < 8:  from leaf hashes: a full bundle's (recomputed, cached) or the
 *               tail's (stored per row).
 */
static int
src_get(void *arg, unsigned level, uint64_t idx, uint8_t out[32])
{
	struct ev_ledger *l = arg;
	uint8_t(*h)[32] = NULL;
	uint64_t first = idx << level; /* first leaf index */
	uint64_t full = 0;
	size_t k = (size_t)1 << (level % 8);
	int rc = EV_OK;

	if (level >= 8) {
		unsigned tl = level / 8;
		uint64_t n0 = idx << (level % 8);
		const uint8_t *node;
		if ((rc = tile_node(l, tl, n0 >> 8, level % 8, (n0 & 0xff) >> (level % 8), &node)) < 0)
			return -rc;
		if (node) {
			memcpy(out, node, 32);
			return EV_OK;
		}
		h = ev_xmalloc(k * 32);
		if (tl == 1) {
			struct ev_bundle_row *rows = ev_xmalloc(k * sizeof(*rows));
			rc = ev_store_bundle_rows(l->st, n0, k, rows, &l->src_err);
			for (size_t i = 0; rc == EV_OK && i < k; i++)
				memcpy(h[i], rows[i].hash, 32);
			free(rows);
		} else {
			rc = ev_store_hash_get(l->st, tl, n0, k, h, &l->src_err);
		}
		if (rc == EV_OK) {
			reduce(h, k);
			memcpy(out, h[0], 32);
		}
		free(h);
		return rc;
	}
	if ((rc = ev_store_bundle_count(l->st, &full, &l->src_err)) != EV_OK)
		return rc;
	if (first / EV_BUNDLE < full) {
		const uint8_t(*lh)[32];
		if ((rc = ev_bundle_leaf_hashes(l, first / EV_BUNDLE, &lh, &l->src_err)) != EV_OK)
			return rc;
		h = ev_xmalloc(k * 32);
		memcpy(h, lh[first % EV_BUNDLE], k * 32);
	} else {
		h = ev_xmalloc(k * 32);
		rc = ev_store_tail_hashes(l->st, first + 1, k, h, &l->src_err);
	}
	if (rc == EV_OK) {
		reduce(h, k);
		memcpy(out, h[0], 32);
	}
	free(h);
	return rc;
}

struct ev_merkle_src
ev_ledger_src(struct ev_ledger *l)
{
	struct ev_merkle_src s = { src_get, l };

	return s;
}

int
ev_ledger_src_fail(struct ev_ledger *l, int rc, struct ev_err *err)
{
	if (err)
		*err = l->src_err;
	return rc > 0 && rc < EV__MAX ? rc : EV_EIO;
}

/* ---- entries ---- */

struct get_one {
	uint64_t seq;
	int found;
	struct ev_entry e;
	struct ev_buf scratch;
	uint8_t lh[32];
	int bad;
};

static int
get_tail_cb(const struct ev_tail_row *r, void *arg)
{
	struct get_one *g = arg;

	if (r->seq != g->seq)
		return 1;
	if (ev_leaf_decode(r->leaf, r->leaf_len, &g->e, &g->scratch) != 0 || g->e.seq != r->seq ||
	    r->leaf_hash == NULL) {
		g->bad = 1;
		return 1;
	}
	memcpy(g->lh, r->leaf_hash, 32);
	g->e.leaf_hash = g->lh;
	g->found = 1;
	return 1;
}

int
ev_ledger_get(struct ev_ledger *l, uint64_t seq, ev_entry_cb cb, void *arg,
    struct ev_err *err)
{
	struct get_one g = { 0 };
	uint64_t full, size;
	int64_t t;
	int rc;

	g.seq = seq;
	if ((rc = ev_store_last(l->st, &size, &t, err)) != EV_OK)
		return rc;
	if (seq == 0 || seq > size)
		return ev_errf(err, EV_ENOTFOUND, "no entry %llu", (unsigned long long)seq);
	if ((rc = ev_store_bundle_count(l->st, &full, err)) != EV_OK)
		return rc;
	if ((seq - 1) / EV_BUNDLE < full) {
		struct bundle *b;
		unsigned i = (unsigned)((seq - 1) % EV_BUNDLE);
		if ((rc = ev_bundle_load(l, (seq - 1) / EV_BUNDLE, &b, err)) != EV_OK)
			goto out;
		if (ev_leaf_decode((const uint8_t *)b->raw.p + b->off[i], b->len[i], &g.e,
			&g.scratch) != 0 ||
		    g.e.seq != seq) {
			g.bad = 1;
		} else {
			struct ev_sha256 h;
			ev_sha256_init(&h);
			ev_sha256_update(&h, "", 1);
			ev_sha256_update(&h, b->raw.p + b->off[i], b->len[i]);
			ev_sha256_final(&h, g.lh);
			g.e.leaf_hash = g.lh;
			g.found = 1;
		}
	} else {
		rc = ev_store_tail_scan(l->st, seq, get_tail_cb, &g, err);
		if (rc != EV_OK && rc != 1)
			goto out;
	}
	if (g.bad)
		rc = ev_errf(err, EV_ECORRUPT, "entry %llu is malformed; run evident verify",
		    (unsigned long long)seq);
	else if (!g.found)
		rc = ev_errf(err, EV_ENOTFOUND, "no entry %llu", (unsigned long long)seq);
	else
		rc = cb(&g.e, arg);
out:
	ev_buf_free(&g.scratch);
	return rc;
}

/* Time of entry seq (inside bundles or the tail). */
static int
time_at(struct ev_ledger *l, uint64_t seq, uint64_t full, int64_t *t, struct ev_err *err)
{
	struct get_one g = { 0 };
	int rc;

	if ((seq - 1) / EV_BUNDLE < full) {
		struct bundle *b;
		struct leaf_meta m;
		unsigned i = (unsigned)((seq - 1) % EV_BUNDLE);
		if ((rc = ev_bundle_load(l, (seq - 1) / EV_BUNDLE, &b, err)) != EV_OK)
			return rc;
		if (ev_leaf_meta((const uint8_t *)b->raw.p + b->off[i], b->len[i], &m) != 0)
			return ev_errf(err, EV_ECORRUPT, "entry %llu is malformed",
			    (unsigned long long)seq);
		*t = m.time_us;
		return EV_OK;
	}
	g.seq = seq;
	rc = ev_store_tail_scan(l->st, seq, get_tail_cb, &g, err);
	if (rc == 1 || rc == EV_OK)
		rc = g.found ? EV_OK : ev_errf(err, EV_ECORRUPT, "entry %llu is malformed",
					   (unsigned long long)seq);
	*t = g.e.time_us;
	ev_buf_free(&g.scratch);
	return rc;
}

/*
 * Smallest seq in [1, size] whose time is >= t (size + 1 when none): time is
 * monotone, so a binary search over bundles (their first and last times) and
 * then within one.
 */
static int
seq_at_time(struct ev_ledger *l, uint64_t size, uint64_t full, int64_t t, uint64_t *out,
    struct ev_err *err)
{
	uint64_t lo = 0, hi = full; /* first bundle whose last_time >= t */
	uint64_t slo, shi;
	int rc;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		struct ev_bundle_row r;
		if ((rc = ev_store_bundle_get(l->st, mid, &r, NULL, err)) != EV_OK)
			return rc;
		if (r.last_time < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	slo = lo * EV_BUNDLE + 1;
	shi = lo < full ? (lo + 1) * EV_BUNDLE + 1 : size + 1;
	while (slo < shi) {
		uint64_t mid = slo + (shi - slo) / 2;
		int64_t mt = 0;
		if ((rc = time_at(l, mid, full, &mt, err)) != EV_OK)
			return rc;
		if (mt < t)
			slo = mid + 1;
		else
			shi = mid;
	}
	*out = slo;
	return EV_OK;
}

struct scan {
	struct ev_ledger *l;
	const struct ev_query *q;
	ev_entry_cb cb;
	void *arg;
	const char *kind;
	size_t kind_len;
	int kind_prefix;
	struct ev_buf subj_json; /* the subject filter as its canonical JSON string */
	struct ev_buf needle;    /* the grep text as it appears inside the leaf's JSON strings */
	uint64_t lo, hi;
	size_t emitted;
	struct ev_buf scratch;
	struct bundle b;
	struct ev_err *err;
};

/* 1 when the leaf's kind and subject pass the filters (cheap: no decoding). */
static int
leaf_matches(struct scan *s, const struct leaf_meta *m)
{
	if (s->kind) {
		if (s->kind_prefix) {
			if (m->kind_len < s->kind_len || memcmp(m->kind, s->kind, s->kind_len) != 0)
				return 0;
		} else if (m->kind_len != s->kind_len || memcmp(m->kind, s->kind, s->kind_len) != 0) {
			return 0;
		}
	}
	if (s->q->subject && (m->subject_json_len != s->subj_json.len ||
				 memcmp(m->subject_json, s->subj_json.p, s->subj_json.len) != 0))
		return 0;
	if (s->q->since_us && m->time_us < s->q->since_us)
		return 0;
	if (s->q->until_us && m->time_us > s->q->until_us)
		return 0;
	return 1;
}

#define SCAN_LIMIT (-4242) /* the scan's limit was reached: not an error */

/* Offer one leaf to the scan; returns the callback's non-zero value, or SCAN_LIMIT. */
static int
scan_leaf(struct scan *s, const uint8_t *leaf, size_t n, uint64_t seq, const uint8_t *lh_stored)
{
	struct leaf_meta m;
	struct ev_entry e;
	uint8_t lh[32];
	int rc;

	if (ev_leaf_meta(leaf, n, &m) != 0 || m.seq != seq)
		return ev_errf(s->err, EV_ECORRUPT, "entry %llu is malformed; run evident verify",
		    (unsigned long long)seq);
	if (!leaf_matches(s, &m))
		return 0;
	if (s->needle.len && memmem(leaf, n, s->needle.p, s->needle.len) == NULL)
		return 0;
	if (ev_leaf_decode(leaf, n, &e, &s->scratch) != 0)
		return ev_errf(s->err, EV_ECORRUPT, "entry %llu is malformed; run evident verify",
		    (unsigned long long)seq);
	if (lh_stored) {
		memcpy(lh, lh_stored, 32);
	} else {
		struct ev_sha256 h;
		ev_sha256_init(&h);
		ev_sha256_update(&h, "", 1);
		ev_sha256_update(&h, leaf, n);
		ev_sha256_final(&h, lh);
	}
	e.leaf_hash = lh;
	if ((rc = s->cb(&e, s->arg)) != 0)
		return rc;
	if (s->q->limit && ++s->emitted >= s->q->limit)
		return SCAN_LIMIT;
	return 0;
}

static int
scan_bundle(struct scan *s, uint64_t n)
{
	struct ev_bundle_row row;
	struct ev_buf z = EV_BUF_INIT;
	const char *why;
	uint64_t first = n * EV_BUNDLE + 1;
	int rc;

	if ((rc = ev_store_bundle_get(s->l->st, n, &row, &z, s->err)) != EV_OK)
		goto out;
	if (ev_bundle_decode(s->l->dctx, n, z.p, z.len, row.raw_len, &s->b, &why) != 0) {
		rc = ev_errf(s->err, EV_ECORRUPT, "entries %llu..%llu: the bundle is unreadable: %s",
		    (unsigned long long)first, (unsigned long long)(first + EV_BUNDLE - 1), why);
		goto out;
	}
	for (unsigned k = 0; k < EV_BUNDLE; k++) {
		unsigned i = s->q->descending ? EV_BUNDLE - 1 - k : k;
		uint64_t seq = first + i;
		if (seq < s->lo || seq > s->hi)
			continue;
		if ((rc = scan_leaf(s, (const uint8_t *)s->b.raw.p + s->b.off[i], s->b.len[i], seq,
			 NULL)) != 0)
			break;
	}
out:
	ev_buf_free(&z);
	return rc;
}

struct tail_copy {
	uint64_t seq;
	size_t off, len;
	uint8_t lh[32];
};
struct tail_rows {
	struct ev_buf bytes;
	struct tail_copy *r;
	size_t n, cap;
	uint64_t hi;
};

static int
tail_copy_cb(const struct ev_tail_row *r, void *arg)
{
	struct tail_rows *t = arg;

	if (r->seq > t->hi)
		return 1;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->r = ev_xrealloc(t->r, t->cap * sizeof(*t->r));
	}
	t->r[t->n].seq = r->seq;
	t->r[t->n].off = t->bytes.len;
	t->r[t->n].len = r->leaf_len;
	if (r->leaf_hash)
		memcpy(t->r[t->n].lh, r->leaf_hash, 32);
	else
		memset(t->r[t->n].lh, 0, 32);
	ev_buf_add(&t->bytes, (const char *)r->leaf, r->leaf_len);
	t->n++;
	return EV_OK;
}

static int
scan_tail(struct scan *s, uint64_t from)
{
	struct tail_rows t = { EV_BUF_INIT, NULL, 0, 0, s->hi };
	int rc;

	/* Copy first: the callback may read (or write) the ledger on this connection. */
	rc = ev_store_tail_scan(s->l->st, from, tail_copy_cb, &t, s->err);
	if (rc == 1)
		rc = EV_OK;
	for (size_t k = 0; rc == EV_OK && k < t.n; k++) {
		size_t i = s->q->descending ? t.n - 1 - k : k;
		rc = scan_leaf(s, (const uint8_t *)t.bytes.p + t.r[i].off, t.r[i].len, t.r[i].seq,
		    t.r[i].lh);
	}
	ev_buf_free(&t.bytes);
	free(t.r);
	return rc;
}

int
ev_ledger_scan(struct ev_ledger *l, const struct ev_query *q, ev_entry_cb cb, void *arg,
    struct ev_err *err)
{
	struct scan s = { 0 };
	uint64_t size, full, *bn = NULL, nb_lo, nb_hi, x;
	size_t nbn = 0;
	int64_t t;
	int rc;

	s.l = l;
	s.q = q;
	s.cb = cb;
	s.arg = arg;
	s.err = err;
	if ((rc = ev_store_last(l->st, &size, &t, err)) != EV_OK ||
	    (rc = ev_store_bundle_count(l->st, &full, err)) != EV_OK)
		return rc;
	s.lo = q->from_seq ? q->from_seq : 1;
	s.hi = q->to_seq && q->to_seq < size ? q->to_seq : size;
	if (q->since_us && (rc = seq_at_time(l, size, full, q->since_us, &x, err)) == EV_OK &&
	    x > s.lo)
		s.lo = x;
	if (rc != EV_OK)
		return rc;
	if (q->until_us && q->until_us < INT64_MAX &&
	    (rc = seq_at_time(l, size, full, q->until_us + 1, &x, err)) == EV_OK && x - 1 < s.hi)
		s.hi = x - 1;
	if (rc != EV_OK)
		return rc;
	if (s.lo > s.hi || s.hi == 0)
		return EV_OK;
	if (q->kind) {
		s.kind_len = strlen(q->kind);
		s.kind_prefix = s.kind_len &&
		    (q->kind[s.kind_len - 1] == '.' || q->kind[s.kind_len - 1] == '*');
		if (s.kind_prefix && q->kind[s.kind_len - 1] == '*')
			s.kind_len--;
		s.kind = q->kind;
	}
	if (q->subject)
		ev_buf_add_json_str(&s.subj_json, q->subject, strlen(q->subject));
	if (q->grep && q->grep[0]) {
		/* Search the leaf bytes for the text escaped as the canonical JSON writes it. */
		ev_buf_add_json_str(&s.needle, q->grep, strlen(q->grep));
		memmove(s.needle.p, s.needle.p + 1, s.needle.len - 2);
		s.needle.len -= 2;
		s.needle.p[s.needle.len] = '\0';
	}
	nb_lo = (s.lo - 1) / EV_BUNDLE;
	nb_hi = (s.hi - 1) / EV_BUNDLE;
	if (nb_hi >= full)
		nb_hi = full ? full - 1 : 0;
	if (full > 0 && nb_lo < full && (q->kind || q->subject)) {
		char *k = NULL;
		if (q->kind) {
			k = ev_xmalloc(s.kind_len + 1);
			memcpy(k, q->kind, s.kind_len);
			k[s.kind_len] = '\0';
		}
		rc = ev_store_ix_bundles(l->st, k, s.kind_prefix, q->subject, nb_lo, nb_hi, &bn,
		    &nbn, err);
		free(k);
		if (rc != EV_OK)
			goto out;
	} else if (full > 0 && nb_lo < full) {
		nbn = (size_t)(nb_hi - nb_lo + 1);
		bn = ev_xmalloc(nbn * sizeof(*bn));
		for (size_t i = 0; i < nbn; i++)
			bn[i] = nb_lo + i;
	}
	if (q->descending && s.hi > full * EV_BUNDLE) {
		if ((rc = scan_tail(&s, s.lo > full * EV_BUNDLE ? s.lo : full * EV_BUNDLE + 1)) != 0)
			goto out;
	}
	for (size_t k = 0; k < nbn; k++) {
		size_t i = q->descending ? nbn - 1 - k : k;
		if ((rc = scan_bundle(&s, bn[i])) != 0)
			goto out;
	}
	if (!q->descending && s.hi > full * EV_BUNDLE)
		rc = scan_tail(&s, s.lo > full * EV_BUNDLE ? s.lo : full * EV_BUNDLE + 1);
out:
	if (rc == SCAN_LIMIT)
		rc = EV_OK;
	free(bn);
	ev_buf_free(&s.scratch);
	ev_buf_free(&s.subj_json);
	ev_buf_free(&s.needle);
	ev_buf_free(&s.b.raw);
	return rc;
}
