/*
 * jscan.h - a fast, allocation-free JSON scanner for the ledger's hot path.
 *
 * Bodies that evident itself writes are already canonical (see json.h), so
 * the append path first asks ev_jscan_canonical() whether the text is exactly
 * what jansson's canonical dump would produce; only when it is not does it
 * pay for a full parse and re-serialisation.  The check is conservative: it
 * answers 1 only for input whose canonical dump is byte-identical (keys in
 * strictly ascending byte order, no white space, jansson's escaping, integer
 * numbers only), and 0 for anything else, valid or not.
 */
#ifndef EV_UTIL_JSCAN_H
#define EV_UTIL_JSCAN_H

#include <stddef.h>

/* 1 when s[0..n) is a JSON object already in canonical form, else 0. */
int ev_jscan_canonical(const char *s, size_t n);

/* The raw text of a top-level member's value. */
struct ev_jspan {
	const char *p; /* NULL when the key is absent */
	size_t len;
	char type;      /* 's' string (p/len exclude quotes), 'o', 'a', 'n', 't', 'f', 'z' */
	int escaped;    /* a string containing backslash escapes */
};

/*
 * Validate s[0..n) as one JSON object (surrounding white space allowed) and
 * record the spans of the members named in keys (first occurrence).  Returns
 * 0 on success, -1 when the text is not a well-formed JSON object or a
 * requested key appears twice.  Strings are checked for valid UTF-8.
 */
int ev_jscan_members(const char *s, size_t n, const char *const *keys, size_t nkeys,
    struct ev_jspan *out);

#endif
