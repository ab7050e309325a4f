/*
 * json.h - canonical JSON, as the ledger stores bodies.
 *
 * Canonical form: UTF-8, object keys sorted by byte value, no insignificant
 * white space, duplicate keys rejected, numbers as jansson prints them.
 * Canonicalisation is idempotent, which is what makes a stored body its own
 * proof: re-serialising it yields the same bytes.
 */
#ifndef EV_UTIL_JSON_H
#define EV_UTIL_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

#define EV_BODY_MAX (1u << 20) /* largest body accepted: 1 MiB */

/*
 * Parse text[0..len) as a JSON object and append its canonical form to out.
 * EV_EINVAL with a message naming the position on malformed input, a
 * non-object, duplicate keys or a body over EV_BODY_MAX.
 */
int ev_json_canonical(const char *text, size_t len, struct ev_buf *out, struct ev_err *err);

/* Canonical text of a jansson value; caller frees with free(). */
char *ev_json_dump(const json_t *v);

/* Parse text as a JSON object (NULL with err set otherwise); caller decrefs. */
json_t *ev_json_parse_object(const char *text, size_t len, struct ev_err *err);

/* String member or NULL when absent or not a string. */
const char *ev_json_str(const json_t *obj, const char *key);

#endif
