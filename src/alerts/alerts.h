/*
 * alerts.h - alarms raised by the rules, and their follow-up by people.
 *
 * An alert is an `alert.raised` entry (subject "alerts", actor "rule:ID");
 * its id is that entry's seq.  Body (canonical JSON):
 *   {"group":G|null,"log_seq":[seq,...],"rule":ID,"severity":LEVEL,
 *    "source":NAME|null,"tags":[...],"title":T,"why":W}
 * plus "followup_of":ID on a follow-up alert (rule "followup").
 * A trusted-role person closes it with `alert.acknowledged` (subject
 * "alert-ID", body {"alert":ID,"by":NAME,"disposition":D,"note":TEXT}).
 * The projection (table alerts) is rebuilt from those two kinds only.
 *
 * EN 319 401 7.9.1 asks that alarms are followed up: ev_alerts_followup
 * raises one "followup" alert for every alert still open after a delay, and
 * never a second one for the same alert (the projection remembers, from the
 * follow-up entries themselves).  Follow-up alerts are not followed up.
 */
#ifndef EV_ALERTS_ALERTS_H
#define EV_ALERTS_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "rules/rules.h"
#include "util/buf.h"
#include "util/err.h"

#define EV_ALERTS_FOLLOWUP_DEFAULT_US (4LL * 3600 * 1000000) /* 4 hours */

/*
 * Append the canonical alert.raised body for match m on event ev to out.
 * log_seqs: m->seqs when the rule says, else ev->seq.
 */
void ev_alerts_body(const struct ev_rule_match *m, const struct ev_event *ev, struct ev_buf *out);

/* Append s[0..n) as a JSON string exactly as the canonical form writes it
 * (jansson's escaping); invalid UTF-8 and NUL become U+FFFD.  Returns 1 when
 * something had to be replaced. */
int ev_alerts_json_str(struct ev_buf *out, const char *s, size_t n);

struct ev_alert {
	uint64_t id;
	int64_t raised_us;
	const char *rule;
	const char *title;
	const char *severity;
	const char *source; /* NULL when none */
	const char *group;  /* NULL when none */
	const char *why;
	const char *tags;    /* JSON array text */
	const char *log_seq; /* JSON array text */
	uint64_t followup_of; /* 0 unless a follow-up alert */
	uint64_t followup_id; /* the follow-up raised for this one (0: none) */
	uint64_t ack_seq;     /* 0 while open */
	int64_t ack_us;
	const char *ack_by;
	const char *disposition;
	const char *note;
};

/* Alerts by id; open_only skips acknowledged ones. */
int ev_alerts_list(struct ev_ledger *l, int open_only,
    int (*cb)(const struct ev_alert *a, void *arg), void *arg, struct ev_err *err);
/* One alert; EV_ENOTFOUND when there is none with that id. */
int ev_alerts_get(struct ev_ledger *l, uint64_t id,
    int (*cb)(const struct ev_alert *a, void *arg), void *arg, struct ev_err *err);

/* 1 when d is false-positive, benign or escalated. */
int ev_alerts_disposition_ok(const char *d);

/*
 * Acknowledge alert id: EV_ENOTFOUND when no such alert, EV_ESTATE when it is
 * already acknowledged (message names by whom and the entry), EV_EINVAL on a
 * bad disposition or empty by/note.  *seq gets the alert.acknowledged seq.
 */
int ev_alerts_ack(struct ev_ledger *l, uint64_t id, const char *by, const char *disposition,
    const char *note, const char *actor, uint64_t *seq, struct ev_err *err);

/*
 * Raise a follow-up for every alert raised at or before now_us - after_us
 * that is still open and has none yet (follow-up alerts excluded).  One
 * transaction.  *raised (may be NULL) gets how many were raised; cb (may be
 * NULL) is told each (original id, follow-up id) after the commit.
 */
int ev_alerts_followup(struct ev_ledger *l, int64_t now_us, int64_t after_us, size_t *raised,
    void (*cb)(uint64_t id, uint64_t followup_id, void *arg), void *arg, struct ev_err *err);

/* A duration "4h", "30m", "90s", "2d" or plain seconds (> 0); -1 when malformed. */
int ev_alerts_parse_duration(const char *s, int64_t *us);

#endif
