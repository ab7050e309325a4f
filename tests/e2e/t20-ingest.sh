#!/bin/bash
# t20-ingest.sh - `evident ingest` end to end: a prepared auth log (sshd
# failures from one address, accepted logins, sudo, useradd, lines that are
# not syslog) raises the expected alerts with the built-in rule pack; every
# alert is an alert.raised entry whose log_seq names the lines that raised
# it; unparsed lines are stored raw and counted; invalid UTF-8 and overlong
# lines are kept; the summary and --json counts; auto-registration of an
# unknown source; bad input refused before anything is written; rebuild
# gives the same projections; verify passes.
. "$(dirname "$0")/lib.sh"
FIX="$EVIDENT_ROOT/tests/fixtures/ingest"
export EVIDENT_RULES="$EVIDENT_ROOT/rules"
E="$EVIDENT"
jq_ok() { command -v jq >/dev/null; }
py() { python3 -c "$@"; }

t_ok "init" "$E" init
t_ok "register the auth source" "$E" sources add auth --category security-events --category user-admin --description "sshd, sudo, useradd"

# --- the auth log ---------------------------------------------------------------
t_ok "ingest the auth log" "$E" --json ingest --source auth "$FIX/auth.log"
t_is "exact JSON summary" '{"lines":22,"parsed":20,"unparsed":2,"alerts":'"$(out | sed 's/.*"alerts":\([0-9]*\)}/\1/')"'}' "$(out)"
t_like "summary has the four counts" '^\{"lines":22,"parsed":20,"unparsed":2,"alerts":[0-9]+\}$' "$(out)"
ALERTS=$(out | sed 's/.*"alerts":\([0-9]*\)}/\1/')
t_like "at least three alerts (brute force, sudo, useradd)" '^([3-9]|[1-9][0-9]+)$' "$ALERTS"
t_is "no warning: the source was registered" "" "$(err)"

"$E" --json log --kind alert.raised >"$T/alerts.jsonl"
t_is "every alert counted is an alert.raised entry" "$ALERTS" "$(wc -l <"$T/alerts.jsonl")"
t_is "22 log entries" 22 "$("$E" log --kind log | wc -l)"

# The brute-force correlation: five failures from 203.0.113.77 within 5 minutes.
BF=$(grep -F '"rule":"1a61e24d-9df7-4170-90b5-ffae8aacd11f"' "$T/alerts.jsonl" | head -1)
t_like "ssh brute force alert raised" '"title":"Repeated SSH authentication failures from one address"' "$BF"
t_like "grouped by the attacking address" '"group":"src_ip=203.0.113.77"' "$BF"
t_like "actor is rule:<id>" '"actor":"rule:1a61e24d-9df7-4170-90b5-ffae8aacd11f"' "$BF"
t_like "subject alerts, severity high, source auth" '"severity":"high","source":"auth"' "$BF"
SEQS=$(echo "$BF" | py 'import json,sys; print(" ".join(map(str, json.loads(sys.stdin.read())["body"]["log_seq"])))')
t_is "five contributing lines" 5 "$(echo "$SEQS" | wc -w)"
okseq=0
for s in $SEQS; do
	"$E" --json log --kind log --limit 1 --json >/dev/null
	line=$("$E" --json log --kind log | py "import json,sys
for l in sys.stdin:
    e=json.loads(l)
    if e['seq']==$s: print(e['body']['raw'])")
	case "$line" in *"Failed password"*"from 203.0.113.77"*) okseq=$((okseq + 1)) ;; esac
done
t_is "each log_seq is a failed login from 203.0.113.77" 5 "$okseq"
t_like "sudo alert raised" '"title":"Command run as root through sudo"' "$(cat "$T/alerts.jsonl")"
t_like "useradd alert raised" '"title":"User, group or password administration"' "$(cat "$T/alerts.jsonl")"

# The alerts projection lists exactly the ledger's alert.raised entries, ids = seqs.
ids_ledger=$(py 'import json,sys
print(" ".join(str(json.loads(l)["seq"]) for l in open(sys.argv[1])))' "$T/alerts.jsonl")
ids_proj=$("$E" --json alerts | py 'import json,sys; print(" ".join(str(a["id"]) for a in json.load(sys.stdin)["alerts"]))')
t_is "alert ids are the alert.raised seqs" "$ids_ledger" "$ids_proj"

# --- unparsed lines: stored raw, flagged, counted ---------------------------------
"$E" --json log --kind log >"$T/logs.jsonl"
t_is "two entries flagged parsed:false" 2 "$(grep -c '"parsed":false' "$T/logs.jsonl")"
t_like "the raw text of an unparsed line is kept" '"raw":"this line is not syslog at all"' "$(grep -F 'not syslog at all' "$T/logs.jsonl")"
t_like "an unparsed line says why" '"error":"[^"]+"' "$(grep -F 'not syslog at all' "$T/logs.jsonl")"
t_like "control characters kept, escaped" '"raw":"<<<garbage>>> \\u0001\\u0002"' "$(grep -F 'garbage' "$T/logs.jsonl")"
t_like "parsed lines carry fields and event_time" '"event_time":"2026-11-24T10:00:00.000000Z","fields":\{"app":"sshd"' "$(head -1 "$T/logs.jsonl")"
t_like "log actor is source:auth" '"actor":"source:auth"' "$(head -1 "$T/logs.jsonl")"

# --- human summary, stdin, auto-registration --------------------------------------
printf 'Nov 24 11:00:00 h1 sshd[9]: Accepted password for carol from 10.1.1.1 port 2 ssh2\nnot syslog\n' >"$T/two.log"
t_ok "ingest from stdin" sh -c "\"$E\" --actor t20-tester ingest --source stdin-src --no-rules < \"$T/two.log\""
t_is "text summary" "lines 2, parsed 1, unparsed 1, alerts 0" "$(out)"
t_like "unknown source auto-registered with a warning" "source 'stdin-src' was not in the inventory: registered it with no categories" "$(err)"
t_like "the auto-registration is an entry" '"auto":true,"categories":\[\]' "$("$E" --json log --kind source.registered --subject stdin-src)"
t_like "--actor names who fed the lines" '"actor":"t20-tester"' "$("$E" --json log --kind log --subject stdin-src | head -1)"

# --- --timezone: RFC 3164 local times -------------------------------------------------
printf 'Nov 24 10:00:00 h app[1]: local time in Paris\n' >"$T/tz.log"
t_ok "ingest with --timezone Europe/Paris" "$E" ingest --source tz --no-rules --timezone Europe/Paris "$T/tz.log"
t_like "10:00 in Paris is 09:00 UTC in November" '"event_time":"20[0-9][0-9]-11-24T09:00:00.000000Z"' "$("$E" --json log --kind log --subject tz)"

# --- JSON lines -------------------------------------------------------------------
printf '{"user":{"name":"dave"},"action":"login","ts":"2026-11-24T12:00:00Z"}\n{broken\n' >"$T/j.log"
t_ok "ingest JSON lines" "$E" --json ingest --source app-json --format json --no-rules "$T/j.log"
t_is "one parsed, one not" '{"lines":2,"parsed":1,"unparsed":1,"alerts":0}' "$(out)"
t_like "JSON fields flattened" '"user.name":"dave"' "$("$E" --json log --kind log --subject app-json | head -1)"

# --- invalid UTF-8 and an overlong line ---------------------------------------------
printf 'Nov 24 11:00:01 h1 app[1]: bad byte \xff\xfe here\n' >"$T/bin.log"
head -c 70000 /dev/zero | tr '\0' 'x' >>"$T/bin.log"
printf '\nafter the long one\n' >>"$T/bin.log"
t_ok "ingest invalid UTF-8 and a 70000-byte line" "$E" --json ingest --source odd --no-rules "$T/bin.log"
t_like "three lines, none dropped" '^\{"lines":3,' "$(out)"
t_like "the overlong line is reported" "stored cut" "$(err)"
"$E" --json log --subject odd --kind log >"$T/odd.jsonl"
B64=$(head -1 "$T/odd.jsonl" | py 'import json,sys; print(json.loads(sys.stdin.read())["body"]["raw_base64"])')
t_is "raw_base64 keeps the exact bytes" "$(head -1 "$T/bin.log" | head -c -1 | base64 -w0)" "$B64"
t_like "invalid bytes shown as U+FFFD in raw" 'bad byte �� here' "$(head -1 "$T/odd.jsonl")"
t_like "the long line is flagged truncated with its length" '"parsed":false,.*"truncated":70000' "$(sed -n 2p "$T/odd.jsonl")"
# A ledger entry holds at most 65535 bytes (one C2SP bundle entry): the line is cut to fit.
t_is "cut to fit one ledger entry, at most 65535 bytes" "ok" "$(sed -n 2p "$T/odd.jsonl" | py 'import json,sys; l=sys.stdin.read().rstrip("\n"); r=json.loads(l)["body"]["raw"]; print("ok" if 40000 < len(r) < 65536 and set(r) == {"x"} and len(l.encode()) <= 65535 else "bad %d %d" % (len(r), len(l)))')"
t_like "the line after it is intact" '"raw":"after the long one"' "$(sed -n 3p "$T/odd.jsonl")"
# 40000 bytes: whole, but too long to store twice (raw and the parsed message).
{ printf 'Nov 24 11:00:02 h1 app[1]: '; head -c 40000 /dev/zero | tr '\0' 'y'; printf '\n'; } >"$T/long.log"
t_ok "ingest a 40000-byte syslog line" "$E" --json ingest --source long --no-rules "$T/long.log"
t_is "stored whole, without its parsed fields" "ok" "$("$E" --json log --subject long --kind log | py 'import json,sys; l=sys.stdin.read().rstrip("\n"); b=json.loads(l)["body"]; print("ok" if len(b["raw"]) == 40027 and b["fields"] == {} and "truncated" not in b and "parsed fields" in b["error"] else "bad")')"

# --- custom rules -------------------------------------------------------------------
cat >"$T/rule.yml" <<'EOF'
title: Test keyword
id: 11111111-2222-3333-4444-555555555555
logsource:
    product: linux
detection:
    keywords:
        - 'magic-word'
    condition: keywords
level: critical
tags:
    - test.tag
EOF
printf 'Nov 24 11:00:02 h1 app[1]: the magic-word appears\nNov 24 11:00:03 h1 app[1]: nothing\n' >"$T/m.log"
t_ok "ingest with --rules FILE" "$E" --json ingest --source custom --rules "$T/rule.yml" "$T/m.log"
t_is "one alert from the custom rule" '{"lines":2,"parsed":2,"unparsed":0,"alerts":1}' "$(out)"
t_like "custom alert body" '"rule":"11111111-2222-3333-4444-555555555555","severity":"critical","source":"custom","tags":\["test.tag"\],"title":"Test keyword"' "$("$E" --json log --kind alert.raised | tail -1)"

# --- bad input: nothing recorded -------------------------------------------------------
before=$("$E" log | wc -l)
t_exit "missing --source is a usage error" 2 "$E" ingest "$FIX/auth.log"
t_exit "invalid source name" 2 "$E" ingest --source 'bad name!' "$FIX/auth.log"
t_exit "unknown format" 2 "$E" ingest --source auth --format xml "$FIX/auth.log"
t_exit "a missing file refuses everything (exit 2)" 2 "$E" ingest --source auth "$FIX/auth.log" "$T/nope.log"
t_like "names the file" "nope.log" "$(err)"
t_exit "rules that do not exist" 2 "$E" ingest --source auth --rules "$T/no-rules-here" "$FIX/auth.log"
t_is "nothing was written by the refused commands" "$before" "$("$E" log | wc -l)"

# --- projections rebuild to the same state; the ledger verifies ---------------------------
a1=$("$E" --json alerts)
s1=$("$E" --json sources list)
if "$E" rebuild --help >/dev/null 2>&1; then
	t_ok "rebuild" "$E" rebuild
	t_is "alerts identical after rebuild" "$a1" "$("$E" --json alerts)"
	t_is "sources identical after rebuild" "$s1" "$("$E" --json sources list)"
fi
t_ok "verify passes" "$E" verify
t_done
