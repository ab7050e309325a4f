#!/bin/bash
# t12-crash.sh - kill an appending evident with SIGKILL at random moments.
#
# `evident append --stdin --batch B` prints the last seq of each batch only
# after its transaction is durable.  Each round feeds the same JSON-lines
# file (6000 lines, body {"line":N,...}) with a random batch size, kills the
# process 5..100 ms later with SIGKILL, and then checks:
#   - every seq printed is in the ledger (the largest printed <= the size);
#   - what was printed is exactly base+B, base+2B, ... (one line per batch);
#   - batches are all or nothing: the round added a multiple of B entries,
#     at most one batch more than was printed (killed between commit and
#     print), and the last entry is input line (size - base) of this round;
#   - `evident verify` exits 0.
# Rounds go on until CRASH_KILLS (default 50) of them were killed mid-run (a
# round whose append finished first does not count), at most 4x as many.
# RANDOM is seeded (CRASH_SEED, printed) so a failing round can be replayed.
. "$(dirname "$0")/lib.sh"

SEED=${CRASH_SEED:-9162}
KILLS=${CRASH_KILLS:-50}
RANDOM=$SEED
echo "# seed $SEED (CRASH_SEED=$SEED reproduces), until $KILLS rounds were killed mid-run"
LINES=6000
BATCHES=(1 1 2 3 5 10 25 100 500)

t_ok "init" "$EVIDENT" init
awk -v n=$LINES 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"kind\":\"log\",\"subject\":\"crash\",\"actor\":\"t12\",\"body\":{\"line\":%d,\"msg\":\"sshd[%d]: Failed password for invalid user admin from 192.0.2.%d port %d ssh2\"}}\n", i, 1000 + i, i % 256, 40000 + i }' >"$T/in.jsonl"

size_of() { # the ledger size, from the newest entry (0 when empty)
	local l
	l=$("$EVIDENT" log --newest-first --limit 1 --json) || return 1
	l=$(sed -n 's/.*"seq":\([0-9]*\).*/\1/p' <<<"$l")
	echo "${l:-0}"
}
line_of_last() {
	"$EVIDENT" log --newest-first --limit 1 --json | sed -n 's/.*"body":{"line":\([0-9]*\).*/\1/p'
}

base=0 killed=0 finished=0 verify_bad=0 missing_bad=0 print_bad=0 atomic_bad=0 last_bad=0
r=0
while [ "$killed" -lt "$KILLS" ] && [ "$r" -lt $((4 * KILLS)) ]; do
	r=$((r + 1))
	B=${BATCHES[$((RANDOM % ${#BATCHES[@]}))]}
	ms=$((5 + RANDOM % 96))
	"$EVIDENT" append --stdin --batch "$B" <"$T/in.jsonl" >"$T/printed" 2>"$T/append.err" &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	rc=$?
	if [ "$rc" -eq 137 ]; then killed=$((killed + 1)); else finished=$((finished + 1)); fi
	if [ "$rc" -ne 137 ] && [ "$rc" -ne 0 ]; then
		echo "# round $r: append exited $rc: $(head -c 300 "$T/append.err")"
	fi
	# A line is printed with one write(2); drop a last line without its newline anyway.
	if [ -s "$T/printed" ] && [ "$(tail -c 1 "$T/printed" | od -An -c | tr -d ' ')" != '\n' ]; then
		sed -i '$d' "$T/printed"
	fi
	size=$(size_of)
	maxp=$(tail -n 1 "$T/printed")
	maxp=${maxp:-$base}
	nprinted=$(wc -l <"$T/printed")
	what="round $r (batch $B, kill after $ms ms, exit $rc): base $base, printed $nprinted up to $maxp, size $size"
	if [ -z "$size" ] || [ "$maxp" -gt "$size" ]; then
		echo "# $what: a printed seq is missing"
		missing_bad=$((missing_bad + 1))
	fi
	want=$(awk -v b="$base" -v B="$B" -v n="$nprinted" 'BEGIN { for (i = 1; i <= n; i++) print b + i * B }')
	if [ "$want" != "$(cat "$T/printed")" ]; then
		echo "# $what: printed $(head -c 200 "$T/printed" | tr '\n' ' ') but wanted one line per batch of $B"
		print_bad=$((print_bad + 1))
	fi
	added=$((size - base))
	if [ $((added % B)) -ne 0 ] || [ "$size" -lt "$maxp" ] || [ $((size - maxp)) -gt "$B" ]; then
		echo "# $what: not whole batches, or more than one batch committed but not printed"
		atomic_bad=$((atomic_bad + 1))
	fi
	if [ "$added" -gt 0 ] && [ "$(line_of_last)" != "$added" ]; then
		echo "# $what: the last entry is input line $(line_of_last), not $added"
		last_bad=$((last_bad + 1))
	fi
	if ! "$EVIDENT" --quiet verify >"$T/v.out" 2>"$T/v.err"; then
		echo "# $what: verify failed: $(cat "$T/v.err")"
		verify_bad=$((verify_bad + 1))
	fi
	base=$size
done
echo "# $killed rounds killed mid-run, $finished finished before the kill; $base entries in the end"
t_is "every printed seq is in the ledger after each of $r rounds" 0 "$missing_bad"
t_is "one printed line per committed batch, seq = base + k * batch" 0 "$print_bad"
t_is "batches are all or nothing, at most one committed but unprinted" 0 "$atomic_bad"
t_is "the last entry after each kill is the right input line" 0 "$last_bad"
t_is "verify exits 0 after each of $r rounds" 0 "$verify_bad"
t_ok "at least $KILLS rounds were killed by SIGKILL mid-run ($killed)" test "$killed" -ge "$KILLS"
t_ok "a checkpoint after the crashes" "$EVIDENT" checkpoint
t_ok "and the ledger still verifies" "$EVIDENT" --quiet verify
t_done
