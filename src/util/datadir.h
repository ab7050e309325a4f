/*
 * datadir.h - where evident's shipped data lives: the rule pack (rules/),
 * the clock profiles (clocks/) and the requirement catalogue with its
 * control mapping (compliance/).
 */
#ifndef EV_UTIL_DATADIR_H
#define EV_UTIL_DATADIR_H

#include <stddef.h>

/*
 * The directory NAME: given when not NULL or empty, else $ENV, else
 * ../NAME next to the running binary (a build tree: build/evident), else
 * ../share/evident/NAME next to it (an installed prefix), else
 * /usr/share/evident/NAME.  Writes into buf (size n) and returns buf.
 * *found (may be NULL) is 1 when the returned directory exists.
 */
const char *ev_data_dir(const char *given, const char *env, const char *name, char *buf,
    size_t n, int *found);

#endif
