#!/bin/bash
# t41: reclassification keeps the whole history: three classifications give
# three rows, in order, each with its reason and actor; the incident shows
# the latest.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
t_ok "init" $E init
t_ok "open" $E --actor alice incident open --title "suspicious CA operator login"
ID=$(out)
t_ok "first classification" $E --actor alice incident classify "$ID" --severity low \
	--category access --significant undetermined --reason "one failed login burst"
t_ok "second" $E --actor bob incident classify "$ID" --severity high --category access \
	--significant no --reason "login succeeded from unknown host"
t_ok "third" $E --actor carol incident classify "$ID" --severity critical --category key-compromise \
	--significant yes --reason "CA key usage outside ceremony"
J=$($E incident show "$ID" --json)
t_is "three history rows" 3 "$(echo "$J" | jq '.classifications | length')"
t_is "reasons kept in order" \
	'["one failed login burst","login succeeded from unknown host","CA key usage outside ceremony"]' \
	"$(echo "$J" | jq -c '[.classifications[].reason]')"
t_is "severities in order" '["low","high","critical"]' "$(echo "$J" | jq -c '[.classifications[].severity]')"
t_is "actors in order" '["alice","bob","carol"]' "$(echo "$J" | jq -c '[.classifications[].actor]')"
t_is "current severity is the latest" critical "$(echo "$J" | jq -r .severity)"
t_is "current category is the latest" key-compromise "$(echo "$J" | jq -r .category)"
t_is "significant yes" yes "$(echo "$J" | jq -r .significant)"
t_is "three incident.classified entries" 3 "$($E log --kind incident.classified --json | wc -l)"
t_ok "verify" $E verify
t_done
