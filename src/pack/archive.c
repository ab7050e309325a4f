/*
 * archive.c - evidence packs as gzip'd tar archives, through libarchive.
 *
 * Writing: members in a fixed order, regular files 0644, one mtime, pax
 * restricted (ustar where names fit), gzip.  Reading: every regular member
 * into memory, with the limits of pack.h.  A member name is never used as a
 * path on disk: verification must not be able to write outside anything.
 */
#include "pack/pack_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/merkle.h"
#include "pack/pack.h"
#include "util/enc.h"

void
pack_members_add_owned(struct pack_members *ms, const char *name, uint8_t *data, size_t len)
{
	if (ms->n == ms->cap) {
		ms->cap = ms->cap ? 2 * ms->cap : 16;
		ms->m = ev_xrealloc(ms->m, ms->cap * sizeof(*ms->m));
	}
	ms->sorted = 0;
	ms->m[ms->n].name = ev_xstrdup(name);
	ms->m[ms->n].data = data;
	ms->m[ms->n].len = len;
	ms->n++;
}

void
pack_members_add(struct pack_members *ms, const char *name, const void *data, size_t len)
{
	uint8_t *copy = ev_xmalloc(len ? len : 1);

	if (len)
		memcpy(copy, data, len);
	pack_members_add_owned(ms, name, copy, len);
}

static int
cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct pack_member *)a)->name, ((const struct pack_member *)b)->name);
}

const struct pack_member *
pack_members_find(const struct pack_members *ms, const char *name)
{
	if (ms->sorted) {
		struct pack_member key = { (char *)name, NULL, 0 };
		return ms->n ? bsearch(&key, ms->m, ms->n, sizeof(*ms->m), cmp_member) : NULL;
	}
	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].name, name) == 0)
			return &ms->m[i];
	return NULL;
}

void
pack_members_free(struct pack_members *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->m[i].name);
		free(ms->m[i].data);
	}
	free(ms->m);
	ms->m = NULL;
	ms->n = ms->cap = 0;
}

void
pack_sha256_hex(const void *data, size_t n, char out[65])
{
	uint8_t h[EV_HASH_LEN];

	ev_sha256(data, n, h);
	ev_hex_encode(h, EV_HASH_LEN, out);
}

int
pack_tar_write(const char *path, const struct pack_members *ms, int64_t mtime_s,
    struct ev_err *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = NULL;
	struct ev_buf tmp = EV_BUF_INIT;
	int rc = EV_OK;

	ev_buf_addf(&tmp, "%s.tmp", path);
	if (a == NULL || archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(a) != ARCHIVE_OK) {
		rc = ev_errf(err, EV_EIO, "cannot set up the archive writer");
		goto out;
	}
	if (archive_write_open_filename(a, tmp.p) != ARCHIVE_OK) {
		rc = ev_errf(err, EV_EIO, "cannot create %s: %s", tmp.p, archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < ms->n; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, ms->m[i].name);
		archive_entry_set_size(e, (la_int64_t)ms->m[i].len);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, (time_t)mtime_s, 0);
		archive_entry_set_uname(e, "evident");
		archive_entry_set_gname(e, "evident");
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (ms->m[i].len &&
			archive_write_data(a, ms->m[i].data, ms->m[i].len) != (la_ssize_t)ms->m[i].len)) {
			rc = ev_errf(err, EV_EIO, "cannot write %s into %s: %s", ms->m[i].name, tmp.p,
			    archive_error_string(a));
			goto out;
		}
		archive_entry_free(e);
		e = NULL;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		rc = ev_errf(err, EV_EIO, "cannot finish %s: %s", tmp.p, archive_error_string(a));
		goto out;
	}
	if (rename(tmp.p, path) != 0)
		rc = ev_errf(err, EV_EIO, "cannot rename %s to %s: %s", tmp.p, path, strerror(errno));
out:
	archive_entry_free(e);
	if (a)
		archive_write_free(a);
	if (rc != EV_OK)
		unlink(tmp.p);
	ev_buf_free(&tmp);
	return rc;
}

/*
 * Normalise a member name in place; 0 when it is a safe relative path.
 * Leading "./" parts are dropped (tar -C dir . writes them); anything that
 * could name a place outside the pack, or confuse a reader, is refused.
 */
static int
normalise_name(char *s)
{
	char *p = s;
	size_t n;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	memmove(s, p, strlen(p) + 1);
	n = strlen(s);
	if (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	if (n == 0 || n > 255 || s[0] == '/')
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
	}
	/* Every part non-empty, and neither "." nor "..". */
	for (p = s;;) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return -1;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return 0;
}

int
pack_tar_read(const char *path, struct pack_members *ms, struct ev_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t total = 0;
	char name[512];
	int rc = EV_OK, r;

	if (a == NULL || archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_filter_none(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK) {
		rc = ev_errf(err, EV_EIO, "cannot set up the archive reader");
		goto out;
	}
	if (access(path, R_OK) != 0) {
		rc = ev_errf(err, EV_EIO, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		rc = ev_errf(err, EV_ECORRUPT, "archive: %s: %s", path, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *pn = archive_entry_pathname(e);
		la_int64_t declared = archive_entry_size(e);
		struct ev_buf data = EV_BUF_INIT;
		mode_t type = archive_entry_filetype(e);

		if (pn == NULL || strlen(pn) >= sizeof(name)) {
			rc = ev_errf(err, EV_ECORRUPT, "archive: a member has no usable name");
			goto out;
		}
		snprintf(name, sizeof(name), "%s", pn);
		if (normalise_name(name) != 0) {
			if (strcmp(pn, ".") == 0 || strcmp(pn, "./") == 0)
				continue;
			rc = ev_errf(err, EV_ECORRUPT, "archive: member name '%.200s' is not allowed",
			    pn);
			goto out;
		}
		if (type == AE_IFDIR)
			continue;
		if (type != AE_IFREG || archive_entry_hardlink(e) != NULL) {
			rc = ev_errf(err, EV_ECORRUPT,
			    "archive: %s: not a regular file (links and devices are refused)", name);
			goto out;
		}
		if (ms->n >= EV_PACK_MEMBERS_MAX) {
			rc = ev_errf(err, EV_ECORRUPT, "archive: more than %u members", EV_PACK_MEMBERS_MAX);
			goto out;
		}
		if (declared < 0 || (uint64_t)declared > EV_PACK_MEMBER_MAX ||
		    (size_t)declared > EV_PACK_TOTAL_MAX - total) {
			rc = ev_errf(err, EV_ECORRUPT, "archive: %s: size %lld is over the limit", name,
			    (long long)declared);
			goto out;
		}
		ev_buf_reserve(&data, (size_t)declared + 1);
		for (;;) {
			char block[65536];
			la_ssize_t got = archive_read_data(a, block, sizeof(block));
			if (got == 0)
				break;
			if (got < 0) {
				ev_buf_free(&data);
				rc = ev_errf(err, EV_ECORRUPT, "archive: %s: %s", name,
				    archive_error_string(a));
				goto out;
			}
			if ((size_t)got > (size_t)declared - data.len) {
				ev_buf_free(&data);
				rc = ev_errf(err, EV_ECORRUPT, "archive: %s: longer than declared", name);
				goto out;
			}
			ev_buf_add(&data, block, (size_t)got);
		}
		if (data.len != (size_t)declared) {
			ev_buf_free(&data);
			rc = ev_errf(err, EV_ECORRUPT, "archive: %s: truncated", name);
			goto out;
		}
		total += data.len;
		if (data.p == NULL)
			ev_buf_reserve(&data, 1);
		{
			size_t len = data.len;
			pack_members_add_owned(ms, name, (uint8_t *)ev_buf_detach(&data), len);
		}
	}
	if (r != ARCHIVE_EOF) {
		rc = ev_errf(err, EV_ECORRUPT, "archive: %s: %s", path,
		    archive_error_string(a) ? archive_error_string(a) : "unreadable");
		goto out;
	}
	/* Sorted by name: duplicates become neighbours, lookups O(log n). */
	if (ms->n > 1)
		qsort(ms->m, ms->n, sizeof(*ms->m), cmp_member);
	ms->sorted = 1;
	for (size_t i = 1; i < ms->n; i++)
		if (strcmp(ms->m[i - 1].name, ms->m[i].name) == 0) {
			rc = ev_errf(err, EV_ECORRUPT, "archive: %s: appears twice", ms->m[i].name);
			goto out;
		}
out:
	if (a)
		archive_read_free(a);
	return rc;
}
