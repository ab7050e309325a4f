/*
 * syslog3164.c - BSD syslog (RFC 3164) as real daemons and files carry it,
 * and auditd's own log lines.
 *
 * Accepted shapes (PRI optional throughout):
 *
 *   <PRI>Mmm dd hh:mm:ss host tag[pid]: msg     classic; day may be " 4"
 *   Mmm dd hh:mm:ss host tag: msg               /var/log/auth.log files
 *   Mmm dd hh:mm:ss tag[pid]: msg               no host (as sent to /dev/log)
 *   2026-11-24T22:30:01.123456+00:00 host tag[pid]: msg
 *                                               rsyslog's default on Debian
 *   Mmm dd hh:mm:ss ZONE YYYY host ...          RFC 3164 5.4 example 3
 *   YYYY Mmm dd hh:mm:ss TZ-6 host ...          RFC 3164 5.4 example 4
 *   type=USER_LOGIN msg=audit(1732487401.123:456): pid=... res=failed
 *                                               /var/log/audit/audit.log
 *
 * A line with no recognisable time stamp is refused: anything at all would
 * otherwise "parse" as host + message.  Times without a year get the year
 * that puts them at most a month after opts->now_us; times without an
 * offset are local times in opts->timezone (UTC when NULL), converted with
 * the system tz database (see local_to_utc).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/parse_int.h"
#include "util/timeutil.h"

/* A broken-down time as read from the line. */
struct btime {
	int64_t year; /* 0: not in the line */
	unsigned mon, day, hour, min, sec;
	int64_t frac_us;
	int has_off; /* the line gave the UTC offset */
	int64_t off_s;
};

static int
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int
digits(const char *s, size_t n, size_t at, int count, unsigned *v)
{
	unsigned x = 0;

	if (at + (size_t)count > n)
		return -1;
	for (int i = 0; i < count; i++) {
		if (!is_digit(s[at + (size_t)i]))
			return -1;
		x = x * 10 + (unsigned)(s[at + (size_t)i] - '0');
	}
	*v = x;
	return 0;
}

static int
month(const char *s, size_t n, size_t at, unsigned *mon)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char m[3];

	if (at + 3 > n)
		return -1;
	for (int i = 0; i < 3; i++) {
		char ch = s[at + (size_t)i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		m[i] = ch;
	}
	for (unsigned i = 0; i < 12; i++) {
		if (memcmp(names + i * 3, m, 3) == 0) {
			*mon = i + 1;
			return 0;
		}
	}
	return -1;
}

/* "hh:mm:ss" with an optional ".fraction"; returns the end or 0. */
static size_t
clock_time(const char *s, size_t n, size_t i, struct btime *t)
{
	if (digits(s, n, i, 2, &t->hour) || i + 2 >= n || s[i + 2] != ':' ||
	    digits(s, n, i + 3, 2, &t->min) || i + 5 >= n || s[i + 5] != ':' ||
	    digits(s, n, i + 6, 2, &t->sec))
		return 0;
	if (t->hour > 23 || t->min > 59 || t->sec > 60)
		return 0;
	if (t->sec == 60)
		t->sec = 59;
	i += 8;
	if (i < n && s[i] == '.') {
		int k = 0;
		i++;
		if (i >= n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i])) {
			if (k < 6) {
				t->frac_us = t->frac_us * 10 + (s[i] - '0');
				k++;
			}
			i++;
		}
		while (k++ < 6)
			t->frac_us *= 10;
	}
	return i;
}

/* "Mmm dd" with the day as "dd", " d" or "d"; returns the end or 0. */
static size_t
month_day(const char *s, size_t n, size_t i, struct btime *t)
{
	if (month(s, n, i, &t->mon) || i + 4 >= n || s[i + 3] != ' ')
		return 0;
	i += 4;
	if (s[i] == ' ' && i + 1 < n && is_digit(s[i + 1])) {
		t->day = (unsigned)(s[i + 1] - '0');
		i += 2;
	} else if (is_digit(s[i]) && i + 1 < n && is_digit(s[i + 1])) {
		t->day = (unsigned)((s[i] - '0') * 10 + (s[i + 1] - '0'));
		i += 2;
	} else if (is_digit(s[i])) {
		t->day = (unsigned)(s[i] - '0');
		i += 1;
	} else {
		return 0;
	}
	if (t->day < 1 || t->day > 31)
		return 0;
	return i;
}

/* A time zone abbreviation or "TZ+h"/"TZ-h" from s[i..); returns the end or 0. */
static size_t
zone_word(const char *s, size_t n, size_t i, struct btime *t)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {
		{ "UTC", 0 },  { "GMT", 0 },  { "EST", -5 }, { "EDT", -4 },
		{ "CST", -6 }, { "CDT", -5 }, { "MST", -7 }, { "MDT", -6 },
		{ "PST", -8 }, { "PDT", -7 }, { "CET", 1 },  { "CEST", 2 },
	};
	size_t e = i;

	while (e < n && e - i < 6 && s[e] != ' ')
		e++;
	if (e >= n || s[e] != ' ')
		return 0;
	if (e - i >= 4 && s[i] == 'T' && s[i + 1] == 'Z' && (s[i + 2] == '+' || s[i + 2] == '-')) {
		unsigned h = 0;
		for (size_t k = i + 3; k < e; k++) {
			if (!is_digit(s[k]))
				return 0;
			h = h * 10 + (unsigned)(s[k] - '0');
		}
		if (e - (i + 3) > 2 || h > 14)
			return 0;
		t->has_off = 1;
		t->off_s = (s[i + 2] == '-' ? -1 : 1) * (int64_t)h * 3600;
		return e;
	}
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		if (strlen(zones[z].name) == e - i && memcmp(zones[z].name, s + i, e - i) == 0) {
			t->has_off = 1;
			t->off_s = (int64_t)zones[z].hours * 3600;
			return e;
		}
	}
	return 0;
}

/*
 * The time stamp at s[i..).  Returns the offset just past it (before the SP
 * that must follow), or 0 when there is none.  *iso is set when the stamp is
 * RFC 3339 text that can be reported as received.
 */
static size_t
timestamp(const char *s, size_t n, size_t i, struct btime *t, int *iso)
{
	size_t e;
	unsigned y;

	memset(t, 0, sizeof(*t));
	*iso = 0;
	if (digits(s, n, i, 4, &y) == 0 && i + 4 < n && s[i + 4] == '-') {
		/* RFC 3339 (rsyslog's RSYSLOG_FileFormat, or a local time without offset). */
		unsigned mo, d, oh, om;
		if (digits(s, n, i + 5, 2, &mo) || i + 7 >= n || s[i + 7] != '-' ||
		    digits(s, n, i + 8, 2, &d) || i + 10 >= n || (s[i + 10] != 'T' && s[i + 10] != ' '))
			return 0;
		t->year = y;
		t->mon = mo;
		t->day = d;
		if ((e = clock_time(s, n, i + 11, t)) == 0)
			return 0;
		if (e < n && (s[e] == 'Z' || s[e] == 'z')) {
			t->has_off = 1;
			e++;
		} else if (e < n && (s[e] == '+' || s[e] == '-')) {
			if (digits(s, n, e + 1, 2, &oh) || e + 3 >= n || s[e + 3] != ':' ||
			    digits(s, n, e + 4, 2, &om) || oh > 23 || om > 59)
				return 0;
			t->has_off = 1;
			t->off_s = (s[e] == '-' ? -1 : 1) * ((int64_t)oh * 3600 + (int64_t)om * 60);
			e += 6;
		}
		*iso = s[i + 10] == 'T' && t->has_off;
		return e;
	}
	if (digits(s, n, i, 4, &y) == 0 && i + 4 < n && s[i + 4] == ' ') {
		/* "1990 Oct 22 10:52:01 TZ-6" (RFC 3164 5.4 example 4). */
		t->year = y;
		if ((e = month_day(s, n, i + 5, t)) == 0 || e >= n || s[e] != ' ' ||
		    (e = clock_time(s, n, e + 1, t)) == 0)
			return 0;
		if (e < n && s[e] == ' ') {
			size_t z = zone_word(s, n, e + 1, t);
			if (z)
				e = z;
		}
		return e;
	}
	if ((e = month_day(s, n, i, t)) == 0 || e >= n || s[e] != ' ' ||
	    (e = clock_time(s, n, e + 1, t)) == 0)
		return 0;
	/* An optional year, or zone and year, after the time (example 3). */
	if (e + 5 < n && s[e] == ' ' && digits(s, n, e + 1, 4, &y) == 0 && s[e + 5] == ' ') {
		t->year = y;
		e += 5;
	} else if (e < n && s[e] == ' ') {
		struct btime z = *t;
		size_t ze = zone_word(s, n, e + 1, &z);
		if (ze && ze + 5 < n && digits(s, n, ze + 1, 4, &y) == 0 && s[ze + 5] == ' ') {
			*t = z;
			t->year = y;
			e = ze + 5;
		}
	}
	return e;
}

/* ---- local time to UTC ------------------------------------------------- */

/*
 * Offsets come from the tz database via tzconv.c (no TZ environment games).
 * Each thread remembers, per local hour, the offset of hours in which it
 * does not change, so a zone lookup (which takes a lock) happens about once
 * per hour of log time, not once per line.
 */
#define TZ_CACHE 64

struct tz_slot {
	char zone[64];
	int64_t local_hour; /* local seconds / 3600 */
	int64_t off_s;
	int valid;
};

static _Thread_local struct tz_slot tz_cache[TZ_CACHE];

static int
is_utc(const char *zone)
{
	return zone == NULL || zone[0] == '\0' || strcmp(zone, "UTC") == 0 ||
	       strcmp(zone, "Etc/UTC") == 0 || strcmp(zone, "GMT") == 0 ||
	       strcmp(zone, "Etc/GMT") == 0 || strcmp(zone, "Z") == 0;
}

/* UTC offsets (seconds east) of zone at local times a and b; -1 on failure. */
static int
tz_offsets(const char *zone, int64_t a, int64_t b, int64_t *off_a, int64_t *off_b)
{
	int64_t ua, ub;

	if (pf_tz_local_to_utc(zone, a, &ua) != 0 || pf_tz_local_to_utc(zone, b, &ub) != 0)
		return -1;
	*off_a = a - ua;
	*off_b = b - ub;
	return 0;
}

/* Local seconds (broken down as if UTC) in zone to UTC seconds. */
static int
local_to_utc(const char *zone, int64_t local, int64_t *utc)
{
	int64_t hour, off_a, off_b;
	struct tz_slot *slot;

	if (is_utc(zone)) {
		*utc = local;
		return 0;
	}
	hour = local >= 0 ? local / 3600 : -((-local + 3599) / 3600);
	slot = &tz_cache[(uint64_t)hour % TZ_CACHE];
	if (slot->valid && slot->local_hour == hour && strcmp(slot->zone, zone) == 0) {
		*utc = local - slot->off_s;
		return 0;
	}
	if (strlen(zone) >= sizeof(slot->zone))
		return -1;
	if (tz_offsets(zone, hour * 3600, hour * 3600 + 3599, &off_a, &off_b) != 0)
		return -1;
	if (off_a == off_b) {
		strcpy(slot->zone, zone);
		slot->local_hour = hour;
		slot->off_s = off_a;
		slot->valid = 1;
		*utc = local - off_a;
		return 0;
	}
	/* The offset changes within this hour: ask for this very second. */
	if (tz_offsets(zone, local, local, &off_a, &off_b) != 0)
		return -1;
	*utc = local - off_a;
	return 0;
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
valid_day(int64_t y, unsigned m, unsigned d)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12 || d < 1)
		return 0;
	return d <= mdays[m - 1] + (m == 2 && leap(y));
}

static int
btime_to_utc(struct pctx *c, struct btime *t, int64_t *us)
{
	const char *zone = c->o->timezone;
	int64_t now_us = c->o->now_us ? c->o->now_us : ev_time_now_us();
	int64_t local, utc;

	if (t->year == 0) {
		/* No year: the one that puts the time closest before now + ~a month. */
		int64_t y;
		unsigned m, d;
		int64_t now_s = now_us / 1000000;
		ev_civil_from_days(now_s / 86400, &y, &m, &d);
		if (!valid_day(y, t->mon, t->day) && valid_day(y - 1, t->mon, t->day))
			y--; /* Feb 29 read in a common year: last year's, if that was leap */
		for (int pass = 0; pass < 3; pass++) {
			if (!valid_day(y, t->mon, t->day))
				return pf_fail(c, "rfc3164: no %.3s %u in %lld",
				    &"JanFebMarAprMayJunJulAugSepOctNovDec"[(t->mon - 1) * 3], t->day,
				    (long long)y);
			local = ev_days_from_civil(y, t->mon, t->day) * 86400 +
				(int64_t)t->hour * 3600 + (int64_t)t->min * 60 + t->sec;
			if (t->has_off)
				utc = local - t->off_s;
			else if (local_to_utc(zone, local, &utc) != 0)
				return pf_fail(c, "rfc3164: unknown time zone \"%s\"", zone);
			if (utc > now_s + 31 * 86400)
				y--;
			else if (utc < now_s - 334 * 86400 && pass == 0 && valid_day(y + 1, t->mon, t->day))
				y++;
			else
				break;
		}
		t->year = y;
	} else {
		if (!valid_day(t->year, t->mon, t->day))
			return pf_fail(c, "rfc3164: no such date");
		local = ev_days_from_civil(t->year, t->mon, t->day) * 86400 +
			(int64_t)t->hour * 3600 + (int64_t)t->min * 60 + t->sec;
		if (t->has_off)
			utc = local - t->off_s;
		else if (local_to_utc(zone, local, &utc) != 0)
			return pf_fail(c, "rfc3164: unknown time zone \"%s\"", zone);
	}
	*us = utc * 1000000 + t->frac_us;
	return 0;
}

/* ---- auditd key=value ---------------------------------------------------- */

static int
audit_sep(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\x1d';
}

static int
key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
	       ch == '_' || ch == '-';
}

/* Names the syslog header owns: a key=value pair never overrides them. */
static int
reserved(const char *k, size_t n)
{
	switch (n) {
	case 3: return memcmp(k, "app", 3) == 0;
	case 4: return memcmp(k, "host", 4) == 0;
	case 5: return memcmp(k, "msgid", 5) == 0;
	case 6: return memcmp(k, "procid", 6) == 0;
	case 7: return memcmp(k, "message", 7) == 0;
	case 8: return memcmp(k, "facility", 8) == 0 || memcmp(k, "severity", 8) == 0;
	case 9: return memcmp(k, "timestamp", 9) == 0;
	default: return 0;
	}
}

/* "audit(1732487401.123:456)" at s[0..n): the time in microseconds. */
static int
audit_time(const char *s, size_t n, int64_t *us)
{
	size_t i = 6;
	int64_t secs = 0, ms = 0;
	int k = 0;

	if (n < 8 || memcmp(s, "audit(", 6) != 0 || !is_digit(s[i]))
		return -1;
	while (i < n && is_digit(s[i]) && secs < 100000000000LL)
		secs = secs * 10 + (s[i++] - '0');
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && is_digit(s[i]) && k < 3) {
			ms = ms * 10 + (s[i++] - '0');
			k++;
		}
		while (k++ < 3)
			ms *= 10;
	}
	if (i >= n || s[i] != ':')
		return -1;
	*us = secs * 1000000 + ms * 1000;
	return 0;
}

size_t
pf_audit_kv(struct pctx *c, const char *s, size_t n, int64_t *time_us)
{
	size_t i = 0, added = 0;

	while (i < n) {
		size_t k, v, ve;
		while (i < n && audit_sep(s[i]))
			i++;
		if (i >= n)
			break;
		k = i;
		while (i < n && key_char(s[i]))
			i++;
		if (i == k || i >= n || s[i] != '=') {
			/* Not a pair ("USER_LOGIN", "audit(...):"): skip the word. */
			while (i < n && !audit_sep(s[i]))
				i++;
			continue;
		}
		size_t klen = i - k;
		v = ++i;
		if (v < n && (s[v] == '"' || s[v] == '\'')) {
			const char *q = memchr(s + v + 1, s[v], n - v - 1);
			ve = q ? (size_t)(q - s) : n;
			i = q ? ve + 1 : n;
			if (s[v] == '\'') {
				/* msg='op=login acct="root" ... res=failed': its pairs. */
				added += pf_audit_kv(c, s + v + 1, ve - v - 1, NULL);
				continue;
			}
			v++;
		} else {
			while (i < n && !audit_sep(s[i]))
				i++;
			ve = i;
			if (klen == 3 && memcmp(s + k, "msg", 3) == 0 && ve - v > 6 &&
			    memcmp(s + v, "audit(", 6) == 0) {
				if (time_us)
					audit_time(s + v, ve - v, time_us);
				if (s[ve - 1] == ':')
					ve--;
			}
		}
		if (reserved(s + k, klen))
			continue;
		if (pf_add_x(c, NULL, pf_store(c, s + k, klen), s + v, 0, ve - v, PF_NAME_STORE) != 0)
			break;
		added++;
	}
	return added;
}

static int
audit_like(const char *m, size_t n)
{
	size_t lim = n < 160 ? n : 160;

	if (n >= 5 && (memcmp(m, "type=", 5) == 0 || memcmp(m, "node=", 5) == 0))
		return 1;
	for (size_t i = 0; i + 6 <= lim; i++)
		if (m[i] == 'a' && memcmp(m + i, "audit(", 6) == 0)
			return 1;
	return 0;
}

/* A line of /var/log/audit/audit.log: "[node=host ]type=T msg=audit(...): ...". */
static int
parse_audit_line(struct pctx *c)
{
	const char *s = c->line;
	size_t n = c->len, i = 0, hostlen = 0, m;
	const char *host = NULL;
	int64_t us = 0;
	const char *close;
	char ts[EV_TIME_STRLEN];

	if (n > 5 && memcmp(s, "node=", 5) == 0) {
		host = s + 5;
		while (5 + hostlen < n && s[5 + hostlen] != ' ')
			hostlen++;
		i = 5 + hostlen;
		while (i < n && s[i] == ' ')
			i++;
	}
	if (n - i < 5 || memcmp(s + i, "type=", 5) != 0)
		return pf_fail(c, "audit: \"type=\" expected");
	close = NULL;
	for (m = i; m + 1 < n; m++) {
		if (s[m] == ')' && s[m + 1] == ':') {
			close = s + m;
			break;
		}
	}
	if (close == NULL || !memmem(s + i, (size_t)(close - (s + i)), "msg=audit(", 10))
		return pf_fail(c, "audit: \"msg=audit(...):\" expected");
	if (host && hostlen)
		pf_add(c, "host", host, hostlen);
	size_t ts_slot = c->n;
	pf_add(c, "timestamp", "", 0);
	m = (size_t)(close - s) + 2;
	while (m < n && s[m] == ' ')
		m++;
	pf_add(c, "message", s + m, n - m);
	pf_audit_kv(c, s + i, n - i, &us);
	if (us == 0)
		return pf_fail(c, "audit: bad time in msg=audit(...)");
	c->out->ev.time_us = us;
	ev_time_format(us, ts);
	c->out->fields[ts_slot].value = NULL;
	c->val_off[ts_slot] = pf_store(c, ts, EV_TIME_STRLEN - 1);
	c->out->fields[ts_slot].len = EV_TIME_STRLEN - 1;
	c->flags[ts_slot] |= PF_VAL_STORE;
	return 0;
}

static int
tag_char(char ch)
{
	return ch >= 33 && ch <= 126 && ch != '[' && ch != ':';
}

int
pf_parse_3164(struct pctx *c)
{
	const char *s = c->line, *why;
	size_t n = c->len, i = 0, e, used;
	unsigned pri = 0;
	int has_pri = 0, iso;
	struct btime t;
	int64_t us = 0;
	size_t ts_start;

	if (s[0] == 't' || s[0] == 'n')
		if (n > 5 && (memcmp(s, "type=", 5) == 0 || memcmp(s, "node=", 5) == 0))
			return parse_audit_line(c);
	if (s[0] == '<') {
		if ((why = pf_pri(s, n, &pri, &used)) != NULL)
			return pf_fail(c, "rfc3164: %s", why);
		has_pri = 1;
		i = used;
	}
	ts_start = i;
	if ((e = timestamp(s, n, i, &t, &iso)) == 0)
		return pf_fail(c, "rfc3164: no time stamp (\"Mmm dd hh:mm:ss\" or RFC 3339) at offset %zu", i);
	if (btime_to_utc(c, &t, &us) != 0)
		return -1;
	if (e < n && s[e] != ' ')
		return pf_fail(c, "rfc3164: SP expected after the time stamp at offset %zu", e);
	i = e < n ? e + 1 : n;

	if (has_pri) {
		pf_add(c, "facility", pf_num(pri >> 3), strlen(pf_num(pri >> 3)));
		pf_add(c, "severity", pf_num(pri & 7), 1);
	}
	if (iso) {
		pf_add(c, "timestamp", s + ts_start, e - ts_start);
	} else {
		char ts[EV_TIME_STRLEN];
		ev_time_format(us, ts);
		pf_add_x(c, "timestamp", 0, NULL, pf_store(c, ts, EV_TIME_STRLEN - 1),
		    EV_TIME_STRLEN - 1, PF_VAL_STORE);
	}
	c->out->ev.time_us = us;

	/* HOSTNAME, unless the next word is already the tag ("sshd[12]:", "su:"). */
	size_t h = i;
	while (i < n && s[i] != ' ')
		i++;
	if (i > h && s[i - 1] == ':' && (i == n || s[i] == ' ')) {
		i = h; /* no host: the word is the tag */
	} else {
		if (i == h)
			return pf_fail(c, "rfc3164: HOSTNAME missing at offset %zu", h);
		if (i - h > 255)
			return pf_fail(c, "rfc3164: HOSTNAME longer than 255");
		pf_add(c, "host", s + h, i - h);
		if (i < n)
			i++;
	}

	/* TAG: "app[pid]: " or "app: "; otherwise it is all message. */
	size_t a = i, p = 0, plen = 0, m = i;
	while (i < n && i - a <= 128 && tag_char(s[i]))
		i++;
	if (i > a && i - a <= 128 && i < n) {
		size_t alen = i - a;
		if (s[i] == '[') {
			p = i + 1;
			i = p;
			while (i < n && s[i] != ']' && s[i] != ' ' && i - p < 129)
				i++;
			plen = i - p;
			if (i < n && s[i] == ']' && plen > 0 && plen <= 128 && i + 1 < n &&
			    s[i + 1] == ':' && (i + 2 == n || s[i + 2] == ' ')) {
				pf_add(c, "app", s + a, alen);
				pf_add(c, "procid", s + p, plen);
				m = i + 2 < n ? i + 3 : n;
			}
		} else if (s[i] == ':' && (i + 1 == n || s[i + 1] == ' ')) {
			pf_add(c, "app", s + a, alen);
			m = i + 1 < n ? i + 2 : n;
		}
	}
	pf_add(c, "message", s + m, n - m);

	/* auditd lines forwarded by syslog: lift their key=value pairs. */
	long ai = pf_find(c, "app");
	const char *app = ai >= 0 ? c->out->fields[ai].value : NULL;
	size_t applen = ai >= 0 ? c->out->fields[ai].len : 0;
	if ((app && applen >= 5 && memcmp(app, "audit", 5) == 0) || audit_like(s + m, n - m))
		pf_audit_kv(c, s + m, n - m, NULL);
	return 0;
}
