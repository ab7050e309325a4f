/*
 * syslog5424.c - RFC 5424 syslog, strictly by the ABNF of section 6:
 *
 *   SYSLOG-MSG = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID
 *                SP MSGID SP STRUCTURED-DATA [SP MSG]
 *
 * Anything the grammar does not allow makes the line raw (ok = 0) with the
 * reason; the one leniency is an unescaped ']' inside a quoted PARAM-VALUE,
 * which is unambiguous and which several senders emit.  Values point into the
 * line unless a PARAM-VALUE holds escapes (then the unescaped copy is in the
 * store).
 */
#include <string.h>

#include "ingest/parse_int.h"
#include "util/timeutil.h"

#define SD_IDS_MAX 64

static int
printusascii(unsigned char ch)
{
	return ch >= 33 && ch <= 126;
}

static int
sd_name_char(unsigned char ch)
{
	return printusascii(ch) && ch != '=' && ch != ']' && ch != '"';
}

/*
 * One header field: 1..max PRINTUSASCII up to the next SP.  NILVALUE gives
 * *v = NULL.  Returns NULL or why it failed.
 */
static const char *
header_field(const struct pctx *c, size_t *pos, size_t max, const char **v, size_t *vlen)
{
	size_t i = *pos, start = i;

	while (i < c->len && c->line[i] != ' ') {
		if (!printusascii((unsigned char)c->line[i]))
			return "non-printable character";
		i++;
	}
	if (i == start)
		return "empty";
	if (i - start > max)
		return "too long";
	if (i >= c->len)
		return "line ends after it";
	*pos = i + 1;
	if (i - start == 1 && c->line[start] == '-') {
		*v = NULL;
		*vlen = 0;
	} else {
		*v = c->line + start;
		*vlen = i - start;
	}
	return NULL;
}

static int
num(const char *s, int n, unsigned *v)
{
	unsigned x = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/*
 * FULL-DATE "T" FULL-TIME, exactly as section 6.2.3 allows: upper-case T and
 * Z, at most 6 fraction digits, no leap second.  s[0..n) is the whole token.
 */
static const char *
timestamp(const char *s, size_t n, int64_t *us)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, se, oh = 0, om = 0;
	int64_t frac = 0, off = 0;
	size_t i = 19;

	if (n < 20)
		return "timestamp too short";
	if (num(s, 4, &y) || s[4] != '-' || num(s + 5, 2, &mo) || s[7] != '-' ||
	    num(s + 8, 2, &d))
		return "timestamp: bad date";
	if (s[10] != 'T')
		return "timestamp: 'T' expected after the date";
	if (num(s + 11, 2, &h) || s[13] != ':' || num(s + 14, 2, &mi) || s[16] != ':' ||
	    num(s + 17, 2, &se))
		return "timestamp: bad time";
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return "timestamp: no such date";
	if (h > 23 || mi > 59 || se > 59)
		return "timestamp: time out of range";
	if (s[i] == '.') {
		size_t k = 0;
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9' && k < 7) {
			frac = frac * 10 + (s[i] - '0');
			i++;
			k++;
		}
		if (k == 0 || k > 6)
			return "timestamp: fraction must have 1 to 6 digits";
		while (k++ < 6)
			frac *= 10;
	}
	if (i < n && s[i] == 'Z') {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int sign = s[i] == '-' ? -1 : 1;
		if (n - i < 6 || num(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    num(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return "timestamp: bad offset";
		off = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
		i += 6;
	} else {
		return "timestamp: 'Z' or offset expected";
	}
	if (i != n)
		return "timestamp: trailing characters";
	*us = ((ev_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 +
		   se) - off) * 1000000 + frac;
	return NULL;
}

/* Store the field name "sd.<SD-ID>.<PARAM-NAME>"; returns its offset. */
static size_t
sd_name(struct pctx *c, const char *id, size_t idlen, const char *pn, size_t pnlen)
{
	struct ev_buf *b = &c->out->store;
	size_t off = b->len;

	ev_buf_reserve(b, idlen + pnlen + 5);
	ev_buf_add(b, "sd.", 3);
	ev_buf_add(b, id, idlen);
	ev_buf_addc(b, '.');
	ev_buf_add(b, pn, pnlen);
	ev_buf_addc(b, '\0');
	return off;
}

/* STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT, starting at *pos. */
static int
structured_data(struct pctx *c, size_t *pos)
{
	const char *s = c->line;
	size_t n = c->len, i = *pos;
	const char *ids[SD_IDS_MAX];
	size_t idlen[SD_IDS_MAX], nids = 0;

	if (i >= n)
		return pf_fail(c, "rfc5424: structured data missing");
	if (s[i] == '-') {
		*pos = i + 1;
		return 0;
	}
	if (s[i] != '[')
		return pf_fail(c, "rfc5424: structured data must be '-' or start with '['");
	while (i < n && s[i] == '[') {
		size_t id = ++i;
		while (i < n && sd_name_char((unsigned char)s[i]))
			i++;
		if (i == id)
			return pf_fail(c, "rfc5424: empty SD-ID at offset %zu", id);
		if (i - id > 32)
			return pf_fail(c, "rfc5424: SD-ID longer than 32 at offset %zu", id);
		if (i >= n)
			return pf_fail(c, "rfc5424: unterminated SD-ELEMENT");
		for (size_t k = 0; k < nids; k++)
			if (idlen[k] == i - id && memcmp(ids[k], s + id, i - id) == 0)
				return pf_fail(c, "rfc5424: SD-ID \"%.*s\" appears twice",
				    (int)(i - id), s + id);
		if (nids == SD_IDS_MAX)
			return pf_fail(c, "rfc5424: more than %d SD-ELEMENTs", SD_IDS_MAX);
		ids[nids] = s + id;
		idlen[nids++] = i - id;
		while (i < n && s[i] == ' ') {
			size_t pn = ++i, vstart, nesc = 0;
			while (i < n && sd_name_char((unsigned char)s[i]))
				i++;
			if (i == pn)
				return pf_fail(c, "rfc5424: empty PARAM-NAME at offset %zu", pn);
			if (i - pn > 32)
				return pf_fail(c, "rfc5424: PARAM-NAME longer than 32 at offset %zu", pn);
			size_t pnlen = i - pn;
			if (i >= n || s[i] != '=')
				return pf_fail(c, "rfc5424: '=' expected at offset %zu", i);
			if (++i >= n || s[i] != '"')
				return pf_fail(c, "rfc5424: '\"' expected at offset %zu", i);
			vstart = ++i;
			for (;;) {
				if (i >= n)
					return pf_fail(c, "rfc5424: unterminated PARAM-VALUE at offset %zu",
					    vstart);
				if (s[i] == '"')
					break;
				if (s[i] == '\\' && i + 1 < n &&
				    (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == ']')) {
					nesc++;
					i += 2;
					continue;
				}
				i++;
			}
			size_t noff = sd_name(c, s + id, idlen[nids - 1], s + pn, pnlen);
			int r;
			if (nesc == 0) {
				r = pf_add_x(c, NULL, noff, s + vstart, 0, i - vstart, PF_NAME_STORE);
			} else {
				struct ev_buf *b = &c->out->store;
				size_t voff = b->len, vlen = 0;
				ev_buf_reserve(b, i - vstart + 1);
				for (size_t k = vstart; k < i; k++) {
					if (s[k] == '\\' && k + 1 < i &&
					    (s[k + 1] == '"' || s[k + 1] == '\\' || s[k + 1] == ']'))
						k++;
					b->p[b->len++] = s[k];
					vlen++;
				}
				b->p[b->len++] = '\0';
				r = pf_add_x(c, NULL, noff, NULL, voff, vlen,
				    PF_NAME_STORE | PF_VAL_STORE);
			}
			if (r != 0)
				return pf_fail(c, "rfc5424: more than %d fields", EV_PARSE_MAX_FIELDS);
			i++; /* the closing quote */
		}
		if (i >= n)
			return pf_fail(c, "rfc5424: unterminated SD-ELEMENT");
		if (s[i] != ']')
			return pf_fail(c, "rfc5424: ']' or ' ' expected at offset %zu", i);
		i++;
	}
	*pos = i;
	return 0;
}

int
pf_parse_5424(struct pctx *c)
{
	const char *s = c->line, *why;
	size_t n = c->len, pos = 0, used;
	unsigned pri, ver = 0;
	const char *ts, *host, *app, *procid, *msgid;
	size_t tslen, hostlen, applen, procidlen, msgidlen;
	int64_t us = 0;

	if ((why = pf_pri(s, n, &pri, &used)) != NULL)
		return pf_fail(c, "rfc5424: %s", why);
	pos = used;
	while (pos < n && s[pos] >= '0' && s[pos] <= '9' && ver < 1000)
		ver = ver * 10 + (unsigned)(s[pos++] - '0');
	if (pos == used)
		return pf_fail(c, "rfc5424: VERSION missing");
	if (ver != 1)
		return pf_fail(c, "rfc5424: VERSION %u not supported (only 1)", ver);
	if (pos >= n || s[pos] != ' ')
		return pf_fail(c, "rfc5424: SP expected after VERSION");
	pos++;
	if ((why = header_field(c, &pos, 64, &ts, &tslen)) != NULL)
		return pf_fail(c, "rfc5424: TIMESTAMP %s", why);
	if (ts && (why = timestamp(ts, tslen, &us)) != NULL)
		return pf_fail(c, "rfc5424: %s", why);
	if ((why = header_field(c, &pos, 255, &host, &hostlen)) != NULL)
		return pf_fail(c, "rfc5424: HOSTNAME %s", why);
	if ((why = header_field(c, &pos, 48, &app, &applen)) != NULL)
		return pf_fail(c, "rfc5424: APP-NAME %s", why);
	if ((why = header_field(c, &pos, 128, &procid, &procidlen)) != NULL)
		return pf_fail(c, "rfc5424: PROCID %s", why);
	if ((why = header_field(c, &pos, 32, &msgid, &msgidlen)) != NULL)
		return pf_fail(c, "rfc5424: MSGID %s", why);

	pf_add(c, "facility", pf_num(pri >> 3), strlen(pf_num(pri >> 3)));
	pf_add(c, "severity", pf_num(pri & 7), 1);
	if (ts) {
		pf_add(c, "timestamp", ts, tslen);
		c->out->ev.time_us = us;
	}
	if (host)
		pf_add(c, "host", host, hostlen);
	if (app)
		pf_add(c, "app", app, applen);
	if (procid)
		pf_add(c, "procid", procid, procidlen);
	if (msgid)
		pf_add(c, "msgid", msgid, msgidlen);
	/* The message comes before structured data so that it is always present
	 * even when a sender fills the field table with SD params. */
	size_t msg_slot = c->n;
	pf_add(c, "message", "", 0);
	if (structured_data(c, &pos) != 0)
		return -1;
	if (pos == n) {
		/* No MSG: drop the placeholder. */
		memmove(&c->out->fields[msg_slot], &c->out->fields[msg_slot + 1],
		    (c->n - msg_slot - 1) * sizeof(c->out->fields[0]));
		memmove(&c->name_off[msg_slot], &c->name_off[msg_slot + 1],
		    (c->n - msg_slot - 1) * sizeof(c->name_off[0]));
		memmove(&c->val_off[msg_slot], &c->val_off[msg_slot + 1],
		    (c->n - msg_slot - 1) * sizeof(c->val_off[0]));
		memmove(&c->flags[msg_slot], &c->flags[msg_slot + 1], c->n - msg_slot - 1);
		c->n--;
		return 0;
	}
	if (s[pos] != ' ')
		return pf_fail(c, "rfc5424: SP expected after structured data at offset %zu", pos);
	pos++;
	if (n - pos >= 3 && (unsigned char)s[pos] == 0xEF && (unsigned char)s[pos + 1] == 0xBB &&
	    (unsigned char)s[pos + 2] == 0xBF)
		pos += 3;
	c->out->fields[msg_slot].value = s + pos;
	c->out->fields[msg_slot].len = n - pos;
	return 0;
}
