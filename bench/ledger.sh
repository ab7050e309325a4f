#!/bin/bash
# bench/ledger.sh [BUILD] [N] [BATCH] - ledger throughput against the SHA-256
# limit of this machine, measured in the same run.
#
#   1. append N entries (default 1,000,000) of ~200-byte JSON bodies with
#      `evident append --stdin --batch BATCH` (default 10,000) from a file
#      generated beforehand (generation is not timed): entries/s;
#   2. `evident --json verify` (recomputes every leaf hash, the whole tree,
#      every checkpoint): entries/s and leaf bytes/s, from its own leaf_bytes
#      and seconds, and the wall time of the whole command;
#   3. `openssl dgst -sha256` over exactly those leaf bytes (`evident log
#      --json` with the newlines removed; best of 3, file in the page cache):
#      bytes/s, and verify's leaf throughput as a share of it;
#   4. inclusion proofs: bench/proof_latency.c (built here against
#      BUILD/libevident.a) times 10,000 random proofs in process: p50, p99.
#   Also the data directory's size, and bytes per entry.
#
# Goals: append >= 200,000 entries/s; verify >= 50% of the SHA-256 limit;
# inclusion proof p99 < 1 ms on a 10,000,000-entry ledger
# (bench/ledger.sh build 10000000).
# Not a timed test.  BENCH_KIND sets the entries' kind (default "log", which
# the log-source projector also indexes; "bench.event" has no projector).
# Works in $BENCH_DIR (default /tmp/evident-bench-ledger, removed at the end
# unless BENCH_KEEP=1).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
N=${2:-1000000}
BATCH=${3:-10000}
KIND=${BENCH_KIND:-log}
E="$ROOT/$BUILD/evident"
DIR=${BENCH_DIR:-/tmp/evident-bench-ledger}
export EVIDENT_DATA="$DIR/data"
[ -x "$E" ] || { echo "bench/ledger.sh: build $E first (make BUILD=$BUILD)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench/ledger.sh: needs openssl" >&2; exit 1; }

now() { echo "${EPOCHREALTIME/,/.}"; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

rm -rf "$DIR"
mkdir -p "$DIR"
"$E" --quiet init >/dev/null

echo "== generating $N JSON lines (kind $KIND, ~200-byte bodies)"
awk -v n="$N" -v kind="$KIND" 'BEGIN {
	split("auth authpriv daemon kern local0 cron", fac, " ")
	split("info notice warning err", sev, " ")
	for (i = 1; i <= n; i++) {
		h = i % 64; p = 1000 + i % 30000
		printf "{\"kind\":\"%s\",\"subject\":\"web-%02d\",\"actor\":\"ingest\",\"body\":{\"facility\":\"%s\",\"host\":\"web-%02d.example.net\",\"msg\":\"sshd[%d]: Failed password for invalid user admin from 192.0.2.%d port %d ssh2\",\"pid\":%d,\"received\":\"2026-11-24T12:%02d:%02d.%06dZ\",\"severity\":\"%s\"}}\n",
			kind, h, fac[i % 6 + 1], h, p, i % 256, 30000 + i % 30000, p, (i / 60) % 60, i % 60, i % 1000000, sev[i % 4 + 1]
	}
}' >"$DIR/in.jsonl"
body=$(head -n 1 "$DIR/in.jsonl" | sed 's/.*"body"://; s/}$//')
echo "   $(wc -c <"$DIR/in.jsonl") bytes of input; a body is ${#body} bytes"

echo "== append --stdin --batch $BATCH"
t0=$(now)
"$E" --quiet append --stdin --batch "$BATCH" <"$DIR/in.jsonl" >"$DIR/append.out"
t1=$(now)
app_s=$(sub "$t1" "$t0")
last=$(tail -n 1 "$DIR/append.out")
[ "$last" = "$N" ] || { echo "bench/ledger.sh: append ended at seq $last, not $N" >&2; exit 1; }
"$E" --quiet checkpoint >/dev/null
dsize=$(du -sb "$EVIDENT_DATA" | cut -f1)
echo "   $N entries in $app_s s: $(rate "$N" "$app_s") entries/s; data directory $dsize bytes ($(rate "$dsize" "$N") bytes an entry)"

echo "== verify"
t0=$(now)
"$E" --quiet --json verify >"$DIR/verify.json"
t1=$(now)
v_wall=$(sub "$t1" "$t0")
v=$(cat "$DIR/verify.json")
v_ok=$(sed 's/.*"ok":\([a-z]*\).*/\1/' <<<"$v")
v_n=$(sed 's/.*"entries":\([0-9]*\).*/\1/' <<<"$v")
v_bytes=$(sed 's/.*"leaf_bytes":\([0-9]*\).*/\1/' <<<"$v")
v_s=$(sed 's/.*"seconds":\([0-9.]*\).*/\1/' <<<"$v")
[ "$v_ok" = true ] || { echo "bench/ledger.sh: verify failed: $v" >&2; exit 1; }
echo "   $v_n entries, $v_bytes leaf bytes in $v_s s (command: $v_wall s):" \
	"$(rate "$v_n" "$v_s") entries/s, $(awk -v b="$v_bytes" -v s="$v_s" 'BEGIN { printf "%.0f", b / s / 1e6 }') MB/s of leaves"

echo "== openssl dgst -sha256 over the same leaf bytes"
"$E" --quiet log --json | tr -d '\n' >"$DIR/leaves.bin"
l_bytes=$(wc -c <"$DIR/leaves.bin")
[ "$l_bytes" = "$v_bytes" ] || echo "   (note: log --json gives $l_bytes bytes, verify counted $v_bytes)"
best_of3() { # FILE -> the shortest of three runs of openssl dgst -sha256 FILE
	local best= s t0 t1
	for _ in 1 2 3; do
		t0=$(now)
		openssl dgst -sha256 "$1" >/dev/null
		t1=$(now)
		s=$(sub "$t1" "$t0")
		if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$s; fi
	done
	echo "$best"
}
# openssl's own start-up (an empty file) is taken off, so the limit is the hashing alone.
: >"$DIR/empty"
startup=$(best_of3 "$DIR/empty")
best=$(sub "$(best_of3 "$DIR/leaves.bin")" "$startup")
echo "   $l_bytes bytes in $best s (best of 3, less $startup s of start-up):" \
	"$(awk -v b="$l_bytes" -v s="$best" 'BEGIN { printf "%.0f", b / s / 1e6 }') MB/s"

echo "== inclusion proofs"
make -s -C "$ROOT" BUILD="$BUILD" "$BUILD/libevident.a" >/dev/null
PKGS="sqlite3 libzstd libcrypto jansson yaml-0.1 libpcre2-8 libmicrohttpd libcurl libarchive"
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/src" "$ROOT/bench/proof_latency.c" "$ROOT/$BUILD/libevident.a" \
	$(pkg-config --libs $PKGS) -lpthread -lm -o "$DIR/proof_latency"
proofs=$("$DIR/proof_latency" "$EVIDENT_DATA" 10000)
echo "   $proofs"

echo "== summary ($(uname -m), $(nproc) cpus, $("$E" --version), $(openssl version | cut -d' ' -f1-2))"
printf '   append  %10s entries/s   (goal >= 200000)\n' "$(rate "$N" "$app_s")"
printf '   verify  %10s entries/s   %s MB/s of leaves\n' "$(rate "$v_n" "$v_s")" \
	"$(awk -v b="$v_bytes" -v s="$v_s" 'BEGIN { printf "%.0f", b / s / 1e6 }')"
printf '   sha256  %10s MB/s        (openssl dgst, one stream)\n' \
	"$(awk -v b="$l_bytes" -v s="$best" 'BEGIN { printf "%.0f", b / s / 1e6 }')"
printf '   size    %10s bytes an entry\n' "$(rate "$dsize" "$N")"
printf '   proofs  %s   (goal: p99 < 1 ms at 10M)\n' "$(sed 's/.*proofs in a tree of [0-9]*: //' <<<"$proofs")"
printf '   verify / sha256 limit: %s%%   (goal >= 50%%)\n' \
	"$(awk -v vb="$v_bytes" -v vs="$v_s" -v lb="$l_bytes" -v ls="$best" 'BEGIN { printf "%.0f", 100 * (vb / vs) / (lb / ls) }')"
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DIR"
