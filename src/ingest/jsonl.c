/*
 * jsonl.c - JSON lines: one JSON object (RFC 8259) per line, flattened.
 *
 *   {"user":{"name":"bob"},"n":1.5,"ok":true,"tags":["a", "b"],"x":null}
 *   -> user.name=bob  n=1.5  ok=true  tags=["a","b"]   (null: no field)
 *
 * Strings are values without their quotes (escapes decoded); numbers and
 * booleans are their JSON text; arrays are their JSON text made compact.
 * The top-level members "@timestamp", "timestamp", "time" and "ts" set the
 * event time when they hold RFC 3339 text.  journald's `journalctl -o json`
 * records also get the common syslog names (message, host, app, procid,
 * severity, facility) and their __REALTIME_TIMESTAMP as the event time.
 *
 * This is a hand-written validating scanner rather than jansson because it
 * runs once per ingested line: it allocates nothing, keeps unescaped strings
 * in place, and bounds nesting so hostile input cannot exhaust the stack.
 */
#include <string.h>

#include "ingest/parse_int.h"
#include "util/timeutil.h"

#define JSON_MAX_DEPTH 64
#define NALIAS 8 /* entries in journald_names */

struct seg {
	const char *p; /* NULL: in the store at off */
	size_t off, len;
};

struct jctx {
	struct pctx *c;
	const char *s;
	size_t n, i;
	struct seg path[JSON_MAX_DEPTH + 1];
	int depth;        /* segments in path */
	int have_time;    /* from a well-known time member */
	int64_t realtime; /* journald __REALTIME_TIMESTAMP, 0 when absent */
	long alias_src[NALIAS];
};

/*
 * journald name -> common name; index matches alias_src.  Where two journald
 * names give the same common name, the first present wins (_COMM names the
 * program when a sender gave no SYSLOG_IDENTIFIER).
 */
static const char *const journald_names[NALIAS][2] = {
	{ "MESSAGE", "message" },       { "_HOSTNAME", "host" },
	{ "SYSLOG_IDENTIFIER", "app" }, { "_COMM", "app" },
	{ "_PID", "procid" },           { "SYSLOG_PID", "procid" },
	{ "PRIORITY", "severity" },     { "SYSLOG_FACILITY", "facility" },
};

static void
ws(struct jctx *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' ||
	    j->s[j->i] == '\r'))
		j->i++;
}

static int
hex4(const char *s, unsigned *v)
{
	unsigned x = 0;

	for (int k = 0; k < 4; k++) {
		char ch = s[k];
		x <<= 4;
		if (ch >= '0' && ch <= '9')
			x |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			x |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			x |= (unsigned)(ch - 'A' + 10);
		else
			return -1;
	}
	*v = x;
	return 0;
}

/*
 * Decode the escape at s[*i] (the backslash) into out[0..4) (UTF-8); sets
 * *olen and advances *i past it.  Returns NULL or why it is invalid.
 */
static const char *
unescape_one(const char *s, size_t n, size_t *i, char out[4], size_t *olen)
{
	size_t k = *i;
	unsigned cp, lo;

	if (k + 1 >= n)
		return "unterminated escape";
	switch (s[k + 1]) {
	case '"': out[0] = '"'; break;
	case '\\': out[0] = '\\'; break;
	case '/': out[0] = '/'; break;
	case 'b': out[0] = '\b'; break;
	case 'f': out[0] = '\f'; break;
	case 'n': out[0] = '\n'; break;
	case 'r': out[0] = '\r'; break;
	case 't': out[0] = '\t'; break;
	case 'u':
		if (n - k < 6 || hex4(s + k + 2, &cp))
			return "bad \\u escape";
		k += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (n - k < 6 || s[k] != '\\' || s[k + 1] != 'u' || hex4(s + k + 2, &lo) ||
			    lo < 0xDC00 || lo > 0xDFFF)
				return "unpaired surrogate in \\u escape";
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			k += 6;
		} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
			return "unpaired surrogate in \\u escape";
		}
		if (cp == 0)
			return "\\u0000 (NUL) in string";
		if (cp < 0x80) {
			out[0] = (char)cp;
			*olen = 1;
		} else if (cp < 0x800) {
			out[0] = (char)(0xC0 | (cp >> 6));
			out[1] = (char)(0x80 | (cp & 0x3F));
			*olen = 2;
		} else if (cp < 0x10000) {
			out[0] = (char)(0xE0 | (cp >> 12));
			out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[2] = (char)(0x80 | (cp & 0x3F));
			*olen = 3;
		} else {
			out[0] = (char)(0xF0 | (cp >> 18));
			out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
			out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[3] = (char)(0x80 | (cp & 0x3F));
			*olen = 4;
		}
		*i = k;
		return NULL;
	default:
		return "invalid escape";
	}
	*olen = 1;
	*i = k + 2;
	return NULL;
}

/*
 * The string at j->i (on its opening quote).  With keep, its decoded text is
 * returned in *sg (in place when it has no escapes, else in the store).
 */
static int
string(struct jctx *j, struct seg *sg, int keep)
{
	const char *s = j->s;
	size_t n = j->n, i = j->i + 1, start = i;
	const char *why;

	while (i < n) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"') {
			if (keep) {
				sg->p = s + start;
				sg->len = i - start;
			}
			j->i = i + 1;
			return 0;
		}
		if (ch < 0x20)
			return pf_fail(j->c, "json: control character in string at offset %zu", i);
		if (ch == '\\')
			break;
		i++;
	}
	if (i >= n)
		return pf_fail(j->c, "json: unterminated string at offset %zu", j->i);
	/* Slow path: escapes.  Decode into the store (or just check). */
	struct ev_buf *b = &j->c->out->store;
	size_t off = b->len;
	if (keep)
		ev_buf_add(b, s + start, i - start);
	while (i < n && s[i] != '"') {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20)
			return pf_fail(j->c, "json: control character in string at offset %zu", i);
		if (ch == '\\') {
			char u[4];
			size_t ul = 0, at = i;
			if ((why = unescape_one(s, n, &i, u, &ul)) != NULL)
				return pf_fail(j->c, "json: %s at offset %zu", why, at);
			if (keep)
				ev_buf_add(b, u, ul);
			continue;
		}
		size_t run = i;
		while (i < n && s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] >= 0x20)
			i++;
		if (keep)
			ev_buf_add(b, s + run, i - run);
	}
	if (i >= n)
		return pf_fail(j->c, "json: unterminated string at offset %zu", j->i);
	if (keep) {
		sg->p = NULL;
		sg->off = off;
		sg->len = b->len - off;
		ev_buf_addc(b, '\0');
	}
	j->i = i + 1;
	return 0;
}

static int
number(struct jctx *j)
{
	const char *s = j->s;
	size_t n = j->n, i = j->i;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return pf_fail(j->c, "json: bad number at offset %zu", j->i);
	if (s[i] == '0') {
		i++;
	} else {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return pf_fail(j->c, "json: bad number at offset %zu", j->i);
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return pf_fail(j->c, "json: bad number at offset %zu", j->i);
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	j->i = i;
	return 0;
}

static int
literal(struct jctx *j, const char *word, size_t wl)
{
	if (j->n - j->i < wl || memcmp(j->s + j->i, word, wl) != 0)
		return pf_fail(j->c, "json: unexpected character at offset %zu", j->i);
	j->i += wl;
	return 0;
}

/* Check any value at j->i and move past it, producing no fields. */
static int
skip_value(struct jctx *j, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return pf_fail(j->c, "json: nested deeper than %d at offset %zu", JSON_MAX_DEPTH, j->i);
	ws(j);
	if (j->i >= j->n)
		return pf_fail(j->c, "json: value expected at end of line");
	switch (j->s[j->i]) {
	case '"': return string(j, NULL, 0);
	case 't': return literal(j, "true", 4);
	case 'f': return literal(j, "false", 5);
	case 'n': return literal(j, "null", 4);
	case '[':
	case '{': {
		char close = j->s[j->i] == '[' ? ']' : '}';
		int obj = close == '}';
		j->i++;
		ws(j);
		if (j->i < j->n && j->s[j->i] == close) {
			j->i++;
			return 0;
		}
		for (;;) {
			if (obj) {
				ws(j);
				if (j->i >= j->n || j->s[j->i] != '"')
					return pf_fail(j->c, "json: member name expected at offset %zu", j->i);
				if (string(j, NULL, 0) != 0)
					return -1;
				ws(j);
				if (j->i >= j->n || j->s[j->i] != ':')
					return pf_fail(j->c, "json: ':' expected at offset %zu", j->i);
				j->i++;
			}
			if (skip_value(j, depth + 1) != 0)
				return -1;
			ws(j);
			if (j->i >= j->n)
				return pf_fail(j->c, "json: unterminated %s", obj ? "object" : "array");
			if (j->s[j->i] == ',') {
				j->i++;
				continue;
			}
			if (j->s[j->i] == close) {
				j->i++;
				return 0;
			}
			return pf_fail(j->c, "json: ',' or '%c' expected at offset %zu", close, j->i);
		}
	}
	default: return number(j);
	}
}

/* Store the dotted name of the current path; returns its offset. */
static size_t
path_name(struct jctx *j)
{
	struct ev_buf *b = &j->c->out->store;
	size_t total = 0, off;

	for (int k = 0; k < j->depth; k++)
		total += j->path[k].len + 1;
	ev_buf_reserve(b, total + 1);
	off = b->len;
	for (int k = 0; k < j->depth; k++) {
		const struct seg *sg = &j->path[k];
		if (k > 0)
			b->p[b->len++] = '.';
		/* Reserved above, so the store does not move during the copy. */
		memcpy(b->p + b->len, sg->p ? sg->p : b->p + sg->off, sg->len);
		b->len += sg->len;
	}
	b->p[b->len++] = '\0';
	return off;
}

static int
seg_is(const struct jctx *j, const struct seg *sg, const char *name)
{
	size_t nl = strlen(name);
	const char *p = sg->p ? sg->p : j->c->out->store.p + sg->off;

	return sg->len == nl && memcmp(p, name, nl) == 0;
}

/* Top-level members with a meaning: event time, journald names. */
static void
well_known(struct jctx *j, const struct seg *key, const char *v, size_t vlen, int is_str)
{
	if (key->len == 0)
		return;
	const char *k = key->p ? key->p : j->c->out->store.p + key->off;
	switch (k[0]) {
	case '@': case 't':
		if (!j->have_time && is_str && vlen >= 10 && vlen < 64 && v[0] != 'n' &&
		    (seg_is(j, key, "@timestamp") || seg_is(j, key, "timestamp") ||
		    seg_is(j, key, "time") || seg_is(j, key, "ts"))) {
			char buf[64];
			int64_t us;
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			if (ev_time_parse(buf, &us) == 0) {
				j->c->out->ev.time_us = us;
				j->have_time = 1;
			}
		}
		break;
	case '_': case 'M': case 'S': case 'P':
		if (seg_is(j, key, "__REALTIME_TIMESTAMP")) {
			int64_t us = 0;
			size_t q = 0;
			while (q < vlen && q < 18 && v[q] >= '0' && v[q] <= '9')
				us = us * 10 + (v[q++] - '0');
			if (q == vlen && q > 0)
				j->realtime = us;
			break;
		}
		for (int a = 0; a < NALIAS; a++)
			if (j->alias_src[a] < 0 && seg_is(j, key, journald_names[a][0]))
				j->alias_src[a] = (long)j->c->n - 1;
		break;
	}
}

static int
leaf(struct jctx *j, const char *v, size_t voff, size_t len, unsigned vflag, int is_str)
{
	struct pctx *c = j->c;

	if (pf_add_x(c, NULL, path_name(j), v, voff, len, PF_NAME_STORE | vflag) != 0)
		return pf_fail(c, "json: more than %d fields", EV_PARSE_MAX_FIELDS);
	if (j->depth == 1) {
		const char *vp = vflag ? c->out->store.p + voff : v;
		well_known(j, &j->path[0], vp, len, is_str);
	}
	return 0;
}

/* The array at j->i as a field holding its compact JSON text. */
static int
array(struct jctx *j)
{
	size_t start = j->i, end, k;
	int in_str = 0, loose = 0;
	const char *s = j->s;

	if (skip_value(j, j->depth) != 0)
		return -1;
	end = j->i;
	for (k = start; k < end; k++) {
		if (in_str) {
			if (s[k] == '\\')
				k++;
			else if (s[k] == '"')
				in_str = 0;
		} else if (s[k] == '"') {
			in_str = 1;
		} else if (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
			loose = 1;
			break;
		}
	}
	if (!loose)
		return leaf(j, s + start, 0, end - start, 0, 0);
	struct ev_buf *b = &j->c->out->store;
	size_t off = b->len;
	ev_buf_reserve(b, end - start + 1);
	in_str = 0;
	for (k = start; k < end; k++) {
		char ch = s[k];
		if (in_str) {
			b->p[b->len++] = ch;
			if (ch == '\\' && k + 1 < end)
				b->p[b->len++] = s[++k];
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
			b->p[b->len++] = ch;
		} else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
			b->p[b->len++] = ch;
		}
	}
	size_t len = b->len - off;
	b->p[b->len++] = '\0';
	return leaf(j, NULL, off, len, PF_VAL_STORE, 0);
}

/* The object at j->i (on '{'), its members flattened under the path. */
static int
object(struct jctx *j)
{
	j->i++;
	ws(j);
	if (j->i < j->n && j->s[j->i] == '}') {
		j->i++;
		return 0;
	}
	for (;;) {
		struct seg key;
		int rc;
		ws(j);
		if (j->i >= j->n || j->s[j->i] != '"')
			return pf_fail(j->c, "json: member name expected at offset %zu", j->i);
		if (string(j, &key, 1) != 0)
			return -1;
		ws(j);
		if (j->i >= j->n || j->s[j->i] != ':')
			return pf_fail(j->c, "json: ':' expected at offset %zu", j->i);
		j->i++;
		ws(j);
		if (j->i >= j->n)
			return pf_fail(j->c, "json: value expected at end of line");
		if (j->depth >= JSON_MAX_DEPTH)
			return pf_fail(j->c, "json: nested deeper than %d", JSON_MAX_DEPTH);
		j->path[j->depth++] = key;
		size_t vs = j->i;
		switch (j->s[vs]) {
		case '"': {
			struct seg v;
			rc = string(j, &v, 1);
			if (rc == 0)
				rc = v.p ? leaf(j, v.p, 0, v.len, 0, 1)
					 : leaf(j, NULL, v.off, v.len, PF_VAL_STORE, 1);
			break;
		}
		case '{': rc = object(j); break;
		case '[': rc = array(j); break;
		case 'n': rc = literal(j, "null", 4); break;
		case 't':
		case 'f':
			rc = j->s[vs] == 't' ? literal(j, "true", 4) : literal(j, "false", 5);
			if (rc == 0)
				rc = leaf(j, j->s + vs, 0, j->i - vs, 0, 0);
			break;
		default:
			rc = number(j);
			if (rc == 0)
				rc = leaf(j, j->s + vs, 0, j->i - vs, 0, 0);
			break;
		}
		j->depth--;
		if (rc != 0)
			return -1;
		ws(j);
		if (j->i >= j->n)
			return pf_fail(j->c, "json: unterminated object");
		if (j->s[j->i] == ',') {
			j->i++;
			continue;
		}
		if (j->s[j->i] == '}') {
			j->i++;
			return 0;
		}
		return pf_fail(j->c, "json: ',' or '}' expected at offset %zu", j->i);
	}
}

int
pf_parse_json(struct pctx *c)
{
	struct jctx j;

	memset(&j, 0, sizeof(j));
	j.c = c;
	j.s = c->line;
	j.n = c->len;
	for (int a = 0; a < NALIAS; a++)
		j.alias_src[a] = -1;
	ws(&j);
	if (j.i >= j.n || j.s[j.i] != '{')
		return pf_fail(c, "json: a line must be one JSON object");
	if (object(&j) != 0)
		return -1;
	ws(&j);
	if (j.i != j.n)
		return pf_fail(c, "json: text after the object at offset %zu", j.i);
	if (j.realtime)
		c->out->ev.time_us = j.realtime;
	for (int a = 0; a < NALIAS; a++) {
		long src = j.alias_src[a];
		if (src < 0 || pf_find(c, journald_names[a][1]) >= 0)
			continue;
		if (pf_add_x(c, journald_names[a][1], 0, c->out->fields[src].value,
		    c->val_off[src], c->out->fields[src].len, c->flags[src] & PF_VAL_STORE) != 0)
			break;
	}
	return 0;
}
