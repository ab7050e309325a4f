/*
 * event.c - field lookup on parsed log records (see event.h).
 */
#include "util/event.h"

#include <string.h>

const char *
ev_event_get(const struct ev_event *ev, const char *name, size_t *len)
{
	for (size_t i = 0; i < ev->nfields; i++) {
		if (strcmp(ev->fields[i].name, name) == 0) {
			if (len)
				*len = ev->fields[i].len;
			return ev->fields[i].value;
		}
	}
	return NULL;
}
