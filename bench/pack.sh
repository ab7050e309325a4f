#!/bin/bash
# bench/pack.sh [BUILD] [TOTAL] [SELECTED] - export a pack of SELECTED entries
# out of a ledger of TOTAL (default 1,000,000 and 1,000) and report the time
# of `evident pack export` alone (and of `pack verify`).  The selection is by
# time: the last SELECTED entries are appended after a recorded instant, so
# the export narrows the range by binary search on time, as a quarter's pack
# out of a long ledger would.  Not a timed test: the goal is under 5 s on
# one core.  The ledger is kept in $BENCH_DIR (default /tmp/evident-bench-pack)
# and reused when it already has TOTAL + SELECTED entries.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
TOTAL=${2:-1000000}
SEL=${3:-1000}
E="$ROOT/$BUILD/evident"
DIR=${BENCH_DIR:-/tmp/evident-bench-pack}
export EVIDENT_DATA="$DIR/data"
[ -x "$E" ] || { echo "bench/pack.sh: build $E first (make BUILD=$BUILD)" >&2; exit 1; }

gen() { # N PREFIX
	python3 - "$1" "$2" <<'PY'
import json, sys
n, p = int(sys.argv[1]), sys.argv[2]
w = sys.stdout.write
for i in range(n):
    if p == "sel" and i % 10 == 0:
        w('{"kind":"alert.raised","subject":"alert-%d","body":{"rule":"ssh-bruteforce","level":"high"}}\n' % i)
    else:
        w('{"kind":"log","subject":"src-%d","body":{"line":"%s event %d status=ok user=svc"}}\n' % (i % 50, p, i))
PY
}

ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
have=0
if [ -f "$DIR/mark" ] && [ -f "$EVIDENT_DATA/evident.db" ]; then
	have=$(sqlite3 "$EVIDENT_DATA/evident.db" "SELECT count(*) FROM entries WHERE kind IN ('log','alert.raised')" 2>/dev/null || echo 0)
fi
if [ "$have" -ne "$TOTAL" ]; then
	rm -rf "$DIR"; mkdir -p "$DIR"
	"$E" init >/dev/null
	echo "bench: appending $((TOTAL - SEL)) entries ..." >&2
	start=$(ms)
	gen $((TOTAL - SEL)) bulk | "$E" append --stdin --quiet >/dev/null
	sleep 0.01
	date -u +%Y-%m-%dT%H:%M:%S.%6NZ >"$DIR/mark"
	sleep 0.01
	gen "$SEL" sel | "$E" append --stdin --quiet >/dev/null
	echo "bench: appended $TOTAL entries in $(secs $(($(ms) - start))) s" >&2
fi
from=$(cat "$DIR/mark")
rm -f "$DIR/pack.tar.gz"
start=$(ms)
"$E" pack export --quiet --from "$from" --to now --out "$DIR/pack.tar.gz" >"$DIR/export.out"
t_export=$(secs $(($(ms) - start)))
start=$(ms)
"$E" pack verify "$DIR/pack.tar.gz" >/dev/null
t_verify=$(secs $(($(ms) - start)))
entries=$(head -1 "$DIR/export.out" | sed 's/.*: \([0-9]*\) entries/\1/')
size=$(stat -c %s "$DIR/pack.tar.gz")
printf 'pack export: %s entries selected out of %s in %s s (pack %d bytes); pack verify %s s\n' \
	"$entries" "$(sqlite3 "$EVIDENT_DATA/evident.db" 'SELECT max(seq) FROM entries')" "$t_export" "$size" "$t_verify"
