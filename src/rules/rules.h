/*
 * rules.h - Sigma alarm rules: load, compile, match, correlate.
 *
 * Rules are loaded once from YAML files (libyaml) and compiled into matchers
 * indexed by field and literal, so that matching an event does not walk every
 * rule.  Correlation rules (event_count, value_count, temporal) keep state
 * across events inside the rule set, keyed by group-by values, windowed by
 * event time.
 *
 * This header is the whole interface the rest of evident uses.
 */
#ifndef EV_RULES_RULES_H
#define EV_RULES_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/event.h"

struct ev_rules;

/* One problem found while loading: "file:line: message". */
struct ev_rule_diag {
	const char *file;
	unsigned line;
	const char *message;
	int unsupported; /* 1 when it names a Sigma feature evident does not support */
};

/*
 * Load every rule from the given files and directories (recursively, *.yml
 * and *.yaml).  Problems are reported through diag (may be NULL); a rule with
 * a problem is not loaded, the others are.  *out is set even when some rules
 * failed; EV_EINVAL is returned when any did.  Caller frees with ev_rules_free.
 */
int ev_rules_load(const char *const *paths, size_t npaths,
    void (*diag)(const struct ev_rule_diag *d, void *arg), void *arg, struct ev_rules **out,
    struct ev_err *err);
void ev_rules_free(struct ev_rules *r);
size_t ev_rules_count(const struct ev_rules *r);

/* What a match reports. */
struct ev_rule_match {
	const char *rule_id;    /* Sigma id (UUID) or the file stem when absent */
	const char *title;
	const char *level;      /* informational|low|medium|high|critical */
	const char *const *tags;
	size_t ntags;
	int correlation;        /* 1 when a correlation rule fired */
	const char *group;      /* group-by values "k=v,k=v" for correlations, else NULL */
	const char *why;        /* human explanation: which selection / which fields matched */
	const uint64_t *seqs;   /* ledger seqs of the contributing events (correlations) */
	size_t nseqs;
};

/*
 * Match one event against every rule (and feed the correlations).  cb is
 * called once per firing rule; a non-zero return stops matching and is
 * returned.
 */
int ev_rules_match(struct ev_rules *r, const struct ev_event *ev,
    int (*cb)(const struct ev_rule_match *m, const struct ev_event *ev, void *arg), void *arg);

/*
 * Additions (rules engine owner).  Load rules from memory: name is what
 * diagnostics call the file.  Same contract as ev_rules_load.
 */
int ev_rules_load_buffer(const char *name, const char *data, size_t len,
    void (*diag)(const struct ev_rule_diag *d, void *arg), void *arg, struct ev_rules **out,
    struct ev_err *err);

/*
 * Restrict rules whose logsource.service is `service` to events whose
 * ev->source or "app" field equals one of names (ASCII case-insensitive).
 * Without a mapping, a rule's service does not restrict it.  May be called
 * several times for one service (the names add up).
 */
int ev_rules_map_service(struct ev_rules *r, const char *service, const char *const *names,
    size_t nnames);

/*
 * Also report rules that only feed correlations (referenced by a
 * correlation and not marked generate: true).  Off by default; `evident
 * rules test --all` turns it on.
 */
void ev_rules_show_hidden(struct ev_rules *r, int on);

/*
 * Notes on ev_rules_match: it keeps per-event scratch and correlation state
 * in r, so a rule set is used by one thread at a time; the strings and seqs
 * of a struct ev_rule_match are valid only during the callback (copy what
 * you keep).  ev_rules_count counts every loaded rule, correlations and the
 * rules that only feed them included.
 */

#endif
