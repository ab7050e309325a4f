/*
 * cmd_incident.c - `evident incident SUBCOMMAND`: the incident workflow
 * (EN 319 401 7.9.2-7.9.5) from the command line.  Every subcommand that
 * records is one ledger entry attributed to --actor; input is checked here
 * (exit 2) before the ledger is opened, and the library and the projector
 * check again (src/incident/incident.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "incident/incident.h"
#include "util/enc.h"
#include "util/json.h"
#include "util/timeutil.h"

#define CLOCKS_OPT { "clocks", "DIR", "clock and criteria profiles (default $EVIDENT_CLOCKS, "  \
	"../clocks next to the binary, /usr/share/evident/clocks)", &clocks_dir, NULL, NULL }
#define END_OPT { NULL, NULL, NULL, NULL, NULL, NULL }

static int
one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (s && strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static const char *const severities[] = { "low", "medium", "high", "critical", NULL };
static const char *const triple[] = { "yes", "no", "undetermined", NULL };
static const char *const yesno[] = { "yes", "no", NULL };
static const char *const channels[] = { "staff", "contractor", "customer", "monitoring", NULL };
static const char *const action_types[] = { "containment", "eradication", "recovery",
	"communication", "decision", NULL };
static const char *const recipients[] = { "supervisory-body", "csirt", "affected-persons",
	"customers", "other", NULL };

/* Free text given on the command line: present, not too long, UTF-8. */
static int
text_ok(struct ev_cli *cli, const char *opt, const char *s)
{
	size_t n;

	if (s == NULL)
		return ev_cli_usage(cli, "needs --%s", opt);
	n = strlen(s);
	if (n == 0 || n > EV_TEXT_MAX)
		return ev_cli_usage(cli, "--%s must be 1 to %d bytes", opt, EV_TEXT_MAX);
	if (!ev_utf8_valid(s, n))
		return ev_cli_usage(cli, "--%s is not valid UTF-8", opt);
	return 0;
}

/* A name (person, role, plan, category): text_ok and short. */
static int
name_ok(struct ev_cli *cli, const char *opt, const char *s)
{
	int rc = text_ok(cli, opt, s);

	if (rc == 0 && strlen(s) > EV_ACTOR_MAX)
		return ev_cli_usage(cli, "--%s must be at most %d bytes", opt, EV_ACTOR_MAX);
	return rc;
}

static int
time_ok(struct ev_cli *cli, const char *opt, const char *s, json_t *body, const char *key)
{
	int64_t us;
	char t[EV_TIME_STRLEN];
	int rc;

	if (s == NULL)
		return 0;
	if ((rc = ev_cli_time(cli, opt, s, &us)) != 0)
		return rc;
	ev_time_format(us, t);
	json_object_set_new(body, key, json_string(t));
	return 0;
}

static int
id_arg(struct ev_cli *cli, int npos, char **argv, const char **id)
{
	if (npos < 1)
		return ev_cli_usage(cli, "needs an incident id (inc-YYYY-NNNN)");
	if (npos > 1)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[2]);
	if (!ev_incident_id_valid(argv[1]))
		return ev_cli_usage(cli, "'%s' is not an incident id (inc-YYYY-NNNN)", argv[1]);
	*id = argv[1];
	return 0;
}

/* An unknown incident is the caller's bad input: exit 2, like a bad option. */
static int
fail(struct ev_cli *cli, struct ev_err *err)
{
	if (err->code == EV_ENOTFOUND)
		err->code = EV_EINVAL;
	return ev_cli_fail(cli, err);
}

static int
load_profiles(const char *clocks_dir, struct ev_profiles **p, struct ev_err *err)
{
	char dir[4096];

	return ev_profiles_load(ev_profiles_default_dir(clocks_dir, dir, sizeof(dir)), p, err);
}

/*
 * Open the ledger, load the profiles when the step may start or stop a clock,
 * record, print the id (open) or the entry's seq.  Takes body.
 */
static int
record(struct ev_cli *cli, const char *clocks_dir, const char *kind, const char *id, json_t *body,
    const char *evidence)
{
	struct ev_ledger *l = NULL;
	struct ev_profiles *p = NULL;
	struct ev_err err = { 0 };
	char newid[EV_INCIDENT_ID_MAX], sha[65], name[256];
	uint64_t seq = 0, size = 0;
	int rc, created = 0, needs = strcmp(kind, "incident.opened") == 0 ||
	    strcmp(kind, "incident.classified") == 0 || strcmp(kind, "incident.assessed") == 0 ||
	    strcmp(kind, "incident.notified") == 0;

	if (needs && load_profiles(clocks_dir, &p, &err) != EV_OK) {
		json_decref(body);
		return ev_cli_fail(cli, &err);
	}
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto out;
	}
	if (evidence) {
		/* Check the incident first, so a bad id does not leave a copy behind. */
		json_t *tmp = NULL;
		if ((rc = ev_incident_show(l, id, 0, &tmp, &err)) != EV_OK) {
			rc = fail(cli, &err);
			goto out;
		}
		json_decref(tmp);
		if (ev_incident_store_evidence(ev_ledger_dir(l), evidence, sha, name, sizeof(name),
			&size, &created, &err) != EV_OK) {
			rc = fail(cli, &err);
			goto out;
		}
		json_object_set_new(body, "evidence",
		    json_pack("{s:s,s:s,s:I}", "sha256", sha, "name", name, "size", (json_int_t)size));
	}
	if (ev_incident_record(l, p, kind, id, ev_cli_default_actor(cli), body, newid, &seq,
		&err) != EV_OK) {
		if (created) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/evidence/%s", ev_ledger_dir(l), sha);
			unlink(path);
		}
		rc = fail(cli, &err);
		goto out;
	}
	if (strcmp(kind, "incident.opened") == 0)
		printf("%s\n", newid);
	else if (cli->json)
		printf("{\"incident\":\"%s\",\"seq\":%llu}\n", id, (unsigned long long)seq);
	else
		printf("%llu\n", (unsigned long long)seq);
	rc = 0;
out:
	json_decref(body);
	ev_profiles_free(p);
	ev_ledger_close(l);
	return rc;
}

static int
inc_open(struct ev_cli *cli, int argc, char **argv)
{
	const char *title = NULL, *by = NULL, *channel = NULL, *aware = NULL, *clocks_dir = NULL;
	struct ev_strv alerts = { NULL, 0 };
	int npos, status, rc;
	json_t *body;
	const struct ev_opt opts[] = {
		{ "title", "T", "what happened, in one line", &title, NULL, NULL },
		{ "from-alert", "ID", "the alert (alert.raised entry seq) this comes from; repeatable",
		    NULL, NULL, &alerts },
		{ "reported-by", "WHO", "who reported it (with --channel)", &by, NULL, NULL },
		{ "channel", "C", "staff|contractor|customer|monitoring", &channel, NULL, NULL },
		{ "aware-at", "T", "when the TSP became aware (default: now); the clocks count from it",
		    &aware, NULL, NULL },
		CLOCKS_OPT, END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident incident open --title T [--from-alert ID...] [--reported-by WHO "
		"--channel C] [--aware-at T]",
		&npos, &status)) {
		free(alerts.v);
		return status;
	}
	body = json_object();
	if (npos)
		rc = ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	else if ((rc = text_ok(cli, "title", title)) != 0)
		;
	else if ((by == NULL) != (channel == NULL))
		rc = ev_cli_usage(cli, "--reported-by and --channel go together");
	else if (by && (rc = name_ok(cli, "reported-by", by)) != 0)
		;
	else if (channel && !one_of(channel, channels))
		rc = ev_cli_usage(cli, "--channel must be staff, contractor, customer or monitoring");
	else
		rc = time_ok(cli, "aware-at", aware, body, "aware_at");
	if (rc == 0) {
		json_t *a = json_array();
		json_object_set_new(body, "title", json_string(title));
		if (by) {
			json_object_set_new(body, "reported_by", json_string(by));
			json_object_set_new(body, "channel", json_string(channel));
		}
		for (size_t i = 0; i < alerts.n && rc == 0; i++) {
			uint64_t s;
			if (ev_cli_u64(alerts.v[i], &s) != 0 || s == 0 || s > INT64_MAX)
				rc = ev_cli_usage(cli, "--from-alert '%s' is not an entry seq", alerts.v[i]);
			else
				json_array_append_new(a, json_integer((json_int_t)s));
		}
		json_object_set_new(body, "alerts", a);
	}
	free(alerts.v);
	if (rc != 0) {
		json_decref(body);
		return rc;
	}
	return record(cli, clocks_dir, "incident.opened", NULL, body, NULL);
}

static int
inc_classify(struct ev_cli *cli, int argc, char **argv)
{
	const char *sev = NULL, *cat = NULL, *sig = NULL, *reason = NULL, *clocks_dir = NULL, *id;
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "severity", "S", "low|medium|high|critical", &sev, NULL, NULL },
		{ "category", "C", "incident category (e.g. availability, key-compromise)", &cat, NULL,
		    NULL },
		{ "significant", "Y", "yes|no|undetermined: significant impact (starts the clocks)",
		    &sig, NULL, NULL },
		{ "reason", "TEXT", "why: kept with the classification history", &reason, NULL, NULL },
		CLOCKS_OPT, END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident incident classify ID --severity S --category C --significant yes|no|"
		"undetermined --reason TEXT",
		&npos, &status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0)
		return rc;
	if (!one_of(sev, severities))
		return ev_cli_usage(cli, "--severity must be low, medium, high or critical");
	if ((rc = name_ok(cli, "category", cat)) != 0)
		return rc;
	if (!one_of(sig, triple))
		return ev_cli_usage(cli, "--significant must be yes, no or undetermined");
	if ((rc = text_ok(cli, "reason", reason)) != 0)
		return rc;
	return record(cli, clocks_dir, "incident.classified", id,
	    json_pack("{s:s,s:s,s:s,s:s}", "severity", sev, "category", cat, "significant", sig,
		"reason", reason),
	    NULL);
}

static int
inc_escalate(struct ev_cli *cli, int argc, char **argv)
{
	const char *to = NULL, *reason = NULL, *id;
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "to", "WHO", "role or person escalated to", &to, NULL, NULL },
		{ "reason", "TEXT", "why", &reason, NULL, NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident incident escalate ID --to ROLE|PERSON --reason TEXT", &npos, &status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0 || (rc = name_ok(cli, "to", to)) != 0 ||
	    (rc = text_ok(cli, "reason", reason)) != 0)
		return rc;
	return record(cli, NULL, "incident.escalated", id,
	    json_pack("{s:s,s:s}", "to", to, "reason", reason), NULL);
}

static int
inc_assign(struct ev_cli *cli, int argc, char **argv)
{
	const char *owner = NULL, *id;
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "owner", "PERSON", "the new incident owner", &owner, NULL, NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident incident assign ID --owner PERSON", &npos,
		&status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0 || (rc = name_ok(cli, "owner", owner)) != 0)
		return rc;
	return record(cli, NULL, "incident.assigned", id, json_pack("{s:s}", "owner", owner), NULL);
}

static int
inc_act(struct ev_cli *cli, int argc, char **argv)
{
	const char *type = NULL, *note = NULL, *evidence = NULL, *id;
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "type", "T", "containment|eradication|recovery|communication|decision", &type, NULL,
		    NULL },
		{ "note", "TEXT", "what was done and why", &note, NULL, NULL },
		{ "evidence", "FILE", "a file kept as evidence (SHA-256 recorded, copy in DATA/evidence)",
		    &evidence, NULL, NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident incident act ID --type T --note TEXT [--evidence FILE]", &npos, &status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0)
		return rc;
	if (!one_of(type, action_types))
		return ev_cli_usage(cli, "--type must be containment, eradication, recovery, "
					 "communication or decision");
	if ((rc = text_ok(cli, "note", note)) != 0)
		return rc;
	if (evidence && access(evidence, R_OK) != 0)
		return ev_cli_usage(cli, "--evidence %s: cannot read the file", evidence);
	return record(cli, NULL, "incident.action", id,
	    json_pack("{s:s,s:s}", "type", type, "note", note), evidence);
}

static int
inc_continuity(struct ev_cli *cli, int argc, char **argv)
{
	const char *plan = NULL, *note = NULL, *id;
	int restored = 0, npos, status, rc;
	json_t *body;
	const struct ev_opt opts[] = {
		{ "activate", "PLAN", "the continuity or crisis plan activated", &plan, NULL, NULL },
		{ "restored", NULL, "the service is restored", NULL, &restored, NULL },
		{ "note", "TEXT", "what and why", &note, NULL, NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident incident continuity ID (--activate PLAN | --restored) --note TEXT", &npos,
		&status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0)
		return rc;
	if ((plan != NULL) == (restored != 0))
		return ev_cli_usage(cli, "needs exactly one of --activate PLAN and --restored");
	if ((plan && (rc = name_ok(cli, "activate", plan)) != 0) ||
	    (rc = text_ok(cli, "note", note)) != 0)
		return rc;
	body = json_pack("{s:s,s:s}", "state", plan ? "activated" : "restored", "note", note);
	if (plan)
		json_object_set_new(body, "plan", json_string(plan));
	return record(cli, NULL, "incident.continuity", id, body, NULL);
}

static int
inc_notify(struct ev_cli *cli, int argc, char **argv)
{
	const char *to = NULL, *clock = NULL, *ref = NULL, *note = NULL, *sent = NULL;
	const char *clocks_dir = NULL, *id;
	int npos, status, rc;
	json_t *body;
	const struct ev_opt opts[] = {
		{ "to", "R", "supervisory-body|csirt|affected-persons|customers|other", &to, NULL,
		    NULL },
		{ "clock", "NAME", "the clock this notice answers (stops it; see evident clocks)",
		    &clock, NULL, NULL },
		{ "ref", "TEXT", "the notice's reference (ticket, letter, portal receipt)", &ref, NULL,
		    NULL },
		{ "note", "TEXT", "what was said", &note, NULL, NULL },
		{ "sent-at", "T", "when it was sent (default: now)", &sent, NULL, NULL },
		CLOCKS_OPT, END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident incident notify ID --to R --clock NAME --ref TEXT --note TEXT [--sent-at T]",
		&npos, &status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0)
		return rc;
	if (!one_of(to, recipients))
		return ev_cli_usage(cli, "--to must be supervisory-body, csirt, affected-persons, "
					 "customers or other");
	if ((rc = name_ok(cli, "clock", clock)) != 0 || (rc = name_ok(cli, "ref", ref)) != 0 ||
	    (rc = text_ok(cli, "note", note)) != 0)
		return rc;
	body = json_pack("{s:s,s:s,s:s,s:s}", "to", to, "clock", clock, "ref", ref, "note", note);
	if ((rc = time_ok(cli, "sent-at", sent, body, "sent_at")) != 0) {
		json_decref(body);
		return rc;
	}
	return record(cli, clocks_dir, "incident.notified", id, body, NULL);
}

static int
inc_assess(struct ev_cli *cli, int argc, char **argv)
{
	const char *criteria = NULL, *ovr = NULL, *reason = NULL, *clocks_dir = NULL, *id;
	struct ev_strv answers = { NULL, 0 };
	int npos, status, rc = 0;
	json_t *body, *ans;
	const struct ev_opt opts[] = {
		{ "answer", "KEY=VALUE", "an answer to a question of the criteria; repeatable", NULL,
		    NULL, &answers },
		{ "criteria", "NAME", "criteria profile (default: the first loaded)", &criteria, NULL,
		    NULL },
		{ "override", "Y", "yes|no: a person's decision over the derived one", &ovr, NULL,
		    NULL },
		{ "reason", "TEXT", "why the override", &reason, NULL, NULL },
		CLOCKS_OPT, END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident incident assess ID --answer KEY=VALUE... [--criteria NAME] "
		"[--override yes|no --reason TEXT]",
		&npos, &status)) {
		free(answers.v);
		return status;
	}
	body = json_object();
	ans = json_object();
	json_object_set_new(body, "answers", ans);
	if ((rc = id_arg(cli, npos, argv, &id)) != 0)
		goto bad;
	if (answers.n == 0 && ovr == NULL) {
		rc = ev_cli_usage(cli, "needs --answer KEY=VALUE (or --override with --reason)");
		goto bad;
	}
	if ((ovr != NULL) != (reason != NULL)) {
		rc = ev_cli_usage(cli, "--override and --reason go together");
		goto bad;
	}
	if (ovr && !one_of(ovr, yesno)) {
		rc = ev_cli_usage(cli, "--override must be yes or no");
		goto bad;
	}
	if (reason && (rc = text_ok(cli, "reason", reason)) != 0)
		goto bad;
	for (size_t i = 0; i < answers.n; i++) {
		const char *a = answers.v[i], *eq = strchr(a, '=');
		char key[65];
		if (eq == NULL || eq == a || (size_t)(eq - a) >= sizeof(key)) {
			rc = ev_cli_usage(cli, "--answer '%s' must be KEY=VALUE", a);
			goto bad;
		}
		memcpy(key, a, (size_t)(eq - a));
		key[eq - a] = '\0';
		if (strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(key)) {
			rc = ev_cli_usage(cli, "--answer %s: not a question key (a-z 0-9 _ -)", key);
			goto bad;
		}
		if ((rc = text_ok(cli, "answer", eq + 1)) != 0)
			goto bad;
		if (json_object_get(ans, key)) {
			rc = ev_cli_usage(cli, "--answer %s given twice", key);
			goto bad;
		}
		json_object_set_new(ans, key, json_string(eq + 1));
	}
	if (criteria)
		json_object_set_new(body, "criteria", json_string(criteria));
	if (ovr) {
		json_object_set_new(body, "override", json_string(ovr));
		json_object_set_new(body, "reason", json_string(reason));
	}
	free(answers.v);
	return record(cli, clocks_dir, "incident.assessed", id, body, NULL);
bad:
	free(answers.v);
	json_decref(body);
	return rc;
}

static int
inc_review(struct ev_cli *cli, int argc, char **argv)
{
	const char *root = NULL, *vx = NULL, *nrb = NULL, *id;
	struct ev_strv actions = { NULL, 0 };
	int approve = 0, npos, status, rc = 0;
	json_t *body, *acts;
	const struct ev_opt opts[] = {
		{ "root-cause", "TEXT", "the root cause found", &root, NULL, NULL },
		{ "action", "TEXT", "a corrective action; repeatable", NULL, NULL, &actions },
		{ "vulnerability-exposure", "TEXT", "which vulnerabilities the incident exposed", &vx,
		    NULL, NULL },
		{ "no-remediation-basis", "TEXT", "the documented basis when no remediation is needed",
		    &nrb, NULL, NULL },
		{ "approve", NULL, "approve the recorded review (not by the incident owner)", NULL,
		    &approve, NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident incident review ID --root-cause TEXT --action TEXT... "
		"--vulnerability-exposure TEXT [--no-remediation-basis TEXT]\n"
		"       evident incident review ID --approve",
		&npos, &status)) {
		free(actions.v);
		return status;
	}
	if ((rc = id_arg(cli, npos, argv, &id)) != 0)
		goto bad;
	if (approve) {
		if (root || vx || nrb || actions.n) {
			rc = ev_cli_usage(cli, "--approve takes no other review option");
			goto bad;
		}
		free(actions.v);
		return record(cli, NULL, "incident.review_approved", id, json_object(), NULL);
	}
	if ((rc = text_ok(cli, "root-cause", root)) != 0 ||
	    (rc = text_ok(cli, "vulnerability-exposure", vx)) != 0 ||
	    (nrb && (rc = text_ok(cli, "no-remediation-basis", nrb)) != 0))
		goto bad;
	if (actions.n == 0 || actions.n > 100) {
		rc = ev_cli_usage(cli, "needs 1 to 100 --action TEXT (corrective actions)");
		goto bad;
	}
	acts = json_array();
	for (size_t i = 0; i < actions.n; i++) {
		if ((rc = text_ok(cli, "action", actions.v[i])) != 0) {
			json_decref(acts);
			goto bad;
		}
		json_array_append_new(acts, json_string(actions.v[i]));
	}
	body = json_pack("{s:s,s:o,s:s}", "root_cause", root, "actions", acts,
	    "vulnerability_exposure", vx);
	if (nrb)
		json_object_set_new(body, "no_remediation_basis", json_string(nrb));
	free(actions.v);
	return record(cli, NULL, "incident.review", id, body, NULL);
bad:
	free(actions.v);
	return rc;
}

static int
inc_close(struct ev_cli *cli, int argc, char **argv)
{
	const char *note = NULL, *id;
	int npos, status, rc;
	json_t *body;
	const struct ev_opt opts[] = {
		{ "note", "TEXT", "closing remark", &note, NULL, NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident incident close ID [--note TEXT]", &npos,
		&status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0 ||
	    (note && (rc = text_ok(cli, "note", note)) != 0))
		return rc;
	body = json_object();
	if (note)
		json_object_set_new(body, "note", json_string(note));
	return record(cli, NULL, "incident.closed", id, body, NULL);
}

static void
print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
}

static const char *
s_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = ev_json_str(o, k);

	return s ? s : dflt;
}

static void
print_show(const json_t *inc)
{
	const json_t *v;
	size_t i;

	printf("%s  %s\n", s_or(inc, "id", ""), s_or(inc, "title", ""));
	printf("stage:        %s\n", s_or(inc, "stage", ""));
	printf("owner:        %s (opened by %s at %s)\n", s_or(inc, "owner", ""),
	    s_or(inc, "opened_by", ""), s_or(inc, "opened_at", ""));
	printf("aware since:  %s\n", s_or(inc, "aware_at", ""));
	printf("severity:     %s   category: %s   significant: %s\n", s_or(inc, "severity", "-"),
	    s_or(inc, "category", "-"), s_or(inc, "significant", "-"));
	if (ev_json_str(inc, "closed_at"))
		printf("closed:       %s\n", ev_json_str(inc, "closed_at"));
	printf("\nclassification history:\n");
	json_array_foreach(json_object_get(inc, "classifications"), i, v)
		printf("  %s  %-8s %s/%s significant=%s  %s (by %s)\n", s_or(v, "time", ""),
		    s_or(v, "source", ""), s_or(v, "severity", "-"), s_or(v, "category", "-"),
		    s_or(v, "significant", ""), s_or(v, "reason", ""), s_or(v, "actor", ""));
	printf("\nclocks:\n");
	json_array_foreach(json_object_get(inc, "clocks"), i, v)
		printf("  %-24s due %s  %-8s %s%s%s\n", s_or(v, "clock", ""), s_or(v, "due", ""),
		    s_or(v, "state", ""), s_or(v, "basis", ""),
		    ev_json_str(v, "stop_reason") ? ": " : "", s_or(v, "stop_reason", ""));
	printf("\ntimeline:\n");
	json_array_foreach(json_object_get(inc, "timeline"), i, v)
		printf("  %lld  %s  %-18s %s  %s\n",
		    (long long)json_integer_value(json_object_get(v, "seq")), s_or(v, "time", ""),
		    s_or(v, "stage", ""), s_or(v, "actor", ""), s_or(v, "summary", ""));
}

static int
inc_show(struct ev_cli *cli, int argc, char **argv)
{
	const char *id, *now_s = NULL;
	int npos, status, rc;
	int64_t now = ev_time_now_us();
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *inc = NULL;
	const struct ev_opt opts[] = {
		{ "now", "T", "evaluate the clocks at T", &now_s, NULL, NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident incident show ID [--now T] [--json]", &npos,
		&status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0)
		return rc;
	if (now_s && (rc = ev_cli_time(cli, "now", now_s, &now)) != 0)
		return rc;
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (ev_incident_show(l, id, now, &inc, &err) != EV_OK) {
		ev_ledger_close(l);
		return fail(cli, &err);
	}
	if (cli->json)
		print_json(inc);
	else
		print_show(inc);
	json_decref(inc);
	ev_ledger_close(l);
	return 0;
}

static int
inc_list(struct ev_cli *cli, int argc, char **argv)
{
	const char *stage = NULL;
	int open_only = 0, npos, status;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	json_t *list = NULL, *v;
	size_t i;
	const struct ev_opt opts[] = {
		{ "open", NULL, "only incidents not closed", NULL, &open_only, NULL },
		{ "stage", "S", "only incidents at stage S (detect-triage ... closed)", &stage, NULL,
		    NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident incident list [--open] [--stage S] [--json]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (stage && !ev_incident_stage_valid(stage))
		return ev_cli_usage(cli, "--stage must be detect-triage, classify-escalate, "
					 "respond-document, report-notify, recover-preserve, "
					 "review-correct or closed");
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (ev_incident_list(l, open_only, stage, &list, &err) != EV_OK) {
		ev_ledger_close(l);
		return ev_cli_fail(cli, &err);
	}
	if (cli->json) {
		print_json(list);
	} else {
		json_array_foreach(list, i, v)
			printf("%s\t%s\t%s\t%s\t%s\n", s_or(v, "id", ""), s_or(v, "stage", ""),
			    s_or(v, "severity", "-"), s_or(v, "significant", ""), s_or(v, "title", ""));
	}
	json_decref(list);
	ev_ledger_close(l);
	return 0;
}

static int
inc_report(struct ev_cli *cli, int argc, char **argv)
{
	const char *form = NULL, *id;
	int npos, status, rc;
	struct ev_ledger *l = NULL;
	struct ev_err err = { 0 };
	struct ev_buf out = EV_BUF_INIT;
	const struct ev_opt opts[] = {
		{ "form", "F", "nis2-early-warning|nis2-notification|nis2-final|en319401-notice", &form,
		    NULL, NULL },
		END_OPT,
	};

	if (ev_cli_parse(cli, argc, argv, opts, "evident incident report ID --form F [--json]", &npos,
		&status))
		return status;
	if ((rc = id_arg(cli, npos, argv, &id)) != 0)
		return rc;
	if (form == NULL)
		return ev_cli_usage(cli, "needs --form (nis2-early-warning, nis2-notification, "
					 "nis2-final, en319401-notice)");
	if (ev_cli_open(cli, EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_incident_report(l, id, form, cli->json, &out, &err);
	ev_ledger_close(l);
	if (rc != EV_OK) {
		ev_buf_free(&out);
		return fail(cli, &err);
	}
	fwrite(out.p, 1, out.len, stdout);
	ev_buf_free(&out);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct ev_cli *, int, char **);
	const char *summary;
} subs[] = {
	{ "open", inc_open, "open an incident; prints its id" },
	{ "classify", inc_classify, "severity, category, significance (again to reclassify)" },
	{ "assess", inc_assess, "answer the significance criteria; derives significant yes/no" },
	{ "escalate", inc_escalate, "escalate to a role or person" },
	{ "assign", inc_assign, "name the incident owner" },
	{ "act", inc_act, "record a response action (with an evidence file)" },
	{ "continuity", inc_continuity, "continuity plan activated / service restored" },
	{ "notify", inc_notify, "record a notice sent (stops its clock)" },
	{ "review", inc_review, "post-incident review, and its approval" },
	{ "close", inc_close, "close (needs an approved review)" },
	{ "show", inc_show, "one incident: stage, classifications, clocks, timeline" },
	{ "list", inc_list, "incidents, filtered by state and stage" },
	{ "report", inc_report, "a pre-filled report draft (NIS2, EN 319 401)" },
};

int
cmd_incident(struct ev_cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		FILE *f = sub ? stdout : stderr;
		fputs("usage: evident incident SUBCOMMAND [ID] [OPTIONS]\n\nsubcommands:\n", f);
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			fprintf(f, "  %-12s %s\n", subs[i].name, subs[i].summary);
		fputs("\n'evident incident SUBCOMMAND --help' shows its options; docs/incidents.md "
		      "describes the workflow.\n",
		    f);
		return sub ? 0 : 2;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i].name) == 0)
			return subs[i].fn(cli, argc - 1, argv + 1);
	return ev_cli_usage(cli, "unknown subcommand '%s' (see evident incident --help)", sub);
}
