#!/bin/bash
# t15-migrate.sh - `evident migrate` turns a format-1 data directory (a
# SQLite row per entry; tests/fixtures/ledger-v1, written by evident at
# commit 638ea55, see make.sh there) into bundles and tiles with the root and
# every checkpoint unchanged: into a new directory, and in place with
# SIGKILLs at random moments followed by reruns.  The result verifies, serves
# its projections, and exports a tile mirror the independent Go checker
# accepts.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
FX=$EVIDENT_ROOT/tests/fixtures/ledger-v1
ROOT1=$(cat "$FX/root")
NCP=$(wc -l <"$FX/checkpoints")
NENT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["entries"])' "$FX/verify.json")

restore() { # DIR: the fixture as a data directory
	rm -rf "$1"; mkdir -m 700 "$1"
	xz -dc "$FX/evident.sql.xz" | sqlite3 "$1/evident.db"
	sqlite3 "$1/evident.db" 'PRAGMA journal_mode=WAL' >/dev/null
	cp "$FX/key.pem" "$FX/key.pub" "$FX/checkpoint" "$1/"
	chmod 600 "$1/key.pem" "$1/evident.db"
}
checkpoints_of() { # DIR: "seq size root" per checkpoint entry
	"$E" --data "$1" log --kind checkpoint --json | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print(e["seq"], e["body"]["size"], e["body"]["root"])'
}

restore "$T/v1"
t_exit "a format-1 directory is refused by other commands" 1 "$E" --data "$T/v1" log
t_like "... with a pointer to migrate" "evident migrate" "$(err)"
before=$(sha256sum "$T/v1/evident.db")

t_ok "migrate --to a new directory" "$E" --json --data "$T/v1" migrate --to "$T/v2" --origin tsp.example/migrated
t_like "the root is unchanged and every checkpoint verified" \
	"\"entries\":$NENT,\"checkpoints\":$NCP,\"root\":\"$ROOT1\"" "$(out)"
t_is "the old directory is left as it was" "$before" "$(sha256sum "$T/v1/evident.db")"
t_ok "the new one verifies" "$E" --data "$T/v2" verify
t_like "... all entries and checkpoints" "^ok: $NENT entries and $NCP checkpoints verified" "$(out)"
t_is "every checkpoint entry is there, same size and root" "$(cat "$FX/checkpoints")" "$(checkpoints_of "$T/v2")"
t_is "the root of the whole tree is the old one" "$ROOT1" \
	"$("$E" --data "$T/v2" prove inclusion 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["root"])')"
t_is "an entry reads back byte for byte (leaf hash)" \
	"$(xz -dc "$FX/evident.sql.xz" | grep -o "INSERT INTO entries VALUES(700,[^;]*" | grep -o "X'[0-9a-fA-F]*')\$" | tr -d "X')" | tr 'A-F' 'a-f')" \
	"$("$E" --data "$T/v2" prove inclusion 700 | python3 -c 'import json,sys; print(json.load(sys.stdin)["leaf_hash"])')"
t_like "projections came along: the incident" '"title": ?"TSA signing outage"' "$("$E" --data "$T/v2" --json incident list)"
t_ok "the ledger goes on: a new entry" "$E" --data "$T/v2" append --kind note.after --subject s --body '{}'
t_ok "... and a checkpoint in the new format" "$E" --data "$T/v2" checkpoint
t_ok "the migrated ledger verifies with its new checkpoint" "$E" --data "$T/v2" verify
t_ok "migrate again: nothing to do" "$E" --data "$T/v2" migrate
t_like "... says so" "already in the current format" "$(out)"

# The mirror of the migrated ledger, checked by the independent Go checker.
if env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$T/gocache" GOFLAGS= \
	go build -o "$T/tlogcheck" "$EVIDENT_ROOT/tests/independent/tlogcheck/main.go" 2>"$T/go.err"; then
	"$E" --data "$T/v2" tiles export "$T/mirror" >/dev/null
	t_ok "the Go checker accepts the migrated ledger's mirror" "$T/tlogcheck" "$T/mirror" "$("$E" --data "$T/v2" key)"
else
	sed 's/^/# /' "$T/go.err"; t_ok "build the Go checker" false
fi

# In place, killed at random moments and run again until it finishes.
restore "$T/inplace"
partial=0 kills=0
for attempt in $(seq 1 12); do
	EVIDENT_MIGRATE_STEP=2 "$E" --quiet --data "$T/inplace" migrate >"$T/m.out" 2>"$T/m.err" &
	pid=$!
	# Kill once the migration has copied a random number of entries (polled,
	# so the kill lands part-way however fast the machine is).
	want=$(( (RANDOM % (NENT / 2)) + 1 ))
	while kill -0 "$pid" 2>/dev/null; do
		got=$(sqlite3 "$T/inplace/evident.db" "SELECT value FROM meta WHERE key = 'migrate_seq'" 2>/dev/null || true)
		[ -n "$got" ] && [ "$got" -ge "$want" ] 2>/dev/null && break
		sleep 0.01
	done
	if kill -9 "$pid" 2>/dev/null; then
		kills=$((kills + 1))
		wait "$pid" 2>/dev/null
		got=$(sqlite3 "$T/inplace/evident.db" "SELECT value FROM meta WHERE key = 'migrate_seq'" 2>/dev/null || true)
		fmt=$(sqlite3 "$T/inplace/evident.db" "SELECT value FROM meta WHERE key = 'format'" 2>/dev/null || true)
		if [ -n "$got" ] && [ "$fmt" = evident-ledger-1 ]; then partial=$((partial + 1)); fi
	else
		wait "$pid"; break
	fi
	[ "$partial" -ge 3 ] && break
done
echo "# $kills kills, $partial of them part-way through"
t_ok "at least one SIGKILL landed part-way through the migration" test "$partial" -ge 1
t_ok "a rerun finishes it" "$E" --json --data "$T/inplace" migrate
t_like "... with the root unchanged and every checkpoint verified" \
	"\"checkpoints\":$NCP,\"root\":\"$ROOT1\"" "$(out)"
t_ok "the migrated-in-place ledger verifies" "$E" --data "$T/inplace" verify
t_is "every checkpoint entry is there, same size and root" "$(cat "$FX/checkpoints")" "$(checkpoints_of "$T/inplace")"
t_is "the format-1 tables are gone" "" "$(sqlite3 "$T/inplace/evident.db" "SELECT name FROM sqlite_master WHERE name IN ('entries','nodes')")"
t_done
