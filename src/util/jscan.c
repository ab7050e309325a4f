/*
 * jscan.c - allocation-free JSON validation and member spans (see jscan.h).
 *
 * A recursive-descent scanner with a depth limit.  In "canonical" mode it
 * additionally refuses white space, unsorted or duplicate keys, escapes that
 * jansson would not write, and numbers other than plain integers, which is
 * exactly the set of documents that jansson's JSON_COMPACT|JSON_SORT_KEYS
 * dump reproduces byte for byte (tests/unit/test_jscan.c checks this
 * property against jansson on generated documents).
 */
#include "util/jscan.h"

#include <string.h>

#define JS_MAX_DEPTH 64

struct js {
	const unsigned char *p, *end;
	int canon;
	int depth;
};

static void
ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
hexv(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* Scan a string starting at the opening quote; sets *esc when it has escapes. */
static int
string(struct js *j, const unsigned char **start, size_t *len, int *esc)
{
	const unsigned char *p = j->p + 1, *e = j->end;

	*esc = 0;
	*start = p;
	while (p < e) {
		unsigned c;
		p += ev_json_plain_run(p, e); /* most of a log line */
		if (p >= e)
			break;
		c = *p;
		if (c == '"') {
			*len = (size_t)(p - *start);
			j->p = p + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			*esc = 1;
			if (p + 1 >= e)
				return -1;
			c = p[1];
			if (c == 'u') {
				int v = 0;
				if (p + 6 > e)
					return -1;
				for (int i = 2; i < 6; i++) {
					int h = hexv(p[i]);
					if (h < 0)
						return -1;
					v = v << 4 | h;
				}
				if (j->canon) {
					/* jansson writes \u00XX (upper-case) only for controls without a short form. */
					if (v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' ||
					    v == '\t' || v == 0)
						return -1;
					for (int i = 2; i < 6; i++)
						if (p[i] >= 'a' && p[i] <= 'f')
							return -1;
				} else if (v >= 0xd800 && v <= 0xdbff) {
					/* a high surrogate must be followed by a low one */
					int lo = 0;
					if (p + 12 > e || p[6] != '\\' || p[7] != 'u')
						return -1;
					for (int i = 8; i < 12; i++) {
						int h = hexv(p[i]);
						if (h < 0)
							return -1;
						lo = lo << 4 | h;
					}
					if (lo < 0xdc00 || lo > 0xdfff)
						return -1;
					p += 6;
				} else if (v >= 0xdc00 && v <= 0xdfff) {
					return -1;
				} else if (v == 0) {
					return -1; /* NUL cannot be stored in evident's C strings */
				}
				p += 6;
				continue;
			}
			if (c == '"' || c == '\\' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
			    c == 't') {
				p += 2;
				continue;
			}
			if (c == '/' && !j->canon) {
				p += 2;
				continue;
			}
			return -1;
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		/* UTF-8: reject overlongs, surrogates and code points above U+10FFFF. */
		size_t k;
		unsigned cp;
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return -1;
		}
		if ((size_t)(e - p) <= k)
			return -1;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (p[i] & 0x3fu);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return -1;
		p += k + 1;
	}
	return -1;
}

static int
number(struct js *j)
{
	const unsigned char *p = j->p, *e = j->end, *digits;
	int real = 0;

	if (p < e && *p == '-')
		p++;
	digits = p;
	if (p >= e)
		return -1;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	} else {
		return -1;
	}
	if (p < e && *p == '.') {
		real = 1;
		p++;
		if (p >= e || *p < '0' || *p > '9')
			return -1;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return -1;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (j->canon) {
		/* Only plain integers that jansson prints unchanged: no -0, at most 18 digits. */
		if (real || p - digits > 18 || (j->p[0] == '-' && digits[0] == '0'))
			return -1;
	}
	j->p = p;
	return 0;
}

static int value(struct js *j, char *type);

static int
keycmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = memcmp(a, b, n);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static int
object(struct js *j, const char *const *keys, size_t nkeys, struct ev_jspan *out)
{
	const unsigned char *prev = NULL;
	size_t prevlen = 0;

	if (++j->depth > JS_MAX_DEPTH)
		return -1;
	j->p++; /* '{' */
	if (!j->canon)
		ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		const unsigned char *k;
		size_t klen;
		int esc;
		char type;

		if (j->p >= j->end || *j->p != '"' || string(j, &k, &klen, &esc) != 0)
			return -1;
		if (j->canon) {
			if (esc)
				return -1; /* keys with escapes: let jansson decide */
			if (prev && keycmp(prev, prevlen, k, klen) >= 0)
				return -1;
			prev = k;
			prevlen = klen;
		} else {
			ws(j);
		}
		if (j->p >= j->end || *j->p != ':')
			return -1;
		j->p++;
		if (!j->canon)
			ws(j);
		const unsigned char *vstart = j->p;
		if (value(j, &type) != 0)
			return -1;
		for (size_t i = 0; out && i < nkeys && !esc; i++) {
			if (strlen(keys[i]) != klen || memcmp(keys[i], k, klen) != 0)
				continue;
			if (out[i].p != NULL)
				return -1; /* duplicate requested key */
			out[i].type = type;
			if (type == 's') {
				out[i].p = (const char *)vstart + 1;
				out[i].len = (size_t)(j->p - vstart) - 2;
				out[i].escaped = memchr(vstart + 1, '\\', out[i].len) != NULL;
			} else {
				out[i].p = (const char *)vstart;
				out[i].len = (size_t)(j->p - vstart);
				out[i].escaped = 0;
			}
		}
		if (!j->canon)
			ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == ',') {
			j->p++;
			if (!j->canon)
				ws(j);
			continue;
		}
		if (*j->p == '}') {
			j->p++;
			j->depth--;
			return 0;
		}
		return -1;
	}
}

static int
array(struct js *j)
{
	char type;

	if (++j->depth > JS_MAX_DEPTH)
		return -1;
	j->p++;
	if (!j->canon)
		ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (value(j, &type) != 0)
			return -1;
		if (!j->canon)
			ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == ',') {
			j->p++;
			if (!j->canon)
				ws(j);
			continue;
		}
		if (*j->p == ']') {
			j->p++;
			j->depth--;
			return 0;
		}
		return -1;
	}
}

static int
literal(struct js *j, const char *lit, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int
value(struct js *j, char *type)
{
	const unsigned char *s;
	size_t len;
	int esc;

	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{':
		*type = 'o';
		return object(j, NULL, 0, NULL);
	case '[':
		*type = 'a';
		return array(j);
	case '"':
		*type = 's';
		return string(j, &s, &len, &esc);
	case 't':
		*type = 't';
		return literal(j, "true", 4);
	case 'f':
		*type = 'f';
		return literal(j, "false", 5);
	case 'n':
		*type = 'z';
		return literal(j, "null", 4);
	default:
		*type = 'n';
		return number(j);
	}
}

int
ev_jscan_canonical(const char *s, size_t n)
{
	struct js j = { (const unsigned char *)s, (const unsigned char *)s + n, 1, 0 };

	if (n < 2 || s[0] != '{')
		return 0;
	if (object(&j, NULL, 0, NULL) != 0)
		return 0;
	return j.p == j.end;
}

int
ev_jscan_members(const char *s, size_t n, const char *const *keys, size_t nkeys,
    struct ev_jspan *out)
{
	struct js j = { (const unsigned char *)s, (const unsigned char *)s + n, 0, 0 };

	memset(out, 0, nkeys * sizeof(*out));
	ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return -1;
	if (object(&j, keys, nkeys, out) != 0)
		return -1;
	ws(&j);
	return j.p == j.end ? 0 : -1;
}
