#!/bin/bash
# t42: regulatory clocks.  With significant = yes and awareness at T, the
# 24 h EN 319 401 notice is due-soon at T+23h and overdue at T+25h; a
# recorded notice stops it; the NIS2 incident notification of a TSP is due
# 24 h after awareness; the NIS2 final report is due one calendar month
# after the notification (2026-01-31 + 1 month = 2026-02-28).
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
state() { # incident clock now
	$E clocks --all --now "$3" --json | jq -r --arg i "$1" --arg c "$2" \
		'.[] | select(.incident == $i and .clock == $c) | .state'
}
due() { $E clocks --all --json | jq -r --arg i "$1" --arg c "$2" \
	'.[] | select(.incident == $i and .clock == $c) | .due'; }

t_ok "init" $E init
t_ok "open, aware at T" $E --actor alice incident open --title "QTSP signing key exposure" \
	--aware-at 2026-01-10T08:00:00Z
A=$(out)
t_is "no clock before significance" 0 "$($E clocks --all --json | jq length)"
t_ok "significant = yes" $E --actor alice incident classify "$A" --severity critical \
	--category integrity --significant yes --reason "signing key copied to an unapproved host"
t_is "en319401 notice started at awareness" 2026-01-10T08:00:00.000000Z \
	"$($E clocks --json | jq -r --arg i "$A" '.[] | select(.incident == $i and .clock == "en319401-notice") | .started')"
t_is "T+1h: running" running "$(state "$A" en319401-notice 2026-01-10T09:00:00Z)"
t_is "T+23h: due-soon" due-soon "$(state "$A" en319401-notice 2026-01-11T07:00:00Z)"
t_is "T+25h: overdue" overdue "$(state "$A" en319401-notice 2026-01-11T09:00:00Z)"
t_is "NIS2 early warning due T+24h" 2026-01-11T08:00:00.000000Z "$(due "$A" nis2-early-warning)"
t_is "NIS2 notification of a TSP due T+24h (not 72h)" 2026-01-11T08:00:00.000000Z \
	"$(due "$A" nis2-notification)"
t_is "affected persons: a 72 h target" 2026-01-13T08:00:00.000000Z "$(due "$A" affected-persons)"
t_is "the target is marked as a target" target \
	"$($E incident show "$A" --json | jq -r '.clocks[] | select(.clock == "affected-persons") | .basis')"
t_is "JSON objects have exactly incident, clock, started, due, state" \
	'["clock","due","incident","started","state"]' "$($E clocks --json | jq -c '.[0] | keys')"
t_ok "text listing" $E clocks --now 2026-01-11T09:00:00Z
t_like "text shows overdue" "en319401-notice.overdue" "$(out)"
t_is "--due-soon PT1H: T+22h30 still running" running \
	"$($E clocks --due-soon PT1H --now 2026-01-11T06:30:00Z --json | jq -r --arg i "$A" '.[] | select(.incident == $i and .clock == "en319401-notice") | .state')"

t_ok "notice to the supervisory body at T+20h" $E --actor carol incident notify "$A" \
	--to supervisory-body --clock en319401-notice --ref SB-2026-4 --note "form sent" \
	--sent-at 2026-01-11T04:00:00Z
t_is "the notice stopped the clock" stopped "$(state "$A" en319401-notice 2026-01-11T09:00:00Z)"
t_is "stopped clocks are not listed by default" "" \
	"$($E clocks --now 2026-01-11T09:00:00Z --json | jq -r --arg i "$A" '.[] | select(.incident == $i and .clock == "en319401-notice") | .state')"
t_is "other clocks keep running" overdue "$(state "$A" nis2-early-warning 2026-01-11T09:00:00Z)"
t_exit "unknown clock name refused" 2 $E --actor carol incident notify "$A" --to csirt \
	--clock nis2-bogus --ref X --note y
t_like "names the clock" "nis2-bogus" "$(err)"

# The final report: one calendar month after the incident notification.
t_ok "open B" $E --actor alice incident open --title "OCSP responder outage" --aware-at 2026-01-30T12:00:00Z
B=$(out)
t_ok "B significant" $E --actor alice incident classify "$B" --severity high --category availability \
	--significant yes --reason "OCSP down 3 h"
t_is "no final-report clock before the notification" "" "$(due "$B" nis2-final-report)"
t_ok "NIS2 notification sent 2026-01-31 10:00" $E --actor carol incident notify "$B" --to csirt \
	--clock nis2-notification --ref CSIRT-99 --note "notification" --sent-at 2026-01-31T10:00:00Z
t_is "final report started at the notification" 2026-01-31T10:00:00.000000Z \
	"$($E clocks --json | jq -r --arg i "$B" '.[] | select(.incident == $i and .clock == "nis2-final-report") | .started')"
t_is "final report due 2026-02-28 (calendar month, clamped)" 2026-02-28T10:00:00.000000Z \
	"$(due "$B" nis2-final-report)"
t_is "final report due-soon a week before" due-soon "$(state "$B" nis2-final-report 2026-02-22T10:00:00Z)"
t_is "nis2-notification stopped" stopped "$(state "$B" nis2-notification 2026-02-01T00:00:00Z)"

# Reclassification: significant = no withdraws the clocks, yes restarts them.
t_ok "B reclassified not significant" $E --actor dana incident classify "$B" --severity medium \
	--category availability --significant no --reason "outage was a scheduled maintenance"
t_is "withdrawn clock is stopped" stopped "$(state "$B" nis2-early-warning 2026-01-30T13:00:00Z)"
t_like "with the reason" "reclassified" \
	"$($E incident show "$B" --json | jq -r '.clocks[] | select(.clock == "nis2-early-warning") | .stop_reason')"
t_ok "B significant again" $E --actor dana incident classify "$B" --severity high \
	--category availability --significant yes --reason "maintenance window was exceeded"
t_is "clock runs again, from awareness" running "$(state "$B" nis2-early-warning 2026-01-30T13:00:00Z)"
t_is "a clock stopped by its notice stays stopped" stopped "$(state "$B" nis2-notification 2026-01-30T13:00:00Z)"

# An assessment that derives significant = yes starts the clocks too.
t_ok "open C" $E --actor alice incident open --title "RA portal down" --aware-at 2026-02-01T00:00:00Z
C=$(out)
t_ok "assess: 45 min total unavailability" $E --actor alice incident assess "$C" \
	--answer total_unavailability_minutes=45
t_is "derived yes" yes "$($E incident show "$C" --json | jq -r '.assessments[0].derived')"
t_is "clock started by the assessment" 2026-02-02T00:00:00.000000Z "$(due "$C" en319401-notice)"
t_ok "verify" $E verify
t_done
