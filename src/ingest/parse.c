/*
 * parse.c - ev_parse_line: the checks every line passes first (length, NUL,
 * UTF-8), format detection, and the field bookkeeping the format parsers
 * share (parse_int.h).
 *
 * Input is untrusted network data.  Every read is bounded by the length the
 * caller gave; the line need not be NUL-terminated.  A line that fails any
 * check is never dropped: it comes back with ok = 0, no fields, the raw text
 * and a reason.
 */
#include "ingest/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ingest/parse_int.h"

#define LINE_MAX_BYTES 65536

void
ev_parsed_init(struct ev_parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->ev.fields = p->fields;
}

void
ev_parsed_free(struct ev_parsed *p)
{
	ev_buf_free(&p->store);
	p->ev.nfields = 0;
}

const char *
ev_log_format_name(enum ev_log_format f)
{
	switch (f) {
	case EV_FMT_AUTO: return "auto";
	case EV_FMT_RFC5424: return "rfc5424";
	case EV_FMT_RFC3164: return "rfc3164";
	case EV_FMT_JSON: return "json";
	}
	return "unknown";
}

int
ev_log_format_parse(const char *name, enum ev_log_format *f)
{
	static const struct {
		const char *name;
		enum ev_log_format f;
	} names[] = {
		{ "auto", EV_FMT_AUTO },       { "rfc5424", EV_FMT_RFC5424 },
		{ "5424", EV_FMT_RFC5424 },    { "rfc3164", EV_FMT_RFC3164 },
		{ "3164", EV_FMT_RFC3164 },    { "bsd", EV_FMT_RFC3164 },
		{ "syslog", EV_FMT_RFC3164 },  { "json", EV_FMT_JSON },
		{ "jsonl", EV_FMT_JSON },      { "journald", EV_FMT_JSON },
	};

	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*f = names[i].f;
			return 0;
		}
	}
	return -1;
}

const char *
pf_num(unsigned v)
{
	static const char *const nums[] = {
		"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
		"13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23",
	};

	return v < sizeof(nums) / sizeof(nums[0]) ? nums[v] : "?";
}

int
pf_add_x(struct pctx *c, const char *name, size_t noff, const char *v, size_t voff,
    size_t len, unsigned flags)
{
	struct ev_field *f;

	if (c->n >= EV_PARSE_MAX_FIELDS)
		return -1;
	f = &c->out->fields[c->n];
	f->name = name;
	f->value = v;
	f->len = len;
	c->name_off[c->n] = noff;
	c->val_off[c->n] = voff;
	c->flags[c->n] = (unsigned char)flags;
	c->n++;
	return 0;
}

size_t
pf_store(struct pctx *c, const char *s, size_t n)
{
	struct ev_buf *b = &c->out->store;
	size_t off = b->len;

	ev_buf_add(b, s, n);
	ev_buf_addc(b, '\0');
	return off;
}

size_t
pf_store_name2(struct pctx *c, const char *a, size_t an, const char *b, size_t bn)
{
	struct ev_buf *s = &c->out->store;
	size_t off = s->len;

	ev_buf_reserve(s, an + bn + 2);
	ev_buf_add(s, a, an);
	ev_buf_addc(s, '.');
	ev_buf_add(s, b, bn);
	ev_buf_addc(s, '\0');
	return off;
}

const char *
pf_name(const struct pctx *c, size_t i)
{
	if (c->flags[i] & PF_NAME_STORE)
		return c->out->store.p + c->name_off[i];
	return c->out->fields[i].name;
}

long
pf_find(const struct pctx *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(pf_name(c, i), name) == 0)
			return (long)i;
	return -1;
}

int
pf_fail(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->out->error, sizeof(c->out->error), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
pf_pri(const char *s, size_t n, unsigned *pri, size_t *used)
{
	unsigned v = 0;
	size_t i = 1;

	if (n < 3 || s[0] != '<')
		return "missing '<' of PRI";
	while (i < n && i <= 4 && s[i] >= '0' && s[i] <= '9')
		v = v * 10 + (unsigned)(s[i++] - '0');
	if (i == 1)
		return "PRI is not a number";
	if (i > 4)
		return "PRI has more than 3 digits";
	if (i >= n || s[i] != '>')
		return "PRI not closed by '>'";
	if (v > 191)
		return "PRI greater than 191";
	*pri = v;
	*used = i + 1;
	return NULL;
}

/* Turn store offsets into pointers: the store no longer moves. */
static void
pf_resolve(struct pctx *c)
{
	const char *base = c->out->store.p;

	for (size_t i = 0; i < c->n; i++) {
		if (c->flags[i] & PF_NAME_STORE)
			c->out->fields[i].name = base + c->name_off[i];
		if (c->flags[i] & PF_VAL_STORE)
			c->out->fields[i].value = base + c->val_off[i];
	}
}

/*
 * Offset of the first byte that is not well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or n when all is.
 */
static size_t
utf8_invalid_at(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		/* ASCII runs are the common case: skip them 8 bytes at a time. */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char b = s[i];
		if (b < 0x80) {
			i++;
			continue;
		}
		size_t need;
		unsigned char lo = 0x80, hi = 0xBF;
		if (b >= 0xC2 && b <= 0xDF) {
			need = 1;
		} else if (b >= 0xE0 && b <= 0xEF) {
			need = 2;
			if (b == 0xE0)
				lo = 0xA0;
			else if (b == 0xED)
				hi = 0x9F;
		} else if (b >= 0xF0 && b <= 0xF4) {
			need = 3;
			if (b == 0xF0)
				lo = 0x90;
			else if (b == 0xF4)
				hi = 0x8F;
		} else {
			return i;
		}
		if (n - i <= need)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= need; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
		i += need + 1;
	}
	return n;
}

/* "<PRI>1 " at the start: the RFC 5424 signature (version 1). */
static int
looks_5424(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 5 || s[0] != '<')
		return 0;
	while (i < n && i <= 4 && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 1 || i >= n || s[i] != '>')
		return 0;
	i++;
	if (i >= n || s[i] < '1' || s[i] > '9')
		return 0;
	/* VERSION is 1 to 3 digits; anything but "1" is then refused. */
	size_t v = i;
	while (i < n && s[i] >= '0' && s[i] <= '9' && i - v < 4)
		i++;
	return i - v <= 3 && i < n && s[i] == ' ';
}

int
ev_parse_line(const char *line, size_t len, const struct ev_parse_opts *o,
    struct ev_parsed *out)
{
	static const struct ev_parse_opts defaults = { EV_FMT_AUTO, 0, NULL };
	struct pctx c;
	enum ev_log_format fmt;
	const char *nul;
	size_t bad;
	int rc;

	if (o == NULL)
		o = &defaults;
	if (line == NULL)
		len = 0;
	out->ev.fields = out->fields;
	out->ev.nfields = 0;
	out->ev.raw = line ? line : "";
	out->ev.raw_len = len;
	out->ev.time_us = 0;
	out->ev.seq = 0;
	out->ok = 0;
	out->error[0] = '\0';
	ev_buf_reset(&out->store);
	fmt = o->format;
	out->format = fmt;

	c.out = out;
	c.o = o;
	c.line = line;
	c.len = len;
	c.n = 0;

	if (len > LINE_MAX_BYTES) {
		pf_fail(&c, "line longer than %d bytes (%zu)", LINE_MAX_BYTES, len);
		return 0;
	}
	if (len > 0 && (nul = memchr(line, '\0', len)) != NULL) {
		pf_fail(&c, "NUL byte at offset %zu", (size_t)(nul - line));
		return 0;
	}
	if ((bad = utf8_invalid_at((const unsigned char *)line, len)) < len) {
		pf_fail(&c, "invalid UTF-8 at offset %zu", bad);
		return 0;
	}
	/* The terminator may have been CRLF, or a stray LF left by a framer. */
	while (c.len > 0 && (line[c.len - 1] == '\r' || line[c.len - 1] == '\n'))
		c.len--;
	if (c.len == 0) {
		pf_fail(&c, "empty line");
		return 0;
	}
	if (fmt == EV_FMT_AUTO) {
		if (line[0] == '{')
			fmt = EV_FMT_JSON;
		else if (looks_5424(line, c.len))
			fmt = EV_FMT_RFC5424;
		else
			fmt = EV_FMT_RFC3164;
	}
	out->format = fmt;
	switch (fmt) {
	case EV_FMT_RFC5424: rc = pf_parse_5424(&c); break;
	case EV_FMT_RFC3164: rc = pf_parse_3164(&c); break;
	case EV_FMT_JSON: rc = pf_parse_json(&c); break;
	default: rc = pf_fail(&c, "unknown format %d", (int)fmt); break;
	}
	if (rc != 0) {
		if (out->error[0] == '\0')
			pf_fail(&c, "%s: malformed", ev_log_format_name(fmt));
		out->ev.time_us = 0;
		return 0;
	}
	pf_resolve(&c);
	out->ev.nfields = c.n;
	out->ok = 1;
	return 0;
}
