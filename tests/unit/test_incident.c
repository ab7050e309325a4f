/*
 * test_incident.c - the incident library in process, as the server will use
 * it: record a workflow through ev_incident_record, check the projection
 * through ev_incident_show / ev_clocks_list, run a scheduler pass
 * (ev_clocks_tick, no webhooks) twice, and check that ev_ledger_rebuild gives
 * the same show and clock JSON.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "incident/incident.h"
#include "unit.h"
#include "util/json.h"
#include "util/timeutil.h"

static int
rec(struct ev_ledger *l, struct ev_profiles *p, const char *kind, const char *id,
    const char *actor, const char *body_text, char *newid, struct ev_err *err)
{
	json_t *b = json_loads(body_text, 0, NULL);
	uint64_t seq;
	int rc;

	ev_err_clear(err);
	if (b == NULL)
		return -1;
	rc = ev_incident_record(l, p, kind, id, actor, b, newid, &seq, err);
	json_decref(b);
	return rc;
}

static char *
show(struct ev_ledger *l, const char *id, int64_t now)
{
	json_t *j = NULL;
	struct ev_err err = { 0 };
	char *s;

	if (ev_incident_show(l, id, now, &j, &err) != EV_OK)
		return NULL;
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	return s;
}

int
main(void)
{
	char tmpl[] = "/tmp/evident-unit-incident.XXXXXX", dir[4096], id[EV_INCIDENT_ID_MAX] = "";
	const char *root = getenv("EVIDENT_ROOT");
	struct ev_ledger *l = NULL;
	struct ev_profiles *p = NULL;
	struct ev_err err = { 0 };
	struct ev_clock_config cfg = { NULL, 0, 3, 0.2, 1000, 0 };
	unsigned raised = 0, delivered = 0;
	int64_t t0, now;
	json_t *clocks = NULL;
	char *before, *after, *cb, *ca;
	uint64_t n1, n2;

	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/data", tmpl);
	CHECK(ev_ledger_init(dir, "test.example/evident", &err) == EV_OK, "init (%s)", err.msg);
	CHECK(ev_ledger_open(dir, EV_LEDGER_NOKEY, &l, &err) == EV_OK, "open (%s)", err.msg);
	{
		char cdir[4096];
		snprintf(cdir, sizeof(cdir), "%s/clocks", root ? root : ".");
		CHECK(ev_profiles_load(cdir, &p, &err) == EV_OK, "profiles (%s)", err.msg);
	}
	if (l == NULL || p == NULL)
		UNIT_END();

	CHECK(rec(l, p, "incident.opened", NULL, "alice",
		  "{\"title\":\"CA outage\",\"aware_at\":\"2026-01-10T08:00:00Z\",\"alerts\":[]}", id,
		  &err) == EV_OK,
	    "open (%s)", err.msg);
	CHECK(ev_incident_id_valid(id), "new id %s", id);
	CHECK(rec(l, p, "incident.classified", id, "alice",
		  "{\"severity\":\"high\",\"category\":\"availability\",\"significant\":\"yes\","
		  "\"reason\":\"down\"}",
		  NULL, &err) == EV_OK,
	    "classify (%s)", err.msg);
	CHECK(rec(l, p, "incident.classified", "inc-2026-9999", "alice",
		  "{\"severity\":\"high\",\"category\":\"a\",\"significant\":\"yes\",\"reason\":\"r\"}",
		  NULL, &err) == EV_ENOTFOUND,
	    "unknown incident: EV_ENOTFOUND");
	CHECK(rec(l, p, "incident.classified", id, "mallory",
		  "{\"severity\":\"high\",\"category\":\"a\",\"significant\":\"no\",\"reason\":\"r\","
		  "\"clocks\":{\"start\":[],\"stop\":[]}}",
		  NULL, &err) == EV_EINVAL,
	    "a caller cannot forge clock starts or stops: %s", err.msg);
	CHECK(rec(l, p, "incident.classified", id, "mallory",
		  "{\"severity\":\"severe\",\"category\":\"a\",\"significant\":\"no\",\"reason\":\"r\"}",
		  NULL, &err) == EV_EINVAL,
	    "bad severity refused by the library: %s", err.msg);
	CHECK(rec(l, p, "incident.assessed", id, "mallory",
		  "{\"answers\":{},\"derived\":\"yes\"}", NULL, &err) == EV_EINVAL,
	    "derived significance cannot be given: %s", err.msg);
	CHECK(rec(l, p, "incident.closed", id, "alice", "{}", NULL, &err) == EV_ESTATE,
	    "close without review: EV_ESTATE");
	CHECK(strstr(err.msg, "no post-incident review") != NULL, "message: %s", err.msg);
	CHECK(rec(l, p, "incident.notified", id, "carol",
		  "{\"to\":\"csirt\",\"clock\":\"nis2-notification\",\"ref\":\"R\",\"note\":\"n\","
		  "\"sent_at\":\"2026-01-31T10:00:00Z\"}",
		  NULL, &err) == EV_OK,
	    "notify (%s)", err.msg);
	CHECK(rec(l, p, "incident.review", id, "alice",
		  "{\"root_cause\":\"rc\",\"actions\":[\"a\"],\"vulnerability_exposure\":\"none\"}",
		  NULL, &err) == EV_OK,
	    "review (%s)", err.msg);
	CHECK(rec(l, p, "incident.review_approved", id, "alice", "{}", NULL, &err) == EV_EDENIED,
	    "owner approval: EV_EDENIED");

	CHECK(ev_time_parse("2026-01-10T08:00:00Z", &t0) == 0, "parse T");
	now = t0 + 25LL * 3600 * 1000000;
	CHECK(ev_clocks_list(l, now, 0, 1, &clocks, &err) == EV_OK, "clocks list");
	{
		size_t i;
		json_t *c;
		int overdue = 0, final_ok = 0;
		json_array_foreach(clocks, i, c) {
			if (strcmp(ev_json_str(c, "state"), "overdue") == 0)
				overdue++;
			if (strcmp(ev_json_str(c, "clock"), "nis2-final-report") == 0 &&
			    strcmp(ev_json_str(c, "due"), "2026-02-28T10:00:00.000000Z") == 0)
				final_ok = 1;
		}
		CHECK(overdue == 2, "two 24 h clocks overdue at T+25h (en319401, early warning): %d",
		    overdue);
		CHECK(final_ok, "final report due 2026-02-28");
	}
	json_decref(clocks);
	clocks = NULL;

	ev_err_clear(&err);
	CHECK(ev_clocks_tick(l, now, &cfg, &raised, &delivered, &err) == EV_OK, "tick (%s)", err.msg);
	CHECK(raised == 2 && delivered == 0, "two overdue alerts raised: %u", raised);
	CHECK(ev_ledger_size(l, &n1, &err) == EV_OK, "size");
	CHECK(ev_clocks_tick(l, now, &cfg, &raised, &delivered, &err) == EV_OK && raised == 0,
	    "second pass raises nothing");
	CHECK(ev_ledger_size(l, &n2, &err) == EV_OK && n1 == n2, "and writes nothing");

	before = show(l, id, now);
	ev_clocks_list(l, now, 0, 1, &clocks, &err);
	cb = json_dumps(clocks, JSON_SORT_KEYS);
	json_decref(clocks);
	ev_err_clear(&err);
	CHECK(ev_ledger_rebuild(l, &err) == EV_OK, "rebuild (%s)", err.msg);
	after = show(l, id, now);
	ev_clocks_list(l, now, 0, 1, &clocks, &err);
	ca = json_dumps(clocks, JSON_SORT_KEYS);
	json_decref(clocks);
	CHECK(before && after && strcmp(before, after) == 0, "show identical after rebuild");
	CHECK(cb && ca && strcmp(cb, ca) == 0, "clocks identical after rebuild");
	CHECK(ev_clocks_tick(l, now, &cfg, &raised, &delivered, &err) == EV_OK && raised == 0,
	    "after rebuild the alerts are still known");
	free(before);
	free(after);
	free(cb);
	free(ca);
	ev_profiles_free(p);
	ev_ledger_close(l);
	{
		char cmd[8192];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpl);
	}
	UNIT_END();
}
