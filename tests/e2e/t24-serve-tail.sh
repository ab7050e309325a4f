#!/bin/bash
# t24-serve-tail.sh - `evident serve --tail SOURCE=PATH` follows a file
# across rotation: rename + create (logrotate's default) and copytruncate,
# including a truncated file rewritten past its old size before the daemon
# looks; a file that does not exist yet is picked up when it appears; an
# existing file is followed from its end (or its start with
# --tail-from-start); a partial last line is completed on shutdown.  Every
# line written is in the ledger exactly once, also across a daemon restart
# (positions kept in DATA/tails.state).
. "$(dirname "$0")/lib.sh"
E="$EVIDENT"
wait_ready() {
	for _ in $(seq 300); do grep -q "ready:" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
wait_lines() { # source count
	for _ in $(seq 300); do
		[ "$("$E" log --kind log --subject "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
L="$T/logs"
mkdir -p "$L"

t_ok "init" "$E" init
printf 'old line before the daemon started\n' >"$L/app.log"
printf 'history 1\nhistory 2\n' >"$L/hist.log"
"$E" serve --no-syslog-udp --no-syslog-tcp --no-rules --tail "app=$L/app.log" \
	--tail "late=$L/late.log" 2>"$T/serve.err" &
SPID=$!
PIDS+=("$SPID")
t_ok "serve with two tails" wait_ready "$T/serve.err"
t_like "a missing file is waited for" "late.log does not exist yet" "$(cat "$T/serve.err")"

for i in 1 2 3; do echo "before rotation $i" >>"$L/app.log"; done
t_ok "lines appended are recorded" wait_lines app 3
# logrotate's default: rename, then create
mv "$L/app.log" "$L/app.log.1"
echo "written to the old file after the rename" >>"$L/app.log.1"
echo "first line of the new file" >"$L/app.log"
echo "second line of the new file" >>"$L/app.log"
t_ok "rename + create: both files read" wait_lines app 6
# copytruncate, then new lines shorter than the old size
cp "$L/app.log" "$L/app.log.2"
: >"$L/app.log"
sleep 0.3
echo "after truncate" >>"$L/app.log"
t_ok "copytruncate: new content read from the start" wait_lines app 7
# copytruncate, then more than the old size written before the daemon looks
cp "$L/app.log" "$L/app.log.3"
: >"$L/app.log"
echo "rewritten past the old size at once, long enough to pass it" >>"$L/app.log"
t_ok "truncate + rewrite past the old offset detected" wait_lines app 8
echo "late file line" >"$L/late.log"
t_ok "a file that appears later is read from its start" wait_lines late 1
printf 'partial last line without newline' >>"$L/app.log"
sleep 0.3
kill -TERM "$SPID"
wait "$SPID"
t_is "clean exit" 0 $?

"$E" log --kind log --subject app | cut -f6 >"$T/app.bodies"
t_is "nine lines from app" 9 "$(wc -l <"$T/app.bodies")"
for want in "before rotation 1" "before rotation 2" "before rotation 3" \
	"written to the old file after the rename" "first line of the new file" \
	"second line of the new file" '"raw":"after truncate"' "rewritten past the old size at once" \
	"partial last line without newline"; do
	t_is "once: $want" 1 "$(grep -cF "$want" "$T/app.bodies")"
done
t_is "the line before start is not re-read" 0 "$(grep -c 'old line before the daemon' "$T/app.bodies")"
FINAL=$(grep "final:" "$T/serve.err")
t_like "stats count tail lines" "tail 10;" "$FINAL"

# A restart resumes where the last commit ended: lines written while the
# daemon was down are recorded, nothing is recorded twice.
echo "written while the daemon was down" >>"$L/app.log"
"$E" serve --no-syslog-udp --no-syslog-tcp --no-rules --tail "app=$L/app.log" 2>"$T/serve3.err" &
SPID=$!
PIDS+=("$SPID")
t_ok "restart" wait_ready "$T/serve3.err"
t_like "says it resumes" "tail $L/app.log: resuming at byte" "$(cat "$T/serve3.err")"
t_ok "the line written while down is recorded" wait_lines app 10
echo "after the restart" >>"$L/app.log"
t_ok "and new lines keep coming" wait_lines app 11
kill -TERM "$SPID"
wait "$SPID"
"$E" log --kind log --subject app | cut -f6 >"$T/app.bodies2"
t_is "eleven lines, none twice" 11 "$(sort -u "$T/app.bodies2" | wc -l)"
t_is "no duplicates" "$(wc -l <"$T/app.bodies2")" "$(sort -u "$T/app.bodies2" | wc -l)"

# --tail-from-start reads an existing file whole
"$E" serve --no-syslog-udp --no-syslog-tcp --no-rules --tail-from-start --tail "hist=$L/hist.log" 2>"$T/serve2.err" &
SPID=$!
PIDS+=("$SPID")
wait_ready "$T/serve2.err"
t_ok "--tail-from-start reads history" wait_lines hist 2
kill -TERM "$SPID"
wait "$SPID"
t_ok "verify" "$E" verify
t_done
