/*
 * cmd_pack.c - `evident pack export|verify`: the evidence pack for
 * assessors (src/pack, docs/pack-format.md).
 *
 * export reads the ledger (and records a checkpoint when none covers the
 * selection, plus one "pack.exported" entry); verify needs no data directory
 * and exits 0 when every check holds, 3 with one line naming the first
 * failure otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ledger/keys.h"
#include "pack/pack.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/timeutil.h"

static void
progress(const char *phase, uint64_t done, uint64_t total, void *arg)
{
	(void)arg;
	ev_cli_progress(strcmp(phase, "prove") == 0 ? "pack: proving entries" : "pack: selecting",
	    done, total);
}

/* A plain date as --to means the whole day: up to 23:59:59.999999. */
static int
parse_bound(struct ev_cli *cli, const char *opt, const char *s, int end, int64_t *us)
{
	int rc;

	if ((rc = ev_cli_time(cli, opt, s, us)) != 0)
		return rc;
	if (end && strlen(s) == 10)
		*us += 86400LL * 1000000 - 1;
	return 0;
}

static void
join(struct ev_buf *b, const char *label, const struct ev_strv *v)
{
	if (v->n == 0)
		return;
	ev_buf_addf(b, "%s%s ", b->len ? "; " : "", label);
	for (size_t i = 0; i < v->n; i++)
		ev_buf_addf(b, "%s%s", i ? ", " : "", v->v[i]);
}

static int
pack_export(struct ev_cli *cli, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *out = NULL, *previous = NULL, *tsa = NULL;
	const char *tsa_cert = NULL;
	struct ev_strv incidents = { 0 }, kinds = { 0 };
	struct ev_pack_export_opts o;
	struct ev_pack_export_result res;
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct ev_buf sel = EV_BUF_INIT;
	char root[65], t1[EV_TIME_STRLEN], t2[EV_TIME_STRLEN];
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "from", "DATE", "entries at or after DATE (YYYY-MM-DD or RFC 3339)", &from, NULL,
		    NULL },
		{ "to", "DATE", "entries at or before DATE (a plain date includes that whole day)", &to,
		    NULL, NULL },
		{ "incident", "ID", "every entry of this incident (repeatable)", NULL, NULL,
		    &incidents },
		{ "kind", "K", "only these kinds in the date range (repeatable; prefix when it ends "
			       "in '.' or '*')", NULL, NULL, &kinds },
		{ "previous", "PACK", "previous pack, for the consistency proof (default: the last "
				      "recorded export)", &previous, NULL, NULL },
		{ "out", "FILE", "the pack to write (.tar.gz)", &out, NULL, NULL },
		{ "tsa", "URL", "cut the pack at a fresh checkpoint anchored by this RFC 3161 TSA", &tsa,
		    NULL, NULL },
		{ "tsa-cert", "FILE", "CA (or TSA) certificate the TSA's signature must chain to",
		    &tsa_cert, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	memset(&o, 0, sizeof(o));
	if (ev_cli_parse(cli, argc, argv, opts,
		"evident pack export --from DATE --to DATE [--incident ID]... [--kind K]...\n"
		"                           [--previous PACK] [--tsa URL [--tsa-cert FILE]] --out FILE.tar.gz",
		&npos, &status)) {
		rc = status;
		goto done;
	}
	if (npos) {
		rc = ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
		goto done;
	}
	if (out == NULL) {
		rc = ev_cli_usage(cli, "export needs --out FILE.tar.gz");
		goto done;
	}
	if ((from == NULL) != (to == NULL)) {
		rc = ev_cli_usage(cli, "give both --from and --to");
		goto done;
	}
	if (from == NULL && incidents.n == 0) {
		rc = ev_cli_usage(cli, "select entries with --from/--to and/or --incident");
		goto done;
	}
	if (from && ((rc = parse_bound(cli, "from", from, 0, &o.from_us)) != 0 ||
			(rc = parse_bound(cli, "to", to, 1, &o.to_us)) != 0))
		goto done;
	if (from && o.from_us > o.to_us) {
		rc = ev_cli_usage(cli, "--from is after --to");
		goto done;
	}
	if (from) {
		ev_time_format(o.from_us, t1);
		ev_time_format(o.to_us, t2);
		ev_buf_addf(&sel, "entries from %s to %s", t1, t2);
	}
	join(&sel, "kinds", &kinds);
	join(&sel, "incidents", &incidents);
	o.incidents = incidents.v;
	o.nincidents = incidents.n;
	o.kinds = kinds.v;
	o.nkinds = kinds.n;
	o.out_path = out;
	o.previous = previous;
	o.tsa_url = tsa;
	o.tsa_cert = tsa_cert;
	if (tsa_cert && !tsa) {
		rc = ev_cli_usage(cli, "--tsa-cert needs --tsa URL");
		goto done;
	}
	o.actor = ev_cli_default_actor(cli);
	o.selection_text = sel.p;
	if (ev_cli_progress_wanted(cli))
		o.progress = progress;
	if (ev_cli_open(cli, 0, &l, &err) != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto done;
	}
	rc = ev_pack_export(l, &o, &res, &err);
	ev_ledger_close(l);
	if (rc != EV_OK) {
		rc = ev_cli_fail(cli, &err);
		goto done;
	}
	ev_hex_encode(res.cp.root, 32, root);
	if (cli->json) {
		printf("{\"file\":\"%s\",\"entries\":%llu,\"checkpoint\":{\"seq\":%llu,\"size\":%llu,"
		       "\"root\":\"%s\",\"fresh\":%s},\"evidence_files\":%llu,\"evidence_missing\":%llu,"
		       "\"consistency_from\":%llu,\"timestamp\":%s,\"manifest_sha256\":\"%s\","
		       "\"exported_seq\":%llu}\n",
		    out, (unsigned long long)res.entries, (unsigned long long)res.cp.seq,
		    (unsigned long long)res.cp.size, root, res.fresh_checkpoint ? "true" : "false",
		    (unsigned long long)res.evidence_files, (unsigned long long)res.evidence_missing,
		    (unsigned long long)res.previous_size, res.has_timestamp ? "true" : "false",
		    res.manifest_sha256, (unsigned long long)res.exported_seq);
	} else {
		printf("pack %s: %llu entries\n", out, (unsigned long long)res.entries);
		printf("checkpoint size %llu root %s (%s, entry %llu)\n", (unsigned long long)res.cp.size,
		    root, res.fresh_checkpoint ? "made for this pack" : "latest",
		    (unsigned long long)res.cp.seq);
		printf("evidence files %llu", (unsigned long long)res.evidence_files);
		if (res.evidence_missing)
			printf(" (%llu referenced but missing)", (unsigned long long)res.evidence_missing);
		printf("\nconsistency %s", res.has_consistency ? "from size " : "none (no previous pack)");
		if (res.has_consistency)
			printf("%llu", (unsigned long long)res.previous_size);
		printf("\ntimestamp %s\nmanifest sha256 %s (recorded as entry %llu)\n",
		    res.has_timestamp ? "RFC 3161 token included" : "none",
		    res.manifest_sha256, (unsigned long long)res.exported_seq);
	}
	if (res.evidence_missing)
		fprintf(stderr, "evident: pack: warning: %llu referenced evidence file(s) are not in "
				"the data directory (listed in the manifest)\n",
		    (unsigned long long)res.evidence_missing);
	rc = 0;
done:
	free(incidents.v);
	free(kinds.v);
	ev_buf_free(&sel);
	return rc;
}

static int
pack_verify(struct ev_cli *cli, int argc, char **argv)
{
	const char *key = NULL, *tsa_ca = NULL;
	struct ev_pack_verify_opts o = { NULL, NULL };
	struct ev_pack_verify_result res;
	struct ev_err err = { 0 };
	uint8_t pin[32];
	char root[65];
	int npos, status, rc;
	const struct ev_opt opts[] = {
		{ "key", "PUBKEY", "require this signing key (PEM, or 64 hex digits in a file)", &key,
		    NULL, NULL },
		{ "tsa-ca", "FILE", "check the RFC 3161 token's certificate chain up to this CA",
		    &tsa_ca, NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident pack verify FILE.tar.gz [--key PUBKEY] [--tsa-ca FILE] [--json]", &npos,
		&status))
		return status;
	if (npos != 1)
		return ev_cli_usage(cli, "verify needs exactly one pack FILE");
	if (key) {
		if (ev_key_read_public_file(key, pin, &err) != EV_OK) {
			err.code = EV_EINVAL;
			return ev_cli_fail(cli, &err);
		}
		o.pinned_key = pin;
	}
	o.tsa_ca_file = tsa_ca;
	rc = ev_pack_verify(argv[1], &o, &res, &err);
	if (rc != EV_OK) {
		if (cli->json) {
			struct ev_buf b = EV_BUF_INIT;
			ev_buf_add_json_str(&b, err.msg, strlen(err.msg));
			printf("{\"ok\":false,\"error\":%s}\n", b.p);
			ev_buf_free(&b);
		}
		return ev_cli_fail(cli, &err);
	}
	ev_hex_encode(res.cp.root, 32, root);
	if (cli->json) {
		printf("{\"ok\":true,\"entries\":%llu,\"files\":%llu,\"evidence_files\":%llu,"
		       "\"checkpoint\":{\"size\":%llu,\"root\":\"%s\"},\"key_id\":\"%s\",\"key_pinned\":%s,"
		       "\"consistency_from\":%llu,\"timestamp\":%s,\"tsa_chain_checked\":%s}\n",
		    (unsigned long long)res.entries, (unsigned long long)res.files,
		    (unsigned long long)res.evidence_files, (unsigned long long)res.cp.size, root,
		    res.key_id, key ? "true" : "false", (unsigned long long)res.previous_size,
		    res.has_timestamp ? "true" : "false", res.tsa_chain_checked ? "true" : "false");
		return 0;
	}
	printf("ok: %s verifies\n", argv[1]);
	printf("  manifest: %llu files, hashes match, signature verifies\n",
	    (unsigned long long)res.files);
	printf("  key: %s (%s)\n", res.key_id,
	    key ? "matches --key" : "the pack's own key: compare it with one you trust, or use --key");
	printf("  checkpoint: size %llu root %s, signature verifies\n",
	    (unsigned long long)res.cp.size, root);
	printf("  entries: %llu, every leaf hash and inclusion proof verifies\n",
	    (unsigned long long)res.entries);
	if (res.has_consistency)
		printf("  consistency: extends the previous pack's checkpoint (size %llu)\n",
		    (unsigned long long)res.previous_size);
	if (res.has_timestamp)
		printf("  timestamp: RFC 3161 token over the checkpoint, time %s (%s)\n",
		    res.tsa_gen_time,
		    res.tsa_chain_checked ? "chain checked against --tsa-ca"
					  : "signature checked with the token's certificate; "
					    "use --tsa-ca to check its chain");
	printf("  evidence files: %llu, each hashes to its name\n",
	    (unsigned long long)res.evidence_files);
	return 0;
}

int
cmd_pack(struct ev_cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		FILE *f = argc < 2 ? stderr : stdout;
		fputs("usage: evident pack export --from DATE --to DATE [--incident ID]... [--kind K]...\n"
		      "                           [--previous PACK] [--tsa URL [--tsa-cert FILE]] --out FILE.tar.gz\n"
		      "       evident pack verify FILE.tar.gz [--key PUBKEY] [--tsa-ca FILE]\n"
		      "\nexit status: 0 ok, 1 error, 2 usage or invalid input, 3 verification failed\n",
		    f);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "export") == 0)
		return pack_export(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return pack_verify(cli, argc - 1, argv + 1);
	return ev_cli_usage(cli, "unknown subcommand '%s' (export or verify)", argv[1]);
}
