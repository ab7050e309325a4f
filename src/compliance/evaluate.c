/*
 * evaluate.c - evidence queries against the ledger, the requirement index
 * and the cadence list (see compliance.h for the status rules).
 *
 * A query is evaluated at a time now: only entries at or before now count,
 * so an index at an earlier date is what an assessor would have seen then.
 * Each control is evaluated once per index, however many requirements
 * share it.  Reads only, except ev_cadence_raise.
 */
#include "compliance/compliance.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registers/registers.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/timeutil.h"

#define TRIGGERS_MAX 512
#define EVIDENCE_MAX 4096
#define STOP 0x7fff /* scan callback: enough found */
#define DUE_SOON_MAX_US (30LL * 86400 * 1000000)

/* Does body member value v equal the mapping's text want? */
static int
value_is(json_t *v, const char *want)
{
	char n[64];

	if (json_is_string(v))
		return strcmp(json_string_value(v), want) == 0;
	if (json_is_true(v))
		return strcmp(want, "true") == 0 || strcmp(want, "yes") == 0;
	if (json_is_false(v))
		return strcmp(want, "false") == 0 || strcmp(want, "no") == 0;
	if (json_is_integer(v)) {
		snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(v));
		return strcmp(n, want) == 0;
	}
	if (json_is_real(v)) {
		snprintf(n, sizeof(n), "%g", json_real_value(v));
		return strcmp(n, want) == 0;
	}
	return 0;
}

struct hit {
	uint64_t seq;
	int64_t time;
	char subject[EV_SUBJECT_MAX];
	int64_t next_review; /* 0 when the body has none */
};

struct scan {
	const json_t *q;
	struct hit *hits;
	size_t n, max;
};

static int
scan_cb(const struct ev_entry *e, void *arg)
{
	struct scan *s = arg;
	const char *pat = ev_json_str(s->q, "subject");
	json_t *m = json_object_get(s->q, "match"), *b = NULL, *v;
	const char *key;
	struct hit *h;

	if (pat && fnmatch(pat, e->subject, 0) != 0)
		return 0;
	if (m || s->max == 1) {
		b = ev_json_parse_object(e->body, e->body_len, NULL);
		if (b == NULL)
			return 0;
		json_object_foreach(m, key, v) {
			if (!value_is(json_object_get(b, key), json_string_value(v))) {
				json_decref(b);
				return 0;
			}
		}
	}
	h = &s->hits[s->n++];
	h->seq = e->seq;
	h->time = e->time_us;
	snprintf(h->subject, sizeof(h->subject), "%s", e->subject);
	h->next_review = 0;
	if (b && ev_json_str(b, "next_review"))
		ev_time_parse(ev_json_str(b, "next_review"), &h->next_review);
	json_decref(b);
	return s->n >= s->max ? STOP : 0;
}

static int
hit_newest_first(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/*
 * The newest matching entries at or before now, newest first, at most max
 * (over all kinds of the query).  Caller frees *hits.
 */
static int
find(struct ev_ledger *l, const json_t *q, int64_t now, size_t max, struct hit **hits,
    size_t *n, struct ev_err *err)
{
	json_t *kinds = json_object_get(q, "kinds"), *k;
	struct scan s = { q, NULL, 0, 0 };
	size_t i, total = 0;
	struct hit *all = NULL;
	int rc;

	json_array_foreach(kinds, i, k) {
		struct ev_query lq = { 0 };
		s.hits = ev_xcalloc(max, sizeof(*s.hits));
		s.n = 0;
		s.max = max;
		lq.kind = json_string_value(k);
		lq.until_us = now;
		lq.descending = 1;
		rc = ev_ledger_scan(l, &lq, scan_cb, &s, err);
		if (rc != EV_OK && rc != STOP) {
			free(s.hits);
			free(all);
			return rc;
		}
		all = ev_xrealloc(all, (total + s.n + 1) * sizeof(*all));
		memcpy(all + total, s.hits, s.n * sizeof(*all));
		total += s.n;
		free(s.hits);
	}
	qsort(all, total, sizeof(*all), hit_newest_first);
	*hits = all;
	*n = total < max ? total : max;
	return EV_OK;
}

struct renew {
	int64_t now;
	int found;
};

static int
renew_cb(const struct ev_entry *e, void *arg)
{
	struct renew *r = arg;
	json_t *b = ev_json_parse_object(e->body, e->body_len, NULL);
	int64_t t;

	if (b && ev_json_str(b, "next_review") &&
	    ev_time_parse(ev_json_str(b, "next_review"), &t) == 0 && t >= r->now)
		r->found = 1;
	json_decref(b);
	return r->found ? STOP : 0;
}

/*
 * The newest evidence is past its next_review date: is it stale, or did a
 * later entry about the same item (a review) set a next_review still ahead?
 */
static int
renewed(struct ev_ledger *l, const char *subject, int64_t now, int *stale, struct ev_err *err)
{
	struct ev_query q = { 0 };
	struct renew r = { now, 0 };
	int rc;

	q.subject = subject;
	q.until_us = now;
	q.descending = 1;
	q.limit = 1000;
	rc = ev_ledger_scan(l, &q, renew_cb, &r, err);
	if (rc != EV_OK && rc != STOP)
		return rc;
	*stale = !r.found;
	return EV_OK;
}

static void
set_time(json_t *o, const char *key, int64_t us)
{
	char t[EV_TIME_STRLEN];

	if (us == 0) {
		json_object_set_new(o, key, json_null());
		return;
	}
	ev_time_format(us, t);
	json_object_set_new(o, key, json_string(t));
}

/*
 * Evaluate one query at now: {"kinds","cadence","state","last","last_seq",
 * "due","missing","stale"} (state: done, due, overdue, or "standing" for a
 * query without cadence).
 */
static int
eval_query(struct ev_ledger *l, const json_t *q, int64_t now, json_t **out, struct ev_err *err)
{
	const char *cad = ev_json_str(q, "cadence"), *iv = ev_json_str(q, "interval");
	json_t *trig = json_object_get(q, "trigger");
	struct hit *ev = NULL, *tr = NULL;
	size_t nev = 0, ntr = 0;
	int64_t due = 0;
	const char *state = "done";
	int missing = 0, stale = 0, rc;
	json_t *o;

	if ((rc = find(l, q, now, trig ? EVIDENCE_MAX : 1, &ev, &nev, err)) != EV_OK)
		return rc;
	if (nev && ev[0].next_review && ev[0].next_review < now &&
	    (rc = renewed(l, ev[0].subject, now, &stale, err)) != EV_OK) {
		free(ev);
		return rc;
	}
	if (trig) {
		const char *ss = ev_json_str(q, "same_subject");
		int same = ss && strcmp(ss, "true") == 0;
		int64_t within;
		if ((rc = find(l, trig, now, TRIGGERS_MAX, &tr, &ntr, err)) != EV_OK) {
			free(ev);
			return rc;
		}
		for (size_t i = 0; i < ntr; i++) {
			int answered = 0;
			for (size_t j = 0; j < nev && !answered; j++)
				if (ev[j].seq > tr[i].seq &&
				    (!same || strcmp(ev[j].subject, tr[i].subject) == 0))
					answered = 1;
			if (answered)
				continue;
			if (ev_registers_duration_add(tr[i].time, ev_json_str(q, "within"), &within) != 0)
				within = tr[i].time;
			if (due == 0 || within < due)
				due = within;
		}
		if (due && now > due) {
			state = "overdue";
			missing = 1;
		} else if (due) {
			state = "due";
		}
	} else if (iv) {
		if (nev == 0) {
			state = "due";
			missing = 1;
		} else if (ev_registers_duration_add(ev[0].time, iv, &due) == 0) {
			int64_t len = due - ev[0].time, soon = len / 4;
			if (soon > DUE_SOON_MAX_US)
				soon = DUE_SOON_MAX_US;
			if (now > due) {
				state = "overdue";
				missing = 1;
			} else if (now >= due - soon) {
				state = "due";
			}
		}
	} else {
		state = "standing";
		missing = nev == 0;
	}
	o = json_object();
	json_object_set(o, "kinds", json_object_get(q, "kinds"));
	if (json_object_get(q, "match"))
		json_object_set(o, "match", json_object_get(q, "match"));
	if (ev_json_str(q, "subject"))
		json_object_set_new(o, "subject", json_string(ev_json_str(q, "subject")));
	json_object_set_new(o, "cadence", cad ? json_string(cad) : json_null());
	json_object_set_new(o, "state", json_string(state));
	set_time(o, "last", nev ? ev[0].time : 0);
	json_object_set_new(o, "last_seq", nev ? json_integer((json_int_t)ev[0].seq) : json_null());
	set_time(o, "due", due);
	json_object_set_new(o, "missing", json_boolean(missing));
	json_object_set_new(o, "stale", json_boolean(stale));
	if (trig)
		json_object_set_new(o, "triggers", json_integer((json_int_t)ntr));
	free(ev);
	free(tr);
	*out = o;
	return EV_OK;
}

/* Evaluate every control once: {ID: {"queries":[...],"missing","stale","latest"}}. */
static int
eval_controls(struct ev_ledger *l, const struct ev_compliance *c, int64_t now, json_t **out,
    struct ev_err *err)
{
	json_t *controls = json_object_get(ev_compliance_mapping(c), "controls"), *ctl, *q;
	json_t *res = json_object();
	const char *id;
	size_t i;
	int rc;

	json_object_foreach(controls, id, ctl) {
		json_t *qs = json_array(), *r;
		int missing = 0, stale = 0;
		json_array_foreach(json_object_get(ctl, "evidence"), i, q) {
			if ((rc = eval_query(l, q, now, &r, err)) != EV_OK) {
				json_decref(qs);
				json_decref(res);
				return rc;
			}
			missing |= json_is_true(json_object_get(r, "missing"));
			stale |= json_is_true(json_object_get(r, "stale"));
			json_array_append_new(qs, r);
		}
		json_object_set_new(res, id, json_pack("{s:o,s:b,s:b}", "queries", qs, "missing",
					       missing, "stale", stale));
	}
	*out = res;
	return EV_OK;
}

static void
count(json_t *summary, const char *clause, const char *status)
{
	json_t *total = json_object_get(summary, "total");
	json_t *by = json_object_get(summary, "by_clause"), *cl = json_object_get(by, clause);

	if (cl == NULL) {
		cl = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "evidenced", 0, "stale", 0, "missing", 0,
		    "not-applicable", 0, "unmapped", 0, "total", 0);
		json_object_set_new(by, clause, cl);
	}
	json_object_set_new(cl, status, json_integer(json_integer_value(json_object_get(cl, status)) + 1));
	json_object_set_new(cl, "total", json_integer(json_integer_value(json_object_get(cl, "total")) + 1));
	json_object_set_new(total, status,
	    json_integer(json_integer_value(json_object_get(total, status)) + 1));
	json_object_set_new(total, "total",
	    json_integer(json_integer_value(json_object_get(total, "total")) + 1));
}

int
ev_compliance_index(struct ev_ledger *l, const struct ev_compliance *c, int64_t now,
    json_t **out, struct ev_err *err)
{
	const json_t *m = ev_compliance_mapping(c);
	json_t *controls = json_object_get(m, "controls"), *reqs = json_object_get(m, "requirements");
	json_t *evals = NULL, *list = json_array(), *row, *summary;
	size_t i, j, k;
	int rc;

	if ((rc = eval_controls(l, c, now, &evals, err)) != EV_OK) {
		json_decref(list);
		return rc;
	}
	summary = json_pack("{s:{s:i,s:i,s:i,s:i,s:i,s:i},s:{}}", "total", "evidenced", 0, "stale",
	    0, "missing", 0, "not-applicable", 0, "unmapped", 0, "total", 0, "by_clause");
	json_array_foreach((json_t *)ev_compliance_catalogue(c), i, row) {
		const char *id = ev_json_str(row, "id");
		json_t *map = json_object_get(reqs, id), *r = json_object(), *x;
		json_t *seqs = json_array(), *queries = json_array(), *ids = json_array();
		const char *status;
		int64_t latest = 0;
		int missing = 0, stale = 0;

		json_object_set_new(r, "id", json_string(id));
		json_object_set_new(r, "clause", json_string(ev_json_str(row, "clause")));
		json_object_set_new(r, "topic", json_string(ev_json_str(row, "topic")));
		json_object_set_new(r, "requirement", json_string(ev_json_str(row, "requirement")));
		json_object_set_new(r, "cadence", json_string(ev_json_str(row, "cadence")));
		if (json_is_object(map) && ev_json_str(map, "not_applicable")) {
			status = "not-applicable";
			json_object_set_new(r, "reason", json_string(ev_json_str(map, "not_applicable")));
			json_object_set_new(r, "control", json_null());
			json_object_set_new(r, "owner", json_null());
		} else if (!json_is_array(map)) {
			status = "unmapped";
			json_object_set_new(r, "control", json_null());
			json_object_set_new(r, "owner", json_null());
		} else {
			json_array_foreach(map, j, x) {
				const char *cid = json_string_value(x);
				json_t *ctl = json_object_get(controls, cid);
				json_t *e = json_object_get(evals, cid), *qr;
				json_array_append_new(ids, json_string(cid));
				if (j == 0) {
					json_object_set_new(r, "control", json_string(cid));
					json_object_set_new(r, "owner", json_string(ev_json_str(ctl, "owner")));
					json_object_set_new(r, "narrative",
					    json_string(ev_json_str(ctl, "narrative")));
					json_object_set_new(r, "verification",
					    json_string(ev_json_str(ctl, "verification")));
				}
				missing |= json_is_true(json_object_get(e, "missing"));
				stale |= json_is_true(json_object_get(e, "stale"));
				json_array_foreach(json_object_get(e, "queries"), k, qr) {
					json_t *copy = json_deep_copy(qr), *seq = json_object_get(qr, "last_seq");
					int64_t t;
					json_object_set_new(copy, "control", json_string(cid));
					json_array_append_new(queries, copy);
					if (json_is_integer(seq)) {
						json_array_append(seqs, seq);
						if (ev_time_parse(ev_json_str(qr, "last"), &t) == 0 && t > latest)
							latest = t;
					}
				}
			}
			status = missing ? "missing" : stale ? "stale" : "evidenced";
		}
		json_object_set_new(r, "status", json_string(status));
		json_object_set_new(r, "controls", ids);
		json_object_set_new(r, "evidence", seqs);
		set_time(r, "latest", latest);
		json_object_set_new(r, "queries", queries);
		count(summary, ev_json_str(row, "clause"), status);
		json_array_append_new(list, r);
	}
	json_decref(evals);
	*out = json_object();
	set_time(*out, "now", now);
	json_object_set_new(*out, "mapping_version",
	    ev_json_str(m, "version") ? json_string(ev_json_str(m, "version")) : json_null());
	json_object_set_new(*out, "requirements", list);
	json_object_set_new(*out, "summary", summary);
	return EV_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
ev_cadence_list(struct ev_ledger *l, const struct ev_compliance *c, int64_t now, json_t **out,
    struct ev_err *err)
{
	const json_t *m = ev_compliance_mapping(c);
	json_t *controls = json_object_get(m, "controls"), *reqs = json_object_get(m, "requirements");
	json_t *list = json_array(), *ctl, *q, *x;
	const char *id, **ids;
	size_t n = json_object_size(controls), i = 0, j, k;
	int rc = EV_OK;

	ids = ev_xcalloc(n + 1, sizeof(*ids));
	json_object_foreach(controls, id, ctl)
		ids[i++] = id;
	qsort(ids, n, sizeof(*ids), cmp_str);
	for (i = 0; i < n && rc == EV_OK; i++) {
		ctl = json_object_get(controls, ids[i]);
		json_array_foreach(json_object_get(ctl, "evidence"), j, q) {
			json_t *r, *item, *rq, *map;
			const char *rid;
			char name[256];
			if (ev_json_str(q, "cadence") == NULL)
				continue;
			rq = json_array();
			if ((rc = eval_query(l, q, now, &r, err)) != EV_OK) {
				json_decref(rq);
				break;
			}
			json_object_foreach(reqs, rid, map)
				if (json_is_array(map))
					json_array_foreach(map, k, x)
						if (strcmp(json_string_value(x), ids[i]) == 0)
							json_array_append_new(rq, json_string(rid));
			snprintf(name, sizeof(name), "%s#%zu", ids[i], j + 1);
			item = json_object();
			json_object_set_new(item, "item", json_string(name));
			json_object_set_new(item, "control", json_string(ids[i]));
			json_object_set_new(item, "requirements", rq);
			json_object_set_new(item, "owner", json_string(ev_json_str(ctl, "owner")));
			json_object_set(item, "cadence", json_object_get(r, "cadence"));
			json_object_set(item, "kinds", json_object_get(r, "kinds"));
			json_object_set(item, "last", json_object_get(r, "last"));
			json_object_set(item, "last_seq", json_object_get(r, "last_seq"));
			json_object_set(item, "due", json_object_get(r, "due"));
			json_object_set(item, "state", json_object_get(r, "state"));
			json_decref(r);
			json_array_append_new(list, item);
		}
	}
	free(ids);
	if (rc != EV_OK) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return EV_OK;
}

int
ev_cadence_raise(struct ev_ledger *l, const struct ev_compliance *c, int64_t now,
    unsigned *raised, struct ev_err *err)
{
	json_t *items = NULL, *it;
	size_t i;
	int rc, one;

	if (raised)
		*raised = 0;
	if ((rc = ev_ledger_begin(l, err)) != EV_OK)
		return rc;
	if ((rc = ev_cadence_list(l, c, now, &items, err)) != EV_OK)
		goto fail;
	json_array_foreach(items, i, it) {
		const char *item = ev_json_str(it, "item"), *due = ev_json_str(it, "due");
		struct ev_buf key = EV_BUF_INIT, title = EV_BUF_INIT, why = EV_BUF_INIT;
		json_t *extra;
		if (strcmp(ev_json_str(it, "state"), "overdue") != 0)
			continue;
		ev_buf_addf(&key, "%s@%s", item, due ? due : "-");
		ev_buf_addf(&title, "cadence: %s is overdue (due %s)", item, due ? due : "-");
		ev_buf_addf(&why, "control %s (owner %s, cadence %s): no evidence since %s",
		    ev_json_str(it, "control"), ev_json_str(it, "owner"), ev_json_str(it, "cadence"),
		    ev_json_str(it, "last") ? ev_json_str(it, "last") : "never");
		extra = json_pack("{s:s,s:s,s:O}", "item", item, "control", ev_json_str(it, "control"),
		    "requirements", json_object_get(it, "requirements"));
		if (due)
			json_object_set_new(extra, "due", json_string(due));
		rc = ev_registers_raise(l, "cadence", key.p, "medium", title.p, why.p, extra, &one,
		    err);
		json_decref(extra);
		ev_buf_free(&key);
		ev_buf_free(&title);
		ev_buf_free(&why);
		if (rc != EV_OK)
			goto fail;
		if (raised)
			*raised += (unsigned)one;
	}
	json_decref(items);
	return ev_ledger_commit(l, err);
fail:
	json_decref(items);
	ev_ledger_rollback(l);
	return rc;
}

/* ---- matching a fixed selection (evidence packs) ---- */

static int
kind_matches(const char *want, const char *kind)
{
	size_t n = strlen(want);

	if (n && (want[n - 1] == '.' || want[n - 1] == '*'))
		return strncmp(kind, want, want[n - 1] == '*' ? n - 1 : n) == 0;
	return strcmp(want, kind) == 0;
}

static int
entry_matches(const json_t *q, const struct ev_compliance_entry *e)
{
	json_t *kinds = json_object_get(q, "kinds"), *k, *m = json_object_get(q, "match"), *b, *v;
	const char *pat = ev_json_str(q, "subject"), *key;
	size_t i;
	int ok = 0;

	json_array_foreach(kinds, i, k)
		ok |= kind_matches(json_string_value(k), e->kind);
	if (!ok || (pat && fnmatch(pat, e->subject, 0) != 0))
		return 0;
	if (m == NULL)
		return 1;
	if ((b = ev_json_parse_object(e->body, e->body_len, NULL)) == NULL)
		return 0;
	json_object_foreach(m, key, v)
		if (!value_is(json_object_get(b, key), json_string_value(v)))
			ok = 0;
	json_decref(b);
	return ok;
}

json_t *
ev_compliance_match_entries(const struct ev_compliance *c, const struct ev_compliance_entry *e,
    size_t n)
{
	const json_t *m = ev_compliance_mapping(c);
	json_t *controls = json_object_get(m, "controls"), *reqs = json_object_get(m, "requirements");
	json_t *hits = json_object(), *out = json_array(), *ctl, *q, *row, *x;
	const char *id;
	size_t i, j, k;

	/* Per control: the seqs of the selection that match any of its queries. */
	json_object_foreach(controls, id, ctl) {
		json_t *seqs = json_array();
		for (k = 0; k < n; k++)
			json_array_foreach(json_object_get(ctl, "evidence"), j, q)
				if (entry_matches(q, &e[k])) {
					json_array_append_new(seqs, json_integer((json_int_t)e[k].seq));
					break;
				}
		json_object_set_new(hits, id, seqs);
	}
	json_array_foreach((json_t *)ev_compliance_catalogue(c), i, row) {
		const char *rid = ev_json_str(row, "id");
		json_t *map = json_object_get(reqs, rid), *r = json_object(), *ids = json_array();
		json_t *seqs = json_array();
		const char *status = "unmapped";

		json_object_set_new(r, "id", json_string(rid));
		json_object_set_new(r, "clause", json_string(ev_json_str(row, "clause")));
		json_object_set_new(r, "topic", json_string(ev_json_str(row, "topic")));
		if (json_is_object(map) && ev_json_str(map, "not_applicable")) {
			status = "not-applicable";
			json_object_set_new(r, "reason", json_string(ev_json_str(map, "not_applicable")));
		} else if (json_is_array(map)) {
			json_array_foreach(map, j, x) {
				json_t *h = json_object_get(hits, json_string_value(x)), *s;
				json_array_append(ids, x);
				if (j == 0)
					json_object_set_new(r, "owner", json_string(ev_json_str(
					    json_object_get(controls, json_string_value(x)), "owner")));
				json_array_foreach(h, k, s)
					json_array_append(seqs, s);
			}
			status = json_array_size(seqs) ? "evidenced" : "none";
		}
		json_object_set_new(r, "status", json_string(status));
		json_object_set_new(r, "controls", ids);
		json_object_set_new(r, "evidence", seqs);
		json_array_append_new(out, r);
	}
	json_decref(hits);
	return out;
}
