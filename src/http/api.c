/*
 * api.c - the JSON API handlers (/api/..., /metrics, /healthz).
 *
 * Handlers run after server.c has authenticated the caller and checked the
 * role matrix; they validate everything else.  Request bodies are JSON
 * objects whose members are checked against a per-route field list: an
 * unknown member, a wrong type or a missing required member is a 400 and
 * nothing is written.  Every write names the authenticated user as actor.
 * A view never writes a projection: writes are ledger appends, through the
 * library of the part that owns the entry kind (alerts, incident).
 */
#include <inttypes.h>
#include <pthread.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alerts/alerts.h"
#include "compliance/compliance.h"
#include "http/internal.h"
#include "incident/incident.h"
#include "ingest/ingest.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

/* ---- validation ---- */

/* Field types: s text (1..EV_TEXT_MAX), n name (1..128), t time, i seq array, a text array,
 * o object of strings, b boolean, j any JSON object. */
struct field {
	const char *name;
	char type;
	int required;
	const char *const *one_of;
};

static const char *const severities[] = { "low", "medium", "high", "critical", NULL };
static const char *const triple[] = { "yes", "no", "undetermined", NULL };
static const char *const yesno[] = { "yes", "no", NULL };
static const char *const channels[] = { "staff", "contractor", "customer", "monitoring", NULL };
static const char *const action_types[] = { "containment", "eradication", "recovery",
	"communication", "decision", NULL };
static const char *const recipients[] = { "supervisory-body", "csirt", "affected-persons",
	"customers", "other", NULL };
static const char *const continuity_states[] = { "activated", "restored", NULL };
static const char *const dispositions[] = { "false-positive", "benign", "escalated", NULL };

static int
in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (strcmp(s, *l) == 0)
			return 1;
	return 0;
}

static int
text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n > 0 && n <= max && ev_utf8_valid(s, n);
}

/*
 * Check obj against fields; on failure set a 400 on rs and return -1.  Time
 * fields are normalised in place to RFC 3339 UTC.
 */
static int
check_fields(json_t *obj, const struct field *fields, struct ev_http_resp *rs)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		const struct field *f = fields;
		while (f->name && strcmp(f->name, k) != 0)
			f++;
		if (!f->name) {
			ev_http_json_error(rs, 400, "unknown_field", "unknown field \"%s\"", k);
			return -1;
		}
	}
	for (const struct field *f = fields; f->name; f++) {
		v = json_object_get(obj, f->name);
		if (!v) {
			if (f->required) {
				ev_http_json_error(rs, 400, "missing_field", "field \"%s\" is required",
				    f->name);
				return -1;
			}
			continue;
		}
		switch (f->type) {
		case 's':
		case 'n':
		case 't':
			if (!json_is_string(v) ||
			    !text_ok(json_string_value(v), f->type == 's' ? EV_TEXT_MAX : EV_ACTOR_MAX))
				goto bad;
			if (f->one_of && !in_list(json_string_value(v), f->one_of)) {
				ev_http_json_error(rs, 400, "bad_value", "field \"%s\": '%s' is not allowed",
				    f->name, json_string_value(v));
				return -1;
			}
			if (f->type == 't') {
				int64_t us;
				char t[EV_TIME_STRLEN];
				if (ev_time_parse(json_string_value(v), &us) != 0)
					goto bad;
				ev_time_format(us, t);
				json_object_set_new(obj, f->name, json_string(t));
			}
			break;
		case 'i': {
			size_t i;
			json_t *x;
			if (!json_is_array(v) || json_array_size(v) > 100)
				goto bad;
			json_array_foreach(v, i, x) if (!json_is_integer(x) || json_integer_value(x) < 1)
				goto bad;
			break;
		}
		case 'a': {
			size_t i;
			json_t *x;
			if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 100)
				goto bad;
			json_array_foreach(v, i, x) if (!json_is_string(x) ||
			    !text_ok(json_string_value(x), EV_TEXT_MAX))
				goto bad;
			break;
		}
		case 'o': {
			const char *kk;
			json_t *x;
			if (!json_is_object(v) || json_object_size(v) > 100)
				goto bad;
			json_object_foreach(v, kk, x) if (!json_is_string(x) ||
			    !text_ok(json_string_value(x), EV_ACTOR_MAX) || !text_ok(kk, EV_ACTOR_MAX))
				goto bad;
			break;
		}
		case 'b':
			if (!json_is_boolean(v))
				goto bad;
			break;
		case 'j':
			if (!json_is_object(v))
				goto bad;
			break;
		}
		continue;
bad:
		ev_http_json_error(rs, 400, "bad_value", "field \"%s\" has the wrong type or size",
		    f->name);
		return -1;
	}
	return 0;
}

static json_t *parse_object(const char *text, size_t len, const struct field *fields,
    struct ev_http_resp *rs);

/* The request body as a JSON object checked against fields, or NULL with a 4xx set. */
static json_t *
body_object(struct ev_http_req *rq, struct ev_http_resp *rs, const struct field *fields,
    int empty_ok)
{
	const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);

	if (rq->body.len == 0 && empty_ok)
		return json_object();
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		ev_http_json_error(rs, 415, "unsupported_media_type",
		    "the body must be application/json");
		return NULL;
	}
	return parse_object(rq->body.p ? rq->body.p : "", rq->body.len, fields, rs);
}

/* Parse text as a JSON object and check it against fields (NULL: any); NULL with a 400 set. */
static json_t *
parse_object(const char *text, size_t len, const struct field *fields, struct ev_http_resp *rs)
{
	json_error_t je;
	json_t *obj;

	if (!ev_utf8_valid(text, len)) {
		ev_http_json_error(rs, 400, "bad_json", "the body is not UTF-8");
		return NULL;
	}
	obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!obj) {
		ev_http_json_error(rs, 400, "bad_json", "line %d column %d: %s", je.line, je.column,
		    je.text);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		ev_http_json_error(rs, 400, "bad_json", "the body must be a JSON object");
		return NULL;
	}
	if (fields && check_fields(obj, fields, rs) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* Reject query parameters not in allowed (NULL-terminated); -1 with a 400 set. */
struct argcheck {
	const char *const *allowed;
	const char *bad;
};

static enum MHD_Result
arg_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct argcheck *ac = cls;

	if (!in_list(key, ac->allowed)) {
		ac->bad = key;
		return MHD_NO;
	}
	return MHD_YES;
}

static int
check_args(struct ev_http_req *rq, struct ev_http_resp *rs, const char *const *allowed)
{
	struct argcheck ac = { allowed, NULL };

	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, arg_iter, &ac);
	if (ac.bad) {
		char name[64];
		snprintf(name, sizeof(name), "%s", ac.bad);
		ev_http_json_error(rs, 400, "unknown_parameter", "unknown query parameter \"%s\"",
		    ev_utf8_valid(name, strlen(name)) ? name : "?");
		return -1;
	}
	return 0;
}

/* A positive decimal query argument; 0 when absent; -1 (400 set) when malformed. */
static int
arg_u64(struct ev_http_req *rq, struct ev_http_resp *rs, const char *name, uint64_t *out)
{
	const char *s = ev_http_arg(rq, name);
	uint64_t v = 0;

	*out = 0;
	if (!s)
		return 0;
	if (!*s || strlen(s) > 19)
		goto bad;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			goto bad;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	*out = v;
	return 0;
bad:
	ev_http_json_error(rs, 400, "bad_parameter", "parameter \"%s\" must be a number", name);
	return -1;
}

static int
param_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 19)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* ---- entries ---- */

static json_t *
entry_json(const struct ev_entry *e)
{
	char t[EV_TIME_STRLEN], h[65];
	json_t *body = json_loadb(e->body, e->body_len, 0, NULL);

	ev_time_format(e->time_us, t);
	ev_hex_encode(e->leaf_hash, 32, h);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:s}", "seq", (json_int_t)e->seq, "time", t,
	    "kind", e->kind, "subject", e->subject, "actor", e->actor, "body",
	    body ? body : json_null(), "leaf_hash", h);
}

static int
collect_cb(const struct ev_entry *e, void *arg)
{
	json_array_append_new(arg, entry_json(e));
	return 0;
}

void
ev_api_healthz(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	ev_http_json(rs, 200, json_pack("{s:s}", "status", "ok"));
}

void
ev_api_whoami(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	ev_http_json(rs, 200, json_pack("{s:s,s:s,s:s,s:b}", "user", rq->who.user, "role",
				  rq->who.role, "via", rq->who.via_session ? "session" : "token",
				  "must_change_password", rq->who.must_change));
}

void
ev_api_entries(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "kind", "subject", "since", "until", "limit", "from",
		"order", NULL };
	struct ev_query q = { 0 };
	struct ev_err err = { 0 };
	const char *s;
	uint64_t lim, from;
	json_t *arr;

	if (check_args(rq, rs, allowed) || arg_u64(rq, rs, "limit", &lim) ||
	    arg_u64(rq, rs, "from", &from))
		return;
	q.kind = ev_http_arg(rq, "kind");
	q.subject = ev_http_arg(rq, "subject");
	if ((q.kind && strlen(q.kind) > EV_KIND_MAX) || (q.subject && strlen(q.subject) > EV_SUBJECT_MAX)) {
		ev_http_json_error(rs, 400, "bad_parameter", "kind or subject too long");
		return;
	}
	if (((s = ev_http_arg(rq, "since")) && ev_time_parse(s, &q.since_us) != 0) ||
	    ((s = ev_http_arg(rq, "until")) && ev_time_parse(s, &q.until_us) != 0)) {
		ev_http_json_error(rs, 400, "bad_parameter", "since/until must be times (RFC 3339)");
		return;
	}
	if ((s = ev_http_arg(rq, "order")) && strcmp(s, "asc") && strcmp(s, "desc")) {
		ev_http_json_error(rs, 400, "bad_parameter", "order must be asc or desc");
		return;
	}
	q.descending = s && strcmp(s, "desc") == 0;
	q.limit = lim == 0 ? 100 : lim > 1000 ? 1000 : (size_t)lim;
	q.from_seq = from;
	arr = json_array();
	if (ev_ledger_scan(rq->l, &q, collect_cb, arr, &err) != EV_OK) {
		json_decref(arr);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_http_json(rs, 200, json_pack("{s:o}", "entries", arr));
}

static void
hex_list(json_t *arr, uint8_t (*h)[EV_HASH_LEN], size_t n)
{
	char hex[65];

	for (size_t i = 0; i < n; i++) {
		ev_hex_encode(h[i], EV_HASH_LEN, hex);
		json_array_append_new(arr, json_string(hex));
	}
}

/* Inclusion proof of seq in the tree of size as JSON, or NULL with err. */
static json_t *
inclusion_json(struct ev_ledger *l, uint64_t seq, uint64_t size, struct ev_err *err)
{
	uint8_t leaf[EV_HASH_LEN], root[EV_HASH_LEN], proof[EV_MERKLE_MAX_PROOF][EV_HASH_LEN];
	char lh[65], rh[65];
	size_t n = 0;
	json_t *arr;

	if (size == 0 && ev_ledger_size(l, &size, err) != EV_OK)
		return NULL;
	if (ev_ledger_prove_inclusion(l, seq, size, leaf, root, proof, &n, err) != EV_OK)
		return NULL;
	ev_hex_encode(leaf, EV_HASH_LEN, lh);
	ev_hex_encode(root, EV_HASH_LEN, rh);
	arr = json_array();
	hex_list(arr, proof, n);
	return json_pack("{s:I,s:I,s:I,s:s,s:s,s:o}", "seq", (json_int_t)seq, "leaf_index",
	    (json_int_t)(seq - 1), "tree_size", (json_int_t)size, "leaf_hash", lh, "root", rh,
	    "hashes", arr);
}

static int
one_cb(const struct ev_entry *e, void *arg)
{
	*(json_t **)arg = entry_json(e);
	return 0;
}

void
ev_api_entry(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "proof", "size", NULL };
	struct ev_err err = { 0 };
	uint64_t seq, size;
	json_t *e = NULL;
	const char *p;

	if (check_args(rq, rs, allowed) || arg_u64(rq, rs, "size", &size))
		return;
	if (param_u64(rq->params[0], &seq) != 0 || seq == 0) {
		ev_http_json_error(rs, 400, "bad_parameter", "seq must be a positive number");
		return;
	}
	if (ev_ledger_get(rq->l, seq, one_cb, &e, &err) != EV_OK) {
		ev_http_json_ev_error(rs, &err);
		return;
	}
	if ((p = ev_http_arg(rq, "proof")) && strcmp(p, "1") == 0) {
		json_t *pr = inclusion_json(rq->l, seq, size, &err);
		if (!pr) {
			json_decref(e);
			ev_http_json_ev_error(rs, &err);
			return;
		}
		json_object_set_new(e, "proof", pr);
	}
	ev_http_json(rs, 200, e);
}

static int
kind_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > EV_KIND_MAX || k[0] == '.' || k[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '.' ||
			k[i] == '_' || k[i] == '-'))
			return 0;
	return 1;
}

void
ev_api_append(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field fields[] = {
		{ "kind", 'n', 1, NULL }, { "subject", 'n', 1, NULL }, { "body", 'j', 1, NULL },
		{ NULL, 0, 0, NULL },
	};
	struct ev_err err = { 0 };
	json_t *o = body_object(rq, rs, fields, 0);
	const char *kind;
	char *text;
	uint64_t seq = 0;

	if (!o)
		return;
	kind = ev_json_str(o, "kind");
	if (!kind_ok(kind)) {
		ev_http_json_error(rs, 400, "bad_value", "kind must be dotted lower-case");
		goto out;
	}
	/* Kinds with their own routes and rules may not be forged through the raw append. */
	if (strcmp(kind, "checkpoint") == 0 || strncmp(kind, "checkpoint.", 11) == 0 ||
	    strncmp(kind, "user.", 5) == 0 || strncmp(kind, "token.", 6) == 0 ||
	    strncmp(kind, "report.", 7) == 0) {
		ev_http_json_error(rs, 400, "reserved_kind", "kind %s is recorded by its own route",
		    kind);
		goto out;
	}
	if (strlen(ev_json_str(o, "subject")) > EV_SUBJECT_MAX) {
		ev_http_json_error(rs, 400, "bad_value", "subject too long");
		goto out;
	}
	text = ev_json_dump(json_object_get(o, "body"));
	{
		struct ev_entry_in in = { kind, ev_json_str(o, "subject"), rq->who.user, text, 0 };
		if (ev_ledger_append(rq->l, &in, 1, &seq, &err) != EV_OK)
			ev_http_json_ev_error(rs, &err);
		else
			ev_http_json(rs, 201, json_pack("{s:I}", "seq", (json_int_t)seq));
	}
	free(text);
out:
	json_decref(o);
}

static json_t *
verify_json(const struct ev_verify_cache *c)
{
	char t[EV_TIME_STRLEN];

	if (!c->run)
		return json_pack("{s:s}", "status", "never-run");
	ev_time_format(c->at_us, t);
	return json_pack("{s:s,s:s,s:I,s:I,s:f,s:s}", "status", c->ok ? "ok" : "failed", "at", t,
	    "entries", (json_int_t)c->entries, "checkpoints", (json_int_t)c->checkpoints, "seconds",
	    c->seconds, "message", c->message);
}

void
ev_api_verify_get(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_verify_cache c;

	ev_http_verify_get(rq->srv, &c);
	ev_http_json(rs, 200, verify_json(&c));
}

void
ev_api_verify_post(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field none[] = { { NULL, 0, 0, NULL } };
	struct ev_verify_cache c;
	json_t *o = body_object(rq, rs, none, 1);

	if (!o)
		return;
	json_decref(o);
	ev_http_verify_run(rq, &c);
	ev_http_json(rs, 200, verify_json(&c));
}

void
ev_api_checkpoints(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "limit", NULL };
	struct ev_query q = { 0 };
	struct ev_err err = { 0 };
	uint64_t lim;
	json_t *arr;

	if (check_args(rq, rs, allowed) || arg_u64(rq, rs, "limit", &lim))
		return;
	q.kind = "checkpoint";
	q.descending = 1;
	q.limit = lim == 0 ? 100 : lim > 1000 ? 1000 : (size_t)lim;
	arr = json_array();
	if (ev_ledger_scan(rq->l, &q, collect_cb, arr, &err) != EV_OK) {
		json_decref(arr);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_http_json(rs, 200, json_pack("{s:o}", "checkpoints", arr));
}

void
ev_api_checkpoint_post(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field none[] = { { NULL, 0, 0, NULL } };
	struct ev_checkpoint cp;
	struct ev_err err = { 0 };
	char root[65], t[EV_TIME_STRLEN], sig[89];
	json_t *o = body_object(rq, rs, none, 1);

	if (!o)
		return;
	json_decref(o);
	if (ev_ledger_checkpoint(rq->l, rq->who.user, &cp, &err) != EV_OK) {
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_hex_encode(cp.root, 32, root);
	ev_time_format(cp.time_us, t);
	ev_b64_encode(cp.sig, 64, sig);
	ev_http_json(rs, 201, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s}", "seq", (json_int_t)cp.seq,
				  "size", (json_int_t)cp.size, "root", root, "time", t, "key_id",
				  cp.key_id, "signature", sig));
}

void
ev_api_prove_inclusion(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "seq", "size", NULL };
	struct ev_err err = { 0 };
	uint64_t seq, size;
	json_t *p;

	if (check_args(rq, rs, allowed) || arg_u64(rq, rs, "seq", &seq) ||
	    arg_u64(rq, rs, "size", &size))
		return;
	if (seq == 0) {
		ev_http_json_error(rs, 400, "bad_parameter", "seq is required (a positive number)");
		return;
	}
	if (!(p = inclusion_json(rq->l, seq, size, &err)))
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 200, p);
}

void
ev_api_prove_consistency(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "size1", "size2", NULL };
	uint8_t r1[EV_HASH_LEN], r2[EV_HASH_LEN], proof[EV_MERKLE_MAX_PROOF][EV_HASH_LEN];
	struct ev_err err = { 0 };
	uint64_t s1, s2;
	size_t n = 0;
	char h1[65], h2[65];
	json_t *arr;

	if (check_args(rq, rs, allowed) || arg_u64(rq, rs, "size1", &s1) ||
	    arg_u64(rq, rs, "size2", &s2))
		return;
	if (s1 == 0 || (s2 == 0 && ev_ledger_size(rq->l, &s2, &err) != EV_OK)) {
		if (s1 == 0)
			ev_http_json_error(rs, 400, "bad_parameter", "size1 is required (positive)");
		else
			ev_http_json_ev_error(rs, &err);
		return;
	}
	if (ev_ledger_prove_consistency(rq->l, s1, s2, r1, r2, proof, &n, &err) != EV_OK) {
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_hex_encode(r1, EV_HASH_LEN, h1);
	ev_hex_encode(r2, EV_HASH_LEN, h2);
	arr = json_array();
	hex_list(arr, proof, n);
	ev_http_json(rs, 200, json_pack("{s:I,s:I,s:s,s:s,s:o}", "size1", (json_int_t)s1, "size2",
				  (json_int_t)s2, "root1", h1, "root2", h2, "hashes", arr));
}

/* ---- alerts ---- */

static json_t *
raw_json(const char *s)
{
	json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_null();
}

static json_t *
nstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int
alert_cb(const struct ev_alert *a, void *arg)
{
	char t[EV_TIME_STRLEN], ta[EV_TIME_STRLEN];
	json_t *o;

	ev_time_format(a->raised_us, t);
	o = json_pack("{s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "id", (json_int_t)a->id,
	    "raised", t, "rule", nstr(a->rule), "title", nstr(a->title), "severity",
	    nstr(a->severity), "source", nstr(a->source), "group", nstr(a->group), "why",
	    nstr(a->why), "tags", raw_json(a->tags), "log_seq", raw_json(a->log_seq), "open",
	    a->ack_seq == 0);
	if (a->followup_of)
		json_object_set_new(o, "followup_of", json_integer((json_int_t)a->followup_of));
	if (a->ack_seq) {
		ev_time_format(a->ack_us, ta);
		json_object_set_new(o, "acknowledged",
		    json_pack("{s:I,s:s,s:o,s:o,s:o}", "seq", (json_int_t)a->ack_seq, "at", ta, "by",
			nstr(a->ack_by), "disposition", nstr(a->disposition), "note", nstr(a->note)));
	}
	json_array_append_new(arg, o);
	return 0;
}

void
ev_api_alerts(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "open", NULL };
	struct ev_err err = { 0 };
	const char *op = ev_http_arg(rq, "open");
	json_t *arr;

	if (check_args(rq, rs, allowed))
		return;
	arr = json_array();
	if (ev_alerts_list(rq->l, op && strcmp(op, "1") == 0, alert_cb, arr, &err) != EV_OK) {
		json_decref(arr);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_http_json(rs, 200, json_pack("{s:o}", "alerts", arr));
}

void
ev_api_alert(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_err err = { 0 };
	uint64_t id;
	json_t *arr;

	if (param_u64(rq->params[0], &id) != 0) {
		ev_http_json_error(rs, 400, "bad_parameter", "alert id must be a number");
		return;
	}
	arr = json_array();
	if (ev_alerts_get(rq->l, id, alert_cb, arr, &err) != EV_OK) {
		json_decref(arr);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_http_json(rs, 200, json_incref(json_array_get(arr, 0)));
	json_decref(arr);
}

void
ev_api_alert_ack(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field fields[] = {
		{ "disposition", 'n', 1, dispositions }, { "note", 's', 1, NULL },
		{ NULL, 0, 0, NULL },
	};
	struct ev_err err = { 0 };
	uint64_t id, seq = 0;
	json_t *o;

	if (param_u64(rq->params[0], &id) != 0) {
		ev_http_json_error(rs, 400, "bad_parameter", "alert id must be a number");
		return;
	}
	if (!(o = body_object(rq, rs, fields, 0)))
		return;
	if (ev_alerts_ack(rq->l, id, rq->who.user, ev_json_str(o, "disposition"),
		ev_json_str(o, "note"), rq->who.user, &seq, &err) != EV_OK)
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 201, json_pack("{s:I,s:I}", "alert", (json_int_t)id, "seq",
					  (json_int_t)seq));
	json_decref(o);
}

/* ---- incidents ---- */

struct step {
	const char *name;
	const char *kind;
	int needs_profiles;
	struct field fields[8];
};

static const struct step steps[] = {
	{ "open", "incident.opened", 1,
	    { { "title", 's', 1, NULL }, { "alerts", 'i', 0, NULL }, { "reported_by", 'n', 0, NULL },
		{ "channel", 'n', 0, channels }, { "aware_at", 't', 0, NULL }, { NULL, 0, 0, NULL } } },
	{ "classify", "incident.classified", 1,
	    { { "severity", 'n', 1, severities }, { "category", 'n', 1, NULL },
		{ "significant", 'n', 1, triple }, { "reason", 's', 1, NULL }, { NULL, 0, 0, NULL } } },
	{ "assess", "incident.assessed", 1,
	    { { "answers", 'o', 1, NULL }, { "criteria", 'n', 0, NULL },
		{ "override", 'n', 0, yesno }, { "reason", 's', 0, NULL }, { NULL, 0, 0, NULL } } },
	{ "escalate", "incident.escalated", 0,
	    { { "to", 'n', 1, NULL }, { "reason", 's', 1, NULL }, { NULL, 0, 0, NULL } } },
	{ "assign", "incident.assigned", 0, { { "owner", 'n', 1, NULL }, { NULL, 0, 0, NULL } } },
	{ "act", "incident.action", 0,
	    { { "type", 'n', 1, action_types }, { "note", 's', 1, NULL }, { NULL, 0, 0, NULL } } },
	{ "continuity", "incident.continuity", 0,
	    { { "state", 'n', 1, continuity_states },
		{ "plan", 'n', 0, NULL }, { "note", 's', 1, NULL }, { NULL, 0, 0, NULL } } },
	{ "notify", "incident.notified", 1,
	    { { "to", 'n', 1, recipients }, { "clock", 'n', 1, NULL }, { "ref", 'n', 1, NULL },
		{ "note", 's', 1, NULL }, { "sent_at", 't', 0, NULL }, { NULL, 0, 0, NULL } } },
	{ "review", "incident.review", 0,
	    { { "root_cause", 's', 1, NULL }, { "actions", 'a', 1, NULL },
		{ "vulnerability_exposure", 's', 1, NULL }, { "no_remediation_basis", 's', 0, NULL },
		{ NULL, 0, 0, NULL } } },
	{ "approve", "incident.review_approved", 0, { { NULL, 0, 0, NULL } } },
	{ "close", "incident.closed", 0, { { "note", 's', 0, NULL }, { NULL, 0, 0, NULL } } },
};

static const struct step *
find_step(const char *name)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(steps[i].name, name) == 0)
			return &steps[i];
	return NULL;
}

/* Check a step's body (400 set on rs when bad); 0 when fine. */
static int
check_step(const struct step *s, json_t *body, struct ev_http_resp *rs)
{
	if (check_fields(body, s->fields, rs) != 0)
		return -1;
	if (strcmp(s->name, "continuity") == 0 &&
	    (strcmp(ev_json_str(body, "state"), "activated") == 0) !=
		(json_object_get(body, "plan") != NULL)) {
		ev_http_json_error(rs, 400, "bad_value", "a plan goes with state activated, only");
		return -1;
	}
	if (strcmp(s->name, "assess") == 0 &&
	    (json_object_get(body, "override") != NULL) != (json_object_get(body, "reason") != NULL)) {
		ev_http_json_error(rs, 400, "bad_value", "override and reason go together");
		return -1;
	}
	if (strcmp(s->name, "open") == 0 &&
	    (json_object_get(body, "reported_by") != NULL) != (json_object_get(body, "channel") != NULL)) {
		ev_http_json_error(rs, 400, "bad_value", "reported_by and channel go together");
		return -1;
	}
	return 0;
}

int
ev_api_check_body(const char *step, const char *text, size_t len, struct ev_http_resp *rs)
{
	const struct step *s = find_step(step);
	json_t *o;
	int rc;

	if (!s)
		return -1;
	if (!(o = parse_object(text, len, NULL, rs)))
		return -1;
	rc = check_step(s, o, rs);
	json_decref(o);
	return rc;
}

int
ev_api_incident_record(struct ev_http_req *rq, const char *step, const char *id, json_t *body,
    char id_out[32], uint64_t *seq, struct ev_err *err)
{
	const struct step *s = find_step(step);
	const struct ev_profiles *p = NULL;
	char newid[EV_INCIDENT_ID_MAX] = "";
	int rc;

	if (!s)
		return ev_errf(err, EV_ENOTFOUND, "no step %s", step);
	if (s->needs_profiles && !(p = ev_http_profiles(rq->srv, err)))
		return err->code ? err->code : EV_EIO;
	rc = ev_incident_record(rq->l, p, s->kind, id, rq->who.user, body, newid, seq, err);
	if (rc == EV_OK && id_out)
		snprintf(id_out, 32, "%s", s->kind[9] == 'o' ? newid : id);
	return rc;
}

/*
 * GET /api/incidents is what dashboards poll.  The list is a function of
 * the ledger alone (no clock state in it), so a response is cached under the
 * data directory, the ledger size and the query: between two commits every
 * poll is a lookup and a copy.  A few slots, least recently used replaced.
 */
#define INC_CACHE_SLOTS 8
#define INC_PAGE_DEFAULT 100
#define INC_PAGE_MAX 1000

static struct {
	char key[EV_HTTP_PATH_MAX + 128];
	uint64_t size;
	char *body;
	size_t len;
	uint64_t used;
} inc_cache[INC_CACHE_SLOTS];
static uint64_t inc_cache_clock;
static pthread_mutex_t inc_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static int
inc_cache_get(const char *key, uint64_t size, struct ev_http_resp *rs)
{
	int hit = 0;

	pthread_mutex_lock(&inc_cache_mu);
	for (size_t i = 0; i < INC_CACHE_SLOTS; i++) {
		if (inc_cache[i].body && inc_cache[i].size == size &&
		    strcmp(inc_cache[i].key, key) == 0) {
			ev_buf_reset(&rs->body);
			ev_buf_add(&rs->body, inc_cache[i].body, inc_cache[i].len);
			inc_cache[i].used = ++inc_cache_clock;
			hit = 1;
			break;
		}
	}
	pthread_mutex_unlock(&inc_cache_mu);
	if (hit) {
		rs->status = 200;
		rs->type = "application/json";
	}
	return hit;
}

static void
inc_cache_put(const char *key, uint64_t size, const struct ev_http_resp *rs)
{
	size_t victim = 0;

	pthread_mutex_lock(&inc_cache_mu);
	for (size_t i = 0; i < INC_CACHE_SLOTS; i++) {
		if (inc_cache[i].body == NULL || strcmp(inc_cache[i].key, key) == 0) {
			victim = i;
			break;
		}
		if (inc_cache[i].used < inc_cache[victim].used)
			victim = i;
	}
	free(inc_cache[victim].body);
	snprintf(inc_cache[victim].key, sizeof(inc_cache[victim].key), "%s", key);
	inc_cache[victim].size = size;
	inc_cache[victim].body = ev_xmalloc(rs->body.len ? rs->body.len : 1);
	memcpy(inc_cache[victim].body, rs->body.p, rs->body.len);
	inc_cache[victim].len = rs->body.len;
	inc_cache[victim].used = ++inc_cache_clock;
	pthread_mutex_unlock(&inc_cache_mu);
}

void
ev_api_incidents(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "open", "stage", "limit", "after", NULL };
	struct ev_err err = { 0 };
	const char *op = ev_http_arg(rq, "open"), *stage = ev_http_arg(rq, "stage");
	const char *after = ev_http_arg(rq, "after");
	char key[EV_HTTP_PATH_MAX + 128];
	json_t *out = NULL, *page, *x;
	uint64_t size = 0, limit = INC_PAGE_DEFAULT;
	size_t i, total, start = 0, end;

	if (check_args(rq, rs, allowed))
		return;
	if (stage && !ev_incident_stage_valid(stage)) {
		ev_http_json_error(rs, 400, "bad_parameter", "unknown stage");
		return;
	}
	if (arg_u64(rq, rs, "limit", &limit))
		return;
	if (ev_http_arg(rq, "limit") == NULL)
		limit = INC_PAGE_DEFAULT;
	if (limit == 0 || limit > INC_PAGE_MAX) {
		ev_http_json_error(rs, 400, "bad_parameter", "limit must be 1 to %d", INC_PAGE_MAX);
		return;
	}
	if (after && !ev_incident_id_valid(after)) {
		ev_http_json_error(rs, 400, "bad_parameter", "after must be an incident id");
		return;
	}
	if (ev_ledger_size(rq->l, &size, &err) != EV_OK) {
		ev_http_json_ev_error(rs, &err);
		return;
	}
	snprintf(key, sizeof(key), "%s|%d|%s|%llu|%s", ev_ledger_dir(rq->l),
	    op && strcmp(op, "1") == 0, stage ? stage : "", (unsigned long long)limit,
	    after ? after : "");
	if (inc_cache_get(key, size, rs))
		return;
	if (ev_incident_list(rq->l, op && strcmp(op, "1") == 0, stage, &out, &err) != EV_OK) {
		ev_http_json_ev_error(rs, &err);
		return;
	}
	total = json_array_size(out);
	if (after) {
		/* ids sort as text (inc-YYYY-NNNN); the page starts past the cursor */
		json_array_foreach(out, i, x) {
			const char *id = json_string_value(json_object_get(x, "id"));
			if (id && strcmp(id, after) > 0)
				break;
		}
		start = i;
	}
	end = start + limit < total ? start + (size_t)limit : total;
	page = json_array();
	for (i = start; i < end; i++)
		json_array_append(page, json_array_get(out, i));
	x = end < total ? json_object_get(json_array_get(out, end - 1), "id") : NULL;
	ev_http_json(rs, 200, json_pack("{s:o,s:O,s:I}", "incidents", page, "next",
				  x ? x : json_null(), "total", (json_int_t)total));
	json_decref(out);
	inc_cache_put(key, size, rs);
}

void
ev_api_incident(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_err err = { 0 };
	json_t *out = NULL;

	if (!ev_incident_id_valid(rq->params[0])) {
		ev_http_json_error(rs, 400, "bad_parameter", "not an incident id (inc-YYYY-NNNN)");
		return;
	}
	if (ev_incident_show(rq->l, rq->params[0], ev_time_now_us(), &out, &err) != EV_OK)
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 200, out);
}

static void
step_common(struct ev_http_req *rq, struct ev_http_resp *rs, const char *step, const char *id)
{
	const struct step *s = find_step(step);
	struct ev_err err = { 0 };
	char newid[32];
	uint64_t seq = 0;
	json_t *o;

	if (!s) {
		ev_http_json_error(rs, 404, "not_found", "no such step");
		return;
	}
	/* Parse with no field list, then check against the step's own. */
	if (!(o = body_object(rq, rs, NULL, s->fields[0].name == NULL)))
		return;
	if (check_step(s, o, rs) != 0) {
		json_decref(o);
		return;
	}
	if (ev_api_incident_record(rq, step, id, o, newid, &seq, &err) != EV_OK)
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 201, json_pack("{s:s,s:I}", "incident", newid, "seq",
					  (json_int_t)seq));
	json_decref(o);
}

void
ev_api_incident_open(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	step_common(rq, rs, "open", NULL);
}

void
ev_api_incident_step(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	if (!ev_incident_id_valid(rq->params[0])) {
		ev_http_json_error(rs, 400, "bad_parameter", "not an incident id (inc-YYYY-NNNN)");
		return;
	}
	/* The step is the last path segment; the route table checked the role for it. */
	step_common(rq, rs, strrchr(rq->url, '/') + 1, rq->params[0]);
}

/* ---- clocks, sources, users ---- */

void
ev_api_clocks(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "all", NULL };
	struct ev_err err = { 0 };
	const char *all = ev_http_arg(rq, "all");
	json_t *out = NULL;

	if (check_args(rq, rs, allowed))
		return;
	if (ev_clocks_list(rq->l, ev_time_now_us(), 0, all && strcmp(all, "1") == 0, &out, &err) !=
	    EV_OK)
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 200, json_pack("{s:o}", "clocks", out));
}

static int
source_cb(const struct ev_source_info *s, void *arg)
{
	char t[EV_TIME_STRLEN] = "";
	json_t *cats = json_array();

	for (size_t i = 0; i < s->ncategories; i++)
		json_array_append_new(cats, json_string(s->categories[i]));
	if (s->last_seen_us)
		ev_time_format(s->last_seen_us, t);
	json_array_append_new(arg,
	    json_pack("{s:s,s:o,s:o,s:b,s:I,s:o}", "name", s->name, "description",
		nstr(s->description), "categories", cats, "auto", s->auto_registered, "lines",
		(json_int_t)s->lines, "last_seen", t[0] ? json_string(t) : json_null()));
	return 0;
}

void
ev_api_sources(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_err err = { 0 };
	json_t *arr = json_array();

	if (ev_sources_list(rq->l, source_cb, arr, &err) != EV_OK) {
		json_decref(arr);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_http_json(rs, 200, json_pack("{s:o}", "sources", arr));
}

void
ev_api_source_register(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field fields[] = {
		{ "name", 'n', 1, NULL }, { "categories", 'a', 1, NULL },
		{ "description", 's', 0, NULL }, { NULL, 0, 0, NULL },
	};
	const char *cats[100];
	struct ev_err err = { 0 };
	uint64_t seq = 0;
	size_t i, n = 0;
	json_t *o, *c;

	if (!(o = body_object(rq, rs, fields, 0)))
		return;
	if (!ev_source_name_ok(ev_json_str(o, "name"))) {
		ev_http_json_error(rs, 400, "bad_value", "a source name is 1 to 64 of [A-Za-z0-9._:@/-]");
		goto out;
	}
	json_array_foreach(json_object_get(o, "categories"), i, c) {
		if (!ev_source_category_ok(json_string_value(c))) {
			ev_http_json_error(rs, 400, "bad_value", "unknown log category '%s'",
			    json_string_value(c));
			goto out;
		}
		cats[n++] = json_string_value(c);
	}
	if (ev_sources_register(rq->l, ev_json_str(o, "name"), cats, n,
		ev_json_str(o, "description") ? ev_json_str(o, "description") : "", rq->who.user, &seq,
		&err) != EV_OK)
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 201, json_pack("{s:s,s:I}", "source", ev_json_str(o, "name"), "seq",
					  (json_int_t)seq));
out:
	json_decref(o);
}

static void
rule_warn(const char *msg, void *arg)
{
	if (json_array_size(arg) < 200)
		json_array_append_new(arg, json_string(msg));
}

void
ev_api_rules(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_rules *r = NULL;
	struct ev_err err = { 0 };
	json_t *problems = json_array();
	char path[EV_HTTP_PATH_MAX] = "";
	int rc;

	rc = ev_ingest_rules_load(NULL, 0, rule_warn, problems, &r, &err);
	if (ev_ingest_default_rules(path, sizeof(path)) != 0)
		path[0] = '\0';
	if (rc != EV_OK && rc != EV_EINVAL) {
		json_decref(problems);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_http_json(rs, 200, json_pack("{s:o,s:I,s:o}", "path", path[0] ? json_string(path) : json_null(),
				  "rules", (json_int_t)(r ? ev_rules_count(r) : 0), "problems", problems));
	ev_rules_free(r);
}

static void
user_cb(const char *name, const char *role, int one_time, int64_t created_us, void *arg)
{
	char t[EV_TIME_STRLEN];

	ev_time_format(created_us, t);
	json_array_append_new(arg, json_pack("{s:s,s:s,s:b,s:s}", "name", name, "role", role,
				       "one_time_password", one_time, "created", t));
}

void
ev_api_users(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_err err = { 0 };
	json_t *arr = json_array();

	if (ev_user_list(rq->l, user_cb, arr, &err) != EV_OK) {
		json_decref(arr);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_http_json(rs, 200, json_pack("{s:o}", "users", arr));
}

void
ev_api_user_add(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field fields[] = {
		{ "name", 'n', 1, NULL }, { "role", 'n', 1, NULL }, { NULL, 0, 0, NULL },
	};
	struct ev_err err = { 0 };
	char pw[EV_ONETIME_PW_LEN + 1] = "";
	json_t *o = body_object(rq, rs, fields, 0);

	if (!o)
		return;
	if (ev_user_add(rq->l, ev_json_str(o, "name"), ev_json_str(o, "role"), rq->who.user, pw,
		&err) != EV_OK)
		ev_http_json_ev_error(rs, &err);
	else /* the one place this password is shown: the response to the admin who asked */
		ev_http_json(rs, 201, json_pack("{s:s,s:s,s:s}", "user", ev_json_str(o, "name"), "role",
					  ev_json_str(o, "role"), "one_time_password", pw));
	OPENSSL_cleanse(pw, sizeof(pw));
	json_decref(o);
}

void
ev_api_user_role(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field fields[] = { { "role", 'n', 1, NULL }, { NULL, 0, 0, NULL } };
	struct ev_err err = { 0 };
	json_t *o = body_object(rq, rs, fields, 0);

	if (!o)
		return;
	if (ev_user_set_role(rq->l, rq->params[0], ev_json_str(o, "role"), rq->who.user, &err) !=
	    EV_OK)
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 201, json_pack("{s:s,s:s}", "user", rq->params[0], "role",
					  ev_json_str(o, "role")));
	json_decref(o);
}

void
ev_api_token_create(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field fields[] = { { "user", 'n', 1, NULL }, { NULL, 0, 0, NULL } };
	struct ev_err err = { 0 };
	char tok[EV_TOKEN_LEN + 1] = "", id[EV_TOKEN_ID_LEN + 1] = "";
	json_t *o = body_object(rq, rs, fields, 0);

	if (!o)
		return;
	if (ev_token_create(rq->l, ev_json_str(o, "user"), rq->who.user, tok, id, &err) != EV_OK)
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 201, json_pack("{s:s,s:s,s:s}", "id", id, "user", ev_json_str(o, "user"),
					  "token", tok));
	OPENSSL_cleanse(tok, sizeof(tok));
	json_decref(o);
}

void
ev_api_token_revoke(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const struct field none[] = { { NULL, 0, 0, NULL } };
	struct ev_err err = { 0 };
	json_t *o = body_object(rq, rs, none, 1);

	if (!o)
		return;
	json_decref(o);
	if (strlen(rq->params[0]) != EV_TOKEN_ID_LEN) {
		ev_http_json_error(rs, 400, "bad_parameter", "a token id is %d hex characters",
		    EV_TOKEN_ID_LEN);
		return;
	}
	if (ev_token_revoke(rq->l, rq->params[0], rq->who.user, &err) != EV_OK)
		ev_http_json_ev_error(rs, &err);
	else
		ev_http_json(rs, 201, json_pack("{s:s,s:b}", "id", rq->params[0], "revoked", 1));
}

static void
token_cb(const char *id, const char *user, int64_t created_us, int revoked, void *arg)
{
	char t[EV_TIME_STRLEN];

	ev_time_format(created_us, t);
	json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:b}", "id", id, "user", user, "created",
				       t, "revoked", revoked));
}

void
ev_api_tokens(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct ev_err err = { 0 };
	json_t *arr = json_array();

	if (ev_token_list(rq->l, token_cb, arr, &err) != EV_OK) {
		json_decref(arr);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	ev_http_json(rs, 200, json_pack("{s:o}", "tokens", arr));
}

/* ---- metrics ---- */

struct counts {
	uint64_t alerts, open_alerts, lines;
};

static int
count_alert(const struct ev_alert *a, void *arg)
{
	struct counts *c = arg;
	c->alerts++;
	c->open_alerts += a->ack_seq == 0;
	return 0;
}

static int
count_source(const struct ev_source_info *s, void *arg)
{
	((struct counts *)arg)->lines += s->lines;
	return 0;
}

void
ev_api_metrics(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	struct counts c = { 0 };
	struct ev_err err = { 0 };
	struct ev_checkpoint cp = { 0 };
	struct ev_verify_cache vc;
	uint64_t size = 0;
	size_t open_inc = 0, overdue = 0, due_soon = 0, i;
	json_t *inc = NULL, *clocks = NULL, *x;
	int64_t now = ev_time_now_us();
	int have_cp;
	struct ev_buf *b = &rs->body;

	if (ev_ledger_size(rq->l, &size, &err) != EV_OK ||
	    ev_alerts_list(rq->l, 0, count_alert, &c, &err) != EV_OK ||
	    ev_sources_list(rq->l, count_source, &c, &err) != EV_OK ||
	    ev_incident_list(rq->l, 1, NULL, &inc, &err) != EV_OK ||
	    ev_clocks_list(rq->l, now, 0, 0, &clocks, &err) != EV_OK) {
		json_decref(inc);
		ev_http_json_ev_error(rs, &err);
		return;
	}
	open_inc = json_array_size(inc);
	json_array_foreach(clocks, i, x) {
		const char *st = ev_json_str(x, "state");
		overdue += st && strcmp(st, "overdue") == 0;
		due_soon += st && strcmp(st, "due-soon") == 0;
	}
	json_decref(inc);
	json_decref(clocks);
	have_cp = ev_ledger_latest_checkpoint(rq->l, &cp, NULL) == EV_OK;
	ev_http_verify_get(rq->srv, &vc);
	rs->status = 200;
	rs->type = "text/plain; version=0.0.4; charset=utf-8";
	ev_buf_adds(b, "# HELP evident_ledger_entries Entries in the ledger (tree size).\n"
		       "# TYPE evident_ledger_entries gauge\n");
	ev_buf_addf(b, "evident_ledger_entries %" PRIu64 "\n", size);
	ev_buf_adds(b, "# HELP evident_log_lines_total Log lines recorded, over every source.\n"
		       "# TYPE evident_log_lines_total counter\n");
	ev_buf_addf(b, "evident_log_lines_total %" PRIu64 "\n", c.lines);
	ev_buf_adds(b, "# HELP evident_alerts_total Alerts raised.\n# TYPE evident_alerts_total counter\n");
	ev_buf_addf(b, "evident_alerts_total %" PRIu64 "\n", c.alerts);
	ev_buf_adds(b, "# HELP evident_alerts_open Alerts not yet acknowledged.\n"
		       "# TYPE evident_alerts_open gauge\n");
	ev_buf_addf(b, "evident_alerts_open %" PRIu64 "\n", c.open_alerts);
	ev_buf_adds(b, "# HELP evident_incidents_open Incidents not closed.\n"
		       "# TYPE evident_incidents_open gauge\n");
	ev_buf_addf(b, "evident_incidents_open %zu\n", open_inc);
	ev_buf_adds(b, "# HELP evident_clocks_overdue Regulatory clocks past their deadline.\n"
		       "# TYPE evident_clocks_overdue gauge\n");
	ev_buf_addf(b, "evident_clocks_overdue %zu\n", overdue);
	ev_buf_adds(b, "# HELP evident_clocks_due_soon Regulatory clocks near their deadline.\n"
		       "# TYPE evident_clocks_due_soon gauge\n");
	ev_buf_addf(b, "evident_clocks_due_soon %zu\n", due_soon);
	if (have_cp) {
		ev_buf_adds(b, "# HELP evident_checkpoint_age_seconds Seconds since the last checkpoint.\n"
			       "# TYPE evident_checkpoint_age_seconds gauge\n");
		ev_buf_addf(b, "evident_checkpoint_age_seconds %.0f\n",
		    (double)(now - cp.time_us) / 1e6);
		ev_buf_adds(b, "# HELP evident_checkpoint_size Entries covered by the last checkpoint.\n"
			       "# TYPE evident_checkpoint_size gauge\n");
		ev_buf_addf(b, "evident_checkpoint_size %" PRIu64 "\n", cp.size);
	}
	ev_buf_adds(b, "# HELP evident_verify_ok 1 when the last verification passed, 0 when it "
		       "failed, -1 when none ran.\n# TYPE evident_verify_ok gauge\n");
	ev_buf_addf(b, "evident_verify_ok %d\n", vc.run ? vc.ok : -1);
}

/*
 * The requirement index, as `evident compliance --json` gives it.  The
 * catalogue and mapping are read per request: they are small, and a TSP who
 * edits controls.yaml sees the change without restarting the daemon.
 */
json_t *
ev_http_compliance_index(struct ev_http_req *rq, struct ev_err *err)
{
	struct ev_compliance *c = NULL;
	char dir[EV_HTTP_PATH_MAX];
	json_t *out = NULL;

	if (ev_compliance_load(ev_compliance_default_dir(NULL, dir, sizeof(dir)), NULL, &c, err) !=
	    EV_OK)
		return NULL;
	if (ev_compliance_index(rq->l, c, ev_time_now_us(), &out, err) != EV_OK)
		out = NULL;
	ev_compliance_free(c);
	return out;
}

/* Keep only the requirements of clause (and its sub-clauses: 7.9 keeps 7.9.3). */
static void
filter_clause(json_t *index, const char *clause)
{
	json_t *reqs = json_object_get(index, "requirements"), *keep = json_array(), *r;
	size_t i, n = strlen(clause);

	json_array_foreach(reqs, i, r) {
		const char *c = json_string_value(json_object_get(r, "clause"));
		if (c && strncmp(c, clause, n) == 0 && (c[n] == '\0' || c[n] == '.'))
			json_array_append(keep, r);
	}
	json_object_set_new(index, "requirements", keep);
}

void
ev_api_compliance(struct ev_http_req *rq, struct ev_http_resp *rs)
{
	static const char *const allowed[] = { "clause", NULL };
	struct ev_err err = { 0 };
	const char *clause = ev_http_arg(rq, "clause");
	json_t *out;

	if (check_args(rq, rs, allowed))
		return;
	if ((out = ev_http_compliance_index(rq, &err)) == NULL) {
		ev_http_json_ev_error(rs, &err);
		return;
	}
	if (clause)
		filter_clause(out, clause);
	ev_http_json(rs, 200, out);
}
