/*
 * note.h - C2SP signed notes (c2sp.org/signed-note) and the checkpoint body
 * (c2sp.org/tlog-checkpoint) that evident signs with the installation key.
 *
 * A signed note is a UTF-8 text ending in a newline, a blank line, and one or
 * more lines "— NAME BASE64(KEYID || SIGNATURE)".  evident's checkpoint text:
 *
 *   ORIGIN\n
 *   TREE SIZE (decimal)\n
 *   ROOT (base64 of 32 bytes)\n
 *   time RFC3339-UTC-MICROSECONDS\n      (one extension line)
 *
 * signed by Ed25519 (signature type 0x01) under the key name ORIGIN, key ID =
 * SHA-256(NAME || 0x0A || 0x01 || PUBLIC KEY)[:4].  The verifier key an
 * assessor pins is "NAME+KEYID-HEX+BASE64(0x01 || PUBLIC KEY)", the form Go's
 * golang.org/x/mod/sumdb/note reads.
 *
 * Pure functions apart from the signing key; nothing here touches the store.
 */
#ifndef EV_LEDGER_NOTE_H
#define EV_LEDGER_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define EV_ORIGIN_MAX 255
#define EV_NOTE_MAX_SIGS 32      /* signature lines read from one note */
#define EV_NOTE_MAX (64u << 10)  /* largest note accepted */
#define EV_NOTE_ED25519 0x01     /* signature type: Ed25519 over the note text */
#define EV_NOTE_COSIG 0x04       /* signature type: timestamped cosignature (tlog-cosignature) */

/* 1 when s is a usable origin / key name: 1..255 printable ASCII, no space or '+'. */
int ev_origin_valid(const char *s);
/* A default origin from the host name: "HOST/evident" (HOST lower-cased, FQDN when known). */
void ev_origin_default(char out[EV_ORIGIN_MAX + 1]);

/* Key ID = SHA-256(name || 0x0A || type || pub)[:4], big-endian. */
uint32_t ev_note_key_id(const char *name, uint8_t type, const uint8_t pub[32]);
/* "name+XXXXXXXX+base64(type || pub)" appended to out. */
void ev_note_vkey(const char *name, uint8_t type, const uint8_t pub[32], struct ev_buf *out);
/* Parse a verifier key of either type; 0 on success, -1 with why. */
struct ev_note_vkey {
	char name[EV_ORIGIN_MAX + 1];
	uint32_t id;
	uint8_t type;
	uint8_t pub[32];
};
int ev_note_vkey_parse(const char *s, struct ev_note_vkey *k, const char **why);

/* One signature line of a note. */
struct ev_note_sig {
	char name[EV_ORIGIN_MAX + 1];
	uint32_t id;
	uint8_t sig[128];
	size_t sig_len; /* bytes after the key ID */
};
/*
 * Split a signed note: the text (with its final newline) is note[0..*text_len),
 * the signature lines go to sigs (at most max; extra lines are an error).
 * 0 on success, -1 with why on a malformed note.
 */
int ev_note_split(const char *note, size_t n, size_t *text_len, struct ev_note_sig *sigs,
    size_t max, size_t *nsigs, const char **why);
/* Append the line "— name base64(id || sig)\n". */
void ev_note_sig_line(const char *name, uint32_t id, const uint8_t *sig, size_t n,
    struct ev_buf *out);

/*
 * Open a signed note with one Ed25519 verifier key: 0 when a signature line
 * with the key's name and ID verifies over the text; -1 with why when none
 * does (missing, or present but bad).  Other signatures are ignored, as the
 * spec requires.  *text_len (may be NULL) gets the text length.
 */
int ev_note_open(const char *note, size_t n, const struct ev_note_vkey *k, size_t *text_len,
    const char **why);

/* A parsed checkpoint text (origin, size, root, time extension). */
struct ev_cp_text {
	char origin[EV_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[32];
	int64_t time_us; /* 0 when the text has no time line */
};
/* Append the checkpoint text for these values. */
void ev_cp_text_format(const char *origin, uint64_t size, const uint8_t root[32], int64_t time_us,
    struct ev_buf *out);
/* Parse a checkpoint text (the note text, not the signatures); -1 with why. */
int ev_cp_text_parse(const char *text, size_t n, struct ev_cp_text *cp, const char **why);

#endif
