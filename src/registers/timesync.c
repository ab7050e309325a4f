/*
 * timesync.c - time-synchronisation evidence (EN 319 401 7.10: the time of
 * event records is synchronised with UTC at least daily).
 *
 * The offset comes from an SNTP exchange (RFC 4330: one client request, the
 * four timestamps, offset = ((T2 - T1) + (T3 - T4)) / 2) or from chrony's
 * own state (`chronyc -c tracking`).  Each result is a clock.synced entry;
 * an offset over the threshold, a failed query or a day without a sync
 * raises a "timesync" alert.  The reply is checked before it is believed:
 * mode 4, a stratum of 1 to 15 (0 is a kiss-o'-death), our own transmit
 * time echoed as the originate timestamp, a non-zero transmit time.
 */
#include "registers/registers.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"
#include "util/timeutil.h"

#define NTP_EPOCH_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */

const char *
ev_timesync_default_server(void)
{
	const char *s = getenv("EVIDENT_NTP_SERVER");
	return s && *s ? s : "pool.ntp.org:123";
}

static void
put_ts(uint8_t *p, int64_t us)
{
	uint64_t secs = (uint64_t)(us / 1000000) + NTP_EPOCH_OFFSET;
	uint64_t frac = ((uint64_t)(us % 1000000) << 32) / 1000000;
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(secs >> (24 - 8 * i));
		p[4 + i] = (uint8_t)(frac >> (24 - 8 * i));
	}
}

/* An NTP timestamp as microseconds since 1970 (era 0; fine until 2036). */
static int64_t
get_ts(const uint8_t *p)
{
	uint64_t secs = 0, frac = 0;
	for (int i = 0; i < 4; i++) {
		secs = secs << 8 | p[i];
		frac = frac << 8 | p[4 + i];
	}
	return ((int64_t)secs - (int64_t)NTP_EPOCH_OFFSET) * 1000000 +
	    (int64_t)((frac * 1000000) >> 32);
}

/* Split "host", "host:port" or "[v6]:port". */
static int
split_server(const char *server, char *host, size_t hn, char *port, size_t pn)
{
	const char *colon;

	if (server == NULL || *server == '\0' || strlen(server) >= hn)
		return -1;
	if (server[0] == '[') {
		const char *end = strchr(server, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -1;
		snprintf(host, hn, "%.*s", (int)(end - server - 1), server + 1);
		snprintf(port, pn, "%s", end[1] == ':' ? end + 2 : "123");
	} else if ((colon = strrchr(server, ':')) != NULL && strchr(server, ':') == colon) {
		snprintf(host, hn, "%.*s", (int)(colon - server), server);
		snprintf(port, pn, "%s", colon + 1);
	} else {
		snprintf(host, hn, "%s", server);
		snprintf(port, pn, "123");
	}
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	return host[0] && port[0] && atoi(port) > 0 && atoi(port) < 65536 ? 0 : -1;
}

int
ev_timesync_sntp(const char *server, long timeout_ms, struct ev_timesync_result *r,
    struct ev_err *err)
{
	char host[256], port[16];
	struct addrinfo hints, *ai = NULL;
	uint8_t req[48], rep[68];
	int fd = -1, rc = EV_EIO, g;
	int64_t t1, t4;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	if (split_server(server, host, sizeof(host), port, sizeof(port)) != 0)
		return ev_errf(err, EV_EINVAL, "'%s' is not HOST, HOST:PORT or [V6]:PORT", server);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((g = getaddrinfo(host, port, &hints, &ai)) != 0)
		return ev_errf(err, EV_EIO, "%s: %s", server, gai_strerror(g));
	if ((fd = socket(ai->ai_family, SOCK_DGRAM, 0)) < 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		ev_errf(err, EV_EIO, "%s: %s", server, strerror(errno));
		goto out;
	}
	memset(req, 0, sizeof(req));
	req[0] = (0 << 6) | (4 << 3) | 3; /* LI 0, version 4, mode 3 (client) */
	t1 = ev_time_now_us();
	put_ts(req + 40, t1);
	if (send(fd, req, sizeof(req), 0) != (ssize_t)sizeof(req)) {
		ev_errf(err, EV_EIO, "%s: send: %s", server, strerror(errno));
		goto out;
	}
	/* One deadline for the whole wait: stray datagrams do not extend it. */
	int64_t deadline = t1 + (int64_t)timeout_ms * 1000;
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int64_t left = deadline - ev_time_now_us();
		int p = left <= 0 ? 0 : poll(&pfd, 1, (int)((left + 999) / 1000));
		if (p == 0) {
			ev_errf(err, EV_EIO, "%s: no answer within %ld ms", server, timeout_ms);
			goto out;
		}
		if (p < 0 && errno == EINTR)
			continue;
		n = recv(fd, rep, sizeof(rep), 0);
		t4 = ev_time_now_us();
		if (n < 0) {
			ev_errf(err, EV_EIO, "%s: %s", server, strerror(errno));
			goto out;
		}
		/* Replies that are not ours (wrong originate) are ignored, others judged. */
		if (n >= 48 && memcmp(rep + 24, req + 40, 8) == 0)
			break;
	}
	if ((rep[0] & 7) != 4 || ((rep[0] >> 3) & 7) < 1) {
		ev_errf(err, EV_EIO, "%s: not an NTP server reply (mode %d)", server, rep[0] & 7);
		goto out;
	}
	if (rep[1] == 0 || rep[1] > 15) {
		ev_errf(err, EV_EIO, "%s: stratum %d (kiss-o'-death '%.4s' or unsynchronised)",
		    server, rep[1], (const char *)rep + 12);
		goto out;
	}
	if ((rep[0] >> 6) == 3) {
		ev_errf(err, EV_EIO, "%s: server clock not synchronised (leap indicator 3)", server);
		goto out;
	}
	{
		int64_t t2 = get_ts(rep + 32), t3 = get_ts(rep + 40);
		if (get_ts(rep + 40) == -(int64_t)NTP_EPOCH_OFFSET * 1000000) {
			ev_errf(err, EV_EIO, "%s: zero transmit timestamp", server);
			goto out;
		}
		/* offset: how far the server is ahead; we record local minus server. */
		double ahead = ((double)(t2 - t1) + (double)(t3 - t4)) / 2.0;
		r->offset_ms = -ahead / 1000.0;
		r->delay_ms = ((double)(t4 - t1) - (double)(t3 - t2)) / 1000.0;
	}
	r->stratum = rep[1];
	if (rep[1] == 1)
		snprintf(r->refid, sizeof(r->refid), "%.4s", (const char *)rep + 12);
	else
		snprintf(r->refid, sizeof(r->refid), "%u.%u.%u.%u", rep[12], rep[13], rep[14], rep[15]);
	for (char *p = r->refid; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	snprintf(r->source, sizeof(r->source), "sntp");
	snprintf(r->server, sizeof(r->server), "%s", server);
	rc = EV_OK;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

int
ev_timesync_chrony(struct ev_timesync_result *r, struct ev_err *err)
{
	char line[1024], *f[16];
	size_t nf = 0;
	FILE *p;
	int st;

	memset(r, 0, sizeof(*r));
	if (access("/usr/bin/chronyc", X_OK) != 0 && access("/bin/chronyc", X_OK) != 0 &&
	    access("/usr/sbin/chronyc", X_OK) != 0)
		return ev_errf(err, EV_ENOTFOUND, "chronyc is not installed");
	if ((p = popen("chronyc -c tracking 2>/dev/null", "r")) == NULL)
		return ev_errf(err, EV_EIO, "chronyc: %s", strerror(errno));
	if (fgets(line, sizeof(line), p) == NULL)
		line[0] = '\0';
	st = pclose(p);
	if (st != 0 || line[0] == '\0')
		return ev_errf(err, EV_EIO, "chronyc -c tracking failed (is chronyd running?)");
	line[strcspn(line, "\r\n")] = '\0';
	/* refid,name,stratum,reftime,system-time,last-offset,rms,freq,... */
	for (char *s = line; s && nf < 16;) {
		char *comma = strchr(s, ',');
		if (comma)
			*comma = '\0';
		f[nf++] = s;
		s = comma ? comma + 1 : NULL;
	}
	if (nf < 6)
		return ev_errf(err, EV_EIO, "chronyc: unexpected tracking line");
	r->stratum = atoi(f[2]);
	r->offset_ms = strtod(f[4], NULL) * 1000.0;
	r->delay_ms = nf > 10 ? strtod(f[10], NULL) * 1000.0 : 0;
	snprintf(r->refid, sizeof(r->refid), "%s", f[0]);
	snprintf(r->server, sizeof(r->server), "%s", f[1]);
	snprintf(r->source, sizeof(r->source), "chrony");
	if (r->stratum < 1 || r->stratum > 15 || !isfinite(r->offset_ms))
		return ev_errf(err, EV_EIO, "chrony is not synchronised (stratum %d)", r->stratum);
	return EV_OK;
}

int
ev_timesync_record(struct ev_ledger *l, const struct ev_timesync_result *r,
    double threshold_ms, const char *actor, uint64_t *seq, int *alerted, struct ev_err *err)
{
	int within = fabs(r->offset_ms) <= threshold_ms, rc, one = 0;
	json_t *b;
	char *text;
	struct ev_entry_in in;
	uint64_t s = 0;

	if (alerted)
		*alerted = 0;
	b = json_pack("{s:s,s:s,s:f,s:f,s:i,s:s,s:f,s:b}", "server", r->server, "source",
	    r->source, "offset_ms", round(r->offset_ms * 1000) / 1000, "delay_ms",
	    round(r->delay_ms * 1000) / 1000, "stratum", r->stratum, "refid", r->refid,
	    "threshold_ms", threshold_ms, "within_threshold", within);
	if (b == NULL)
		return ev_errf(err, EV_EINVAL, "time-sync result is not valid text");
	text = ev_json_dump(b);
	json_decref(b);
	in.kind = "clock.synced";
	in.subject = "timesync";
	in.actor = actor;
	in.body = text;
	in.body_len = strlen(text);
	if ((rc = ev_ledger_begin(l, err)) != EV_OK) {
		free(text);
		return rc;
	}
	rc = ev_ledger_append(l, &in, 1, &s, err);
	free(text);
	if (rc == EV_OK && !within) {
		char key[64], title[256], why[512];
		snprintf(key, sizeof(key), "offset:%llu", (unsigned long long)s);
		snprintf(title, sizeof(title), "clock offset %.1f ms exceeds %.0f ms", r->offset_ms,
		    threshold_ms);
		snprintf(why, sizeof(why), "%s %s (stratum %d): offset %.3f ms, threshold %.0f ms; "
		    "entry %llu", r->source, r->server, r->stratum, r->offset_ms, threshold_ms,
		    (unsigned long long)s);
		json_t *x = json_pack("{s:I,s:f}", "sync_seq", (json_int_t)s, "offset_ms", r->offset_ms);
		rc = ev_registers_raise(l, "timesync", key, "high", title, why, x, &one, err);
		json_decref(x);
	}
	if (rc != EV_OK) {
		ev_ledger_rollback(l);
		return rc;
	}
	if ((rc = ev_ledger_commit(l, err)) != EV_OK)
		return rc;
	if (seq)
		*seq = s;
	if (alerted)
		*alerted = one;
	return EV_OK;
}

struct last {
	uint64_t seq;
	int64_t time;
};

static int
last_cb(const struct ev_entry *e, void *arg)
{
	struct last *x = arg;
	x->seq = e->seq;
	x->time = e->time_us;
	return 0x7fff;
}

int
ev_timesync_status(struct ev_ledger *l, int64_t now, int64_t max_age_us, int raise, int *ok,
    uint64_t *last_seq, int64_t *last_us, int *alerted, struct ev_err *err)
{
	struct ev_query q = { 0 };
	struct last x = { 0, 0 };
	int rc, one = 0;

	if (max_age_us <= 0)
		max_age_us = EV_TIMESYNC_MAX_AGE_US;
	q.kind = "clock.synced";
	q.until_us = now;
	q.descending = 1;
	q.limit = 1;
	rc = ev_ledger_scan(l, &q, last_cb, &x, err);
	if (rc != EV_OK && rc != 0x7fff)
		return rc;
	*ok = x.seq != 0 && now - x.time <= max_age_us;
	if (last_seq)
		*last_seq = x.seq;
	if (last_us)
		*last_us = x.time;
	if (!*ok && raise) {
		char key[64], title[160], why[256], t[EV_TIME_STRLEN] = "never";
		if (x.seq)
			ev_time_format(x.time, t);
		/* Once per missed sync: the key names the last sync we had. */
		snprintf(key, sizeof(key), "stale:%llu", (unsigned long long)x.seq);
		snprintf(title, sizeof(title), "no clock synchronisation recorded in the last %lld h",
		    (long long)(max_age_us / 3600000000LL));
		snprintf(why, sizeof(why), "last clock.synced entry: %s%s%llu", t,
		    x.seq ? ", seq " : "", (unsigned long long)x.seq);
		if (x.seq == 0)
			snprintf(why, sizeof(why), "no clock.synced entry at all");
		json_t *extra = json_pack("{s:I}", "last_sync_seq", (json_int_t)x.seq);
		rc = ev_registers_raise(l, "timesync", key, "high", title, why, extra, &one, err);
		json_decref(extra);
		if (rc != EV_OK)
			return rc;
	}
	if (alerted)
		*alerted = one;
	return EV_OK;
}

int
ev_timesync_daily(struct ev_ledger *l, const char *server, double threshold_ms, int64_t now,
    struct ev_err *err)
{
	struct ev_timesync_result r;
	struct ev_err qerr = { 0 };
	int rc, ok, alerted;

	if (server == NULL) {
		rc = ev_timesync_chrony(&r, &qerr);
		if (rc == EV_ENOTFOUND)
			rc = ev_timesync_sntp(ev_timesync_default_server(), 5000, &r, &qerr);
	} else {
		rc = ev_timesync_sntp(server, 5000, &r, &qerr);
	}
	if (rc != EV_OK) {
		char key[96];
		snprintf(key, sizeof(key), "failed:%lld", (long long)(now / 86400000000LL));
		ev_registers_raise(l, "timesync", key, "high", "time synchronisation check failed",
		    qerr.msg, NULL, NULL, NULL);
		if (err)
			*err = qerr;
		return rc;
	}
	if ((rc = ev_timesync_record(l, &r, threshold_ms, "system", NULL, NULL, err)) != EV_OK)
		return rc;
	return ev_timesync_status(l, now, 0, 1, &ok, NULL, NULL, &alerted, err);
}
