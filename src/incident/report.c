/*
 * report.c - report drafts pre-filled from what is recorded about an
 * incident: NIS2 Art. 23(4) early warning, incident notification and final
 * report, and the EN 319 401 7.9.3 / eIDAS notice of a significant breach.
 *
 * A draft is a starting point for a person, never sent by evident: every
 * field either quotes a record (and says which) or reads "MISSING: ..." so
 * that the gap is visible before anything leaves the TSP.
 */
#include <stdlib.h>
#include <string.h>

#include "incident/internal.h"
#include "util/json.h"
#include "util/timeutil.h"

struct form {
	const char *name;
	const char *title;
	const char *clock;
};

static const struct form forms[] = {
	{ "nis2-early-warning", "NIS2 early warning (Directive (EU) 2022/2555 Art. 23(4)(a))",
	    "nis2-early-warning" },
	{ "nis2-notification", "NIS2 incident notification (Directive (EU) 2022/2555 Art. 23(4)(b))",
	    "nis2-notification" },
	{ "nis2-final", "NIS2 final report (Directive (EU) 2022/2555 Art. 23(4)(d))",
	    "nis2-final-report" },
	{ "en319401-notice",
	    "Notice of a breach with significant impact (ETSI EN 319 401 7.9.3, eIDAS Art. 19)",
	    "en319401-notice" },
};

/* The latest assessment's answer for key, or NULL. */
static const char *
answer(const json_t *inc, const char *key)
{
	const json_t *as = json_object_get(inc, "assessments");
	size_t n = json_array_size(as);

	for (size_t i = n; i > 0; i--) {
		const char *v = ev_json_str(json_object_get(json_array_get(as, i - 1), "answers"), key);
		if (v)
			return v;
	}
	return NULL;
}

static const json_t *
last(const json_t *inc, const char *key)
{
	const json_t *a = json_object_get(inc, key);

	return json_array_size(a) ? json_array_get(a, json_array_size(a) - 1) : NULL;
}

static const char *
notice_ref(const json_t *inc, const char *clock)
{
	const json_t *ns = json_object_get(inc, "notices"), *n;
	size_t i;
	const char *ref = NULL;

	json_array_foreach(ns, i, n)
		if (strcmp(ev_json_str(n, "clock"), clock) == 0)
			ref = ev_json_str(n, "ref");
	return ref;
}

static void
field(json_t *fields, json_t *missing, const char *name, const char *label, const char *value)
{
	json_t *f = json_object();

	json_object_set_new(f, "name", json_string(name));
	json_object_set_new(f, "label", json_string(label));
	json_object_set_new(f, "value", value && *value ? json_string(value) : json_null());
	json_array_append_new(fields, f);
	if (!(value && *value))
		json_array_append_new(missing, json_string(label));
}

static char *
actions_text(const json_t *inc)
{
	struct ev_buf b = EV_BUF_INIT;
	const json_t *a;
	size_t i;

	json_array_foreach(json_object_get(inc, "actions"), i, a)
		ev_buf_addf(&b, "%s%s (%s, %s): %s", b.len ? "; " : "", ev_json_str(a, "time"),
		    ev_json_str(a, "type"), ev_json_str(a, "actor"), ev_json_str(a, "note"));
	return b.len ? ev_buf_detach(&b) : (ev_buf_free(&b), NULL);
}

static char *
review_actions(const json_t *inc)
{
	const json_t *r = last(inc, "reviews"), *a;
	struct ev_buf b = EV_BUF_INIT;
	size_t i;

	if (r == NULL)
		return NULL;
	json_array_foreach(json_object_get(r, "actions"), i, a)
		ev_buf_addf(&b, "%s%s", b.len ? "; " : "", json_string_value(a) ? json_string_value(a) : "");
	return b.len ? ev_buf_detach(&b) : (ev_buf_free(&b), NULL);
}

static char *
yesno_text(const char *v, const char *yes, const char *no)
{
	if (v == NULL)
		return NULL;
	return ev_xstrdup(strcmp(v, "yes") == 0 ? yes : strcmp(v, "no") == 0 ? no : v);
}

static void
fill(const struct form *f, const json_t *inc, json_t *fields, json_t *missing)
{
	const json_t *cl = last(inc, "classifications"), *rv = last(inc, "reviews");
	const char *sig = ev_json_str(inc, "significant");
	char *acts = actions_text(inc), *ra = review_actions(inc), *mal, *xb;
	struct ev_buf b = EV_BUF_INIT;

	field(fields, missing, "incident", "Incident reference", ev_json_str(inc, "id"));
	field(fields, missing, "title", "Short description", ev_json_str(inc, "title"));
	field(fields, missing, "aware_at", "Became aware (UTC)", ev_json_str(inc, "aware_at"));
	field(fields, missing, "significant", "Significant incident",
	    sig && strcmp(sig, "undetermined") != 0 ? sig : NULL);
	mal = yesno_text(answer(inc, "suspected_malicious"), "suspected", "not suspected");
	xb = yesno_text(answer(inc, "cross_border_impact"), "possible", "not expected");
	if (strcmp(f->name, "nis2-early-warning") == 0) {
		field(fields, missing, "malicious", "Suspected unlawful or malicious act", mal);
		field(fields, missing, "cross_border", "Possible cross-border impact", xb);
	} else if (strcmp(f->name, "nis2-notification") == 0) {
		field(fields, missing, "early_warning", "Early warning reference",
		    notice_ref(inc, "nis2-early-warning"));
		field(fields, missing, "severity", "Severity", ev_json_str(inc, "severity"));
		field(fields, missing, "impact", "Initial assessment of severity and impact",
		    cl ? ev_json_str(cl, "reason") : NULL);
		field(fields, missing, "ioc", "Indicators of compromise",
		    answer(inc, "indicators_of_compromise"));
		field(fields, missing, "malicious", "Suspected unlawful or malicious act", mal);
		field(fields, missing, "cross_border", "Possible cross-border impact", xb);
	} else if (strcmp(f->name, "nis2-final") == 0) {
		field(fields, missing, "notification", "Incident notification reference",
		    notice_ref(inc, "nis2-notification"));
		if (ev_json_str(inc, "severity") && cl)
			ev_buf_addf(&b, "severity %s; %s", ev_json_str(inc, "severity"),
			    ev_json_str(cl, "reason"));
		field(fields, missing, "severity_impact", "Severity and impact", b.p);
		field(fields, missing, "root_cause", "Type of threat or root cause",
		    rv ? ev_json_str(rv, "root_cause") : NULL);
		field(fields, missing, "mitigation", "Mitigation measures applied and ongoing", acts);
		field(fields, missing, "corrective", "Corrective actions", ra);
		field(fields, missing, "cross_border", "Cross-border impact", xb);
	} else {
		field(fields, missing, "services", "Trust services affected",
		    answer(inc, "services_affected"));
		field(fields, missing, "category", "Nature of the breach (category)",
		    ev_json_str(inc, "category"));
		field(fields, missing, "impact", "Significant-impact assessment",
		    cl ? ev_json_str(cl, "reason") : NULL);
		field(fields, missing, "measures", "Measures taken", acts);
		field(fields, missing, "affected_persons", "Affected persons informed (reference)",
		    notice_ref(inc, "affected-persons"));
	}
	field(fields, missing, "contact", "Contact (incident owner)", ev_json_str(inc, "owner"));
	free(acts);
	free(ra);
	free(mal);
	free(xb);
	ev_buf_free(&b);
}

int
ev_incident_report(struct ev_ledger *l, const char *id, const char *form, int as_json,
    struct ev_buf *out, struct ev_err *err)
{
	const struct form *f = NULL;
	json_t *inc = NULL, *doc, *fields, *missing, *clock = json_null(), *c, *v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (form && strcmp(form, forms[i].name) == 0)
			f = &forms[i];
	if (f == NULL)
		return ev_errf(err, EV_EINVAL,
		    "--form must be nis2-early-warning, nis2-notification, nis2-final or "
		    "en319401-notice");
	if ((rc = ev_incident_show(l, id, ev_time_now_us(), &inc, err)) != EV_OK)
		return rc;
	json_array_foreach(json_object_get(inc, "clocks"), i, c)
		if (strcmp(ev_json_str(c, "clock"), f->clock) == 0)
			clock = json_pack("{s:s,s:s,s:s}", "clock", f->clock, "due",
			    ev_json_str(c, "due"), "state", ev_json_str(c, "state"));
	fields = json_array();
	missing = json_array();
	fill(f, inc, fields, missing);
	if (as_json) {
		char *s;
		doc = json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:o}", "form", f->name, "title", f->title,
		    "incident", id, "draft", 1, "clock", clock, "fields", fields, "missing", missing);
		s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		ev_buf_adds(out, s);
		ev_buf_addc(out, '\n');
		free(s);
		json_decref(doc);
	} else {
		ev_buf_addf(out, "# DRAFT: %s\n\n", f->title);
		ev_buf_addf(out, "Incident %s, prepared from the evident ledger.\n", id);
		if (!json_is_null(clock))
			ev_buf_addf(out, "Deadline: %s (clock %s, %s).\n", ev_json_str(clock, "due"),
			    f->clock, ev_json_str(clock, "state"));
		else
			ev_buf_addf(out, "Deadline: no %s clock is recorded for this incident.\n",
			    f->clock);
		ev_buf_adds(out, "\n");
		json_array_foreach(fields, i, v) {
			const char *val = ev_json_str(v, "value");
			if (val)
				ev_buf_addf(out, "- **%s**: %s\n", ev_json_str(v, "label"), val);
			else
				ev_buf_addf(out, "- **%s**: MISSING: %s\n", ev_json_str(v, "label"),
				    ev_json_str(v, "label"));
		}
		if (json_array_size(missing)) {
			ev_buf_adds(out, "\nStill missing before this can be sent:\n");
			json_array_foreach(missing, i, v)
				ev_buf_addf(out, "- MISSING: %s\n", json_string_value(v));
		}
		json_decref(fields);
		json_decref(missing);
		json_decref(clock);
	}
	json_decref(inc);
	return EV_OK;
}
