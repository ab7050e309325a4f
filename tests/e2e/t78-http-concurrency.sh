#!/bin/bash
# t78: many clients at once.  Eight writers append through the API while
# readers list entries, fetch proofs and metrics, on a server with four
# workers (each borrowing its own store handle).  Every append gets its own
# seq, none is lost, nothing fails, and the ledger verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
tok=$(make_token root admin)
view=$(make_token vic viewer)
printf 'threads: 4\n' >"$T/http.yaml"
http_start --config "$T/http.yaml"
base=$("$EVIDENT" log --json | wc -l)
writer() { # id
	for i in $(seq 25); do
		curl -s -o - -w '\n%{http_code}\n' -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
			--data-binary "{\"kind\":\"note.added\",\"subject\":\"w$1\",\"body\":{\"i\":$i}}" "$URL/api/entries"
	done >"$T/w$1.out"
}
reader() { # id
	for i in $(seq 25); do
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $view" "$URL/api/entries?limit=50&order=desc"
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $view" "$URL/api/entries/1?proof=1"
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $view" "$URL/metrics"
	done >"$T/r$1.out"
}
pids=()
for w in 1 2 3 4 5 6 7 8; do writer "$w" & pids+=($!); done
for r in 1 2 3 4; do reader "$r" & pids+=($!); done
wait "${pids[@]}"
cat "$T"/w*.out | grep -c '^201$' >"$T/n201"
t_is "all 200 appends answered 201" 200 "$(cat "$T/n201")"
cat "$T"/r*.out | grep -vc '^200$' >"$T/nbad"
t_is "all 300 reads answered 200" 0 "$(cat "$T/nbad")"
seqs=$(cat "$T"/w*.out | sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | sort -n | uniq | wc -l)
t_is "200 distinct seqs" 200 "$seqs"
t_is "the ledger holds every append" "$((base + 200))" "$("$EVIDENT" log --json | wc -l)"
t_ok "the ledger verifies" "$EVIDENT" verify
http_stop
t_done
