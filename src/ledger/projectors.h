/*
 * projectors.h - the registry of projectors (see ev_projector in ledger.h).
 */
#ifndef EV_LEDGER_PROJECTORS_H
#define EV_LEDGER_PROJECTORS_H

#include "ledger/ledger.h"

/* NULL-terminated list of every projector linked in, in the order they apply. */
const struct ev_projector *const *ev_projectors_list(void);

#endif
