/*
 * ingest.h - the log intake: lines in, `log` entries and alerts out.
 *
 * One pipeline (struct ev_ingest) takes raw lines from any feeder (the
 * `ingest` command's files and stdin, the daemon's syslog listeners and file
 * tails), queues them, and at each flush: parse (parse.h) -> one `log` entry
 * per line -> the Sigma rules (rules.h) with the line's seq -> one
 * `alert.raised` entry per match, then hands the batch to the ledger's writer
 * thread (ev_stream) which hashes, bundles and commits it as one transaction
 * while the next batch is built.  Seqs are known before the commit (the
 * stream holds the ledger's append lease), so an alert names the seqs of the
 * lines that raised it and its own seq is the alert id.  A batch that fails
 * to commit goes back, with everything after it, to the front of the queue;
 * the retry runs them through the rules again, so a correlation may count a
 * retried line twice (rare: only after a store failure).
 *
 * A line that does not parse is stored raw with "parsed":false and the
 * parser's reason; a line longer than EV_INGEST_MAX_LINE is stored cut at
 * that size with "truncated" giving its full length.  Invalid UTF-8 is
 * replaced by U+FFFD in "raw" and the exact bytes are kept in "raw_base64".
 * Nothing accepted into the pipeline is dropped.
 *
 * Log entry body (canonical JSON):
 *   {"error":reason (unparsed only),"event_time":RFC3339 (when known),
 *    "fields":{name:value,...},"format":"rfc5424|rfc3164|json|auto",
 *    "parsed":bool,"raw":line[,"raw_base64":..][,"truncated":N]}
 * kind "log", subject the source name, actor "source:NAME" (or opts.actor).
 *
 * The log-source inventory (sources.c) is a projection of `source.registered`
 * entries plus per-day line counts from `log` entries; a line from a source
 * nobody registered auto-registers it (no categories, "auto":true) in the same
 * transaction, and the pipeline reports that through opts.warn.
 */
#ifndef EV_INGEST_INGEST_H
#define EV_INGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/parse.h"
#include "ledger/ledger.h"
#include "rules/rules.h"
#include "util/err.h"

#define EV_INGEST_MAX_LINE 65536u      /* longest line stored whole */
#define EV_INGEST_BATCH 5000u          /* default lines per transaction */
#define EV_INGEST_MAX_QUEUE (64u << 20) /* queued bytes that force a flush */
#define EV_SOURCE_NAME_MAX 64

struct ev_ingest;

struct ev_ingest_opts {
	enum ev_log_format format;
	const char *timezone;   /* for RFC 3164 local times (NULL: UTC) */
	struct ev_rules *rules; /* may be NULL: record lines, raise nothing */
	const char *actor;      /* actor of log entries (NULL: "source:NAME") */
	size_t batch;           /* lines per transaction (0: EV_INGEST_BATCH) */
	int64_t now_us;         /* parser reference time (0: the clock) */
	/* Warnings (auto-registered source, ...); may be NULL. */
	void (*warn)(const char *msg, void *arg);
	void *warn_arg;
};

struct ev_ingest_stats {
	uint64_t lines;     /* recorded as log entries (durable) */
	uint64_t parsed;
	uint64_t unparsed;
	uint64_t truncated; /* among lines: longer than EV_INGEST_MAX_LINE */
	uint64_t alerts;    /* alert.raised entries recorded */
	uint64_t bytes;
	uint64_t batches;
	uint64_t last_seq;
};

/* Caller keeps l and rules alive until ev_ingest_free. */
int ev_ingest_new(struct ev_ledger *l, const struct ev_ingest_opts *o, struct ev_ingest **out,
    struct ev_err *err);
void ev_ingest_free(struct ev_ingest *p);

/*
 * Queue one line (without its terminator) from source (a valid source name,
 * see ev_source_name_ok).  Flushes when the batch is full; an error is the
 * flush's, and the queued lines stay queued (a later flush retries them).
 */
int ev_ingest_line(struct ev_ingest *p, const char *source, const char *line, size_t len,
    struct ev_err *err);
/* The same for a line the reader already cut: full_len is what was received. */
int ev_ingest_line_cut(struct ev_ingest *p, const char *source, const char *line, size_t len,
    size_t full_len, struct ev_err *err);
/*
 * Split a byte stream into lines (LF, an optional CR before it removed).  A
 * line over EV_INGEST_MAX_LINE keeps its first EV_INGEST_MAX_LINE bytes and
 * its full length.  Empty lines are skipped.  ev_lines_finish hands over a
 * last line that had no terminator.
 */
struct ev_lines {
	char *buf;
	size_t len, cap;
	size_t full; /* bytes of the current line received, kept or not */
};
typedef int (*ev_line_cb)(const char *line, size_t len, size_t full_len, void *arg);
int ev_lines_feed(struct ev_lines *lb, const char *data, size_t n, ev_line_cb cb, void *arg);
int ev_lines_finish(struct ev_lines *lb, ev_line_cb cb, void *arg);
void ev_lines_free(struct ev_lines *lb);

/*
 * Record everything queued, durably; returns when it is committed.  (A flush
 * the batch size triggers inside ev_ingest_line hands the batch to the
 * ledger's writer thread and returns at once; see pipeline.c.)
 */
int ev_ingest_flush(struct ev_ingest *p, struct ev_err *err);
/* Lines not yet durable: queued, or in the batch the writer is committing. */
size_t ev_ingest_pending(const struct ev_ingest *p);
size_t ev_ingest_pending_bytes(const struct ev_ingest *p);
void ev_ingest_get_stats(const struct ev_ingest *p, struct ev_ingest_stats *st);

/*
 * The default rule location: $EVIDENT_RULES, else ../rules next to the
 * running binary (the source tree: build/evident -> rules/), else
 * /usr/share/evident/rules.  Writes the path into out; -1 when none exists.
 */
int ev_ingest_default_rules(char *out, size_t outlen);

/*
 * Load alarm rules from paths (files or directories), or from the default
 * location when npaths is 0.  Each rule problem goes to warn.  *out is NULL
 * (and EV_OK returned) only when npaths is 0 and no default pack exists;
 * EV_EINVAL when explicitly named rules loaded nothing at all.
 */
int ev_ingest_rules_load(const char *const *paths, size_t npaths,
    void (*warn)(const char *msg, void *arg), void *arg, struct ev_rules **out,
    struct ev_err *err);

/* Source names: 1..64 of [A-Za-z0-9._:@/-], starting with a letter or digit. */
int ev_source_name_ok(const char *name);

/* ---- the daemon's intake (listen.c) ---- */

/*
 * A small poll(2) main loop: file descriptors with callbacks, periodic
 * timers, hooks run before each poll, and SIGTERM/SIGINT through a signalfd
 * (they stop the loop; SIGHUP is taken and ignored, so a stray one does not
 * kill the daemon with lines queued).  One thread; the daemon's parts (syslog listeners,
 * file tails, the follow-up timer, later HTTP) each register here.
 */
struct ev_loop;
typedef void (*ev_io_cb)(struct ev_loop *lp, int fd, short revents, void *arg);
typedef void (*ev_timer_cb)(struct ev_loop *lp, int64_t now_us, void *arg);
typedef void (*ev_prepare_cb)(struct ev_loop *lp, void *arg);

int ev_loop_new(struct ev_loop **out, struct ev_err *err);
void ev_loop_free(struct ev_loop *lp);
int ev_loop_add_fd(struct ev_loop *lp, int fd, short events, ev_io_cb cb, void *arg);
void ev_loop_set_events(struct ev_loop *lp, int fd, short events);
void ev_loop_del_fd(struct ev_loop *lp, int fd);
int ev_loop_add_timer(struct ev_loop *lp, int64_t every_us, ev_timer_cb cb, void *arg);
int ev_loop_add_prepare(struct ev_loop *lp, ev_prepare_cb cb, void *arg);
/* Run until ev_loop_stop or a SIGTERM/SIGINT; returns the signal number (0 when stopped). */
int ev_loop_run(struct ev_loop *lp);
void ev_loop_stop(struct ev_loop *lp);

/*
 * The intake: syslog over UDP (one message per datagram, RFC 5426) and
 * TCP (per frame: RFC 6587 octet counting "LEN SP MSG" when the frame starts
 * with digits and a space, else LF-terminated), and file tails that follow
 * rename-and-create and copytruncate rotation.  Everything goes into one
 * pipeline.  When the pipeline holds max_pending lines (a flush failed or
 * input outruns it) the intake stops reading: TCP and files wait, UDP
 * overflows in the kernel, where SO_RXQ_OVFL counts the drops.  Whatever is
 * refused is counted.
 */
struct ev_intake;
struct ev_intake_stats {
	uint64_t udp_messages, tcp_frames, tail_lines;
	uint64_t tcp_connections;
	uint64_t refused_oversized;   /* frames over EV_INGEST_MAX_LINE (TCP, UDP) */
	uint64_t refused_connections; /* over the connection limit */
	uint64_t refused_partial;     /* octet-counted frames cut by a closing peer */
	uint64_t udp_kernel_drops;    /* SO_RXQ_OVFL: datagrams the kernel dropped */
	uint64_t ingest_errors;       /* failed flushes (lines stay queued and are retried) */
	uint64_t tail_rotations, tail_truncations;
};
int ev_intake_new(struct ev_loop *lp, struct ev_ingest *p, size_t max_pending,
    void (*log)(const char *msg, void *arg), void *log_arg, struct ev_intake **out);
void ev_intake_free(struct ev_intake *in);
/* addr "HOST:PORT" (IPv4, [IPv6] or a name); bound (may be NULL) gets the real address. */
int ev_intake_udp(struct ev_intake *in, const char *source, const char *addr, char *bound,
    size_t boundlen, struct ev_err *err);
int ev_intake_tcp(struct ev_intake *in, const char *source, const char *addr, char *bound,
    size_t boundlen, struct ev_err *err);
/* from_start: read an existing file from its beginning (default: its end). */
int ev_intake_tail(struct ev_intake *in, const char *source, const char *path, int from_start,
    struct ev_err *err);
/*
 * Keep tail positions in path (call before ev_intake_tail): a restarted
 * daemon resumes where the last commit ended instead of at the file's end.
 */
void ev_intake_tail_state(struct ev_intake *in, const char *path);
/* Write the positions; only when nothing is queued (every line read is recorded). */
int ev_intake_save_state(struct ev_intake *in);
/* Read everything the kernel and the files hold right now (at shutdown). */
void ev_intake_drain(struct ev_intake *in);
void ev_intake_get_stats(const struct ev_intake *in, struct ev_intake_stats *st);
/* Record a failed flush (for the stats) and tell the log. */
void ev_intake_flush_failed(struct ev_intake *in, const struct ev_err *err);

/* ---- the log-source inventory (sources.c) ---- */

/* EN 319 401 7.9.1 log categories, NULL-terminated. */
extern const char *const ev_source_categories[];
int ev_source_category_ok(const char *c);

/*
 * Register or change a source: appends `source.registered` (subject NAME,
 * body {"auto":false,"categories":[...],"description":D,"name":NAME}).
 * Categories replace the previous ones.  *seq (may be NULL) gets the entry.
 */
int ev_sources_register(struct ev_ledger *l, const char *name, const char *const *cats,
    size_t ncats, const char *description, const char *actor, uint64_t *seq,
    struct ev_err *err);

/* 1 when the projection knows the source, 0 when not, <0 on a store error. */
int ev_sources_known(struct ev_ledger *l, const char *name);

struct ev_source_info {
	const char *name;
	const char *description;
	const char *const *categories;
	size_t ncategories;
	int auto_registered;
	int64_t registered_us;
	uint64_t lines;    /* log entries ever */
	int64_t last_seen_us; /* entry time of the latest log entry (0: never) */
	uint64_t window_lines; /* log entries in the coverage window (coverage only) */
};
/* Every source, by name. */
int ev_sources_list(struct ev_ledger *l, int (*cb)(const struct ev_source_info *s, void *arg),
    void *arg, struct ev_err *err);
/*
 * Sources that had log entries with entry time in [since_us, until_us].
 * Day-granular counts: exact for windows of at least one day.
 */
int ev_sources_window(struct ev_ledger *l, int64_t since_us, int64_t until_us,
    int (*cb)(const struct ev_source_info *s, void *arg), void *arg, struct ev_err *err);

#endif
