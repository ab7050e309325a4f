/*
 * pack.h - evidence packs: one archive an assessor can open in a browser
 * and verify offline, and RFC 3161 anchoring of checkpoints.
 *
 * A pack is a gzip'd tar (docs/pack-format.md) cut at one signed checkpoint:
 * the selected entries as their exact leaf bytes, an inclusion proof for
 * each, the checkpoint, an optional consistency proof from the previous
 * pack, the public key, referenced evidence files, any RFC 3161 token for
 * the checkpoint, index.html, and a manifest of SHA-256 hashes signed with
 * the installation key.  Export reads the ledger and appends one
 * "pack.exported" entry (and a checkpoint when none covers the selection);
 * verification needs nothing but the archive (and optionally a pinned key).
 *
 * Verification treats the archive as hostile: members are read into memory
 * with size limits, never written to disk by name.
 */
#ifndef EV_PACK_PACK_H
#define EV_PACK_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/buf.h"
#include "util/err.h"

#define EV_PACK_FORMAT "evident-pack-1"
/* Limits applied when reading a pack (verification). */
#define EV_PACK_MEMBER_MAX ((size_t)256 << 20) /* one member: 256 MiB */
#define EV_PACK_TOTAL_MAX ((size_t)1 << 30)    /* all members: 1 GiB */
#define EV_PACK_MEMBERS_MAX 100000u

struct ev_pack_export_opts {
	int64_t from_us, to_us;   /* time range, inclusive; both 0: no range */
	const char *const *incidents; /* subjects whose every entry is included */
	size_t nincidents;
	const char *const *kinds; /* restrict the time-range selection (prefix if ends . or *) */
	size_t nkinds;
	const char *out_path;     /* the .tar.gz to write */
	const char *previous;     /* previous pack for the consistency proof, or NULL */
	const char *actor;        /* who exports (recorded in pack.exported) */
	const char *tsa_url;      /* when set: always a fresh checkpoint, anchored by this TSA */
	const char *tsa_cert;     /* CA the TSA must chain to (NULL: the token's certificate) */
	const char *selection_text; /* human text of the selection, for index.html */
	/* Progress now and then: done/total of a phase ("select" once, then "prove"). */
	void (*progress)(const char *phase, uint64_t done, uint64_t total, void *arg);
	void *parg;
};

struct ev_pack_export_result {
	uint64_t entries;          /* entries in the pack */
	uint64_t evidence_files;   /* evidence files included */
	uint64_t evidence_missing; /* referenced but absent from DATA/evidence */
	struct ev_checkpoint cp;   /* the checkpoint the pack is cut at */
	int fresh_checkpoint;      /* 1 when export recorded cp itself */
	int has_consistency;
	uint64_t previous_size;
	int has_timestamp;
	uint64_t exported_seq;     /* seq of the pack.exported entry */
	char manifest_sha256[65];
};

/*
 * Export a pack.  The ledger must be open for writing with its key loaded
 * (export signs the manifest and may record a checkpoint).  EV_EINVAL for a
 * bad selection, EV_ENOTFOUND when nothing is selected.
 */
int ev_pack_export(struct ev_ledger *l, const struct ev_pack_export_opts *o,
    struct ev_pack_export_result *res, struct ev_err *err);

struct ev_pack_verify_opts {
	const uint8_t *pinned_key; /* 32 bytes, or NULL to trust public-key.pem */
	const char *tsa_ca_file;   /* trust anchor for the TSA chain, or NULL */
};

struct ev_pack_verify_result {
	uint64_t entries;
	uint64_t files;
	uint64_t evidence_files;
	struct ev_checkpoint cp;
	char key_id[17];
	int has_consistency;
	uint64_t previous_size;
	int has_timestamp;
	int tsa_chain_checked;  /* 1 when the TSA chain was checked against tsa_ca_file */
	char tsa_gen_time[64];
};

/*
 * Verify the pack at path.  EV_OK when every check holds; EV_ECORRUPT with a
 * message naming the first failure ("entries.jsonl line 17: inclusion proof
 * does not verify"); EV_EIO when the file cannot be read at all.
 */
int ev_pack_verify(const char *path, const struct ev_pack_verify_opts *o,
    struct ev_pack_verify_result *res, struct ev_err *err);

/* ---- RFC 3161 anchoring (tsa.c) ---- */

struct ev_anchor_result {
	uint64_t seq;          /* the checkpoint.timestamp entry */
	char gen_time[64];    /* the token's genTime, RFC 3339 */
	char serial[80];       /* hex */
	int chain_checked;     /* 1 when verified against a given CA file */
};

/*
 * Ask the TSA at url for a time-stamp token over SHA-256 of cp's note (with a
 * nonce and certReq), verify the response (imprint, nonce, signature, chain
 * to ca_file when given, else to the certificate in the token) and record it
 * as a "checkpoint.timestamp" entry.  The token stored is the DER
 * TimeStampResp, base64.
 */
int ev_anchor_checkpoint(struct ev_ledger *l, const struct ev_checkpoint *cp, const char *url,
    const char *ca_file, const char *actor, struct ev_anchor_result *res, struct ev_err *err);

/*
 * Verify a DER TimeStampResp against the SHA-256 of note.  With ca_file the
 * signer chain must reach it; without, the signature is checked with the
 * certificate carried in the token.  gen_time (may be NULL) gets the token's
 * time as text.  EV_ECORRUPT with a reason when it does not verify.
 */
int ev_tsa_verify_response(const uint8_t *der, size_t len, const void *note, size_t note_len,
    const char *ca_file, char *gen_time, size_t gen_time_len, struct ev_err *err);

#endif
