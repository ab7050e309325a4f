/*
 * sched.h - the daemon's calendar: the duties `evident serve` runs on a
 * schedule, each on a thread of their own with their own ledger handle, so
 * that a slow webhook or NTP server never holds up log intake.
 *
 *   every tick (default 60 s): incident clocks (clock.due / clock.overdue
 *     alerts, webhook delivery with retries), critical-vulnerability clocks
 *     (vuln.overdue), compliance cadence (overdue evidence alerts);
 *   daily (first run timesync_first after start): time-synchronisation
 *     evidence (SNTP or chrony) with its alerts;
 *   every checkpoint_every (default 1 h): a signed checkpoint when the
 *     ledger grew since the last one, anchored with an RFC 3161 token when a
 *     time-stamping authority is configured.
 *
 * Every duty is idempotent (each alert is raised once per clock, item or
 * period), so a restart or a second daemon repeats nothing.
 */
#ifndef EV_SCHED_SCHED_H
#define EV_SCHED_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct ev_sched_config {
	const char *data_dir;
	int64_t tick_us;                 /* default 60 s */
	const char *const *webhooks;     /* clock alerts are POSTed here */
	size_t nwebhooks;
	int timesync;                    /* run the daily time-sync check */
	const char *timesync_server;     /* NULL: chrony if present, else the default */
	double timesync_threshold_ms;    /* default 1000 */
	int64_t timesync_first_us;       /* delay of the first check (default 10 min) */
	int64_t checkpoint_every_us;     /* 0: no scheduled checkpoints (default 1 h) */
	const char *tsa_url;             /* anchor each scheduled checkpoint here (NULL: no) */
	const char *tsa_ca;              /* CA file the TSA's certificate must chain to */
	void (*log)(const char *msg, void *arg);
	void *log_arg;
};

struct ev_sched;

void ev_sched_config_defaults(struct ev_sched_config *c, const char *data_dir);
/* Start the scheduler thread (after the caller's signal mask is set). */
int ev_sched_start(const struct ev_sched_config *c, struct ev_sched **out, struct ev_err *err);
/* Stop it: waits for a running duty to finish, joins the thread, frees. */
void ev_sched_stop(struct ev_sched *s);

#endif
