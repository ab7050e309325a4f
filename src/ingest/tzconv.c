/*
 * tzconv.c - local time in an IANA zone to UTC, read straight from the
 * system tz database (TZif files, RFC 8536), for RFC 3164 time stamps.
 *
 * Why not setenv("TZ") + mktime(): TZ is process-global, and setenv/unsetenv
 * race with getenv() in every other thread of `evident serve` (libcurl,
 * SQLite and glibc itself read the environment).  Reading the zone file
 * ourselves changes nothing global.  A zone is loaded once and kept for the
 * life of the process (immutable after loading, so readers need no lock
 * once they hold the pointer); times after the last transition in the file
 * follow its POSIX TZ footer rule ("CET-1CEST,M3.5.0,M10.5.0/3"), which is
 * what "slim" tzdata builds rely on.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/parse_int.h"
#include "util/timeutil.h"

#define TZ_MAX_ZONES 1024
#define TZ_FILE_MAX (1 << 20)

struct tz_rulept {
	char kind; /* 'M' month.week.day, 'J' Julian 1..365 (no Feb 29), 'N' 0..365 */
	int m, w, d, n;
	int32_t secs; /* local time of day of the change */
};

struct tz_zone {
	char name[64];
	int64_t *trans; /* transition times, UTC seconds, ascending */
	unsigned char *idx;
	size_t ntrans;
	int32_t *utoff; /* per type */
	size_t ntypes;
	int32_t first_off;
	int missing; /* no such zone (remembered so a bad setting costs one lookup) */
	int has_rule, has_dst;
	int32_t std_off, dst_off; /* seconds east of UTC */
	struct tz_rulept start, end;
};

static struct tz_zone *zones[TZ_MAX_ZONES];
static size_t nzones;
static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- POSIX TZ strings ---------------------------------------------------- */

static const char *
tz_name(const char *s)
{
	if (*s == '<') {
		const char *e = strchr(s, '>');
		return e ? e + 1 : NULL;
	}
	const char *b = s;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
		s++;
	return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to 167 (RFC 8536 extension). */
static const char *
tz_hms(const char *s, int32_t *out)
{
	int sign = 1;
	long h = 0, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (*s < '0' || *s > '9')
		return NULL;
	while (*s >= '0' && *s <= '9' && h < 1000)
		h = h * 10 + (*s++ - '0');
	if (*s == ':') {
		s++;
		while (*s >= '0' && *s <= '9' && m < 100)
			m = m * 10 + (*s++ - '0');
		if (*s == ':') {
			s++;
			while (*s >= '0' && *s <= '9' && sec < 100)
				sec = sec * 10 + (*s++ - '0');
		}
	}
	if (h > 167 || m > 59 || sec > 59)
		return NULL;
	*out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
	return s;
}

static const char *
tz_rulept(const char *s, struct tz_rulept *r)
{
	char *e;

	memset(r, 0, sizeof(*r));
	r->secs = 7200;
	if (*s == 'M') {
		r->kind = 'M';
		r->m = (int)strtol(s + 1, &e, 10);
		if (*e != '.')
			return NULL;
		r->w = (int)strtol(e + 1, &e, 10);
		if (*e != '.')
			return NULL;
		r->d = (int)strtol(e + 1, &e, 10);
		if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6)
			return NULL;
	} else if (*s == 'J') {
		r->kind = 'J';
		r->n = (int)strtol(s + 1, &e, 10);
		if (r->n < 1 || r->n > 365)
			return NULL;
	} else if (*s >= '0' && *s <= '9') {
		r->kind = 'N';
		r->n = (int)strtol(s, &e, 10);
		if (r->n < 0 || r->n > 365)
			return NULL;
	} else {
		return NULL;
	}
	s = e;
	if (*s == '/')
		s = tz_hms(s + 1, &r->secs);
	return s;
}

static int
parse_posix(struct tz_zone *z, const char *s)
{
	int32_t off;

	if ((s = tz_name(s)) == NULL || (s = tz_hms(s, &off)) == NULL)
		return -1;
	z->std_off = -off; /* POSIX offsets are west-positive */
	z->has_rule = 1;
	if (*s == '\0')
		return 0;
	if ((s = tz_name(s)) == NULL)
		return -1;
	z->has_dst = 1;
	z->dst_off = z->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = tz_hms(s, &off)) == NULL)
			return -1;
		z->dst_off = -off;
	}
	if (*s == '\0') {
		/* No rule given: POSIX leaves it to the implementation; glibc uses the US one. */
		s = ",M3.2.0,M11.1.0";
	}
	if (*s != ',' || (s = tz_rulept(s + 1, &z->start)) == NULL || *s != ',' ||
	    (s = tz_rulept(s + 1, &z->end)) == NULL || *s != '\0')
		return -1;
	return 0;
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* UTC seconds at which rule point r happens in year y (local, at offset off). */
static int64_t
rule_time(const struct tz_rulept *r, int64_t y, int32_t off)
{
	int64_t day;

	if (r->kind == 'M') {
		static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
		int64_t first = ev_days_from_civil(y, (unsigned)r->m, 1);
		int wd = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
		int dim = mdays[r->m - 1] + (r->m == 2 && is_leap(y));
		int d = 1 + (r->d - wd + 7) % 7 + (r->w - 1) * 7;
		while (d > dim)
			d -= 7;
		day = first + d - 1;
	} else if (r->kind == 'J') {
		day = ev_days_from_civil(y, 1, 1) + r->n - 1 + (is_leap(y) && r->n >= 60);
	} else {
		day = ev_days_from_civil(y, 1, 1) + r->n;
	}
	return day * 86400 + r->secs - off;
}

static int32_t
rule_offset(const struct tz_zone *z, int64_t utc)
{
	int64_t y, s, e;
	unsigned m, d;
	int64_t local = utc + z->std_off;

	if (!z->has_dst)
		return z->std_off;
	ev_civil_from_days(local >= 0 ? local / 86400 : -((-local + 86399) / 86400), &y, &m, &d);
	s = rule_time(&z->start, y, z->std_off);
	e = rule_time(&z->end, y, z->dst_off);
	if (s < e)
		return utc >= s && utc < e ? z->dst_off : z->std_off;
	return utc >= e && utc < s ? z->std_off : z->dst_off;
}

/* The zone's UTC offset (seconds east) at UTC time utc. */
static int32_t
offset_at(const struct tz_zone *z, int64_t utc)
{
	size_t lo = 0, hi = z->ntrans;

	if (z->ntrans == 0)
		return z->has_rule ? rule_offset(z, utc) : z->first_off;
	if (utc < z->trans[0])
		return z->first_off;
	if (utc >= z->trans[z->ntrans - 1] && z->has_rule)
		return rule_offset(z, utc);
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return z->utoff[z->idx[lo]];
}

/* ---- TZif files -------------------------------------------------------- */

static struct tz_zone *
load_zone(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	unsigned char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	struct tz_zone *z = NULL;

	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return NULL;
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	buf = ev_xmalloc(TZ_FILE_MAX);
	len = fread(buf, 1, TZ_FILE_MAX, fp);
	fclose(fp);
	if (len < 44 || memcmp(buf, "TZif", 4) != 0)
		goto bad;

	const unsigned char *p = buf, *end = buf + len;
	int version = buf[4];
	int pass64 = 0;
	for (;;) {
		if (end - p < 44 || memcmp(p, "TZif", 4) != 0)
			goto bad;
		size_t isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28),
		       timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
		size_t tsz = pass64 ? 8 : 4;
		if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || charcnt > 65536 ||
		    leap > 100000 || isut > 256 || isstd > 256)
			goto bad;
		size_t body = timecnt * tsz + timecnt + typecnt * 6 + charcnt + leap * (tsz + 4) +
			      isstd + isut;
		p += 44;
		if ((size_t)(end - p) < body)
			goto bad;
		if (version >= '2' && !pass64) {
			p += body; /* skip the 32-bit block */
			pass64 = 1;
			continue;
		}
		z = ev_xcalloc(1, sizeof(*z));
		snprintf(z->name, sizeof(z->name), "%s", name);
		z->ntrans = timecnt;
		z->ntypes = typecnt;
		z->trans = ev_xmalloc((timecnt ? timecnt : 1) * sizeof(int64_t));
		z->idx = ev_xmalloc(timecnt ? timecnt : 1);
		z->utoff = ev_xmalloc(typecnt * sizeof(int32_t));
		for (size_t i = 0; i < timecnt; i++)
			z->trans[i] = pass64 ? be64(p + i * 8) : (int64_t)(int32_t)be32(p + i * 4);
		p += timecnt * tsz;
		for (size_t i = 0; i < timecnt; i++) {
			if (p[i] >= typecnt)
				goto bad;
			z->idx[i] = p[i];
		}
		p += timecnt;
		for (size_t i = 0; i < typecnt; i++) {
			int32_t off = (int32_t)be32(p + i * 6);
			if (off < -89999 || off > 93599)
				goto bad;
			z->utoff[i] = off;
		}
		z->first_off = z->utoff[0];
		p += body - timecnt * tsz - timecnt;
		break;
	}
	/* The footer: "\n<POSIX TZ>\n" (version 2+). */
	if (version >= '2' && p < end && *p == '\n') {
		const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		if (nl && nl > p + 1 && nl - p < 128) {
			char tz[128];
			memcpy(tz, p + 1, (size_t)(nl - p - 1));
			tz[nl - p - 1] = '\0';
			if (parse_posix(z, tz) != 0)
				z->has_rule = 0; /* unusable rule: the last transition holds */
		}
	}
	free(buf);
	return z;
bad:
	if (z) {
		free(z->trans);
		free(z->idx);
		free(z->utoff);
		free(z);
	}
	free(buf);
	return NULL;
}

/* A name we are willing to look up: relative, no "..", tz database characters. */
static int
zone_name_ok(const char *zone)
{
	size_t zl = strlen(zone);

	if (zl == 0 || zl >= 64 || zone[0] == '/' || zone[0] == '.' || strstr(zone, ".."))
		return 0;
	for (size_t i = 0; i < zl; i++) {
		char ch = zone[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '/' || ch == '_' || ch == '-' || ch == '+'))
			return 0;
	}
	return 1;
}

static const struct tz_zone *
get_zone(const char *name)
{
	const struct tz_zone *z = NULL;

	if (!zone_name_ok(name))
		return NULL;
	pthread_mutex_lock(&zones_lock);
	for (size_t i = 0; i < nzones; i++) {
		if (strcmp(zones[i]->name, name) == 0) {
			z = zones[i];
			break;
		}
	}
	if (z == NULL && nzones < TZ_MAX_ZONES) {
		struct tz_zone *nz = load_zone(name);
		if (nz == NULL) {
			nz = ev_xcalloc(1, sizeof(*nz));
			snprintf(nz->name, sizeof(nz->name), "%s", name);
			nz->missing = 1;
		}
		zones[nzones++] = nz;
		z = nz;
	}
	pthread_mutex_unlock(&zones_lock);
	return z && !z->missing ? z : NULL;
}

int
pf_tz_offset_at(const char *zone, int64_t utc, int32_t *off)
{
	const struct tz_zone *z = get_zone(zone);

	if (z == NULL)
		return -1;
	*off = offset_at(z, utc);
	return 0;
}

int
pf_tz_local_to_utc(const char *zone, int64_t local, int64_t *utc)
{
	const struct tz_zone *z = get_zone(zone);
	int32_t before, cand[3];
	int64_t best = 0;
	int found = 0;

	if (z == NULL)
		return -1;
	/*
	 * The offsets in force around this time; a candidate is valid when the
	 * offset at the UTC time it gives is itself.  Of two valid ones (a local
	 * time that happens twice when clocks go back) take the earlier; with
	 * none (a local time skipped when clocks go forward) use the offset from
	 * before the change, as mktime() does.
	 */
	before = offset_at(z, local - 2 * 86400);
	cand[0] = before;
	cand[1] = offset_at(z, local);
	cand[2] = offset_at(z, local + 2 * 86400);
	for (int i = 0; i < 3; i++) {
		int64_t u = local - cand[i];
		if (offset_at(z, u) == cand[i] && (!found || u < best)) {
			best = u;
			found = 1;
		}
	}
	*utc = found ? best : local - before;
	return 0;
}
