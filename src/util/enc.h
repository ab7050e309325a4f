/*
 * enc.h - hex and base64 encodings, UTF-8 validation.
 */
#ifndef EV_UTIL_ENC_H
#define EV_UTIL_ENC_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void ev_hex_encode(const uint8_t *in, size_t n, char *out);
/*
 * Decode hex (either case) of exactly 2*max or fewer characters.  Returns the
 * number of bytes written, or -1 on a bad character, odd length or overflow.
 */
long ev_hex_decode(const char *in, size_t len, uint8_t *out, size_t max);
/* Standard base64 with padding; out must hold 4*((n+2)/3)+1. */
void ev_b64_encode(const uint8_t *in, size_t n, char *out);
/* Decode standard base64 (padding required); -1 on error or overflow. */
long ev_b64_decode(const char *in, size_t len, uint8_t *out, size_t max);
/* 1 when s[0..n) is well-formed UTF-8 without NUL, else 0. */
int ev_utf8_valid(const char *s, size_t n);

#endif
