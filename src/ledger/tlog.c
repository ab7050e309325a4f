/*
 * tlog.c - the ledger as C2SP tlog-tiles resources: the read API `serve`
 * answers under /tlog/ and the static mirror `evident tiles export` writes.
 *
 *   checkpoint              the latest checkpoint, a C2SP signed note
 *   tile/L/N[.p/W]          W (256 when full) hashes of level L: the Merkle
 *                           tree hashes of consecutive subtrees of 256^L leaves
 *   tile/entries/N[.p/W]    entries N*256 .. N*256+W-1, each a 2-byte
 *                           big-endian length and the leaf (uncompressed)
 *
 * N is written in groups of three digits, "x"-prefixed but the last
 * (1234067 -> x001/x234/067).  Level-0 hashes are recomputed from the bundle
 * (the store does not keep them); level 1 are the bundles' own hashes;
 * level 2 and up come from the hashes table.  A resource exists only when
 * the ledger holds every entry it covers.
 */
#include "ledger/ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/faultvfs.h"

struct tile_ref {
	int entries;  /* an entry bundle, not hashes */
	unsigned level;
	uint64_t n;
	unsigned width; /* 1..256 */
};

/* Parse "tile/L/N[.p/W]" or "tile/entries/N[.p/W]"; -1 when not a tile path. */
static int
parse_tile_path(const char *p, struct tile_ref *t)
{
	uint64_t n = 0;
	int groups = 0;

	memset(t, 0, sizeof(*t));
	if (strncmp(p, "tile/", 5) != 0)
		return -1;
	p += 5;
	if (strncmp(p, "entries/", 8) == 0) {
		t->entries = 1;
		p += 8;
	} else {
		if (p[0] < '0' || p[0] > '9')
			return -1;
		if (p[0] == '0' && p[1] != '/')
			return -1;
		while (*p >= '0' && *p <= '9') {
			t->level = t->level * 10 + (unsigned)(*p - '0');
			if (t->level > 63)
				return -1;
			p++;
		}
		if (*p++ != '/')
			return -1;
	}
	for (;;) {
		int x = *p == 'x';
		if (x)
			p++;
		for (int i = 0; i < 3; i++, p++) {
			if (*p < '0' || *p > '9')
				return -1;
			n = n * 10 + (uint64_t)(*p - '0');
		}
		if (++groups > 7)
			return -1;
		if (x) {
			if (*p++ != '/')
				return -1;
			continue;
		}
		break;
	}
	t->n = n;
	t->width = EV_BUNDLE;
	if (*p == '\0')
		return 0;
	if (strncmp(p, ".p/", 3) != 0)
		return -1;
	p += 3;
	if (p[0] < '1' || p[0] > '9')
		return -1;
	t->width = 0;
	while (*p >= '0' && *p <= '9') {
		t->width = t->width * 10 + (unsigned)(*p - '0');
		if (t->width > 255)
			return -1;
		p++;
	}
	return *p == '\0' && t->width >= 1 ? 0 : -1;
}

static void
tile_path(const struct tile_ref *t, struct ev_buf *out)
{
	char d[32];
	int nd;

	ev_buf_adds(out, "tile/");
	if (t->entries)
		ev_buf_adds(out, "entries/");
	else
		ev_buf_addf(out, "%u/", t->level);
	nd = snprintf(d, sizeof(d), "%llu", (unsigned long long)t->n);
	/* Left-pad to a multiple of three digits, then groups. */
	{
		char padded[40];
		int pad = (3 - nd % 3) % 3, len = nd + pad;
		memset(padded, '0', (size_t)pad);
		memcpy(padded + pad, d, (size_t)nd);
		for (int i = 0; i < len; i += 3) {
			if (i + 3 < len)
				ev_buf_addc(out, 'x');
			ev_buf_add(out, padded + i, 3);
			if (i + 3 < len)
				ev_buf_addc(out, '/');
		}
	}
	if (t->width < EV_BUNDLE)
		ev_buf_addf(out, ".p/%u", t->width);
}

/* 256^level, or 0 past 2^64. */
static uint64_t
span(unsigned level)
{
	uint64_t s = 1;

	for (unsigned i = 0; i < level; i++) {
		if (s > UINT64_MAX / EV_BUNDLE)
			return 0;
		s *= EV_BUNDLE;
	}
	return s;
}

struct tail_bytes {
	uint64_t first;
	unsigned want, got;
	struct ev_buf *out;
	uint8_t (*hashes)[32];
};

static int
tail_bytes_cb(const struct ev_tail_row *r, void *arg)
{
	struct tail_bytes *t = arg;
	uint8_t len[2];

	if (r->seq != t->first + t->got || r->leaf_hash == NULL)
		return EV_ECORRUPT;
	if (t->out) {
		len[0] = (uint8_t)(r->leaf_len >> 8);
		len[1] = (uint8_t)r->leaf_len;
		ev_buf_add(t->out, (const char *)len, 2);
		ev_buf_add(t->out, (const char *)r->leaf, r->leaf_len);
	}
	if (t->hashes)
		memcpy(t->hashes[t->got], r->leaf_hash, 32);
	t->got++;
	return t->got == t->want ? 1 : EV_OK;
}

/* The bytes of a tile resource (the ledger must hold all it covers). */
static int
tile_get(struct ev_ledger *l, const struct tile_ref *t, uint64_t size, uint64_t full,
    struct ev_buf *out, struct ev_err *err)
{
	uint64_t sp = span(t->entries ? 0 : t->level);
	uint8_t(*h)[32] = NULL;
	int rc = EV_OK;

	/* Every covered leaf must exist: (n*256 + width) * 256^level <= size. */
	if (sp == 0 || t->n > (UINT64_MAX / EV_BUNDLE - t->width) / sp ||
	    (t->n * EV_BUNDLE + t->width) * sp > size)
		return ev_errf(err, EV_ENOTFOUND, "the ledger does not hold that tile yet");
	ev_buf_reset(out);
	if (t->entries || t->level == 0) {
		if (t->n < full) {
			struct bundle *b;
			if ((rc = ev_bundle_load(l, t->n, &b, err)) != EV_OK)
				return rc;
			if (t->entries) {
				size_t end = b->off[t->width - 1] + b->len[t->width - 1];
				ev_buf_add(out, b->raw.p, end);
			} else {
				const uint8_t(*lh)[32];
				if ((rc = ev_bundle_leaf_hashes(l, t->n, &lh, err)) != EV_OK)
					return rc;
				ev_buf_add(out, (const char *)lh, (size_t)t->width * 32);
			}
			return EV_OK;
		}
		struct tail_bytes tb = { t->n * EV_BUNDLE + 1, t->width, 0, NULL, NULL };
		if (t->entries)
			tb.out = out;
		else
			tb.hashes = h = ev_xmalloc((size_t)t->width * 32);
		rc = ev_store_tail_scan(l->st, tb.first, tail_bytes_cb, &tb, err);
		if (rc == 1)
			rc = EV_OK;
		if (rc == EV_OK && tb.got != t->width)
			rc = ev_errf(err, EV_ECORRUPT, "entry %llu is missing from the partial bundle",
			    (unsigned long long)(tb.first + tb.got));
		if (rc == EV_OK && h)
			ev_buf_add(out, (const char *)h, (size_t)t->width * 32);
		free(h);
		return rc;
	}
	h = ev_xmalloc((size_t)t->width * 32);
	if (t->level == 1) {
		struct ev_bundle_row *rows = ev_xmalloc(t->width * sizeof(*rows));
		rc = ev_store_bundle_rows(l->st, t->n * EV_BUNDLE, t->width, rows, err);
		for (unsigned i = 0; rc == EV_OK && i < t->width; i++)
			memcpy(h[i], rows[i].hash, 32);
		free(rows);
	} else {
		rc = ev_store_hash_get(l->st, t->level, t->n * EV_BUNDLE, t->width, h, err);
	}
	if (rc == EV_OK)
		ev_buf_add(out, (const char *)h, (size_t)t->width * 32);
	free(h);
	return rc;
}

/* The latest version-2 checkpoint: its note is what the mirror serves. */
static int
latest_note(struct ev_ledger *l, struct ev_checkpoint *cp, struct ev_err *err)
{
	int rc = ev_ledger_latest_checkpoint(l, cp, err);

	if (rc == EV_ENOTFOUND)
		return ev_errf(err, EV_ENOTFOUND, "no checkpoint yet: run 'evident checkpoint'");
	if (rc != EV_OK)
		return rc;
	if (cp->version < 2)
		return ev_errf(err, EV_ENOTFOUND,
		    "the latest checkpoint is in the format before C2SP notes: run 'evident "
		    "checkpoint' to sign one in the current format");
	return EV_OK;
}

int
ev_ledger_tlog_get(struct ev_ledger *l, const char *path, struct ev_buf *out, int *immutable,
    struct ev_err *err)
{
	struct tile_ref t;
	uint64_t size, full;
	int64_t tm;
	int rc;

	*immutable = 0;
	if (strcmp(path, "checkpoint") == 0) {
		struct ev_checkpoint cp;
		if ((rc = latest_note(l, &cp, err)) != EV_OK)
			return rc;
		ev_buf_reset(out);
		ev_buf_add(out, cp.note, cp.note_len);
		return EV_OK;
	}
	if (parse_tile_path(path, &t) != 0)
		return ev_errf(err, EV_ENOTFOUND, "not a tile path: %s", path);
	if ((rc = ev_store_begin_read(l->st, err)) != EV_OK)
		return rc;
	if ((rc = ev_store_last(l->st, &size, &tm, err)) == EV_OK &&
	    (rc = ev_store_bundle_count(l->st, &full, err)) == EV_OK)
		rc = tile_get(l, &t, size, full, out, err);
	ev_store_rollback(l->st);
	*immutable = rc == EV_OK && t.width == EV_BUNDLE;
	return rc;
}

/* ---- the static mirror ---- */

static int
mkdirs(const char *path, struct ev_err *err)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return ev_errf(err, EV_EINVAL, "path too long: %s", path);
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return ev_errf(err, EV_EIO, "cannot create %s: %s", buf, strerror(errno));
		buf[i] = c;
	}
	return EV_OK;
}

/* Write dir/rel atomically (temporary file, rename). */
static int
write_file(const char *dir, const char *rel, const void *data, size_t len, struct ev_err *err)
{
	struct ev_buf path = EV_BUF_INIT, tmp = EV_BUF_INIT;
	char *slash;
	int fd = -1, rc = EV_OK;

	ev_buf_addf(&path, "%s/%s", dir, rel);
	ev_buf_addf(&tmp, "%s.tmp", path.p);
	slash = strrchr(path.p, '/');
	*slash = '\0';
	rc = mkdirs(path.p, err);
	*slash = '/';
	if (rc != EV_OK)
		goto out;
	fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ev_fault_hit() || write(fd, data, len) != (ssize_t)len || close(fd) != 0) {
		rc = ev_errf(err, EV_EIO, "cannot write %s: %s", tmp.p,
		    errno ? strerror(errno) : "injected fault");
		if (fd >= 0)
			close(fd);
		unlink(tmp.p);
		goto out;
	}
	if (rename(tmp.p, path.p) != 0) {
		rc = ev_errf(err, EV_EIO, "cannot rename %s: %s", tmp.p, strerror(errno));
		unlink(tmp.p);
	}
out:
	ev_buf_free(&path);
	ev_buf_free(&tmp);
	return rc;
}

static int
file_exists(const char *dir, const char *rel)
{
	struct ev_buf p = EV_BUF_INIT;
	struct stat sb;
	int ok;

	ev_buf_addf(&p, "%s/%s", dir, rel);
	ok = stat(p.p, &sb) == 0 && S_ISREG(sb.st_mode);
	ev_buf_free(&p);
	return ok;
}

/* Remove the partial versions of a tile once its full version is written. */
static void
drop_partials(const char *dir, const char *rel)
{
	struct ev_buf p = EV_BUF_INIT;

	ev_buf_addf(&p, "%s/%s.p", dir, rel);
	for (unsigned w = 1; w < EV_BUNDLE; w++) {
		struct ev_buf f = EV_BUF_INIT;
		ev_buf_addf(&f, "%s/%u", p.p, w);
		unlink(f.p);
		ev_buf_free(&f);
	}
	rmdir(p.p);
	ev_buf_free(&p);
}

static int
export_one(struct ev_ledger *l, const char *dir, const struct tile_ref *t, uint64_t size,
    uint64_t full, struct ev_buf *data, struct ev_tiles_stats *st, struct ev_err *err)
{
	struct ev_buf rel = EV_BUF_INIT;
	int rc = EV_OK;

	tile_path(t, &rel);
	if (file_exists(dir, rel.p)) {
		st->kept++;
		goto out;
	}
	if ((rc = tile_get(l, t, size, full, data, err)) != EV_OK ||
	    (rc = write_file(dir, rel.p, data->p, data->len, err)) != EV_OK)
		goto out;
	st->written++;
	if (t->width == EV_BUNDLE)
		drop_partials(dir, rel.p);
out:
	ev_buf_free(&rel);
	return rc;
}

int
ev_ledger_tiles_export(struct ev_ledger *l, const char *dir,
    void (*progress)(uint64_t, uint64_t, void *), void *parg, struct ev_tiles_stats *st,
    struct ev_err *err)
{
	struct ev_checkpoint cp;
	struct ev_buf data = EV_BUF_INIT;
	struct tile_ref t;
	uint64_t size, full, cur;
	int64_t tm;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = latest_note(l, &cp, err)) != EV_OK)
		return rc;
	if ((rc = mkdirs(dir, err)) != EV_OK)
		return rc;
	if ((rc = ev_store_begin_read(l->st, err)) != EV_OK)
		return rc;
	if ((rc = ev_store_last(l->st, &cur, &tm, err)) != EV_OK ||
	    (rc = ev_store_bundle_count(l->st, &full, err)) != EV_OK)
		goto out;
	size = cp.size;
	st->size = size;
	/* Entry bundles and level-0 tiles: one per 256 entries. */
	for (uint64_t n = 0; n * EV_BUNDLE < size; n++) {
		unsigned w = size - n * EV_BUNDLE >= EV_BUNDLE ? EV_BUNDLE
							       : (unsigned)(size - n * EV_BUNDLE);
		memset(&t, 0, sizeof(t));
		t.n = n;
		t.width = w;
		t.entries = 1;
		if ((rc = export_one(l, dir, &t, cur, full, &data, st, err)) != EV_OK)
			goto out;
		t.entries = 0;
		if ((rc = export_one(l, dir, &t, cur, full, &data, st, err)) != EV_OK)
			goto out;
		if (progress && (n & 63) == 63)
			progress(n * EV_BUNDLE, size, parg);
	}
	/* Levels 1 and up. */
	for (unsigned level = 1; span(level) && span(level) <= size; level++) {
		uint64_t hashes = size / span(level);
		for (uint64_t n = 0; n * EV_BUNDLE < hashes; n++) {
			memset(&t, 0, sizeof(t));
			t.level = level;
			t.n = n;
			t.width = hashes - n * EV_BUNDLE >= EV_BUNDLE ? EV_BUNDLE
								       : (unsigned)(hashes - n * EV_BUNDLE);
			if ((rc = export_one(l, dir, &t, cur, full, &data, st, err)) != EV_OK)
				goto out;
		}
	}
	/* Last: the checkpoint that makes the new tiles reachable. */
	rc = write_file(dir, "checkpoint", cp.note, cp.note_len, err);
	if (progress)
		progress(size, size, parg);
out:
	ev_store_rollback(l->st);
	ev_buf_free(&data);
	return rc;
}
