/*
 * test_pack.c - evidence packs through the library: export and verify round
 * trip, and the checks below the manifest (proofs, leaves, order, counts,
 * checkpoint) reached by tampering and then re-signing the manifest with
 * the installation key, so that each check is shown to fail on its own.
 * Also: the archive reader refuses unsafe members, HTML escaping.
 */
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "pack/pack.h"
#include "pack/pack_int.h"
#include "unit.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

static char dir[256], data[300], packp[300], badp[300];

/* Recompute the manifest's records and count, and sign it again with the installation key. */
static void
resign(struct pack_members *ms)
{
	struct pack_member *mj = NULL, *msig = NULL;
	struct ev_buf msg = EV_BUF_INIT;
	struct evp_pkey_st *key = NULL;
	struct ev_err err = { 0 };
	json_t *man, *f;
	uint8_t sig[64];
	char hex[65], b64[89], *s;
	size_t i, entries = 0;

	for (i = 0; i < ms->n; i++) {
		if (strcmp(ms->m[i].name, "manifest.json") == 0)
			mj = &ms->m[i];
		if (strcmp(ms->m[i].name, "manifest.sig") == 0)
			msig = &ms->m[i];
		if (strcmp(ms->m[i].name, "entries.jsonl") == 0)
			for (size_t k = 0; k < ms->m[i].len; k++)
				entries += ms->m[i].data[k] == '\n';
	}
	man = json_loadb((const char *)mj->data, mj->len, 0, NULL);
	json_array_foreach(json_object_get(man, "files"), i, f) {
		const struct pack_member *m = pack_members_find(ms, ev_json_str(f, "path"));
		pack_sha256_hex(m->data, m->len, hex);
		json_object_set_new(f, "sha256", json_string(hex));
		json_object_set_new(f, "size", json_integer((json_int_t)m->len));
	}
	json_object_set_new(man, "entries", json_integer((json_int_t)entries));
	s = ev_json_dump(man);
	json_decref(man);
	free(mj->data);
	mj->len = strlen(s) + 1;
	mj->data = ev_xmalloc(mj->len);
	memcpy(mj->data, s, mj->len - 1);
	mj->data[mj->len - 1] = '\n';
	free(s);
	pack_manifest_sig_message(mj->data, mj->len, &msg);
	if (ev_key_load_private(data, &key, &err) != EV_OK || ev_key_sign(key, msg.p, msg.len, sig, &err) != EV_OK)
		fprintf(stderr, "resign: %s\n", err.msg);
	ev_key_free(key);
	ev_b64_encode(sig, 64, b64);
	free(msig->data);
	msig->data = ev_xmalloc(89);
	memcpy(msig->data, b64, 88);
	msig->data[88] = '\n';
	msig->len = 89;
	ev_buf_free(&msg);
}

/* Replace line `line` (1-based) of a member by text (NULL: delete the line). */
static void
set_line(struct pack_members *ms, const char *name, size_t line, const char *text)
{
	struct pack_member *m = (struct pack_member *)pack_members_find(ms, name);
	struct ev_buf b = EV_BUF_INIT;
	size_t n = 1, start = 0;

	for (size_t i = 0; i < m->len; i++) {
		if (m->data[i] != '\n')
			continue;
		if (n == line) {
			if (text) {
				ev_buf_adds(&b, text);
				ev_buf_addc(&b, '\n');
			}
		} else {
			ev_buf_add(&b, m->data + start, i - start + 1);
		}
		n++;
		start = i + 1;
	}
	free(m->data);
	m->len = b.len;
	m->data = (uint8_t *)ev_buf_detach(&b);
}

/* Line `line` of a member, malloc'd, without its newline. */
static char *
get_line(const struct pack_members *ms, const char *name, size_t line)
{
	const struct pack_member *m = pack_members_find(ms, name);
	size_t n = 1, start = 0;

	for (size_t i = 0; i < m->len; i++)
		if (m->data[i] == '\n') {
			if (n++ == line) {
				char *s = ev_xmalloc(i - start + 1);
				memcpy(s, m->data + start, i - start);
				s[i - start] = '\0';
				return s;
			}
			start = i + 1;
		}
	return NULL;
}

static int
verify_after(void (*tamper)(struct pack_members *), int sign, struct ev_err *err)
{
	struct pack_members ms = { 0 };
	struct ev_pack_verify_result res;
	int rc;

	if (pack_tar_read(packp, &ms, err) != EV_OK)
		return -1;
	tamper(&ms);
	if (sign)
		resign(&ms);
	rc = pack_tar_write(badp, &ms, 0, err);
	pack_members_free(&ms);
	if (rc != EV_OK)
		return -1;
	ev_err_clear(err);
	return ev_pack_verify(badp, NULL, &res, err);
}

static void
t_nothing(struct pack_members *ms)
{
	(void)ms;
}

static void
t_proof_element(struct pack_members *ms)
{
	char *l = get_line(ms, "proofs.jsonl", 5), *p = strstr(l, "\"proof\":[\"");
	p[10] = p[10] == '0' ? '1' : '0';
	set_line(ms, "proofs.jsonl", 5, l);
	free(l);
}

static void
t_entry_body(struct pack_members *ms)
{
	char *l = get_line(ms, "entries.jsonl", 3), *p = strstr(l, "msg ");
	p[0] = 'M';
	set_line(ms, "entries.jsonl", 3, l);
	free(l);
}

static void
t_swap(struct pack_members *ms)
{
	char *e2 = get_line(ms, "entries.jsonl", 2), *e3 = get_line(ms, "entries.jsonl", 3);
	char *p2 = get_line(ms, "proofs.jsonl", 2), *p3 = get_line(ms, "proofs.jsonl", 3);
	set_line(ms, "entries.jsonl", 2, e3);
	set_line(ms, "entries.jsonl", 3, e2);
	set_line(ms, "proofs.jsonl", 2, p3);
	set_line(ms, "proofs.jsonl", 3, p2);
	free(e2), free(e3), free(p2), free(p3);
}

static void
t_drop_proof(struct pack_members *ms)
{
	set_line(ms, "proofs.jsonl", 4, NULL);
}

static void
t_checkpoint_root(struct pack_members *ms)
{
	struct pack_member *m = (struct pack_member *)pack_members_find(ms, "checkpoint.json");
	char *p = strstr((char *)m->data, "\"root\":\"");
	p[8] = p[8] == 'a' ? 'b' : 'a';
}

/* The root inside the signed note (the third line): the note's signature must fail. */
static void
t_checkpoint_note_root(struct pack_members *ms)
{
	struct pack_member *m = (struct pack_member *)pack_members_find(ms, "checkpoint.json");
	char *p = strstr((char *)m->data, "\"note\":\"");
	p = strstr(p, "\\n");
	p = strstr(p + 2, "\\n");
	p[2] = p[2] == 'A' ? 'B' : 'A';
}

static void
t_index_leaf(struct pack_members *ms)
{
	/* A proof for the entry, but claiming another leaf index. */
	char *l = get_line(ms, "proofs.jsonl", 6), *p = strstr(l, "\"leaf_index\":");
	p[13] = p[13] == '1' ? '2' : '1';
	set_line(ms, "proofs.jsonl", 6, l);
	free(l);
}

static void
write_tar(const char *path, const char *name, int symlink)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, path);
	archive_entry_set_pathname(e, name);
	if (symlink) {
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, "/etc/passwd");
		archive_entry_set_size(e, 0);
	} else {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, 2);
	}
	archive_entry_set_perm(e, 0644);
	archive_write_header(a, e);
	if (!symlink)
		archive_write_data(a, "x\n", 2);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

int
main(void)
{
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	struct ev_pack_export_opts o;
	struct ev_pack_export_result res;
	struct ev_pack_verify_result vr;
	struct ev_pack_verify_opts vo = { NULL, NULL };
	struct pack_members ms = { 0 };
	struct ev_buf b = EV_BUF_INIT;
	uint8_t pub[32], other[32];
	char ev_path[400], hex[65];
	const char *incs[] = { "inc-2026-0001" };
	int rc;

	snprintf(dir, sizeof(dir), "%s/evident-test-pack.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(packp, sizeof(packp), "%s/p.tar.gz", dir);
	snprintf(badp, sizeof(badp), "%s/bad.tar.gz", dir);

	pack_html_escape(&b, "<a href=\"x\">&'</a>", 18);
	CHECK(strcmp(b.p, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;") == 0, "HTML escaping: %s", b.p);
	ev_buf_free(&b);

	CHECK(ev_ledger_init(data, "test.example/evident", &err) == EV_OK, "init %s", err.msg);
	CHECK(ev_ledger_open(data, 0, &l, &err) == EV_OK, "open %s", err.msg);
	for (int i = 0; i < 40; i++) {
		char body[64];
		snprintf(body, sizeof(body), "{\"msg\":\"msg %d\"}", i);
		struct ev_entry_in in = { "log", "src-1", "tester", body, 0 };
		ev_ledger_append(l, &in, 1, NULL, &err);
	}
	{
		/* An evidence file, referenced from inside an array in a body. */
		FILE *f;
		snprintf(ev_path, sizeof(ev_path), "%s/evidence", data);
		mkdir(ev_path, 0700);
		pack_sha256_hex("proof of containment\n", 21, hex);
		snprintf(ev_path, sizeof(ev_path), "%s/evidence/%s", data, hex);
		f = fopen(ev_path, "w");
		fputs("proof of containment\n", f);
		fclose(f);
		ev_buf_addf(&b, "{\"items\":[{\"evidence\":[{\"sha256\":\"%s\"},{\"sha256\":\"%064d\"}]}]}", hex, 0);
		struct ev_entry_in in = { "note.recorded", "inc-2026-0001", "tester", b.p, 0 };
		CHECK(ev_ledger_append(l, &in, 1, NULL, &err) == EV_OK, "append evidence reference %s", err.msg);
		ev_buf_free(&b);
	}

	memset(&o, 0, sizeof(o));
	o.from_us = ev_time_now_us() - 86400LL * 1000000;
	o.to_us = ev_time_now_us() + 86400LL * 1000000;
	o.out_path = packp;
	o.actor = "tester";
	o.selection_text = "everything";
	rc = ev_pack_export(l, &o, &res, &err);
	CHECK(rc == EV_OK, "export: %s", err.msg);
	CHECK(res.entries == 41 && res.fresh_checkpoint && res.cp.size == 41, "41 entries at a fresh checkpoint of 41 (%llu, %llu)",
	    (unsigned long long)res.entries, (unsigned long long)res.cp.size);
	CHECK(res.evidence_files == 1 && res.evidence_missing == 1, "one evidence file found, one missing");
	CHECK(!res.has_consistency && res.exported_seq == 43, "first export: no consistency; pack.exported is entry 43");

	rc = ev_pack_verify(packp, NULL, &vr, &err);
	CHECK(rc == EV_OK, "verify: %s", err.msg);
	CHECK(vr.entries == 41 && vr.evidence_files == 1 && vr.cp.size == 41, "verify counts");

	CHECK(ev_ledger_public_key(l, pub, &err) == EV_OK, "public key");
	vo.pinned_key = pub;
	CHECK(ev_pack_verify(packp, &vo, &vr, &err) == EV_OK, "verify with the pinned installation key");
	memcpy(other, pub, 32);
	other[0] ^= 1;
	vo.pinned_key = other;
	CHECK(ev_pack_verify(packp, &vo, &vr, &err) == EV_ECORRUPT && strstr(err.msg, "--key"),
	    "another pinned key fails: %s", err.msg);

	CHECK(verify_after(t_nothing, 1, &err) == EV_OK, "re-signing without change verifies (%s)", err.msg);
	CHECK(verify_after(t_proof_element, 1, &err) == EV_ECORRUPT &&
	    strstr(err.msg, "entries.jsonl line 5: inclusion proof does not verify"), "changed proof: %s", err.msg);
	CHECK(verify_after(t_entry_body, 1, &err) == EV_ECORRUPT &&
	    strstr(err.msg, "entries.jsonl line 3: leaf hash does not match"), "changed entry: %s", err.msg);
	CHECK(verify_after(t_swap, 1, &err) == EV_ECORRUPT && strstr(err.msg, "line 3: seq out of order"),
	    "swapped entries: %s", err.msg);
	CHECK(verify_after(t_drop_proof, 1, &err) == EV_ECORRUPT && strstr(err.msg, "41 entries but 40 proofs"),
	    "a proof removed: %s", err.msg);
	CHECK(verify_after(t_checkpoint_root, 1, &err) == EV_ECORRUPT &&
	    strstr(err.msg, "checkpoint.json: size or root differ from the signed note"),
	    "changed checkpoint root: %s", err.msg);
	CHECK(verify_after(t_checkpoint_note_root, 1, &err) == EV_ECORRUPT &&
	    strstr(err.msg, "checkpoint.json: the checkpoint's signature does not verify"),
	    "changed root in the signed note: %s", err.msg);
	CHECK(verify_after(t_index_leaf, 1, &err) == EV_ECORRUPT && strstr(err.msg, "proofs.jsonl line 6: leaf_index"),
	    "wrong leaf index: %s", err.msg);
	CHECK(verify_after(t_entry_body, 0, &err) == EV_ECORRUPT &&
	    strstr(err.msg, "manifest: entries.jsonl: hash mismatch"), "changed entry, manifest not re-signed: %s", err.msg);

	/* A second export by incident: consistency from the first, same checkpoint reused. */
	memset(&o, 0, sizeof(o));
	o.incidents = incs;
	o.nincidents = 1;
	o.out_path = packp;
	o.actor = "tester";
	rc = ev_pack_export(l, &o, &res, &err);
	CHECK(rc == EV_OK && res.entries == 1 && !res.fresh_checkpoint && res.has_consistency && res.previous_size == 41,
	    "incident export reuses the checkpoint, consistency from 41 (%s)", err.msg);
	CHECK(ev_pack_verify(packp, NULL, &vr, &err) == EV_OK && vr.has_consistency, "incident pack verifies (%s)", err.msg);

	memset(&o, 0, sizeof(o));
	o.from_us = 1000;
	o.to_us = 2000;
	o.out_path = packp;
	CHECK(ev_pack_export(l, &o, &res, &err) == EV_ENOTFOUND, "an empty selection is refused: %s", err.msg);
	ev_ledger_close(l);

	/* The archive reader. */
	write_tar(badp, "../evil", 0);
	CHECK(pack_tar_read(badp, &ms, &err) == EV_ECORRUPT && strstr(err.msg, "not allowed"), "'../evil' refused: %s", err.msg);
	pack_members_free(&ms);
	write_tar(badp, "/etc/evil", 0);
	CHECK(pack_tar_read(badp, &ms, &err) == EV_ECORRUPT, "absolute name refused: %s", err.msg);
	pack_members_free(&ms);
	write_tar(badp, "evidence/../../x", 0);
	CHECK(pack_tar_read(badp, &ms, &err) == EV_ECORRUPT, "embedded .. refused: %s", err.msg);
	pack_members_free(&ms);
	write_tar(badp, "index.html", 1);
	CHECK(pack_tar_read(badp, &ms, &err) == EV_ECORRUPT && strstr(err.msg, "not a regular file"),
	    "symlink refused: %s", err.msg);
	pack_members_free(&ms);
	write_tar(badp, "./index.html", 0);
	CHECK(pack_tar_read(badp, &ms, &err) == EV_OK && ms.n == 1 && strcmp(ms.m[0].name, "index.html") == 0,
	    "'./index.html' read as index.html");
	pack_members_free(&ms);
	CHECK(ev_pack_verify(badp, NULL, &vr, &err) == EV_ECORRUPT && strstr(err.msg, "manifest.json: missing"),
	    "a tar without a manifest: %s", err.msg);

	{
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	UNIT_END();
}
