/*
 * check.c - the shape of every incident.* entry body, checked in one place.
 *
 * ev_incident_record checks what a caller (CLI, HTTP API) hands in before it
 * adds anything (stored = 0: the fields evident computes itself, such as the
 * clock starts or the derived significance, are refused, so a caller cannot
 * forge them); the projector checks every stored body again (stored = 1) so
 * that a raw `evident append` cannot put a severity "severe" or a malformed
 * time into the projection.  Unknown keys are refused either way.
 */
#include <string.h>

#include "incident/internal.h"
#include "util/json.h"
#include "util/timeutil.h"

struct field {
	const char *key;
	char type;     /* 't' text, 'n' name (short text), 'T' time, 'e' enum, 'o' object,
			  'a' array of positive integers, 's' array of texts, 'x' computed */
	int required;
	const char *const *values; /* for 'e' */
};

static const char *const severities[] = { "low", "medium", "high", "critical", NULL };
static const char *const triple[] = { "yes", "no", "undetermined", NULL };
static const char *const yesno[] = { "yes", "no", NULL };
static const char *const channels[] = { "staff", "contractor", "customer", "monitoring", NULL };
static const char *const action_types[] = { "containment", "eradication", "recovery",
	"communication", "decision", NULL };
static const char *const recipients[] = { "supervisory-body", "csirt", "affected-persons",
	"customers", "other", NULL };
static const char *const cstates[] = { "activated", "restored", NULL };

#define END { NULL, 0, 0, NULL }
#define CLOCKS { "clocks", 'x', 0, NULL }

static const struct field f_opened[] = { { "title", 't', 1, NULL }, { "alerts", 'a', 0, NULL },
	{ "aware_at", 'T', 0, NULL }, { "reported_by", 'n', 0, NULL },
	{ "channel", 'e', 0, channels }, CLOCKS, END };
static const struct field f_classified[] = { { "severity", 'e', 1, severities },
	{ "category", 'n', 1, NULL }, { "significant", 'e', 1, triple }, { "reason", 't', 1, NULL },
	CLOCKS, END };
static const struct field f_assessed[] = { { "answers", 'o', 1, NULL }, { "criteria", 'n', 0, NULL },
	{ "override", 'e', 0, yesno }, { "reason", 't', 0, NULL }, { "version", 'x', 0, NULL },
	{ "met", 'x', 0, NULL }, { "missing", 'x', 0, NULL }, { "derived", 'x', 0, NULL },
	{ "significant", 'x', 0, NULL }, CLOCKS, END };
static const struct field f_escalated[] = { { "to", 'n', 1, NULL }, { "reason", 't', 1, NULL },
	END };
static const struct field f_assigned[] = { { "owner", 'n', 1, NULL }, END };
static const struct field f_action[] = { { "type", 'e', 1, action_types },
	{ "note", 't', 1, NULL }, { "evidence", 'o', 0, NULL }, END };
static const struct field f_continuity[] = { { "state", 'e', 1, cstates },
	{ "plan", 'n', 0, NULL }, { "note", 't', 1, NULL }, END };
static const struct field f_notified[] = { { "to", 'e', 1, recipients }, { "clock", 'n', 1, NULL },
	{ "ref", 'n', 1, NULL }, { "note", 't', 1, NULL }, { "sent_at", 'T', 0, NULL }, CLOCKS, END };
static const struct field f_review[] = { { "root_cause", 't', 1, NULL }, { "actions", 's', 1, NULL },
	{ "vulnerability_exposure", 't', 1, NULL }, { "no_remediation_basis", 't', 0, NULL }, END };
static const struct field f_none[] = { END };
static const struct field f_closed[] = { { "note", 't', 0, NULL }, END };

static const struct {
	const char *kind;
	const struct field *fields;
} kinds[] = {
	{ "incident.opened", f_opened },
	{ "incident.classified", f_classified },
	{ "incident.assessed", f_assessed },
	{ "incident.escalated", f_escalated },
	{ "incident.assigned", f_assigned },
	{ "incident.action", f_action },
	{ "incident.continuity", f_continuity },
	{ "incident.notified", f_notified },
	{ "incident.review", f_review },
	{ "incident.review_approved", f_none },
	{ "incident.closed", f_closed },
};

static int
text_ok(const json_t *v, size_t max)
{
	size_t n = json_string_length(v);

	return json_is_string(v) && n > 0 && n <= max && memchr(json_string_value(v), 0, n) == NULL;
}

static int
check_field(const char *kind, const struct field *f, const json_t *v, int stored,
    struct ev_err *err)
{
	int64_t t;
	size_t i;
	const json_t *x;

	switch (f->type) {
	case 't':
		if (!text_ok(v, EV_TEXT_MAX))
			return ev_errf(err, EV_EINVAL, "%s: \"%s\" must be text of 1 to %d bytes", kind,
			    f->key, EV_TEXT_MAX);
		return EV_OK;
	case 'n':
		if (!text_ok(v, EV_ACTOR_MAX))
			return ev_errf(err, EV_EINVAL, "%s: \"%s\" must be text of 1 to %d bytes", kind,
			    f->key, EV_ACTOR_MAX);
		return EV_OK;
	case 'T':
		if (!json_is_string(v) || ev_time_parse(json_string_value(v), &t) != 0)
			return ev_errf(err, EV_EINVAL, "%s: \"%s\" is not a time (RFC 3339)", kind,
			    f->key);
		return EV_OK;
	case 'e': {
		char list[256] = "";
		for (i = 0; f->values[i]; i++) {
			if (json_is_string(v) && strcmp(json_string_value(v), f->values[i]) == 0)
				return EV_OK;
			strncat(list, i ? "|" : "", sizeof(list) - strlen(list) - 1);
			strncat(list, f->values[i], sizeof(list) - strlen(list) - 1);
		}
		return ev_errf(err, EV_EINVAL, "%s: \"%s\" must be one of %s", kind, f->key, list);
	}
	case 'o':
		if (!json_is_object(v))
			return ev_errf(err, EV_EINVAL, "%s: \"%s\" must be an object", kind, f->key);
		return EV_OK;
	case 'a':
		if (!json_is_array(v) || json_array_size(v) > 1000)
			return ev_errf(err, EV_EINVAL, "%s: \"%s\" must be a list of entry seqs", kind,
			    f->key);
		for (i = 0; i < json_array_size(v); i++) {
			x = json_array_get(v, i);
			if (!json_is_integer(x) || json_integer_value(x) <= 0)
				return ev_errf(err, EV_EINVAL, "%s: \"%s\" must be a list of entry seqs",
				    kind, f->key);
		}
		return EV_OK;
	case 's':
		if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 100)
			return ev_errf(err, EV_EINVAL, "%s: \"%s\" must be a list of 1 to 100 texts",
			    kind, f->key);
		for (i = 0; i < json_array_size(v); i++)
			if (!text_ok(json_array_get(v, i), EV_TEXT_MAX))
				return ev_errf(err, EV_EINVAL, "%s: \"%s\" must be a list of texts", kind,
				    f->key);
		return EV_OK;
	default: /* 'x': computed by evident */
		if (!stored)
			return ev_errf(err, EV_EINVAL, "%s: \"%s\" is computed by evident, not given",
			    kind, f->key);
		return EV_OK;
	}
}

int
ev_inc_check_body(const char *kind, const json_t *body, int stored, struct ev_err *err)
{
	const struct field *fields = NULL;
	const char *key;
	const json_t *v;
	int rc;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].kind) == 0)
			fields = kinds[i].fields;
	if (fields == NULL)
		return ev_errf(err, EV_EINVAL, "unknown incident entry kind %s", kind);
	if (!json_is_object(body))
		return ev_errf(err, EV_EINVAL, "%s: the body must be an object", kind);
	json_object_foreach((json_t *)body, key, v) {
		const struct field *f = NULL;
		for (size_t i = 0; fields[i].key; i++)
			if (strcmp(fields[i].key, key) == 0)
				f = &fields[i];
		if (f == NULL)
			return ev_errf(err, EV_EINVAL, "%s: unknown field \"%s\"", kind, key);
		if ((rc = check_field(kind, f, v, stored, err)) != EV_OK)
			return rc;
	}
	for (size_t i = 0; fields[i].key; i++)
		if (fields[i].required && json_object_get(body, fields[i].key) == NULL)
			return ev_errf(err, EV_EINVAL, "%s: needs \"%s\"", kind, fields[i].key);
	/* Pairs that go together. */
	if (strcmp(kind, "incident.opened") == 0 &&
	    (json_object_get(body, "reported_by") == NULL) != (json_object_get(body, "channel") == NULL))
		return ev_errf(err, EV_EINVAL, "%s: reported_by and channel go together", kind);
	if (strcmp(kind, "incident.assessed") == 0 &&
	    (json_object_get(body, "override") == NULL) != (json_object_get(body, "reason") == NULL))
		return ev_errf(err, EV_EINVAL, "%s: override and reason go together", kind);
	if (strcmp(kind, "incident.continuity") == 0 &&
	    (json_object_get(body, "plan") != NULL) !=
		(strcmp(ev_json_str(body, "state"), "activated") == 0))
		return ev_errf(err, EV_EINVAL, "%s: a plan goes with state activated, only", kind);
	if (strcmp(kind, "incident.action") == 0 && (v = json_object_get(body, "evidence")) != NULL) {
		const char *sha = ev_json_str(v, "sha256");
		if (sha == NULL || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64 ||
		    !text_ok(json_object_get(v, "name"), 255) ||
		    !json_is_integer(json_object_get(v, "size")) || json_object_size(v) != 3)
			return ev_errf(err, EV_EINVAL,
			    "%s: evidence must be {sha256 (hex), name, size}", kind);
	}
	return EV_OK;
}
