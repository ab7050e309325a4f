/*
 * registers.h - the TSP's registers: vulnerabilities, security tests,
 * changes, backups and restore tests, continuity plans and exercises,
 * risks, policies, suppliers, log reviews, the termination plan; and the
 * time-sync evidence (timesync.c).
 *
 * A register is data, not code: one table (registers.c) names each
 * register, its actions, the entry kind each action records and the fields
 * it needs.  Every action is one ledger entry whose subject is the item id
 * ("vuln-3", "restore-1"), whose actor is whoever acts and whose body holds
 * the validated fields.  The projection (tables reg_items, reg_events,
 * reg_alerts) is kept by ev_registers_projector inside the append
 * transaction and checks the same rules, so a raw `evident append` cannot
 * act on an unknown item or record an item twice.
 *
 * Critical vulnerabilities run a 48 hour clock (EN 319 401 7.9.5) from
 * their discovery time; a recorded mitigation (with or without a plan) or
 * closing stops it.  ev_registers_vuln_clocks lists those clocks in the
 * shape of the incident clocks.
 */
#ifndef EV_REGISTERS_REGISTERS_H
#define EV_REGISTERS_REGISTERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/err.h"

#define EV_REG_ID_MAX 48
#define EV_REG_TEXT_MAX 8192 /* longest free text accepted */
#define EV_REG_LIST_MAX 256  /* most values of a repeated field */

/* How a field's value is checked and stored in the body. */
enum ev_reg_type {
	EV_RF_TEXT,     /* non-empty text up to EV_REG_TEXT_MAX: JSON string */
	EV_RF_ENUM,     /* one of values ("a|b|c"): JSON string */
	EV_RF_TIME,     /* a time (timeutil forms): RFC 3339 string */
	EV_RF_DURATION, /* "4h", "30m", "PT4H": ISO 8601 string, plus KEY_s in seconds */
	EV_RF_NUMBER,   /* a decimal number in [0, 10]... range in values "0-10": JSON real */
	EV_RF_LIST,     /* repeatable option: JSON array of strings */
	EV_RF_YESNO,    /* yes|no: JSON boolean */
	EV_RF_REF       /* an existing item id with the prefix in values ("change") */
};

struct ev_reg_field {
	const char *opt; /* CLI option (without "--") */
	const char *key; /* body member */
	int type;        /* enum ev_reg_type */
	int required;
	const char *values; /* enum values, number range, or ref prefix */
	const char *help;
};

struct ev_reg_action {
	const char *name;    /* CLI sub-command: add, record, mitigate ... */
	const char *kind;    /* entry kind */
	const char *prefix;  /* creating action: id prefix ("vuln"); NULL: acts on an item ID */
	const char *title;   /* body member shown as the item's title */
	const char *state;   /* the item's state after this action */
	const struct ev_reg_field *fields;
	const char *help;
};

struct ev_register {
	const char *name; /* the CLI command: vuln, backup, ... */
	const char *summary;
	const struct ev_reg_action *actions;
};

/*
 * ISO 8601 duration arithmetic: *out = t + dur ("P3M", "PT48H", "P1Y2M3DT4H").
 * Years and months move the calendar date (clamped to the month's end),
 * the rest is fixed time.  -1 when dur is malformed.
 */
int ev_registers_duration_add(int64_t t, const char *dur, int64_t *out);
/*
 * A duration option: ISO 8601 ("PT4H30M") or a number with a unit s, m, h,
 * d ("90m", "4h").  Writes the ISO form into iso (size n) and the length in
 * seconds.  -1 when malformed, negative or zero.
 */
int ev_registers_duration_parse(const char *s, char *iso, size_t n, int64_t *seconds);

/* Every register, NULL-terminated. */
const struct ev_register *const *ev_registers_all(void);
/* The register named name, or NULL. */
const struct ev_register *ev_registers_find(const char *name);
/* The action named name of r, or NULL. */
const struct ev_reg_action *ev_registers_action(const struct ev_register *r, const char *name);

/*
 * Validate raw option values (the CLI's strings: vals[i] / lists[i] for
 * a->fields[i], NULL when not given) and build the entry body.  Caller
 * decrefs *body.  EV_EINVAL names the option.
 */
struct ev_reg_values {
	const char *str;
	const char *const *list;
	size_t nlist;
};
int ev_registers_body(const struct ev_reg_action *a, const struct ev_reg_values *vals,
    json_t **body, struct ev_err *err);

/*
 * Record one action: for a creating action, allocate the next PREFIX-N and
 * write it to id_out; otherwise id names the item (it must exist, belong to
 * the register and not be closed).  Fields the action derives (restore
 * test: met) are added here.  One transaction.  *seq (may be NULL) is the
 * entry's seq.  body is borrowed.
 */
int ev_registers_record(struct ev_ledger *l, const struct ev_register *r,
    const struct ev_reg_action *a, const char *id, const char *actor, json_t *body,
    char id_out[EV_REG_ID_MAX], uint64_t *seq, struct ev_err *err);

/*
 * Items of register r as a JSON array of {"id","kind","recorded","actor",
 * "title","state","seq","last_seq","body"} in id order; open_only leaves
 * closed ones out.  Caller decrefs.
 */
int ev_registers_list(struct ev_ledger *l, const struct ev_register *r, int open_only,
    json_t **out, struct ev_err *err);
/* One item with its history ("events": [...]); EV_ENOTFOUND when absent. */
int ev_registers_show(struct ev_ledger *l, const char *id, json_t **out, struct ev_err *err);

/*
 * Import scan results: a JSON array of {"title","severity","cvss","asset",
 * "id"} (severity optional when cvss is given; asset a string or an array).
 * A finding whose scanner id is already recorded on an open vulnerability
 * is skipped.  One transaction.  *added / *skipped count.
 */
int ev_registers_vuln_import(struct ev_ledger *l, const char *json_text, size_t len,
    const char *actor, unsigned *added, unsigned *skipped, struct ev_err *err);

#define EV_VULN_CLOCK "critical-vulnerability"
#define EV_VULN_CLOCK_US (48LL * 3600 * 1000000)

/*
 * The 48 hour clock of every critical vulnerability at now, as a JSON array
 * of {"subject","clock","title","started","due","state","stopped_by"} with
 * state running, due-soon (the last 12 hours), overdue or stopped; all=0
 * leaves stopped clocks out.  Caller decrefs.
 */
int ev_registers_vuln_clocks(struct ev_ledger *l, int64_t now, int all, json_t **out,
    struct ev_err *err);

/*
 * Raise one alert.raised entry (subject "alerts", actor "system", body
 * {"rule","key","title","severity","why","tags":[],"log_seq":[]} plus the
 * members of extra) unless one with the same rule and key exists.  *raised
 * (may be NULL) is set to 1 when this call raised it.  Use inside or outside
 * a transaction.
 */
int ev_registers_raise(struct ev_ledger *l, const char *rule, const char *key,
    const char *severity, const char *title, const char *why, json_t *extra, int *raised,
    struct ev_err *err);

/*
 * For `evident clocks`: append the vulnerability clocks to an incident-clock
 * array, each also carrying "incident" = its subject (vuln-N) so one listing
 * shows both.
 */
int ev_registers_vuln_clocks_append(struct ev_ledger *l, int64_t now, int all, json_t *clocks,
    struct ev_err *err);

/* Overdue critical-vulnerability clocks raise rule "vuln.overdue" once per vulnerability. */
int ev_registers_vuln_tick(struct ev_ledger *l, int64_t now, unsigned *raised,
    struct ev_err *err);

/* ---- time synchronisation evidence (EN 319 401 7.10) ---- */

#define EV_TIMESYNC_THRESHOLD_MS 1000.0 /* TSA accuracy in EN 319 421: 1 second */
#define EV_TIMESYNC_MAX_AGE_US (24LL * 3600 * 1000000)

struct ev_timesync_result {
	char source[16];  /* "sntp" or "chrony" */
	char server[256]; /* host:port, or chrony's reference */
	double offset_ms; /* local clock minus server time */
	double delay_ms;  /* round trip (sntp) or root delay (chrony) */
	int stratum;
	char refid[64];
};

/*
 * Ask server ("host", "host:port", "[v6]:port"; port 123 by default) with
 * SNTP (RFC 4330), one request, timeout_ms to answer.  EV_EIO when no valid
 * answer came (the message says why).
 */
int ev_timesync_sntp(const char *server, long timeout_ms, struct ev_timesync_result *r,
    struct ev_err *err);
/* Read chrony's state with `chronyc -c tracking`.  EV_ENOTFOUND when chronyc is absent. */
int ev_timesync_chrony(struct ev_timesync_result *r, struct ev_err *err);
/* The default server: $EVIDENT_NTP_SERVER, else pool.ntp.org:123. */
const char *ev_timesync_default_server(void);

/*
 * Record a result as a clock.synced entry (subject "timesync", body
 * {"server","source","offset_ms","delay_ms","stratum","refid",
 * "threshold_ms","within_threshold"}) and, when |offset| exceeds
 * threshold_ms, raise alert rule "timesync".  *seq (may be NULL) gets the
 * entry's seq; *alerted (may be NULL) is 1 when an alert was raised.
 */
int ev_timesync_record(struct ev_ledger *l, const struct ev_timesync_result *r,
    double threshold_ms, const char *actor, uint64_t *seq, int *alerted, struct ev_err *err);

/*
 * The sync status at now: the latest clock.synced at or before now
 * (*last_seq 0 when none, *last_us its time).  When none is younger than
 * max_age_us (0: 24 hours), raise alert rule "timesync" once per missed
 * sync (*alerted 1).  *ok is 1 when a recent sync exists.
 */
int ev_timesync_status(struct ev_ledger *l, int64_t now, int64_t max_age_us, int raise,
    int *ok, uint64_t *last_seq, int64_t *last_us, int *alerted, struct ev_err *err);

/*
 * What `evident serve` runs daily: ask server (NULL: chrony if present,
 * else the default server), record, then check the status.  A failed query
 * raises a "timesync" alert and returns EV_EIO.
 */
int ev_timesync_daily(struct ev_ledger *l, const char *server, double threshold_ms, int64_t now,
    struct ev_err *err);

/* The projector (registered in src/ledger/projectors.def). */
extern const struct ev_projector ev_registers_projector;

#endif
