/*
 * pipeline.c - lines -> parse -> log entries -> rules -> alerts, in batches
 * (see ingest.h).
 *
 * Queued lines wait in one byte arena.  A flush opens a ledger transaction
 * (the write lock), reads the tree size, and from then on knows the seq of
 * every entry it builds: entry k of the batch gets size + 1 + k.  That is how
 * a line carries its seq into the rules before it is written, and why the
 * whole batch goes to the ledger as one ev_ledger_append.  If anything
 * fails, the transaction rolls back and the lines stay queued.
 *
 * Hot path: no allocation per line (arenas are reused), bodies are written
 * canonical so the ledger's fast path takes them as they are.
 */
#include "ingest/ingest.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/alerts.h"
#include "util/datadir.h"
#include "util/jscan.h"
#include "util/enc.h"
#include "util/timeutil.h"

struct qline {
	size_t off;
	size_t len;      /* bytes kept (at most EV_INGEST_MAX_LINE) */
	size_t full_len; /* bytes received */
	size_t src;
};

struct isrc {
	char *name;
	char *actor;
	int known; /* registered in the projection (or being registered by this flush) */
	int registering;
};

/* An entry being built; string positions are arena offsets until the append. */
struct pend {
	const char *kind;
	const char *subject; /* stable: a source name or a literal */
	size_t actor_off;    /* in strs; SIZE_MAX: use actor_ptr */
	const char *actor_ptr;
	size_t body_off, body_len;
};

/* The batch in flight: handed to the ledger's writer thread, its buffers kept until done. */
struct flight {
	struct ev_buf q, bodies, strs;
	struct qline *lines;
	size_t n, cap;
	struct pend *pend;
	size_t cappend;
	struct ev_entry_in *in;
	size_t capin;
	struct ev_stream_batch b;
	int active;
	uint64_t nlog, parsed, unparsed, truncated, alerts, bytes;
};

struct ev_ingest {
	struct ev_ledger *l;
	struct ev_stream *s; /* the writer thread, opened at the first flush */
	struct flight fl;
	struct ev_ingest_opts o;
	struct ev_ingest_stats st;
	struct ev_buf q;
	struct qline *lines;
	size_t n, cap;
	struct isrc *srcs;
	size_t nsrc;
	struct ev_parsed ps;
	/* per flush */
	struct ev_buf bodies, strs, b64;
	struct pend *pend;
	size_t npend, cappend;
	struct ev_entry_in *in;
	size_t capin;
	uint64_t next_seq;
	uint64_t flush_alerts;
	int checked; /* every body of the batch built is canonical (ev_jscan_canonical) */
	size_t order[EV_PARSE_MAX_FIELDS];
};

static int flush_async(struct ev_ingest *p, struct ev_err *err);

int
ev_ingest_new(struct ev_ledger *l, const struct ev_ingest_opts *o, struct ev_ingest **out,
    struct ev_err *err)
{
	struct ev_ingest *p = ev_xcalloc(1, sizeof(*p));

	p->l = l;
	if (o)
		p->o = *o;
	if (p->o.batch == 0)
		p->o.batch = EV_INGEST_BATCH;
	ev_parsed_init(&p->ps);
	*out = p;
	return EV_OK;
}

void
ev_ingest_free(struct ev_ingest *p)
{
	if (p == NULL)
		return;
	/* Let a batch in flight finish (its lines were the caller's to flush). */
	if (p->fl.active)
		ev_stream_wait(p->s, &p->fl.b);
	ev_stream_close(p->s);
	ev_buf_free(&p->fl.q);
	ev_buf_free(&p->fl.bodies);
	ev_buf_free(&p->fl.strs);
	free(p->fl.lines);
	free(p->fl.pend);
	free(p->fl.in);
	for (size_t i = 0; i < p->nsrc; i++) {
		free(p->srcs[i].name);
		free(p->srcs[i].actor);
	}
	free(p->srcs);
	free(p->lines);
	free(p->pend);
	free(p->in);
	ev_buf_free(&p->q);
	ev_buf_free(&p->bodies);
	ev_buf_free(&p->strs);
	ev_buf_free(&p->b64);
	ev_parsed_free(&p->ps);
	free(p);
}

size_t
ev_ingest_pending(const struct ev_ingest *p)
{
	return p->n + (p->fl.active ? p->fl.n : 0);
}

size_t
ev_ingest_pending_bytes(const struct ev_ingest *p)
{
	return p->q.len + (p->fl.active ? p->fl.q.len : 0);
}

void
ev_ingest_get_stats(const struct ev_ingest *p, struct ev_ingest_stats *st)
{
	*st = p->st;
}

static size_t
source_index(struct ev_ingest *p, const char *name)
{
	struct ev_buf a = EV_BUF_INIT;

	for (size_t i = 0; i < p->nsrc; i++)
		if (strcmp(p->srcs[i].name, name) == 0)
			return i;
	p->srcs = ev_xrealloc(p->srcs, (p->nsrc + 1) * sizeof(*p->srcs));
	memset(&p->srcs[p->nsrc], 0, sizeof(p->srcs[p->nsrc]));
	p->srcs[p->nsrc].name = ev_xstrdup(name);
	if (p->o.actor) {
		ev_buf_adds(&a, p->o.actor);
	} else {
		ev_buf_adds(&a, "source:");
		ev_buf_adds(&a, name);
	}
	p->srcs[p->nsrc].actor = ev_buf_detach(&a);
	return p->nsrc++;
}

int
ev_ingest_line(struct ev_ingest *p, const char *source, const char *line, size_t len,
    struct ev_err *err)
{
	return ev_ingest_line_cut(p, source, line, len, len, err);
}

int
ev_ingest_line_cut(struct ev_ingest *p, const char *source, const char *line, size_t len,
    size_t full_len, struct ev_err *err)
{
	struct qline *q;
	size_t keep = len > EV_INGEST_MAX_LINE ? EV_INGEST_MAX_LINE : len;
	size_t si;

	if (!ev_source_name_ok(source))
		return ev_errf(err, EV_EINVAL, "invalid source name '%s'", source ? source : "");
	/* The last source is nearly always the same one: skip the search. */
	if (p->n > 0 && strcmp(p->srcs[p->lines[p->n - 1].src].name, source) == 0)
		si = p->lines[p->n - 1].src;
	else
		si = source_index(p, source);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1024;
		p->lines = ev_xrealloc(p->lines, p->cap * sizeof(*p->lines));
	}
	q = &p->lines[p->n++];
	q->off = p->q.len;
	q->len = keep;
	q->full_len = full_len > len ? full_len : len;
	q->src = si;
	ev_buf_add(&p->q, line, keep);
	if (p->n >= p->o.batch || p->q.len >= EV_INGEST_MAX_QUEUE)
		return flush_async(p, err);
	return EV_OK;
}

/* ---- building entries ---- */

static struct pend *
pend_add(struct ev_ingest *p)
{
	if (p->npend == p->cappend) {
		p->cappend = p->cappend ? p->cappend * 2 : 1024;
		p->pend = ev_xrealloc(p->pend, p->cappend * sizeof(*p->pend));
	}
	return &p->pend[p->npend++];
}

static int
name_ok(const struct ev_field *f)
{
	size_t n = strlen(f->name);

	if (n == 0 || !ev_utf8_valid(f->name, n))
		return 0;
	return 1;
}

/* Append the log entry body for the parsed line. */
static void
log_body(struct ev_ingest *p, const struct qline *q, const char *line, int truncated)
{
	struct ev_buf *b = &p->bodies;
	const struct ev_parsed *ps = &p->ps;
	const struct ev_event *ev = &ps->ev;
	size_t nf = 0;
	int ok = ps->ok && !truncated;

	ev_buf_addc(b, '{');
	if (!ok) {
		char msg[200];
		if (truncated)
			snprintf(msg, sizeof(msg), "line of %zu bytes exceeds the %u-byte limit; "
			    "stored cut at the limit", q->full_len, EV_INGEST_MAX_LINE);
		else
			snprintf(msg, sizeof(msg), "%s", ps->error[0] ? ps->error : "not parsed");
		ev_buf_add(b, "\"error\":", 8);
		ev_alerts_json_str(b, msg, strlen(msg));
		ev_buf_addc(b, ',');
	}
	if (!truncated && ev->time_us != 0) {
		char t[EV_TIME_STRLEN];
		ev_time_format(ev->time_us, t);
		ev_buf_add(b, "\"event_time\":\"", 14);
		ev_buf_add(b, t, EV_TIME_STRLEN - 1);
		ev_buf_add(b, "\",", 2);
	}
	ev_buf_add(b, "\"fields\":{", 10);
	if (!truncated) {
		/* Insertion sort of field indices by name (byte order, as the canonical form). */
		for (size_t i = 0; i < ev->nfields && i < EV_PARSE_MAX_FIELDS; i++) {
			size_t j = nf;
			if (!name_ok(&ev->fields[i]))
				continue;
			while (j > 0 && strcmp(ev->fields[p->order[j - 1]].name, ev->fields[i].name) > 0) {
				p->order[j] = p->order[j - 1];
				j--;
			}
			/* Duplicate names: the first one (what ev_event_get returns) stays. */
			if (j > 0 && strcmp(ev->fields[p->order[j - 1]].name, ev->fields[i].name) == 0) {
				memmove(&p->order[j], &p->order[j + 1], (nf - j) * sizeof(p->order[0]));
				continue;
			}
			p->order[j] = i;
			nf++;
		}
		for (size_t k = 0; k < nf; k++) {
			const struct ev_field *f = &ev->fields[p->order[k]];
			if (k)
				ev_buf_addc(b, ',');
			ev_alerts_json_str(b, f->name, strlen(f->name));
			ev_buf_addc(b, ':');
			ev_alerts_json_str(b, f->value ? f->value : "", f->value ? f->len : 0);
		}
	}
	ev_buf_add(b, "},\"format\":\"", 12);
	ev_buf_adds(b, truncated ? "auto" : ev_log_format_name(ps->format));
	ev_buf_add(b, ok ? "\",\"parsed\":true,\"raw\":" : "\",\"parsed\":false,\"raw\":", ok ? 22 : 23);
	if (ev_alerts_json_str(b, line, q->len)) {
		ev_buf_reset(&p->b64);
		ev_buf_reserve(&p->b64, 4 * ((q->len + 2) / 3) + 1);
		ev_b64_encode((const uint8_t *)line, q->len, p->b64.p);
		ev_buf_add(b, ",\"raw_base64\":\"", 15);
		ev_buf_adds(b, p->b64.p);
		ev_buf_addc(b, '"');
	}
	if (truncated) {
		ev_buf_add(b, ",\"truncated\":", 13);
		ev_buf_add_u64(b, q->full_len);
	}
	ev_buf_addc(b, '}');
}

/*
 * A ledger entry is at most EV_LEAF_LIMIT bytes (one C2SP bundle entry), and
 * a log body repeats the line (raw, message, sometimes base64): a long line
 * may not fit parsed.  Then, in this order: keep the exact line without its
 * parsed fields (the rules have seen them; they can be parsed again from
 * raw), or, when even that is too long, keep the line cut at a character
 * boundary with its full length.  LOG_BODY_MAX leaves room for the entry's
 * other fields.
 */
#define LOG_BODY_MAX (EV_LEAF_LIMIT - 1024u)

static void
log_body_unparsed(struct ev_ingest *p, const struct qline *q, const char *line, size_t keep,
    size_t full)
{
	struct ev_buf *b = &p->bodies;
	char msg[200];

	if (keep < full)
		snprintf(msg, sizeof(msg), "line of %zu bytes is too long for one ledger entry (%u "
		    "bytes); stored cut", full, EV_LEAF_LIMIT);
	else
		snprintf(msg, sizeof(msg), "line of %zu bytes is too long to store with its parsed "
		    "fields; stored whole without them", full);
	ev_buf_add(b, "{\"error\":", 9);
	ev_alerts_json_str(b, msg, strlen(msg));
	ev_buf_add(b, ",\"fields\":{},\"format\":\"auto\",\"parsed\":false,\"raw\":", 50);
	if (ev_alerts_json_str(b, line, keep)) {
		ev_buf_reset(&p->b64);
		ev_buf_reserve(&p->b64, 4 * ((keep + 2) / 3) + 1);
		ev_b64_encode((const uint8_t *)line, keep, p->b64.p);
		ev_buf_add(b, ",\"raw_base64\":\"", 15);
		ev_buf_adds(b, p->b64.p);
		ev_buf_addc(b, '"');
	}
	if (keep < full) {
		ev_buf_add(b, ",\"truncated\":", 13);
		ev_buf_add_u64(b, full);
	}
	ev_buf_addc(b, '}');
	(void)q;
}

/* log_body, made to fit in one ledger entry (see LOG_BODY_MAX). */
static void
log_body_fit(struct ev_ingest *p, const struct qline *q, const char *line, int truncated)
{
	size_t start = p->bodies.len, keep = q->len;

	log_body(p, q, line, truncated);
	if (p->bodies.len - start <= LOG_BODY_MAX)
		return;
	for (;;) {
		p->bodies.len = start;
		log_body_unparsed(p, q, line, keep, q->full_len);
		if (p->bodies.len - start <= LOG_BODY_MAX || keep == 0)
			break;
		/* Too long still (escapes, base64): cut harder, at a character boundary. */
		keep = keep * 3 / 4;
		while (keep > 0 && ((unsigned char)line[keep] & 0xc0) == 0x80)
			keep--;
	}
	p->bodies.p[p->bodies.len] = '\0';
}

static int
on_match(const struct ev_rule_match *m, const struct ev_event *ev, void *arg)
{
	struct ev_ingest *p = arg;
	struct pend *e = pend_add(p);
	const char *id = m->rule_id ? m->rule_id : "unknown";
	size_t n = strlen(id), keep = 0;

	e->kind = "alert.raised";
	e->subject = "alerts";
	e->actor_ptr = NULL;
	e->actor_off = p->strs.len;
	/* "rule:" + the id, printable and cut to the ledger's actor limit on a character boundary. */
	ev_buf_adds(&p->strs, "rule:");
	while (keep < n && keep < EV_ACTOR_MAX - 5) {
		unsigned char c = (unsigned char)id[keep];
		size_t cl = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (keep + cl > EV_ACTOR_MAX - 5 || keep + cl > n)
			break;
		if (c < 0x20 || c == 0x7f || (cl > 1 && !ev_utf8_valid(id + keep, cl)))
			ev_buf_addc(&p->strs, '?');
		else
			ev_buf_add(&p->strs, id + keep, cl);
		keep += cl;
	}
	if (keep == 0)
		ev_buf_adds(&p->strs, "unknown");
	ev_buf_addc(&p->strs, '\0');
	e->body_off = p->bodies.len;
	ev_alerts_body(m, ev, &p->bodies);
	e->body_len = p->bodies.len - e->body_off;
	p->next_seq++;
	p->flush_alerts++;
	return 0;
}

static void
auto_register(struct ev_ingest *p, struct isrc *s)
{
	struct pend *e = pend_add(p);

	e->kind = "source.registered";
	e->subject = s->name;
	e->actor_ptr = "system";
	e->body_off = p->bodies.len;
	ev_buf_adds(&p->bodies, "{\"auto\":true,\"categories\":[],\"description\":"
				"\"registered automatically by ingest\",\"name\":");
	ev_alerts_json_str(&p->bodies, s->name, strlen(s->name));
	ev_buf_addc(&p->bodies, '}');
	e->body_len = p->bodies.len - e->body_off;
	p->next_seq++;
}

/*
 * Flushing is in two halves.  The producer (this thread) numbers the queued
 * lines from the seq the stream gives it, parses them, builds their bodies
 * and runs the rules (build_batch); the ledger's writer thread then hashes,
 * bundles, compresses and commits them, while this thread goes on with the
 * next batch.  One batch is in flight at a time (struct flight): its lines
 * stay here until it is committed, so that a failed commit puts them back at
 * the front of the queue, in order.  ev_ingest_flush returns only when
 * everything queued is durable; the batch-full flush of ev_ingest_line
 * returns as soon as the batch is handed over.
 */

struct counts {
	uint64_t nlog, parsed, unparsed, truncated;
};

/* Build the entries for every queued line, numbered from first, into p's arenas. */
static int
build_batch(struct ev_ingest *p, uint64_t first, struct counts *c, struct ev_err *err)
{
	struct ev_parse_opts po = { p->o.format, p->o.now_us, p->o.timezone };

	memset(c, 0, sizeof(*c));
	p->checked = 1;
	p->npend = 0;
	p->flush_alerts = 0;
	ev_buf_reset(&p->bodies);
	ev_buf_reset(&p->strs);
	p->next_seq = first;
	for (size_t i = 0; i < p->nsrc; i++) {
		struct isrc *s = &p->srcs[i];
		int k;
		if (s->known || s->registering)
			continue;
		if ((k = ev_sources_known(p->l, s->name)) < 0)
			return ev_errf(err, EV_EIO, "ingest: cannot read the source inventory");
		s->known = k;
		if (!k) {
			s->registering = 1;
			auto_register(p, s);
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct qline *q = &p->lines[i];
		const char *line = p->q.p + q->off;
		struct isrc *s = &p->srcs[q->src];
		struct pend *e;
		int cut = q->full_len > q->len;

		if (cut) {
			p->ps.ok = 0;
			p->ps.ev.fields = NULL;
			p->ps.ev.nfields = 0;
			p->ps.ev.time_us = 0;
			p->ps.ev.raw = line;
			p->ps.ev.raw_len = q->len;
			c->truncated++;
		} else {
			ev_parse_line(line, q->len, &po, &p->ps);
		}
		if (p->ps.ok && !cut)
			c->parsed++;
		else
			c->unparsed++;
		e = pend_add(p);
		e->kind = "log";
		e->subject = s->name;
		e->actor_ptr = s->actor;
		e->body_off = p->bodies.len;
		log_body_fit(p, q, line, cut);
		e->body_len = p->bodies.len - e->body_off;
		p->ps.ev.source = s->name;
		p->ps.ev.seq = p->next_seq++;
		c->nlog++;
		if (p->o.rules)
			ev_rules_match(p->o.rules, &p->ps.ev, on_match, p);
	}
	if (p->npend > p->capin) {
		p->capin = p->npend;
		p->in = ev_xrealloc(p->in, p->capin * sizeof(*p->in));
	}
	for (size_t i = 0; i < p->npend; i++) {
		const struct pend *e = &p->pend[i];
		p->in[i].kind = e->kind;
		p->in[i].subject = e->subject;
		p->in[i].actor = e->actor_ptr ? e->actor_ptr : p->strs.p + e->actor_off;
		p->in[i].body = p->bodies.p + e->body_off;
		p->in[i].body_len = e->body_len;
		/* Checked here, so the ledger's writer thread need not (see ledger.h). */
		if (!ev_jscan_canonical(p->in[i].body, e->body_len))
			p->checked = 0;
	}
	return EV_OK;
}

#define SWAP(T, a, b) do { T t_ = (a); (a) = (b); (b) = t_; } while (0)

/* Exchange p's queue and arenas with the flight's. */
static void
swap_flight(struct ev_ingest *p)
{
	struct flight *f = &p->fl;

	SWAP(struct ev_buf, p->q, f->q);
	SWAP(struct ev_buf, p->bodies, f->bodies);
	SWAP(struct ev_buf, p->strs, f->strs);
	SWAP(struct qline *, p->lines, f->lines);
	SWAP(size_t, p->n, f->n);
	SWAP(size_t, p->cap, f->cap);
	SWAP(struct pend *, p->pend, f->pend);
	SWAP(size_t, p->cappend, f->cappend);
	SWAP(struct ev_entry_in *, p->in, f->in);
	SWAP(size_t, p->capin, f->capin);
}

static void
sources_settled(struct ev_ingest *p, int ok)
{
	for (size_t i = 0; i < p->nsrc; i++) {
		struct isrc *s = &p->srcs[i];
		char msg[200];
		if (!s->registering)
			continue;
		s->registering = 0;
		s->known = ok;
		if (!ok)
			continue;
		snprintf(msg, sizeof(msg),
		    "source '%s' was not in the inventory: registered it with no categories "
		    "(evident sources add %s --category ...)",
		    s->name, s->name);
		if (p->o.warn)
			p->o.warn(msg, p->o.warn_arg);
	}
}

/*
 * Wait for the batch in flight.  Committed: count it.  Failed (or dropped
 * after a failure): its lines go back in front of the queue, in order, and
 * the failure is returned.
 */
static int
complete_flight(struct ev_ingest *p, struct ev_err *err)
{
	struct flight *f = &p->fl;
	int rc;

	if (!f->active)
		return EV_OK;
	rc = ev_stream_wait(p->s, &f->b);
	f->active = 0;
	if (rc == EV_OK) {
		p->st.lines += f->nlog;
		p->st.parsed += f->parsed;
		p->st.unparsed += f->unparsed;
		p->st.truncated += f->truncated;
		p->st.alerts += f->alerts;
		p->st.bytes += f->bytes;
		p->st.batches++;
		p->st.last_seq = f->b.last_seq;
		sources_settled(p, 1);
		f->n = 0;
		ev_buf_reset(&f->q);
		/* Do not keep a huge arena around after a burst. */
		if (f->bodies.cap > (256u << 20)) {
			ev_buf_free(&f->bodies);
			ev_buf_free(&f->q);
		}
		return EV_OK;
	}
	if (err)
		*err = f->b.err;
	sources_settled(p, 0);
	/* The flight's lines, then the queue's. */
	for (size_t i = 0; i < p->n; i++) {
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 1024;
			f->lines = ev_xrealloc(f->lines, f->cap * sizeof(*f->lines));
		}
		f->lines[f->n] = p->lines[i];
		f->lines[f->n].off += f->q.len;
		f->n++;
	}
	ev_buf_add(&f->q, p->q.p ? p->q.p : "", p->q.len);
	SWAP(struct ev_buf, p->q, f->q);
	SWAP(struct qline *, p->lines, f->lines);
	SWAP(size_t, p->n, f->n);
	SWAP(size_t, p->cap, f->cap);
	f->n = 0;
	ev_buf_reset(&f->q);
	return rc;
}

/* Number, build and hand over everything queued; the previous batch must be done first. */
static int
flush_async(struct ev_ingest *p, struct ev_err *err)
{
	struct counts c;
	uint64_t first;
	int rc;

	if (p->n == 0)
		return complete_flight(p, err);
	if (p->s == NULL && (rc = ev_stream_open(ev_ledger_dir(p->l), &p->s, err)) != EV_OK)
		return rc;
	if ((rc = ev_stream_begin(p->s, &first, err)) != EV_OK) {
		/* An earlier batch failed: take its lines back, report its failure. */
		struct ev_err e2;
		complete_flight(p, &e2);
		return rc;
	}
	if ((rc = build_batch(p, first, &c, err)) != EV_OK) {
		ev_stream_abort(p->s);
		sources_settled(p, 0);
		return rc;
	}
	if ((rc = complete_flight(p, err)) != EV_OK) {
		/* The batch in flight failed: what was just built was numbered after it. */
		ev_stream_abort(p->s);
		return rc;
	}
	swap_flight(p);
	p->fl.active = 1;
	p->fl.nlog = c.nlog;
	p->fl.parsed = c.parsed;
	p->fl.unparsed = c.unparsed;
	p->fl.truncated = c.truncated;
	p->fl.alerts = p->flush_alerts;
	p->fl.bytes = p->fl.q.len;
	p->fl.b.in = p->fl.in;
	p->fl.b.n = p->npend;
	p->fl.b.bodies_checked = p->checked;
	if ((rc = ev_stream_submit(p->s, &p->fl.b, err)) != EV_OK) {
		p->fl.active = 0;
		return rc;
	}
	/* p now holds the previous flight's (empty) queue and arenas. */
	p->n = 0;
	ev_buf_reset(&p->q);
	return EV_OK;
}

int
ev_ingest_flush(struct ev_ingest *p, struct ev_err *err)
{
	int rc;

	if (p->n == 0 && !p->fl.active)
		return EV_OK;
	if ((rc = flush_async(p, err)) != EV_OK)
		return rc;
	rc = complete_flight(p, err);
	if (p->s)
		ev_stream_idle(p->s); /* nothing in flight: let other appenders in */
	return rc;
}

/* ---- default rule location ---- */

int
ev_ingest_default_rules(char *out, size_t outlen)
{
	int found;

	ev_data_dir(NULL, "EVIDENT_RULES", "rules", out, outlen, &found);
	return found || getenv("EVIDENT_RULES") ? 0 : -1;
}

/* ---- line splitting ---- */

static int
emit_line(struct ev_lines *lb, const char *line, size_t len, size_t full, ev_line_cb cb, void *arg)
{
	if (len > 0 && line[len - 1] == '\r' && full == len) {
		len--;
		full--;
	}
	if (full == 0)
		return 0;
	return cb(line, len, full, arg);
}

int
ev_lines_feed(struct ev_lines *lb, const char *data, size_t n, ev_line_cb cb, void *arg)
{
	const char *end = data + n;
	int rc;

	while (data < end) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		size_t chunk = (size_t)((nl ? nl : end) - data);

		if (lb->len == 0 && lb->full == 0 && nl && chunk <= EV_INGEST_MAX_LINE) {
			/* The whole line is in data: no copy. */
			if ((rc = emit_line(lb, data, chunk, chunk, cb, arg)) != 0)
				return rc;
			data = nl + 1;
			continue;
		}
		if (lb->len < EV_INGEST_MAX_LINE) {
			size_t take = chunk;
			if (take > EV_INGEST_MAX_LINE - lb->len)
				take = EV_INGEST_MAX_LINE - lb->len;
			if (lb->cap < lb->len + take) {
				lb->cap = lb->len + take < 4096 ? 4096 : (lb->len + take) * 2;
				if (lb->cap > EV_INGEST_MAX_LINE)
					lb->cap = EV_INGEST_MAX_LINE;
				lb->buf = ev_xrealloc(lb->buf, lb->cap);
			}
			memcpy(lb->buf + lb->len, data, take);
			lb->len += take;
		}
		lb->full += chunk;
		if (nl == NULL)
			break;
		rc = emit_line(lb, lb->buf, lb->len, lb->full, cb, arg);
		lb->len = lb->full = 0;
		if (rc != 0)
			return rc;
		data = nl + 1;
	}
	return 0;
}

int
ev_lines_finish(struct ev_lines *lb, ev_line_cb cb, void *arg)
{
	int rc = 0;

	if (lb->full > 0)
		rc = emit_line(lb, lb->buf, lb->len, lb->full, cb, arg);
	lb->len = lb->full = 0;
	return rc;
}

void
ev_lines_free(struct ev_lines *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

/* ---- rules ---- */

struct diag_ctx {
	void (*warn)(const char *msg, void *arg);
	void *arg;
	size_t n;
};

static void
on_diag(const struct ev_rule_diag *d, void *arg)
{
	struct diag_ctx *c = arg;
	char msg[600];

	c->n++;
	snprintf(msg, sizeof(msg), "rules: %s:%u: %s%s", d->file ? d->file : "?", d->line,
	    d->message ? d->message : "problem", d->unsupported ? " (unsupported, rule skipped)" : "");
	if (c->warn)
		c->warn(msg, c->arg);
}

int
ev_ingest_rules_load(const char *const *paths, size_t npaths,
    void (*warn)(const char *msg, void *arg), void *arg, struct ev_rules **out,
    struct ev_err *err)
{
	struct diag_ctx c = { warn, arg, 0 };
	char def[PATH_MAX];
	const char *dp = def;
	int rc;

	*out = NULL;
	if (npaths == 0) {
		if (ev_ingest_default_rules(def, sizeof(def)) != 0) {
			if (warn)
				warn("no rule pack found ($EVIDENT_RULES, ../rules next to the binary, "
				     "/usr/share/evident/rules): lines are recorded, no alarm rules run",
				    arg);
			return EV_OK;
		}
		paths = &dp;
		npaths = 1;
	}
	rc = ev_rules_load(paths, npaths, on_diag, &c, out, err);
	if (*out == NULL)
		return rc != EV_OK ? rc : ev_errf(err, EV_EIO, "rules: cannot load");
	if (rc != EV_OK) {
		/* Some rules failed; the rest are loaded and run. */
		ev_err_clear(err);
		if (ev_rules_count(*out) == 0) {
			ev_rules_free(*out);
			*out = NULL;
			return ev_errf(err, EV_EINVAL, "rules: no rule could be loaded from %s%s",
			    paths[0], npaths > 1 ? " and the other paths" : "");
		}
	}
	return EV_OK;
}
