/*
 * projectors.c - every projector evident runs, in order.
 *
 * Each part that keeps derived tables defines `const struct ev_projector
 * ev_<part>_projector` in its own file; the references here are weak so a
 * part can land independently.  The binary links every object directly (no
 * archive), so a defined projector is always picked up.
 */
#include "ledger/projectors.h"

#include <stddef.h>

#define EV_PROJECTOR(name) extern const struct ev_projector name __attribute__((weak));
#include "ledger/projectors.def"
#undef EV_PROJECTOR

static const struct ev_projector *const all[] = {
#define EV_PROJECTOR(name) &name,
#include "ledger/projectors.def"
#undef EV_PROJECTOR
};

static const struct ev_projector *list[sizeof(all) / sizeof(all[0]) + 1];
static int ready;

const struct ev_projector *const *
ev_projectors_list(void)
{
	size_t n = 0;

	if (!ready) {
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (all[i] != NULL)
				list[n++] = all[i];
		list[n] = NULL;
		ready = 1;
	}
	return list;
}
