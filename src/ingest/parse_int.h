/*
 * parse_int.h - shared plumbing of the log parsers (parse.c, syslog5424.c,
 * syslog3164.c, jsonl.c).  Not for use outside src/ingest/parse*.
 *
 * A parse works on one line in place.  Field values point into the caller's
 * line wherever the text can be used as is; only names that have to be built
 * ("sd.origin.ip", "user.name") and values that have to be unescaped go to
 * out->store.  Because the store may move when it grows, fields that live in
 * it are recorded as offsets while parsing and turned into pointers once, at
 * the end (pf_resolve).  Nothing here allocates except through out->store,
 * which is reused from line to line.
 */
#ifndef EV_INGEST_PARSE_INT_H
#define EV_INGEST_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/parse.h"

#define PF_NAME_STORE 1u /* name is an offset into out->store */
#define PF_VAL_STORE 2u  /* value is an offset into out->store */

struct pctx {
	struct ev_parsed *out;
	const struct ev_parse_opts *o;
	const char *line; /* the text being parsed (trailing CR/LF dropped) */
	size_t len;
	size_t n;         /* fields so far */
	size_t name_off[EV_PARSE_MAX_FIELDS];
	size_t val_off[EV_PARSE_MAX_FIELDS];
	unsigned char flags[EV_PARSE_MAX_FIELDS];
};

/*
 * Add a field.  name is a string that outlives the event (a literal) unless
 * PF_NAME_STORE is set, in which case noff is its offset in the store; the
 * same for the value (a pointer into the line or a literal, or voff).
 * Returns 0, or -1 when EV_PARSE_MAX_FIELDS is reached.
 */
int pf_add_x(struct pctx *c, const char *name, size_t noff, const char *v, size_t voff,
    size_t len, unsigned flags);

static inline int
pf_add(struct pctx *c, const char *name, const char *v, size_t len)
{
	return pf_add_x(c, name, 0, v, 0, len, 0);
}

/* Append s[0..n) and a NUL to the store; returns the offset of the copy. */
size_t pf_store(struct pctx *c, const char *s, size_t n);
/* Append the concatenation a.b (a NUL-terminated name) and return its offset. */
size_t pf_store_name2(struct pctx *c, const char *a, size_t an, const char *b, size_t bn);

/* Index of the first field with this name, or -1. */
long pf_find(const struct pctx *c, const char *name);
/* The name of field i (valid until the store grows). */
const char *pf_name(const struct pctx *c, size_t i);

/* Set out->error (printf style); always returns -1. */
int pf_fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Literal text of small numbers 0..191, for facility/severity/PRI. */
const char *pf_num(unsigned v);

/* Fill the fields (0 on success; -1 with out->error set). */
int pf_parse_5424(struct pctx *c);
int pf_parse_3164(struct pctx *c);
int pf_parse_json(struct pctx *c);

/*
 * "<PRI>" at s[0..n): 1 to 3 digits, value 0..191.  On success sets *pri and
 * *used (bytes consumed) and returns NULL; else returns why.
 */
const char *pf_pri(const char *s, size_t n, unsigned *pri, size_t *used);

/*
 * Extract auditd "key=value" pairs (and the pairs inside msg='...') from
 * s[0..n) as fields named after the keys.  Returns the number of pairs added.
 * Sets *time_us from "msg=audit(SECONDS.MILLIS:SERIAL)" when found.
 */
size_t pf_audit_kv(struct pctx *c, const char *s, size_t n, int64_t *time_us);

/*
 * Local time (seconds since the epoch as if the zone were UTC) in the IANA
 * zone to UTC seconds, from the system tz database (tzconv.c).  A local time
 * that happens twice gives the earlier instant; one that is skipped uses the
 * offset from before the change.  -1 when the zone is unknown.
 */
int pf_tz_local_to_utc(const char *zone, int64_t local, int64_t *utc);
/* The zone's offset from UTC (seconds east) at a UTC time; -1: unknown zone. */
int pf_tz_offset_at(const char *zone, int64_t utc, int32_t *off);

#endif
