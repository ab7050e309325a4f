#!/bin/bash
# bench/api.sh - the web API under load while syslog intake runs.
#
# A fresh data directory with 1,000 incidents; `evident serve` on loopback
# (web API + syslog TCP listener + rule pack + scheduler); a feeder sends
# syslog lines over TCP at a target rate (default 100,000 lines/s) while wrk
# hammers GET /api/incidents with a viewer's API token.  Afterwards the
# daemon is stopped with SIGTERM and every line sent is looked for in the
# ledger.  Prints requests/s, latency percentiles, the intake rate reached
# and lines lost (must be 0).
#
# Not a test.  wrk is installed with apt-get when missing.
#
#   bench/api.sh [BUILD_DIR] [SECONDS] [LINES_PER_SECOND]   (build, 20, 100000)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
SECS=${2:-20}
RATE=${3:-100000}
EV="$ROOT/$BUILD/evident"
[ -x "$EV" ] || { echo "bench: build $EV first (make BUILD=$BUILD)" >&2; exit 1; }
if ! command -v wrk >/dev/null 2>&1; then
	SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "bench: installing wrk with apt-get" >&2
	$SUDO apt-get install -y wrk >/dev/null 2>&1 ||
		{ $SUDO apt-get update >/dev/null 2>&1 && $SUDO apt-get install -y wrk >/dev/null; }
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/evident-bench.XXXXXX")
SERVE=
trap '[ -n "$SERVE" ] && kill $SERVE 2>/dev/null; rm -rf "$W"' EXIT
export EVIDENT_DATA="$W/data" EVIDENT_ACTOR=bench

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$EV" init >/dev/null
echo "bench: opening 1000 incidents" >&2
for i in $(seq 1000); do
	id=$("$EV" incident open --title "bench incident $i")
	if [ $((i % 3)) -eq 0 ]; then
		"$EV" incident classify "$id" --severity high --category availability \
			--significant yes --reason bench >/dev/null
	fi
done
"$EV" user add viewer --role viewer >/dev/null
TOKEN=$("$EV" token create --user viewer)
HP=$(free_port) SP=$(free_port)
"$EV" serve --listen "127.0.0.1:$HP" --syslog-tcp "127.0.0.1:$SP" --no-syslog-udp \
	--no-timesync --stats-every 5s 2>"$W/serve.err" &
SERVE=$!
for _ in $(seq 100); do grep -q ready "$W/serve.err" && break; sleep 0.1; done
before=$("$EV" --json verify | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')

cat >"$W/feed.py" <<'PY'
import socket, sys, time
port, rate, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
tick = 0.01
per_tick = max(1, int(rate * tick))
# 50 distinct chunks prepared up front, so the feeder's own cost stays low.
chunks = []
for c in range(50):
    chunks.append("".join(
        "<38>Nov 24 10:00:00 ca-01 sshd[%d]: Failed password for root from 198.51.100.%d "
        "port %d ssh2\n" % (1000 + (c * per_tick + i) % 5000, (c + i) % 250, (c * 7 + i) % 60000)
        for i in range(per_tick)).encode())
sent = 0
start = time.monotonic()
k = 0
while time.monotonic() - start < secs:
    s.sendall(chunks[k % len(chunks)])
    k += 1
    sent += per_tick
    behind = start + sent / rate - time.monotonic()
    if behind > 0:
        time.sleep(behind)
s.close()
elapsed = time.monotonic() - start
print("%d %.3f" % (sent, elapsed))
PY
python3 "$W/feed.py" "$SP" "$RATE" "$SECS" >"$W/feed.out" &
FEED=$!
sleep 1
wrk -t2 -c32 -d"$((SECS - 2))s" --latency -H "Authorization: Bearer $TOKEN" \
	"http://127.0.0.1:$HP/api/incidents" >"$W/wrk.out" 2>&1 || true
wait $FEED
read -r sent elapsed <"$W/feed.out"
kill -TERM $SERVE; wait $SERVE || true; SERVE=
logs=$("$EV" log --kind log | wc -l)
rps=$(awk '/Requests\/sec/ {print $2}' "$W/wrk.out")
p50=$(awk '$1=="50%" {print $2}' "$W/wrk.out")
p99=$(awk '$1=="99%" {print $2}' "$W/wrk.out")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$W/wrk.out")
echo "GET /api/incidents (1000 incidents), wrk -t2 -c32: ${rps} requests/s, p50 ${p50}, p99 ${p99}, non-2xx ${non2xx:-0}"
python3 - "$sent" "$elapsed" "$logs" <<'PY'
import sys
sent, elapsed, logs = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print("syslog over TCP: sent %d lines in %.1f s (%.0f lines/s offered); recorded %d; lines lost %d"
      % (sent, elapsed, sent / elapsed, logs, sent - logs))
PY
grep -E 'final' "$W/serve.err" | sed 's/^/serve: /'
"$EV" verify >/dev/null && echo "ledger verifies (${before} entries before the run)"
