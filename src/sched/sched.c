/*
 * sched.c - the scheduler thread of `evident serve` (see sched.h).
 */
#include "sched/sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compliance/compliance.h"
#include "incident/incident.h"
#include "ledger/ledger.h"
#include "pack/pack.h"
#include "registers/registers.h"
#include "util/buf.h"
#include "util/timeutil.h"

#define EV_SCHED_DAY_US (86400LL * 1000000)

struct ev_sched {
	struct ev_sched_config cfg;
	char *data_dir;
	const char **webhooks;
	char *timesync_server;
	char *tsa_url;
	char *tsa_ca;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

void
ev_sched_config_defaults(struct ev_sched_config *c, const char *data_dir)
{
	memset(c, 0, sizeof(*c));
	c->data_dir = data_dir;
	c->tick_us = 60LL * 1000000;
	c->timesync = 1;
	c->timesync_threshold_ms = 1000;
	c->timesync_first_us = 600LL * 1000000;
	c->checkpoint_every_us = 3600LL * 1000000;
}

static void
say(struct ev_sched *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct ev_sched *s, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (s->cfg.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->cfg.log(msg, s->cfg.log_arg);
}

/* Sleep until deadline (CLOCK_MONOTONIC µs) or stop; 1 when asked to stop. */
static int
wait_until(struct ev_sched *s, int64_t deadline_us)
{
	struct timespec ts = { (time_t)(deadline_us / 1000000), (long)(deadline_us % 1000000) * 1000 };
	int stop;

	pthread_mutex_lock(&s->mu);
	while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT)
		;
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
tick(struct ev_sched *s, struct ev_ledger *l, const struct ev_compliance *comp)
{
	struct ev_clock_config cc = { s->webhooks, s->cfg.nwebhooks, 3, 1.0, 10000, 0 };
	struct ev_err err = { 0 };
	int64_t now = ev_time_now_us();
	unsigned raised = 0, delivered = 0, vraised = 0, craised = 0;

	if (ev_clocks_tick(l, now, &cc, &raised, &delivered, &err) != EV_OK)
		say(s, "clocks: %s", err.msg);
	if (ev_registers_vuln_tick(l, now, &vraised, &err) != EV_OK)
		say(s, "vulnerability clocks: %s", err.msg);
	if (comp && ev_cadence_raise(l, comp, now, &craised, &err) != EV_OK)
		say(s, "cadence: %s", err.msg);
	if (raised || delivered || vraised || craised)
		say(s, "scheduler: %u clock alerts, %u webhook deliveries, %u vulnerability "
		       "alerts, %u cadence alerts",
		    raised, delivered, vraised, craised);
}

/* Sign a checkpoint when entries arrived since the last one; anchor it when asked. */
static void
checkpoint(struct ev_sched *s, struct ev_ledger *l)
{
	struct ev_checkpoint last, cp;
	struct ev_anchor_result ar;
	struct ev_err err = { 0 };
	uint64_t size;
	int rc;

	if (ev_ledger_size(l, &size, &err) != EV_OK) {
		say(s, "checkpoint: %s", err.msg);
		return;
	}
	rc = ev_ledger_latest_checkpoint(l, &last, &err);
	if (size == 0 || (rc == EV_OK && last.seq == size))
		return; /* nothing new since the last checkpoint (which is the last entry) */
	if (ev_ledger_checkpoint(l, "system", &cp, &err) != EV_OK) {
		say(s, "checkpoint: %s", err.msg);
		return;
	}
	say(s, "checkpoint: size %llu signed as entry %llu", (unsigned long long)cp.size,
	    (unsigned long long)cp.seq);
	if (s->tsa_url == NULL)
		return;
	memset(&ar, 0, sizeof(ar));
	if (ev_anchor_checkpoint(l, &cp, s->tsa_url, s->tsa_ca, "system", &ar, &err) != EV_OK)
		say(s, "checkpoint: time-stamp from the TSA failed: %s", err.msg);
	else
		say(s, "checkpoint: anchored by the TSA (genTime %s)", ar.gen_time);
}

static void *
run(void *arg)
{
	struct ev_sched *s = arg;
	struct ev_ledger *l = NULL;
	struct ev_compliance *comp = NULL;
	struct ev_err err = { 0 };
	char buf[4096];
	int64_t next_tick = mono_us(), next_sync = next_tick + s->cfg.timesync_first_us;
	int64_t next_cp = next_tick + s->cfg.checkpoint_every_us;
	int cps = s->cfg.checkpoint_every_us > 0;

	/* Checkpoints need the signing key; without one the other duties still run. */
	if (cps && ev_ledger_open(s->data_dir, 0, &l, &err) != EV_OK) {
		say(s, "scheduler: no scheduled checkpoints: %s", err.msg);
		cps = 0;
	}
	if (l == NULL && ev_ledger_open(s->data_dir, EV_LEDGER_NOKEY, &l, &err) != EV_OK) {
		say(s, "scheduler: cannot open the ledger: %s", err.msg);
		return NULL;
	}
	if (ev_compliance_load(ev_compliance_default_dir(NULL, buf, sizeof(buf)), NULL, &comp,
		&err) != EV_OK) {
		say(s, "scheduler: compliance mapping not loaded, no cadence alerts: %s", err.msg);
		comp = NULL;
	}
	for (;;) {
		int64_t next = next_tick;
		if (s->cfg.timesync && next_sync < next)
			next = next_sync;
		if (cps && next_cp < next)
			next = next_cp;
		if (wait_until(s, next))
			break;
		if (mono_us() >= next_tick) {
			tick(s, l, comp);
			next_tick = mono_us() + s->cfg.tick_us;
		}
		if (s->cfg.timesync && mono_us() >= next_sync) {
			if (ev_timesync_daily(l, s->timesync_server, s->cfg.timesync_threshold_ms,
				ev_time_now_us(), &err) != EV_OK)
				say(s, "timesync: %s", err.msg);
			next_sync = mono_us() + EV_SCHED_DAY_US;
		}
		if (cps && mono_us() >= next_cp) {
			checkpoint(s, l);
			next_cp = mono_us() + s->cfg.checkpoint_every_us;
		}
	}
	ev_compliance_free(comp);
	ev_ledger_close(l);
	return NULL;
}

int
ev_sched_start(const struct ev_sched_config *c, struct ev_sched **out, struct ev_err *err)
{
	struct ev_sched *s = ev_xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int rc;

	s->cfg = *c;
	s->data_dir = ev_xstrdup(c->data_dir ? c->data_dir : "./evident-data");
	s->webhooks = ev_xcalloc(c->nwebhooks + 1, sizeof(char *));
	for (size_t i = 0; i < c->nwebhooks; i++)
		s->webhooks[i] = ev_xstrdup(c->webhooks[i]);
	s->timesync_server = c->timesync_server ? ev_xstrdup(c->timesync_server) : NULL;
	s->tsa_url = c->tsa_url ? ev_xstrdup(c->tsa_url) : NULL;
	s->tsa_ca = c->tsa_ca ? ev_xstrdup(c->tsa_ca) : NULL;
	if (s->cfg.tick_us <= 0)
		s->cfg.tick_us = 60LL * 1000000;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&s->thread, NULL, run, s)) != 0) {
		ev_sched_stop(s);
		return ev_errf(err, EV_EIO, "scheduler: cannot start a thread: %s", strerror(rc));
	}
	*out = s;
	return EV_OK;
}

void
ev_sched_stop(struct ev_sched *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->thread)
		pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	for (size_t i = 0; i < s->cfg.nwebhooks; i++)
		free((char *)s->webhooks[i]);
	free(s->webhooks);
	free(s->timesync_server);
	free(s->tsa_url);
	free(s->tsa_ca);
	free(s->data_dir);
	free(s);
}
