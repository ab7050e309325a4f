#!/bin/bash
# t13-bad-input.sh - bad input gets one clear line on stderr, exit 1 or 2,
# and nothing is written: malformed JSON bodies (options and --stdin),
# invalid kinds, unknown options and commands, a missing data directory, a
# read-only data directory, and a corrupt or exposed signing key.  After each
# refusal the ledger still has the same entries (counted with `evident log`)
# and still verifies.
. "$(dirname "$0")/lib.sh"

count() { "$EVIDENT" log 2>/dev/null | wc -l; }
# refused WHAT STATUS CMD...: exit STATUS, exactly one line on stderr naming
# the command, nothing on stdout, and the ledger unchanged.
refused() {
	local what=$1 want=$2 before
	shift 2
	before=$(count)
	t_exit "$what: exit $want" "$want" "$@"
	local lines
	lines=$(err | wc -l)
	t_is "$what: one line on stderr ($(err | head -n 1 | cut -c1-100))" 1 "$lines"
	t_like "$what: the line starts with 'evident:'" '^evident: ' "$(err)"
	t_is "$what: nothing written (ledger size $before)" "$before" "$(count)"
}

t_ok "init" "$EVIDENT" init
t_ok "append a first entry" "$EVIDENT" append --kind log --subject s1 --body '{"a":1}'
t_ok "checkpoint" "$EVIDENT" checkpoint

# --- malformed bodies, one entry ---------------------------------------------
refused "truncated JSON body" 2 "$EVIDENT" append --kind log --subject s --body '{"a":'
t_like "truncated JSON body: says JSON" 'JSON|json' "$(err)"
refused "body is an array" 2 "$EVIDENT" append --kind log --subject s --body '[1,2]'
refused "body is a string" 2 "$EVIDENT" append --kind log --subject s --body '"text"'
refused "body is a number" 2 "$EVIDENT" append --kind log --subject s --body '42'
refused "empty body" 2 "$EVIDENT" append --kind log --subject s --body ''
refused "duplicate keys in the body" 2 "$EVIDENT" append --kind log --subject s --body '{"a":1,"a":2}'
refused "trailing garbage after the body" 2 "$EVIDENT" append --kind log --subject s --body '{"a":1} x'
refused "invalid UTF-8 in the body" 2 "$EVIDENT" append --kind log --subject s --body "$(printf '{"a":"\xff\xfe"}')"
refused "kind with capitals and a space" 2 "$EVIDENT" append --kind 'Bad Kind' --subject s --body '{}'
refused "kind with an empty segment" 2 "$EVIDENT" append --kind 'incident..opened' --subject s --body '{}'
refused "subject with a control character" 2 "$EVIDENT" append --kind log --subject "$(printf 'a\tb')" --body '{}'
refused "append without --body" 2 "$EVIDENT" append --kind log --subject s

# --- malformed lines with --stdin: the whole batch is refused ----------------
printf '%s\n' '{"kind":"log","subject":"s","body":{"n":1}}' \
	'{"kind":"log","subject":"s","body":{"n":2}}' \
	'{"kind":"log","subject":"s","body":{"n":3' >"$T/bad1.jsonl"
refused "--stdin: line 3 is truncated JSON" 2 "$EVIDENT" append --stdin <"$T/bad1.jsonl"
t_like "--stdin: the error names line 3" 'line 3' "$(err)"
printf '%s\n' '{"kind":"log","subject":"s","body":{"n":1}}' \
	'{"kind":"log","subject":"s","body":[1]}' >"$T/bad2.jsonl"
refused "--stdin: a body that is not an object" 2 "$EVIDENT" append --stdin <"$T/bad2.jsonl"
printf '%s\n' '{"kind":"log","body":{"n":1}}' >"$T/bad3.jsonl"
refused "--stdin: a line without subject" 2 "$EVIDENT" append --stdin <"$T/bad3.jsonl"
printf '%s\n' '[1,2,3]' >"$T/bad4.jsonl"
refused "--stdin: a line that is not an object" 2 "$EVIDENT" append --stdin <"$T/bad4.jsonl"
printf '%s\n' '{"kind":"log","subject":"s","subject":"t","body":{}}' >"$T/bad5.jsonl"
refused "--stdin: duplicate keys on a line" 2 "$EVIDENT" append --stdin <"$T/bad5.jsonl"
printf '%s\n' '{"kind":"Log!","subject":"s","body":{}}' >"$T/bad6.jsonl"
refused "--stdin: an invalid kind" 2 "$EVIDENT" append --stdin <"$T/bad6.jsonl"

# A bad line after a committed batch: the earlier batch stays, the bad one is refused.
before=$(count)
printf '%s\n' '{"kind":"log","subject":"s","body":{"n":1}}' '{"kind":"log","subject":"s","body":{"n":2}}' \
	'{"kind":"log","subject":"s","body":{"n":3}}' 'not json' >"$T/bad7.jsonl"
t_exit "--stdin --batch 2: a bad line in the second batch exits 2" 2 "$EVIDENT" append --stdin --batch 2 <"$T/bad7.jsonl"
t_is "--stdin --batch 2: the first batch was printed (its seq)" "$((before + 2))" "$(out)"
t_is "--stdin --batch 2: exactly the first batch was recorded" "$((before + 2))" "$(count)"
t_like "--stdin --batch 2: stderr says what was recorded" "up to seq $((before + 2))" "$(err)"

# --- unknown options and commands ---------------------------------------------
refused "unknown option of a command" 2 "$EVIDENT" append --bogus
refused "unknown global option" 2 "$EVIDENT" --bogus log
refused "a short option" 2 "$EVIDENT" log -k log
refused "option without its value" 2 "$EVIDENT" log --limit
refused "--limit 0" 2 "$EVIDENT" log --limit 0
refused "--limit not a number" 2 "$EVIDENT" log --limit ten
refused "--since not a time" 2 "$EVIDENT" log --since yesterday-ish
refused "--batch 0" 2 "$EVIDENT" append --stdin --batch 0
refused "a flag given a value" 2 "$EVIDENT" append --stdin=yes
refused "unknown command" 2 "$EVIDENT" frobnicate
refused "prove without a proof kind" 2 "$EVIDENT" prove
refused "prove inclusion 0" 2 "$EVIDENT" prove inclusion 0
refused "prove consistency 5 2" 2 "$EVIDENT" prove consistency 5 2
refused "verify with an argument" 2 "$EVIDENT" verify extra

# --- a missing data directory --------------------------------------------------
for cmd in "log" "verify" "checkpoint" "append --kind log --subject s --body {}"; do
	# shellcheck disable=SC2086
	refused "missing data directory: $cmd" 1 "$EVIDENT" --data "$T/nowhere" $cmd
	t_like "missing data directory: $cmd: names the directory" "$T/nowhere" "$(err)"
	t_ok "missing data directory: $cmd: did not create it" test ! -e "$T/nowhere"
done
mkdir "$T/empty"
refused "a directory that was never initialised" 1 "$EVIDENT" --data "$T/empty" log
t_like "never initialised: suggests evident init" 'evident init' "$(err)"
t_is "never initialised: nothing created in it" "" "$(ls -A "$T/empty")"

# --- a read-only data directory ----------------------------------------------
# Root ignores file modes, so make the directory read-only with a read-only
# bind mount in a private mount namespace (unshare -m), when that is allowed.
ro_run() { # CMD... inside a namespace where $EVIDENT_DATA is mounted read-only
	unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
		sh "$EVIDENT_DATA" "$@"
}
if unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && ! touch "$1/.w"' \
	sh "$EVIDENT_DATA" 2>/dev/null; then
	refused "read-only data directory: append" 1 ro_run "$EVIDENT" append --kind log --subject s --body '{"a":2}'
	t_like "read-only data directory: append says so" 'read-?only|not writable' "$(err)"
	printf '%s\n' '{"kind":"log","subject":"s","body":{"n":1}}' >"$T/one.jsonl"
	refused "read-only data directory: append --stdin" 1 ro_run "$EVIDENT" append --stdin <"$T/one.jsonl"
	refused "read-only data directory: checkpoint" 1 ro_run "$EVIDENT" checkpoint
	t_like "read-only data directory: checkpoint says so" 'read-?only|not writable' "$(err)"
	# An assessor's copy on read-only media must still be readable and verifiable.
	t_ok "read-only data directory: verify reads it" ro_run "$EVIDENT" verify
	t_ok "read-only data directory: log reads it" ro_run "$EVIDENT" log --json
	t_is "read-only data directory: log shows every entry" "$("$EVIDENT" log --json | wc -l)" "$(out | wc -l)"
else
	_n=$((_n + 1))
	echo "ok $_n - # SKIP read-only data directory: unshare -m with a read-only bind mount is not permitted here"
fi

# --- a corrupt or exposed signing key ----------------------------------------
cp -p "$EVIDENT_DATA/key.pem" "$T/key.pem.good"
printf 'this is not a key\n' >"$EVIDENT_DATA/key.pem"
refused "garbage key file: checkpoint" 1 "$EVIDENT" checkpoint
t_like "garbage key file: the message names the key file" 'key\.pem' "$(err)"
head -c 60 "$T/key.pem.good" >"$EVIDENT_DATA/key.pem"
refused "truncated key file: checkpoint" 1 "$EVIDENT" checkpoint
sed 's/[A-Za-z]/A/g' "$T/key.pem.good" >"$EVIDENT_DATA/key.pem"
refused "key file with a mangled body: checkpoint" 1 "$EVIDENT" checkpoint
: >"$EVIDENT_DATA/key.pem"
refused "empty key file: checkpoint" 1 "$EVIDENT" checkpoint
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$EVIDENT_DATA/key.pem" 2>/dev/null &&
	refused "a P-256 key instead of Ed25519: checkpoint" 1 "$EVIDENT" checkpoint
cp -p "$T/key.pem.good" "$EVIDENT_DATA/key.pem"
chmod 0644 "$EVIDENT_DATA/key.pem"
refused "key file readable by others: checkpoint" 1 "$EVIDENT" checkpoint
t_like "key file readable by others: says chmod 600" 'chmod 600' "$(err)"
chmod 0600 "$EVIDENT_DATA/key.pem"
rm "$EVIDENT_DATA/key.pem"
refused "key file missing: checkpoint" 1 "$EVIDENT" checkpoint
cp -p "$T/key.pem.good" "$EVIDENT_DATA/key.pem"
cp -p "$EVIDENT_DATA/key.pub" "$T/key.pub.good"
printf 'garbage\n' >"$EVIDENT_DATA/key.pub"
refused "garbage public key file: checkpoint" 1 "$EVIDENT" checkpoint
t_like "garbage public key file: the message names it" 'key\.pub' "$(err)"
# key.pub of another installation: signing must not record a checkpoint that
# could never verify (the ledger is append-only: it would stay for good).
"$EVIDENT" --data "$T/other" init >/dev/null
cp "$T/other/key.pub" "$EVIDENT_DATA/key.pub"
refused "key.pub of another installation: checkpoint" 1 "$EVIDENT" checkpoint
t_like "key.pub of another installation: says they do not match" 'does not match' "$(err)"
cp -p "$T/key.pub.good" "$EVIDENT_DATA/key.pub"
t_ok "with the key restored, checkpoint works again" "$EVIDENT" checkpoint
t_ok "and after all of that the ledger verifies" "$EVIDENT" verify
t_like "with exactly the entries that were accepted" "ok: $(count) entries" "$(out)"
t_done
