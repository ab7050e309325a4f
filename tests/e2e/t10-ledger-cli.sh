#!/bin/bash
# t10-ledger-cli.sh - the ledger commands end to end, as a user meets them:
# init (and init again), append (one, and --stdin), log with every filter,
# log --json lines that are byte for byte the hashed leaves, checkpoint
# (text and --json), verify (text and --json), prove inclusion/consistency
# checked by prove check, --help on every command, the key file's mode, and
# the private key never appearing in anything evident prints.
. "$(dirname "$0")/lib.sh"

# Everything any command prints in this test is collected in $ALL, so that
# the private key can be looked for in all of it at the end.
ALL="$T/all-output"
: >"$ALL"
eval "$(declare -f _report | sed '1s/_report/_report_plain/')"
_report() { cat "$T/.out" "$T/.err" >>"$ALL" 2>/dev/null; _report_plain "$@"; }
ev() { "$EVIDENT" "$@" 2>>"$ALL" | tee -a "$ALL"; } # for $(...) captures
sha_hex() { openssl dgst -sha256 -r | cut -c1-64; }
export EVIDENT_ACTOR=t10-tester

# --- init ----------------------------------------------------------------------
t_ok "init creates the data directory" "$EVIDENT" init
t_like "init says where" "$EVIDENT_DATA" "$(out)"
t_exit "init again refuses (exit 1)" 1 "$EVIDENT" init
t_like "init again says the directory is already initialised" "already an evident data directory" "$(err)"
t_is "init again: one line" 1 "$(err | wc -l)"
t_is "key.pem has mode 0600" 600 "$(stat -c %a "$EVIDENT_DATA/key.pem")"
t_ok "key.pub exists" test -s "$EVIDENT_DATA/key.pub"
t_exit "init --json on another directory" 0 "$EVIDENT" --json init --data "$T/other"
t_like "init --json prints JSON with the default origin" '^\{"data":".*","initialised":true,"origin":"[a-z0-9.-]+/evident"\}$' "$(out)"
t_exit "init --origin with a space is refused" 2 "$EVIDENT" init --data "$T/other2" --origin "a b"
t_exit "init --origin with a plus is refused" 2 "$EVIDENT" init --data "$T/other2" --origin "a+b"
t_ok "init --origin NAME" "$EVIDENT" --json init --data "$T/other3" --origin ca.example.com/evident
t_like "the origin is recorded" '"origin":"ca.example.com/evident"' "$(out)"
t_like "evident key: NAME+KEYID+BASE64, the signed-note verifier key" '^ca\.example\.com/evident\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$' "$("$EVIDENT" --data "$T/other3" key)"
t_is "the other key.pem has mode 0600 too" 600 "$(stat -c %a "$T/other/key.pem")"

# --- append ----------------------------------------------------------------------
t_ok "append one entry" "$EVIDENT" append --kind inc.opened --subject inc-1 --body '{"title":"disk full","b":2,"a":[1,2]}'
t_is "append prints its seq" 1 "$(out)"
t_ok "append with --actor" "$EVIDENT" --actor alice append --kind inc.classified --subject inc-1 --body '{ "severity" : "high" }'
t_is "second seq" 2 "$(out)"
cat >"$T/in.jsonl" <<'EOF'
{"kind":"log","subject":"host-a","body":{"msg":"sshd: accepted key","pid":101}}
{"kind":"log","subject":"host-b","actor":"rule:ssh","body":{"msg":"sshd: failed password","pid":102}}

{"kind":"inc.opened","subject":"inc-2","body":{"title":"unicode: été ✓","z":null,"y":true,"x":1.5}}
{"kind":"note","subject":"host-a","body":{"text":"quote \" and backslash \\ and tab \t"}}
{"kind":"log","subject":"host-a","body":{"msg":"cron: job done","pid":103}}
EOF
t_ok "append --stdin (blank lines skipped)" "$EVIDENT" append --stdin <"$T/in.jsonl"
t_is "append --stdin prints the last seq" 7 "$(out)"
t_ok "append --stdin --batch 2" "$EVIDENT" append --stdin --batch 2 <"$T/in.jsonl"
t_is "append --stdin --batch 2 prints the last seq of each batch" "9 11 12" "$(out | tr '\n' ' ' | sed 's/ $//')"
# Distinct times for the time filters: three single appends a little apart.
for i in 1 2 3; do
	sleep 0.02
	t_ok "append single $i" "$EVIDENT" append --kind log --subject host-c --body "{\"i\":$i}"
done
N=15
t_is "the ledger has $N entries" $N "$("$EVIDENT" log | wc -l)"

# --- log filters ----------------------------------------------------------------------
ev log --json >"$T/all.jsonl"
count_kind() { grep -c "\"kind\":\"$1\"" "$T/all.jsonl"; }
t_ok "log --kind log" "$EVIDENT" log --kind log
t_is "log --kind log lists every log entry" "$(count_kind log)" "$(out | wc -l)"
t_is "log --kind log lists only log entries" "" "$(out | awk -F'\t' '$3 != "log"')"
t_ok "log --kind inc. (prefix)" "$EVIDENT" log --kind inc.
t_is "log --kind inc. lists inc.opened and inc.classified" \
	$(($(count_kind inc.opened) + $(count_kind inc.classified))) "$(out | wc -l)"
t_is "log --kind inc. lists only inc.*" "" "$(out | awk -F'\t' '$3 !~ /^inc\./')"
t_ok "log --kind 'inc*' (prefix)" "$EVIDENT" log --kind 'inc*'
t_is "log --kind 'inc*' is the same list" "$("$EVIDENT" log --kind inc.)" "$(out)"
t_ok "log --kind inc (exact, no such kind)" "$EVIDENT" log --kind inc
t_is "log --kind inc lists nothing" "" "$(out)"
t_ok "log --kind inc.opened (exact)" "$EVIDENT" log --kind inc.opened
t_is "log --kind inc.opened: 3 entries" 3 "$(out | wc -l)"
t_ok "log --subject host-a" "$EVIDENT" log --subject host-a
t_is "log --subject host-a: every host-a entry" "$(grep -c '"subject":"host-a"' "$T/all.jsonl")" "$(out | wc -l)"
t_is "log --subject host-a: only host-a" "" "$(out | awk -F'\t' '$4 != "host-a"')"
t_ok "log --kind log --subject host-b" "$EVIDENT" log --kind log --subject host-b
t_is "kind and subject together" 2 "$(out | wc -l)"
t_ok "log --limit 3" "$EVIDENT" log --limit 3
t_is "log --limit 3: seqs 1, 2, 3" "1 2 3" "$(out | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
t_ok "log --newest-first --limit 2" "$EVIDENT" log --newest-first --limit 2
t_is "log --newest-first --limit 2: seqs $N, $((N - 1))" "$N $((N - 1))" "$(out | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
t_ok "log --limit 2 --kind log" "$EVIDENT" log --limit 2 --kind log
t_is "limit applies after the filter" "$(grep '"kind":"log"' "$T/all.jsonl" | head -2 | sed 's/.*"seq":\([0-9]*\).*/\1/' | tr '\n' ' ')" \
	"$(out | cut -f1 | tr '\n' ' ')"
# Time filters against the times log itself prints (RFC 3339, fixed width, sorts as text).
a=$((N - 2)) b=$((N - 1)) # two of the single appends, at distinct times
ta=$(sed -n "${a}p" "$T/all.jsonl" | sed 's/.*"time":"\([^"]*\)".*/\1/')
tb=$(sed -n "${b}p" "$T/all.jsonl" | sed 's/.*"time":"\([^"]*\)".*/\1/')
want_since=$(awk -v t="$tb" -F'"time":"' '{ split($2, x, "\""); if (x[1] >= t) n++ } END { print n + 0 }' "$T/all.jsonl")
t_ok "log --since (time of entry $b)" "$EVIDENT" log --since "$tb"
t_is "log --since: entries at or after it" "$want_since" "$(out | wc -l)"
t_is "log --since: starts at entry $b" $b "$(out | head -n 1 | cut -f1)"
t_ok "log --until (time of entry $a)" "$EVIDENT" log --until "$ta"
t_is "log --until: entries 1..$a" $a "$(out | wc -l)"
t_ok "log --since $a --until $b" "$EVIDENT" log --since "$ta" --until "$tb"
t_is "log --since/--until: entries $a and $b" "$a $b" "$(out | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
t_ok "log --since now-1h" "$EVIDENT" log --since now-1h
t_is "log --since now-1h: everything" $N "$(out | wc -l)"
t_ok "log --until 2000-01-01" "$EVIDENT" log --until 2000-01-01
t_is "log --until 2000-01-01: nothing" "" "$(out)"
t_ok "log --since now+1h" "$EVIDENT" log --since now+1h
t_is "log --since now+1h: nothing" "" "$(out)"

# --- log --json is the leaf ---------------------------------------------------------
t_like "log --json: keys in canonical order" '^\{"actor":"[^"]*","body":\{.*\},"kind":"[^"]*","seq":[0-9]+,"subject":"[^"]*","time":"[0-9T:.-]+Z"\}$' "$(head -n 1 "$T/all.jsonl")"
t_is "log --json: the body is canonical (sorted keys, no white space)" \
	'{"actor":"t10-tester","body":{"a":[1,2],"b":2,"title":"disk full"},"kind":"inc.opened","seq":1,"subject":"inc-1",' \
	"$(head -n 1 "$T/all.jsonl" | sed 's/"time".*//')"
t_like "log --json: the actor given by --actor" '"actor":"alice"' "$(sed -n 2p "$T/all.jsonl")"
t_like "log --json: the actor given on a --stdin line" '"actor":"rule:ssh"' "$(sed -n 4p "$T/all.jsonl")"
t_like "log --json: unicode and escapes survive" '"title":"unicode: été ✓".*"text":"quote \\" and backslash \\\\ and tab \\t"' "$(sed -n 5,6p "$T/all.jsonl" | tr -d '\n')"
t_like "log --json: the default actor from EVIDENT_ACTOR" '"actor":"t10-tester"' "$(sed -n 3p "$T/all.jsonl")"
if command -v jq >/dev/null; then
	t_is "log --json: every line equals jq -cS of itself (sorted, compact)" \
		"$(cat "$T/all.jsonl")" "$(jq -cS . "$T/all.jsonl")"
fi
bad=0
for s in $(seq 1 $N); do
	line=$(sed -n "${s}p" "$T/all.jsonl")
	lh=$({ printf '\0'; printf '%s' "$line"; } | sha_hex)
	p=$(ev prove inclusion "$s")
	[ "$lh" = "$(sed 's/.*"leaf_hash":"\([0-9a-f]*\)".*/\1/' <<<"$p")" ] || { bad=$((bad + 1)); echo "# entry $s: $line"; }
done
t_is "log --json line N hashes (SHA-256 of 0x00 || line) to entry N's leaf hash, for all $N" 0 "$bad"

# --- log --grep ---------------------------------------------------------------------------
ev append --kind note.grep --subject g --body '{"text":"needle \"quoted\" here"}' >/dev/null
ev append --kind note.grep --subject g --body '{"text":"haystack"}' >/dev/null
t_is "log --grep finds the entry holding the text" 1 "$(ev log --grep 'needle "quoted"' | wc -l)"
t_is "... with the other filters" 1 "$(ev log --kind note.grep --grep haystack | wc -l)"
t_is "... and nothing when no entry has it" 0 "$(ev log --grep 'no such text anywhere' | wc -l)"
N=$((N + 2))

# --- checkpoint ----------------------------------------------------------------------
t_ok "checkpoint" "$EVIDENT" checkpoint
t_like "checkpoint prints the size" "^size $N$" "$(out | sed -n 1p)"
t_like "checkpoint prints the root" '^root [0-9a-f]{64}$' "$(out | sed -n 2p)"
t_like "checkpoint prints the time" '^time [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "$(out | sed -n 3p)"
rootN=$(out | sed -n 's/^root //p')
t_is "the checkpoint's root is the root of the $N-entry tree" "$rootN" \
	"$(ev prove inclusion 1 --size $N | sed 's/.*"root":"\([0-9a-f]*\)".*/\1/')"
t_like "the checkpoint is entry $((N + 1)), covering 1..$N" "\"kind\":\"checkpoint\",\"seq\":$((N + 1))" "$(ev log --json --kind checkpoint)"
t_is "DATA/checkpoint is a C2SP checkpoint: the tree size on line 2" "$N" "$(sed -n 2p "$EVIDENT_DATA/checkpoint")"
t_is "... the root on line 3, base64" "$rootN" "$(sed -n 3p "$EVIDENT_DATA/checkpoint" | base64 -d | od -An -tx1 | tr -d ' \n')"
t_like "... a time extension line" '^time [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{15}Z$' "$(sed -n 4p "$EVIDENT_DATA/checkpoint")"
t_is "... a blank line, then the signature under the origin" "$(sed -n 1p "$EVIDENT_DATA/checkpoint")" "$(sed -n 6p "$EVIDENT_DATA/checkpoint" | cut -d' ' -f2)"
t_is "... whose key ID is the verifier key's" "$("$EVIDENT" key | cut -d+ -f2)" \
	"$(sed -n 6p "$EVIDENT_DATA/checkpoint" | cut -d' ' -f3 | base64 -d | head -c 4 | od -An -tx1 | tr -d ' \n')"
t_ok "checkpoint --json" "$EVIDENT" --json checkpoint
t_like "checkpoint --json" '^\{"seq":'$((N + 2))',"size":'$((N + 1))',"root":"[0-9a-f]{64}","time":"[^"]+Z","key_id":"[0-9a-f]{8}","signature":"[A-Za-z0-9+/=]{88}","note":"[^"]+","origin":"[^"]+"\}$' "$(out)"
cpj=$(out)
t_is "checkpoint --json: the note is the C2SP checkpoint of that size and root" ok "$(python3 -c '
import json, sys, base64
c = json.loads(sys.argv[1]); body, sig = c["note"].split("\n\n")
l = body.split("\n")
ok = l[0] == c["origin"] and int(l[1]) == c["size"] and base64.b64decode(l[2]).hex() == c["root"] and l[3] == "time " + c["time"]
ok = ok and sig.startswith("\u2014 " + c["origin"] + " ") and base64.b64decode(sig.split()[2])[4:] == base64.b64decode(c["signature"])
print("ok" if ok else "bad")' "$cpj")"
t_ok "checkpoint --json after the option" "$EVIDENT" checkpoint --json
t_like "checkpoint --json (option after the command)" "\"seq\":$((N + 3)),\"size\":$((N + 2))" "$(out)"

# --- verify ---------------------------------------------------------------------------
t_ok "verify" "$EVIDENT" verify
t_like "verify says what it checked" "^ok: $((N + 3)) entries and 3 checkpoints verified" "$(out)"
t_ok "verify --json" "$EVIDENT" --json verify
t_like "verify --json" '^\{"ok":true,"entries":'$((N + 3))',"checkpoints":3,"leaf_bytes":[0-9]+,"seconds":[0-9.]+\}$' "$(out)"
t_is "verify --json: leaf_bytes is the size of the leaves log --json prints" \
	"$(($(ev log --json | wc -c) - N - 3))" "$(out | sed 's/.*"leaf_bytes":\([0-9]*\).*/\1/')"

# --- prove ----------------------------------------------------------------------------
t_ok "prove inclusion 5" "$EVIDENT" prove inclusion 5
t_like "prove inclusion: RFC 9162 fields, hex" '^\{"leaf_index":4,"tree_size":'$((N + 3))',"leaf_hash":"[0-9a-f]{64}","root":"[0-9a-f]{64}","proof":\["[0-9a-f]{64}"(,"[0-9a-f]{64}")*\]\}$' "$(out)"
out >"$T/incl.json"
t_ok "prove check on the inclusion proof file" "$EVIDENT" prove check "$T/incl.json"
t_like "prove check says it verifies" 'inclusion proof verifies' "$(out)"
t_ok "prove check --json" "$EVIDENT" --json prove check "$T/incl.json"
t_is "prove check --json" '{"ok":true,"type":"inclusion"}' "$(out)"
t_ok "prove inclusion 5 --size 9, checked from stdin" sh -c '"$1" prove inclusion 5 --size 9 | "$1" prove check -' sh "$EVIDENT"
t_ok "prove consistency 9 $N" "$EVIDENT" prove consistency 9 $N
t_like "prove consistency: fields" '^\{"size1":9,"size2":'$N',"root1":"[0-9a-f]{64}","root2":"[0-9a-f]{64}","proof":\[.*\]\}$' "$(out)"
t_is "prove consistency: root2 is the checkpoint's root" "$rootN" "$(out | sed 's/.*"root2":"\([0-9a-f]*\)".*/\1/')"
out >"$T/cons.json"
t_ok "prove check on the consistency proof" "$EVIDENT" prove check "$T/cons.json"
t_like "prove check says it verifies" 'consistency proof verifies' "$(out)"
sed 's/"size1":9/"size1":8/' "$T/cons.json" >"$T/cons-bad.json"
t_exit "prove check refuses it for another size" 3 "$EVIDENT" prove check "$T/cons-bad.json"
t_ok "prove consistency N N (empty proof)" "$EVIDENT" prove consistency 7 7
t_like "prove consistency N N: empty proof" '"proof":\[\]' "$(out)"
t_exit "prove inclusion beyond the ledger" 1 "$EVIDENT" prove inclusion 99
t_exit "prove consistency beyond the ledger" 2 "$EVIDENT" prove consistency 3 99

# --- --help everywhere ----------------------------------------------------------------
t_ok "evident --help" "$EVIDENT" --help
cmds=$(out | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
for c in init append log checkpoint verify prove; do
	grep -qx "$c" <<<"$cmds" || _report 1 "evident --help lists $c"
done
for c in $cmds; do
	t_ok "evident $c --help exits 0" "$EVIDENT" "$c" --help
	t_like "evident $c --help prints its usage" "^usage: evident $c" "$(out | head -n 1)"
done
t_exit "evident with no command: usage, exit 2" 2 "$EVIDENT"

# --- the private key never shows ------------------------------------------------------
cat "$EVIDENT_DATA/checkpoint" >/dev/null
priv_hex=$(openssl pkey -in "$EVIDENT_DATA/key.pem" -text -noout 2>/dev/null |
	awk '/^priv:/ { on = 1; next } /^pub:/ { on = 0 } on' | tr -d ' :\n')
t_is "the private key was read for the check (32 bytes)" 64 "${#priv_hex}"
priv_b64=$(printf "$(sed 's/../\\x&/g' <<<"$priv_hex")" | base64 -w0 | tr -d '=')
pem_body=$(grep -v '^-----' "$EVIDENT_DATA/key.pem" | tr -d '\n')
t_ok "some output was collected" test -s "$ALL"
t_ok "the private key (hex) appears in no output" sh -c '! tr -d ": \n" <"$1" | grep -qi "$2"' sh "$ALL" "$priv_hex"
t_ok "the private key (base64) appears in no output" sh -c '! tr -d "\n" <"$1" | grep -qF "$2"' sh "$ALL" "$priv_b64"
t_ok "the key file's PEM body appears in no output" sh -c '! tr -d "\n" <"$1" | grep -qF "$2"' sh "$ALL" "$pem_body"
t_ok "nor in the data directory's checkpoint file" sh -c '! grep -qiF "$2" "$1"' sh "$EVIDENT_DATA/checkpoint" "$priv_hex"
t_ok "the ledger still verifies" "$EVIDENT" verify
t_done
