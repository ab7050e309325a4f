/*
 * incident.h - the incident workflow of EN 319 401 7.9.2-7.9.5: lifecycle,
 * classification and significance assessment, regulatory clocks, notices,
 * post-incident review, report drafts, and the clock scheduler that raises
 * alerts and delivers them to webhooks.
 *
 * Every step is one ledger entry (kind incident.*, subject the incident id
 * "inc-YYYY-NNNN", actor whoever acts).  The projection (tables incidents,
 * incident_classifications, incident_timeline, incident_clocks, ...) is kept
 * by ev_incident_projector inside the append transaction; it also enforces
 * the workflow rules (no close without an approved review, no approval by
 * the owner, nothing after close), so a raw `evident append` cannot skip
 * them either.  Which regulatory clocks start is decided here, from the
 * clock profiles (YAML), and written into the entry that starts them: the
 * ledger holds the deadline that applied and the profile version it came
 * from, and a rebuild never depends on the profiles installed today.
 *
 * This header is the whole interface the CLI and the server use.
 */
#ifndef EV_INCIDENT_INCIDENT_H
#define EV_INCIDENT_INCIDENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/buf.h"
#include "util/err.h"

#define EV_INCIDENT_ID_MAX 32 /* "inc-YYYY-NNNN" and room to spare */
#define EV_TEXT_MAX 8192      /* longest free text accepted (reason, note, title) */

/* ---- profiles: clocks and significance criteria, loaded from YAML ---- */

struct ev_profiles;

/*
 * The profile directory to use: dir when not NULL, else $EVIDENT_CLOCKS,
 * else ../clocks next to the running binary, else /usr/share/evident/clocks.
 * Writes into buf (size n) and returns it.
 */
const char *ev_profiles_default_dir(const char *dir, char *buf, size_t n);
/*
 * Load every *.yaml / *.yml file of dir: files with "clocks:" are clock
 * profiles, files with "criteria:" significance criteria.  EV_EINVAL names
 * the file and the problem.  Caller frees with ev_profiles_free.
 */
int ev_profiles_load(const char *dir, struct ev_profiles **out, struct ev_err *err);
void ev_profiles_free(struct ev_profiles *p);
/* The clock definition named name (a JSON object owned by p), or NULL. */
const json_t *ev_profiles_clock(const struct ev_profiles *p, const char *name);
/* Every clock definition (a JSON array owned by p). */
const json_t *ev_profiles_clocks(const struct ev_profiles *p);
/* The criteria profile named name, or the first one when name is NULL. */
const json_t *ev_profiles_criteria(const struct ev_profiles *p, const char *name);

/* ISO 8601 duration arithmetic: t + d, calendar months clamped to the month's end. */
int ev_duration_add(int64_t t, const char *dur, int64_t *out);

/* ---- recording ---- */

/*
 * Record one workflow step.  kind is the entry kind (incident.opened, ...),
 * id the incident (ignored for incident.opened, which allocates the next
 * inc-YYYY-NNNN and writes it to id_out), body the step's fields as the CLI
 * built them (borrowed; this function adds the clock starts and stops and
 * the derived fields).  Validates everything before anything is written;
 * the append is one transaction.  On success *seq is the entry's seq.
 * Errors: EV_EINVAL bad input, EV_ENOTFOUND unknown incident or alert,
 * EV_ESTATE / EV_EDENIED refused by the workflow rules.
 */
int ev_incident_record(struct ev_ledger *l, const struct ev_profiles *p, const char *kind,
    const char *id, const char *actor, json_t *body, char id_out[EV_INCIDENT_ID_MAX],
    uint64_t *seq, struct ev_err *err);

/*
 * Copy an evidence file into DIR/evidence/<sha256> (0600, content-addressed)
 * and give its hex SHA-256, base name and size.  *created is 1 when this call
 * created the copy (so a caller whose append fails may remove it).
 */
int ev_incident_store_evidence(const char *data_dir, const char *path, char sha_hex[65],
    char *name, size_t name_len, uint64_t *size, int *created, struct ev_err *err);

/* 1 when s is a well-formed incident id inc-YYYY-NNNN (4+ digits). */
int ev_incident_id_valid(const char *s);

/* ---- views ---- */

/* One incident as JSON (stage, owner, classifications, clocks, timeline...). */
int ev_incident_show(struct ev_ledger *l, const char *id, int64_t now, json_t **out,
    struct ev_err *err);
/* Incidents as a JSON array; open_only / stage (NULL: any) filter. */
int ev_incident_list(struct ev_ledger *l, int open_only, const char *stage, json_t **out,
    struct ev_err *err);
/* 1 when s names a stage (detect-triage ... closed). */
int ev_incident_stage_valid(const char *s);

/* Report drafts: nis2-early-warning, nis2-notification, nis2-final, en319401-notice. */
int ev_incident_report(struct ev_ledger *l, const char *id, const char *form, int as_json,
    struct ev_buf *out, struct ev_err *err);

/* ---- clocks ---- */

struct ev_clock_config {
	const char *const *webhooks; /* URLs to POST alerts to */
	size_t nwebhooks;
	unsigned tries;              /* delivery attempts per run (default 3) */
	double backoff;              /* seconds before the 2nd try, doubled after (default 1) */
	long timeout_ms;             /* per request (default 10000) */
	int64_t due_soon_us;         /* > 0: overrides every clock's due-soon window */
};

/*
 * Every clock of every incident, evaluated at now, as a JSON array of
 * {"incident","clock","started","due","state",...}; state is running,
 * due-soon, overdue or stopped.  all=0 leaves stopped clocks out.
 */
int ev_clocks_list(struct ev_ledger *l, int64_t now, int64_t due_soon_us, int all, json_t **out,
    struct ev_err *err);

/*
 * The scheduler pass: raise alert.raised entries (rule clock.due /
 * clock.overdue, subject "alerts", actor "system") once per clock and state,
 * then deliver every clock alert not yet delivered to each webhook, recording
 * each attempt as a webhook.delivery entry.  *raised / *delivered (may be
 * NULL) count this pass's new alerts and successful deliveries.  A failed
 * delivery is not an error of the pass (it is recorded and retried on the
 * next pass); EV_EIO only for store failures.
 */
int ev_clocks_tick(struct ev_ledger *l, int64_t now, const struct ev_clock_config *cfg,
    unsigned *raised, unsigned *delivered, struct ev_err *err);

/* The projector (registered in src/ledger/projectors.def). */
extern const struct ev_projector ev_incident_projector;

#endif
