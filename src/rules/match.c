/*
 * match.c - running compiled Sigma rules against one event.
 *
 * Matching is two steps.  The prefilter: when the rule set is compiled,
 * every detection rule gets a set of literals of which at least one must
 * occur (case-insensitively) in a given field for the rule to be able to
 * match at all (a keyword, a contains/equals value; see required()).  All
 * literals that target one field go into one Aho-Corasick automaton, so an
 * event costs one pass over each such field's value; the rules whose
 * literal was seen, plus the few rules without any required literal, are
 * the candidates.  Then each candidate's condition is evaluated in full,
 * with selection results memoised per event.
 *
 * String comparison is ASCII case-insensitive unless the value has the
 * 'cased' modifier (Sigma's default); 're' is case-sensitive unless 'i'.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "util/timeutil.h"

static unsigned char lower_tab[256];

static void
init_lower(void)
{
	if (lower_tab['A'] == 'a')
		return;
	for (int i = 0; i < 256; i++)
		lower_tab[i] = (unsigned char)((i >= 'A' && i <= 'Z') ? i + 32 : i);
}

/* ------------------------------------------------------------ fields */

const char *
rl_field(struct ev_rules *r, uint32_t fid, size_t *len)
{
	const struct ev_event *ev = r->cur;

	if (fid == RL_FIELD_RAW) {
		if (ev->raw) {
			*len = ev->raw_len;
			return ev->raw;
		}
		return ev_event_get(ev, "message", len);
	}
	if (r->fc_gen[fid] == r->gen) {
		*len = r->fc_len[fid];
		return r->fc_val[fid];
	}
	const char *name = r->fields[fid], *v = NULL;
	size_t l = 0;
	for (size_t i = 0; i < ev->nfields; i++) {
		const char *fn = ev->fields[i].name;
		if (fn && fn[0] == name[0] && strcmp(fn, name) == 0) {
			v = ev->fields[i].value;
			l = v ? ev->fields[i].len : 0;
			break;
		}
	}
	r->fc_gen[fid] = r->gen;
	r->fc_val[fid] = v;
	r->fc_len[fid] = l;
	*len = l;
	return v;
}

/* ------------------------------------------------------------ strings */

static int
ci_eq(const char *a, const char *lit, size_t n, int cased)
{
	if (cased)
		return memcmp(a, lit, n) == 0;
	for (size_t i = 0; i < n; i++)
		if (lower_tab[(unsigned char)a[i]] != (unsigned char)lit[i])
			return 0;
	return 1;
}

static int
ci_contains(const char *h, size_t hn, const char *n, size_t nn, int cased)
{
	if (nn == 0)
		return 1;
	if (nn > hn)
		return 0;
	if (cased)
		return memmem(h, hn, n, nn) != NULL;
	unsigned char f = (unsigned char)n[0];
	for (size_t i = 0; i + nn <= hn; i++)
		if (lower_tab[(unsigned char)h[i]] == f && ci_eq(h + i + 1, n + 1, nn - 1, 0))
			return 1;
	return 0;
}

static size_t
u8len(unsigned char c)
{
	if (c < 0xc0)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

/* '*' and '?' pattern match with one-star backtracking (linear for most inputs). */
static int
wild_general(const struct rl_val *v, const char *s, size_t sn)
{
	const unsigned char *p = (const unsigned char *)v->lit, *meta = v->meta;
	size_t pn = v->litlen, pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < sn) {
		if (pi < pn && meta[pi] == 2) {
			size_t k = u8len((unsigned char)s[si]);
			si += k < sn - si ? k : sn - si;
			pi++;
			continue;
		}
		if (pi < pn && meta[pi] == 1) {
			star = pi++;
			mark = si;
			continue;
		}
		if (pi < pn && meta[pi] == 0 &&
		    (v->cased ? (unsigned char)s[si] == p[pi] :
				lower_tab[(unsigned char)s[si]] == p[pi])) {
			pi++;
			si++;
			continue;
		}
		if (star != SIZE_MAX) {
			pi = star + 1;
			mark += u8len((unsigned char)s[mark]);
			if (mark > sn)
				return 0;
			si = mark;
			continue;
		}
		return 0;
	}
	while (pi < pn && meta[pi] == 1)
		pi++;
	return pi == pn;
}

static int
cidr_match(const struct rl_val *v, const char *s, size_t n)
{
	char buf[64];
	unsigned char a[16];
	size_t bytes;
	unsigned rem;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(v->family == 4 ? AF_INET : AF_INET6, buf, a) != 1)
		return 0;
	bytes = v->prefix / 8;
	rem = v->prefix % 8;
	if (memcmp(a, v->net, bytes) != 0)
		return 0;
	if (rem) {
		unsigned char mask = (unsigned char)(0xff << (8 - rem));
		if ((a[bytes] & mask) != (v->net[bytes] & mask))
			return 0;
	}
	return 1;
}

static int
num_match(const struct rl_val *v, const char *s, size_t n)
{
	char buf[64], *end;
	double x;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	x = strtod(buf, &end);
	if (*end || end == buf || !isfinite(x))
		return 0;
	switch (v->op) {
	case N_LT: return x < v->num;
	case N_LTE: return x <= v->num;
	case N_GT: return x > v->num;
	case N_GTE: return x >= v->num;
	}
	return 0;
}

/* Does one value match the field (s == NULL: field absent)? */
static int
val_match(struct ev_rules *r, const struct rl_val *v, const char *s, size_t n)
{
	switch (v->kind) {
	case V_NULL:
		return s == NULL || n == 0;
	case V_EXISTS:
		return (s != NULL) == v->exists;
	default:
		break;
	}
	if (s == NULL)
		return 0;
	switch (v->kind) {
	case V_WILD:
		switch (v->shape) {
		case W_EXACT:
			return n == v->litlen && ci_eq(s, v->lit, n, v->cased);
		case W_PREFIX:
			return n >= v->litlen && ci_eq(s, v->lit, v->litlen, v->cased);
		case W_SUFFIX:
			return n >= v->litlen && ci_eq(s + n - v->litlen, v->lit, v->litlen, v->cased);
		case W_CONTAINS:
			return ci_contains(s, n, v->lit, v->litlen, v->cased);
		case W_GENERAL:
			return wild_general(v, s, n);
		}
		return 0;
	case V_RE:
		return pcre2_match(v->re, (PCRE2_SPTR)s, n, 0, 0, r->md, r->mctx) >= 0;
	case V_CIDR:
		return cidr_match(v, s, n);
	case V_NUM:
		return num_match(v, s, n);
	default:
		return 0;
	}
}

static int
item_match(struct ev_rules *r, const struct rl_item *it, const struct rl_val **which)
{
	size_t n;
	const char *s = rl_field(r, it->field, &n);

	if (it->neq) {
		if (s == NULL)
			return 0;
		for (size_t i = 0; i < it->nval; i++)
			if (val_match(r, &it->vals[i], s, n))
				return 0;
		if (which)
			*which = NULL;
		return 1;
	}
	for (size_t i = 0; i < it->nval; i++) {
		int m = val_match(r, &it->vals[i], s, n);
		if (it->all && !m)
			return 0;
		if (!it->all && m) {
			if (which)
				*which = &it->vals[i];
			return 1;
		}
	}
	if (it->all && which)
		*which = NULL;
	return it->all;
}

static int
alt_match(struct ev_rules *r, const struct rl_alt *a)
{
	for (size_t i = 0; i < a->nitem; i++)
		if (!item_match(r, &a->items[i], NULL))
			return 0;
	return 1;
}

static int
sel_eval(struct ev_rules *r, struct rl_rule *ru, uint32_t si)
{
	const struct rl_sel *s = &ru->sels[si];
	int v = 0;

	if (ru->sel_gen[si] == r->gen)
		return ru->sel_val[si];
	for (size_t i = 0; i < s->nalt && !v; i++)
		v = alt_match(r, &s->alts[i]);
	ru->sel_gen[si] = r->gen;
	ru->sel_val[si] = (unsigned char)v;
	return v;
}

static int
cond_eval(struct ev_rules *r, struct rl_rule *ru, const struct rl_cnode *c)
{
	switch (c->op) {
	case C_SEL:
		return sel_eval(r, ru, c->sel);
	case C_NOT:
		return !cond_eval(r, ru, c->kids[0]);
	case C_AND:
		for (size_t i = 0; i < c->n; i++)
			if (!cond_eval(r, ru, c->kids[i]))
				return 0;
		return 1;
	case C_OR:
		for (size_t i = 0; i < c->n; i++)
			if (cond_eval(r, ru, c->kids[i]))
				return 1;
		return 0;
	}
	return 0;
}

int
rl_eval_rule(struct ev_rules *r, struct rl_rule *ru)
{
	return ru->cond && cond_eval(r, ru, ru->cond);
}

/* ------------------------------------------------------------ explanations */

static void
add_clip(struct ev_buf *b, const char *s, size_t n)
{
	size_t k = n > 80 ? 77 : n;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];
		ev_buf_addc(b, (c < 0x20 || c == 0x7f) ? '.' : (char)c);
	}
	if (k < n)
		ev_buf_adds(b, "...");
}

/*
 * For every selection that matched this event, one clause such as
 * selection: type='PATH' ~ 'PATH', name='/etc/audit/x' ~ '/etc/audit/(star)'.
 */
void
rl_explain(struct ev_rules *r, struct rl_rule *ru, struct ev_buf *out)
{
	int first = 1;

	ev_buf_reset(out);
	for (uint32_t si = 0; si < ru->nsel; si++) {
		const struct rl_sel *s = &ru->sels[si];
		if (ru->sel_gen[si] != r->gen || !ru->sel_val[si])
			continue;
		for (size_t a = 0; a < s->nalt; a++) {
			if (!alt_match(r, &s->alts[a]))
				continue;
			if (!first)
				ev_buf_adds(out, "; ");
			first = 0;
			ev_buf_adds(out, s->name);
			ev_buf_adds(out, ":");
			for (size_t i = 0; i < s->alts[a].nitem; i++) {
				const struct rl_item *it = &s->alts[a].items[i];
				const struct rl_val *w = NULL;
				size_t n;
				const char *v = rl_field(r, it->field, &n);
				item_match(r, it, &w);
				ev_buf_adds(out, i ? ", " : " ");
				ev_buf_adds(out, it->field == RL_FIELD_RAW ? "keyword" : it->key);
				if (it->field != RL_FIELD_RAW) {
					ev_buf_addc(out, '=');
					if (v) {
						ev_buf_addc(out, '\'');
						add_clip(out, v, n);
						ev_buf_addc(out, '\'');
					} else {
						ev_buf_adds(out, "(absent)");
					}
				}
				if (w) {
					ev_buf_adds(out, " ~ '");
					add_clip(out, w->text, strlen(w->text));
					ev_buf_addc(out, '\'');
				} else if (it->all || it->neq) {
					ev_buf_adds(out, it->neq ? " differs from " : " ~ all of ");
					for (size_t k = 0; k < it->nval; k++) {
						ev_buf_adds(out, k ? ", '" : "'");
						add_clip(out, it->vals[k].text, strlen(it->vals[k].text));
						ev_buf_addc(out, '\'');
					}
				}
			}
			break;
		}
	}
	if (first)
		ev_buf_adds(out, "condition holds (only negated selections)");
}

/*
 * The value of a named regex group (?<name>...) in any 're' value of the
 * rule that matches this event: evident's way to give group-by a field that
 * the parser does not provide (see rules/README.md).  0 when found.
 */
int
rl_capture(struct ev_rules *r, struct rl_rule *ru, const char *name, struct ev_buf *out)
{
	for (size_t si = 0; si < ru->nsel; si++) {
		const struct rl_sel *s = &ru->sels[si];
		for (size_t a = 0; a < s->nalt; a++) {
			for (size_t i = 0; i < s->alts[a].nitem; i++) {
				const struct rl_item *it = &s->alts[a].items[i];
				for (size_t k = 0; k < it->nval; k++) {
					const struct rl_val *v = &it->vals[k];
					size_t n;
					const char *text;
					PCRE2_UCHAR *sub = NULL;
					PCRE2_SIZE sl;
					if (v->kind != V_RE || !v->re_names)
						continue;
					if (pcre2_substring_number_from_name(v->re, (PCRE2_SPTR)name) < 0)
						continue;
					if ((text = rl_field(r, it->field, &n)) == NULL)
						continue;
					if (pcre2_match(v->re, (PCRE2_SPTR)text, n, 0, 0, r->md_cap, r->mctx) >=
						0 &&
					    pcre2_substring_get_byname(r->md_cap, (PCRE2_SPTR)name, &sub,
						&sl) == 0) {
						ev_buf_reset(out);
						ev_buf_add(out, sub, sl);
						pcre2_substring_free(sub);
						return 0;
					}
				}
			}
		}
	}
	return -1;
}

/* ------------------------------------------------------------ prefilter */

/* A required-literal set: at least one (field, literal) must occur. */
struct req {
	size_t n;
	uint32_t *field;
	const char **lit;
	size_t *len;
	int any; /* 1: no constraint */
};

static void
req_free(struct req *q)
{
	free(q->field);
	free(q->lit);
	free(q->len);
	memset(q, 0, sizeof(*q));
}

static void
req_add(struct req *q, uint32_t f, const char *s, size_t n)
{
	q->field = ev_xrealloc(q->field, (q->n + 1) * sizeof(*q->field));
	q->lit = ev_xrealloc(q->lit, (q->n + 1) * sizeof(*q->lit));
	q->len = ev_xrealloc(q->len, (q->n + 1) * sizeof(*q->len));
	q->field[q->n] = f;
	q->lit[q->n] = s;
	q->len[q->n] = n;
	q->n++;
}

static void
req_union(struct req *a, struct req *b)
{
	if (a->any || b->any) {
		req_free(a);
		req_free(b);
		a->any = 1;
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		req_add(a, b->field[i], b->lit[i], b->len[i]);
	req_free(b);
}

/* Smaller is better: unconstrained is worst, then short literals, then many. */
static int
req_better(const struct req *a, const struct req *b)
{
	size_t amin = SIZE_MAX, bmin = SIZE_MAX;

	if (a->any != b->any)
		return !a->any;
	if (a->any)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->len[i] < amin)
			amin = a->len[i];
	for (size_t i = 0; i < b->n; i++)
		if (b->len[i] < bmin)
			bmin = b->len[i];
	amin = amin > 8 ? 8 : amin;
	bmin = bmin > 8 ? 8 : bmin;
	if (amin != bmin)
		return amin > bmin;
	return a->n < b->n;
}

static void
req_pick(struct req *best, struct req *cand)
{
	if (req_better(cand, best)) {
		req_free(best);
		*best = *cand;
		memset(cand, 0, sizeof(*cand));
	} else {
		req_free(cand);
	}
}

/* The literal a value needs in its field, or -1. */
static int
val_literal(const struct rl_val *v, const char **s, size_t *n)
{
	if (v->kind != V_WILD)
		return -1;
	if (v->shape != W_GENERAL) {
		*s = v->lit;
		*n = v->litlen;
		return v->litlen ? 0 : -1;
	}
	size_t best = 0, bstart = 0;
	for (size_t i = 0; i < v->litlen;) {
		size_t j = i;
		while (j < v->litlen && v->meta[j] == 0)
			j++;
		if (j - i > best) {
			best = j - i;
			bstart = i;
		}
		i = j + 1;
	}
	*s = v->lit + bstart;
	*n = best;
	return best ? 0 : -1;
}

static void
req_item(const struct rl_item *it, struct req *out)
{
	memset(out, 0, sizeof(*out));
	if (it->neq) {
		out->any = 1;
		return;
	}
	if (it->all) {
		out->any = 1;
		for (size_t i = 0; i < it->nval; i++) {
			struct req one = { 0 };
			const char *s;
			size_t n;
			if (val_literal(&it->vals[i], &s, &n) == 0)
				req_add(&one, it->field, s, n);
			else
				one.any = 1;
			req_pick(out, &one);
		}
		return;
	}
	for (size_t i = 0; i < it->nval; i++) {
		const char *s;
		size_t n;
		if (val_literal(&it->vals[i], &s, &n) != 0) {
			req_free(out);
			out->any = 1;
			return;
		}
		req_add(out, it->field, s, n);
	}
}

static void
req_sel(const struct rl_sel *s, struct req *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t a = 0; a < s->nalt; a++) {
		struct req alt = { 0 };
		alt.any = 1;
		for (size_t i = 0; i < s->alts[a].nitem; i++) {
			struct req one;
			req_item(&s->alts[a].items[i], &one);
			req_pick(&alt, &one);
		}
		if (a == 0) {
			*out = alt;
		} else {
			req_union(out, &alt);
		}
	}
}

static void
req_cond(const struct rl_rule *ru, const struct rl_cnode *c, struct req *out)
{
	memset(out, 0, sizeof(*out));
	switch (c->op) {
	case C_SEL:
		req_sel(&ru->sels[c->sel], out);
		return;
	case C_NOT:
		out->any = 1;
		return;
	case C_AND:
		out->any = 1;
		for (size_t i = 0; i < c->n; i++) {
			struct req one;
			req_cond(ru, c->kids[i], &one);
			req_pick(out, &one);
		}
		return;
	case C_OR:
		for (size_t i = 0; i < c->n; i++) {
			struct req one;
			req_cond(ru, c->kids[i], &one);
			if (i == 0)
				*out = one;
			else
				req_union(out, &one);
		}
		return;
	}
}

static void
lit_add(struct ev_rules *r, uint32_t field, const char *s, size_t n, uint32_t rule)
{
	struct rl_lit *l = NULL;
	char tmp[RL_MAX_LIT] = { 0 };

	if (n > RL_MAX_LIT) {
		/*
		 * Any part of a required literal is required too; the last bytes
		 * are usually the distinctive ones ("...COMMAND=/usr/sbin/nft") and
		 * short literals keep the automaton small.
		 */
		s += n - RL_MAX_LIT;
		n = RL_MAX_LIT;
	}
	for (size_t i = 0; i < n; i++)
		tmp[i] = (char)lower_tab[(unsigned char)s[i]];
	for (size_t i = 0; i < r->nlits; i++) {
		if (r->lits[i].field == field && r->lits[i].n == n && memcmp(r->lits[i].s, tmp, n) == 0) {
			l = &r->lits[i];
			break;
		}
	}
	if (l == NULL) {
		if (r->nlits == r->caplits) {
			r->caplits = r->caplits ? r->caplits * 2 : 64;
			r->lits = ev_xrealloc(r->lits, r->caplits * sizeof(*r->lits));
		}
		l = &r->lits[r->nlits++];
		memset(l, 0, sizeof(*l));
		l->field = field;
		l->s = rl_strndup(&r->arena, tmp, n);
		l->n = n;
	}
	for (size_t i = 0; i < l->nrules; i++)
		if (l->rules[i] == rule)
			return;
	if (l->nrules == l->caprules) {
		l->caprules = l->caprules ? l->caprules * 2 : 4;
		l->rules = ev_xrealloc(l->rules, l->caprules * sizeof(*l->rules));
	}
	l->rules[l->nrules++] = rule;
}

static void
ac_build(struct ev_rules *r, struct rl_ac *ac)
{
	uint32_t cap = 1, n = 1, *fail, *queue, qh = 0, qt = 0;
	size_t nlits = 0;
	unsigned ncls = 1;
	uint32_t *go;

	memset(ac->cls, 0, sizeof(ac->cls));
	for (size_t i = 0; i < r->nlits; i++) {
		if (ac->field != RL_NONE && r->lits[i].field != ac->field)
			continue;
		nlits++;
		cap += (uint32_t)r->lits[i].n;
		for (size_t k = 0; k < r->lits[i].n; k++) {
			unsigned char c = (unsigned char)r->lits[i].s[k];
			if (ac->cls[c] == 0)
				ac->cls[c] = (unsigned char)ncls++;
		}
	}
	for (int c = 'A'; c <= 'Z'; c++)
		ac->cls[c] = ac->cls[c + 32];
	ac->ncls = ncls;
	go = ev_xmalloc((size_t)cap * ncls * sizeof(*go));
	memset(go, 0xff, (size_t)cap * ncls * sizeof(*go));
	ac->outlit = ev_xmalloc(cap * sizeof(uint32_t));
	ac->dict = ev_xmalloc(cap * sizeof(uint32_t));
	ac->term = ev_xmalloc(cap * sizeof(uint32_t));
	fail = ev_xcalloc(cap, sizeof(uint32_t));
	queue = ev_xmalloc(cap * sizeof(uint32_t));
	for (uint32_t i = 0; i < cap; i++)
		ac->outlit[i] = ac->dict[i] = ac->term[i] = RL_NONE;
	for (size_t i = 0; i < r->nlits; i++) {
		uint32_t s = 0;
		if (ac->field != RL_NONE && r->lits[i].field != ac->field)
			continue;
		for (size_t k = 0; k < r->lits[i].n; k++) {
			unsigned c = ac->cls[(unsigned char)r->lits[i].s[k]];
			if (go[(size_t)s * ncls + c] == RL_NONE)
				go[(size_t)s * ncls + c] = n++;
			s = go[(size_t)s * ncls + c];
		}
		ac->outlit[s] = (uint32_t)i;
	}
	/* breadth-first: failure links, complete transitions, output chains */
	for (unsigned c = 0; c < ncls; c++) {
		uint32_t t = go[c];
		if (t == RL_NONE) {
			go[c] = 0;
		} else {
			fail[t] = 0;
			queue[qt++] = t;
		}
	}
	while (qh < qt) {
		uint32_t s = queue[qh++];
		uint32_t f = fail[s];
		ac->dict[s] = ac->outlit[f] != RL_NONE ? f : ac->dict[f];
		for (unsigned c = 0; c < ncls; c++) {
			uint32_t t = go[(size_t)s * ncls + c];
			if (t == RL_NONE) {
				go[(size_t)s * ncls + c] = go[(size_t)f * ncls + c];
			} else {
				fail[t] = go[(size_t)f * ncls + c];
				queue[qt++] = t;
			}
		}
	}
	for (uint32_t s = 0; s < n; s++)
		ac->term[s] = ac->outlit[s] != RL_NONE ? s : ac->dict[s];
	/*
	 * Entries hold the target's row offset (state * ncls), with RL_ACF set
	 * when some literal ends there: the scan loop needs no multiply and no
	 * second lookup for the common case of no output.
	 */
	for (size_t k = 0; k < (size_t)n * ncls; k++) {
		uint32_t t = go[k];
		go[k] = t * ncls | (ac->term[t] != RL_NONE ? RL_ACF : 0);
	}
	ac->delta = go;
	ac->nstates = n;
	free(fail);
	free(queue);
	(void)nlits;
}

int
rl_compile(struct ev_rules *r)
{
	init_lower();
	r->fc_cap = r->nfields;
	r->fc_gen = ev_xcalloc(r->nfields ? r->nfields : 1, sizeof(*r->fc_gen));
	r->fc_val = ev_xcalloc(r->nfields ? r->nfields : 1, sizeof(*r->fc_val));
	r->fc_len = ev_xcalloc(r->nfields ? r->nfields : 1, sizeof(*r->fc_len));
	r->md = pcre2_match_data_create(1, NULL);
	r->md_cap = pcre2_match_data_create(64, NULL);
	/*
	 * Events are untrusted: bound the work one regex may do on one value
	 * (a pattern that backtracks badly then fails to match, it does not
	 * stall ingest).
	 */
	r->mctx = pcre2_match_context_create(NULL);
	if (r->mctx) {
		pcre2_set_match_limit(r->mctx, 200000);
		pcre2_set_depth_limit(r->mctx, 10000);
	}
	r->cand = ev_xmalloc((r->nrules ? r->nrules : 1) * sizeof(*r->cand));
	r->always = ev_xmalloc((r->nrules ? r->nrules : 1) * sizeof(*r->always));
	for (size_t i = 0; i < r->nrules; i++) {
		struct rl_rule *ru = r->rules[i];
		struct req q;
		if (ru->corr)
			continue;
		req_cond(ru, ru->cond, &q);
		if (q.any || q.n == 0) {
			r->always[r->nalways++] = (uint32_t)i;
		} else {
			for (size_t k = 0; k < q.n; k++)
				lit_add(r, q.field[k], q.lit[k], q.len[k], (uint32_t)i);
		}
		req_free(&q);
	}
	/*
	 * The automaton is states x byte classes; a rule set so large that it
	 * would pass RL_MAX_AC entries is matched without a prefilter instead
	 * (slower, still correct) rather than allocating without bound.
	 */
	{
		size_t bytes = 1, ncls = 1;
		unsigned char seen[256] = { 0 };
		for (size_t i = 0; i < r->nlits; i++) {
			bytes += r->lits[i].n;
			for (size_t k = 0; k < r->lits[i].n; k++)
				if (!seen[(unsigned char)r->lits[i].s[k]]++)
					ncls++;
		}
		if (bytes * ncls > RL_MAX_AC) {
			for (size_t i = 0; i < r->nrules; i++)
				if (r->rules[i]->corr == NULL) {
					int listed = 0;
					for (size_t k = 0; k < r->nalways; k++)
						if (r->always[k] == i)
							listed = 1;
					if (!listed)
						r->always[r->nalways++] = (uint32_t)i;
				}
			for (size_t i = 0; i < r->nlits; i++)
				free(r->lits[i].rules);
			r->nlits = 0;
		}
	}
	/* one automaton per field that has literals */
	for (size_t i = 0; i < r->nlits; i++) {
		int have = 0;
		for (size_t k = 0; k < r->nacs; k++)
			if (r->acs[k].field == r->lits[i].field)
				have = 1;
		if (!have) {
			r->acs = ev_xrealloc(r->acs, (r->nacs + 1) * sizeof(*r->acs));
			memset(&r->acs[r->nacs], 0, sizeof(*r->acs));
			r->acs[r->nacs].field = r->lits[i].field;
			r->nacs++;
		}
	}
	for (size_t k = 0; k < r->nacs; k++)
		ac_build(r, &r->acs[k]);
	if (r->nlits) {
		r->acall.field = RL_NONE;
		ac_build(r, &r->acall);
	}
	r->compiled = 1;
	return 0;
}

static void
mark(struct ev_rules *r, uint32_t lit)
{
	const struct rl_lit *l = &r->lits[lit];
	for (size_t i = 0; i < l->nrules; i++) {
		struct rl_rule *ru = r->rules[l->rules[i]];
		if (ru->stamp != r->gen) {
			ru->stamp = r->gen;
			r->cand[r->ncand++] = l->rules[i];
		}
	}
}

static void
ac_scan(struct ev_rules *r, const struct rl_ac *ac, const char *s, size_t n)
{
	uint32_t st = 0;
	const uint32_t *delta = ac->delta;
	unsigned ncls = ac->ncls;

	for (size_t i = 0; i < n; i++) {
		st = delta[(st & ~RL_ACF) + ac->cls[(unsigned char)s[i]]];
		if (!(st & RL_ACF))
			continue;
		for (uint32_t t = ac->term[(st & ~RL_ACF) / ncls]; t != RL_NONE; t = ac->dict[t])
			if (ac->outlit[t] != RL_NONE)
				mark(r, ac->outlit[t]);
	}
}

/*
 * One pass over the raw line finds the literals of every field whose value
 * lies inside the raw line (the parsers point fields into the line): a
 * literal seen anywhere in the line is a superset of one seen in the field,
 * which is all a prefilter needs.  Fields outside the line (decoded JSON
 * strings, events built elsewhere) are scanned on their own afterwards.
 */
static int
field_inside_raw(struct ev_rules *r, uint32_t fid, int *absent)
{
	size_t n;
	const char *v = rl_field(r, fid, &n);
	const char *raw = r->cur->raw;

	*absent = v == NULL;
	return v != NULL && v >= raw && v + n <= raw + r->cur->raw_len;
}

static void
ac_scan_raw(struct ev_rules *r, const struct rl_ac *ac, const char *s, size_t n)
{
	uint32_t st = 0;
	const uint32_t *delta = ac->delta;
	unsigned ncls = ac->ncls;

	for (size_t i = 0; i < n; i++) {
		st = delta[(st & ~RL_ACF) + ac->cls[(unsigned char)s[i]]];
		if (!(st & RL_ACF))
			continue;
		for (uint32_t t = ac->term[(st & ~RL_ACF) / ncls]; t != RL_NONE; t = ac->dict[t]) {
			uint32_t lit = ac->outlit[t];
			int absent;
			if (lit == RL_NONE)
				continue;
			if (r->lits[lit].field == RL_FIELD_RAW ||
			    field_inside_raw(r, r->lits[lit].field, &absent))
				mark(r, lit);
		}
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------ services */

int
ev_rules_map_service(struct ev_rules *r, const char *service, const char *const *names,
    size_t nnames)
{
	struct rl_svc *s = NULL;

	for (size_t i = 0; i < r->nsvcs; i++)
		if (strcmp(r->svcs[i].service, service) == 0)
			s = &r->svcs[i];
	if (s == NULL) {
		r->svcs = ev_xrealloc(r->svcs, (r->nsvcs + 1) * sizeof(*r->svcs));
		s = &r->svcs[r->nsvcs++];
		memset(s, 0, sizeof(*s));
		s->service = ev_xstrdup(service);
	}
	for (size_t i = 0; i < nnames; i++) {
		s->names = ev_xrealloc(s->names, (s->nnames + 1) * sizeof(*s->names));
		s->names[s->nnames++] = ev_xstrdup(names[i]);
	}
	for (size_t i = 0; i < r->nrules; i++) {
		struct rl_rule *ru = r->rules[i];
		if (ru->service && strcmp(ru->service, service) == 0)
			ru->svc = (int)(s - r->svcs);
	}
	return EV_OK;
}

static int
svc_ok(struct ev_rules *r, int idx)
{
	struct rl_svc *s = &r->svcs[idx];
	const struct ev_event *ev = r->cur;
	size_t alen = 0;
	const char *app;

	if (s->gen == r->gen)
		return s->val;
	app = ev_event_get(ev, "app", &alen);
	s->val = 0;
	for (size_t i = 0; i < s->nnames && !s->val; i++) {
		size_t nl = strlen(s->names[i]);
		if (ev->source && strcasecmp(ev->source, s->names[i]) == 0)
			s->val = 1;
		else if (app && alen == nl && strncasecmp(app, s->names[i], nl) == 0)
			s->val = 1;
	}
	s->gen = r->gen;
	return s->val;
}

void
ev_rules_show_hidden(struct ev_rules *r, int on)
{
	r->show_hidden = on;
}

/* ------------------------------------------------------------ matching */

static void
fill_match(struct rl_rule *ru, struct ev_rule_match *m)
{
	memset(m, 0, sizeof(*m));
	m->rule_id = ru->id;
	m->title = ru->title;
	m->level = ru->level;
	m->tags = ru->tags;
	m->ntags = ru->ntags;
}

int
ev_rules_match(struct ev_rules *r, const struct ev_event *ev,
    int (*cb)(const struct ev_rule_match *m, const struct ev_event *ev, void *arg), void *arg)
{
	int rc = 0;

	if (r == NULL || ev == NULL)
		return 0;
	if (++r->gen == 0) {
		/* wrapped: forget every stamp so that none looks current */
		for (size_t i = 0; i < r->nrules; i++) {
			r->rules[i]->stamp = 0;
			if (r->rules[i]->nsel)
				memset(r->rules[i]->sel_gen, 0, r->rules[i]->nsel * sizeof(uint32_t));
		}
		memset(r->fc_gen, 0, r->fc_cap * sizeof(*r->fc_gen));
		for (size_t i = 0; i < r->nsvcs; i++)
			r->svcs[i].gen = 0;
		r->gen = 1;
	}
	r->cur = ev;
	r->cur_time = 0;
	r->ncand = 0;
	if (ev->raw && r->nlits) {
		ac_scan_raw(r, &r->acall, ev->raw, ev->raw_len);
		for (size_t k = 0; k < r->nacs; k++) {
			size_t n;
			int absent;
			const char *s;
			if (r->acs[k].field == RL_FIELD_RAW ||
			    field_inside_raw(r, r->acs[k].field, &absent) || absent)
				continue;
			if ((s = rl_field(r, r->acs[k].field, &n)) != NULL)
				ac_scan(r, &r->acs[k], s, n);
		}
	} else {
		for (size_t k = 0; k < r->nacs; k++) {
			size_t n;
			const char *s = rl_field(r, r->acs[k].field, &n);
			if (s)
				ac_scan(r, &r->acs[k], s, n);
		}
	}
	for (size_t i = 0; i < r->nalways; i++) {
		struct rl_rule *ru = r->rules[r->always[i]];
		if (ru->stamp != r->gen) {
			ru->stamp = r->gen;
			r->cand[r->ncand++] = r->always[i];
		}
	}
	if (r->ncand > 1)
		qsort(r->cand, r->ncand, sizeof(*r->cand), cmp_u32);
	for (size_t ci = 0; ci < r->ncand && rc == 0; ci++) {
		uint32_t idx = r->cand[ci];
		struct rl_rule *ru = r->rules[idx];
		if (ru->svc >= 0 && !svc_ok(r, ru->svc))
			continue;
		if (!rl_eval_rule(r, ru))
			continue;
		if (!ru->hidden || r->show_hidden) {
			struct ev_rule_match m;
			fill_match(ru, &m);
			rl_explain(r, ru, &r->why);
			m.why = r->why.p;
			rc = cb ? cb(&m, ev, arg) : 0;
		}
		for (size_t p = 0; p < ru->nparents && rc == 0; p++)
			rc = rl_corr_feed(r, ru->parents[p], idx, 0, cb, arg);
	}
	r->cur = NULL;
	return rc;
}

void
ev_rules_free(struct ev_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrules; i++)
		if (r->rules[i]->corr)
			rl_corr_free_state(r->rules[i]->corr);
	for (size_t i = 0; i < r->ncodes; i++)
		pcre2_code_free(r->codes[i]);
	free(r->codes);
	pcre2_match_data_free(r->md);
	pcre2_match_data_free(r->md_cap);
	pcre2_match_context_free(r->mctx);
	for (size_t i = 0; i < r->nlits; i++)
		free(r->lits[i].rules);
	free(r->lits);
	for (size_t k = 0; k < r->nacs; k++) {
		free(r->acs[k].delta);
		free(r->acs[k].term);
		free(r->acs[k].outlit);
		free(r->acs[k].dict);
	}
	free(r->acs);
	free(r->acall.delta);
	free(r->acall.term);
	free(r->acall.outlit);
	free(r->acall.dict);
	for (size_t i = 0; i < r->nsvcs; i++) {
		for (size_t k = 0; k < r->svcs[i].nnames; k++)
			free(r->svcs[i].names[k]);
		free(r->svcs[i].names);
		free(r->svcs[i].service);
	}
	free(r->svcs);
	free(r->always);
	free(r->cand);
	free(r->fc_gen);
	free(r->fc_val);
	free(r->fc_len);
	free(r->fields);
	free(r->rules);
	free(r->seqbuf);
	ev_buf_free(&r->why);
	ev_buf_free(&r->group);
	rl_arena_free(&r->arena);
	free(r);
}
