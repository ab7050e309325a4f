/*
 * cmd_key.c - `evident key`: the note verifier key of this installation,
 * "ORIGIN+KEYID+BASE64KEY" (c2sp.org/signed-note), which an assessor or a
 * witness pins to check checkpoints, packs and tile mirrors.  Public data:
 * the private key never leaves key.pem.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ledger/note.h"
#include "util/buf.h"
#include "util/enc.h"

int
cmd_key(struct ev_cli *cli, int argc, char **argv)
{
	struct ev_err err = { 0 };
	struct ev_ledger *l = NULL;
	struct ev_buf vkey = EV_BUF_INIT, out = EV_BUF_INIT;
	uint8_t pub[32];
	char hex[65];
	int npos, status, rc;

	if (ev_cli_parse(cli, argc, argv, NULL, "evident key [--json]", &npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (ev_cli_open(cli, EV_LEDGER_READONLY | EV_LEDGER_NOKEY, &l, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	rc = ev_ledger_vkey(l, &vkey, &err);
	if (rc == EV_OK)
		rc = ev_ledger_public_key(l, pub, &err);
	if (rc != EV_OK) {
		ev_ledger_close(l);
		ev_buf_free(&vkey);
		return ev_cli_fail(cli, &err);
	}
	if (cli->json) {
		const char *origin = ev_ledger_origin(l);
		ev_hex_encode(pub, 32, hex);
		ev_buf_adds(&out, "{\"origin\":");
		ev_buf_add_json_str(&out, origin, strlen(origin));
		ev_buf_addf(&out, ",\"key_id\":\"%08x\",\"public_key\":\"%s\",\"vkey\":",
		    (unsigned)ev_note_key_id(origin, EV_NOTE_ED25519, pub), hex);
		ev_buf_add_json_str(&out, vkey.p, vkey.len);
		printf("%s}\n", out.p);
	} else {
		printf("%s\n", vkey.p);
	}
	ev_buf_free(&vkey);
	ev_buf_free(&out);
	ev_ledger_close(l);
	return 0;
}
