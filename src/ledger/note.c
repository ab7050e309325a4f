/*
 * note.c - C2SP signed notes and checkpoint texts (see note.h).
 *
 * Parsing is strict where the spec says MUST (a final newline, the blank line
 * before the signatures, "— " lines, no control characters, base64 that
 * decodes to at least a key ID) and bounded everywhere: a note over
 * EV_NOTE_MAX bytes or with more than the caller's signature slots is refused
 * rather than read in full.
 */
#include "ledger/note.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>

#include "ledger/keys.h"
#include "ledger/merkle.h"
#include "util/enc.h"
#include "util/timeutil.h"

static const char em_dash[] = "\xe2\x80\x94 "; /* U+2014 and a space */

int
ev_origin_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > EV_ORIGIN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '+')
			return 0;
	}
	return 1;
}

void
ev_origin_default(char out[EV_ORIGIN_MAX + 1])
{
	char host[256] = "";
	struct addrinfo hints, *ai = NULL;
	size_t j = 0;

	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* The canonical name when the resolver knows one (no network wait: AI_CANONNAME only). */
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	if (strchr(host, '.') == NULL && getaddrinfo(host, NULL, &hints, &ai) == 0 && ai &&
	    ai->ai_canonname && strchr(ai->ai_canonname, '.'))
		snprintf(host, sizeof(host), "%s", ai->ai_canonname);
	if (ai)
		freeaddrinfo(ai);
	for (size_t i = 0; host[i] && j < EV_ORIGIN_MAX - 8; i++) {
		unsigned char c = (unsigned char)host[i];
		if (isalnum(c) || c == '.' || c == '-' || c == '_')
			out[j++] = (char)tolower(c);
	}
	if (j == 0)
		j = (size_t)snprintf(out, EV_ORIGIN_MAX + 1, "localhost");
	snprintf(out + j, EV_ORIGIN_MAX + 1 - j, "/evident");
}

uint32_t
ev_note_key_id(const char *name, uint8_t type, const uint8_t pub[32])
{
	struct ev_sha256 h;
	uint8_t md[EV_HASH_LEN];

	ev_sha256_init(&h);
	ev_sha256_update(&h, name, strlen(name));
	ev_sha256_update(&h, "\n", 1);
	ev_sha256_update(&h, &type, 1);
	ev_sha256_update(&h, pub, 32);
	ev_sha256_final(&h, md);
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
}

void
ev_note_vkey(const char *name, uint8_t type, const uint8_t pub[32], struct ev_buf *out)
{
	uint8_t raw[33];
	char b64[48];

	raw[0] = type;
	memcpy(raw + 1, pub, 32);
	ev_b64_encode(raw, sizeof(raw), b64);
	ev_buf_addf(out, "%s+%08x+%s", name, (unsigned)ev_note_key_id(name, type, pub), b64);
}

int
ev_note_vkey_parse(const char *s, struct ev_note_vkey *k, const char **why)
{
	const char *p1, *p2;
	uint8_t raw[40];
	char hex[9];
	long n;

	memset(k, 0, sizeof(*k));
	*why = "a verifier key is NAME+KEYID+BASE64KEY";
	if (s == NULL || (p1 = strchr(s, '+')) == NULL || (p2 = strchr(p1 + 1, '+')) == NULL ||
	    strchr(p2 + 1, '+') != NULL)
		return -1;
	if ((size_t)(p1 - s) > EV_ORIGIN_MAX || p1 == s)
		return -1;
	memcpy(k->name, s, (size_t)(p1 - s));
	k->name[p1 - s] = '\0';
	if (!ev_origin_valid(k->name)) {
		*why = "the verifier key's name is empty or has spaces, '+' or control characters";
		return -1;
	}
	if (p2 - p1 - 1 != 8) {
		*why = "the verifier key's ID is not 8 hex digits";
		return -1;
	}
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	for (int i = 0; i < 8; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return *why = "the verifier key's ID is not 8 hex digits", -1;
	k->id = (uint32_t)strtoul(hex, NULL, 16);
	n = ev_b64_decode(p2 + 1, strlen(p2 + 1), raw, sizeof(raw));
	if (n != 33 || (raw[0] != EV_NOTE_ED25519 && raw[0] != EV_NOTE_COSIG)) {
		*why = "the verifier key is not an Ed25519 key (type 0x01 or 0x04, 32 bytes)";
		return -1;
	}
	k->type = raw[0];
	memcpy(k->pub, raw + 1, 32);
	if (ev_note_key_id(k->name, k->type, k->pub) != k->id) {
		*why = "the verifier key's ID does not match its name and key";
		return -1;
	}
	return 0;
}

void
ev_note_sig_line(const char *name, uint32_t id, const uint8_t *sig, size_t n, struct ev_buf *out)
{
	uint8_t raw[4 + 128];
	char b64[4 * ((sizeof(raw) + 2) / 3) + 1];

	if (n > 128)
		n = 128;
	raw[0] = (uint8_t)(id >> 24);
	raw[1] = (uint8_t)(id >> 16);
	raw[2] = (uint8_t)(id >> 8);
	raw[3] = (uint8_t)id;
	memcpy(raw + 4, sig, n);
	ev_b64_encode(raw, 4 + n, b64);
	ev_buf_adds(out, em_dash);
	ev_buf_adds(out, name);
	ev_buf_addc(out, ' ');
	ev_buf_adds(out, b64);
	ev_buf_addc(out, '\n');
}

/* One "— name base64" line (without its newline) into sig; -1 when malformed. */
static int
parse_sig_line(const char *p, size_t n, struct ev_note_sig *sig)
{
	const char *sp;
	uint8_t raw[4 + 128];
	long k;

	if (n < sizeof(em_dash) - 1 || memcmp(p, em_dash, sizeof(em_dash) - 1) != 0)
		return -1;
	p += sizeof(em_dash) - 1;
	n -= sizeof(em_dash) - 1;
	if ((sp = memchr(p, ' ', n)) == NULL || sp == p || (size_t)(sp - p) > EV_ORIGIN_MAX)
		return -1;
	memcpy(sig->name, p, (size_t)(sp - p));
	sig->name[sp - p] = '\0';
	if (!ev_origin_valid(sig->name))
		return -1;
	k = ev_b64_decode(sp + 1, n - (size_t)(sp + 1 - p), raw, sizeof(raw));
	if (k < 5)
		return -1;
	sig->id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
	sig->sig_len = (size_t)k - 4;
	memcpy(sig->sig, raw + 4, sig->sig_len);
	return 0;
}

int
ev_note_split(const char *note, size_t n, size_t *text_len, struct ev_note_sig *sigs,
    size_t max, size_t *nsigs, const char **why)
{
	size_t sep = SIZE_MAX, k = 0, i;

	*nsigs = 0;
	if (n == 0 || n > EV_NOTE_MAX)
		return *why = "the note is empty or too large", -1;
	if (!ev_utf8_valid(note, n))
		return *why = "the note is not valid UTF-8", -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)note[i] < 0x20 && note[i] != '\n')
			return *why = "the note has control characters", -1;
	if (note[n - 1] != '\n')
		return *why = "the note does not end in a newline", -1;
	/* The text ends at the last blank line ("\n\n"): its first newline is the text's last. */
	for (i = n - 1; i > 0; i--)
		if (note[i] == '\n' && note[i - 1] == '\n') {
			sep = i;
			break;
		}
	if (sep == SIZE_MAX || sep + 1 >= n)
		return *why = "the note has no signature lines after a blank line", -1;
	*text_len = sep;
	for (i = sep + 1; i < n;) {
		const char *nl = memchr(note + i, '\n', n - i);
		size_t len = (size_t)(nl - (note + i));
		if (k >= max)
			return *why = "the note has too many signatures", -1;
		if (parse_sig_line(note + i, len, &sigs[k]) != 0)
			return *why = "a signature line is malformed", -1;
		k++;
		i += len + 1;
	}
	*nsigs = k;
	return 0;
}

int
ev_note_open(const char *note, size_t n, const struct ev_note_vkey *k, size_t *text_len,
    const char **why)
{
	struct ev_note_sig *sigs = calloc(EV_NOTE_MAX_SIGS, sizeof(*sigs));
	size_t tl, ns;
	int rc = -1;

	if (sigs == NULL)
		return *why = "out of memory", -1;
	if (ev_note_split(note, n, &tl, sigs, EV_NOTE_MAX_SIGS, &ns, why) != 0)
		goto out;
	*why = "no signature by the expected key";
	for (size_t i = 0; i < ns; i++) {
		if (sigs[i].id != k->id || strcmp(sigs[i].name, k->name) != 0)
			continue;
		if (k->type != EV_NOTE_ED25519 || sigs[i].sig_len != 64 ||
		    ev_key_verify(k->pub, note, tl, sigs[i].sig) != 0) {
			*why = "the signature by the expected key does not verify";
			goto out;
		}
		rc = 0;
		break;
	}
	if (rc == 0 && text_len)
		*text_len = tl;
out:
	free(sigs);
	return rc;
}

void
ev_cp_text_format(const char *origin, uint64_t size, const uint8_t root[32], int64_t time_us,
    struct ev_buf *out)
{
	char b64[48], t[EV_TIME_STRLEN];

	ev_b64_encode(root, 32, b64);
	ev_buf_addf(out, "%s\n%llu\n%s\n", origin, (unsigned long long)size, b64);
	if (time_us) {
		ev_time_format(time_us, t);
		ev_buf_addf(out, "time %s\n", t);
	}
}

int
ev_cp_text_parse(const char *text, size_t n, struct ev_cp_text *cp, const char **why)
{
	const char *line[8];
	size_t len[8], nl = 0, i = 0;
	char buf[64];

	memset(cp, 0, sizeof(*cp));
	if (n == 0 || text[n - 1] != '\n')
		return *why = "the checkpoint text does not end in a newline", -1;
	while (i < n && nl < 8) {
		const char *e = memchr(text + i, '\n', n - i);
		line[nl] = text + i;
		len[nl] = (size_t)(e - (text + i));
		if (len[nl] == 0)
			return *why = "the checkpoint text has an empty line", -1;
		nl++;
		i = (size_t)(e - text) + 1;
	}
	if (i < n)
		return *why = "the checkpoint text has too many lines", -1;
	if (nl < 3)
		return *why = "the checkpoint text has fewer than three lines", -1;
	if (len[0] > EV_ORIGIN_MAX)
		return *why = "the origin line is too long", -1;
	memcpy(cp->origin, line[0], len[0]);
	cp->origin[len[0]] = '\0';
	if (len[1] > 20 || (len[1] > 1 && line[1][0] == '0'))
		return *why = "the tree size is not a decimal number without leading zeroes", -1;
	for (size_t j = 0; j < len[1]; j++) {
		if (!isdigit((unsigned char)line[1][j]))
			return *why = "the tree size is not a decimal number", -1;
		if (cp->size > (UINT64_MAX - 9) / 10)
			return *why = "the tree size is too large", -1;
		cp->size = cp->size * 10 + (uint64_t)(line[1][j] - '0');
	}
	if (ev_b64_decode(line[2], len[2], cp->root, 32) != 32)
		return *why = "the root hash is not 32 bytes of base64", -1;
	for (size_t j = 3; j < nl; j++) {
		if (len[j] > 5 && memcmp(line[j], "time ", 5) == 0) {
			if (len[j] - 5 != EV_TIME_STRLEN - 1 || line[j][len[j] - 1] != 'Z')
				return *why = "the time line is not RFC 3339 UTC with microseconds", -1;
			memcpy(buf, line[j] + 5, len[j] - 5);
			buf[len[j] - 5] = '\0';
			if (ev_time_parse(buf, &cp->time_us) != 0)
				return *why = "the time line is malformed", -1;
		}
	}
	return 0;
}
