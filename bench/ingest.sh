#!/bin/bash
# bench/ingest.sh - how fast `evident ingest` is, against named peers, on the
# same 1,000,000-line auth log (failed and accepted sshd logins, sudo,
# session lines):
#
#   evident         parse + the whole built-in rule pack + durable ledger
#                   append (leaves hashed into the Merkle tree, zstd bundles
#                   of 256, WAL, synchronous=FULL): `evident ingest --source
#                   auth FILE`; two threads (parse and rules on one, hashing,
#                   compression and commit on the ledger's writer thread)
#   fail2ban-regex  fail2ban's sshd filter over the file (matching only,
#                   nothing stored)
#   SEC             Simple Event Correlator with one equivalent threshold rule
#                   (5 failures from one address in 5 minutes), --notail
#   sqlite3         a row per line, as evident stored them before bundles:
#                   the entries evident wrote (`evident log --json`) inserted
#                   by the sqlite3 CLI in one transaction into a WAL,
#                   synchronous=FULL table with kind and subject indexes
#   openssl         `openssl dgst -sha256` over the leaf bytes, against
#                   `evident verify` (which decompresses, splits, hashes and
#                   checks every one of them)
#
# Also the data directory's size against the raw log's.  Not a test: it
# prints figures and ratios.  Missing peers are installed with apt-get
# (fail2ban, sec, sqlite3).
#
#   bench/ingest.sh [BUILD_DIR] [LINES]      (default build, 1000000)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
N=${2:-1000000}
EV="$ROOT/$BUILD/evident"
[ -x "$EV" ] || { echo "bench: build $EV first (make BUILD=$BUILD)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/evident-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

need=()
command -v fail2ban-regex >/dev/null || need+=(fail2ban)
command -v sec >/dev/null || need+=(sec)
command -v sqlite3 >/dev/null || need+=(sqlite3)
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: installing ${need[*]} with apt-get" >&2
	SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get install -y "${need[@]}" >/dev/null 2>&1 ||
		{ $SUDO apt-get update >/dev/null 2>&1 && $SUDO apt-get install -y "${need[@]}" >/dev/null; }
fi

echo "bench: generating $N lines" >&2
python3 - "$N" >"$W/auth.log" <<'EOF'
import sys
n = int(sys.argv[1])
users = ["alice", "bob", "carol", "dave", "erin", "frank", "root", "admin", "oracle", "test"]
out, buf = sys.stdout, []
for i in range(n):
    s = i // 12  # about 12 lines a second: a busy CA front end
    ts = "Nov 24 %02d:%02d:%02d" % ((s // 3600) % 24, (s // 60) % 60, s % 60)
    h = "tsp-ca%d" % (i % 4 + 1)
    pid = 1000 + i % 30000
    r = i % 20
    if r < 8:
        u = users[i % 10]
        inv = "invalid user " if u in ("admin", "oracle", "test") else ""
        buf.append(f"{ts} {h} sshd[{pid}]: Failed password for {inv}{u} from 198.51.100.{i % 200} port {30000 + i % 30000} ssh2")
    elif r < 12:
        buf.append(f"{ts} {h} sshd[{pid}]: Accepted publickey for {users[i % 6]} from 10.0.{i % 8}.{i % 250} port {40000 + i % 20000} ssh2: ED25519 SHA256:abcdef{i % 97}")
    elif r < 14:
        buf.append(f"{ts} {h} sudo:    {users[i % 6]} : TTY=pts/{i % 9} ; PWD=/home/{users[i % 6]} ; USER=root ; COMMAND=/usr/bin/systemctl status nginx")
    elif r < 17:
        buf.append(f"{ts} {h} sshd[{pid}]: pam_unix(sshd:session): session opened for user {users[i % 6]}(uid={1000 + i % 6}) by (uid=0)")
    else:
        buf.append(f"{ts} {h} sshd[{pid}]: pam_unix(sshd:session): session closed for user {users[i % 6]}")
    if len(buf) >= 10000:
        out.write("\n".join(buf) + "\n")
        buf = []
if buf:
    out.write("\n".join(buf) + "\n")
EOF

secs() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
now() { date +%s.%N; }
# cpu FILE: user+sys seconds recorded by /usr/bin/time -o FILE -f "%U %S"
cpu() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
rate() { python3 -c "import sys; print(int(float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

# --- evident ------------------------------------------------------------------------
export EVIDENT_DATA="$W/data" EVIDENT_RULES="$ROOT/rules"
"$EV" init >/dev/null
"$EV" --quiet sources add auth --category security-events --category user-admin >/dev/null
sync
t0=$(now)
summary=$($TIME -o "$W/ev.time" -f "%U %S" "$EV" --quiet ingest --source auth "$W/auth.log")
t1=$(now)
EV_S=$(secs "$t0" "$t1")
EV_R=$(rate "$N" "$EV_S")
rules=$(ls "$ROOT"/rules/*.yml | wc -l)
EV_CPU=$(cpu "$W/ev.time")
RAW=$(stat -c %s "$W/auth.log")
DATA=$(du -sb "$W/data" | cut -f1)
echo "evident ingest:  $EV_S s  $EV_R lines/s  (cpu $EV_CPU s: $(rate "$N" "$EV_CPU") lines per cpu-second; $summary; $rules rule files)"
echo "data directory:  $DATA bytes for $RAW bytes of raw log: $(ratio "$DATA" "$RAW")x"
sqlite3 "$W/data/evident.db" "SELECT '  ' || name || ': ' || SUM(pgsize) || ' bytes' FROM dbstat GROUP BY name ORDER BY SUM(pgsize) DESC LIMIT 6" 2>/dev/null || true

# --- fail2ban-regex ----------------------------------------------------------------------
t0=$(now)
f2b=$($TIME -o "$W/f2b.time" -f "%U %S" fail2ban-regex "$W/auth.log" sshd 2>/dev/null | grep -E '^Lines:' || true)
t1=$(now)
F2B_S=$(secs "$t0" "$t1")
F2B_R=$(rate "$N" "$F2B_S")
echo "fail2ban-regex:  $F2B_S s  $F2B_R lines/s  (cpu $(cpu "$W/f2b.time") s; sshd filter; $f2b)"

# --- SEC -------------------------------------------------------------------------------
cat >"$W/sec.conf" <<'EOF'
type=SingleWithThreshold
ptype=RegExp
pattern=sshd\[\d+\]: Failed \S+ for (?:invalid user )?\S+ from ([\d.:a-fA-F]+) port \d+
desc=ssh brute force from $1
action=write - alert: ssh brute force from $1
window=300
thresh=5
EOF
t0=$(now)
sec_alerts=$($TIME -o "$W/sec.time" -f "%U %S" sec --conf="$W/sec.conf" --input="$W/auth.log" --notail --fromstart --nointevents \
	--log=/dev/null 2>/dev/null | grep -c '^alert:' || true)
t1=$(now)
SEC_S=$(secs "$t0" "$t1")
SEC_R=$(rate "$N" "$SEC_S")
echo "SEC:             $SEC_S s  $SEC_R lines/s  (cpu $(cpu "$W/sec.time") s; one SingleWithThreshold rule; $sec_alerts alerts; note: SEC windows by arrival time, not log time)"

# --- raw SQLite: a row per line ------------------------------------------------------------
"$EV" --quiet log --json >"$W/leaves.jsonl"
rows=$(wc -l <"$W/leaves.jsonl")
python3 - "$W/leaves.jsonl" >"$W/rows.sql" <<'PY'
import json, sys
def q(s): return "'" + s.replace("'", "''") + "'"
print("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
print("CREATE TABLE entries(seq INTEGER PRIMARY KEY, time TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, actor TEXT NOT NULL, body TEXT NOT NULL);")
print("CREATE INDEX entries_kind ON entries(kind); CREATE INDEX entries_subject ON entries(subject);")
print("BEGIN;")
for l in open(sys.argv[1]):
    e = json.loads(l)
    print("INSERT INTO entries VALUES(%d,%s,%s,%s,%s,%s);" % (e["seq"], q(e["time"]), q(e["kind"]), q(e["subject"]), q(e["actor"]), q(json.dumps(e["body"], separators=(",", ":"), sort_keys=True, ensure_ascii=False))))
print("COMMIT;")
PY
sync
t0=$(now)
$TIME -o "$W/sql.time" -f "%U %S" sqlite3 "$W/raw.db" <"$W/rows.sql" >/dev/null
t1=$(now)
SQL_S=$(secs "$t0" "$t1")
SQL_R=$(rate "$N" "$SQL_S")
echo "sqlite3 insert:  $SQL_S s  $SQL_R lines/s  (cpu $(cpu "$W/sql.time") s; $rows rows, one per entry, with two indexes, one transaction; $(rate "$rows" "$SQL_S") rows/s; database $(du -sb "$W/raw.db" | cut -f1) bytes)"

# --- verify against the SHA-256 limit ------------------------------------------------------
v=$("$EV" --quiet --json verify)
V_BYTES=$(sed 's/.*"leaf_bytes":\([0-9]*\).*/\1/' <<<"$v")
V_S=$(sed 's/.*"seconds":\([0-9.]*\).*/\1/' <<<"$v")
tr -d '\n' <"$W/leaves.jsonl" >"$W/leaves.bin"
best=
for _ in 1 2 3; do
	t0=$(now); openssl dgst -sha256 "$W/leaves.bin" >/dev/null; t1=$(now)
	s=$(secs "$t0" "$t1")
	if [ -z "$best" ] || python3 -c "import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]))" "$s" "$best"; then best=$s; fi
done
V_MBS=$(python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2]) / 1e6))" "$V_BYTES" "$V_S")
O_MBS=$(python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2]) / 1e6))" "$(stat -c %s "$W/leaves.bin")" "$best")
echo "verify:          $V_S s for $V_BYTES leaf bytes: $V_MBS MB/s; openssl dgst -sha256 on the same bytes: $O_MBS MB/s (best of 3)"
echo
echo "ratios (evident lines/s divided by the peer's):"
echo "  evident / fail2ban-regex  $(ratio "$EV_R" "$F2B_R")"
echo "  evident / SEC             $(ratio "$EV_R" "$SEC_R")"
echo "  evident / raw sqlite3     $(ratio "$EV_R" "$SQL_R")"
echo "  (wall-clock rates; durable appends wait for fsync, so a busy disk lowers evident's and sqlite3's)"
echo "per cpu-second (user+sys; what one core does regardless of the disk and other load):"
EVC=$(rate "$N" "$EV_CPU")
F2C=$(rate "$N" "$(cpu "$W/f2b.time")")
SECC=$(rate "$N" "$(cpu "$W/sec.time")")
SQLC=$(rate "$N" "$(cpu "$W/sql.time")")
echo "  evident $EVC, fail2ban-regex $F2C, SEC $SECC, sqlite3 $SQLC lines per cpu-second"
echo "  evident / fail2ban-regex  $(ratio "$EVC" "$F2C")"
echo "  evident / SEC             $(ratio "$EVC" "$SECC")"
echo "  evident / raw sqlite3     $(ratio "$EVC" "$SQLC")"
echo "size: data directory / raw log  $(ratio "$DATA" "$RAW")x   (goal <= 0.35)"
echo "verify / openssl sha256         $(python3 -c "import sys; print('%.0f%%' % (100 * float(sys.argv[1]) / float(sys.argv[2])))" "$V_MBS" "$O_MBS")   (goal >= 50%)"
echo "wall: evident / SEC             $(ratio "$EV_R" "$SEC_R")x   (goal >= 2.5)"
echo "cpu:  evident / SEC             $(ratio "$EVC" "$SECC")x   (goal >= 1.0)"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
