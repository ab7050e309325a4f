#!/bin/bash
# t63: RFC 3161 anchoring against a real time-stamping authority on loopback
# (openssl ts -reply behind a tiny HTTP server): the token a checkpoint gets
# is accepted by `openssl ts -verify`, a TSA that does not chain to the given
# CA is refused, and packs carry and check the token.
. "$(dirname "$0")/lib.sh"
IND="$EVIDENT_ROOT/tests/independent"
TOOL="$IND/pack_tool.py"

sh "$IND/tsa_setup.sh" "$T/tsa" >/dev/null 2>&1
sh "$IND/tsa_setup.sh" "$T/other" "Other" >/dev/null 2>&1
t_ok "test CA and TSA certificates made" test -s "$T/tsa/tsa.pem" -a -s "$T/other/ca.pem"
python3 "$IND/tsa_server.py" "$T/tsa" "$T/port" 240 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$T/port")/tsa"
t_ok "loopback TSA listening" test -s "$T/port"

t_ok "init" "$EVIDENT" init
python3 "$TOOL" quarter "$EVIDENT_DATA" 120 >"$T/q.jsonl"
t_ok "append" "$EVIDENT" append --stdin <"$T/q.jsonl"

t_ok "checkpoint --tsa --tsa-cert" "$EVIDENT" checkpoint --tsa "$URL" --tsa-cert "$T/tsa/ca.pem" --json
cp_json=$(out)
t_like "the checkpoint reports its time-stamp" '"timestamp":\{"seq":[0-9]+,"gen_time":"' "$cp_json"
python3 - "$cp_json" "$T/note.txt" <<'PY'
import json, sys
c = json.loads(sys.argv[1])
open(sys.argv[2], "w").write((c["note"].split("\n\n")[0] + "\n" if "note" in c else "evident checkpoint v1\nsize %d\nroot %s\ntime %s\n" % (c["size"], c["root"], c["time"])))
PY
"$EVIDENT" log --kind checkpoint.timestamp --json >"$T/ts.jsonl"
python3 - "$T/ts.jsonl" "$T/token.tsr" <<'PY'
import base64, json, sys
e = json.loads(open(sys.argv[1]).read().splitlines()[-1])
open(sys.argv[2], "wb").write(base64.b64decode(e["body"]["token"]))
PY
t_like "the entry names the checkpoint, TSA and serial" '"checkpoint_seq":[0-9]+,"gen_time":"[^"]+","root":"[0-9a-f]{64}","serial":"[0-9a-f]+","size":[0-9]+,"token":"' "$(cat "$T/ts.jsonl")"
t_ok "openssl ts -verify accepts the token" openssl ts -verify -data "$T/note.txt" -in "$T/token.tsr" -CAfile "$T/tsa/ca.pem" -untrusted "$T/tsa/tsa.pem"
t_like "  Verification: OK" "Verification: OK" "$(out)"
printf 'evident checkpoint v1\nsize 1\n' >"$T/wrong-note.txt"
t_exit "openssl ts -verify refuses another note" 1 openssl ts -verify -data "$T/wrong-note.txt" -in "$T/token.tsr" -CAfile "$T/tsa/ca.pem" -untrusted "$T/tsa/tsa.pem"

before=$("$EVIDENT" log --kind checkpoint.timestamp | wc -l)
t_exit "a TSA that does not chain to --tsa-cert is refused" 3 "$EVIDENT" checkpoint --tsa "$URL" --tsa-cert "$T/other/ca.pem"
t_like "  with the reason" "does not verify" "$(err)"
t_is "  and no token is recorded" "$before" "$("$EVIDENT" log --kind checkpoint.timestamp | wc -l)"
t_exit "an unreachable TSA is an error" 1 "$EVIDENT" checkpoint --tsa "http://127.0.0.1:1/"
t_exit "--tsa-cert without --tsa is a usage error" 2 "$EVIDENT" checkpoint --tsa-cert "$T/tsa/ca.pem"

# The pack of an incident is covered by the anchored checkpoint: its token goes in.
t_ok "checkpoint --tsa for the pack" "$EVIDENT" checkpoint --tsa "$URL" --tsa-cert "$T/tsa/ca.pem"
t_ok "export an incident" "$EVIDENT" pack export --incident inc-2026-0001 --out "$T/p.tar.gz"
t_like "the pack carries the token" "timestamp RFC 3161 token included" "$(out)"
t_ok "pack verify checks the token" "$EVIDENT" pack verify "$T/p.tar.gz"
t_like "  and says the chain was not checked" "timestamp: RFC 3161 token .*use --tsa-ca" "$(out)"
t_ok "pack verify --tsa-ca checks the chain" "$EVIDENT" pack verify "$T/p.tar.gz" --tsa-ca "$T/tsa/ca.pem"
t_like "  chain checked" "chain checked against --tsa-ca" "$(out)"
t_exit "pack verify --tsa-ca with another CA exits 3" 3 "$EVIDENT" pack verify "$T/p.tar.gz" --tsa-ca "$T/other/ca.pem"
t_like "  reason names timestamp.tsr" "timestamp.tsr: " "$(err)"
t_ok "python verifier agrees" python3 "$IND/verify_pack.py" "$T/p.tar.gz"
python3 "$TOOL" flip "$T/p.tar.gz" "$T/bad.tar.gz" timestamp.tsr
t_exit "a changed token fails" 3 "$EVIDENT" pack verify "$T/bad.tar.gz"
mkdir -p "$T/x" && tar -xzf "$T/p.tar.gz" -C "$T/x" timestamp.tsr checkpoint.json
python3 - "$T/x/checkpoint.json" "$T/x/note.txt" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write((c["note"].split("\n\n")[0] + "\n" if "note" in c else "evident checkpoint v1\nsize %d\nroot %s\ntime %s\n" % (c["size"], c["root"], c["time"])))
PY
t_ok "openssl ts -verify accepts the pack's timestamp.tsr over its checkpoint note" openssl ts -verify -data "$T/x/note.txt" -in "$T/x/timestamp.tsr" -CAfile "$T/tsa/ca.pem" -untrusted "$T/tsa/tsa.pem"

t_ok "pack export --tsa anchors a fresh checkpoint" "$EVIDENT" pack export --from now-1h --to now --tsa "$URL" --tsa-cert "$T/tsa/ca.pem" --out "$T/p2.tar.gz"
t_like "  token included" "timestamp RFC 3161 token included" "$(out)"
t_ok "  and verifies" "$EVIDENT" pack verify "$T/p2.tar.gz" --tsa-ca "$T/tsa/ca.pem"

# serve anchors its scheduled checkpoints with the same TSA.
"$EVIDENT" append --kind demo.note --subject tsa --body '{"n":1}' >/dev/null
before=$("$EVIDENT" log --kind checkpoint.timestamp | wc -l)
"$EVIDENT" serve --no-syslog-udp --no-syslog-tcp --no-http --no-timesync --checkpoint-every 1s \
	--tsa "$URL" --tsa-ca "$T/tsa/ca.pem" 2>"$T/serve.err" &
SP=$!
for _ in $(seq 100); do grep -qE 'anchored by the TSA|time-stamp from the TSA failed' "$T/serve.err" && break; sleep 0.1; done
kill -TERM $SP; wait $SP
t_like "serve anchors its scheduled checkpoint" 'checkpoint: anchored by the TSA' "$(cat "$T/serve.err")"
t_is "  one more checkpoint.timestamp entry" $((before + 1)) "$("$EVIDENT" log --kind checkpoint.timestamp | wc -l)"
t_ok "  the ledger verifies" "$EVIDENT" verify
kill $srv 2>/dev/null
t_done
