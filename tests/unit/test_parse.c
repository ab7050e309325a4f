/*
 * test_parse.c - the log parsers (src/ingest/parse.h): the RFC examples,
 * edge cases, malformed input of every kind kept raw with a reason, and
 * every line of the real-daemon corpus in tests/fixtures/logs/.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/parse.h"
#include "ingest/parse_int.h"
#include "unit.h"
#include "util/timeutil.h"

static struct ev_parsed P;
static struct ev_parse_opts O;

/* 2026-11-24T23:00:00Z: "now" for year inference (the corpus was captured then). */
#define NOW_US 1795561200000000LL

static int64_t
t(const char *rfc3339)
{
	int64_t us = -1;

	if (ev_time_parse(rfc3339, &us) != 0)
		abort();
	return us;
}

static int
parse_n(const char *line, size_t len, enum ev_log_format f)
{
	O.format = f;
	ev_parse_line(line, len, &O, &P);
	return P.ok;
}

static int
parse(const char *line, enum ev_log_format f)
{
	return parse_n(line, strlen(line), f);
}

/* The field equals want (want NULL: the field is absent). */
static int
is(const char *name, const char *want)
{
	size_t len;
	const char *v = ev_event_get(&P.ev, name, &len);

	if (want == NULL) {
		if (v != NULL)
			printf("# %s present: [%.*s]\n", name, (int)len, v);
		return v == NULL;
	}
	if (v == NULL) {
		printf("# %s absent, want [%s]\n", name, want);
		return 0;
	}
	if (len != strlen(want) || memcmp(v, want, len) != 0) {
		printf("# %s = [%.*s], want [%s]\n", name, (int)len, v, want);
		return 0;
	}
	return 1;
}

/* Kept raw: ok 0, no fields, the raw line, a reason containing why. */
static int
raw(const char *why)
{
	int good = P.ok == 0 && P.ev.nfields == 0 && P.error[0] != '\0' && P.ev.time_us == 0 &&
		   (why == NULL || strstr(P.error, why) != NULL);
	if (!good)
		printf("# ok=%d nfields=%zu error=[%s] (want [%s])\n", P.ok, P.ev.nfields, P.error,
		    why ? why : "");
	return good;
}

static int
rejects(const char *line, enum ev_log_format f, const char *why)
{
	parse(line, f);
	if (!raw(why)) {
		printf("#   line: %s\n", line);
		return 0;
	}
	return P.ev.raw == line && P.ev.raw_len == strlen(line);
}

static void
test_rfc5424_examples(void)
{
	/* RFC 5424 section 6.5, examples 1 to 4. */
	const char *ex1 = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
			  "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8";
	CHECK(parse(ex1, EV_FMT_AUTO) && P.format == EV_FMT_RFC5424, "5424 example 1 parses");
	CHECK(is("facility", "4") && is("severity", "2"), "example 1: PRI 34 = auth.crit");
	CHECK(is("timestamp", "2003-10-11T22:14:15.003Z") &&
	    P.ev.time_us == t("2003-10-11T22:14:15.003Z"), "example 1: time");
	CHECK(is("host", "mymachine.example.com") && is("app", "su") && is("procid", NULL) &&
	    is("msgid", "ID47"), "example 1: header fields, PROCID nil");
	CHECK(is("message", "'su root' failed for lonvick on /dev/pts/8"),
	    "example 1: BOM removed from MSG");

	const char *ex2 = "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
			  "%% It's time to make the do-nuts.";
	CHECK(parse(ex2, EV_FMT_AUTO), "5424 example 2 parses");
	CHECK(is("facility", "20") && is("severity", "5"), "example 2: PRI 165 = local4.notice");
	CHECK(P.ev.time_us == t("2003-08-24T12:14:15.000003Z"),
	    "example 2: microseconds and -07:00 offset");
	CHECK(is("host", "192.0.2.1") && is("app", "myproc") && is("procid", "8710") &&
	    is("msgid", NULL) && is("message", "%% It's time to make the do-nuts."),
	    "example 2: fields");

	const char *ex3 = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
			  "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
			  "\xEF\xBB\xBF" "An application event log entry...";
	CHECK(parse(ex3, EV_FMT_AUTO), "5424 example 3 parses");
	CHECK(is("sd.exampleSDID@32473.iut", "3") &&
	    is("sd.exampleSDID@32473.eventSource", "Application") &&
	    is("sd.exampleSDID@32473.eventID", "1011"), "example 3: structured data params");
	CHECK(is("message", "An application event log entry...") && is("app", "evntslog"),
	    "example 3: message after SD, BOM removed");

	const char *ex4 = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
			  "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
			  "[examplePriority@32473 class=\"high\"]";
	CHECK(parse(ex4, EV_FMT_AUTO), "5424 example 4 parses");
	CHECK(is("sd.exampleSDID@32473.eventID", "1011") && is("sd.examplePriority@32473.class", "high"),
	    "example 4: two SD elements");
	CHECK(is("message", NULL), "example 4: no MSG, no message field");
}

static void
test_rfc5424_edges(void)
{
	CHECK(parse("<13>1 2026-11-24T22:30:01+01:00 h a p m [x@1 v=\"a\\\"b\\\\c\\]d\"] m", EV_FMT_AUTO) &&
	    is("sd.x@1.v", "a\"b\\c]d"), "SD escapes \\\" \\\\ \\] decoded");
	CHECK(parse("<13>1 - - - - - [x@1 v=\"a\\nb\\\"\"]", EV_FMT_AUTO) && is("sd.x@1.v", "a\\nb\""),
	    "an invalid escape keeps its backslash (RFC 5424 6.3.3)");
	CHECK(parse("<13>1 - - - - - [x@1 v=\"a]b\"]", EV_FMT_AUTO) && is("sd.x@1.v", "a]b"),
	    "an unescaped ']' inside a quoted value is tolerated");
	CHECK(parse("<13>1 - - - - - [x@1 v=\"\"][y@1]", EV_FMT_AUTO) && is("sd.x@1.v", ""),
	    "empty param value; element without params");
	CHECK(parse("<13>1 - - - - - [x@1 v=\"é €\"] ü", EV_FMT_AUTO) && is("sd.x@1.v", "é €") &&
	    is("message", "ü"), "UTF-8 in values and message");
	CHECK(parse("<0>1 - - - - - -", EV_FMT_AUTO) && is("facility", "0") && is("severity", "0") &&
	    is("timestamp", NULL) && is("host", NULL) && is("app", NULL) && is("procid", NULL) &&
	    is("msgid", NULL) && is("message", NULL) && P.ev.time_us == 0,
	    "all NILVALUE: PRI fields only, no time");
	CHECK(parse("<191>1 - - - - - - ", EV_FMT_AUTO) && is("facility", "23") && is("severity", "7") &&
	    is("message", ""), "PRI 191 = local7.debug; empty MSG after SP");
	CHECK(parse("<14>1 2026-11-24T22:30:01.5+05:30 h a p m -  lead", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T17:00:01.5Z") && is("message", " lead"),
	    "fraction of one digit, +05:30, MSG keeps its leading space");
	CHECK(parse("<14>1 2024-02-29T23:59:59.999999Z h a p m - x", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2024-02-29T23:59:59.999999Z"), "leap day, 6 fraction digits");
	CHECK(parse("<14>1 2026-11-24T22:30:01Z h a p m - x\r", EV_FMT_AUTO) && is("message", "x"),
	    "trailing CR is not part of the message");
	char many[8192];
	size_t k = (size_t)snprintf(many, sizeof(many), "<14>1 - h a - - [x@1");
	for (int i = 0; i < 300; i++)
		k += (size_t)snprintf(many + k, sizeof(many) - k, " p%d=\"%d\"", i, i);
	snprintf(many + k, sizeof(many) - k, "] msg");
	CHECK(!parse(many, EV_FMT_AUTO) && raw("more than"), "more SD params than field slots: raw");

	/* Malformed: every one kept raw with its reason. */
	CHECK(rejects("<192>1 - - - - - -", EV_FMT_AUTO, "PRI greater than 191"), "PRI 192 rejected");
	CHECK(rejects("<1a>1 - - - - - -", EV_FMT_RFC5424, "PRI"), "PRI not a number");
	CHECK(rejects("<>1 - - - - - -", EV_FMT_RFC5424, "PRI"), "empty PRI");
	CHECK(rejects("<0013>1 - - - - - -", EV_FMT_RFC5424, "more than 3 digits"), "4-digit PRI");
	CHECK(rejects("<13 1 - - - - - -", EV_FMT_RFC5424, "PRI"), "PRI not closed");
	CHECK(rejects("13>1 - - - - - -", EV_FMT_RFC5424, "PRI"), "PRI without '<'");
	CHECK(rejects("<13>2 - - - - - -", EV_FMT_AUTO, "VERSION 2"), "VERSION 2 rejected");
	CHECK(rejects("<13>0 - - - - - -", EV_FMT_RFC5424, "VERSION"), "VERSION 0 rejected");
	CHECK(rejects("<13> - - - - - -", EV_FMT_RFC5424, "VERSION missing"), "VERSION missing");
	CHECK(rejects("<13>1- - - - - -", EV_FMT_RFC5424, "SP expected"), "no SP after VERSION");
	CHECK(rejects("<13>1 2003-10-11t22:14:15Z h a p m -", EV_FMT_AUTO, "'T'"), "lower-case t");
	CHECK(rejects("<13>1 2003-13-11T22:14:15Z h a p m -", EV_FMT_AUTO, "no such date"), "month 13");
	CHECK(rejects("<13>1 2003-02-29T22:14:15Z h a p m -", EV_FMT_AUTO, "no such date"),
	    "Feb 29 in a common year");
	CHECK(rejects("<13>1 2003-04-31T22:14:15Z h a p m -", EV_FMT_AUTO, "no such date"), "April 31");
	CHECK(rejects("<13>1 2003-10-11T24:00:00Z h a p m -", EV_FMT_AUTO, "out of range"), "hour 24");
	CHECK(rejects("<13>1 2003-10-11T22:14:60Z h a p m -", EV_FMT_AUTO, "out of range"),
	    "leap second 60 (forbidden by 6.2.3)");
	CHECK(rejects("<13>1 2003-10-11T22:14:15.1234567Z h a p m -", EV_FMT_AUTO, "1 to 6"),
	    "7 fraction digits");
	CHECK(rejects("<13>1 2003-10-11T22:14:15.Z h a p m -", EV_FMT_AUTO, "1 to 6"), "empty fraction");
	CHECK(rejects("<13>1 2003-10-11T22:14:15 h a p m -", EV_FMT_AUTO, "timestamp"), "no zone");
	CHECK(rejects("<13>1 2003-10-11T22:14:15z h a p m -", EV_FMT_AUTO, "offset"), "lower-case z");
	CHECK(rejects("<13>1 2003-10-11T22:14:15+24:00 h a p m -", EV_FMT_AUTO, "bad offset"),
	    "offset +24:00");
	CHECK(rejects("<13>1 2003-10-11T22:14:15+0100 h a p m -", EV_FMT_AUTO, "offset"),
	    "offset without colon");
	CHECK(rejects("<13>1 2003-10-11T22:14:15ZZ h a p m -", EV_FMT_AUTO, "trailing"),
	    "text after the time stamp");
	CHECK(rejects("<13>1 2003-10-11 h a p m -", EV_FMT_AUTO, "too short"), "date only");
	char host[400];
	memset(host, 'h', 256);
	host[256] = '\0';
	char line[600];
	snprintf(line, sizeof(line), "<13>1 - %s a p m -", host);
	CHECK(rejects(line, EV_FMT_AUTO, "HOSTNAME too long"), "HOSTNAME of 256 characters");
	CHECK(rejects("<13>1 - h aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa p m -", EV_FMT_AUTO,
	    "APP-NAME too long"), "APP-NAME of 49 characters");
	CHECK(rejects("<13>1 - h a p mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm -", EV_FMT_AUTO, "MSGID too long"),
	    "MSGID of 33 characters");
	CHECK(rejects("<13>1 - h\xC3\xA9 a p m -", EV_FMT_AUTO, "HOSTNAME non-printable"),
	    "non-ASCII HOSTNAME");
	CHECK(rejects("<13>1 - h  a p m -", EV_FMT_AUTO, "APP-NAME empty"), "two spaces in the header");
	CHECK(rejects("<13>1 - h a p", EV_FMT_AUTO, "PROCID"), "header cut short");
	CHECK(rejects("<13>1 - h a p m", EV_FMT_AUTO, "MSGID"), "no structured data");
	CHECK(rejects("<13>1 - h a p m x", EV_FMT_AUTO, "'-' or start with '['"), "SD neither - nor [");
	CHECK(rejects("<13>1 - h a p m -x", EV_FMT_AUTO, "SP expected"), "no SP after nil SD");
	CHECK(rejects("<13>1 - h a p m [id a=\"b\"", EV_FMT_AUTO, "unterminated SD-ELEMENT"),
	    "SD element not closed");
	CHECK(rejects("<13>1 - h a p m [id a=\"b", EV_FMT_AUTO, "unterminated PARAM-VALUE"),
	    "param value not closed");
	CHECK(rejects("<13>1 - h a p m [id a=\"b\\\"]", EV_FMT_AUTO, "unterminated PARAM-VALUE"),
	    "escaped quote does not close the value");
	CHECK(rejects("<13>1 - h a p m [id a=b]", EV_FMT_AUTO, "'\"' expected"), "unquoted value");
	CHECK(rejects("<13>1 - h a p m [id a]", EV_FMT_AUTO, "'=' expected"), "param without value");
	CHECK(rejects("<13>1 - h a p m [ a=\"b\"]", EV_FMT_AUTO, "empty SD-ID"), "empty SD-ID");
	CHECK(rejects("<13>1 - h a p m [id  a=\"b\"]", EV_FMT_AUTO, "empty PARAM-NAME"), "two spaces");
	CHECK(rejects("<13>1 - h a p m [id a=\"b\"]x", EV_FMT_AUTO, "SP expected"), "no SP before MSG");
	CHECK(parse("<13>1 - h a p m [id a=\"b\"] [id2 c=\"d\"]", EV_FMT_AUTO) &&
	    is("message", "[id2 c=\"d\"]") && is("sd.id2.c", NULL), "a SP between SD elements starts the MSG");
	CHECK(rejects("<13>1 - h a p m [id a=\"1\"][id b=\"2\"]", EV_FMT_AUTO, "appears twice"),
	    "duplicate SD-ID");
	CHECK(rejects("<13>1 - h a p m [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x=\"1\"]", EV_FMT_AUTO,
	    "longer than 32"), "SD-ID of 33 characters");
	CHECK(rejects("<13>1 - h a p m [id aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\"1\"]", EV_FMT_AUTO,
	    "longer than 32"), "PARAM-NAME of 33 characters");
	CHECK(rejects("<13>1 - h a p m [id a=\"1\"x]", EV_FMT_AUTO, "']' or ' ' expected"),
	    "junk after a param");
	CHECK(rejects("Nov 24 22:30:01 host sshd[1]: x", EV_FMT_RFC5424, "rfc5424"),
	    "BSD line forced to 5424");
}

static void
test_rfc3164_examples(void)
{
	/* RFC 3164 section 5.4. */
	CHECK(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
	    EV_FMT_AUTO) && P.format == EV_FMT_RFC3164, "3164 example 1 parses");
	CHECK(is("facility", "4") && is("severity", "2") && is("host", "mymachine") && is("app", "su") &&
	    is("procid", NULL) && is("message", "'su root' failed for lonvick on /dev/pts/8"),
	    "example 1: fields");
	CHECK(P.ev.time_us == t("2026-10-11T22:14:15Z") && is("timestamp", "2026-10-11T22:14:15.000000Z"),
	    "example 1: year inferred from now (Nov 2026), UTC");

	CHECK(rejects("Use the BFG!", EV_FMT_AUTO, "no time stamp"),
	    "example 2 as sent (no PRI, no header) is kept raw");
	CHECK(parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", EV_FMT_AUTO) && is("facility", "1") &&
	    is("severity", "5") && is("host", "10.0.0.99") && is("app", NULL) &&
	    is("message", "Use the BFG!") && P.ev.time_us == t("2026-02-05T17:32:18Z"),
	    "example 2 as relayed: host, message, no tag");

	CHECK(parse("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  "
		    "%%  Ingredients: Mix=OK, Jelly=OK # Devices: Mixer=OK, Jelly_Injector=OK, Frier=OK # "
		    "Transport: Conveyer1=OK, Conveyer2=OK # %%", EV_FMT_AUTO) &&
	    is("facility", "20") && is("severity", "5") && is("host", "mymachine") && is("app", "myproc") &&
	    is("procid", "10") && P.ev.time_us == t("1987-08-24T11:34:00Z"),
	    "example 3: zone and year after the time (CST = UTC-6)");
	CHECK(is("message", "%% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK # "
			    "Devices: Mixer=OK, Jelly_Injector=OK, Frier=OK # Transport: Conveyer1=OK, "
			    "Conveyer2=OK # %%"), "example 3: message");

	CHECK(parse("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: "
		    "That's All Folks!", EV_FMT_AUTO) && P.format == EV_FMT_RFC3164 &&
	    is("facility", "0") && is("severity", "0") && is("host", "scapegoat.dmz.example.org") &&
	    P.ev.time_us == t("1990-10-22T16:52:01Z") &&
	    is("message", "10.1.2.3 sched[0]: That's All Folks!"),
	    "example 4: year first, TZ-6; the IP address stays in the message");
	CHECK(parse("<0>Oct 22 10:52:12 scapegoat 1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org "
		    "10.1.2.3 sched[0]: That's All Folks!", EV_FMT_AUTO) && is("host", "scapegoat") &&
	    is("message", "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: "
			  "That's All Folks!") && P.ev.time_us == t("2026-10-22T10:52:12Z"),
	    "example 4 as relayed: the original is the message");
}

static void
test_rfc3164_shapes(void)
{
	CHECK(parse("Nov 24 22:30:01 host sshd[123]: Failed password for root from 1.2.3.4 port 22 ssh2",
	    EV_FMT_AUTO) && is("facility", NULL) && is("severity", NULL) && is("host", "host") &&
	    is("app", "sshd") && is("procid", "123") &&
	    is("message", "Failed password for root from 1.2.3.4 port 22 ssh2") &&
	    P.ev.time_us == t("2026-11-24T22:30:01Z"), "auth.log line without PRI");
	CHECK(parse("Nov  4 01:02:03 host CRON[9]: x", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-04T01:02:03Z") && is("app", "CRON"), "day padded with a space");
	CHECK(parse("Nov 4 01:02:03 host CRON[9]: x", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-04T01:02:03Z"), "day not padded");
	CHECK(parse("Nov 24 22:30:01.250 host app: x", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T22:30:01.25Z"), "fraction after the BSD time");
	CHECK(parse("2026-11-24T22:30:01.123456+00:00 host sshd[123]: msg", EV_FMT_AUTO) &&
	    is("timestamp", "2026-11-24T22:30:01.123456+00:00") && is("host", "host") &&
	    is("app", "sshd") && is("procid", "123") && is("message", "msg") &&
	    P.ev.time_us == t("2026-11-24T22:30:01.123456Z"), "rsyslog ISO stamp (Debian 12 default)");
	CHECK(parse("<38>2026-11-24T23:30:01+01:00 host sudo: x", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T22:30:01Z") && is("facility", "4") && is("severity", "6"),
	    "ISO stamp with offset and PRI");
	O.timezone = "Europe/Berlin";
	CHECK(parse("2026-11-24T23:30:01 host app: x", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T22:30:01Z") && is("timestamp", "2026-11-24T22:30:01.000000Z"),
	    "ISO stamp without offset is local time");
	O.timezone = NULL;
	CHECK(parse("<13>Nov 24 22:30:01 sshd[123]: msg", EV_FMT_AUTO) && is("host", NULL) &&
	    is("app", "sshd") && is("procid", "123") && is("message", "msg"),
	    "no HOSTNAME (as written to /dev/log)");
	CHECK(parse("<13>Nov 24 22:30:01 su: msg", EV_FMT_AUTO) && is("host", NULL) && is("app", "su"),
	    "no HOSTNAME, tag without pid");
	CHECK(parse("Nov 24 22:30:01 mail postfix/smtpd[77]: connect from x", EV_FMT_AUTO) &&
	    is("app", "postfix/smtpd") && is("procid", "77"), "tag with a slash");
	CHECK(parse("Nov 24 22:30:01 h kernel: [ 12.345] usb 1-1: new device", EV_FMT_AUTO) &&
	    is("app", "kernel") && is("message", "[ 12.345] usb 1-1: new device"), "kernel line");
	CHECK(parse("Nov 24 22:30:01 h -- MARK --", EV_FMT_AUTO) && is("app", NULL) &&
	    is("message", "-- MARK --"), "no tag: all message");
	CHECK(parse("Nov 24 22:30:01 h app[12] no colon", EV_FMT_AUTO) && is("app", NULL) &&
	    is("message", "app[12] no colon"), "tag without colon is message");
	CHECK(parse("Nov 24 22:30:01 h app[]: x", EV_FMT_AUTO) && is("app", NULL),
	    "empty pid: not a tag");
	CHECK(parse("Nov 24 22:30:01 h fe80::1 said", EV_FMT_AUTO) && is("app", NULL),
	    "colon not followed by space is not a tag");
	CHECK(parse("Nov 24 22:30:01 h app:", EV_FMT_AUTO) && is("app", "app") && is("message", ""),
	    "tag with empty message");
	CHECK(parse("Nov 24 22:30:01 h", EV_FMT_AUTO) && is("host", "h") && is("message", ""),
	    "host only");
	CHECK(parse("Nov 24 22:30:01 h sshd[1]: x\r", EV_FMT_AUTO) && is("message", "x"),
	    "CRLF line ending");
	CHECK(parse("nov 24 22:30:01 h a: x", EV_FMT_AUTO), "month name in any case");
	CHECK(parse("Nov 24 22:30:60 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-11-24T22:30:59Z"),
	    "leap second kept as :59");

	/* Year inference. */
	O.now_us = t("2027-01-05T10:00:00Z");
	CHECK(parse("Dec 31 23:59:59 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-12-31T23:59:59Z"),
	    "January: December means last year");
	O.now_us = t("2026-12-31T23:00:00Z");
	CHECK(parse("Jan  1 00:30:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2027-01-01T00:30:00Z"),
	    "New Year's Eve: a sender slightly ahead is next year");
	O.now_us = NOW_US;
	CHECK(parse("Dec 31 00:00:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2025-12-31T00:00:00Z"),
	    "more than a month ahead: last year");
	CHECK(parse("Dec 10 00:00:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-12-10T00:00:00Z"),
	    "less than a month ahead: this year");
	O.now_us = t("2028-03-01T00:00:00Z");
	CHECK(parse("Feb 29 12:00:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2028-02-29T12:00:00Z"),
	    "Feb 29 in a leap year");
	O.now_us = t("2029-01-10T00:00:00Z");
	CHECK(parse("Feb 29 12:00:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2028-02-29T12:00:00Z"),
	    "Feb 29 read in January after a leap year: that leap year");
	O.now_us = t("2027-03-01T00:00:00Z");
	CHECK(rejects("Feb 29 12:00:00 h a: x", EV_FMT_AUTO, "Feb 29"),
	    "Feb 29 when neither this year nor last was leap: raw");
	O.now_us = NOW_US;

	/* Time zones. */
	const char *before = getenv("TZ");
	char saved[128];
	snprintf(saved, sizeof(saved), "%s", before ? before : "(unset)");
	O.timezone = "Europe/Berlin";
	CHECK(parse("Nov 24 22:30:01 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-11-24T21:30:01Z"),
	    "Europe/Berlin in winter: UTC+1");
	O.now_us = t("2026-07-02T00:00:00Z");
	CHECK(parse("Jul  1 12:00:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-07-01T10:00:00Z"),
	    "Europe/Berlin in summer: UTC+2");
	O.now_us = t("2026-04-01T00:00:00Z");
	CHECK(parse("Mar 29 01:30:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-03-29T00:30:00Z"),
	    "Berlin, DST change day, before 02:00: UTC+1");
	CHECK(parse("Mar 29 03:30:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-03-29T01:30:00Z"),
	    "Berlin, DST change day, after 03:00: UTC+2");
	O.timezone = "Australia/Lord_Howe"; /* DST moves the clock by 30 minutes */
	O.now_us = t("2026-07-02T00:00:00Z");
	CHECK(parse("Jul  1 12:00:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-07-01T01:30:00Z"),
	    "Australia/Lord_Howe in July: UTC+10:30");
	O.timezone = "America/New_York";
	O.now_us = NOW_US;
	CHECK(parse("Nov 24 17:30:01 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-11-24T22:30:01Z"),
	    "America/New_York: UTC-5");
	CHECK(parse("Nov 24 17:30:01 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-11-24T22:30:01Z"),
	    "the same again (from the cache)");
	CHECK(parse("2026-11-24T22:30:01Z h a: x", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T22:30:01Z"), "an explicit offset wins over the zone");
	const char *after = getenv("TZ");
	CHECK(strcmp(saved, after ? after : "(unset)") == 0, "TZ is restored after conversions");
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	O.timezone = "Europe/Berlin";
	parse("Nov 24 03:00:00 h a: x", EV_FMT_AUTO);
	after = getenv("TZ");
	CHECK(after && strcmp(after, "Asia/Tokyo") == 0, "a caller's TZ is kept");
	time_t probe = 0;
	struct tm tmv;
	localtime_r(&probe, &tmv);
	CHECK(tmv.tm_hour == 9, "and localtime still answers in the caller's zone");
	if (before)
		setenv("TZ", before, 1);
	else
		unsetenv("TZ");
	tzset();
	O.timezone = "Mars/Olympus_Mons";
	CHECK(rejects("Nov 24 03:00:00 h a: x", EV_FMT_AUTO, "unknown time zone"), "unknown zone: raw");
	O.timezone = "../../../etc/passwd";
	CHECK(rejects("Nov 24 03:00:00 h a: x", EV_FMT_AUTO, "unknown time zone"), "path as zone: raw");
	O.timezone = "UTC";
	CHECK(parse("Nov 24 03:00:00 h a: x", EV_FMT_AUTO) && P.ev.time_us == t("2026-11-24T03:00:00Z"),
	    "zone UTC");
	O.timezone = NULL;

	/* Malformed. */
	CHECK(rejects("hello world", EV_FMT_AUTO, "no time stamp"), "free text: raw");
	CHECK(rejects("<999>Nov 24 22:30:01 h a: x", EV_FMT_AUTO, "PRI"), "PRI 999");
	CHECK(rejects("<192>Nov 24 22:30:01 h a: x", EV_FMT_AUTO, "greater than 191"), "PRI 192");
	CHECK(rejects("<13>", EV_FMT_AUTO, "time stamp"), "PRI only");
	CHECK(rejects("<13", EV_FMT_AUTO, "PRI"), "PRI cut short");
	CHECK(rejects("Foo 24 22:30:01 h a: x", EV_FMT_AUTO, "time stamp"), "unknown month");
	CHECK(rejects("Nov 32 22:30:01 h a: x", EV_FMT_AUTO, "time stamp"), "day 32");
	CHECK(rejects("Nov 00 22:30:01 h a: x", EV_FMT_AUTO, "time stamp"), "day 0");
	CHECK(rejects("Nov 24 25:30:01 h a: x", EV_FMT_AUTO, "time stamp"), "hour 25");
	CHECK(rejects("Nov 24 22:61:01 h a: x", EV_FMT_AUTO, "time stamp"), "minute 61");
	CHECK(rejects("Nov 24 22:30 h a: x", EV_FMT_AUTO, "time stamp"), "no seconds");
	CHECK(rejects("Feb 30 22:30:01 h a: x", EV_FMT_AUTO, "no Feb 30"), "Feb 30");
	CHECK(rejects("Nov 24 22:30:01h a: x", EV_FMT_AUTO, "SP expected"), "no SP after the time");
	CHECK(rejects("Nov 24 22:30:01  a: x", EV_FMT_AUTO, "HOSTNAME missing"), "empty host");
	CHECK(rejects("Nov 24 22:30:01", EV_FMT_AUTO, "HOSTNAME missing"), "time stamp only");
	CHECK(rejects("2026-13-01T00:00:00Z h a: x", EV_FMT_AUTO, "no such date"), "ISO month 13");
	CHECK(rejects("2026-11-24T22:30:01+0100 h a: x", EV_FMT_AUTO, NULL), "ISO offset without colon");
	CHECK(rejects("2026-11-24X22:30:01Z h a: x", EV_FMT_AUTO, "time stamp"), "ISO without T");
	CHECK(rejects("{\"not\":\"syslog\"}", EV_FMT_RFC3164, "time stamp"), "JSON forced to 3164");
}

/*
 * tzconv.c reads TZif files itself; glibc's localtime_r is the reference.
 * Random instants 1950..2100 (after 2037 the POSIX footer rule decides),
 * offsets compared, and local -> UTC -> local must come back.
 */
static void
test_tz_against_glibc(void)
{
	static const char *const zones[] = { "Europe/Berlin", "Europe/London", "Europe/Dublin",
		"America/New_York", "America/Sao_Paulo", "America/St_Johns", "Asia/Kolkata",
		"Asia/Tehran", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham",
		"Africa/Casablanca", "Pacific/Apia", "UTC" };
	const char *old = getenv("TZ");
	char saved[128];
	uint64_t x = 88172645463325252ULL;

	snprintf(saved, sizeof(saved), "%s", old ? old : "");
	for (size_t zi = 0; zi < sizeof(zones) / sizeof(zones[0]); zi++) {
		size_t bad = 0, n = 0;
		setenv("TZ", zones[zi], 1);
		tzset();
		for (int i = 0; i < 3000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			int64_t u = (int64_t)(x % 4733510400ULL) - 631152000LL; /* 1950..2100 */
			time_t tt = (time_t)u;
			struct tm tm, tm2;
			int32_t off = 0;
			int64_t back = 0;
			localtime_r(&tt, &tm);
			n++;
			if (pf_tz_offset_at(zones[zi], u, &off) != 0 || off != tm.tm_gmtoff) {
				if (bad++ == 0)
					printf("# %s at %lld: %d, glibc %ld\n", zones[zi], (long long)u, off,
					    (long)tm.tm_gmtoff);
				continue;
			}
			pf_tz_local_to_utc(zones[zi], u + tm.tm_gmtoff, &back);
			tt = (time_t)back;
			localtime_r(&tt, &tm2);
			if (back + tm2.tm_gmtoff != u + tm.tm_gmtoff && bad++ == 0)
				printf("# %s: local %lld came back as %lld\n", zones[zi],
				    (long long)(u + tm.tm_gmtoff), (long long)back);
		}
		CHECK(bad == 0, "tz database reader agrees with glibc: %s (%zu instants)", zones[zi], n);
	}
	if (old)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	int64_t u;
	CHECK(pf_tz_local_to_utc("Europe/Berlin", t("2026-10-25T02:30:00Z") / 1000000, &u) == 0 &&
	    u == t("2026-10-25T00:30:00Z") / 1000000, "a local time that happens twice: the earlier");
	CHECK(pf_tz_local_to_utc("Europe/Berlin", t("2026-03-29T02:30:00Z") / 1000000, &u) == 0 &&
	    u == t("2026-03-29T01:30:00Z") / 1000000, "a skipped local time: offset from before");
	CHECK(pf_tz_local_to_utc("No/Such_Zone", 0, &u) == -1, "unknown zone refused");
}

static void
test_auditd(void)
{
	const char *brief = "type=USER_LOGIN msg=audit(1732487401.123:456): pid=4242 uid=0 auid=4294967295 "
			    "acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=1.2.3.4 res=failed";
	CHECK(parse(brief, EV_FMT_AUTO), "raw audit.log line parses");
	CHECK(is("type", "USER_LOGIN") && is("msg", "audit(1732487401.123:456)") && is("pid", "4242") &&
	    is("uid", "0") && is("auid", "4294967295") && is("acct", "root") &&
	    is("exe", "/usr/sbin/sshd") && is("hostname", "?") && is("addr", "1.2.3.4") &&
	    is("res", "failed"), "audit pairs become fields, quotes removed");
	CHECK(P.ev.time_us == t("2024-11-24T22:30:01.123Z") &&
	    is("timestamp", "2024-11-24T22:30:01.123000Z"), "audit(...) gives the event time");
	CHECK(is("message", "pid=4242 uid=0 auid=4294967295 acct=\"root\" exe=\"/usr/sbin/sshd\" "
			    "hostname=? addr=1.2.3.4 res=failed") && is("host", NULL),
	    "message is the text after \"): \"");

	const char *enriched = "node=ca1 type=USER_AUTH msg=audit(1795560227.302:7): pid=21411 uid=0 "
			       "auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=? "
			       "acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=127.0.0.1 addr=127.0.0.1 "
			       "terminal=ssh res=failed'\x1dUID=\"root\" AUID=\"unset\"";
	CHECK(parse(enriched, EV_FMT_AUTO) && is("host", "ca1") && is("type", "USER_AUTH") &&
	    is("op", "PAM:authentication") && is("acct", "alice") && is("terminal", "ssh") &&
	    is("res", "failed") && is("UID", "root") && is("AUID", "unset") &&
	    is("msg", "audit(1795560227.302:7)"),
	    "node= is the host; msg='...' pairs lifted; enriched part after 0x1D");

	CHECK(parse("Nov 24 22:44:21 vm audisp-syslog: node=vm type=USER_LOGIN msg=audit(1795560229.122:8): "
		    "pid=21411 uid=0 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=? "
		    "addr=127.0.0.1 terminal=sshd res=failed' UID=\"root\"", EV_FMT_AUTO) &&
	    is("app", "audisp-syslog") && is("host", "vm") && is("node", "vm") && is("acct", "alice") &&
	    is("res", "failed") && P.ev.time_us == t("2026-11-24T22:44:21Z"),
	    "audit via syslog: pairs extracted, syslog time kept");
	CHECK(parse("Nov 24 22:44:21 vm kernel: audit: type=1400 audit(1795560229.122:8): "
		    "apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/sbin/cupsd\" name=\"/etc/shadow\" "
		    "pid=123 comm=\"cupsd\"", EV_FMT_AUTO) &&
	    is("app", "kernel") && is("apparmor", "DENIED") && is("name", "/etc/shadow") &&
	    is("comm", "cupsd"), "kernel audit line");
	CHECK(parse("Nov 24 22:44:21 vm sshd[5]: Failed password for x from 1.2.3.4 port 22 ssh2",
	    EV_FMT_AUTO) && P.ev.nfields == 5, "ordinary messages get no key=value fields");
	CHECK(parse("Nov 24 22:44:21 vm audit[9]: USER_LOGIN pid=9 host=evil message=evil", EV_FMT_AUTO) &&
	    is("host", "vm") && is("pid", "9") && is("message", "USER_LOGIN pid=9 host=evil message=evil"),
	    "pairs never override syslog fields");
	CHECK(parse("type=X msg=audit(1.5:1): a=\"unterminated", EV_FMT_AUTO) && is("a", "unterminated"),
	    "unterminated quote runs to the end");
	CHECK(rejects("type=X no audit stamp here", EV_FMT_AUTO, "msg=audit"), "audit line without stamp");
	CHECK(rejects("type=X msg=audit(abc): x", EV_FMT_AUTO, "bad time"), "audit stamp not a number");
	CHECK(rejects("node=", EV_FMT_AUTO, NULL), "node= alone");
}

static void
test_json(void)
{
	CHECK(parse("{\"user\":{\"name\":\"bob\",\"id\":7},\"n\":-1.5e3,\"ok\":true,\"no\":false,"
		    "\"tags\":[\"a\", \"b\", {\"c\" : [1, 2]}],\"x\":null,\"e\":{}}", EV_FMT_AUTO) &&
	    P.format == EV_FMT_JSON, "JSON object parses");
	CHECK(is("user.name", "bob") && is("user.id", "7"), "nested objects flattened with dots");
	CHECK(is("n", "-1.5e3") && is("ok", "true") && is("no", "false"), "numbers and booleans as text");
	CHECK(is("tags", "[\"a\",\"b\",{\"c\":[1,2]}]"), "array as compact JSON text");
	CHECK(is("x", NULL) && is("e", NULL) && P.ev.nfields == 6, "null and {} give no field");
	CHECK(parse("{\"a\":[1,2]}", EV_FMT_AUTO) && is("a", "[1,2]"), "compact array kept in place");
	CHECK(parse("{\"a\":[\"x y\", \"\\\" ]\"]}", EV_FMT_AUTO) && is("a", "[\"x y\",\"\\\" ]\"]"),
	    "spaces inside array strings survive compaction");
	CHECK(parse("{\"s\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20ac \\ud83d\\ude00\"}", EV_FMT_AUTO) &&
	    is("s", "q\" b\\ s/ \b\f\n\r\t \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "every escape decoded");
	CHECK(parse("{\"k\\u00e9y\":{\"a\\\"b\":1}}", EV_FMT_AUTO) && is("k\xC3\xA9y.a\"b", "1"),
	    "escaped keys decoded in the path");
	CHECK(parse("  {\"a\":1}  ", EV_FMT_JSON) && is("a", "1"), "white space around the object");
	CHECK(parse("{}", EV_FMT_AUTO) && P.ev.nfields == 0, "empty object: ok, no fields");
	CHECK(parse("{\"a\":1,\"a\":2}", EV_FMT_AUTO) && is("a", "1") && P.ev.nfields == 2,
	    "duplicate names kept, first wins");
	CHECK(parse("{\"@timestamp\":\"2026-11-24T22:30:01.5Z\",\"message\":\"m\"}", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T22:30:01.5Z"), "@timestamp sets the event time");
	CHECK(parse("{\"time\":\"2026-11-24T23:30:01+01:00\"}", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T22:30:01Z"), "time with offset");
	CHECK(parse("{\"ts\":\"2026-11-24T22:30:01Z\"}", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T22:30:01Z"), "ts");
	CHECK(parse("{\"timestamp\":\"yesterday\",\"ts\":\"2026-11-24T22:30:01Z\"}", EV_FMT_AUTO) &&
	    P.ev.time_us == t("2026-11-24T22:30:01Z"), "an unparsable time field is skipped");
	CHECK(parse("{\"time\":\"now\"}", EV_FMT_AUTO) && P.ev.time_us == 0, "\"now\" is not a time");
	CHECK(parse("{\"ts\":1795561200}", EV_FMT_AUTO) && P.ev.time_us == 0 && is("ts", "1795561200"),
	    "a numeric ts is kept as a field only");
	CHECK(parse("{\"a\":{\"time\":\"2026-11-24T22:30:01Z\"}}", EV_FMT_AUTO) && P.ev.time_us == 0,
	    "only top-level time members count");

	const char *jd = "{\"__REALTIME_TIMESTAMP\":\"1795560223573782\",\"_HOSTNAME\":\"vm\","
			 "\"SYSLOG_IDENTIFIER\":\"sshd\",\"_PID\":\"22103\",\"PRIORITY\":\"6\","
			 "\"SYSLOG_FACILITY\":\"4\",\"_COMM\":\"sshd\","
			 "\"MESSAGE\":\"Accepted password for alice from 127.0.0.1 port 40334 ssh2\"}";
	CHECK(parse(jd, EV_FMT_AUTO) && is("message", "Accepted password for alice from 127.0.0.1 port 40334 ssh2") &&
	    is("host", "vm") && is("app", "sshd") && is("procid", "22103") && is("severity", "6") &&
	    is("facility", "4") && is("MESSAGE", "Accepted password for alice from 127.0.0.1 port 40334 ssh2"),
	    "journald names mapped to the common ones");
	CHECK(P.ev.time_us == 1795560223573782LL, "__REALTIME_TIMESTAMP is the event time");
	CHECK(parse("{\"MESSAGE\":\"m\",\"_COMM\":\"logger\",\"SYSLOG_PID\":\"5\"}", EV_FMT_AUTO) &&
	    is("app", "logger") && is("procid", "5"), "without SYSLOG_IDENTIFIER: _COMM; SYSLOG_PID");
	CHECK(parse("{\"MESSAGE\":[104,105],\"message\":\"mine\"}", EV_FMT_AUTO) &&
	    is("message", "mine") && is("MESSAGE", "[104,105]"),
	    "an existing name is not overwritten; binary MESSAGE stays an array");
	CHECK(parse("{\"MESSAGE\":\"a\\u00e9\"}", EV_FMT_AUTO) && is("message", "a\xC3\xA9"),
	    "alias of an unescaped value");

	char deep[400], *d = deep;
	for (int i = 0; i < 64; i++)
		d += sprintf(d, "{\"a\":");
	d += sprintf(d, "1");
	for (int i = 0; i < 64; i++)
		*d++ = '}';
	*d = '\0';
	CHECK(parse(deep, EV_FMT_AUTO) && P.ev.nfields == 1 && P.ev.fields[0].name[126] == 'a',
	    "64 levels of nesting");
	char *dd = malloc(200000);
	d = dd;
	d += sprintf(d, "{\"a\":");
	for (int i = 0; i < 60000; i++)
		*d++ = '[';
	*d = '\0';
	CHECK(rejects(dd, EV_FMT_AUTO, "nested deeper"), "60000 open brackets: raw, no stack overflow");
	free(dd);
	char many[8000];
	d = many;
	*d++ = '{';
	for (int i = 0; i < 300; i++)
		d += sprintf(d, "%s\"k%d\":%d", i ? "," : "", i, i);
	*d++ = '}';
	*d = '\0';
	CHECK(rejects(many, EV_FMT_AUTO, "more than 256 fields"), "300 members: raw");

	CHECK(rejects("{", EV_FMT_AUTO, "json"), "lone brace");
	CHECK(rejects("{\"a\":}", EV_FMT_AUTO, "json"), "missing value");
	CHECK(rejects("{\"a\":1,}", EV_FMT_AUTO, "member name expected"), "trailing comma");
	CHECK(rejects("{\"a\" 1}", EV_FMT_AUTO, "':' expected"), "missing colon");
	CHECK(rejects("{\"a\":1 \"b\":2}", EV_FMT_AUTO, "',' or '}'"), "missing comma");
	CHECK(rejects("{a:1}", EV_FMT_AUTO, "member name expected"), "unquoted key");
	CHECK(rejects("{'a':1}", EV_FMT_AUTO, "member name expected"), "single quotes");
	CHECK(rejects("[1,2]", EV_FMT_JSON, "one JSON object"), "array at top level");
	CHECK(rejects("\"s\"", EV_FMT_JSON, "one JSON object"), "string at top level");
	CHECK(rejects("{\"a\":1} x", EV_FMT_AUTO, "text after"), "text after the object");
	CHECK(rejects("{\"a\":1}{\"b\":2}", EV_FMT_AUTO, "text after"), "two objects");
	CHECK(rejects("{\"a\":\"\\u0000\"}", EV_FMT_AUTO, "NUL"), "\\u0000");
	CHECK(rejects("{\"a\":\"\\ud800\"}", EV_FMT_AUTO, "surrogate"), "lone high surrogate");
	CHECK(rejects("{\"a\":\"\\udc00\"}", EV_FMT_AUTO, "surrogate"), "lone low surrogate");
	CHECK(rejects("{\"a\":\"\\ud800\\u0041\"}", EV_FMT_AUTO, "surrogate"), "bad low surrogate");
	CHECK(rejects("{\"a\":\"\\x\"}", EV_FMT_AUTO, "invalid escape"), "\\x escape");
	CHECK(rejects("{\"a\":\"\\u12\"}", EV_FMT_AUTO, "\\u escape"), "short \\u escape");
	CHECK(rejects("{\"a\":\"\\u12g4\"}", EV_FMT_AUTO, "\\u escape"), "non-hex \\u escape");
	CHECK(rejects("{\"a\":\"\\", EV_FMT_AUTO, "json"), "backslash at the end");
	CHECK(rejects("{\"a\":\"x\ty\"}", EV_FMT_AUTO, "control character"), "raw tab in a string");
	CHECK(rejects("{\"a\":\"x", EV_FMT_AUTO, "unterminated string"), "unterminated string");
	CHECK(rejects("{\"a\":01}", EV_FMT_AUTO, "',' or '}'"), "leading zero");
	CHECK(rejects("{\"a\":1.}", EV_FMT_AUTO, "bad number"), "1.");
	CHECK(rejects("{\"a\":.5}", EV_FMT_AUTO, "bad number"), ".5");
	CHECK(rejects("{\"a\":1e}", EV_FMT_AUTO, "bad number"), "1e");
	CHECK(rejects("{\"a\":-}", EV_FMT_AUTO, "bad number"), "-");
	CHECK(rejects("{\"a\":+1}", EV_FMT_AUTO, "bad number"), "+1");
	CHECK(rejects("{\"a\":tru}", EV_FMT_AUTO, "unexpected"), "tru");
	CHECK(rejects("{\"a\":nul}", EV_FMT_AUTO, "unexpected"), "nul");
	CHECK(rejects("{\"a\":NaN}", EV_FMT_AUTO, "bad number"), "NaN");
	CHECK(rejects("{\"a\":[1,]}", EV_FMT_AUTO, "json"), "trailing comma in array");
	CHECK(rejects("{\"a\":[1 2]}", EV_FMT_AUTO, "',' or ']'"), "missing comma in array");
	CHECK(rejects("{\"a\":[\"\\q\"]}", EV_FMT_AUTO, "invalid escape"), "bad escape in array");
	CHECK(rejects("{\"a\":{\"b\":1}", EV_FMT_AUTO, "unterminated object"), "unclosed object");
	CHECK(rejects("{\"a\":[", EV_FMT_AUTO, "json"), "unclosed array");
}

static void
test_common(void)
{
	char *big = malloc(70000);
	memset(big, 'a', 70000);
	memcpy(big, "{\"a\":\"", 6);
	memcpy(big + 65536 - 2, "\"}", 2);
	CHECK(parse_n(big, 65536, EV_FMT_AUTO), "a line of exactly 64 KiB parses");
	memcpy(big + 65537 - 2, "\"}", 2);
	CHECK(!parse_n(big, 65537, EV_FMT_AUTO) && raw("longer than 65536") && P.ev.raw == big &&
	    P.ev.raw_len == 65537, "a line over 64 KiB is kept raw");
	free(big);

	const char nul[] = "Nov 24 22:30:01 h a: x\0y";
	CHECK(!parse_n(nul, sizeof(nul) - 1, EV_FMT_AUTO) && raw("NUL byte at offset 22"),
	    "a NUL byte keeps the line raw");
	static const struct {
		const char *s, *what;
	} bad[] = {
		{ "Nov 24 22:30:01 h a: \xC0\x80", "overlong NUL" },
		{ "Nov 24 22:30:01 h a: \xE0\x80\xAF", "overlong 3-byte" },
		{ "Nov 24 22:30:01 h a: \xED\xA0\x80", "UTF-16 surrogate" },
		{ "Nov 24 22:30:01 h a: \xF4\x90\x80\x80", "above U+10FFFF" },
		{ "Nov 24 22:30:01 h a: \xF5\x80\x80\x80", "F5 lead byte" },
		{ "Nov 24 22:30:01 h a: \xFF", "FF byte" },
		{ "Nov 24 22:30:01 h a: \x80", "lone continuation" },
		{ "Nov 24 22:30:01 h a: \xE2\x82", "truncated sequence at the end" },
		{ "Nov 24 22:30:01 h a: \xE2\x82x", "truncated sequence in the middle" },
		{ "Nov 24 22:30:01 h a: caf\xE9", "Latin-1" },
		{ "{\"a\":\"\xC3\"}", "bad UTF-8 in JSON" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(rejects(bad[i].s, EV_FMT_AUTO, "invalid UTF-8"), "invalid UTF-8 kept raw: %s",
		    bad[i].what);
	CHECK(parse("Nov 24 22:30:01 h a: \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBD", EV_FMT_AUTO),
	    "4-byte UTF-8, U+10FFFF and U+FFFD accepted");
	CHECK(rejects("", EV_FMT_AUTO, "empty"), "empty line");
	CHECK(rejects("\r", EV_FMT_AUTO, "empty"), "CR only");
	parse_n(NULL, 0, EV_FMT_AUTO);
	CHECK(raw("empty") && P.ev.raw != NULL, "NULL line");

	/* Detection and reuse. */
	CHECK(parse("{\"a\":\"\\n\"}", EV_FMT_AUTO) && P.format == EV_FMT_JSON, "'{' detects JSON");
	CHECK(parse("<13>1 - - - - - -", EV_FMT_AUTO) && P.format == EV_FMT_RFC5424, "<PRI>1 detects 5424");
	CHECK(parse("<13>Nov 24 22:30:01 h a: x", EV_FMT_AUTO) && P.format == EV_FMT_RFC3164,
	    "otherwise 3164");
	CHECK(parse("<13>10 2026-11-24T22:30:01Z h a: x", EV_FMT_AUTO) == 0 && P.format == EV_FMT_RFC5424,
	    "<PRI>10 is a 5424 version (and refused)");
	parse("{\"k\\u00e9\":\"v\\u00e9\",\"m\":{\"n\":\"o\"}}", EV_FMT_AUTO);
	parse("Nov 24 22:30:01 h sshd[1]: x", EV_FMT_AUTO);
	CHECK(P.ok && is("app", "sshd") && is("k\xC3\xA9", NULL), "no fields left over from the last line");
	parse("garbage", EV_FMT_AUTO);
	CHECK(P.ev.nfields == 0 && P.ev.time_us == 0, "a failure after a success clears the fields");
	CHECK(ev_parse_line("Nov 24 22:30:01 h a: x", 22, NULL, &P) == 0 && P.ok, "NULL options");
	P.ev.source = "src-1";
	parse("Nov 24 22:30:01 h a: x", EV_FMT_AUTO);
	CHECK(P.ev.source != NULL && strcmp(P.ev.source, "src-1") == 0, "ev.source left as the caller set it");
	P.ev.source = NULL;

	enum ev_log_format f;
	CHECK(strcmp(ev_log_format_name(EV_FMT_RFC5424), "rfc5424") == 0 &&
	    strcmp(ev_log_format_name(EV_FMT_JSON), "json") == 0 &&
	    strcmp(ev_log_format_name(EV_FMT_AUTO), "auto") == 0 &&
	    strcmp(ev_log_format_name(EV_FMT_RFC3164), "rfc3164") == 0, "format names");
	CHECK(ev_log_format_parse("rfc3164", &f) == 0 && f == EV_FMT_RFC3164 &&
	    ev_log_format_parse("json", &f) == 0 && f == EV_FMT_JSON &&
	    ev_log_format_parse("nope", &f) == -1, "format names parsed back");
	O.format = (enum ev_log_format)99;
	ev_parse_line("x", 1, &O, &P);
	CHECK(raw("unknown format"), "an unknown format value is refused");
}

/* ---- the real-daemon corpus ------------------------------------------ */

static int
eq(const char *name, const char *want)
{
	size_t len;
	const char *v = ev_event_get(&P.ev, name, &len);
	return v && len == strlen(want) && memcmp(v, want, len) == 0;
}

static int
nonempty(const char *name)
{
	size_t len;
	return ev_event_get(&P.ev, name, &len) != NULL && len > 0;
}

static void
test_fixture_file(const char *dir, const char *file)
{
	char path[1024], *line = NULL, why[512] = "";
	size_t cap = 0, lines = 0, bad = 0, sshd = 0;
	ssize_t n;
	FILE *fp;
	int audit = strcmp(file, "audit.log") == 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fp = fopen(path, "r")) == NULL) {
		CHECK(0, "fixture %s opens", file);
		return;
	}
	O.format = EV_FMT_AUTO;
	while ((n = getline(&line, &cap, fp)) > 0) {
		size_t len = (size_t)n;
		const char *fail = NULL;
		if (line[len - 1] == '\n')
			len--;
		lines++;
		/* An exact-size copy: under ASan any read past the end is caught. */
		char *exact = malloc(len ? len : 1);
		memcpy(exact, line, len);
		ev_parse_line(exact, len, &O, &P);
		if (!P.ok)
			fail = P.error;
		else if (!nonempty("host"))
			fail = "no host";
		else if (!nonempty("message") && !(audit && nonempty("type")))
			fail = "no message";
		else if (!audit && !nonempty("app") && !strstr(line, "rfc5424 via logger"))
			fail = "no app"; /* see README.md on the one line without a tag */
		else if (audit && !(nonempty("type") && nonempty("msg")))
			fail = "audit line without type/msg";
		else if (P.ev.time_us < t("2026-11-24T22:00:00Z") || P.ev.time_us > t("2026-11-25T02:00:00Z"))
			fail = "time outside the capture window";
		else if (eq("app", "sshd") && !nonempty("procid"))
			fail = "sshd without procid";
		if (eq("app", "sshd"))
			sshd++;
		if (fail) {
			if (bad++ == 0)
				snprintf(why, sizeof(why), "%s: line %zu: %.300s", fail, lines, line);
		}
		free(exact);
	}
	free(line);
	fclose(fp);
	if (why[0])
		printf("# %s\n", why);
	CHECK(lines > 0 && bad == 0, "fixture %s: all %zu lines parse with host, app, message (%zu sshd)",
	    file, lines, sshd);
}

static const char *
fixture_dir(void)
{
	static char dir[1024];
	const char *root = getenv("EVIDENT_ROOT");

	snprintf(dir, sizeof(dir), "%s/tests/fixtures/logs", root ? root : ".");
	return dir;
}

/* Spot checks on specific captured lines. */
static int
find_line(const char *file, const char *needle, const char *needle2)
{
	char path[1024], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), file);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	/* The line stays in a static buffer: fields point into it. */
	static char keep[65536];
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (strstr(line, needle) && (needle2 == NULL || strstr(line, needle2))) {
			size_t len = (size_t)n;
			if (line[len - 1] == '\n')
				len--;
			if (len >= sizeof(keep))
				break;
			memcpy(keep, line, len);
			O.format = EV_FMT_AUTO;
			ev_parse_line(keep, len, &O, &P);
			found = P.ok;
			break;
		}
	}
	free(line);
	fclose(fp);
	return found;
}

static void
test_fixtures(void)
{
	const char *dir = fixture_dir();
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[64];
	size_t nn = 0;

	O.now_us = NOW_US;
	O.timezone = NULL; /* the capture machine ran in UTC */
	if (d == NULL) {
		CHECK(0, "fixture directory %s", dir);
		return;
	}
	while ((de = readdir(d)) != NULL && nn < 64) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0 ||
		    strstr(de->d_name, ".sh"))
			continue;
		names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	CHECK(nn >= 8, "corpus has %zu files", nn);
	for (size_t i = 0; i < nn; i++) {
		test_fixture_file(dir, names[i]);
		free(names[i]);
	}

	CHECK(find_line("auth-traditional.log", "Failed password for alice", NULL) && is("app", "sshd") &&
	    is("host", "vm") && P.ev.fields[0].name && nonempty("procid") &&
	    strncmp(ev_event_get(&P.ev, "message", NULL), "Failed password for alice from 127.0.0.1", 40) == 0,
	    "auth.log (BSD): sshd failed password");
	CHECK(find_line("auth.log", "Accepted password for alice", NULL) && is("app", "sshd") &&
	    nonempty("procid"), "auth.log (ISO): sshd accepted password");
	CHECK(find_line("auth.log", "sudo:", "COMMAND=/usr/bin/id") && is("app", "sudo") &&
	    is("procid", NULL), "auth.log: sudo command");
	CHECK(find_line("auth.log", "useradd[", "new user: name=bob") && is("app", "useradd"),
	    "auth.log: useradd");
	CHECK(find_line("auth.log", "userdel[", "bob") && is("app", "userdel"), "auth.log: userdel");
	CHECK(find_line("cron.log", "CRON[", NULL) && is("app", "CRON") && nonempty("procid"), "cron.log: CRON");
	CHECK(find_line("audit.log", "type=USER_LOGIN", "res=failed") && is("acct", "alice") &&
	    is("exe", "/usr/sbin/sshd") && is("res", "failed") && is("host", "vm") && is("UID", "root"),
	    "audit.log: failed USER_LOGIN");
	CHECK(find_line("forwarded-rfc5424.log", "evident@32473", NULL) && is("app", "1") &&
	    is("host", "vm"), "forwarded 5424: a 5424 line journald did not parse, relayed");
	CHECK(find_line("forwarded-rfc5424.log", "sshd", "Failed password") && is("app", "sshd") &&
	    is("facility", "4") && nonempty("procid"), "forwarded 5424: sshd (facility auth)");
	CHECK(find_line("forwarded-rfc3164.log", "sshd[", "Invalid user") && is("app", "sshd") &&
	    is("facility", "4") && nonempty("procid"), "forwarded 3164: sshd invalid user");
	CHECK(find_line("journal.jsonl", "\"SYSLOG_IDENTIFIER\":\"sshd\"", "Failed password") &&
	    is("app", "sshd") && is("host", "vm") && nonempty("procid") &&
	    strncmp(ev_event_get(&P.ev, "message", NULL), "Failed password", 15) == 0 &&
	    nonempty("_SYSTEMD_UNIT") == 0, "journal: sshd failed password with common names");
	CHECK(find_line("syslog", "audisp-syslog", "type=USER_AUTH") && is("op", "PAM:authentication") &&
	    nonempty("acct"), "syslog: audit event relayed by audisp-syslog");
}

static void
test_speed(void)
{
	static const char *lines[] = {
		"Nov 24 22:43:49 vm sshd[21411]: Failed password for alice from 127.0.0.1 port 60938 ssh2",
		"2026-11-24T22:44:10.741621+00:00 vm sudo:    alice : PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
		"<86>1 2026-11-24T22:43:49.124586+00:00 vm sshd 21411 - [origin ip=\"10.0.0.1\"] Failed password",
		"{\"@timestamp\":\"2026-11-24T22:30:01Z\",\"host\":{\"name\":\"vm\"},\"message\":\"hello\",\"n\":1}",
	};
	size_t len[4];
	struct timespec a, b;
	long total = 400000;

	for (int i = 0; i < 4; i++)
		len[i] = strlen(lines[i]);
	O.format = EV_FMT_AUTO;
	O.timezone = "Europe/Berlin";
	/* CPU time, not wall time: shared build machines are busy. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (long i = 0; i < total; i++)
		ev_parse_line(lines[i & 3], len[i & 3], &O, &P);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("# parse speed: %.0f lines/s of CPU time (mixed BSD/ISO/5424/JSON, Europe/Berlin)\n",
	    (double)total / secs);
	CHECK(P.ok, "speed run parsed");
	O.timezone = NULL;
}

int
main(void)
{
	ev_parsed_init(&P);
	O.now_us = NOW_US;
	test_rfc5424_examples();
	test_rfc5424_edges();
	test_rfc3164_examples();
	test_rfc3164_shapes();
	test_tz_against_glibc();
	test_auditd();
	test_json();
	test_common();
	test_fixtures();
	test_speed();
	ev_parsed_free(&P);
	UNIT_END();
}
