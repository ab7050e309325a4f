/*
 * test_rules.c - the Sigma rules engine: loading (and refusing, with
 * file:line), every modifier and condition form, the SigmaHQ fixture rules
 * on lines written for them, correlations and their windows, the
 * prefilter against full evaluation, and a matching-speed report for the
 * built-in pack (printed, not asserted).
 *
 *   test_rules            the tests
 *   test_rules --bench N  only the benchmark, over N generated lines
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"

#include "ingest/parse.h"
#include "rules/rules.h"
#include "rules/rules_int.h"

/* ---------------------------------------------------------------- helpers */

#define MAXF 32

struct tev {
	struct ev_event ev;
	struct ev_field f[MAXF];
};

/* Build an event: raw line, then name/value pairs, NULL-terminated. */
static struct tev *
tev(const char *raw, ...)
{
	static struct tev t;
	va_list ap;
	const char *n;

	memset(&t, 0, sizeof(t));
	t.ev.fields = t.f;
	t.ev.raw = raw;
	t.ev.raw_len = raw ? strlen(raw) : 0;
	va_start(ap, raw);
	while ((n = va_arg(ap, const char *)) != NULL && t.ev.nfields < MAXF) {
		const char *v = va_arg(ap, const char *);
		t.f[t.ev.nfields].name = n;
		t.f[t.ev.nfields].value = v;
		t.f[t.ev.nfields].len = strlen(v);
		t.ev.nfields++;
	}
	va_end(ap);
	return &t;
}

struct diags {
	size_t n, nunsup;
	char text[8192];
};

static void
collect(const struct ev_rule_diag *d, void *arg)
{
	struct diags *g = arg;
	size_t len = strlen(g->text);
	g->n++;
	g->nunsup += d->unsupported != 0;
	snprintf(g->text + len, sizeof(g->text) - len, "%s%s:%u: %s", len ? " | " : "", d->file,
	    d->line, d->message);
}

struct hits {
	size_t n;
	char ids[4096];
	char why[2048];
	char group[256];
	size_t nseqs;
	uint64_t seqs[128];
	int corr;
};

static int
on_hit(const struct ev_rule_match *m, const struct ev_event *ev, void *arg)
{
	struct hits *h = arg;
	size_t len = strlen(h->ids);
	h->n++;
	snprintf(h->ids + len, sizeof(h->ids) - len, "%s%s", len ? "," : "", m->rule_id);
	snprintf(h->why, sizeof(h->why), "%s", m->why ? m->why : "");
	if (m->correlation) {
		h->corr++;
		snprintf(h->group, sizeof(h->group), "%s", m->group ? m->group : "");
		h->nseqs = m->nseqs;
		for (size_t i = 0; i < m->nseqs && i < 128; i++)
			h->seqs[i] = m->seqs[i];
	}
	(void)ev;
	return 0;
}

/* Load rule text; returns the rule set (caller frees), diags in g. */
static struct ev_rules *
load(const char *text, struct diags *g)
{
	struct ev_rules *r = NULL;
	struct ev_err err = { 0 };
	memset(g, 0, sizeof(*g));
	ev_rules_load_buffer("t.yml", text, strlen(text), collect, g, &r, &err);
	return r;
}

/* How many rules fire for the event. */
static size_t
fire(struct ev_rules *r, const struct ev_event *ev, struct hits *h)
{
	memset(h, 0, sizeof(*h));
	ev_rules_match(r, ev, on_hit, h);
	return h->n;
}

/* A one-selection rule around a detection body. */
static struct ev_rules *
rule(const char *detection, struct diags *g)
{
	char buf[4096];
	snprintf(buf, sizeof(buf),
	    "title: t\nid: r1\nlogsource:\n    product: linux\ndetection:\n%s", detection);
	return load(buf, g);
}

static int
matches(const char *detection, const struct ev_event *ev)
{
	struct diags g;
	struct hits h;
	struct ev_rules *r = rule(detection, &g);
	int m;
	if (g.n || ev_rules_count(r) != 1) {
		printf("# rule did not load: %s", g.text);
		ev_rules_free(r);
		return -1;
	}
	m = fire(r, ev, &h) == 1;
	ev_rules_free(r);
	return m;
}

/* ---------------------------------------------------------------- loading */

static void
test_fixture_rules(void)
{
	char dir[1024];
	const char *paths[1] = { dir };
	struct diags g = { 0 };
	struct ev_rules *r = NULL;
	struct ev_err err = { 0 };
	struct hits h;
	int rc;

	snprintf(dir, sizeof(dir), "%s/sigma/rules", unit_fixtures());
	rc = ev_rules_load(paths, 1, collect, &g, &r, &err);
	CHECK(rc == EV_OK && g.n == 0, "all 10 SigmaHQ fixture rules load without a problem%s%s",
	    g.n ? ": " : "", g.text);
	CHECK(ev_rules_count(r) == 10, "10 rules loaded (%zu)", ev_rules_count(r));

	/* lnx_auditd_auditing_config_change */
	fire(r, &tev("type=PATH msg=audit(1.1:1): name=\"/etc/audit/auditd.conf\"", "type", "PATH",
		     "name", "/etc/audit/auditd.conf", NULL)->ev, &h);
	CHECK(strstr(h.ids, "977ef627") != NULL, "auditd config change: PATH /etc/audit/auditd.conf");
	fire(r, &tev("x", "type", "PATH", "name", "/etc/auditx/auditd.conf", NULL)->ev, &h);
	CHECK(h.n == 0, "auditd config change: /etc/auditx/ is a near miss");
	fire(r, &tev("x", "type", "CWD", "name", "/etc/audit/auditd.conf", NULL)->ev, &h);
	CHECK(h.n == 0, "auditd config change: type CWD is a near miss");
	/* lnx_auditd_logging_config_change */
	fire(r, &tev("x", "type", "PATH", "name", "/etc/rsyslog.conf", NULL)->ev, &h);
	CHECK(strstr(h.ids, "c830f15d") != NULL, "logging config change: /etc/rsyslog.conf");
	fire(r, &tev("x", "type", "PATH", "name", "/etc/rsyslog.conf.bak", NULL)->ev, &h);
	CHECK(h.n == 0, "logging config change: rsyslog.conf.bak is a near miss (exact value)");
	/* lnx_auditd_create_account: 1 of selection_* */
	fire(r, &tev("x", "type", "SYSCALL", "exe", "/usr/sbin/useradd", NULL)->ev, &h);
	CHECK(strstr(h.ids, "759d0d51") != NULL, "create account: SYSCALL exe endswith /useradd");
	fire(r, &tev("x", "type", "ADD_USER", NULL)->ev, &h);
	CHECK(strstr(h.ids, "759d0d51") != NULL, "create account: ADD_USER record");
	fire(r, &tev("x", "type", "SYSCALL", "exe", "/usr/sbin/useradd2", NULL)->ev, &h);
	CHECK(h.n == 0, "create account: exe /usr/sbin/useradd2 is a near miss");
	/* lnx_buffer_overflows: keywords */
	fire(r, &tev("Nov 24 host kernel: *** stack smashing detected ***: terminated", NULL)->ev, &h);
	CHECK(strstr(h.ids, "18b042f0") != NULL, "buffer overflow: 'stack smashing detected'");
	fire(r, &tev("Nov 24 host kernel: stack smashing was not detected", NULL)->ev, &h);
	CHECK(h.n == 0, "buffer overflow: near miss");
	/* lnx_clear_syslog: selection and not falsepositives */
	fire(r, &tev("host bash: rm -f /var/log/syslog", NULL)->ev, &h);
	CHECK(strstr(h.ids, "e09eb557") != NULL, "clear syslog: rm -f /var/log/syslog");
	fire(r, &tev("host bash: rm -f /var/log/syslog.1", NULL)->ev, &h);
	CHECK(h.n == 0, "clear syslog: the '/syslog.' filter suppresses rotation");
	/* lnx_privileged_user_creation: all of selection_* */
	fire(r, &tev("Dec 21 17:13:54 testserver useradd[1337]: new user: name=john, UID=0, GID=0, "
		     "home=/home/john, shell=/bin/bash", NULL)->ev, &h);
	CHECK(strstr(h.ids, "0ac15ec3") != NULL, "privileged user: new user with UID=0");
	fire(r, &tev("Dec 21 17:24:40 testserver useradd[1337]: new user: name=b, UID=1000, GID=100, "
		     "home=/home/b, shell=/bin/bash", NULL)->ev, &h);
	CHECK(h.n == 0, "privileged user: GID=100 is a near miss of GID=10,");
	/* lnx_shell_susp_log_entries */
	fire(r, &tev("kernel: device eth0 entered promiscuous mode", NULL)->ev, &h);
	CHECK(strstr(h.ids, "f64b6e9a") != NULL, "suspicious log entries: promiscuous mode");
	/* lnx_sshd_susp_ssh */
	fire(r, &tev("sshd[1]: Corrupted MAC on input.", NULL)->ev, &h);
	CHECK(strstr(h.ids, "e76b413a") != NULL, "sshd error: Corrupted MAC on input");
	fire(r, &tev("sshd[1]: corrupted mac on INPUT", NULL)->ev, &h);
	CHECK(strstr(h.ids, "e76b413a") != NULL, "keywords match case-insensitively");
	/* lnx_syslog_security_tools_disabling_syslog */
	fire(r, &tev("systemd[1]: Stopping firewalld - dynamic firewall daemon...", NULL)->ev, &h);
	CHECK(strstr(h.ids, "49f5dfc1") != NULL, "disabling security tools: stopping firewalld");
	/* proc_creation_lnx_auditctl_clear_rules: re */
	fire(r, &tev("x", "Image", "/usr/sbin/auditctl", "CommandLine", "auditctl -D", NULL)->ev, &h);
	CHECK(strstr(h.ids, "bed26dea") != NULL, "auditctl -D: endswith and re");
	fire(r, &tev("x", "Image", "/usr/sbin/auditctl", "CommandLine", "auditctl -d", NULL)->ev, &h);
	CHECK(h.n == 0, "auditctl -d: re is case-sensitive (near miss)");
	ev_rules_free(r);
}

static void
test_builtin_pack_lints(void)
{
	const char *root = getenv("EVIDENT_ROOT");
	char dir[1024];
	const char *paths[1] = { dir };
	struct diags g = { 0 };
	struct ev_rules *r = NULL;
	struct ev_err err = { 0 };
	int rc;

	snprintf(dir, sizeof(dir), "%s/rules", root ? root : ".");
	rc = ev_rules_load(paths, 1, collect, &g, &r, &err);
	CHECK(rc == EV_OK && g.n == 0 && ev_rules_count(r) >= 25,
	    "the built-in pack loads clean (%zu rules)%s%s", ev_rules_count(r), g.n ? ": " : "",
	    g.text);
	ev_rules_free(r);
}

static void
test_diagnostics(void)
{
	struct diags g;
	struct ev_rules *r;

	r = rule("    sel:\n        CommandLine|windash: '-x'\n    condition: sel\n", &g);
	CHECK(g.n == 1 && g.nunsup == 1 && strstr(g.text, "t.yml:7: unsupported modifier 'windash'"),
	    "windash is named as unsupported at its line: %s", g.text);
	CHECK(ev_rules_count(r) == 0, "a rule with an unsupported modifier is not loaded");
	ev_rules_free(r);

	r = rule("    sel:\n        a|base64offset|contains: 'x'\n    condition: sel\n", &g);
	CHECK(g.nunsup == 1 && strstr(g.text, "'base64offset'"), "base64offset named: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a|neq|contains: 'x'\n    condition: sel\n", &g);
	CHECK(g.n == 1 && strstr(g.text, "'neq' combines only with 'cased'"),
	    "neq with contains refused: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a|fieldref: 'b'\n    condition: sel\n", &g);
	CHECK(g.nunsup == 1 && strstr(g.text, "unsupported modifier 'fieldref'"),
	    "fieldref named as unsupported: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a|bogus: 'x'\n    condition: sel\n", &g);
	CHECK(g.n == 1 && g.nunsup == 0 && strstr(g.text, "unknown modifier 'bogus'"),
	    "an unknown modifier is an error: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a: 'x'\n    condition: sel | count() by b > 5\n", &g);
	CHECK(g.nunsup == 1 && strstr(g.text, "t.yml:8:") && strstr(g.text, "aggregation"),
	    "old-style aggregation is named as unsupported: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a: 'x'\n    condition: sel and nosuch\n", &g);
	CHECK(g.n == 1 && strstr(g.text, "unknown search identifier 'nosuch'"),
	    "undefined identifier reported: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a: 'x'\n    condition: (sel and\n", &g);
	CHECK(g.n == 1 && ev_rules_count(r) == 0, "unbalanced condition reported: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a|re: '(unclosed'\n    condition: sel\n", &g);
	CHECK(g.n == 1 && strstr(g.text, "bad regular expression"), "bad regex reported: %s",
	    g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a|cidr: '10.0.0.0/33'\n    condition: sel\n", &g);
	CHECK(g.n == 1 && strstr(g.text, "not an IPv4 or IPv6 network"), "bad cidr reported: %s",
	    g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a:\n            - 'x'\n            - null\n    condition: sel\n",
	    &g);
	CHECK(g.n == 1 && strstr(g.text, "null cannot be part of a list"),
	    "null inside a list is refused as the spec says: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a|all: 'x'\n    condition: sel\n", &g);
	CHECK(g.n == 1 && strstr(g.text, "needs a list"), "all on one value refused: %s", g.text);
	ev_rules_free(r);

	r = rule("    sel:\n        a: 'x'\n    condition: 2 of sel*\n", &g);
	CHECK(g.nunsup == 1, "'2 of' is named as unsupported: %s", g.text);
	ev_rules_free(r);

	r = load("title: t\nlogsource: {product: linux}\ndetection:\n  sel: {a: 1}\n", &g);
	CHECK(g.n == 1 && strstr(g.text, "t.yml:3: detection has no condition"),
	    "missing condition at the detection line: %s", g.text);
	ev_rules_free(r);

	r = load("title: [unclosed\n", &g);
	CHECK(g.n == 1 && strstr(g.text, "YAML"), "YAML syntax error reported: %s", g.text);
	ev_rules_free(r);

	r = load("title: ok\nid: a\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n"
		 "---\ntitle: bad\nid: b\nlogsource: {product: x}\ndetection: {s: {a|wide: 1}, "
		 "condition: s}\n",
	    &g);
	CHECK(ev_rules_count(r) == 1 && g.n == 1 && strstr(g.text, "t.yml:9:"),
	    "one bad document does not stop the good one: %s", g.text);
	ev_rules_free(r);

	r = load("title: c\ncorrelation:\n  type: value_sum\n  rules: [x]\n  timespan: 1h\n", &g);
	CHECK(g.nunsup == 1 && strstr(g.text, "value_sum"), "value_sum named as unsupported: %s",
	    g.text);
	ev_rules_free(r);

	r = load("title: c\ncorrelation:\n  type: event_count\n  rules: [nosuch]\n  group-by: [a]\n"
		 "  timespan: 1h\n  condition: {gte: 2}\n",
	    &g);
	CHECK(g.n == 1 && strstr(g.text, "t.yml:4: correlation references unknown rule 'nosuch'"),
	    "unknown correlation reference at its line: %s", g.text);
	ev_rules_free(r);

	r = load("title: c\ncorrelation:\n  type: event_count\n  rules: [b]\n  groupby: [x]\n"
		 "  timespan: 1h\n  condition: {gte: 2}\n",
	    &g);
	CHECK(g.n == 1 && strstr(g.text, "t.yml:5: unknown correlation attribute 'groupby'"),
	    "a misspelt correlation attribute is reported: %s", g.text);
	ev_rules_free(r);

	r = load("title: c\ncorrelation:\n  type: event_count\n  rules: [b]\n  timespan: 1h\n"
		 "  condition: {lt: 2}\n",
	    &g);
	CHECK(g.nunsup >= 1, "upper-bound-only correlation condition named unsupported: %s", g.text);
	ev_rules_free(r);

	r = load("title: a\nname: a\ncorrelation:\n  type: event_count\n  rules: [b]\n  timespan: 1h\n"
		 "  condition: {gte: 2}\n---\ntitle: b\nname: b\ncorrelation:\n  type: event_count\n"
		 "  rules: [a]\n  timespan: 1h\n  condition: {gte: 2}\n",
	    &g);
	CHECK(ev_rules_count(r) == 0 && strstr(g.text, "cycle"), "correlation cycle refused: %s",
	    g.text);
	ev_rules_free(r);

	{
		char deep[4096] = "    sel:\n        a: 'x'\n    condition: ";
		size_t n = strlen(deep);
		for (int i = 0; i < 200; i++)
			deep[n++] = '(';
		memcpy(deep + n, "sel", 3);
		n += 3;
		for (int i = 0; i < 200; i++)
			deep[n++] = ')';
		deep[n++] = '\n';
		deep[n] = '\0';
		r = rule(deep, &g);
		CHECK(ev_rules_count(r) == 0 && strstr(g.text, "nested deeper"),
		    "condition nesting is bounded: %s", g.text);
		ev_rules_free(r);
	}
}

/* ---------------------------------------------------------------- matching */

static void
test_modifiers(void)
{
	struct tev *e;

	e = tev("raw", "msg", "User Alice logged IN from 10.1.2.3", "ip", "10.1.2.3", "ip6",
	    "2001:db8::5", "n", "42", "empty", "", "path", "C:\\Windows\\cmd.exe", "star", "a*b",
	    NULL);
	CHECK(matches("    s:\n        msg: 'user alice logged in from 10.1.2.3'\n    condition: s\n",
		  &e->ev) == 1,
	    "plain value: whole-field, case-insensitive");
	CHECK(matches("    s:\n        msg: 'user alice'\n    condition: s\n", &e->ev) == 0,
	    "plain value is not a substring match");
	CHECK(matches("    s:\n        msg|contains: 'LOGGED in'\n    condition: s\n", &e->ev) == 1,
	    "contains");
	CHECK(matches("    s:\n        msg|startswith: 'user ali'\n    condition: s\n", &e->ev) == 1,
	    "startswith");
	CHECK(matches("    s:\n        msg|startswith: 'alice'\n    condition: s\n", &e->ev) == 0,
	    "startswith near miss");
	CHECK(matches("    s:\n        msg|endswith: 'from 10.1.2.3'\n    condition: s\n", &e->ev) == 1,
	    "endswith");
	CHECK(matches("    s:\n        msg|endswith: 'from 10.1.2'\n    condition: s\n", &e->ev) == 0,
	    "endswith near miss");
	CHECK(matches("    s:\n        msg|contains|all:\n            - alice\n            - 10.1\n"
		      "    condition: s\n",
		  &e->ev) == 1,
	    "contains|all: every value");
	CHECK(matches("    s:\n        msg|contains|all:\n            - alice\n            - bob\n"
		      "    condition: s\n",
		  &e->ev) == 0,
	    "contains|all: one value missing");
	CHECK(matches("    s:\n        msg|contains:\n            - bob\n            - alice\n"
		      "    condition: s\n",
		  &e->ev) == 1,
	    "list of values is OR");
	CHECK(matches("    s:\n        msg|re: 'Alice logged IN'\n    condition: s\n", &e->ev) == 1,
	    "re (unanchored search)");
	CHECK(matches("    s:\n        msg|re: 'alice logged'\n    condition: s\n", &e->ev) == 0,
	    "re is case-sensitive by default");
	CHECK(matches("    s:\n        msg|re|i: 'alice logged'\n    condition: s\n", &e->ev) == 1,
	    "re|i is case-insensitive");
	CHECK(matches("    s:\n        ip|cidr: 10.0.0.0/8\n    condition: s\n", &e->ev) == 1,
	    "cidr IPv4");
	CHECK(matches("    s:\n        ip|cidr: 10.1.2.0/31\n    condition: s\n", &e->ev) == 0,
	    "cidr IPv4 near miss");
	CHECK(matches("    s:\n        ip6|cidr: '2001:db8::/32'\n    condition: s\n", &e->ev) == 1,
	    "cidr IPv6");
	CHECK(matches("    s:\n        msg|cidr: '10.0.0.0/8'\n    condition: s\n", &e->ev) == 0,
	    "cidr on a non-address is no match");
	CHECK(matches("    s:\n        ip|exists: true\n    condition: s\n", &e->ev) == 1,
	    "exists: true");
	CHECK(matches("    s:\n        nosuch|exists: true\n    condition: s\n", &e->ev) == 0,
	    "exists: true, field absent");
	CHECK(matches("    s:\n        nosuch|exists: false\n    condition: s\n", &e->ev) == 1,
	    "exists: false, field absent");
	CHECK(matches("    s:\n        nosuch: null\n    condition: s\n", &e->ev) == 1,
	    "null: field absent");
	CHECK(matches("    s:\n        empty: null\n    condition: s\n", &e->ev) == 1,
	    "null: field empty");
	CHECK(matches("    s:\n        ip: null\n    condition: s\n", &e->ev) == 0,
	    "null: field with a value");
	CHECK(matches("    s:\n        empty: ''\n    condition: s\n", &e->ev) == 1,
	    "'' matches an empty field");
	CHECK(matches("    s:\n        nosuch: ''\n    condition: s\n", &e->ev) == 0,
	    "'' does not match an absent field");
	CHECK(matches("    s:\n        msg: 'user * from 10.1.2.?'\n    condition: s\n", &e->ev) == 1,
	    "wildcards * and ?");
	CHECK(matches("    s:\n        msg: 'user * from 10.1.2.?" "?'\n    condition: s\n", &e->ev) == 0,
	    "? is exactly one character");
	CHECK(matches("    s:\n        star: 'a\\*b'\n    condition: s\n", &e->ev) == 1,
	    "\\* is a literal star");
	CHECK(matches("    s:\n        star: 'a\\*c'\n    condition: s\n", &e->ev) == 0,
	    "\\* does not act as a wildcard");
	CHECK(matches("    s:\n        path: 'C:\\Windows\\cmd.exe'\n    condition: s\n", &e->ev) == 1,
	    "a plain backslash is itself");
	CHECK(matches("    s:\n        path|endswith: '\\\\cmd.exe'\n    condition: s\n", &e->ev) == 1,
	    "\\\\ is one backslash");
	CHECK(matches("    s:\n        msg|cased: 'User Alice logged IN from 10.1.2.3'\n"
		      "    condition: s\n",
		  &e->ev) == 1,
	    "cased: exact case matches");
	CHECK(matches("    s:\n        msg|cased|contains: 'user alice'\n    condition: s\n",
		  &e->ev) == 0,
	    "cased: other case does not");
	CHECK(matches("    s:\n        n: 42\n    condition: s\n", &e->ev) == 1, "number value");
	CHECK(matches("    s:\n        n|gt: 41\n    condition: s\n", &e->ev) == 1, "gt");
	CHECK(matches("    s:\n        n|lt: 42\n    condition: s\n", &e->ev) == 0, "lt near miss");
	CHECK(matches("    s:\n        n|lte: 42\n    condition: s\n", &e->ev) == 1, "lte");
	CHECK(matches("    s:\n        n|gte: 43\n    condition: s\n", &e->ev) == 0, "gte near miss");
	CHECK(matches("    s:\n        n|neq: 41\n    condition: s\n", &e->ev) == 1,
	    "neq: a different value");
	CHECK(matches("    s:\n        n|neq:\n            - 41\n            - 42\n    condition: s\n",
		  &e->ev) == 0,
	    "neq: equal to one of the values");
	CHECK(matches("    s:\n        nosuch|neq: 1\n    condition: s\n", &e->ev) == 0,
	    "neq: an absent field is not 'different'");
	CHECK(matches("    s:\n        ip|neq: '10.1.2.*'\n    condition: s\n", &e->ev) == 0,
	    "neq: wildcards apply");
	CHECK(matches("    s:\n        - 'LOGGED IN'\n    condition: s\n", &e->ev) == 0,
	    "keywords search the raw line, not fields");
	e = tev("Nov 24 host app: OabVirtualDirectory -ExternalUrl x", NULL);
	CHECK(matches("    k:\n        '|all':\n            - 'OabVirtualDirectory'\n"
		      "            - ' -ExternalUrl '\n    condition: k\n",
		  &e->ev) == 1,
	    "keywords with |all");
	CHECK(matches("    k:\n        '|all':\n            - 'OabVirtualDirectory'\n"
		      "            - ' -InternalUrl '\n    condition: k\n",
		  &e->ev) == 0,
	    "keywords with |all: one missing");
	e = tev(NULL, "message", "fallback text here", NULL);
	CHECK(matches("    k:\n        - 'text here'\n    condition: k\n", &e->ev) == 1,
	    "keywords search the message field when there is no raw line");
	{
		static char evil[4096];
		double t0;
		memset(evil, 'a', sizeof(evil) - 2);
		evil[sizeof(evil) - 2] = 'b';
		e = tev("x", "v", evil, NULL);
		t0 = (double)clock() / CLOCKS_PER_SEC;
		CHECK(matches("    s:\n        v|re: '^(a+)+$'\n    condition: s\n", &e->ev) == 0 &&
			  (double)clock() / CLOCKS_PER_SEC - t0 < 2.0,
		    "a backtracking regex on a hostile value gives up (match limit), no stall");
	}
	e = tev("x", "a", "1", "b", "2", NULL);
	CHECK(matches("    s:\n        - a: '1'\n          b: '3'\n        - b: '2'\n    condition: s\n",
		  &e->ev) == 1,
	    "list of maps is OR, each map AND");
	CHECK(matches("    s:\n        - a: '1'\n          b: '3'\n        - b: '4'\n    condition: s\n",
		  &e->ev) == 0,
	    "list of maps: no map matches");
}

static void
test_conditions(void)
{
	struct tev *e = tev("x", "a", "1", "b", "2", "c", "3", NULL);
	const char *sels = "    sel_a:\n        a: '1'\n    sel_b:\n        b: '2'\n"
			   "    sel_x:\n        c: '9'\n    _hidden:\n        c: '9'\n"
			   "    filter:\n        c: '3'\n";
	struct {
		const char *cond;
		int want;
	} cases[] = {
		{ "sel_a and sel_b", 1 },
		{ "sel_a and sel_x", 0 },
		{ "sel_x or sel_b", 1 },
		{ "not sel_x", 1 },
		{ "not sel_a", 0 },
		{ "sel_a and not filter", 0 },
		{ "sel_x or sel_a and sel_b", 1 },       /* and binds tighter */
		{ "(sel_x or sel_a) and sel_b", 1 },
		{ "sel_x or sel_a and sel_x", 0 },
		{ "(sel_x or sel_a) and not (filter or sel_x)", 0 },
		{ "not not sel_a", 1 },
		{ "1 of sel_*", 1 },
		{ "all of sel_*", 0 },
		{ "all of sel_a*", 1 },
		{ "1 of them", 1 },
		{ "all of them", 0 },
		{ "1 of sel_x* or all of sel_[ab]", -1 },
		{ "1 of sel_* and not 1 of filter*", 0 },
		{ "NOT sel_x AND sel_a", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char det[2048];
		struct diags g;
		struct hits h;
		struct ev_rules *r;
		snprintf(det, sizeof(det), "%s    condition: %s\n", sels, cases[i].cond);
		r = rule(det, &g);
		if (cases[i].want < 0) {
			CHECK(ev_rules_count(r) == 0 && g.n == 1, "condition '%s' is refused: %s",
			    cases[i].cond, g.text);
		} else {
			fire(r, &e->ev, &h);
			CHECK(g.n == 0 && (int)h.n == cases[i].want, "condition '%s' -> %d%s%s",
			    cases[i].cond, cases[i].want, g.n ? ": " : "", g.text);
		}
		ev_rules_free(r);
	}
	/* 'all of them' excludes identifiers that start with '_' */
	{
		struct diags g;
		struct hits h;
		struct ev_rules *r = rule("    s1:\n        a: '1'\n    _x:\n        a: '9'\n"
					  "    condition: all of them\n",
		    &g);
		CHECK(fire(r, &e->ev, &h) == 1, "'all of them' skips _-prefixed identifiers");
		ev_rules_free(r);
	}
	/* a list of conditions is OR */
	{
		struct diags g;
		struct hits h;
		struct ev_rules *r = rule("    s1:\n        a: '9'\n    s2:\n        b: '2'\n"
					  "    condition:\n        - s1\n        - s2\n",
		    &g);
		CHECK(g.n == 0 && fire(r, &e->ev, &h) == 1, "condition list is OR");
		ev_rules_free(r);
	}
}

static void
test_why_and_service(void)
{
	struct diags g;
	struct hits h;
	struct ev_rules *r = load("title: t\nid: svc\nlogsource:\n  product: linux\n  service: sshd\n"
				  "detection:\n  sel:\n    message|contains: 'Failed password'\n"
				  "  condition: sel\nlevel: high\ntags: [en319401.7.9.1.security]\n",
	    &g);
	struct tev *e = tev("raw", "app", "sshd", "message", "Failed password for root", NULL);
	const char *names[] = { "sshd", "ssh" };

	CHECK(fire(r, &e->ev, &h) == 1, "service not mapped: the rule sees every event");
	CHECK(strstr(h.why, "sel: message|contains='Failed password for root' ~ 'Failed password'") !=
		  NULL,
	    "why names the selection, field, value and pattern: %s", h.why);
	ev_rules_map_service(r, "sshd", names, 2);
	CHECK(fire(r, &e->ev, &h) == 1, "service mapped: app sshd matches");
	e = tev("raw", "app", "sudo", "message", "Failed password for root", NULL);
	CHECK(fire(r, &e->ev, &h) == 0, "service mapped: app sudo does not see sshd rules");
	e->ev.source = "SSH";
	CHECK(fire(r, &e->ev, &h) == 1, "service mapped: the log-source name also counts");
	ev_rules_free(r);
}

/* ---------------------------------------------------------------- correlations */

static const char *brute =
    "title: brute force\nid: bf\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
    "  group-by: [src_ip]\n  timespan: 5m\n  condition: {gte: 5}\nlevel: high\n"
    "---\ntitle: fail\nname: fail\nid: fail-id\nlogsource: {product: linux, service: sshd}\n"
    "detection:\n  sel:\n    message|contains: 'Failed password'\n"
    "    message|re: ' from (?<src_ip>[0-9.]+) port'\n  condition: sel\n";

static size_t
feed_fail(struct ev_rules *r, int64_t t_s, const char *ip, uint64_t seq, struct hits *h)
{
	char msg[200];
	struct tev *e;
	snprintf(msg, sizeof(msg), "Failed password for root from %s port 22 ssh2", ip);
	e = tev(msg, "app", "sshd", "message", msg, NULL);
	e->ev.time_us = t_s * 1000000;
	e->ev.seq = seq;
	return fire(r, &e->ev, h);
}

static void
test_correlation_event_count(void)
{
	struct diags g;
	struct hits h;
	struct ev_rules *r = load(brute, &g);
	size_t fires = 0, base = 0;
	int64_t t0 = 1790000000;

	CHECK(g.n == 0 && ev_rules_count(r) == 2, "brute-force rule loads: %s", g.text);
	/* 12 failures from one address within 3 minutes: one alert */
	for (int i = 0; i < 12; i++) {
		feed_fail(r, t0 + i * 15, "203.0.113.7", (uint64_t)(100 + i), &h);
		fires += (size_t)h.corr;
		base += h.n - (size_t)h.corr;
		if (h.corr)
			CHECK(i == 4 && strcmp(h.group, "src_ip=203.0.113.7") == 0 && h.nseqs == 5 &&
				  h.seqs[0] == 100 && h.seqs[4] == 104,
			    "fires at the fifth failure, group and seqs 100..104 (i=%d, %s)", i,
			    h.group);
	}
	CHECK(fires == 1, "12 failures in one window fire exactly once (%zu)", fires);
	CHECK(base == 0, "the base rule does not alert on its own (generate: false)");
	/* 4 from another address: no alert */
	fires = 0;
	for (int i = 0; i < 4; i++)
		fires += feed_fail(r, t0 + 200 + i, "198.51.100.9", 0, &h);
	CHECK(fires == 0, "4 failures from another address do not fire");
	/* a second burst 10 minutes later fires again */
	fires = 0;
	for (int i = 0; i < 6; i++)
		fires += feed_fail(r, t0 + 600 + i * 10, "203.0.113.7", 0, &h);
	CHECK(fires == 1, "a second window fires again (%zu)", fires);
	/* 5 failures spread over more than 5 minutes: no alert */
	fires = 0;
	for (int i = 0; i < 5; i++)
		fires += feed_fail(r, t0 + 2000 + i * 90, "192.0.2.1", 0, &h);
	CHECK(fires == 0, "5 failures over 6 minutes do not fire");
	/* a burst across what a fixed window would split still fires (sliding) */
	fires = 0;
	feed_fail(r, t0 + 5000, "192.0.2.50", 0, &h);
	for (int i = 0; i < 3; i++)
		fires += feed_fail(r, t0 + 5290 + i, "192.0.2.50", 0, &h);
	for (int i = 0; i < 3; i++)
		fires += feed_fail(r, t0 + 5301 + i, "192.0.2.50", 0, &h);
	CHECK(fires == 1, "6 failures within 14s fire even when the group began 290s earlier "
			  "(sliding window)");
	/* lines without the group-by value do not count */
	{
		struct tev *e = tev("x", "message", "Failed password for root", NULL);
		e->ev.time_us = (t0 + 3000) * 1000000;
		fires = 0;
		for (int i = 0; i < 6; i++)
			fires += fire(r, &e->ev, &h);
		CHECK(fires == 0, "events without a group-by value do not count");
	}
	ev_rules_show_hidden(r, 1);
	CHECK(feed_fail(r, t0 + 4000, "192.0.2.99", 0, &h) == 1 && strcmp(h.ids, "fail-id") == 0,
	    "show_hidden reports the base rule");
	ev_rules_free(r);

	/* many groups: state stays bounded and old windows expire */
	r = load(brute, &g);
	for (int i = 0; i < 200000; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		feed_fail(r, t0 + i / 100, ip, 0, &h);
	}
	{
		struct rl_corr *c = NULL;
		for (size_t i = 0; i < r->nrules; i++)
			if (r->rules[i]->corr)
				c = r->rules[i]->corr;
		CHECK(c && c->ngroups <= RL_MAX_GROUPS, "200000 groups: live groups bounded (%zu)",
		    c ? c->ngroups : 0);
	}
	ev_rules_free(r);
}

static void
test_correlation_other_types(void)
{
	struct diags g;
	struct hits h;
	struct ev_rules *r;
	size_t fires = 0;
	int64_t t0 = 1790000000;

	/* value_count: distinct users per source */
	r = load("title: spray\nid: vc\ncorrelation:\n  type: value_count\n  rules: [f]\n"
		 "  group-by: [src]\n  timespan: 1h\n  condition: {field: user, gte: 3}\n---\n"
		 "title: f\nname: f\nlogsource: {product: x}\ndetection:\n  s: {outcome: fail}\n"
		 "  condition: s\n",
	    &g);
	CHECK(g.n == 0, "value_count loads: %s", g.text);
	{
		const char *users[] = { "a", "a", "b", "b", "a", "c", "d" };
		for (int i = 0; i < 7; i++) {
			struct tev *e = tev("x", "outcome", "fail", "src", "1.2.3.4", "user", users[i],
			    NULL);
			e->ev.time_us = (t0 + i) * 1000000;
			fire(r, &e->ev, &h);
			if (h.corr)
				CHECK(i == 5, "value_count fires at the third distinct user (i=%d)", i);
			fires += (size_t)h.corr;
		}
	}
	CHECK(fires == 1, "value_count fires once (%zu)", fires);
	ev_rules_free(r);

	/* temporal: all rules in the window, any order, same host */
	r = load("title: recon\nid: tp\ncorrelation:\n  type: temporal\n  rules: [ra, rb]\n"
		 "  group-by: [host]\n  timespan: 5m\n---\ntitle: ra\nname: ra\n"
		 "logsource: {product: x}\ndetection:\n  s: {cmd: whoami}\n  condition: s\n---\n"
		 "title: rb\nname: rb\nlogsource: {product: x}\ndetection:\n  s: {cmd: id}\n"
		 "  condition: s\n",
	    &g);
	CHECK(g.n == 0, "temporal loads: %s", g.text);
	{
		struct tev *e = tev("x", "cmd", "id", "host", "h1", NULL);
		e->ev.time_us = t0 * 1000000;
		CHECK(fire(r, &e->ev, &h) == 0, "temporal: one of two rules does not fire");
		e = tev("x", "cmd", "id", "host", "h2", NULL);
		e->ev.time_us = (t0 + 10) * 1000000;
		CHECK(fire(r, &e->ev, &h) == 0, "temporal: other host");
		e = tev("x", "cmd", "whoami", "host", "h1", NULL);
		e->ev.time_us = (t0 + 20) * 1000000;
		CHECK(fire(r, &e->ev, &h) == 1 && h.corr == 1, "temporal: both rules, same host fire");
		e = tev("x", "cmd", "whoami", "host", "h2", NULL);
		e->ev.time_us = (t0 + 400) * 1000000;
		CHECK(fire(r, &e->ev, &h) == 0, "temporal: second rule after the window does not");
		/* sliding: a, a 280s later, b 30s after that: within 5m of each other */
		e = tev("x", "cmd", "id", "host", "h3", NULL);
		e->ev.time_us = (t0 + 1000) * 1000000;
		fire(r, &e->ev, &h);
		e->ev.time_us = (t0 + 1280) * 1000000;
		fire(r, &e->ev, &h);
		e = tev("x", "cmd", "whoami", "host", "h3", NULL);
		e->ev.time_us = (t0 + 1310) * 1000000;
		CHECK(fire(r, &e->ev, &h) == 1 && h.nseqs == 2,
		    "temporal slides: rules 30s apart fire although the group began 310s earlier");
		e->ev.time_us = (t0 + 1320) * 1000000;
		CHECK(fire(r, &e->ev, &h) == 0, "temporal: quiet for a timespan after firing");
	}
	ev_rules_free(r);

	/* temporal_ordered chained on an event_count (the spec's example) */
	r = load("title: fail then success\nid: to\ncorrelation:\n  type: temporal_ordered\n"
		 "  rules: [many_failed, ok_login]\n  group-by: [User]\n  timespan: 10m\n---\n"
		 "title: many\nname: many_failed\ncorrelation:\n  type: event_count\n"
		 "  rules: [failed]\n  group-by: [User]\n  timespan: 10m\n  condition: {gte: 3}\n---\n"
		 "title: failed\nname: failed\nlogsource: {product: x}\ndetection:\n"
		 "  s: {EventID: [529, 4625]}\n  condition: s\n---\ntitle: ok\nname: ok_login\n"
		 "logsource: {product: x}\ndetection:\n  s: {EventID: [528, 4624]}\n  condition: s\n",
	    &g);
	CHECK(g.n == 0 && ev_rules_count(r) == 4, "chained correlation loads: %s", g.text);
	{
		struct tev *e = tev("x", "EventID", "4624", "User", "bob", NULL);
		e->ev.time_us = t0 * 1000000;
		CHECK(fire(r, &e->ev, &h) == 0, "temporal_ordered: success first does not fire");
		fires = 0;
		for (int i = 0; i < 3; i++) {
			e = tev("x", "EventID", "4625", "User", "bob", NULL);
			e->ev.time_us = (t0 + 10 + i) * 1000000;
			fires += fire(r, &e->ev, &h);
		}
		CHECK(fires == 0, "inner event_count is not reported on its own");
		e = tev("x", "EventID", "4624", "User", "bob", NULL);
		e->ev.time_us = (t0 + 60) * 1000000;
		CHECK(fire(r, &e->ev, &h) == 1 && strcmp(h.ids, "to") == 0,
		    "3 failures then a success fire the outer rule (%s)", h.ids);
	}
	ev_rules_free(r);

	/* aliases: group by a field that has different names per rule */
	r = load("title: al\nid: al\ncorrelation:\n  type: temporal\n  rules: [e1, e2]\n"
		 "  group-by: [ip]\n  timespan: 10s\n  aliases:\n    ip:\n      e1: destination.ip\n"
		 "      e2: source.ip\n---\ntitle: e1\nname: e1\nlogsource: {product: x}\n"
		 "detection:\n  s: {code: 500}\n  condition: s\n---\ntitle: e2\nname: e2\n"
		 "logsource: {product: x}\ndetection:\n  s: {kind: conn}\n  condition: s\n",
	    &g);
	CHECK(g.n == 0, "aliases load: %s", g.text);
	{
		struct tev *e = tev("x", "code", "500", "destination.ip", "10.0.0.1", NULL);
		e->ev.time_us = t0 * 1000000;
		fire(r, &e->ev, &h);
		e = tev("x", "kind", "conn", "source.ip", "10.0.0.1", NULL);
		e->ev.time_us = (t0 + 1) * 1000000;
		CHECK(fire(r, &e->ev, &h) == 1 && strcmp(h.group, "ip=10.0.0.1") == 0,
		    "aliases: the two field names are one group (%s)", h.group);
	}
	ev_rules_free(r);
}

/* ---------------------------------------------------------------- prefilter */

/* The prefiltered result must equal full evaluation of every rule. */
static void
test_prefilter_agrees(void)
{
	const char *root = getenv("EVIDENT_ROOT");
	char dir[1024], fix[1024];
	const char *paths[2] = { dir, fix };
	struct diags g = { 0 };
	struct ev_rules *r = NULL;
	struct ev_err err = { 0 };
	static const char *frags[] = { "Failed password for root from 1.2.3.4 port 22 ssh2",
		"USER=root ; COMMAND=/bin/bash", "new user: name=x, UID=0,", "GID=0,", "PATH",
		"/etc/ssl/openssl.cnf", "Stopping Security Auditing Service", "NETFILTER_CFG",
		"authentication failure;", " user=root", "entered PROMISCUOUS mode", "sudo", "sshd",
		"useradd", "usermod", "add 'bob' to group 'sudo'", "chronyd", "Can't synchronise: no "
		"selectable sources", "Out of memory: Killed process", "%LINK-3-UPDOWN", " Up",
		"stack smashing detected", "rm -rf /var/log/syslog", "/syslog.", "Accepted publickey "
		"for root ", "ROOT LOGIN ON ", "crontab", "REPLACE", "NORMAL", "CREATE", "PARENT",
		"/etc/audit/x", "ADD_USER", "Vacuuming done, freed", " DPT=22", "SRC=1.1.1.1",
		"ACCEPT", "on battery", "Power is back", "xyz", "A", "aaaaaaaa", " ", "%SYS-5-CONFIG_I" };
	static const char *names[] = { "app", "message", "type", "name", "nametype", "key", "exe",
		"host" };
	unsigned seed = 12345;
	size_t bad = 0, total_hits = 0;

	snprintf(dir, sizeof(dir), "%s/rules", root ? root : ".");
	snprintf(fix, sizeof(fix), "%s/sigma/rules", unit_fixtures());
	ev_rules_load(paths, 2, collect, &g, &r, &err);
	ev_rules_show_hidden(r, 1);
	for (int iter = 0; iter < 20000; iter++) {
		char raw[1024] = "", vals[8][300];
		struct tev *e;
		struct hits h;
		size_t nf = 0, want = 0;
		int nparts = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;
		for (int p = 0; p < nparts; p++) {
			const char *f = frags[((seed = seed * 1103515245u + 12345u) >> 16) %
			    (sizeof(frags) / sizeof(frags[0]))];
			strncat(raw, f, sizeof(raw) - strlen(raw) - 2);
			strcat(raw, " ");
		}
		e = tev(raw, NULL);
		for (size_t k = 0; k < 8; k++) {
			if (((seed = seed * 1103515245u + 12345u) >> 16) % 3 == 0)
				continue;
			snprintf(vals[k], sizeof(vals[k]), "%s",
			    frags[((seed = seed * 1103515245u + 12345u) >> 16) %
				(sizeof(frags) / sizeof(frags[0]))]);
			if (((seed = seed * 1103515245u + 12345u) >> 16) % 2)
				for (char *c = vals[k]; *c; c++)
					if (*c >= 'a' && *c <= 'z')
						*c = (char)(*c - 32);
			e->f[nf].name = names[k];
			e->f[nf].value = vals[k];
			e->f[nf].len = strlen(vals[k]);
			nf++;
		}
		e->ev.nfields = nf;
		if (iter % 2) {
			/* fields inside the raw line, as the parsers produce them */
			static char line[4096];
			size_t off = 0;
			for (size_t k = 0; k < nf; k++) {
				size_t l = e->f[k].len;
				line[off++] = ' ';
				memcpy(line + off, e->f[k].value, l);
				e->f[k].value = line + off;
				off += l;
			}
			line[off] = '\0';
			e->ev.raw = line;
			e->ev.raw_len = off;
		}
		fire(r, &e->ev, &h);
		/* full evaluation, no prefilter */
		r->gen++;
		r->cur = &e->ev;
		for (size_t i = 0; i < r->nrules; i++)
			if (r->rules[i]->corr == NULL && rl_eval_rule(r, r->rules[i]))
				want++;
		r->cur = NULL;
		total_hits += want;
		if (want != h.n - (size_t)h.corr) {
			if (bad++ < 3)
				printf("# prefilter disagrees on [%s]: %zu vs %zu\n", raw, want,
				    h.n - (size_t)h.corr);
		}
	}
	CHECK(bad == 0, "prefilter agrees with full evaluation on 20000 generated events, fields "
			"inside and outside the raw line (%zu hits)",
	    total_hits);
	CHECK(total_hits > 1000, "the generated events exercise the rules (%zu hits)", total_hits);
	ev_rules_free(r);
}

static void
test_load_buffer_garbage(void)
{
	static const char *inputs[] = { "", "---\n---\n", "- a\n- b\n", "title: x\n",
		"title: x\ndetection: 5\nlogsource: 1\n", "*a\n", "a: &x [*x]\n",
		"title: t\nlogsource: {}\ndetection: {s: [{a: [[1]]}], condition: s}\n",
		"title: t\nlogsource: {}\ndetection: {s: {'a|re': [1, 2]}, condition: '1 of'}\n",
		"title: t\ncorrelation: {type: temporal, rules: [], timespan: 0s}\n" };
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct diags g;
		struct ev_rules *r = load(inputs[i], &g);
		CHECK(r != NULL && ev_rules_count(r) == 0 && (g.n > 0 || inputs[i][0] == '\0' ||
								 strcmp(inputs[i], "---\n---\n") == 0),
		    "malformed input %zu is reported, not loaded", i);
		ev_rules_free(r);
	}
}

/* A lattice of correlations: one visit per rule, depth bounded. */
static void
test_correlation_lattice(void)
{
	struct ev_buf b = EV_BUF_INIT;
	struct diags g;
	struct ev_rules *r;
	clock_t t0 = clock();

	for (int i = 0; i < 20; i++)
		ev_buf_addf(&b, "---\ntitle: b\nname: l0_%d\nlogsource: {product: x}\n"
				"detection: {s: {a: '%d'}, condition: s}\n",
		    i, i);
	for (int layer = 1; layer <= 9; layer++) {
		for (int i = 0; i < 20; i++) {
			ev_buf_addf(&b, "---\ntitle: c\nname: l%d_%d\ncorrelation:\n  type: event_count\n"
					"  timespan: 1m\n  condition: {gte: 2}\n  rules:\n",
			    layer, i);
			for (int k = 0; k < 20; k++)
				ev_buf_addf(&b, "    - l%d_%d\n", layer - 1, k);
		}
	}
	r = load(b.p, &g);
	CHECK(ev_rules_count(r) == 20 + 8 * 20 && g.n == 20 && strstr(g.text, "deeper than 8"),
	    "a 9-deep lattice of 180 correlations (20 references each): layers 1-8 load, layer 9 "
	    "is refused (%zu loaded, %zu problems)",
	    ev_rules_count(r), g.n);
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0, "and loading it is quick");
	ev_rules_free(r);
	ev_buf_free(&b);
}

/* A rule set too big for the automaton is matched without a prefilter. */
static void
test_huge_rule_set(void)
{
	struct ev_buf b = EV_BUF_INIT;
	struct diags g;
	struct hits h;
	struct ev_rules *r;
	unsigned x = 7;
	char lit[20];

	ev_buf_adds(&b, "title: huge\nid: huge\nlogsource: {product: x}\ndetection:\n  sel:\n");
	for (int m = 0; m < 12; m++) {
		ev_buf_addf(&b, "    - f%d|contains:\n", m);
		for (int i = 0; i < 4000; i++) {
			for (int k = 0; k < 16; k++) {
				x = x * 1103515245u + 12345u;
				lit[k] = (char)('0' + (x >> 16) % 75); /* '0'..'z' */
				if (lit[k] == '\\' || lit[k] == '*' || lit[k] == '?' || lit[k] == '\'')
					lit[k] = 'q';
			}
			lit[16] = '\0';
			ev_buf_addf(&b, "        - '%s'\n", m == 5 && i == 77 ? "needle-in-a-haystack" : lit);
		}
	}
	ev_buf_adds(&b, "  condition: sel\n");
	r = load(b.p, &g);
	CHECK(g.n == 0 && ev_rules_count(r) == 1 && r->nlits == 0 && r->nalways == 1,
	    "48000 literals: no automaton, the rule is evaluated for every event (%zu literals)",
	    r ? r->nlits : 0);
	CHECK(fire(r, &tev("x", "f5", "a needle-in-a-haystack here", NULL)->ev, &h) == 1,
	    "and still matches");
	CHECK(fire(r, &tev("x", "f4", "a needle-in-a-haystack here", NULL)->ev, &h) == 0,
	    "and still misses");
	ev_rules_free(r);
	ev_buf_free(&b);
}

/* ---------------------------------------------------------------- benchmark */

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
count_cb(const struct ev_rule_match *m, const struct ev_event *ev, void *arg)
{
	(*(size_t *)arg)++;
	(void)m;
	(void)ev;
	return 0;
}

/* Generated auth.log-like lines: mostly routine, some failures and sudo. */
static void
gen_line(unsigned i, char *out, size_t n)
{
	unsigned k = (i * 2654435761u) >> 29;
	unsigned mi = (i / 60) % 60, se = i % 60, h = i % 7, pid = 1000 + i % 30000, a = i % 250,
		 b = (i / 7) % 250, c = i % 1000;
#define G(fmt) snprintf(out, n, fmt, mi, se, h, pid, a, b, c)
	switch (k) {
	case 0: G("Nov 24 10:%02u:%02u web%u sshd[%u]: Accepted publickey for deploy from 10.0.%u.%u "
		  "port 52%03u ssh2: RSA SHA256:abcdefghijklmnop"); break;
	case 1: G("Nov 24 10:%02u:%02u web%u sshd[%u]: pam_unix(sshd:session): session opened for "
		  "user deploy(uid=1000) by (uid=0) %u %u %u"); break;
	case 2: G("Nov 24 10:%02u:%02u web%u CRON[%u]: pam_unix(cron:session): session closed for "
		  "user root %u %u %u"); break;
	case 3: G("Nov 24 10:%02u:%02u web%u systemd[%u]: Started Session %u of User deploy. %u %u");
		break;
	case 4: G("Nov 24 10:%02u:%02u web%u sshd[%u]: Failed password for invalid user admin from "
		  "203.0.%u.%u port 4%04u ssh2"); break;
	case 5: G("Nov 24 10:%02u:%02u web%u sudo[%u]:   deploy : TTY=pts/0 ; PWD=/home/deploy ; "
		  "USER=root ; COMMAND=/usr/bin/systemctl status nginx %u %u %u"); break;
	case 6: G("Nov 24 10:%02u:%02u web%u sshd[%u]: Disconnected from user deploy 10.0.%u.%u port "
		  "52%03u"); break;
	default: G("Nov 24 10:%02u:%02u web%u kernel: [%u.123] audit: type=1400 apparmor=\"ALLOWED\" "
		   "operation=\"open\" %u %u %u"); break;
	}
#undef G
}

static void
bench(size_t nlines)
{
	const char *root = getenv("EVIDENT_ROOT");
	char dir[1024], line[512];
	const char *paths[1] = { dir };
	struct diags g = { 0 };
	struct ev_rules *r = NULL;
	struct ev_err err = { 0 };
	struct ev_parsed *ps = malloc(sizeof(*ps));
	struct ev_parse_opts po = { 0 };
	size_t hits = 0;
	double t0, t1, t2;

	snprintf(dir, sizeof(dir), "%s/rules", root ? root : ".");
	ev_rules_load(paths, 1, collect, &g, &r, &err);
	ev_parsed_init(ps);
	po.now_us = 1795514400000000LL;
	t0 = now_s();
	for (size_t i = 0; i < nlines; i++) {
		gen_line((unsigned)i, line, sizeof(line));
		ev_parse_line(line, strlen(line), &po, ps);
	}
	t1 = now_s();
	for (size_t i = 0; i < nlines; i++) {
		gen_line((unsigned)i, line, sizeof(line));
		ev_parse_line(line, strlen(line), &po, ps);
		ps->ev.seq = i + 1;
		ev_rules_match(r, &ps->ev, count_cb, &hits);
	}
	t2 = now_s();
	{
		double match = (t2 - t1) - (t1 - t0);
		if (match <= 0)
			match = 1e-9;
		printf("# bench: built-in pack (%zu rules, %zu literals, %zu unindexed), %zu lines, "
		       "%zu alerts\n",
		    ev_rules_count(r), r->nlits, r->nalways, nlines, hits);
		printf("# bench: generate+parse %.0f lines/s; generate+parse+match %.0f lines/s; "
		       "matching alone %.0f events/s (%.2f us/event)\n",
		    (double)nlines / (t1 - t0), (double)nlines / (t2 - t1), (double)nlines / match,
		    match * 1e6 / (double)nlines);
	}
	ev_parsed_free(ps);
	free(ps);
	ev_rules_free(r);
}

int
main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "--bench") == 0) {
		bench((size_t)strtoul(argv[2], NULL, 10));
		return 0;
	}
	test_fixture_rules();
	test_builtin_pack_lints();
	test_diagnostics();
	test_modifiers();
	test_conditions();
	test_why_and_service();
	test_correlation_event_count();
	test_correlation_other_types();
	test_prefilter_agrees();
	test_load_buffer_garbage();
	test_huge_rule_set();
	test_correlation_lattice();
	bench(50000);
	UNIT_END();
}
