/*
 * load.c - reading Sigma rules (YAML, libyaml's document API) and compiling
 * them into the structures of rules_int.h.
 *
 * Every problem is reported as "file:line: message" through the caller's
 * diag callback, and every Sigma feature evident does not implement is
 * named there: a rule is either understood completely or not loaded.  The
 * rule text is untrusted: sizes, list lengths and condition nesting are
 * bounded, and nothing here recurses on the input's shape except the
 * condition parser, which counts its depth.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <yaml.h>

#include "rules/rules_int.h"

/* ---------------------------------------------------------------- arena */

void *
rl_alloc(struct rl_arena *a, size_t n)
{
	struct rl_chunk *c = a->head;
	size_t al = sizeof(max_align_t);

	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		c = ev_xmalloc(sizeof(*c) + cap);
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *
rl_strndup(struct rl_arena *a, const char *s, size_t n)
{
	char *p = rl_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
rl_arena_free(struct rl_arena *a)
{
	struct rl_chunk *c = a->head, *n;

	for (; c; c = n) {
		n = c->next;
		free(c);
	}
	a->head = NULL;
}

/* ---------------------------------------------------------------- fields */

uint32_t
rl_field_id(struct ev_rules *r, const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i], name) == 0)
			return (uint32_t)i;
	if (r->nfields == r->capfields) {
		r->capfields = r->capfields ? r->capfields * 2 : 32;
		r->fields = ev_xrealloc(r->fields, r->capfields * sizeof(*r->fields));
	}
	r->fields[r->nfields] = rl_strndup(&r->arena, name, strlen(name));
	return (uint32_t)r->nfields++;
}

/* ---------------------------------------------------------------- loader */

struct loader {
	struct ev_rules *r;
	const char *file;
	void (*diag)(const struct ev_rule_diag *d, void *arg);
	void *arg;
	int failed;              /* some rule or file failed */
	struct rl_rule *ru;      /* the rule being read */
	yaml_document_t *doc;
};

static void lerr(struct loader *L, unsigned line, int unsupported, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
lerr(struct loader *L, unsigned line, int unsupported, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	struct ev_rule_diag d;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (unsupported && strncmp(msg, "unsupported", 11) != 0) {
		memmove(msg + 13, msg, sizeof(msg) - 13);
		memcpy(msg, "unsupported: ", 13);
		msg[sizeof(msg) - 1] = '\0';
	}
	L->failed = 1;
	if (L->ru)
		L->ru->bad = 1;
	if (L->diag) {
		d.file = L->file;
		d.line = line;
		d.message = msg;
		d.unsupported = unsupported;
		L->diag(&d, L->arg);
	}
}

static yaml_node_t *
node(struct loader *L, int id)
{
	return yaml_document_get_node(L->doc, id);
}

static unsigned
nline(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 0;
}

static int
is_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

static const char *
sval(const yaml_node_t *n, size_t *len)
{
	if (len)
		*len = n->data.scalar.length;
	return (const char *)n->data.scalar.value;
}

static int
seq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static int
is_null(const yaml_node_t *n)
{
	size_t len;
	const char *s;

	if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = sval(n, &len);
	return len == 0 || seq(s, len, "null") || seq(s, len, "Null") || seq(s, len, "NULL") ||
	    seq(s, len, "~");
}

/* 1 true, 0 false, -1 not a boolean */
static int
as_bool(const yaml_node_t *n)
{
	size_t len;
	const char *s;

	if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return -1;
	s = sval(n, &len);
	if (seq(s, len, "true") || seq(s, len, "True") || seq(s, len, "TRUE") || seq(s, len, "yes"))
		return 1;
	if (seq(s, len, "false") || seq(s, len, "False") || seq(s, len, "FALSE") || seq(s, len, "no"))
		return 0;
	return -1;
}

/* A scalar as an arena string; NULL (with a message) if n is not a scalar. */
static const char *
str(struct loader *L, yaml_node_t *n, const char *what)
{
	size_t len;
	const char *s;

	if (!is_scalar(n) || is_null(n)) {
		lerr(L, nline(n), 0, "%s must be a string", what);
		return NULL;
	}
	s = sval(n, &len);
	if (memchr(s, '\0', len)) {
		lerr(L, nline(n), 0, "%s contains a NUL character", what);
		return NULL;
	}
	return rl_strndup(&L->r->arena, s, len);
}

/* Look a key up in a mapping node; *keyline (may be NULL) gets the key's line. */
static yaml_node_t *
mget_at(struct loader *L, yaml_node_t *m, const char *key, unsigned *keyline)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key);
		size_t len;
		if (is_scalar(k)) {
			const char *s = sval(k, &len);
			if (seq(s, len, key)) {
				if (keyline)
					*keyline = nline(k);
				return node(L, p->value);
			}
		}
	}
	return NULL;
}

static yaml_node_t *
mget(struct loader *L, yaml_node_t *m, const char *key)
{
	return mget_at(L, m, key, NULL);
}

/* A string or a list of strings into an arena array. */
static const char **
strlist(struct loader *L, yaml_node_t *n, const char *what, size_t *count)
{
	const char **v;
	size_t k = 0;

	*count = 0;
	if (is_scalar(n)) {
		v = rl_alloc(&L->r->arena, sizeof(*v));
		if ((v[0] = str(L, n, what)) == NULL)
			return NULL;
		*count = 1;
		return v;
	}
	if (!n || n->type != YAML_SEQUENCE_NODE) {
		lerr(L, nline(n), 0, "%s must be a list of strings", what);
		return NULL;
	}
	size_t total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (total > RL_MAX_VALUES) {
		lerr(L, nline(n), 0, "%s has %zu entries (at most %u)", what, total, RL_MAX_VALUES);
		return NULL;
	}
	v = rl_alloc(&L->r->arena, (total + 1) * sizeof(*v));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const char *s = str(L, node(L, *it), what);
		if (s == NULL)
			return NULL;
		v[k++] = s;
	}
	*count = k;
	return v;
}

/* ------------------------------------------------------------ wildcards */

static unsigned char
lc(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/*
 * Compile a Sigma string value: '*' and '?' are wildcards, '\' escapes
 * '*', '?' and '\' (a backslash before anything else is itself), as the
 * Sigma specification's "Escape Character" section says.
 */
static void
compile_wild(struct loader *L, struct rl_val *v, const char *s, size_t n, int lead, int trail,
    int cased)
{
	struct rl_arena *a = &L->r->arena;
	char *pat = rl_alloc(a, n + 3);
	unsigned char *meta = rl_alloc(a, n + 3);
	size_t k = 0, nmeta = 0, first_meta = SIZE_MAX, last_meta = 0;

#define PUT(ch, m)                                                                    \
	do {                                                                          \
		if ((m) == 1 && k > 0 && meta[k - 1] == 1)                            \
			break;                                                        \
		pat[k] = (char)(m ? (m == 1 ? '*' : '?') : (cased ? (ch) : lc(ch))); \
		meta[k] = (unsigned char)(m);                                         \
		k++;                                                                  \
	} while (0)

	if (lead)
		PUT('*', 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' && i + 1 < n && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
			PUT((unsigned char)s[i + 1], 0);
			i++;
		} else if (c == '*') {
			PUT('*', 1);
		} else if (c == '?') {
			PUT('?', 2);
		} else {
			PUT(c, 0);
		}
	}
	if (trail)
		PUT('*', 1);
#undef PUT
	pat[k] = '\0';
	for (size_t i = 0; i < k; i++) {
		if (meta[i]) {
			nmeta++;
			if (first_meta == SIZE_MAX)
				first_meta = i;
			last_meta = i;
		}
	}
	v->kind = V_WILD;
	v->cased = cased;
	v->meta = meta;
	if (nmeta == 0) {
		v->shape = W_EXACT;
		v->lit = pat;
		v->litlen = k;
	} else if (k == 1 && meta[0] == 1) {
		v->shape = W_CONTAINS;
		v->lit = pat + 1;
		v->litlen = 0;
	} else if (nmeta == 1 && meta[k - 1] == 1) {
		v->shape = W_PREFIX;
		v->lit = pat;
		v->litlen = k - 1;
	} else if (nmeta == 1 && meta[0] == 1) {
		v->shape = W_SUFFIX;
		v->lit = pat + 1;
		v->litlen = k - 1;
	} else if (nmeta == 2 && meta[0] == 1 && meta[k - 1] == 1) {
		v->shape = W_CONTAINS;
		v->lit = pat + 1;
		v->litlen = k - 2;
	} else {
		v->shape = W_GENERAL;
		v->lit = pat;
		v->litlen = k;
	}
	(void)last_meta;
}

/* ------------------------------------------------------------ values */

enum {
	M_CONTAINS = 1 << 0,
	M_STARTS = 1 << 1,
	M_ENDS = 1 << 2,
	M_ALL = 1 << 3,
	M_RE = 1 << 4,
	M_RE_I = 1 << 5,
	M_RE_M = 1 << 6,
	M_RE_S = 1 << 7,
	M_CIDR = 1 << 8,
	M_EXISTS = 1 << 9,
	M_CASED = 1 << 10,
	M_NUM = 1 << 11,
	M_NEQ = 1 << 12,
};

static const char *const unsupported_mods[] = {
	"windash", "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide", "expand",
	"fieldref", "minute", "hour", "day", "week", "month", "year", NULL,
};

static int
parse_cidr(const char *s, struct rl_val *v)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long pfx;
	char *end;

	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, v->net) == 1)
		v->family = 4;
	else if (inet_pton(AF_INET6, buf, v->net) == 1)
		v->family = 6;
	else
		return -1;
	if (slash) {
		errno = 0;
		pfx = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end || errno || pfx > (v->family == 4 ? 32u : 128u))
			return -1;
	} else {
		pfx = v->family == 4 ? 32 : 128;
	}
	v->prefix = (unsigned)pfx;
	return 0;
}

static int
parse_number(const char *s, size_t len, double *out)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (*end || errno || !isfinite(*out))
		return -1;
	return 0;
}

static int
compile_value(struct loader *L, yaml_node_t *n, unsigned mods, enum rl_numop op, int keyword,
    int in_list, const char *key, struct rl_val *v)
{
	struct ev_rules *r = L->r;
	size_t len;
	const char *s;

	if (!is_scalar(n)) {
		lerr(L, nline(n), 0, "'%s': a value must be a string or a number, not a %s", key,
		    n && n->type == YAML_MAPPING_NODE ? "map" : "list");
		return -1;
	}
	s = sval(n, &len);
	v->text = rl_strndup(&r->arena, s, len);
	if (mods & M_EXISTS) {
		int b = as_bool(n);
		if (b < 0) {
			lerr(L, nline(n), 0, "'%s': the exists modifier needs true or false", key);
			return -1;
		}
		v->kind = V_EXISTS;
		v->exists = b;
		return 0;
	}
	if (is_null(n)) {
		if (keyword) {
			lerr(L, nline(n), 0, "a keyword cannot be null");
			return -1;
		}
		if (in_list) {
			lerr(L, nline(n), 0,
			    "'%s': null cannot be part of a list of values (use its own selection)",
			    key);
			return -1;
		}
		if (mods) {
			lerr(L, nline(n), 0, "'%s': null cannot take modifiers", key);
			return -1;
		}
		v->kind = V_NULL;
		return 0;
	}
	if (len > 16384) {
		lerr(L, nline(n), 0, "'%s': value longer than 16 KiB", key);
		return -1;
	}
	if (mods & M_NUM) {
		if (parse_number(s, len, &v->num) != 0) {
			lerr(L, nline(n), 0, "'%s': '%s' is not a number", key, v->text);
			return -1;
		}
		v->kind = V_NUM;
		v->op = op;
		return 0;
	}
	if (mods & M_CIDR) {
		if (memchr(s, '\0', len) || parse_cidr(v->text, v) != 0) {
			lerr(L, nline(n), 0, "'%s': '%s' is not an IPv4 or IPv6 network", key, v->text);
			return -1;
		}
		v->kind = V_CIDR;
		return 0;
	}
	if (mods & M_RE) {
		int ec;
		PCRE2_SIZE eo;
		uint32_t opts = 0, names = 0;
		if (mods & M_RE_I)
			opts |= PCRE2_CASELESS;
		if (mods & M_RE_M)
			opts |= PCRE2_MULTILINE;
		if (mods & M_RE_S)
			opts |= PCRE2_DOTALL;
		v->re = pcre2_compile((PCRE2_SPTR)s, len, opts, &ec, &eo, NULL);
		if (v->re == NULL) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(ec, msg, sizeof(msg));
			lerr(L, nline(n), 0, "'%s': bad regular expression at offset %zu: %s", key,
			    (size_t)eo, (const char *)msg);
			return -1;
		}
		(void)pcre2_jit_compile(v->re, PCRE2_JIT_COMPLETE);
		if (r->ncodes == r->capcodes) {
			r->capcodes = r->capcodes ? r->capcodes * 2 : 16;
			r->codes = ev_xrealloc(r->codes, r->capcodes * sizeof(*r->codes));
		}
		r->codes[r->ncodes++] = v->re;
		pcre2_pattern_info(v->re, PCRE2_INFO_NAMECOUNT, &names);
		v->re_names = names > 0;
		v->kind = V_RE;
		return 0;
	}
	compile_wild(L, v, s, len, keyword || (mods & (M_CONTAINS | M_ENDS)),
	    keyword || (mods & (M_CONTAINS | M_STARTS)), (mods & M_CASED) != 0);
	return 0;
}

/*
 * One "field|mod|mod: value(s)" entry.  An empty field name ("|all" or "")
 * makes a keyword item that searches the raw line.
 */
static int
parse_item(struct loader *L, const char *key, size_t keylen, yaml_node_t *vn, unsigned line,
    struct rl_item *it)
{
	struct ev_rules *r = L->r;
	char field[256];
	unsigned mods = 0;
	enum rl_numop op = N_GT;
	size_t flen = 0, i;
	const char *p, *end = key + keylen;
	int bad = 0, keyword;

	it->key = rl_strndup(&r->arena, key, keylen);
	if (memchr(key, '\0', keylen)) {
		lerr(L, line, 0, "field name contains a NUL character");
		return -1;
	}
	p = memchr(key, '|', keylen);
	flen = p ? (size_t)(p - key) : keylen;
	if (flen >= sizeof(field)) {
		lerr(L, line, 0, "field name longer than %zu characters", sizeof(field) - 1);
		return -1;
	}
	memcpy(field, key, flen);
	field[flen] = '\0';
	keyword = flen == 0;
	while (p && p < end) {
		const char *m = p + 1, *q = memchr(m, '|', (size_t)(end - m));
		size_t mlen = q ? (size_t)(q - m) : (size_t)(end - m);
		char mod[64];
		if (mlen == 0 || mlen >= sizeof(mod)) {
			lerr(L, line, 0, "'%s': empty or overlong modifier", it->key);
			return -1;
		}
		memcpy(mod, m, mlen);
		mod[mlen] = '\0';
		if (strcmp(mod, "contains") == 0)
			mods |= M_CONTAINS;
		else if (strcmp(mod, "startswith") == 0)
			mods |= M_STARTS;
		else if (strcmp(mod, "endswith") == 0)
			mods |= M_ENDS;
		else if (strcmp(mod, "all") == 0)
			mods |= M_ALL;
		else if (strcmp(mod, "re") == 0)
			mods |= M_RE;
		else if (strcmp(mod, "i") == 0 && (mods & M_RE))
			mods |= M_RE_I;
		else if (strcmp(mod, "m") == 0 && (mods & M_RE))
			mods |= M_RE_M;
		else if (strcmp(mod, "s") == 0 && (mods & M_RE))
			mods |= M_RE_S;
		else if (strcmp(mod, "cidr") == 0)
			mods |= M_CIDR;
		else if (strcmp(mod, "exists") == 0)
			mods |= M_EXISTS;
		else if (strcmp(mod, "cased") == 0)
			mods |= M_CASED;
		else if (strcmp(mod, "neq") == 0)
			mods |= M_NEQ;
		else if (strcmp(mod, "lt") == 0 || strcmp(mod, "lte") == 0 || strcmp(mod, "gt") == 0 ||
		    strcmp(mod, "gte") == 0) {
			if (mods & M_NUM) {
				lerr(L, line, 0, "'%s': more than one comparison modifier", it->key);
				bad = 1;
			}
			mods |= M_NUM;
			op = mod[0] == 'l' ? (mod[2] ? N_LTE : N_LT) : (mod[2] ? N_GTE : N_GT);
		} else {
			int known = 0;
			for (i = 0; unsupported_mods[i]; i++)
				if (strcmp(mod, unsupported_mods[i]) == 0)
					known = 1;
			if (known)
				lerr(L, line, 1, "unsupported modifier '%s' in '%s'", mod, it->key);
			else if (strcmp(mod, "i") == 0 || strcmp(mod, "m") == 0 || strcmp(mod, "s") == 0)
				lerr(L, line, 0, "'%s': modifier '%s' only follows 're'", it->key, mod);
			else
				lerr(L, line, 0, "unknown modifier '%s' in '%s'", mod, it->key);
			bad = 1;
		}
		p = q;
	}
	if (bad)
		return -1;
	{
		unsigned str_mods = mods & (M_CONTAINS | M_STARTS | M_ENDS);
		if (str_mods & (str_mods - 1)) {
			lerr(L, line, 0, "'%s': contains, startswith and endswith exclude each other",
			    it->key);
			return -1;
		}
		if ((mods & M_RE) && (mods & (M_CONTAINS | M_STARTS | M_ENDS | M_CIDR | M_EXISTS |
					       M_NUM | M_CASED))) {
			lerr(L, line, 0, "'%s': 're' cannot be combined with other value modifiers",
			    it->key);
			return -1;
		}
		if ((mods & M_CIDR) && (mods & ~(M_CIDR | M_ALL))) {
			lerr(L, line, 0, "'%s': 'cidr' cannot be combined with other value modifiers",
			    it->key);
			return -1;
		}
		if ((mods & M_NUM) && (mods & ~(M_NUM | M_ALL))) {
			lerr(L, line, 0, "'%s': a comparison cannot be combined with other modifiers",
			    it->key);
			return -1;
		}
		if ((mods & M_NEQ) && (mods & ~(M_NEQ | M_CASED))) {
			lerr(L, line, 0, "'%s': 'neq' combines only with 'cased'", it->key);
			return -1;
		}
		if ((mods & M_EXISTS) && mods != M_EXISTS) {
			lerr(L, line, 0, "'%s': 'exists' takes no other modifier", it->key);
			return -1;
		}
		if (keyword && (mods & (M_EXISTS | M_CIDR | M_NUM | M_NEQ))) {
			lerr(L, line, 0, "'%s': keywords take only all, re and cased", it->key);
			return -1;
		}
	}
	it->field = keyword ? RL_FIELD_RAW : rl_field_id(r, field);
	it->all = (mods & M_ALL) != 0;
	it->neq = (mods & M_NEQ) != 0;
	if (vn && vn->type == YAML_SEQUENCE_NODE) {
		size_t nv = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
		if (nv == 0) {
			lerr(L, nline(vn), 0, "'%s': empty list of values", it->key);
			return -1;
		}
		if (nv > RL_MAX_VALUES) {
			lerr(L, nline(vn), 0, "'%s': %zu values (at most %u)", it->key, nv,
			    RL_MAX_VALUES);
			return -1;
		}
		if ((mods & M_EXISTS)) {
			lerr(L, nline(vn), 0, "'%s': exists takes a single true or false", it->key);
			return -1;
		}
		it->vals = rl_alloc(&r->arena, nv * sizeof(*it->vals));
		for (i = 0; i < nv; i++) {
			if (compile_value(L, node(L, vn->data.sequence.items.start[i]), mods, op, keyword,
				1, it->key, &it->vals[i]) != 0)
				return -1;
		}
		it->nval = nv;
	} else {
		if (it->all) {
			lerr(L, line, 0, "'%s': the all modifier needs a list of values", it->key);
			return -1;
		}
		it->vals = rl_alloc(&r->arena, sizeof(*it->vals));
		if (compile_value(L, vn, mods, op, keyword, 0, it->key, &it->vals[0]) != 0)
			return -1;
		it->nval = 1;
	}
	return 0;
}

static int
parse_map_alt(struct loader *L, yaml_node_t *m, struct rl_alt *alt)
{
	size_t np = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	int rc = 0;

	if (np == 0) {
		lerr(L, nline(m), 0, "empty map in a search identifier");
		return -1;
	}
	alt->items = rl_alloc(&L->r->arena, np * sizeof(*alt->items));
	for (size_t i = 0; i < np; i++) {
		yaml_node_pair_t *p = &m->data.mapping.pairs.start[i];
		yaml_node_t *k = node(L, p->key);
		size_t klen;
		const char *ks;
		if (!is_scalar(k)) {
			lerr(L, nline(k), 0, "a field name must be a string");
			rc = -1;
			continue;
		}
		ks = sval(k, &klen);
		if (parse_item(L, ks, klen, node(L, p->value), nline(k), &alt->items[alt->nitem]) != 0)
			rc = -1;
		else
			alt->nitem++;
	}
	return rc;
}

static int
parse_sel(struct loader *L, const char *name, yaml_node_t *n, unsigned line, struct rl_sel *sel)
{
	struct ev_rules *r = L->r;

	sel->name = name;
	sel->line = line;
	if (n == NULL || is_null(n)) {
		lerr(L, line, 0, "search identifier '%s' is empty", name);
		return -1;
	}
	if (n->type == YAML_MAPPING_NODE) {
		sel->alts = rl_alloc(&r->arena, sizeof(*sel->alts));
		sel->nalt = 1;
		return parse_map_alt(L, n, &sel->alts[0]);
	}
	if (is_scalar(n)) {
		sel->alts = rl_alloc(&r->arena, sizeof(*sel->alts));
		sel->nalt = 1;
		sel->alts[0].items = rl_alloc(&r->arena, sizeof(struct rl_item));
		sel->alts[0].nitem = 1;
		return parse_item(L, "", 0, n, nline(n), &sel->alts[0].items[0]);
	}
	/* a list: of strings (keywords, ORed) or of maps (ORed) */
	size_t nv = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	size_t nmaps = 0;
	if (nv == 0) {
		lerr(L, line, 0, "search identifier '%s' is an empty list", name);
		return -1;
	}
	if (nv > RL_MAX_VALUES) {
		lerr(L, line, 0, "search identifier '%s' has %zu entries (at most %u)", name, nv,
		    RL_MAX_VALUES);
		return -1;
	}
	for (size_t i = 0; i < nv; i++) {
		yaml_node_t *e = node(L, n->data.sequence.items.start[i]);
		if (e && e->type == YAML_MAPPING_NODE)
			nmaps++;
	}
	if (nmaps == 0) {
		sel->alts = rl_alloc(&r->arena, sizeof(*sel->alts));
		sel->nalt = 1;
		sel->alts[0].items = rl_alloc(&r->arena, sizeof(struct rl_item));
		sel->alts[0].nitem = 1;
		return parse_item(L, "", 0, n, line, &sel->alts[0].items[0]);
	}
	if (nmaps != nv) {
		lerr(L, line, 0, "search identifier '%s' mixes maps and plain values in one list",
		    name);
		return -1;
	}
	sel->alts = rl_alloc(&r->arena, nv * sizeof(*sel->alts));
	for (size_t i = 0; i < nv; i++) {
		if (parse_map_alt(L, node(L, n->data.sequence.items.start[i]), &sel->alts[i]) != 0)
			return -1;
		sel->nalt++;
	}
	return 0;
}

/* ------------------------------------------------------------ conditions */

enum { T_END, T_LP, T_RP, T_WORD, T_PIPE };

struct cparse {
	struct loader *L;
	struct rl_rule *ru;
	const char *s;
	size_t pos, len;
	unsigned line;
	int kind;
	char tok[256];
	int failed;
};

static void
cnext(struct cparse *c)
{
	size_t start, n;

	while (c->pos < c->len && isspace((unsigned char)c->s[c->pos]))
		c->pos++;
	if (c->pos >= c->len) {
		c->kind = T_END;
		c->tok[0] = '\0';
		return;
	}
	switch (c->s[c->pos]) {
	case '(':
		c->kind = T_LP;
		c->pos++;
		strcpy(c->tok, "(");
		return;
	case ')':
		c->kind = T_RP;
		c->pos++;
		strcpy(c->tok, ")");
		return;
	case '|':
		c->kind = T_PIPE;
		c->pos++;
		strcpy(c->tok, "|");
		return;
	}
	start = c->pos;
	while (c->pos < c->len && !isspace((unsigned char)c->s[c->pos]) && c->s[c->pos] != '(' &&
	    c->s[c->pos] != ')' && c->s[c->pos] != '|')
		c->pos++;
	n = c->pos - start;
	if (n >= sizeof(c->tok))
		n = sizeof(c->tok) - 1;
	memcpy(c->tok, c->s + start, n);
	c->tok[n] = '\0';
	c->kind = T_WORD;
}

static int
cword(const struct cparse *c, const char *w)
{
	return c->kind == T_WORD && strcasecmp(c->tok, w) == 0;
}

static void cfail(struct cparse *c, int unsupported, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
cfail(struct cparse *c, int unsupported, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->failed = 1;
	lerr(c->L, c->line, unsupported, "condition: %s", msg);
}

static struct rl_cnode *
cnode(struct cparse *c, enum rl_cop op, size_t n)
{
	struct rl_cnode *x = rl_alloc(&c->L->r->arena, sizeof(*x));
	x->op = op;
	x->n = n;
	if (n)
		x->kids = rl_alloc(&c->L->r->arena, n * sizeof(*x->kids));
	return x;
}

/* '*' wildcard match for "1 of selection_*" */
static int
glob(const char *p, const char *s)
{
	const char *star = NULL, *mark = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++mark;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static struct rl_cnode *c_or(struct cparse *c, int depth);

static int
is_reserved(const char *w)
{
	static const char *const kw[] = { "and", "or", "not", "of", "them", "all", NULL };
	for (size_t i = 0; kw[i]; i++)
		if (strcasecmp(w, kw[i]) == 0)
			return 1;
	return 0;
}

static struct rl_cnode *
c_primary(struct cparse *c, int depth)
{
	struct rl_rule *ru = c->ru;
	struct rl_cnode *x;

	if (depth > RL_MAX_COND_DEPTH) {
		cfail(c, 0, "nested deeper than %d", RL_MAX_COND_DEPTH);
		return NULL;
	}
	if (c->kind == T_LP) {
		cnext(c);
		x = c_or(c, depth + 1);
		if (x == NULL)
			return NULL;
		if (c->kind != T_RP) {
			cfail(c, 0, "missing ')'");
			return NULL;
		}
		cnext(c);
		return x;
	}
	if (c->kind == T_PIPE) {
		cfail(c, 1, "unsupported aggregation expression ('| count() ...'); write a "
			    "correlation rule instead");
		return NULL;
	}
	if (c->kind != T_WORD) {
		cfail(c, 0, "expected a search identifier, found %s",
		    c->kind == T_END ? "the end" : c->tok);
		return NULL;
	}
	if (cword(c, "1") || cword(c, "all") || cword(c, "any") ||
	    (isdigit((unsigned char)c->tok[0]) && strspn(c->tok, "0123456789") == strlen(c->tok))) {
		int all = cword(c, "all");
		char q[256];
		snprintf(q, sizeof(q), "%s", c->tok);
		cnext(c);
		if (!cword(c, "of")) {
			cfail(c, 0, "expected 'of' after '%s'", q);
			return NULL;
		}
		if (!all && strcmp(q, "1") != 0) {
			cfail(c, 1, "unsupported quantifier '%s of' (Sigma defines '1 of' and 'all of')",
			    q);
			return NULL;
		}
		cnext(c);
		if (c->kind != T_WORD) {
			cfail(c, 0, "expected 'them' or a pattern after 'of'");
			return NULL;
		}
		int them = cword(c, "them");
		size_t k = 0;
		for (size_t i = 0; i < ru->nsel; i++)
			if (them ? ru->sels[i].name[0] != '_' : glob(c->tok, ru->sels[i].name))
				k++;
		if (k == 0) {
			cfail(c, 0, "'%s' matches no search identifier", c->tok);
			return NULL;
		}
		x = cnode(c, all ? C_AND : C_OR, k);
		k = 0;
		for (size_t i = 0; i < ru->nsel; i++) {
			if (them ? ru->sels[i].name[0] != '_' : glob(c->tok, ru->sels[i].name)) {
				x->kids[k] = cnode(c, C_SEL, 0);
				x->kids[k]->sel = (uint32_t)i;
				k++;
			}
		}
		cnext(c);
		return x;
	}
	if (cword(c, "near")) {
		cfail(c, 1, "unsupported 'near' operator; write a temporal correlation rule instead");
		return NULL;
	}
	if (is_reserved(c->tok)) {
		cfail(c, 0, "unexpected '%s'", c->tok);
		return NULL;
	}
	for (size_t i = 0; i < ru->nsel; i++) {
		if (strcmp(ru->sels[i].name, c->tok) == 0) {
			x = cnode(c, C_SEL, 0);
			x->sel = (uint32_t)i;
			cnext(c);
			return x;
		}
	}
	cfail(c, 0, "unknown search identifier '%s'", c->tok);
	return NULL;
}

static struct rl_cnode *
c_not(struct cparse *c, int depth)
{
	if (depth > RL_MAX_COND_DEPTH) {
		cfail(c, 0, "nested deeper than %d", RL_MAX_COND_DEPTH);
		return NULL;
	}
	if (cword(c, "not")) {
		struct rl_cnode *x = cnode(c, C_NOT, 1);
		cnext(c);
		if ((x->kids[0] = c_not(c, depth + 1)) == NULL)
			return NULL;
		return x;
	}
	return c_primary(c, depth);
}

static struct rl_cnode *
c_binary(struct cparse *c, int depth, int is_or)
{
	struct rl_cnode *kids[64], *x;
	size_t n = 0;
	struct rl_cnode **big = NULL;
	size_t nbig = 0;

	for (;;) {
		x = is_or ? c_binary(c, depth, 0) : c_not(c, depth);
		if (x == NULL) {
			free(big);
			return NULL;
		}
		if (n < 64) {
			kids[n++] = x;
		} else {
			big = ev_xrealloc(big, (nbig + 1) * sizeof(*big));
			big[nbig++] = x;
		}
		if (!cword(c, is_or ? "or" : "and"))
			break;
		cnext(c);
	}
	if (n == 1 && nbig == 0)
		return kids[0];
	x = cnode(c, is_or ? C_OR : C_AND, n + nbig);
	memcpy(x->kids, kids, n * sizeof(*kids));
	if (nbig)
		memcpy(x->kids + n, big, nbig * sizeof(*big));
	free(big);
	return x;
}

static struct rl_cnode *
c_or(struct cparse *c, int depth)
{
	return c_binary(c, depth, 1);
}

static struct rl_cnode *
parse_condition(struct loader *L, struct rl_rule *ru, const char *s, size_t len, unsigned line)
{
	struct cparse c = { 0 };
	struct rl_cnode *x;

	if (len > RL_MAX_COND_LEN) {
		lerr(L, line, 0, "condition longer than %u characters", RL_MAX_COND_LEN);
		return NULL;
	}
	c.L = L;
	c.ru = ru;
	c.s = s;
	c.len = len;
	c.line = line;
	cnext(&c);
	x = c_or(&c, 0);
	if (x && c.kind != T_END) {
		if (c.kind == T_PIPE)
			cfail(&c, 1, "unsupported aggregation expression ('| count() ...'); write a "
				     "correlation rule instead");
		else
			cfail(&c, 0, "unexpected '%s'", c.tok);
		return NULL;
	}
	return c.failed ? NULL : x;
}

/* ------------------------------------------------------------ rules */

static int
parse_detection(struct loader *L, struct rl_rule *ru, yaml_node_t *det, unsigned det_line)
{
	struct ev_rules *r = L->r;
	yaml_node_t *cond = NULL;
	unsigned cond_line = det_line;
	size_t np;

	if (det == NULL || det->type != YAML_MAPPING_NODE) {
		lerr(L, det_line, 0, "detection must be a map");
		return -1;
	}
	np = (size_t)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
	ru->sels = rl_alloc(&r->arena, (np ? np : 1) * sizeof(*ru->sels));
	for (size_t i = 0; i < np; i++) {
		yaml_node_pair_t *p = &det->data.mapping.pairs.start[i];
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		size_t klen;
		const char *ks;
		if (!is_scalar(k)) {
			lerr(L, nline(k), 0, "a search identifier must be a string");
			continue;
		}
		ks = sval(k, &klen);
		if (seq(ks, klen, "condition")) {
			cond = v;
			cond_line = nline(k);
			continue;
		}
		if (seq(ks, klen, "timeframe")) {
			lerr(L, nline(k), 1,
			    "unsupported detection.timeframe (old aggregation); write a correlation "
			    "rule instead");
			continue;
		}
		if (klen == 0 || memchr(ks, '\0', klen) || klen > 255) {
			lerr(L, nline(k), 0, "bad search identifier name");
			continue;
		}
		for (size_t j = 0; j < ru->nsel; j++) {
			if (strlen(ru->sels[j].name) == klen && memcmp(ru->sels[j].name, ks, klen) == 0)
				lerr(L, nline(k), 0, "search identifier '%.*s' defined twice", (int)klen,
				    ks);
		}
		const char *name = rl_strndup(&r->arena, ks, klen);
		if (parse_sel(L, name, v, nline(k), &ru->sels[ru->nsel]) == 0)
			ru->nsel++;
	}
	if (cond == NULL) {
		lerr(L, det_line, 0, "detection has no condition");
		return -1;
	}
	if (ru->bad)
		return -1;
	if (is_scalar(cond) && !is_null(cond)) {
		size_t len;
		const char *s = sval(cond, &len);
		ru->cond = parse_condition(L, ru, s, len, cond_line);
	} else if (cond->type == YAML_SEQUENCE_NODE) {
		/* a list of conditions: ORed */
		size_t nc = (size_t)(cond->data.sequence.items.top - cond->data.sequence.items.start);
		if (nc == 0 || nc > 64) {
			lerr(L, cond_line, 0, "condition list must have 1 to 64 entries");
			return -1;
		}
		struct rl_cnode *x = rl_alloc(&r->arena, sizeof(*x));
		x->op = C_OR;
		x->n = nc;
		x->kids = rl_alloc(&r->arena, nc * sizeof(*x->kids));
		for (size_t i = 0; i < nc; i++) {
			yaml_node_t *e = node(L, cond->data.sequence.items.start[i]);
			size_t len;
			if (!is_scalar(e) || is_null(e)) {
				lerr(L, nline(e), 0, "condition must be a string");
				return -1;
			}
			const char *s = sval(e, &len);
			if ((x->kids[i] = parse_condition(L, ru, s, len, nline(e))) == NULL)
				return -1;
		}
		ru->cond = x;
	} else {
		lerr(L, cond_line, 0, "condition must be a string or a list of strings");
		return -1;
	}
	return ru->cond ? 0 : -1;
}

static int
parse_timespan(const char *s, int64_t *us)
{
	char *end;
	unsigned long long v;
	int64_t mult;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (end[0]) {
	case 's': mult = 1000000LL; break;
	case 'm': mult = 60LL * 1000000LL; break;
	case 'h': mult = 3600LL * 1000000LL; break;
	case 'd': mult = 86400LL * 1000000LL; break;
	default: return -1;
	}
	if (v == 0 || v > (unsigned long long)(400LL * 86400LL * 1000000LL / mult))
		return -1;
	*us = (int64_t)v * mult;
	return 0;
}

static int
parse_correlation(struct loader *L, struct rl_rule *ru, yaml_node_t *cn, unsigned cline)
{
	struct ev_rules *r = L->r;
	struct rl_corr *c;
	yaml_node_t *n;
	const char *s;

	if (cn == NULL || cn->type != YAML_MAPPING_NODE) {
		lerr(L, cline, 0, "correlation must be a map");
		return -1;
	}
	c = ru->corr = rl_alloc(&r->arena, sizeof(*c));
	for (yaml_node_pair_t *p = cn->data.mapping.pairs.start; p < cn->data.mapping.pairs.top; p++) {
		static const char *const known[] = { "type", "rules", "group-by", "timespan",
			"condition", "aliases", NULL };
		yaml_node_t *k = node(L, p->key);
		size_t klen, i;
		const char *ks;
		if (!is_scalar(k)) {
			lerr(L, nline(k), 0, "correlation attribute names are strings");
			return -1;
		}
		ks = sval(k, &klen);
		for (i = 0; known[i]; i++)
			if (seq(ks, klen, known[i]))
				break;
		if (known[i] == NULL) {
			lerr(L, nline(k), 0, "unknown correlation attribute '%.*s'", (int)(klen > 64 ? 64 : klen),
			    ks);
			return -1;
		}
	}
	/* type */
	n = mget(L, cn, "type");
	if (n == NULL) {
		lerr(L, cline, 0, "correlation has no type");
		return -1;
	}
	if ((s = str(L, n, "correlation type")) == NULL)
		return -1;
	if (strcmp(s, "event_count") == 0)
		c->type = CT_EVENT_COUNT;
	else if (strcmp(s, "value_count") == 0)
		c->type = CT_VALUE_COUNT;
	else if (strcmp(s, "temporal") == 0)
		c->type = CT_TEMPORAL;
	else if (strcmp(s, "temporal_ordered") == 0)
		c->type = CT_TEMPORAL_ORDERED;
	else if (strcmp(s, "value_sum") == 0 || strcmp(s, "value_avg") == 0 ||
	    strcmp(s, "value_percentile") == 0) {
		lerr(L, nline(n), 1, "unsupported correlation type '%s'", s);
		return -1;
	} else {
		lerr(L, nline(n), 0, "unknown correlation type '%s'", s);
		return -1;
	}
	/* rules */
	n = mget(L, cn, "rules");
	if (n == NULL) {
		lerr(L, cline, 0, "correlation has no rules");
		return -1;
	}
	c->refline = nline(n);
	if ((c->refname = strlist(L, n, "correlation rules", &c->nref)) == NULL)
		return -1;
	if (c->nref == 0 || c->nref > RL_MAX_CORR_REFS) {
		lerr(L, nline(n), 0, "correlation must reference 1 to %d rules", RL_MAX_CORR_REFS);
		return -1;
	}
	/* group-by */
	n = mget(L, cn, "group-by");
	if (n && !is_null(n)) {
		if ((c->group = strlist(L, n, "group-by", &c->ngroup)) == NULL)
			return -1;
		if (c->ngroup > 16) {
			lerr(L, nline(n), 0, "group-by has more than 16 fields");
			return -1;
		}
	}
	/* timespan */
	n = mget(L, cn, "timespan");
	if (n == NULL) {
		lerr(L, cline, 0, "correlation has no timespan");
		return -1;
	}
	if ((c->span_text = str(L, n, "timespan")) == NULL)
		return -1;
	if (parse_timespan(c->span_text, &c->span_us) != 0) {
		lerr(L, nline(n), 0, "timespan '%s' is not a number with s, m, h or d (at most 400d)",
		    c->span_text);
		return -1;
	}
	/* aliases */
	n = mget(L, cn, "aliases");
	if (n && !is_null(n)) {
		if (n->type != YAML_MAPPING_NODE) {
			lerr(L, nline(n), 0, "aliases must be a map");
			return -1;
		}
		size_t na = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
		if (na > 16) {
			lerr(L, nline(n), 0, "more than 16 aliases");
			return -1;
		}
		c->alias_name = rl_alloc(&r->arena, (na + 1) * sizeof(char *));
		c->alias_rule = rl_alloc(&r->arena, (na + 1) * sizeof(char **));
		c->alias_field = rl_alloc(&r->arena, (na + 1) * sizeof(char **));
		c->alias_n = rl_alloc(&r->arena, (na + 1) * sizeof(size_t));
		for (size_t i = 0; i < na; i++) {
			yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
			yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
			if ((c->alias_name[i] = str(L, k, "alias name")) == NULL)
				return -1;
			if (!v || v->type != YAML_MAPPING_NODE) {
				lerr(L, nline(v), 0, "alias '%s' must map rule names to fields",
				    c->alias_name[i]);
				return -1;
			}
			size_t nm = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
			if (nm > RL_MAX_CORR_REFS) {
				lerr(L, nline(v), 0, "alias '%s' has too many entries",
				    c->alias_name[i]);
				return -1;
			}
			c->alias_rule[i] = rl_alloc(&r->arena, (nm + 1) * sizeof(char *));
			c->alias_field[i] = rl_alloc(&r->arena, (nm + 1) * sizeof(char *));
			for (size_t j = 0; j < nm; j++) {
				yaml_node_pair_t *q = &v->data.mapping.pairs.start[j];
				if ((c->alias_rule[i][j] = str(L, node(L, q->key), "rule name")) == NULL ||
				    (c->alias_field[i][j] = str(L, node(L, q->value), "field name")) ==
					NULL)
					return -1;
			}
			c->alias_n[i] = nm;
			c->nalias++;
		}
	}
	/* condition */
	n = mget(L, cn, "condition");
	c->lo = 1;
	c->hi = UINT64_MAX;
	if (c->type == CT_TEMPORAL || c->type == CT_TEMPORAL_ORDERED)
		c->lo = c->nref;
	if (n && !is_null(n)) {
		struct ev_buf txt = EV_BUF_INIT;
		int have_lo = 0;
		if (n->type != YAML_MAPPING_NODE) {
			lerr(L, nline(n), 0, "correlation condition must be a map (gte: 5)");
			return -1;
		}
		if (c->type == CT_TEMPORAL_ORDERED) {
			lerr(L, nline(n), 1,
			    "unsupported condition on temporal_ordered (all rules must occur in order)");
			return -1;
		}
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
		     p++) {
			yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
			const char *op = str(L, k, "condition operator");
			const char *vs;
			char *end;
			unsigned long long x;
			if (op == NULL) {
				ev_buf_free(&txt);
				return -1;
			}
			if (strcmp(op, "field") == 0) {
				if ((c->field = str(L, v, "condition field")) == NULL) {
					ev_buf_free(&txt);
					return -1;
				}
				continue;
			}
			if ((vs = str(L, v, "condition value")) == NULL) {
				ev_buf_free(&txt);
				return -1;
			}
			errno = 0;
			x = strtoull(vs, &end, 10);
			if (!isdigit((unsigned char)vs[0]) || *end || errno || x > (1ULL << 40)) {
				lerr(L, nline(v), 0, "condition value '%s' is not a whole number", vs);
				ev_buf_free(&txt);
				return -1;
			}
			if (strcmp(op, "gt") == 0) {
				c->lo = x + 1;
				have_lo = 1;
			} else if (strcmp(op, "gte") == 0) {
				c->lo = x;
				have_lo = 1;
			} else if (strcmp(op, "lt") == 0) {
				if (x == 0) {
					lerr(L, nline(k), 0, "condition 'lt: 0' can never hold");
					ev_buf_free(&txt);
					return -1;
				}
				c->hi = x - 1;
			} else if (strcmp(op, "lte") == 0) {
				c->hi = x;
			} else if (strcmp(op, "eq") == 0) {
				c->lo = c->hi = x;
				have_lo = 1;
			} else if (strcmp(op, "neq") == 0) {
				lerr(L, nline(k), 1, "unsupported correlation condition 'neq'");
				ev_buf_free(&txt);
				return -1;
			} else {
				lerr(L, nline(k), 0, "unknown correlation condition '%s'", op);
				ev_buf_free(&txt);
				return -1;
			}
			ev_buf_addf(&txt, "%s%s %s", txt.len ? " and " : "", op, vs);
		}
		if (!have_lo && (c->type == CT_EVENT_COUNT || c->type == CT_VALUE_COUNT)) {
			lerr(L, nline(n), 1,
			    "unsupported correlation condition without gt, gte or eq: evident "
			    "fires when a count is reached, it does not evaluate windows at their end");
			ev_buf_free(&txt);
			return -1;
		}
		if (c->lo == 0) {
			lerr(L, nline(n), 1,
			    "unsupported correlation condition that holds with no events");
			ev_buf_free(&txt);
			return -1;
		}
		if (c->lo > c->hi) {
			lerr(L, nline(n), 0, "correlation condition can never hold");
			ev_buf_free(&txt);
			return -1;
		}
		c->cond_text = rl_strndup(&r->arena, txt.p ? txt.p : "", txt.len);
		ev_buf_free(&txt);
	} else if (c->type == CT_EVENT_COUNT || c->type == CT_VALUE_COUNT) {
		lerr(L, cline, 0, "%s correlation needs a condition",
		    c->type == CT_EVENT_COUNT ? "event_count" : "value_count");
		return -1;
	} else {
		char tmp[64];
		snprintf(tmp, sizeof(tmp), "gte %zu", c->nref);
		c->cond_text = rl_strndup(&r->arena, tmp, strlen(tmp));
	}
	if (c->type == CT_VALUE_COUNT) {
		if (c->field == NULL) {
			lerr(L, nline(n), 0, "value_count correlation needs condition.field");
			return -1;
		}
		if (c->lo > RL_MAX_DISTINCT) {
			lerr(L, nline(n), 1,
			    "unsupported value_count threshold above %d distinct values",
			    RL_MAX_DISTINCT);
			return -1;
		}
	} else if (c->field) {
		lerr(L, nline(n), 0, "condition.field is only for value_count");
		return -1;
	}
	if ((c->type == CT_TEMPORAL || c->type == CT_TEMPORAL_ORDERED) && c->lo > c->nref) {
		lerr(L, nline(n), 0, "temporal condition asks for more rules than it references");
		return -1;
	}
	return 0;
}

static const char *const levels[] = { "informational", "low", "medium", "high", "critical",
	NULL };

static void
add_rule(struct ev_rules *r, struct rl_rule *ru)
{
	if (r->nrules == r->caprules) {
		r->caprules = r->caprules ? r->caprules * 2 : 64;
		r->rules = ev_xrealloc(r->rules, r->caprules * sizeof(*r->rules));
	}
	r->rules[r->nrules++] = ru;
}

static void
parse_document(struct loader *L, yaml_node_t *root, const char *stem, unsigned docno)
{
	struct ev_rules *r = L->r;
	struct rl_rule *ru;
	yaml_node_t *n, *det, *corr;
	unsigned det_line = 0, corr_line = 0;

	if (root == NULL)
		return;
	if (is_null(root))
		return; /* an empty document ("---" at the end) */
	ru = rl_alloc(&r->arena, sizeof(*ru));
	ru->file = rl_strndup(&r->arena, L->file, strlen(L->file));
	ru->line = nline(root);
	ru->svc = -1;
	L->ru = ru;
	add_rule(r, ru);
	if (root->type != YAML_MAPPING_NODE) {
		lerr(L, nline(root), 0, "a rule must be a YAML map");
		goto out;
	}
	if ((n = mget(L, root, "action"))) {
		lerr(L, nline(n), 1,
		    "unsupported rule collection (action: global/reset/repeat); write one rule per "
		    "document");
		goto out;
	}
	if ((n = mget(L, root, "filter"))) {
		lerr(L, nline(n), 1, "unsupported Sigma filter document (filter:)");
		goto out;
	}
	n = mget(L, root, "title");
	if (n == NULL)
		lerr(L, nline(root), 0, "rule has no title");
	else if ((ru->title = str(L, n, "title")) != NULL && strlen(ru->title) > 256)
		lerr(L, nline(n), 0, "title longer than 256 characters");
	if ((n = mget(L, root, "id")))
		ru->id = str(L, n, "id");
	if ((n = mget(L, root, "name")))
		ru->name = str(L, n, "name");
	if ((n = mget(L, root, "status")))
		ru->status = str(L, n, "status");
	if ((n = mget(L, root, "level"))) {
		ru->level = str(L, n, "level");
		if (ru->level) {
			size_t i;
			for (i = 0; levels[i]; i++)
				if (strcmp(levels[i], ru->level) == 0)
					break;
			if (levels[i] == NULL)
				lerr(L, nline(n), 0,
				    "level '%s' is not informational, low, medium, high or critical",
				    ru->level);
		}
	}
	if ((n = mget(L, root, "tags")) && !is_null(n))
		ru->tags = strlist(L, n, "tags", &ru->ntags);
	if ((n = mget(L, root, "generate"))) {
		int b = as_bool(n);
		if (b < 0)
			lerr(L, nline(n), 0, "generate must be true or false");
		ru->generate = b == 1;
		ru->generate_set = 1;
	}
	if ((n = mget(L, root, "logsource")) && !is_null(n)) {
		yaml_node_t *x;
		if (n->type != YAML_MAPPING_NODE) {
			lerr(L, nline(n), 0, "logsource must be a map");
		} else {
			if ((x = mget(L, n, "product")))
				ru->product = str(L, x, "logsource.product");
			if ((x = mget(L, n, "category")))
				ru->category = str(L, x, "logsource.category");
			if ((x = mget(L, n, "service")))
				ru->service = str(L, x, "logsource.service");
		}
	}
	det = mget_at(L, root, "detection", &det_line);
	corr = mget_at(L, root, "correlation", &corr_line);
	if (det && corr) {
		lerr(L, nline(corr), 0, "a rule has either detection or correlation, not both");
	} else if (det) {
		if (mget(L, root, "logsource") == NULL)
			lerr(L, nline(root), 0, "rule has no logsource");
		parse_detection(L, ru, det, det_line);
	} else if (corr) {
		parse_correlation(L, ru, corr, corr_line);
	} else {
		lerr(L, nline(root), 0, "rule has neither detection nor correlation");
	}
out:
	if (ru->id == NULL) {
		char tmp[300];
		if (ru->name)
			snprintf(tmp, sizeof(tmp), "%s", ru->name);
		else if (docno > 1)
			snprintf(tmp, sizeof(tmp), "%s#%u", stem, docno);
		else
			snprintf(tmp, sizeof(tmp), "%s", stem);
		ru->id = rl_strndup(&r->arena, tmp, strlen(tmp));
	}
	if (ru->title == NULL)
		ru->title = ru->id;
	if (ru->level == NULL)
		ru->level = "medium";
	L->ru = NULL;
}

static void
load_text(struct loader *L, const char *data, size_t len)
{
	yaml_parser_t parser;
	char stem[256];
	const char *base = strrchr(L->file, '/');
	size_t blen;
	unsigned docno = 0;

	base = base ? base + 1 : L->file;
	blen = strcspn(base, ".");
	if (blen >= sizeof(stem))
		blen = sizeof(stem) - 1;
	memcpy(stem, base, blen);
	stem[blen] = '\0';

	if (!yaml_parser_initialize(&parser)) {
		lerr(L, 0, 0, "cannot initialise the YAML parser");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root;
		if (!yaml_parser_load(&parser, &doc)) {
			lerr(L, (unsigned)parser.problem_mark.line + 1, 0, "YAML: %s%s%s",
			    parser.problem ? parser.problem : "syntax error",
			    parser.context ? " " : "", parser.context ? parser.context : "");
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (root == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		if (++docno > RL_MAX_DOCS) {
			lerr(L, nline(root), 0, "more than %u documents in one file", RL_MAX_DOCS);
			yaml_document_delete(&doc);
			break;
		}
		L->doc = &doc;
		parse_document(L, root, stem, docno);
		L->doc = NULL;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
}

static void
load_file(struct loader *L, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *data = NULL;
	size_t got = 0;

	L->file = path;
	if (fd < 0 || fstat(fd, &st) != 0) {
		lerr(L, 0, 0, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (st.st_size > (off_t)RL_MAX_FILE_BYTES) {
		lerr(L, 0, 0, "file larger than %u bytes", RL_MAX_FILE_BYTES);
		close(fd);
		return;
	}
	data = ev_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, data + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	load_text(L, data, got);
	free(data);
}

static int
is_rule_file(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && ((n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
				     (n > 5 && strcmp(name + n - 5, ".yaml") == 0));
}

static void
load_path(struct loader *L, const char *path, int depth, int explicit)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		L->file = path;
		lerr(L, 0, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent **ents = NULL;
		int n;
		if (depth >= RL_MAX_DIR_DEPTH) {
			L->file = path;
			lerr(L, 0, 0, "directories nested deeper than %d", RL_MAX_DIR_DEPTH);
			return;
		}
		n = scandir(path, &ents, NULL, alphasort);
		if (n < 0) {
			L->file = path;
			lerr(L, 0, 0, "cannot read directory: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			const char *nm = ents[i]->d_name;
			if (strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0 && nm[0] != '.') {
				size_t len = strlen(path) + strlen(nm) + 2;
				char *sub = ev_xmalloc(len);
				struct stat sst;
				snprintf(sub, len, "%s/%s", path, nm);
				if (stat(sub, &sst) == 0 && S_ISDIR(sst.st_mode))
					load_path(L, sub, depth + 1, 0);
				else if (is_rule_file(nm))
					load_path(L, sub, depth + 1, 0);
				/* the loader keeps rule->file as its own copy */
				free(sub);
			}
			free(ents[i]);
		}
		free(ents);
		return;
	}
	(void)explicit;
	load_file(L, path);
}

/* ------------------------------------------------------------ linking */

static struct rl_rule *
find_ref(struct ev_rules *r, const char *ref, struct rl_rule *self)
{
	for (size_t i = 0; i < r->nrules; i++) {
		struct rl_rule *x = r->rules[i];
		if (x == self)
			continue;
		if ((x->id && strcmp(x->id, ref) == 0) || (x->name && strcmp(x->name, ref) == 0))
			return x;
	}
	return NULL;
}

static uint32_t
rule_index(struct ev_rules *r, const struct rl_rule *x)
{
	for (size_t i = 0; i < r->nrules; i++)
		if (r->rules[i] == x)
			return (uint32_t)i;
	return RL_NONE;
}

static void
rdiag(struct loader *L, struct rl_rule *ru, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
rdiag(struct loader *L, struct rl_rule *ru, unsigned line, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	L->file = ru->file;
	L->ru = ru;
	lerr(L, line, 0, "%s", msg);
	L->ru = NULL;
}

/*
 * Depth of the correlation chain below ru; -1 on a cycle or a chain deeper
 * than RL_MAX_CHAIN.  Memoised (cstate/cdepth), so a lattice of
 * correlations costs one visit per rule, not one per path.
 */
static int
chain_depth(struct ev_rules *r, struct rl_rule *ru, int depth)
{
	int best = 0;

	if (ru->corr == NULL)
		return 0;
	if (ru->cstate == 2)
		return ru->cdepth;
	if (ru->cstate == 1 || depth > 256)
		return -1; /* a cycle (or a chain too long to follow) */
	ru->cstate = 1;
	for (size_t j = 0; j < ru->corr->nref && best >= 0; j++) {
		struct rl_rule *x = find_ref(r, ru->corr->refname[j], ru);
		int d;
		if (x == NULL || x->bad)
			continue;
		d = chain_depth(r, x, depth + 1);
		best = d < 0 ? -1 : (d + 1 > best ? d + 1 : best);
	}
	ru->cstate = 2;
	ru->cdepth = best > RL_MAX_CHAIN ? -1 : best;
	return ru->cdepth;
}

static void
link_rules(struct loader *L)
{
	struct ev_rules *r = L->r;
	int changed = 1;

	/* duplicate ids and names */
	for (size_t i = 0; i < r->nrules; i++) {
		struct rl_rule *a = r->rules[i];
		if (a->bad)
			continue;
		for (size_t j = 0; j < i; j++) {
			struct rl_rule *b = r->rules[j];
			if (b->bad)
				continue;
			if (strcmp(a->id, b->id) == 0) {
				rdiag(L, a, a->line, "id '%s' already used by %s:%u", a->id, b->file,
				    b->line);
				break;
			}
			if (a->name && b->name && strcmp(a->name, b->name) == 0) {
				rdiag(L, a, a->line, "name '%s' already used by %s:%u", a->name,
				    b->file, b->line);
				break;
			}
		}
	}
	/* references: repeat, since a correlation over a failed rule fails too */
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < r->nrules; i++)
			r->rules[i]->cstate = 0;
		for (size_t i = 0; i < r->nrules; i++) {
			struct rl_rule *ru = r->rules[i];
			if (ru->bad || ru->corr == NULL)
				continue;
			for (size_t j = 0; j < ru->corr->nref; j++) {
				struct rl_rule *x = find_ref(r, ru->corr->refname[j], ru);
				if (x == NULL) {
					rdiag(L, ru, ru->corr->refline,
					    "correlation references unknown rule '%s'",
					    ru->corr->refname[j]);
					changed = 1;
					break;
				}
				if (x->bad) {
					rdiag(L, ru, ru->corr->refline,
					    "correlation references rule '%s', which did not load",
					    ru->corr->refname[j]);
					changed = 1;
					break;
				}
			}
			if (!ru->bad && chain_depth(r, ru, 0) < 0) {
				rdiag(L, ru, ru->corr->refline,
				    "correlation rules refer to each other in a cycle or nest deeper "
				    "than %d",
				    RL_MAX_CHAIN);
				changed = 1;
			}
		}
	}
	/* compact: drop the rules that failed */
	size_t k = 0;
	for (size_t i = 0; i < r->nrules; i++)
		if (!r->rules[i]->bad)
			r->rules[k++] = r->rules[i];
	r->nrules = k;
	/* resolve indexes, parents, hidden, alias fields */
	for (size_t i = 0; i < r->nrules; i++) {
		struct rl_rule *ru = r->rules[i];
		struct rl_corr *c = ru->corr;
		if (c == NULL)
			continue;
		c->ref = rl_alloc(&r->arena, c->nref * sizeof(*c->ref));
		for (size_t j = 0; j < c->nref; j++) {
			struct rl_rule *x = find_ref(r, c->refname[j], ru);
			uint32_t xi = rule_index(r, x);
			int dup = 0;
			c->ref[j] = xi;
			for (size_t q = 0; q < x->nparents; q++)
				if (x->parents[q] == i)
					dup = 1;
			if (!dup) {
				uint32_t *np = rl_alloc(&r->arena, (x->nparents + 1) * sizeof(*np));
				if (x->nparents)
					memcpy(np, x->parents, x->nparents * sizeof(*np));
				np[x->nparents++] = (uint32_t)i;
				x->parents = np;
			}
			if (!x->generate)
				x->hidden = 1;
		}
		c->gfield = rl_alloc(&r->arena, (c->ngroup ? c->ngroup : 1) * sizeof(*c->gfield));
		for (size_t g = 0; g < c->ngroup; g++) {
			c->gfield[g] = rl_alloc(&r->arena, c->nref * sizeof(char *));
			for (size_t j = 0; j < c->nref; j++) {
				struct rl_rule *x = r->rules[c->ref[j]];
				c->gfield[g][j] = c->group[g];
				for (size_t a = 0; a < c->nalias; a++) {
					if (strcmp(c->alias_name[a], c->group[g]) != 0)
						continue;
					for (size_t q = 0; q < c->alias_n[a]; q++)
						if ((x->name && strcmp(x->name, c->alias_rule[a][q]) == 0) ||
						    strcmp(x->id, c->alias_rule[a][q]) == 0)
							c->gfield[g][j] = c->alias_field[a][q];
				}
			}
		}
	}
}

/* ------------------------------------------------------------ entry points */

static struct ev_rules *
rules_new(void)
{
	struct ev_rules *r = ev_xcalloc(1, sizeof(*r));
	rl_field_id(r, ""); /* id 0: the raw line */
	return r;
}

static int
finish(struct loader *L, struct ev_rules *r, struct ev_rules **out, struct ev_err *err)
{
	link_rules(L);
	for (size_t i = 0; i < r->nrules; i++) {
		struct rl_rule *ru = r->rules[i];
		if (ru->nsel) {
			ru->sel_gen = rl_alloc(&r->arena, ru->nsel * sizeof(*ru->sel_gen));
			ru->sel_val = rl_alloc(&r->arena, ru->nsel);
		}
	}
	rl_compile(r);
	*out = r;
	if (L->failed)
		return ev_errf(err, EV_EINVAL, "some rules did not load");
	return EV_OK;
}

int
ev_rules_load(const char *const *paths, size_t npaths,
    void (*diag)(const struct ev_rule_diag *d, void *arg), void *arg, struct ev_rules **out,
    struct ev_err *err)
{
	struct ev_rules *r = rules_new();
	struct loader L = { 0 };

	L.r = r;
	L.diag = diag;
	L.arg = arg;
	for (size_t i = 0; i < npaths; i++)
		load_path(&L, paths[i], 0, 1);
	return finish(&L, r, out, err);
}

int
ev_rules_load_buffer(const char *name, const char *data, size_t len,
    void (*diag)(const struct ev_rule_diag *d, void *arg), void *arg, struct ev_rules **out,
    struct ev_err *err)
{
	struct ev_rules *r = rules_new();
	struct loader L = { 0 };

	L.r = r;
	L.diag = diag;
	L.arg = arg;
	L.file = name ? name : "<buffer>";
	if (len > RL_MAX_FILE_BYTES)
		lerr(&L, 0, 0, "rule text larger than %u bytes", RL_MAX_FILE_BYTES);
	else
		load_text(&L, data, len);
	return finish(&L, r, out, err);
}

size_t
ev_rules_count(const struct ev_rules *r)
{
	return r ? r->nrules : 0;
}
