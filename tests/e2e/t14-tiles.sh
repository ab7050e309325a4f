#!/bin/bash
# t14-tiles.sh - the ledger in the C2SP formats, checked by code nobody here
# wrote: `evident tiles export` writes a tlog-tiles mirror, and
# tests/independent/tlogcheck (Go, golang.org/x/mod/sumdb/note and
# sumdb/tlog from Debian) opens the checkpoint note with the key `evident key`
# prints, recomputes every leaf hash from the entry bundles and the root from
# the tiles, and checks inclusion and consistency proofs printed by evident.
# The same resources come from `evident http` under /tlog/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"
E=$EVIDENT
command -v go >/dev/null || { echo "not ok 1 - go is not installed (scripts/install-deps: golang-go)"; exit 1; }
[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog ] ||
	{ echo "not ok 1 - golang-golang-x-mod-dev is not installed (scripts/install-deps)"; exit 1; }

t_ok "build the independent checker (Go, GOPATH mode, no network)" \
	env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$T/gocache" GOFLAGS= \
	go build -o "$T/tlogcheck" "$EVIDENT_ROOT/tests/independent/tlogcheck/main.go"
CHECK=$T/tlogcheck

t_ok "init with an origin" "$E" init --origin tsp.example/evident-ci
VKEY=$("$E" key)
# 70,000 entries: 273 full bundles, a partial one, a level-2 tile hash.
N=70000
python3 -c '
import json, sys
for i in range(1, int(sys.argv[1]) + 1):
    print(json.dumps({"kind": "log" if i % 7 else "note.tile", "subject": "src-%d" % (i % 5),
                      "actor": "t14", "body": {"i": i, "msg": "line \"%d\" \\ caf\u00e9" % i}}))
' "$N" | "$E" --quiet append --stdin >/dev/null
t_ok "checkpoint" "$E" --json checkpoint
SIZE=$N
t_like "the checkpoint covers the entries" "\"size\":$SIZE" "$(out)"

t_ok "tiles export" "$E" --json tiles export "$T/mirror"
t_like "export says what it wrote" "^\\{\"size\":$SIZE,\"written\":[0-9]+,\"kept\":0\\}$" "$(out)"
t_ok "the checkpoint is served as a file" test -s "$T/mirror/checkpoint"
t_ok "full level-0 tile: 8192 bytes" test "$(stat -c %s "$T/mirror/tile/0/000")" -eq 8192
t_ok "partial level-0 tile of width $((SIZE % 256))" test -s "$T/mirror/tile/0/273.p/$((SIZE % 256))"
t_ok "partial level-1 tile of width $((SIZE / 256 % 256))" test -s "$T/mirror/tile/1/001.p/$((SIZE / 256 % 256))"
t_ok "partial level-2 tile of width 1" test "$(stat -c %s "$T/mirror/tile/2/000.p/1")" -eq 32
t_ok "entry bundles" test -s "$T/mirror/tile/entries/272"

# Proofs from evident, against the exported checkpoint's size.
n=0
for s in 1 2 256 257 65536 65537 $SIZE; do
	n=$((n + 1)); "$E" prove inclusion $s --size $SIZE >"$T/p$n.json"
done
for pair in "1 $SIZE" "256 65536" "300 $SIZE" "65536 $SIZE" "$SIZE $SIZE"; do
	n=$((n + 1)); "$E" prove consistency $pair >"$T/p$n.json"
done
t_ok "the Go checker accepts the mirror and all $n proofs" "$CHECK" "$T/mirror" "$VKEY" "$T"/p*.json
t_like "it recomputed every leaf" "$SIZE leaves recomputed from bundles, [0-9]+ tile hashes authenticated, $n proofs checked" "$(out)"

# What it must refuse.
cp -r "$T/mirror" "$T/bad"
printf 'X' | dd of="$T/bad/tile/entries/100" bs=1 seek=300 conv=notrunc 2>/dev/null
t_exit "a changed byte in a bundle is refused" 1 "$CHECK" "$T/bad" "$VKEY"
t_like "... naming the entry" "entry 256[0-9]{2}: its hash differs" "$(err)"
rm -rf "$T/bad"; cp -r "$T/mirror" "$T/bad"
printf '\x00' | dd of="$T/bad/tile/1/000" bs=1 seek=100 conv=notrunc 2>/dev/null
t_exit "a changed level-1 tile is refused" 1 "$CHECK" "$T/bad" "$VKEY"
rm -rf "$T/bad"; cp -r "$T/mirror" "$T/bad"
sed -i "2s/.*/$((SIZE - 1))/" "$T/bad/checkpoint"
t_exit "a checkpoint whose size was changed is refused" 1 "$CHECK" "$T/bad" "$VKEY"
t_like "... by the note's signature" "checkpoint note" "$(err)"
"$E" init --data "$T/other" --origin tsp.example/evident-ci >/dev/null
t_exit "the same origin with another key is refused" 1 "$CHECK" "$T/mirror" "$("$E" --data "$T/other" key)"
sed 's/"leaf_hash":"./"leaf_hash":"0/' "$T/p3.json" >"$T/bad.json"
t_exit "a proof with a wrong leaf hash is refused" 1 "$CHECK" "$T/mirror" "$VKEY" "$T/bad.json"

# Later exports add what is new, and the mirror stays checkable.
python3 -c '
import json
for i in range(1000): print(json.dumps({"kind":"note.more","subject":"s","actor":"t14","body":{"i":i}}))' |
	"$E" --quiet append --stdin >/dev/null
t_ok "a second checkpoint" "$E" checkpoint
t_ok "export again" "$E" --json tiles export "$T/mirror"
t_like "old full tiles are kept" '"kept":[1-9][0-9]{2,}' "$(out)"
t_ok "the grown mirror checks" "$CHECK" "$T/mirror" "$VKEY"
t_like "... at the new size" "size $((SIZE + 1001)), " "$(out)"
t_ok "the superseded partial bundle is gone" test ! -e "$T/mirror/tile/entries/273.p/$((SIZE % 256))"

# The same resources from the server, read-only, with cache headers.
tok=$(make_token t14 viewer)
http_start
t_is "GET /tlog/checkpoint" 200 "$(req GET /tlog/checkpoint -H "Authorization: Bearer $tok")"
t_ok "... is the exported checkpoint" cmp "$T/body" "$T/mirror/checkpoint"
t_like "... cached a few seconds" 'Cache-Control: max-age=5' "$(tr -d '\r' <"$T/headers")"
t_is "GET a full bundle" 200 "$(req GET /tlog/tile/entries/100 -H "Authorization: Bearer $tok")"
t_ok "... is the exported one" cmp "$T/body" "$T/mirror/tile/entries/100"
t_like "... immutable" 'Cache-Control: private, max-age=31536000, immutable' "$(tr -d '\r' <"$T/headers")"
t_is "GET a level-0 tile" 200 "$(req GET /tlog/tile/0/100 -H "Authorization: Bearer $tok")"
t_ok "... is the exported one" cmp "$T/body" "$T/mirror/tile/0/100"
t_is "GET a partial level-2 tile" 200 "$(req GET /tlog/tile/2/000.p/1 -H "Authorization: Bearer $tok")"
t_ok "... is the exported one" cmp "$T/body" "$T/mirror/tile/2/000.p/1"
t_is "a tile the ledger does not hold is 404" 404 "$(req GET /tlog/tile/0/x001/000 -H "Authorization: Bearer $tok")"
t_is "a malformed tile path is 404" 404 "$(req GET /tlog/tile/0/0001 -H "Authorization: Bearer $tok")"
t_is "a path with .. is not routed" 404 "$(req GET /tlog/tile/../checkpoint --path-as-is -H "Authorization: Bearer $tok")"
t_is "without credentials: 401" 401 "$(req GET /tlog/checkpoint)"
http_stop
t_done
