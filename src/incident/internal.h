/*
 * internal.h - what the files of src/incident share and nothing else uses:
 * a prepared-statement helper, the stage names and the clock window rule.
 */
#ifndef EV_INCIDENT_INTERNAL_H
#define EV_INCIDENT_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "incident/incident.h"

/*
 * Prepare sql, bind the arguments described by types ('i' int64_t, 't' const
 * char * or NULL, 'u' uint64_t) and step it once.  For a statement that
 * returns rows use ev_inc_query instead.  EV_EIO with SQLite's message.
 */
int ev_inc_exec(sqlite3 *db, struct ev_err *err, const char *sql, const char *types, ...);
/* Prepare and bind; the caller steps and finalises *st. */
int ev_inc_query(sqlite3 *db, sqlite3_stmt **st, struct ev_err *err, const char *sql,
    const char *types, ...);
/* Column text or "" (never NULL). */
const char *ev_inc_col(sqlite3_stmt *st, int i);

/*
 * Check an incident.* body: known kind, known keys, types, enumerations,
 * sizes.  stored = 0 for what a caller hands in (fields evident computes are
 * refused), 1 for a stored entry (projector).  EV_EINVAL naming the field.
 */
int ev_inc_check_body(const char *kind, const json_t *body, int stored, struct ev_err *err);

/* Stage ranks 1..7 and their names. */
#define EV_STAGE_DETECT 1
#define EV_STAGE_CLASSIFY 2
#define EV_STAGE_RESPOND 3
#define EV_STAGE_REPORT 4
#define EV_STAGE_RECOVER 5
#define EV_STAGE_REVIEW 6
#define EV_STAGE_CLOSED 7
const char *ev_inc_stage_name(int rank);

/* Default due-soon window: this share of a clock's duration. */
#define EV_DUE_SOON_PERCENT 25

/* The state of a clock at now: running, due-soon, overdue or stopped. */
const char *ev_inc_clock_state(int64_t now, int64_t due, int64_t warn, int stopped);

#endif
