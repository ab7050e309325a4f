/*
 * export.c - cut an evidence pack from the ledger (see pack.h and
 * docs/pack-format.md).
 *
 * Order of work: select entries (indexed scans: time range narrowed by
 * binary search on time, incidents by the subject index), choose the
 * checkpoint (the latest one if it covers every selected entry, else a fresh
 * one), prove each entry against it, gather evidence files and any RFC 3161
 * token, prove consistency from the previous pack, render index.html, hash
 * everything into the manifest, sign the manifest, write the archive, and
 * last record "pack.exported".  Nothing is recorded when writing fails
 * (except the fresh checkpoint, which is a valid fact on its own).
 */
#include "pack/pack.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger/keys.h"
#include "pack/pack_int.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

/* Selected entries: strings in one arena, fixed up after the scans. */
struct sel {
	struct ev_buf arena;
	struct {
		uint64_t seq;
		int64_t time_us;
		size_t off[4]; /* kind, subject, actor, body */
		size_t body_len;
	} *v;
	size_t n, cap;
	uint64_t max_seq;
	const struct ev_pack_export_opts *o;
};

static size_t
arena_add(struct ev_buf *a, const char *s, size_t n)
{
	size_t off = a->len;

	ev_buf_add(a, s, n);
	ev_buf_addc(a, '\0');
	return off;
}

static int
sel_cb(const struct ev_entry *e, void *arg)
{
	struct sel *s = arg;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = ev_xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n].seq = e->seq;
	s->v[s->n].time_us = e->time_us;
	s->v[s->n].off[0] = arena_add(&s->arena, e->kind, strlen(e->kind));
	s->v[s->n].off[1] = arena_add(&s->arena, e->subject, strlen(e->subject));
	s->v[s->n].off[2] = arena_add(&s->arena, e->actor, strlen(e->actor));
	s->v[s->n].off[3] = arena_add(&s->arena, e->body, e->body_len);
	s->v[s->n].body_len = e->body_len;
	s->n++;
	if (e->seq > s->max_seq)
		s->max_seq = e->seq;
	return 0;
}

static int
cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort by seq and drop duplicates (an entry found by two scans). */
static void
sel_sort_unique(struct sel *s)
{
	size_t w = 0;

	/* seq is the first member, so the element compares by it. */
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_seq);
	for (size_t i = 0; i < s->n; i++)
		if (w == 0 || s->v[w - 1].seq != s->v[i].seq)
			s->v[w++] = s->v[i];
	s->n = w;
}

static int
select_entries(struct ev_ledger *l, const struct ev_pack_export_opts *o, uint64_t size,
    struct sel *s, struct ev_err *err)
{
	struct ev_query q;
	int rc;

	if (o->from_us || o->to_us) {
		size_t nk = o->nkinds ? o->nkinds : 1;
		for (size_t i = 0; i < nk; i++) {
			memset(&q, 0, sizeof(q));
			q.since_us = o->from_us;
			q.until_us = o->to_us;
			q.to_seq = size;
			q.kind = o->nkinds ? o->kinds[i] : NULL;
			if ((rc = ev_ledger_scan(l, &q, sel_cb, s, err)) != EV_OK)
				return rc;
		}
	}
	for (size_t i = 0; i < o->nincidents; i++) {
		memset(&q, 0, sizeof(q));
		q.subject = o->incidents[i];
		q.to_seq = size;
		if ((rc = ev_ledger_scan(l, &q, sel_cb, s, err)) != EV_OK)
			return rc;
	}
	sel_sort_unique(s);
	return EV_OK;
}

/* ---- evidence references: "evidence":{"sha256":"..."} anywhere in a body ---- */

struct hexset {
	char (*h)[65];
	size_t n, cap;
};

static void
hexset_add(struct hexset *hs, const char *hex)
{
	for (size_t i = 0; i < hs->n; i++)
		if (strcmp(hs->h[i], hex) == 0)
			return;
	if (hs->n == hs->cap) {
		hs->cap = hs->cap ? 2 * hs->cap : 16;
		hs->h = ev_xrealloc(hs->h, hs->cap * sizeof(*hs->h));
	}
	snprintf(hs->h[hs->n++], 65, "%s", hex);
}

static int
is_hash_hex(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static void
evidence_ref(const json_t *v, struct hexset *hs)
{
	if (json_is_object(v) && is_hash_hex(ev_json_str(v, "sha256")))
		hexset_add(hs, ev_json_str(v, "sha256"));
}

static void
find_evidence(const json_t *v, struct hexset *hs, int depth)
{
	const char *key;
	json_t *x, *y;
	size_t i;

	if (depth > 32)
		return;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x) {
			if (strcmp(key, "evidence") == 0) {
				if (json_is_array(x)) {
					json_array_foreach(x, i, y) {
						evidence_ref(y, hs);
					}
				} else {
					evidence_ref(x, hs);
				}
			}
			find_evidence(x, hs, depth + 1);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			find_evidence(x, hs, depth + 1);
		}
	}
}

/* Read a whole file into memory, at most max bytes. */
static int
read_file(const char *path, size_t max, uint8_t **out, size_t *len, struct ev_err *err)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	uint8_t *p;

	if (f == NULL)
		return ev_errf(err, errno == ENOENT ? EV_ENOTFOUND : EV_EIO, "%s: %s", path,
		    strerror(errno));
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
		fclose(f);
		return ev_errf(err, EV_EINVAL, "%s: not a regular file within the size limit", path);
	}
	p = ev_xmalloc((size_t)sb.st_size + 1);
	if (fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		fclose(f);
		free(p);
		return ev_errf(err, EV_EIO, "%s: read failed", path);
	}
	fclose(f);
	*out = p;
	*len = (size_t)sb.st_size;
	return EV_OK;
}

/* ---- checkpoint JSON ---- */

static int checkpoint_from_json_v1(const json_t *o, struct ev_checkpoint *cp);

static json_t *
checkpoint_json(const struct ev_checkpoint *cp)
{
	char root[65], sig[89], t[EV_TIME_STRLEN];
	json_t *o;

	ev_hex_encode(cp->root, EV_HASH_LEN, root);
	ev_b64_encode(cp->sig, 64, sig);
	ev_time_format(cp->time_us, t);
	o = json_pack("{s:s,s:s,s:I,s:s,s:I,s:s}", "key_id", cp->key_id, "root", root, "seq",
	    (json_int_t)cp->seq, "signature", sig, "size", (json_int_t)cp->size, "time", t);
	/* Version 2: the C2SP signed note itself, which is what the signature covers. */
	if (cp->version >= 2) {
		json_object_set_new(o, "note", json_stringn(cp->note, cp->note_len));
		json_object_set_new(o, "origin", json_string(cp->origin));
	}
	return o;
}

/* Parse a checkpoint as checkpoint_json writes it (version 2 from its note). */
static int
checkpoint_from_json(const json_t *o, struct ev_checkpoint *cp, const uint8_t pub[32])
{
	const char *note = ev_json_str(o, "note"), *why;

	if (note) {
		if (ev_checkpoint_from_note(note, strlen(note), pub, cp, &why) != 0)
			return -1;
		if (json_is_integer(json_object_get(o, "seq")))
			cp->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
		return 0;
	}
	return checkpoint_from_json_v1(o, cp);
}

/* Parse {size, root, time, key_id, signature} (version 1). */
static int
checkpoint_from_json_v1(const json_t *o, struct ev_checkpoint *cp)
{
	const char *root = ev_json_str(o, "root"), *sig = ev_json_str(o, "signature");
	const char *t = ev_json_str(o, "time"), *kid = ev_json_str(o, "key_id");
	const json_t *size = json_object_get(o, "size");

	memset(cp, 0, sizeof(*cp));
	if (!root || !sig || !t || !kid || !json_is_integer(size) || json_integer_value(size) < 0 ||
	    strlen(root) != 64 || ev_hex_decode(root, 64, cp->root, 32) != 32 ||
	    ev_b64_decode(sig, strlen(sig), cp->sig, 64) != 64 || ev_time_parse(t, &cp->time_us) != 0)
		return -1;
	cp->size = (uint64_t)json_integer_value(size);
	cp->version = 1;
	snprintf(cp->key_id, sizeof(cp->key_id), "%s", kid);
	if (json_is_integer(json_object_get(o, "seq")))
		cp->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	return 0;
}

static void
add_json_member(struct pack_members *ms, const char *name, json_t *v)
{
	char *s = ev_json_dump(v);
	size_t n = strlen(s);

	s = ev_xrealloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	pack_members_add_owned(ms, name, (uint8_t *)s, n + 1);
}

/* ---- the previous checkpoint, for consistency ---- */

struct prev_find {
	json_t *cp;
};

static int
prev_cb(const struct ev_entry *e, void *arg)
{
	struct prev_find *p = arg;
	json_t *body = ev_json_parse_object(e->body, e->body_len, NULL);
	json_t *c = body ? json_object_get(body, "checkpoint") : NULL;

	if (c && json_is_object(c)) {
		p->cp = json_incref(c);
		json_decref(body);
		return 1;
	}
	json_decref(body);
	return 0;
}

static int
previous_checkpoint(struct ev_ledger *l, const struct ev_pack_export_opts *o,
    const uint8_t pub[32], struct ev_checkpoint *prev, int *found, struct ev_err *err)
{
	struct prev_find pf = { NULL };
	struct ev_query q = { 0 };
	int rc = EV_OK;

	*found = 0;
	if (o->previous) {
		struct pack_members ms = { 0 };
		const struct pack_member *m;
		json_t *v;

		if ((rc = pack_tar_read(o->previous, &ms, err)) != EV_OK) {
			if (rc == EV_ECORRUPT)
				rc = EV_EINVAL;
			goto prev_out;
		}
		m = pack_members_find(&ms, "checkpoint.json");
		v = m ? json_loadb((const char *)m->data, m->len, 0, NULL) : NULL;
		if (v == NULL || checkpoint_from_json(v, prev, pub) != 0) {
			json_decref(v);
			rc = ev_errf(err, EV_EINVAL, "--previous %s: no readable checkpoint.json",
			    o->previous);
			goto prev_out;
		}
		json_decref(v);
		if (ev_checkpoint_verify_sig(prev, pub) != 0) {
			rc = ev_errf(err, EV_EINVAL,
			    "--previous %s: its checkpoint is not signed by this installation's key",
			    o->previous);
			goto prev_out;
		}
		*found = 1;
prev_out:
		pack_members_free(&ms);
		return rc;
	}
	q.kind = "pack.exported";
	q.descending = 1;
	rc = ev_ledger_scan(l, &q, prev_cb, &pf, err);
	if (rc != EV_OK && rc != 1)
		return rc;
	if (pf.cp) {
		if (checkpoint_from_json(pf.cp, prev, pub) == 0 && ev_checkpoint_verify_sig(prev, pub) == 0)
			*found = 1;
		json_decref(pf.cp);
	}
	return EV_OK;
}

/* ---- RFC 3161 token recorded for the checkpoint ---- */

struct ts_find {
	const struct ev_checkpoint *cp;
	uint8_t *der;
	size_t len;
	char gen_time[64];
};

static int
ts_cb(const struct ev_entry *e, void *arg)
{
	struct ts_find *t = arg;
	json_t *b = ev_json_parse_object(e->body, e->body_len, NULL);
	const json_t *cs = b ? json_object_get(b, "checkpoint_seq") : NULL;
	const char *tok = b ? ev_json_str(b, "token") : NULL;
	char root[65];
	long n;

	ev_hex_encode(t->cp->root, EV_HASH_LEN, root);
	if (b && json_is_integer(cs) && (uint64_t)json_integer_value(cs) == t->cp->seq && tok &&
	    ev_json_str(b, "root") && strcmp(ev_json_str(b, "root"), root) == 0) {
		size_t max = strlen(tok) / 4 * 3 + 3;
		t->der = ev_xmalloc(max);
		if ((n = ev_b64_decode(tok, strlen(tok), t->der, max)) > 0) {
			t->len = (size_t)n;
			snprintf(t->gen_time, sizeof(t->gen_time), "%s",
			    ev_json_str(b, "gen_time") ? ev_json_str(b, "gen_time") : "");
			json_decref(b);
			return 1;
		}
		free(t->der);
		t->der = NULL;
	}
	json_decref(b);
	return 0;
}

/* ---- public key as PEM ---- */

static int
public_key_pem(const uint8_t pub[32], struct ev_buf *out, struct ev_err *err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int rc = EV_OK;

	if (k == NULL || b == NULL || PEM_write_bio_PUBKEY(b, k) != 1 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0)
		rc = ev_errf(err, EV_EIO, "cannot encode the public key");
	else
		ev_buf_add(out, p, (size_t)n);
	BIO_free(b);
	EVP_PKEY_free(k);
	return rc;
}

void
pack_manifest_sig_message(const uint8_t *manifest, size_t len, struct ev_buf *out)
{
	char hex[65];

	pack_sha256_hex(manifest, len, hex);
	ev_buf_addf(out, "evident pack manifest v1\nsha256 %s\n", hex);
}

static void
add_proof_line(struct ev_buf *b, uint64_t seq, uint64_t size, const uint8_t leaf[32],
    const uint8_t root[32], uint8_t proof[][EV_HASH_LEN], size_t n)
{
	char hex[65];

	ev_buf_addf(b, "{\"leaf_hash\":\"");
	ev_hex_encode(leaf, 32, hex);
	ev_buf_add(b, hex, 64);
	ev_buf_addf(b, "\",\"leaf_index\":%llu,\"proof\":[", (unsigned long long)(seq - 1));
	for (size_t i = 0; i < n; i++) {
		ev_hex_encode(proof[i], 32, hex);
		ev_buf_addf(b, "%s\"%s\"", i ? "," : "", hex);
	}
	ev_hex_encode(root, 32, hex);
	ev_buf_addf(b, "],\"root\":\"%s\",\"tree_size\":%llu}\n", hex, (unsigned long long)size);
}

static json_t *
strv_json(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int
ev_pack_export(struct ev_ledger *l, const struct ev_pack_export_opts *o,
    struct ev_pack_export_result *res, struct ev_err *err)
{
	struct sel s = { EV_BUF_INIT, NULL, 0, 0, 0, o };
	struct pack_entry *pe = NULL;
	struct pack_members ms = { 0 }, out = { 0 };
	struct ev_buf entries = EV_BUF_INIT, proofs = EV_BUF_INIT, leaf = EV_BUF_INIT;
	struct ev_buf html = EV_BUF_INIT, pem = EV_BUF_INIT, msg = EV_BUF_INIT, path = EV_BUF_INIT;
	struct ev_buf body = EV_BUF_INIT;
	struct hexset ev = { 0 }, missing = { 0 };
	const char **missing_v = NULL;
	struct ts_find ts = { 0 };
	struct ev_checkpoint cp, prev;
	struct pack_view view;
	struct ev_query q;
	json_t *manifest = NULL, *files = NULL, *j = NULL;
	struct evp_pkey_st *key = NULL;
	uint8_t pub[32], sig[64], (*proof)[EV_HASH_LEN] = NULL;
	uint8_t lh[EV_HASH_LEN], root[EV_HASH_LEN], lh2[EV_HASH_LEN];
	char hex[65], sigb64[89], t[EV_TIME_STRLEN];
	const char *base;
	uint64_t size;
	size_t pn;
	int rc, have_prev = 0;
	int64_t now = ev_time_now_us();

	memset(res, 0, sizeof(*res));
	if (!o->from_us && !o->to_us && o->nincidents == 0)
		return ev_errf(err, EV_EINVAL, "select entries with --from/--to or --incident");
	if (o->from_us && o->to_us && o->from_us > o->to_us)
		return ev_errf(err, EV_EINVAL, "--from is after --to");
	if ((rc = ev_ledger_public_key(l, pub, err)) != EV_OK)
		goto out;
	if ((rc = ev_key_load_private(ev_ledger_dir(l), &key, err)) != EV_OK)
		goto out;
	if ((rc = ev_ledger_size(l, &size, err)) != EV_OK)
		goto out;

	/* 1. Selection. */
	if ((rc = select_entries(l, o, size, &s, err)) != EV_OK)
		goto out;
	if (s.n == 0) {
		rc = ev_errf(err, EV_ENOTFOUND, "no entries match the selection");
		goto out;
	}
	if (o->progress)
		o->progress("select", s.n, s.n, o->parg);
	pe = ev_xcalloc(s.n, sizeof(*pe));
	for (size_t i = 0; i < s.n; i++) {
		pe[i].seq = s.v[i].seq;
		pe[i].time_us = s.v[i].time_us;
		pe[i].kind = s.arena.p + s.v[i].off[0];
		pe[i].subject = s.arena.p + s.v[i].off[1];
		pe[i].actor = s.arena.p + s.v[i].off[2];
		pe[i].body = s.arena.p + s.v[i].off[3];
		pe[i].body_len = s.v[i].body_len;
	}

	/* 2. The checkpoint: the latest if it covers the selection, else a fresh one. */
	rc = ev_ledger_latest_checkpoint(l, &cp, err);
	if (rc != EV_OK && rc != EV_ENOTFOUND)
		goto out;
	if (rc == EV_ENOTFOUND || cp.size < pe[s.n - 1].seq || o->tsa_url) {
		if ((rc = ev_ledger_checkpoint(l, o->actor, &cp, err)) != EV_OK)
			goto out;
		res->fresh_checkpoint = 1;
		if (o->tsa_url) {
			struct ev_anchor_result ar;
			if ((rc = ev_anchor_checkpoint(l, &cp, o->tsa_url, o->tsa_cert, o->actor, &ar,
				 err)) != EV_OK)
				goto out;
		}
	}
	if (ev_checkpoint_verify_sig(&cp, pub) != 0) {
		rc = ev_errf(err, EV_ECORRUPT, "checkpoint at entry %llu: bad signature",
		    (unsigned long long)cp.seq);
		goto out;
	}

	/* 3. Leaves and inclusion proofs. */
	proof = ev_xmalloc(EV_MERKLE_MAX_PROOF * sizeof(*proof));
	for (size_t i = 0; i < s.n; i++) {
		struct ev_entry e = { pe[i].seq, pe[i].time_us, pe[i].kind, pe[i].subject,
			pe[i].actor, pe[i].body, pe[i].body_len, NULL };
		ev_buf_reset(&leaf);
		ev_entry_leaf(&e, &leaf);
		ev_merkle_leaf_hash(leaf.p, leaf.len, lh2);
		if ((rc = ev_ledger_prove_inclusion(l, pe[i].seq, cp.size, lh, root, proof, &pn,
			 err)) != EV_OK)
			goto out;
		if (memcmp(lh, lh2, EV_HASH_LEN) != 0 || memcmp(root, cp.root, EV_HASH_LEN) != 0) {
			rc = ev_errf(err, EV_ECORRUPT,
			    "entry %llu: leaf or tree does not match the checkpoint; run evident verify",
			    (unsigned long long)pe[i].seq);
			goto out;
		}
		ev_buf_add(&entries, leaf.p, leaf.len);
		ev_buf_addc(&entries, '\n');
		add_proof_line(&proofs, pe[i].seq, cp.size, lh, root, proof, pn);
		if (o->progress && ((i & 255) == 0 || i + 1 == s.n))
			o->progress("prove", i + 1, s.n, o->parg);
	}

	/* 4. Evidence files referenced by the selected bodies. */
	for (size_t i = 0; i < s.n; i++) {
		json_t *b;
		if (memmem(pe[i].body, pe[i].body_len, "\"evidence\"", 10) == NULL)
			continue;
		if ((b = json_loadb(pe[i].body, pe[i].body_len, 0, NULL)) != NULL) {
			find_evidence(b, &ev, 0);
			json_decref(b);
		}
	}
	for (size_t i = 0; i < ev.n; i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		ev_buf_reset(&path);
		ev_buf_addf(&path, "%s/evidence/%s", ev_ledger_dir(l), ev.h[i]);
		rc = read_file(path.p, EV_PACK_MEMBER_MAX, &data, &len, err);
		if (rc == EV_ENOTFOUND) {
			ev_err_clear(err);
			hexset_add(&missing, ev.h[i]);
			continue;
		}
		if (rc != EV_OK)
			goto out;
		pack_sha256_hex(data, len, hex);
		if (strcmp(hex, ev.h[i]) != 0) {
			free(data);
			rc = ev_errf(err, EV_ECORRUPT, "evidence file %s: content hash is %s", path.p,
			    hex);
			goto out;
		}
		ev_buf_reset(&path);
		ev_buf_addf(&path, "evidence/%s", ev.h[i]);
		pack_members_add_owned(&ms, path.p, data, len);
		res->evidence_files++;
	}
	res->evidence_missing = missing.n;

	/* 5. RFC 3161 token for this checkpoint, if one was recorded. */
	memset(&q, 0, sizeof(q));
	q.kind = "checkpoint.timestamp";
	q.from_seq = cp.seq + 1;
	ts.cp = &cp;
	if (cp.seq && (rc = ev_ledger_scan(l, &q, ts_cb, &ts, err)) != EV_OK && rc != 1)
		goto out;
	rc = EV_OK;

	/* 6. Consistency from the previous pack's checkpoint. */
	if ((rc = previous_checkpoint(l, o, pub, &prev, &have_prev, err)) != EV_OK)
		goto out;
	if (have_prev && prev.size > 0 && prev.size <= cp.size) {
		uint8_t r1[EV_HASH_LEN], r2[EV_HASH_LEN];
		json_t *pa;
		if ((rc = ev_ledger_prove_consistency(l, prev.size, cp.size, r1, r2, proof, &pn,
			 err)) != EV_OK)
			goto out;
		if (memcmp(r1, prev.root, EV_HASH_LEN) != 0) {
			rc = ev_errf(err, EV_ECORRUPT,
			    "the previous pack's checkpoint (size %llu) does not match this ledger",
			    (unsigned long long)prev.size);
			goto out;
		}
		pa = json_array();
		for (size_t i = 0; i < pn; i++) {
			ev_hex_encode(proof[i], 32, hex);
			json_array_append_new(pa, json_string(hex));
		}
		j = json_object();
		json_object_set_new(j, "previous", checkpoint_json(&prev));
		json_object_set_new(j, "size1", json_integer((json_int_t)prev.size));
		json_object_set_new(j, "size2", json_integer((json_int_t)cp.size));
		ev_hex_encode(r1, 32, hex);
		json_object_set_new(j, "root1", json_string(hex));
		ev_hex_encode(r2, 32, hex);
		json_object_set_new(j, "root2", json_string(hex));
		json_object_set_new(j, "proof", pa);
		res->has_consistency = 1;
		res->previous_size = prev.size;
	}

	/* 7. index.html. */
	missing_v = ev_xcalloc(missing.n + 1, sizeof(*missing_v));
	for (size_t i = 0; i < missing.n; i++)
		missing_v[i] = missing.h[i];
	memset(&view, 0, sizeof(view));
	view.e = pe;
	view.n = s.n;
	view.cp = &cp;
	view.fresh_checkpoint = res->fresh_checkpoint;
	view.from_us = o->from_us;
	view.to_us = o->to_us;
	view.created_us = now;
	view.selection_text = o->selection_text;
	view.incidents = o->incidents;
	view.nincidents = o->nincidents;
	view.kinds = o->kinds;
	view.nkinds = o->nkinds;
	view.has_consistency = res->has_consistency;
	view.previous_size = res->previous_size;
	view.timestamp_gen_time = ts.der ? ts.gen_time : NULL;
	view.evidence_files = (size_t)res->evidence_files;
	view.evidence_missing = missing_v;
	view.nevidence_missing = missing.n;
	pack_html_render(&view, &html);

	/* 8. Members in their archive order; the manifest hashes all but itself and its signature. */
	pack_members_add(&out, "index.html", html.p, html.len);
	{
		json_t *c = checkpoint_json(&cp);
		add_json_member(&out, "checkpoint.json", c);
		json_decref(c);
	}
	if ((rc = public_key_pem(pub, &pem, err)) != EV_OK)
		goto out;
	pack_members_add(&out, "public-key.pem", pem.p, pem.len);
	pack_members_add(&out, "entries.jsonl", entries.p ? entries.p : "", entries.len);
	pack_members_add(&out, "proofs.jsonl", proofs.p ? proofs.p : "", proofs.len);
	if (j)
		add_json_member(&out, "consistency.json", j);
	if (ts.der) {
		pack_members_add_owned(&out, "timestamp.tsr", ts.der, ts.len);
		ts.der = NULL;
		res->has_timestamp = 1;
	}
	for (size_t i = 0; i < ms.n; i++) {
		pack_members_add_owned(&out, ms.m[i].name, ms.m[i].data, ms.m[i].len);
		ms.m[i].data = NULL;
	}
	/* A pack verify would refuse is not written: the limits are part of the format. */
	{
		size_t total = 0;
		for (size_t i = 0; i < out.n; i++) {
			total += out.m[i].len;
			if (out.m[i].len > EV_PACK_MEMBER_MAX || total > EV_PACK_TOTAL_MAX - 65536 ||
			    out.n > EV_PACK_MEMBERS_MAX - 2) {
				rc = ev_errf(err, EV_EINVAL,
				    "the pack would exceed the pack size limits (%s: %zu bytes; each "
				    "member at most %zu, all at most %zu): narrow the selection",
				    out.m[i].name, out.m[i].len, EV_PACK_MEMBER_MAX, EV_PACK_TOTAL_MAX);
				goto out;
			}
		}
	}
	files = json_array();
	for (size_t i = 0; i < out.n; i++) {
		pack_sha256_hex(out.m[i].data, out.m[i].len, hex);
		json_array_append_new(files, json_pack("{s:s,s:s,s:I}", "path", out.m[i].name,
						 "sha256", hex, "size", (json_int_t)out.m[i].len));
	}
	ev_time_format(now, t);
	manifest = json_object();
	json_object_set_new(manifest, "format", json_string(EV_PACK_FORMAT));
	json_object_set_new(manifest, "created", json_string(t));
	json_object_set_new(manifest, "key_id", json_string(cp.key_id));
	json_object_set_new(manifest, "entries", json_integer((json_int_t)s.n));
	json_object_set_new(manifest, "checkpoint", checkpoint_json(&cp));
	json_object_set_new(manifest, "files", files);
	json_object_set_new(manifest, "evidence_missing", strv_json(missing_v, missing.n));
	{
		json_t *sel = json_object();
		char ft[EV_TIME_STRLEN];
		if (o->from_us) {
			ev_time_format(o->from_us, ft);
			json_object_set_new(sel, "from", json_string(ft));
		}
		if (o->to_us) {
			ev_time_format(o->to_us, ft);
			json_object_set_new(sel, "to", json_string(ft));
		}
		json_object_set_new(sel, "incidents", strv_json(o->incidents, o->nincidents));
		json_object_set_new(sel, "kinds", strv_json(o->kinds, o->nkinds));
		json_object_set_new(manifest, "selection", sel);
	}
	if (res->has_consistency)
		json_object_set_new(manifest, "previous_size",
		    json_integer((json_int_t)res->previous_size));
	add_json_member(&out, "manifest.json", manifest);
	{
		const struct pack_member *m = &out.m[out.n - 1];
		pack_sha256_hex(m->data, m->len, res->manifest_sha256);
		pack_manifest_sig_message(m->data, m->len, &msg);
	}
	if ((rc = ev_key_sign(key, msg.p, msg.len, sig, err)) != EV_OK)
		goto out;
	ev_b64_encode(sig, 64, sigb64);
	ev_buf_reset(&msg);
	ev_buf_addf(&msg, "%s\n", sigb64);
	pack_members_add(&out, "manifest.sig", msg.p, msg.len);
	/* The manifest first after index.html: a reader streaming the tar meets it early. */
	{
		struct pack_member m1 = out.m[out.n - 2], m2 = out.m[out.n - 1];
		memmove(&out.m[3], &out.m[1], (out.n - 3) * sizeof(*out.m));
		out.m[1] = m1;
		out.m[2] = m2;
	}
	if ((rc = pack_tar_write(o->out_path, &out, now / 1000000, err)) != EV_OK)
		goto out;

	/* 9. Record the export. */
	base = strrchr(o->out_path, '/');
	base = base ? base + 1 : o->out_path;
	{
		json_t *rec = json_object();
		char *txt;
		json_object_set_new(rec, "checkpoint", checkpoint_json(&cp));
		json_object_set_new(rec, "entries", json_integer((json_int_t)s.n));
		json_object_set_new(rec, "file", json_string(base));
		json_object_set_new(rec, "manifest_sha256", json_string(res->manifest_sha256));
		json_object_set_new(rec, "evidence_files", json_integer((json_int_t)res->evidence_files));
		if (res->has_consistency)
			json_object_set_new(rec, "previous_size",
			    json_integer((json_int_t)res->previous_size));
		json_object_set(rec, "selection", json_object_get(manifest, "selection"));
		txt = ev_json_dump(rec);
		json_decref(rec);
		ev_buf_adds(&body, txt ? txt : "{}");
		free(txt);
	}
	{
		struct ev_entry_in in = { "pack.exported", "pack", o->actor ? o->actor : "system",
			body.p, body.len };
		if ((rc = ev_ledger_append(l, &in, 1, &res->exported_seq, err)) != EV_OK)
			goto out;
	}
	res->entries = s.n;
	res->cp = cp;
out:
	ev_key_free(key);
	json_decref(manifest);
	json_decref(j);
	free(ts.der);
	free(proof);
	free(pe);
	free(missing_v);
	free(ev.h);
	free(missing.h);
	free(s.v);
	ev_buf_free(&s.arena);
	pack_members_free(&ms);
	pack_members_free(&out);
	ev_buf_free(&entries);
	ev_buf_free(&proofs);
	ev_buf_free(&leaf);
	ev_buf_free(&html);
	ev_buf_free(&pem);
	ev_buf_free(&msg);
	ev_buf_free(&path);
	ev_buf_free(&body);
	return rc;
}
