/*
 * serve_demo.h - the sample data of `evident serve --demo` (see serve_demo.c).
 */
#ifndef EV_CLI_SERVE_DEMO_H
#define EV_CLI_SERVE_DEMO_H

#include <stddef.h>

#include "ledger/ledger.h"
#include "rules/rules.h"
#include "util/err.h"

/*
 * Record the demo once per ledger: sample log lines through the pipeline and
 * rules, an incident opened from the alert and classified significant.
 * incident_out receives the incident id ("" when the demo was already there).
 */
int ev_serve_demo(struct ev_ledger *l, struct ev_rules *rules, char *incident_out, size_t n,
    struct ev_err *err);

#endif
