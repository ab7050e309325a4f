/*
 * corr.c - Sigma correlation rules (event_count, value_count, temporal,
 * temporal_ordered) over event time.
 *
 * Window semantics (documented in rules/README.md), per group (the values
 * of the group-by fields); event time is ev->time_us, or the time of
 * processing when that is 0.
 *
 * event_count with a threshold up to RL_SLIDE_MAX: a sliding window.  The
 * group keeps the times of its last `threshold` events; it fires when that
 * many fall within `timespan` of the newest, then stays quiet for one
 * `timespan` after firing (one alert per burst) and starts counting afresh.
 * temporal slides the same way: it keeps when each referenced rule last
 * matched and counts the rules seen within `timespan` of the newest event.
 *
 * Everything else (bigger thresholds, value_count, temporal_ordered): a window opens
 * at the first event that reaches the correlation and lasts `timespan`; the
 * correlation fires once, the first time its condition holds inside the
 * window; later events of that window are absorbed; the first event at or
 * after the window's end opens a new window.
 *
 * State is bounded: at most RL_MAX_GROUPS live groups per correlation
 * (expired windows are swept, then the oldest group is evicted), at most
 * RL_MAX_SEQS contributing seqs and RL_MAX_DISTINCT distinct values per
 * group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "util/timeutil.h"

struct rl_group {
	struct rl_group *next;
	uint64_t hash;
	char *key;
	int64_t start;
	uint64_t count;
	int fired;
	uint64_t seen;      /* temporal: bit j = rule j seen */
	size_t progress;    /* temporal_ordered: rules seen in order */
	uint64_t *seqs;
	size_t nseq, capseq;
	int64_t *last_t;    /* temporal: newest time and seq per referenced rule */
	uint64_t *last_s;
	int64_t *ring_t;    /* sliding event_count: times and seqs of the last */
	uint64_t *ring_s;   /* `lo` events, oldest at ring_h */
	size_t ring_h, ring_n;
	char **vals;        /* value_count: distinct values */
	size_t nvals, capvals;
};

static uint64_t
fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
group_free(struct rl_group *g)
{
	for (size_t i = 0; i < g->nvals; i++)
		free(g->vals[i]);
	free(g->vals);
	free(g->seqs);
	free(g->ring_t);
	free(g->ring_s);
	free(g->last_t);
	free(g->last_s);
	free(g->key);
	free(g);
}

static void
group_reset(struct rl_group *g, int64_t t)
{
	for (size_t i = 0; i < g->nvals; i++)
		free(g->vals[i]);
	g->nvals = 0;
	g->nseq = 0;
	g->count = 0;
	g->fired = 0;
	g->seen = 0;
	g->progress = 0;
	g->ring_h = g->ring_n = 0;
	g->start = t;
}

void
rl_corr_free_state(struct rl_corr *c)
{
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct rl_group *g = c->buckets[b], *n;
		for (; g; g = n) {
			n = g->next;
			group_free(g);
		}
	}
	free(c->buckets);
	c->buckets = NULL;
	c->nbuckets = c->ngroups = 0;
}

static void
rehash(struct rl_corr *c)
{
	size_t nb = c->nbuckets ? c->nbuckets * 2 : 64;
	struct rl_group **b = ev_xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct rl_group *g = c->buckets[i], *n;
		for (; g; g = n) {
			n = g->next;
			g->next = b[g->hash & (nb - 1)];
			b[g->hash & (nb - 1)] = g;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

/* Drop groups whose window ended before t; with force, also the oldest one. */
static void
sweep(struct rl_corr *c, int64_t t, int force)
{
	struct rl_group **oldest = NULL;

	for (size_t b = 0; b < c->nbuckets; b++) {
		struct rl_group **pp = &c->buckets[b];
		while (*pp) {
			struct rl_group *g = *pp;
			if (t - g->start >= c->span_us) {
				*pp = g->next;
				group_free(g);
				c->ngroups--;
				continue;
			}
			if (oldest == NULL || g->start < (*oldest)->start)
				oldest = pp;
			pp = &g->next;
		}
	}
	if (force && c->ngroups >= RL_MAX_GROUPS && oldest) {
		struct rl_group *g = *oldest;
		*oldest = g->next;
		group_free(g);
		c->ngroups--;
	}
}

static void
add_seq(struct rl_group *g, uint64_t seq)
{
	if (g->nseq >= RL_MAX_SEQS)
		return;
	if (g->nseq == g->capseq) {
		g->capseq = g->capseq ? g->capseq * 2 : 8;
		if (g->capseq > RL_MAX_SEQS)
			g->capseq = RL_MAX_SEQS;
		g->seqs = ev_xrealloc(g->seqs, g->capseq * sizeof(*g->seqs));
	}
	g->seqs[g->nseq++] = seq;
}

static int64_t
event_time(struct ev_rules *r)
{
	if (r->cur_time == 0)
		r->cur_time = r->cur->time_us ? r->cur->time_us : ev_time_now_us();
	return r->cur_time;
}

/*
 * The value of a correlation field for an event that rule `from` matched:
 * the event's own field, else a named regex capture of that rule.
 */
static const char *
corr_value(struct ev_rules *r, uint32_t from, const char *field, size_t *len, struct ev_buf *tmp)
{
	const char *v = ev_event_get(r->cur, field, len);
	struct rl_rule *src = r->rules[from];

	if (v)
		return v;
	if (src->corr == NULL && rl_capture(r, src, field, tmp) == 0) {
		*len = tmp->len;
		return tmp->p ? tmp->p : "";
	}
	return NULL;
}

static void
fmt_span(int64_t us, char *out, size_t n)
{
	int64_t s = us / 1000000;
	if (s % 86400 == 0)
		snprintf(out, n, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(out, n, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(out, n, "%lldm", (long long)(s / 60));
	else
		snprintf(out, n, "%llds", (long long)s);
}

int
rl_corr_feed(struct ev_rules *r, uint32_t corr_idx, uint32_t from, unsigned depth,
    int (*cb)(const struct ev_rule_match *m, const struct ev_event *ev, void *arg), void *arg)
{
	struct rl_rule *ru = r->rules[corr_idx];
	struct rl_corr *c = ru->corr;
	struct ev_buf key = EV_BUF_INIT, tmp = EV_BUF_INIT;
	struct rl_group *g = NULL;
	size_t j, b;
	uint64_t h;
	int64_t t;
	int rc = 0, fire = 0;

	if (depth > RL_MAX_CHAIN)
		return 0;
	for (j = 0; j < c->nref; j++)
		if (c->ref[j] == from)
			break;
	if (j == c->nref)
		return 0;
	t = event_time(r);
	/* group key */
	for (size_t k = 0; k < c->ngroup; k++) {
		size_t n;
		const char *v = corr_value(r, from, c->gfield[k][j], &n, &tmp);
		if (v == NULL)
			goto out; /* events without the group-by field do not count */
		if (k)
			ev_buf_addc(&key, ',');
		ev_buf_adds(&key, c->group[k]);
		ev_buf_addc(&key, '=');
		ev_buf_add(&key, v, n > 256 ? 256 : n);
	}
	if (key.p == NULL)
		ev_buf_adds(&key, "");
	h = fnv(key.p, key.len);
	if (c->nbuckets) {
		for (g = c->buckets[h & (c->nbuckets - 1)]; g; g = g->next)
			if (g->hash == h && strcmp(g->key, key.p) == 0)
				break;
	}
	if (g == NULL) {
		if (c->type == CT_TEMPORAL_ORDERED && from != c->ref[0])
			goto out;
		if (++c->feeds % 1024 == 0 || c->ngroups >= RL_MAX_GROUPS)
			sweep(c, t, 1);
		if (c->ngroups + 1 > c->nbuckets)
			rehash(c);
		g = ev_xcalloc(1, sizeof(*g));
		g->hash = h;
		g->key = ev_buf_detach(&key);
		g->start = t;
		b = h & (c->nbuckets - 1);
		g->next = c->buckets[b];
		c->buckets[b] = g;
		c->ngroups++;
	} else if (t - g->start >= c->span_us) {
		group_reset(g, t); /* the window ended: this event opens a new one */
		if (c->type == CT_TEMPORAL_ORDERED && from != c->ref[0]) {
			goto out;
		}
	}
	if (g->fired)
		goto out; /* this window already fired */
	switch (c->type) {
	case CT_EVENT_COUNT:
		if (c->lo <= RL_SLIDE_MAX) {
			size_t cap = (size_t)c->lo;
			if (g->ring_t == NULL) {
				g->ring_t = ev_xcalloc(cap, sizeof(*g->ring_t));
				g->ring_s = ev_xcalloc(cap, sizeof(*g->ring_s));
			}
			if (g->ring_n == cap) {
				g->ring_h = (g->ring_h + 1) % cap;
				g->ring_n--;
			}
			g->ring_t[(g->ring_h + g->ring_n) % cap] = t;
			g->ring_s[(g->ring_h + g->ring_n) % cap] = r->cur->seq;
			g->ring_n++;
			while (g->ring_n && t - g->ring_t[g->ring_h] >= c->span_us) {
				g->ring_h = (g->ring_h + 1) % cap;
				g->ring_n--;
			}
			/* the group lives while its newest event (or its alert) is recent */
			g->start = t;
			g->count = g->ring_n;
			if (g->count >= c->lo && g->count <= c->hi) {
				g->nseq = 0;
				for (size_t k = 0; k < g->ring_n; k++)
					add_seq(g, g->ring_s[(g->ring_h + k) % cap]);
			}
		} else {
			g->count++;
			add_seq(g, r->cur->seq);
		}
		break;
	case CT_VALUE_COUNT: {
		size_t n;
		const char *v = corr_value(r, from, c->field, &n, &tmp);
		size_t i;
		if (v == NULL)
			goto out;
		for (i = 0; i < g->nvals; i++)
			if (strlen(g->vals[i]) == n && memcmp(g->vals[i], v, n) == 0)
				break;
		if (i == g->nvals && g->nvals < RL_MAX_DISTINCT) {
			if (g->nvals == g->capvals) {
				g->capvals = g->capvals ? g->capvals * 2 : 8;
				g->vals = ev_xrealloc(g->vals, g->capvals * sizeof(*g->vals));
			}
			g->vals[g->nvals] = ev_xmalloc(n + 1);
			memcpy(g->vals[g->nvals], v, n);
			g->vals[g->nvals][n] = '\0';
			g->nvals++;
			add_seq(g, r->cur->seq);
		}
		g->count = g->nvals;
		break;
	}
	case CT_TEMPORAL:
		/*
		 * Sliding: remember when each referenced rule last matched; the
		 * condition counts the rules seen within timespan of this event.
		 */
		if (g->last_t == NULL) {
			g->last_t = ev_xcalloc(c->nref, sizeof(*g->last_t));
			g->last_s = ev_xcalloc(c->nref, sizeof(*g->last_s));
		}
		for (size_t k = 0; k < c->nref; k++)
			if (c->ref[k] == from) {
				g->seen |= 1ULL << k;
				g->last_t[k] = t;
				g->last_s[k] = r->cur->seq;
			}
		g->count = 0;
		for (size_t k = 0; k < c->nref; k++)
			if ((g->seen & (1ULL << k)) && t - g->last_t[k] < c->span_us)
				g->count++;
		g->start = t;
		if (g->count >= c->lo && g->count <= c->hi) {
			g->nseq = 0;
			for (size_t k = 0; k < c->nref; k++)
				if ((g->seen & (1ULL << k)) && t - g->last_t[k] < c->span_us)
					add_seq(g, g->last_s[k]);
		}
		break;
	case CT_TEMPORAL_ORDERED:
		if (g->progress < c->nref && c->ref[g->progress] == from) {
			g->progress++;
			add_seq(g, r->cur->seq);
		} else if (from == c->ref[0] && g->progress <= 1) {
			/* a later first step gives the sequence more time */
			group_reset(g, t);
			g->progress = 1;
			add_seq(g, r->cur->seq);
		}
		g->count = g->progress;
		break;
	}
	if (g->count >= c->lo && g->count <= c->hi) {
		g->fired = 1;
		fire = 1;
	}
	if (fire) {
		struct ev_rule_match m;
		char span[32];
		memset(&m, 0, sizeof(m));
		m.rule_id = ru->id;
		m.title = ru->title;
		m.level = ru->level;
		m.tags = ru->tags;
		m.ntags = ru->ntags;
		m.correlation = 1;
		m.group = g->key;
		fmt_span(c->span_us, span, sizeof(span));
		ev_buf_reset(&tmp);
		switch (c->type) {
		case CT_EVENT_COUNT:
			ev_buf_addf(&tmp, "event_count: %llu events (%s) within %s",
			    (unsigned long long)g->count, c->cond_text, span);
			break;
		case CT_VALUE_COUNT:
			ev_buf_addf(&tmp, "value_count: %llu distinct %s (%s) within %s",
			    (unsigned long long)g->count, c->field, c->cond_text, span);
			break;
		case CT_TEMPORAL:
			ev_buf_addf(&tmp, "temporal: %llu of %zu rules (%s) within %s",
			    (unsigned long long)g->count, c->nref, c->cond_text, span);
			break;
		case CT_TEMPORAL_ORDERED:
			ev_buf_addf(&tmp, "temporal_ordered: %zu rules in order within %s", c->nref,
			    span);
			break;
		}
		if (g->key[0])
			ev_buf_addf(&tmp, " for %s", g->key);
		m.why = tmp.p;
		m.seqs = g->seqs;
		m.nseqs = g->nseq;
		if ((!ru->hidden || r->show_hidden) && cb)
			rc = cb(&m, r->cur, arg);
		for (size_t p = 0; p < ru->nparents && rc == 0; p++)
			rc = rl_corr_feed(r, ru->parents[p], corr_idx, depth + 1, cb, arg);
	}
out:
	ev_buf_free(&key);
	ev_buf_free(&tmp);
	return rc;
}
