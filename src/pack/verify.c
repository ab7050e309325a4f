/*
 * verify.c - offline verification of an evidence pack (see pack.h).
 *
 * Needs nothing but the archive: no data directory, no network.  The order
 * of checks makes the first failure name the smallest thing that is wrong:
 * archive structure, manifest (every file listed, nothing extra, sizes and
 * hashes), manifest signature, key (pinned or the pack's), checkpoint
 * signature, every entry against its proof, consistency, RFC 3161 token,
 * evidence file names.  Every failure is EV_ECORRUPT with one line.
 */
#include "pack/pack.h"

#include <assert.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/keys.h"
#include "pack/pack_int.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

/* Every verification failure is corrupt data with one line saying where. */
#define bad(err, ...) ev_errf((err), EV_ECORRUPT, __VA_ARGS__)

static json_t *
load_json(const struct pack_member *m)
{
	json_error_t je;

	if (m->len > EV_PACK_MEMBER_MAX)
		return NULL;
	return json_loadb((const char *)m->data, m->len, JSON_REJECT_DUPLICATES, &je);
}

/* A 32-byte hash from 64 lower-case hex digits. */
static int
hex32(const json_t *v, uint8_t out[32])
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	if (s == NULL || strlen(s) != 64)
		return -1;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	return ev_hex_decode(s, 64, out, 32) == 32 ? 0 : -1;
}

static int
u64_of(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* 64 bytes from canonical base64 (re-encoding must give the same text). */
static int
sig64(const char *s, size_t len, uint8_t out[64])
{
	char again[89];

	if (len != 88 || ev_b64_decode(s, len, out, 64) != 64)
		return -1;
	ev_b64_encode(out, 64, again);
	return memcmp(again, s, 88) == 0 ? 0 : -1;
}

/*
 * A version-2 checkpoint is its C2SP note: parse and check it against pub,
 * and require the JSON fields beside it to say the same.
 */
static int
parse_checkpoint_note(const json_t *o, const char *note, const uint8_t pub[32],
    struct ev_checkpoint *cp, const char **why)
{
	uint8_t root[32];
	uint64_t size;

	if (ev_checkpoint_from_note(note, strlen(note), pub, cp, why) != 0)
		return -1;
	if (u64_of(json_object_get(o, "size"), &size) != 0 || size != cp->size ||
	    hex32(json_object_get(o, "root"), root) != 0 || memcmp(root, cp->root, 32) != 0) {
		*why = "size or root differ from the signed note";
		return -1;
	}
	if (json_object_get(o, "seq") && u64_of(json_object_get(o, "seq"), &cp->seq) != 0) {
		*why = "seq is not a number";
		return -1;
	}
	return 0;
}

static int
parse_checkpoint(const json_t *o, const uint8_t pub[32], struct ev_checkpoint *cp,
    const char **why)
{
	const char *sig = json_is_string(json_object_get(o, "signature")) ?
	    json_string_value(json_object_get(o, "signature")) : NULL;
	const char *t = ev_json_str(o, "time"), *kid = ev_json_str(o, "key_id");
	char again[EV_TIME_STRLEN];

	memset(cp, 0, sizeof(*cp));
	*why = "not an object with size, root, time, key_id and signature";
	if (json_is_object(o) && ev_json_str(o, "note"))
		return parse_checkpoint_note(o, ev_json_str(o, "note"), pub, cp, why);
	cp->version = 1;
	if (!json_is_object(o) || u64_of(json_object_get(o, "size"), &cp->size) != 0 ||
	    hex32(json_object_get(o, "root"), cp->root) != 0 || !t || !kid || !sig)
		return -1;
	if (sig64(sig, strlen(sig), cp->sig) != 0) {
		*why = "signature is not 64 bytes of base64";
		return -1;
	}
	/* The signed note carries the time as ev_time_format writes it: require that form. */
	if (ev_time_parse(t, &cp->time_us) != 0 || (ev_time_format(cp->time_us, again),
							strcmp(again, t) != 0)) {
		*why = "time is not YYYY-MM-DDTHH:MM:SS.ffffffZ";
		return -1;
	}
	if (strlen(kid) != 16) {
		*why = "key_id is not 16 hex digits";
		return -1;
	}
	memcpy(cp->key_id, kid, 17);
	if (json_object_get(o, "seq") && u64_of(json_object_get(o, "seq"), &cp->seq) != 0) {
		*why = "seq is not a number";
		return -1;
	}
	return 0;
}

/* The raw Ed25519 key of a PEM SubjectPublicKeyInfo held in memory. */
static int
pem_public_key(const struct pack_member *m, uint8_t pub[32])
{
	BIO *b = BIO_new_mem_buf(m->data, (int)m->len);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	size_t len = 32;
	int rc = -1;

	if (k && EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 &&
	    EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32)
		rc = 0;
	EVP_PKEY_free(k);
	BIO_free(b);
	return rc;
}

/* The manifest's record of one member must match it (size and hash). */
static int
check_listed(const json_t *man, const struct pack_member *m, struct ev_err *err)
{
	const json_t *files = json_object_get(man, "files"), *f;
	char hex[65];
	size_t i;

	json_array_foreach(files, i, f) {
		const char *path = ev_json_str(f, "path"), *sha = ev_json_str(f, "sha256");
		uint64_t size;
		if (!path || strcmp(path, m->name) != 0)
			continue;
		pack_sha256_hex(m->data, m->len, hex);
		if (!sha || u64_of(json_object_get(f, "size"), &size) != 0 || size != m->len ||
		    strcmp(sha, hex) != 0)
			return bad(err, "manifest: %s: hash mismatch", m->name);
		return EV_OK;
	}
	return bad(err, "manifest: %s: not listed", m->name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Every listed file present with its size and hash, none listed twice, no
 * member unlisted.  Sorted name lists keep this O(n log n) in the number of
 * members, which an archive chooses.
 */
static int
check_manifest(const struct pack_members *ms, const json_t *man, uint64_t *nfiles,
    struct ev_err *err)
{
	const json_t *files = json_object_get(man, "files"), *f;
	const char **listed = NULL;
	size_t i, n, members = 0;
	char hex[65];
	int rc = EV_OK;

	if (!json_is_string(json_object_get(man, "format")) ||
	    strcmp(json_string_value(json_object_get(man, "format")), EV_PACK_FORMAT) != 0)
		return bad(err, "manifest.json: format is not %s", EV_PACK_FORMAT);
	if (!json_is_array(files))
		return bad(err, "manifest.json: no files list");
	n = json_array_size(files);
	listed = ev_xcalloc(n + 1, sizeof(*listed));
	json_array_foreach(files, i, f) {
		const char *path = ev_json_str(f, "path"), *sha = ev_json_str(f, "sha256");
		const struct pack_member *m;
		uint64_t size;
		if (!path || !sha || u64_of(json_object_get(f, "size"), &size) != 0) {
			rc = bad(err, "manifest.json: files[%zu]: needs path, sha256 and size", i);
			goto out;
		}
		if (strcmp(path, "manifest.json") == 0 || strcmp(path, "manifest.sig") == 0) {
			rc = bad(err, "manifest: %s: cannot list itself", path);
			goto out;
		}
		if ((m = pack_members_find(ms, path)) == NULL) {
			rc = bad(err, "manifest: %s: missing from the archive", path);
			goto out;
		}
		pack_sha256_hex(m->data, m->len, hex);
		if (m->len != size || strcmp(hex, sha) != 0) {
			rc = bad(err, "manifest: %s: %s", path,
			    m->len != size ? "size mismatch" : "hash mismatch");
			goto out;
		}
		listed[i] = path;
	}
	if (n > 1)
		qsort(listed, n, sizeof(*listed), cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(listed[i - 1], listed[i]) == 0) {
			rc = bad(err, "manifest: %s: listed twice", listed[i]);
			goto out;
		}
	for (i = 0; i < ms->n; i++) {
		const char *name = ms->m[i].name;
		if (strcmp(name, "manifest.json") == 0 || strcmp(name, "manifest.sig") == 0)
			continue;
		members++;
		if (n == 0 || bsearch(&name, listed, n, sizeof(*listed), cmp_str) == NULL) {
			rc = bad(err, "manifest: %s: in the archive but not listed (extra file)", name);
			goto out;
		}
	}
	assert(members == n);
	*nfiles = n;
out:
	free(listed);
	return rc;
}

/* Split a member into '\n'-terminated lines; NULL on a missing final newline. */
static size_t
count_lines(const struct pack_member *m, int *ok)
{
	size_t n = 0;

	for (size_t i = 0; i < m->len; i++)
		if (m->data[i] == '\n')
			n++;
	*ok = m->len == 0 || m->data[m->len - 1] == '\n';
	return n;
}

static int
check_entries(const struct pack_member *em, const struct pack_member *pm,
    const struct ev_checkpoint *cp, uint64_t declared, uint64_t *count, struct ev_err *err)
{
	struct ev_bytes proof[EV_MERKLE_MAX_PROOF];
	uint8_t (*pbuf)[EV_HASH_LEN] = ev_xmalloc(EV_MERKLE_MAX_PROOF * sizeof(*pbuf));
	size_t ne, np, eo = 0, po = 0, line = 0;
	uint64_t last_seq = 0;
	int ok1, ok2, rc = EV_OK;
	char where[64];

	ne = count_lines(em, &ok1);
	np = count_lines(pm, &ok2);
	if (!ok1 || !ok2) {
		rc = bad(err, "%s: %s", ok1 ? "proofs.jsonl" : "entries.jsonl",
		    "last line is not terminated");
		goto out;
	}
	if (ne != np) {
		snprintf(where, sizeof(where), "%zu entries but %zu proofs", ne, np);
		rc = bad(err, "entries.jsonl: %s%s", where, "");
		goto out;
	}
	if (ne != declared) {
		snprintf(where, sizeof(where), "%zu entries, the manifest says %llu", ne,
		    (unsigned long long)declared);
		rc = bad(err, "entries.jsonl: %s%s", where, "");
		goto out;
	}
	for (line = 1; line <= ne; line++) {
		const char *el = (const char *)em->data + eo, *pl = (const char *)pm->data + po;
		size_t elen = (size_t)((const char *)memchr(el, '\n', em->len - eo) - el);
		size_t plen = (size_t)((const char *)memchr(pl, '\n', pm->len - po) - pl);
		uint8_t lh[EV_HASH_LEN], plh[EV_HASH_LEN], root[EV_HASH_LEN];
		json_t *e = NULL, *p = NULL;
		const json_t *pa, *x;
		uint64_t seq, idx, size;
		const char *why = NULL;
		size_t k, n;

		eo += elen + 1;
		po += plen + 1;
		snprintf(where, sizeof(where), "line %zu", line);
		e = json_loadb(el, elen, JSON_REJECT_DUPLICATES, NULL);
		if (e == NULL || u64_of(json_object_get(e, "seq"), &seq) != 0 || seq == 0) {
			json_decref(e);
			rc = bad(err, "entries.jsonl %s: %s", where, "not an entry with a seq");
			goto out;
		}
		json_decref(e);
		if (seq <= last_seq) {
			rc = bad(err, "entries.jsonl %s: %s", where, "seq out of order or repeated");
			goto out;
		}
		last_seq = seq;
		p = json_loadb(pl, plen, JSON_REJECT_DUPLICATES, NULL);
		pa = p ? json_object_get(p, "proof") : NULL;
		if (!p || u64_of(json_object_get(p, "leaf_index"), &idx) != 0 ||
		    u64_of(json_object_get(p, "tree_size"), &size) != 0 ||
		    hex32(json_object_get(p, "leaf_hash"), plh) != 0 ||
		    hex32(json_object_get(p, "root"), root) != 0 || !json_is_array(pa) ||
		    json_array_size(pa) > EV_MERKLE_MAX_PROOF) {
			json_decref(p);
			rc = bad(err, "proofs.jsonl %s: %s", where, "malformed proof");
			goto out;
		}
		n = json_array_size(pa);
		json_array_foreach(pa, k, x) {
			if (hex32(x, pbuf[k]) != 0) {
				json_decref(p);
				rc = bad(err, "proofs.jsonl %s: %s", where, "proof element is not a hash");
				goto out;
			}
			proof[k].p = pbuf[k];
			proof[k].len = EV_HASH_LEN;
		}
		json_decref(p);
		ev_merkle_leaf_hash(el, elen, lh);
		if (idx != seq - 1) {
			rc = bad(err, "proofs.jsonl %s: %s", where, "leaf_index is not the entry's seq - 1");
			goto out;
		}
		if (size != cp->size || memcmp(root, cp->root, EV_HASH_LEN) != 0) {
			rc = bad(err, "proofs.jsonl %s: %s", where,
			    "proof is not against the pack's checkpoint");
			goto out;
		}
		if (memcmp(lh, plh, EV_HASH_LEN) != 0) {
			rc = bad(err, "entries.jsonl %s: %s", where,
			    "leaf hash does not match the proof (entry changed)");
			goto out;
		}
		if (ev_merkle_verify_inclusion(idx, size, (struct ev_bytes){ lh, EV_HASH_LEN }, proof,
			n, (struct ev_bytes){ cp->root, EV_HASH_LEN }, &why) != 0) {
			rc = bad(err, "entries.jsonl %s: inclusion proof does not verify (%s)", where,
			    why ? why : "?");
			goto out;
		}
	}
	*count = ne;
out:
	free(pbuf);
	return rc;
}

static int
check_consistency(const struct pack_member *m, const struct ev_checkpoint *cp,
    const uint8_t pub[32], struct ev_pack_verify_result *res, struct ev_err *err)
{
	struct ev_bytes proof[EV_MERKLE_MAX_PROOF];
	uint8_t (*pbuf)[EV_HASH_LEN] = ev_xmalloc(EV_MERKLE_MAX_PROOF * sizeof(*pbuf));
	uint8_t r1[EV_HASH_LEN], r2[EV_HASH_LEN];
	struct ev_checkpoint prev;
	json_t *c = load_json(m);
	const json_t *pa = c ? json_object_get(c, "proof") : NULL, *x;
	uint64_t s1, s2;
	const char *why = NULL;
	size_t k;
	int rc = EV_OK;

	if (!c || u64_of(json_object_get(c, "size1"), &s1) != 0 ||
	    u64_of(json_object_get(c, "size2"), &s2) != 0 ||
	    hex32(json_object_get(c, "root1"), r1) != 0 ||
	    hex32(json_object_get(c, "root2"), r2) != 0 || !json_is_array(pa) ||
	    json_array_size(pa) > EV_MERKLE_MAX_PROOF) {
		rc = bad(err, "consistency.json: %s%s", "malformed", "");
		goto out;
	}
	json_array_foreach(pa, k, x) {
		if (hex32(x, pbuf[k]) != 0) {
			rc = bad(err, "consistency.json: %s%s", "proof element is not a hash", "");
			goto out;
		}
		proof[k].p = pbuf[k];
		proof[k].len = EV_HASH_LEN;
	}
	if (s2 != cp->size || memcmp(r2, cp->root, EV_HASH_LEN) != 0) {
		rc = bad(err, "consistency.json: %s%s", "size2/root2 are not the pack's checkpoint", "");
		goto out;
	}
	if (json_object_get(c, "previous")) {
		if (parse_checkpoint(json_object_get(c, "previous"), pub, &prev, &why) != 0) {
			rc = bad(err, "consistency.json: previous checkpoint: %s%s", why, "");
			goto out;
		}
		if (prev.size != s1 || memcmp(prev.root, r1, EV_HASH_LEN) != 0) {
			rc = bad(err, "consistency.json: %s%s", "previous checkpoint is not size1/root1",
			    "");
			goto out;
		}
		if (ev_checkpoint_verify_sig(&prev, pub) != 0) {
			rc = bad(err, "consistency.json: %s%s",
			    "previous checkpoint signature does not verify", "");
			goto out;
		}
	}
	if (ev_merkle_verify_consistency(s1, s2, (struct ev_bytes){ r1, 32 },
		(struct ev_bytes){ r2, 32 }, proof, json_array_size(pa), &why) != 0) {
		rc = bad(err, "consistency.json: consistency proof does not verify (%s)%s",
		    why ? why : "?", "");
		goto out;
	}
	res->has_consistency = 1;
	res->previous_size = s1;
out:
	json_decref(c);
	free(pbuf);
	return rc;
}

int
ev_pack_verify(const char *path, const struct ev_pack_verify_opts *o,
    struct ev_pack_verify_result *res, struct ev_err *err)
{
	struct pack_members ms = { 0 };
	const struct pack_member *mj, *msig, *m;
	struct ev_buf msg = EV_BUF_INIT;
	json_t *man = NULL, *cpj = NULL;
	struct ev_checkpoint cp;
	uint8_t pub[32], sig[64];
	uint64_t declared;
	const char *why;
	char kid[17];
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = pack_tar_read(path, &ms, err)) != EV_OK)
		goto out;

	/* Manifest: present, well-formed, and matching the archive exactly. */
	if ((mj = pack_members_find(&ms, "manifest.json")) == NULL) {
		rc = bad(err, "manifest.json: %s%s", "missing", "");
		goto out;
	}
	if ((msig = pack_members_find(&ms, "manifest.sig")) == NULL) {
		rc = bad(err, "manifest.sig: %s%s", "missing", "");
		goto out;
	}
	if ((man = load_json(mj)) == NULL || !json_is_object(man)) {
		rc = bad(err, "manifest.json: %s%s", "not a JSON object", "");
		goto out;
	}
	/*
	 * The key first (a changed key file is named as such), then the manifest
	 * signature, then the hashes: so a changed manifest is reported as a bad
	 * signature and a changed file as a hash mismatch of that file.
	 */
	if ((m = pack_members_find(&ms, "public-key.pem")) == NULL) {
		rc = bad(err, "public-key.pem: missing");
		goto out;
	}
	if ((rc = check_listed(man, m, err)) != EV_OK)
		goto out;
	if (pem_public_key(m, pub) != 0) {
		rc = bad(err, "public-key.pem: not an Ed25519 public key");
		goto out;
	}
	ev_key_id(pub, kid);
	memcpy(res->key_id, kid, sizeof(kid));
	if (o && o->pinned_key && memcmp(o->pinned_key, pub, 32) != 0) {
		char want[17];
		ev_key_id(o->pinned_key, want);
		rc = ev_errf(err, EV_ECORRUPT,
		    "public-key.pem: key %s is not the key given with --key (%s)", kid, want);
		goto out;
	}

	/* The manifest signature: canonical base64 of 64 bytes and a newline, nothing else. */
	if (msig->len != 89 || msig->data[88] != '\n' ||
	    sig64((const char *)msig->data, 88, sig) != 0) {
		rc = bad(err, "manifest.sig: not a base64 Ed25519 signature line");
		goto out;
	}
	pack_manifest_sig_message(mj->data, mj->len, &msg);
	if (ev_key_verify(pub, msg.p, msg.len, sig) != 0) {
		rc = bad(err, "manifest.sig: signature does not verify with the pack's key "
			      "(manifest.json or manifest.sig changed)");
		goto out;
	}
	if ((rc = check_manifest(&ms, man, &res->files, err)) != EV_OK)
		goto out;

	/* The checkpoint. */
	if ((m = pack_members_find(&ms, "checkpoint.json")) == NULL ||
	    (cpj = load_json(m)) == NULL) {
		rc = bad(err, "checkpoint.json: %s%s", m ? "not JSON" : "missing", "");
		goto out;
	}
	if (parse_checkpoint(cpj, pub, &cp, &why) != 0) {
		rc = bad(err, "checkpoint.json: %s%s", why, "");
		goto out;
	}
	if (cp.version == 1 && strcmp(cp.key_id, kid) != 0) {
		rc = bad(err, "checkpoint.json: key_id %s is not the pack's key %s", cp.key_id, kid);
		goto out;
	}
	if (ev_checkpoint_verify_sig(&cp, pub) != 0) {
		rc = bad(err, "checkpoint.json: %s%s", "signature does not verify", "");
		goto out;
	}
	{
		const json_t *mc = json_object_get(man, "checkpoint");
		uint8_t mr[32];
		uint64_t msize;
		if (!mc || u64_of(json_object_get(mc, "size"), &msize) != 0 ||
		    hex32(json_object_get(mc, "root"), mr) != 0 || msize != cp.size ||
		    memcmp(mr, cp.root, 32) != 0) {
			rc = bad(err, "manifest.json: %s%s", "checkpoint is not checkpoint.json's", "");
			goto out;
		}
	}
	res->cp = cp;

	/* Entries and proofs. */
	if (u64_of(json_object_get(man, "entries"), &declared) != 0) {
		rc = bad(err, "manifest.json: %s%s", "no entries count", "");
		goto out;
	}
	{
		const struct pack_member *em = pack_members_find(&ms, "entries.jsonl");
		const struct pack_member *pm = pack_members_find(&ms, "proofs.jsonl");
		if (!em || !pm) {
			rc = bad(err, "%s: %s", em ? "proofs.jsonl" : "entries.jsonl", "missing");
			goto out;
		}
		if ((rc = check_entries(em, pm, &cp, declared, &res->entries, err)) != EV_OK)
			goto out;
	}

	if ((m = pack_members_find(&ms, "consistency.json")) != NULL &&
	    (rc = check_consistency(m, &cp, pub, res, err)) != EV_OK)
		goto out;

	if ((m = pack_members_find(&ms, "timestamp.tsr")) != NULL) {
		struct ev_buf note = EV_BUF_INIT;
		ev_checkpoint_note(&cp, &note);
		rc = ev_tsa_verify_response(m->data, m->len, note.p, note.len,
		    o ? o->tsa_ca_file : NULL, res->tsa_gen_time, sizeof(res->tsa_gen_time), err);
		ev_buf_free(&note);
		if (rc != EV_OK) {
			char detail[sizeof(err->msg)];
			snprintf(detail, sizeof(detail), "%s", err->msg);
			rc = bad(err, "timestamp.tsr: %s%s", detail, "");
			goto out;
		}
		res->has_timestamp = 1;
		res->tsa_chain_checked = o && o->tsa_ca_file;
	}

	/* Evidence files are named by their content's hash. */
	for (size_t i = 0; i < ms.n; i++) {
		char hex[65];
		if (strncmp(ms.m[i].name, "evidence/", 9) != 0)
			continue;
		pack_sha256_hex(ms.m[i].data, ms.m[i].len, hex);
		if (strcmp(ms.m[i].name + 9, hex) != 0) {
			rc = bad(err, "%s: %s", ms.m[i].name, "content does not hash to its name");
			goto out;
		}
		res->evidence_files++;
	}
	rc = EV_OK;
out:
	json_decref(man);
	json_decref(cpj);
	ev_buf_free(&msg);
	pack_members_free(&ms);
	return rc;
}
