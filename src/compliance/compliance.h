/*
 * compliance.h - the compliance program: the EN 319 401 requirement
 * catalogue (compliance/requirements.tsv), the TSP's control mapping
 * (compliance/controls.yaml), the requirement index and the cadence of
 * every control.
 *
 * Both files are data read at run time.  The mapping says, for each
 * requirement id, which controls meet it (narrative, owner, verification
 * method) and which ledger entries prove each control (evidence queries:
 * entry kinds, an optional subject pattern and body match, a cadence), or
 * that the requirement does not apply and why.  Nothing here writes to the
 * ledger except the cadence pass (alerts for overdue items).
 *
 * Status of a requirement at time now:
 *   evidenced       every evidence query of every control is satisfied
 *   stale           satisfied, but a record says it is out of date (its
 *                   next_review date has passed)
 *   missing         some query has no evidence in its current period: never
 *                   recorded, its cadence period has run out, or a trigger
 *                   (significant change, incident) has gone unanswered past
 *                   its grace period
 *   not-applicable  the mapping says so, with the reason
 *   unmapped        the mapping does not mention the requirement
 */
#ifndef EV_COMPLIANCE_COMPLIANCE_H
#define EV_COMPLIANCE_COMPLIANCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/err.h"

struct ev_compliance;

/*
 * The data directory: dir when not NULL, else $EVIDENT_COMPLIANCE, else
 * ../compliance next to the running binary, else
 * /usr/share/evident/compliance.  Writes into buf (size n) and returns it.
 */
const char *ev_compliance_default_dir(const char *dir, char *buf, size_t n);

/*
 * Load DIR/requirements.tsv and DIR/controls.yaml (mapping may name another
 * mapping file; NULL: DIR/controls.yaml).  Everything is checked: unknown
 * requirement ids, unknown controls, malformed cadences and durations are
 * EV_EINVAL naming the file and line or key.  Caller frees.
 */
int ev_compliance_load(const char *dir, const char *mapping, struct ev_compliance **out,
    struct ev_err *err);
void ev_compliance_free(struct ev_compliance *c);

/* The catalogue: array of {"id","clause","topic","requirement","evidence","cadence","source"}. */
const json_t *ev_compliance_catalogue(const struct ev_compliance *c);
/* The mapping as loaded: {"version","controls":{ID:{...}},"requirements":{ID:...}}. */
const json_t *ev_compliance_mapping(const struct ev_compliance *c);

/*
 * Requirement ids the mapping leaves unmapped (no control and no
 * not_applicable) or maps only to controls without an evidence query, as a
 * JSON array of strings.  Caller decrefs.
 */
json_t *ev_compliance_unmapped(const struct ev_compliance *c);

/*
 * The requirement index at now:
 *   {"now":T,"mapping_version":V,
 *    "requirements":[{"id","clause","topic","status","control","controls",
 *                     "owner","narrative","verification","evidence":[seq...],
 *                     "latest":T|null,"reason"?,"queries":[...]}, ...],
 *    "summary":{"total":{status:n,...},"by_clause":{clause:{status:n,...}}}}
 * Caller decrefs *out.
 */
int ev_compliance_index(struct ev_ledger *l, const struct ev_compliance *c, int64_t now,
    json_t **out, struct ev_err *err);

/*
 * Every evidence query that has a cadence, at now: array of
 * {"item":"CONTROL#N","control","requirements":[...],"owner","cadence",
 *  "kinds":[...],"last":T|null,"last_seq":N|null,"due":T|null,"state"}
 * with state done, due (never recorded, in the due-soon window, or a trigger
 * waiting inside its grace) or overdue.  Caller decrefs.
 */
int ev_cadence_list(struct ev_ledger *l, const struct ev_compliance *c, int64_t now,
    json_t **out, struct ev_err *err);

/*
 * Raise an alert (rule "cadence", actor "system") for every overdue item,
 * once per item and period (the key holds the item and its due date).
 * *raised (may be NULL) counts this pass's alerts.
 */
int ev_cadence_raise(struct ev_ledger *l, const struct ev_compliance *c, int64_t now,
    unsigned *raised, struct ev_err *err);

/* An entry held outside the ledger (an evidence pack); strings borrowed. */
struct ev_compliance_entry {
	uint64_t seq;
	const char *kind;
	const char *subject;
	const char *body;
	size_t body_len;
};

/*
 * The requirement index over a fixed selection of entries (an evidence
 * pack holds a date range, so no cadence is judged): for each requirement
 * {"id","clause","topic","status","controls","owner","reason"?,
 *  "evidence":[seq...]} with status "evidenced" (some entry of the
 * selection matches an evidence query of its controls), "none" (no
 * matching entry here), "not-applicable" or "unmapped".  Caller decrefs.
 */
json_t *ev_compliance_match_entries(const struct ev_compliance *c,
    const struct ev_compliance_entry *e, size_t n);

#endif
