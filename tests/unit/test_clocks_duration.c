/*
 * test_clocks_duration.c - clock arithmetic and profile loading: ISO 8601
 * durations with the calendar-month rule (clamped to the month's end, leap
 * years), malformed durations refused, the repository's profiles load with
 * the clocks the issue asks for, and incident ids are checked.
 */
#include <stdlib.h>
#include <string.h>

#include "incident/incident.h"
#include "unit.h"
#include "util/json.h"
#include "util/timeutil.h"

static int
add_is(const char *from, const char *dur, const char *want)
{
	int64_t t, out;
	char got[EV_TIME_STRLEN];

	if (ev_time_parse(from, &t) != 0 || ev_duration_add(t, dur, &out) != 0)
		return 0;
	ev_time_format(out, got);
	if (strcmp(got, want) != 0)
		printf("# %s + %s = %s, want %s\n", from, dur, got, want);
	return strcmp(got, want) == 0;
}

int
main(void)
{
	int64_t out;
	const char *root = getenv("EVIDENT_ROOT");
	char dir[4096];
	struct ev_profiles *p = NULL;
	struct ev_err err = { 0 };

	CHECK(add_is("2026-01-10T08:00:00Z", "PT24H", "2026-01-11T08:00:00.000000Z"), "PT24H");
	CHECK(add_is("2026-01-10T08:00:00Z", "PT72H", "2026-01-13T08:00:00.000000Z"), "PT72H");
	CHECK(add_is("2026-01-10T08:00:00.123456Z", "PT48H", "2026-01-12T08:00:00.123456Z"),
	    "microseconds kept");
	CHECK(add_is("2026-01-31T10:00:00Z", "P1M", "2026-02-28T10:00:00.000000Z"),
	    "2026-01-31 + P1M = 2026-02-28 (clamped)");
	CHECK(add_is("2028-01-31T10:00:00Z", "P1M", "2028-02-29T10:00:00.000000Z"),
	    "leap year: 2028-01-31 + P1M = 2028-02-29");
	CHECK(add_is("2026-03-31T00:00:00Z", "P1M", "2026-04-30T00:00:00.000000Z"), "31 -> 30 days");
	CHECK(add_is("2026-01-15T12:00:00Z", "P1M", "2026-02-15T12:00:00.000000Z"), "same day number");
	CHECK(add_is("2026-12-15T23:59:59Z", "P1M", "2027-01-15T23:59:59.000000Z"), "across a year");
	CHECK(add_is("2028-02-29T00:00:00Z", "P1Y", "2029-02-28T00:00:00.000000Z"), "P1Y from 29 Feb");
	CHECK(add_is("2026-01-31T00:00:00Z", "P1M1D", "2026-03-01T00:00:00.000000Z"),
	    "months first, then days");
	CHECK(add_is("2026-01-01T00:00:00Z", "P2W", "2026-01-15T00:00:00.000000Z"), "weeks");
	CHECK(add_is("2026-01-01T00:00:00Z", "P1DT2H30M15S", "2026-01-02T02:30:15.000000Z"),
	    "mixed date and time parts");
	CHECK(add_is("2026-01-01T00:00:00Z", "PT30M", "2026-01-01T00:30:00.000000Z"),
	    "M after T is minutes");
	CHECK(ev_duration_add(0, "", &out) != 0, "empty refused");
	CHECK(ev_duration_add(0, "P", &out) != 0, "P alone refused");
	CHECK(ev_duration_add(0, "PT", &out) != 0, "PT alone refused");
	CHECK(ev_duration_add(0, "24h", &out) != 0, "24h refused");
	CHECK(ev_duration_add(0, "P1H", &out) != 0, "hours before T refused");
	CHECK(ev_duration_add(0, "PT1D", &out) != 0, "days after T refused");
	CHECK(ev_duration_add(0, "P-1D", &out) != 0, "negative refused");
	CHECK(ev_duration_add(0, "P1.5D", &out) != 0, "fractions refused");
	CHECK(ev_duration_add(0, NULL, &out) != 0, "NULL refused");

	CHECK(ev_incident_id_valid("inc-2026-0001"), "id inc-2026-0001");
	CHECK(ev_incident_id_valid("inc-2026-12345"), "id with five digits");
	CHECK(!ev_incident_id_valid("inc-2026-001"), "three digits refused");
	CHECK(!ev_incident_id_valid("INC-2026-0001"), "upper case refused");
	CHECK(!ev_incident_id_valid("inc-26-0001"), "short year refused");
	CHECK(!ev_incident_id_valid("inc-2026-0001;"), "trailing junk refused");
	CHECK(!ev_incident_id_valid(NULL), "NULL refused");

	snprintf(dir, sizeof(dir), "%s/clocks", root ? root : ".");
	CHECK(ev_profiles_load(dir, &p, &err) == EV_OK, "repository profiles load (%s)", err.msg);
	if (p) {
		const json_t *c;
		CHECK((c = ev_profiles_clock(p, "en319401-notice")) &&
			  strcmp(ev_json_str(c, "duration"), "PT24H") == 0 &&
			  strcmp(ev_json_str(c, "condition"), "significant") == 0,
		    "EN 319 401 notice: 24 h from significance");
		CHECK((c = ev_profiles_clock(p, "nis2-early-warning")) &&
			  strcmp(ev_json_str(c, "duration"), "PT24H") == 0,
		    "NIS2 early warning: 24 h");
		CHECK((c = ev_profiles_clock(p, "nis2-notification")) &&
			  strcmp(ev_json_str(c, "duration"), "PT24H") == 0,
		    "NIS2 notification: 24 h for a TSP");
		CHECK((c = ev_profiles_clock(p, "nis2-final-report")) &&
			  strcmp(ev_json_str(c, "duration"), "P1M") == 0 &&
			  strcmp(ev_json_str(c, "condition"), "notified:nis2-notification") == 0,
		    "NIS2 final report: 1 month after the notification");
		CHECK((c = ev_profiles_clock(p, "affected-persons")) &&
			  strcmp(ev_json_str(c, "basis"), "target") == 0,
		    "affected persons: a target, not law");
		CHECK((c = ev_profiles_clock(p, "critical-vulnerability")) &&
			  strcmp(ev_json_str(c, "duration"), "PT48H") == 0 &&
			  strcmp(ev_json_str(c, "condition"), "vulnerability:critical") == 0,
		    "critical vulnerability: 48 h, started by the register");
		CHECK(ev_profiles_clock(p, "nope") == NULL, "unknown clock absent");
		CHECK((c = ev_profiles_criteria(p, NULL)) &&
			  strcmp(ev_json_str(c, "profile"), "eu-2024-2690-tsp") == 0,
		    "TSP criteria of 2024/2690 loaded");
		ev_profiles_free(p);
	}
	UNIT_END();
}
