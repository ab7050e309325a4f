/*
 * test_registers.c - register field checks and duration arithmetic: every
 * field type accepts what it documents and refuses the rest, naming the
 * option; ISO 8601 durations move calendar months like the clocks do.
 */
#include <stdio.h>
#include <string.h>

#include "registers/registers.h"
#include "unit.h"
#include "util/json.h"
#include "util/timeutil.h"

static int64_t
t(const char *s)
{
	int64_t us = 0;
	ev_time_parse(s, &us);
	return us;
}

static const char *
fmt(int64_t us)
{
	static char b[EV_TIME_STRLEN];
	ev_time_format(us, b);
	return b;
}

static void
durations(void)
{
	int64_t o, s;
	char iso[48];

	CHECK(ev_registers_duration_add(t("2026-01-31T10:00:00Z"), "P1M", &o) == 0 &&
	    strcmp(fmt(o), "2026-02-28T10:00:00.000000Z") == 0, "P1M from Jan 31 is Feb 28 (%s)", fmt(o));
	CHECK(ev_registers_duration_add(t("2024-02-29T00:00:00Z"), "P1Y", &o) == 0 &&
	    strcmp(fmt(o), "2025-02-28T00:00:00.000000Z") == 0, "P1Y from a leap day (%s)", fmt(o));
	CHECK(ev_registers_duration_add(t("2026-11-24T22:00:00Z"), "P3M", &o) == 0 &&
	    strcmp(fmt(o), "2027-02-24T22:00:00.000000Z") == 0, "P3M across a year (%s)", fmt(o));
	CHECK(ev_registers_duration_add(t("2026-11-24T22:00:00Z"), "PT48H", &o) == 0 &&
	    strcmp(fmt(o), "2026-11-26T22:00:00.000000Z") == 0, "PT48H");
	CHECK(ev_registers_duration_add(0, "P1DT2H30M", &o) == 0 && o == (86400LL + 9000) * 1000000,
	    "P1DT2H30M");
	CHECK(ev_registers_duration_add(0, "P2W", &o) == 0 && o == 14LL * 86400 * 1000000, "P2W");
	const char *bad[] = { "", "P", "PT", "1D", "P1H", "PT1D", "P1.5D", "P-1D", "P1DT", "PX",
		"P99999999999D" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(ev_registers_duration_add(0, bad[i], &o) != 0, "'%s' is not a duration", bad[i]);
	CHECK(ev_registers_duration_parse("4h", iso, sizeof(iso), &s) == 0 && s == 14400 &&
	    strcmp(iso, "PT4H") == 0, "4h is PT4H");
	CHECK(ev_registers_duration_parse("90m", iso, sizeof(iso), &s) == 0 && s == 5400 &&
	    strcmp(iso, "PT90M") == 0, "90m is PT90M");
	CHECK(ev_registers_duration_parse("PT2H30M", iso, sizeof(iso), &s) == 0 && s == 9000,
	    "PT2H30M is 9000 s");
	CHECK(ev_registers_duration_parse("0h", iso, sizeof(iso), &s) != 0, "zero is refused");
	CHECK(ev_registers_duration_parse("-3h", iso, sizeof(iso), &s) != 0, "negative is refused");
	CHECK(ev_registers_duration_parse("3hours", iso, sizeof(iso), &s) != 0, "3hours is refused");
}

static int
body_with(const char *reg, const char *action, const char *opt, const char *val, json_t **b,
    struct ev_err *err)
{
	const struct ev_register *r = ev_registers_find(reg);
	const struct ev_reg_action *a = ev_registers_action(r, action);
	struct ev_reg_values v[16];
	static char firsts[16][64];
	static const char *one[1], *const dflt[1] = { "a" };

	one[0] = val;
	memset(v, 0, sizeof(v));
	for (size_t i = 0; a->fields[i].opt; i++) {
		const struct ev_reg_field *f = &a->fields[i];
		const char *x = strcmp(f->opt, opt) == 0 ? val
		    : f->type == EV_RF_ENUM ? firsts[i]
		    : f->type == EV_RF_YESNO ? "yes"
		    : f->type == EV_RF_TIME ? "2026-01-01"
		    : f->type == EV_RF_DURATION ? "1h"
		    : f->type == EV_RF_NUMBER ? "1"
		    : "text";
		if (f->type == EV_RF_ENUM)
			snprintf(firsts[i], sizeof(firsts[i]), "%.*s", (int)strcspn(f->values, "|"),
			    f->values);
		if (!f->required && strcmp(f->opt, opt) != 0)
			continue;
		if (f->type == EV_RF_LIST) {
			v[i].list = strcmp(f->opt, opt) == 0 ? one : dflt;
			v[i].nlist = 1;
		} else {
			v[i].str = x;
		}
	}
	return ev_registers_body(a, v, b, err);
}

static void
fields(void)
{
	json_t *b = NULL;
	struct ev_err err = { 0 };

	CHECK(body_with("vuln", "add", "severity", "critical", &b, &err) == EV_OK &&
	    strcmp(ev_json_str(b, "severity"), "critical") == 0, "severity critical accepted");
	json_decref(b);
	b = NULL;
	CHECK(body_with("vuln", "add", "severity", "Critical", &b, &err) == EV_EINVAL &&
	    strstr(err.msg, "--severity") != NULL, "enum values are exact (%s)", err.msg);
	CHECK(body_with("vuln", "add", "cvss", "9.8", &b, &err) == EV_OK &&
	    json_real_value(json_object_get(b, "cvss")) == 9.8, "cvss 9.8 is a number");
	json_decref(b);
	b = NULL;
	CHECK(body_with("vuln", "add", "cvss", "nan", &b, &err) == EV_EINVAL, "cvss nan refused");
	CHECK(body_with("vuln", "add", "cvss", "10.1", &b, &err) == EV_EINVAL, "cvss 10.1 refused");
	CHECK(body_with("backup", "record", "off-network", "no", &b, &err) == EV_OK &&
	    json_is_false(json_object_get(b, "off_network")), "yes/no becomes a boolean");
	json_decref(b);
	b = NULL;
	CHECK(body_with("backup", "record", "off-network", "true", &b, &err) == EV_EINVAL,
	    "yes/no only");
	CHECK(body_with("backup", "restore-test", "target", "4h", &b, &err) == EV_OK &&
	    json_integer_value(json_object_get(b, "target_s")) == 14400, "durations carry seconds");
	json_decref(b);
	b = NULL;
	CHECK(body_with("logreview", "record", "from", "yesterday", &b, &err) == EV_EINVAL &&
	    strstr(err.msg, "--from") != NULL, "a bad time names the option");
	CHECK(body_with("securitytest", "record", "trigger", "vuln-1", &b, &err) == EV_EINVAL,
	    "a reference must have the register's prefix");
	CHECK(body_with("securitytest", "record", "trigger", "change-01", &b, &err) == EV_EINVAL,
	    "ids have no leading zero");
	CHECK(body_with("securitytest", "record", "trigger", "change-12", &b, &err) == EV_OK,
	    "change-12 is a valid reference");
	json_decref(b);
	b = NULL;
	char big[EV_REG_TEXT_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(body_with("change", "add", "title", big, &b, &err) == EV_EINVAL, "oversized text refused");
	CHECK(body_with("change", "add", "title", "\xff\xfe", &b, &err) == EV_EINVAL,
	    "invalid UTF-8 refused");
}

static void
table(void)
{
	const struct ev_register *const *all = ev_registers_all();
	size_t n = 0, kinds = 0;

	for (; all[n]; n++)
		for (const struct ev_reg_action *a = all[n]->actions; a->name; a++) {
			kinds++;
			CHECK(strchr(a->kind, '.') != NULL && a->fields[0].opt != NULL,
			    "%s %s records a dotted kind with fields", all[n]->name, a->name);
		}
	CHECK(n == 10, "ten registers");
	CHECK(ev_registers_find("nope") == NULL, "unknown register is NULL");
	CHECK(kinds >= 20, "at least twenty actions (%zu)", kinds);
}

int
main(void)
{
	durations();
	fields();
	table();
	UNIT_END();
}
