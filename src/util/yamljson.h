/*
 * yamljson.h - a YAML configuration file read as JSON, for the data files a
 * TSP edits (clock profiles, control mapping).  Scalars stay strings (the
 * caller decides what a value means), aliases are refused, duplicate keys
 * are refused, and every error names "FILE:LINE".
 */
#ifndef EV_UTIL_YAMLJSON_H
#define EV_UTIL_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

/*
 * Read path (at most max_bytes) holding one YAML document whose top level is
 * a mapping; name is how messages call the file.  Returns a new reference,
 * or NULL with err set (EV_ENOTFOUND, EV_EIO when unreadable, EV_EINVAL
 * otherwise).
 */
json_t *ev_yaml_load_mapping(const char *path, const char *name, size_t max_bytes,
    struct ev_err *err);

#endif
