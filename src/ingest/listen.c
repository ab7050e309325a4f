/*
 * listen.c - the daemon's main loop and intake: syslog UDP/TCP listeners and
 * file tails feeding one pipeline (see ingest.h).
 *
 * Everything runs in one thread around poll(2).  Input is copied into the
 * pipeline's queue as soon as it is read; the daemon commits that queue
 * every 200 ms or when a batch fills (cmd_serve.c).  When the queue reaches
 * max_pending lines the intake stops polling its descriptors, so overload
 * turns into TCP back-pressure, files read later, and UDP datagrams dropped
 * by the kernel: never into silent loss inside evident.  Every refusal is
 * counted (ev_intake_stats).
 *
 * Sizes: a frame or datagram line over EV_INGEST_MAX_LINE is refused and
 * counted; an octet count is at most 7 digits.  Listeners bind where told;
 * the defaults are loopback (cmd_serve.c).
 */
#include "ingest/ingest.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/timeutil.h"

/* ---- the loop ---- */

struct io_w {
	int fd;
	short events;
	ev_io_cb cb;
	void *arg;
	int dead;
};

struct timer_w {
	int64_t every, due;
	ev_timer_cb cb;
	void *arg;
};

struct prep_w {
	ev_prepare_cb cb;
	void *arg;
};

struct ev_loop {
	struct io_w *io;
	size_t nio, capio;
	struct timer_w *tm;
	size_t ntm;
	struct prep_w *prep;
	size_t nprep;
	struct pollfd *pfd;
	size_t cappfd;
	int sigfd;
	sigset_t oldmask;
	int stop;
	int signo;
};

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
ev_loop_new(struct ev_loop **out, struct ev_err *err)
{
	struct ev_loop *lp = ev_xcalloc(1, sizeof(*lp));
	sigset_t m;

	sigemptyset(&m);
	sigaddset(&m, SIGTERM);
	sigaddset(&m, SIGINT);
	sigaddset(&m, SIGHUP); /* by default it would kill the daemon with lines still queued */
	if (sigprocmask(SIG_BLOCK, &m, &lp->oldmask) != 0 ||
	    (lp->sigfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		free(lp);
		return ev_errf(err, EV_EIO, "signalfd: %s", strerror(errno));
	}
	/* A closed peer must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	*out = lp;
	return EV_OK;
}

void
ev_loop_free(struct ev_loop *lp)
{
	if (lp == NULL)
		return;
	close(lp->sigfd);
	sigprocmask(SIG_SETMASK, &lp->oldmask, NULL);
	free(lp->io);
	free(lp->tm);
	free(lp->prep);
	free(lp->pfd);
	free(lp);
}

int
ev_loop_add_fd(struct ev_loop *lp, int fd, short events, ev_io_cb cb, void *arg)
{
	if (lp->nio == lp->capio) {
		lp->capio = lp->capio ? lp->capio * 2 : 16;
		lp->io = ev_xrealloc(lp->io, lp->capio * sizeof(*lp->io));
	}
	lp->io[lp->nio].fd = fd;
	lp->io[lp->nio].events = events;
	lp->io[lp->nio].cb = cb;
	lp->io[lp->nio].arg = arg;
	lp->io[lp->nio].dead = 0;
	lp->nio++;
	return 0;
}

void
ev_loop_set_events(struct ev_loop *lp, int fd, short events)
{
	for (size_t i = 0; i < lp->nio; i++)
		if (lp->io[i].fd == fd && !lp->io[i].dead)
			lp->io[i].events = events;
}

void
ev_loop_del_fd(struct ev_loop *lp, int fd)
{
	/* Marked here, removed after the dispatch pass that may still be iterating. */
	for (size_t i = 0; i < lp->nio; i++)
		if (lp->io[i].fd == fd)
			lp->io[i].dead = 1;
}

int
ev_loop_add_timer(struct ev_loop *lp, int64_t every_us, ev_timer_cb cb, void *arg)
{
	lp->tm = ev_xrealloc(lp->tm, (lp->ntm + 1) * sizeof(*lp->tm));
	lp->tm[lp->ntm].every = every_us > 1000 ? every_us : 1000;
	lp->tm[lp->ntm].due = mono_us() + lp->tm[lp->ntm].every;
	lp->tm[lp->ntm].cb = cb;
	lp->tm[lp->ntm].arg = arg;
	lp->ntm++;
	return 0;
}

int
ev_loop_add_prepare(struct ev_loop *lp, ev_prepare_cb cb, void *arg)
{
	lp->prep = ev_xrealloc(lp->prep, (lp->nprep + 1) * sizeof(*lp->prep));
	lp->prep[lp->nprep].cb = cb;
	lp->prep[lp->nprep].arg = arg;
	lp->nprep++;
	return 0;
}

void
ev_loop_stop(struct ev_loop *lp)
{
	lp->stop = 1;
}

int
ev_loop_run(struct ev_loop *lp)
{
	while (!lp->stop) {
		int64_t now = mono_us(), wait = 1000000;
		size_t n = 0, k;
		int r;

		for (size_t i = 0; i < lp->nprep; i++)
			lp->prep[i].cb(lp, lp->prep[i].arg);
		/* Compact away deleted watchers. */
		for (size_t i = k = 0; i < lp->nio; i++)
			if (!lp->io[i].dead)
				lp->io[k++] = lp->io[i];
		lp->nio = k;
		if (lp->cappfd < lp->nio + 1) {
			lp->cappfd = lp->nio + 16;
			lp->pfd = ev_xrealloc(lp->pfd, lp->cappfd * sizeof(*lp->pfd));
		}
		lp->pfd[n].fd = lp->sigfd;
		lp->pfd[n].events = POLLIN;
		lp->pfd[n++].revents = 0;
		for (size_t i = 0; i < lp->nio; i++) {
			lp->pfd[n].fd = lp->io[i].events ? lp->io[i].fd : -1;
			lp->pfd[n].events = lp->io[i].events;
			lp->pfd[n++].revents = 0;
		}
		for (size_t i = 0; i < lp->ntm; i++)
			if (lp->tm[i].due - now < wait)
				wait = lp->tm[i].due - now;
		if (wait < 0)
			wait = 0;
		r = poll(lp->pfd, n, (int)((wait + 999) / 1000));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && (lp->pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(lp->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
			    si.ssi_signo != SIGHUP) {
				lp->signo = (int)si.ssi_signo;
				break;
			}
		}
		if (r > 0) {
			size_t nio = lp->nio; /* callbacks may add watchers: they wait a round */
			for (size_t i = 0; i < nio; i++) {
				struct io_w w = lp->io[i];
				short re = lp->pfd[i + 1].revents;
				if (re && !w.dead && lp->pfd[i + 1].fd >= 0)
					w.cb(lp, w.fd, re, w.arg);
			}
		}
		now = mono_us();
		for (size_t i = 0; i < lp->ntm; i++) {
			if (lp->tm[i].due <= now) {
				lp->tm[i].due = now + lp->tm[i].every;
				lp->tm[i].cb(lp, ev_time_now_us(), lp->tm[i].arg);
			}
		}
	}
	return lp->signo;
}

/* ---- the intake ---- */

#define MAX_CONNS 256
#define TCP_BUF (EV_INGEST_MAX_LINE + 64)

struct tcp_conn {
	struct ev_intake *in;
	size_t listener;
	int fd;
	char *buf;
	size_t len;
	size_t discard; /* bytes of a refused octet-counted frame still to skip */
	int skip_to_lf; /* inside a refused LF frame */
};

struct listener {
	struct ev_intake *in;
	int fd;
	int udp;
	char *source;
	size_t index;
	uint64_t ovfl; /* SO_RXQ_OVFL: the kernel's running count of drops on this socket */
};

struct tail {
	struct ev_intake *in;
	char *source, *path;
	int fd;
	dev_t dev;
	ino_t ino;
	off_t off;
	int started;
	int from_start;
	struct ev_lines lb;
	/* The file's first bytes as last read: copytruncate followed by new writes
	 * beyond the old offset shows up as different first bytes, not as a
	 * smaller size. */
	char fp[256];
	size_t fplen;
};

struct ev_intake {
	struct ev_loop *lp;
	struct ev_ingest *p;
	size_t max_pending;
	void (*log)(const char *msg, void *arg);
	void *log_arg;
	struct listener **ls;
	size_t nls;
	struct tcp_conn *conns[MAX_CONNS];
	size_t nconns;
	struct tail *tails;
	size_t ntails;
	int paused;
	char *state_path; /* tail offsets survive restarts (ev_intake_tail_state) */
	struct ev_intake_stats st;
	char *dgram;
	const char *cur_source; /* for the line callbacks */
	uint64_t *cur_count;
};

static void
ilog(struct ev_intake *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
ilog(struct ev_intake *in, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (in->log)
		in->log(msg, in->log_arg);
}

void
ev_intake_flush_failed(struct ev_intake *in, const struct ev_err *err)
{
	in->st.ingest_errors++;
	/* Say it now and then, not for every retry. */
	if (in->st.ingest_errors <= 3 || in->st.ingest_errors % 100 == 0)
		ilog(in, "cannot record lines (%zu queued, will retry): %s", ev_ingest_pending(in->p),
		    err->msg[0] ? err->msg : ev_strerror(err->code));
}

static void
push_line(struct ev_intake *in, const char *source, const char *line, size_t len, size_t full)
{
	struct ev_err err = { 0 };

	if (ev_ingest_line_cut(in->p, source, line, len, full, &err) != EV_OK)
		ev_intake_flush_failed(in, &err);
}

static void
prepare(struct ev_loop *lp, void *arg)
{
	struct ev_intake *in = arg;
	int pause = ev_ingest_pending(in->p) >= in->max_pending;

	if (pause == in->paused)
		return;
	in->paused = pause;
	if (pause)
		ilog(in, "queue full (%zu lines): reading paused until the store catches up",
		    ev_ingest_pending(in->p));
	for (size_t i = 0; i < in->nls; i++)
		ev_loop_set_events(lp, in->ls[i]->fd, pause ? 0 : POLLIN);
	for (size_t i = 0; i < in->nconns; i++)
		ev_loop_set_events(lp, in->conns[i]->fd, pause ? 0 : POLLIN);
}

int
ev_intake_new(struct ev_loop *lp, struct ev_ingest *p, size_t max_pending,
    void (*log)(const char *msg, void *arg), void *log_arg, struct ev_intake **out)
{
	struct ev_intake *in = ev_xcalloc(1, sizeof(*in));

	in->lp = lp;
	in->p = p;
	in->max_pending = max_pending ? max_pending : 100000;
	in->log = log;
	in->log_arg = log_arg;
	in->dgram = ev_xmalloc(EV_INGEST_MAX_LINE + 1);
	ev_loop_add_prepare(lp, prepare, in);
	*out = in;
	return EV_OK;
}

static void
conn_close(struct ev_intake *in, struct tcp_conn *c)
{
	ev_loop_del_fd(in->lp, c->fd);
	close(c->fd);
	for (size_t i = 0; i < in->nconns; i++) {
		if (in->conns[i] == c) {
			in->conns[i] = in->conns[--in->nconns];
			break;
		}
	}
	free(c->buf);
	free(c);
}

void
ev_intake_free(struct ev_intake *in)
{
	if (in == NULL)
		return;
	while (in->nconns)
		conn_close(in, in->conns[0]);
	for (size_t i = 0; i < in->nls; i++) {
		close(in->ls[i]->fd);
		free(in->ls[i]->source);
		free(in->ls[i]);
	}
	for (size_t i = 0; i < in->ntails; i++) {
		if (in->tails[i].fd >= 0)
			close(in->tails[i].fd);
		free(in->tails[i].source);
		free(in->tails[i].path);
		ev_lines_free(&in->tails[i].lb);
	}
	free(in->ls);
	free(in->tails);
	free(in->state_path);
	free(in->dgram);
	free(in);
}

/* Drops the kernel counted for the UDP socket with this inode (/proc/net/udp{,6}). */
static uint64_t
proc_udp_drops(unsigned long long inode)
{
	static const char *const files[] = { "/proc/net/udp", "/proc/net/udp6" };
	uint64_t drops = 0;

	for (size_t k = 0; k < 2; k++) {
		FILE *f = fopen(files[k], "r");
		char line[512];
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f)) {
			/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops */
			char *fld[16];
			int n = 0;
			for (char *tok = strtok(line, " \t\n"); tok && n < 16; tok = strtok(NULL, " \t\n"))
				fld[n++] = tok;
			if (n >= 13 && strtoull(fld[9], NULL, 10) == inode)
				drops += strtoull(fld[12], NULL, 10);
		}
		fclose(f);
	}
	return drops;
}

void
ev_intake_get_stats(const struct ev_intake *in, struct ev_intake_stats *st)
{
	uint64_t proc = 0, ovfl = 0;

	*st = in->st;
	for (size_t i = 0; i < in->nls; i++)
		ovfl += in->ls[i]->ovfl;
	st->udp_kernel_drops = ovfl;
	/* SO_RXQ_OVFL reports drops only with the next datagram received; the
	 * kernel's table knows them at once. */
	for (size_t i = 0; i < in->nls; i++) {
		struct stat sb;
		if (in->ls[i]->udp && fstat(in->ls[i]->fd, &sb) == 0)
			proc += proc_udp_drops((unsigned long long)sb.st_ino);
	}
	if (proc > st->udp_kernel_drops)
		st->udp_kernel_drops = proc;
}

/* ---- sockets ---- */

static int
resolve(const char *addr, int socktype, struct sockaddr_storage *ss, socklen_t *sl,
    struct ev_err *err)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints, *res = NULL;
	size_t hl;
	int r;

	if (colon == NULL || colon == addr || colon[1] == '\0')
		return ev_errf(err, EV_EINVAL, "address '%s' is not HOST:PORT", addr);
	hl = (size_t)(colon - addr);
	if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return ev_errf(err, EV_EINVAL, "address '%s' is too long", addr);
	memcpy(host, addr, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, colon + 1, &hints, &res)) != 0 || res == NULL)
		return ev_errf(err, EV_EINVAL, "address '%s': %s", addr, gai_strerror(r));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return EV_OK;
}

static void
addr_text(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char h[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof(h));
		port = ntohs(a->sin_port);
		snprintf(out, n, "%s:%u", h, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof(h));
		port = ntohs(a->sin6_port);
		snprintf(out, n, "[%s]:%u", h, port);
	} else {
		snprintf(out, n, "?");
	}
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

static void
udp_read(struct ev_loop *lp, int fd, short re, void *arg)
{
	struct listener *L = arg;
	struct ev_intake *in = L->in;

	/* A bounded number per wake-up so one busy socket cannot starve the others. */
	for (int k = 0; k < 4096 && ev_ingest_pending(in->p) < in->max_pending; k++) {
		char cbuf[CMSG_SPACE(sizeof(uint32_t))];
		struct iovec iov = { in->dgram, EV_INGEST_MAX_LINE + 1 };
		struct msghdr mh;
		struct cmsghdr *cm;
		ssize_t n;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			break;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
				uint32_t drops;
				memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
				L->ovfl = drops;
			}
		}
		in->st.udp_messages++;
		if ((size_t)n > EV_INGEST_MAX_LINE) {
			in->st.refused_oversized++;
			continue;
		}
		/* RFC 5426: one message per datagram, embedded newlines and all; only
		 * trailing CR, LF and NUL are framing left by senders. */
		{
			size_t len = (size_t)n;
			while (len > 0 && (in->dgram[len - 1] == '\n' || in->dgram[len - 1] == '\r' ||
					      in->dgram[len - 1] == '\0'))
				len--;
			if (len > 0)
				push_line(in, L->source, in->dgram, len, len);
		}
	}
}

/* Consume complete frames from c->buf; returns bytes used. */
static size_t
tcp_frames(struct tcp_conn *c, const char *source, int at_eof)
{
	struct ev_intake *in = c->in;
	size_t pos = 0;

	while (pos < c->len) {
		const char *p = c->buf + pos;
		size_t n = c->len - pos, i = 0;

		if (c->discard) {
			size_t d = c->discard < n ? c->discard : n;
			c->discard -= d;
			pos += d;
			continue;
		}
		if (c->skip_to_lf) {
			const char *nl = memchr(p, '\n', n);
			if (nl == NULL) {
				pos = c->len;
				break;
			}
			pos += (size_t)(nl - p) + 1;
			c->skip_to_lf = 0;
			continue;
		}
		while (i < n && i < 8 && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i > 0 && i < n && i <= 7 && p[i] == ' ' && p[0] != '0') {
			/* RFC 6587 octet counting: MSG-LEN SP SYSLOG-MSG */
			size_t mlen = 0;
			for (size_t k = 0; k < i; k++)
				mlen = mlen * 10 + (size_t)(p[k] - '0');
			if (mlen > EV_INGEST_MAX_LINE) {
				in->st.refused_oversized++;
				pos += i + 1;
				c->discard = mlen;
				continue;
			}
			if (n - i - 1 < mlen) {
				if (at_eof) {
					in->st.refused_partial++;
					pos = c->len;
				}
				break;
			}
			{
				const char *m = p + i + 1;
				size_t ml = mlen;
				while (ml > 0 && (m[ml - 1] == '\n' || m[ml - 1] == '\r'))
					ml--;
				in->st.tcp_frames++;
				if (ml > 0)
					push_line(in, source, m, ml, ml);
			}
			pos += i + 1 + mlen;
			continue;
		}
		if (i == n && i <= 7 && !at_eof)
			break; /* only digits so far: wait to see what framing this is */
		{
			const char *nl = memchr(p, '\n', n);
			size_t ll;
			if (nl == NULL) {
				if (n > EV_INGEST_MAX_LINE) {
					in->st.refused_oversized++;
					c->skip_to_lf = 1;
					pos = c->len;
					break;
				}
				if (!at_eof)
					break;
				ll = n; /* the peer closed after a last line without LF: keep it */
				pos = c->len;
			} else {
				ll = (size_t)(nl - p);
				pos += ll + 1;
			}
			if (ll > EV_INGEST_MAX_LINE) {
				in->st.refused_oversized++;
				continue;
			}
			while (ll > 0 && (p[ll - 1] == '\r' || p[ll - 1] == '\0'))
				ll--;
			in->st.tcp_frames++;
			if (ll > 0)
				push_line(in, source, p, ll, ll);
		}
	}
	return pos;
}

/* Read what the connection has; 1 when it is finished (closed or failed). */
static int
tcp_pump(struct tcp_conn *c)
{
	struct ev_intake *in = c->in;
	const char *source = in->ls[c->listener]->source;

	for (int k = 0; k < 64; k++) {
		ssize_t n;
		size_t used;

		if (ev_ingest_pending(in->p) >= in->max_pending)
			return 0;
		n = recv(c->fd, c->buf + c->len, TCP_BUF - c->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			tcp_frames(c, source, 1);
			return 1;
		}
		c->len += (size_t)n;
		used = tcp_frames(c, source, 0);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		/* A frame that cannot fit is refused by tcp_frames, so the buffer never fills. */
		assert(c->len < TCP_BUF);
	}
	return 0;
}

static void
tcp_read(struct ev_loop *lp, int fd, short re, void *arg)
{
	struct tcp_conn *c = arg;

	if (tcp_pump(c))
		conn_close(c->in, c);
}

static void
tcp_accept(struct ev_loop *lp, int fd, short re, void *arg)
{
	struct listener *L = arg;
	struct ev_intake *in = L->in;

	for (int k = 0; k < 64; k++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct tcp_conn *c;

		if (cfd < 0)
			break;
		if (in->nconns >= MAX_CONNS) {
			in->st.refused_connections++;
			close(cfd);
			continue;
		}
		c = ev_xcalloc(1, sizeof(*c));
		c->in = in;
		c->listener = L->index;
		c->fd = cfd;
		c->buf = ev_xmalloc(TCP_BUF);
		in->conns[in->nconns++] = c;
		in->st.tcp_connections++;
		ev_loop_add_fd(lp, cfd, in->paused ? 0 : POLLIN, tcp_read, c);
	}
}

static int
listen_on(struct ev_intake *in, const char *source, const char *addr, int udp, char *bound,
    size_t boundlen, struct ev_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct listener *L;
	int fd, one = 1, rc;
	char text[128];

	if (!ev_source_name_ok(source))
		return ev_errf(err, EV_EINVAL, "invalid source name '%s'", source);
	if ((rc = resolve(addr, udp ? SOCK_DGRAM : SOCK_STREAM, &ss, &sl, err)) != EV_OK)
		return rc;
	fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ev_errf(err, EV_EIO, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (udp) {
		int rcv = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || (!udp && listen(fd, 128) != 0)) {
		rc = ev_errf(err, EV_EIO, "%s %s: %s", udp ? "udp" : "tcp", addr, strerror(errno));
		close(fd);
		return rc;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	addr_text(&ss, text, sizeof(text));
	if (bound)
		snprintf(bound, boundlen, "%s", text);
	if (!is_loopback(&ss))
		ilog(in, "warning: syslog %s listener on %s is not loopback-only: anyone who can reach "
			 "it can write log lines",
		    udp ? "udp" : "tcp", text);
	in->ls = ev_xrealloc(in->ls, (in->nls + 1) * sizeof(*in->ls));
	L = ev_xcalloc(1, sizeof(*L));
	L->in = in;
	L->fd = fd;
	L->udp = udp;
	L->source = ev_xstrdup(source);
	L->index = in->nls;
	in->ls[in->nls++] = L;
	ev_loop_add_fd(in->lp, fd, in->paused ? 0 : POLLIN, udp ? udp_read : tcp_accept, L);
	return EV_OK;
}

int
ev_intake_udp(struct ev_intake *in, const char *source, const char *addr, char *bound,
    size_t boundlen, struct ev_err *err)
{
	return listen_on(in, source, addr, 1, bound, boundlen, err);
}

int
ev_intake_tcp(struct ev_intake *in, const char *source, const char *addr, char *bound,
    size_t boundlen, struct ev_err *err)
{
	return listen_on(in, source, addr, 0, bound, boundlen, err);
}

/* ---- file tails ---- */

static int
tail_line(const char *line, size_t len, size_t full, void *arg)
{
	struct tail *t = arg;

	t->in->st.tail_lines++;
	push_line(t->in, t->source, line, len, full);
	return 0;
}

static void
tail_open(struct tail *t)
{
	struct stat sb;
	int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return;
	}
	t->fd = fd;
	t->dev = sb.st_dev;
	t->ino = sb.st_ino;
	t->off = 0;
	t->fplen = 0;
	/* A file present when the daemon starts is followed from its end (like tail -f)
	 * unless told otherwise; a file that appears later is read from its start. */
	if (!t->started && !t->from_start)
		t->off = lseek(fd, 0, SEEK_END);
	t->started = 1;
}

/* Read what the open file holds; limit bytes (0: to the end). */
static void
tail_read(struct tail *t, size_t limit)
{
	static char buf[1 << 16];
	size_t done = 0;

	while (t->fd >= 0 && (limit == 0 || done < limit)) {
		ssize_t n;
		if (limit && ev_ingest_pending(t->in->p) >= t->in->max_pending)
			break;
		n = pread(t->fd, buf, sizeof(buf), t->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		t->off += n;
		done += (size_t)n;
		ev_lines_feed(&t->lb, buf, (size_t)n, tail_line, t);
	}
	if (t->fd >= 0 && t->fplen < sizeof(t->fp) && (off_t)t->fplen < t->off) {
		ssize_t n = pread(t->fd, t->fp, sizeof(t->fp) < (size_t)t->off ? sizeof(t->fp)
									  : (size_t)t->off, 0);
		t->fplen = n > 0 ? (size_t)n : 0;
	}
}

/* 1 when the first bytes of the open file are no longer what was read. */
static int
tail_rewritten(struct tail *t)
{
	char now[sizeof(t->fp)];
	ssize_t n;

	if (t->fplen == 0)
		return 0;
	n = pread(t->fd, now, t->fplen, 0);
	return n != (ssize_t)t->fplen || memcmp(now, t->fp, t->fplen) != 0;
}

static void
tail_check(struct tail *t, int drain)
{
	struct stat sb;

	if (t->fd < 0) {
		tail_open(t);
		if (t->fd < 0)
			return;
	}
	if (tail_rewritten(t)) {
		/* copytruncate, then more than the old size written before we looked. */
		ev_lines_finish(&t->lb, tail_line, t);
		t->off = 0;
		t->fplen = 0;
		t->in->st.tail_truncations++;
	}
	tail_read(t, drain ? 0 : (8u << 20));
	if (stat(t->path, &sb) != 0)
		return; /* moved away and not yet re-created: keep reading the old one */
	if (sb.st_ino != t->ino || sb.st_dev != t->dev) {
		/* Rotated by rename + create: finish the old file, then start the new one. */
		tail_read(t, 0);
		ev_lines_finish(&t->lb, tail_line, t);
		close(t->fd);
		t->fd = -1;
		t->in->st.tail_rotations++;
		tail_open(t);
		tail_read(t, drain ? 0 : (8u << 20));
		return;
	}
	if (sb.st_size < t->off) {
		/* copytruncate: the file was copied and cut; whatever it holds now is new. */
		ev_lines_finish(&t->lb, tail_line, t);
		t->off = 0;
		t->fplen = 0;
		t->in->st.tail_truncations++;
		tail_read(t, drain ? 0 : (8u << 20));
	}
}

static void
tail_timer(struct ev_loop *lp, int64_t now, void *arg)
{
	struct ev_intake *in = arg;

	for (size_t i = 0; i < in->ntails; i++)
		if (ev_ingest_pending(in->p) < in->max_pending)
			tail_check(&in->tails[i], 0);
}


/* ---- tail offsets across restarts ----
 *
 * After every commit that leaves nothing queued, each tail's position (the
 * start of the first byte not yet recorded) is written to the state file:
 * "dev ino offset fplen fphex path" per line, replaced atomically.  At start,
 * a tail whose file is the same (device, inode, first bytes) resumes there;
 * a file that changed while the daemon was down is read from its start.
 */

static void
hex_enc(const char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[(unsigned char)in[i] >> 4];
		out[2 * i + 1] = hx[(unsigned char)in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
tail_resume(struct ev_intake *in, struct tail *t)
{
	FILE *f;
	char line[5000];

	if (in->state_path == NULL || (f = fopen(in->state_path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long dev, ino, off;
		unsigned fplen;
		int pos = 0;
		char fphex[2 * sizeof(t->fp) + 2], cur[2 * sizeof(t->fp) + 1], now[sizeof(t->fp)];
		size_t ll = strlen(line);
		ssize_t n;
		int same;

		if (ll && line[ll - 1] == '\n')
			line[--ll] = '\0';
		if (sscanf(line, "%llu %llu %llu %u %513s %n", &dev, &ino, &off, &fplen, fphex, &pos) != 5 ||
		    pos <= 0 || strcmp(line + pos, t->path) != 0 || fplen > sizeof(t->fp))
			continue;
		if (t->fd < 0) {
			t->started = 1; /* known before, gone now: read it whole when it returns */
			break;
		}
		n = fplen ? pread(t->fd, now, fplen, 0) : 0;
		cur[0] = '\0';
		if (n > 0)
			hex_enc(now, (size_t)n, cur);
		same = (unsigned long long)t->dev == dev && (unsigned long long)t->ino == ino &&
		    (fplen == 0 || (n == (ssize_t)fplen && strcmp(cur, fphex) == 0)) &&
		    lseek(t->fd, 0, SEEK_END) >= (off_t)off;
		if (same) {
			t->off = (off_t)off;
			ilog(in, "tail %s: resuming at byte %llu", t->path, off);
		} else {
			t->off = 0;
			ilog(in, "tail %s: the file changed while evident was not running: reading it from "
				 "the start", t->path);
		}
		break;
	}
	fclose(f);
}

void
ev_intake_tail_state(struct ev_intake *in, const char *path)
{
	free(in->state_path);
	in->state_path = path ? ev_xstrdup(path) : NULL;
}

int
ev_intake_save_state(struct ev_intake *in)
{
	struct ev_buf tmp = EV_BUF_INIT, b = EV_BUF_INIT;
	int fd, rc = -1;

	if (in->state_path == NULL || in->ntails == 0 || ev_ingest_pending(in->p) != 0)
		return 0;
	for (size_t i = 0; i < in->ntails; i++) {
		struct tail *t = &in->tails[i];
		char fphex[2 * sizeof(t->fp) + 1];
		if (t->fd < 0)
			continue;
		hex_enc(t->fp, t->fplen, fphex);
		ev_buf_addf(&b, "%llu %llu %llu %zu %s %s\n", (unsigned long long)t->dev,
		    (unsigned long long)t->ino, (unsigned long long)(t->off - (off_t)t->lb.full),
		    t->fplen, t->fplen ? fphex : "-", t->path);
	}
	ev_buf_addf(&tmp, "%s.tmp", in->state_path);
	fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, b.p ? b.p : "", b.len) == (ssize_t)b.len && fsync(fd) == 0 &&
		    rename(tmp.p, in->state_path) == 0)
			rc = 0;
		close(fd);
	}
	ev_buf_free(&tmp);
	ev_buf_free(&b);
	return rc;
}

int
ev_intake_tail(struct ev_intake *in, const char *source, const char *path, int from_start,
    struct ev_err *err)
{
	struct tail *t;

	if (!ev_source_name_ok(source))
		return ev_errf(err, EV_EINVAL, "invalid source name '%s'", source);
	if (path == NULL || *path == '\0')
		return ev_errf(err, EV_EINVAL, "--tail needs SOURCE=PATH");
	if (in->ntails == 0)
		ev_loop_add_timer(in->lp, 100000, tail_timer, in);
	in->tails = ev_xrealloc(in->tails, (in->ntails + 1) * sizeof(*in->tails));
	t = &in->tails[in->ntails++];
	memset(t, 0, sizeof(*t));
	t->in = in;
	t->source = ev_xstrdup(source);
	t->path = ev_xstrdup(path);
	t->fd = -1;
	t->from_start = from_start;
	tail_open(t);
	tail_resume(in, t);
	if (t->fd < 0) {
		t->started = 1; /* not there yet: when it appears, read it whole */
		ilog(in, "tail %s: %s does not exist yet; waiting for it", source, path);
	}
	return EV_OK;
}

void
ev_intake_drain(struct ev_intake *in)
{
	int more = 1;

	/* Datagrams and connections the kernel already accepted, including ones
	 * still in the accept queue, then every file to its end. */
	for (int round = 0; round < 1000 && more; round++) {
		uint64_t before = in->st.udp_messages + in->st.tcp_frames + in->st.tcp_connections;
		for (size_t i = 0; i < in->nls; i++) {
			if (in->ls[i]->udp)
				udp_read(in->lp, in->ls[i]->fd, POLLIN, in->ls[i]);
			else
				tcp_accept(in->lp, in->ls[i]->fd, POLLIN, in->ls[i]);
		}
		for (size_t i = 0; i < in->nconns;) {
			struct tcp_conn *c = in->conns[i];
			if (tcp_pump(c))
				conn_close(in, c);
			else
				i++;
		}
		more = in->st.udp_messages + in->st.tcp_frames + in->st.tcp_connections != before;
	}
	/* Open connections: a last line without LF counts as complete at shutdown. */
	for (size_t i = 0; i < in->nconns; i++) {
		struct tcp_conn *c = in->conns[i];
		tcp_frames(c, in->ls[c->listener]->source, 1);
		c->len = 0;
	}
	for (size_t i = 0; i < in->ntails; i++) {
		tail_check(&in->tails[i], 1);
		ev_lines_finish(&in->tails[i].lb, tail_line, &in->tails[i]);
	}
}
