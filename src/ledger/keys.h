/*
 * keys.h - the installation's Ed25519 signing key.
 *
 * The private key lives in DIR/key.pem (PKCS#8 PEM, mode 0600, created by
 * init) and is never printed; DIR/key.pub holds the public key (PEM).  A key
 * file readable by group or others is refused, as ssh refuses one.
 */
#ifndef EV_LEDGER_KEYS_H
#define EV_LEDGER_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct evp_pkey_st;

int ev_key_generate(const char *dir, struct ev_err *err);
/* Load the private key; caller frees with ev_key_free. */
int ev_key_load_private(const char *dir, struct evp_pkey_st **key, struct ev_err *err);
/* Raw public key from DIR/key.pub. */
int ev_key_load_public(const char *dir, uint8_t pub[32], struct ev_err *err);
/* Raw public key from a PEM file or a 64-character hex string in a file. */
int ev_key_read_public_file(const char *path, uint8_t pub[32], struct ev_err *err);
void ev_key_free(struct evp_pkey_st *key);
int ev_key_sign(struct evp_pkey_st *key, const void *msg, size_t n, uint8_t sig[64],
    struct ev_err *err);
/* 0 when sig is a valid signature of msg under pub. */
int ev_key_verify(const uint8_t pub[32], const void *msg, size_t n, const uint8_t sig[64]);
/* First 8 bytes of SHA-256(raw public key), hex. */
void ev_key_id(const uint8_t pub[32], char out[17]);

#endif
