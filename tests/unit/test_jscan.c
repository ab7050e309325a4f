/*
 * test_jscan.c - the canonical-JSON fast path must agree with jansson.
 *
 * Property: for generated JSON values v, the canonical dump d = jansson(v)
 * is accepted by ev_jscan_canonical, and ev_json_canonical(any spelling of v)
 * yields exactly d.  Spellings with white space, unsorted keys, escapes that
 * jansson does not write, or real numbers must not take the fast path.
 */
#include <jansson.h>
#include <string.h>

#include "unit.h"
#include "util/jscan.h"
#include "util/json.h"

static unsigned long rng = 12345;

static unsigned
rnd(unsigned n)
{
	rng = rng * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rng >> 33) % n);
}

static json_t *
gen_string(void)
{
	static const char *const pieces[] = { "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t",
		"\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x94\x92", "key", "}",
		"{", "[", ":" };
	char buf[64] = "";
	unsigned n = rnd(6);

	for (unsigned i = 0; i < n; i++)
		strcat(buf, pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))]);
	return json_string(buf);
}

static json_t *
gen(int depth)
{
	switch (rnd(depth > 3 ? 6 : 8)) {
	case 0: return json_integer((json_int_t)rnd(1000000) - 500000);
	case 1: return json_true();
	case 2: return json_null();
	case 3: return gen_string();
	case 4: return json_false();
	case 5: return json_integer((json_int_t)rnd(10));
	case 6: {
		json_t *a = json_array();
		unsigned n = rnd(4);
		for (unsigned i = 0; i < n; i++)
			json_array_append_new(a, gen(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		unsigned n = rnd(5);
		for (unsigned i = 0; i < n; i++) {
			json_t *k = gen_string();
			json_object_set_new(o, json_string_value(k), gen(depth + 1));
			json_decref(k);
		}
		return o;
	}
	}
}

static int
canon_equals(const char *text, const char *want)
{
	struct ev_buf b = EV_BUF_INIT;
	struct ev_err err;
	int ok = ev_json_canonical(text, strlen(text), &b, &err) == EV_OK && b.p &&
		 strcmp(b.p, want) == 0;

	ev_buf_free(&b);
	return ok;
}

int
main(void)
{
	int agree = 1, pretty_ok = 1, fast = 0;

	for (int i = 0; i < 3000; i++) {
		json_t *o = json_object();
		unsigned n = 1 + rnd(5);
		for (unsigned k = 0; k < n; k++) {
			json_t *key = gen_string();
			json_object_set_new(o, json_string_value(key), gen(0));
			json_decref(key);
		}
		char *d = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		char *pretty = json_dumps(o, JSON_INDENT(2));
		/* Keys with escapes are left to jansson (ordering is by decoded bytes). */
		if (!canon_equals(d, d) ||
		    (!ev_jscan_canonical(d, strlen(d)) && strchr(d, '\\') == NULL)) {
			if (agree)
				printf("# canonical dump refused or changed: %s\n", d);
			agree = 0;
		}
		fast += ev_jscan_canonical(d, strlen(d));
		if (ev_jscan_canonical(pretty, strlen(pretty)) && strcmp(pretty, d) != 0)
			pretty_ok = 0;
		if (!canon_equals(pretty, d))
			pretty_ok = 0;
		free(d);
		free(pretty);
		json_decref(o);
	}
	CHECK(agree, "3000 canonical dumps are kept byte for byte (%d by the fast path)", fast);
	CHECK(fast > 0, "escape-free canonical dumps take the fast path (%d of 3000)", fast);
	CHECK(pretty_ok, "indented spellings are re-serialised to the same canonical bytes");

	/* ev_json_plain_run (SSE2 and word paths) against a byte-by-byte reference. */
	int run_ok = 1;
	for (int i = 0; i < 20000 && run_ok; i++) {
		unsigned char s[80];
		size_t n = rnd(sizeof(s)), want = 0, off = rnd(4);
		for (size_t k = 0; k < n; k++) {
			unsigned r = rnd(100);
			/* mostly plain text, now and then one byte a string must not hold as is */
			s[k] = (unsigned char)(r < 94 ? 0x20 + rnd(0x5f) : r < 95 ? '"' : r < 96 ? '\\' :
			    r < 98 ? rnd(0x20) : 0x80 + rnd(0x80));
		}
		if (off > n)
			off = n;
		while (off + want < n && s[off + want] >= 0x20 && s[off + want] < 0x80 &&
		    s[off + want] != '"' && s[off + want] != '\\')
			want++;
		if (ev_json_plain_run(s + off, s + n) != want) {
			printf("# plain run of %zu bytes at %zu: want %zu, got %zu\n", n, off, want,
			    ev_json_plain_run(s + off, s + n));
			run_ok = 0;
		}
	}
	CHECK(run_ok, "ev_json_plain_run stops at the first quote, backslash, control or non-ASCII byte (20000 strings)");

	CHECK(!ev_jscan_canonical("{\"b\":1,\"a\":2}", 13), "unsorted keys are not canonical");
	CHECK(canon_equals("{\"b\":1,\"a\":2}", "{\"a\":2,\"b\":1}"), "unsorted keys get sorted");
	CHECK(!ev_jscan_canonical("{\"a\":1,\"a\":2}", 13), "duplicate keys are not canonical");
	CHECK(!canon_equals("{\"a\":1,\"a\":2}", "{\"a\":2}"), "duplicate keys are refused");
	CHECK(!ev_jscan_canonical("{\"a\":1.5}", 9), "real numbers go to jansson");
	CHECK(canon_equals("{\"a\":1.5}", "{\"a\":1.5}"), "a real number keeps jansson's form");
	CHECK(!ev_jscan_canonical("{\"a\":-0}", 8), "-0 is not canonical");
	CHECK(canon_equals("{\"a\":-0}", "{\"a\":0}"), "-0 becomes 0");
	CHECK(!ev_jscan_canonical("{\"a\":\"\\u0041\"}", 14), "needless \\u escape is not canonical");
	CHECK(canon_equals("{\"a\":\"\\u0041\"}", "{\"a\":\"A\"}"), "needless \\u escape is decoded");
	CHECK(!ev_jscan_canonical("{\"a\":\"\\u001f\"}", 14), "lower-case \\u escape is not canonical");
	CHECK(ev_jscan_canonical("{\"a\":\"\\u001F\"}", 14), "jansson's \\u001F is canonical");
	CHECK(!ev_jscan_canonical("{\"a\":\"\\/\"}", 10), "escaped slash is not canonical");
	CHECK(!ev_jscan_canonical("{\"a\":\"\xff\"}", 9), "invalid UTF-8 is refused");
	CHECK(!ev_jscan_canonical("{\"a\":\"\xed\xa0\x80\"}", 11), "UTF-8 surrogate is refused");
	CHECK(!ev_jscan_canonical("{\"a\":1}x", 8), "trailing bytes are refused");
	CHECK(!ev_jscan_canonical("[1]", 3), "a non-object is refused");
	CHECK(!ev_jscan_canonical("{\"a\":12345678901234567890}", 26), "a huge integer goes to jansson");

	char deep[300];
	memset(deep, '[', 100);
	strcpy(deep + 100, "1");
	memset(deep + 101, ']', 100);
	deep[201] = '\0';
	char doc[320];
	snprintf(doc, sizeof(doc), "{\"a\":%s}", deep);
	CHECK(!ev_jscan_canonical(doc, strlen(doc)), "nesting deeper than 64 is refused");

	static const char *const keys[] = { "kind", "body", "actor" };
	struct ev_jspan sp[3];
	const char *line = " {\"kind\" : \"log\", \"x\":[1,{\"kind\":2}], \"body\":{\"a\":[1,2]} } ";
	CHECK(ev_jscan_members(line, strlen(line), keys, 3, sp) == 0, "members of a spaced object");
	CHECK(sp[0].type == 's' && sp[0].len == 3 && memcmp(sp[0].p, "log", 3) == 0,
	    "string member span excludes quotes");
	CHECK(sp[1].type == 'o' && sp[1].len == 11 && memcmp(sp[1].p, "{\"a\":[1,2]}", 11) == 0,
	    "object member span is its raw text");
	CHECK(sp[2].p == NULL, "absent member has no span");
	CHECK(ev_jscan_members("{\"kind\":1,\"kind\":2}", 19, keys, 3, sp) != 0,
	    "a requested key twice is refused");
	CHECK(ev_jscan_members("{\"kind\":1", 9, keys, 3, sp) != 0, "truncated object is refused");
	UNIT_END();
}
