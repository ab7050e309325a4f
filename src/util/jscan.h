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
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * How many bytes from p (up to e) may stand in a JSON string as they are: no
 * byte below 0x20 or from 0x80 up, no quote, no backslash.  String scanners
 * and writers step over plain text with it sixteen (SSE2) or eight bytes at
 * a time, then look at the byte it stopped on one at a time.
 */
static inline size_t
ev_json_plain_run(const unsigned char *p, const unsigned char *e)
{
	const unsigned char *s = p;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
		      space = _mm_set1_epi8(0x20);

	while (e - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* Signed compare: bytes from 0x80 up are negative, so below 0x20 too. */
		__m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
		    _mm_cmplt_epi8(v, space));
		unsigned m = (unsigned)_mm_movemask_epi8(bad);
		if (m)
			return (size_t)(p - s) + (size_t)__builtin_ctz(m);
		p += 16;
	}
#endif
	while (e - p >= 8) {
		const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
		uint64_t v, q, bs;
		memcpy(&v, p, 8);
		q = v ^ (ones * '"');
		bs = v ^ (ones * '\\');
		/* The zero-byte tests may flag a fine byte after one that borrows;
		 * never the reverse, so a word they pass is clean. */
		if ((v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs)
			break;
		p += 8;
	}
	while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return (size_t)(p - s);
}

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
