#!/bin/bash
# t47: significance assessment against the criteria of Implementing
# Regulation (EU) 2024/2690 Art. 14 (clocks/criteria-eu-2024-2690.yaml):
# answers recorded with the criteria version, significant derived yes / no /
# undetermined, a person's override with its reason; a derived yes counts
# as a classification input and starts the clocks.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
NO_ANSWERS="--answer total_unavailability_minutes=5 --answer weekly_unavailability_minutes=30
	--answer limited_availability_users_percent=0.5 --answer physical_access_compromised=no
	--answer integrity_compromised=no"
t_ok "init" $E init
t_ok "open" $E --actor alice incident open --title "TSA latency" --aware-at 2026-02-01T00:00:00Z
ID=$(out)
# shellcheck disable=SC2086
t_ok "every criterion answered, none met" $E --actor alice incident assess "$ID" $NO_ANSWERS
J=$($E incident show "$ID" --json)
t_is "derived no" no "$(echo "$J" | jq -r '.assessments[0].derived')"
t_is "criteria version recorded" "eu-2024-2690-tsp 2024/2690-art14/evident-1" \
	"$(echo "$J" | jq -r '.assessments[0] | "\(.criteria) \(.version)"')"
t_is "answers recorded" 5 "$(echo "$J" | jq -r '.assessments[0].answers.total_unavailability_minutes')"
t_is "incident not significant" no "$(echo "$J" | jq -r .significant)"
t_is "a classification input with source assess" assess "$(echo "$J" | jq -r '.classifications[0].source')"
t_is "no clock" 0 "$($E clocks --all --json | jq length)"

t_ok "partial answers" $E --actor alice incident assess "$ID" --answer total_unavailability_minutes=5
J=$($E incident show "$ID" --json)
t_is "derived undetermined" undetermined "$(echo "$J" | jq -r '.assessments[1].derived')"
t_like "lists what is missing" "weekly_unavailability_minutes" "$(echo "$J" | jq -c '.assessments[1].missing')"
t_is "undetermined changes no decision" no "$(echo "$J" | jq -r .significant)"

t_ok "integrity compromised for 150 relying parties" $E --actor bob incident assess "$ID" \
	--answer integrity_compromised=yes --answer integrity_affected_count=150 \
	--answer suspected_malicious=yes
J=$($E incident show "$ID" --json)
t_is "derived yes" yes "$(echo "$J" | jq -r '.assessments[2].derived')"
t_is "names the criterion met" '["art14-5-integrity-count"]' "$(echo "$J" | jq -c '.assessments[2].met')"
t_is "significant now yes" yes "$(echo "$J" | jq -r .significant)"
t_is "clocks started from awareness" 2026-02-02T00:00:00.000000Z \
	"$($E clocks --json | jq -r '.[] | select(.clock == "nis2-early-warning") | .due')"
t_is "stage classify-escalate" classify-escalate "$(echo "$J" | jq -r .stage)"

t_ok "override no, with a reason" $E --actor carol incident assess "$ID" \
	--answer integrity_compromised=yes --answer integrity_affected_count=150 \
	--override no --reason "affected certificates were test certificates, no relying party"
J=$($E incident show "$ID" --json)
t_is "derived still yes" yes "$(echo "$J" | jq -r '.assessments[3].derived')"
t_is "override recorded" "no|affected certificates were test certificates, no relying party|carol" \
	"$(echo "$J" | jq -r '.assessments[3] | "\(.override)|\(.reason)|\(.actor)"')"
t_is "final significant no" no "$(echo "$J" | jq -r .significant)"
t_is "clocks withdrawn" 0 "$($E clocks --json | jq length)"
t_is "classification history: no, yes, no" '["no","yes","no"]' \
	"$(echo "$J" | jq -c '[.classifications[].significant]')"
t_ok "one-hour weekly unavailability exceeded" $E --actor bob incident assess "$ID" \
	--answer weekly_unavailability_minutes=61
t_is "derived yes again" yes "$($E incident show "$ID" --json | jq -r '.assessments[4].derived')"
t_ok "verify" $E verify
t_done
