/*
 * cmd_prove.c - `evident prove inclusion|consistency|check`.
 *
 * Proofs are printed as JSON with lower-case hex hashes and leaf_index
 * counted from 0, so that any RFC 9162 verifier can check them.  `check`
 * needs no store: it verifies a proof file (ours, or the transparency-dev
 * test format with base64 hashes) and exits 0 or 3.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/enc.h"

static void
add_hex(struct ev_buf *b, const char *key, const uint8_t h[EV_HASH_LEN])
{
	char hex[2 * EV_HASH_LEN + 1];

	ev_hex_encode(h, EV_HASH_LEN, hex);
	ev_buf_addf(b, "\"%s\":\"%s\"", key, hex);
}

static void
add_proof(struct ev_buf *b, uint8_t proof[][EV_HASH_LEN], size_t n)
{
	char hex[2 * EV_HASH_LEN + 1];

	ev_buf_adds(b, "\"proof\":[");
	for (size_t i = 0; i < n; i++) {
		ev_hex_encode(proof[i], EV_HASH_LEN, hex);
		ev_buf_addf(b, "%s\"%s\"", i ? "," : "", hex);
	}
	ev_buf_adds(b, "]");
}

static int
prove_inclusion(struct ev_cli *cli, struct ev_ledger *l, uint64_t seq, uint64_t size)
{
	uint8_t proof[EV_MERKLE_MAX_PROOF][EV_HASH_LEN], leaf[EV_HASH_LEN], root[EV_HASH_LEN];
	struct ev_err err = { 0 };
	struct ev_buf b = EV_BUF_INIT;
	uint64_t cur;
	size_t n;

	if (size == 0 && ev_ledger_size(l, &cur, &err) == EV_OK)
		size = cur;
	if (ev_ledger_prove_inclusion(l, seq, size, leaf, root, proof, &n, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	ev_buf_addf(&b, "{\"leaf_index\":%llu,\"tree_size\":%llu,", (unsigned long long)(seq - 1),
	    (unsigned long long)size);
	add_hex(&b, "leaf_hash", leaf);
	ev_buf_addc(&b, ',');
	add_hex(&b, "root", root);
	ev_buf_addc(&b, ',');
	add_proof(&b, proof, n);
	ev_buf_adds(&b, "}\n");
	fputs(b.p, stdout);
	ev_buf_free(&b);
	return 0;
}

static int
prove_consistency(struct ev_cli *cli, struct ev_ledger *l, uint64_t s1, uint64_t s2)
{
	uint8_t proof[EV_MERKLE_MAX_PROOF][EV_HASH_LEN], r1[EV_HASH_LEN], r2[EV_HASH_LEN];
	struct ev_err err = { 0 };
	struct ev_buf b = EV_BUF_INIT;
	size_t n;

	if (ev_ledger_prove_consistency(l, s1, s2, r1, r2, proof, &n, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	ev_buf_addf(&b, "{\"size1\":%llu,\"size2\":%llu,", (unsigned long long)s1,
	    (unsigned long long)s2);
	add_hex(&b, "root1", r1);
	ev_buf_addc(&b, ',');
	add_hex(&b, "root2", r2);
	ev_buf_addc(&b, ',');
	add_proof(&b, proof, n);
	ev_buf_adds(&b, "}\n");
	fputs(b.p, stdout);
	ev_buf_free(&b);
	return 0;
}

/* A hash in hex (64 digits) or base64; stored in buf, which must hold 64 bytes. */
static int
decode_hash(const json_t *v, uint8_t *buf, struct ev_bytes *out)
{
	const char *s;
	size_t len;
	long n;

	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = strlen(s);
	if (len == 64 && (n = ev_hex_decode(s, len, buf, 64)) == 32) {
		out->p = buf;
		out->len = 32;
		return 0;
	}
	if ((n = ev_b64_decode(s, len, buf, 64)) < 0)
		return -1;
	out->p = buf;
	out->len = (size_t)n;
	return 0;
}

static const json_t *
get2(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	return v ? v : json_object_get(o, b);
}

static int
check_file(struct ev_cli *cli, const char *path)
{
	static uint8_t pbuf[EV_MERKLE_MAX_PROOF + 1][64];
	uint8_t h1[64], h2[64];
	struct ev_bytes proof[EV_MERKLE_MAX_PROOF + 1], a, b;
	json_error_t je;
	json_t *o;
	const json_t *p, *v;
	size_t n = 0;
	const char *why = NULL;
	int rc, incl;

	o = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(path, 0, &je);
	if (o == NULL && json_error_code(&je) == json_error_numeric_overflow) {
		/* Valid JSON whose index or size no tree can have: the proof fails, exit 3. */
		why = "a number is out of range (above 2^63 - 1)";
		if (cli->json)
			printf("{\"ok\":false,\"error\":\"%s\"}\n", why);
		fprintf(stderr, "evident: prove: %s: proof does not verify: %s\n", path, why);
		return 3;
	}
	if (o == NULL)
		return ev_cli_usage(cli, "%s: not a JSON proof: %s", path, je.text);
	incl = get2(o, "leaf_index", "leafIdx") != NULL;
	if (!incl && json_object_get(o, "size1") == NULL) {
		json_decref(o);
		return ev_cli_usage(cli, "%s: neither an inclusion nor a consistency proof", path);
	}
	p = json_object_get(o, "proof");
	if (p && !json_is_null(p) && !json_is_array(p)) {
		why = "proof is not an array";
		goto bad;
	}
	if (json_is_array(p)) {
		if (json_array_size(p) > EV_MERKLE_MAX_PROOF) {
			why = "proof is too long";
			goto bad;
		}
		for (n = 0; n < json_array_size(p); n++)
			if (decode_hash(json_array_get(p, n), pbuf[n], &proof[n]) != 0) {
				why = "proof element is not a hash";
				goto bad;
			}
	}
	if (incl) {
		const json_t *li = get2(o, "leaf_index", "leafIdx");
		const json_t *ts = get2(o, "tree_size", "treeSize");
		if (!json_is_integer(li) || !json_is_integer(ts) || json_integer_value(li) < 0 ||
		    json_integer_value(ts) < 0) {
			why = "leaf_index and tree_size must be non-negative integers";
			goto bad;
		}
		if (decode_hash(get2(o, "leaf_hash", "leafHash"), h1, &a) != 0 ||
		    decode_hash(json_object_get(o, "root"), h2, &b) != 0) {
			why = "leaf_hash and root must be hashes (hex or base64)";
			goto bad;
		}
		rc = ev_merkle_verify_inclusion((uint64_t)json_integer_value(li),
		    (uint64_t)json_integer_value(ts), a, proof, n, b, &why);
	} else {
		const json_t *s1 = json_object_get(o, "size1"), *s2 = json_object_get(o, "size2");
		if (!json_is_integer(s1) || !json_is_integer(s2) || json_integer_value(s1) < 0 ||
		    json_integer_value(s2) < 0) {
			why = "size1 and size2 must be non-negative integers";
			goto bad;
		}
		v = json_object_get(o, "root1");
		if (decode_hash(v, h1, &a) != 0 ||
		    decode_hash(json_object_get(o, "root2"), h2, &b) != 0) {
			why = "root1 and root2 must be hashes (hex or base64)";
			goto bad;
		}
		rc = ev_merkle_verify_consistency((uint64_t)json_integer_value(s1),
		    (uint64_t)json_integer_value(s2), a, b, proof, n, &why);
	}
	if (rc != 0)
		goto bad;
	json_decref(o);
	if (cli->json)
		printf("{\"ok\":true,\"type\":\"%s\"}\n", incl ? "inclusion" : "consistency");
	else
		printf("ok: %s proof verifies\n", incl ? "inclusion" : "consistency");
	return 0;
bad:
	json_decref(o);
	if (cli->json)
		printf("{\"ok\":false,\"error\":\"%s\"}\n", why);
	fprintf(stderr, "evident: prove: %s: %s proof does not verify: %s\n", path,
	    incl ? "inclusion" : "consistency", why);
	return 3;
}

int
cmd_prove(struct ev_cli *cli, int argc, char **argv)
{
	const char *size_s = NULL;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	uint64_t a, b, size = 0;
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "size", "N", "tree size for an inclusion proof (default: the current size)", &size_s,
		    NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident prove inclusion SEQ [--size N]\n"
		"       evident prove consistency N1 N2\n"
		"       evident prove check FILE|-",
		&npos, &status))
		return status;
	if (npos < 1)
		return ev_cli_usage(cli, "needs inclusion, consistency or check (see --help)");
	if (strcmp(argv[1], "check") == 0) {
		if (npos != 2)
			return ev_cli_usage(cli, "check needs exactly one FILE (or - for stdin)");
		return check_file(cli, argv[2]);
	}
	if (strcmp(argv[1], "inclusion") == 0) {
		if (npos != 2 || ev_cli_u64(argv[2], &a) != 0 || a == 0)
			return ev_cli_usage(cli, "inclusion needs one SEQ (a positive number)");
		if (size_s && (ev_cli_u64(size_s, &size) != 0 || size == 0))
			return ev_cli_usage(cli, "--size must be a positive number");
	} else if (strcmp(argv[1], "consistency") == 0) {
		if (npos != 3 || ev_cli_u64(argv[2], &a) != 0 || ev_cli_u64(argv[3], &b) != 0)
			return ev_cli_usage(cli, "consistency needs two sizes N1 N2");
		if (a == 0 || a > b)
			return ev_cli_usage(cli, "consistency needs 0 < N1 <= N2");
	} else {
		return ev_cli_usage(cli, "unknown proof '%s' (inclusion, consistency or check)",
		    argv[1]);
	}
	if (ev_cli_open(cli, EV_LEDGER_READONLY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (argv[1][0] == 'i')
		rc = prove_inclusion(cli, l, a, size);
	else
		rc = prove_consistency(cli, l, a, b);
	ev_ledger_close(l);
	return rc;
}
