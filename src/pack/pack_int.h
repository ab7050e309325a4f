/*
 * pack_int.h - what the files of src/pack share and nothing else uses:
 * the in-memory archive (archive.c), the view index.html is drawn from
 * (html.c) and small helpers.  Not part of the program's interface.
 */
#ifndef EV_PACK_PACK_INT_H
#define EV_PACK_PACK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/buf.h"
#include "util/err.h"

/* One archive member held in memory. */
struct pack_member {
	char *name;
	uint8_t *data;
	size_t len;
};

struct pack_members {
	struct pack_member *m;
	size_t n, cap;
	int sorted; /* by name (pack_tar_read sorts): lookups are binary searches */
};

/* Add a member (name and data are copied). */
void pack_members_add(struct pack_members *ms, const char *name, const void *data, size_t len);
/* Take ownership of data (malloc'd) instead of copying it. */
void pack_members_add_owned(struct pack_members *ms, const char *name, uint8_t *data, size_t len);
const struct pack_member *pack_members_find(const struct pack_members *ms, const char *name);
void pack_members_free(struct pack_members *ms);

/* Write members, in order, as a gzip'd tar to path (through path.tmp and rename). */
int pack_tar_write(const char *path, const struct pack_members *ms, int64_t mtime_s,
    struct ev_err *err);
/*
 * Read every regular member of a gzip'd (or plain) tar into memory.  Names
 * are normalised ("./x" -> "x"); unsafe names (absolute, "..", empty parts,
 * control characters), links, devices, duplicates, and sizes over the
 * EV_PACK_* limits are refused with EV_ECORRUPT.  Directories are skipped.
 */
int pack_tar_read(const char *path, struct pack_members *ms, struct ev_err *err);

/* An entry as the pack holds it (strings in the export's arena). */
struct pack_entry {
	uint64_t seq;
	int64_t time_us;
	const char *kind, *subject, *actor, *body;
	size_t body_len;
};

/* What index.html shows. */
struct pack_view {
	const struct pack_entry *e; /* sorted by seq */
	size_t n;
	const struct ev_checkpoint *cp;
	int fresh_checkpoint;
	int64_t from_us, to_us;     /* 0: unbounded */
	int64_t created_us;
	const char *selection_text;
	const char *const *incidents;
	size_t nincidents;
	const char *const *kinds;
	size_t nkinds;
	int has_consistency;
	uint64_t previous_size;
	const char *timestamp_gen_time; /* NULL when the checkpoint has no token */
	size_t evidence_files;
	const char *const *evidence_missing; /* sha256 hex of referenced, absent files */
	size_t nevidence_missing;
};

/* Render index.html (self-contained: inline CSS and SVG, no scripts, no links out). */
void pack_html_render(const struct pack_view *v, struct ev_buf *out);
/*
 * The requirement index section (requirement -> control -> evidence in this
 * pack).  Kept apart so the compliance work can fill it in without touching
 * the rest of the page; appends nothing while there is no catalogue mapping.
 */
void pack_html_requirements(const struct pack_view *v, struct ev_buf *out);
/* Append s[0..n) HTML-escaped. */
void pack_html_escape(struct ev_buf *out, const char *s, size_t n);

/* The message the manifest signature covers. */
void pack_manifest_sig_message(const uint8_t *manifest, size_t len, struct ev_buf *out);

/* Lower-case hex SHA-256 of data. */
void pack_sha256_hex(const void *data, size_t n, char out[65]);

#endif
