/*
 * table.c - the register table: which registers exist, what each action
 * records and which fields it needs.  Adding a register or a field is an
 * edit here only; the CLI, the body checks and the projection read it.
 *
 * Field keys are the body members (snake_case); options are the CLI
 * spelling.  Entry kinds are <register>.<past tense>, except where the
 * design already named them (vuln.recorded, backup.tested).
 */
#include "registers/registers.h"

#include <string.h>

#define F_END { NULL, NULL, 0, 0, NULL, NULL }
#define A_END { NULL, NULL, NULL, NULL, NULL, NULL, NULL }

#define SEVERITY "low|medium|high|critical"
#define LEVEL "low|medium|high"

/* ---- vulnerabilities (7.9.5, 7.8) ---- */

static const struct ev_reg_field vuln_add[] = {
	{ "title", "title", EV_RF_TEXT, 1, NULL, "what the vulnerability is" },
	{ "severity", "severity", EV_RF_ENUM, 1, SEVERITY, "low, medium, high or critical" },
	{ "cvss", "cvss", EV_RF_NUMBER, 0, "0-10", "CVSS base score (0 to 10)" },
	{ "discovered-at", "discovered_at", EV_RF_TIME, 0, NULL,
	    "when it was discovered (default: now); the 48 h clock starts here" },
	{ "asset", "assets", EV_RF_LIST, 0, NULL, "an affected asset (repeatable)" },
	{ "reference", "reference", EV_RF_TEXT, 0, NULL, "CVE or scanner finding id" },
	F_END,
};
static const struct ev_reg_field vuln_assess[] = {
	{ "exposure", "exposure", EV_RF_TEXT, 1, NULL, "how the service is exposed" },
	{ "asset", "assets", EV_RF_LIST, 0, NULL, "an affected asset (repeatable)" },
	{ "severity", "severity", EV_RF_ENUM, 0, SEVERITY, "reassessed severity" },
	F_END,
};
static const struct ev_reg_field vuln_mitigate[] = {
	{ "note", "note", EV_RF_TEXT, 1, NULL, "what was done" },
	{ "plan", "plan", EV_RF_TEXT, 0, NULL,
	    "the documented mitigation plan, or the factual basis for no remediation" },
	F_END,
};
static const struct ev_reg_field note_only[] = {
	{ "note", "note", EV_RF_TEXT, 1, NULL, "why it is closed" },
	F_END,
};
static const struct ev_reg_action vuln_actions[] = {
	{ "add", "vuln.recorded", "vuln", "title", "open", vuln_add,
	    "record a vulnerability (critical starts the 48 h clock)" },
	{ "assess", "vuln.assessed", NULL, NULL, "assessed", vuln_assess,
	    "record the exposure assessment" },
	{ "mitigate", "vuln.mitigated", NULL, NULL, "mitigated", vuln_mitigate,
	    "record a mitigation or a documented plan (stops the 48 h clock)" },
	{ "close", "vuln.closed", NULL, NULL, "closed", note_only, "close the vulnerability" },
	A_END,
};

/* ---- security tests and changes (7.8, 7.7) ---- */

static const struct ev_reg_field test_record[] = {
	{ "type", "type", EV_RF_ENUM, 1, "vulnerability-scan|penetration-test",
	    "vulnerability-scan or penetration-test" },
	{ "scope", "scope", EV_RF_TEXT, 1, NULL, "what was tested (addresses, systems)" },
	{ "result", "result", EV_RF_TEXT, 1, NULL, "outcome and findings" },
	{ "trigger", "trigger", EV_RF_REF, 0, "change", "the significant change (change-N) it follows" },
	{ "tester", "tester", EV_RF_TEXT, 0, NULL, "who tested (qualified, independent)" },
	{ "tool", "tool", EV_RF_TEXT, 0, NULL, "scanner or method" },
	{ "report", "report", EV_RF_TEXT, 0, NULL, "where the report is archived, or its hash" },
	F_END,
};
static const struct ev_reg_action test_actions[] = {
	{ "record", "securitytest.recorded", "test", "scope", "done", test_record,
	    "record a vulnerability scan or penetration test" },
	A_END,
};
static const struct ev_reg_field change_add[] = {
	{ "title", "title", EV_RF_TEXT, 1, NULL, "what changes" },
	{ "significant", "significant", EV_RF_YESNO, 1, NULL,
	    "yes when significant (a penetration test should follow)" },
	{ "description", "description", EV_RF_TEXT, 0, NULL, "details" },
	{ "approved-by", "approved_by", EV_RF_TEXT, 0, NULL, "who approved it" },
	F_END,
};
static const struct ev_reg_action change_actions[] = {
	{ "add", "change.recorded", "change", "title", "recorded", change_add,
	    "record a change to infrastructure or applications" },
	A_END,
};

/* ---- backups and restore tests (7.11) ---- */

static const struct ev_reg_field backup_record[] = {
	{ "scope", "scope", EV_RF_TEXT, 1, NULL, "what was backed up" },
	{ "location", "location", EV_RF_TEXT, 1, NULL, "where the copy is kept" },
	{ "off-network", "off_network", EV_RF_YESNO, 1, NULL, "yes when the copy is off-network" },
	{ "integrity", "integrity", EV_RF_ENUM, 1, "ok|failed", "integrity check: ok or failed" },
	F_END,
};
static const struct ev_reg_field backup_restore[] = {
	{ "scope", "scope", EV_RF_TEXT, 1, NULL, "what was restored" },
	{ "result", "result", EV_RF_ENUM, 1, "ok|failed", "ok or failed" },
	{ "recovery-time", "recovery_time", EV_RF_DURATION, 1, NULL,
	    "measured recovery time (4h, 30m, PT2H30M)" },
	{ "target", "target", EV_RF_DURATION, 1, NULL, "the continuity plan's target" },
	{ "note", "note", EV_RF_TEXT, 0, NULL, "observations" },
	F_END,
};
static const struct ev_reg_action backup_actions[] = {
	{ "record", "backup.recorded", "backup", "scope", "done", backup_record,
	    "record a backup and its integrity check" },
	{ "restore-test", "backup.tested", "restore", "scope", "done", backup_restore,
	    "record a restore test against the recovery target" },
	A_END,
};

/* ---- continuity: plans, exercises, crisis roles, recoveries (7.11) ---- */

static const struct ev_reg_field bcp_plan[] = {
	{ "title", "title", EV_RF_TEXT, 1, NULL, "the plan's name" },
	{ "version", "version", EV_RF_TEXT, 1, NULL, "plan version" },
	{ "approved-by", "approved_by", EV_RF_TEXT, 1, NULL, "who approved it" },
	{ "recovery-target", "recovery_target", EV_RF_DURATION, 1, NULL,
	    "restore delay the plan promises (4h, PT8H)" },
	{ "next-review", "next_review", EV_RF_TIME, 1, NULL, "when it must be reviewed next" },
	{ "location", "location", EV_RF_TEXT, 0, NULL, "where the document is" },
	F_END,
};
static const struct ev_reg_field bcp_exercise[] = {
	{ "type", "type", EV_RF_ENUM, 1, "tabletop|simulation|full|crisis",
	    "tabletop, simulation, full or crisis (crisis-management exercise)" },
	{ "scope", "scope", EV_RF_TEXT, 1, NULL, "what was exercised" },
	{ "result", "result", EV_RF_TEXT, 1, NULL, "outcome" },
	{ "findings", "findings", EV_RF_TEXT, 0, NULL, "lessons and actions" },
	F_END,
};
static const struct ev_reg_field bcp_role[] = {
	{ "role", "role", EV_RF_TEXT, 1, NULL, "crisis-management role" },
	{ "person", "person", EV_RF_TEXT, 1, NULL, "who holds it" },
	{ "deputy", "deputy", EV_RF_TEXT, 0, NULL, "deputy" },
	{ "authority", "authority", EV_RF_TEXT, 0, NULL, "decisions the role may take" },
	{ "contact", "contact", EV_RF_TEXT, 0, NULL, "how to reach them" },
	F_END,
};
static const struct ev_reg_field bcp_recovery[] = {
	{ "scope", "scope", EV_RF_TEXT, 1, NULL, "what was restored" },
	{ "incident", "incident", EV_RF_TEXT, 0, NULL, "the incident (inc-YYYY-NNNN)" },
	{ "started-at", "started_at", EV_RF_TIME, 1, NULL, "when recovery started" },
	{ "restored-at", "restored_at", EV_RF_TIME, 1, NULL, "when service was restored" },
	{ "target", "target", EV_RF_DURATION, 1, NULL, "the plan's restore delay" },
	{ "cause-addressed", "cause_addressed", EV_RF_TEXT, 1, NULL, "how the cause was addressed" },
	F_END,
};
static const struct ev_reg_field review_fields[] = {
	{ "reviewer", "reviewer", EV_RF_TEXT, 1, NULL, "who reviewed" },
	{ "outcome", "outcome", EV_RF_TEXT, 1, NULL, "result and changes" },
	{ "next-review", "next_review", EV_RF_TIME, 0, NULL, "when the next review is due" },
	F_END,
};
static const struct ev_reg_action bcp_actions[] = {
	{ "plan", "bcp.plan", "bcp", "title", "approved", bcp_plan,
	    "record an approved continuity plan (version)" },
	{ "review", "bcp.reviewed", NULL, NULL, "reviewed", review_fields, "record a plan review" },
	{ "exercise", "bcp.exercised", "exercise", "scope", "done", bcp_exercise,
	    "record a continuity or crisis-management exercise" },
	{ "role", "bcp.role", "role", "role", "assigned", bcp_role,
	    "record a crisis-management role holder" },
	{ "recovery", "bcp.recovered", "recovery", "scope", "done", bcp_recovery,
	    "record a recovery: restore time against the plan's target" },
	A_END,
};

/* ---- risks (clause 5) ---- */

static const struct ev_reg_field risk_add[] = {
	{ "asset", "asset", EV_RF_TEXT, 1, NULL, "asset or service at risk" },
	{ "threat", "threat", EV_RF_TEXT, 1, NULL, "threat" },
	{ "vulnerability", "vulnerability", EV_RF_TEXT, 1, NULL, "weakness the threat uses" },
	{ "likelihood", "likelihood", EV_RF_ENUM, 1, LEVEL, "low, medium or high" },
	{ "impact", "impact", EV_RF_ENUM, 1, LEVEL, "low, medium or high" },
	{ "treatment", "treatment", EV_RF_TEXT, 1, NULL, "chosen treatment measures" },
	{ "owner", "owner", EV_RF_TEXT, 0, NULL, "risk owner" },
	F_END,
};
static const struct ev_reg_field risk_accept[] = {
	{ "residual", "residual", EV_RF_ENUM, 1, LEVEL, "residual risk level" },
	{ "accepted-by", "accepted_by", EV_RF_TEXT, 1, NULL, "the manager who accepts it" },
	{ "note", "note", EV_RF_TEXT, 0, NULL, "rationale" },
	F_END,
};
static const struct ev_reg_field risk_review[] = {
	{ "scope", "scope", EV_RF_TEXT, 1, NULL, "what the assessment covered" },
	{ "method", "method", EV_RF_TEXT, 0, NULL, "method used" },
	{ "reviewer", "reviewer", EV_RF_TEXT, 1, NULL, "who reviewed" },
	{ "changes", "changes", EV_RF_TEXT, 1, NULL, "what changed" },
	{ "approved-by", "approved_by", EV_RF_TEXT, 0, NULL, "management approval" },
	{ "version", "version", EV_RF_TEXT, 0, NULL, "assessment version" },
	F_END,
};
static const struct ev_reg_action risk_actions[] = {
	{ "add", "risk.assessed", "risk", "threat", "open", risk_add,
	    "record an assessed risk and its treatment" },
	{ "accept", "risk.accepted", NULL, NULL, "accepted", risk_accept,
	    "record acceptance of the residual risk by a named manager" },
	{ "review", "risk.reviewed", "riskreview", "scope", "done", risk_review,
	    "record a review of the risk assessment" },
	A_END,
};

/* ---- policies and practice statements (6.1-6.3) ---- */

static const struct ev_reg_field policy_add[] = {
	{ "name", "name", EV_RF_TEXT, 1, NULL, "document name" },
	{ "type", "type", EV_RF_ENUM, 1,
	    "policy|practice-statement|security-policy|terms|supply-chain|procedure|other",
	    "policy, practice-statement, security-policy, terms, supply-chain, procedure, other" },
	{ "version", "version", EV_RF_TEXT, 1, NULL, "version" },
	{ "owner", "owner", EV_RF_TEXT, 1, NULL, "maintainer" },
	{ "approved-by", "approved_by", EV_RF_TEXT, 1, NULL, "approving management body" },
	{ "next-review", "next_review", EV_RF_TIME, 1, NULL, "when it must be reviewed next" },
	{ "url", "url", EV_RF_TEXT, 0, NULL, "where it is published" },
	F_END,
};
static const struct ev_reg_field policy_publish[] = {
	{ "url", "url", EV_RF_TEXT, 1, NULL, "where it is published" },
	{ "audience", "audience", EV_RF_TEXT, 0, NULL, "who was told (staff, subscribers, ...)" },
	F_END,
};
static const struct ev_reg_action policy_actions[] = {
	{ "add", "policy.approved", "policy", "name", "approved", policy_add,
	    "record an approved policy or practice statement version" },
	{ "review", "policy.reviewed", NULL, NULL, "reviewed", review_fields,
	    "record a review" },
	{ "publish", "policy.published", NULL, NULL, "published", policy_publish,
	    "record publication or communication" },
	A_END,
};

/* ---- suppliers (7.14) ---- */

static const struct ev_reg_field supplier_add[] = {
	{ "name", "name", EV_RF_TEXT, 1, NULL, "supplier" },
	{ "service", "service", EV_RF_TEXT, 1, NULL, "what it provides" },
	{ "criticality", "criticality", EV_RF_ENUM, 1, SEVERITY, "low, medium, high or critical" },
	{ "agreement", "agreement", EV_RF_TEXT, 1, NULL, "contract reference" },
	{ "sla", "sla", EV_RF_TEXT, 1, NULL, "service levels" },
	{ "security-obligations", "security_obligations", EV_RF_TEXT, 1, NULL,
	    "security and incident-notification duties in the agreement" },
	F_END,
};
static const struct ev_reg_action supplier_actions[] = {
	{ "add", "supplier.recorded", "supplier", "name", "active", supplier_add,
	    "record a supplier and its agreement" },
	{ "review", "supplier.reviewed", NULL, NULL, "reviewed", review_fields,
	    "record a supplier assessment" },
	{ "end", "supplier.ended", NULL, NULL, "closed", note_only, "end the relationship" },
	A_END,
};

/* ---- log reviews (7.9.1) ---- */

static const struct ev_reg_field logreview_record[] = {
	{ "reviewer", "reviewer", EV_RF_TEXT, 1, NULL, "who reviewed" },
	{ "source", "sources", EV_RF_LIST, 1, NULL, "a log source reviewed (repeatable)" },
	{ "from", "from", EV_RF_TIME, 1, NULL, "start of the period covered" },
	{ "to", "to", EV_RF_TIME, 1, NULL, "end of the period covered" },
	{ "findings", "findings", EV_RF_TEXT, 1, NULL, "what was found (or 'none')" },
	F_END,
};
static const struct ev_reg_action logreview_actions[] = {
	{ "record", "logreview.recorded", "logreview", "reviewer", "done", logreview_record,
	    "record a review of collected logs" },
	A_END,
};

/* ---- termination plan (7.12) ---- */

static const struct ev_reg_field termination_plan[] = {
	{ "version", "version", EV_RF_TEXT, 1, NULL, "plan version" },
	{ "approved-by", "approved_by", EV_RF_TEXT, 1, NULL, "who approved it" },
	{ "recipient", "recipients", EV_RF_LIST, 1, NULL,
	    "who receives which records and keys on cessation: 'PARTY: WHAT' (repeatable)" },
	{ "funding", "funding", EV_RF_TEXT, 0, NULL, "arrangement covering termination costs" },
	{ "next-review", "next_review", EV_RF_TIME, 1, NULL, "when it must be reviewed next" },
	F_END,
};
static const struct ev_reg_action termination_actions[] = {
	{ "plan", "termination.plan", "termination", "version", "approved", termination_plan,
	    "record an approved termination plan" },
	{ "review", "termination.reviewed", NULL, NULL, "reviewed", review_fields,
	    "record a review of the plan" },
	A_END,
};

static const struct ev_register registers[] = {
	{ "vuln", "vulnerabilities and their 48 h clock", vuln_actions },
	{ "securitytest", "vulnerability scans and penetration tests", test_actions },
	{ "change", "changes (significant ones call for a penetration test)", change_actions },
	{ "backup", "backups and restore tests", backup_actions },
	{ "bcp", "continuity plans, exercises, crisis roles, recoveries", bcp_actions },
	{ "risk", "risk register: risks, treatments, acceptance, reviews", risk_actions },
	{ "policy", "policies and practice statements: versions, reviews", policy_actions },
	{ "supplier", "suppliers: agreements, SLAs, security duties, reviews", supplier_actions },
	{ "logreview", "reviews of collected logs", logreview_actions },
	{ "termination", "the termination plan (7.12)", termination_actions },
};

static const struct ev_register *const all[] = {
	&registers[0], &registers[1], &registers[2], &registers[3], &registers[4],
	&registers[5], &registers[6], &registers[7], &registers[8], &registers[9], NULL,
};

const struct ev_register *const *
ev_registers_all(void)
{
	_Static_assert(sizeof(registers) / sizeof(registers[0]) == 10, "all[] lists every register");
	return all;
}

const struct ev_register *
ev_registers_find(const char *name)
{
	for (size_t i = 0; all[i]; i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

const struct ev_reg_action *
ev_registers_action(const struct ev_register *r, const char *name)
{
	for (const struct ev_reg_action *a = r->actions; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}
