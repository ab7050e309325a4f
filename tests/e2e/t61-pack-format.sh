#!/bin/bash
# t61: docs/pack-format.md is what a pack is: the members, the exact
# checkpoint note and manifest message (checked with openssl pkeyutl as the
# document shows), proof lines that `evident prove check` accepts one by
# one, entry lines equal to `evident log --json`, and a consistency proof.
. "$(dirname "$0")/lib.sh"
TOOL="$EVIDENT_ROOT/tests/independent/pack_tool.py"

t_ok "init" "$EVIDENT" init
python3 "$TOOL" quarter "$EVIDENT_DATA" 150 >"$T/q.jsonl"
t_ok "append" "$EVIDENT" append --stdin <"$T/q.jsonl"
t_ok "first export" "$EVIDENT" pack export --from now-1h --to now --kind alert. --out "$T/a.tar.gz"
t_ok "second export" "$EVIDENT" pack export --from now-1h --to now --out "$T/p.tar.gz"
mkdir -p "$T/x" && tar -xzf "$T/p.tar.gz" -C "$T/x"
x="$T/x"
t_is "members as documented" "checkpoint.json consistency.json entries.jsonl evidence index.html manifest.json manifest.sig proofs.jsonl public-key.pem" "$(ls "$x" | tr '\n' ' ' | sed 's/ $//')"
t_is "evidence files named by their hash" "" "$(cd "$x/evidence" && for f in *; do [ "$(sha256sum "$f" | cut -c1-64)" = "$f" ] || echo "$f"; done)"

# The checkpoint note, signed with Ed25519 (openssl pkeyutl -rawin).
python3 - "$x" <<'PY'
import base64, json, sys, hashlib
d = sys.argv[1]
c = json.load(open(d + "/checkpoint.json"))
open(d + "/note", "w").write((c["note"].split("\n\n")[0] + "\n" if "note" in c else "evident checkpoint v1\nsize %d\nroot %s\ntime %s\n" % (c["size"], c["root"], c["time"])))
open(d + "/note.sig", "wb").write(base64.b64decode(c["signature"]))
m = open(d + "/manifest.json", "rb").read()
open(d + "/manifest.msg", "w").write("evident pack manifest v1\nsha256 %s\n" % hashlib.sha256(m).hexdigest())
open(d + "/manifest.rawsig", "wb").write(base64.b64decode(open(d + "/manifest.sig").read()))
PY
t_ok "openssl verifies the checkpoint note signature" openssl pkeyutl -verify -pubin -inkey "$x/public-key.pem" -rawin -in "$x/note" -sigfile "$x/note.sig"
t_ok "openssl verifies the manifest signature" openssl pkeyutl -verify -pubin -inkey "$x/public-key.pem" -rawin -in "$x/manifest.msg" -sigfile "$x/manifest.rawsig"
t_is "the pack's key is the installation key" "$(openssl pkey -pubin -in "$EVIDENT_DATA/key.pub" -outform DER | sha256sum)" "$(openssl pkey -pubin -in "$x/public-key.pem" -outform DER | sha256sum)"

# Entries are the leaves evident log --json prints.
first=$(head -1 "$x/entries.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seq"])')
t_is "entries.jsonl line 1 is the leaf of its seq" "$("$EVIDENT" log --json | sed -n "${first}p")" "$(head -1 "$x/entries.jsonl")"
bad=0
for i in 1 2 3 50 100 $(wc -l <"$x/proofs.jsonl"); do
	sed -n "${i}p" "$x/proofs.jsonl" >"$T/one.json"
	"$EVIDENT" prove check "$T/one.json" >/dev/null 2>&1 || bad=$((bad + 1))
done
t_is "proof lines pass evident prove check" 0 "$bad"
t_is "as many proofs as entries" "$(wc -l <"$x/entries.jsonl")" "$(wc -l <"$x/proofs.jsonl")"
python3 - "$x" >"$T/cons.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1] + "/consistency.json"))
del c["previous"]
print(json.dumps(c))
PY
t_ok "consistency.json passes evident prove check" "$EVIDENT" prove check "$T/cons.json"
t_like "manifest: format, key_id, files" '"format":"evident-pack-1"' "$(cat "$x/manifest.json")"
t_is "manifest.sig is one base64 line" "89" "$(wc -c <"$x/manifest.sig")"
t_ok "pack verify --json" "$EVIDENT" pack verify --json "$T/p.tar.gz"
t_like "  reports ok" '"ok":true' "$(out)"
t_done
