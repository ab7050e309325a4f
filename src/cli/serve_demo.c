/*
 * serve_demo.c - `evident serve --demo`: so that a newcomer's first page is
 * not empty.  Records a short, realistic auth log (a brute-force attempt on
 * a CA host, a sudo to root, a new account) through the real pipeline and
 * rule pack, then opens an incident from the brute-force alert and
 * classifies it significant, which starts the 24-hour clocks.
 *
 * Everything it writes is an ordinary entry, attributed to the actor "demo",
 * and a demo.loaded entry marks the ledger so a restart does not repeat it.
 * Never use --demo on a production ledger: its entries cannot be removed.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/serve_demo.h"
#include "incident/incident.h"
#include "ingest/ingest.h"
#include "util/timeutil.h"

static const char *const demo_lines[] = {
	"sshd[2101]: Accepted publickey for alice from 10.0.0.5 port 50122 ssh2",
	"sshd[2200]: Failed password for root from 203.0.113.77 port 40000 ssh2",
	"sshd[2201]: Failed password for invalid user admin from 203.0.113.77 port 40001 ssh2",
	"sshd[2202]: Failed password for invalid user oracle from 203.0.113.77 port 40002 ssh2",
	"sshd[2203]: Failed password for invalid user test from 203.0.113.77 port 40003 ssh2",
	"sshd[2204]: Failed password for root from 203.0.113.77 port 40004 ssh2",
	"sshd[2205]: Failed password for invalid user admin from 203.0.113.77 port 40005 ssh2",
	"sshd[2206]: Failed password for invalid user ca from 203.0.113.77 port 40006 ssh2",
	"sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl "
	"restart ejbca",
	"useradd[2400]: new user: name=mallory, UID=1005, GID=1005, home=/home/mallory, "
	"shell=/bin/bash, from=/dev/pts/0",
};

struct first_alert {
	uint64_t after, seq;
};

static int
has_entry(const struct ev_entry *e, void *arg)
{
	(void)e;
	*(int *)arg = 1;
	return 1;
}

static int
pick_alert(const struct ev_entry *e, void *arg)
{
	struct first_alert *f = arg;

	/* Prefer the brute-force correlation; else the first alert of the demo. */
	if (f->seq == 0 || strstr(e->body, "brute") || strstr(e->body, "Brute"))
		f->seq = e->seq;
	return strstr(e->body, "brute") || strstr(e->body, "Brute") ? 1 : 0;
}

int
ev_serve_demo(struct ev_ledger *l, struct ev_rules *rules, char *incident_out, size_t n,
    struct ev_err *err)
{
	struct ev_query q = { 0 };
	struct ev_ingest_opts o;
	struct ev_ingest *p = NULL;
	struct ev_profiles *prof = NULL;
	struct first_alert fa = { 0, 0 };
	char dir[4096], id[EV_INCIDENT_ID_MAX], line[512], stamp[32];
	const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec" };
	int done = 0, rc;
	uint64_t seq;
	time_t now = time(NULL);
	struct tm tm;

	q.kind = "demo.loaded";
	q.limit = 1;
	if ((rc = ev_ledger_scan(l, &q, has_entry, &done, err)) != EV_OK && rc != 1)
		return rc;
	if (done) {
		snprintf(incident_out, n, "%s", "");
		return EV_OK;
	}
	if ((rc = ev_ledger_size(l, &fa.after, err)) != EV_OK)
		return rc;
	memset(&o, 0, sizeof(o));
	o.rules = rules;
	o.actor = "demo";
	if ((rc = ev_ingest_new(l, &o, &p, err)) != EV_OK)
		return rc;
	gmtime_r(&now, &tm);
	for (size_t i = 0; i < sizeof(demo_lines) / sizeof(demo_lines[0]); i++) {
		snprintf(stamp, sizeof(stamp), "%s %2d %02d:%02d:%02d", mon[tm.tm_mon], tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
		int len = snprintf(line, sizeof(line), "%s ca-01 %s", stamp, demo_lines[i]);
		if ((rc = ev_ingest_line(p, "demo-auth", line, (size_t)len, err)) != EV_OK)
			goto out;
	}
	if ((rc = ev_ingest_flush(p, err)) != EV_OK)
		goto out;
	q.kind = "alert.raised";
	q.from_seq = fa.after + 1;
	q.limit = 0;
	if ((rc = ev_ledger_scan(l, &q, pick_alert, &fa, err)) != EV_OK && rc != 1)
		goto out;
	if ((rc = ev_profiles_load(ev_profiles_default_dir(NULL, dir, sizeof(dir)), &prof, err)) !=
	    EV_OK)
		goto out;
	json_t *body = json_pack("{s:s,s:[]}", "title",
	    "Password guessing against the CA host ca-01 (demo)", "alerts");
	if (fa.seq)
		json_array_append_new(json_object_get(body, "alerts"), json_integer((json_int_t)fa.seq));
	rc = ev_incident_record(l, prof, "incident.opened", NULL, "demo", body, id, &seq, err);
	json_decref(body);
	if (rc != EV_OK)
		goto out;
	body = json_pack("{s:s,s:s,s:s,s:s}", "severity", "high", "category", "unauthorised-access",
	    "significant", "yes", "reason",
	    "demo: repeated failed root logins on a CA host; integrity of the service at risk");
	rc = ev_incident_record(l, prof, "incident.classified", id, "demo", body, NULL, &seq, err);
	json_decref(body);
	if (rc != EV_OK)
		goto out;
	{
		char b[160];
		snprintf(b, sizeof(b), "{\"incident\":\"%s\",\"lines\":%zu}", id,
		    sizeof(demo_lines) / sizeof(demo_lines[0]));
		struct ev_entry_in in = { "demo.loaded", "demo", "demo", b, 0 };
		rc = ev_ledger_append(l, &in, 1, NULL, err);
	}
	snprintf(incident_out, n, "%s", id);
out:
	ev_profiles_free(prof);
	ev_ingest_free(p);
	return rc;
}
