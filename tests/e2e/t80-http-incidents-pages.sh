#!/bin/bash
# t80: GET /api/incidents a page at a time (?limit, ?after cursor, total),
# and its response cache: a new incident, or a change to one, shows up on
# the next poll because the cache is keyed on the ledger size.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"
as() { local t=$1 m=$2 p=$3; shift 3; req "$m" "$p" -H "Authorization: Bearer $t" "$@"; }

t_ok "init" "$EVIDENT" init
view=$(make_token vera viewer)
for i in 1 2 3 4 5; do "$EVIDENT" --actor ivan incident open --title "incident $i" >/dev/null; done
http_start
t_is "first page of two: 200" 200 "$(as "$view" GET '/api/incidents?limit=2')"
t_is "  two incidents" "inc-2026-0001 inc-2026-0002" "$(jq -r '[.incidents[].id] | join(" ")' "$T/body")"
t_is "  next is the last id of the page" inc-2026-0002 "$(jq -r .next "$T/body")"
t_is "  total counts them all" 5 "$(jq .total "$T/body")"
t_is "second page" 200 "$(as "$view" GET '/api/incidents?limit=2&after=inc-2026-0002')"
t_is "  continues after the cursor" "inc-2026-0003 inc-2026-0004" "$(jq -r '[.incidents[].id] | join(" ")' "$T/body")"
as "$view" GET '/api/incidents?limit=2&after=inc-2026-0004' >/dev/null
t_is "last page has one and no next" "inc-2026-0005 null" "$(jq -r '"\(.incidents[].id) \(.next)"' "$T/body")"
t_is "default page holds all five" 5 "$(as "$view" GET /api/incidents >/dev/null; jq '.incidents | length' "$T/body")"

"$EVIDENT" --actor ivan incident open --title "incident 6" >/dev/null
as "$view" GET /api/incidents >/dev/null
t_is "a new incident shows on the next poll (cache follows the ledger)" 6 "$(jq '.incidents | length' "$T/body")"
"$EVIDENT" --actor ivan incident classify inc-2026-0006 --severity high --category availability \
	--significant no --reason "checked" >/dev/null
as "$view" GET /api/incidents >/dev/null
t_is "  so does a classification" "high classify-escalate" \
	"$(jq -r '.incidents[] | select(.id == "inc-2026-0006") | "\(.severity) \(.stage)"' "$T/body")"
t_is "open=1 and limit together" 200 "$(as "$view" GET '/api/incidents?open=1&limit=3')"
t_is "  three of six" "3 6" "$(jq -r '"\(.incidents | length) \(.total)"' "$T/body")"
t_is "limit=0 is refused" 400 "$(as "$view" GET '/api/incidents?limit=0')"
t_is "limit over 1000 is refused" 400 "$(as "$view" GET '/api/incidents?limit=1001')"
t_is "a bad cursor is refused" 400 "$(as "$view" GET '/api/incidents?after=x')"
http_stop
t_done
